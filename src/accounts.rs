//! Account rules shared by the HTTP routes and the command line: what a valid new account is,
//! and how it is stored.

use diesel::{Connection, PgConnection};
use serde_json::json;
use uuid::Uuid;
use validator::ValidationErrors;

use crate::auth::{password, password_rules};
use crate::config::Config;
use crate::error::ApiError;
use crate::fields::{self, normalise_username, username_key, FieldErrors, Phone};
use crate::models::audit::{self, Action, Actor};
use crate::models::outbox::{self, Kind, Outgoing};
use crate::models::user::{NewUser, PhoneHolders, ProfileChange, Role, User};
use crate::models::{email, reset};

/// The rules of a new account, every one at once (the password's included), so that a client
/// sees every bad field in one 422. A field that is `None` was not given.
pub fn check_new_account(
    username: Option<&str>,
    password: Option<&str>,
    email: Option<&str>,
    phone: Option<&Phone>,
) -> Result<(), ValidationErrors> {
    let mut errors = FieldErrors::default();
    let normalised = normalise_username(username.unwrap_or(""));
    errors.required("username", username, fields::validate_username);
    errors.required("password", password, |p| password_rules::check(p, &normalised));
    errors.optional("email", email, fields::validate_email);
    errors.optional("phone", phone, fields::validate_phone);
    errors.finish()
}

/// The row of a new account whose fields passed [`check_new_account`], once its password is
/// hashed.
pub fn new_user(
    username: &str,
    email: Option<&str>,
    phone: Option<Phone>,
    password_hash: String,
    role: Role,
) -> NewUser {
    let username = normalise_username(username);
    NewUser {
        id: Uuid::new_v4(),
        username_key: username_key(&username),
        username,
        email: email.map(|e| e.trim().to_owned()),
        email_key: email.map(fields::email_key),
        phone: phone.and_then(Phone::into_e164),
        password_hash,
        role,
    }
}

/// What a profile change really changes, against the stored user: a value equal to the stored
/// one after the field's normalisation (NFKC for a username, folded case for an email, E.164
/// for a phone) is no change. `Some(None)` clears the email or phone.
#[derive(Debug, Default, Clone)]
pub struct ProfileUpdate {
    pub username: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
}

impl ProfileUpdate {
    /// The changes of a request against `user`: `username`, `email` (`None`: not sent,
    /// `Some(None)`: cleared) and `phone` (E.164) as the request gave them.
    pub fn against(
        user: &User,
        username: Option<&str>,
        email: Option<Option<&str>>,
        phone: Option<Option<String>>,
    ) -> Self {
        let username = username.map(normalise_username).filter(|name| *name != user.username);
        let email =
            email.filter(|e| e.map(fields::email_key) != user.email_key).map(|e| e.map(|e| e.trim().to_owned()));
        let phone = phone.filter(|p| *p != user.phone);
        Self { username, email, phone }
    }

    /// Whether it changes anything a stolen cookie must not: every field here is sensitive.
    pub fn is_empty(&self) -> bool {
        self.username.is_none() && self.email.is_none() && self.phone.is_none()
    }
}

/// Changes `user`'s profile, in one transaction: the values must be free (409 naming each one
/// that is not); a new address is unproven, ends the account's reset and verification links,
/// and is sent a link of its own; the old address, if it was proven, hears of the change, and
/// the proven address hears of a phone change.
pub fn change_profile(
    conn: &mut PgConnection,
    actor: Actor,
    user: &User,
    update: ProfileUpdate,
    holders: PhoneHolders,
) -> Result<User, ApiError> {
    conn.transaction(|conn| {
        let username_changed = update.username.is_some();
        let email_changed = update.email.is_some();
        let phone_changed = update.phone.is_some();
        let change = ProfileChange {
            username_key: update.username.as_deref().map(username_key),
            username: update.username,
            email_key: update.email.as_ref().map(|e| e.as_deref().map(fields::email_key)),
            email_verified: email_changed.then_some(false),
            email: update.email,
            phone: update.phone,
            ..ProfileChange::default()
        };
        let changed = User::update_profile(conn, user.id, change, holders)?;
        record_profile_change(conn, actor, user, &changed, (username_changed, email_changed, phone_changed))?;
        let at = chrono::Utc::now();
        if email_changed {
            reset::end_all(conn, user.id)?;
            email::end_all(conn, user.id)?;
            if let Some(key) = &changed.email_key {
                outbox::enqueue(conn, Outgoing::new(Kind::EmailVerification, key.clone()).about(user.id))?;
            }
            if let (Some(old), true) = (&user.email_key, user.email_verified) {
                let new = changed.email.as_deref().map_or_else(|| "(removed)".to_owned(), fields::mask_email);
                outbox::enqueue(conn, notice(Kind::EmailChanged, old, &changed.username, &new, at))?;
            }
        }
        if phone_changed {
            if let (Some(verified), true) = (&changed.email_key, changed.email_verified) {
                let new = changed.phone.as_deref().map_or_else(|| "(removed)".to_owned(), fields::mask_phone);
                outbox::enqueue(conn, notice(Kind::PhoneChanged, verified, &changed.username, &new, at))?;
            }
        }
        Ok(changed)
    })
}

