//! Issue 5: posting figures, validation, revisions, review workflow, CSV, idempotency.

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::*;
use basisset::db::schema::{figures, submission_revisions, submissions};

fn path(org: i64) -> String {
    format!("/api/v1/organisations/{org}/submissions")
}

/// One figure of every kind that applies to a jeugd team, for 2023.
fn good_body() -> Value {
    json!({
        "period": "2023",
        "publication": "openbaar",
        "figures": [
            {"indicator": "nieuwe_aanmeldingen", "value": 1200},
            {"indicator": "wachtlijst_inwoners", "value": 35, "note": "Peildatum 31 december."},
            {"indicator": "formatie_fte", "value": 42.5},
            {"indicator": "aandeel_zelfmelders", "numerator": 480, "denominator": 1200},
            {"indicator": "cev_helpend", "value": 74, "respondents": 1939},
            {"indicator": "wachttijd_dagen", "value": 12.5, "cases": 800}
        ]
    })
}

fn counts(app: &TestApp) -> (i64, i64, i64) {
    let mut conn = app.conn();
    (
        submissions::table.count().get_result(&mut *conn).unwrap(),
        submission_revisions::table
            .count()
            .get_result(&mut *conn)
            .unwrap(),
        figures::table.count().get_result(&mut *conn).unwrap(),
    )
}

fn issues(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body}"))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[track_caller]
fn has(issues: &[(String, String)], field: &str, code: &str) {
    assert!(
        issues.iter().any(|(f, c)| f == field && c == code),
        "missing ({field}, {code}) in {issues:#?}"
    );
}

