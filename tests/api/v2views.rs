//! Issue 16 in the views: indicators that are not additive are never summed (the distribution
//! instead, and a 422 for an explicit sum), the groupings the study uses (self-registration,
//! regional organisations, "provides help itself" not applicable to wmo-only teams), and the
//! transition from catalogue v1 to v2 (v1 figures count where the indicator is unchanged).

use serde_json::{Value, json};

use crate::common::*;

struct Org {
    id: i64,
    token: String,
}

async fn org(app: &TestApp, name: &str, team_type: &str, munis: &[&str]) -> Org {
    let id = app
        .create_org(&format!("Team {name}"), team_type, munis)
        .await;
    let token = app.client_token("team", Some(id)).await;
    Org { id, token }
}

/// Post and submit figures (under the current catalogue version unless `version` names one).
async fn submit(
    app: &TestApp,
    o: &Org,
    period: &str,
    publication: &str,
    version: Option<&str>,
    figures: Value,
) {
    let mut body = json!({"period": period, "publication": publication, "figures": figures});
    if let Some(v) = version {
        body["catalogueVersion"] = json!(v);
    }
    let res = app
        .post_json(
            &format!("/api/v1/organisations/{}/submissions?submit=true", o.id),
            Some(&o.token),
            &body,
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
}

fn close(a: &Value, b: f64) {
    let a = a.as_f64().unwrap_or_else(|| panic!("not a number: {a}"));
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

fn row<'a>(view: &'a Value, key: &str, value: Value) -> &'a Value {
    view["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"][key] == value)
        .unwrap_or_else(|| panic!("no row {key}={value} in {view}"))
}

