//! REST: posting figures (JSON or CSV), reading submissions and their history, the review
//! workflow. Every rule lives in [`crate::submissions`]; this only translates HTTP.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult, FieldIssue, Problem};
use crate::http::catalogue::parse_param;
use crate::submissions::{
    self, History, PostOptions, PostOutcome, RevisionDiff, Status, Submission, SubmissionDetail,
    SubmissionFilter, SubmissionInput, input,
};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PostQuery {
    /// Validate and return what would be stored; store nothing.
    dry_run: Option<bool>,
    /// Submit the new revision for review at once (otherwise it is a draft).
    submit: Option<bool>,
    /// CSV and .xlsx uploads: the period (or a `period` column).
    period: Option<String>,
    /// CSV and .xlsx uploads: `associatie` (default) or `openbaar`.
    publication: Option<String>,
    /// CSV and .xlsx uploads: catalogue version (default: current).
    catalogue_version: Option<String>,
}

fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Post a submission: JSON (`application/json`), a CSV export (`text/csv`) or an Excel
/// workbook (`.xlsx`).
///
/// CSV: one row per figure; columns `indicator, municipality, value, numerator, denominator,
/// respondents, cases, note` (Dutch: `indicator, gemeente, waarde, teller, noemer,
/// respondenten, aantal, toelichting`); comma, semicolon or tab separated; UTF-8 with or
/// without BOM. Numbers are read per file: a semicolon file (Excel NL) uses the decimal comma
/// and dots group thousands (`1.000` = 1000); an ambiguous number is refused at its row and
/// column. The period comes from `?period=` or a `period` column.
///
/// `.xlsx`: the same layout on the sheet `cijfers`/`figures` or the first sheet; errors name
/// sheet, row, column and cell. Template guidance columns are ignored; rows with only an
/// indicator are skipped (warning `rows_skipped`).
#[utoipa::path(post, path = "/api/v1/organisations/{id}/submissions", operation_id = "postSubmission", tag = "submissions",
    security(("oauth2" = [])),
    params(("id" = i64, Path, description = "Organisation id"), PostQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first result")),
    request_body(content(
        (SubmissionInput = "application/json"),
        (String = "text/csv", example = "indicator;gemeente;waarde;teller;noemer;respondenten\nklachten;;12;;;\naandeel_zelfmelders;;;120;400;\ncev_helpend;;74,5;;;1939\n"),
        (crate::http::sheets::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses(
        (status = 201, description = "A new revision was stored", body = PostOutcome),
        (status = 200, description = "Dry run, or a replay of an earlier post with the same Idempotency-Key", body = PostOutcome),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency key reused with another body; organisation inactive", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every problem, with its location", body = Problem, content_type = "application/problem+json")))]
pub async fn post(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
    q: web::Query<PostQuery>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let organisation_id = id.into_inner();
    caller.require_write_org(organisation_id)?;
    let ctype = content_type(&req);
    let body = crate::transport::read_body(payload, state.config.limits.max_body_bytes).await?;
    let xlsx = ctype == crate::sheets::XLSX;
    if !xlsx
        && !matches!(
            ctype.as_str(),
            "application/json" | "text/csv" | "application/csv" | "text/plain"
        )
    {
        return Err(AppError::UnsupportedMediaType(format!(
            "Content-Type {ctype:?}: send application/json, text/csv or {}",
            crate::sheets::XLSX
        )));
    }
    // Reading a body of megabytes takes a while: on the blocking pool, not on a worker.
    let (json, period, publication, version) = (
        ctype == "application/json",
        q.period.clone(),
        q.publication.clone(),
        q.catalogue_version.clone(),
    );
    // The fingerprint of what was asked, not of its spelling: the parsed submission (so key
    // order, white space and number notation do not matter) and the parameters with their
    // defaults filled in (so `?dryRun=false` is the same as nothing). Taken beside the parsing,
    // off the worker: for 100,000 figures it is megabytes of text to hash.
    let params = format!(
        "submit={} period={:?} publication={:?} version={:?}",
        q.submit.unwrap_or(false),
        q.period.as_deref().map(str::trim),
        q.publication
            .as_deref()
            .map(|p| p.trim().to_ascii_lowercase()),
        q.catalogue_version.as_deref().map(str::trim),
    );
    let parse_body = body.clone();
    let (raw, request_hash) = web::block(move || {
        let raw = if json {
            input::from_json_bytes(&parse_body)
                .map_err(|issue| AppError::Validation(vec![issue].into()))?
        } else {
            crate::sheets::read::from_table_upload(&parse_body, xlsx, period, publication, version)
        };
        let hash = submissions::request_hash(&[
            if json { b"json" } else { b"table" },
            params.as_bytes(),
            format!("{raw:?}").as_bytes(),
        ]);
        Ok::<_, AppError>((raw, hash))
    })
    .await
    .map_err(|e| AppError::internal(format!("reading the body: {e}")))??;
    let key = req
        .headers()
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map(str::to_owned).map_err(|_| {
                AppError::validation(
                    "Idempotency-Key",
                    "invalid_idempotency_key",
                    "the key must be printable ASCII",
                )
            })
        })
        .transpose()?;
    let opts = PostOptions {
        dry_run: q.dry_run.unwrap_or(false),
        submit: q.submit.unwrap_or(false),
        idempotency_key: key,
        request_hash,
    };
    let s = state.clone();
    let outcome = state
        .db
        .run(move |conn| {
            submissions::post(
                conn,
                &s.catalogue,
                &s.reference,
                &caller,
                organisation_id,
                raw,
                &opts,
            )
        })
        .await?;
    let mut res = if outcome.dry_run || outcome.replayed {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    if let Some(id) = outcome.submission_id {
        res.insert_header((header::LOCATION, format!("/api/v1/submissions/{id}")));
    }
    if outcome.replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(res.json(outcome))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Organisation id (teams: only their own).
    organisation: Option<i64>,
    /// Period, e.g. 2021 or 2021-Q3.
    period: Option<String>,
    /// Status of the newest revision.
    #[param(value_type = Option<Status>)]
    status: Option<String>,
    /// Only submissions whose newest revision has a figure for this indicator.
    indicator: Option<String>,
    /// Page size, 1..1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    #[param(minimum = 0)]
    offset: Option<i64>,
}

