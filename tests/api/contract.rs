//! Issue 7: the checked-in contract files are what the code generates and serves.
//! Regenerate with `cargo run -- schema graphql > schema.graphql` and
//! `cargo run -- schema openapi > openapi.json` (or run the tests with BLESS=1).

use crate::common::*;

fn check_file(file: &str, generated: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    if std::env::var("BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{file} differs from what the code generates; regenerate it \
         (`cargo run -- schema {} > {file}` or BLESS=1 cargo test)",
        if file.ends_with(".graphql") {
            "graphql"
        } else {
            "openapi"
        }
    );
}

#[actix_web::test]
async fn schema_graphql_is_what_the_server_serves() {
    let app = TestApp::spawn().await;
    let served = basisset::graphql::sdl_of(&basisset::graphql::build_schema(app.state.clone()));
    assert_eq!(served, basisset::graphql::sdl());
    check_file("schema.graphql", &served);
}

#[actix_web::test]
async fn openapi_json_is_what_the_server_serves() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/openapi.json", None).await;
    assert_eq!(res.status, 200);
    let served = res.text();
    let doc: serde_json::Value = serde_json::from_str(&served).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    check_file("openapi.json", &format!("{served}\n"));
}

fn gql_body(q: &str) -> serde_json::Value {
    serde_json::json!({ "query": q })
}

#[actix_web::test]
async fn graphql_limits_answer_with_clear_errors() {
    let mut config = test_config();
    config.limits.graphql_max_depth = 4;
    config.limits.graphql_max_complexity = 10;
    config.limits.graphql_max_aliases = 3;
    config.limits.graphql_max_body_bytes = 2_000;
    let app = TestApp::spawn_with(config).await;

    // Depth.
    let body = app
        .gql(
            "{ __schema { types { fields { type { ofType { name } } } } } }",
            serde_json::json!({}),
            None,
        )
        .await;
    assert_eq!(gql_error_code(&body), "BAD_REQUEST");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested too deep"),
        "{body}"
    );
    // Complexity.
    let many_fields = "{ indicators { code labelNl labelEn definition goal kind unit direction periodTypes source teamTypes numerator denominator countingMoment retired acrossOrganisations acrossPeriods requiredFields version } }";
    let body = app.gql(many_fields, serde_json::json!({}), None).await;
    assert_eq!(gql_error_code(&body), "BAD_REQUEST");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex"),
        "{body}"
    );
    // Aliases.
    let res = app
        .post_json("/graphql", None, &gql_body("{ a: provinces { code } b: provinces { code } c: provinces { code } d: provinces { code } }"))
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(gql_error_code(&res.json()), "TOO_MANY_ALIASES");
    // Batches.
    let res = app
        .post_raw(
            "/graphql",
            None,
            "application/json",
            r#"[{"query":"{ provinces { code } }"},{"query":"{ provinces { code } }"}]"#,
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(gql_error_code(&res.json()), "BATCH_NOT_SUPPORTED");
    // Body size.
    let big = format!("{{ provinces {{ code }} }} # {}", "x".repeat(3_000));
    let res = app.post_json("/graphql", None, &gql_body(&big)).await;
    assert_eq!(res.status, 413);
    assert_eq!(gql_error_code(&res.json()), "PAYLOAD_TOO_LARGE");
    // Not JSON at all.
    let res = app
        .post_raw("/graphql", None, "application/json", "query { provinces }")
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(gql_error_code(&res.json()), "BAD_REQUEST");
    // Introspection stays on; small queries pass.
    let data = app
        .gql_ok(
            "{ __schema { queryType { name } } }",
            serde_json::json!({}),
            None,
        )
        .await;
    assert_eq!(data["__schema"]["queryType"]["name"], "QueryRoot");
    // Syntax errors carry a code too.
    let body = app.gql("{ provinces { ", serde_json::json!({}), None).await;
    assert_eq!(gql_error_code(&body), "BAD_REQUEST");
}

#[actix_web::test]
async fn graphql_execution_time_is_capped() {
    let mut config = test_config();
    config.limits.request_timeout_ms = 1;
    let app = TestApp::spawn_with(config).await;
    // Enough data that the views below take well over a millisecond.
    let state = app.state.clone();
    state
        .db
        .run(move |conn| {
            basisset::demo::seed(
                conn,
                &state.catalogue,
                &state.reference,
                &basisset::demo::DemoOptions::new(30, 2017, Some(2024), 3),
            )
        })
        .await
        .unwrap();
    let res = app
        .post_json(
            "/graphql",
            None,
            &gql_body(r#"{ a: aggregate(indicator: "klachten", from: "2017", to: "2024", groupBy: [YEAR, TEAM_TYPE]) { total { value } }
                  t: trend(indicator: "nieuwe_aanmeldingen", from: 2017, to: 2024, groupBy: [PROVINCE]) { base }
                  completeness(period: "2023") { overallCoverage } organisations { id } }"#),
        )
        .await;
    assert_eq!(res.status, 504, "{}", res.text());
    assert_eq!(gql_error_code(&res.json()), "TIMEOUT");
}

#[actix_web::test]
async fn rest_body_limit_and_undeclared_methods() {
    let mut config = test_config();
    config.limits.max_body_bytes = 1_000;
    let app = TestApp::spawn_with(config).await;
    let f = app.fixture().await;
    let figures: Vec<serde_json::Value> = (0..100)
        .map(|_| serde_json::json!({"indicator": "klachten", "value": 1}))
        .collect();
    let res = app
        .post_json(
            &format!("/api/v1/organisations/{}/submissions", f.org_a),
            Some(&f.team_a),
            &serde_json::json!({"period": "2023", "figures": figures}),
        )
        .await;
    res.assert_problem(413, "PAYLOAD_TOO_LARGE");
    let res = app
        .post_json(
            "/api/v1/organisations",
            Some(&f.admin),
            &serde_json::json!({"name": "x".repeat(2_000)}),
        )
        .await;
    res.assert_problem(413, "PAYLOAD_TOO_LARGE");
    // A method a resource does not have: 405 with Allow.
    let res = app.delete("/api/v1/indicators", None).await;
    res.assert_problem(405, "METHOD_NOT_ALLOWED");
    assert_eq!(res.header("allow").as_deref(), Some("GET, HEAD"));
    let res = app
        .send(actix_web::test::TestRequest::put().uri("/api/v1/organisations"))
        .await;
    assert_eq!(res.header("allow").as_deref(), Some("GET, HEAD, POST"));
}
