//! HTTP caching of the public, versioned answers (views, catalogue, reference data, the
//! registry): a weak `ETag` from the data version and everything that shapes the answer (the
//! URL, the caller's token, `Accept`, `Accept-Language`), `If-None-Match` answered `304` before
//! the handler runs, and `Cache-Control: no-cache` so clients revalidate (cheaply) every time.
//! Every change that can alter these answers raises the data version in its own transaction,
//! so a tag is never stale.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpMessage, HttpResponse, web};
use futures_util::future::LocalBoxFuture;

use crate::app::AppState;
use crate::db::versions::RequestVersions;

/// The paths whose GET answers carry an ETag.
fn cacheable(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    [
        "/api/v1/views/",
        "/api/v1/indicators",
        "/api/v1/goals",
        "/api/v1/catalogue/versions",
        "/api/v1/provinces",
        "/api/v1/municipalities",
        "/api/v1/organisations",
    ]
    .iter()
    .any(|prefix| p.starts_with(prefix))
        && !p.ends_with("/submissions")
}

/// The weak entity tag of an answer at `version`.
pub fn entity_tag(version: i64, req: &ServiceRequest) -> String {
    let h = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .map(|v| v.as_bytes().to_vec())
            .unwrap_or_default()
    };
    let uri = req.uri().to_string();
    let digest = crate::submissions::request_hash(&[
        version.to_string().as_bytes(),
        uri.as_bytes(),
        &h(header::AUTHORIZATION),
        &h(header::ACCEPT),
        &h(header::ACCEPT_LANGUAGE),
    ]);
    format!("W/\"{}\"", &digest[..20])
}

fn matches(if_none_match: &str, tag: &str) -> bool {
    let bare = tag.trim_start_matches("W/");
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == bare)
}

/// The middleware.
pub struct ConditionalGet;

impl<S, B> Transform<S, ServiceRequest> for ConditionalGet
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = ConditionalGetService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ConditionalGetService {
            service: Rc::new(service),
        }))
    }
}

pub struct ConditionalGetService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for ConditionalGetService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        Box::pin(async move {
            let read = req.method() == Method::GET || req.method() == Method::HEAD;
            let state = req.app_data::<web::Data<AppState>>().cloned();
            if !read {
                let changes = crate::db::versions::local_changes();
                let res = service.call(req).await?;
                // Read your own writes: where the versions are kept in memory, take in what this
                // request committed before answering it (the notification may still be on its
                // way to this instance's listener).
                if let Some(state) = state
                    && state.view_cache.versions().trusted()
                    && crate::db::versions::local_changes() != changes
                {
                    let versions = state.view_cache.versions().clone();
                    let _ = state.db.run(move |c| versions.reload(c)).await;
                }
                return Ok(res.map_into_left_body());
            }
            let (Some(state), true) = (state, read && cacheable(req.path())) else {
                return service.call(req).await.map(|r| r.map_into_left_body());
            };
            let versions = state.view_cache.versions().clone();
            let snapshot = match versions.trusted_snapshot() {
                Some(s) => Ok(s),
                None => match state.db.try_get_sqlite() {
                    // SQLite: two tiny in-process reads, here rather than on a blocking thread
                    // (a WAL reader never waits for a writer; no connection free: the thread).
                    Some(mut conn) => versions.reload(&mut conn),
                    None => state.db.run(move |c| versions.reload(c)).await,
                },
            };
            let Ok(snapshot) = snapshot else {
                return service.call(req).await.map(|r| r.map_into_left_body());
            };
            let tag = entity_tag(snapshot.data, &req);
            // The handler reads at these versions (no second read; the body matches the tag).
            req.extensions_mut().insert(RequestVersions(snapshot));
            let cache_control = HeaderValue::from_static("no-cache");
            let vary = HeaderValue::from_static("Authorization, Accept, Accept-Language");
            let fresh = req
                .headers()
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| matches(v, &tag));
            if fresh {
                let mut res = HttpResponse::build(StatusCode::NOT_MODIFIED).finish();
                let h = res.headers_mut();
                if let Ok(v) = HeaderValue::from_str(&tag) {
                    h.insert(header::ETAG, v);
                }
                h.insert(header::CACHE_CONTROL, cache_control);
                h.insert(header::VARY, vary);
                let (http_req, _) = req.into_parts();
                return Ok(ServiceResponse::new(http_req, res).map_into_right_body());
            }
            let stale_before = state.view_cache.stale_served();
            let mut res = service.call(req).await?;
            // An answer cut from an older protected family (one was being rebuilt) is not
            // tagged: a revalidation must fetch the newer one.
            let stale = state.view_cache.stale_served() != stale_before;
            if res.status() == StatusCode::OK && !stale {
                let h = res.headers_mut();
                if let Ok(v) = HeaderValue::from_str(&tag) {
                    h.insert(header::ETAG, v);
                }
                h.insert(header::CACHE_CONTROL, cache_control);
                h.insert(header::VARY, vary);
            }
            Ok(res.map_into_left_body())
        })
    }
}
