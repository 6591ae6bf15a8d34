//! The OpenAPI 3.1 document, generated from the handlers' annotations (utoipa), served at
//! `/api/openapi.json` and checked in as `openapi.json` (a test fails when they differ).

use actix_web::HttpResponse;
use utoipa::OpenApi;

use crate::http::{catalogue, health};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "basisset API",
        description = "Wijkteam organisations post periodic figures on the shared basisset of \
                       indicators; the Associatie Wijkteams and the public query cross-municipal \
                       views. Errors are application/problem+json (RFC 9457) with a stable `code`.",
        license(name = "EUPL-1.2"),
    ),
    paths(
        health::healthz,
        health::readyz,
        catalogue::list_goals,
        catalogue::list_versions,
        catalogue::list_indicators,
        catalogue::get_indicator,
        catalogue::list_provinces,
        catalogue::list_municipalities,
        catalogue::get_municipality,
    ),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "catalogue", description = "The basisset: goals, indicators, versions (public)"),
        (name = "reference", description = "Provinces and municipalities (public)"),
    )
)]
pub struct ApiDoc;

/// The document as pretty JSON (what is served and checked in).
pub fn document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("OpenAPI document serializes")
}

pub async fn openapi_json() -> HttpResponse {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.get_or_init(document).as_str())
}