/// The audit entries of a profile change: which fields, and the addresses masked as the
/// notices show them (an entry keeps no name: names are looked up when the log is read).
fn record_profile_change(
    conn: &mut PgConnection,
    actor: Actor,
    before: &User,
    after: &User,
    (username, email, phone): (bool, bool, bool),
) -> Result<(), ApiError> {
    let masked = |value: &Option<String>, mask: fn(&str) -> String| value.as_deref().map(mask);
    if username {
        audit::record(conn, actor, Action::UsernameChanged, Some(after.id), json!({}))?;
    }
    if email {
        let detail =
            json!({"from": masked(&before.email, fields::mask_email), "to": masked(&after.email, fields::mask_email)});
        audit::record(conn, actor, Action::EmailChanged, Some(after.id), detail)?;
    }
    if phone {
        let detail =
            json!({"from": masked(&before.phone, fields::mask_phone), "to": masked(&after.phone, fields::mask_phone)});
        audit::record(conn, actor, Action::PhoneChanged, Some(after.id), detail)?;
    }
    Ok(())
}

/// A notice of a change: what it became (masked), when, to whom.
fn notice(kind: Kind, to: &str, username: &str, new: &str, at: chrono::DateTime<chrono::Utc>) -> Outgoing {
    let at = crate::time_format::rfc3339(&at);
    Outgoing::new(kind, to).telling(serde_json::json!({"username": username, "new": new, "at": at}))
}

/// Recomputes the key of every stored non-ASCII address with the one rule
/// ([`fields::email_key`]): the migration that made the keys had only PostgreSQL's `lower()`,
/// which folds ASCII alone. Run after the migrations; does nothing once every key is right.
pub fn fold_stored_emails(conn: &mut PgConnection) -> anyhow::Result<usize> {
    use crate::schema::users;
    use diesel::prelude::*;
    let stored: Vec<(uuid::Uuid, String, Option<String>)> = users::table
        .filter(users::email.is_not_null())
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>("email ~ '[^[:ascii:]]'"))
        .select((users::id, users::email.assume_not_null(), users::email_key))
        .load(conn)?;
    let mut changed = 0;
    for (id, email, key) in stored {
        let folded = fields::email_key(&email);
        if key.as_deref() != Some(folded.as_str()) {
            diesel::update(users::table.find(id)).set(users::email_key.eq(folded)).execute(conn)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// An account the command line creates.
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub role: Role,
}

/// Creates a user from the command line (the blocking way: there is no async worker to spare),
/// with the signup's rules and the server's settings.
pub fn create_user_sync(conn: &mut PgConnection, account: NewAccount, config: &Config) -> anyhow::Result<User> {
    let phone = account.phone.map(Phone::parse);
    fields::with_phone_regions(&config.phone_regions, || {
        check_new_account(Some(account.username), Some(account.password), account.email, phone.as_ref())
    })
    .map_err(|e| describe(e.into()))?;
    let hash = password::hash_now(account.password, config.bcrypt_cost).map_err(describe)?;
    let new = new_user(account.username, account.email, phone, hash, account.role);
    let holders = PhoneHolders::from_setting(config.require_verified_phone);
    conn.transaction(|conn| {
        let user = User::insert(conn, new, holders)?;
        audit::record(conn, Actor::Cli, Action::UserCreated, Some(user.id), json!({"role": user.role}))?;
        Ok(user)
    })
    .map_err(describe)
}

/// Changes a user's role or activity from the command line, with the API's rules.
pub fn set_standing_sync(
    conn: &mut PgConnection,
    username: &str,
    role: Option<Role>,
    is_active: Option<bool>,
) -> anyhow::Result<User> {
    let key = username_key(&normalise_username(username));
    let user = User::find_by_username_key(conn, &key)
        .map_err(describe)?
        .ok_or_else(|| anyhow::anyhow!("no user {username:?}"))?;
    User::change_standing(conn, Actor::Cli, user.id, role, is_active).map_err(describe)
}

/// An API error as one line for the terminal, in words a person can act on.
fn describe(err: ApiError) -> anyhow::Error {
    match err {
        ApiError::Validation(fields) => {
            let reasons: Vec<String> = fields
                .iter()
                .map(|f| {
                    format!("{}: {}", f.field, crate::messages::field(crate::preferences::Lang::En, &f.field, f.code))
                })
                .collect();
            anyhow::anyhow!("refused: {}", reasons.join(" "))
        }
        ApiError::Taken(fields) => {
            let names: Vec<&str> = fields.iter().map(|unique| unique.field()).collect();
            anyhow::anyhow!("refused: another account already has this {}", names.join(" and "))
        }
        ApiError::LastAdmin => {
            anyhow::anyhow!("refused: no active admin would remain; make another user an admin first")
        }
        other => anyhow::anyhow!("{other}"),
    }
}
