//! Submissions: one organisation x one period, posted as revisions of figures, reviewed by the
//! Associatie. Nothing accepted is lost or overwritten: a correction is a new revision, a
//! withdrawal is a revision too, and the whole history stays readable.
//!
//! Workflow per revision: `draft` -> `submitted` (team) -> `accepted` | `returned` (Associatie).
//! Views count one revision per submission: the newest `submitted` or `accepted` revision that
//! no withdrawal follows ([`recompute_counted`]).

pub mod input;
pub mod numbers;
pub(crate) mod store;
pub mod validate;

use crate::dates::Timestamp;
use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

pub use input::{FigureInput, Publication, RawSubmission, SubmissionInput};
pub use store::{PostOptions, post, request_hash};

use crate::auth::{Caller, Role};
use crate::db::schema::{figures, submission_events, submission_revisions, submissions};
use crate::db::{DbConn, utc};
use crate::error::{AppError, AppResult, FieldIssue};
use crate::period::{Period, PeriodInfo};

crate::text_enum! {
    /// Workflow status of a revision.
    pub enum Status {
        /// Posted, not yet offered for review; not counted in views.
        Draft = "draft",
        /// Offered for review; counted in views.
        Submitted = "submitted",
        /// Accepted by the Associatie; counted in views.
        Accepted = "accepted",
        /// Returned by the Associatie with a reason; not counted.
        Returned = "returned",
        /// A withdrawal: the submission's figures no longer count.
        Withdrawn = "withdrawn",
    }
}

crate::text_enum! {
    /// What a revision holds.
    pub enum RevisionKind {
        Figures = "figures",
        Withdrawal = "withdrawal",
    }
}

crate::text_enum! {
    /// An event in a submission's history.
    pub enum Action {
        Posted = "posted",
        Submitted = "submitted",
        Accepted = "accepted",
        Returned = "returned",
        Withdrawn = "withdrawn",
    }
}

crate::text_enum! {
    /// How a figure differs between two revisions.
    pub enum ChangeKind {
        Added = "added",
        Removed = "removed",
        Changed = "changed",
    }
}

/// A submission, as of its newest revision.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, async_graphql::SimpleObject, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    pub id: i64,
    pub organisation_id: i64,
    pub period: PeriodInfo,
    /// Status of the newest revision.
    pub status: Status,
    pub latest_revision: i32,
    /// The revision views count, if any.
    pub counted_revision: Option<i32>,
    pub publication: Publication,
    pub catalogue_version: String,
    /// Figures in the newest revision.
    pub figure_count: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, async_graphql::SimpleObject, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub revision: i32,
    pub kind: RevisionKind,
    pub status: Status,
    pub catalogue_version: String,
    pub publication: Publication,
    /// Client id of who posted it.
    pub posted_by: String,
    pub posted_at: Timestamp,
    pub figure_count: i32,
    pub warning_count: i32,
    pub return_reason: Option<String>,
    /// Whether views count this revision now.
    pub counted: bool,
}

