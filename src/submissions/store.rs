//! The write path of a post: idempotency, validation, plausibility, and one transaction that
//! stores the whole revision or nothing. Figures go in with COPY on PostgreSQL and with
//! multi-row inserts on SQLite.

use std::collections::HashMap;

use diesel::prelude::*;

use super::input::RawSubmission;
use super::validate::{self, Context, ValidSubmission};
use super::{Action, Figure, PostOutcome, RevisionKind, Status, add_event};
use crate::auth::Caller;
use crate::catalogue::Catalogue;
use crate::db::schema::{figures, idempotency_keys, submission_revisions, submissions};
use crate::db::{DbConn, transaction};
use crate::error::{AppError, AppResult};
use crate::period::Period;
use crate::registry::{Reference, organisations};

/// How to post.
#[derive(Debug, Clone, Default)]
pub struct PostOptions {
    /// Validate and return what would be stored; store nothing.
    pub dry_run: bool,
    /// Offer the new revision for review at once (draft otherwise).
    pub submit: bool,
    /// Retries with the same key return the first result; another body with it is refused.
    pub idempotency_key: Option<String>,
    /// Fingerprint of the request (content type, parameters and body).
    pub request_hash: String,
}

pub fn request_hash(parts: &[&[u8]]) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Insertable)]
#[diesel(table_name = submission_revisions)]
pub(crate) struct NewRevision {
    pub submission_id: i64,
    pub revision: i32,
    pub kind: String,
    pub catalogue_version: String,
    pub publication: String,
    pub status: String,
    pub posted_by: String,
    pub posted_at: chrono::NaiveDateTime,
    pub figure_count: i32,
    pub warning_count: i32,
    pub return_reason: Option<String>,
}

pub(crate) fn insert_revision(conn: &mut DbConn, rev: &NewRevision) -> AppResult<i64> {
    Ok(diesel::insert_into(submission_revisions::table)
        .values(rev)
        .returning(submission_revisions::id)
        .get_result(conn)?)
}

#[derive(Insertable)]
#[diesel(table_name = figures, treat_none_as_default_value = false)]
pub(crate) struct NewFigureRow {
    pub revision_id: i64,
    pub submission_id: i64,
    pub organisation_id: i64,
    pub period_type: String,
    pub period_start: chrono::NaiveDate,
    pub period_end: chrono::NaiveDate,
    pub catalogue_version: String,
    pub indicator: String,
    pub municipality: Option<String>,
    pub value: Option<f64>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub respondents: Option<i64>,
    pub cases: Option<i64>,
    pub note: Option<String>,
    pub warnings: Option<String>,
    pub publication: String,
    pub counted: bool,
}

