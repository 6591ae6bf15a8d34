//! Roll-ups: the counted figures summed per organisation, indicator, catalogue version, period,
//! municipality and publication level, holding exactly the components pooling needs (sums of
//! values, numerators and denominators, value x respondents and value x cases with their
//! weights, and the number of figures). Views read these, never the raw figures
//! ([`crate::views::fetch`]).
//!
//! They are kept in the same transaction as every change of what counts: submitting,
//! accepting, returning or withdrawing a revision recomputes the roll-ups of that organisation's
//! periods from its counted figures ([`refresh`]). `basisset rollup rebuild` recomputes all of
//! them; `basisset rollup check` (and a test) compares them with a recomputation.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Double, Nullable, Text};

use crate::db::DbConn;
use crate::error::AppResult;

/// The recomputation from the figures, as SQL shared by [`refresh`], [`rebuild`] and [`check`]
/// (one text for both backends).
fn recomputed(filter: &str) -> String {
    format!(
        "SELECT organisation_id, indicator, catalogue_version, period_type, period_start, \
         period_end, COALESCE(municipality, '') AS municipality, publication, \
         COUNT(*) AS figures, SUM(value) AS value_sum, \
         CAST(SUM(numerator) AS BIGINT) AS numerator, \
         CAST(SUM(denominator) AS BIGINT) AS denominator, \
         SUM(value * respondents) AS respondents_weighted, \
         CAST(SUM(respondents) AS BIGINT) AS respondents, \
         SUM(value * cases) AS cases_weighted, CAST(SUM(cases) AS BIGINT) AS cases \
         FROM figures WHERE counted {filter} \
         GROUP BY organisation_id, indicator, catalogue_version, period_type, period_start, \
         period_end, COALESCE(municipality, ''), publication"
    )
}

const COLUMNS: &str = "organisation_id, indicator, catalogue_version, period_type, \
    period_start, period_end, municipality, publication, figures, value_sum, numerator, \
    denominator, respondents_weighted, respondents, cases_weighted, cases";

/// A date as an SQL literal both backends compare with their date columns.
fn date(d: NaiveDate) -> String {
    format!("'{}'", d.format("%Y-%m-%d"))
}

/// Recompute the roll-ups of one organisation's periods starting in `[from, to]` (call in the
/// transaction that changed what counts).
pub fn refresh(
    conn: &mut DbConn,
    organisation: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<()> {
    let range = format!(
        "organisation_id = {organisation} AND period_start >= {} AND period_start <= {}",
        date(from),
        date(to)
    );
    crate::with_conn!(conn, |c| {
        diesel::sql_query(format!("DELETE FROM figure_rollups WHERE {range}")).execute(c)?;
        diesel::sql_query(format!(
            "INSERT INTO figure_rollups ({COLUMNS}) {}",
            recomputed(&format!("AND {range}"))
        ))
        .execute(c)
    })?;
    Ok(())
}

/// Recompute every roll-up; returns the number of rows.
pub fn rebuild(conn: &mut DbConn) -> AppResult<i64> {
    crate::db::transaction(conn, |conn| {
        crate::with_conn!(conn, |c| {
            diesel::sql_query("DELETE FROM figure_rollups").execute(c)?;
            diesel::sql_query(format!(
                "INSERT INTO figure_rollups ({COLUMNS}) {}",
                recomputed("")
            ))
            .execute(c)
        })?;
        // Every view may have changed.
        crate::db::versions::bump_registry(conn)?;
        Ok(count(conn)?)
    })
}

/// Rows in the roll-up table.
pub fn count(conn: &mut DbConn) -> AppResult<i64> {
    use crate::db::schema::figure_rollups;
    Ok(figure_rollups::table.count().get_result(conn)?)
}

#[derive(Debug, Clone, PartialEq, QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    organisation_id: i64,
    #[diesel(sql_type = Text)]
    indicator: String,
    #[diesel(sql_type = Text)]
    catalogue_version: String,
    #[diesel(sql_type = Text)]
    period_type: String,
    #[diesel(sql_type = Date)]
    period_start: NaiveDate,
    #[diesel(sql_type = Date)]
    period_end: NaiveDate,
    #[diesel(sql_type = Text)]
    municipality: String,
    #[diesel(sql_type = Text)]
    publication: String,
    #[diesel(sql_type = BigInt)]
    figures: i64,
    #[diesel(sql_type = Nullable<Double>)]
    value_sum: Option<f64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    numerator: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    denominator: Option<i64>,
    #[diesel(sql_type = Nullable<Double>)]
    respondents_weighted: Option<f64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    respondents: Option<i64>,
    #[diesel(sql_type = Nullable<Double>)]
    cases_weighted: Option<f64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    cases: Option<i64>,
}

impl Row {
    fn key(&self) -> String {
        format!(
            "organisation {} {} ({}) {} {} municipality {:?} {}",
            self.organisation_id,
            self.indicator,
            self.catalogue_version,
            self.period_type,
            self.period_start,
            self.municipality,
            self.publication
        )
    }

    /// Equal, where sums of decimals may differ in their last bits by summation order.
    fn same(&self, o: &Row) -> bool {
        fn close(a: Option<f64>, b: Option<f64>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
                (a, b) => a.is_none() && b.is_none(),
            }
        }
        sort_key(self) == sort_key(o)
            && self.figures == o.figures
            && self.numerator == o.numerator
            && self.denominator == o.denominator
            && self.respondents == o.respondents
            && self.cases == o.cases
            && close(self.value_sum, o.value_sum)
            && close(self.respondents_weighted, o.respondents_weighted)
            && close(self.cases_weighted, o.cases_weighted)
    }
}

/// Where the roll-ups differ from a recomputation from the figures (empty when equal).
pub fn check(conn: &mut DbConn) -> AppResult<Vec<String>> {
    let (mut kept, mut fresh): (Vec<Row>, Vec<Row>) = crate::with_conn!(conn, |c| {
        let kept = diesel::sql_query(format!("SELECT {COLUMNS} FROM figure_rollups")).load(c)?;
        let fresh = diesel::sql_query(recomputed("")).load(c)?;
        Ok::<_, diesel::result::Error>((kept, fresh))
    })?;
    // Sorted here, not by the database: collations order text differently.
    kept.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    fresh.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < kept.len() || j < fresh.len() {
        match (kept.get(i), fresh.get(j)) {
            (Some(a), Some(b)) if sort_key(a) == sort_key(b) => {
                if !a.same(b) {
                    out.push(format!("{}: kept {a:?}, recomputed {b:?}", a.key()));
                }
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if sort_key(a) < sort_key(b) => {
                out.push(format!("{}: kept but no counted figure", a.key()));
                i += 1;
            }
            (Some(_), Some(b)) | (None, Some(b)) => {
                out.push(format!("{}: counted figures but no roll-up", b.key()));
                j += 1;
            }
            (Some(a), None) => {
                out.push(format!("{}: kept but no counted figure", a.key()));
                i += 1;
            }
            (None, None) => break,
        }
    }
    Ok(out)
}

type SortKey<'a> = (
    i64,
    &'a str,
    &'a str,
    &'a str,
    NaiveDate,
    NaiveDate,
    &'a str,
    &'a str,
);

fn sort_key(r: &Row) -> SortKey<'_> {
    (
        r.organisation_id,
        &r.indicator,
        &r.catalogue_version,
        &r.period_type,
        r.period_start,
        r.period_end,
        &r.municipality,
        &r.publication,
    )
}
