//! The one error type of the service. Domain functions return [`AppError`]; it is mapped once to
//! HTTP (`application/problem+json`, RFC 9457) in [`crate::http`] and once to GraphQL errors
//! (with `extensions.code`) in [`crate::graphql`].

use serde::Serialize;

/// One problem with one input field: where, a stable machine-readable code, and a message.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    serde::Deserialize,
    async_graphql::SimpleObject,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct FieldIssue {
    /// Where the problem is: a JSON pointer into the request (`/figures/3/numerator`), a query
    /// parameter name, for CSV uploads `row N, column NAME`, for spreadsheet uploads
    /// `sheet S, row N, column NAME`.
    pub field: String,
    /// Stable code, e.g. `unknown_indicator`, `numerator_exceeds_denominator`.
    pub code: String,
    /// Readable explanation (Dutch and English where it helps).
    pub message: String,
    /// CSV uploads: 1-based line number in the file (the header is line 1); spreadsheet
    /// uploads: the row number the spreadsheet shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// CSV and spreadsheet uploads: the column name as written in the header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Spreadsheet uploads: the worksheet's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Spreadsheet uploads: the cell reference, e.g. `C5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
}

impl FieldIssue {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldIssue {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
            row: None,
            column: None,
            sheet: None,
            cell: None,
        }
    }
}

/// Every `code` an answer can carry (REST `code`, GraphQL `extensions.code`), as listed in the
/// README and as the enum of `Problem.code` in the OpenAPI document. A unit test fails when the
/// code uses one that is not here.
pub const ERROR_CODES: &[&str] = &[
    "BAD_REQUEST",
    "BATCH_NOT_SUPPORTED",
    "CLIENT_REVOKED",
    "CONFLICT",
    "DATABASE_NOT_EMPTY",
    "FORBIDDEN",
    "GROUPING_NOT_PUBLISHED",
    "IDEMPOTENCY_KEY_IN_PROGRESS",
    "IDEMPOTENCY_KEY_REUSED",
    "INTERNAL",
    "INVALID_BODY",
    "INVALID_CLIENT",
    "INVALID_DATABASE_URL",
    "INVALID_KEYS",
    "INVALID_PATH",
    "INVALID_QUERY",
    "INVALID_REQUEST",
    "INVALID_TEXT",
    "INVALID_TRANSITION",
    "METHOD_NOT_ALLOWED",
    "NOT_FOUND",
    "ORGANISATION_INACTIVE",
    "PAYLOAD_TOO_LARGE",
    "PERIOD_NOT_PUBLISHED",
    "QUERY_TOO_LARGE",
    "RATE_LIMITED",
    "SERVICE_UNAVAILABLE",
    "SPAN_NOT_PUBLISHED",
    "TIMEOUT",
    "TOO_MANY_ALIASES",
    "TOO_MANY_FIELDS",
    "TOO_MANY_TOKENS",
    "UNAUTHENTICATED",
    "UNSUPPORTED_GRANT_TYPE",
    "UNSUPPORTED_MEDIA_TYPE",
    "USER_EXISTS",
    "USER_INACTIVE",
    "VALIDATION_FAILED",
];

/// Seconds a client is asked to wait after a 503 (`Retry-After`).
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

