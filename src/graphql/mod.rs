//! The GraphQL transport (async-graphql). Resolvers are thin: they call the same domain
//! functions the REST handlers call. Errors carry `extensions.code` (the same codes as REST) and,
//! for validation failures, `extensions.errors` with every field problem.

mod catalogue;
mod registry;
mod submissions;
mod views;

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::{EmptySubscription, ErrorExtensions, MergedObject, Schema};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    catalogue::CatalogueQuery,
    registry::RegistryQuery,
    submissions::SubmissionQuery,
    views::ViewQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(registry::RegistryMutation, submissions::SubmissionMutation);

pub type GqlSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
}

pub fn build_schema(state: AppState) -> GqlSchema {
    let limits = state.config.limits.clone();
    builder()
        .data(state)
        .limit_depth(limits.graphql_max_depth)
        .limit_complexity(limits.graphql_max_complexity)
        .limit_recursive_depth(64)
        .limit_directives(10)
        .finish()
}

/// The SDL written to `schema.graphql` (sorted, so the file diffs cleanly).
pub fn sdl() -> String {
    sdl_of(&builder().finish())
}

/// The SDL of a built schema, in the checked-in form.
pub fn sdl_of(schema: &GqlSchema) -> String {
    schema.sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .sorted_fields()
            .sorted_enum_items(),
    )
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        self.log();
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            ext.set("status", self.status());
            if !self.issues().is_empty() {
                ext.set(
                    "errors",
                    async_graphql::to_value(self.issues()).unwrap_or_default(),
                );
            }
        })
    }
}

/// Convert a domain result into a GraphQL result with extensions.
pub fn gql<T>(r: AppResult<T>) -> async_graphql::Result<T> {
    r.map_err(|e| e.extend())
}

/// Run a resolver's domain work on the blocking pool with a connection, the state and the
/// caller; errors become GraphQL errors with extensions.
pub async fn run<T, F>(ctx: &async_graphql::Context<'_>, f: F) -> async_graphql::Result<T>
where
    F: FnOnce(&mut crate::db::DbConn, &AppState, &Caller) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let state = ctx.state().clone();
    let caller = ctx.caller().clone();
    let db = state.db.clone();
    gql(db.run(move |conn| f(conn, &state, &caller)).await)
}

/// Like [`run`], for work that takes a connection only if it needs one (cached views).
pub async fn run_lazy<T, F>(ctx: &async_graphql::Context<'_>, f: F) -> async_graphql::Result<T>
where
    F: FnOnce(&mut crate::db::LazyConn<'_>, &AppState, &Caller) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let state = ctx.state().clone();
    let caller = ctx.caller().clone();
    let db = state.db.clone();
    gql(db.run_lazy(move |conn| f(conn, &state, &caller)).await)
}

/// Typed access to what every resolver needs.
pub trait ContextExt {
    fn state(&self) -> &AppState;
    fn caller(&self) -> &Caller;
}

impl ContextExt for async_graphql::Context<'_> {
    fn state(&self) -> &AppState {
        self.data_unchecked::<AppState>()
    }
    /// Always present: the handler puts the caller into every request.
    fn caller(&self) -> &Caller {
        self.data_opt::<Caller>().unwrap_or(&Caller::Anonymous)
    }
}

/// The media type a client asked for (GraphQL over HTTP): `application/graphql-response+json`
/// (errors in the request get 4xx), or classic `application/json` (always 200 once executed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponse,
    Json,
}

