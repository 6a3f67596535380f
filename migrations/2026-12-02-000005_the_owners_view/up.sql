-- The owner's view (v1.2): an audit log nobody can edit, and what the reports need.

-- Who did what, when. Written in the same transaction as the change it records. Entries keep
-- ids, never names: a name is looked up when the log is read, and is gone with its account.
-- No foreign keys, for the same reason (an entry outlives its actor and its target).
CREATE TABLE audit_log (
    seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id        uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    at        timestamptz NOT NULL DEFAULT now(),
    actor_id  uuid,
    action    text NOT NULL,
    target_id uuid,
    detail    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
    ip        text
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq DESC);
CREATE INDEX audit_log_action ON audit_log (action, seq DESC);
CREATE INDEX audit_log_at ON audit_log (at);

-- How long an entry cannot be deleted: one row, set from STAMPCARD_AUDIT_RETENTION_DAYS by
-- `stampcard migrate` and `serve` when they run as the owner of this table (a server that runs
-- as a role without UPDATE here cannot shorten it; docs/operations.md).
CREATE TABLE audit_retention (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    days     integer NOT NULL CHECK (days >= 1)
);
INSERT INTO audit_retention (days) VALUES (365);

-- The database itself refuses to edit the log: no UPDATE, no TRUNCATE, and no DELETE of an
-- entry younger than the retention (the purge removes the older ones). A trigger, so that not
-- even the server's own connection can; only the table's owner could drop it, which is why
-- the server should run as another role.
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < now() - make_interval(days => (SELECT days FROM audit_retention)) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'entries are deleted only once older than audit_retention.days';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- The reports read events and signups by time. Both tables grow in time order, so a BRIN
-- index (a few pages for millions of rows, next to nothing per insert) finds a range's blocks;
-- a B-tree on stamp_events would cost every stamp another index insert.
CREATE INDEX stamp_events_created_at ON stamp_events USING brin (created_at);
CREATE INDEX users_created_at ON users USING brin (created_at);

-- A lock of an account is an audit entry, written by the statement that sets it. Otherwise
-- the rules of 2026-12-02-000002.
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
    failed integer;
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
        RETURNING t.locked_until, t.failures INTO locked, failed;
    IF NOT FOUND THEN
        SELECT t.locked_until INTO locked FROM login_throttles t WHERE t.account = account_key;
        RETURN QUERY SELECT NULL::bigint, NULL::timestamptz,
            greatest(0, ceil(extract(epoch FROM locked - now()) * 1000))::bigint, true;
        RETURN;
    END IF;
    -- Accounts only: a name nobody holds (`name:...`) is no account to lock.
    IF locked IS NOT NULL AND account_key LIKE 'user:%' THEN
        INSERT INTO audit_log (action, target_id, detail, ip)
            VALUES ('account.locked', substr(account_key, 6)::uuid,
                    jsonb_build_object('until', to_char(locked AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                       'failures', failed),
                    address);
    END IF;
    RETURN QUERY INSERT INTO login_failures (ip) VALUES (address)
        RETURNING login_failures.id, locked, NULL::bigint, NULL::boolean;
END
$$;
