//! The HTTP transport (actix-web): routes, the one mapping of [`AppError`] to
//! `application/problem+json`, health endpoints, and the server with graceful shutdown.
//! Handlers are thin: they parse the request and call the same domain functions GraphQL uses.

pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod docs;
pub mod health;
pub mod openapi;
pub mod registry;
pub mod sheets;
pub mod submissions;
pub mod views;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;

use crate::app::AppState;
use crate::error::AppError;
use crate::graphql;

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
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
                    UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
                ));
            }
            _ => {}
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

/// Seconds a client is asked to wait after a 503.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// The whole application: used by `serve` and by the integration tests.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let schema = graphql::build_schema(state.clone());
    let limits = state.config.limits.clone();
    App::new()
        .app_data(web::Data::new(state))
        .app_data(web::Data::new(schema))
        .app_data(json_config(limits.max_body_bytes))
        .app_data(query_config())
        .app_data(path_config())
        .wrap_fn(|req, srv| {
            use actix_web::HttpMessage;
            use actix_web::dev::Service;
            let request_id = req
                .extensions()
                .get::<tracing_actix_web::RequestId>()
                .map(|id| id.to_string());
            let fut = srv.call(req);
            async move {
                let mut res = fut.await?;
                if let Some(id) = request_id
                    && let Ok(value) = header::HeaderValue::from_str(&id)
                {
                    res.headers_mut()
                        .insert(header::HeaderName::from_static("x-request-id"), value);
                }
                Ok(res)
            }
        })
        .wrap_fn(|req, srv| {
            use actix_web::dev::Service;
            use futures_util::future::{Either, ready};
            // NUL cannot be stored (PostgreSQL) and has no business in a URL: refuse it up front,
            // naming the parameter, before any handler or query sees it.
            match nul_in_url(req.uri()) {
                Some(err) => {
                    let (http_req, _) = req.into_parts();
                    let res = ServiceResponse::new(http_req, err.error_response());
                    Either::Left(ready(Ok(res.map_into_right_body())))
                }
                None => {
                    let fut = srv.call(req);
                    Either::Right(async move { fut.await.map(|r| r.map_into_left_body()) })
                }
            }
        })
        .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
        .configure(routes)
        .default_service(web::to(not_found))
}

/// The root span of every request (its fields appear in every log line of the request): the
/// default fields, but with secrets in the query string redacted.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %redacted_target(request.uri()),
            http.client_ip = %request.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Path and query for logs, with the values of secret-looking parameters replaced.
pub fn redacted_target(uri: &actix_web::http::Uri) -> String {
    const SECRET: [&str; 9] = [
        "access_token",
        "token",
        "client_secret",
        "secret",
        "password",
        "refresh_token",
        "id_token",
        "code",
        "api_key",
    ];
    let Some(query) = uri.query() else {
        return uri.path().to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = k.to_ascii_lowercase();
            if SECRET.contains(&key.as_str()) && !v.is_empty() {
                format!("{k}=REDACTED")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    format!("{}?{}", uri.path(), parts.join("&"))
}

/// A NUL character in the path or a query parameter: the 400 that names it.
fn nul_in_url(uri: &actix_web::http::Uri) -> Option<AppError> {
    let has_nul = |s: &str| s.to_ascii_lowercase().contains("%00") || s.contains('\0');
    if has_nul(uri.path()) {
        return Some(AppError::bad_request(
            "INVALID_PATH",
            "the path contains a NUL character (%00)",
        ));
    }
    let query = uri.query()?;
    if !has_nul(query) {
        return None;
    }
    let name = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()
        .and_then(|pairs| {
            pairs
                .into_iter()
                .find(|(k, v)| k.contains('\0') || v.contains('\0'))
                .map(|(k, _)| k.replace('\0', "\\0"))
        })
        .unwrap_or_else(|| "?".to_owned());
    Some(AppError::bad_request(
        "INVALID_QUERY",
        format!("query parameter {name:?} contains a NUL character (%00)"),
    ))
}

/// A resource that answers methods it does not have with 405 and an `Allow` header.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        let err = AppError::MethodNotAllowed(allow);
        let mut res = err.error_response();
        res.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static(allow));
        res
    }))
}

