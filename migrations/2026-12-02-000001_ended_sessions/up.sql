-- Why a session ended, when it was not its owner who ended it: a cookie that names a deleted
-- session is anonymous either way, but the person holding it deserves to know that an admin
-- deactivated the account, rather than being sent to a login that will not work. Only the
-- key's hash is kept (as in `sessions`), until the session would have expired anyway.
CREATE TABLE ended_sessions (
    key_hash   bytea PRIMARY KEY,
    user_id    uuid NOT NULL,
    reason     text NOT NULL CHECK (reason IN ('account_deactivated')),
    expires_at timestamptz NOT NULL
);
CREATE INDEX ended_sessions_user ON ended_sessions (user_id);
CREATE INDEX ended_sessions_expires_at ON ended_sessions (expires_at);