static STORAGE_FULL_AT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Remember that a write failed for lack of space (readiness reports it for a minute).
pub fn note_storage_full() {
    STORAGE_FULL_AT.store(
        chrono::Utc::now().timestamp(),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// A write succeeded: there is room again.
pub fn storage_has_room() {
    STORAGE_FULL_AT.store(0, std::sync::atomic::Ordering::Relaxed);
}

/// Whether a write failed for lack of space in the last minute.
pub fn storage_full_recently() -> bool {
    let at = STORAGE_FULL_AT.load(std::sync::atomic::Ordering::Relaxed);
    at > 0 && chrono::Utc::now().timestamp() - at < 60
}

/// At most this many problems are listed in one answer; the rest are counted.
pub const MAX_ISSUES: usize = 1_000;

/// The problems found in one request: the first [`MAX_ISSUES`] kept, all counted, so a body
/// with a million bad figures costs no more memory or answer than one with a thousand.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Issues {
    list: Vec<FieldIssue>,
    total: usize,
}

impl Issues {
    pub fn new() -> Self {
        Issues::default()
    }
    pub fn push(&mut self, issue: FieldIssue) {
        self.total += 1;
        if self.list.len() < MAX_ISSUES {
            self.list.push(issue);
        }
    }
    pub fn extend(&mut self, issues: impl IntoIterator<Item = FieldIssue>) {
        for i in issues {
            self.push(i);
        }
    }
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
    /// Every problem found, listed or not.
    pub fn len(&self) -> usize {
        self.total
    }
    pub fn truncated(&self) -> bool {
        self.total > self.list.len()
    }
    pub fn as_slice(&self) -> &[FieldIssue] {
        &self.list
    }
    pub fn iter(&self) -> std::slice::Iter<'_, FieldIssue> {
        self.list.iter()
    }
}

impl From<Vec<FieldIssue>> for Issues {
    fn from(list: Vec<FieldIssue>) -> Self {
        let mut issues = Issues::new();
        issues.extend(list);
        issues
    }
}

/// Something problems can be written to: a plain list or a capped [`Issues`].
pub trait IssueSink {
    fn add(&mut self, issue: FieldIssue);
}

impl IssueSink for Vec<FieldIssue> {
    fn add(&mut self, issue: FieldIssue) {
        self.push(issue);
    }
}