fn routes(cfg: &mut web::ServiceConfig) {
    use web::{delete, get, patch, post};
    cfg.service(resource("/healthz", "GET").route(get().to(health::healthz)))
        .service(resource("/readyz", "GET").route(get().to(health::readyz)))
        .service(
            resource("/graphql", "GET, POST")
                .route(post().to(graphql::graphql_post))
                .route(get().to(docs::graphiql)),
        )
        .service(resource("/docs", "GET").route(get().to(docs::api_docs)))
        .service(resource("/assets/{path:.*}", "GET").route(get().to(docs::asset)))
        .service(resource("/api/openapi.json", "GET").route(get().to(openapi::openapi_json)))
        .service(
            resource("/oauth/token", "POST")
                .app_data(web::PayloadConfig::new(64 * 1024))
                .route(post().to(auth::token)),
        )
        .service(resource("/oauth/jwks.json", "GET").route(get().to(auth::jwks)))
        .service(
            web::scope("/api/v1")
                .service(resource("/me", "GET").route(get().to(auth::me)))
                .service(resource("/audit", "GET").route(get().to(audit::list)))
                .service(
                    resource("/clients", "GET, POST")
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
                .service(resource("/goals", "GET").route(get().to(catalogue::list_goals)))
                .service(
                    resource("/catalogue/versions", "GET")
                        .route(get().to(catalogue::list_versions)),
                )
                .service(resource("/indicators", "GET").route(get().to(catalogue::list_indicators)))
                .service(
                    resource("/indicators/{code}", "GET").route(get().to(catalogue::get_indicator)),
                )
                .service(resource("/provinces", "GET").route(get().to(catalogue::list_provinces)))
                .service(
                    resource("/municipalities", "GET")
                        .route(get().to(catalogue::list_municipalities)),
                )
                .service(
                    resource("/municipalities/{code}", "GET")
                        .route(get().to(catalogue::get_municipality)),
                )
                .service(
                    resource("/organisations", "GET, POST")
                        .route(post().to(registry::create))
                        .route(get().to(registry::list)),
                )
                .service(
                    resource("/organisations/{id}", "GET, PATCH")
                        .route(get().to(registry::get))
                        .route(patch().to(registry::update)),
                )
                .service(
                    resource("/organisations/{id}/submissions", "GET, POST")
                        .route(post().to(submissions::post))
                        .route(get().to(submissions::list_for_organisation)),
                )
                .service(resource("/submissions", "GET").route(get().to(submissions::list)))
                .service(resource("/submissions/{id}", "GET").route(get().to(submissions::get)))
                .service(
                    resource("/submissions/{id}/revisions", "GET")
                        .route(get().to(submissions::revisions)),
                )
                .service(
                    resource("/submissions/{id}/diff", "GET").route(get().to(submissions::diff)),
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
                .service(resource("/views/aggregate", "GET").route(get().to(views::aggregate)))
                .service(resource("/views/trend", "GET").route(get().to(views::trend)))
                .service(resource("/views/benchmark", "GET").route(get().to(views::benchmark)))
                .service(
                    resource("/views/completeness", "GET").route(get().to(views::completeness)),
                )
                .service(
                    resource("/views/municipalities", "GET").route(get().to(views::municipalities)),
                )
                .service(
                    resource("/templates/{teamType}.xlsx", "GET")
                        .route(get().to(sheets::template_xlsx)),
                )
                .service(
                    resource("/templates/{teamType}.csv", "GET")
                        .route(get().to(sheets::template_csv)),
                ),
        );
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::not_found(
        "route",
        format!("{} {}", req.method(), req.path()),
    ))
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

/// Read a request body up to `limit` bytes (413 problem+json beyond).
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, AppError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| AppError::bad_request("INVALID_BODY", format!("reading body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge(format!(
                "request body exceeds {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// JSON response helper.
pub fn json<T: serde::Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok().json(value)
}

/// Run the HTTP server until SIGINT/SIGTERM; in-flight requests get `shutdown_timeout` to finish.
pub async fn serve(state: AppState) -> std::io::Result<()> {
    let config = state.config.clone();
    let mut server = actix_web::HttpServer::new(move || app(state.clone()))
        .shutdown_timeout(config.shutdown_timeout_secs)
        .bind(&config.bind)?;
    if let Some(workers) = config.workers {
        server = server.workers(workers.max(1));
    }
    for addr in server.addrs() {
        tracing::info!(%addr, "listening on http://{addr}");
    }
    server.run().await
}
