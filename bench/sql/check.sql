-- Correctness after S2: one line of name<TAB>value per check (0 means good where it says "bad").
SELECT 'cards', count(*) FROM cards;
SELECT 'total_balance', coalesce(sum(balance), 0) FROM cards;
SELECT 'events', count(*) FROM stamp_events;
SELECT 'stamps_in_events', coalesce(sum(count), 0) FROM stamp_events WHERE kind = 'earned';
-- A card whose balance is not its number of events (every S2 event is one stamp) or not the
-- sum of its events.
SELECT 'bad_balance_vs_events', count(*) FROM cards c
  LEFT JOIN (SELECT user_id, count(*) AS n,
                    sum(CASE kind WHEN 'earned' THEN count ELSE -count END) AS net
             FROM stamp_events GROUP BY user_id) e ON e.user_id = c.user_id
  WHERE c.balance <> coalesce(e.n, 0) OR c.balance <> coalesce(e.net, 0);
-- Events of a user without a card.
SELECT 'bad_orphan_events', count(*) FROM stamp_events e
  WHERE NOT EXISTS (SELECT 1 FROM cards c WHERE c.user_id = e.user_id);
-- balance_after repeated within a card (a lost update would show up here).
SELECT 'bad_repeated_balance_after', count(*) FROM (
  SELECT user_id, balance_after FROM stamp_events GROUP BY 1, 2 HAVING count(*) > 1) r;
-- The events of a card must be exactly balances 1..n, in the order they happened.
SELECT 'bad_event_sequence', count(*) FROM (
  SELECT user_id, balance_after, row_number() OVER (PARTITION BY user_id ORDER BY seq) AS k
  FROM stamp_events WHERE kind = 'earned') s WHERE balance_after <> k;