impl IssueSink for Issues {
    fn add(&mut self, issue: FieldIssue) {
        self.push(issue);
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input was understood but is invalid; every problem is counted, the first 1,000 listed.
    #[error("the request is invalid: {} problem(s)", .0.len())]
    Validation(Issues),
    /// Malformed request (syntax, wrong content type, bad parameter).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// OAuth2 token endpoint error (RFC 6749 §5.2): `error` is e.g. `invalid_client`.
    #[error("{description}")]
    OAuth {
        status: u16,
        error: &'static str,
        description: String,
    },
    #[error("too many failed attempts; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("method not allowed here; allowed: {0}")]
    MethodNotAllowed(&'static str),
    #[error("{0}")]
    Timeout(String),
    /// The database cannot be reached or written to (lost connection, pool exhausted, disk
    /// full). The detail is logged, never shown: it may name hosts and ports.
    #[error(
        "service unavailable: the database cannot be reached or written to right now; retry later"
    )]
    Unavailable(String),
    /// Unexpected failure; the detail is logged, never shown.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    pub fn validation(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldIssue::new(field, code, message)].into())
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        AppError::NotFound {
            what,
            id: id.to_string(),
        }
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        AppError::Internal(detail.into())
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden(message.into())
    }
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        AppError::Unauthenticated(message.into())
    }

    /// The message of a request that sent no token at all (as opposed to a bad one).
    pub const MISSING_TOKEN: &'static str =
        "inloggen vereist / authentication required: send Authorization: Bearer <token>";

    /// A 401 because no token was sent (RFC 6750 §3.1: answered without an error code).
    pub fn is_missing_token(&self) -> bool {
        matches!(self, AppError::Unauthenticated(m) if m == Self::MISSING_TOKEN)
    }
    pub fn oauth(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        AppError::OAuth {
            status,
            error,
            description: description.into(),
        }
    }

    /// Stable machine-readable code, the same in REST (`code`) and GraphQL (`extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "VALIDATION_FAILED",
            AppError::BadRequest { code, .. } => code,
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound { .. } => "NOT_FOUND",
            AppError::Conflict { code, .. } => code,
            AppError::OAuth { error, .. } => match *error {
                "invalid_client" => "INVALID_CLIENT",
                "unsupported_grant_type" => "UNSUPPORTED_GRANT_TYPE",
                _ => "INVALID_REQUEST",
            },
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            AppError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            AppError::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            AppError::Timeout(_) => "TIMEOUT",
            AppError::Unavailable(_) => "SERVICE_UNAVAILABLE",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::Validation(_) => 422,
            AppError::BadRequest { .. } => 400,
            AppError::Unauthenticated(_) => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound { .. } => 404,
            AppError::Conflict { .. } => 409,
            AppError::OAuth { status, .. } => *status,
            AppError::RateLimited { .. } => 429,
            AppError::PayloadTooLarge(_) => 413,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::MethodNotAllowed(_) => 405,
            AppError::Timeout(_) => 504,
            AppError::Unavailable(_) => 503,
            AppError::Internal(_) => 500,
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "Validation failed",
            AppError::BadRequest { .. } => "Bad request",
            AppError::Unauthenticated(_) => "Authentication required",
            AppError::Forbidden(_) => "Forbidden",
            AppError::NotFound { .. } => "Not found",
            AppError::Conflict { .. } => "Conflict",
            AppError::OAuth { .. } => "Token request refused",
            AppError::RateLimited { .. } => "Too many requests",
            AppError::PayloadTooLarge(_) => "Payload too large",
            AppError::UnsupportedMediaType(_) => "Unsupported media type",
            AppError::MethodNotAllowed(_) => "Method not allowed",
            AppError::Timeout(_) => "Timeout",
            AppError::Unavailable(_) => "Service unavailable",
            AppError::Internal(_) => "Internal server error",
        }
    }

    pub fn issues(&self) -> &[FieldIssue] {
        match self {
            AppError::Validation(issues) => issues.as_slice(),
            _ => &[],
        }
    }

    /// Log server-side failures once, where they are turned into a response.
    pub fn log(&self) {
        match self {
            AppError::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            AppError::Unavailable(detail) => tracing::warn!(error = %detail, "unavailable"),
            _ => {}
        }
    }

    /// The problem document (RFC 9457) for this error.
    pub fn problem(&self) -> Problem {
        Problem {
            type_: format!("urn:basisset:problem:{}", self.code().to_ascii_lowercase()),
            title: self.title().to_owned(),
            status: self.status(),
            detail: self.to_string(),
            code: self.code().to_owned(),
            errors: self.issues().to_vec(),
            truncated: matches!(self, AppError::Validation(i) if i.truncated()),
            error_count: match self {
                AppError::Validation(i) if i.truncated() => Some(i.len()),
                _ => None,
            },
            retry_after: match self {
                AppError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
                AppError::Unavailable(_) => Some(5),
                _ => None,
            },
            error: match self {
                AppError::OAuth { error, .. } => Some((*error).to_owned()),
                _ => None,
            },
            error_description: match self {
                AppError::OAuth { description, .. } => Some(description.clone()),
                _ => None,
            },
        }
    }
}

/// `application/problem+json` body of every REST error.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// `urn:basisset:problem:<code in lower case>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code (also `extensions.code` in GraphQL).
    pub code: String,
    /// Problems with input fields (validation failures): the first 1,000.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub errors: Vec<FieldIssue>,
    /// True when more problems were found than `errors` lists.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schema(required = false)]
    pub truncated: bool,
    /// With `truncated`: how many problems were found in all.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub error_count: Option<usize>,
    /// Seconds to wait before retrying (rate limiting).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub retry_after: Option<u64>,
    /// Token endpoint only: the OAuth2 error code (RFC 6749 §5.2), e.g. `invalid_client`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub error: Option<String>,
    /// Token endpoint only: the OAuth2 error description.
    #[serde(skip_serializing_if = "Option::is_none", rename = "error_description")]
    #[schema(required = false)]
    pub error_description: Option<String>,
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::not_found("record", "?"),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                // The constraint's name is for the log, not for the caller.
                tracing::debug!(error = %info.message(), "unique violation");
                AppError::conflict("CONFLICT", "conflicts with an existing record")
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                AppError::Unavailable(format!("database connection closed: {}", info.message()))
            }
            Error::DatabaseError(_, ref info) if is_unavailable(info.message()) => {
                AppError::Unavailable(format!("database: {}", info.message()))
            }
            Error::DatabaseError(_, ref info) if is_nul(info.message()) => AppError::bad_request(
                "INVALID_TEXT",
                "a text contains a NUL character (\\u0000), which cannot be stored",
            ),
            Error::BrokenTransactionManager => {
                AppError::Unavailable("database transaction manager broken".into())
            }
            other => {
                let text = other.to_string();
                if is_unavailable(&text) {
                    AppError::Unavailable(format!("database: {text}"))
                } else {
                    AppError::Internal(format!("database: {text}"))
                }
            }
        }
    }
}

