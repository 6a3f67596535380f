//! A Server-Sent Events client for the tests: a real connection to `GET /api/v1/stamps/stream`,
//! read event by event.

use std::time::Duration;

use serde_json::Value;

/// One open stream.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

/// What a stream gave within a wait.
#[derive(Debug, PartialEq)]
pub enum Next {
    /// A `card` event, its data parsed.
    Card(Value),
    /// The server ended the stream.
    Closed,
    /// Nothing (comments aside) within the wait.
    Nothing,
}

impl EventStream {
    /// Opens the stream of the client whose session cookie is `cookie`.
    pub async fn open(base: &str, cookie: &str) -> Self {
        let response = reqwest::Client::new()
            .get(format!("{base}/api/v1/stamps/stream"))
            .header("cookie", format!("stampcard_session={cookie}"))
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{:?}", response.headers());
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        Self { response, buffer: String::new() }
    }

    /// The next `card` event within `within`, or why there was none.
    pub async fn next(&mut self, within: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(at) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..at + 2).collect();
                let data: String = block.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
                if block.lines().any(|l| l == "event: card") {
                    return Next::Card(serde_json::from_str(&data).expect("a card event's data is JSON"));
                }
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return Next::Nothing,
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(Ok(None)) | Ok(Err(_)) => return Next::Closed,
            }
        }
    }

    /// The next card event's card, which must come within `within`.
    pub async fn card(&mut self, within: Duration) -> Value {
        match self.next(within).await {
            Next::Card(card) => card,
            other => panic!("no card event within {within:?}: {other:?}"),
        }
    }
}
