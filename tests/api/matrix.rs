//! Issue 4: the authorization matrix. For every endpoint and GraphQL field: anonymous, team A,
//! team B, the Associatie and an admin, each reading and writing; allowed, or 401/403
//! (GraphQL: UNAUTHENTICATED/FORBIDDEN).

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::common::*;

const WHO: [&str; 5] = ["anonymous", "team A", "team B", "associatie", "admin"];

fn tokens(f: &Fixture) -> [Option<String>; 5] {
    [
        None,
        Some(f.team_a.clone()),
        Some(f.team_b.clone()),
        Some(f.associatie.clone()),
        Some(f.admin.clone()),
    ]
}

fn request(method: &str, path: &str, body: Option<&Value>, token: Option<&str>) -> TestRequest {
    let mut req = match method {
        "GET" => TestRequest::get(),
        "POST" => TestRequest::post(),
        "PATCH" => TestRequest::patch(),
        "DELETE" => TestRequest::delete(),
        other => panic!("{other}"),
    }
    .uri(path);
    if let Some(b) = body {
        req = req
            .insert_header(("Content-Type", "application/json"))
            .set_payload(b.to_string());
    }
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    req
}

/// Team A posts a new revision of its 2023 submission (submitted or draft); returns its id.
async fn fresh_submission(app: &TestApp, f: &Fixture, submit: bool) -> i64 {
    let res = app
        .post_json(
            &format!(
                "/api/v1/organisations/{}/submissions?submit={submit}",
                f.org_a
            ),
            Some(&f.team_a),
            &json!({"period": "2023", "figures": [{"indicator": "klachten", "value": 2}]}),
        )
        .await;
    assert!(res.status == 201, "{}", res.text());
    res.json()["submissionId"].as_i64().unwrap()
}

/// Fill in placeholders: `{A}`/`{B}` (organisations), `{client}` (a fresh client), `{draft}`
/// and `{submitted}` (team A's submission with a fresh draft or submitted newest revision),
/// for calls that consume their target.
async fn fill(app: &TestApp, f: &Fixture, template: &str) -> String {
    let mut p = template
        .replace("{A}", &f.org_a.to_string())
        .replace("{B}", &f.org_b.to_string());
    if p.contains("{client}") {
        let (id, _) = app.create_client("team", Some(f.org_a)).await;
        p = p.replace("{client}", &id);
    }
    if p.contains("{draft}") {
        let id = fresh_submission(app, f, false).await;
        p = p.replace("{draft}", &id.to_string());
    }
    if p.contains("{submitted}") {
        let id = fresh_submission(app, f, true).await;
        p = p.replace("{submitted}", &id.to_string());
    }
    p
}

/// One REST row of the matrix (see [`fill`] for placeholders).
async fn rest_row(
    app: &TestApp,
    f: &Fixture,
    method: &str,
    path: &str,
    body: Option<Value>,
    expect: [u16; 5],
) {
    for (i, token) in tokens(f).iter().enumerate() {
        let p = fill(app, f, path).await;
        let res = app
            .send(request(method, &p, body.as_ref(), token.as_deref()))
            .await;
        assert_eq!(
            res.status,
            expect[i],
            "{method} {path} as {}: {}",
            WHO[i],
            res.text()
        );
        match res.status {
            401 => assert_eq!(res.json()["code"], "UNAUTHENTICATED"),
            403 => assert_eq!(res.json()["code"], "FORBIDDEN"),
            _ => {}
        }
    }
}

/// One GraphQL row: `None` = allowed, `Some(code)` = refused with that extensions.code.
async fn gql_row(app: &TestApp, f: &Fixture, query: &str, expect: [Option<&str>; 5]) {
    for (i, token) in tokens(f).iter().enumerate() {
        let q = fill(app, f, query).await;
        let body = app.gql(&q, json!({}), token.as_deref()).await;
        let got = body["errors"][0]["extensions"]["code"].as_str();
        assert_eq!(got, expect[i], "{query} as {}: {body}", WHO[i]);
    }
}

