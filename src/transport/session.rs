//! The session cookie of people signed in to the web pages, and the checks every
//! state-changing page request passes. Sessions authenticate web pages only: the REST and
//! GraphQL APIs take bearer tokens and ignore the cookie, so no API request can be forged
//! from another site.
//!
//! The cookie: `__Host-basisset` (`Secure`, `Path=/`, no `Domain`, so no other host can set
//! or read it), `HttpOnly`, `SameSite=Lax`; without `--cookie-secure` (plain HTTP on a host
//! that is not local) it is `basisset` without `Secure`. It holds only the random session id;
//! the database keeps its hash ([`crate::users::sessions`]).
//!
//! A state-changing request (a form POST) must carry the session's CSRF token (synchronizer
//! token pattern) and, when the browser sends `Origin` (or else `Referer`), come from this
//! site's own origin.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::users::sessions::{self, Session, SessionPolicy};

/// The session cookie's name.
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.config.accounts.cookie_secure {
        "__Host-basisset"
    } else {
        "basisset"
    }
}

/// The value of a cookie of the request, if sent (the first if sent twice).
pub fn cookie_value(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a new session id; the cookie lives as long as the session can.
pub fn set_cookie(state: &AppState, value: &str) -> String {
    let policy = SessionPolicy::from_args(&state.config.accounts);
    let secure = if state.config.accounts.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        cookie_name(state),
        policy.absolute.num_seconds()
    )
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(state: &AppState) -> String {
    let secure = if state.config.accounts.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(state)
    )
}

/// The session of a request's cookie, if it is current.
pub async fn session_of(state: &AppState, req: &HttpRequest) -> AppResult<Option<Session>> {
    let Some(cookie) = cookie_value(req, cookie_name(state)) else {
        return Ok(None);
    };
    let policy = SessionPolicy::from_args(&state.config.accounts);
    state
        .db
        .run(move |conn| sessions::resolve(conn, &policy, &cookie))
        .await
}

/// Who is asking for a page: a bearer token if sent (as the API), else the signed-in person
/// of a full session, else anonymous.
pub async fn page_caller(
    state: &AppState,
    req: &HttpRequest,
) -> AppResult<(Caller, Option<Session>)> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        return Ok((super::caller_of(state, req).await?, None));
    }
    let session = session_of(state, req).await?;
    let caller = session.as_ref().map_or(Caller::Anonymous, Session::caller);
    Ok((caller, session))
}

/// The origin this service is reached at, as the browser saw it (scheme and `Host`), and the
/// configured public URL's.
fn own_origins(state: &AppState, req: &HttpRequest) -> Vec<String> {
    let info = req.connection_info();
    let mut origins = vec![format!("{}://{}", info.scheme(), info.host())];
    let public = state.public_url();
    if let Some(rest) = public
        .split_once("://")
        .map(|(s, r)| (s, r.split('/').next().unwrap_or("")))
    {
        origins.push(format!("{}://{}", rest.0, rest.1));
    }
    origins
}

/// A state-changing page request: the session's CSRF token must be `token`, and the request
/// must come from this site (`Origin`, else `Referer`, when the browser sends one). Otherwise
/// 403 `FORBIDDEN` with a detail that says it was the CSRF check.
pub fn require_same_site(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    token: &str,
) -> AppResult<()> {
    let refuse = |why: &str| AppError::Forbidden(format!("CSRF check failed: {why}"));
    if !session.csrf_ok(token) {
        return Err(refuse(
            "the form's token does not belong to this session; reload the page and try again",
        ));
    }
    require_own_origin(state, req).map_err(|_| refuse("the request came from another site"))
}

/// The request comes from this site, as far as the browser tells (`Origin`, else `Referer`);
/// for the sign-in form, which has no session yet.
pub fn require_own_origin(state: &AppState, req: &HttpRequest) -> AppResult<()> {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            req.headers()
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| {
                    let (scheme, rest) = r.split_once("://")?;
                    Some(format!("{scheme}://{}", rest.split('/').next()?))
                })
        });
    match origin {
        None => Ok(()),
        Some(o)
            if own_origins(state, req)
                .iter()
                .any(|own| own.eq_ignore_ascii_case(&o)) =>
        {
            Ok(())
        }
        Some(_) => Err(AppError::Forbidden(
            "CSRF check failed: the request came from another site".into(),
        )),
    }
}