fn group_values(view: &Value, key: &str) -> Vec<Value> {
    let mut v: Vec<Value> = view["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["group"][key].clone())
        .collect();
    v.sort_by_key(|x| x.to_string());
    v
}

async fn get_ok(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    let res = app.get(path, token).await;
    assert_eq!(res.status, 200, "{path}: {}", res.text());
    res.json()
}

/// Reach counts distinct residents: one resident can be in contact with several organisations,
/// so the views never add reach figures up. They show how many organisations reported and the
/// quartiles of their values, say so (`pooling: distribution`), and refuse a sum with 422.
#[actix_web::test]
async fn non_additive_indicators_are_never_summed_but_shown_as_a_distribution() {
    let app = TestApp::spawn().await;
    let mut orgs = Vec::new();
    for (i, (m, reach)) in [
        ("GM0363", 1000),
        ("GM0344", 1100),
        ("GM0599", 1200),
        ("GM0518", 1300),
    ]
    .into_iter()
    .enumerate()
    {
        let o = org(&app, &format!("R{i}"), "integraal", &[m]).await;
        submit(
            &app,
            &o,
            "2022",
            "associatie",
            None,
            json!([{"indicator": "bereik_inwoners", "value": 1000}]),
        )
        .await;
        submit(
            &app,
            &o,
            "2023",
            "associatie",
            None,
            json!([{"indicator": "bereik_inwoners", "value": reach}]),
        )
        .await;
        orgs.push(o);
    }
    let assoc = app.client_token("associatie", None).await;
    let base = "/api/v1/views/aggregate?indicator=bereik_inwoners&period=2023";

    // The Associatie: no sum (4600 would count residents twice), the distribution instead.
    let v = get_ok(&app, &format!("{base}&groupBy=teamType"), Some(&assoc)).await;
    assert_eq!(v["pooling"], "distribution");
    assert_eq!(v["indicator"]["additive"], false);
    assert!(
        v["indicator"]["acrossOrganisations"]
            .as_str()
            .unwrap()
            .starts_with("not summed")
    );
    let total = &v["total"];
    assert!(total["value"].is_null(), "never summed: {total}");
    assert_eq!(total["pooling"], "distribution");
    assert_eq!(total["organisations"], 4);
    let d = &total["distribution"];
    close(&d["q1"], 1075.0);
    close(&d["median"], 1150.0);
    close(&d["q3"], 1225.0);
    close(&d["min"], 1000.0);
    close(&d["max"], 1300.0);
    let integraal = row(&v, "teamType", json!("integraal"));
    assert!(integraal["value"].is_null());
    assert_eq!(integraal["organisations"], 4);

    // An explicit request for a sum: 422 naming the field, also for GraphQL and anonymous.
    for token in [Some(assoc.as_str()), None] {
        for pooling in ["sum", "SUM", "weighted_mean"] {
            let res = app.get(&format!("{base}&pooling={pooling}"), token).await;
            let body = res.assert_problem(422, "VALIDATION_FAILED");
            assert_eq!(body["errors"][0]["field"], "pooling", "{body}");
            assert_eq!(body["errors"][0]["code"], "not_additive", "{body}");
        }
    }
    for path in [
        "/api/v1/views/trend?indicator=bereik_inwoners&from=2022&to=2023&pooling=sum".to_owned(),
        format!(
            "/api/v1/views/benchmark?organisation={}&indicator=bereik_inwoners&period=2023&pooling=sum",
            orgs[0].id
        ),
    ] {
        let body = app
            .get(&path, Some(&assoc))
            .await
            .assert_problem(422, "VALIDATION_FAILED");
        assert_eq!(body["errors"][0]["field"], "pooling", "{body}");
        assert_eq!(body["errors"][0]["code"], "not_additive", "{body}");
    }
    let gql = app
        .gql(
            r#"{ aggregate(indicator: "bereik_inwoners", period: "2023", pooling: SUM) {
                   total { value } } }"#,
            json!({}),
            Some(&assoc),
        )
        .await;
    assert_eq!(gql_error_code(&gql), "VALIDATION_FAILED", "{gql}");
    assert_eq!(
        gql["errors"][0]["extensions"]["errors"][0]["code"], "not_additive",
        "{gql}"
    );
    // The same for REST and GraphQL when asked for the distribution.
    let g = app
        .gql_ok(
            r#"{ aggregate(indicator: "bereik_inwoners", period: "2023", pooling: DISTRIBUTION) {
                   pooling total { value organisations pooling distribution { median } } } }"#,
            json!({}),
            Some(&assoc),
        )
        .await;
    assert_eq!(g["aggregate"]["pooling"], "DISTRIBUTION");
    assert!(g["aggregate"]["total"]["value"].is_null());
    close(&g["aggregate"]["total"]["distribution"]["median"], 1150.0);
    // An additive indicator may ask for its own pooling or the distribution, not another rule.
    let body = app
        .get(
            "/api/v1/views/aggregate?indicator=cev_helpend&period=2023&pooling=sum",
            None,
        )
        .await
        .assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["code"], "invalid_pooling", "{body}");

    // Everyone else: the same protected cell; four hidden figures are too few for quartiles,
    // and there is no sum to show.
    let p = get_ok(&app, &format!("{base}&groupBy=teamType"), None).await;
    assert_eq!(p["total"]["suppressed"], false, "{p}");
    assert!(p["total"]["value"].is_null(), "{p}");
    assert_eq!(p["total"]["organisations"], 4);
    assert!(
        p["total"]["distribution"].is_null(),
        "quartiles of fewer than 10 hidden figures are withheld: {p}"
    );
    assert_eq!(p["total"]["pooling"], "distribution");
    let team = get_ok(&app, base, Some(&orgs[1].token)).await;
    assert!(team["total"]["value"].is_null() && team["total"]["distribution"].is_null());

    // CSV says so too: an empty value and the pooling column.
    let csv = app.get_accept(base, "text/csv", Some(&assoc)).await.text();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let total: Vec<&str> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|r| r[col("row")] == "total")
        .unwrap_or_else(|| panic!("no total row: {csv}"));
    assert_eq!(total[col("value")], "");
    assert_eq!(total[col("organisations")], "4");
    assert_eq!(total[col("median")], "1150");
    assert_eq!(total[col("pooling")], "distribution");

    // Trend: index and change follow the median (1000 -> 1150), never a sum.
    let t = get_ok(
        &app,
        "/api/v1/views/trend?indicator=bereik_inwoners&from=2022&to=2023&base=2022",
        Some(&assoc),
    )
    .await;
    assert_eq!(t["pooling"], "distribution");
    let points = t["series"][0]["points"].as_array().unwrap();
    assert!(points.iter().all(|p| p["value"].is_null()));
    close(&points[1]["index"], 115.0);
    close(&points[1]["change"], 15.0);

    // Benchmark: the organisation's own value against the quartiles, no pooled peers value.
    let b = get_ok(
        &app,
        &format!(
            "/api/v1/views/benchmark?organisation={}&indicator=bereik_inwoners&period=2023&peers=teamType",
            orgs[0].id
        ),
        Some(&assoc),
    )
    .await;
    close(&b["value"], 1000.0);
    assert_eq!(b["pooling"], "distribution");
    assert!(b["peers"]["value"].is_null() && b["national"]["value"].is_null());
    close(&b["peers"]["distribution"]["median"], 1150.0);
    close(&b["percentileRank"], 0.0);

    // Per municipality: one organisation's value stands, two in one municipality are not added.
    let extra = org(&app, "Jeugd Amsterdam", "jeugd", &["GM0363"]).await;
    submit(
        &app,
        &extra,
        "2023",
        "associatie",
        None,
        json!([{"indicator": "bereik_inwoners", "value": 500}]),
    )
    .await;
    let m = get_ok(
        &app,
        "/api/v1/views/municipalities?indicator=bereik_inwoners&period=2023",
        Some(&assoc),
    )
    .await;
    let muni = |code: &str| {
        m["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == code)
            .unwrap()
            .clone()
    };
    close(&muni("GM0344")["value"], 1100.0);
    let amsterdam = muni("GM0363");
    assert!(amsterdam["value"].is_null(), "{amsterdam}");
    assert_eq!(amsterdam["organisations"], 2);

    // Amounts per resident: a regional organisation's municipalities are averaged, not summed.
    let regional = org(&app, "Regio", "jeugd", &["GM0344", "GM0353"]).await;
    submit(
        &app,
        &regional,
        "2023",
        "associatie",
        None,
        json!([
            {"indicator": "jeugd_kosten_specialistisch_per_inwoner", "value": 400, "municipality": "GM0344"},
            {"indicator": "jeugd_kosten_specialistisch_per_inwoner", "value": 500, "municipality": "GM0353"}
        ]),
    )
    .await;
    let b = get_ok(
        &app,
        &format!(
            "/api/v1/views/benchmark?organisation={}&indicator=jeugd_kosten_specialistisch_per_inwoner&period=2023",
            regional.id
        ),
        Some(&assoc),
    )
    .await;
    close(&b["value"], 450.0);
    close(&b["peers"]["value"], 450.0);
    assert_eq!(b["peers"]["organisations"], 1);
}

