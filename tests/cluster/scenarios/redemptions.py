"""20 redemptions at once over the instances and HAProxy on a card with one reward: one 201,
nineteen 409 insufficient_stamps; the card and the redemptions table agree."""
from stampcard_tools.httpc import Conn, ConnError

from harness.client import at_once
from harness.cluster import e164
from harness.report import check, guarded, section


@guarded("20 parallel redemptions over the instances spend exactly one reward")
def run(cl):
    section("20 parallel redemptions of one reward")
    _, phone = cl.new_customer("redeem")
    jar = cl.staff_jar()
    cl.stamp_once(jar, phone, count=10)
    targets = cl.targets()
    n = 20
    answers = at_once([Conn(base, source=src) for _, base, src in (targets[i % len(targets)] for i in range(n))],
                      lambda i, conn: conn.request("POST", "/api/v1/stamps/redemptions", body={"phone": phone},
                                                   jar=jar.copy()))
    out = [(targets[i % len(targets)][0], r) for i, r in enumerate(answers)]
    won = [(label, r) for label, r in out if not isinstance(r, ConnError) and r.status == 201]
    refused = [r for _, r in out if not isinstance(r, ConnError) and r.status == 409 and r.code == "insufficient_stamps"]
    other = [(label, r) for label, r in out if isinstance(r, ConnError) or r.status not in (201, 409)
             or (r.status == 409 and r.code != "insufficient_stamps")]
    card = cl.card_row(phone)
    nred = cl.h.pg.query(f"SELECT count(*) FROM redemptions r JOIN users u ON u.id = r.user_id "
                         f"WHERE u.phone = '{e164(phone)}'")[0][0]
    check("20 parallel redemptions over the instances spend exactly one reward",
          len(won) == 1 and len(refused) == n - 1 and not other and card == (0, 10, 10) and nred == "1",
          f"{len(won)}x 201 (on {[label for label, _ in won]}), {len(refused)}x 409 insufficient_stamps, other {other}; "
          f"card (balance, earned, redeemed) = {card}, {nred} redemption row(s)")
