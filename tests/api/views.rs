//! Issue 6: the views, with hand-computed expected values for every kind.

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

/// Post and submit figures; returns the submission id.
async fn submit(app: &TestApp, o: &Org, period: &str, publication: &str, figures: Value) -> i64 {
    let res = app
        .post_json(
            &format!("/api/v1/organisations/{}/submissions?submit=true", o.id),
            Some(&o.token),
            &json!({"period": period, "publication": publication, "figures": figures}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["submissionId"].as_i64().unwrap()
}

fn close(a: &Value, b: f64) {
    let a = a.as_f64().unwrap_or_else(|| panic!("not a number: {a}"));
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

fn row<'a>(view: &'a Value, key: &str, value: &str) -> &'a Value {
    view["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"][key] == value)
        .unwrap_or_else(|| panic!("no row {key}={value} in {view}"))
}

#[actix_web::test]
async fn survey_figures_pool_weighted_by_respondents_as_the_study_did() {
    let app = TestApp::spawn().await;
    let wmo = org(&app, "Wmo-team", "wmo", &["GM0363"]).await;
    let integraal = org(&app, "Integraal team", "integraal", &["GM0344"]).await;
    let jeugd = org(&app, "Jeugdteam", "jeugd", &["GM0599"]).await;
    for (o, pct, n) in [(&wmo, 80, 2874), (&integraal, 71, 967), (&jeugd, 74, 1939)] {
        submit(
            &app,
            o,
            "2021",
            "associatie",
            json!([{"indicator": "cev_helpend", "value": pct, "respondents": n}]),
        )
        .await;
    }
    let associatie = app.client_token("associatie", None).await;
    let v = app
        .get(
            "/api/v1/views/aggregate?indicator=cev_helpend&period=2021&groupBy=teamType",
            Some(&associatie),
        )
        .await;
    assert_eq!(v.status, 200, "{}", v.text());
    let v = v.json();
    // Σ(pct·n)/Σn = (80·2874 + 71·967 + 74·1939) / 5780
    close(&v["total"]["value"], 442_063.0 / 5_780.0);
    assert_eq!(v["total"]["respondents"], 5780);
    assert_eq!(v["total"]["organisations"], 3);
    close(&row(&v, "teamType", "wmo")["value"], 80.0);
    assert_eq!(row(&v, "teamType", "wmo")["respondents"], 2874);
    close(&row(&v, "teamType", "integraal")["value"], 71.0);
    close(&row(&v, "teamType", "jeugd")["value"], 74.0);
    // One organisation per row: flagged for the Associatie...
    assert_eq!(
        row(&v, "teamType", "jeugd")["flags"],
        json!(["few_organisations"])
    );
    assert_eq!(row(&v, "teamType", "jeugd")["suppressed"], false);
    let d = &v["total"]["distribution"];
    close(&d["median"], 74.0);
    close(&d["min"], 71.0);
    close(&d["max"], 80.0);
    // ...withheld from the public, whose total over three organisations stands.
    let p = app
        .get(
            "/api/v1/views/aggregate?indicator=cev_helpend&period=2021&groupBy=teamType",
            None,
        )
        .await
        .json();
    let r = row(&p, "teamType", "jeugd");
    assert_eq!(r["suppressed"], true);
    assert_eq!(r["suppressionReason"], "few_organisations");
    assert!(r["value"].is_null() && r["distribution"].is_null() && r["respondents"].is_null());
    close(&p["total"]["value"], 442_063.0 / 5_780.0);
    assert!(
        p["total"]["distribution"]["min"].is_null(),
        "min/max of hidden values are withheld"
    );
    // A team sees its own figure (and nothing it may not see).
    let own = app
        .get(
            "/api/v1/views/aggregate?indicator=cev_helpend&period=2021&groupBy=teamType",
            Some(&jeugd.token),
        )
        .await
        .json();
    close(&row(&own, "teamType", "jeugd")["value"], 74.0);
    assert_eq!(row(&own, "teamType", "wmo")["suppressed"], true);
}

