//! The outbox workers: one thread per channel (mail, SMS) on each instance, each with a
//! database connection of its own (it holds a message's row lock while it sends it, which can
//! take seconds: not a connection the requests' pool should lend). A worker takes the next due
//! message of its channel, makes its secret (a reset token, a link, a phone code) and stores
//! only the hash, sends it, and marks it, all in one transaction; a failed send rolls that back
//! and records the failure, to be tried again.
//!
//! No kind of message waits behind another: mail and SMS have a worker each, and a channel's
//! worker takes its kinds in turn (`models::outbox::next_due`), so a flood of reset requests
//! delays a verification link by one message, not by the flood.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use rand::Rng;

use super::Outbox;
use crate::error::ApiError;
use crate::models::outbox::{self, Channel, Kind, Message};
use crate::models::{email, phone, reset, user::User};

/// How often an idle worker looks for messages another instance (or a retry) made due.
const POLL: Duration = Duration::from_secs(1);
/// Mails any one address receives per hour, of every kind together; beyond, they are dropped
/// (the requests that asked for them were answered alike).
const MAILS_PER_ADDRESS_PER_HOUR: i64 = 3;

/// The running workers; dropping them stops the threads after their current message.
pub struct Worker {
    stop: Arc<AtomicBool>,
    outbox: Outbox,
    threads: Vec<JoinHandle<()>>,
}

