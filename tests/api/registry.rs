//! Issue 4: the organisation registry.

use serde_json::json;

use crate::common::*;

#[actix_web::test]
async fn organisations_are_created_read_changed_and_deactivated() {
    let app = TestApp::spawn().await;
    let admin = app.client_token("admin", None).await;
    let res = app
        .post_json(
            "/api/v1/organisations",
            Some(&admin),
            &json!({
                "name": "  Sociaal Team Houten  ",
                "kvk": "3012 3456",
                "teamType": "integraal",
                "orgForm": "gemeentelijk",
                "selfRegistration": true,
                "providesHelpDeclared": true,
                "municipalities": [
                    {"code": "GM0321"},
                    {"code": "gm0344", "validFrom": "2020-01-01", "validTo": "2022-12-31"}
                ]
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let org = res.json();
    assert_eq!(org["name"], "Sociaal Team Houten");
    assert_eq!(org["kvk"], "30123456");
    assert_eq!(org["teamType"], "integraal");
    assert_eq!(org["providesHelp"], true);
    assert_eq!(org["providesHelpSource"], "declared");
    // The largest municipality served decides size class and province. Utrecht's service has
    // ended, so today it serves one municipality: not regional (a regional organisation would
    // have size class `regionaal`, tests/api/v2views.rs).
    assert_eq!(org["primaryMunicipality"], "GM0344");
    assert_eq!(org["regional"], false);
    assert_eq!(org["sizeClass"], "groot");
    assert_eq!(org["province"], "PV26");
    assert_eq!(org["municipalities"].as_array().unwrap().len(), 2);
    assert_eq!(org["active"], true);
    let id = org["id"].as_i64().unwrap();

    let res = app
        .patch_json(
            &format!("/api/v1/organisations/{id}"),
            Some(&admin),
            &json!({"municipalities": [{"code": "GM0321"}], "kvk": ""}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let org = res.json();
    assert_eq!(org["primaryMunicipality"], "GM0321");
    assert_eq!(org["regional"], false);
    assert_eq!(
        org["sizeClass"], "middelgroot",
        "Houten: 50,847 residents in 2024"
    );
    assert!(org["kvk"].is_null());
    assert_eq!(org["name"], "Sociaal Team Houten", "untouched fields stay");

    let got = app.get(&format!("/api/v1/organisations/{id}"), None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), org);

    app.create_org("Jeugdteam Zeist", "jeugd", &["GM0355"])
        .await;
    let list = app
        .get("/api/v1/organisations?teamType=jeugd", None)
        .await
        .json();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|o| o["teamType"] == "jeugd")
    );
    let list = app
        .get("/api/v1/organisations?municipality=GM0321", None)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    app.get("/api/v1/organisations/999999", None)
        .await
        .assert_problem(404, "NOT_FOUND");

    let data = app
        .gql_ok(
            "mutation($id: Int!) { deactivateOrganisation(id: $id) { id active } }",
            json!({"id": id}),
            Some(&admin),
        )
        .await;
    assert_eq!(data["deactivateOrganisation"]["active"], false);
    let list = app
        .get("/api/v1/organisations?active=true", None)
        .await
        .json();
    assert!(list.as_array().unwrap().iter().all(|o| o["id"] != id));
}

#[actix_web::test]
async fn invalid_organisations_list_every_problem_and_store_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.client_token("admin", None).await;
    let res = app
        .post_json(
            "/api/v1/organisations",
            Some(&admin),
            &json!({
                "name": "X",
                "kvk": "1234",
                "teamType": "wmo",
                "orgForm": "bv",
                "municipalities": [
                    {"code": "GM9999"},
                    {"code": "GM0363", "validFrom": "2020-01-01", "validTo": "2019-01-01"},
                    {"code": "GM0014"},
                    {"code": "GM0014"}
                ],
                "primaryMunicipality": "GM0599"
            }),
        )
        .await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    let issues: Vec<(String, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("/name", "invalid_name"),
        ("/kvk", "invalid_kvk"),
        ("/municipalities/0/code", "unknown_municipality"),
        ("/municipalities/1/validTo", "invalid_validity"),
        ("/municipalities/3", "duplicate_municipality"),
        ("/primaryMunicipality", "primary_not_served"),
    ] {
        assert!(
            issues.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "missing {expected:?} in {issues:?}"
        );
    }
    // Malformed JSON names the problem too.
    let res = app
        .post_json(
            "/api/v1/organisations",
            Some(&admin),
            &json!({"name": "Y", "teamType": "ouderen"}),
        )
        .await;
    res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(
        app.get("/api/v1/organisations", None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0,
        "nothing stored"
    );

    // GraphQL reports the same problems in extensions.
    let body = app
        .gql(
            r#"mutation { createOrganisation(input: {name: "Z", teamType: WMO, orgForm: BV, municipalities: []}) { id } }"#,
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(gql_error_code(&body), "VALIDATION_FAILED");
    let codes: Vec<&str> = body["errors"][0]["extensions"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"invalid_name") && codes.contains(&"municipalities_required"),
        "{codes:?}"
    );
}

#[actix_web::test]
async fn team_clients_need_an_active_organisation() {
    let app = TestApp::spawn().await;
    let admin = app.client_token("admin", None).await;
    let res = app
        .post_json(
            "/api/v1/clients",
            Some(&admin),
            &json!({"name": "t", "role": "team"}),
        )
        .await;
    assert_eq!(
        res.assert_problem(422, "VALIDATION_FAILED")["errors"][0]["code"],
        "organisation_required"
    );
    let res = app
        .post_json(
            "/api/v1/clients",
            Some(&admin),
            &json!({"name": "t", "role": "team", "organisationId": 4242}),
        )
        .await;
    assert_eq!(
        res.assert_problem(422, "VALIDATION_FAILED")["errors"][0]["code"],
        "unknown_organisation"
    );
    // Only team clients belong to an organisation (checked for clients made on the server).
    let state = app.state.clone();
    let err = state
        .db
        .run(move |conn| {
            basisset::auth::clients::create(
                conn,
                &basisset::auth::Caller::System,
                basisset::auth::clients::NewClient {
                    name: "a".into(),
                    role: basisset::auth::Role::Associatie,
                    organisation_id: Some(1),
                },
            )
        })
        .await
        .unwrap_err();
    assert_eq!(err.issues()[0].code, "organisation_not_allowed");
}

fn error_codes(body: &serde_json::Value) -> Vec<(String, String)> {
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

fn name_refused() -> Vec<(String, String)> {
    vec![("/name".to_owned(), "personal_data".to_owned())]
}

#[actix_web::test]
async fn personal_data_in_organisation_and_client_names_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.client_token("admin", None).await;
    let names = [
        "Buurtteam Noord, contact jan＠example.nl",
        "Team 06-12345678",
        "Wijkteam (06)12345678",
        "Stichting 111/222/333",
        "Stichting NL91 ABNA 0417 1643 00",
        "Team ١١١٢٢٢٣٣٣",
    ];
    for name in names {
        let res = app
            .post_json(
                "/api/v1/organisations",
                Some(&admin),
                &json!({"name": name, "teamType": "jeugd", "orgForm": "stichting",
                        "municipalities": [{"code": "GM0344"}]}),
            )
            .await;
        let body = res.assert_problem(422, "VALIDATION_FAILED");
        assert_eq!(error_codes(&body), name_refused(), "{name}");
        assert!(!res.text().contains(name), "echoed {name}");
    }
    let body = app
        .gql(
            r#"mutation($name: String!) { createOrganisation(input: {name: $name, teamType: JEUGD, orgForm: STICHTING, municipalities: [{code: "GM0344"}]}) { id } }"#,
            json!({"name": names[0]}),
            Some(&admin),
        )
        .await;
    assert_eq!(gql_error_code(&body), "VALIDATION_FAILED");
    assert_eq!(
        body["errors"][0]["extensions"]["errors"][0]["code"],
        "personal_data"
    );
    let list = app.get("/api/v1/organisations", None).await.json();
    assert_eq!(list.as_array().unwrap().len(), 0, "nothing stored");

    // A rename is checked the same way and changes nothing.
    let id = app
        .create_org("Buurtteam Noord", "jeugd", &["GM0344"])
        .await;
    let res = app
        .patch_json(
            &format!("/api/v1/organisations/{id}"),
            Some(&admin),
            &json!({"name": names[1]}),
        )
        .await;
    assert_eq!(
        error_codes(&res.assert_problem(422, "VALIDATION_FAILED")),
        name_refused()
    );
    let body = app
        .gql(
            r#"mutation($id: Int!, $name: String!) { updateOrganisation(id: $id, input: {name: $name}) { id } }"#,
            json!({"id": id, "name": names[2]}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["errors"][0]["code"],
        "personal_data"
    );
    let org = app
        .get(&format!("/api/v1/organisations/{id}"), None)
        .await
        .json();
    assert_eq!(org["name"], "Buurtteam Noord");

    // API client names.
    let clients_before = app.get("/api/v1/clients", Some(&admin)).await.json();
    for name in ["koppeling van j.jansen@example.nl", "koppeling 020-1234567"] {
        let res = app
            .post_json(
                "/api/v1/clients",
                Some(&admin),
                &json!({"name": name, "role": "team", "organisationId": id}),
            )
            .await;
        assert_eq!(
            error_codes(&res.assert_problem(422, "VALIDATION_FAILED")),
            name_refused(),
            "{name}"
        );
    }
    let body = app
        .gql(
            &format!(r#"mutation {{ createClient(input: {{name: "koppeling BSN 111.222.333", role: TEAM, organisationId: {id}}}) {{ clientId }} }}"#),
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["errors"][0]["code"],
        "personal_data"
    );
    assert_eq!(
        app.get("/api/v1/clients", Some(&admin)).await.json(),
        clients_before,
        "no client stored"
    );
}

/// OWASP "CSV Injection": names that start like a formula are written with a leading `'`.
#[actix_web::test]
async fn organisation_names_cannot_inject_formulas_into_csv_exports() {
    let app = TestApp::spawn().await;
    let admin = app.client_token("admin", None).await;
    let assoc = app.client_token("associatie", None).await;
    let names = [r#"=HYPERLINK("http://x","y")"#, "@SUM(1+1)", "+cmd", "-2+3"];
    let mut ids = Vec::new();
    for (name, municipality) in names.iter().zip(["GM0344", "GM0363", "GM0599", "GM0518"]) {
        // Not personal data: the registry takes such names as they are.
        let res = app
            .post_json(
                "/api/v1/organisations",
                Some(&admin),
                &json!({"name": name, "teamType": "wmo", "orgForm": "stichting",
                        "municipalities": [{"code": municipality}]}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        assert_eq!(res.json()["name"], *name);
        let id = res.json()["id"].as_i64().unwrap();
        let team = app.client_token("team", Some(id)).await;
        for (year, value) in [("2021", 20 + ids.len()), ("2022", 10 + ids.len())] {
            let res = app
                .post_json(
                    &format!("/api/v1/organisations/{id}/submissions?submit=true"),
                    Some(&team),
                    &json!({"period": year, "publication": "openbaar",
                            "figures": [{"indicator": "klachten", "value": value}]}),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
        }
        ids.push(id);
    }
    let csv = |url: String| {
        let app = &app;
        let assoc = assoc.clone();
        async move {
            let res = app.get_accept(&url, "text/csv", Some(&assoc)).await;
            assert_eq!(res.status, 200, "{url}: {}", res.text());
            res.text()
        }
    };
    let benchmark = csv(format!(
        "/api/v1/views/benchmark?organisation={}&indicator=klachten&period=2022",
        ids[0]
    ))
    .await;
    assert!(
        benchmark.contains(r#""'=HYPERLINK(""http://x"",""y"")""#),
        "{benchmark}"
    );
    let completeness = csv("/api/v1/views/completeness?period=2022".to_owned()).await;
    for expected in ["'@SUM(1+1)", "'+cmd", "'-2+3"] {
        assert!(
            completeness
                .lines()
                .any(|l| l.contains(&format!(",{expected},"))),
            "{expected} in {completeness}"
        );
    }
    let views = [
        benchmark,
        completeness,
        csv("/api/v1/views/aggregate?indicator=klachten&period=2022&groupBy=province".to_owned())
            .await,
        csv("/api/v1/views/municipalities?indicator=klachten&period=2022".to_owned()).await,
        csv("/api/v1/views/trend?indicator=klachten&from=2021&to=2022&base=2021".to_owned()).await,
    ];
    // In every view: no cell a spreadsheet runs, and the service's own negative numbers (the
    // trend's change) stay numbers.
    let mut negative_numbers = 0;
    for view in &views {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(view.as_bytes());
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                    assert!(cell.parse::<f64>().is_ok(), "{cell:?} in {view}");
                    negative_numbers += 1;
                }
            }
        }
    }
    assert!(negative_numbers > 0, "the trend falls: {views:?}");
}
