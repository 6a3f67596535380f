//! Outbound messages: password reset and verification links and notices by email, phone codes
//! by SMS.
//!
//! A request writes its message into the outbox table in the transaction of what caused it
//! (`models::outbox`) and answers at once; a worker thread per channel on each instance
//! ([`worker`]) delivers it, with retries and backoff, so a mail or SMS outage, or a crash,
//! loses nothing and never slows a request. Without a transport, in dev mode the message is
//! written to the log instead; outside dev mode the endpoints that would send one answer 503.

mod sms;
mod worker;

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};

use crate::config::Config;
use crate::error::ApiError;
use crate::models::outbox::{Channel, Kind};

pub use worker::Worker;

/// How long one delivery may take before it counts as failed (and is tried again later).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The transports of this process, and the bell that wakes its worker.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

struct Inner {
    mail: Option<(SmtpTransport, Mailbox)>,
    sms: Option<sms::Gateway>,
    dev: bool,
    public_url: String,
    /// A bell per channel (mail, SMS): a rung bell wakes that channel's worker.
    bells: [(Mutex<bool>, Condvar); 2],
}

impl Outbox {
    /// The transports the configuration names. A URL that does not make a transport stops
    /// the process before it serves, naming the variable.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let mail = match &config.smtp_url {
            Some(url) => {
                let transport = SmtpTransport::from_url(url)
                    .map_err(|e| anyhow::anyhow!("invalid STAMPCARD_SMTP_URL: {e}"))?
                    .timeout(Some(SEND_TIMEOUT))
                    .build();
                let from: Mailbox = config.mail_from.parse().context("invalid STAMPCARD_MAIL_FROM: not a mailbox")?;
                Some((transport, from))
            }
            None => None,
        };
        let sms = config.sms_webhook_url.as_deref().map(|url| sms::Gateway::new(url, SEND_TIMEOUT));
        Ok(Self {
            inner: Arc::new(Inner {
                mail,
                sms,
                dev: config.is_dev(),
                public_url: config.public_url(),
                bells: [(Mutex::new(false), Condvar::new()), (Mutex::new(false), Condvar::new())],
            }),
        })
    }

    /// 503 when a message of this kind can be neither sent nor, in dev mode, logged.
    pub fn ensure_can_send(&self, kind: Kind) -> Result<(), ApiError> {
        if self.can_deliver(kind.channel()) {
            Ok(())
        } else {
            Err(ApiError::Unavailable(format!("no transport for {kind} messages is configured")))
        }
    }

    /// Whether messages of `channel` go anywhere: to their transport, or, in dev mode only, to
    /// the log. Outside dev mode a message with no transport is never logged (it may carry a
    /// link that is as good as a password).
    fn can_deliver(&self, channel: Channel) -> bool {
        let transport = match channel {
            Channel::Mail => self.inner.mail.is_some(),
            Channel::Sms => self.inner.sms.is_some(),
        };
        transport || self.inner.dev
    }

    /// Wakes this process's workers: a message was just committed.
    pub fn wake(&self) {
        for (rang, bell) in &self.inner.bells {
            *rang.lock().unwrap_or_else(|e| e.into_inner()) = true;
            bell.notify_all();
        }
    }

    /// Waits until [`Outbox::wake`] or `timeout`, on the bell of `channel`.
    fn wait(&self, channel: Channel, timeout: Duration) {
        let (rang, bell) = &self.inner.bells[channel as usize];
        let guard = rang.lock().unwrap_or_else(|e| e.into_inner());
        let (mut guard, _) = bell.wait_timeout_while(guard, timeout, |rang| !*rang).unwrap_or_else(|e| e.into_inner());
        *guard = false;
    }

    /// Sends a mail (or, without SMTP in dev mode, logs it).
    fn mail(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let Some((transport, from)) = &self.inner.mail else {
            tracing::info!(to, subject, body, "dev mode, no STAMPCARD_SMTP_URL: this mail is logged, not sent");
            return Ok(());
        };
        let to: Mailbox = to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("building the mail: {e}"))?;
        transport.send(&message).map(drop).map_err(|e| format!("SMTP: {e}"))
    }

    /// Sends an SMS (or, without a gateway in dev mode, logs it).
    fn sms(&self, to: &str, text: &str) -> Result<(), String> {
        match &self.inner.sms {
            Some(gateway) => gateway.send(to, text),
            None => {
                tracing::info!(to, text, "dev mode, no STAMPCARD_SMS_WEBHOOK_URL: this SMS is logged, not sent");
                Ok(())
            }
        }
    }

    fn public_url(&self) -> &str {
        &self.inner.public_url
    }
}