const ALL: [u16; 5] = [200, 200, 200, 200, 200];
const ADMIN_ONLY: [u16; 5] = [401, 403, 403, 403, 200];
const ADMIN_CREATES: [u16; 5] = [401, 403, 403, 403, 201];
const SIGNED_IN: [u16; 5] = [401, 200, 200, 200, 200];

#[actix_web::test]
async fn rest_matrix_catalogue_registry_clients() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    // Public by nature.
    for path in [
        "/api/v1/goals",
        "/api/v1/indicators",
        "/api/v1/indicators/klachten",
        "/api/v1/catalogue/versions",
        "/api/v1/provinces",
        "/api/v1/municipalities",
        "/api/v1/municipalities/GM0363",
        "/api/v1/organisations",
        "/api/v1/organisations/{A}",
        "/healthz",
        "/readyz",
        "/api/openapi.json",
        "/oauth/jwks.json",
    ] {
        rest_row(&app, &f, "GET", path, None, ALL).await;
    }
    rest_row(&app, &f, "GET", "/api/v1/me", None, SIGNED_IN).await;
    // Registry and clients: admin only.
    let org = json!({"name": "Nieuw team", "teamType": "wmo", "orgForm": "netwerk",
                     "municipalities": [{"code": "GM0014"}]});
    rest_row(
        &app,
        &f,
        "POST",
        "/api/v1/organisations",
        Some(org),
        ADMIN_CREATES,
    )
    .await;
    rest_row(
        &app,
        &f,
        "PATCH",
        "/api/v1/organisations/{A}",
        Some(json!({"selfRegistration": true})),
        ADMIN_ONLY,
    )
    .await;
    rest_row(
        &app,
        &f,
        "PATCH",
        "/api/v1/organisations/{B}",
        Some(json!({"selfRegistration": true})),
        ADMIN_ONLY,
    )
    .await;
    rest_row(&app, &f, "GET", "/api/v1/clients", None, ADMIN_ONLY).await;
    rest_row(
        &app,
        &f,
        "POST",
        "/api/v1/clients",
        Some(json!({"name": "x", "role": "team", "organisationId": f.org_a})),
        ADMIN_CREATES,
    )
    .await;
    rest_row(
        &app,
        &f,
        "POST",
        "/api/v1/clients/{client}/rotate",
        None,
        ADMIN_ONLY,
    )
    .await;
    rest_row(
        &app,
        &f,
        "DELETE",
        "/api/v1/clients/{client}",
        None,
        ADMIN_ONLY,
    )
    .await;
}

const OK: Option<&str> = None;
const UNAUTH: Option<&str> = Some("UNAUTHENTICATED");
const FORBID: Option<&str> = Some("FORBIDDEN");

#[actix_web::test]
async fn graphql_matrix_catalogue_registry_clients() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    for q in [
        "{ transformationGoals { code } }",
        "{ indicators { code } }",
        r#"{ indicator(code: "klachten") { code } }"#,
        "{ catalogueVersions { version } }",
        "{ provinces { code } }",
        r#"{ municipalities { code } }"#,
        r#"{ municipality(code: "GM0363") { code } }"#,
        "{ organisations { id } }",
        "{ organisation(id: {A}) { id } }",
        "{ me { role } }",
    ] {
        gql_row(&app, &f, q, [OK; 5]).await;
    }
    let admin_only = [UNAUTH, FORBID, FORBID, FORBID, OK];
    gql_row(&app, &f, "{ clients { clientId } }", admin_only).await;
    gql_row(
        &app,
        &f,
        r#"mutation { createOrganisation(input: {name: "Nieuw", teamType: WMO, orgForm: NETWERK, municipalities: [{code: "GM0014"}]}) { id } }"#,
        admin_only,
    )
    .await;
    gql_row(
        &app,
        &f,
        "mutation { updateOrganisation(id: {A}, input: {selfRegistration: true}) { id } }",
        admin_only,
    )
    .await;
    gql_row(
        &app,
        &f,
        "mutation { updateOrganisation(id: {B}, input: {selfRegistration: false}) { id } }",
        admin_only,
    )
    .await;
    gql_row(
        &app,
        &f,
        r#"mutation { createClient(input: {name: "x", role: TEAM, organisationId: {A}}) { clientId } }"#,
        admin_only,
    )
    .await;
    gql_row(
        &app,
        &f,
        r#"mutation { rotateClientSecret(clientId: "{client}") { clientId } }"#,
        admin_only,
    )
    .await;
    gql_row(
        &app,
        &f,
        r#"mutation { revokeClient(clientId: "{client}") { clientId } }"#,
        admin_only,
    )
    .await;
    // Deactivation last: it ends team A's token.
    gql_row(
        &app,
        &f,
        "mutation { deactivateOrganisation(id: {B}) { id } }",
        [UNAUTH, FORBID, FORBID, FORBID, OK],
    )
    .await;
}

