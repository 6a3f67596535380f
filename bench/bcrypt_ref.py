#!/usr/bin/env python3
"""The bcrypt reference: the CPU time of one bcrypt verify at the given cost, on one core,
with htpasswd from apache2-utils (APR's C bcrypt, `$2y$`). Each verify is one htpasswd
process; its CPU time (user + sys, from getrusage) is measured, not the wall time, so a busy
machine slows the figure less. The process's own overhead is taken out by also timing
verifies at cost 4 (2^8 times less bcrypt work). Prints JSON."""
import argparse
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time

PASSWORD = "flat white at dawn"


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(*cmd):
    c0, w0 = child_cpu(), time.monotonic()
    subprocess.run(cmd, check=True, capture_output=True)
    return child_cpu() - c0, time.monotonic() - w0


def verify_times(cost, runs, tmp):
    path = os.path.join(tmp, f"htpasswd-{cost}")
    subprocess.run(["htpasswd", "-cbB", "-C", str(cost), path, "bench", PASSWORD], check=True, capture_output=True)
    return [timed("htpasswd", "-vb", path, "bench", PASSWORD) for _ in range(runs)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cost", type=int, default=12)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        full = verify_times(args.cost, args.runs, tmp)
        low = verify_times(4, args.runs, tmp)
    cpu = [c for c, _ in full]
    wall = [w for _, w in full]
    overhead = statistics.median(c for c, _ in low)
    factor = 2 ** (args.cost - 4)
    # t_full = o + W, t_low = o + W / factor  =>  W = (t_full - t_low) * factor / (factor - 1)
    verify_s = (statistics.median(cpu) - overhead) * factor / (factor - 1)
    cores = len(os.sched_getaffinity(0))
    print(json.dumps({
        "tool": "htpasswd -vb (apache2-utils, APR bcrypt $2y$)",
        "cost": args.cost,
        "runs": args.runs,
        "cpu_s": cpu,
        "wall_s": wall,
        "cpu_s_cost4_median": overhead,
        "verify_s": verify_s,
        "cores": cores,
        "ceiling_logins_per_s": cores / verify_s,
    }))


if __name__ == "__main__":
    main()
