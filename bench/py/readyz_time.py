#!/usr/bin/env python3
"""Time from starting `stampcard serve` (against an already-migrated database) to its first
200 on /readyz; then SIGTERM and the exit code. Runs it --runs times; prints JSON.

  readyz_time.py --runs 3 --url http://127.0.0.1:PORT/readyz --log FILE --cwd DIR -- CMD...
"""
import argparse
import json
import signal
import statistics
import subprocess
import time

from stampcard_tools.readyz import ready


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--url", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cwd", default=None)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    times, exits = [], []
    with open(args.log, "ab") as log:
        for _ in range(args.runs):
            t0 = time.monotonic()
            proc = subprocess.Popen(cmd, cwd=args.cwd, stdout=log, stderr=log)
            try:
                while not ready(args.url, timeout=1):
                    if proc.poll() is not None:
                        raise SystemExit(f"serve exited with {proc.returncode} before it was ready")
                    if time.monotonic() - t0 > args.timeout:
                        raise SystemExit("serve did not become ready")
                    time.sleep(0.002)
                times.append(time.monotonic() - t0)
                proc.send_signal(signal.SIGTERM)
                exits.append(proc.wait(timeout=40))
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    print(json.dumps({"runs_s": times, "median_s": statistics.median(times), "max_s": max(times),
                      "exit_codes_after_sigterm": exits}))


if __name__ == "__main__":
    main()
