//! Issue 15: roll-ups. Views read roll-ups (counted figures summed per organisation, indicator,
//! period, municipality and publication level), kept in the transaction of every change of what
//! counts and equal to a recomputation after each one; `basisset rollup check|rebuild`. And the
//! finer invalidation: a submission invalidates only the views of its own indicators and year.

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::*;

fn submissions_path(org: i64) -> String {
    format!("/api/v1/organisations/{org}/submissions")
}

fn assert_rollups_equal(app: &TestApp, step: &str) {
    let mut conn = app.conn();
    let differences = basisset::rollups::check(&mut conn).unwrap();
    assert!(
        differences.is_empty(),
        "after {step}: roll-ups differ from a recomputation: {differences:#?}"
    );
}

async fn national(app: &TestApp, token: &str, indicator: &str, period: &str) -> Value {
    let res = app
        .get(
            &format!("/api/v1/views/aggregate?indicator={indicator}&period={period}"),
            Some(token),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["total"]["value"].clone()
}

fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_basisset"))
        .args(["--database-url", &app.db.url, "--log", "warn"])
        .args(args)
        .output()
        .unwrap()
}

/// Every step of the workflow (draft, submit, accept, a submitted correction, return,
/// withdrawal, quarters, per-municipality figures) leaves the roll-ups equal to a recomputation
/// from the counted figures; views read the roll-ups (a tampered roll-up shows in the view,
/// `rollup check` finds it and exits non-zero, `rollup rebuild` repairs it).
#[actix_web::test]
async fn rollups_follow_every_change_of_what_counts_and_views_read_them() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let regional = app
        .create_org("Regio Team", "integraal", &["GM0344", "GM0353"])
        .await;
    let regional_token = app.client_token("team", Some(regional)).await;
    assert_rollups_equal(&app, "start");

    let body = |value: f64| {
        json!({
            "period": "2023",
            "publication": "openbaar",
            "figures": [
                {"indicator": "nieuwe_aanmeldingen", "value": value},
                {"indicator": "wachtlijst_inwoners", "value": 35},
                {"indicator": "aandeel_zelfmelders", "numerator": 480, "denominator": 1200},
                {"indicator": "cev_helpend", "value": 74.5, "respondents": 1939},
                {"indicator": "wachttijd_dagen", "value": 12.25, "cases": 800}
            ]
        })
    };
    let res = app
        .post_json(&submissions_path(f.org_a), Some(&f.team_a), &body(1200.0))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["submissionId"].as_i64().unwrap();
    let act = |what: &str| format!("/api/v1/submissions/{id}/{what}");
    assert_rollups_equal(&app, "a draft");
    assert!(
        national(&app, &f.associatie, "nieuwe_aanmeldingen", "2023")
            .await
            .is_null(),
        "a draft does not count"
    );

    let res = app
        .post_json(&act("submit"), Some(&f.team_a), &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_rollups_equal(&app, "submit");
    assert_eq!(
        national(&app, &f.associatie, "nieuwe_aanmeldingen", "2023").await,
        1200.0
    );
    app.post_json(&act("accept"), Some(&f.associatie), &json!({}))
        .await;
    assert_rollups_equal(&app, "accept");

    // A submitted correction replaces the accepted figures at once...
    let res = app
        .post_json(
            &format!("{}?submit=true", submissions_path(f.org_a)),
            Some(&f.team_a),
            &body(1300.0),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_rollups_equal(&app, "a submitted correction");
    assert_eq!(
        national(&app, &f.associatie, "nieuwe_aanmeldingen", "2023").await,
        1300.0
    );
    // ...returned, the accepted revision counts again.
    let res = app
        .post_json(
            &act("return"),
            Some(&f.associatie),
            &json!({"reason": "Wijkt af van het jaarverslag."}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_rollups_equal(&app, "return");
    assert_eq!(
        national(&app, &f.associatie, "nieuwe_aanmeldingen", "2023").await,
        1200.0
    );

    // Quarters of another organisation, and per-municipality figures of a regional one.
    for q in 1..=4 {
        let res = app
            .post_json(
                &format!("{}?submit=true", submissions_path(f.org_b)),
                Some(&f.team_b),
                &json!({"period": format!("2023-Q{q}"), "publication": "associatie",
                        "figures": [{"indicator": "nieuwe_aanmeldingen", "value": 10 * q}]}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let res = app
        .post_json(
            &format!("{}?submit=true", submissions_path(regional)),
            Some(&regional_token),
            &json!({"period": "2023", "publication": "openbaar", "figures": [
                {"indicator": "nieuwe_aanmeldingen", "municipality": "GM0344", "value": 7},
                {"indicator": "nieuwe_aanmeldingen", "municipality": "GM0353", "value": 5}]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_rollups_equal(&app, "quarters and municipalities");
    assert_eq!(
        national(&app, &f.associatie, "nieuwe_aanmeldingen", "2023").await,
        1200.0 + 100.0 + 12.0
    );

    // Withdrawal: nothing of it counts any more.
    let res = app
        .post_json(
            &act("withdraw"),
            Some(&f.team_a),
            &json!({"reason": "Dubbel ingestuurd"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_rollups_equal(&app, "withdraw");
    assert_eq!(
        national(&app, &f.associatie, "nieuwe_aanmeldingen", "2023").await,
        112.0
    );
    let out = cli(&app, &["rollup", "check"]);
    assert!(out.status.success(), "{out:?}");

    // Views read the roll-ups: tamper with the year roll-up of the regional organisation (and
    // announce a change so caches move on): the national figure of the year moves.
    let tamper = |sql: String| {
        let mut conn = app.conn();
        diesel::sql_query(sql).execute(&mut *conn).unwrap();
        basisset::db::transaction(&mut conn, basisset::db::versions::bump_registry).unwrap();
    };
    tamper(format!(
        "UPDATE figure_rollup_years SET value_sum = value_sum + 1000 \
         WHERE indicator = 'nieuwe_aanmeldingen' AND year = 2023 AND organisation_id = {regional}"
    ));
    assert_eq!(
        national(&app, &f.associatie, "nieuwe_aanmeldingen", "2023").await,
        1112.0,
        "the view of a year is computed from the year roll-ups, not from the figures"
    );
    let out = cli(&app, &["rollup", "check"]);
    assert!(
        !out.status.success(),
        "check finds the tampered year roll-up"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let differences = report["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{report}");
    assert!(
        differences[0]
            .as_str()
            .unwrap()
            .contains(&format!("year roll-up: organisation {regional}")),
        "{report}"
    );
    // A roll-up of one municipality: the per-municipality view reads it, check finds it too.
    let gm0344 = || async {
        let res = app
            .get(
                "/api/v1/views/municipalities?indicator=nieuwe_aanmeldingen&period=2023",
                Some(&f.associatie),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == "GM0344")
            .map(|r| r["value"].as_f64().unwrap())
            .unwrap()
    };
    let before = gm0344().await;
    tamper(
        "UPDATE figure_rollups SET value_sum = value_sum + 1000 \
         WHERE indicator = 'nieuwe_aanmeldingen' AND period_type = 'year' \
         AND municipality = 'GM0344'"
            .into(),
    );
    assert_eq!(gm0344().await, before + 1000.0);
    let out = cli(&app, &["rollup", "check"]);
    assert!(!out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let differences = report["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 2, "{report}");
    assert!(
        differences
            .iter()
            .any(|d| d.as_str().unwrap().contains("GM0344")),
        "{report}"
    );

    let out = cli(&app, &["rollup", "rebuild"]);
    assert!(out.status.success(), "{out:?}");
    assert_rollups_equal(&app, "rebuild");
    assert_eq!(
        national(&app, &f.associatie, "nieuwe_aanmeldingen", "2023").await,
        112.0,
        "rebuilt, and the service sees it at once"
    );
}

/// A submission invalidates the cached views of its own indicators in its own year only: views
/// of other indicators and other years are answered from the cache, the touched ones show the
/// new figures at once.
#[actix_web::test]
async fn a_submission_invalidates_only_its_own_indicators_and_year() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    for (org, token) in [(f.org_a, &f.team_a), (f.org_b, &f.team_b)] {
        for year in ["2022", "2023"] {
            let res = app
                .post_json(
                    &format!("{}?submit=true", submissions_path(org)),
                    Some(token),
                    &json!({"period": year, "publication": "openbaar", "figures": [
                        {"indicator": "nieuwe_aanmeldingen", "value": 100},
                        {"indicator": "formatie_fte", "value": 10}]}),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
        }
    }
    let cache = app.state.view_cache.clone();
    let views = [
        ("nieuwe_aanmeldingen", "2023"),
        ("nieuwe_aanmeldingen", "2022"),
        ("formatie_fte", "2023"),
    ];
    for (ind, period) in views {
        national(&app, &f.associatie, ind, period).await;
    }
    // Organisation A corrects its 2023 intake only.
    let res = app
        .post_json(
            &format!("{}?submit=true", submissions_path(f.org_a)),
            Some(&f.team_a),
            &json!({"period": "2023", "publication": "openbaar", "figures": [
                {"indicator": "nieuwe_aanmeldingen", "value": 150},
                {"indicator": "formatie_fte", "value": 10}]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    // Untouched: the same indicator in another year, answered from the cache.
    let (hits, misses) = cache.counts();
    assert_eq!(
        national(&app, &f.associatie, "nieuwe_aanmeldingen", "2022").await,
        200.0
    );
    assert_eq!(cache.counts(), (hits + 1, misses), "2022 stays cached");
    // Touched: the new value at once.
    assert_eq!(
        national(&app, &f.associatie, "nieuwe_aanmeldingen", "2023").await,
        250.0
    );
    assert_eq!(cache.counts(), (hits + 1, misses + 1), "2023 is recomputed");
    // formatie_fte 2023 was in the correction too (same value, new revision): recomputed.
    assert_eq!(
        national(&app, &f.associatie, "formatie_fte", "2023").await,
        20.0
    );
    assert_eq!(cache.counts().1, misses + 2);
    // A registry change invalidates everything (every grouping depends on it).
    app.create_org("Nieuw Team", "jeugd", &["GM0363"]).await;
    let (hits, misses) = cache.counts();
    national(&app, &f.associatie, "nieuwe_aanmeldingen", "2022").await;
    assert_eq!(cache.counts(), (hits, misses + 1));
}

/// On PostgreSQL every instance keeps the versions in memory, told of each commit by
/// LISTEN/NOTIFY: a cached view is answered without the database (even with every pooled
/// connection taken), and a commit on one instance shows at once on the other.
#[actix_web::test]
async fn on_postgresql_cached_views_need_no_database_and_every_instance_hears_of_changes_at_once() {
    let config = test_config();
    let a = TestApp::spawn_with(config.clone()).await;
    if a.db.backend != basisset::db::Backend::Postgres {
        return; // SQLite is one instance; it reads its data version per request (in-process)
    }
    let b = a.another_instance(config).await;
    a.state.start_background();
    b.state.start_background();
    let started = std::time::Instant::now();
    while !(a.state.view_cache.versions().trusted() && b.state.view_cache.versions().trusted()) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "listeners up"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let f = a.fixture().await;
    for i in 0..30 {
        let (writer, reader) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        // The reader has the previous value cached...
        if i > 0 {
            assert_eq!(
                national(reader, &f.associatie, "nieuwe_aanmeldingen", "2023").await,
                (1000 + i - 1) as f64
            );
        }
        let res = writer
            .post_json(
                &format!("{}?submit=true", submissions_path(f.org_a)),
                Some(&f.team_a),
                &json!({"period": "2023", "publication": "openbaar", "figures": [
                    {"indicator": "nieuwe_aanmeldingen", "value": 1000 + i}]}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        // ...and sees the other instance's commit at once.
        assert_eq!(
            national(reader, &f.associatie, "nieuwe_aanmeldingen", "2023").await,
            (1000 + i) as f64,
            "round {i}: the reader sees the writer's commit"
        );
    }

    // Every pooled connection of b taken: a cached public view still answers, from memory.
    // (A token is checked against its client's row on every request, so that revocation takes
    // effect at once: signed-in requests do need the database.)
    let path = "/api/v1/views/aggregate?indicator=nieuwe_aanmeldingen&period=2023";
    let before = b.get(path, None).await;
    assert_eq!(before.status, 200, "{}", before.text());
    let held: Vec<_> = (0..4).map(|_| b.state.db.get().unwrap()).collect();
    let res = b.get(path, None).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json(), before.json());
    // A view not in the cache needs the database, and cannot have it (which shows the test can
    // tell the two apart).
    let res = b
        .get(
            "/api/v1/views/aggregate?indicator=nieuwe_aanmeldingen&period=2022",
            None,
        )
        .await;
    assert_eq!(res.status, 503, "{}", res.text());
    drop(held);
    drop(b);
}

/// While protected families are being rebuilt (a busy reporting deadline), a reader whose family
/// changed gets the previous protected family at once instead of waiting, that answer is neither
/// cached nor tagged for revalidation, and the new family is built in the background: the public
/// sees the new figure moments later. The Associatie's exact figures are new at once.
#[actix_web::test]
async fn while_families_are_rebuilt_readers_get_the_previous_one_and_the_new_one_follows() {
    let app = TestApp::spawn().await;
    app.state.start_background();
    let assoc = app.client_token("associatie", None).await;
    let mut orgs = Vec::new();
    for (i, (m, v)) in [
        ("GM0363", 100),
        ("GM0344", 110),
        ("GM0599", 120),
        ("GM0518", 130),
    ]
    .into_iter()
    .enumerate()
    {
        let id = app
            .create_org(&format!("Team {i}"), "integraal", &[m])
            .await;
        let token = app.client_token("team", Some(id)).await;
        let res = app
            .post_json(
                &format!("{}?submit=true", submissions_path(id)),
                Some(&token),
                &json!({"period": "2023", "publication": "openbaar",
                        "figures": [{"indicator": "nieuwe_aanmeldingen", "value": v}]}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        orgs.push((id, token));
    }
    let path = "/api/v1/views/aggregate?indicator=nieuwe_aanmeldingen&period=2023";
    let public = |res: &Resp| res.json()["total"]["value"].clone();
    let first = app.get(path, None).await;
    assert_eq!(public(&first), 460.0, "{}", first.text());
    assert!(first.header("etag").is_some());

    // Another family is being rebuilt; meanwhile organisation 0 corrects its figure.
    assert!(
        app.state
            .view_cache
            .begin_rebuild(&["another family".to_owned()])
    );
    let (id, token) = &orgs[0];
    let res = app
        .post_json(
            &format!("{}?submit=true", submissions_path(*id)),
            Some(token),
            &json!({"period": "2023", "publication": "openbaar",
                    "figures": [{"indicator": "nieuwe_aanmeldingen", "value": 200}]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let stale = app.get(path, None).await;
    assert_eq!(stale.status, 200);
    assert_eq!(public(&stale), 460.0, "the previous family, at once");
    assert!(
        stale.header("etag").is_none(),
        "not tagged for revalidation"
    );
    assert_eq!(
        national(&app, &assoc, "nieuwe_aanmeldingen", "2023").await,
        560.0,
        "the Associatie's exact figure is new at once"
    );
    app.state.view_cache.end_rebuild("another family");
    // The new family is built in the background; the public sees it moments later.
    let started = std::time::Instant::now();
    loop {
        let res = app.get(path, None).await;
        if public(&res) == 560.0 {
            assert!(res.header("etag").is_some());
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the new family follows: {}",
            res.text()
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(app.state.view_cache.stale_served() >= 1);
}

/// What a cached view depends on is worked out before the query is checked: a trend over an
/// absurd span of years (schemathesis sent from=-2147483648&to=2147483646) must be refused at
/// once, not listed year by year.
#[actix_web::test]
async fn an_absurd_span_of_years_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let res = app
        .get(
            "/api/v1/views/trend?indicator=klachten&from=-2147483648&to=2147483646&base=-2147483648",
            None,
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let res = app
        .get(
            "/api/v1/views/trend?indicator=klachten&from=0&to=3317765",
            None,
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
}

/// Pooling reads the roll-ups with statements prepared once per connection: with the view cache
/// off and one pooled connection, every computed view of the Associatie (aggregates, trends,
/// benchmarks, per municipality; different indicators, years and groupings) executes one of a
/// few prepared roll-up statements, none is parsed per request. Read from PostgreSQL's
/// `pg_prepared_statements` (how often each was executed), so the test fails on statements
/// diesel does not cache (`sql()` fragments, `sql_query`), which never appear there.
#[actix_web::test]
async fn computed_views_execute_prepared_statements_not_a_parse_per_request() {
    let db = TestDb::new();
    if db.backend != basisset::db::Backend::Postgres {
        return; // SQLite's statement cache cannot be read from SQL; the views are the same
    }
    let mut config = test_config();
    config.views.view_cache_entries = 0;
    let (state, _) = basisset::app::build_state(db.connect(1), config).expect("start-up");
    let app = TestApp::from_state(state, db).await;
    let f = app.fixture().await;
    for (year, value) in [("2022", 900.0), ("2023", 1200.0)] {
        let res = app
            .post_json(
                &format!("{}?submit=true", submissions_path(f.org_a)),
                Some(&f.team_a),
                &json!({"period": year, "publication": "openbaar", "figures": [
                    {"indicator": "nieuwe_aanmeldingen", "value": value},
                    {"indicator": "aandeel_zelfmelders", "numerator": 480, "denominator": 1200},
                    {"indicator": "wachttijd_dagen", "value": 12.25, "cases": 800}
                ]}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let executions = |app: &TestApp| -> (i64, i64) {
        #[derive(QueryableByName)]
        struct P {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            statements: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            executed: i64,
        }
        let mut conn = app.conn();
        let p: P = diesel::sql_query(
            "SELECT COUNT(*) AS statements, \
             COALESCE(SUM(generic_plans + custom_plans), 0)::bigint AS executed \
             FROM pg_prepared_statements WHERE statement LIKE '%FROM figure_rollup%'",
        )
        .get_result(&mut *conn)
        .unwrap();
        (p.statements, p.executed)
    };
    let before = executions(&app);
    let mut views = 0;
    for indicator in [
        "nieuwe_aanmeldingen",
        "aandeel_zelfmelders",
        "wachttijd_dagen",
    ] {
        for path in [
            format!("/api/v1/views/aggregate?indicator={indicator}&period=2023"),
            format!("/api/v1/views/aggregate?indicator={indicator}&period=2022&groupBy=teamType"),
            format!("/api/v1/views/trend?indicator={indicator}&from=2022&to=2023"),
            format!(
                "/api/v1/views/benchmark?indicator={indicator}&period=2023&organisation={}",
                f.org_a
            ),
        ] {
            let res = app.get(&path, Some(&f.associatie)).await;
            assert_eq!(res.status, 200, "{path}: {}", res.text());
            views += 1;
        }
    }
    let (statements, executed) = executions(&app);
    assert!(
        (1..=12).contains(&statements),
        "a few fixed roll-up statements, prepared once each (found {statements})"
    );
    assert!(
        executed - before.1 >= views,
        "each of the {views} computed views executed a prepared roll-up statement \
         ({} executions)",
        executed - before.1
    );
}

/// Distinct exact views of one indicator and year (other groupings, filters, a benchmark) pool
/// the same summed roll-ups without reading them again; a submission to that indicator and year
/// makes the next one read them again, and it shows the new figure. The reads are counted from
/// `pg_prepared_statements` on PostgreSQL; the figures are checked on both backends.
#[actix_web::test]
async fn distinct_views_of_one_indicator_and_year_share_their_rollups_until_a_change() {
    let db = TestDb::new();
    let postgres = db.backend == basisset::db::Backend::Postgres;
    let (state, _) = basisset::app::build_state(db.connect(1), test_config()).expect("start-up");
    let app = TestApp::from_state(state, db).await;
    let f = app.fixture().await;
    let post = |org: i64, token: String, value: f64| {
        let app = &app;
        async move {
            let res = app
                .post_json(
                    &format!("{}?submit=true", submissions_path(org)),
                    Some(&token),
                    &json!({"period": "2023", "publication": "openbaar",
                            "figures": [{"indicator": "nieuwe_aanmeldingen", "value": value}]}),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
        }
    };
    post(f.org_a, f.team_a.clone(), 1200.0).await;
    let reads = |app: &TestApp| -> i64 {
        if !postgres {
            return 0;
        }
        #[derive(QueryableByName)]
        struct P {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            executed: i64,
        }
        let mut conn = app.conn();
        diesel::sql_query(
            "SELECT COALESCE(SUM(generic_plans + custom_plans), 0)::bigint AS executed \
             FROM pg_prepared_statements WHERE statement LIKE '%FROM figure_rollup%'",
        )
        .get_result::<P>(&mut *conn)
        .unwrap()
        .executed
    };
    let total = |path: String| {
        let app = &app;
        let token = f.associatie.clone();
        async move {
            let res = app.get(&path, Some(&token)).await;
            assert_eq!(res.status, 200, "{path}: {}", res.text());
            res.json()
        }
    };
    let v = total("/api/v1/views/aggregate?indicator=nieuwe_aanmeldingen&period=2023".into()).await;
    assert_eq!(v["total"]["value"], 1200.0);
    let first = reads(&app);
    assert!(!postgres || first >= 1, "the first view reads the roll-ups");
    for path in [
        "/api/v1/views/aggregate?indicator=nieuwe_aanmeldingen&period=2023&groupBy=teamType"
            .to_owned(),
        "/api/v1/views/aggregate?indicator=nieuwe_aanmeldingen&period=2023&groupBy=providesHelp"
            .to_owned(),
        format!(
            "/api/v1/views/benchmark?indicator=nieuwe_aanmeldingen&period=2023&organisation={}",
            f.org_a
        ),
    ] {
        total(path).await;
    }
    assert_eq!(
        reads(&app),
        first,
        "other groupings and a benchmark of the same indicator and year read no roll-ups again"
    );
    post(f.org_b, f.team_b.clone(), 300.0).await;
    let v = total(
        "/api/v1/views/aggregate?indicator=nieuwe_aanmeldingen&period=2023&groupBy=orgForm".into(),
    )
    .await;
    assert_eq!(
        v["total"]["value"], 1500.0,
        "the new figure counts at once: {v}"
    );
    assert!(
        !postgres || reads(&app) > first,
        "after a submission to the indicator and year the roll-ups are read again"
    );
}
