-- The counter, for real (v1.2): a code the customer's screen shows and the barista scans,
-- rewards redeemed at the till, mistakes undone by a compensating event, and a card history
-- that outlives the account it belonged to.

-- Card codes: 8 digits, good for 120 seconds, one live code per card (a new code ends the
-- previous one), unique among live codes. A redemption uses its code up. Not hashed: eight
-- digits are no secret worth hashing (any hash of them is reversed in a second), they live two
-- minutes, and a guess costs a staff account one of its 20 misses per 10 minutes.
CREATE TABLE card_codes (
    code       text PRIMARY KEY CHECK (code ~ '^[0-9]{8}$'),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX card_codes_user ON card_codes (user_id);
CREATE INDEX card_codes_expires_at ON card_codes (expires_at);

-- Voids: a mistake is undone by a new event of kind `voided` that names the event it takes
-- back (`voids`) and says why (`reason`); nothing is edited or deleted. The unique index is
-- what makes an event voided at most once, however many voids race for it.
ALTER TABLE stamp_events DROP CONSTRAINT stamp_events_kind_check;
ALTER TABLE stamp_events ADD CONSTRAINT stamp_events_kind_check CHECK (kind IN ('earned', 'redeemed', 'voided'));
ALTER TABLE stamp_events ADD COLUMN voids uuid REFERENCES stamp_events (id);
ALTER TABLE stamp_events ADD COLUMN reason text CHECK (char_length(reason) <= 200);
ALTER TABLE stamp_events ADD CONSTRAINT stamp_events_void_names_an_event CHECK ((kind = 'voided') = (voids IS NOT NULL));
CREATE UNIQUE INDEX stamp_events_voids ON stamp_events (voids) WHERE voids IS NOT NULL;
-- What a barista's recent events and the staff reports look for.
CREATE INDEX stamp_events_issued_by ON stamp_events (issued_by, seq DESC);

-- A deleted account's card history stays, anonymous, for the owner's reports: the events and
-- redemptions keep the id of an account that no longer exists (no name, phone or email is left
-- anywhere), as `issued_by` already keeps a deleted barista's.
ALTER TABLE stamp_events DROP CONSTRAINT stamp_events_user_id_fkey;
ALTER TABLE redemptions DROP CONSTRAINT redemptions_user_id_fkey;
