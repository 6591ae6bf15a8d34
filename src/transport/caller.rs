//! Who is calling: the [`Caller`] extractor every transport uses, and [`Pending`] for handlers
//! that check the caller in the same blocking step as their work.

use std::future::{Ready, ready};

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::app::AppState;
use crate::auth::clients;
use crate::auth::{Caller, Claims, bearer_token};
use crate::db::versions::{RequestVersions, Snapshot, Versions};
use crate::db::{DbConn, LazyConn};
use crate::error::{AppError, AppResult};
use crate::views::ViewContext;

/// Resolve the caller from an `Authorization` header: anonymous without one; 401 for anything
/// that is not a valid, current token of an active client.
pub async fn authenticate(state: &AppState, authorization: Option<&str>) -> AppResult<Caller> {
    let pending = Pending::from_header(state, authorization)?;
    if pending.claims.is_none() {
        return Ok(Caller::Anonymous);
    }
    let versions = state.view_cache.versions().clone();
    state
        .db
        .run(move |conn| pending.resolve(conn, &versions))
        .await
}

/// A caller whose token is verified (signature, expiry: no database) but not yet checked
/// against the database: that check is done in the handler's own blocking step, with the same
/// pooled connection as its work ([`Pending::run_lazy`]).
pub struct Pending {
    claims: Option<Claims>,
    /// The versions this request's HTTP tag was computed at, if any: the work reads at them.
    pinned: Option<std::sync::Arc<Snapshot>>,
}

impl Pending {
    fn from_header(state: &AppState, authorization: Option<&str>) -> AppResult<Pending> {
        let claims = match bearer_token(authorization)? {
            Some(token) => Some(state.auth.verify(token)?),
            None => None,
        };
        Ok(Pending {
            claims,
            pinned: None,
        })
    }

    fn resolve(&self, conn: &mut DbConn, versions: &Versions) -> AppResult<Caller> {
        let Some(claims) = &self.claims else {
            return Ok(Caller::Anonymous);
        };
        let (caller, seen) = clients::caller_for(conn, claims)?;
        // Signed-in callers see every commit at once, also one made a moment ago on another
        // instance whose announcement is still on its way (the version came with the check).
        versions.observe(conn, seen)?;
        Ok(caller)
    }

    /// An answer for an anonymous caller found without the database or a blocking step (a
    /// cached view), at the versions read for this request's tag or those kept in memory.
    /// `None` for a signed-in caller (its client is checked in the database) or when `find`
    /// finds nothing: then [`Pending::run_lazy`].
    pub fn cached<T>(
        &self,
        state: &AppState,
        find: impl FnOnce(&ViewContext<'_>, &Snapshot) -> Option<T>,
    ) -> Option<T> {
        if self.claims.is_some() {
            return None;
        }
        let at = self
            .pinned
            .clone()
            .or_else(|| state.view_cache.versions().trusted_snapshot())?;
        find(&ViewContext::new(state, &Caller::Anonymous), &at)
    }

    /// Check the caller and run `f` as that caller, in one blocking step (the connection is
    /// taken only if the check or the work needs one: an anonymous cached view needs none).
    pub async fn run_lazy<T, F>(self, state: &AppState, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut LazyConn<'_>, &Caller) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let versions = state.view_cache.versions().clone();
        state
            .db
            .run_lazy(move |conn| {
                let signed_in = self.claims.is_some();
                let caller = if signed_in {
                    self.resolve(conn.get()?, &versions)?
                } else {
                    Caller::Anonymous
                };
                // Read at the versions of the request's tag, unless the signed-in check took a
                // newer commit into the versions kept in memory (the tag is then older than the
                // answer: a revalidation fetches it again, never the reverse).
                if let Some(pinned) = self.pinned
                    && !(signed_in && versions.trusted())
                {
                    conn.pin(pinned);
                }
                f(conn, &caller)
            })
            .await
    }
}

impl FromRequest for Pending {
    type Error = AppError;
    type Future = Ready<Result<Pending, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready((|| {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| AppError::internal("application state missing"))?;
            let header = req
                .headers()
                .get(header::AUTHORIZATION)
                .map(|v| v.to_str())
                .transpose()
                .map_err(|_| AppError::unauthenticated("Authorization header is not ASCII"))?;
            let mut pending = Pending::from_header(state, header)?;
            pending.pinned = req
                .extensions()
                .get::<RequestVersions>()
                .map(|v| v.0.clone());
            Ok(pending)
        })())
    }
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Caller, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().map(str::to_owned));
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let header = header
                .transpose()
                .map_err(|_| AppError::unauthenticated("Authorization header is not ASCII"))?;
            authenticate(&state, header.as_deref()).await
        })
    }
}

/// The caller of a request (as the extractor resolves it), for handlers that answer errors in
/// their own format.
pub async fn caller_of(state: &AppState, req: &HttpRequest) -> AppResult<Caller> {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    authenticate(state, authorization).await
}
