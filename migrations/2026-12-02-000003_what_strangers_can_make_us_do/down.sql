DROP INDEX outbox_finished;
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
ALTER TABLE outbox DROP COLUMN payload;
DELETE FROM outbox WHERE kind NOT IN ('password_reset', 'phone_code');
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('password_reset', 'phone_code'));
DROP FUNCTION claim_limit(text, integer[], integer[], integer);
DROP TABLE limit_hits;
