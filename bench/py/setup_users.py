#!/usr/bin/env python3
"""Signs up the customers over HTTP (in parallel: each signup is a bcrypt hash), logs the staff
user in, and prints {"staff_cookie", "customers": [{"username", "phone", "e164", "cookie"}]} as
JSON. With --lua-dir, also writes the Lua tables wrk's scripts cycle through there: phones.lua
(`phones = {...}`) and cookies.lua (`cookies = {...}`)."""
import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from stampcard_tools.httpc import Jar, request

COOKIE = "stampcard_session"   # the session cookie's name in dev mode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--customers", type=int, default=64)
    ap.add_argument("--staff-password", required=True)
    ap.add_argument("--customer-password", required=True)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--lua-dir", help="write phones.lua and cookies.lua here, for bench/wrk/")
    args = ap.parse_args()

    def signup(n):
        username = f"bench_customer_{n:02d}"
        phone = f"010-2000-{n:04d}"
        for _ in range(20):
            jar = Jar()
            r = request(args.base, "POST", "/api/v1/users", jar=jar, timeout=30,
                        body={"username": username, "password": args.customer_password, "phone": phone})
            # A busy server (more bcrypt work queued than it can do in a few seconds) says when
            # to come back, as a real client would.
            if r.status != 503:
                break
            time.sleep(float(r.header("Retry-After") or "1"))
        if r.status != 201:
            raise SystemExit(f"signup of {username} answered {r.status}: {r.json}")
        cookie = jar.cookies.get(COOKIE)
        if not cookie:
            raise SystemExit(f"signup of {username} set no session cookie")
        return {"username": username, "phone": phone, "e164": r.json["phone"], "cookie": cookie}

    with ThreadPoolExecutor(args.parallel) as pool:
        customers = list(pool.map(signup, range(args.customers)))

    jar = Jar()
    r = request(args.base, "POST", "/api/v1/sessions", jar=jar, timeout=30,
                body={"username": "staff", "password": args.staff_password})
    if r.status != 201:
        raise SystemExit(f"staff login answered {r.status}: {r.json}")
    staff_cookie = jar.cookies.get(COOKIE)
    for who, cookie, role in (("staff", staff_cookie, "staff"), ("customer 0", customers[0]["cookie"], "customer")):
        r = request(args.base, "GET", "/api/v1/users/me", jar=Jar({COOKIE: cookie}), timeout=30)
        if r.status != 200 or (r.json or {}).get("role") != role:
            raise SystemExit(f"whoami of {who} answered {r.status}: {r.json}")
    json.dump({"staff_cookie": staff_cookie, "customers": customers}, sys.stdout)
    if args.lua_dir:
        for table, field in (("phones", "phone"), ("cookies", "cookie")):
            with open(os.path.join(args.lua_dir, f"{table}.lua"), "w") as f:
                f.write(f"{table} = {{" + ", ".join('"%s"' % c[field] for c in customers) + "}\n")


if __name__ == "__main__":
    main()
