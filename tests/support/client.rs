//! An HTTP client that behaves like one browser (or device) with its own session cookie, and
//! the responses it reads.

use reqwest::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// An HTTP client that keeps the session cookie the way a browser would, and lets a test
/// read or replace it.
pub struct Client {
    base: String,
    http: reqwest::Client,
    cookie: std::sync::Mutex<Option<String>>,
}

/// A response, read completely.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Set-Cookie` header of a cookie, if the response set one.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// Asserts an RFC 9457 problem with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "status of {}", self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.text);
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert_eq!(self.body["status"], status, "{}", self.text);
        assert!(self.body["title"].is_string() && self.body["type"].is_string() && self.body["detail"].is_string());
    }

    /// The `code`s of the field errors of a 422, by field.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        (e["field"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Client {
    /// A client of the app at `base`, with no cookie yet.
    pub fn new(base: &str) -> Self {
        Self { base: base.to_owned(), http: reqwest::Client::new(), cookie: std::sync::Mutex::new(None) }
    }

    /// The current session cookie value.
    pub fn cookie(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    /// Replaces the session cookie (to replay an old value).
    pub fn set_cookie(&self, value: Option<String>) {
        *self.cookie.lock().unwrap() = value;
    }

    pub async fn get(&self, path: &str) -> Res {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Res {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Res {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str) -> Res {
        self.send(Method::DELETE, path, None, &[]).await
    }

    pub async fn delete_with(&self, path: &str, body: Value) -> Res {
        self.send(Method::DELETE, path, Some(body), &[]).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Res {
        self.post("/api/v1/sessions", json!({"username": username, "password": password})).await
    }

    /// Any request: a JSON body when given, extra headers as (name, value).
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Res {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(cookie) = self.cookie() {
            request = request.header(COOKIE, HeaderValue::from_str(&format!("stampcard_session={cookie}")).unwrap());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.finish(request).await
    }

    /// Sends a raw body with the given content type.
    pub async fn send_raw(&self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Res {
        self.send_raw_with(method, path, content_type, body, &[]).await
    }

    /// Sends a raw body with the given content type and extra headers.
    pub async fn send_raw_with(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut request =
            self.http.request(method, format!("{}{path}", self.base)).header("content-type", content_type).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.finish(request).await
    }

    async fn finish(&self, request: reqwest::RequestBuilder) -> Res {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a readable body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let res = Res { status, headers, body, text };
        if let Some(set) = res.set_cookie("stampcard_session") {
            let value = set.split(';').next().unwrap_or("").trim_start_matches("stampcard_session=").to_owned();
            let removed = value.is_empty() || set.contains("Max-Age=0");
            self.set_cookie((!removed).then_some(value));
        }
        res
    }
}