/// Bulk insert: COPY (binary) on PostgreSQL; multi-row INSERTs within SQLite's variable limit.
pub(crate) fn insert_figures(conn: &mut DbConn, rows: &[NewFigureRow]) -> AppResult<()> {
    match conn {
        DbConn::Pg(c) => {
            diesel::copy_from(figures::table)
                .from_insertable(rows)
                .execute(c)?;
        }
        DbConn::Sqlite(c) => {
            // 18 columns per row; SQLite allows 32,766 bound variables per statement.
            for chunk in rows.chunks(1_500) {
                diesel::insert_into(figures::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// Move the `counted` mark from one revision's figures to another's.
pub(crate) fn set_counted(
    conn: &mut DbConn,
    submission_id: i64,
    old: Option<i64>,
    new: Option<i64>,
    new_already_marked: bool,
) -> AppResult<()> {
    if old == new {
        return Ok(());
    }
    // What the change touches: the indicators and periods of both revisions' figures.
    let revisions: Vec<i64> = old.into_iter().chain(new).collect();
    let touched: Vec<(String, chrono::NaiveDate)> = figures::table
        .filter(figures::revision_id.eq_any(&revisions))
        .select((figures::indicator, figures::period_start))
        .distinct()
        .load(conn)?;
    if let Some(old) = old {
        diesel::update(figures::table.filter(figures::revision_id.eq(old)))
            .set(figures::counted.eq(false))
            .execute(conn)?;
    }
    if let Some(new) = new
        && !new_already_marked
    {
        diesel::update(figures::table.filter(figures::revision_id.eq(new)))
            .set(figures::counted.eq(true))
            .execute(conn)?;
    }
    diesel::update(submissions::table.find(submission_id))
        .set(submissions::counted_revision_id.eq(new))
        .execute(conn)?;
    if let (Some(from), Some(to)) = (
        touched.iter().map(|t| t.1).min(),
        touched.iter().map(|t| t.1).max(),
    ) {
        let organisation: i64 = submissions::table
            .find(submission_id)
            .select(submissions::organisation_id)
            .first(conn)?;
        crate::rollups::refresh(conn, organisation, from, to)?;
    }
    crate::db::versions::bump_figures(conn, &touched).map(|_| ())
}

/// The organisation's latest counted figure per (indicator, municipality) of the same period
/// type, within a year before `period`.
fn previous_values(
    conn: &mut DbConn,
    organisation_id: i64,
    sub: &ValidSubmission,
) -> AppResult<validate::Previous> {
    let period = sub.period;
    let window_start = period
        .start()
        .checked_sub_months(chrono::Months::new(12))
        .unwrap_or(period.start());
    type Row = (
        String,
        Option<String>,
        chrono::NaiveDate,
        Option<f64>,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Row> = figures::table
        .filter(figures::organisation_id.eq(organisation_id))
        .filter(figures::counted)
        .filter(figures::period_type.eq(period.kind.as_str()))
        .filter(figures::period_start.ge(window_start))
        .filter(figures::period_start.lt(period.start()))
        .select((
            figures::indicator,
            figures::municipality,
            figures::period_start,
            figures::value,
            figures::numerator,
            figures::denominator,
        ))
        .load(conn)?;
    let kinds: HashMap<&str, crate::catalogue::Kind> = sub
        .figures
        .iter()
        .map(|f| (f.indicator.as_str(), f.kind))
        .collect();
    let mut latest: HashMap<validate::FigureKey, (chrono::NaiveDate, f64)> = HashMap::new();
    for (ind, muni, start, value, num, den) in rows {
        let Some(kind) = kinds.get(ind.as_str()) else {
            continue;
        };
        let Some(v) = validate::comparable(*kind, value, num, den) else {
            continue;
        };
        let slot = latest.entry((ind, muni)).or_insert((start, v));
        if start >= slot.0 {
            *slot = (start, v);
        }
    }
    Ok(latest
        .into_iter()
        .map(|(k, (start, v))| (k, (Period::containing(start, period.kind).label(), v)))
        .collect())
}

fn find_idempotent(
    conn: &mut DbConn,
    organisation_id: i64,
    key: &str,
    hash: &str,
) -> AppResult<Option<PostOutcome>> {
    let found: Option<(String, String)> = idempotency_keys::table
        .find((organisation_id, key))
        .select((idempotency_keys::request_hash, idempotency_keys::response))
        .first(conn)
        .optional()?;
    match found {
        None => Ok(None),
        Some((stored_hash, _)) if stored_hash != hash => Err(AppError::conflict(
            "IDEMPOTENCY_KEY_REUSED",
            "this Idempotency-Key was used before with a different request; use a new key",
        )),
        Some((_, response)) => {
            let mut outcome: PostOutcome = serde_json::from_str(&response)
                .map_err(|e| AppError::internal(format!("stored response: {e}")))?;
            outcome.replayed = true;
            Ok(Some(outcome))
        }
    }
}

fn check_key(key: &str) -> AppResult<()> {
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::validation(
            "Idempotency-Key",
            "invalid_idempotency_key",
            "1-200 printable ASCII characters, e.g. a UUID",
        ));
    }
    Ok(())
}

fn to_figure(f: &validate::ValidFigure) -> Figure {
    Figure {
        indicator: f.indicator.clone(),
        municipality: f.municipality.clone(),
        value: f.value,
        numerator: f.numerator,
        denominator: f.denominator,
        respondents: f.respondents,
        cases: f.cases,
        percentage: match (f.kind, f.numerator, f.denominator) {
            (crate::catalogue::Kind::Ratio, Some(n), Some(d)) if d > 0 => {
                Some(100.0 * n as f64 / d as f64)
            }
            _ => None,
        },
        note: f.note.clone(),
        warnings: f.warnings.iter().map(|w| w.to_string()).collect(),
    }
}

/// Post a submission for an organisation: validate everything, then store a new revision
/// atomically (or, for a dry run, return exactly what would be stored).
pub fn post(
    conn: &mut DbConn,
    catalogue: &Catalogue,
    reference: &Reference,
    caller: &Caller,
    organisation_id: i64,
    raw: RawSubmission,
    opts: &PostOptions,
) -> AppResult<PostOutcome> {
    caller.require_write_org(organisation_id)?;
    let org = organisations::get(conn, reference, organisation_id)?;
    if !org.active {
        return Err(AppError::conflict(
            "ORGANISATION_INACTIVE",
            "the organisation is deactivated",
        ));
    }
    let key = opts.idempotency_key.as_deref().filter(|_| !opts.dry_run);
    if let Some(key) = key {
        check_key(key)?;
        if let Some(outcome) = find_idempotent(conn, organisation_id, key, &opts.request_hash)? {
            return Ok(outcome);
        }
    }
    let ctx = Context {
        catalogue,
        reference,
        organisation: &org,
        today: chrono::Utc::now().date_naive(),
    };
    let mut sub = validate::validate(raw, &ctx).map_err(AppError::Validation)?;
    let previous = previous_values(conn, organisation_id, &sub)?;
    validate::plausibility(&mut sub, &previous);
    let status = if opts.submit {
        Status::Submitted
    } else {
        Status::Draft
    };
    let existing: Option<(i64, i32)> = submissions::table
        .filter(submissions::organisation_id.eq(organisation_id))
        .filter(submissions::period.eq(sub.period.code()))
        .select((submissions::id, submissions::latest_revision))
        .first(conn)
        .optional()?;
    if opts.dry_run {
        return Ok(PostOutcome {
            dry_run: true,
            replayed: false,
            submission_id: existing.map(|e| e.0),
            organisation_id,
            revision: existing.map(|e| e.1).unwrap_or(0) + 1,
            status,
            period: sub.period.info(),
            publication: sub.publication,
            catalogue_version: sub.catalogue_version.clone(),
            figure_count: sub.figures.len() as i32,
            warnings: sub.warnings.clone(),
            figures: Some(sub.figures.iter().map(to_figure).collect()),
        });
    }
    let stored = transaction(conn, |conn| {
        if let Some(key) = key
            && let Some(outcome) = find_idempotent(conn, organisation_id, key, &opts.request_hash)?
        {
            return Ok(outcome);
        }
        store(conn, caller, organisation_id, &sub, opts, status, key)
    });
    match (stored, key) {
        // Two posts with one key at once: the other committed first (PostgreSQL made this one
        // wait for it). Its result is the answer, as for any retry.
        (Err(AppError::Conflict { code: KEY_RACE, .. }), Some(key)) => {
            match find_idempotent(conn, organisation_id, key, &opts.request_hash)? {
                Some(outcome) => Ok(outcome),
                None => Err(AppError::conflict(
                    "IDEMPOTENCY_KEY_IN_PROGRESS",
                    "a request with this Idempotency-Key is being processed; retry shortly",
                )),
            }
        }
        (other, _) => other,
    }
}

/// The code of a concurrent insert of the same idempotency key (internal; never answered).
const KEY_RACE: &str = "IDEMPOTENCY_KEY_RACE";

#[allow(clippy::too_many_arguments)]
fn store(
    conn: &mut DbConn,
    caller: &Caller,
    organisation_id: i64,
    sub: &ValidSubmission,
    opts: &PostOptions,
    status: Status,
    key: Option<&str>,
) -> AppResult<PostOutcome> {
    let now = crate::db::now();
    let period = sub.period;
    // Create the submission if it is new; then lock it (PostgreSQL) so concurrent posts for
    // the same organisation and period take turns (SQLite's BEGIN IMMEDIATE already does).
    let new_row = (
        submissions::organisation_id.eq(organisation_id),
        submissions::period.eq(period.code()),
        submissions::period_type.eq(period.kind.as_str()),
        submissions::period_start.eq(period.start()),
        submissions::period_end.eq(period.end()),
        submissions::latest_revision.eq(0),
        submissions::counted_revision_id.eq(None::<i64>),
        submissions::created_at.eq(now),
        submissions::updated_at.eq(now),
    );
    crate::with_conn!(conn, |c| diesel::insert_into(submissions::table)
        .values(new_row)
        .on_conflict((submissions::organisation_id, submissions::period))
        .do_nothing()
        .execute(c))?;
    let mine = submissions::organisation_id
        .eq(organisation_id)
        .and(submissions::period.eq(period.code()));
    let row: super::SubmissionRow = match conn {
        DbConn::Pg(c) => submissions::table
            .filter(mine)
            .select(super::SubmissionRow::as_select())
            .for_update()
            .first(c)?,
        DbConn::Sqlite(c) => submissions::table
            .filter(mine)
            .select(super::SubmissionRow::as_select())
            .first(c)?,
    };
    let revision = row.latest_revision + 1;
    let rev_id = insert_revision(
        conn,
        &NewRevision {
            submission_id: row.id,
            revision,
            kind: RevisionKind::Figures.as_str().to_owned(),
            catalogue_version: sub.catalogue_version.clone(),
            publication: sub.publication.as_str().to_owned(),
            status: status.as_str().to_owned(),
            posted_by: caller.actor(),
            posted_at: now,
            figure_count: sub.figures.len() as i32,
            warning_count: sub.warnings.len() as i32,
            return_reason: None,
        },
    )?;
    let counted = opts.submit;
    let rows: Vec<NewFigureRow> = sub
        .figures
        .iter()
        .map(|f| NewFigureRow {
            revision_id: rev_id,
            submission_id: row.id,
            organisation_id,
            period_type: period.kind.as_str().to_owned(),
            period_start: period.start(),
            period_end: period.end(),
            catalogue_version: sub.catalogue_version.clone(),
            indicator: f.indicator.clone(),
            municipality: f.municipality.clone(),
            value: f.value,
            numerator: f.numerator,
            denominator: f.denominator,
            respondents: f.respondents,
            cases: f.cases,
            note: f.note.clone(),
            warnings: (!f.warnings.is_empty()).then(|| f.warnings.join(",")),
            publication: sub.publication.as_str().to_owned(),
            counted,
        })
        .collect();
    insert_figures(conn, &rows)?;
    add_event(conn, row.id, rev_id, Action::Posted, caller, None)?;
    if opts.submit {
        add_event(conn, row.id, rev_id, Action::Submitted, caller, None)?;
        // A newly submitted newest revision is the one views count.
        set_counted(conn, row.id, row.counted_revision_id, Some(rev_id), true)?;
        organisations::refresh_provides_help(conn, organisation_id)?;
    }
    diesel::update(submissions::table.find(row.id))
        .set((
            submissions::latest_revision.eq(revision),
            submissions::updated_at.eq(now),
        ))
        .execute(conn)?;
    let outcome = PostOutcome {
        dry_run: false,
        replayed: false,
        submission_id: Some(row.id),
        organisation_id,
        revision,
        status,
        period: period.info(),
        publication: sub.publication,
        catalogue_version: sub.catalogue_version.clone(),
        figure_count: sub.figures.len() as i32,
        warnings: sub.warnings.clone(),
        figures: None,
    };
    if let Some(key) = key {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::organisation_id.eq(organisation_id),
                idempotency_keys::key.eq(key),
                idempotency_keys::request_hash.eq(&opts.request_hash),
                idempotency_keys::submission_id.eq(row.id),
                idempotency_keys::revision_id.eq(rev_id),
                idempotency_keys::response.eq(serde_json::to_string(&outcome)
                    .map_err(|e| AppError::internal(e.to_string()))?),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(conn)
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => AppError::conflict(KEY_RACE, "idempotency key taken meanwhile"),
                other => other.into(),
            })?;
    }
    Ok(outcome)
}
