#!/usr/bin/env python3
"""Collects the parts run.sh wrote, computes the ratios, checks the targets and correctness,
prints a summary and writes the JSON file. Exit 0: all good; 1: a correctness check failed;
3: correct, but a performance target was missed.

The parts are read by report_parts.py (and report_s5.py for S5), the summary is printed by
report_console.py. A new scenario: read its parts in collect(), add its ratios, targets and
correctness below, and its lines in report_console.py.
"""
import argparse
import json
import os
import time

from report_console import print_summary
from report_parts import CARD_CHECKS, card_check_failures, card_checks, cpu, load, pgbench, text, wrk
from report_s5 import s5


def memory_by_phase(parts):
    """The first instance's peak resident memory and threads per phase (py/machine.py sample)."""
    samples = []
    with open(os.path.join(parts, "rss_samples.jsonl")) as f:
        for line in f:
            try:
                samples.append(json.loads(line))
            except ValueError:
                pass
    rss_by_phase = {}
    for smp in samples:
        if smp.get("rss_kib") is None:  # the process was between phases of its exit
            continue
        ph = rss_by_phase.setdefault(smp["phase"], {"max_rss_mib": 0, "max_threads": 0})
        ph["max_rss_mib"] = max(ph["max_rss_mib"], round(smp["rss_kib"] / 1024, 1))
        ph["max_threads"] = max(ph["max_threads"], smp["threads"])
    return rss_by_phase


def collect(p, connections):
    """Every scenario's and reference's figures, from the parts directory `p`."""
    f = {}
    f["machine"] = load(p, "machine.json")
    f["machine"].update(load(p, "machine_after.json"))
    f["s1"], f["s1_sessions"], f["s2"] = wrk(p, "s1"), wrk(p, "s1_sessions"), wrk(p, "s2")
    s3 = f["s3"] = load(p, "s3.json")
    s3["db_round_trips"], s3["db_statements"] = (int(x) for x in text(p, "s3.pgss_calls").split("|"))
    f["ref_select"], f["ref_write"] = pgbench(p, "ref_select"), pgbench(p, "ref_write")
    for name in ("ref_select", "ref_write"):
        f[name]["cpu"] = cpu(p, name, f[name]["transactions"])
    s3["cpu"] = cpu(p, "s3", None, s3["generator_cpu_s"])
    s4 = f["s4"] = load(p, "s4.json")
    s4["cpu"] = cpu(p, "s4", None, s4["generator_cpu_s"])
    f["rss_by_phase"] = memory_by_phase(p)
    f["bcrypt"] = load(p, "bcrypt.json")
    f["rss"] = load(p, "rss.json")
    f["readyz"] = load(p, "readyz.json")
    f["server_exit"] = int(text(p, "server_exit"))
    f["server_non2xx"] = int(text(p, "server_non2xx") or 0)
    f["checks"] = card_checks(p, "s2")
    f["s5"] = s5(p, connections, f["checks"])
    f["ref_select"]["row_bytes"] = int(text(p, "ref_row_bytes") or 0)
    f["s1"]["session_row_bytes"] = int(text(p, "session_row_bytes") or 0)
    # What a login costs the server in CPU, against the reference verify: the best S3 ratio the
    # server could reach with both cores to itself, whatever else runs on the machine.
    if s3["logins_total"]:
        s3["server_cpu_s_per_login"] = round(s3["cpu"]["cores_used"]["server"] * s3["cpu"]["elapsed_s"]
                                             / s3["logins_total"], 4)
        s3["bcrypt_share_of_login_cpu"] = round(f["bcrypt"]["verify_s"] / s3["server_cpu_s_per_login"], 3)
    return f


