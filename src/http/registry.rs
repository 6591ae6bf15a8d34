//! REST: the organisation registry. Reading is public; changes are for admins.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{AppResult, Problem};
use crate::http::catalogue::parse_param;
use crate::http::{PageParams, paged};
use crate::registry::TeamType;
use crate::registry::organisations::{
    self, NewOrganisation, Organisation, OrganisationFilter, OrganisationPatch,
};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct OrganisationQuery {
    #[param(value_type = Option<TeamType>)]
    team_type: Option<String>,
    active: Option<bool>,
    /// Only organisations serving this municipality (CBS code).
    municipality: Option<String>,
}

/// Register an organisation (admin).
#[utoipa::path(post, path = "/api/v1/organisations", operation_id = "createOrganisation", tag = "registry", security(("oauth2" = [])),
    request_body = NewOrganisation,
    responses((status = 201, body = Organisation),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    input: web::Json<NewOrganisation>,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let input = input.into_inner();
    let reference = state.reference.clone();
    let org = state
        .db
        .run(move |conn| organisations::create(conn, &reference, &caller, input))
        .await?;
    Ok(HttpResponse::Created().json(org))
}

/// Organisations (public).
#[utoipa::path(get, path = "/api/v1/organisations", operation_id = "listOrganisations", tag = "registry", params(OrganisationQuery, PageParams),
    responses((status = 200, description = "One page (`X-Total-Count`, `Link` to the next and previous pages)", body = Vec<Organisation>, headers(("X-Total-Count" = i64, description = "Items over all pages"), ("Link" = String, description = "RFC 8288 links: rel=next, rel=prev"))),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<OrganisationQuery>,
    p: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let page = p.page()?;
    let filter = OrganisationFilter {
        team_type: parse_param("teamType", q.team_type.as_deref())?,
        active: q.active,
        municipality: q.municipality.clone().filter(|m| !m.trim().is_empty()),
    };
    let reference = state.reference.clone();
    let list = state
        .db
        .run(move |conn| organisations::list(conn, &reference, &filter))
        .await?;
    Ok(paged(&req, page.slice(list)))
}

/// One organisation (public).
#[utoipa::path(get, path = "/api/v1/organisations/{id}", operation_id = "getOrganisation", tag = "registry",
    params(("id" = i64, Path)),
    responses((status = 200, body = Organisation),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(state: web::Data<AppState>, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let reference = state.reference.clone();
    let org = state
        .db
        .run(move |conn| organisations::get(conn, &reference, id))
        .await?;
    Ok(HttpResponse::Ok().json(org))
}

/// Change an organisation (admin); `{"active": false}` deactivates it.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}", operation_id = "updateOrganisation", tag = "registry", security(("oauth2" = [])),
    params(("id" = i64, Path)), request_body = OrganisationPatch,
    responses((status = 200, body = Organisation),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    patch: web::Json<OrganisationPatch>,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let (id, patch) = (id.into_inner(), patch.into_inner());
    let reference = state.reference.clone();
    let org = state
        .db
        .run(move |conn| organisations::update(conn, &reference, &caller, id, patch))
        .await?;
    Ok(HttpResponse::Ok().json(org))
}
