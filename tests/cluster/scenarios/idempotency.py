"""One Idempotency-Key sent to two instances at the same moment (24 times): one effect; the other
answer is the replay (same body, `Idempotent-Replayed: true`) or 409 idempotency_key_in_progress
(and a retry after it the replay); one event per key in the database."""
import uuid

from stampcard_tools.httpc import Conn, ConnError, request

from harness.client import at_once
from harness.cluster import SRC_DIRECT, e164
from harness.report import check, guarded, section


def replayed(r):
    return r.status == 201 and r.header("Idempotent-Replayed") == "true"


@guarded("one Idempotency-Key sent to two instances at the same moment has one effect")
def run(cl):
    section("one Idempotency-Key on two instances at once")
    _, phone = cl.new_customer("idem")
    jar = cl.staff_jar()
    insts = cl.h.instances
    rounds = 24
    bad, replays, in_progress = [], 0, 0
    effect_ids = []
    for k in range(rounds):
        pair = (insts[k % 3], insts[(k + 1) % 3])
        key = f"race-{uuid.uuid4()}"
        body = {"phone": phone, "count": 1}
        out = at_once([Conn(i.url, source=SRC_DIRECT) for i in pair],
                      lambda j, conn: conn.request("POST", "/api/v1/stamps", body=body, jar=jar.copy(),
                                                   headers={"Idempotency-Key": key}))
        if any(isinstance(o, ConnError) for o in out):
            bad.append(f"{key}: {out}")
            continue
        firsts = [o for o in out if o.status == 201 and o.header("Idempotent-Replayed") != "true"]
        if len(firsts) != 1:
            bad.append(f"{key}: {len(firsts)} first answers ({out})")
            continue
        first = firsts[0]
        effect_ids.append(first.json["event"]["id"])
        other = out[1] if out[0] is first else out[0]
        if replayed(other):
            replays += 1
            if other.json != first.json:
                bad.append(f"{key}: the replay's body differs")
        elif other.status == 409 and other.code == "idempotency_key_in_progress":
            in_progress += 1
            # Once the first has finished, the same request is a replay.
            again = request(pair[1].url, "POST", "/api/v1/stamps", body=body, jar=jar.copy(),
                            headers={"Idempotency-Key": key}, source=SRC_DIRECT)
            if not replayed(again) or again.json != first.json:
                bad.append(f"{key}: after 409 in progress, the retry answered {again!r}")
        else:
            bad.append(f"{key}: the duplicate answered {other!r}")
    events = cl.db_events([phone])[e164(phone)]
    ids = [e[0] for e in events]
    if sorted(ids) != sorted(effect_ids) or len(events) != rounds:
        bad.append(f"{len(events)} events in the history for {rounds} keys; ids match the answers: "
                   f"{sorted(ids) == sorted(effect_ids)}")
    card = cl.card_row(phone)
    if card is None or card[0] != rounds:
        bad.append(f"card balance {card}, expected {rounds}")
    check("one Idempotency-Key sent to two instances at the same moment has one effect", not bad,
          f"{rounds} keys: the duplicate got the replay {replays}x, 409 idempotency_key_in_progress "
          f"{in_progress}x; {len(events)} events" + ("; " + "; ".join(bad[:5]) if bad else ""))