def ratios_of(f):
    s1, s3, bcrypt = f["s1"], f["s3"], f["bcrypt"]
    ratios = {
        "s1_over_pgbench_select": s1["rps"] / f["ref_select"]["tps"],
        "s1_sessions_over_pgbench_select": f["s1_sessions"]["rps"] / f["ref_select"]["tps"],
        "s2_over_pgbench_write": f["s2"]["rps"] / f["ref_write"]["tps"],
        "s3_logins_over_bcrypt_ceiling": s3["logins_per_s"] / bcrypt["ceiling_logins_per_s"],
        "s4_logins_over_bcrypt_ceiling": f["s4"]["logins_per_s"] / bcrypt["ceiling_logins_per_s"],
    }
    crate = bcrypt.get("server_crate")
    if crate:
        # Not a target: how much of what the server's own bcrypt could do on these cores it did.
        ratios["s3_logins_over_server_crate_ceiling"] = s3["logins_per_s"] / crate["ceiling_logins_per_s"]
    if f["s5"]:
        # Not targets: the cost of HAProxy and a second instance on the same two cores.
        ratios["s5_s1_haproxy_two_instances_over_direct"] = f["s5"]["s1_whoami"]["rps_ratio_haproxy_over_direct"]
        ratios["s5_s2_haproxy_two_instances_over_direct"] = f["s5"]["s2_stamp"]["rps_ratio_haproxy_over_direct"]
    return ratios


def targets_of(f, ratios, peak_rss_mib):
    readyz = f["readyz"]
    targets = [
        ("S1 whoami / pgbench select TPS", ratios["s1_over_pgbench_select"], ">=", 0.5),
        ("S2 stamp / pgbench write TPS", ratios["s2_over_pgbench_write"], ">=", 0.7),
        ("S3 logins/s / bcrypt ceiling", ratios["s3_logins_over_bcrypt_ceiling"], ">=", 0.9),
        ("S3 probe p99 (ms)", f["s3"]["probe_latency_ms"]["p99"], "<=", 10.0),
        ("S4 probe p99 during the burst (ms)", f["s4"]["probe_latency_ms"]["p99"], "<=", 10.0),
        ("peak RSS of the server (MiB)", peak_rss_mib, "<=", 64.0),
        ("serve -> /readyz 200, slowest of %d (s)" % len(readyz["runs_s"]), readyz["max_s"], "<=", 1.0),
    ]
    return [{"name": n, "value": round(v, 4), "target": f"{op} {t}",
             "met": (v >= t) if op == ">=" else (v <= t)} for n, v, op, t in targets]


