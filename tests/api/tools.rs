//! Issue 12: fitting the tools people use: a valid OpenAPI document, CORS, strict parameters,
//! paging, HTTP caching and compression, the idempotency fingerprint, OAuth metadata,
//! WWW-Authenticate and GraphQL over HTTP. (Spreadsheets: `sheets.rs`; the document is also
//! validated with openapi-spec-validator and used by a generated Python client in CI.)

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::common::*;

#[actix_web::test]
async fn the_openapi_document_is_complete() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/openapi.json", None).await.json();
    assert!(doc["servers"].as_array().is_some_and(|s| !s.is_empty()));
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            for (status, res) in op["responses"].as_object().unwrap() {
                assert!(
                    res["description"].is_string(),
                    "{method} {path} {status}: no description"
                );
                if status == "429" || status == "503" {
                    assert!(
                        res["headers"]["Retry-After"].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
            // Operations that need a token say so.
            let needs_token = op["responses"].get("401").is_some() && !path.starts_with("/oauth");
            if needs_token {
                assert!(op["security"].is_array(), "{method} {path}: no security");
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["name"] == "groupBy" {
                    assert_eq!(p["schema"]["type"], "array", "{path}");
                    assert_eq!(p["explode"], false);
                }
            }
        }
    }
    let codes = doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap();
    assert!(codes.iter().any(|c| c == "GROUPING_NOT_PUBLISHED"));
    let body =
        &doc["paths"]["/api/v1/organisations/{id}/submissions"]["post"]["requestBody"]["content"];
    assert!(
        body["application/json"].is_object() && body["text/csv"].is_object(),
        "{body}"
    );
}

#[actix_web::test]
async fn cors_lets_any_origin_read_and_only_configured_ones_use_tokens() {
    let mut config = test_config();
    config.web.cors_origins = vec!["https://dashboard.example.nl".into()];
    let app = TestApp::spawn_with(config).await;
    let f = app.fixture().await;
    let preflight = |origin: &str, headers: &str, path: &str| {
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri(path)
            .insert_header(("Origin", origin.to_owned()))
            .insert_header(("Access-Control-Request-Method", "GET"))
            .insert_header(("Access-Control-Request-Headers", headers.to_owned()))
    };
    let url = "/api/v1/views/aggregate?indicator=klachten&period=2023";
    // A preflight for a public read: any origin.
    let res = app
        .send(preflight("https://elders.example", "accept", url))
        .await;
    assert_eq!(res.status, 204);
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    // With a token: only the configured origin.
    let res = app
        .send(preflight("https://elders.example", "authorization", url))
        .await;
    assert_eq!(res.status, 204);
    assert!(res.header("access-control-allow-origin").is_none());
    let res = app
        .send(preflight(
            "https://dashboard.example.nl",
            "authorization",
            url,
        ))
        .await;
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("https://dashboard.example.nl")
    );
    assert!(
        res.header("access-control-allow-methods")
            .unwrap()
            .contains("GET")
    );
    // The token endpoint: only the configured origin.
    let res = app
        .send(preflight(
            "https://elders.example",
            "content-type",
            "/oauth/token",
        ))
        .await;
    assert!(res.header("access-control-allow-origin").is_none());
    // Actual requests.
    let res = app
        .send(
            TestRequest::get()
                .uri(url)
                .insert_header(("Origin", "https://elders.example")),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(
        res.header("access-control-expose-headers")
            .unwrap()
            .contains("ETag")
    );
    let res = app
        .send(
            TestRequest::get()
                .uri(url)
                .insert_header(("Origin", "https://elders.example"))
                .insert_header(("Authorization", format!("Bearer {}", f.associatie))),
        )
        .await;
    assert!(res.header("access-control-allow-origin").is_none());
    let res = app
        .send(
            TestRequest::get()
                .uri(url)
                .insert_header(("Origin", "https://dashboard.example.nl"))
                .insert_header(("Authorization", format!("Bearer {}", f.associatie))),
        )
        .await;
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("https://dashboard.example.nl")
    );
}

#[actix_web::test]
async fn unknown_query_parameters_are_refused_naming_the_known_ones() {
    let app = TestApp::spawn().await;
    let res = app
        .get(
            "/api/v1/views/aggregate?indicator=klachten&period=2023&teamtype=jeugd",
            None,
        )
        .await;
    let body = res.assert_problem(400, "INVALID_QUERY");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("teamtype") && detail.contains("teamType") && detail.contains("groupBy"),
        "{detail}"
    );
    app.get(
        "/api/v1/views/aggregate?indicator=klachten&period=2023&groupby=",
        None,
    )
    .await
    .assert_problem(400, "INVALID_QUERY");
    app.get("/api/v1/goals?x=1", None)
        .await
        .assert_problem(400, "INVALID_QUERY");
    // Known ones still work, including HEAD.
    let res = app
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/api/v1/goals"),
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
}

