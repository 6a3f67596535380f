"""What the run reports: one PASS/FAIL/SKIP line per check, and a heading per section.

Every check's outcome is kept in RESULTS (name, status, detail) for the summary at the end and the
CLUSTER_FIGURES JSON.
"""
import threading
import time
import traceback

RESULTS = []
T0 = time.monotonic()


def spawn(target, args=()):
    """A daemon thread: a run cut short (SIGTERM, Ctrl-C) never waits for the client threads."""
    return threading.Thread(target=target, args=args, daemon=True)


def section(title):
    print(f"\n===== {title} ({time.monotonic() - T0:.0f}s) =====", flush=True)


def result(name, status, detail=""):
    RESULTS.append((name, status, detail))
    print(f"{status} {name}" + (f"\n     {detail}" if detail else ""), flush=True)
    return status == "PASS"


def check(name, ok, detail=""):
    return result(name, "PASS" if ok else "FAIL", detail)


def failed(name, e, limit):
    """An exception as the FAIL of `name`, with a short traceback."""
    result(name, "FAIL", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=limit)}")


def guarded(name):
    """Runs a check function; an exception in it is that check's FAIL, not the end of the run."""
    def wrap(fn):
        def run(*a, **kw):
            try:
                return fn(*a, **kw)
            except Exception as e:  # noqa: BLE001 - reported, then the next check runs
                result(name, "FAIL", f"the check itself failed: {type(e).__name__}: {e}\n"
                       + traceback.format_exc(limit=4))
                return None
        return run
    return wrap


def summary():
    """The closing list of every check, and the count line; True when none failed."""
    section("summary")
    for name, status, _ in RESULTS:
        print(f"{status:4} {name}")
    failures = [r for r in RESULTS if r[1] == "FAIL"]
    print(f"\ncluster: {sum(1 for r in RESULTS if r[1] == 'PASS')} passed, {len(failures)} failed, "
          f"{sum(1 for r in RESULTS if r[1] == 'SKIP')} skipped in {time.monotonic() - T0:.0f}s")
    return not failures
