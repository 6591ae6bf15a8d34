//! The OpenAPI 3.1 document, generated from the handlers' annotations (utoipa), served at
//! `/api/openapi.json` and checked in as `openapi.json` (a test fails when they differ).

use actix_web::HttpResponse;
use utoipa::OpenApi;

use utoipa::Modify;
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};

use crate::http::{audit, auth, catalogue, health, registry, sheets, submissions, views};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "basisset API",
        description = "Wijkteam organisations post periodic figures on the shared basisset of \
                       indicators; the Associatie Wijkteams and the public query cross-municipal \
                       views. Errors are application/problem+json (RFC 9457) with a stable `code`.",
        license(name = "EUPL-1.2"),
    ),
    paths(
        health::healthz,
        health::readyz,
        catalogue::list_goals,
        catalogue::list_versions,
        catalogue::list_indicators,
        catalogue::get_indicator,
        catalogue::list_provinces,
        catalogue::list_municipalities,
        catalogue::get_municipality,
        auth::token,
        auth::jwks,
        auth::oauth_metadata,
        auth::me,
        auth::create_client,
        auth::list_clients,
        auth::revoke_client,
        auth::rotate_client,
        audit::list,
        registry::create,
        registry::list,
        registry::get,
        registry::update,
        submissions::post,
        submissions::list_for_organisation,
        submissions::list,
        submissions::get,
        submissions::revisions,
        submissions::diff,
        submissions::submit,
        submissions::accept,
        submissions::return_,
        submissions::withdraw,
        views::aggregate,
        views::trend,
        views::benchmark,
        views::completeness,
        views::municipalities,
        sheets::template_xlsx,
        sheets::template_csv,
    ),
    modifiers(&SecurityAddon, &StandardResponses),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "catalogue", description = "The basisset: goals, indicators, versions (public)"),
        (name = "reference", description = "Provinces and municipalities (public)"),
        (name = "auth", description = "OAuth2 client credentials: POST /oauth/token"),
        (name = "clients", description = "API clients (admin)"),
        (name = "registry", description = "Wijkteam organisations (read: public; write: admin)"),
        (name = "audit", description = "Audit log of registry and access changes (admin, Associatie)"),
        (name = "submissions", description = "Posting figures, revisions, review workflow"),
        (name = "views", description = "Cross-municipal views (public where the figures allow)"),
        (name = "templates", description = "Spreadsheet templates to fill in, per team type (public)"),
    )
)]
pub struct ApiDoc;

/// Responses every operation can give, documented once: malformed parameters (400), an invalid
/// token (401), body problems (413, 415, 422), and server trouble (500, 503).
struct StandardResponses;

impl Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let api = path.starts_with("/api/v1") || path.starts_with("/oauth");
            for op in [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                let mut add = |code: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| problem(description).into());
                };
                if !api {
                    continue;
                }
                add("400", "Malformed path or query parameters");
                add("401", "Invalid, expired or revoked access token");
                add("500", "Unexpected failure (details are logged, not shown)");
                add("503", "Database unavailable");
                let paged = op.parameters.iter().flatten().any(|p| {
                    matches!(p, utoipa::openapi::RefOr::T(p)
                            if p.name == "limit" || p.name == "offset")
                });
                if op.request_body.is_some() {
                    add("413", "Request body too large");
                    add("415", "Unsupported Content-Type");
                    add("422", "Invalid body: every problem with its location");
                } else if paged {
                    add(
                        "422",
                        "A paging parameter out of range (`limit`, `offset`), named",
                    );
                }
            }
        }
    }
}

/// The OAuth2 client-credentials security scheme.
struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/oauth/token",
                    Scopes::new(),
                ))],
                "OAuth2 client credentials (RFC 6749 §4.4): POST /oauth/token with client_id and \
                 client_secret, then send `Authorization: Bearer <access_token>`.",
            )),
        );
    }
}

/// The document as pretty JSON (what is served and checked in).
pub fn document() -> String {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("OpenAPI document serializes");
    finish(&mut doc);
    serde_json::to_string_pretty(&doc).expect("OpenAPI document serializes")
}