impl Worker {
    /// Starts a worker per channel on the database at `url`.
    pub fn start(outbox: Outbox, url: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = [(Channel::Mail, "outbox-mail"), (Channel::Sms, "outbox-sms")]
            .into_iter()
            .map(|(channel, name)| {
                let (flag, bell, url) = (Arc::clone(&stop), outbox.clone(), url.clone());
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn(move || run(&bell, channel, &url, &flag))
                    .expect("spawn an outbox worker")
            })
            .collect();
        Self { stop, outbox, threads }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.outbox.wake();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn run(outbox: &Outbox, channel: Channel, url: &str, stop: &AtomicBool) {
    let kinds = channel.kinds();
    let mut turn = 0;
    let mut conn: Option<PgConnection> = None;
    while !stop.load(Ordering::Acquire) {
        let connected = match conn.as_mut() {
            Some(conn) => Ok(conn),
            None => PgConnection::establish(url).map(|c| conn.insert(c)),
        };
        let first = kinds[turn % kinds.len()];
        turn += 1;
        let delivered = match connected {
            Ok(c) => deliver_next(outbox, c, &kinds, first),
            Err(err) => Err(ApiError::Unavailable(err.to_string())),
        };
        match delivered {
            Ok(true) => continue,
            Ok(false) => outbox.wait(channel, POLL),
            Err(err) => {
                // The database is away (or the connection broke): a new one, after a pause.
                tracing::warn!(error = %err, "outbox worker: database unavailable");
                conn = None;
                outbox.wait(channel, POLL);
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

/// Delivers the next due message of `kinds`, `first` first if one is due; `Ok(false)` when
/// there was none.
fn deliver_next(outbox: &Outbox, conn: &mut PgConnection, kinds: &[Kind], first: Kind) -> Result<bool, ApiError> {
    let mut taken: Option<Message> = None;
    let done = conn.transaction(|conn| {
        let Some(message) = outbox::next_due(conn, kinds, first)? else { return Ok(false) };
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
    // A signup or a profile change queues mail that no endpoint refused for want of a server.
    if !outbox.can_deliver(message.kind.channel()) {
        return skip(conn, message, "no transport is configured for it (and dev mode is off)");
    }
    if message.kind.channel() == Channel::Mail {
        // Every mail to one address counts towards its hourly three, whatever the kind.
        outbox::lock_recipient(conn, &message.recipient)?;
        if outbox::mails_in_last_hour(conn, &message.recipient)? >= MAILS_PER_ADDRESS_PER_HOUR {
            return skip(conn, message, "three mails to this address this hour already");
        }
    }
    match message.kind {
        Kind::PasswordReset => send_reset(outbox, conn, message),
        Kind::EmailVerification => send_verification_link(outbox, conn, message),
        Kind::EmailChanged | Kind::PhoneChanged => send_notice(outbox, conn, message),
        Kind::PhoneCode => send_code(outbox, conn, message),
    }
}

fn skip(conn: &mut PgConnection, message: &Message, why: &str) -> Result<(), Failure> {
    Ok(outbox::finish(conn, message.id, false, Some(why))?)
}

/// A reset link to the address, if it is the verified address of an active user. The request
/// was answered alike either way; the difference is here.
fn send_reset(outbox: &Outbox, conn: &mut PgConnection, message: &Message) -> Result<(), Failure> {
    let user = User::find_by_email_key(conn, &message.recipient)?.filter(|u| u.is_active && u.email_verified);
    let Some(user) = user else {
        return skip(conn, message, "no active account has this verified address");
    };
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
    let to = user.email.as_deref().unwrap_or(&message.recipient);
    outbox.mail(to, "Reset your stampcard password / 비밀번호 재설정", body).map_err(Failure::Send)?;
    Ok(outbox::finish(conn, message.id, true, None)?)
}

/// A link that proves the address, if it is still the address of the user who asked.
fn send_verification_link(outbox: &Outbox, conn: &mut PgConnection, message: &Message) -> Result<(), Failure> {
    let Some(user_id) = message.reference else { return skip(conn, message, "no user") };
    let Some(token) = email::issue(conn, user_id, &message.recipient)? else {
        return skip(conn, message, "the address changed since");
    };
    let Some(user) = User::find(conn, user_id)? else { return skip(conn, message, "the account is gone") };
    let link = format!("{}/verify-email#token={token}", outbox.public_url());
    let hours = email::LINK_LIFETIME.num_hours();
    let body = format!(
        "Please confirm that this address belongs to the stampcard account {name}: open this \
         link within {hours} hours.\n\n{link}\n\n\
         If you did not give this address to stampcard, ignore this mail.\n\n\
         ---\n\n\
         이 주소가 stampcard 계정 {name}의 것인지 확인해 주세요. {hours}시간 안에 아래 링크를 여세요:\n\n\
         {link}\n\n이 주소를 stampcard에 알려 준 적이 없다면 이 메일을 무시하세요.\n",
        name = user.username
    );
    let to = user.email.as_deref().unwrap_or(&message.recipient);
    outbox.mail(to, "Confirm your email address / 이메일 주소 확인", body).map_err(Failure::Send)?;
    Ok(outbox::finish(conn, message.id, true, None)?)
}

/// The notice that the account's address or phone changed: what to (masked), when, and what
/// to do if it was not the holder.
fn send_notice(outbox: &Outbox, conn: &mut PgConnection, message: &Message) -> Result<(), Failure> {
    let payload = message.payload.clone().unwrap_or_default();
    let new = payload["new"].as_str().unwrap_or("(none)").to_owned();
    let at = payload["at"]
        .as_str()
        .and_then(|t| t.parse::<DateTime<Utc>>().ok())
        .map_or_else(|| "just now".to_owned(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string());
    let name = payload["username"].as_str().unwrap_or("").to_owned();
    let (what, what_ko, subject) = match message.kind {
        Kind::EmailChanged => {
            ("email address", "이메일 주소", "Your stampcard email address changed / 이메일 주소 변경")
        }
        _ => ("phone number", "전화번호", "Your stampcard phone number changed / 전화번호 변경"),
    };
    let body = format!(
        "The {what} of the stampcard account {name} was changed to {new} at {at}.\n\n\
         If that was you, there is nothing to do. If it was not, someone has your session: log \
         in, change your password (this logs out every other device) and set your {what} back, \
         or ask the cafe for help.\n\n\
         ---\n\n\
         stampcard 계정 {name}의 {what_ko}가 {at}에 {new}(으)로 바뀌었습니다.\n\n\
         직접 바꾸셨다면 할 일이 없습니다. 아니라면 누군가 세션을 가지고 있는 것입니다. 로그인해서 \
         비밀번호를 바꾸고(다른 기기는 모두 로그아웃됩니다) {what_ko}를 되돌리거나, 카페에 도움을 요청하세요.\n"
    );
    outbox.mail(&message.recipient, subject, body).map_err(Failure::Send)?;
    Ok(outbox::finish(conn, message.id, true, None)?)
}

/// A fresh six-digit code to the phone, if the user still has the phone it was asked for.
fn send_code(outbox: &Outbox, conn: &mut PgConnection, message: &Message) -> Result<(), Failure> {
    let Some(verification) = message.reference else { return skip(conn, message, "no verification") };
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000));
    if !phone::attach_code(conn, verification, &code)? {
        return skip(conn, message, "the phone changed or was verified since");
    }
    let minutes = phone::CODE_LIFETIME.num_minutes();
    let text = format!("stampcard code {code} ({minutes} min). 인증번호 {code} ({minutes}분)");
    outbox.sms(&message.recipient, &text).map_err(Failure::Send)?;
    Ok(outbox::finish(conn, message.id, true, None)?)
}
