//! The assembled application: every transport's routes under one set of middleware (request
//! ids, logging with secrets redacted, refusal of NUL and unknown parameters, conditional GET,
//! compression, CORS), and the server with graceful shutdown. Transports do not know each
//! other; this module wires them.

pub mod caching;
pub mod cors;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, ResponseError, web};

use crate::app::AppState;
use crate::error::AppError;
pub use crate::transport::redacted_target;
use crate::transport::{self, get, resource};
use crate::{graphql, http, web as site};

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
            // NUL cannot be stored (PostgreSQL) and has no business in a URL, and a query
            // parameter the operation does not have is a mistake: refuse both up front, naming
            // the parameter, before any handler or query sees them.
            let refused = nul_in_url(req.uri())
                .or_else(|| http::strict::check(req.method(), req.path(), req.query_string()));
            match refused {
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
        .wrap(caching::ConditionalGet)
        .wrap(actix_web::middleware::Compress::default())
        .wrap_fn(cors::cors)
        .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
        .configure(|cfg| routes(cfg, &limits))
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
            http.target = %transport::redacted_target(request.uri()),
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

fn routes(cfg: &mut web::ServiceConfig, limits: &crate::config::LimitArgs) {
    cfg.service(
        resource("/graphql", "GET, HEAD, POST")
            .route(web::post().to(graphql::graphql_post))
            .route(get().to(graphql::graphql_get)),
    )
    .service(resource("/assets/{path:.*}", "GET, HEAD").route(get().to(transport::assets::asset)));
    http::routes(cfg, limits);
    site::routes(cfg);
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    if site::wants_html(&req) {
        return Ok(site::not_found(&req));
    }
    Err(AppError::not_found(
        "route",
        format!("{} {}", req.method(), req.path()),
    ))
}

/// Run the HTTP server until SIGINT/SIGTERM; in-flight requests get `shutdown_timeout` to finish.
pub async fn serve(state: AppState) -> std::io::Result<()> {
    let config = state.config.clone();
    state.start_background();
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
