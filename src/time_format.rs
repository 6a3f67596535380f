//! Times on the wire: RFC 3339 in UTC with a `Z`, to the second (`2026-11-26T14:00:00Z`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

pub fn serialize<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339(time))
}

/// `time` as the wire shows it, where it is not a serde field (a JSON value built by hand, the
/// CSV export, a notice's text).
pub fn rfc3339(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}
