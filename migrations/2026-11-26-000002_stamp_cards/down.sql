DROP TABLE idempotency_keys;
DROP TABLE redemptions;
DROP TABLE stamp_events;
DROP TABLE cards;
