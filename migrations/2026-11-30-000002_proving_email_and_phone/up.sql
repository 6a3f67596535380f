-- Proving who owns an email address or a phone number: password reset by email, phone
-- verification by SMS, and the outbox that carries both messages.

-- A phone number is proven once its holder typed the code we sent to it. Setting or changing
-- the phone makes it unproven again (the application does that with the change).
ALTER TABLE users ADD COLUMN phone_verified boolean NOT NULL DEFAULT false;

-- At most one *verified* holder per number, always. Whether an unverified account may list a
-- number another account lists too depends on STAMPCARD_REQUIRE_VERIFIED_PHONE (off: no, the
-- application refuses it under a per-number lock; on: yes, until one of them verifies it and
-- takes it), so the uniqueness of all holders cannot be an index any more.
DROP INDEX users_phone_key;
CREATE UNIQUE INDEX users_verified_phone_key ON users (phone) WHERE phone_verified;
CREATE INDEX users_phone ON users (phone);

-- Messages to send, written in the same transaction as what caused them, so that a mail or
-- SMS outage, or a crash, loses nothing, and a request never waits for a mail server. A row
-- holds no secret: the worker makes the token or code when it sends the message (and stores
-- only its hash), so a leaked outbox (or backup) hands out nothing.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('password_reset', 'phone_code')),
    -- An email address, in lower case (password_reset), or an E.164 number (phone_code).
    recipient       text NOT NULL,
    -- What the message is about: the phone verification it carries the code of.
    reference       uuid,
    -- pending, then sent; skipped when there turned out to be nothing to send (an address
    -- with no active account, one that had its three mails this hour, a phone changed since);
    -- failed when the worker gave up (after an hour of failed attempts).
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'skipped', 'failed')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    last_error      text
);
-- What the workers look for, and the per-address count of reset mails.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_recipient ON outbox (recipient, finished_at) WHERE state = 'sent';

-- Password reset tokens, by their SHA-256; the token itself is only ever in the mail.
CREATE TABLE password_reset_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX password_reset_tokens_user ON password_reset_tokens (user_id);

-- One row per code requested. The code's hash arrives when the worker sends it.
CREATE TABLE phone_verifications (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    phone        text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    code_hash    bytea,
    sent_at      timestamptz,
    -- Wrong codes typed; at 5 the code is dead.
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    verified_at  timestamptz
);
CREATE INDEX phone_verifications_user ON phone_verifications (user_id, created_at DESC);

-- A claim of the address limit alone (a password reset token is tried without an account),
-- with the same rules as claim_password_attempt's.
CREATE FUNCTION claim_address_attempt(address text, address_limit integer, address_window_seconds integer)
RETURNS TABLE (attempt_id bigint, retry_after_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
    window_start timestamptz := now() - make_interval(secs => address_window_seconds);
    recent bigint;
    oldest timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('login-ip:' || address, 0));
    SELECT count(*), min(failed_at) INTO recent, oldest
        FROM login_failures WHERE ip = address AND failed_at > window_start;
    IF recent >= address_limit THEN
        RETURN QUERY SELECT NULL::bigint, ceil(extract(epoch FROM oldest - window_start) * 1000)::bigint;
        RETURN;
    END IF;
    RETURN QUERY INSERT INTO login_failures (ip) VALUES (address) RETURNING login_failures.id, NULL::bigint;
END
$$;
