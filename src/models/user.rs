//! User accounts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use diesel::deserialize::FromSqlRow;
use diesel::expression::AsExpression;
use diesel::sql_types::Text;

use crate::error::{ApiError, Unique};
use crate::models::audit::{self, Action, Actor};
use crate::models::page::{Cursor, Page};
pub use crate::models::phone::PhoneHolders;
use crate::schema::users;

/// What an account may do. Stored as text, checked by the database (a `CHECK`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    AsExpression,
    FromSqlRow,
    clap::ValueEnum,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
    strum::VariantArray,
)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Role {
    Customer,
    Staff,
    Admin,
}

text_enum!(Role);

impl Role {
    pub fn parse(value: &str) -> Option<Self> {
        value.parse().ok()
    }

    /// Staff and admins serve customers: stamping, reading any card, redeeming for them.
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Staff | Self::Admin)
    }
}

/// A `users` row. Never sent to clients as is: see [`UserView`].
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub username_key: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub password_hash: String,
    pub role: Role,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The holder typed the code we sent to `phone`.
    pub phone_verified: bool,
    /// `email` as it is compared (`fields::email_key`): unique.
    pub email_key: Option<String>,
    /// The holder opened the link we mailed to `email`.
    pub email_verified: bool,
}

/// The user as the API shows it: everything but the password hash.
#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub phone: Option<String>,
    pub phone_verified: bool,
    pub role: Role,
    pub is_active: bool,
    #[serde(serialize_with = "crate::time_format::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time_format::serialize")]
    pub updated_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            phone: u.phone.clone(),
            phone_verified: u.phone_verified,
            role: u.role,
            is_active: u.is_active,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub id: Uuid,
    pub username: String,
    pub username_key: String,
    pub email: Option<String>,
    pub email_key: Option<String>,
    pub phone: Option<String>,
    pub password_hash: String,
    pub role: Role,
}

