-- Tables for the pgbench references, shaped like the real `sessions`, `cards` and
-- `stamp_events` (same columns and indexes; an integer key so that pgbench can pick one).
CREATE TABLE ref_sessions (
    id           integer PRIMARY KEY,
    key_hash     bytea NOT NULL UNIQUE,
    user_id      uuid NOT NULL,
    state        jsonb NOT NULL,
    remember     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    user_agent   text,
    ip           text
);
INSERT INTO ref_sessions (id, key_hash, user_id, state, expires_at, user_agent, ip)
SELECT i,
       sha256(convert_to('key-' || i, 'UTF8')),
       gen_random_uuid(),
       jsonb_build_object(
           'user_id', to_json(gen_random_uuid()::text)::text,
           'session_id', to_json(gen_random_uuid()::text)::text,
           'created_at', (extract(epoch FROM now()) * 1000000)::bigint::text,
           'expires_at', (extract(epoch FROM now() + interval '14 days') * 1000000)::bigint::text,
           'remember', 'false',
           'user_agent', to_json('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)'::text)::text,
           'ip', to_json('127.0.0.1'::text)::text),
       now() + interval '14 days',
       'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)',
       '127.0.0.1'
FROM generate_series(1, 10000) AS i;

CREATE TABLE ref_cards (
    id             integer PRIMARY KEY,
    balance        integer NOT NULL DEFAULT 0 CHECK (balance >= 0),
    total_earned   integer NOT NULL DEFAULT 0 CHECK (total_earned >= 0),
    total_redeemed integer NOT NULL DEFAULT 0 CHECK (total_redeemed >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (balance = total_earned - total_redeemed)
);
INSERT INTO ref_cards (id) SELECT generate_series(1, 64);

CREATE TABLE ref_events (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    card_id       integer NOT NULL REFERENCES ref_cards (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('earned', 'redeemed')),
    count         integer NOT NULL CHECK (count > 0),
    balance_after integer NOT NULL CHECK (balance_after >= 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ref_events_card ON ref_events (card_id, seq DESC);
VACUUM ANALYZE;
