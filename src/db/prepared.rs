//! Statements with a fixed text, prepared once per connection and reused.
//!
//! diesel keeps a prepared statement per connection for every query that says it is safe to
//! cache, keyed by its SQL text. Queries built from `sql()` fragments or `sql_query` never say
//! so (their text could differ per call), and `eq_any` over a list does not on SQLite (the
//! number of `?` varies); such queries are parsed and planned again on every request. The hot
//! view queries are therefore written as a [`Fixed`] statement: one constant text per backend,
//! values only as bind parameters, so each is parsed once per pooled connection.

use std::marker::PhantomData;

use chrono::NaiveDate;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, Date, Integer, Text};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, RunQueryDsl};

/// A value bound to one `?` of a [`Fixed`] statement.
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Int(i32),
    Date(NaiveDate),
    /// Membership in a list of texts. The `?` stands for the whole test, so write `column ?`:
    /// PostgreSQL gets `column = ANY($n)` (one array parameter), SQLite
    /// `column IN (SELECT value FROM json_each(?))` (one JSON parameter). Either way the text
    /// is the same whatever the length of the list.
    TextIn {
        list: Vec<String>,
        json: String,
    },
}

impl Bind {
    pub fn text_in(list: &[String]) -> Bind {
        Bind::TextIn {
            list: list.to_vec(),
            json: serde_json::to_string(list).unwrap_or_else(|_| "[]".into()),
        }
    }
}

/// A query with a constant SQL text (`?` for each [`Bind`], in order) whose rows have the SQL
/// types `ST`. Safe to cache: the text never depends on the values.
#[derive(Debug, Clone)]
pub struct Fixed<ST> {
    sql: &'static str,
    binds: Vec<Bind>,
    rows: PhantomData<ST>,
}

impl<ST> Fixed<ST> {
    pub fn new(sql: &'static str, binds: Vec<Bind>) -> Self {
        debug_assert_eq!(
            sql.matches('?').count(),
            binds.len(),
            "one bind per ? in {sql}"
        );
        Fixed {
            sql,
            binds,
            rows: PhantomData,
        }
    }

    fn walk<'b, DB: diesel::backend::Backend>(
        &'b self,
        mut out: AstPass<'_, 'b, DB>,
        mut bind: impl FnMut(&'b Bind, &mut AstPass<'_, 'b, DB>) -> QueryResult<()>,
    ) -> QueryResult<()> {
        let mut pieces = self.sql.split('?');
        out.push_sql(pieces.next().unwrap_or_default());
        let mut binds = self.binds.iter();
        for piece in pieces {
            let b = binds.next().ok_or_else(|| {
                diesel::result::Error::QueryBuilderError(
                    format!("no value for a ? in {}", self.sql).into(),
                )
            })?;
            bind(b, &mut out)?;
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl<ST> QueryId for Fixed<ST> {
    type QueryId = ();
    // The cache key is then the SQL text (and bind types), which is constant per statement.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST: diesel::sql_types::SqlType + diesel::query_builder::QueryId + 'static> Query
    for Fixed<ST>
{
    type SqlType = ST;
}

impl<ST, Conn> RunQueryDsl<Conn> for Fixed<ST> {}

impl<ST> QueryFragment<Pg> for Fixed<ST> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.walk(out, |b, out| match b {
            Bind::Text(s) => out.push_bind_param::<Text, _>(s),
            Bind::Int(i) => out.push_bind_param::<Integer, _>(i),
            Bind::Date(d) => out.push_bind_param::<Date, _>(d),
            Bind::TextIn { list, .. } => {
                out.push_sql("= ANY(");
                out.push_bind_param::<Array<Text>, _>(list)?;
                out.push_sql(")");
                Ok(())
            }
        })
    }
}

impl<ST> QueryFragment<Sqlite> for Fixed<ST> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.walk(out, |b, out| match b {
            Bind::Text(s) => out.push_bind_param::<Text, _>(s),
            Bind::Int(i) => out.push_bind_param::<Integer, _>(i),
            Bind::Date(d) => out.push_bind_param::<Date, _>(d),
            Bind::TextIn { json, .. } => {
                out.push_sql("IN (SELECT value FROM json_each(");
                out.push_bind_param::<Text, _>(json)?;
                out.push_sql("))");
                Ok(())
            }
        })
    }
}
