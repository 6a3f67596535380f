"""Metrics: the instance's /metrics on STAMPCARD_METRICS_ADDR counts requests and is not on the
public address (SKIP while the binary serves no metrics); HAProxy's Prometheus exporter serves the
backend's series."""
import re

from stampcard_tools.httpc import ConnError, request

from harness.cluster import SRC_DIRECT
from harness.report import check, guarded, result, section


def run(cl):
    check_metrics(cl)
    check_haproxy_metrics(cl)


def requests_total(resp):
    """The sum of the HTTP request counter's samples: a `*http*request*_total` counter, or
    else the `_count` of an `*http*request*` histogram (both count requests)."""
    sums = {"_total": [0.0, set()], "_count": [0.0, set()]}
    for line in resp.raw.decode(errors="replace").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if not m or "http" not in m.group(1) or "request" not in m.group(1):
            continue
        for suffix, acc in sums.items():
            if m.group(1).endswith(suffix):
                acc[0] += float(m.group(3))
                acc[1].add(m.group(1))
    return tuple(sums["_total"]) if sums["_total"][1] else tuple(sums["_count"])


@guarded("metrics")
def check_metrics(cl):
    section("/metrics on STAMPCARD_METRICS_ADDR")
    A = cl.A
    murl = f"http://127.0.0.1:{A.metrics_port}"
    try:
        before = request(murl, "GET", "/metrics", timeout=5)
    except ConnError as e:
        result("metrics: the request counter moves", "SKIP",
               f"not served by this binary (STAMPCARD_METRICS_ADDR=127.0.0.1:{A.metrics_port}: {e})")
        return
    pub = request(A.url, "GET", "/metrics", source=SRC_DIRECT)
    check("metrics: /metrics is not served on the public address", pub.status == 404, f"{pub!r}")
    n0, names = requests_total(before)
    for _ in range(5):
        request(A.url, "GET", "/api/v1/preferences", source=SRC_DIRECT)
    after = request(murl, "GET", "/metrics", timeout=5)
    n1, _ = requests_total(after)
    check("metrics: the request counter moves", before.status == 200 and n1 - n0 >= 5,
          f"{sorted(names) or 'no *http*request*_total series'}: {n0:g} -> {n1:g} after 5 requests; "
          f"Content-Type {before.header('Content-Type')}")


@guarded("HAProxy's Prometheus exporter")
def check_haproxy_metrics(cl):
    r = request(f"http://127.0.0.1:{cl.h.haproxy.monitoring_port}", "GET", "/metrics", timeout=5)
    text = r.raw.decode(errors="replace")
    names = ("haproxy_backend_retry_warnings_total", "haproxy_backend_redispatch_warnings_total",
             "haproxy_server_status", "haproxy_backend_http_responses_total")
    missing = [n for n in names if n not in text]
    check("HAProxy's Prometheus exporter (frontend monitoring) serves the backend's series",
          r.status == 200 and not missing, f"{r.status}; missing {missing}")