#[actix_web::test]
async fn every_list_is_paged_with_a_total_and_links() {
    let app = TestApp::spawn().await;
    for i in 0..130 {
        app.create_org(&format!("Team {i:03}"), "wmo", &["GM0363"])
            .await;
    }
    let res = app.get("/api/v1/organisations", None).await;
    assert_eq!(res.json().as_array().unwrap().len(), 100);
    assert_eq!(res.header("x-total-count").as_deref(), Some("130"));
    let link = res.header("link").unwrap();
    assert!(
        link.contains("rel=\"next\"") && link.contains("offset=100"),
        "{link}"
    );
    let res = app
        .get("/api/v1/organisations?limit=50&offset=100", None)
        .await;
    assert_eq!(res.json().as_array().unwrap().len(), 30);
    let link = res.header("link").unwrap();
    assert!(
        !link.contains("next") && link.contains("rel=\"prev\"") && link.contains("offset=50"),
        "{link}"
    );
    app.get("/api/v1/organisations?limit=0", None)
        .await
        .assert_problem(422, "VALIDATION_FAILED");
    // Reference lists fit in one page by default.
    let res = app.get("/api/v1/municipalities", None).await;
    assert_eq!(res.json().as_array().unwrap().len(), 342);
    assert_eq!(res.header("x-total-count").as_deref(), Some("342"));
    // GraphQL: limit and offset, and a count beside the list.
    let data = app
        .gql_ok(
            "{ organisations(limit: 20, offset: 120) { id } organisationCount }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(data["organisations"].as_array().unwrap().len(), 10);
    assert_eq!(data["organisationCount"], 130);
    // Submissions.
    let assoc = app.client_token("associatie", None).await;
    let res = app.get("/api/v1/submissions?limit=5", Some(&assoc)).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("x-total-count").as_deref(), Some("0"));
}

/// A view request reads the versions once (SQLite; PostgreSQL without its listener): its HTTP
/// tag and its answer come from the same read, for the public and the Associatie, computed or
/// cached. (Before, the tag's middleware and each part of the view read them again.)
#[actix_web::test]
async fn a_view_request_reads_the_versions_once_for_its_tag_and_its_answer() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let versions = app.state.view_cache.versions().clone();
    assert!(
        !versions.trusted(),
        "no listener in this test: versions are read per request"
    );
    let urls = [
        "/api/v1/views/aggregate?indicator=klachten&period=2023".to_owned(),
        "/api/v1/views/aggregate?indicator=nieuwe_aanmeldingen&period=2023&groupBy=teamType"
            .to_owned(),
        "/api/v1/views/trend?indicator=klachten&from=2020&to=2023".to_owned(),
        "/api/v1/views/municipalities?indicator=klachten&period=2023".to_owned(),
        "/api/v1/views/completeness?period=2023".to_owned(),
        "/api/v1/views/aggregate?indicator=klachten&from=2022&to=2023&groupBy=year".to_owned(),
    ];
    for token in [None, Some(f.associatie.as_str())] {
        for url in &urls {
            // The first request computes the view, the others find it cached.
            for round in 0..3 {
                let before = versions.reloads();
                let res = app.get(url, token).await;
                assert_eq!(res.status, 200, "{url}: {}", res.text());
                assert!(res.header("etag").is_some(), "{url}");
                assert_eq!(
                    versions.reloads() - before,
                    1,
                    "{url} (signed in: {}), request {round}: one read of the versions",
                    token.is_some()
                );
            }
        }
    }
}

