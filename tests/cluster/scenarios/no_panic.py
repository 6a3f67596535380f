"""No instance panicked: no `panicked` line in any instance's log, over the whole run."""
from harness.report import check, section


def run(cl):
    section("server logs")
    for inst in cl.h.instances:
        panics = [line for line in open(inst.log, errors="replace") if "panicked" in line]
        check(f"{inst.name}: no panic in its log", not panics, " | ".join(panics[:3]))