#[actix_web::test]
async fn a_valid_submission_is_stored_as_a_draft_revision() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let res = app
        .post_json(&path(f.org_a), Some(&f.team_a), &good_body())
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let out = res.json();
    assert_eq!(out["revision"], 1);
    assert_eq!(out["status"], "draft");
    assert_eq!(out["figureCount"], 6);
    assert_eq!(out["period"]["code"], "2023JJ00");
    assert_eq!(out["publication"], "openbaar");
    assert_eq!(
        out["catalogueVersion"], "v2",
        "the current catalogue version"
    );
    let id = out["submissionId"].as_i64().unwrap();
    assert_eq!(
        res.header("location").unwrap(),
        format!("/api/v1/submissions/{id}")
    );

    let detail = app
        .get(&format!("/api/v1/submissions/{id}"), Some(&f.team_a))
        .await;
    assert_eq!(detail.status, 200, "{}", detail.text());
    let detail = detail.json();
    let figs = detail["figures"].as_array().unwrap();
    assert_eq!(figs.len(), 6);
    let ratio = figs
        .iter()
        .find(|x| x["indicator"] == "aandeel_zelfmelders")
        .unwrap();
    assert_eq!(ratio["percentage"], 40.0);
    assert!(
        ratio["value"].is_null(),
        "ratio value is derived, not stored"
    );
    assert_eq!(detail["revision"]["counted"], false, "drafts do not count");
    assert_eq!(detail["submission"]["countedRevision"], Value::Null);

    // The Associatie sees it; listing filters work.
    let list = app
        .get(
            "/api/v1/submissions?status=draft&indicator=cev_helpend",
            Some(&f.associatie),
        )
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let list = app
        .get("/api/v1/submissions?period=2022", Some(&f.associatie))
        .await
        .json();
    assert!(list.as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn every_problem_is_reported_at_once_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let long = "x".repeat(2001);
    let body = json!({
        "period": "2023-Q2",
        "figures": [
            {"indicator": "geen_indicator", "value": 1},
            {"indicator": "bereik_inwoners", "value": 10},
            {"indicator": "voorkomen_huisuitzettingen", "value": 3},
            {"indicator": "cev_helpend", "value": 120, "respondents": 40},
            {"indicator": "aandeel_zelfmelders", "numerator": 50, "denominator": 40},
            {"indicator": "cev_tijdigheid", "value": 70},
            {"indicator": "wachttijd_dagen", "value": 20},
            {"indicator": "klachten", "value": 4},
            {"indicator": "klachten", "value": 5},
            {"indicator": "nieuwe_aanmeldingen", "municipality": "GM0363", "value": 10},
            {"indicator": "lopende_trajecten", "value": "NaN"},
            {"indicator": "vrijwilligers_nieuw", "value": 3, "note": long},
            {"indicator": "preventieve_activiteiten", "value": 7, "note": "Gezin met BSN 111222333 geholpen"},
            {"indicator": "matches_vrijwilliger_inwoner", "value": -2},
            {"indicator": "inwonersinitiatieven_nieuw", "value": 2.5},
            {"indicator": "wachtlijst_inwoners", "value": 3, "respondents": 10},
            {"value": 1}
        ]
    });
    let res = app.post_json(&path(f.org_a), Some(&f.team_a), &body).await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    let got = issues(&body);
    has(&got, "/figures/0/indicator", "unknown_indicator");
    has(&got, "/figures/1/indicator", "period_type_not_allowed");
    has(&got, "/figures/2/indicator", "indicator_not_for_team_type");
    has(&got, "/figures/3/value", "out_of_range");
    has(
        &got,
        "/figures/4/numerator",
        "numerator_exceeds_denominator",
    );
    has(&got, "/figures/5/respondents", "missing_respondents");
    has(&got, "/figures/6/cases", "missing_cases");
    has(&got, "/figures/8", "duplicate_figure");
    has(&got, "/figures/9/municipality", "municipality_not_served");
    has(&got, "/figures/10/value", "not_finite");
    has(&got, "/figures/11/note", "too_long");
    has(&got, "/figures/12/note", "personal_data");
    has(&got, "/figures/13/value", "negative");
    has(&got, "/figures/14/value", "not_integer");
    has(&got, "/figures/15/respondents", "field_not_applicable");
    has(&got, "/figures/16/indicator", "missing_indicator");
    // The message never repeats the personal data.
    assert!(!res.text().contains("111222333"));
    assert_eq!(counts(&app), (0, 0, 0));

    // Period problems.
    let future = format!(
        "{}",
        chrono::Utc::now()
            .naive_utc()
            .date()
            .format("%Y")
            .to_string()
            .parse::<i32>()
            .unwrap()
            + 1
    );
    for (period, code) in [
        (future.as_str(), "period_in_future"),
        ("2023-Q5", "invalid_period"),
        ("", "missing_period"),
    ] {
        let res = app
            .post_json(
                &path(f.org_a),
                Some(&f.team_a),
                &json!({"period": period, "figures": [{"indicator": "klachten", "value": 1}]}),
            )
            .await;
        has(
            &issues(&res.assert_problem(422, "VALIDATION_FAILED")),
            "/period",
            code,
        );
    }
    // Unknown fields and wrong types are named too.
    let res = app
        .post_json(&path(f.org_a), Some(&f.team_a), &json!({"period": "2023", "colour": 1, "figures": [{"indicator": "klachten", "value": [1], "extra": true}]}))
        .await;
    let got = issues(&res.assert_problem(422, "VALIDATION_FAILED"));
    has(&got, "/colour", "unknown_field");
    has(&got, "/figures/0/value", "not_a_number");
    has(&got, "/figures/0/extra", "unknown_field");
    // Malformed JSON.
    let res = app
        .post_raw(
            &path(f.org_a),
            Some(&f.team_a),
            "application/json",
            "{\"period\": ",
        )
        .await;
    assert_eq!(
        issues(&res.assert_problem(422, "VALIDATION_FAILED"))[0].1,
        "invalid_json"
    );
    let res = app
        .post_raw(&path(f.org_a), Some(&f.team_a), "application/xml", "<a/>")
        .await;
    res.assert_problem(415, "UNSUPPORTED_MEDIA_TYPE");
    assert_eq!(counts(&app), (0, 0, 0));
}

#[actix_web::test]
async fn dry_run_returns_what_would_be_stored_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let res = app
        .post_json(
            &format!("{}?dryRun=true", path(f.org_a)),
            Some(&f.team_a),
            &good_body(),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let out = res.json();
    assert_eq!(out["dryRun"], true);
    assert_eq!(out["revision"], 1);
    assert!(out["submissionId"].is_null());
    let figs = out["figures"].as_array().unwrap();
    assert_eq!(figs.len(), 6);
    assert_eq!(figs[1]["note"], "Peildatum 31 december.");
    assert_eq!(counts(&app), (0, 0, 0));
    // Stored for real, the figures read back equal the dry run's.
    let id = app
        .post_json(&path(f.org_a), Some(&f.team_a), &good_body())
        .await
        .json()["submissionId"]
        .as_i64()
        .unwrap();
    let stored = app
        .get(&format!("/api/v1/submissions/{id}"), Some(&f.team_a))
        .await
        .json();
    assert_eq!(stored["figures"], out["figures"]);
}

