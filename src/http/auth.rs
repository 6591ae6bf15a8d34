//! REST: the OAuth2 token endpoint, `/me` and API client management.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::clients::{self, ApiClient, IssuedCredentials, NewClient};
use crate::auth::{Caller, ClientIdentity, TokenResponse};
use crate::error::{AppError, AppResult, Problem};
use crate::http::PageParams;

/// Token request (RFC 6749 §4.4.2), as `application/x-www-form-urlencoded` (or JSON).
/// The client may authenticate with HTTP Basic instead of the body fields.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    #[schema(value_type = String, pattern = "^client_credentials$")]
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Ignored: a client's rights come from its role.
    pub scope: Option<String>,
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn basic_credentials(req: &HttpRequest) -> AppResult<Option<(String, String)>> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let invalid = || AppError::oauth(401, "invalid_client", "malformed Basic authorization");
    let value = value.to_str().map_err(|_| invalid())?;
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Err(invalid());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(AppError::oauth(
            400,
            "invalid_request",
            "the token endpoint accepts HTTP Basic or body credentials",
        ));
    }
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| invalid())?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(invalid)?;
    Ok(Some((
        percent_decode(id).ok_or_else(invalid)?,
        percent_decode(secret).ok_or_else(invalid)?,
    )))
}

/// OAuth2 client-credentials grant: exchange `client_id` + `client_secret` for a short-lived
/// JWT access token.
#[utoipa::path(post, path = "/oauth/token", operation_id = "requestToken", tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, description = "invalid_request or unsupported_grant_type", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "invalid_client", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "throttled: too many failed attempts for this client id from this address, or from this address (see Retry-After)", body = Problem, content_type = "application/problem+json")))]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let form: TokenRequest = if content_type.starts_with("application/json") {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::oauth(400, "invalid_request", format!("invalid JSON: {e}")))?
    } else if content_type.starts_with("application/x-www-form-urlencoded") || body.is_empty() {
        serde_urlencoded::from_bytes(&body)
            .map_err(|e| AppError::oauth(400, "invalid_request", format!("invalid form: {e}")))?
    } else {
        return Err(AppError::oauth(
            400,
            "invalid_request",
            "send application/x-www-form-urlencoded (grant_type=client_credentials)",
        ));
    };
    // Control characters (NUL above all: PostgreSQL text cannot hold it) are never part of a
    // valid value; refuse them by name before anything reaches the database.
    for (field, value) in [
        ("grant_type", &form.grant_type),
        ("client_id", &form.client_id),
        ("client_secret", &form.client_secret),
        ("scope", &form.scope),
    ] {
        no_control_characters(field, value.as_deref())?;
    }
    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        None => {
            return Err(AppError::oauth(
                400,
                "invalid_request",
                "grant_type is required",
            ));
        }
        Some(other) => {
            return Err(AppError::oauth(
                400,
                "unsupported_grant_type",
                format!("grant_type {other:?} is not supported; use client_credentials"),
            ));
        }
    }
    let basic = basic_credentials(&req)?;
    if let Some((id, secret)) = &basic {
        no_control_characters("client_id", Some(id))?;
        no_control_characters("client_secret", Some(secret))?;
    }
    let (client_id, client_secret) = match (basic, form.client_id, form.client_secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(AppError::oauth(
                400,
                "invalid_request",
                "use either HTTP Basic or body credentials, not both",
            ));
        }
        (Some(pair), None, None) => pair,
        (None, Some(id), Some(secret)) => (id, secret),
        _ => {
            return Err(AppError::oauth(
                400,
                "invalid_request",
                "client_id and client_secret are required",
            ));
        }
    };
    if client_id.is_empty() {
        return Err(AppError::oauth(
            400,
            "invalid_request",
            "client_id is empty",
        ));
    }
    if client_id.len() > 200 || client_secret.len() > 500 {
        return Err(AppError::oauth(
            401,
            "invalid_client",
            "unknown client or wrong secret",
        ));
    }
    let address = crate::transport::client_address(&state, &req);
    let auth = state.auth.clone();
    // 1: reserve the attempt with the throttle and load the client; 2: the argon2 check, on the
    // blocking pool without holding a database connection; 3: issue the token.
    let attempt = state
        .db
        .run({
            let auth = auth.clone();
            move |conn| clients::begin_grant(conn, &auth, &client_id, &address)
        })
        .await?;
    let verified = web::block(move || attempt.verify(&client_secret))
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))??;
    let response = state
        .db
        .run(move |conn| clients::finish_grant(conn, &auth, verified))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(response))
}

