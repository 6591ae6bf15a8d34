//! The REST transport (actix-web): routes, the one mapping of [`AppError`] to
//! `application/problem+json`, health endpoints, paging headers. The application is assembled
//! in [`crate::server`].
//! Handlers are thin: they parse the request and call the same domain functions GraphQL uses.

pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod docs;
pub mod health;
pub mod openapi;
pub mod registry;
pub mod sheets;
pub mod strict;
pub mod submissions;
pub mod views;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::error::AppError;
use crate::transport::{get, resource};

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            // RFC 6750 §3.1: no error code when the request had no token at all.
            AppError::Unauthenticated(_) if self.is_missing_token() => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"basisset\""));
            }
            AppError::Unauthenticated(_) => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    "Bearer realm=\"basisset\", error=\"invalid_token\"",
                ));
            }
            AppError::OAuth { status: 401, .. } => {
                res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"basisset\""));
            }
            AppError::RateLimited { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            AppError::Unavailable(_) => {
                res.insert_header((
                    header::RETRY_AFTER,
                    crate::error::UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
                ));
            }
            _ => {}
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

/// The REST routes (and the extractor settings their handlers rely on).
pub fn routes(cfg: &mut web::ServiceConfig, limits: &crate::config::LimitArgs) {
    use web::{delete, patch, post};
    cfg.app_data(json_config(limits.max_body_bytes))
        .app_data(query_config())
        .app_data(path_config());
    cfg.service(resource("/healthz", "GET, HEAD").route(get().to(health::healthz)))
        .service(resource("/readyz", "GET, HEAD").route(get().to(health::readyz)))
        .service(resource("/docs", "GET, HEAD").route(get().to(docs::api_docs)))
        .service(resource("/api/openapi.json", "GET, HEAD").route(get().to(openapi::openapi_json)))
        .service(
            resource("/oauth/token", "POST")
                .app_data(web::PayloadConfig::new(64 * 1024))
                .route(post().to(auth::token)),
        )
        .service(resource("/oauth/jwks.json", "GET, HEAD").route(get().to(auth::jwks)))
        .service(
            resource("/.well-known/oauth-authorization-server", "GET, HEAD")
                .route(get().to(auth::oauth_metadata)),
        )
        .service(
            web::scope("/api/v1")
                .service(resource("/me", "GET, HEAD").route(get().to(auth::me)))
                .service(resource("/audit", "GET, HEAD").route(get().to(audit::list)))
                .service(
                    resource("/clients", "GET, HEAD, POST")
                        .route(post().to(auth::create_client))
                        .route(get().to(auth::list_clients)),
                )
                .service(
                    resource("/clients/{client_id}", "DELETE")
                        .route(delete().to(auth::revoke_client)),
                )
                .service(
                    resource("/clients/{client_id}/rotate", "POST")
                        .route(post().to(auth::rotate_client)),
                )
                .service(resource("/goals", "GET, HEAD").route(get().to(catalogue::list_goals)))
                .service(
                    resource("/catalogue/versions", "GET, HEAD")
                        .route(get().to(catalogue::list_versions)),
                )
                .service(
                    resource("/indicators", "GET, HEAD")
                        .route(get().to(catalogue::list_indicators)),
                )
                .service(
                    resource("/indicators/{code}", "GET, HEAD")
                        .route(get().to(catalogue::get_indicator)),
                )
                .service(
                    resource("/provinces", "GET, HEAD").route(get().to(catalogue::list_provinces)),
                )
                .service(
                    resource("/municipalities", "GET, HEAD")
                        .route(get().to(catalogue::list_municipalities)),
                )
                .service(
                    resource("/municipalities/{code}", "GET, HEAD")
                        .route(get().to(catalogue::get_municipality)),
                )
                .service(
                    resource("/organisations", "GET, HEAD, POST")
                        .route(post().to(registry::create))
                        .route(get().to(registry::list)),
                )
                .service(
                    resource("/organisations/{id}", "GET, HEAD, PATCH")
                        .route(get().to(registry::get))
                        .route(patch().to(registry::update)),
                )
                .service(
                    resource("/organisations/{id}/submissions", "GET, HEAD, POST")
                        .route(post().to(submissions::post))
                        .route(get().to(submissions::list_for_organisation)),
                )
                .service(resource("/submissions", "GET, HEAD").route(get().to(submissions::list)))
                .service(
                    resource("/submissions/{id}", "GET, HEAD").route(get().to(submissions::get)),
                )
                .service(
                    resource("/submissions/{id}/revisions", "GET, HEAD")
                        .route(get().to(submissions::revisions)),
                )
                .service(
                    resource("/submissions/{id}/diff", "GET, HEAD")
                        .route(get().to(submissions::diff)),
                )
                .service(
                    resource("/submissions/{id}/submit", "POST")
                        .route(post().to(submissions::submit)),
                )
                .service(
                    resource("/submissions/{id}/accept", "POST")
                        .route(post().to(submissions::accept)),
                )
                .service(
                    resource("/submissions/{id}/return", "POST")
                        .route(post().to(submissions::return_)),
                )
                .service(
                    resource("/submissions/{id}/withdraw", "POST")
                        .route(post().to(submissions::withdraw)),
                )
                .service(
                    resource("/views/aggregate", "GET, HEAD").route(get().to(views::aggregate)),
                )
                .service(resource("/views/trend", "GET, HEAD").route(get().to(views::trend)))
                .service(
                    resource("/views/benchmark", "GET, HEAD").route(get().to(views::benchmark)),
                )
                .service(
                    resource("/views/completeness", "GET, HEAD")
                        .route(get().to(views::completeness)),
                )
                .service(
                    resource("/views/municipalities", "GET, HEAD")
                        .route(get().to(views::municipalities)),
                )
                .service(
                    resource("/templates/{teamType}.xlsx", "GET, HEAD")
                        .route(get().to(sheets::template_xlsx)),
                )
                .service(
                    resource("/templates/{teamType}.csv", "GET, HEAD")
                        .route(get().to(sheets::template_csv)),
                ),
        );
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| {
            use actix_web::error::JsonPayloadError as E;
            let app = match &err {
                E::OverflowKnownLength { .. } | E::Overflow { .. } => {
                    AppError::PayloadTooLarge(err.to_string())
                }
                E::ContentType => {
                    AppError::UnsupportedMediaType("expected Content-Type: application/json".into())
                }
                E::Deserialize(e) => AppError::Validation(
                    vec![crate::error::FieldIssue::new(
                        json_error_field(e),
                        "invalid_json",
                        e.to_string(),
                    )]
                    .into(),
                ),
                _ => AppError::bad_request("INVALID_BODY", err.to_string()),
            };
            actix_web::error::InternalError::from_response(err, app.error_response()).into()
        })
}