#[actix_web::test]
async fn idempotency_key_returns_the_first_result_and_refuses_another_body() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let send = |body: Value| {
        actix_web::test::TestRequest::post()
            .uri(&path(f.org_a))
            .insert_header(("Authorization", format!("Bearer {}", f.team_a)))
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Idempotency-Key", "upload-2023-0001"))
            .set_payload(body.to_string())
    };
    let first = app.send(send(good_body())).await;
    assert_eq!(first.status, 201);
    let again = app.send(send(good_body())).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    let (mut a, b) = (first.json(), again.json());
    assert_eq!(b["replayed"], true);
    a["replayed"] = json!(true);
    assert_eq!(a, b, "the replay is the first result");
    assert_eq!(counts(&app).1, 1, "one revision only");
    let mut other = good_body();
    other["figures"][0]["value"] = json!(1201);
    app.send(send(other))
        .await
        .assert_problem(409, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(counts(&app).1, 1);
}

#[actix_web::test]
async fn corrections_are_revisions_with_history_and_a_diff() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let id = app
        .post_json(&path(f.org_a), Some(&f.team_a), &good_body())
        .await
        .json()["submissionId"]
        .as_i64()
        .unwrap();
    let mut second = good_body();
    second["figures"][0]["value"] = json!(1250);
    second["figures"].as_array_mut().unwrap().remove(5);
    second["figures"]
        .as_array_mut()
        .unwrap()
        .push(json!({"indicator": "klachten", "value": 3}));
    let res = app
        .post_json(&path(f.org_a), Some(&f.team_a), &second)
        .await;
    assert_eq!(res.json()["revision"], 2);
    assert_eq!(res.json()["submissionId"], id);

    let history = app
        .get(
            &format!("/api/v1/submissions/{id}/revisions"),
            Some(&f.team_a),
        )
        .await
        .json();
    let revs = history["revisions"].as_array().unwrap();
    assert_eq!(revs.len(), 2);
    assert!(
        revs.iter()
            .all(|r| r["postedBy"].as_str().unwrap().starts_with("bsc_"))
    );
    assert_eq!(history["events"].as_array().unwrap().len(), 2);
    // Revision 1 is still readable as it was.
    let r1 = app
        .get(
            &format!("/api/v1/submissions/{id}?revision=1"),
            Some(&f.team_a),
        )
        .await
        .json();
    assert_eq!(r1["figures"][0]["value"], 1200.0);

    let diff = app
        .get(
            &format!("/api/v1/submissions/{id}/diff?from=1&to=2"),
            Some(&f.team_a),
        )
        .await
        .json();
    let changes = diff["changes"].as_array().unwrap();
    let kind = |ind: &str| {
        changes
            .iter()
            .find(|c| c["indicator"] == ind)
            .map(|c| c["change"].clone())
    };
    assert_eq!(kind("nieuwe_aanmeldingen"), Some(json!("changed")));
    assert_eq!(kind("wachttijd_dagen"), Some(json!("removed")));
    assert_eq!(kind("klachten"), Some(json!("added")));
    assert_eq!(diff["unchanged"], 4);
    assert_eq!(counts(&app), (1, 2, 12), "nothing was overwritten");
}

async fn counted_revision(app: &TestApp, token: &str, id: i64) -> Value {
    app.get(&format!("/api/v1/submissions/{id}"), Some(token))
        .await
        .json()["submission"]["countedRevision"]
        .clone()
}

