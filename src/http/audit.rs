//! REST: the audit log of registry and access changes (admins and the Associatie).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::audit::{self, AuditAction, AuditEntry, AuditFilter, AuditSubject};
use crate::auth::Caller;
use crate::error::{AppResult, Problem};
use crate::http::catalogue::parse_param;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `organisation` or `client`.
    #[param(value_type = Option<AuditSubject>)]
    subject_type: Option<String>,
    /// Organisation id or client id.
    subject_id: Option<String>,
    #[param(value_type = Option<AuditAction>)]
    action: Option<String>,
    /// Page size, 1..1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    #[param(minimum = 0)]
    offset: Option<i64>,
}

/// The audit log, newest first: who changed which organisation or API client, when, from
/// what to what (admin, Associatie). Append-only.
#[utoipa::path(get, path = "/api/v1/audit", operation_id = "listAuditEntries", tag = "audit", security(("oauth2" = [])),
    params(AuditQuery),
    responses((status = 200, description = "One page (`X-Total-Count`, `Link` to the next and previous pages)", body = Vec<AuditEntry>, headers(("X-Total-Count" = i64, description = "Items over all pages"), ("Link" = String, description = "RFC 8288 links: rel=next, rel=prev"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    q: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let filter = AuditFilter {
        subject_type: parse_param("subjectType", q.subject_type.as_deref())?,
        subject_id: q.subject_id.clone().filter(|s| !s.is_empty()),
        action: parse_param("action", q.action.as_deref())?,
        limit: q.limit,
        offset: q.offset,
    };
    let entries = state
        .db
        .run(move |conn| audit::list(conn, &caller, &filter))
        .await?;
    Ok(crate::http::paged(&req, entries))
}
