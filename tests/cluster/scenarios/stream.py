"""The live card across instances: a customer's stream, opened through HAProxy, shows a stamp
made directly on each instance within a second (so on at least two instances other than the
one holding the stream), and stays open past HAProxy's 15 s server timeout on its heartbeats."""
import http.client
import json
import queue
import threading
import time

from stampcard_tools.httpc import request

from harness.cluster import SRC_DIRECT, SRC_LB
from harness.report import check, guarded, section

WITHIN = 1.0         # the contract: a change reaches the stream within a second
QUIET = 20.0         # longer than deploy/haproxy.cfg's `timeout server 15s`
CLOSED = object()


class EventStream:
    """GET /api/v1/stamps/stream through `base`, read by a thread into a queue of card events
    (a read that times out leaves Python's socket file unusable, so nothing here times out: the
    waiting is on the queue). Comments (the heartbeats) are counted."""

    def __init__(self, base, jar, source):
        host, port = base.split("//", 1)[1].split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60, source_address=(source, 0))
        self.conn.request("GET", "/api/v1/stamps/stream", headers={"Cookie": jar.header()})
        self.resp = self.conn.getresponse()
        if self.resp.status != 200:
            raise RuntimeError(f"the stream answered {self.resp.status}: {self.resp.read()[:300]!r}")
        self.cards = queue.Queue()
        self.heartbeats = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        event, data = None, []
        try:
            for raw in self.resp.fp:
                line = raw.decode().rstrip("\r\n")
                if line.startswith(":"):
                    self.heartbeats += 1
                elif line.startswith("event: "):
                    event = line[len("event: "):]
                elif line.startswith("data: "):
                    data.append(line[len("data: "):])
                elif line == "":
                    if event == "card":
                        self.cards.put(json.loads("".join(data)))
                    event, data = None, []
        except (OSError, ValueError):
            pass
        self.cards.put(CLOSED)

    def next_card(self, timeout):
        """The next card event's card within `timeout` seconds, or None."""
        try:
            card = self.cards.get(timeout=timeout)
        except queue.Empty:
            return None
        if card is CLOSED:
            raise RuntimeError("the stream was closed")
        return card

    def close(self):
        self.conn.close()


@guarded("a stamp on any instance reaches a stream held through HAProxy within a second")
def run(cl):
    section("the live card through HAProxy")
    username, phone = cl.new_customer("stream")
    _, jar = cl.login(cl.lb, username, cl.customer_password, SRC_LB)
    staff = {i.name: cl.staff_jar(i.url, SRC_DIRECT) for i in cl.h.instances}
    stream = EventStream(cl.lb, jar, SRC_LB)
    try:
        first = stream.next_card(5)
        check("the stream opens with the card", first is not None and first.get("balance") == 0, f"{first}")
        delays, answered_in, balance = {}, {}, 0
        for instance in cl.h.instances:
            stamped_at = time.monotonic()
            r = request(instance.url, "POST", "/api/v1/stamps", jar=staff[instance.name].copy(), source=SRC_DIRECT,
                        body={"phone": phone, "count": 1})
            answered_in[instance.name] = time.monotonic() - stamped_at
            if r.status != 201:
                raise RuntimeError(f"a stamp on {instance.name} answered {r.status}: {r.raw[:300]!r}")
            balance += 1
            card = stream.next_card(5)
            delays[instance.name] = time.monotonic() - stamped_at
            if card is None or card.get("balance") != balance:
                raise RuntimeError(f"after the stamp on {instance.name} the stream showed {card}")
        slowest = max(delays.values())
        check("a stamp on any instance reaches a stream held through HAProxy within a second", slowest <= WITHIN,
              ", ".join(f"{name} {delay * 1000:.0f} ms (the stamp answered in {answered_in[name] * 1000:.0f} ms)"
                        for name, delay in delays.items()))
        # Quiet for longer than HAProxy's server timeout: only the heartbeats keep it open.
        beats = stream.heartbeats
        quiet = stream.next_card(QUIET)
        r = request(cl.A.url, "POST", "/api/v1/stamps", jar=staff[cl.A.name].copy(), source=SRC_DIRECT,
                    body={"phone": phone, "count": 1})
        card = stream.next_card(5) if r.status == 201 else None
        check("a quiet stream outlives HAProxy's 15 s server timeout on its heartbeats",
              quiet is None and card is not None and card.get("balance") == balance + 1,
              f"after {QUIET:.0f} s quiet ({stream.heartbeats - beats} heartbeats): {card}")
    finally:
        stream.close()
