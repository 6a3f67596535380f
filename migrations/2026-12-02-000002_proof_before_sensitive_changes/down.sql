ALTER TABLE login_throttles RENAME COLUMN account TO username_key;
UPDATE login_throttles SET username_key = substr(username_key, 6) WHERE username_key LIKE 'name:%';
DELETE FROM login_throttles WHERE username_key LIKE 'user:%';
DROP TABLE email_verification_tokens;
ALTER TABLE users DROP CONSTRAINT users_email_and_key, DROP COLUMN email_verified;
DROP INDEX users_email_key;
ALTER TABLE users DROP COLUMN email_key;
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
ALTER TABLE sessions DROP COLUMN authenticated_at;
-- The function as 2026-11-30-000001 made it.
DROP FUNCTION claim_password_attempt(text, text, integer, integer, integer);
CREATE FUNCTION claim_password_attempt(
    account text,
    address text,
    failures_before_lock integer,
    address_limit integer,
    address_window_seconds integer
) RETURNS TABLE (attempt_id bigint, lock_set timestamptz, retry_after_ms bigint, account_locked boolean)
LANGUAGE plpgsql AS $$
DECLARE
    window_start timestamptz := now() - make_interval(secs => address_window_seconds);
    recent bigint;
    oldest timestamptz;
    locked timestamptz;
BEGIN
    -- Attempts from one address queue here, so that counting the window and adding to it is
    -- one step; the account's row lock below does the same per account. Everyone takes the
    -- address first, then the account, so nothing deadlocks.
    PERFORM pg_advisory_xact_lock(hashtextextended('login-ip:' || address, 0));
    SELECT count(*), min(failed_at) INTO recent, oldest
        FROM login_failures WHERE ip = address AND failed_at > window_start;
    IF recent >= address_limit THEN
        RETURN QUERY SELECT NULL::bigint, NULL::timestamptz,
            ceil(extract(epoch FROM oldest - window_start) * 1000)::bigint, false;
        RETURN;
    END IF;
    -- The attempt that makes `failures_before_lock` in a row locks the account at once; a
    -- success takes the lock away again. Once a lock has run out, each new attempt locks again,
    -- for twice as long, up to an hour. A locked row is left alone.
    INSERT INTO login_throttles AS t (username_key, failures, locked_until, updated_at)
        VALUES (account, 1, NULL, now())
        ON CONFLICT (username_key) DO UPDATE SET
            failures = t.failures + 1,
            locked_until = CASE WHEN t.failures + 1 >= failures_before_lock
                THEN now() + least(3600, 60 * power(2, least(t.failures + 1 - failures_before_lock, 12)))
                    * interval '1 second'
                END,
            updated_at = now()
        WHERE t.locked_until IS NULL OR t.locked_until <= now()
        RETURNING t.locked_until INTO locked;
    IF NOT FOUND THEN
        SELECT t.locked_until INTO locked FROM login_throttles t WHERE t.username_key = account;
        RETURN QUERY SELECT NULL::bigint, NULL::timestamptz,
            greatest(0, ceil(extract(epoch FROM locked - now()) * 1000))::bigint, true;
        RETURN;
    END IF;
    RETURN QUERY INSERT INTO login_failures (ip) VALUES (address)
        RETURNING login_failures.id, locked, NULL::bigint, NULL::boolean;
END
$$;