impl Media {
    fn of(req: &HttpRequest) -> Media {
        let accept = req
            .headers()
            .get(actix_web::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if accept.contains("application/graphql-response+json") {
            Media::GraphqlResponse
        } else {
            Media::Json
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

fn respond(
    media: Media,
    status: actix_web::http::StatusCode,
    body: &serde_json::Value,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((actix_web::http::header::CONTENT_TYPE, media.content_type()))
        .body(serde_json::to_string(body).unwrap_or_default())
}

/// A GraphQL-shaped error response outside execution (bad body, limits).
fn error_response(
    media: Media,
    status: actix_web::http::StatusCode,
    err: AppError,
) -> HttpResponse {
    err.log();
    let body = serde_json::json!({
        "errors": [{
            "message": err.to_string(),
            "extensions": { "code": err.code(), "status": err.status() }
        }]
    });
    let mut res = respond(media, status, &body);
    if let AppError::Unavailable(_) = err {
        res.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(crate::error::UNAVAILABLE_RETRY_AFTER_SECS),
        );
    }
    res
}

/// Check a request's variables and document on the blocking pool (see [`check_document`]).
async fn prepare(
    limits: crate::config::LimitArgs,
    request: async_graphql::Request,
) -> Result<async_graphql::Request, AppError> {
    if request.query.trim().is_empty() {
        return Err(AppError::bad_request(
            "BAD_REQUEST",
            "query is required: send {\"query\": \"...\", \"variables\"?: {...}, \"operationName\"?: \"...\"}",
        ));
    }
    web::block(move || {
        if let Some(at) = nul_variable(&request.variables) {
            return Err(nul_error(&at));
        }
        check_document(&request.query, &limits)?;
        Ok(request)
    })
    .await
    .map_err(|e| AppError::internal(format!("checking the request: {e}")))?
}

/// `POST /graphql`: one operation per request (batches are refused), body size capped, the
/// document measured before it runs, execution time capped. GraphQL over HTTP: JSON in, and
/// `application/graphql-response+json` or `application/json` out, as the client accepts.
pub async fn graphql_post(
    state: web::Data<AppState>,
    schema: web::Data<GqlSchema>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let media = Media::of(&req);
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if content_type != "application/json" {
        return error_response(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::UnsupportedMediaType(
                "send the GraphQL request as Content-Type: application/json".into(),
            ),
        );
    }
    let caller = match crate::transport::caller_of(&state, &req).await {
        Ok(c) => c,
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            return error_response(media, status, e);
        }
    };
    let limits = state.config.limits.clone();
    let body = match crate::transport::read_body(payload, limits.graphql_max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return error_response(media, StatusCode::PAYLOAD_TOO_LARGE, e),
    };
    // Everything that grows with the body runs on the blocking pool, not on a worker: the
    // JSON parse, then the document's measures, cheapest first: its size, its tokens (a linear
    // scan), then its fields (fragments expanded) and aliases from a parse. Validation by the
    // executor is superlinear in the number of fields; these limits keep it cheap.
    let parsed = web::block(move || -> Result<async_graphql::Request, AppError> {
        serde_json::from_slice(&body).map_err(|e| {
            let looks_batched = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
            if looks_batched {
                AppError::bad_request(
                    "BATCH_NOT_SUPPORTED",
                    "batched GraphQL requests are not accepted; send one operation per request",
                )
            } else {
                AppError::bad_request(
                    "BAD_REQUEST",
                    format!(
                        "body must be a JSON object {{query, variables?, operationName?}}: {e}"
                    ),
                )
            }
        })
    })
    .await
    .map_err(|e| AppError::internal(format!("reading the request: {e}")))
    .and_then(|r| r);
    let request = match parsed {
        Ok(r) => r,
        Err(e) => return error_response(media, StatusCode::BAD_REQUEST, e),
    };
    let request = match prepare(limits, request).await {
        Ok(r) => r,
        Err(e) => return error_response(media, StatusCode::BAD_REQUEST, e),
    };
    execute(&state, &schema, request, caller, media).await
}

/// `GET /graphql`: with a `query` parameter, the query (GraphQL over HTTP, URL-encoded
/// `query`, `operationName`, `variables` and `extensions`; mutations only by POST); without,
/// the GraphiQL page.
pub async fn graphql_get(
    state: web::Data<AppState>,
    schema: web::Data<GqlSchema>,
    req: HttpRequest,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let params: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let Some(query) = params.get("query") else {
        return crate::transport::assets::page("graphiql/index.html");
    };
    let media = Media::of(&req);
    let mut request = async_graphql::Request::new(query.clone());
    if let Some(name) = params.get("operationName").filter(|n| !n.is_empty()) {
        request = request.operation_name(name.clone());
    }
    for (key, slot) in [("variables", 0), ("extensions", 1)] {
        let Some(raw) = params.get(key).filter(|v| !v.is_empty()) else {
            continue;
        };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(raw) else {
            return error_response(
                media,
                StatusCode::BAD_REQUEST,
                AppError::bad_request("BAD_REQUEST", format!("{key} is not a JSON object")),
            );
        };
        if slot == 0 {
            request = request.variables(async_graphql::Variables::from_json(value));
        }
    }
    // Reading only: a GET must not change anything.
    if let Ok(doc) = async_graphql::parser::parse_query(query) {
        use async_graphql::parser::types::{DocumentOperations, OperationType};
        let wanted = params.get("operationName").map(String::as_str);
        let is_mutation = match &doc.operations {
            DocumentOperations::Single(op) => op.node.ty != OperationType::Query,
            DocumentOperations::Multiple(ops) => ops
                .iter()
                .filter(|(name, _)| wanted.is_none_or(|w| name.as_str() == w))
                .any(|(_, op)| op.node.ty != OperationType::Query),
        };
        if is_mutation {
            let mut res = error_response(
                media,
                StatusCode::METHOD_NOT_ALLOWED,
                AppError::MethodNotAllowed("POST"),
            );
            res.headers_mut().insert(
                actix_web::http::header::ALLOW,
                actix_web::http::header::HeaderValue::from_static("POST"),
            );
            return res;
        }
    }
    let caller = match crate::transport::caller_of(&state, &req).await {
        Ok(c) => c,
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            return error_response(media, status, e);
        }
    };
    let request = match prepare(state.config.limits.clone(), request).await {
        Ok(r) => r,
        Err(e) => return error_response(media, StatusCode::BAD_REQUEST, e),
    };
    execute(&state, &schema, request, caller, media).await
}

async fn execute(
    state: &AppState,
    schema: &GqlSchema,
    request: async_graphql::Request,
    caller: Caller,
    media: Media,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let limits = state.config.limits.clone();
    let timeout = Duration::from_millis(limits.request_timeout_ms.max(1));
    match actix_web::rt::time::timeout(timeout, schema.execute(request.data(caller))).await {
        Ok(mut response) => {
            label_errors(&mut response.errors);
            // A request error (the document does not parse or validate, variables do not
            // coerce) happens before execution: no data, and no error has a path.
            let request_error = !response.errors.is_empty()
                && response.data == async_graphql::Value::Null
                && response.errors.iter().all(|e| e.path.is_empty());
            let mut body = serde_json::to_value(&response).unwrap_or_default();
            let status = if media == Media::GraphqlResponse && request_error {
                if let Some(obj) = body.as_object_mut() {
                    obj.remove("data");
                }
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            respond(media, status, &body)
        }
        Err(_) => error_response(
            media,
            StatusCode::GATEWAY_TIMEOUT,
            AppError::Timeout(format!(
                "query did not finish within {} ms",
                timeout.as_millis()
            )),
        ),
    }
}

/// Every error carries `extensions.code` and `extensions.status`. Errors the API raises have
/// them already; the others come from async-graphql's own handling of the request (syntax,
/// validation, argument coercion, depth and complexity limits): the client's to fix.
fn label_errors(errors: &mut [async_graphql::ServerError]) {
    for e in errors {
        let ext = e.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", "BAD_REQUEST");
            ext.set("status", 400);
        }
    }
}

/// Refuse documents that would cost more than a query should: too many bytes, tokens, fields
/// (fragments expanded) or aliases (aliases multiply work cheaply).
fn check_document(query: &str, limits: &crate::config::LimitArgs) -> AppResult<()> {
    if query.len() > limits.graphql_max_query_bytes {
        return Err(AppError::bad_request(
            "QUERY_TOO_LARGE",
            format!(
                "the GraphQL document has {} bytes; at most {} are allowed",
                query.len(),
                limits.graphql_max_query_bytes
            ),
        ));
    }
    if let Some(n) = tokens_over(query, limits.graphql_max_tokens) {
        return Err(AppError::bad_request(
            "TOO_MANY_TOKENS",
            format!(
                "the GraphQL document has more than {} tokens (counted {n})",
                limits.graphql_max_tokens
            ),
        ));
    }
    // Unparseable documents are left to the executor, which reports them properly.
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return Ok(());
    };
    let counts = selection_counts(&doc, limits.graphql_max_fields + 1);
    if let Some(at) = nul_argument(&doc) {
        return Err(nul_error(&at));
    }
    if counts.fields > limits.graphql_max_fields {
        return Err(AppError::bad_request(
            "TOO_MANY_FIELDS",
            format!(
                "the GraphQL document selects more than {} fields (fragments expanded)",
                limits.graphql_max_fields
            ),
        ));
    }
    if counts.aliases > limits.graphql_max_aliases {
        return Err(AppError::bad_request(
            "TOO_MANY_ALIASES",
            format!(
                "the document uses {} aliases; at most {} are allowed",
                counts.aliases, limits.graphql_max_aliases
            ),
        ));
    }
    Ok(())
}

