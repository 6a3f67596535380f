-- A stolen cookie is not an account (v1.2): each session remembers when its owner last proved
-- the password in it; email addresses are verified, compared by one rule, and have tokens of
-- their own; password attempts belong to the account, not to its current name.

-- When the owner last proved the password in this session: at signup, login, password change,
-- or re-authentication. Sessions from before knew only their login.
ALTER TABLE sessions ADD COLUMN authenticated_at timestamptz;
UPDATE sessions SET authenticated_at = created_at;
ALTER TABLE sessions ALTER COLUMN authenticated_at SET NOT NULL, ALTER COLUMN authenticated_at SET DEFAULT now();

-- `email_key` is the address as it is compared: Unicode case folding after NFKC, computed by the
-- application (`fields::email_key`), the one rule for code and database alike; its unique index
-- is what makes two accounts of one address impossible, however the address was typed. Here
-- it starts as PostgreSQL's NFKC and lower(), which is the same rule for the addresses our
-- validator ever accepted (ASCII local parts); `stampcard migrate` then recomputes the key of any
-- non-ASCII address in Rust (db::fold_stored_emails).
ALTER TABLE users ADD COLUMN email_key text;
UPDATE users SET email_key = lower(normalize(email, NFKC)) WHERE email IS NOT NULL;
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (email_key);
ALTER TABLE users ADD CONSTRAINT users_email_and_key CHECK ((email IS NULL) = (email_key IS NULL));
-- Setting or changing the address makes it unproven; addresses from before v1.2 count as
-- verified (they were taken on trust, as the contract says).
ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;
UPDATE users SET email_verified = true WHERE email IS NOT NULL;

-- Links that prove an address, by their SHA-256; the token itself is only ever in the mail. A
-- token proves the address it was sent to (`email_key`), and only while it is still the user's.
CREATE TABLE email_verification_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email_key  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX email_verification_tokens_user ON email_verification_tokens (user_id);

-- The per-account count of password attempts is the account's: keyed `user:<id>` for an
-- account, whatever it is called now, and `name:<username key>` for a name that belongs to no
-- account. Renaming moves nothing, and a new account that takes a freed name starts clean.
ALTER TABLE login_throttles RENAME COLUMN username_key TO account;
UPDATE login_throttles t SET account = 'user:' || u.id FROM users u WHERE u.username_key = t.account;
UPDATE login_throttles SET account = 'name:' || account WHERE account NOT LIKE 'user:%';

-- Same rules as before (2026-11-30-000001), on the renamed column (whose name its parameter
-- can no longer share: plpgsql would find the reference ambiguous).
DROP FUNCTION claim_password_attempt(text, text, integer, integer, integer);
CREATE FUNCTION claim_password_attempt(
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
