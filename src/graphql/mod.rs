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

/// A GraphQL-shaped error response outside execution (bad body, limits).
fn error_response(status: actix_web::http::StatusCode, err: AppError) -> HttpResponse {
    let body = serde_json::json!({
        "errors": [{
            "message": err.to_string(),
            "extensions": { "code": err.code(), "status": err.status() }
        }]
    });
    HttpResponse::build(status).json(body)
}

/// `POST /graphql`: one operation per request (batches are refused), body size capped,
/// aliases capped, execution time capped.
pub async fn graphql_post(
    state: web::Data<AppState>,
    schema: web::Data<GqlSchema>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let authorization = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    let caller = match crate::http::auth::authenticate(&state, authorization).await {
        Ok(c) => c,
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            return error_response(status, e);
        }
    };
    let limits = state.config.limits.clone();
    let body = match crate::http::read_body(payload, limits.graphql_max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return error_response(StatusCode::PAYLOAD_TOO_LARGE, e),
    };
    // Everything that grows with the body runs on the blocking pool, not on a worker: the
    // JSON parse, then the document's measures, cheapest first: its size, its tokens (a linear
    // scan), then its fields (fragments expanded) and aliases from a parse. Validation by the
    // executor is superlinear in the number of fields; these limits keep it cheap.
    let prepared = web::block(move || -> Result<async_graphql::Request, AppError> {
        let request: async_graphql::Request = serde_json::from_slice(&body).map_err(|e| {
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
        })?;
        if let Some(at) = nul_variable(&request.variables) {
            return Err(nul_error(&at));
        }
        check_document(&request.query, &limits)?;
        Ok(request)
    })
    .await;
    let request = match prepared {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return error_response(StatusCode::BAD_REQUEST, e),
        Err(e) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                AppError::internal(format!("reading the request: {e}")),
            );
        }
    };
    let limits = state.config.limits.clone();
    let timeout = Duration::from_millis(limits.request_timeout_ms.max(1));
    match actix_web::rt::time::timeout(timeout, schema.execute(request.data(caller))).await {
        Ok(mut response) => {
            label_errors(&mut response.errors);
            HttpResponse::Ok().json(response)
        }
        Err(_) => error_response(
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