#[actix_web::test]
async fn review_workflow_and_what_views_count() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let id = app
        .post_json(&path(f.org_a), Some(&f.team_a), &good_body())
        .await
        .json()["submissionId"]
        .as_i64()
        .unwrap();
    let act = |what: &str| format!("/api/v1/submissions/{id}/{what}");
    // Nothing to review yet; the wrong roles are refused.
    app.post_json(&act("accept"), Some(&f.associatie), &json!({}))
        .await
        .assert_problem(409, "INVALID_TRANSITION");
    app.post_json(&act("submit"), Some(&f.associatie), &json!({}))
        .await
        .assert_problem(403, "FORBIDDEN");
    app.post_json(&act("submit"), Some(&f.team_b), &json!({}))
        .await
        .assert_problem(404, "NOT_FOUND");
    let res = app
        .post_json(&act("submit"), Some(&f.team_a), &json!({}))
        .await;
    assert_eq!(res.json()["status"], "submitted", "{}", res.text());
    assert_eq!(
        counted_revision(&app, &f.team_a, id).await,
        1,
        "submitted figures count"
    );
    app.post_json(&act("submit"), Some(&f.team_a), &json!({}))
        .await
        .assert_problem(409, "INVALID_TRANSITION");
    app.post_json(&act("accept"), Some(&f.team_a), &json!({}))
        .await
        .assert_problem(403, "FORBIDDEN");
    assert_eq!(
        app.post_json(&act("accept"), Some(&f.associatie), &json!({}))
            .await
            .json()["status"],
        "accepted"
    );

    // A draft correction does not replace the accepted figures in views...
    let mut corr = good_body();
    corr["figures"][0]["value"] = json!(1300);
    app.post_json(&path(f.org_a), Some(&f.team_a), &corr).await;
    assert_eq!(counted_revision(&app, &f.team_a, id).await, 1);
    // ...until it is submitted; returned, the accepted revision counts again.
    app.post_json(&act("submit"), Some(&f.team_a), &json!({}))
        .await;
    assert_eq!(counted_revision(&app, &f.team_a, id).await, 2);
    let res = app
        .post_json(&act("return"), Some(&f.associatie), &json!({}))
        .await;
    assert_eq!(
        issues(&res.assert_problem(422, "VALIDATION_FAILED"))[0].1,
        "missing_reason"
    );
    let res = app
        .post_json(
            &act("return"),
            Some(&f.associatie),
            &json!({"reason": "Aantal aanmeldingen wijkt af van het jaarverslag."}),
        )
        .await;
    assert_eq!(res.json()["status"], "returned", "{}", res.text());
    assert_eq!(counted_revision(&app, &f.team_a, id).await, 1);
    {
        let mut conn = app.conn();
        let counted: Vec<f64> = figures::table
            .filter(figures::counted.eq(true))
            .filter(figures::indicator.eq("nieuwe_aanmeldingen"))
            .select(figures::value.assume_not_null())
            .load(&mut *conn)
            .unwrap();
        assert_eq!(
            counted,
            vec![1200.0],
            "exactly one revision's figures count"
        );
    }
    // Withdrawal: a revision too; nothing counts any more; history keeps it all.
    let res = app
        .post_json(
            &act("withdraw"),
            Some(&f.team_a),
            &json!({"reason": "Dubbel ingestuurd"}),
        )
        .await;
    assert_eq!(res.json()["status"], "withdrawn", "{}", res.text());
    assert_eq!(counted_revision(&app, &f.team_a, id).await, Value::Null);
    let history = app.get(&act("revisions"), Some(&f.associatie)).await.json();
    assert_eq!(history["revisions"].as_array().unwrap().len(), 3);
    let actions: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "posted",
            "submitted",
            "accepted",
            "posted",
            "submitted",
            "returned",
            "withdrawn"
        ]
    );
    assert_eq!(
        history["revisions"][1]["returnReason"],
        "Aantal aanmeldingen wijkt af van het jaarverslag."
    );
    app.post_json(&act("withdraw"), Some(&f.team_a), &json!({}))
        .await
        .assert_problem(409, "INVALID_TRANSITION");
    // Post again after withdrawal, submitting at once.
    let res = app
        .post_json(
            &format!("{}?submit=true", path(f.org_a)),
            Some(&f.team_a),
            &good_body(),
        )
        .await;
    assert_eq!(res.json()["status"], "submitted");
    assert_eq!(counted_revision(&app, &f.team_a, id).await, 4);
}