#[actix_web::test]
async fn ratios_means_flows_and_stocks_combine_by_their_kind() {
    let app = TestApp::spawn().await;
    let a = org(&app, "A", "integraal", &["GM0344"]).await;
    let b = org(&app, "B", "integraal", &["GM0363"]).await;
    let c = org(&app, "C", "integraal", &["GM0599"]).await;
    // Ratios: 1/2 (50%) and 10/100 (10%) and 39/98: pooled 50/200 = 25%, not the mean 31.6%.
    submit(
        &app,
        &a,
        "2022",
        "associatie",
        json!([
        {"indicator": "aandeel_zelfmelders", "numerator": 1, "denominator": 2},
        {"indicator": "wachttijd_dagen", "value": 10, "cases": 100},
        {"indicator": "klachten", "value": 5}]),
    )
    .await;
    submit(
        &app,
        &b,
        "2022",
        "associatie",
        json!([
        {"indicator": "aandeel_zelfmelders", "numerator": 10, "denominator": 100},
        {"indicator": "wachttijd_dagen", "value": 40, "cases": 50},
        {"indicator": "klachten", "value": 7}]),
    )
    .await;
    submit(
        &app,
        &c,
        "2022",
        "associatie",
        json!([
        {"indicator": "aandeel_zelfmelders", "numerator": 39, "denominator": 98},
        {"indicator": "wachttijd_dagen", "value": 20, "cases": 50},
        {"indicator": "klachten", "value": 0}]),
    )
    .await;
    let assoc = app.client_token("associatie", None).await;
    let get = |ind: &str, period: &str| {
        format!("/api/v1/views/aggregate?indicator={ind}&period={period}")
    };
    let v = app
        .get(&get("aandeel_zelfmelders", "2022"), Some(&assoc))
        .await
        .json();
    close(&v["total"]["value"], 25.0);
    assert_eq!(v["total"]["numerator"], 50);
    assert_eq!(v["total"]["denominator"], 200);
    close(&v["total"]["distribution"]["median"], 100.0 * 39.0 / 98.0);
    // Means weighted by cases: (10·100 + 40·50 + 20·50) / 200 = 20.
    let v = app
        .get(&get("wachttijd_dagen", "2022"), Some(&assoc))
        .await
        .json();
    close(&v["total"]["value"], 20.0);
    assert_eq!(v["total"]["cases"], 200);
    // Flows sum.
    let v = app.get(&get("klachten", "2022"), Some(&assoc)).await.json();
    close(&v["total"]["value"], 12.0);

    // Across periods: quarters roll up into the year. Flows sum (all quarters needed),
    // stocks take the last quarter.
    for (q, flow, stock) in [
        ("2023-Q1", 10, 100),
        ("2023-Q2", 20, 110),
        ("2023-Q3", 30, 90),
        ("2023-Q4", 40, 95),
    ] {
        submit(
            &app,
            &a,
            q,
            "associatie",
            json!([
            {"indicator": "nieuwe_aanmeldingen", "value": flow},
            {"indicator": "wachtlijst_inwoners", "value": stock}]),
        )
        .await;
    }
    // B reports the whole year at once; C only three quarters.
    submit(
        &app,
        &b,
        "2023",
        "associatie",
        json!([
        {"indicator": "nieuwe_aanmeldingen", "value": 500},
        {"indicator": "wachtlijst_inwoners", "value": 50}]),
    )
    .await;
    for q in ["2023-Q1", "2023-Q2", "2023-Q3"] {
        submit(
            &app,
            &c,
            q,
            "associatie",
            json!([
            {"indicator": "nieuwe_aanmeldingen", "value": 1},
            {"indicator": "wachtlijst_inwoners", "value": 7}]),
        )
        .await;
    }
    let v = app
        .get(&get("nieuwe_aanmeldingen", "2023"), Some(&assoc))
        .await
        .json();
    close(&v["total"]["value"], 100.0 + 500.0);
    assert_eq!(
        v["total"]["organisations"], 2,
        "C's incomplete year is left out"
    );
    let v = app
        .get(&get("wachtlijst_inwoners", "2023"), Some(&assoc))
        .await
        .json();
    close(&v["total"]["value"], 95.0 + 50.0 + 7.0);
    assert_eq!(v["total"]["organisations"], 3);
    // A single quarter is just that quarter.
    let v = app
        .get(&get("wachtlijst_inwoners", "2023-Q2"), Some(&assoc))
        .await
        .json();
    close(&v["total"]["value"], 110.0 + 7.0);
    // A span of years: flows sum over the years, stocks take the last year.
    let v = app
        .get(
            "/api/v1/views/aggregate?indicator=klachten&from=2022&to=2022",
            Some(&assoc),
        )
        .await
        .json();
    close(&v["total"]["value"], 12.0);
}

