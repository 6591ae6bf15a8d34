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
//!
//! A second level, `figure_rollup_years`, sums the roll-ups of each calendar year per
//! organisation, indicator, catalogue version, period type and publication level (over
//! municipalities and the periods of the type, with how many distinct periods and the latest
//! start): what views of whole years read, a few hundred rows per indicator and year. It is
//! refreshed, rebuilt and checked together with the roll-ups.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Double, Integer, Nullable, Text};

use crate::db::{Backend, DbConn};
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

const YEAR_COLUMNS: &str = "organisation_id, indicator, catalogue_version, year, period_type, \
    publication, periods, last_start, figures, value_sum, numerator, denominator, \
    respondents_weighted, respondents, cases_weighted, cases";

/// The calendar year of `period_start`, in the backend's SQL.
fn year_of(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "CAST(EXTRACT(YEAR FROM period_start) AS INTEGER)",
        Backend::Sqlite => "CAST(strftime('%Y', period_start) AS INTEGER)",
    }
}

/// The year level summed from roll-ups (`source`: the table, or a recomputation as a
/// subquery), restricted by `filter` (`WHERE ...` or empty).
fn years_from(backend: Backend, source: &str, filter: &str) -> String {
    let year = year_of(backend);
    format!(
        "SELECT organisation_id, indicator, catalogue_version, {year} AS year, period_type, \
         publication, COUNT(DISTINCT period_start) AS periods, MAX(period_start) AS last_start, \
         CAST(SUM(figures) AS BIGINT) AS figures, SUM(value_sum) AS value_sum, \
         CAST(SUM(numerator) AS BIGINT) AS numerator, \
         CAST(SUM(denominator) AS BIGINT) AS denominator, \
         SUM(respondents_weighted) AS respondents_weighted, \
         CAST(SUM(respondents) AS BIGINT) AS respondents, \
         SUM(cases_weighted) AS cases_weighted, CAST(SUM(cases) AS BIGINT) AS cases \
         FROM {source} {filter} \
         GROUP BY organisation_id, indicator, catalogue_version, {year}, period_type, publication"
    )
}

/// A date as an SQL literal both backends compare with their date columns.
fn date(d: NaiveDate) -> String {
    format!("'{}'", d.format("%Y-%m-%d"))
}

