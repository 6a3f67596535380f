//! bcrypt hashing and verification, always on the blocking thread pool: one verify at cost 12
//! takes about a quarter of a second of CPU, which must never stall an async worker.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};

use actix_web::web;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::ApiError;
use crate::models::user::User;

/// Hashes with the non-truncating bcrypt API: a password over 72 bytes is an error, never
/// silently shortened (the rules refuse it before we get here).
pub async fn hash(password: String, cost: u32) -> Result<String, ApiError> {
    let _slot = bcrypt_slot().await;
    web::block(move || bcrypt::non_truncating_hash(password, cost))
        .await?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("bcrypt hash: {e}")))
}

/// Verifies `password` against `stored`, or against a dummy hash of the same cost when there
/// is no account, so that "no such user" and "wrong password" take the same time.
pub async fn verify(password: String, stored: Option<String>, cost: u32) -> Result<bool, ApiError> {
    let _slot = bcrypt_slot().await;
    web::block(move || {
        let (hash, real) = match stored {
            Some(hash) => (hash, true),
            None => (dummy_hash(cost), false),
        };
        // Verify first, whatever `real` says: skipping the work would reveal the answer.
        let matches = bcrypt::non_truncating_verify(password, &hash).unwrap_or(false);
        real && matches
    })
    .await
    .map_err(ApiError::from)
}

/// Re-authentication of a logged-in user (account deletion, password change): 403
/// `invalid_password` unless `given` is their password.
pub async fn confirm(given: Option<String>, user: &User, cost: u32) -> Result<(), ApiError> {
    if verify(given.unwrap_or_default(), Some(user.password_hash.clone()), cost).await? {
        Ok(())
    } else {
        Err(ApiError::InvalidPassword)
    }
}

/// Waits (without blocking the worker) until fewer bcrypt computations than cores are running.
/// More would not finish logins sooner, only crowd out the threads serving other requests.
async fn bcrypt_slot() -> SemaphorePermit<'static> {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    SLOTS.get_or_init(|| Semaphore::new(cores)).acquire().await.expect("the semaphore is never closed")
}

/// Whether a stored hash should be recomputed at the configured cost (as Django does when
/// its work factor changes).
pub fn needs_rehash(stored: &str, cost: u32) -> bool {
    bcrypt::HashParts::from_str(stored).map_or(true, |parts| parts.get_cost() != cost)
}

/// A hash of a random password at `cost`, computed once per cost.
fn dummy_hash(cost: u32) -> String {
    static HASHES: OnceLock<Mutex<HashMap<u32, String>>> = OnceLock::new();
    let hashes = HASHES.get_or_init(Default::default);
    if let Some(hash) = hashes.lock().expect("not poisoned").get(&cost) {
        return hash.clone();
    }
    let hash = bcrypt::hash(uuid::Uuid::new_v4().to_string(), cost).expect("bcrypt accepts 4..=31");
    hashes.lock().expect("not poisoned").entry(cost).or_insert(hash).clone()
}