#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, async_graphql::SimpleObject, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Figure {
    pub indicator: String,
    pub municipality: Option<String>,
    pub value: Option<f64>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub respondents: Option<i64>,
    pub cases: Option<i64>,
    /// Ratios: 100 * numerator / denominator (derived).
    pub percentage: Option<f64>,
    pub note: Option<String>,
    /// Plausibility warning codes kept with the figure.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionDetail {
    pub submission: Submission,
    /// The revision shown (the newest unless asked otherwise).
    pub revision: Revision,
    pub figures: Vec<Figure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub revision: i32,
    pub action: Action,
    /// Client id of who did it.
    pub actor: String,
    pub at: Timestamp,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct History {
    pub submission: Submission,
    /// Every revision, oldest first.
    pub revisions: Vec<Revision>,
    /// Every workflow event, oldest first.
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FigureChange {
    pub indicator: String,
    pub municipality: Option<String>,
    pub change: ChangeKind,
    pub before: Option<Figure>,
    pub after: Option<Figure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevisionDiff {
    pub submission_id: i64,
    pub from: i32,
    pub to: i32,
    pub changes: Vec<FigureChange>,
    /// Figures equal in both revisions.
    pub unchanged: i32,
}

/// What a post did (or, for a dry run, would do).
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, async_graphql::SimpleObject, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct PostOutcome {
    pub dry_run: bool,
    /// True when an `Idempotency-Key` was seen before: this is the first post's result.
    pub replayed: bool,
    /// Null for a dry run of a submission that does not exist yet.
    pub submission_id: Option<i64>,
    pub organisation_id: i64,
    /// The revision created (or that would be created).
    pub revision: i32,
    pub status: Status,
    pub period: PeriodInfo,
    pub publication: Publication,
    pub catalogue_version: String,
    pub figure_count: i32,
    /// Plausibility warnings; they do not block.
    pub warnings: Vec<FieldIssue>,
    /// Dry runs: exactly the figures that would be stored.
    pub figures: Option<Vec<Figure>>,
}

#[derive(Debug, Clone, Default)]
pub struct SubmissionFilter {
    pub organisation_id: Option<i64>,
    pub period: Option<String>,
    pub status: Option<Status>,
    pub indicator: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

// ---- rows

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = submissions)]
pub(crate) struct SubmissionRow {
    pub id: i64,
    pub organisation_id: i64,
    pub period: String,
    pub latest_revision: i32,
    pub counted_revision_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = submission_revisions)]
pub(crate) struct RevisionRow {
    pub id: i64,
    pub revision: i32,
    pub kind: String,
    pub catalogue_version: String,
    pub publication: String,
    pub status: String,
    pub posted_by: String,
    pub posted_at: NaiveDateTime,
    pub figure_count: i32,
    pub warning_count: i32,
    pub return_reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = figures)]
pub(crate) struct FigureRow {
    pub indicator: String,
    pub municipality: Option<String>,
    pub value: Option<f64>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub respondents: Option<i64>,
    pub cases: Option<i64>,
    pub note: Option<String>,
    pub warnings: Option<String>,
}

fn parse<T: std::str::FromStr<Err = String>>(s: &str) -> AppResult<T> {
    s.parse().map_err(AppError::internal)
}

impl RevisionRow {
    fn status(&self) -> AppResult<Status> {
        parse(&self.status)
    }
    fn to_revision(&self, counted_id: Option<i64>) -> AppResult<Revision> {
        Ok(Revision {
            revision: self.revision,
            kind: parse(&self.kind)?,
            status: self.status()?,
            catalogue_version: self.catalogue_version.clone(),
            publication: parse(&self.publication)?,
            posted_by: self.posted_by.clone(),
            posted_at: utc(self.posted_at),
            figure_count: self.figure_count,
            warning_count: self.warning_count,
            return_reason: self.return_reason.clone(),
            counted: counted_id == Some(self.id),
        })
    }
}

