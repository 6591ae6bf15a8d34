//! The OpenAPI 3.1 document, generated from the handlers' annotations (utoipa), served at
//! `/api/openapi.json` and checked in as `openapi.json` (a test fails when they differ).

use actix_web::HttpResponse;
use utoipa::OpenApi;

use utoipa::Modify;
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};

use crate::http::{audit, auth, catalogue, health, registry, sheets, submissions, views};

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
        auth::token,
        auth::jwks,
        auth::me,
        auth::create_client,
        auth::list_clients,
        auth::revoke_client,
        auth::rotate_client,
        audit::list,
        registry::create,
        registry::list,
        registry::get,
        registry::update,
        submissions::post,
        submissions::list_for_organisation,
        submissions::list,
        submissions::get,
        submissions::revisions,
        submissions::diff,
        submissions::submit,
        submissions::accept,
        submissions::return_,
        submissions::withdraw,
        views::aggregate,
        views::trend,
        views::benchmark,
        views::completeness,
        views::municipalities,
        sheets::template_xlsx,
        sheets::template_csv,
    ),
    modifiers(&SecurityAddon, &StandardResponses),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "catalogue", description = "The basisset: goals, indicators, versions (public)"),
        (name = "reference", description = "Provinces and municipalities (public)"),
        (name = "auth", description = "OAuth2 client credentials: POST /oauth/token"),
        (name = "clients", description = "API clients (admin)"),
        (name = "registry", description = "Wijkteam organisations (read: public; write: admin)"),
        (name = "audit", description = "Audit log of registry and access changes (admin, Associatie)"),
        (name = "submissions", description = "Posting figures, revisions, review workflow"),
        (name = "views", description = "Cross-municipal views (public where the figures allow)"),
        (name = "templates", description = "Spreadsheet templates to fill in, per team type (public)"),
    )
)]
pub struct ApiDoc;

/// Responses every operation can give, documented once: malformed parameters (400), an invalid
/// token (401), body problems (413, 415, 422), and server trouble (500, 503).
struct StandardResponses;

impl Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let api = path.starts_with("/api/v1") || path.starts_with("/oauth");
            for op in [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                let mut add = |code: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| problem(description).into());
                };
                if !api {
                    continue;
                }
                add("400", "Malformed path or query parameters");
                add("401", "Invalid, expired or revoked access token");
                add("500", "Unexpected failure (details are logged, not shown)");
                add("503", "Database unavailable");
                if op.request_body.is_some() {
                    add("413", "Request body too large");
                    add("415", "Unsupported Content-Type");
                    add("422", "Invalid body: every problem with its location");
                }
            }
        }
    }
}

/// The OAuth2 client-credentials security scheme.
struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/oauth/token",
                    Scopes::new(),
                ))],
                "OAuth2 client credentials (RFC 6749 §4.4): POST /oauth/token with client_id and \
                 client_secret, then send `Authorization: Bearer <access_token>`.",
            )),
        );
    }
}

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