#[actix_web::test]
async fn csv_uploads_as_spreadsheets_export_them() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let csv = "\u{feff}indicator;gemeente;waarde;teller;noemer;respondenten;aantal;toelichting\r\n\
               nieuwe_aanmeldingen;;1200;;;;;\r\n\
               formatie_fte;;42,5;;;;;\r\n\
               aandeel_zelfmelders;GM0344;;480;1200;;;\"Inclusief aanmeldingen via de huisarts; zie jaarverslag\"\r\n\
               cev_helpend;;74,0;;;1939;;\r\n\
               wachttijd_dagen;;12,5;;;;800;\r\n";
    let res = app
        .post_raw(
            &format!("{}?period=2023&publication=openbaar", path(f.org_a)),
            Some(&f.team_a),
            "text/csv; charset=utf-8",
            csv,
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["submissionId"].as_i64().unwrap();
    let detail = app
        .get(&format!("/api/v1/submissions/{id}"), Some(&f.team_a))
        .await
        .json();
    let figs = detail["figures"].as_array().unwrap();
    assert_eq!(figs.len(), 5);
    assert_eq!(figs[1]["value"], 42.5);
    assert_eq!(figs[2]["municipality"], "GM0344");
    assert_eq!(detail["submission"]["publication"], "openbaar");

    let bad =
        "indicator,value,respondents,kleur\nklachten,12.5,,\ncev_helpend,74,,\nonbekend,1,,\n";
    let res = app
        .post_raw(
            &format!("{}?period=2023-Q1", path(f.org_a)),
            Some(&f.team_a),
            "text/csv",
            bad,
        )
        .await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    let got = issues(&body);
    has(&got, "row 1, column kleur", "unknown_column");
    has(&got, "row 2, column value", "not_integer");
    has(&got, "row 3, column indicator", "period_type_not_allowed");
    has(&got, "row 3, column respondents", "missing_respondents");
    has(&got, "row 4, column indicator", "unknown_indicator");
    let first = &body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["code"] == "not_integer")
        .unwrap()
        .clone();
    assert_eq!(first["row"], 2);
    assert_eq!(first["column"], "value");

    // GraphQL takes the same CSV.
    let data = app
        .gql_ok(
            "mutation($org: Int!, $csv: String!) { postSubmissionCsv(organisationId: $org, csv: $csv, period: \"2022\", dryRun: true) { dryRun figureCount figures { indicator value } } }",
            json!({"org": f.org_a, "csv": csv}),
            Some(&f.team_a),
        )
        .await;
    assert_eq!(data["postSubmissionCsv"]["figureCount"], 5);
}

