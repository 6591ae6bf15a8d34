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
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            let looks_batched = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
            let err = if looks_batched {
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
            };
            return error_response(StatusCode::BAD_REQUEST, err);
        }
    };
    if let Err(e) = check_aliases(&request.query, limits.graphql_max_aliases) {
        return error_response(StatusCode::BAD_REQUEST, e);
    }
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

/// Refuse documents with more aliased fields than allowed (aliases multiply work cheaply).
fn check_aliases(query: &str, max: usize) -> AppResult<()> {
    use async_graphql::parser::types::{Selection, SelectionSet};
    fn count(set: &SelectionSet, depth: usize) -> usize {
        if depth > 64 {
            return 0;
        }
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some())
                        + count(&f.node.selection_set.node, depth + 1)
                }
                Selection::InlineFragment(fr) => count(&fr.node.selection_set.node, depth + 1),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    // Unparseable documents are left to the executor, which reports them properly.
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return Ok(());
    };
    let mut total: usize = doc
        .fragments
        .values()
        .map(|f| count(&f.node.selection_set.node, 0))
        .sum();
    for (_, op) in doc.operations.iter() {
        total += count(&op.node.selection_set.node, 0);
    }
    if total > max {
        return Err(AppError::bad_request(
            "TOO_MANY_ALIASES",
            format!("the document uses {total} aliases; at most {max} are allowed"),
        ));
    }
    Ok(())
}