#[actix_web::test]
async fn views_revalidate_with_etags_and_compress() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let url = "/api/v1/views/aggregate?indicator=klachten&period=2023";
    let first = app.get(url, None).await;
    let tag = first.header("etag").expect("an ETag");
    assert!(tag.starts_with("W/\""), "{tag}");
    assert_eq!(first.header("cache-control").as_deref(), Some("no-cache"));
    let again = app
        .send(
            TestRequest::get()
                .uri(url)
                .insert_header(("If-None-Match", tag.clone())),
        )
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    // Another caller, format or URL: another tag.
    let csv = app.get_accept(url, "text/csv", None).await;
    assert_ne!(csv.header("etag"), Some(tag.clone()));
    let assoc = app.get(url, Some(&f.associatie)).await;
    assert_ne!(assoc.header("etag"), Some(tag.clone()));
    // A change: the old tag no longer matches.
    let res = app
        .post_json(
            &format!("/api/v1/organisations/{}/submissions?submit=true", f.org_a),
            Some(&f.team_a),
            &json!({"period": "2023", "figures": [{"indicator": "klachten", "value": 3}]}),
        )
        .await;
    assert_eq!(res.status, 201);
    let after = app
        .send(
            TestRequest::get()
                .uri(url)
                .insert_header(("If-None-Match", tag.clone())),
        )
        .await;
    assert_eq!(after.status, 200);
    // HEAD: the same headers, no body.
    let head = app
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri(url),
        )
        .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("etag"), after.header("etag"));
    assert_eq!(head.header("content-type"), after.header("content-type"));
    // (The HTTP/1 dispatcher drops a HEAD body on the wire; `.ci/contract` checks that with
    // curl against the running server. This in-process harness does not.)
    // Compression when asked for.
    let gz = app
        .send(
            TestRequest::get()
                .uri("/api/v1/indicators")
                .insert_header(("Accept-Encoding", "gzip")),
        )
        .await;
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    let br = app
        .send(
            TestRequest::get()
                .uri("/api/v1/indicators")
                .insert_header(("Accept-Encoding", "br")),
        )
        .await;
    assert_eq!(br.header("content-encoding").as_deref(), Some("br"));
}

#[actix_web::test]
async fn the_idempotency_fingerprint_is_of_the_request_not_its_spelling() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let url = format!("/api/v1/organisations/{}/submissions", f.org_a);
    let post = |path: String, body: String| {
        TestRequest::post()
            .uri(&path)
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Authorization", format!("Bearer {}", f.team_a)))
            .insert_header(("Idempotency-Key", "fp-1"))
            .set_payload(body)
    };
    let first = app
        .send(post(
            url.clone(),
            r#"{"period":"2023","figures":[{"indicator":"klachten","value":5}]}"#.into(),
        ))
        .await;
    assert_eq!(first.status, 201, "{}", first.text());
    // Keys reordered, white space, 5.0 for 5, and an explicit default parameter: the same.
    let second = app
        .send(post(
            format!("{url}?dryRun=false&submit=false"),
            "{ \"figures\": [ {\"value\": 5.0, \"indicator\": \"klachten\"} ],\n  \"period\": \"2023\" }".into(),
        ))
        .await;
    assert_eq!(second.status, 200, "{}", second.text());
    assert_eq!(
        second.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    // Something else asked with the same key: refused.
    let third = app
        .send(post(
            url.clone(),
            r#"{"period":"2023","figures":[{"indicator":"klachten","value":6}]}"#.into(),
        ))
        .await;
    third.assert_problem(409, "IDEMPOTENCY_KEY_REUSED");
}

#[actix_web::test]
async fn oauth_metadata_and_www_authenticate_follow_the_rfcs() {
    let app = TestApp::spawn().await;
    let meta = app
        .get("/.well-known/oauth-authorization-server", None)
        .await
        .json();
    let issuer = meta["issuer"].as_str().unwrap();
    assert_eq!(meta["token_endpoint"], format!("{issuer}/oauth/token"));
    assert_eq!(meta["jwks_uri"], format!("{issuer}/oauth/jwks.json"));
    assert_eq!(meta["grant_types_supported"], json!(["client_credentials"]));
    // No token at all: a challenge without an error code (RFC 6750 §3.1).
    let res = app.get("/api/v1/me", None).await;
    assert_eq!(res.status, 401);
    assert_eq!(
        res.header("www-authenticate").as_deref(),
        Some("Bearer realm=\"basisset\"")
    );
    // A bad token: invalid_token.
    let res = app.get("/api/v1/me", Some("not.a.token")).await;
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
}

async fn gql_http(app: &TestApp, accept: &str, body: Value) -> Resp {
    app.send(
        TestRequest::post()
            .uri("/graphql")
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Accept", accept.to_owned()))
            .set_payload(body.to_string()),
    )
    .await
}