/// The study groups teams by whether residents can register themselves, leaves regional teams
/// out of its size classes, and has "provides help itself" only for youth help.
#[actix_web::test]
async fn views_group_by_self_registration_regional_size_class_and_not_applicable_help() {
    let app = TestApp::spawn().await;
    let admin = app.client_token("admin", None).await;
    let wmo = org(&app, "Wmo", "wmo", &["GM0363"]).await;
    let helps = org(&app, "Helpt", "jeugd", &["GM0344"]).await;
    let unknown = org(&app, "Onbekend", "jeugd", &["GM0599"]).await;
    let regional = org(&app, "Regio", "integraal", &["GM0321", "GM0353"]).await;
    let small = org(&app, "Klein", "integraal", &["GM0353"]).await;
    for (o, patch) in [
        (
            &helps,
            json!({"selfRegistration": true, "providesHelpDeclared": true}),
        ),
        (&regional, json!({"selfRegistration": true})),
        // A declaration for a wmo-only team does not make the measure apply.
        (&wmo, json!({"providesHelpDeclared": false})),
    ] {
        let res = app
            .patch_json(
                &format!("/api/v1/organisations/{}", o.id),
                Some(&admin),
                &patch,
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    // The registry says the same as the views.
    let r = get_ok(&app, &format!("/api/v1/organisations/{}", wmo.id), None).await;
    assert!(r["providesHelp"].is_null());
    assert_eq!(r["providesHelpSource"], "not_applicable");
    let r = get_ok(
        &app,
        &format!("/api/v1/organisations/{}", regional.id),
        None,
    )
    .await;
    assert_eq!(r["regional"], true);
    assert_eq!(r["sizeClass"], "regionaal");
    assert_eq!(r["primaryMunicipality"], "GM0321", "province still from it");
    assert_eq!(r["province"], "PV26");
    let r = get_ok(&app, &format!("/api/v1/organisations/{}", small.id), None).await;
    assert_eq!(
        (r["regional"].clone(), r["sizeClass"].clone()),
        (json!(false), json!("klein"))
    );
    let r = get_ok(&app, &format!("/api/v1/organisations/{}", helps.id), None).await;
    assert_eq!(r["providesHelp"], true);

    for (o, n) in [
        (&wmo, 10),
        (&helps, 20),
        (&unknown, 30),
        (&regional, 40),
        (&small, 50),
    ] {
        submit(
            &app,
            o,
            "2023",
            "openbaar",
            None,
            json!([{"indicator": "klachten", "value": n}]),
        )
        .await;
    }
    let assoc = app.client_token("associatie", None).await;
    let base = "/api/v1/views/aggregate?indicator=klachten&period=2023";
    for token in [Some(assoc.as_str()), None] {
        // Regional organisations are their own size class: no organisation without one.
        let v = get_ok(&app, &format!("{base}&groupBy=sizeClass"), token).await;
        assert_eq!(
            group_values(&v, "sizeClass"),
            [json!("groot"), json!("klein"), json!("regionaal")]
        );
        close(&row(&v, "sizeClass", json!("regionaal"))["value"], 40.0);
        close(&row(&v, "sizeClass", json!("klein"))["value"], 50.0);
        close(&row(&v, "sizeClass", json!("groot"))["value"], 60.0);
        let v = get_ok(&app, &format!("{base}&sizeClass=regionaal"), token).await;
        close(&v["total"]["value"], 40.0);
        assert_eq!(v["total"]["organisations"], 1);

        // Provides help itself: not applicable to the wmo team, unknown where nobody knows.
        let v = get_ok(&app, &format!("{base}&groupBy=providesHelp"), token).await;
        assert_eq!(
            group_values(&v, "providesHelp"),
            [json!("not_applicable"), json!("unknown"), json!("yes")]
        );
        close(
            &row(&v, "providesHelp", json!("not_applicable"))["value"],
            10.0,
        );
        close(&row(&v, "providesHelp", json!("unknown"))["value"], 120.0);
        close(&row(&v, "providesHelp", json!("yes"))["value"], 20.0);

        // Self-registration yes/no.
        let v = get_ok(&app, &format!("{base}&groupBy=selfRegistration"), token).await;
        close(&row(&v, "selfRegistration", json!(true))["value"], 60.0);
        close(&row(&v, "selfRegistration", json!(false))["value"], 90.0);
        let v = get_ok(&app, &format!("{base}&selfRegistration=true"), token).await;
        assert_eq!(v["total"]["organisations"], 2);
    }
    // GraphQL: the same groups and filters.
    let g = app
        .gql_ok(
            r#"{ a: aggregate(indicator: "klachten", period: "2023", groupBy: [SELF_REGISTRATION],
                              filter: {sizeClass: REGIONAAL}) {
                   rows { group { selfRegistration sizeClass } value } }
                 b: aggregate(indicator: "klachten", period: "2023", groupBy: [PROVIDES_HELP],
                              filter: {providesHelp: NOT_APPLICABLE}) {
                   total { value organisations } } }"#,
            json!({}),
            Some(&assoc),
        )
        .await;
    assert_eq!(
        g["a"]["rows"],
        json!([{"group": {"selfRegistration": true, "sizeClass": null}, "value": 40.0}])
    );
    assert_eq!(g["b"]["total"], json!({"value": 10.0, "organisations": 1}));
    // A filter value the dimension does not have.
    app.get(&format!("{base}&sizeClass=provinciaal"), None)
        .await
        .assert_problem(422, "VALIDATION_FAILED");
}

