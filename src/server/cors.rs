//! Cross-origin requests (CORS) for browser dashboards on other origins.
//!
//! A request without credentials (no `Authorization` header; not the token endpoint) may come
//! from any origin: it reads only what anyone may read. A request with a token, and the token
//! endpoint itself, only from the origins in `--cors-origins`. Preflights (`OPTIONS` with
//! `Access-Control-Request-Method`) are answered here, before routing.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use futures_util::future::{Either, Ready, ready};

use crate::app::AppState;

const ALLOWED_METHODS: &str = "GET, HEAD, POST, PATCH, DELETE, OPTIONS";
const ALLOWED_HEADERS: [&str; 6] = [
    "authorization",
    "content-type",
    "idempotency-key",
    "if-none-match",
    "accept",
    "accept-language",
];
const EXPOSED_HEADERS: &str = "ETag, Link, Location, Retry-After, X-Request-Id, X-Total-Count, \
                               Idempotent-Replayed, Content-Disposition";

fn configured(req: &ServiceRequest, origin: &str) -> bool {
    req.app_data::<web::Data<AppState>>().is_some_and(|s| {
        s.config
            .web
            .cors_origins
            .iter()
            .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    })
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// The middleware (used with `App::wrap_fn`).
#[allow(clippy::type_complexity)]
pub fn cors<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> Either<
    Ready<Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>,
    impl std::future::Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>
    + use<S, B>,
>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let token_endpoint = req.path() == "/oauth/token";
    if let Some(origin) = &origin
        && req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let requested: Vec<String> = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        let credentials = token_endpoint || requested.iter().any(|h| h == "authorization");
        let allowed = !credentials || configured(&req, origin);
        let mut res = HttpResponse::build(StatusCode::NO_CONTENT).finish();
        let h = res.headers_mut();
        set(h, header::VARY, "Origin, Access-Control-Request-Headers");
        if allowed
            && requested
                .iter()
                .all(|r| ALLOWED_HEADERS.contains(&r.as_str()))
        {
            set(
                h,
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                if credentials { origin } else { "*" },
            );
            set(h, header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS);
            set(
                h,
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                &ALLOWED_HEADERS.join(", "),
            );
            set(h, header::ACCESS_CONTROL_MAX_AGE, "600");
        }
        let (http_req, _) = req.into_parts();
        return Either::Left(ready(Ok(
            ServiceResponse::new(http_req, res).map_into_right_body()
        )));
    }
    let credentials = token_endpoint || req.headers().contains_key(header::AUTHORIZATION);
    let allow = origin.map(|o| {
        if !credentials {
            "*".to_owned()
        } else if configured(&req, &o) {
            o
        } else {
            String::new()
        }
    });
    let fut = srv.call(req);
    Either::Right(async move {
        let mut res = fut.await?;
        if let Some(allow) = allow {
            let h = res.headers_mut();
            h.append(header::VARY, HeaderValue::from_static("Origin"));
            if !allow.is_empty() {
                set(h, header::ACCESS_CONTROL_ALLOW_ORIGIN, &allow);
                set(h, header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED_HEADERS);
            }
        }
        Ok(res.map_into_left_body())
    })
}
