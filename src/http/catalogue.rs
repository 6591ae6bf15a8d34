//! REST: the catalogue and reference data. Public by nature: no login needed.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::catalogue::{CatalogueVersion, Goal, Indicator, IndicatorFilter, Kind};
use crate::error::{AppError, AppResult, Problem};
use crate::http::{PageParams, json, paged};
use crate::registry::{Municipality, Province, SizeClass, TeamType};

/// Parse an optional text-enum query parameter, naming the parameter when it is invalid
/// (an empty value is invalid too: leave the parameter out instead).
pub fn parse_param<T: std::str::FromStr<Err = String>>(
    field: &str,
    raw: Option<&str>,
) -> AppResult<Option<T>> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some(s) => s
            .parse::<T>()
            .map(Some)
            .map_err(|e| AppError::validation(field, "invalid_value", e)),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct IndicatorQuery {
    /// Transformation goal code.
    goal: Option<String>,
    /// Kind of figure.
    #[param(value_type = Option<Kind>)]
    kind: Option<String>,
    /// Catalogue version (default: the current one).
    version: Option<String>,
    /// Only indicators applying to this team type.
    #[param(value_type = Option<TeamType>)]
    team_type: Option<String>,
    /// Also list indicators retired in this version.
    include_retired: Option<bool>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// Catalogue version (default: the current one).
    version: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MunicipalityQuery {
    /// Province code, PV20..PV31.
    province: Option<String>,
    /// Size class.
    #[param(value_type = Option<SizeClass>)]
    size_class: Option<String>,
}

/// Transformation goals.
#[utoipa::path(get, path = "/api/v1/goals", operation_id = "listGoals", tag = "catalogue",
    responses((status = 200, body = Vec<Goal>)))]
pub async fn list_goals(state: web::Data<AppState>) -> HttpResponse {
    json(&state.catalogue.goals)
}

/// Catalogue versions.
#[utoipa::path(get, path = "/api/v1/catalogue/versions", operation_id = "listCatalogueVersions", tag = "catalogue",
    responses((status = 200, body = Vec<CatalogueVersion>)))]
pub async fn list_versions(state: web::Data<AppState>) -> HttpResponse {
    json(&state.catalogue.versions)
}

/// Indicators of one catalogue version, filtered.
#[utoipa::path(get, path = "/api/v1/indicators", operation_id = "listIndicators", tag = "catalogue", params(IndicatorQuery, PageParams),
    responses((status = 200, description = "One page (`X-Total-Count`, `Link` to the next and previous pages)", body = Vec<Indicator>, headers(("X-Total-Count" = i64, description = "Items over all pages"), ("Link" = String, description = "RFC 8288 links: rel=next, rel=prev"))),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_indicators(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<IndicatorQuery>,
    p: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let filter = IndicatorFilter {
        goal: q.goal.clone().filter(|g| !g.trim().is_empty()),
        kind: parse_param("kind", q.kind.as_deref())?,
        version: q.version.clone().filter(|v| !v.trim().is_empty()),
        team_type: parse_param("teamType", q.team_type.as_deref())?,
        include_retired: q.include_retired.unwrap_or(false),
    };
    Ok(paged(
        &req,
        p.reference_page()?.slice(state.catalogue.list(&filter)?),
    ))
}

/// One indicator.
#[utoipa::path(get, path = "/api/v1/indicators/{code}", operation_id = "getIndicator", tag = "catalogue",
    params(("code" = String, Path, description = "Indicator code"), VersionQuery),
    responses((status = 200, body = Indicator),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn get_indicator(
    state: web::Data<AppState>,
    code: web::Path<String>,
    q: web::Query<VersionQuery>,
) -> AppResult<HttpResponse> {
    Ok(json(&state.catalogue.get(&code, q.version.as_deref())?))
}

/// Provinces.
#[utoipa::path(get, path = "/api/v1/provinces", operation_id = "listProvinces", tag = "reference",
    responses((status = 200, body = Vec<Province>)))]
pub async fn list_provinces(state: web::Data<AppState>) -> HttpResponse {
    json(&state.reference.provinces)
}

/// Municipalities of the reference year, filtered.
#[utoipa::path(get, path = "/api/v1/municipalities", operation_id = "listMunicipalities", tag = "reference", params(MunicipalityQuery, PageParams),
    responses((status = 200, description = "One page (`X-Total-Count`, `Link` to the next and previous pages)", body = Vec<Municipality>, headers(("X-Total-Count" = i64, description = "Items over all pages"), ("Link" = String, description = "RFC 8288 links: rel=next, rel=prev"))),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_municipalities(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<MunicipalityQuery>,
    p: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let size_class = parse_param("sizeClass", q.size_class.as_deref())?;
    let province = q.province.as_deref().filter(|p| !p.trim().is_empty());
    let list: Vec<Municipality> = state.reference.list(province, size_class)?;
    Ok(paged(&req, p.reference_page()?.slice(list)))
}

/// One municipality by CBS code.
#[utoipa::path(get, path = "/api/v1/municipalities/{code}", operation_id = "getMunicipality", tag = "reference",
    params(("code" = String, Path, description = "CBS code, e.g. GM0363")),
    responses((status = 200, body = Municipality),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_municipality(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> AppResult<HttpResponse> {
    Ok(json(&state.reference.get(&code)?))
}
