#!/usr/bin/env python3
"""Facts about the machine and processes, as JSON on stdout.

  machine.py before        the machine, tool versions, the checkout, the load before the run
  machine.py after         the load after the run
  machine.py cpu PID PGDATA [NAME=PID ...]   CPU seconds used so far by PID, by the PostgreSQL
                              cluster, by each further NAME=PID (S5: the second instance, HAProxy;
                              all threads of each) and by the whole machine
  machine.py status PID    peak and current resident memory of PID
  machine.py sample PID PHASEFILE INTERVAL   until PID ends: one JSON line per sample of its
                              resident memory, labelled with the phase named in PHASEFILE
"""
import json
import os
import platform
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def run(*cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (out.stdout + out.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return None


def first_line(text):
    return text.splitlines()[0].strip() if text else None


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or None


def mem_total_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024)
    return None


def read_first(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def machine_cpu():
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already part of user
    return total - idle, total


def process_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # Fields 14 and 15 (utime, stime) are at 11 and 12 after the command name.
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def children_cpu(parent):
    """CPU seconds of the live children of `parent` (the PostgreSQL backends of a postmaster)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(rest[1]) == parent:
            total += (int(rest[11]) + int(rest[12])) / CLK_TCK
    return total


def postgres_cpu(pgdata):
    """The postmaster, its live backends, and (cutime + cstime) the backends that have exited."""
    with open(os.path.join(pgdata, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    with open(f"/proc/{postmaster}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    exited = (int(rest[13]) + int(rest[14])) / CLK_TCK
    return process_cpu(postmaster) + exited + children_cpu(postmaster)


def sample(pid, phase_file, interval):
    while True:
        try:
            st = status(pid)
        except OSError:
            return
        try:
            with open(phase_file) as f:
                phase = f.read().strip()
        except OSError:
            phase = "?"
        print(json.dumps({"t": round(time.monotonic(), 2), "phase": phase, **st}), flush=True)
        time.sleep(interval)


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "Threads"):
                out[key] = int(value.split()[0])
    return {"peak_rss_kib": out.get("VmHWM"), "rss_kib": out.get("VmRSS"), "threads": out.get("Threads")}


def checkout():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    commit = run("git", "-C", root, "rev-parse", "--short", "HEAD")
    dirty = run("git", "-C", root, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "uncommitted_changes": bool(dirty)}


def main():
    what = sys.argv[1]
    if what == "before":
        out = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "nproc": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)),
            "cpu_model": cpu_model(),
            "mem_total_mib": mem_total_mib(),
            "kernel": platform.release(),
            "loadavg_before": loadavg(),
            "sched_autogroup": read_first("/proc/sys/kernel/sched_autogroup_enabled"),
            "versions": {
                "wrk": first_line(run("wrk", "-v")),
                "htpasswd": first_line(run("dpkg-query", "-W", "-f=${Version}", "apache2-utils")),
                "python": platform.python_version(),
                "rustc": first_line(run("rustc", "--version")),
            },
            "checkout": checkout(),
        }
    elif what == "after":
        out = {"loadavg_after": loadavg()}
    elif what == "cpu":
        busy, total = machine_cpu()
        out = {"time": time.monotonic(), "server_cpu_s": process_cpu(int(sys.argv[2])),
               "postgres_cpu_s": postgres_cpu(sys.argv[3]),
               "machine_busy_s": busy / CLK_TCK, "machine_total_s": total / CLK_TCK}
        extra = dict(arg.split("=", 1) for arg in sys.argv[4:])
        if extra:
            out["extra_cpu_s"] = {name: process_cpu(int(pid)) for name, pid in extra.items()}
    elif what == "status":
        out = status(int(sys.argv[2]))
    elif what == "sample":
        sample(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
        return
    else:
        sys.exit(f"unknown: {what}")
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