/// Figures posted under v1 keep counting in v2 views where the indicator is unchanged
/// (inherited or amended); a retired indicator takes no new figures under v2, its v1 figures
/// keep their meaning and their own views; its successor does not count them.
#[actix_web::test]
async fn v1_figures_count_in_v2_views_where_the_indicator_is_unchanged() {
    let app = TestApp::spawn().await;
    let a = org(&app, "A", "jeugd", &["GM0344"]).await;
    let b = org(&app, "B", "jeugd", &["GM0599"]).await;
    // A still reports under v1 (during the transition), B under v2.
    submit(
        &app,
        &a,
        "2022",
        "associatie",
        Some("v1"),
        json!([{"indicator": "cev_helpend", "value": 60, "respondents": 100}]),
    )
    .await;
    submit(
        &app,
        &a,
        "2023",
        "associatie",
        Some("v1"),
        json!([
            {"indicator": "cev_helpend", "value": 80, "respondents": 100},
            {"indicator": "verwijzingen_specialistisch", "value": 120},
            {"indicator": "bereik_inwoners", "value": 1000}
        ]),
    )
    .await;
    submit(
        &app,
        &b,
        "2023",
        "associatie",
        None,
        json!([
            {"indicator": "cev_helpend", "value": 70, "respondents": 300},
            {"indicator": "verwijzingen_door_team", "value": 50},
            {"indicator": "bereik_inwoners", "value": 2000}
        ]),
    )
    .await;
    let assoc = app.client_token("associatie", None).await;

    // cev_helpend is amended in v2 (a clearer definition, same meaning): both count.
    for version in ["", "&version=v2", "&version=v1"] {
        let v = get_ok(
            &app,
            &format!("/api/v1/views/aggregate?indicator=cev_helpend&period=2023{version}"),
            Some(&assoc),
        )
        .await;
        assert_eq!(v["catalogueVersions"], json!(["v1", "v2"]), "{version}");
        assert_eq!(v["total"]["respondents"], 400);
        close(&v["total"]["value"], (80.0 * 100.0 + 70.0 * 300.0) / 400.0);
        assert_eq!(v["total"]["organisations"], 2);
    }
    let expected_version = |v: &Value, want: &str| assert_eq!(v["indicator"]["code"], want);
    // A trend over the transition: 2022 from v1 only, 2023 from both.
    let t = get_ok(
        &app,
        "/api/v1/views/trend?indicator=cev_helpend&from=2022&to=2023",
        Some(&assoc),
    )
    .await;
    expected_version(&t, "cev_helpend");
    let points = t["series"][0]["points"].as_array().unwrap();
    close(&points[0]["value"], 60.0);
    close(&points[1]["value"], 72.5);
    close(&points[1]["change"], 12.5);

    // Retired in v2: no new figures under v2...
    let res = app
        .post_json(
            &format!("/api/v1/organisations/{}/submissions", b.id),
            Some(&b.token),
            &json!({"period": "2024", "figures": [
                {"indicator": "verwijzingen_specialistisch", "value": 10}]}),
        )
        .await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["code"], "indicator_retired", "{body}");
    // ...but its v1 figures keep their meaning and their view, in either version's terms.
    for version in ["", "&version=v1"] {
        let v = get_ok(
            &app,
            &format!(
                "/api/v1/views/aggregate?indicator=verwijzingen_specialistisch&period=2023{version}"
            ),
            Some(&assoc),
        )
        .await;
        close(&v["total"]["value"], 120.0);
        assert_eq!(
            v["indicator"]["direction"], "lower_is_better",
            "as released"
        );
    }
    // The successor measures something else: the old figures do not count under it.
    let v = get_ok(
        &app,
        "/api/v1/views/aggregate?indicator=verwijzingen_door_team&period=2023",
        Some(&assoc),
    )
    .await;
    assert_eq!(v["catalogueVersions"], json!(["v2"]));
    close(&v["total"]["value"], 50.0);
    assert_eq!(v["total"]["organisations"], 1);
    assert_eq!(v["indicator"]["direction"], "neutral");
    // It is unknown in v1's terms.
    let body = app
        .get(
            "/api/v1/views/aggregate?indicator=verwijzingen_door_team&period=2023&version=v1",
            Some(&assoc),
        )
        .await
        .assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["code"], "unknown_indicator");

    // Reach: v1 figures count under v2, and v2's correction (not additive) holds for them too,
    // also when asked in v1's terms: the same residents would otherwise be counted twice.
    for version in ["", "&version=v1"] {
        let v = get_ok(
            &app,
            &format!("/api/v1/views/aggregate?indicator=bereik_inwoners&period=2023{version}"),
            Some(&assoc),
        )
        .await;
        assert_eq!(v["catalogueVersions"], json!(["v1", "v2"]));
        assert_eq!(v["pooling"], "distribution", "{version}");
        assert_eq!(v["indicator"]["additive"], false);
        assert!(v["total"]["value"].is_null());
        assert_eq!(v["total"]["organisations"], 2);
        close(&v["total"]["distribution"]["median"], 1500.0);
        let body = app
            .get(
                &format!(
                    "/api/v1/views/aggregate?indicator=bereik_inwoners&period=2023{version}&pooling=sum"
                ),
                Some(&assoc),
            )
            .await
            .assert_problem(422, "VALIDATION_FAILED");
        assert_eq!(body["errors"][0]["code"], "not_additive");
    }
}