def correctness_of(f, connections, customers):
    s1, s1_sessions, s2, s3, s4 = f["s1"], f["s1_sessions"], f["s2"], f["s3"], f["s4"]
    checks, burst, readyz = f["checks"], s4["burst"], f["readyz"]
    ref_select, ref_write = f["ref_select"], f["ref_write"]
    stamped_beyond_counted = checks["stamps_in_events"] - s2["requests"]
    correctness = {
        "s2_cards": checks["cards"],
        "s2_events": checks["events"],
        "s2_total_balance": checks["total_balance"],
        "s2_requests_counted_by_wrk": s2["requests"],
        # wrk stops with up to one request in flight per connection: those may commit uncounted.
        "s2_stamps_beyond_wrk_count": stamped_beyond_counted,
        **{k: checks[v] for k, v in CARD_CHECKS.items()},
        "non_2xx": {"s1": s1["non_2xx"], "s1_sessions": s1_sessions["non_2xx"], "s2": s2["non_2xx"],
                    "s3_logins": s3["login_errors"], "s3_probe": s3["probe_errors"],
                    "s4_logins": s4["login_errors"], "s4_probe": s4["probe_errors"],
                    # The burst's 401s and 429s are its point; anything else is not.
                    "server_log_whole_run_beyond_the_burst": f["server_non2xx"] - burst["statuses"].get("401", 0)
                    - burst["statuses"].get("429", 0)},
        "s4_burst_guesses_evaluated": burst["evaluated"],
        "s4_burst_answers": burst["statuses"],
        "s4_burst_connection_errors": burst["errors"],
        "socket_errors": {name: sum(s["socket_errors"].values())
                          for name, s in (("s1", s1), ("s1_sessions", s1_sessions), ("s2", s2))},
        "pgbench_failed_transactions": ref_select["failed_transactions"] + ref_write["failed_transactions"],
        "server_exit_after_sigterm": f["server_exit"],
        "restarted_server_exits": readyz["exit_codes_after_sigterm"],
    }
    failures = card_check_failures(correctness)
    for key in ("pgbench_failed_transactions", "server_exit_after_sigterm"):
        if correctness[key] != 0:
            failures.append(f"{key} = {correctness[key]}")
    for group in ("non_2xx", "socket_errors"):
        for k, v in correctness[group].items():
            if v:
                failures.append(f"{group}.{k} = {v}")
    if not 0 <= stamped_beyond_counted <= connections:
        failures.append(f"stamps in the database - stamps wrk counted = {stamped_beyond_counted}, "
                        f"outside 0..{connections}")
    if checks["total_balance"] != checks["stamps_in_events"]:
        failures.append("total balance differs from the stamps in the event log")
    if checks["cards"] != customers:
        failures.append(f"{checks['cards']} cards, expected {customers}")
    if any(readyz["exit_codes_after_sigterm"]):
        failures.append(f"restarted servers exited with {readyz['exit_codes_after_sigterm']}")
    if burst["evaluated"] > 10:
        failures.append(f"S4: {burst['evaluated']} guesses of one account were evaluated, more than 10")
    if set(burst["statuses"]) - {"401", "429"} or burst["errors"]:
        failures.append(f"S4: burst answers {burst['statuses']}, {burst['errors']} connection errors")
    if f["s5"]:
        failures.extend(f["s5"]["correctness"]["failures"])
    correctness["failures"] = failures
    correctness["ok"] = not failures
    return correctness


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--connections", type=int, required=True)
    ap.add_argument("--customers", type=int, required=True)
    ap.add_argument("--login-clients", type=int, required=True)
    ap.add_argument("--probe-rate", type=float, required=True)
    ap.add_argument("--started", type=float, required=True)
    ap.add_argument("--pg-bin", required=True)
    args = ap.parse_args()

    f = collect(args.parts, args.connections)
    ratios = ratios_of(f)
    peak_rss_mib = f["rss"]["peak_rss_kib"] / 1024
    target_rows = targets_of(f, ratios, peak_rss_mib)
    correctness = correctness_of(f, args.connections, args.customers)
    rss, s5_two = f["rss"], f["s5"]
    result = {
        "schema": 1,
        "command": "bench/run.sh",
        "settings": {"BENCH_SECONDS": args.seconds, "connections": args.connections,
                     "customers": args.customers, "login_clients": args.login_clients,
                     "probe_rate_per_s": args.probe_rate, "bcrypt_cost": 12,
                     "postgresql": "fsync=on synchronous_commit=on full_page_writes=on shared_buffers=256MB "
                                   "max_connections=200 pg_stat_statements",
                     "server": "STAMPCARD_DEV=1 STAMPCARD_BCRYPT_COST=12 RUST_LOG=%s %s" % (
                         os.environ.get("BENCH_RUST_LOG", "info"), os.environ.get("BENCH_SERVER_ENV", "")),
                     "pg_bin": args.pg_bin},
        "machine": f["machine"],
        "scenarios": {"s1_whoami": f["s1"], "s1_whoami_64_sessions": f["s1_sessions"], "s2_stamp": f["s2"],
                      "s3_login_under_load": f["s3"], "s4_guessing_burst": f["s4"],
                      **({"s5_two_instances": s5_two} if s5_two else {})},
        "reference": {"pgbench_select": f["ref_select"], "pgbench_write": f["ref_write"], "bcrypt": f["bcrypt"]},
        "server": {"peak_rss_mib": round(peak_rss_mib, 1), "rss_at_end_mib": round(rss["rss_kib"] / 1024, 1),
                   "threads_at_end": rss["threads"], "rss_by_phase": f["rss_by_phase"], "readyz": f["readyz"]},
        "ratios": {k: round(v, 4) for k, v in ratios.items()},
        "targets": target_rows,
        "correctness": correctness,
        "runtime_s": round(time.time() - args.started),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as out:
        json.dump(result, out, indent=2)
        out.write("\n")

    print_summary(result, ratios, peak_rss_mib, args.out)
    if not correctness["ok"]:
        raise SystemExit(1)
    if not all(t["met"] for t in target_rows):
        raise SystemExit(3)


if __name__ == "__main__":
    main()
