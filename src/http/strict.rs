//! Strict query parameters: a parameter an operation does not have is refused (400, naming the
//! ones it has) instead of ignored: `teamtype=jeugd` (a typo) must not quietly return the
//! national total. The allowed names come from the OpenAPI document, which is generated from
//! the same parameter types the handlers read, so the two cannot disagree.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use actix_web::http::Method;

use crate::error::AppError;

struct Operation {
    method: String,
    segments: Vec<Option<String>>,
    params: BTreeSet<String>,
}

fn operations() -> &'static [Operation] {
    static OPS: OnceLock<Vec<Operation>> = OnceLock::new();
    OPS.get_or_init(|| {
        let doc: serde_json::Value =
            serde_json::from_str(&crate::http::openapi::document()).expect("OpenAPI document");
        let mut ops = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let params = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "query")
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect();
                ops.push(Operation {
                    method: method.to_ascii_uppercase(),
                    segments: path
                        .trim_matches('/')
                        .split('/')
                        .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                        .collect(),
                    params,
                });
            }
        }
        ops
    })
}

fn find(method: &Method, path: &str) -> Option<&'static Operation> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    operations().iter().find(|op| {
        op.method == method
            && op.segments.len() == segments.len()
            && op
                .segments
                .iter()
                .zip(&segments)
                .all(|(want, got)| want.as_deref().is_none_or(|w| w == *got))
    })
}

/// The refusal for a query parameter the operation does not have, if there is one.
pub fn check(method: &Method, path: &str, query: &str) -> Option<AppError> {
    if query.is_empty() {
        return None;
    }
    let op = find(method, path)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let unknown = pairs
        .iter()
        .map(|(k, _)| k)
        .find(|k| !op.params.contains(k.as_str()))?;
    let allowed = if op.params.is_empty() {
        "none".to_owned()
    } else {
        op.params.iter().cloned().collect::<Vec<_>>().join(", ")
    };
    Some(AppError::bad_request(
        "INVALID_QUERY",
        format!("unknown query parameter {unknown:?}; this operation takes: {allowed}"),
    ))
}
