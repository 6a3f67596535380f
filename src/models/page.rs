//! Cursor paging: `{"items": [...], "next_cursor": "..." | null}`. A cursor names the last
//! row of a page by its sort key, so rows inserted meanwhile never shift later pages.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;

/// `?limit=` (1..=100, default 20) and `?cursor=`; anything else is a 400.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(20),
            Some(n @ 1..=100) => Ok(n),
            Some(_) => Err(ApiError::MalformedRequest("limit must be from 1 to 100".into())),
        }
    }

    pub fn cursor(&self) -> Result<Option<Cursor>, ApiError> {
        self.cursor.as_deref().map(Cursor::decode).transpose()
    }
}

/// The sort key of the last row of a page, opaque to clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cursor {
    Seq(i64),
    TimeId(i64, Uuid),
    TextId(String, Uuid),
}

impl Cursor {
    pub fn from_text_and_id(text: &str, id: Uuid) -> Self {
        Self::TextId(text.to_owned(), id)
    }

    pub fn from_time_and_id(time: DateTime<Utc>, id: Uuid) -> Self {
        Self::TimeId(time.timestamp_micros(), id)
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a cursor serialises"))
    }

    pub fn decode(text: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::MalformedRequest("bad cursor".into());
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        match serde_json::from_slice(&bytes).map_err(|_| bad())? {
            // A forged cursor must not smuggle U+0000 into a query: PostgreSQL refuses it.
            Self::TextId(text, _) if text.contains('\0') => Err(bad()),
            cursor => Ok(cursor),
        }
    }

    fn mismatch() -> ApiError {
        ApiError::MalformedRequest("bad cursor".into())
    }

    pub fn seq(&self) -> Result<i64, ApiError> {
        match self {
            Self::Seq(seq) => Ok(*seq),
            _ => Err(Self::mismatch()),
        }
    }

    pub fn time(&self) -> Result<DateTime<Utc>, ApiError> {
        match self {
            Self::TimeId(micros, _) => DateTime::from_timestamp_micros(*micros).ok_or_else(Self::mismatch),
            _ => Err(Self::mismatch()),
        }
    }

    pub fn text(&self) -> Result<&str, ApiError> {
        match self {
            Self::TextId(text, _) => Ok(text),
            _ => Err(Self::mismatch()),
        }
    }

    pub fn id(&self) -> Result<Uuid, ApiError> {
        match self {
            Self::TimeId(_, id) | Self::TextId(_, id) => Ok(*id),
            Self::Seq(_) => Err(Self::mismatch()),
        }
    }
}

/// One page of rows; `next_cursor` is set when more rows follow.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` were loaded with `limit + 1`: the extra row only tells that a next page exists.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> Cursor) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|last| cursor_of(last).encode()) } else { None };
        Self { items: rows, next_cursor }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_400() {
        let c = Cursor::TextId("kim".into(), Uuid::nil());
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(matches!(Cursor::decode("!!"), Err(ApiError::MalformedRequest(_))));
        assert!(matches!(Cursor::decode(&URL_SAFE_NO_PAD.encode("{}")), Err(ApiError::MalformedRequest(_))));
        let forged = Cursor::TextId("a\0b".into(), Uuid::nil()).encode();
        assert!(matches!(Cursor::decode(&forged), Err(ApiError::MalformedRequest(_))));
    }

    #[test]
    fn a_full_page_has_a_next_cursor_and_the_last_page_none() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| Cursor::Seq(*n));
        assert_eq!(page.items, [1, 2]);
        assert_eq!(page.next_cursor, Some(Cursor::Seq(2).encode()));
        assert_eq!(Page::from_rows(vec![1, 2], 2, |n| Cursor::Seq(*n)).next_cursor, None);
    }
}
