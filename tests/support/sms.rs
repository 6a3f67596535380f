//! A local SMS gateway for the tests: an HTTP listener that records every POSTed
//! `{"to", "text"}` and answers with a status the test chooses (2xx: accepted).

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::Value;

#[derive(Clone)]
pub struct SmsGateway {
    pub url: String,
    received: Arc<Mutex<Vec<Value>>>,
    status: Arc<AtomicU16>,
    handle: actix_web::dev::ServerHandle,
}

impl SmsGateway {
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        let received: Arc<Mutex<Vec<Value>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let (r, s) = (Arc::clone(&received), Arc::clone(&status));
        let server = HttpServer::new(move || {
            let (r, s) = (Arc::clone(&r), Arc::clone(&s));
            App::new().route(
                "/sms",
                web::post().to(move |body: web::Json<Value>| {
                    let (r, s) = (Arc::clone(&r), Arc::clone(&s));
                    async move {
                        let status = s.load(Ordering::SeqCst);
                        if status < 300 {
                            r.lock().unwrap().push(body.into_inner());
                        }
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
        Self { url, received, status, handle }
    }

    /// The status the gateway answers from now on (e.g. 503: down).
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn messages(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` messages were accepted.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Value> {
        super::at_least(n, within, "SMS", || self.messages()).await
    }
}

impl Drop for SmsGateway {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// The six-digit code in an SMS text.
pub fn code(message: &Value) -> String {
    let text = message["text"].as_str().expect("a text");
    let digits: String =
        text.split_whitespace().find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit())).unwrap().to_owned();
    digits
}
