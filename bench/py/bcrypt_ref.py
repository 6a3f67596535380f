#!/usr/bin/env python3
"""The bcrypt reference: the CPU time of one bcrypt verify at the given cost, on one core,
with htpasswd from apache2-utils (APR's C bcrypt, `$2y$`). Each verify is one htpasswd
process; its CPU time (user + sys, from getrusage) is measured, not the wall time, so a busy
machine slows the figure less. The process's own overhead is taken out by also timing
verifies at cost 4 (2^8 times less bcrypt work). With --crate-bin, the server's own bcrypt
(the `bcrypt` crate, through bench/rust/bcrypt_verify.rs) is timed the same way, under
"server_crate". Prints JSON."""
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


def htpasswd_times(cost, runs, tmp):
    path = os.path.join(tmp, f"htpasswd-{cost}")
    subprocess.run(["htpasswd", "-cbB", "-C", str(cost), path, "bench", PASSWORD], check=True, capture_output=True)
    return [timed("htpasswd", "-vb", path, "bench", PASSWORD) for _ in range(runs)]


def crate_times(binary):
    def times(cost, runs, _tmp):
        made = subprocess.run([binary, "hash", str(cost), PASSWORD], check=True, capture_output=True, text=True)
        return [timed(binary, "check", made.stdout.strip(), PASSWORD) for _ in range(runs)]
    return times


def measure(tool, verify_times, cost, runs):
    with tempfile.TemporaryDirectory() as tmp:
        full = verify_times(cost, runs, tmp)
        low = verify_times(4, runs, tmp)
    cpu = [c for c, _ in full]
    wall = [w for _, w in full]
    overhead = statistics.median(c for c, _ in low)
    factor = 2 ** (cost - 4)
    # t_full = o + W, t_low = o + W / factor  =>  W = (t_full - t_low) * factor / (factor - 1)
    verify_s = (statistics.median(cpu) - overhead) * factor / (factor - 1)
    cores = len(os.sched_getaffinity(0))
    return {
        "tool": tool,
        "cost": cost,
        "runs": runs,
        "cpu_s": cpu,
        "wall_s": wall,
        "cpu_s_cost4_median": overhead,
        "verify_s": verify_s,
        "cores": cores,
        "ceiling_logins_per_s": cores / verify_s,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cost", type=int, default=12)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--crate-bin", help="bench/rust/bcrypt_verify.rs, built (cargo build --release --example bcrypt_verify)")
    args = ap.parse_args()
    result = measure("htpasswd -vb (apache2-utils, APR bcrypt $2y$)", htpasswd_times, args.cost, args.runs)
    if args.crate_bin:
        result["server_crate"] = measure("the server's bcrypt crate (bench/rust/bcrypt_verify.rs)",
                                         crate_times(args.crate_bin), args.cost, args.runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