#[actix_web::test]
async fn one_team_can_neither_read_nor_change_another_teams_submissions() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let id = app
        .post_json(&path(f.org_a), Some(&f.team_a), &good_body())
        .await
        .json()["submissionId"]
        .as_i64()
        .unwrap();
    let before = counts(&app);
    for p in [
        format!("/api/v1/submissions/{id}"),
        format!("/api/v1/submissions/{id}/revisions"),
        format!("/api/v1/submissions/{id}/diff"),
        format!("/api/v1/organisations/{}/submissions", f.org_a),
        format!("/api/v1/submissions?organisation={}", f.org_a),
    ] {
        // Another team's submission by id looks like none; listing another organisation is
        // refused outright (the organisation is public, its submissions are not).
        if p.contains("/api/v1/submissions/") {
            app.get(&p, Some(&f.team_b))
                .await
                .assert_problem(404, "NOT_FOUND");
        } else {
            app.get(&p, Some(&f.team_b))
                .await
                .assert_problem(403, "FORBIDDEN");
        }
        app.get(&p, None)
            .await
            .assert_problem(401, "UNAUTHENTICATED");
        app.get(&p, Some(&f.admin))
            .await
            .assert_problem(403, "FORBIDDEN");
    }
    // Team B's own listing does not show A's.
    let list = app.get("/api/v1/submissions", Some(&f.team_b)).await.json();
    assert!(list.as_array().unwrap().is_empty());
    app.post_json(&path(f.org_a), Some(&f.team_b), &good_body())
        .await
        .assert_problem(403, "FORBIDDEN");
    app.post_json(&path(f.org_a), Some(&f.associatie), &good_body())
        .await
        .assert_problem(403, "FORBIDDEN");
    for what in ["submit", "withdraw"] {
        app.post_json(
            &format!("/api/v1/submissions/{id}/{what}"),
            Some(&f.team_b),
            &json!({}),
        )
        .await
        .assert_problem(404, "NOT_FOUND");
    }
    let body = app
        .gql(
            &format!("{{ submission(id: {id}) {{ figures {{ value }} }} }}"),
            json!({}),
            Some(&f.team_b),
        )
        .await;
    assert_eq!(gql_error_code(&body), "NOT_FOUND");
    let body = app
        .gql(
            &format!("mutation {{ withdrawSubmission(id: {id}) {{ status }} }}"),
            json!({}),
            Some(&f.team_b),
        )
        .await;
    assert_eq!(gql_error_code(&body), "NOT_FOUND");
    assert_eq!(counts(&app), before, "nothing changed");
    assert_eq!(
        app.get(&format!("/api/v1/submissions/{id}"), Some(&f.associatie))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn plausibility_warnings_do_not_block_and_are_kept() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let y2022 = json!({"period": "2022", "figures": [
        {"indicator": "nieuwe_aanmeldingen", "value": 1000},
        {"indicator": "aandeel_zelfmelders", "numerator": 300, "denominator": 1000}
    ]});
    app.post_json(
        &format!("{}?submit=true", path(f.org_a)),
        Some(&f.team_a),
        &y2022,
    )
    .await;
    let y2023 = json!({"period": "2023", "figures": [
        {"indicator": "nieuwe_aanmeldingen", "value": 3500},
        {"indicator": "aandeel_zelfmelders", "numerator": 310, "denominator": 1000},
        {"indicator": "cev_helpend", "value": 80, "respondents": 12}
    ]});
    let res = app.post_json(&path(f.org_a), Some(&f.team_a), &y2023).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let out = res.json();
    let warnings: Vec<(String, String)> = out["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["field"].as_str().unwrap().to_owned(),
                w["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    has(&warnings, "/figures/0/value", "far_from_previous");
    has(&warnings, "/figures/2/respondents", "small_sample");
    assert!(
        !warnings.iter().any(|(f, _)| f.starts_with("/figures/1")),
        "{warnings:?}"
    );
    let id = out["submissionId"].as_i64().unwrap();
    let detail = app
        .get(&format!("/api/v1/submissions/{id}"), Some(&f.team_a))
        .await
        .json();
    assert_eq!(
        detail["figures"][0]["warnings"],
        json!(["far_from_previous"])
    );
    assert_eq!(detail["revision"]["warningCount"], 2);
}

#[actix_web::test]
async fn provides_help_follows_the_teams_own_figures() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let org = app
        .get(&format!("/api/v1/organisations/{}", f.org_a), None)
        .await
        .json();
    assert_eq!(org["providesHelpSource"], "unknown");
    let body = json!({"period": "2022", "figures": [
        {"indicator": "jeugd_aandeel_ambulant_door_team", "numerator": 80, "denominator": 1000}]});
    let res = app
        .post_json(
            &format!("{}?submit=true", path(f.org_a)),
            Some(&f.team_a),
            &body,
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let org = app
        .get(&format!("/api/v1/organisations/{}", f.org_a), None)
        .await
        .json();
    assert_eq!(org["providesHelp"], true);
    assert_eq!(org["providesHelpSource"], "figures");
    assert!(
        org["providesHelpShare"].is_null(),
        "the registry is public: a share from unpublished figures is not shown"
    );
    let gql = app
        .gql_ok(
            &format!(
                "{{ organisation(id: {}) {{ providesHelpShare }} }}",
                f.org_a
            ),
            json!({}),
            None,
        )
        .await;
    assert!(gql["organisation"]["providesHelpShare"].is_null());
    // Published, the share is public too.
    let mut published = body.clone();
    published["publication"] = json!("openbaar");
    let res = app
        .post_json(
            &format!("{}?submit=true", path(f.org_a)),
            Some(&f.team_a),
            &published,
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let org = app
        .get(&format!("/api/v1/organisations/{}", f.org_a), None)
        .await
        .json();
    assert_eq!(org["providesHelpShare"], 8.0);
    // Withdrawn: back to unknown.
    let id = res.json()["submissionId"].as_i64().unwrap();
    app.post_json(
        &format!("/api/v1/submissions/{id}/withdraw"),
        Some(&f.team_a),
        &json!({}),
    )
    .await;
    let org = app
        .get(&format!("/api/v1/organisations/{}", f.org_a), None)
        .await
        .json();
    assert_eq!(org["providesHelpSource"], "unknown");
    assert!(org["providesHelp"].is_null());
}

#[actix_web::test]
async fn graphql_posts_and_reviews_the_same_way() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let data = app
        .gql_ok(
            r#"mutation($org: Int!) { postSubmission(organisationId: $org, submit: true, idempotencyKey: "k1",
                 input: {period: "2023-Q1", figures: [{indicator: "klachten", value: 4}, {indicator: "aandeel_zelfmelders", numerator: 10, denominator: 40}]})
               { submissionId revision status figureCount } }"#,
            json!({"org": f.org_a}),
            Some(&f.team_a),
        )
        .await;
    assert_eq!(data["postSubmission"]["status"], "SUBMITTED");
    let id = data["postSubmission"]["submissionId"].as_i64().unwrap();
    let body = app
        .gql(
            r#"mutation($org: Int!) { postSubmission(organisationId: $org, input: {period: "2023-Q1", figures: [{indicator: "klachten", value: 4, respondents: 3}]}) { revision } }"#,
            json!({"org": f.org_a}),
            Some(&f.team_a),
        )
        .await;
    assert_eq!(gql_error_code(&body), "VALIDATION_FAILED");
    assert_eq!(
        body["errors"][0]["extensions"]["errors"][0]["field"],
        "/figures/0/respondents"
    );
    let data = app
        .gql_ok(
            &format!("mutation {{ acceptSubmission(id: {id}) {{ status countedRevision }} }}"),
            json!({}),
            Some(&f.associatie),
        )
        .await;
    assert_eq!(data["acceptSubmission"]["status"], "ACCEPTED");
    let data = app
        .gql_ok(
            &format!("{{ submissionHistory(id: {id}) {{ events {{ action actor }} }} submissions {{ id status }} }}"),
            json!({}),
            Some(&f.associatie),
        )
        .await;
    assert_eq!(
        data["submissionHistory"]["events"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(data["submissions"][0]["status"], "ACCEPTED");
}

/// GraphQL's `Int` holds 32 bits. A larger number, as an argument, a variable or a figure, is
/// refused with a code and stores nothing; it is never read as another number (a schemathesis
/// run found `organisations(offset: 1075266137420)` accepted).
#[actix_web::test]
async fn graphql_refuses_ints_beyond_32_bits_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let too_big = 4_294_967_336_i64; // 2^32 + 40: as an i32 it would wrap to 40
    for (query, token) in [
        (
            "{ organisations(limit: 8, offset: 1075266137420) { id } }".to_owned(),
            None,
        ),
        (
            format!("{{ submissions(limit: {too_big}) {{ id }} }}"),
            Some(f.associatie.as_str()),
        ),
        (
            format!("{{ auditLog(offset: -{too_big}) {{ action }} }}"),
            Some(f.associatie.as_str()),
        ),
    ] {
        let body = app.gql(&query, json!({}), token).await;
        assert!(body["data"].is_null(), "{query}: {body}");
        gql_error_code(&body);
    }
    let before = event_count(&app);
    let post = r#"mutation($org: Int!, $n: Int!) { postSubmission(organisationId: $org, submit: true,
        input: {period: "2023-Q1", figures: [{indicator: "aandeel_zelfmelders", numerator: $n, denominator: 100}]})
        { revision } }"#;
    let body = app
        .gql(post, json!({"org": f.org_a, "n": too_big}), Some(&f.team_a))
        .await;
    assert!(body["data"].is_null(), "{body}");
    gql_error_code(&body);
    let literal = format!(
        r#"mutation {{ postSubmission(organisationId: {}, submit: true,
            input: {{period: "2023-Q1", figures: [{{indicator: "aandeel_zelfmelders", numerator: {too_big}, denominator: 100}}]}})
            {{ revision }} }}"#,
        f.org_a
    );
    let body = app.gql(&literal, json!({}), Some(&f.team_a)).await;
    assert!(body["data"].is_null(), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("32-bit"), "{body}");
    gql_error_code(&body);
    assert_eq!(event_count(&app), before, "nothing was stored");
    // The largest Int is still a number the domain reads (and judges) as itself.
    let body = app
        .gql(
            post,
            json!({"org": f.org_a, "n": i32::MAX}),
            Some(&f.team_a),
        )
        .await;
    assert_eq!(gql_error_code(&body), "VALIDATION_FAILED", "{body}");
}

