-- What anyone can make the server do (v1.2): a message costs the cafe money and a stranger's
-- attention, so every request that makes the server send one, or create data, is limited by
-- who asks and by whom it reaches, across every instance and under bursts.

-- One row per counted request of a limit (`bucket` names the limit and whom it counts: a phone
-- number, a client address, an account). Counted before the work, under the bucket's lock
-- (`claim_limit`), so a burst gets no more than the same requests one at a time.
CREATE TABLE limit_hits (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket text NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX limit_hits_bucket ON limit_hits (bucket, at);

-- Counts one request in `bucket` unless that would break one of its rules: at most
-- `maxima[i]` requests within `windows_seconds[i]` seconds, and at least `gap_seconds` since the
-- last one. Returns the new hit's id, or, when refused, NULL and the milliseconds until it
-- would be allowed. The bucket's advisory lock is held until the caller's transaction ends: a
-- claim inside a larger transaction (a phone code and its outbox row) counts only if that
-- commits, and the next claim of the bucket waits for it.
CREATE FUNCTION claim_limit(bucket_name text, maxima integer[], windows_seconds integer[], gap_seconds integer)
RETURNS TABLE (hit_id bigint, retry_after_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
    wait interval := interval '0';
    nth timestamptz;
    latest timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('limit:' || bucket_name, 0));
    FOR i IN 1 .. coalesce(array_length(maxima, 1), 0) LOOP
        -- The maxima[i]-th newest hit of the window must have left it before another fits.
        SELECT h.at INTO nth FROM limit_hits h
            WHERE h.bucket = bucket_name AND h.at > now() - make_interval(secs => windows_seconds[i])
            ORDER BY h.at DESC OFFSET maxima[i] - 1 LIMIT 1;
        IF FOUND THEN
            wait := greatest(wait, nth + make_interval(secs => windows_seconds[i]) - now());
        END IF;
    END LOOP;
    IF gap_seconds > 0 THEN
        SELECT max(h.at) INTO latest FROM limit_hits h WHERE h.bucket = bucket_name;
        IF latest > now() - make_interval(secs => gap_seconds) THEN
            wait := greatest(wait, latest + make_interval(secs => gap_seconds) - now());
        END IF;
    END IF;
    IF wait > interval '0' THEN
        RETURN QUERY SELECT NULL::bigint, ceil(extract(epoch FROM wait) * 1000)::bigint;
        RETURN;
    END IF;
    RETURN QUERY INSERT INTO limit_hits (bucket) VALUES (bucket_name) RETURNING limit_hits.id, NULL::bigint;
END
$$;

-- The outbox carries more kinds of mail now: address verification links and the notices of a
-- changed address or phone. A notice's facts (the new address, masked; when) ride in `payload`;
-- nothing secret ever does (links are made when the mail is sent, as before). Mail recipients
-- are written as the address's key (fields::email_key), so that "at most 3 mails per address
-- per hour" counts one address once however it was typed.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('password_reset', 'email_verification', 'email_changed', 'phone_changed', 'phone_code'));
ALTER TABLE outbox ADD COLUMN payload jsonb;
-- Each kind is a queue of its own (no kind waits behind a flood of another).
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (kind, next_attempt_at) WHERE state = 'pending';
-- What the purge of finished rows looks for.
CREATE INDEX outbox_finished ON outbox (finished_at) WHERE state <> 'pending';
