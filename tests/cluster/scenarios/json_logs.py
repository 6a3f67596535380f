"""STAMPCARD_LOG_FORMAT=json, on the instance the pool fault (scenarios/fault_pool.py) started with
it: one JSON object per line, the request lines with method, route, status, duration, request id,
level and time. SKIP while the binary writes plain lines."""
import json

from harness.report import check, guarded, result, section

NAME = "JSON logs: one object per line, request lines complete"
WANTED = {"method": ("method",), "route": ("route", "path"), "status": ("status",),
          "duration": ("duration", "duration_ms", "latency", "latency_ms", "elapsed"),
          "request id": ("request_id", "id", "requestid"), "level": ("level",),
          "time": ("time", "timestamp", "ts")}


def keys(obj):
    """Every key of a JSON value, at any depth, in lower case."""
    out = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.add(k.lower())
            out |= keys(v)
    elif isinstance(obj, list):
        for v in obj:
            out |= keys(v)
    return out


@guarded("JSON logs")
def run(cl):
    section("STAMPCARD_LOG_FORMAT=json")
    inst = next((i for i in cl.h.instances if i.env_extra.get("STAMPCARD_LOG_FORMAT") == "json"), None)
    if inst is None:
        result(NAME, "SKIP", "no instance ran with json logs")
        return
    lines = [line for line in inst.latest_lines() if line.strip()]
    parsed, bad = [], []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            bad.append(line)
    if not parsed:
        result(NAME, "SKIP", f"not supported by this binary: {inst.name} ran with STAMPCARD_LOG_FORMAT=json and "
                             f"wrote {len(lines)} plain lines, e.g. {lines[:1]}")
        return
    request_lines = [k for k in (keys(o) for o in parsed) if "method" in k and "status" in k]
    missing = sorted(name for name, alts in WANTED.items()
                     if not request_lines or not any(a in request_lines[0] for a in alts))
    check(NAME, not bad and request_lines and not missing,
          f"{len(parsed)} JSON lines, {len(bad)} other lines {bad[:2]}; {len(request_lines)} request lines; "
          f"missing {missing}; keys of the first request line: {sorted(request_lines[0]) if request_lines else '-'}")