/// `Some(count)` when the document has more than `max` lexical tokens (punctuators, names,
/// numbers, strings; commas, white space and comments are not tokens). Stops counting early.
fn tokens_over(query: &str, max: usize) -> Option<usize> {
    let b = query.as_bytes();
    let (mut i, mut n) = (0usize, 0usize);
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                n += 1;
                if b[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                        i += 1;
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if b[i..].starts_with(b"...") => {
                n += 1;
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' => {
                n += 1;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'-' | b'+'))
                {
                    i += 1;
                }
            }
            _ => {
                n += 1;
                i += 1;
            }
        }
        if n > max {
            return Some(n);
        }
    }
    None
}

fn nul_error(at: &str) -> AppError {
    AppError::bad_request(
        "INVALID_TEXT",
        format!("{at} contains a NUL character (\\u0000), which cannot be stored"),
    )
}

/// The first string with a NUL character among the variables (its path).
fn nul_variable(vars: &async_graphql::Variables) -> Option<String> {
    fn walk(v: &async_graphql::Value, path: String) -> Option<String> {
        use async_graphql::Value as V;
        match v {
            V::String(s) if s.contains('\0') => Some(path),
            V::List(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, x)| walk(x, format!("{path}[{i}]"))),
            V::Object(map) => map.iter().find_map(|(k, x)| walk(x, format!("{path}.{k}"))),
            _ => None,
        }
    }
    vars.iter()
        .find_map(|(k, v)| walk(v, format!("variable ${k}")))
}

