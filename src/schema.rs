// @generated automatically by Diesel CLI.

diesel::table! {
    audit_log (seq) {
        seq -> Int8,
        id -> Uuid,
        at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        action -> Text,
        target_id -> Nullable<Uuid>,
        detail -> Jsonb,
        ip -> Nullable<Text>,
    }
}

diesel::table! {
    audit_retention (only_row) {
        only_row -> Bool,
        days -> Int4,
    }
}

diesel::table! {
    card_codes (code) {
        code -> Text,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    cards (user_id) {
        user_id -> Uuid,
        balance -> Int4,
        total_earned -> Int4,
        total_redeemed -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    email_verification_tokens (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        email_key -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    ended_sessions (key_hash) {
        key_hash -> Bytea,
        user_id -> Uuid,
        reason -> Text,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (user_id, endpoint, key) {
        user_id -> Uuid,
        endpoint -> Text,
        key -> Text,
        fingerprint -> Bytea,
        status -> Nullable<Int2>,
        body -> Nullable<Jsonb>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    limit_hits (id) {
        id -> Int8,
        bucket -> Text,
        at -> Timestamptz,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Int8,
        ip -> Text,
        failed_at -> Timestamptz,
    }
}

diesel::table! {
    login_throttles (account) {
        account -> Text,
        failures -> Int4,
        locked_until -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    outbox (id) {
        id -> Int8,
        kind -> Text,
        recipient -> Text,
        reference -> Nullable<Uuid>,
        state -> Text,
        created_at -> Timestamptz,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        payload -> Nullable<Jsonb>,
    }
}

diesel::table! {
    password_reset_tokens (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    phone_verifications (id) {
        id -> Uuid,
        user_id -> Uuid,
        phone -> Text,
        created_at -> Timestamptz,
        code_hash -> Nullable<Bytea>,
        sent_at -> Nullable<Timestamptz>,
        attempts -> Int4,
        verified_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    redemptions (id) {
        id -> Uuid,
        user_id -> Uuid,
        stamps_used -> Int4,
        issued_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        key_hash -> Bytea,
        user_id -> Uuid,
        state -> Jsonb,
        remember -> Bool,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
        authenticated_at -> Timestamptz,
    }
}

diesel::table! {
    stamp_events (seq) {
        seq -> Int8,
        id -> Uuid,
        user_id -> Uuid,
        kind -> Text,
        count -> Int4,
        balance_after -> Int4,
        issued_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        voids -> Nullable<Uuid>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        username -> Text,
        username_key -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        is_active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        phone_verified -> Bool,
        email_key -> Nullable<Text>,
        email_verified -> Bool,
    }
}

diesel::joinable!(card_codes -> users (user_id));
diesel::joinable!(cards -> users (user_id));
diesel::joinable!(email_verification_tokens -> users (user_id));
diesel::joinable!(idempotency_keys -> users (user_id));
diesel::joinable!(password_reset_tokens -> users (user_id));
diesel::joinable!(phone_verifications -> users (user_id));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_log,
    audit_retention,
    card_codes,
    cards,
    email_verification_tokens,
    ended_sessions,
    idempotency_keys,
    limit_hits,
    login_failures,
    login_throttles,
    outbox,
    password_reset_tokens,
    phone_verifications,
    redemptions,
    sessions,
    stamp_events,
    users,
);
