"""Whether an instance is ready: GET /readyz (or any URL) answers 200.

  python3 -m stampcard_tools.readyz URL TIMEOUT_S [PID]
      polls URL until it answers 200 (exit 0); exit 1 when the time is up or process PID has ended
"""
import http.client
import os
import sys
import time
import urllib.parse


def ready(url, timeout=2.0):
    """True when `url` answers 200 now; False on any other answer or no answer."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("GET", u.path or "/")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def wait_ready(url, within, alive=None, interval=0.05):
    """True once `url` answers 200; False when `within` seconds pass first, or when `alive()`
    (the process that should answer) says it has ended."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if ready(url):
            return True
        if alive is not None and not alive():
            return False
        time.sleep(interval)
    return False


def main():
    url, within = sys.argv[1], float(sys.argv[2])
    pid = int(sys.argv[3]) if len(sys.argv) > 3 else None
    if wait_ready(url, within, alive=None if pid is None else (lambda: os.path.exists(f"/proc/{pid}"))):
        return
    if pid is not None and not os.path.exists(f"/proc/{pid}"):
        sys.exit(f"process {pid} has ended")
    sys.exit(1)


if __name__ == "__main__":
    main()