#[actix_web::test]
async fn suppression_at_k_minus_one_and_k_and_what_the_public_may_see() {
    let app = TestApp::spawn().await;
    let mut orgs = Vec::new();
    for (i, m) in ["GM0363", "GM0344", "GM0599", "GM0518"].iter().enumerate() {
        orgs.push(org(&app, &format!("Team {i}"), "wmo", &[m]).await);
    }
    let url = "/api/v1/views/aggregate?indicator=klachten&period=2022";
    // Two organisations (k - 1): withheld from the public and from a team that is not one of them.
    for o in &orgs[..2] {
        submit(
            &app,
            o,
            "2022",
            "associatie",
            json!([{"indicator": "klachten", "value": 3}]),
        )
        .await;
    }
    let public = app.get(url, None).await.json();
    assert_eq!(public["total"]["suppressed"], true);
    assert_eq!(public["total"]["confStatus"], "A");
    assert!(
        public["total"]["organisations"].is_null(),
        "a withheld cell does not say how many reported"
    );
    let outsider = app.get(url, Some(&orgs[3].token)).await.json();
    assert_eq!(outsider["total"]["suppressed"], true);
    // A team among them: the other one is a single hidden organisation: still withheld.
    assert_eq!(
        app.get(url, Some(&orgs[0].token)).await.json()["total"]["suppressed"],
        true
    );
    // Three (k): shown.
    submit(
        &app,
        &orgs[2],
        "2022",
        "associatie",
        json!([{"indicator": "klachten", "value": 4}]),
    )
    .await;
    let public = app.get(url, None).await.json();
    assert_eq!(public["total"]["suppressed"], false);
    close(&public["total"]["value"], 10.0);
    // Published figures are public: a group of one published organisation is shown.
    submit(
        &app,
        &orgs[3],
        "2022",
        "openbaar",
        json!([{"indicator": "klachten", "value": 9}]),
    )
    .await;
    let by_province = app
        .get(&format!("{url}&groupBy=province"), None)
        .await
        .json();
    let pv27 = row(&by_province, "province", "PV27");
    assert_eq!(pv27["suppressed"], true, "Amsterdam's team did not publish");
    let pv28 = by_province["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"]["province"] == "PV28")
        .unwrap();
    // Zuid-Holland (Rotterdam and Den Haag) holds one published and one unpublished figure:
    // one hidden -> withheld, without a count.
    assert_eq!(pv28["suppressed"], true);
    assert!(pv28["organisations"].is_null());
    // The configuration sets k (and p): with k = 2 and the p% rule off, two are enough.
    let mut config = test_config();
    config.views.min_organisations = 2;
    config.views.disclosure_p_percent = 0.0;
    let app2 = TestApp::spawn_with(config).await;
    let x = org(&app2, "X", "wmo", &["GM0363"]).await;
    let y = org(&app2, "Y", "wmo", &["GM0344"]).await;
    for o in [&x, &y] {
        submit(
            &app2,
            o,
            "2022",
            "associatie",
            json!([{"indicator": "klachten", "value": 1}]),
        )
        .await;
    }
    assert_eq!(
        app2.get(url, None).await.json()["total"]["suppressed"],
        false
    );
    assert_eq!(app2.get(url, None).await.json()["minOrganisations"], 2);
    // With p = 10%, two contributors never pass the p% rule: either one would know the other.
    let mut config = test_config();
    config.views.min_organisations = 2;
    let app3 = TestApp::spawn_with(config).await;
    for name in ["X", "Y"] {
        let o = org(&app3, name, "wmo", &["GM0363"]).await;
        submit(
            &app3,
            &o,
            "2022",
            "associatie",
            json!([{"indicator": "klachten", "value": 1}]),
        )
        .await;
    }
    let total = app3.get(url, None).await.json()["total"].clone();
    assert_eq!(total["confStatus"], "M", "{total}");
    assert_eq!(total["suppressionReason"], "dominance");
}