/// A profile change: `None` leaves a column alone, `Some(None)` clears it.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChange {
    pub username: Option<String>,
    pub username_key: Option<String>,
    pub email: Option<Option<String>>,
    pub email_key: Option<Option<String>>,
    pub email_verified: Option<bool>,
    pub phone: Option<Option<String>>,
    pub phone_verified: Option<bool>,
    pub role: Option<Role>,
    pub is_active: Option<bool>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl User {
    /// Stores a new user, if its username, email and phone are free (409 naming every one that
    /// is not); see [`PhoneHolders`] for who else may list the same phone.
    pub fn insert(conn: &mut PgConnection, new: NewUser, holders: PhoneHolders) -> Result<User, ApiError> {
        conn.transaction(|conn| {
            let wanted = Wanted {
                username_key: Some(&new.username_key),
                email_key: new.email_key.as_deref(),
                phone: new.phone.as_deref(),
            };
            wanted.ensure_free(conn, new.id, holders)?;
            diesel::insert_into(users::table)
                .values(new)
                .returning(User::as_returning())
                .get_result(conn)
                .map_err(taken)
        })
    }

    pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<User>, ApiError> {
        Ok(users::table.find(id).select(User::as_select()).first(conn).optional()?)
    }

    /// The user with this address (by its key, `fields::email_key`).
    pub fn find_by_email_key(conn: &mut PgConnection, key: &str) -> Result<Option<User>, ApiError> {
        Ok(users::table.filter(users::email_key.eq(key)).select(User::as_select()).first(conn).optional()?)
    }

    pub fn find_by_username_key(conn: &mut PgConnection, key: &str) -> Result<Option<User>, ApiError> {
        Ok(users::table.filter(users::username_key.eq(key)).select(User::as_select()).first(conn).optional()?)
    }

    /// Changes a user's own profile (username, email, phone): each new value must be free (409
    /// naming every one that is not); a new phone is unproven.
    pub fn update_profile(
        conn: &mut PgConnection,
        id: Uuid,
        mut change: ProfileChange,
        holders: PhoneHolders,
    ) -> Result<User, ApiError> {
        conn.transaction(|conn| {
            let current = users::table.find(id).select(users::phone).first::<Option<String>>(conn)?;
            let new_phone = match &change.phone {
                Some(Some(phone)) if current.as_deref() != Some(phone.as_str()) => Some(phone.as_str()),
                _ => None,
            };
            let wanted = Wanted {
                username_key: change.username_key.as_deref(),
                email_key: change.email_key.as_ref().and_then(Option::as_deref),
                phone: new_phone,
            };
            wanted.ensure_free(conn, id, holders)?;
            if new_phone.is_some() || change.phone == Some(None) {
                change.phone_verified = Some(false);
            }
            Self::update(conn, id, change)
        })
    }

    fn update(conn: &mut PgConnection, id: Uuid, mut change: ProfileChange) -> Result<User, ApiError> {
        change.updated_at = Some(Utc::now());
        diesel::update(users::table.find(id))
            .set(change)
            .returning(User::as_returning())
            .get_result(conn)
            .map_err(taken)
    }

    pub fn set_password_hash(conn: &mut PgConnection, id: Uuid, hash: &str) -> Result<(), ApiError> {
        diesel::update(users::table.find(id))
            .set((users::password_hash.eq(hash), users::updated_at.eq(Utc::now())))
            .execute(conn)?;
        Ok(())
    }

    /// Replaces the hash `old` by `new` (the same password at a new bcrypt cost), unless the
    /// password changed meanwhile; whether it did. The hash the caller may rely on is then the
    /// one stored.
    pub fn upgrade_password_hash(conn: &mut PgConnection, id: Uuid, old: &str, new: &str) -> Result<bool, ApiError> {
        let n = diesel::update(users::table.find(id).filter(users::password_hash.eq(old)))
            .set(users::password_hash.eq(new))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Changes a user's role and whether they may log in, keeping at least one active admin
    /// (409 `last_admin`); deactivation revokes every session of the user and ends their
    /// reset links. Each real change is an audit entry by `actor`. Runs in its own transaction:
    /// the active admins' rows are locked first, so that two admins demoting each other at the
    /// same moment cannot both succeed.
    pub fn change_standing(
        conn: &mut PgConnection,
        actor: Actor,
        id: Uuid,
        role: Option<Role>,
        is_active: Option<bool>,
    ) -> Result<User, ApiError> {
        conn.transaction(|conn| {
            let admins: Vec<Uuid> = users::table
                .filter(users::role.eq(Role::Admin))
                .filter(users::is_active)
                .order(users::id)
                .select(users::id)
                .for_update()
                .load(conn)?;
            let before = User::find(conn, id)?.ok_or(ApiError::NotFound)?;
            let stays_admin = role.unwrap_or(before.role) == Role::Admin && is_active.unwrap_or(before.is_active);
            if !stays_admin && admins == [id] {
                return Err(ApiError::LastAdmin);
            }
            let change = ProfileChange { role, is_active, ..ProfileChange::default() };
            let user = User::update(conn, id, change)?;
            if user.role != before.role {
                let detail = json!({"from": before.role, "to": user.role});
                audit::record(conn, actor, Action::RoleChanged, Some(id), detail)?;
            }
            match is_active {
                Some(false) => {
                    let revoked = crate::models::session::Session::end_for_deactivation(conn, id)?;
                    crate::models::reset::end_all(conn, id)?;
                    if before.is_active {
                        let detail = json!({"sessions_revoked": revoked});
                        audit::record(conn, actor, Action::Deactivated, Some(id), detail)?;
                    }
                }
                Some(true) => {
                    crate::models::session::Session::forget_endings(conn, id)?;
                    if !before.is_active {
                        audit::record(conn, actor, Action::Reactivated, Some(id), json!({}))?;
                    }
                }
                None => {}
            }
            Ok(user)
        })
    }

    /// Deletes the account; sessions, card, events and redemptions go with it (ON DELETE CASCADE).
    pub fn delete(conn: &mut PgConnection, id: Uuid) -> Result<(), ApiError> {
        diesel::delete(users::table.find(id)).execute(conn)?;
        Ok(())
    }

    /// Users whose username key, or phone number, starts with the prefixes, in username order.
    pub fn search(
        conn: &mut PgConnection,
        username_prefix: Option<&str>,
        phone_prefix: Option<&str>,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<User>, ApiError> {
        let mut query = users::table.select(User::as_select()).into_boxed();
        match (username_prefix, phone_prefix) {
            (Some(u), Some(p)) => {
                query = query.filter(users::username_key.like(like_prefix(u)).or(users::phone.like(like_prefix(p))))
            }
            (Some(u), None) => query = query.filter(users::username_key.like(like_prefix(u))),
            (None, Some(p)) => query = query.filter(users::phone.like(like_prefix(p))),
            (None, None) => {}
        }
        if let Some(after) = after {
            let (key, id) = (after.text()?.to_owned(), after.id()?);
            query =
                query.filter(users::username_key.gt(key.clone()).or(users::username_key.eq(key).and(users::id.gt(id))));
        }
        let rows = query.order((users::username_key, users::id)).limit(limit + 1).load(conn)?;
        Ok(Page::from_rows(rows, limit, |u| Cursor::from_text_and_id(&u.username_key, u.id)))
    }
}

/// The unique values an account wants to have.
struct Wanted<'a> {
    username_key: Option<&'a str>,
    email_key: Option<&'a str>,
    phone: Option<&'a str>,
}

impl Wanted<'_> {
    /// 409 naming every value that another account (not `id`) holds. The unique indexes stay
    /// the authority (two accounts racing for a name end with one of them `taken`); this names
    /// all of a request's conflicts at once, so that a client fixes them in one go.
    fn ensure_free(&self, conn: &mut PgConnection, id: Uuid, holders: PhoneHolders) -> Result<(), ApiError> {
        use diesel::dsl::exists;
        let others = || users::table.filter(users::id.ne(id));
        let mut taken = Vec::new();
        if let Some(key) = self.username_key {
            if diesel::select(exists(others().filter(users::username_key.eq(key)))).get_result(conn)? {
                taken.push(Unique::Username);
            }
        }
        if let Some(key) = self.email_key {
            if diesel::select(exists(others().filter(users::email_key.eq(key)))).get_result(conn)? {
                taken.push(Unique::Email);
            }
        }
        if let Some(phone) = self.phone {
            if holders.is_taken(conn, phone, id)? {
                taken.push(Unique::Phone);
            }
        }
        if taken.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Taken(taken))
        }
    }
}

fn like_prefix(prefix: &str) -> String {
    let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("{escaped}%")
}

/// Unique-constraint violations become the contract's 409s; anything else stays internal.
fn taken(err: DieselError) -> ApiError {
    if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &err {
        match info.constraint_name() {
            Some("users_username_key") => return ApiError::Taken(vec![Unique::Username]),
            Some("users_email_key") => return ApiError::Taken(vec![Unique::Email]),
            Some("users_verified_phone_key") => return ApiError::Taken(vec![Unique::Phone]),
            _ => {}
        }
    }
    err.into()
}
