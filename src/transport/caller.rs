//! Who is calling: the [`Caller`] extractor every transport uses.

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::app::AppState;
use crate::auth::clients;
use crate::auth::{Caller, bearer_token};
use crate::error::{AppError, AppResult};

/// Resolve the caller from an `Authorization` header: anonymous without one; 401 for anything
/// that is not a valid, current token of an active client.
pub async fn authenticate(state: &AppState, authorization: Option<&str>) -> AppResult<Caller> {
    let Some(token) = bearer_token(authorization)? else {
        return Ok(Caller::Anonymous);
    };
    let claims = state.auth.verify(token)?;
    let versions = state.view_cache.versions().clone();
    state
        .db
        .run(move |conn| {
            let caller = clients::caller_for(conn, &claims)?;
            // Signed-in callers see every commit at once, also one made a moment ago on another
            // instance whose announcement is still on its way (the connection is taken anyway).
            versions.observe(conn)?;
            Ok(caller)
        })
        .await
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
