//! Hand-written SQL that PostgreSQL plans once per connection.
//!
//! Diesel's own `sql_query` marks itself unsafe to cache, so every call is parsed and planned
//! again: for the card statements (CTEs over four tables) planning cost about 0.2 ms per call,
//! half of PostgreSQL's work for a stamp (docs/performance.md). A [`Statement`] has a fixed
//! text, so Diesel's prepared-statement cache keys it by that text and reuses the plan.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bytea, Integer, Nullable, Text, Untyped, Uuid as SqlUuid};
use diesel::{PgConnection, QueryResult, RunQueryDsl};
use uuid::Uuid;

/// A bind parameter of a [`Statement`].
#[derive(Debug, Clone)]
pub enum Bind {
    Uuid(Uuid),
    Uuids(Vec<Uuid>),
    Text(String),
    Int(i32),
    BigInt(i64),
    OptionalText(Option<String>),
    Bytes(Vec<Vec<u8>>),
}

/// SQL with `$1`, `$2`, ... placeholders and their values; load rows with `QueryableByName`.
#[derive(Debug, Clone)]
pub struct Statement {
    sql: String,
    binds: Vec<Bind>,
}

impl Statement {
    pub fn new(sql: impl Into<String>) -> Self {
        Self { sql: sql.into(), binds: Vec::new() }
    }

    /// Adds the value of the next placeholder.
    pub fn bind(mut self, value: Bind) -> Self {
        self.binds.push(value);
        self
    }
}

impl QueryFragment<Pg> for Statement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Diesel numbers bind parameters itself, in order of appearance: each `$n` of the text
        // becomes a fresh parameter carrying value n (a value used twice is sent twice).
        let mut rest = self.sql.as_str();
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
            let index: usize = rest[at + 1..at + 1 + digits].parse().map_err(|_| placeholder_error(&self.sql))?;
            match self.binds.get(index.wrapping_sub(1)).ok_or_else(|| placeholder_error(&self.sql))? {
                Bind::Uuid(value) => out.push_bind_param::<SqlUuid, _>(value)?,
                Bind::Uuids(value) => out.push_bind_param::<Array<SqlUuid>, _>(value)?,
                Bind::Text(value) => out.push_bind_param::<Text, _>(value)?,
                Bind::Int(value) => out.push_bind_param::<Integer, _>(value)?,
                Bind::BigInt(value) => out.push_bind_param::<BigInt, _>(value)?,
                Bind::OptionalText(value) => out.push_bind_param::<Nullable<Text>, _>(value)?,
                Bind::Bytes(value) => out.push_bind_param::<Array<Bytea>, _>(value)?,
            }
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

fn placeholder_error(sql: &str) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("bad placeholder in {sql:?}").into())
}

impl QueryId for Statement {
    type QueryId = ();
    // No static id: the cache keys the statement by its SQL text (and bind types) instead.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for Statement {}
