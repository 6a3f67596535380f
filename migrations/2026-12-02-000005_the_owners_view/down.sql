-- Back to 2026-12-02-000002's function, without the audit entry.
CREATE OR REPLACE FUNCTION claim_password_attempt(
    account_key text,
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
    PERFORM pg_advisory_xact_lock(hashtextextended('login-ip:' || address, 0));
    SELECT count(*), min(failed_at) INTO recent, oldest
        FROM login_failures WHERE ip = address AND failed_at > window_start;
    IF recent >= address_limit THEN
        RETURN QUERY SELECT NULL::bigint, NULL::timestamptz,
            ceil(extract(epoch FROM oldest - window_start) * 1000)::bigint, false;
        RETURN;
    END IF;
    INSERT INTO login_throttles AS t (account, failures, locked_until, updated_at)
        VALUES (account_key, 1, NULL, now())
        ON CONFLICT (account) DO UPDATE SET
            failures = t.failures + 1,
            locked_until = CASE WHEN t.failures + 1 >= failures_before_lock
                THEN now() + least(3600, 60 * power(2, least(t.failures + 1 - failures_before_lock, 12)))
                    * interval '1 second'
                END,
            updated_at = now()
        WHERE t.locked_until IS NULL OR t.locked_until <= now()
        RETURNING t.locked_until INTO locked;
    IF NOT FOUND THEN
        SELECT t.locked_until INTO locked FROM login_throttles t WHERE t.account = account_key;
        RETURN QUERY SELECT NULL::bigint, NULL::timestamptz,
            greatest(0, ceil(extract(epoch FROM locked - now()) * 1000))::bigint, true;
        RETURN;
    END IF;
    RETURN QUERY INSERT INTO login_failures (ip) VALUES (address)
        RETURNING login_failures.id, locked, NULL::bigint, NULL::boolean;
END
$$;
DROP INDEX users_created_at;
DROP INDEX stamp_events_created_at;
DROP TABLE audit_log;
DROP FUNCTION audit_log_is_append_only();
DROP TABLE audit_retention;
