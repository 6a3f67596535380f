"""The login lockout counts across instances: 60 wrong passwords for one account at the same
moment, spread over the three instances and HAProxy. At most 10 are evaluated (401
invalid_credentials); the rest are 429 too_many_attempts with Retry-After; and then the right
password is 429 too."""
from stampcard_tools.httpc import Conn, ConnError

from harness.client import at_once
from harness.cluster import SRC_BURST
from harness.report import check, guarded, section


@guarded("the login lockout counts across instances")
def run(cl):
    section("the login lockout across instances")
    username, _ = cl.new_customer("lockout")
    targets = [(label, base) for label, base, _ in cl.targets()]
    n = 60
    out = at_once([Conn(targets[i % len(targets)][1], source=SRC_BURST) for i in range(n)],
                  lambda i, conn: conn.request("POST", "/api/v1/sessions",
                                               body={"username": username, "password": f"wrong-{i}"}))
    answers = [(targets[i % len(targets)][0],) + (("conn", str(r), None) if isinstance(r, ConnError)
                                                  else (r.status, r.code, r.header("Retry-After")))
               for i, r in enumerate(out)]
    n401 = sum(1 for a in answers if a[1] == 401 and a[2] == "invalid_credentials")
    n429 = sum(1 for a in answers if a[1] == 429 and a[2] == "too_many_attempts")
    no_retry_after = sum(1 for a in answers if a[1] == 429 and not a[3])
    other = [a for a in answers if not ((a[1] == 401 and a[2] == "invalid_credentials")
                                        or (a[1] == 429 and a[2] == "too_many_attempts"))]
    per = {label: {} for label, _ in targets}
    for label, status, _, _ in answers:
        per[label][status] = per[label].get(status, 0) + 1
    # Then the right password, on yet another path: still locked.
    r, _ = cl.login(cl.h.instances[1].url, username, cl.customer_password, SRC_BURST)
    detail = (f"{n} wrong passwords at once over {len(targets)} paths: {n401}x 401 invalid_credentials, "
              f"{n429}x 429 too_many_attempts, other {other}; per path {per}; "
              f"then the right password: {r!r}")
    check("the login lockout counts across instances", 1 <= n401 <= 10 and n401 + n429 == n and not other
          and no_retry_after == 0 and r.status == 429, detail)
