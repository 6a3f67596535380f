#!/usr/bin/env python3
"""Signs up the customers over HTTP (in parallel: each signup is a bcrypt hash), logs the staff
user in, and prints {"staff_cookie", "customers": [{"username", "phone", "cookie"}]} as JSON."""
import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from httpc import Client, session_cookie


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--customers", type=int, default=64)
    ap.add_argument("--staff-password", required=True)
    ap.add_argument("--customer-password", required=True)
    ap.add_argument("--parallel", type=int, default=8)
    args = ap.parse_args()

    def signup(n):
        username = f"bench_customer_{n:02d}"
        phone = f"010-2000-{n:04d}"
        for _ in range(20):
            status, headers, body = Client(args.base).request(
                "POST", "/api/v1/users", {"username": username, "password": args.customer_password, "phone": phone})
            # A busy server (more bcrypt work queued than it can do in a few seconds) says when
            # to come back, as a real client would.
            if status != 503:
                break
            time.sleep(float(dict((k.lower(), v) for k, v in headers).get("retry-after", "1")))
        if status != 201:
            raise SystemExit(f"signup of {username} answered {status}: {body}")
        cookie = session_cookie(headers)
        if not cookie:
            raise SystemExit(f"signup of {username} set no session cookie")
        return {"username": username, "phone": phone, "e164": body["phone"], "cookie": cookie}

    with ThreadPoolExecutor(args.parallel) as pool:
        customers = list(pool.map(signup, range(args.customers)))

    client = Client(args.base)
    status, headers, body = client.request(
        "POST", "/api/v1/sessions", {"username": "staff", "password": args.staff_password})
    if status != 201:
        raise SystemExit(f"staff login answered {status}: {body}")
    staff_cookie = session_cookie(headers)
    for who, cookie, role in (("staff", staff_cookie, "staff"), ("customer 0", customers[0]["cookie"], "customer")):
        status, _, body = client.request("GET", "/api/v1/users/me", cookie=cookie)
        if status != 200 or body.get("role") != role:
            raise SystemExit(f"whoami of {who} answered {status}: {body}")
    json.dump({"staff_cookie": staff_cookie, "customers": customers}, sys.stdout)


if __name__ == "__main__":
    main()
