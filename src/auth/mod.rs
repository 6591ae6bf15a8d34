//! Authentication (OAuth2 client credentials, JWT access tokens) and authorization.
//!
//! Authorization lives here and in the domain functions, which all take the [`Caller`]; REST and
//! GraphQL only pass it on, so the two transports cannot differ.

pub mod clients;
pub mod keys;
pub mod throttle;

use std::time::Duration;

use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::AuthArgs;
use crate::error::{AppError, AppResult};
use keys::KeyStore;
use throttle::{Throttle, ThrottlePolicy};

crate::text_enum! {
    /// What an API client may do.
    pub enum Role {
        /// Manages the registry and API clients.
        Admin = "admin",
        /// The Associatie Wijkteams: reads every organisation's figures and all views, reviews submissions.
        Associatie = "associatie",
        /// A wijkteam organisation: posts and reads its own figures, reads published and aggregate views.
        Team = "team",
    }
}

/// An authenticated API client.
#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientIdentity {
    pub client_id: String,
    pub name: String,
    pub role: Role,
    /// The organisation a team client belongs to.
    pub organisation_id: Option<i64>,
}

/// Who is asking. Every domain function that reads or writes anything non-public takes one.
#[derive(Debug, Clone, PartialEq)]
pub enum Caller {
    Anonymous,
    Client(ClientIdentity),
    /// The command line on the server (bootstrapping, demo data); never reachable over HTTP.
    System,
}

impl Caller {
    pub fn identity(&self) -> Option<&ClientIdentity> {
        match self {
            Caller::Client(c) => Some(c),
            _ => None,
        }
    }

    pub fn role(&self) -> Option<Role> {
        self.identity().map(|c| c.role)
    }

    /// Name recorded as the author of a change.
    pub fn actor(&self) -> String {
        match self {
            Caller::Anonymous => "anonymous".to_owned(),
            Caller::Client(c) => c.client_id.clone(),
            Caller::System => "system".to_owned(),
        }
    }

    /// 401 for anonymous callers, 403 for clients without one of the roles.
    pub fn require(&self, roles: &[Role]) -> AppResult<()> {
        match self {
            Caller::System => Ok(()),
            Caller::Anonymous => Err(AppError::unauthenticated(AppError::MISSING_TOKEN)),
            Caller::Client(c) if roles.contains(&c.role) => Ok(()),
            Caller::Client(c) => Err(AppError::forbidden(format!(
                "role {} may not do this (allowed: {})",
                c.role,
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    pub fn require_admin(&self) -> AppResult<()> {
        self.require(&[Role::Admin])
    }

    /// Whether the caller sees this organisation's unpublished data.
    pub fn sees_unpublished_of(&self, organisation_id: i64) -> bool {
        match self {
            Caller::System => true,
            Caller::Client(c) => match c.role {
                Role::Associatie => true,
                Role::Team => c.organisation_id == Some(organisation_id),
                Role::Admin => false,
            },
            Caller::Anonymous => false,
        }
    }

    /// Read an organisation's unpublished data (its submissions): the team itself or the
    /// Associatie.
    pub fn require_read_org(&self, organisation_id: i64) -> AppResult<()> {
        self.require(&[Role::Team, Role::Associatie])?;
        if self.sees_unpublished_of(organisation_id) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "this client may not read organisation {organisation_id}'s figures"
            )))
        }
    }

    /// Post or change figures of an organisation: only that organisation's team clients.
    pub fn require_write_org(&self, organisation_id: i64) -> AppResult<()> {
        self.require(&[Role::Team])?;
        match self {
            Caller::Client(c) if c.organisation_id != Some(organisation_id) => {
                Err(AppError::forbidden(format!(
                    "this client may not post figures for organisation {organisation_id}"
                )))
            }
            _ => Ok(()),
        }
    }

    /// The caller's own organisation (team clients).
    pub fn own_organisation(&self) -> Option<i64> {
        match self {
            Caller::Client(c) if c.role == Role::Team => c.organisation_id,
            _ => None,
        }
    }
}

/// Claims of an access token. `sv` is the client's secret version: rotating the secret makes
/// every token issued before invalid at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<i64>,
    pub sv: i64,
}

/// OAuth2 token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// Keys, token settings and the throttle of the token endpoint.
pub struct AuthService {
    pub keys: KeyStore,
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
    pub throttle: Throttle,
    validation: Validation,
    /// Tokens whose signature and claims were verified, by their exact text (the signature
    /// check is most of a signed-in request's own work; the same text always verifies the same
    /// way under this process's keys). Expiry and not-before are checked again at every use.
    verified: std::sync::Mutex<std::collections::HashMap<String, Claims>>,
}

