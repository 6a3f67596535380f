"""The cluster's services, started as production starts them: `stampcard serve` instances as
deploy/stampcard.service runs them, HAProxy from deploy/haproxy.cfg, and the Harness that holds
them with the PostgreSQL they share and its streaming replica, which their reports read.
"""
import os
import shlex
import signal
import subprocess
import time

# The benchmark's S5 runs the same HAProxy: one rewrite of deploy/haproxy.cfg, one stats reader.
from stampcard_tools import haproxy_cfg, haproxy_stats
from stampcard_tools.ports import free_port
from stampcard_tools.readyz import wait_ready

from harness.processes import Postgres, Replica, Tracked


# The line the harness writes into an instance's log before each start.
START_MARK = "===== harness: start"


class Unit:
    """What the harness takes from deploy/stampcard.service: the command's arguments and how
    the unit stops the service. systemd sends KillSignal, waits TimeoutStopSec, then SIGKILL."""

    def __init__(self, path):
        self.path = path
        exec_start, kill_signal, stop_timeout = None, "SIGTERM", 90.0
        section = None
        for raw in open(path):
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line
                continue
            if section != "[Service]" or "=" not in line:
                continue
            key, value = (part.strip() for part in line.split("=", 1))
            if key == "ExecStart":
                exec_start = shlex.split(value)
            elif key == "KillSignal":
                kill_signal = value
            elif key == "TimeoutStopSec":
                stop_timeout = float(value.rstrip("s"))
        if not exec_start:
            raise ValueError(f"{path}: no ExecStart")
        self.args = exec_start[1:]
        self.kill_signal = getattr(signal, kill_signal if kill_signal.startswith("SIG") else "SIG" + kill_signal)
        self.stop_timeout = stop_timeout


class Instance:
    """One `stampcard serve`, started as the unit starts it; its port stays across restarts."""

    def __init__(self, h, name, env):
        self.h, self.name = h, name
        self.port = free_port()
        self.metrics_port = free_port()
        self.base_env = dict(env)
        self.env_extra = {}
        self.dir = os.path.join(h.tmp, name)
        os.makedirs(self.dir, exist_ok=True)   # its working directory: no stray .env is read
        self.log = os.path.join(self.dir, "server.log")
        self.proc = None
        self.starts = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, **extra):
        self.env_extra = {k: str(v) for k, v in extra.items()}
        env = dict(self.base_env)
        env.update(STAMPCARD_ADDR=f"127.0.0.1:{self.port}",
                   STAMPCARD_METRICS_ADDR=f"127.0.0.1:{self.metrics_port}")
        env.update(self.env_extra)
        self.starts += 1
        with open(self.log, "a") as f:
            f.write(f"\n{START_MARK} #{self.starts} of {self.name} at {time.strftime('%H:%M:%S')}"
                    f" {' '.join(f'{k}={v}' for k, v in self.env_extra.items())} =====\n")
        self.proc = Tracked(self.h.tmp, self.name, [self.h.bin] + self.h.unit.args, env=env, cwd=self.dir,
                            log=self.log)
        return self

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def latest_lines(self):
        """The lines of its log since its latest start (after the harness's line that marks it)."""
        try:
            text = open(self.log, errors="replace").read()
        except OSError:
            return []
        return text.rsplit(START_MARK, 1)[-1].splitlines()[1:]

    def wait_ready(self, timeout=30):
        """True once /readyz answers 200; False if the process exits or time runs out."""
        return wait_ready(f"{self.url}/readyz", timeout, alive=self.alive, interval=0.1)

    def stop(self):
        """Stops it as systemd would: KillSignal, then SIGKILL after TimeoutStopSec.
        Returns (exit status, seconds it took)."""
        t0 = time.monotonic()
        self.proc.signal(self.h.unit.kill_signal)
        status = self.proc.wait(self.h.unit.stop_timeout)
        if status is None:
            self.proc.kill()
            status = "killed after TimeoutStopSec"
        return status, time.monotonic() - t0

    def kill9(self):
        self.proc.signal(signal.SIGKILL)
        self.proc.wait(10)

    def exit_status(self):
        return None if self.proc is None else self.proc.proc.poll()


