//! The SMS gateway: an HTTP endpoint that takes `{"to": "+821012345678", "text": "..."}` by
//! POST; any 2xx means it took the message.

use std::time::Duration;

pub struct Gateway {
    url: String,
    agent: ureq::Agent,
}

impl Gateway {
    pub fn new(url: &str, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder().timeout_global(Some(timeout)).build().into();
        Self { url: url.to_owned(), agent }
    }

    pub fn send(&self, to: &str, text: &str) -> Result<(), String> {
        match self.agent.post(&self.url).send_json(serde_json::json!({"to": to, "text": text})) {
            Ok(_) => Ok(()),
            Err(ureq::Error::StatusCode(status)) => Err(format!("SMS gateway answered {status}")),
            Err(err) => Err(format!("SMS gateway: {err}")),
        }
    }
}
