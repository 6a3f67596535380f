#!/usr/bin/env python3
"""Collects the parts run.sh wrote, computes the ratios, checks the targets and correctness,
prints a summary and writes the JSON file. Exit 0: all good; 1: a correctness check failed;
3: correct, but a performance target was missed."""
import argparse
import json
import os
import re
import time


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


S5_NOTE = ("On 2 cores this measures what HAProxy and a second instance cost, not scaling: both instances, "
           "HAProxy, PostgreSQL and wrk share the same two cores, which were already busy with one instance.")


def s5(parts, connections, s2_check):
    """S5 two instances: S1 and S2 through HAProxy over two instances against the same directly on
    the first instance, in the same run. None when S5 was skipped (BENCH_S5=0)."""
    if not os.path.exists(os.path.join(parts, "s5.check.tsv")):
        return None
    out = {"note": S5_NOTE, "haproxy": text(parts, "s5_haproxy_version"),
           "haproxy_config": "deploy/haproxy.cfg, addresses, paths and log target rewritten by tools/stampcard_tools/haproxy_cfg.py; "
                             "its third server line removed",
           "order": ["s1 haproxy", "s1 direct", "s2 direct", "s2 haproxy"]}
    for key, scen in (("s1_whoami", "s1"), ("s2_stamp", "s2")):
        proxied, direct = wrk(parts, f"s5_{scen}_haproxy"), wrk(parts, f"s5_{scen}_direct")
        proxied["haproxy_servers"] = servers = haproxy_delta(parts, f"s5_{scen}_haproxy")
        app = {k: v for k, v in servers.items() if k not in ("FRONTEND", "BACKEND")}
        sent = sum(v["lbtot"] or 0 for v in app.values())
        proxied["share_per_server"] = {k: round((v["lbtot"] or 0) / sent, 3) if sent else None for k, v in app.items()}
        be = servers.get("BACKEND", {})
        connects, reuses = be.get("connect") or 0, be.get("reuse") or 0
        proxied["server_connection_reuse_fraction"] = round(reuses / (connects + reuses), 4) if connects + reuses else None
        # The frontend's hrsp_4xx is 1 per run: wrk's address check connects and closes without
        # a request, which HAProxy counts (and, with dontlognull, does not log).
        proxied["haproxy_log_timers"] = load(parts, f"s5_{scen}_haproxy.haproxy_log.json")
        out[key] = {"haproxy_two_instances": proxied, "direct_one_instance": direct,
                    "rps_ratio_haproxy_over_direct": round(proxied["rps"] / direct["rps"], 4)}
    checks = {k: int(v) for k, v in (line.split("\t") for line in text(parts, "s5.check.tsv").splitlines())}
    stamped = checks["stamps_in_events"] - s2_check["stamps_in_events"]
    counted = out["s2_stamp"]["haproxy_two_instances"]["requests"] + out["s2_stamp"]["direct_one_instance"]["requests"]
    rss2 = load(parts, "s5_server2_rss.json")
    out["second_instance"] = {"peak_rss_mib": round(rss2["peak_rss_kib"] / 1024, 1),
                              "exit_after_sigterm": int(text(parts, "s5_server2_exit")),
                              "non_2xx_in_its_log": int(text(parts, "s5_server2_non2xx") or 0),
                              "first_instance_cookie_answered": int(text(parts, "s5_cookie_on_second") or 0)}
    out["haproxy_log"] = {"lines": int(text(parts, "s5_haproxy_log_lines") or 0),
                          "non_2xx_lines": int(text(parts, "s5_haproxy_log_non2xx") or 0),
                          "exit_after_sigterm": int(text(parts, "s5_haproxy_exit"))}
    correctness = {
        "cards": checks["cards"], "events": checks["events"], "total_balance": checks["total_balance"],
        "s5_s2_requests_counted_by_wrk": counted,
        "s5_stamps_beyond_wrk_count": stamped - counted,
        "cards_balance_not_equal_events": checks["bad_balance_vs_events"],
        "events_without_card": checks["bad_orphan_events"],
        "repeated_balance_after": checks["bad_repeated_balance_after"],
        "events_out_of_sequence": checks["bad_event_sequence"],
    }
    failures = []
    for k in ("cards_balance_not_equal_events", "events_without_card", "repeated_balance_after",
              "events_out_of_sequence"):
        if correctness[k]:
            failures.append(f"S5: {k} = {correctness[k]}")
    if checks["total_balance"] != checks["stamps_in_events"]:
        failures.append("S5: total balance differs from the stamps in the event log")
    # wrk stops twice (direct, then through HAProxy), each time with up to one request in flight
    # per connection.
    if not 0 <= stamped - counted <= 2 * connections:
        failures.append(f"S5: stamps added - stamps wrk counted = {stamped - counted}, outside 0..{2 * connections}")
    for key in ("s1_whoami", "s2_stamp"):
        for how, r in out[key].items():
            if not isinstance(r, dict):
                continue
            if r["non_2xx"]:
                failures.append(f"S5 {key} {how}: non_2xx = {r['non_2xx']}")
            if sum(r["socket_errors"].values()):
                failures.append(f"S5 {key} {how}: socket errors {r['socket_errors']}")
        # Connection and response errors, retries and redispatches: with both servers healthy
        # there is nothing to retry.
        be = out[key]["haproxy_two_instances"]["haproxy_servers"].get("BACKEND", {})
        for k in ("econ", "eresp", "wretr", "wredis"):
            if be.get(k):
                failures.append(f"S5 {key}: HAProxy's backend {k} = {be[k]}")
    if out["haproxy_log"]["non_2xx_lines"]:
        failures.append(f"S5: {out['haproxy_log']['non_2xx_lines']} non-2xx answers in HAProxy's log")
    if out["second_instance"]["exit_after_sigterm"]:
        failures.append(f"S5: the second instance exited with {out['second_instance']['exit_after_sigterm']}")
    if out["second_instance"]["non_2xx_in_its_log"]:
        failures.append(f"S5: {out['second_instance']['non_2xx_in_its_log']} non-2xx in the second instance's log")
    if out["second_instance"]["first_instance_cookie_answered"] != 200:
        failures.append("S5: the first instance's session cookie did not work on the second "
                        f"({out['second_instance']['first_instance_cookie_answered']})")
    correctness["failures"] = failures
    out["correctness"] = correctness
    return out


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
    p = args.parts

    machine = load(p, "machine.json")
    machine.update(load(p, "machine_after.json"))
    s1, s1_sessions, s2 = wrk(p, "s1"), wrk(p, "s1_sessions"), wrk(p, "s2")
    s3 = load(p, "s3.json")
    s3["db_round_trips"], s3["db_statements"] = (int(x) for x in text(p, "s3.pgss_calls").split("|"))
    ref_select, ref_write = pgbench(p, "ref_select"), pgbench(p, "ref_write")
    for name, ref in (("ref_select", ref_select), ("ref_write", ref_write)):
        ref["cpu"] = cpu(p, name, ref["transactions"])
    s3["cpu"] = cpu(p, "s3", None, s3["generator_cpu_s"])
    s4 = load(p, "s4.json")
    s4["cpu"] = cpu(p, "s4", None, s4["generator_cpu_s"])
    burst = s4["burst"]
    samples = []
    with open(os.path.join(p, "rss_samples.jsonl")) as f:
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
    bcrypt = load(p, "bcrypt.json")
    rss = load(p, "rss.json")
    readyz = load(p, "readyz.json")
    server_exit = int(text(p, "server_exit"))
    server_non2xx = int(text(p, "server_non2xx") or 0)
    checks_raw = dict(line.split("\t") for line in text(p, "s2.check.tsv").splitlines())
    checks_raw = {k: int(v) for k, v in checks_raw.items()}
    s5_two = s5(p, args.connections, checks_raw)
    ref_select["row_bytes"] = int(text(p, "ref_row_bytes") or 0)
    s1["session_row_bytes"] = int(text(p, "session_row_bytes") or 0)

    # What a login costs the server in CPU, against the reference verify: the best S3 ratio the
    # server could reach with both cores to itself, whatever else runs on the machine.
    if s3["logins_total"]:
        s3["server_cpu_s_per_login"] = round(s3["cpu"]["cores_used"]["server"] * s3["cpu"]["elapsed_s"]
                                             / s3["logins_total"], 4)
        s3["bcrypt_share_of_login_cpu"] = round(bcrypt["verify_s"] / s3["server_cpu_s_per_login"], 3)
    ratios = {
        "s1_over_pgbench_select": s1["rps"] / ref_select["tps"],
        "s1_sessions_over_pgbench_select": s1_sessions["rps"] / ref_select["tps"],
        "s2_over_pgbench_write": s2["rps"] / ref_write["tps"],
        "s3_logins_over_bcrypt_ceiling": s3["logins_per_s"] / bcrypt["ceiling_logins_per_s"],
        "s4_logins_over_bcrypt_ceiling": s4["logins_per_s"] / bcrypt["ceiling_logins_per_s"],
    }
    crate = bcrypt.get("server_crate")
    if crate:
        # Not a target: how much of what the server's own bcrypt could do on these cores it did.
        ratios["s3_logins_over_server_crate_ceiling"] = s3["logins_per_s"] / crate["ceiling_logins_per_s"]
    if s5_two:
        # Not targets: the cost of HAProxy and a second instance on the same two cores.
        ratios["s5_s1_haproxy_two_instances_over_direct"] = s5_two["s1_whoami"]["rps_ratio_haproxy_over_direct"]
        ratios["s5_s2_haproxy_two_instances_over_direct"] = s5_two["s2_stamp"]["rps_ratio_haproxy_over_direct"]
    peak_rss_mib = rss["peak_rss_kib"] / 1024
    probe_p99 = s3["probe_latency_ms"]["p99"]
    targets = [
        ("S1 whoami / pgbench select TPS", ratios["s1_over_pgbench_select"], ">=", 0.5),
        ("S2 stamp / pgbench write TPS", ratios["s2_over_pgbench_write"], ">=", 0.7),
        ("S3 logins/s / bcrypt ceiling", ratios["s3_logins_over_bcrypt_ceiling"], ">=", 0.9),
        ("S3 probe p99 (ms)", probe_p99, "<=", 10.0),
        ("S4 probe p99 during the burst (ms)", s4["probe_latency_ms"]["p99"], "<=", 10.0),
        ("peak RSS of the server (MiB)", peak_rss_mib, "<=", 64.0),
        ("serve -> /readyz 200, slowest of %d (s)" % len(readyz["runs_s"]), readyz["max_s"], "<=", 1.0),
    ]
    target_rows = [{"name": n, "value": round(v, 4), "target": f"{op} {t}",
                    "met": (v >= t) if op == ">=" else (v <= t)} for n, v, op, t in targets]

    stamped_beyond_counted = checks_raw["stamps_in_events"] - s2["requests"]
    correctness = {
        "s2_cards": checks_raw["cards"],
        "s2_events": checks_raw["events"],
        "s2_total_balance": checks_raw["total_balance"],
        "s2_requests_counted_by_wrk": s2["requests"],
        # wrk stops with up to one request in flight per connection: those may commit uncounted.
        "s2_stamps_beyond_wrk_count": stamped_beyond_counted,
        "cards_balance_not_equal_events": checks_raw["bad_balance_vs_events"],
        "events_without_card": checks_raw["bad_orphan_events"],
        "repeated_balance_after": checks_raw["bad_repeated_balance_after"],
        "events_out_of_sequence": checks_raw["bad_event_sequence"],
        "non_2xx": {"s1": s1["non_2xx"], "s1_sessions": s1_sessions["non_2xx"], "s2": s2["non_2xx"],
                    "s3_logins": s3["login_errors"], "s3_probe": s3["probe_errors"],
                    "s4_logins": s4["login_errors"], "s4_probe": s4["probe_errors"],
                    # The burst's 401s and 429s are its point; anything else is not.
                    "server_log_whole_run_beyond_the_burst": server_non2xx - burst["statuses"].get("401", 0)
                    - burst["statuses"].get("429", 0)},
        "s4_burst_guesses_evaluated": burst["evaluated"],
        "s4_burst_answers": burst["statuses"],
        "s4_burst_connection_errors": burst["errors"],
        "socket_errors": {name: sum(s["socket_errors"].values())
                          for name, s in (("s1", s1), ("s1_sessions", s1_sessions), ("s2", s2))},
        "pgbench_failed_transactions": ref_select["failed_transactions"] + ref_write["failed_transactions"],
        "server_exit_after_sigterm": server_exit,
        "restarted_server_exits": readyz["exit_codes_after_sigterm"],
    }
    failures = []
    for key in ("cards_balance_not_equal_events", "events_without_card", "repeated_balance_after",
                "events_out_of_sequence", "pgbench_failed_transactions", "server_exit_after_sigterm"):
        if correctness[key] != 0:
            failures.append(f"{key} = {correctness[key]}")
    for group in ("non_2xx", "socket_errors"):
        for k, v in correctness[group].items():
            if v:
                failures.append(f"{group}.{k} = {v}")
    if not 0 <= stamped_beyond_counted <= args.connections:
        failures.append(f"stamps in the database - stamps wrk counted = {stamped_beyond_counted}, "
                        f"outside 0..{args.connections}")
    if checks_raw["total_balance"] != checks_raw["stamps_in_events"]:
        failures.append("total balance differs from the stamps in the event log")
    if checks_raw["cards"] != args.customers:
        failures.append(f"{checks_raw['cards']} cards, expected {args.customers}")
    if any(readyz["exit_codes_after_sigterm"]):
        failures.append(f"restarted servers exited with {readyz['exit_codes_after_sigterm']}")
    if burst["evaluated"] > 10:
        failures.append(f"S4: {burst['evaluated']} guesses of one account were evaluated, more than 10")
    if set(burst["statuses"]) - {"401", "429"} or burst["errors"]:
        failures.append(f"S4: burst answers {burst['statuses']}, {burst['errors']} connection errors")
    if s5_two:
        failures.extend(s5_two["correctness"]["failures"])
    correctness["failures"] = failures
    correctness["ok"] = not failures

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
        "machine": machine,
        "scenarios": {"s1_whoami": s1, "s1_whoami_64_sessions": s1_sessions, "s2_stamp": s2,
                      "s3_login_under_load": s3, "s4_guessing_burst": s4,
                      **({"s5_two_instances": s5_two} if s5_two else {})},
        "reference": {"pgbench_select": ref_select, "pgbench_write": ref_write, "bcrypt": bcrypt},
        "server": {"peak_rss_mib": round(peak_rss_mib, 1), "rss_at_end_mib": round(rss["rss_kib"] / 1024, 1),
                   "threads_at_end": rss["threads"], "rss_by_phase": rss_by_phase, "readyz": readyz},
        "ratios": {k: round(v, 4) for k, v in ratios.items()},
        "targets": target_rows,
        "correctness": correctness,
        "runtime_s": round(time.time() - args.started),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")

    busy = machine.get("loadavg_before")
    print()
    print(f"stampcard benchmark  {machine['time']}  {machine['nproc']} x {machine['cpu_model']}, "
          f"{machine['mem_total_mib']} MiB; load average before {busy}")
    print(f"{args.seconds:g} s per scenario, {args.connections} connections\n")
    row = "  {:<44} {:>12}  {}"
    print(row.format("S1 whoami (GET /api/v1/users/me)", f"{s1['rps']:.0f}/s",
                     f"p50 {s1['latency_ms']['p50']} ms, p99 {s1['latency_ms']['p99']} ms, "
                     f"{s1['db_round_trips_per_request']} DB round trips/request, "
                     f"{s1['cpu']['server_cpu_us_per_request']} us server CPU/request"))
    print(row.format("  the same over 64 sessions (not a target)", f"{s1_sessions['rps']:.0f}/s",
                     f"{ratios['s1_sessions_over_pgbench_select']:.3f} of the reference, "
                     f"{s1_sessions['db_round_trips_per_request']} DB round trips/request, "
                     f"{s1_sessions['cpu']['server_cpu_us_per_request']} us server CPU/request"))
    print(row.format("reference: pgbench primary-key select", f"{ref_select['tps']:.0f}/s",
                     f"{ref_select['row_bytes']} B row (a real session row: {s1['session_row_bytes']} B)"))
    print(row.format("S2 stamp (POST /api/v1/stamps)", f"{s2['rps']:.0f}/s",
                     f"p50 {s2['latency_ms']['p50']} ms, p99 {s2['latency_ms']['p99']} ms, "
                     f"{s2['db_round_trips_per_request']} DB round trips/request "
                     f"({s2['db_statements_per_request']} statements with FK checks), "
                     f"{s2['cpu']['server_cpu_us_per_request']} us server CPU/request"))
    print(row.format("reference: pgbench stamp-like write", f"{ref_write['tps']:.0f}/s", ""))
    print(row.format("S3 logins", f"{s3['logins_per_s']:.2f}/s",
                     f"{s3['logins_in_window']} in {s3['seconds']:g} s, {s3['login_clients']} clients; "
                     f"{s3.get('server_cpu_s_per_login', 0) * 1000:.0f} ms server CPU per login"))
    pl = s3["probe_latency_ms"]
    print(row.format("S3 probe whoami at %g/s" % args.probe_rate, f"p99 {pl['p99']:.1f} ms",
                     f"p50 {pl['p50']:.1f} ms, max {pl['max']:.1f} ms, {s3['probes']} probes"))
    print(row.format("S4 guessing burst: evaluated", f"{burst['evaluated']} of {burst['sent']}",
                     "answers " + ", ".join(f"{k}: {v}" for k, v in sorted(burst["statuses"].items()))
                     + f", all within {burst.get('elapsed_ms', 0):.0f} ms"))
    print(row.format("S4 the other customers' logins", f"{s4['logins_per_s']:.2f}/s",
                     f"{ratios['s4_logins_over_bcrypt_ceiling']:.3f} of the bcrypt ceiling (S3: "
                     f"{ratios['s3_logins_over_bcrypt_ceiling']:.3f})"))
    pl4 = s4["probe_latency_ms"]
    print(row.format("S4 probe whoami at %g/s" % args.probe_rate, f"p99 {pl4['p99']:.1f} ms",
                     f"p50 {pl4['p50']:.1f} ms, max {pl4['max']:.1f} ms, {s4['probes']} probes"))
    print(row.format("reference: bcrypt verify, cost 12, one core", f"{bcrypt['verify_s'] * 1000:.0f} ms",
                     f"ceiling {bcrypt['ceiling_logins_per_s']:.2f} logins/s on {bcrypt['cores']} cores "
                     f"({bcrypt['tool']})"))
    if crate:
        print(row.format("  the same with the server's bcrypt crate", f"{crate['verify_s'] * 1000:.0f} ms",
                         f"ceiling {crate['ceiling_logins_per_s']:.2f} logins/s; S3 reached "
                         f"{ratios['s3_logins_over_server_crate_ceiling']:.3f} of it (not a target)"))
    print(row.format("peak RSS of the server", f"{peak_rss_mib:.1f} MiB", "max by phase: " + ", ".join(
        f"{k} {v['max_rss_mib']:g}" for k, v in rss_by_phase.items())))
    print(row.format("serve -> /readyz 200", f"{readyz['max_s'] * 1000:.0f} ms",
                     "runs: " + ", ".join(f"{t * 1000:.0f} ms" for t in readyz["runs_s"])))
    print("\n  cores used (of %d): server / postgres / load generator / other work; idle" % machine["nproc"])
    for name, c in (("S1", s1["cpu"]), ("S1, 64 sessions", s1_sessions["cpu"]), ("pgbench select", ref_select["cpu"]),
                    ("S2", s2["cpu"]),
                    ("pgbench write", ref_write["cpu"]), ("S3", s3["cpu"]), ("S4", s4["cpu"])):
        u = c["cores_used"]
        per = c.get("cpu_us_per_request")
        extra = f"   per request: {per['server']:g} / {per['postgres']:g} / {per['load_generator']:g} us" if per else ""
        print(f"    {name:<16} {u['server']:.2f} / {u['postgres']:.2f} / {u['load_generator']:.2f} / "
              f"{u['other']:.2f}; {u['idle']:.2f}{extra}")
    if s5_two:
        print("\n  S5 two instances behind HAProxy (%s), not a target:" % s5_two["haproxy"].split(" - ")[0])
        print("    " + S5_NOTE)
        for key, label in (("s1_whoami", "S1 whoami"), ("s2_stamp", "S2 stamp")):
            r = s5_two[key]
            hp, d = r["haproxy_two_instances"], r["direct_one_instance"]
            print(row.format(f"{label} through HAProxy, two instances", f"{hp['rps']:.0f}/s",
                             f"p50 {hp['latency_ms']['p50']} ms, p99 {hp['latency_ms']['p99']} ms, "
                             f"{hp['db_round_trips_per_request']} DB round trips/request; split "
                             + " / ".join(f"{k} {v:.0%}" for k, v in hp["share_per_server"].items())
                             + f", {hp['server_connection_reuse_fraction']:.1%} on reused server connections"))
            t = hp["haproxy_log_timers"]
            print(row.format("  as HAProxy logged it", "",
                             f"server answered in p50 {t['server_response_ms']['p50']} ms, p99 "
                             f"{t['server_response_ms']['p99']} ms; whole exchange p99 {t['total_ms']['p99']} ms, "
                             f"max {t['total_ms']['max']} ms; queued in HAProxy at most {t['queue_ms']['max']} ms"))
            print(row.format(f"{label} directly, first instance", f"{d['rps']:.0f}/s",
                             f"p50 {d['latency_ms']['p50']} ms, p99 {d['latency_ms']['p99']} ms, "
                             f"{d['db_round_trips_per_request']} DB round trips/request"))
            print(row.format("  ratio HAProxy / direct", f"{r['rps_ratio_haproxy_over_direct']:.3f}", ""))
        print("\n    cores used (of %d): instance 1 + instance 2 / HAProxy / postgres / load generator / other; idle"
              % machine["nproc"])
        for key, label in (("s1_whoami", "S1"), ("s2_stamp", "S2")):
            for how, tag in (("haproxy_two_instances", "via HAProxy"), ("direct_one_instance", "direct")):
                c = s5_two[key][how]["cpu"]
                u, per = c["cores_used"], c["cpu_us_per_request"]
                print(f"      {label + ' ' + tag:<16} {u['server']:.2f} + {u.get('server2', 0):.2f} / "
                      f"{u.get('haproxy', 0):.2f} / {u['postgres']:.2f} / {u['load_generator']:.2f} / "
                      f"{u['other']:.2f}; {u['idle']:.2f}   per request: "
                      f"{per['server'] + per.get('server2', 0):g} / {per.get('haproxy', 0):g} / {per['postgres']:g} / "
                      f"{per['load_generator']:g} us")
        sc = s5_two["correctness"]
        print(f"    after S5's S2: {sc['cards']} cards, {sc['events']} events, total balance {sc['total_balance']}, "
              f"wrk counted {sc['s5_s2_requests_counted_by_wrk']} in S5 "
              f"(+{sc['s5_stamps_beyond_wrk_count']} in flight at the stops); "
              + ("ok" if not sc["failures"] else "FAILED: " + "; ".join(sc["failures"])))
    print("\n  targets:")
    for t in target_rows:
        print(f"    [{'met' if t['met'] else 'NOT MET':>7}] {t['name']:<44} {t['value']:>10.3f}  (target {t['target']})")
    print("\n  correctness: " + ("ok" if correctness["ok"] else "FAILED: " + "; ".join(failures)))
    print(f"    {checks_raw['cards']} cards, {checks_raw['events']} events, total balance "
          f"{checks_raw['total_balance']}, wrk counted {s2['requests']} (+{stamped_beyond_counted} in flight at stop)")
    print(f"\n  written to {os.path.abspath(args.out)}")
    if not correctness["ok"]:
        raise SystemExit(1)
    if not all(t["met"] for t in target_rows):
        raise SystemExit(3)


if __name__ == "__main__":
    main()
