//! The outbox worker: one thread per instance, with a database connection of its own (it holds
//! a message's row lock while it sends it, which can take seconds: not a connection the
//! requests' pool should lend). It takes the next due message, makes its secret (a reset
//! token, a phone code) and stores only the hash, sends it, and marks it, all in one
//! transaction; a failed send rolls that back and records the failure, to be tried again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::{Connection, PgConnection};
use rand::Rng;

use super::Outbox;
use crate::error::ApiError;
use crate::models::outbox::{self, Kind, Message};
use crate::models::{phone, reset, user::User};

/// How often an idle worker looks for messages another instance (or a retry) made due.
const POLL: Duration = Duration::from_secs(1);
/// Reset mails per address per hour; requests beyond are answered alike and send nothing.
const RESET_MAILS_PER_HOUR: i64 = 3;

/// The running worker; dropping it stops the thread after its current message.
pub struct Worker {
    stop: Arc<AtomicBool>,
    outbox: Outbox,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker on the database at `url`.
    pub fn start(outbox: Outbox, url: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, bell) = (Arc::clone(&stop), outbox.clone());
        let thread = std::thread::Builder::new()
            .name("outbox".into())
            .spawn(move || run(&bell, &url, &flag))
            .expect("spawn the outbox worker");
        Self { stop, outbox, thread: Some(thread) }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.outbox.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(outbox: &Outbox, url: &str, stop: &AtomicBool) {
    let mut conn: Option<PgConnection> = None;
    while !stop.load(Ordering::Acquire) {
        let connected = match conn.as_mut() {
            Some(conn) => Ok(conn),
            None => PgConnection::establish(url).map(|c| conn.insert(c)),
        };
        let delivered = match connected {
            Ok(c) => deliver_next(outbox, c),
            Err(err) => Err(ApiError::Unavailable(err.to_string())),
        };
        match delivered {
            Ok(true) => continue,
            Ok(false) => outbox.wait(POLL),
            Err(err) => {
                // The database is away (or the connection broke): a new one, after a pause.
                tracing::warn!(error = %err, "outbox worker: database unavailable");
                conn = None;
                outbox.wait(POLL);
            }
        }
    }
}

/// Why a message's transaction ended without it being finished.
enum Failure {
    Database(ApiError),
    Send(String),
}

impl From<diesel::result::Error> for Failure {
    fn from(err: diesel::result::Error) -> Self {
        Self::Database(err.into())
    }
}

impl From<ApiError> for Failure {
    fn from(err: ApiError) -> Self {
        Self::Database(err)
    }
}

/// Delivers the next due message, if there is one; `Ok(false)` when there was none.
fn deliver_next(outbox: &Outbox, conn: &mut PgConnection) -> Result<bool, ApiError> {
    let mut taken: Option<Message> = None;
    let done = conn.transaction(|conn| {
        let Some(message) = outbox::next_due(conn)? else { return Ok(false) };
        taken = Some(message.clone());
        deliver(outbox, conn, &message)?;
        Ok(true)
    });
    match done {
        Ok(any) => Ok(any),
        Err(Failure::Database(err)) => {
            // Not for the database being away only: a message that fails this way every time
            // must back off like any other, not hold up the ones behind it.
            if let Some(message) = taken {
                let _ = outbox::record_failure(conn, &message, &format!("database: {err}"));
            }
            Err(err)
        }
        Err(Failure::Send(why)) => {
            let message = taken.expect("a send failure is a message's");
            let given_up = outbox::record_failure(conn, &message, &why)?;
            if given_up {
                tracing::error!(id = message.id, kind = %message.kind, error = %why, "outbox: gave up on a message after an hour of failures");
            } else {
                tracing::warn!(id = message.id, kind = %message.kind, error = %why, "outbox: sending failed; will retry");
            }
            Ok(true)
        }
    }
}

fn deliver(outbox: &Outbox, conn: &mut PgConnection, message: &Message) -> Result<(), Failure> {
    match message.kind {
        Kind::PasswordReset => send_reset(outbox, conn, message),
        Kind::PhoneCode => send_code(outbox, conn, message),
    }
}

/// A reset link to the address, if it belongs to an active user and has not had its three
/// mails this hour. The request was answered alike either way; the difference is here.
fn send_reset(outbox: &Outbox, conn: &mut PgConnection, message: &Message) -> Result<(), Failure> {
    let address = &message.recipient;
    outbox::lock_recipient(conn, address)?;
    let Some(user) = User::find_active_by_email(conn, address)? else {
        return Ok(outbox::finish(conn, message.id, false, Some("no active account has this address"))?);
    };
    if outbox::sent_in_last_hour(conn, Kind::PasswordReset, address)? >= RESET_MAILS_PER_HOUR {
        return Ok(outbox::finish(conn, message.id, false, Some("three reset mails this hour already"))?);
    }
    let token = reset::issue(conn, user.id)?;
    let link = format!("{}/reset-password#token={token}", outbox.public_url());
    let minutes = reset::TOKEN_LIFETIME.num_minutes();
    let body = format!(
        "Someone (we hope you) asked to reset the password of the stampcard account {name}.\n\n\
         Choose a new password here, within {minutes} minutes:\n\n{link}\n\n\
         If it was not you, ignore this mail: your password stays as it is.\n\n\
         ---\n\n\
         stampcard 계정 {name}의 비밀번호 재설정이 요청되었습니다. {minutes}분 안에 아래 링크에서 \
         새 비밀번호를 정하세요:\n\n{link}\n\n요청하지 않으셨다면 이 메일을 무시하세요.\n",
        name = user.username
    );
    outbox.mail(address, "Reset your stampcard password / 비밀번호 재설정", body).map_err(Failure::Send)?;
    Ok(outbox::finish(conn, message.id, true, None)?)
}

/// A fresh six-digit code to the phone, if the user still has the phone it was asked for.
fn send_code(outbox: &Outbox, conn: &mut PgConnection, message: &Message) -> Result<(), Failure> {
    let Some(verification) = message.reference else {
        return Ok(outbox::finish(conn, message.id, false, Some("no verification"))?);
    };
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000));
    if !phone::attach_code(conn, verification, &code)? {
        return Ok(outbox::finish(conn, message.id, false, Some("the phone changed or was verified since"))?);
    }
    let minutes = phone::CODE_LIFETIME.num_minutes();
    let text = format!("stampcard code {code} ({minutes} min). 인증번호 {code} ({minutes}분)");
    outbox.sms(&message.recipient, &text).map_err(Failure::Send)?;
    Ok(outbox::finish(conn, message.id, true, None)?)
}
