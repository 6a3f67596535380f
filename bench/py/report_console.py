"""The benchmark's summary on the terminal: every figure, the cores each scenario used, S5,
the targets and the correctness, from what report.py writes to bench/results/latest.json."""
import os

from report_s5 import S5_NOTE


def probe(row, label, s, settings):
    """The line of S3's or S4's whoami probe."""
    pl = s["probe_latency_ms"]
    print(row.format("%s probe whoami at %g/s" % (label, settings["probe_rate_per_s"]), f"p99 {pl['p99']:.1f} ms",
                     f"p50 {pl['p50']:.1f} ms, max {pl['max']:.1f} ms, {s['probes']} probes"))


def print_summary(result, ratios, peak_rss_mib, out):
    """`ratios` and `peak_rss_mib` unrounded (latest.json has them rounded)."""
    settings, machine, sc, ref = result["settings"], result["machine"], result["scenarios"], result["reference"]
    s1, s1_sessions, s2 = sc["s1_whoami"], sc["s1_whoami_64_sessions"], sc["s2_stamp"]
    s3, s4, s5_two = sc["s3_login_under_load"], sc["s4_guessing_burst"], sc.get("s5_two_instances")
    ref_select, ref_write, bcrypt = ref["pgbench_select"], ref["pgbench_write"], ref["bcrypt"]
    crate, burst = bcrypt.get("server_crate"), s4["burst"]
    rss_by_phase, readyz = result["server"]["rss_by_phase"], result["server"]["readyz"]
    target_rows, correctness = result["targets"], result["correctness"]
    print()
    print(f"stampcard benchmark  {machine['time']}  {machine['nproc']} x {machine['cpu_model']}, "
          f"{machine['mem_total_mib']} MiB; load average before {machine.get('loadavg_before')}")
    print(f"{settings['BENCH_SECONDS']:g} s per scenario, {settings['connections']} connections\n")
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
    probe(row, "S3", s3, settings)
    print(row.format("S4 guessing burst: evaluated", f"{burst['evaluated']} of {burst['sent']}",
                     "answers " + ", ".join(f"{k}: {v}" for k, v in sorted(burst["statuses"].items()))
                     + f", all within {burst.get('elapsed_ms', 0):.0f} ms"))
    print(row.format("S4 the other customers' logins", f"{s4['logins_per_s']:.2f}/s",
                     f"{ratios['s4_logins_over_bcrypt_ceiling']:.3f} of the bcrypt ceiling (S3: "
                     f"{ratios['s3_logins_over_bcrypt_ceiling']:.3f})"))
    probe(row, "S4", s4, settings)
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
    print("\n  correctness: " + ("ok" if correctness["ok"] else "FAILED: " + "; ".join(correctness["failures"])))
    print(f"    {correctness['s2_cards']} cards, {correctness['s2_events']} events, total balance "
          f"{correctness['s2_total_balance']}, wrk counted {s2['requests']} "
          f"(+{correctness['s2_stamps_beyond_wrk_count']} in flight at stop)")
    print(f"\n  written to {os.path.abspath(out)}")
