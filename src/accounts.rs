//! Account rules shared by the HTTP routes and the command line: what a valid new account is,
//! and how it is stored.

use diesel::PgConnection;
use uuid::Uuid;
use validator::ValidationErrors;

use crate::auth::{password, password_rules};
use crate::error::ApiError;
use crate::fields::{self, normalise_username, username_key, FieldErrors, Phone};
use crate::models::user::{NewUser, PhoneHolders, Role, User};

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
        phone: phone.and_then(Phone::into_e164),
        password_hash,
        role,
    }
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
/// with the signup's rules.
pub fn create_user_sync(
    conn: &mut PgConnection,
    account: NewAccount,
    cost: u32,
    holders: PhoneHolders,
) -> anyhow::Result<User> {
    let phone = account.phone.map(Phone::parse);
    check_new_account(Some(account.username), Some(account.password), account.email, phone.as_ref())
        .map_err(|e| describe(e.into()))?;
    let hash = password::hash_now(account.password, cost).map_err(describe)?;
    let new = new_user(account.username, account.email, phone, hash, account.role);
    User::insert(conn, new, holders).map_err(describe)
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
    User::change_standing(conn, user.id, role, is_active).map_err(describe)
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
