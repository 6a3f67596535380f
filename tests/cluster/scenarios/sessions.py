"""One service out of several instances: a session made on any instance (or through HAProxy)
works on every other; a logout, the revocation of one session and "revoke all others" on one
instance are seen by the very next request on every other."""
from stampcard_tools.httpc import request

from harness.cluster import SRC_DIRECT, SRC_LB
from harness.report import check, guarded, section


def run(cl):
    check_session_sharing(cl)
    check_logout(cl)
    check_revocation(cl)


def current(base, jar, source):
    """GET /api/v1/sessions/current with a copy of `jar` (the answer changes no cookie of it)."""
    return request(base, "GET", "/api/v1/sessions/current", jar=jar.copy(), source=source)


def everywhere(cl, jar, want, what, bad):
    """Asks for `jar`'s session on every instance and through HAProxy: each answer must be the
    status `want`; each other answer goes to `bad` as `what` (with {label}: where it was asked)."""
    for label, base, src in cl.targets():
        w = current(base, jar, src)
        if w.status != want:
            bad.append(what.format(label=label) + f": {w!r}, wanted {want}")


@guarded("a session made on one instance works on every other and through HAProxy")
def check_session_sharing(cl):
    section("sessions, logout and revocation across instances")
    username, _ = cl.new_customer("share")
    bad = []
    for origin, base, src in cl.targets():
        r, jar = cl.login(base, username, cl.customer_password, src)
        if r.status != 201 or not jar.cookies:
            bad.append(f"login on {origin}: {r.status}, cookies {list(jar.cookies)}")
            continue
        sid = r.json["session"]["id"]
        for label, other, osrc in cl.targets():
            w = current(other, jar, osrc)
            if w.status != 200 or w.json["session"]["id"] != sid or w.json["user"]["username"] != username:
                bad.append(f"made on {origin}, used on {label}: {w!r}")
    print(f"     session cookie(s) set by a login: {sorted(jar.cookies)} (Secure; sent back by hand)")
    check("a session made on one instance works on every other and through HAProxy", not bad, "; ".join(bad))


@guarded("a logout on one instance is seen at once by the others")
def check_logout(cl):
    username, _ = cl.new_customer("logout")
    bad = []
    insts = cl.h.instances
    for n, (origin, base, src) in enumerate(cl.targets()):
        r, jar = cl.login(base, username, cl.customer_password, src)
        old = jar.copy()
        # Log out on the next instance round the ring, then replay the old cookie everywhere.
        where = insts[(n + 1) % len(insts)]
        d = request(where.url, "DELETE", "/api/v1/sessions/current", jar=jar, source=SRC_DIRECT)
        if d.status != 204:
            bad.append(f"logout on {where.name}: {d!r}")
        everywhere(cl, old, 401, f"made on {origin}, logged out on {where.name}, replayed on {{label}}", bad)
    check("a logout on one instance is seen at once by the others", not bad, "; ".join(bad))


@guarded("a revocation on one instance is seen at once by the others")
def check_revocation(cl):
    username, _ = cl.new_customer("revoke")
    A, B, C = cl.h.instances
    bad = []
    rx, x = cl.login(A.url, username, cl.customer_password, SRC_DIRECT)
    ry, y = cl.login(C.url, username, cl.customer_password, SRC_DIRECT)
    d = request(B.url, "DELETE", f"/api/v1/sessions/{ry.json['session']['id']}", jar=x, source=SRC_DIRECT)
    if d.status != 204:
        bad.append(f"DELETE /api/v1/sessions/{{id}} on {B.name}: {d!r}")
    everywhere(cl, y, 401, "revoked session on {label}", bad)
    everywhere(cl, x, 200, "the revoking session on {label}", bad)
    # "Log out everywhere else" on one instance.
    _, z1 = cl.login(cl.lb, username, cl.customer_password, SRC_LB)
    _, z2 = cl.login(A.url, username, cl.customer_password, SRC_DIRECT)
    live = request(B.url, "GET", "/api/v1/sessions?limit=100", jar=z1, source=SRC_DIRECT)
    others = len(live.json["items"]) - 1 if live.status == 200 else None   # x, z2 and the signup's
    d = request(C.url, "DELETE", "/api/v1/sessions", jar=z1, source=SRC_DIRECT)
    if d.status != 200 or (d.json or {}).get("revoked") != others:
        bad.append(f"DELETE /api/v1/sessions on {C.name}: {d!r} {d.raw[:100]!r}, {others} other live sessions")
    for who, jar, want in (("x", x, 401), ("z2", z2, 401), ("z1", z1, 200)):
        everywhere(cl, jar, want, f"session {who} on {{label}} after 'revoke all others'", bad)
    check("a revocation on one instance is seen at once by the others", not bad, "; ".join(bad))
