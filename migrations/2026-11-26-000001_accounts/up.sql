-- Accounts, server-side sessions and login throttling.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    username      text NOT NULL,
    -- NFKC + Unicode lower case of the username, computed by the application (the cluster's
    -- C locale would only fold ASCII). Its unique index, not a check before the INSERT, is
    -- what makes two parallel signups of "Kim" and "kim" end with exactly one account.
    username_key  text NOT NULL,
    email         text,
    -- E.164, e.g. +821012345678.
    phone         text,
    password_hash text NOT NULL,
    role          text NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'staff', 'admin')),
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (username_key);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_phone_key ON users (phone);

CREATE TABLE sessions (
    -- The public id shown in session lists; knowing it does not let anyone use the session.
    id           uuid PRIMARY KEY,
    -- SHA-256 of the random key in the cookie. The key itself is never stored, so a leaked
    -- table (or backup) does not hand out live sessions.
    key_hash     bytea NOT NULL UNIQUE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state        jsonb NOT NULL DEFAULT '{}',
    remember     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- Written at most once a minute per session, not on every request.
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    -- Absolute lifetime, fixed at creation: activity never extends a session.
    expires_at   timestamptz NOT NULL,
    user_agent   text,
    ip           text
);
CREATE INDEX sessions_user_id ON sessions (user_id, created_at DESC);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Consecutive failed logins per account name (known or not, so that throttling reveals
-- nothing about which accounts exist). Kept in PostgreSQL so that every instance agrees.
CREATE TABLE login_throttles (
    username_key  text PRIMARY KEY,
    failures      integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per failed login from a client address, for the sliding 15-minute window.
CREATE TABLE login_failures (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ip         text NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_ip ON login_failures (ip, failed_at);