fn json_error_field(e: &serde_json::Error) -> String {
    format!("line {}, column {}", e.line(), e.column())
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let app = AppError::bad_request("INVALID_QUERY", err.to_string());
        actix_web::error::InternalError::from_response(err, app.error_response()).into()
    })
}

fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        let app = AppError::bad_request("INVALID_PATH", err.to_string());
        actix_web::error::InternalError::from_response(err, app.error_response()).into()
    })
}

/// `limit` and `offset` of a list.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1..1000 (default 100; reference lists 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Items to skip.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl PageParams {
    pub fn page(&self) -> crate::error::AppResult<crate::paging::PageRequest> {
        crate::paging::PageRequest::new(self.limit, self.offset)
    }
    pub fn reference_page(&self) -> crate::error::AppResult<crate::paging::PageRequest> {
        crate::paging::PageRequest::with_default(self.limit, self.offset, crate::paging::MAX_LIMIT)
    }
}

/// A page of a list: the items as the body, the total in `X-Total-Count`, and RFC 8288 links to
/// the next and previous pages (the request's own query with `offset` and `limit` set).
pub fn paged<T: serde::Serialize>(req: &HttpRequest, page: crate::paging::Page<T>) -> HttpResponse {
    let link = |offset: i64, rel: &str| {
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        pairs.retain(|(k, _)| k != "offset" && k != "limit");
        pairs.push(("limit".into(), page.limit.to_string()));
        pairs.push(("offset".into(), offset.to_string()));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("<{}?{query}>; rel=\"{rel}\"", req.path())
    };
    let mut links = Vec::new();
    if page.has_next() {
        links.push(link(page.offset + page.limit, "next"));
    }
    if page.offset > 0 {
        links.push(link((page.offset - page.limit).max(0), "prev"));
    }
    let mut res = HttpResponse::Ok();
    res.insert_header(("X-Total-Count", page.total.to_string()));
    if !links.is_empty() {
        res.insert_header((header::LINK, links.join(", ")));
    }
    res.json(page.items)
}

/// JSON response helper.
pub fn json<T: serde::Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok().json(value)
}
