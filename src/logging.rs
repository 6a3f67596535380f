//! Where log lines go: standard error, written by a thread of their own.

use std::io::{stderr, BufWriter, IsTerminal};

use tracing_appender::non_blocking::WorkerGuard;

/// Starts logging at `RUST_LOG` (default `info`). Lines are written by a thread of their own,
/// in batches: a write to stderr per line on the async workers cost ~5% of a request's CPU
/// (docs/performance.md). Never lossy: when the queue is full, requests wait rather than
/// vanish from the log. Dropping the guard flushes what is queued.
pub fn start() -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(8192)
        .finish(BufWriter::new(stderr()));
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_ansi(stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(writer)
        .init();
    guard
}