const TEAM_A_OR_ASSOCIATIE: [u16; 5] = [401, 200, 403, 200, 403];
const ASSOCIATIE_ONLY: [u16; 5] = [401, 403, 403, 200, 403];

#[actix_web::test]
async fn rest_matrix_submissions() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let body = json!({"period": "2022", "figures": [{"indicator": "klachten", "value": 1}]});
    rest_row(
        &app,
        &f,
        "POST",
        "/api/v1/organisations/{A}/submissions",
        Some(body.clone()),
        [401, 201, 403, 403, 403],
    )
    .await;
    rest_row(
        &app,
        &f,
        "POST",
        "/api/v1/organisations/{B}/submissions",
        Some(body),
        [401, 403, 201, 403, 403],
    )
    .await;
    rest_row(
        &app,
        &f,
        "GET",
        "/api/v1/organisations/{A}/submissions",
        None,
        TEAM_A_OR_ASSOCIATIE,
    )
    .await;
    rest_row(
        &app,
        &f,
        "GET",
        "/api/v1/submissions",
        None,
        [401, 200, 200, 200, 403],
    )
    .await;
    rest_row(
        &app,
        &f,
        "GET",
        "/api/v1/submissions?organisation={A}",
        None,
        TEAM_A_OR_ASSOCIATIE,
    )
    .await;
    for read in ["", "/revisions", "/diff"] {
        rest_row(
            &app,
            &f,
            "GET",
            &format!("/api/v1/submissions/{{draft}}{read}"),
            None,
            // Another team's submission is answered like one that does not exist.
            [401, 200, 404, 200, 403],
        )
        .await;
    }
    rest_row(
        &app,
        &f,
        "POST",
        "/api/v1/submissions/{draft}/submit",
        None,
        [401, 200, 404, 403, 403],
    )
    .await;
    rest_row(
        &app,
        &f,
        "POST",
        "/api/v1/submissions/{draft}/withdraw",
        None,
        [401, 200, 404, 403, 403],
    )
    .await;
    rest_row(
        &app,
        &f,
        "POST",
        "/api/v1/submissions/{submitted}/accept",
        None,
        ASSOCIATIE_ONLY,
    )
    .await;
    rest_row(
        &app,
        &f,
        "POST",
        "/api/v1/submissions/{submitted}/return",
        Some(json!({"reason": "Graag controleren."})),
        ASSOCIATIE_ONLY,
    )
    .await;
}