#[actix_web::test]
async fn small_surveys_are_flagged_and_withheld_from_the_public() {
    let app = TestApp::spawn().await;
    let mut orgs = Vec::new();
    for (i, m) in ["GM0363", "GM0344", "GM0599"].iter().enumerate() {
        let o = org(&app, &format!("T{i}"), "jeugd", &[m]).await;
        submit(
            &app,
            &o,
            "2022",
            "openbaar",
            json!([{"indicator": "cev_passend", "value": 80, "respondents": 9}]),
        )
        .await;
        orgs.push(o);
    }
    let url = "/api/v1/views/aggregate?indicator=cev_passend&period=2022";
    let public = app.get(url, None).await.json();
    assert_eq!(public["total"]["suppressed"], true);
    assert_eq!(public["total"]["suppressionReason"], "small_sample");
    let assoc = app.client_token("associatie", None).await;
    let full = app.get(url, Some(&assoc)).await.json();
    assert_eq!(full["total"]["flags"], json!(["small_sample"]));
    assert_eq!(full["total"]["respondents"], 27);
    assert_eq!(full["total"]["publicConfStatus"], "A");
    assert_eq!(full["total"]["publicSuppressionReason"], "small_sample");
    // Teams see what the public sees.
    let team = app.get(url, Some(&orgs[0].token)).await.json();
    assert_eq!(team["total"], public["total"]);
}

#[actix_web::test]
async fn views_count_submitted_and_accepted_figures_the_moment_they_land() {
    let app = TestApp::spawn().await;
    let assoc = app.client_token("associatie", None).await;
    let a = org(&app, "A", "wmo", &["GM0363"]).await;
    let url = "/api/v1/views/aggregate?indicator=klachten&period=2022";
    let total = |v: Value| v["total"]["value"].clone();
    // A draft does not count.
    let res = app
        .post_json(
            &format!("/api/v1/organisations/{}/submissions", a.id),
            Some(&a.token),
            &json!({"period": "2022", "figures": [{"indicator": "klachten", "value": 5}]}),
        )
        .await;
    let id = res.json()["submissionId"].as_i64().unwrap();
    assert!(total(app.get(url, Some(&assoc)).await.json()).is_null());
    app.post_json(
        &format!("/api/v1/submissions/{id}/submit"),
        Some(&a.token),
        &json!({}),
    )
    .await;
    close(&total(app.get(url, Some(&assoc)).await.json()), 5.0);
    app.post_json(
        &format!("/api/v1/submissions/{id}/accept"),
        Some(&assoc),
        &json!({}),
    )
    .await;
    close(&total(app.get(url, Some(&assoc)).await.json()), 5.0);
    // A submitted correction replaces it at once; returned, the accepted figure is back.
    submit(
        &app,
        &a,
        "2022",
        "associatie",
        json!([{"indicator": "klachten", "value": 6}]),
    )
    .await;
    close(&total(app.get(url, Some(&assoc)).await.json()), 6.0);
    app.post_json(
        &format!("/api/v1/submissions/{id}/return"),
        Some(&assoc),
        &json!({"reason": "Klopt niet met jaarverslag."}),
    )
    .await;
    close(&total(app.get(url, Some(&assoc)).await.json()), 5.0);
    app.post_json(
        &format!("/api/v1/submissions/{id}/withdraw"),
        Some(&a.token),
        &json!({}),
    )
    .await;
    assert!(total(app.get(url, Some(&assoc)).await.json()).is_null());
}

