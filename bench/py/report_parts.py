"""Readers of the parts bench/run.sh writes into $WORK/parts for one scenario: wrk's JSON line,
pgbench's report, the CPU marks around it (py/machine.py cpu), pg_stat_statements' counts, and
HAProxy's counters. Each returns the figures report.py puts in bench/results/latest.json."""
import json
import os
import re


def load(parts, name):
    with open(os.path.join(parts, name)) as f:
        return json.load(f)


def text(parts, name):
    with open(os.path.join(parts, name)) as f:
        return f.read().strip()


def pgbench(parts, name):
    out = text(parts, f"{name}.pgbench.txt")

    def grab(pattern, cast=float):
        m = re.search(pattern, out, re.M)
        return cast(m.group(1)) if m else None

    return {
        "tps": grab(r"^tps = ([\d.]+) \(without initial connection time\)"),
        "transactions": grab(r"^number of transactions actually processed: (\d+)", int),
        "failed_transactions": grab(r"^number of failed transactions: (\d+)", int) or 0,
        "latency_avg_ms": grab(r"^latency average = ([\d.]+) ms"),
        "clients": grab(r"^number of clients: (\d+)", int),
        "threads": grab(r"^number of threads: (\d+)", int),
        "version": grab(r"^pgbench \(PostgreSQL\) ([\d.]+)", str) or grab(r"^pgbench \(([\d.]+)", str),
    }


def gen_cpu(parts, name):
    """The load generator's CPU seconds (bash `time`: user and system)."""
    try:
        user, system = text(parts, f"{name}.gen_cpu").split()[-2:]
        return float(user) + float(system)
    except (OSError, ValueError):
        return None


def cpu(parts, name, requests=None, generator_s=None):
    """Where the CPU time of a scenario went: the server, PostgreSQL, the load generator, and
    everything else on the machine (other work sharing it, the kernel's own threads)."""
    before, after = load(parts, f"{name}.before.cpu"), load(parts, f"{name}.after.cpu")
    elapsed = after["time"] - before["time"]
    server = after["server_cpu_s"] - before["server_cpu_s"]
    postgres = after["postgres_cpu_s"] - before["postgres_cpu_s"]
    busy = after["machine_busy_s"] - before["machine_busy_s"]
    total = after["machine_total_s"] - before["machine_total_s"]
    if generator_s is None:
        generator_s = gen_cpu(parts, name)
    # S5: the second instance and HAProxy, counted apart from "other".
    extra = {k: after["extra_cpu_s"][k] - before.get("extra_cpu_s", {}).get(k, 0)
             for k in after.get("extra_cpu_s", {})}
    other = busy - server - postgres - (generator_s or 0) - sum(extra.values())
    out = {
        "elapsed_s": round(elapsed, 2),
        "cores_used": {"server": round(server / elapsed, 2), "postgres": round(postgres / elapsed, 2),
                       "load_generator": round((generator_s or 0) / elapsed, 2),
                       **{k: round(v / elapsed, 2) for k, v in extra.items()},
                       "other": round(other / elapsed, 2), "idle": round((total - busy) / total * os.cpu_count(), 2)
                       if total else None},
        "machine_busy_fraction": round(busy / total, 3) if total else None,
    }
    if requests:
        out["cpu_us_per_request"] = {
            "server": round(server / requests * 1e6, 1),
            "postgres": round(postgres / requests * 1e6, 1),
            "load_generator": round((generator_s or 0) / requests * 1e6, 1),
            **{k: round(v / requests * 1e6, 1) for k, v in extra.items()},
        }
        out["server_cpu_us_per_request"] = out["cpu_us_per_request"]["server"]
    return out


def wrk(parts, name):
    w = load(parts, f"{name}.wrk.json")
    seconds = w["duration_us"] / 1e6
    lat = {k: round(v / 1000, 3) for k, v in w["latency_us"].items()}
    errors = w["errors"]
    out = {
        "requests": w["requests"],
        "seconds": round(seconds, 3),
        "rps": round(w["requests"] / seconds, 1),
        "latency_ms": lat,
        "non_2xx": errors["status"],
        "socket_errors": {k: v for k, v in errors.items() if k != "status"},
    }
    # Round trips: the statements the server sent (top level); statements: also those run
    # inside them (foreign-key checks), as pg_stat_statements.track=all counts them.
    top, calls = (int(x) for x in text(parts, f"{name}.pgss_calls").split("|"))
    out["db_round_trips"] = top
    out["db_round_trips_per_request"] = round(top / w["requests"], 3) if w["requests"] else None
    out["db_statements"] = calls
    out["db_statements_per_request"] = round(calls / w["requests"], 3) if w["requests"] else None
    out["cpu"] = cpu(parts, name, w["requests"])
    return out


def haproxy_delta(parts, name):
    """Per server of HAProxy's backend: what its counters moved by during the run."""
    before, after = load(parts, f"{name}.before.haproxy.json"), load(parts, f"{name}.after.haproxy.json")
    out = {}
    for srv, a in after.items():
        b = before.get(srv, {})
        out[srv] = {k: (v - (b.get(k) or 0)) if isinstance(v, int) else v for k, v in a.items()}
    return out


# sql/check.sql's counts of what must be 0, by the name latest.json gives each.
CARD_CHECKS = {"cards_balance_not_equal_events": "bad_balance_vs_events",
               "events_without_card": "bad_orphan_events",
               "repeated_balance_after": "bad_repeated_balance_after",
               "events_out_of_sequence": "bad_event_sequence"}


def card_checks(parts, name):
    """sql/check.sql's output (NAME.check.tsv): {check: count}."""
    return {k: int(v) for k, v in (line.split("\t") for line in text(parts, f"{name}.check.tsv").splitlines())}


def card_check_failures(correctness, prefix=""):
    """The CARD_CHECKS in `correctness` that are not 0, as failure lines."""
    return [f"{prefix}{k} = {correctness[k]}" for k in CARD_CHECKS if correctness[k] != 0]
