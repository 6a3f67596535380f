//! What an operator watches, in Prometheus' text format: one registry per server, served on a
//! listener of its own (`STAMPCARD_METRICS_ADDR`), never on the public address.
//!
//! Names follow Prometheus' conventions: a `stampcard_` prefix, `_total` for counters, base
//! units (`_seconds`). Counters are bumped where things happen; the state of the connection
//! pool and of the bcrypt queue is read when the metrics are scraped.

use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Every series of one server. Cheap to clone: the handles share their values.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by route template (`/api/v1/users/{id}`, or `unmatched`), method and status.
    pub http_requests: IntCounterVec,
    /// Their latency, by route template and method.
    pub http_duration: HistogramVec,
    /// Pool connections by state (`in_use`, `idle`), read at scrape time.
    pub db_connections: IntGaugeVec,
    /// How long checkouts waited for a connection.
    pub db_wait: Histogram,
    /// Checkouts that gave up (answered 503).
    pub db_timeouts: IntCounter,
    /// Session lookup queries, and how many sessions each looked up at once.
    pub session_lookups: IntCounter,
    pub session_batch_size: Histogram,
    /// Password jobs by state (`queued`, `running`), read at scrape time.
    pub password_jobs: IntGaugeVec,
    /// Passwords compared with a hash, and password jobs refused because the queue was full.
    pub password_verifications: IntCounter,
    pub password_jobs_refused: IntCounter,
    /// Failed logins (401 `invalid_credentials`) and wrong re-authentications.
    pub login_failures: IntCounter,
    /// Accounts locked (the attempt that locked one), and attempts refused by `limit`
    /// (`account` or `address`).
    pub lockouts: IntCounter,
    pub attempts_refused: IntCounterVec,
    /// Requests refused by a limit (429, and the SMS budget's 503), by limit: `account` and
    /// `address` (password attempts), `sms_number`, `sms_service`, `signups`, ...
    pub limit_refusals: IntCounterVec,
    /// SMS handed to the outbox this hour, and the hourly budget (`STAMPCARD_SMS_HOURLY_LIMIT`),
    /// read at scrape time.
    pub sms_this_hour: IntGaugeVec,
    /// Outbound messages waiting, and the age of the oldest, by kind; and those given up.
    /// Read at scrape time.
    pub outbox_pending: IntGaugeVec,
    pub outbox_oldest_pending: GaugeVec,
    pub outbox_failed: IntGauge,
    /// Live card streams open on this instance.
    pub streams_open: IntGauge,
    /// Stamps given to customers, and free coffees redeemed.
    pub stamps_issued: IntCounter,
    pub rewards_redeemed: IntCounter,
    /// Events voided.
    pub stamps_voided: IntCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("stampcard".into()), None).expect("a valid prefix");
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("a valid counter");
            registry.register(Box::new(c.clone())).expect("registered once");
            c
        };
        let counters = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter");
            registry.register(Box::new(c.clone())).expect("registered once");
            c
        };
        let gauges = |name: &str, help: &str, labels: &[&str]| {
            let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("a valid gauge");
            registry.register(Box::new(g.clone())).expect("registered once");
            g
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets)).expect("a valid histogram");
            registry.register(Box::new(h.clone())).expect("registered once");
            h
        };
        let seconds = vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(seconds.clone()),
            &["method", "route"],
        )
        .expect("a valid histogram");
        registry.register(Box::new(http_duration.clone())).expect("registered once");
        Self {
            http_requests: counters("http_requests_total", "HTTP requests answered", &["method", "route", "status"]),
            http_duration,
            db_connections: gauges("db_pool_connections", "Pooled database connections", &["state"]),
            db_wait: histogram("db_pool_wait_seconds", "Time spent waiting for a pooled connection", seconds),
            db_timeouts: counter("db_pool_timeouts_total", "Checkouts that gave up waiting for a connection"),
            session_lookups: counter("session_lookups_total", "Session lookup queries"),
            session_batch_size: histogram(
                "session_lookup_batch_size",
                "Sessions looked up by one query",
                vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0],
            ),
            password_jobs: gauges("password_jobs", "Password (bcrypt) jobs admitted and not finished", &["state"]),
            password_verifications: counter("password_verifications_total", "Passwords compared with a hash"),
            password_jobs_refused: counter("password_jobs_refused_total", "Password jobs refused: queue full (503)"),
            login_failures: counter("login_failures_total", "Failed logins and wrong re-authentications"),
            lockouts: counter("account_lockouts_total", "Accounts locked by their latest failed attempt"),
            attempts_refused: counters(
                "password_attempts_refused_total",
                "Password attempts refused before any check (429)",
                &["limit"],
            ),
            limit_refusals: counters(
                "limit_refusals_total",
                "Requests refused by a limit of what anyone can make the server do",
                &["limit"],
            ),
            sms_this_hour: gauges("sms_hour", "SMS sent within the last hour, and the hourly limit", &["of"]),
            outbox_pending: gauges("outbox_pending_messages", "Outbound messages waiting to be sent", &["kind"]),
            outbox_oldest_pending: {
                let g = GaugeVec::new(
                    Opts::new("outbox_oldest_pending_seconds", "Age of the oldest message waiting, by kind"),
                    &["kind"],
                )
                .expect("a valid gauge");
                registry.register(Box::new(g.clone())).expect("registered once");
                g
            },
            outbox_failed: {
                let g = IntGauge::new("outbox_failed_messages", "Outbound messages given up").expect("a valid gauge");
                registry.register(Box::new(g.clone())).expect("registered once");
                g
            },
            streams_open: {
                let g = IntGauge::new("streams_open", "Live card streams (Server-Sent Events) open").expect("a gauge");
                registry.register(Box::new(g.clone())).expect("registered once");
                g
            },
            stamps_issued: counter("stamps_issued_total", "Stamps given to customers"),
            rewards_redeemed: counter("rewards_redeemed_total", "Free coffees redeemed"),
            stamps_voided: counter("events_voided_total", "Stamp events voided"),
            registry,
        }
    }

    /// Counts one answered request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.http_requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.http_duration.with_label_values(&[method, route]).observe(seconds);
    }

    /// Brings a counter whose value is kept elsewhere (an atomic of its own) up to `value`.
    pub fn catch_up(counter: &IntCounter, value: u64) {
        counter.inc_by(value.saturating_sub(counter.get()));
    }

    /// Every series, in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out).expect("text encoding cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_named_after_prometheus_conventions() {
        let metrics = Metrics::new();
        metrics.observe_request("GET", "/api/v1/users/me", 200, 0.002);
        metrics.stamps_issued.inc_by(3);
        let text = metrics.render();
        assert!(text.contains(r#"stampcard_http_requests_total{method="GET",route="/api/v1/users/me",status="200"} 1"#));
        assert!(text.contains("stampcard_http_request_duration_seconds_bucket"));
        assert!(text.contains("stampcard_stamps_issued_total 3"));
    }
}