fn event_count(app: &TestApp) -> i64 {
    let mut conn = app.conn();
    basisset::db::schema::submission_events::table
        .count()
        .get_result(&mut *conn)
        .unwrap()
}

/// The notations the personal-data filter let through before: each is refused now, the
/// message names the field and never repeats the text, and nothing is stored.
const PERSONAL_NOTES: [&str; 14] = [
    "Gezin met BSN 111/222/333 geholpen",
    "cliënt 111_222_333",
    "BSN １１１２２２３３３",
    "BSN ١١١٢٢٢٣٣٣",
    "BSN 111\u{200B}222\u{200B}333",
    "terugbetaald op DE89 3704 0044 0532 0130 00",
    "rekening BE68 5390 0754 7034",
    "mevrouw (12/03/1985) kreeg hulp",
    "cliënt 1985-03-12",
    "bereikbaar via (06)12345678",
    "bel +31 (0)6 1234 5678",
    "mail jan＠example.nl",
    "mail jan [at] example [dot] nl",
    "geboren 3 mei 2020",
];

#[actix_web::test]
async fn personal_data_in_notes_is_refused_in_every_notation() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    for note in PERSONAL_NOTES {
        let body = json!({"period": "2023", "figures": [
            {"indicator": "nieuwe_aanmeldingen", "value": 10},
            {"indicator": "klachten", "value": 1, "note": note}
        ]});
        let res = app.post_json(&path(f.org_a), Some(&f.team_a), &body).await;
        let problem = res.assert_problem(422, "VALIDATION_FAILED");
        assert_eq!(
            issues(&problem),
            vec![("/figures/1/note".to_owned(), "personal_data".to_owned())],
            "{note}"
        );
        assert!(!res.text().contains(note), "echoed {note}");
    }
    // CSV: the row and the column as the file names it.
    let csv = format!(
        "indicator;waarde;toelichting\nklachten;1;\nnieuwe_aanmeldingen;10;\"{}\"\n",
        PERSONAL_NOTES[9]
    );
    let res = app
        .post_raw(
            &format!("{}?period=2023", path(f.org_a)),
            Some(&f.team_a),
            "text/csv",
            csv,
        )
        .await;
    has(
        &issues(&res.assert_problem(422, "VALIDATION_FAILED")),
        "row 3, column toelichting",
        "personal_data",
    );
    // GraphQL.
    let body = app
        .gql(
            r#"mutation($org: Int!, $note: String!) { postSubmission(organisationId: $org, input: {period: "2023", figures: [{indicator: "klachten", value: 1, note: $note}]}) { revision } }"#,
            json!({"org": f.org_a, "note": PERSONAL_NOTES[6]}),
            Some(&f.team_a),
        )
        .await;
    assert_eq!(gql_error_code(&body), "VALIDATION_FAILED");
    assert_eq!(
        body["errors"][0]["extensions"]["errors"][0]["code"],
        "personal_data"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["errors"][0]["field"],
        "/figures/0/note"
    );
    assert_eq!(counts(&app), (0, 0, 0), "nothing stored");

    // What notes legitimately say still passes.
    let year = chrono::Utc::now()
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .unwrap();
    let notes = [
        format!(
            "Peildatum 1 januari {}; vanaf 01-07-{} nieuw team",
            year - 1,
            year - 1
        ),
        "Budget € 1.234.567,89; 12,5% meer dan 2022 (2023-Q1 t/m Q3 2023)".to_owned(),
        "KvK 30123458, 1.234 gezinnen, +12% t.o.v. 2022".to_owned(),
    ];
    let body = json!({"period": "2023", "figures": [
        {"indicator": "nieuwe_aanmeldingen", "value": 10, "note": notes[0]},
        {"indicator": "klachten", "value": 1, "note": notes[1]},
        {"indicator": "formatie_fte", "value": 4.5, "note": notes[2]}
    ]});
    let res = app.post_json(&path(f.org_a), Some(&f.team_a), &body).await;
    assert_eq!(res.status, 201, "{}", res.text());
}

