//! Account rules shared by the HTTP routes and the command line: what a valid new account is,
//! and how it is stored.

use diesel::PgConnection;
use serde::Deserialize;
use uuid::Uuid;
use validator::{Validate, ValidationErrors};

use crate::auth::{password, password_rules};
use crate::error::ApiError;
use crate::fields::{self, normalise_username, username_key, FieldErrors, Phone};
use crate::models::user::{NewUser, PhoneHolders, ProfileChange, Role, User};

/// `POST /api/v1/users`. A `role` in the body is ignored: there is no field for it.
#[derive(Debug, Default, Deserialize)]
pub struct Signup {
    pub username: Option<String>,
    pub password: Option<String>,
    pub email: Option<String>,
    pub phone: Option<Phone>,
}

/// Every rule at once, the password's included, so that a client sees every bad field in
/// one 422.
impl Validate for Signup {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = FieldErrors::default();
        let username = normalise_username(self.username.as_deref().unwrap_or(""));
        errors.required("username", self.username.as_deref(), fields::validate_username);
        errors.required("password", self.password.as_deref(), |p| password_rules::check(p, &username));
        errors.optional("email", self.email.as_deref(), fields::validate_email);
        errors.optional("phone", self.phone.as_ref(), fields::validate_phone);
        errors.finish()
    }
}

impl Signup {
    /// The row to insert, once checked and hashed.
    pub fn into_new_user(self, password_hash: String, role: Role) -> NewUser {
        let username = normalise_username(self.username.as_deref().unwrap_or_default());
        NewUser {
            id: Uuid::new_v4(),
            username_key: username_key(&username),
            username,
            email: self.email.map(|e| e.trim().to_owned()),
            phone: self.phone.and_then(Phone::into_e164),
            password_hash,
            role,
        }
    }
}

/// A profile change: `username`, `email`, `phone`; JSON `null` clears email or phone.
#[derive(Debug, Default, Deserialize)]
pub struct ProfilePatch {
    pub username: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub phone: Option<Option<Phone>>,
}

/// Tells a field that is `null` (`Some(None)`) from one that is absent (`None`).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl Validate for ProfilePatch {
    fn validate(&self) -> Result<(), ValidationErrors> {
        // `null` clears email and phone: only a value is checked.
        let mut errors = FieldErrors::default();
        errors.optional("username", self.username.as_deref(), fields::validate_username);
        errors.optional("email", self.email.as_ref().and_then(Option::as_deref), fields::validate_email);
        errors.optional("phone", self.phone.as_ref().and_then(Option::as_ref), fields::validate_phone);
        errors.finish()
    }
}

impl ProfilePatch {
    pub fn into_change(self) -> ProfileChange {
        let username = self.username.as_deref().map(normalise_username);
        ProfileChange {
            username_key: username.as_deref().map(username_key),
            username,
            email: self.email.map(|e| e.map(|e| e.trim().to_owned())),
            phone: self.phone.map(|p| p.and_then(Phone::into_e164)),
            ..ProfileChange::default()
        }
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
    let signup = Signup {
        username: Some(account.username.to_owned()),
        password: Some(account.password.to_owned()),
        email: account.email.map(str::to_owned),
        phone: account.phone.map(Phone::parse),
    };
    signup.validate().map_err(|e| describe(e.into()))?;
    let hash = password::hash_now(account.password, cost).map_err(describe)?;
    User::insert(conn, signup.into_new_user(hash, account.role), holders).map_err(describe)
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

/// An API error as one line for the terminal.
fn describe(err: ApiError) -> anyhow::Error {
    match err {
        ApiError::Validation(fields) => {
            let list: Vec<String> = fields.iter().map(|f| format!("{}: {}", f.field, f.code.as_str())).collect();
            anyhow::anyhow!("invalid input ({})", list.join(", "))
        }
        ApiError::Taken(unique) => anyhow::anyhow!("that {} is already taken", unique.field()),
        ApiError::LastAdmin => anyhow::anyhow!("refused: no active admin would remain"),
        other => anyhow::anyhow!("{other}"),
    }
}
