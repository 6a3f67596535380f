#!/usr/bin/env python3
"""wait_ready.py URL TIMEOUT_S [PID]: polls URL until it answers 200 (exit 0); exit 1 when the
time is up or when process PID has ended."""
import http.client
import os
import sys
import time
import urllib.parse

url, timeout = urllib.parse.urlsplit(sys.argv[1]), float(sys.argv[2])
pid = int(sys.argv[3]) if len(sys.argv) > 3 else None
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=2)
        conn.request("GET", url.path)
        if conn.getresponse().status == 200:
            sys.exit(0)
    except OSError:
        pass
    if pid is not None and not os.path.exists(f"/proc/{pid}"):
        sys.exit(f"process {pid} has ended")
    time.sleep(0.05)
sys.exit(1)