/// Recompute the roll-ups of one organisation's periods starting in `[from, to]`, and its year
/// roll-ups of the years they lie in (call in the transaction that changed what counts).
pub fn refresh(
    conn: &mut DbConn,
    organisation: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<()> {
    use chrono::Datelike;
    let range = format!(
        "organisation_id = {organisation} AND period_start >= {} AND period_start <= {}",
        date(from),
        date(to)
    );
    let (first, last) = (from.year(), to.year());
    let years = format!(
        "organisation_id = {organisation} AND period_start >= '{first:04}-01-01' \
         AND period_start <= '{last:04}-12-31'"
    );
    let backend = conn.backend();
    crate::with_conn!(conn, |c| {
        diesel::sql_query(format!("DELETE FROM figure_rollups WHERE {range}")).execute(c)?;
        diesel::sql_query(format!(
            "INSERT INTO figure_rollups ({COLUMNS}) {}",
            recomputed(&format!("AND {range}"))
        ))
        .execute(c)?;
        diesel::sql_query(format!(
            "DELETE FROM figure_rollup_years WHERE organisation_id = {organisation} \
             AND year >= {first} AND year <= {last}"
        ))
        .execute(c)?;
        diesel::sql_query(format!(
            "INSERT INTO figure_rollup_years ({YEAR_COLUMNS}) {}",
            years_from(backend, "figure_rollups", &format!("WHERE {years}"))
        ))
        .execute(c)
    })?;
    Ok(())
}

/// Recompute every roll-up; returns the number of rows.
pub fn rebuild(conn: &mut DbConn) -> AppResult<i64> {
    crate::db::transaction(conn, |conn| {
        let backend = conn.backend();
        crate::with_conn!(conn, |c| {
            diesel::sql_query("DELETE FROM figure_rollups").execute(c)?;
            diesel::sql_query(format!(
                "INSERT INTO figure_rollups ({COLUMNS}) {}",
                recomputed("")
            ))
            .execute(c)?;
            diesel::sql_query("DELETE FROM figure_rollup_years").execute(c)?;
            diesel::sql_query(format!(
                "INSERT INTO figure_rollup_years ({YEAR_COLUMNS}) {}",
                years_from(backend, "figure_rollups", "")
            ))
            .execute(c)
        })?;
        // Every view may have changed.
        crate::db::versions::bump_registry(conn)?;
        count(conn)
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
    #[diesel(embed)]
    sums: Sums,
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

    /// Equal keys and sums ([`Sums::same`]).
    fn same(&self, o: &Row) -> bool {
        sort_key(self) == sort_key(o) && self.sums.same(&o.sums)
    }
}

/// Where the roll-ups (and the year roll-ups) differ from a recomputation from the figures
/// (empty when equal).
pub fn check(conn: &mut DbConn) -> AppResult<Vec<String>> {
    let backend = conn.backend();
    let fresh_rollups = format!("({}) r", recomputed(""));
    let (kept, fresh, kept_years, fresh_years): (Vec<Row>, Vec<Row>, Vec<YearRow>, Vec<YearRow>) =
        crate::with_conn!(conn, |c| {
            let kept =
                diesel::sql_query(format!("SELECT {COLUMNS} FROM figure_rollups")).load(c)?;
            let fresh = diesel::sql_query(recomputed("")).load(c)?;
            let kept_years =
                diesel::sql_query(format!("SELECT {YEAR_COLUMNS} FROM figure_rollup_years"))
                    .load(c)?;
            let fresh_years = diesel::sql_query(years_from(backend, &fresh_rollups, "")).load(c)?;
            Ok::<_, diesel::result::Error>((kept, fresh, kept_years, fresh_years))
        })?;
    let mut out = differences(
        kept,
        fresh,
        |a, b| sort_key(a).cmp(&sort_key(b)),
        Row::same,
        Row::key,
    );
    out.extend(differences(
        kept_years,
        fresh_years,
        |a, b| a.sort_key().cmp(&b.sort_key()),
        YearRow::same,
        YearRow::key,
    ));
    Ok(out)
}

/// Compare kept rows with recomputed ones by key: what differs, what is kept without a
/// recomputed row, what is recomputed but not kept.
fn differences<R: std::fmt::Debug>(
    mut kept: Vec<R>,
    mut fresh: Vec<R>,
    order: impl Fn(&R, &R) -> std::cmp::Ordering,
    same: impl Fn(&R, &R) -> bool,
    describe: impl Fn(&R) -> String,
) -> Vec<String> {
    // Sorted here, not by the database: collations order text differently.
    kept.sort_by(&order);
    fresh.sort_by(&order);
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < kept.len() || j < fresh.len() {
        match (kept.get(i), fresh.get(j)) {
            (Some(a), Some(b)) if order(a, b).is_eq() => {
                if !same(a, b) {
                    out.push(format!("{}: kept {a:?}, recomputed {b:?}", describe(a)));
                }
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if order(a, b).is_lt() => {
                out.push(format!("{}: kept but no counted figure", describe(a)));
                i += 1;
            }
            (Some(_), Some(b)) | (None, Some(b)) => {
                out.push(format!("{}: counted figures but no roll-up", describe(b)));
                j += 1;
            }
            (Some(a), None) => {
                out.push(format!("{}: kept but no counted figure", describe(a)));
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// The summed components of a roll-up or year roll-up.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
struct Sums {
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

impl Sums {
    /// Equal, where sums of decimals may differ in their last bits by summation order.
    fn same(&self, o: &Sums) -> bool {
        fn close(a: Option<f64>, b: Option<f64>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
                (a, b) => a.is_none() && b.is_none(),
            }
        }
        self.figures == o.figures
            && self.numerator == o.numerator
            && self.denominator == o.denominator
            && self.respondents == o.respondents
            && self.cases == o.cases
            && close(self.value_sum, o.value_sum)
            && close(self.respondents_weighted, o.respondents_weighted)
            && close(self.cases_weighted, o.cases_weighted)
    }
}

#[derive(Debug, Clone, PartialEq, QueryableByName)]
struct YearRow {
    #[diesel(sql_type = BigInt)]
    organisation_id: i64,
    #[diesel(sql_type = Text)]
    indicator: String,
    #[diesel(sql_type = Text)]
    catalogue_version: String,
    #[diesel(sql_type = Integer)]
    year: i32,
    #[diesel(sql_type = Text)]
    period_type: String,
    #[diesel(sql_type = Text)]
    publication: String,
    #[diesel(sql_type = BigInt)]
    periods: i64,
    #[diesel(sql_type = Date)]
    last_start: NaiveDate,
    #[diesel(embed)]
    sums: Sums,
}

impl YearRow {
    fn sort_key(&self) -> (i64, &str, &str, i32, &str, &str) {
        (
            self.organisation_id,
            &self.indicator,
            &self.catalogue_version,
            self.year,
            &self.period_type,
            &self.publication,
        )
    }

    fn key(&self) -> String {
        format!(
            "year roll-up: organisation {} {} ({}) {} {} {}",
            self.organisation_id,
            self.indicator,
            self.catalogue_version,
            self.year,
            self.period_type,
            self.publication
        )
    }

    fn same(&self, o: &YearRow) -> bool {
        self.sort_key() == o.sort_key()
            && self.periods == o.periods
            && self.last_start == o.last_start
            && self.sums.same(&o.sums)
    }
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
