"""HAProxy's counters from its stats socket, for the stampcard backend of deploy/haproxy.cfg.

  python3 -m stampcard_tools.haproxy_stats SOCK show               JSON: the backend's servers and
                                                                   totals (counters since start)
  python3 -m stampcard_tools.haproxy_stats SOCK wait-up TIMEOUT_S  exit 0 once every server is UP

The benchmark's S5 uses the command line; the cluster test imports `show`, `statuses` and `wait_up`.
"""
import json
import socket
import sys
import time

BACKEND = "stampcard"
FIELDS = ("status", "lbtot", "stot", "connect", "reuse", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx",
          "hrsp_5xx", "hrsp_other", "econ", "eresp", "wretr", "wredis", "cli_abrt", "srv_abrt", "chkfail")


def rows(sock):
    """The rows of HAProxy's `show stat` for the backend's proxy, as dicts (column -> text)."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    s.connect(sock)
    s.sendall(b"show stat\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    return [row for row in (dict(zip(header, line.split(","))) for line in lines[1:]) if row.get("pxname") == BACKEND]


def show(sock):
    """{server name, "FRONTEND" or "BACKEND": {field: number, or text for `status`, or None}}."""
    return {row["svname"]: {k: (int(row[k]) if row.get(k, "").isdigit() else row.get(k) or None) for k in FIELDS}
            for row in rows(sock)}


def statuses(sock, names=None):
    """{server name: status} (UP, DOWN, MAINT, 'UP 1/2', ...) of the servers named in `names`,
    or of every server of the backend."""
    return {row["svname"]: row["status"] for row in rows(sock)
            if (row["svname"] in names if names is not None else row["svname"] not in ("FRONTEND", "BACKEND"))}


def wait_up(sock, timeout, names=None):
    """(True, statuses) once every server is UP; (False, the last statuses seen or None) after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    st = None
    while time.monotonic() < deadline:
        try:
            st = statuses(sock, names)
            if st and all(v == "UP" for v in st.values()):
                return True, st
        except OSError:
            pass
        time.sleep(0.2)
    return False, st


def main():
    sock, what = sys.argv[1], sys.argv[2]
    if what == "show":
        json.dump(show(sock), sys.stdout)
        print()
    elif what == "wait-up":
        ok, st = wait_up(sock, float(sys.argv[3]))
        if not ok:
            sys.exit(f"HAProxy's servers not all UP: {st}")
    else:
        sys.exit(f"unknown: {what}")


if __name__ == "__main__":
    main()