#[actix_web::test]
async fn personal_data_in_return_and_withdrawal_reasons_is_refused() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let id = app
        .post_json(
            &format!("{}?submit=true", path(f.org_a)),
            Some(&f.team_a),
            &good_body(),
        )
        .await
        .json()["submissionId"]
        .as_i64()
        .unwrap();
    let act = |what: &str| format!("/api/v1/submissions/{id}/{what}");
    let before = (counts(&app), event_count(&app));
    for reason in PERSONAL_NOTES {
        for (what, token) in [("return", &f.associatie), ("withdraw", &f.team_a)] {
            let res = app
                .post_json(&act(what), Some(token), &json!({"reason": reason}))
                .await;
            let problem = res.assert_problem(422, "VALIDATION_FAILED");
            assert_eq!(
                issues(&problem),
                vec![("/reason".to_owned(), "personal_data".to_owned())],
                "{what}: {reason}"
            );
            assert!(!res.text().contains(reason), "echoed {reason}");
        }
    }
    // GraphQL too.
    for mutation in [
        format!(
            r#"mutation {{ returnSubmission(id: {id}, reason: "tel. 020-1234567") {{ status }} }}"#
        ),
        format!(
            r#"mutation {{ withdrawSubmission(id: {id}, reason: "tel. 020-1234567") {{ status }} }}"#
        ),
    ] {
        let token = if mutation.contains("return") {
            &f.associatie
        } else {
            &f.team_a
        };
        let body = app.gql(&mutation, json!({}), Some(token)).await;
        assert_eq!(gql_error_code(&body), "VALIDATION_FAILED", "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["errors"][0]["code"],
            "personal_data"
        );
    }
    assert_eq!((counts(&app), event_count(&app)), before, "nothing stored");
    let detail = app
        .get(&format!("/api/v1/submissions/{id}"), Some(&f.team_a))
        .await
        .json();
    assert_eq!(detail["revision"]["status"], "submitted", "{detail}");
}