class HAProxy:
    """HAProxy from deploy/haproxy.cfg with only its listen address, server addresses, log target
    and file paths rewritten (stampcard_tools.haproxy_cfg, shared with the benchmark's S5)."""

    def __init__(self, h, cfg_path, instances):
        self.h = h
        self.port = free_port()
        self.monitoring_port = free_port()
        self.sock = os.path.join(h.tmp, "haproxy.sock")
        self.log = os.path.join(h.tmp, "haproxy.log")
        self.cfg = os.path.join(h.tmp, "haproxy.cfg")
        text = open(cfg_path).read()
        listed = haproxy_cfg.server_names(text)
        if len(listed) != len(instances):
            raise ValueError(f"{cfg_path} has {len(listed)} server lines, the harness runs {len(instances)} instances")
        text, servers = haproxy_cfg.loopback(text, h.tmp, self.port, self.monitoring_port,
                                             [inst.port for inst in instances])
        self.server_names = servers
        self.by_instance = {inst.name: srv for inst, srv in zip(instances, servers)}
        with open(self.cfg, "w") as f:
            f.write(text)
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def check_config(self):
        r = subprocess.run(["haproxy", "-c", "-f", self.cfg], capture_output=True, text=True)
        out = (r.stdout + r.stderr).strip()
        return r.returncode == 0 and "WARNING" not in out, out   # warnings fail too: keep it clean

    def start(self):
        self.proc = Tracked(self.h.tmp, "haproxy", ["haproxy", "-db", "-f", self.cfg], log=self.log)

    def stats(self):
        """{server name: status} from the stats socket (UP, DOWN, MAINT, 'UP 1/2', ...)."""
        return haproxy_stats.statuses(self.sock, self.server_names)

    def wait_all_up(self, timeout=20):
        return haproxy_stats.wait_up(self.sock, timeout, self.server_names)

    def wait_status(self, server, want, timeout=20):
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            try:
                st = self.stats().get(server)
                if st and st.startswith(want):
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False


class Harness:
    def __init__(self, root, tmp, binary, pgbin):
        self.root, self.tmp, self.bin, self.pgbin = root, tmp, binary, pgbin
        os.makedirs(os.path.join(tmp, "pids"), exist_ok=True)
        self.unit = Unit(os.path.join(root, "deploy", "stampcard.service"))
        self.pg = Postgres(tmp, pgbin)
        self.replica = Replica(tmp, pgbin, self.pg)   # started by the startup scenario
        self.secret = os.urandom(64).hex()
        self.instances = []
        self.haproxy = None

    def server_env(self):
        env = {k: v for k, v in os.environ.items() if not (k.startswith("STAMPCARD_") or k == "DATABASE_URL")}
        env.update(
            DATABASE_URL=self.pg.url,
            # The reports and the CSV export read from the replica (scenarios/replica.py).
            STAMPCARD_REPLICA_URL=self.replica.url,
            STAMPCARD_SECRET_KEY=self.secret,
            # Not dev mode: cookies are Secure (and, soon, __Host-); the client handles them by hand.
            STAMPCARD_DEV="0",
            STAMPCARD_BCRYPT_COST="4",
            # HAProxy connects from 127.0.0.1; the test's clients use other loopback addresses
            # (127.0.0.2 and up), so the X-Forwarded-For handling is exercised for real.
            STAMPCARD_TRUSTED_PROXIES="127.0.0.1",
            RUST_LOG=os.environ.get("CLUSTER_RUST_LOG", "info"),
            NO_COLOR="1",
        )
        return env

    def cli(self, *args, password=None):
        env = self.server_env()
        if password is not None:
            env["STAMPCARD_PASSWORD"] = password
        return subprocess.run([self.bin, *args], env=env, cwd=self.tmp, capture_output=True, text=True)

    def cleanup(self):
        if self.haproxy and self.haproxy.proc:
            self.haproxy.proc.kill()
        for inst in self.instances:
            if inst.alive():
                inst.proc.kill()
        self.replica.stop()
        self.pg.stop()
