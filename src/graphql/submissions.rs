//! GraphQL: posting figures and the review workflow (mirrors the REST surface).

use async_graphql::{Context, Object, Result};

use super::run;
use crate::submissions::{
    self, History, PostOptions, PostOutcome, Publication, RevisionDiff, Status, Submission,
    SubmissionDetail, SubmissionFilter, SubmissionInput, input,
};

#[derive(Default)]
pub struct SubmissionQuery;

#[Object]
impl SubmissionQuery {
    /// Submissions (teams: their own; the Associatie: all), newest revision's state.
    #[allow(clippy::too_many_arguments)]
    async fn submissions(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<i32>,
        period: Option<String>,
        status: Option<Status>,
        indicator: Option<String>,
        #[graphql(default = 100)] limit: i32,
        #[graphql(default = 0)] offset: i32,
    ) -> Result<Vec<Submission>> {
        let organisation_id = organisation_id.map(i64::from);
        let filter = SubmissionFilter {
            organisation_id,
            period,
            status,
            indicator,
            limit: Some(i64::from(limit)),
            offset: Some(i64::from(offset)),
        };
        run(ctx, move |conn, _state, caller| {
            submissions::list(conn, caller, &filter).map(|p| p.items)
        })
        .await
    }

    /// How many submissions `submissions` has with the same filters, over all pages.
    async fn submission_count(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<i32>,
        period: Option<String>,
        status: Option<Status>,
        indicator: Option<String>,
    ) -> Result<i64> {
        let filter = SubmissionFilter {
            organisation_id: organisation_id.map(i64::from),
            period,
            status,
            indicator,
            limit: Some(1),
            offset: Some(0),
        };
        run(ctx, move |conn, _state, caller| {
            submissions::list(conn, caller, &filter).map(|p| p.total)
        })
        .await
    }

    /// One submission with the figures of one revision (default: the newest).
    async fn submission(
        &self,
        ctx: &Context<'_>,
        id: i32,
        revision: Option<i32>,
    ) -> Result<SubmissionDetail> {
        let id = i64::from(id);
        run(ctx, move |conn, _state, caller| {
            submissions::get(conn, caller, id, revision)
        })
        .await
    }

    /// Every revision and workflow event of a submission.
    async fn submission_history(&self, ctx: &Context<'_>, id: i32) -> Result<History> {
        let id = i64::from(id);
        run(ctx, move |conn, _state, caller| {
            submissions::history(conn, caller, id)
        })
        .await
    }

    /// Per-figure differences between two revisions (default: the two newest).
    async fn submission_diff(
        &self,
        ctx: &Context<'_>,
        id: i32,
        from: Option<i32>,
        to: Option<i32>,
    ) -> Result<RevisionDiff> {
        let id = i64::from(id);
        run(ctx, move |conn, _state, caller| {
            submissions::diff(conn, caller, id, from, to)
        })
        .await
    }
}

#[derive(Default)]
pub struct SubmissionMutation;

async fn run_post(
    ctx: &Context<'_>,
    organisation_id: i64,
    raw: submissions::RawSubmission,
    opts: PostOptions,
) -> Result<PostOutcome> {
    run(ctx, move |conn, state, caller| {
        submissions::post(
            conn,
            &state.catalogue,
            &state.reference,
            caller,
            organisation_id,
            raw,
            &opts,
        )
    })
    .await
}

#[Object]
impl SubmissionMutation {
    /// Post figures for an organisation and period (its team). A new revision each time.
    async fn post_submission(
        &self,
        ctx: &Context<'_>,
        organisation_id: i32,
        input: SubmissionInput,
        #[graphql(default = false)] dry_run: bool,
        #[graphql(default = false)] submit: bool,
        idempotency_key: Option<String>,
    ) -> Result<PostOutcome> {
        let organisation_id = i64::from(organisation_id);
        let hash = submissions::request_hash(&[
            b"graphql",
            serde_json::to_string(&(organisation_id, dry_run, submit, format!("{input:?}")))
                .unwrap_or_default()
                .as_bytes(),
        ]);
        let opts = PostOptions {
            dry_run,
            submit,
            idempotency_key,
            request_hash: hash,
        };
        run_post(ctx, organisation_id, input.into_raw(), opts).await
    }

    /// Post figures as CSV text (same columns and number rules as the REST upload: a semicolon
    /// file uses the decimal comma, ambiguous numbers are refused at their row and column).
    /// Excel workbooks (`.xlsx`), templates and workbook exports are REST only.
    #[allow(clippy::too_many_arguments)]
    async fn post_submission_csv(
        &self,
        ctx: &Context<'_>,
        organisation_id: i32,
        csv: String,
        period: Option<String>,
        publication: Option<Publication>,
        catalogue_version: Option<String>,
        #[graphql(default = false)] dry_run: bool,
        #[graphql(default = false)] submit: bool,
        idempotency_key: Option<String>,
    ) -> Result<PostOutcome> {
        let organisation_id = i64::from(organisation_id);
        let hash = submissions::request_hash(&[
            b"graphql-csv",
            format!("{organisation_id}|{period:?}|{publication:?}|{catalogue_version:?}|{dry_run}|{submit}")
                .as_bytes(),
            csv.as_bytes(),
        ]);
        let mut raw = input::from_csv(csv.as_bytes(), period);
        raw.publication = publication.map(|p| p.as_str().to_owned());
        raw.catalogue_version = catalogue_version;
        let opts = PostOptions {
            dry_run,
            submit,
            idempotency_key,
            request_hash: hash,
        };
        run_post(ctx, organisation_id, raw, opts).await
    }

    /// Submit the newest (draft) revision for review (the organisation's team).
    async fn submit_submission(&self, ctx: &Context<'_>, id: i32) -> Result<Submission> {
        let id = i64::from(id);
        run(ctx, move |conn, _state, caller| {
            submissions::submit(conn, caller, id)
        })
        .await
    }

    /// Accept the submitted revision (the Associatie).
    async fn accept_submission(&self, ctx: &Context<'_>, id: i32) -> Result<Submission> {
        let id = i64::from(id);
        run(ctx, move |conn, _state, caller| {
            submissions::review(conn, caller, id, true, None)
        })
        .await
    }

    /// Return the submitted revision with a reason (the Associatie).
    async fn return_submission(
        &self,
        ctx: &Context<'_>,
        id: i32,
        reason: String,
    ) -> Result<Submission> {
        let id = i64::from(id);
        run(ctx, move |conn, _state, caller| {
            submissions::review(conn, caller, id, false, Some(reason))
        })
        .await
    }

    /// Withdraw the submission (the organisation's team): a revision without figures.
    async fn withdraw_submission(
        &self,
        ctx: &Context<'_>,
        id: i32,
        reason: Option<String>,
    ) -> Result<Submission> {
        let id = i64::from(id);
        run(ctx, move |conn, _state, caller| {
            submissions::withdraw(conn, caller, id, reason)
        })
        .await
    }
}
