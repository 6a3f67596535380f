-- Reference (b): the stamp-like write: one card of 64 gains a stamp and its event is logged,
-- in one transaction (what POST /api/v1/stamps does in one statement).
\set card random(1, 64)
BEGIN;
UPDATE ref_cards SET balance = balance + 1, total_earned = total_earned + 1, updated_at = now()
  WHERE id = :card RETURNING balance \gset
INSERT INTO ref_events (card_id, kind, count, balance_after) VALUES (:card, 'earned', 1, :balance);
COMMIT;