/// Messages of lost connections and full disks, from libpq, PostgreSQL and SQLite: answered
/// 503 (retry later), not 500.
fn is_unavailable(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    if ["disk is full", "no space left", "could not extend file"]
        .iter()
        .any(|p| m.contains(p))
    {
        note_storage_full();
    }
    [
        "server closed the connection",
        "terminating connection",
        "connection to server",
        "could not receive data",
        "could not send data",
        "no connection to the server",
        "connection refused",
        "connection reset",
        "broken pipe",
        "ssl syscall",
        "the database system is shutting down",
        "the database system is starting up",
        "cannot execute",
        "database or disk is full",
        "disk i/o error",
        "no space left on device",
        "could not extend file",
        "could not write",
        "database is locked",
        "unable to open database file",
        "attempt to write a readonly database",
    ]
    .iter()
    .any(|p| m.contains(p))
}

/// PostgreSQL cannot store NUL in text.
fn is_nul(message: &str) -> bool {
    message.contains("0x00")
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(format!("no database connection: {e}"))
    }
}

impl From<diesel::ConnectionError> for AppError {
    fn from(e: diesel::ConnectionError) -> Self {
        AppError::Unavailable(format!("database connection failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's table of errors names every code.
    #[test]
    fn the_readme_lists_every_error_code() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let errors = &readme[readme.find("## Errors").expect("an Errors section")..];
        for code in ERROR_CODES {
            assert!(
                errors.contains(&format!("`{code}`")),
                "README ## Errors lacks `{code}`"
            );
        }
    }

    /// Every code written in the source (`bad_request("X", ..)`, `conflict("X", ..)`, and the
    /// fixed codes of [`AppError::code`]) is in [`ERROR_CODES`], and nothing else is.
    #[test]
    fn every_error_code_is_listed() {
        fn scan(dir: &std::path::Path, out: &mut std::collections::BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    scan(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let fixed = path.ends_with("error.rs");
                    for call in ["bad_request(", "conflict(", "=> \""] {
                        if call.starts_with('=') && !fixed {
                            continue;
                        }
                        for (i, _) in text.match_indices(call) {
                            let rest = text[i + call.len()..].trim_start();
                            let rest = rest.strip_prefix('"').unwrap_or(rest);
                            let code: String = rest
                                .chars()
                                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                                .collect();
                            let closed = rest[code.len()..].starts_with('"');
                            if code.len() > 2 && closed && code.chars().all(|c| c != ' ') {
                                out.insert(code);
                            }
                        }
                    }
                }
            }
        }
        let mut found = std::collections::BTreeSet::new();
        scan(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            &mut found,
        );
        // Internal signals between functions, never answered.
        found.remove("IDEMPOTENCY_KEY_RACE");
        for code in &found {
            assert!(
                ERROR_CODES.contains(&code.as_str()),
                "{code} is not in ERROR_CODES"
            );
        }
        for code in ERROR_CODES {
            assert!(found.contains(*code), "{code} is listed but never used");
        }
    }
}
