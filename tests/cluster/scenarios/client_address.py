"""The client address: through HAProxy, the server believes the X-Forwarded-For entry HAProxy
wrote; a forged X-Forwarded-For is ignored, through HAProxy and straight to an instance."""
from stampcard_tools.httpc import Jar, request

from harness.cluster import SRC_DIRECT, SRC_LB
from harness.report import check, guarded


@guarded("the client address: HAProxy's X-Forwarded-For entry is believed, a forged one is not")
def run(cl):
    username, _ = cl.new_customer("xff")
    A = cl.A
    forged = {"X-Forwarded-For": "203.0.113.9"}
    seen = {}
    for label, base, src, headers in (("through HAProxy", cl.lb, SRC_LB, None),
                                      ("through HAProxy, forged header", cl.lb, SRC_LB, forged),
                                      (f"straight to {A.name}, forged header", A.url, SRC_DIRECT, forged)):
        jar = Jar()
        r = request(base, "POST", "/api/v1/sessions", jar=jar, source=src, headers=headers,
                    body={"username": username, "password": cl.customer_password})
        seen[label] = (r.json or {}).get("session", {}).get("ip") if r.status == 201 else repr(r)
    want = {"through HAProxy": SRC_LB, "through HAProxy, forged header": SRC_LB,
            f"straight to {A.name}, forged header": SRC_DIRECT}
    check("the client address: HAProxy's X-Forwarded-For entry is believed, a forged one is not",
          seen == want, f"session ip seen: {seen}; expected {want}")
