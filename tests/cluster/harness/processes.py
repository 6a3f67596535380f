"""The cluster's processes: a child process whose pid the cleanup can find, one PostgreSQL, its
streaming replica, and a psql session that holds row locks.

Every process started here is recorded in $CLUSTER_TMP/pids/ (one file per process), so that
run.sh's trap can end exactly these processes even if the driver dies. All listen on 127.0.0.1.
"""
import os
import subprocess

from stampcard_tools.ports import free_port


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError as e:
        return f"(cannot read {path}: {e})"


class Tracked:
    """A child process whose pid is kept in the pids directory while it runs."""

    def __init__(self, tmp, name, argv, env=None, cwd=None, log=None):
        self.name, self.argv = name, argv
        self.log = log
        out = open(log, "ab") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        if log:
            out.close()
        self.pidfile = os.path.join(tmp, "pids", f"{name}.{self.proc.pid}")
        with open(self.pidfile, "w") as f:
            f.write(str(self.proc.pid))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait(self, timeout):
        """The exit status, or None if still running after `timeout` seconds."""
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.forget()
        return status

    def forget(self):
        try:
            os.unlink(self.pidfile)
        except FileNotFoundError:
            pass

    def kill(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        self.forget()


class Postgres:
    def __init__(self, tmp, pgbin):
        self.tmp, self.pgbin = tmp, pgbin
        self.data = os.path.join(tmp, "pgdata")
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/stampcard"

    def as_pg(self, argv, **kw):
        if os.getuid() == 0:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        return subprocess.run(argv, **kw)

    def start(self):
        os.makedirs(self.data, exist_ok=True)
        if os.getuid() == 0:
            subprocess.run(["chown", "postgres:", self.data], check=True)
        self.as_pg([f"{self.pgbin}/initdb", "-D", self.data, "--auth=trust", "--username=postgres",
                    "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
                   check=True, stdout=subprocess.DEVNULL)
        self.allow_replication()
        # Production durability (fsync on): the faults here are process deaths and a restart,
        # and what a client saw acknowledged must be in the database after them. WAL for a
        # streaming replica (Replica below): wal_level and max_wal_senders are PostgreSQL's
        # defaults since 10, spelled out here because the replica depends on them.
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                "-c max_connections=200 -c log_min_messages=warning -c log_line_prefix='%m [%p] ' "
                "-c wal_level=replica -c max_wal_senders=4 -c max_replication_slots=4")
        with open(os.path.join(self.tmp, "pg_opts"), "w") as f:
            f.write(opts)
        self.ctl("start", "-o", opts)
        self.as_pg([f"{self.pgbin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                    "stampcard"], check=True)

    def allow_replication(self):
        """pg_hba.conf: replication connections from 127.0.0.1 by postgres, trusted like every
        other connection here. initdb --auth=trust writes such a line already; it is added
        when missing, so the replica does not depend on initdb's template."""
        hba = os.path.join(self.data, "pg_hba.conf")
        lines = [line.split() for line in open(hba) if line.strip() and not line.lstrip().startswith("#")]
        if not any(f[:2] == ["host", "replication"] and f[3] == "127.0.0.1/32" and f[-1] == "trust" for f in lines):
            with open(hba, "a") as f:
                f.write("host replication postgres 127.0.0.1/32 trust\n")

    def ctl(self, *args):
        self.as_pg([f"{self.pgbin}/pg_ctl", "-D", self.data, "-l", os.path.join(self.data, "server.log"),
                    "-w", "-t", "60", *args], check=True, stdout=subprocess.DEVNULL)

    def restart_fast(self):
        self.ctl("restart", "-m", "fast")

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.as_pg([f"{self.pgbin}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def psql_argv(self):
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                "-U", "postgres", "-d", "stampcard"]

    def query(self, sql):
        """Rows of a query as lists of strings (psql's unaligned, tab-separated output)."""
        out = subprocess.run(self.psql_argv() + ["-At", "-F", "\t", "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def log(self):
        return os.path.join(self.data, "server.log")


class Replica(Postgres):
    """A hot standby of `primary` on its own port: `pg_basebackup -R` (which writes
    standby.signal and primary_conninfo) through a replication slot, then started like the
    primary, as the postgres user. It reconnects by itself when the primary restarts (the WAL
    receiver retries every wal_retrieve_retry_interval, 5 s by default)."""

    SLOT = "stampcard_replica"

    def __init__(self, tmp, pgbin, primary):
        super().__init__(tmp, pgbin)
        self.primary = primary
        self.data = os.path.join(tmp, "pgreplica")

    def start(self):
        os.makedirs(self.data, mode=0o700)
        if os.getuid() == 0:
            subprocess.run(["chown", "postgres:", self.data], check=True)
        # The slot keeps the primary's WAL until the replica has it, whatever the faults do.
        self.as_pg([f"{self.pgbin}/pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
                    "-D", self.data, "-R", "-X", "stream", "-C", "-S", self.SLOT, "--checkpoint=fast", "--no-sync"],
                   check=True, stdout=subprocess.DEVNULL)
        # hot_standby_feedback: a report running here is not cancelled by the primary's vacuum
        # (docs/operations.md recommends it for a reporting replica).
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                "-c hot_standby=on -c hot_standby_feedback=on "
                "-c max_connections=200 -c log_min_messages=warning -c log_line_prefix='%m [%p] '")
        self.ctl("start", "-o", opts)

    def replay_paused(self):
        return self.query("SELECT pg_get_wal_replay_pause_state()")[0][0] == "paused"

    def lag_bytes(self):
        """How far the replica's replay is behind the primary's current WAL position, in bytes."""
        current = self.primary.query("SELECT pg_current_wal_lsn()")[0][0]
        return int(self.query(f"SELECT pg_wal_lsn_diff('{current}', pg_last_wal_replay_lsn())")[0][0])


class LockHolder:
    """A psql session that holds row locks until told to let go (an open transaction)."""

    def __init__(self, pg, sql):
        self.proc = subprocess.Popen(pg.psql_argv() + ["-At"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.proc.stdin.write("BEGIN;\n" + sql.rstrip(";") + ";\n\\echo LOCKED\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the lock-holding psql session ended early")
            if line.strip() == "LOCKED":
                break

    def release(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("COMMIT;\n\\q\n")
            self.proc.stdin.flush()
            self.proc.wait(10)
