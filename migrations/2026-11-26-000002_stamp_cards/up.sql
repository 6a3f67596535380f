-- The stamp card: as trustworthy as money. A balance changes only in one statement that
-- updates the card and appends its event together.

CREATE TABLE cards (
    user_id        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- The CHECK is the last line of defence: even a buggy query cannot redeem stamps that
    -- are not there.
    balance        integer NOT NULL DEFAULT 0 CHECK (balance >= 0),
    total_earned   integer NOT NULL DEFAULT 0 CHECK (total_earned >= 0),
    total_redeemed integer NOT NULL DEFAULT 0 CHECK (total_redeemed >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (balance = total_earned - total_redeemed)
);

-- Append-only history. `seq` orders events and drives cursor paging: new events get higher
-- numbers, so a page boundary never moves while stamps are added.
CREATE TABLE stamp_events (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            uuid NOT NULL UNIQUE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('earned', 'redeemed')),
    count         integer NOT NULL CHECK (count > 0),
    balance_after integer NOT NULL CHECK (balance_after >= 0),
    issued_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stamp_events_user ON stamp_events (user_id, seq DESC);

CREATE TABLE redemptions (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stamps_used integer NOT NULL CHECK (stamps_used > 0),
    issued_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX redemptions_user ON redemptions (user_id);

-- Idempotency-Key records, scoped to the caller and the endpoint. `status` is NULL while
-- the first request runs; the stored response is replayed for at least 24 hours.
CREATE TABLE idempotency_keys (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint    text NOT NULL,
    key         text NOT NULL,
    fingerprint bytea NOT NULL,
    status      smallint,
    body        jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, endpoint, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
