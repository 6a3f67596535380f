#!/usr/bin/env python3
"""HAProxy's counters from its stats socket (the benchmark's S5; the cluster test imports `rows`).

  haproxy_stats.py SOCK show               JSON: the backend's servers and totals (counters since start)
  haproxy_stats.py SOCK wait-up TIMEOUT_S  exit 0 once every server of the backend is UP
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
    return {row["svname"]: {k: (int(row[k]) if row.get(k, "").isdigit() else row.get(k) or None) for k in FIELDS}
            for row in rows(sock)}


def main():
    sock, what = sys.argv[1], sys.argv[2]
    if what == "show":
        json.dump(show(sock), sys.stdout)
        print()
    elif what == "wait-up":
        deadline = time.monotonic() + float(sys.argv[3])
        st = None
        while time.monotonic() < deadline:
            try:
                st = {k: v["status"] for k, v in show(sock).items() if k not in ("FRONTEND", "BACKEND")}
                if st and all(v == "UP" for v in st.values()):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        sys.exit(f"HAProxy's servers not all UP: {st}")
    else:
        sys.exit(f"unknown: {what}")


if __name__ == "__main__":
    main()