fn filter(q: &ListQuery, organisation: Option<i64>) -> AppResult<SubmissionFilter> {
    Ok(SubmissionFilter {
        organisation_id: organisation.or(q.organisation),
        period: q.period.clone().filter(|p| !p.trim().is_empty()),
        status: parse_param("status", q.status.as_deref())?,
        indicator: q.indicator.clone().filter(|i| !i.trim().is_empty()),
        limit: q.limit,
        offset: q.offset,
    })
}

/// Submissions of one organisation (its team, or the Associatie).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/submissions", operation_id = "listOrganisationSubmissions", tag = "submissions",
    security(("oauth2" = [])), params(("id" = i64, Path), ListQuery),
    responses((status = 200, description = "One page (`X-Total-Count`, `Link` to the next and previous pages)", body = Vec<Submission>, headers(("X-Total-Count" = i64, description = "Items over all pages"), ("Link" = String, description = "RFC 8288 links: rel=next, rel=prev"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_for_organisation(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<i64>,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let organisation = id.into_inner();
    caller.require_read_org(organisation)?;
    let filter = filter(&q, Some(organisation))?;
    let list = state
        .db
        .run(move |conn| submissions::list(conn, &caller, &filter))
        .await?;
    Ok(crate::http::paged(&req, list))
}

/// Submissions across organisations (the Associatie; teams get their own).
#[utoipa::path(get, path = "/api/v1/submissions", operation_id = "listSubmissions", tag = "submissions",
    security(("oauth2" = [])), params(ListQuery),
    responses((status = 200, description = "One page (`X-Total-Count`, `Link` to the next and previous pages)", body = Vec<Submission>, headers(("X-Total-Count" = i64, description = "Items over all pages"), ("Link" = String, description = "RFC 8288 links: rel=next, rel=prev"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let filter = filter(&q, None)?;
    let list = state
        .db
        .run(move |conn| submissions::list(conn, &caller, &filter))
        .await?;
    Ok(crate::http::paged(&req, list))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RevisionQuery {
    /// Revision number (default: the newest).
    revision: Option<i32>,
}

/// One submission with the figures of one revision.
#[utoipa::path(get, path = "/api/v1/submissions/{id}", operation_id = "getSubmission", tag = "submissions",
    security(("oauth2" = [])), params(("id" = i64, Path), RevisionQuery),
    responses((status = 200, body = SubmissionDetail),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    q: web::Query<RevisionQuery>,
) -> AppResult<HttpResponse> {
    let (id, revision) = (id.into_inner(), q.revision);
    let detail = state
        .db
        .run(move |conn| submissions::get(conn, &caller, id, revision))
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Every revision (who posted it, when, its status) and every workflow event.
#[utoipa::path(get, path = "/api/v1/submissions/{id}/revisions", operation_id = "getSubmissionHistory", tag = "submissions",
    security(("oauth2" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = History),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revisions(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let history = state
        .db
        .run(move |conn| submissions::history(conn, &caller, id))
        .await?;
    Ok(HttpResponse::Ok().json(history))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// Older revision (default: the one before `to`).
    from: Option<i32>,
    /// Newer revision (default: the newest).
    to: Option<i32>,
}

/// Per-figure differences between two revisions.
#[utoipa::path(get, path = "/api/v1/submissions/{id}/diff", operation_id = "getSubmissionDiff", tag = "submissions",
    security(("oauth2" = [])), params(("id" = i64, Path), DiffQuery),
    responses((status = 200, body = RevisionDiff),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn diff(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    q: web::Query<DiffQuery>,
) -> AppResult<HttpResponse> {
    let (id, from, to) = (id.into_inner(), q.from, q.to);
    let diff = state
        .db
        .run(move |conn| submissions::diff(conn, &caller, id, from, to))
        .await?;
    Ok(HttpResponse::Ok().json(diff))
}

/// A reason, for returning (required) or withdrawing (optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: Option<String>,
}

fn reason_from(body: &web::Bytes) -> AppResult<Option<String>> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(None);
    }
    let parsed: ReasonBody = serde_json::from_slice(body).map_err(|e| {
        AppError::Validation(
            vec![FieldIssue::new(
                format!("line {}, column {}", e.line(), e.column()),
                "invalid_json",
                e.to_string(),
            )]
            .into(),
        )
    })?;
    Ok(parsed.reason)
}

/// Submit the newest (draft) revision for review (the organisation's team).
#[utoipa::path(post, path = "/api/v1/submissions/{id}/submit", operation_id = "submitSubmission", tag = "submissions",
    security(("oauth2" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Submission),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json")))]
pub async fn submit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let sub = state
        .db
        .run(move |conn| submissions::submit(conn, &caller, id))
        .await?;
    Ok(HttpResponse::Ok().json(sub))
}

/// Accept the submitted revision (the Associatie).
#[utoipa::path(post, path = "/api/v1/submissions/{id}/accept", operation_id = "acceptSubmission", tag = "submissions",
    security(("oauth2" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Submission),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing waiting for review", body = Problem, content_type = "application/problem+json")))]
pub async fn accept(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let sub = state
        .db
        .run(move |conn| submissions::review(conn, &caller, id, true, None))
        .await?;
    Ok(HttpResponse::Ok().json(sub))
}

/// Return the submitted revision with a reason (the Associatie).
#[utoipa::path(post, path = "/api/v1/submissions/{id}/return", operation_id = "returnSubmission", tag = "submissions",
    security(("oauth2" = [])), params(("id" = i64, Path)), request_body = ReasonBody,
    responses((status = 200, body = Submission),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Reason missing or not acceptable", body = Problem, content_type = "application/problem+json")))]
pub async fn return_(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let reason = reason_from(&body)?;
    let sub = state
        .db
        .run(move |conn| submissions::review(conn, &caller, id, false, reason))
        .await?;
    Ok(HttpResponse::Ok().json(sub))
}

/// Withdraw the submission: a new revision without figures (the organisation's team).
#[utoipa::path(post, path = "/api/v1/submissions/{id}/withdraw", operation_id = "withdrawSubmission", tag = "submissions",
    security(("oauth2" = [])), params(("id" = i64, Path)), request_body = Option<ReasonBody>,
    responses((status = 200, body = Submission),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn withdraw(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let reason = reason_from(&body)?;
    let sub = state
        .db
        .run(move |conn| submissions::withdraw(conn, &caller, id, reason))
        .await?;
    Ok(HttpResponse::Ok().json(sub))
}
