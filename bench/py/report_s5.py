"""S5 two instances behind HAProxy: its section of bench/results/latest.json and its own
correctness checks (sql/check.sql again, exit codes, non-2xx lines, HAProxy's errors)."""
import os

from report_parts import CARD_CHECKS, card_check_failures, card_checks, haproxy_delta, load, text, wrk


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
    checks = card_checks(parts, "s5")
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
        **{k: checks[v] for k, v in CARD_CHECKS.items()},
    }
    failures = card_check_failures(correctness, "S5: ")
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