/// How many verified tokens are remembered (emptied when full; only valid tokens enter).
const VERIFIED_TOKENS: usize = 4096;

impl AuthService {
    pub fn new(args: &AuthArgs) -> AppResult<AuthService> {
        let keys = KeyStore::load(args)?;
        let mut validation = Validation::new(keys.algorithm);
        validation.algorithms = vec![keys.algorithm];
        validation.set_issuer(&[&args.jwt_issuer]);
        validation.set_audience(&[&args.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 5;
        Ok(AuthService {
            keys,
            issuer: args.jwt_issuer.clone(),
            audience: args.jwt_audience.clone(),
            ttl: Duration::from_secs(args.token_ttl_secs.clamp(60, 24 * 3600)),
            throttle: Throttle::new(ThrottlePolicy::from_args(args)),
            validation,
            verified: Default::default(),
        })
    }

    /// Sign an access token for a client.
    pub fn issue(&self, client: &ClientIdentity, secret_version: i64) -> AppResult<TokenResponse> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: client.client_id.clone(),
            exp: now + self.ttl.as_secs() as i64,
            nbf: now,
            iat: now,
            jti: base64_url(&keys::random_bytes(16)),
            role: client.role,
            org: client.organisation_id,
            sv: secret_version,
        };
        let key = self.keys.active_key();
        let mut header = Header::new(self.keys.algorithm);
        header.kid = Some(key.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &key.encoding)
            .map_err(|e| AppError::internal(format!("signing token: {e}")))?;
        Ok(TokenResponse {
            access_token: token,
            token_type: "Bearer",
            expires_in: self.ttl.as_secs(),
        })
    }

    /// Check signature, algorithm, key id and the registered claims. The client's state
    /// (revoked, rotated, organisation deactivated) is checked against the database by
    /// [`clients::caller_for`].
    pub fn verify(&self, token: &str) -> AppResult<Claims> {
        if let Some(claims) = self.verified_before(token) {
            return Ok(claims);
        }
        let claims = self.verify_signed(token)?;
        let mut verified = self.verified.lock().expect("verified tokens lock");
        if verified.len() >= VERIFIED_TOKENS {
            verified.clear();
        }
        verified.insert(token.to_owned(), claims.clone());
        Ok(claims)
    }

    /// The claims of a token verified before, if it is still within its validity (with the
    /// same leeway as a full check; past it, the full check gives the reason).
    fn verified_before(&self, token: &str) -> Option<Claims> {
        let claims = self
            .verified
            .lock()
            .expect("verified tokens lock")
            .get(token)
            .cloned()?;
        let now = chrono::Utc::now().timestamp();
        let leeway = self.validation.leeway as i64;
        (claims.exp + leeway >= now && claims.nbf - leeway <= now).then_some(claims)
    }

    fn verify_signed(&self, token: &str) -> AppResult<Claims> {
        let invalid = |why: &str| AppError::unauthenticated(format!("invalid token: {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed"))?;
        if header.alg != self.keys.algorithm {
            return Err(invalid("algorithm not accepted"));
        }
        let kid = header.kid.ok_or_else(|| invalid("no key id"))?;
        let key = self
            .keys
            .key(&kid)
            .ok_or_else(|| invalid("unknown key id"))?;
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation).map_err(
            |e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::ExpiredSignature => invalid("expired"),
                    K::ImmatureSignature => invalid("not yet valid"),
                    K::InvalidAudience => invalid("wrong audience"),
                    K::InvalidIssuer => invalid("wrong issuer"),
                    K::InvalidSignature => invalid("bad signature"),
                    K::MissingRequiredClaim(c) => invalid(&format!("missing claim {c}")),
                    _ => invalid("rejected"),
                }
            },
        )?;
        Ok(data.claims)
    }
}

pub fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The bearer token of an `Authorization` header value, if any. A header that is present but
/// not a bearer token is an error, not anonymity.
pub fn bearer_token(header: Option<&str>) -> AppResult<Option<&str>> {
    let Some(value) = header else { return Ok(None) };
    let value = value.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AppError::unauthenticated(
            "Authorization header must be `Bearer <access token>`",
        ));
    }
    Ok(Some(token.trim()))
}