impl FigureRow {
    fn to_figure(&self) -> Figure {
        Figure {
            percentage: match (self.numerator, self.denominator) {
                (Some(n), Some(d)) if d > 0 => Some(100.0 * n as f64 / d as f64),
                _ => None,
            },
            indicator: self.indicator.clone(),
            municipality: self.municipality.clone(),
            value: self.value,
            numerator: self.numerator,
            denominator: self.denominator,
            respondents: self.respondents,
            cases: self.cases,
            note: self.note.clone(),
            warnings: self
                .warnings
                .as_deref()
                .map(|w| {
                    w.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

fn period_info(code: &str) -> AppResult<PeriodInfo> {
    Period::parse(code)
        .map(|p| p.info())
        .map_err(AppError::internal)
}

fn assemble(
    row: &SubmissionRow,
    latest: &RevisionRow,
    counted_revision: Option<i32>,
) -> AppResult<Submission> {
    Ok(Submission {
        id: row.id,
        organisation_id: row.organisation_id,
        period: period_info(&row.period)?,
        status: latest.status()?,
        latest_revision: row.latest_revision,
        counted_revision,
        publication: parse(&latest.publication)?,
        catalogue_version: latest.catalogue_version.clone(),
        figure_count: latest.figure_count,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    })
}

/// A submission the caller may read (or, with `write`, change). Another organisation's
/// submission is answered like one that does not exist (404), so ids do not tell who owns
/// what; a role that may never do this gets 403 whatever the id.
fn load_visible(
    conn: &mut DbConn,
    caller: &Caller,
    id: i64,
    write: bool,
) -> AppResult<SubmissionRow> {
    if write {
        caller.require(&[Role::Team])?;
    } else {
        caller.require(&[Role::Team, Role::Associatie])?;
    }
    let row = load_row(conn, id)?;
    let allowed = if write {
        caller.require_write_org(row.organisation_id).is_ok()
    } else {
        caller.sees_unpublished_of(row.organisation_id)
    };
    if !allowed {
        return Err(AppError::not_found("submission", id));
    }
    Ok(row)
}

pub(crate) fn load_row(conn: &mut DbConn, id: i64) -> AppResult<SubmissionRow> {
    submissions::table
        .find(id)
        .select(SubmissionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("submission", id))
}

fn revisions_of(conn: &mut DbConn, id: i64) -> AppResult<Vec<RevisionRow>> {
    Ok(submission_revisions::table
        .filter(submission_revisions::submission_id.eq(id))
        .order(submission_revisions::revision)
        .select(RevisionRow::as_select())
        .load(conn)?)
}

fn summary(conn: &mut DbConn, row: &SubmissionRow) -> AppResult<Submission> {
    let revs = revisions_of(conn, row.id)?;
    let latest = revs
        .iter()
        .find(|r| r.revision == row.latest_revision)
        .ok_or_else(|| AppError::internal("latest revision missing"))?;
    let counted = revs
        .iter()
        .find(|r| Some(r.id) == row.counted_revision_id)
        .map(|r| r.revision);
    assemble(row, latest, counted)
}

fn figures_of(conn: &mut DbConn, revision_id: i64) -> AppResult<Vec<Figure>> {
    Ok(figures::table
        .filter(figures::revision_id.eq(revision_id))
        .order(figures::id)
        .select(FigureRow::as_select())
        .load::<FigureRow>(conn)?
        .iter()
        .map(FigureRow::to_figure)
        .collect())
}

/// One submission with the figures of one revision (default: the newest).
pub fn get(
    conn: &mut DbConn,
    caller: &Caller,
    id: i64,
    revision: Option<i32>,
) -> AppResult<SubmissionDetail> {
    caller.require(&[Role::Team, Role::Associatie])?;
    let row = load_visible(conn, caller, id, false)?;
    let revs = revisions_of(conn, id)?;
    let wanted = revision.unwrap_or(row.latest_revision);
    let rev = revs
        .iter()
        .find(|r| r.revision == wanted)
        .ok_or_else(|| AppError::not_found("revision", format!("{id}/{wanted}")))?;
    Ok(SubmissionDetail {
        submission: summary(conn, &row)?,
        revision: rev.to_revision(row.counted_revision_id)?,
        figures: figures_of(conn, rev.id)?,
    })
}

/// Every revision and workflow event of a submission.
pub fn history(conn: &mut DbConn, caller: &Caller, id: i64) -> AppResult<History> {
    caller.require(&[Role::Team, Role::Associatie])?;
    let row = load_visible(conn, caller, id, false)?;
    let revs = revisions_of(conn, id)?;
    let numbers: HashMap<i64, i32> = revs.iter().map(|r| (r.id, r.revision)).collect();
    let events = submission_events::table
        .filter(submission_events::submission_id.eq(id))
        .order(submission_events::id)
        .select((
            submission_events::revision_id,
            submission_events::action,
            submission_events::actor,
            submission_events::at,
            submission_events::reason,
        ))
        .load::<(i64, String, String, NaiveDateTime, Option<String>)>(conn)?
        .into_iter()
        .map(|(rev, action, actor, at, reason)| {
            Ok(Event {
                revision: numbers.get(&rev).copied().unwrap_or(0),
                action: parse(&action)?,
                actor,
                at: utc(at),
                reason,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(History {
        submission: summary(conn, &row)?,
        revisions: revs
            .iter()
            .map(|r| r.to_revision(row.counted_revision_id))
            .collect::<AppResult<_>>()?,
        events,
    })
}

/// Per-figure differences between two revisions (default: the two newest).
pub fn diff(
    conn: &mut DbConn,
    caller: &Caller,
    id: i64,
    from: Option<i32>,
    to: Option<i32>,
) -> AppResult<RevisionDiff> {
    caller.require(&[Role::Team, Role::Associatie])?;
    let row = load_visible(conn, caller, id, false)?;
    let revs = revisions_of(conn, id)?;
    let to = to.unwrap_or(row.latest_revision);
    let from = from.unwrap_or(to.saturating_sub(1).max(1));
    let find = |n: i32| {
        revs.iter()
            .find(|r| r.revision == n)
            .ok_or_else(|| AppError::not_found("revision", format!("{id}/{n}")))
    };
    let (a, b) = (find(from)?.id, find(to)?.id);
    let key = |f: &Figure| (f.indicator.clone(), f.municipality.clone());
    let before: BTreeMap<_, Figure> = figures_of(conn, a)?
        .into_iter()
        .map(|f| (key(&f), f))
        .collect();
    let after: BTreeMap<_, Figure> = figures_of(conn, b)?
        .into_iter()
        .map(|f| (key(&f), f))
        .collect();
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for (k, old) in &before {
        match after.get(k) {
            None => changes.push(FigureChange {
                indicator: k.0.clone(),
                municipality: k.1.clone(),
                change: ChangeKind::Removed,
                before: Some(old.clone()),
                after: None,
            }),
            Some(new) if new == old => unchanged += 1,
            Some(new) => changes.push(FigureChange {
                indicator: k.0.clone(),
                municipality: k.1.clone(),
                change: ChangeKind::Changed,
                before: Some(old.clone()),
                after: Some(new.clone()),
            }),
        }
    }
    for (k, new) in &after {
        if !before.contains_key(k) {
            changes.push(FigureChange {
                indicator: k.0.clone(),
                municipality: k.1.clone(),
                change: ChangeKind::Added,
                before: None,
                after: Some(new.clone()),
            });
        }
    }
    Ok(RevisionDiff {
        submission_id: id,
        from,
        to,
        changes,
        unchanged,
    })
}

/// Submissions, filtered. Teams see their own organisation's; the Associatie sees all.
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    filter: &SubmissionFilter,
) -> AppResult<crate::paging::Page<Submission>> {
    caller.require(&[Role::Team, Role::Associatie])?;
    let organisation = match (caller.own_organisation(), filter.organisation_id) {
        (Some(own), Some(asked)) if own != asked => {
            return Err(AppError::forbidden(format!(
                "this client may not read organisation {asked}'s submissions"
            )));
        }
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let period = match &filter.period {
        Some(p) => Some(
            Period::parse(p)
                .map_err(|e| AppError::validation("period", "invalid_period", e))?
                .code(),
        ),
        None => None,
    };
    let page = crate::paging::PageRequest::new(filter.limit, filter.offset)?;
    // The same joins and filters for the page and for the total.
    let filtered = || {
        let mut query = submissions::table
            .inner_join(
                submission_revisions::table.on(submission_revisions::submission_id
                    .eq(submissions::id)
                    .and(submission_revisions::revision.eq(submissions::latest_revision))),
            )
            .into_boxed();
        if let Some(org) = organisation {
            query = query.filter(submissions::organisation_id.eq(org));
        }
        if let Some(p) = &period {
            query = query.filter(submissions::period.eq(p.clone()));
        }
        if let Some(s) = filter.status {
            query = query.filter(submission_revisions::status.eq(s.as_str()));
        }
        if let Some(ind) = &filter.indicator {
            query = query.filter(
                submission_revisions::id.eq_any(
                    figures::table
                        .filter(figures::indicator.eq(ind.clone()))
                        .select(figures::revision_id),
                ),
            );
        }
        query
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<(SubmissionRow, RevisionRow)> = filtered()
        .select((SubmissionRow::as_select(), RevisionRow::as_select()))
        .order(submissions::id)
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?;
    let counted_ids: Vec<i64> = rows
        .iter()
        .filter_map(|(s, _)| s.counted_revision_id)
        .collect();
    let counted: HashMap<i64, i32> = submission_revisions::table
        .filter(submission_revisions::id.eq_any(&counted_ids))
        .select((submission_revisions::id, submission_revisions::revision))
        .load::<(i64, i32)>(conn)?
        .into_iter()
        .collect();
    let items = rows
        .iter()
        .map(|(s, r)| {
            assemble(
                s,
                r,
                s.counted_revision_id.and_then(|c| counted.get(&c).copied()),
            )
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(crate::paging::Page {
        items,
        total,
        limit: page.limit,
        offset: page.offset,
    })
}

// ---- workflow

fn add_event(
    conn: &mut DbConn,
    submission_id: i64,
    revision_id: i64,
    action: Action,
    caller: &Caller,
    reason: Option<String>,
) -> AppResult<()> {
    diesel::insert_into(submission_events::table)
        .values((
            submission_events::submission_id.eq(submission_id),
            submission_events::revision_id.eq(revision_id),
            submission_events::action.eq(action.as_str()),
            submission_events::actor.eq(caller.actor()),
            submission_events::at.eq(crate::db::now()),
            submission_events::reason.eq(reason),
        ))
        .execute(conn)?;
    Ok(())
}

/// Make views count the right revision: the newest `submitted` or `accepted` one that no
/// withdrawal follows. Keeps `figures.counted` in step and refreshes "provides help itself".
pub(crate) fn recompute_counted(conn: &mut DbConn, row: &SubmissionRow) -> AppResult<()> {
    let revs = revisions_of(conn, row.id)?;
    let last_withdrawal = revs
        .iter()
        .filter(|r| r.kind == RevisionKind::Withdrawal.as_str())
        .map(|r| r.revision)
        .max()
        .unwrap_or(0);
    let counted = revs
        .iter()
        .filter(|r| r.revision > last_withdrawal)
        .filter(|r| matches!(r.status.as_str(), "submitted" | "accepted"))
        .max_by_key(|r| r.revision)
        .map(|r| r.id);
    store::set_counted(conn, row.id, row.counted_revision_id, counted, false)?;
    crate::registry::organisations::refresh_provides_help(conn, row.organisation_id)
}

fn transition_guard(row: &RevisionRow, from: Status, action: &str) -> AppResult<()> {
    if row.status != from.as_str() {
        return Err(AppError::conflict(
            "INVALID_TRANSITION",
            format!(
                "cannot {action} revision {}: it is {}, expected {}",
                row.revision, row.status, from
            ),
        ));
    }
    Ok(())
}

/// Offer the newest (draft) revision for review. Team of the organisation.
pub fn submit(conn: &mut DbConn, caller: &Caller, id: i64) -> AppResult<Submission> {
    crate::db::transaction(conn, |conn| {
        let row = load_visible(conn, caller, id, true)?;
        let revs = revisions_of(conn, id)?;
        let latest = revs
            .last()
            .ok_or_else(|| AppError::internal("no revisions"))?;
        transition_guard(latest, Status::Draft, "submit")?;
        set_status(conn, latest.id, Status::Submitted, None)?;
        add_event(conn, id, latest.id, Action::Submitted, caller, None)?;
        recompute_counted(conn, &row)?;
        touch(conn, id)?;
        let row = load_row(conn, id)?;
        summary(conn, &row)
    })
}

/// Accept or return the newest submitted revision. The Associatie.
pub fn review(
    conn: &mut DbConn,
    caller: &Caller,
    id: i64,
    accept: bool,
    reason: Option<String>,
) -> AppResult<Submission> {
    caller.require(&[Role::Associatie])?;
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if !accept && reason.is_none() {
        return Err(AppError::validation(
            "/reason",
            "missing_reason",
            "geef een reden bij terugsturen / a reason is required to return a submission",
        ));
    }
    if let Some(r) = &reason {
        let mut issues = Vec::new();
        validate::check_text(
            r,
            validate::MAX_NOTE_CHARS,
            |c, m| FieldIssue::new("/reason", c, m),
            &mut issues,
        );
        if !issues.is_empty() {
            return Err(AppError::Validation(issues.into()));
        }
    }
    crate::db::transaction(conn, |conn| {
        let row = load_row(conn, id)?;
        let revs = revisions_of(conn, id)?;
        let target = revs
            .iter()
            .rev()
            .find(|r| r.status == Status::Submitted.as_str())
            .ok_or_else(|| {
                AppError::conflict(
                    "INVALID_TRANSITION",
                    "no revision of this submission is waiting for review",
                )
            })?;
        let (status, action) = if accept {
            (Status::Accepted, Action::Accepted)
        } else {
            (Status::Returned, Action::Returned)
        };
        set_status(conn, target.id, status, reason.clone().filter(|_| !accept))?;
        add_event(conn, id, target.id, action, caller, reason)?;
        recompute_counted(conn, &row)?;
        touch(conn, id)?;
        let row = load_row(conn, id)?;
        summary(conn, &row)
    })
}

/// Withdraw: a new revision without figures; views stop counting the submission. Team.
pub fn withdraw(
    conn: &mut DbConn,
    caller: &Caller,
    id: i64,
    reason: Option<String>,
) -> AppResult<Submission> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if let Some(r) = &reason {
        let mut issues = Vec::new();
        validate::check_text(
            r,
            validate::MAX_NOTE_CHARS,
            |c, m| FieldIssue::new("/reason", c, m),
            &mut issues,
        );
        if !issues.is_empty() {
            return Err(AppError::Validation(issues.into()));
        }
    }
    crate::db::transaction(conn, |conn| {
        let row = load_visible(conn, caller, id, true)?;
        let revs = revisions_of(conn, id)?;
        let latest = revs
            .last()
            .ok_or_else(|| AppError::internal("no revisions"))?;
        if latest.kind == RevisionKind::Withdrawal.as_str() {
            return Err(AppError::conflict(
                "INVALID_TRANSITION",
                "the submission is already withdrawn",
            ));
        }
        let rev_id = store::insert_revision(
            conn,
            &store::NewRevision {
                submission_id: id,
                revision: row.latest_revision + 1,
                kind: RevisionKind::Withdrawal.as_str().to_owned(),
                catalogue_version: latest.catalogue_version.clone(),
                publication: latest.publication.clone(),
                status: Status::Withdrawn.as_str().to_owned(),
                posted_by: caller.actor(),
                posted_at: crate::db::now(),
                figure_count: 0,
                warning_count: 0,
                return_reason: None,
            },
        )?;
        add_event(conn, id, rev_id, Action::Withdrawn, caller, reason)?;
        diesel::update(submissions::table.find(id))
            .set(submissions::latest_revision.eq(row.latest_revision + 1))
            .execute(conn)?;
        recompute_counted(conn, &row)?;
        touch(conn, id)?;
        let row = load_row(conn, id)?;
        summary(conn, &row)
    })
}

fn set_status(
    conn: &mut DbConn,
    revision_id: i64,
    status: Status,
    reason: Option<String>,
) -> AppResult<()> {
    diesel::update(submission_revisions::table.find(revision_id))
        .set((
            submission_revisions::status.eq(status.as_str()),
            submission_revisions::return_reason.eq(reason),
        ))
        .execute(conn)?;
    Ok(())
}

fn touch(conn: &mut DbConn, id: i64) -> AppResult<()> {
    diesel::update(submissions::table.find(id))
        .set(submissions::updated_at.eq(crate::db::now()))
        .execute(conn)?;
    Ok(())
}