#[actix_web::test]
async fn graphql_matrix_submissions() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let team_a = [UNAUTH, OK, FORBID, FORBID, FORBID];
    let team_b = [UNAUTH, FORBID, OK, FORBID, FORBID];
    let readers = [UNAUTH, OK, FORBID, OK, FORBID];
    let by_id_readers = [UNAUTH, OK, Some("NOT_FOUND"), OK, FORBID];
    let by_id_team_a = [UNAUTH, OK, Some("NOT_FOUND"), FORBID, FORBID];
    let associatie = [UNAUTH, FORBID, FORBID, OK, FORBID];
    let post = r#"mutation { postSubmission(organisationId: {A}, input: {period: "2022", figures: [{indicator: "klachten", value: 1}]}) { revision } }"#;
    gql_row(&app, &f, post, team_a).await;
    gql_row(&app, &f, &post.replace("{A}", "{B}"), team_b).await;
    gql_row(&app, &f, r#"mutation { postSubmissionCsv(organisationId: {A}, period: "2022", csv: "indicator,value\nklachten,1") { revision } }"#, team_a).await;
    gql_row(
        &app,
        &f,
        "{ submissions { id } }",
        [UNAUTH, OK, OK, OK, FORBID],
    )
    .await;
    gql_row(
        &app,
        &f,
        "{ submissions(organisationId: {A}) { id } }",
        readers,
    )
    .await;
    gql_row(
        &app,
        &f,
        "{ submission(id: {draft}) { revision { revision } } }",
        by_id_readers,
    )
    .await;
    gql_row(
        &app,
        &f,
        "{ submissionHistory(id: {draft}) { events { action } } }",
        by_id_readers,
    )
    .await;
    gql_row(
        &app,
        &f,
        "{ submissionDiff(id: {draft}) { unchanged } }",
        by_id_readers,
    )
    .await;
    gql_row(
        &app,
        &f,
        "mutation { submitSubmission(id: {draft}) { status } }",
        by_id_team_a,
    )
    .await;
    gql_row(
        &app,
        &f,
        "mutation { withdrawSubmission(id: {draft}) { status } }",
        by_id_team_a,
    )
    .await;
    gql_row(
        &app,
        &f,
        "mutation { acceptSubmission(id: {submitted}) { status } }",
        associatie,
    )
    .await;
    gql_row(&app, &f, r#"mutation { returnSubmission(id: {submitted}, reason: "Graag controleren.") { status } }"#, associatie).await;
}

/// Views and documentation are open to everyone; what each caller sees inside a view is tested
/// in `views.rs`.
#[actix_web::test]
async fn rest_and_graphql_matrix_views_and_docs() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    for path in [
        "/api/v1/views/aggregate?indicator=klachten&period=2023&groupBy=teamType",
        "/api/v1/views/aggregate?indicator=klachten&from=2020&to=2023&groupBy=year&format=csv",
        "/api/v1/views/trend?indicator=klachten&from=2020&to=2023",
        "/api/v1/views/completeness?period=2023",
        "/api/v1/views/municipalities?indicator=klachten&period=2023",
        "/docs",
        "/graphql",
        "/assets/graphiql/init.js",
    ] {
        rest_row(&app, &f, "GET", path, None, ALL).await;
    }
    // A benchmark needs a figure the caller may see: A has none, so only the Associatie gets
    // an answer (a value of null); everyone else the same 404 as for a hidden figure.
    rest_row(
        &app,
        &f,
        "GET",
        "/api/v1/views/benchmark?organisation={A}&indicator=klachten&period=2023",
        None,
        [404, 404, 404, 200, 404],
    )
    .await;
    gql_row(
        &app,
        &f,
        r#"{ benchmark(organisation: {A}, indicator: "klachten", period: "2023") { value } }"#,
        [
            Some("NOT_FOUND"),
            Some("NOT_FOUND"),
            Some("NOT_FOUND"),
            None,
            Some("NOT_FOUND"),
        ],
    )
    .await;
    for q in [
        r#"{ aggregate(indicator: "klachten", period: "2023", groupBy: [TEAM_TYPE]) { total { value } } }"#,
        r#"{ trend(indicator: "klachten", from: 2020, to: 2023) { base } }"#,
        r#"{ completeness(period: "2023") { overallCoverage } }"#,
        r#"{ municipalityValues(indicator: "klachten", period: "2023") { rows { code } } }"#,
    ] {
        gql_row(&app, &f, q, [OK; 5]).await;
    }
}