/// The first argument written in the document whose string holds a NUL character.
fn nul_argument(doc: &async_graphql::parser::types::ExecutableDocument) -> Option<String> {
    use async_graphql::parser::types::{Selection, SelectionSet};
    fn value_has(v: &async_graphql::Value) -> bool {
        use async_graphql::Value as V;
        match v {
            V::String(s) => s.contains('\0'),
            V::List(items) => items.iter().any(value_has),
            V::Object(map) => map.values().any(value_has),
            _ => false,
        }
    }
    fn walk(set: &SelectionSet) -> Option<String> {
        set.items.iter().find_map(|item| match &item.node {
            Selection::Field(f) => f
                .node
                .arguments
                .iter()
                .find(|(_, v)| v.node.clone().into_const().as_ref().is_some_and(value_has))
                .map(|(name, _)| format!("argument {}.{}", f.node.name.node, name.node))
                .or_else(|| walk(&f.node.selection_set.node)),
            Selection::InlineFragment(fr) => walk(&fr.node.selection_set.node),
            Selection::FragmentSpread(_) => None,
        })
    }
    doc.operations
        .iter()
        .find_map(|(_, op)| walk(&op.node.selection_set.node))
        .or_else(|| {
            doc.fragments
                .values()
                .find_map(|f| walk(&f.node.selection_set.node))
        })
}

struct SelectionCounts {
    fields: usize,
    aliases: usize,
}

/// Fields and aliases a document selects, each fragment spread counted as often as it is
/// spread (so fragments that spread each other cannot multiply work unseen). Counting stops
/// at `cap`.
fn selection_counts(
    doc: &async_graphql::parser::types::ExecutableDocument,
    cap: usize,
) -> SelectionCounts {
    use async_graphql::parser::types::{Selection, SelectionSet};
    use std::collections::HashMap;
    fn count(
        set: &SelectionSet,
        doc: &async_graphql::parser::types::ExecutableDocument,
        memo: &mut HashMap<String, (usize, usize)>,
        visiting: &mut Vec<String>,
        cap: usize,
    ) -> (usize, usize) {
        let (mut fields, mut aliases) = (0usize, 0usize);
        for item in &set.items {
            let (f, a) = match &item.node {
                Selection::Field(f) => {
                    let (f2, a2) = count(&f.node.selection_set.node, doc, memo, visiting, cap);
                    (1 + f2, usize::from(f.node.alias.is_some()) + a2)
                }
                Selection::InlineFragment(fr) => {
                    count(&fr.node.selection_set.node, doc, memo, visiting, cap)
                }
                Selection::FragmentSpread(sp) => {
                    let name = sp.node.fragment_name.node.to_string();
                    if let Some(c) = memo.get(&name) {
                        *c
                    } else if visiting.contains(&name) {
                        (0, 0) // a cycle: the executor refuses it
                    } else if let Some(def) = doc.fragments.get(&sp.node.fragment_name.node) {
                        visiting.push(name.clone());
                        let c = count(&def.node.selection_set.node, doc, memo, visiting, cap);
                        visiting.pop();
                        memo.insert(name, c);
                        c
                    } else {
                        (0, 0)
                    }
                }
            };
            fields = fields.saturating_add(f).min(cap);
            aliases = aliases.saturating_add(a).min(cap);
        }
        (fields, aliases)
    }
    let mut memo = HashMap::new();
    let (mut fields, mut aliases) = (0usize, 0usize);
    for (_, op) in doc.operations.iter() {
        let (f, a) = count(
            &op.node.selection_set.node,
            doc,
            &mut memo,
            &mut Vec::new(),
            cap,
        );
        fields = fields.saturating_add(f).min(cap);
        aliases = aliases.saturating_add(a).min(cap);
    }
    SelectionCounts { fields, aliases }
}