#[actix_web::test]
async fn the_result_does_not_depend_on_the_order_figures_arrived_in() {
    let mut views = Vec::new();
    for order in [[0usize, 1, 2, 3], [3, 1, 0, 2]] {
        let app = TestApp::spawn().await;
        let specs = [
            ("A", "wmo", "GM0363", 30, 100),
            ("B", "jeugd", "GM0344", 7, 50),
            ("C", "wmo", "GM0599", 12, 13),
            ("D", "jeugd", "GM0014", 0, 9),
        ];
        for i in order {
            let (name, tt, m, n, d) = specs[i];
            let o = org(&app, name, tt, &[m]).await;
            submit(
                &app,
                &o,
                "2022",
                "associatie",
                json!([{"indicator": "aandeel_zelfmelders", "numerator": n, "denominator": d}]),
            )
            .await;
        }
        let assoc = app.client_token("associatie", None).await;
        views.push(
            app.get("/api/v1/views/aggregate?indicator=aandeel_zelfmelders&period=2022&groupBy=teamType,sizeClass", Some(&assoc))
                .await
                .json(),
        );
    }
    assert_eq!(views[0], views[1]);
    close(&views[0]["total"]["value"], 100.0 * 49.0 / 172.0);
}

#[actix_web::test]
async fn trend_indexes_to_the_base_year() {
    let app = TestApp::spawn().await;
    let assoc = app.client_token("associatie", None).await;
    let help = org(&app, "Helpt zelf", "jeugd", &["GM0363"]).await;
    let refer = org(&app, "Verwijst", "jeugd", &["GM0344"]).await;
    // Declared "provides help itself" for one of them.
    let admin = app.client_token("admin", None).await;
    app.patch_json(
        &format!("/api/v1/organisations/{}", help.id),
        Some(&admin),
        &json!({"providesHelpDeclared": true}),
    )
    .await;
    app.patch_json(
        &format!("/api/v1/organisations/{}", refer.id),
        Some(&admin),
        &json!({"providesHelpDeclared": false}),
    )
    .await;
    for (year, a, b) in [
        (2017, 100, 200),
        (2018, 95, 198),
        (2019, 92, 195),
        (2020, 90, 190),
    ] {
        submit(
            &app,
            &help,
            &year.to_string(),
            "openbaar",
            json!([
            {"indicator": "jeugd_nieuwe_trajecten_specialistisch_ambulant", "value": a},
            {"indicator": "aandeel_zelfmelders", "numerator": a, "denominator": 400}]),
        )
        .await;
        submit(
            &app,
            &refer,
            &year.to_string(),
            "openbaar",
            json!([
            {"indicator": "jeugd_nieuwe_trajecten_specialistisch_ambulant", "value": b},
            {"indicator": "aandeel_zelfmelders", "numerator": b, "denominator": 400}]),
        )
        .await;
    }
    let v = app
        .get("/api/v1/views/trend?indicator=jeugd_nieuwe_trajecten_specialistisch_ambulant&from=2017&to=2020&base=2017&groupBy=providesHelp", Some(&assoc))
        .await;
    assert_eq!(v.status, 200, "{}", v.text());
    let v = v.json();
    assert_eq!(v["changeUnit"], "percent");
    let series = |h: &str| {
        v["series"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["group"]["providesHelp"] == h)
            .unwrap()
            .clone()
    };
    let yes = series("yes");
    close(&yes["points"][0]["index"], 100.0);
    close(&yes["points"][3]["index"], 90.0);
    close(&yes["points"][3]["change"], -10.0);
    let no = series("no");
    close(&no["points"][3]["index"], 95.0);
    close(&no["points"][3]["change"], -5.0);
    // Percentages change in percentage points.
    let v = app
        .get(
            "/api/v1/views/trend?indicator=aandeel_zelfmelders&from=2017&to=2020",
            Some(&assoc),
        )
        .await
        .json();
    assert_eq!(v["changeUnit"], "percentage_points");
    let pts = &v["series"][0]["points"];
    close(&pts[0]["value"], 100.0 * 300.0 / 800.0);
    close(
        &pts[3]["change"],
        100.0 * 280.0 / 800.0 - 100.0 * 300.0 / 800.0,
    );
    // CSV.
    let csv = app
        .get_accept(
            "/api/v1/views/trend?indicator=aandeel_zelfmelders&from=2017&to=2020",
            "text/csv",
            Some(&assoc),
        )
        .await;
    assert_eq!(
        csv.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let text = csv.text();
    assert!(
        text.starts_with("row,indicator,year,index,change,changeUnit,value,organisations"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 5);
}

#[actix_web::test]
async fn benchmark_places_an_organisation_among_its_peers() {
    let app = TestApp::spawn().await;
    // Eleven large jeugd teams with 10%, 15%, ..., 60% self-registrations, three small ones.
    let large = [
        "GM0363", "GM0344", "GM0599", "GM0518", "GM0772", "GM0855", "GM0034", "GM0546", "GM0268",
        "GM0758", "GM0014",
    ];
    let mut orgs = Vec::new();
    for (i, m) in large.iter().enumerate() {
        let o = org(&app, &format!("Groot {i}"), "jeugd", &[m]).await;
        submit(&app, &o, "2022", "associatie", json!([{"indicator": "aandeel_zelfmelders", "numerator": 10 + 5 * i, "denominator": 100}])).await;
        orgs.push(o);
    }
    for (i, m) in ["GM0088", "GM0093", "GM0096"].iter().enumerate() {
        let o = org(&app, &format!("Klein {i}"), "jeugd", &[m]).await;
        submit(
            &app,
            &o,
            "2022",
            "associatie",
            json!([{"indicator": "aandeel_zelfmelders", "numerator": 80 + i, "denominator": 100}]),
        )
        .await;
    }
    let me = &orgs[6]; // 40%
    let url = format!(
        "/api/v1/views/benchmark?organisation={}&indicator=aandeel_zelfmelders&period=2022",
        me.id
    );
    let v = app.get(&url, Some(&me.token)).await;
    assert_eq!(v.status, 200, "{}", v.text());
    let v = v.json();
    close(&v["value"], 40.0);
    assert_eq!(v["peerGroup"]["teamType"], "jeugd");
    assert_eq!(v["peerGroup"]["sizeClass"], "groot");
    // The peers are the published cell jeugd x groot, this organisation included.
    assert_eq!(v["peers"]["organisations"], 11, "{v}");
    close(&v["peers"]["distribution"]["median"], 35.0);
    assert!(v["peers"]["distribution"]["min"].is_null());
    // 6 of the 10 others are below 40%.
    close(&v["percentileRank"], 60.0);
    close(&v["betterThanPercent"], 60.0);
    let aggregate = app
        .get(
            "/api/v1/views/aggregate?indicator=aandeel_zelfmelders&period=2022&teamType=jeugd&groupBy=sizeClass",
            None,
        )
        .await
        .json();
    let groot = row(&aggregate, "sizeClass", "groot");
    assert_eq!(
        groot["value"], v["peers"]["value"],
        "the same cell everywhere"
    );
    // Another team's unpublished value: 404, the same answer as for no figure at all.
    let other = app.get(&url, Some(&orgs[0].token)).await;
    let other = other.assert_problem(404, "NOT_FOUND");
    let nothing = org(&app, "Zonder cijfers", "jeugd", &["GM0153"]).await;
    let none = app
        .get(
            &format!(
                "/api/v1/views/benchmark?organisation={}&indicator=aandeel_zelfmelders&period=2022",
                nothing.id
            ),
            None,
        )
        .await;
    assert_eq!(
        none.assert_problem(404, "NOT_FOUND")["title"],
        other["title"]
    );
    app.get(&url, None).await.assert_problem(404, "NOT_FOUND");
    // The Associatie sees it.
    let assoc = app.client_token("associatie", None).await;
    let full = app.get(&url, Some(&assoc)).await.json();
    close(&full["value"], 40.0);
    assert_eq!(full["peers"]["publicConfStatus"], "F");
    // Peers are cells of the published tables: no caller-chosen lists.
    app.get(&format!("{url}&peers=province,orgForm"), Some(&me.token))
        .await
        .assert_problem(400, "GROUPING_NOT_PUBLISHED");
    // A published figure can be benchmarked by anyone.
    let public_one = &orgs[2];
    submit(
        &app,
        public_one,
        "2022",
        "openbaar",
        json!([{"indicator": "aandeel_zelfmelders", "numerator": 20, "denominator": 100}]),
    )
    .await;
    let p = app
        .get(
            &format!(
                "/api/v1/views/benchmark?organisation={}&indicator=aandeel_zelfmelders&period=2022",
                public_one.id
            ),
            None,
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text());
    close(&p.json()["value"], 20.0);
    app.get(
        "/api/v1/views/benchmark?organisation=999&indicator=aandeel_zelfmelders&period=2022",
        None,
    )
    .await
    .assert_problem(404, "NOT_FOUND");
}

#[actix_web::test]
async fn completeness_shows_who_reported_what() {
    let app = TestApp::spawn().await;
    let a = org(&app, "A", "wmo", &["GM0363"]).await;
    let b = org(&app, "B", "wmo", &["GM0344"]).await;
    submit(&app, &a, "2022", "associatie", json!([{"indicator": "klachten", "value": 1}, {"indicator": "nieuwe_aanmeldingen", "value": 10}])).await;
    submit(
        &app,
        &b,
        "2022-Q1",
        "associatie",
        json!([{"indicator": "klachten", "value": 1}]),
    )
    .await;
    let assoc = app.client_token("associatie", None).await;
    let v = app
        .get("/api/v1/views/completeness?period=2022", Some(&assoc))
        .await;
    assert_eq!(v.status, 200, "{}", v.text());
    let v = v.json();
    let ind = |code: &str| {
        v["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(ind("klachten")["reported"], 2);
    assert_eq!(ind("klachten")["applicable"], 2);
    close(&ind("klachten")["coverage"], 100.0);
    assert_eq!(ind("nieuwe_aanmeldingen")["reported"], 1);
    assert_eq!(
        ind("jeugd_trajecten_crisis")["applicable"],
        0,
        "youth CBS figures do not apply to wmo teams"
    );
    let orgs = v["organisations"].as_array().unwrap();
    assert_eq!(orgs.len(), 2);
    let row_a = orgs.iter().find(|o| o["id"] == a.id).unwrap();
    assert_eq!(row_a["reported"], 2);
    assert!(
        row_a["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "wachttijd_dagen")
    );
    // A team sees its own row; the public sees coverage only.
    assert_eq!(
        app.get("/api/v1/views/completeness?period=2022", Some(&b.token))
            .await
            .json()["organisations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let public = app
        .get("/api/v1/views/completeness?period=2022", None)
        .await
        .json();
    assert!(public["organisations"].as_array().unwrap().is_empty());
    // Counts of 1 or 2 reporting organisations would point at who reported: withheld.
    for (p, a) in public["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .zip(v["indicators"].as_array().unwrap())
    {
        let r = a["reported"].as_i64().unwrap();
        if (1..3).contains(&r) {
            assert!(p["reported"].is_null() && p["coverage"].is_null(), "{p}");
            assert_eq!(p["confStatus"], "A");
        } else {
            assert_eq!(p, a);
        }
    }
}

#[actix_web::test]
async fn values_per_municipality_for_maps() {
    let app = TestApp::spawn().await;
    let regional = org(&app, "Regio", "wmo", &["GM0344", "GM0353"]).await;
    let local = org(&app, "Lokaal", "wmo", &["GM0363"]).await;
    submit(
        &app,
        &regional,
        "2022",
        "openbaar",
        json!([
        {"indicator": "klachten", "municipality": "GM0344", "value": 4},
        {"indicator": "klachten", "municipality": "GM0353", "value": 2}]),
    )
    .await;
    submit(
        &app,
        &local,
        "2022",
        "associatie",
        json!([{"indicator": "klachten", "value": 9}]),
    )
    .await;
    let assoc = app.client_token("associatie", None).await;
    let v = app
        .get(
            "/api/v1/views/municipalities?indicator=klachten&period=2022",
            Some(&assoc),
        )
        .await;
    assert_eq!(v.status, 200, "{}", v.text());
    let v = v.json();
    let m = |code: &str| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == code)
            .unwrap()
            .clone()
    };
    close(&m("GM0344")["value"], 4.0);
    close(&m("GM0353")["value"], 2.0);
    close(&m("GM0363")["value"], 9.0);
    assert_eq!(m("GM0363")["name"], "Amsterdam");
    // The public sees the published municipalities, not Amsterdam's unpublished figure.
    let p = app
        .get(
            "/api/v1/views/municipalities?indicator=klachten&period=2022",
            None,
        )
        .await
        .json();
    let pm = |code: &str| {
        p["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == code)
            .unwrap()
            .clone()
    };
    close(&pm("GM0344")["value"], 4.0);
    assert_eq!(pm("GM0363")["suppressed"], true);
    let csv = app
        .get(
            "/api/v1/views/municipalities?indicator=klachten&period=2022&format=csv",
            None,
        )
        .await
        .text();
    assert!(
        csv.lines().any(|l| l.contains("GM0344,Utrecht,PV26")),
        "{csv}"
    );
}

#[actix_web::test]
async fn graphql_views_equal_rest_views() {
    let app = TestApp::spawn().await;
    let assoc = app.client_token("associatie", None).await;
    for (i, m) in ["GM0363", "GM0344", "GM0599"].iter().enumerate() {
        let o = org(&app, &format!("T{i}"), "integraal", &[m]).await;
        submit(
            &app,
            &o,
            "2022",
            "associatie",
            json!([{"indicator": "cev_tijdigheid", "value": 70 + i, "respondents": 100 * (i + 1)}]),
        )
        .await;
    }
    let rest = app
        .get(
            "/api/v1/views/aggregate?indicator=cev_tijdigheid&period=2022&groupBy=sizeClass",
            Some(&assoc),
        )
        .await
        .json();
    let data = app
        .gql_ok(
            r#"{ aggregate(indicator: "cev_tijdigheid", period: "2022", groupBy: [SIZE_CLASS]) {
                   total { value respondents organisations }
                   rows { group { sizeClass } value organisations distribution { median } } } }"#,
            json!({}),
            Some(&assoc),
        )
        .await;
    close(
        &data["aggregate"]["total"]["value"],
        rest["total"]["value"].as_f64().unwrap(),
    );
    close(
        &data["aggregate"]["total"]["value"],
        (70.0 * 100.0 + 71.0 * 200.0 + 72.0 * 300.0) / 600.0,
    );
    assert_eq!(data["aggregate"]["rows"][0]["organisations"], 3);
    let body = app
        .gql(
            r#"{ aggregate(indicator: "bestaat_niet", period: "2022") { total { value } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(gql_error_code(&body), "VALIDATION_FAILED");
    let res = app
        .get(
            "/api/v1/views/aggregate?indicator=klachten&period=2022&groupBy=colour",
            None,
        )
        .await;
    assert_eq!(
        res.assert_problem(422, "VALIDATION_FAILED")["errors"][0]["field"],
        "groupBy"
    );
}