/// What utoipa's annotations do not say, added once for every operation: a description on
/// every response (required by OpenAPI), `Retry-After` on 429 and 503, the optional token on
/// public views, list parameters as arrays of enums, the error codes as an enum, and the
/// server.
fn finish(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    doc["servers"] =
        json!([{"url": "/", "description": "This service (the host serving this document)"}]);
    let retry_after = json!({
        "Retry-After": {
            "description": "Seconds to wait before retrying",
            "schema": {"type": "integer", "minimum": 0}
        }
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut())
                else {
                    continue;
                };
                for (status, res) in responses.iter_mut() {
                    if res.get("description").is_none() {
                        res["description"] = Value::from(standard_description(status));
                    }
                    if status == "429" || status == "503" {
                        res["headers"] = retry_after.clone();
                    }
                }
                // Public operations still read a token when one is sent (the Associatie sees
                // more, a team its own figures) and refuse a bad one with 401: optional security.
                let reads_token = responses.contains_key("401") && !path.starts_with("/oauth");
                if reads_token && op.get("security").is_none() {
                    op["security"] = json!([{}, {"oauth2": []}]);
                }
                if let Some(params) = op.get_mut("parameters").and_then(|p| p.as_array_mut()) {
                    for p in params.iter_mut() {
                        if matches!(p["name"].as_str(), Some("groupBy" | "peers")) {
                            p["schema"] = json!({
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/GroupDim"}
                            });
                            p["style"] = Value::from("form");
                            p["explode"] = Value::from(false);
                        } else if p["in"] == "query"
                            && p["schema"]["type"] == "string"
                            && p["schema"].get("pattern").is_none()
                            && p["schema"].get("enum").is_none()
                        {
                            // NUL is refused in any query value (INVALID_QUERY); say so.
                            p["schema"]["pattern"] = Value::from("^[^\\u0000]*$");
                        }
                    }
                }
                let _ = method;
            }
        }
    }
    doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"] =
        json!(crate::error::ERROR_CODES);
    // Moments and days are plain strings with a format in JSON; write them inline where they
    // are used, as generators expect, rather than as components of their own.
    for name in ["Timestamp", "Date"] {
        if let Some(schema) = doc["components"]["schemas"]
            .as_object_mut()
            .and_then(|s| s.remove(name))
        {
            inline_ref(doc, &format!("#/components/schemas/{name}"), &schema);
        }
    }
}

/// Replace every `{"$ref": target}` in `v` by `schema` (without its example), and a nullable
/// `oneOf: [ref, null]` by the schema with `type: [string, null]`.
fn inline_ref(v: &mut serde_json::Value, target: &str, schema: &serde_json::Value) {
    use serde_json::{Value, json};
    let is_ref = |x: &Value| x.get("$ref").and_then(Value::as_str) == Some(target);
    let plain = json!({"type": schema["type"], "format": schema["format"]});
    match v {
        Value::Object(map) => {
            if map.get("$ref").and_then(Value::as_str) == Some(target) {
                *v = plain;
                return;
            }
            if let Some(Value::Array(alts)) = map.get("oneOf")
                && alts.len() == 2
                && alts.iter().any(is_ref)
                && alts
                    .iter()
                    .any(|a| a.get("type").and_then(Value::as_str) == Some("null"))
            {
                map.remove("oneOf");
                map.insert("type".into(), json!([schema["type"], "null"]));
                map.insert("format".into(), schema["format"].clone());
                return;
            }
            for child in map.values_mut() {
                inline_ref(child, target, schema);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|c| inline_ref(c, target, schema)),
        _ => {}
    }
}

fn standard_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "204" => "No content",
        "304" => "Not modified: the copy the caller has (If-None-Match) is current",
        "400" => "Malformed request",
        "401" => "No, invalid, expired or revoked access token",
        "403" => "The caller's role or organisation does not allow this",
        "404" => "Not found",
        "405" => "Method not allowed",
        "409" => "Conflicts with the current state",
        "413" => "Request body too large",
        "415" => "Unsupported Content-Type",
        "422" => "Invalid input: every problem with its location",
        "429" => "Too many requests",
        "500" => "Unexpected failure (details are logged, not shown)",
        "503" => "Database unavailable; retry later",
        _ => "See the problem document",
    }
}

pub async fn openapi_json() -> HttpResponse {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.get_or_init(document).as_str())
}
