//! Where log lines go: standard error, written by a thread of their own, as text for people or
//! as one JSON object per line for log shippers (`STAMPCARD_LOG_FORMAT`).

use std::io::{stderr, BufWriter, IsTerminal};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Starts logging at `RUST_LOG` (default `info`). Lines are written by a thread of their own,
/// in batches: a write to stderr per line on the async workers cost ~5% of a request's CPU
/// (docs/performance.md). Never lossy: when the queue is full, requests wait rather than
/// vanish from the log. Dropping the guard flushes what is queued.
///
/// In JSON, a request's line carries its fields at the top level (`route`, `status`,
/// `duration_ms`, `message`, `level`, `timestamp`) and the request's id, method and path
/// under `span`, as does every other line logged while the request ran.
pub fn start(format: LogFormat) -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(8192)
        .finish(BufWriter::new(stderr()));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let text = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    match format {
        LogFormat::Text => text.with_ansi(stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()).init(),
        LogFormat::Json => text.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
    }
    guard
}