#[actix_web::test]
async fn graphql_speaks_graphql_over_http() {
    let app = TestApp::spawn().await;
    const GRJ: &str = "application/graphql-response+json";
    // A document that does not parse: 400 without data for graphql-response+json...
    let res = gql_http(&app, GRJ, json!({"query": "{ transformationGoals { code "})).await;
    assert_eq!(res.status, 400);
    assert!(res.header("content-type").unwrap().starts_with(GRJ));
    assert!(res.json().get("data").is_none());
    // ...200 for classic JSON.
    let res = gql_http(
        &app,
        "application/json",
        json!({"query": "{ transformationGoals { code "}),
    )
    .await;
    assert_eq!(res.status, 200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    // Validation failure and variable coercion failure: 400 with graphql-response+json.
    let res = gql_http(&app, GRJ, json!({"query": "{ noSuchField }"})).await;
    assert_eq!(res.status, 400);
    let res = gql_http(&app, GRJ, json!({"query": "query($y: Int!) { trend(indicator: \"klachten\", from: $y, to: 2023) { base } }", "variables": {"y": "x"}})).await;
    assert_eq!(res.status, 400, "{}", res.text());
    // Success: 200 and data.
    let res = gql_http(
        &app,
        GRJ,
        json!({"query": "{ transformationGoals { code } }"}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["data"]["transformationGoals"].is_array());
    // GET for queries, not for mutations; no Content-Type on POST: 415.
    let res = app
        .send(
            TestRequest::get()
                .uri("/graphql?query=%7BtransformationGoals%7Bcode%7D%7D")
                .insert_header(("Accept", GRJ)),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = app
        .send(
            TestRequest::get()
                .uri("/graphql?query=mutation%7BrevokeClient(clientId%3A%22x%22)%7BclientId%7D%7D")
                .insert_header(("Accept", GRJ)),
        )
        .await;
    assert_eq!(res.status, 405);
    assert_eq!(res.header("allow").as_deref(), Some("POST"));
    let res = app
        .send(
            TestRequest::post()
                .uri("/graphql")
                .set_payload(r#"{"query":"{goals{code}}"}"#),
        )
        .await;
    assert_eq!(res.status, 415);
    // Without a query, GET /graphql is GraphiQL.
    let res = app
        .send(
            TestRequest::get()
                .uri("/graphql")
                .insert_header(("Accept", "text/html")),
        )
        .await;
    assert!(
        res.text().contains("<html") || res.text().contains("<!DOCTYPE"),
        "{}",
        &res.text()[..100.min(res.text().len())]
    );
}

#[actix_web::test]
async fn moments_and_days_are_the_same_text_in_rest_and_graphql_with_described_scalars() {
    let app = TestApp::spawn().await;
    let fx = app.fixture().await;
    let rest = app
        .get(&format!("/api/v1/organisations/{}", fx.org_a), None)
        .await;
    assert_eq!(rest.status, 200);
    let rest = rest.json();
    let gql = app
        .gql_ok(
            "query($id: Int!) { organisation(id: $id) { createdAt updatedAt municipalities { validFrom validTo } } }",
            json!({"id": fx.org_a}),
            None,
        )
        .await;
    let org = &gql["organisation"];
    let created = rest["createdAt"].as_str().unwrap();
    assert_eq!(org["createdAt"], rest["createdAt"]);
    assert_eq!(org["updatedAt"], rest["updatedAt"]);
    assert!(created.ends_with('Z'), "UTC with a Z: {created}");
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "{created}"
    );
    assert_eq!(org["municipalities"][0]["validFrom"], json!("2015-01-01"));
    assert_eq!(
        org["municipalities"][0]["validFrom"],
        rest["municipalities"][0]["validFrom"]
    );
    assert_eq!(org["municipalities"][0]["validTo"], json!(null));

    // The scalars say what their text is; no library default or Rust type name shows.
    let types = app
        .gql_ok(
            r#"{ dt: __type(name: "DateTime") { kind description specifiedByURL }
                 d: __type(name: "Date") { kind description }
                 naive: __type(name: "NaiveDate") { name } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(types["dt"]["kind"], "SCALAR");
    let dt = types["dt"]["description"].as_str().unwrap();
    assert!(dt.contains("RFC 3339") && dt.contains("UTC"), "{dt}");
    assert!(!dt.contains("Implement"), "{dt}");
    assert_eq!(
        types["dt"]["specifiedByURL"],
        "https://www.rfc-editor.org/rfc/rfc3339"
    );
    assert!(
        types["d"]["description"]
            .as_str()
            .unwrap()
            .contains("YYYY-MM-DD")
    );
    assert_eq!(types["naive"], json!(null));

    // A malformed day in an input is refused with a GraphQL error, and nothing is created.
    let bad = app
        .gql(
            r#"mutation { createOrganisation(input: { name: "Buurtteam C", teamType: JEUGD, orgForm: STICHTING,
                 municipalities: [{ code: "GM0344", validFrom: "01-01-2024" }] }) { id } }"#,
            json!({}),
            Some(&fx.admin),
        )
        .await;
    let message = bad["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("YYYY-MM-DD"), "{bad}");
    let list = app.get("/api/v1/organisations", None).await.json();
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
}