/// 400 `invalid_request` naming the field if it holds a control character.
fn no_control_characters(field: &str, value: Option<&str>) -> AppResult<()> {
    if value.is_some_and(|v| v.chars().any(char::is_control)) {
        return Err(AppError::oauth(
            400,
            "invalid_request",
            format!(
                "{field} contains a control character (such as NUL), which no valid {field} has"
            ),
        ));
    }
    Ok(())
}

/// Public keys for verifying access tokens (EdDSA key sets only).
#[utoipa::path(get, path = "/oauth/jwks.json", operation_id = "getJwks", tag = "auth",
    responses((status = 200, description = "JSON Web Key Set", body = serde_json::Value)))]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.auth.keys.jwks())
}

/// OAuth 2.0 Authorization Server Metadata (RFC 8414): where the token endpoint and the keys
/// are, and what the server supports (client credentials only).
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", operation_id = "getOAuthMetadata", tag = "auth",
    responses((status = 200, description = "Authorization server metadata (RFC 8414)", body = serde_json::Value)))]
pub async fn oauth_metadata(state: web::Data<AppState>) -> HttpResponse {
    let base = state.public_url();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(serde_json::json!({
            "issuer": base,
            "token_endpoint": format!("{base}/oauth/token"),
            "jwks_uri": format!("{base}/oauth/jwks.json"),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "response_types_supported": [],
            "scopes_supported": [],
            "service_documentation": format!("{base}/docs"),
            "token_endpoint_auth_signing_alg_values_supported": [],
        }))
}

/// The authenticated client.
#[utoipa::path(get, path = "/api/v1/me", operation_id = "getCurrentCaller", tag = "auth", security(("oauth2" = [])),
    responses((status = 200, body = ClientIdentity),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn me(caller: Caller) -> AppResult<HttpResponse> {
    match caller {
        Caller::Client(identity) => Ok(HttpResponse::Ok().json(identity)),
        _ => Err(AppError::unauthenticated(AppError::MISSING_TOKEN)),
    }
}

/// Create an API client (admin). The secret is in the response, once.
#[utoipa::path(post, path = "/api/v1/clients", operation_id = "createClient", tag = "clients", security(("oauth2" = [])),
    request_body = NewClient,
    responses((status = 201, body = IssuedCredentials),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_client(
    state: web::Data<AppState>,
    caller: Caller,
    input: web::Json<NewClient>,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let input = input.into_inner();
    let created = state
        .db
        .run(move |conn| clients::create(conn, &caller, input))
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// List API clients (admin).
#[utoipa::path(get, path = "/api/v1/clients", operation_id = "listClients", tag = "clients", security(("oauth2" = [])),
    params(PageParams),
    responses((status = 200, description = "One page (`X-Total-Count`, `Link` to the next and previous pages)", body = Vec<ApiClient>, headers(("X-Total-Count" = i64, description = "Items over all pages"), ("Link" = String, description = "RFC 8288 links: rel=next, rel=prev"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_clients(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    p: web::Query<PageParams>,
) -> AppResult<HttpResponse> {
    let page = p.page()?;
    let list = state
        .db
        .run(move |conn| clients::list(conn, &caller))
        .await?;
    Ok(crate::http::paged(&req, page.slice(list)))
}

/// Revoke an API client (admin); its tokens stop working at once.
#[utoipa::path(delete, path = "/api/v1/clients/{client_id}", operation_id = "revokeClient", tag = "clients", security(("oauth2" = [])),
    params(("client_id" = String, Path)),
    responses((status = 200, body = ApiClient),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_client(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let id = id.into_inner();
    let client = state
        .db
        .run(move |conn| clients::revoke(conn, &caller, &id))
        .await?;
    Ok(HttpResponse::Ok().json(client))
}

/// Give an API client a new secret (admin); tokens issued before stop working.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/rotate", operation_id = "rotateClientSecret", tag = "clients", security(("oauth2" = [])),
    params(("client_id" = String, Path)),
    responses((status = 200, body = IssuedCredentials),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn rotate_client(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    caller.require_admin()?;
    let id = id.into_inner();
    let creds = state
        .db
        .run(move |conn| clients::rotate(conn, &caller, &id))
        .await?;
    Ok(HttpResponse::Ok().json(creds))
}
