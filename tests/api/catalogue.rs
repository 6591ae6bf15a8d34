//! Issue 3: the catalogue and reference data, loaded idempotently, served read-only to everyone.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde_json::json;

use crate::common::*;
use basisset::catalogue::{Catalogue, GOALS_TOML, VERSION_TOMLS};
use basisset::db::schema;
use basisset::registry::Reference;

#[actix_web::test]
async fn catalogue_reads_back_from_the_database_exactly_as_defined() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let from_db = Catalogue::load(&mut conn).unwrap();
    let from_files = Catalogue::builtin().unwrap();
    assert_eq!(from_db.normalized(), from_files.normalized());
    assert!(from_db.check().is_empty());
    let reference = Reference::load(&mut conn).unwrap();
    assert_eq!(reference, Reference::builtin().unwrap());
    // What the service holds is what the database holds.
    assert_eq!(*app.state.catalogue, from_db);
}

#[derive(Debug, PartialEq, Queryable)]
struct VersionState {
    version: String,
    checksum: String,
    loaded_at: chrono::NaiveDateTime,
}

fn table_counts(conn: &mut basisset::db::DbConn) -> BTreeMap<&'static str, i64> {
    let mut m = BTreeMap::new();
    m.insert(
        "goals",
        schema::transformation_goals::table
            .count()
            .get_result(conn)
            .unwrap(),
    );
    m.insert(
        "indicators",
        schema::indicators::table.count().get_result(conn).unwrap(),
    );
    m.insert(
        "provinces",
        schema::provinces::table.count().get_result(conn).unwrap(),
    );
    m.insert(
        "municipalities",
        schema::municipalities::table
            .count()
            .get_result(conn)
            .unwrap(),
    );
    m
}

#[actix_web::test]
async fn restarting_twice_changes_nothing() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let before_counts = table_counts(&mut conn);
    let before: Vec<VersionState> = schema::catalogue_versions::table
        .select((
            schema::catalogue_versions::version,
            schema::catalogue_versions::checksum,
            schema::catalogue_versions::loaded_at,
        ))
        .load(&mut *conn)
        .unwrap();
    let before_catalogue = Catalogue::load(&mut conn).unwrap();
    drop(conn);
    for _ in 0..2 {
        let (state, prepared) =
            basisset::app::build_state(app.state.db.clone(), test_config()).unwrap();
        assert!(prepared.migrations_applied.is_empty());
        assert!(prepared.catalogue_versions_written.is_empty());
        assert_eq!(prepared.reference_rows_written, 0);
        assert_eq!(*state.catalogue, before_catalogue);
    }
    let mut conn = app.conn();
    let after: Vec<VersionState> = schema::catalogue_versions::table
        .select((
            schema::catalogue_versions::version,
            schema::catalogue_versions::checksum,
            schema::catalogue_versions::loaded_at,
        ))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(before_counts, table_counts(&mut conn));
    assert_eq!(before_counts["municipalities"], 342);
    assert_eq!(before_counts["provinces"], 12);
}

#[actix_web::test]
async fn a_later_catalogue_version_loads_beside_the_earlier_ones() {
    let app = TestApp::spawn().await;
    let v3 = include_str!("../fixtures/catalogue-v3.toml");
    let catalogue =
        Catalogue::from_sources(GOALS_TOML, &[VERSION_TOMLS[0], VERSION_TOMLS[1], v3]).unwrap();
    let mut conn = app.conn();
    let written = basisset::db::transaction(&mut conn, |c| catalogue.sync(c)).unwrap();
    assert_eq!(
        written,
        vec!["v3".to_owned()],
        "v1 and v2 are unchanged and skipped"
    );
    let loaded = Catalogue::load(&mut conn).unwrap();
    assert_eq!(loaded.current().version, "v3");
    assert_eq!(loaded.normalized(), catalogue.normalized());
    let v1 = loaded.version("v1").unwrap();
    assert!(v1.indicators.iter().all(|i| !i.retired));
    assert!(!loaded.indicator("v2", "klachten").unwrap().retired);
    assert!(loaded.indicator("v3", "klachten").unwrap().retired);
    // Loading again writes nothing.
    assert!(
        basisset::db::transaction(&mut conn, |c| catalogue.sync(c))
            .unwrap()
            .is_empty()
    );
}

/// An install that holds v1 as loaded before v2 existed (an older checksum, no v2) upgrades in
/// place at the next start: v1's rows stay as they are, v2 is added, and the start after that
/// writes nothing.
#[actix_web::test]
async fn an_install_with_only_v1_takes_v2_at_the_next_start() {
    let app = TestApp::spawn().await;
    let v1_rows = |conn: &mut basisset::db::DbConn| -> Vec<(String, String, Option<String>, bool)> {
        schema::indicators::table
            .filter(schema::indicators::version.eq("v1"))
            .select((
                schema::indicators::code,
                schema::indicators::definition,
                schema::indicators::reference,
                schema::indicators::additive,
            ))
            .order(schema::indicators::code)
            .load(conn)
            .unwrap()
    };
    let mut conn = app.conn();
    let before = v1_rows(&mut conn);
    diesel::delete(schema::indicators::table.filter(schema::indicators::version.eq("v2")))
        .execute(&mut *conn)
        .unwrap();
    diesel::delete(
        schema::catalogue_versions::table.filter(schema::catalogue_versions::version.eq("v2")),
    )
    .execute(&mut *conn)
    .unwrap();
    diesel::update(schema::catalogue_versions::table.find("v1"))
        .set(schema::catalogue_versions::checksum.eq("sha256 of v1.toml, as stored before v2"))
        .execute(&mut *conn)
        .unwrap();
    drop(conn);

    let (state, prepared) =
        basisset::app::build_state(app.state.db.clone(), test_config()).unwrap();
    assert_eq!(prepared.catalogue_versions_written, ["v1", "v2"]);
    assert_eq!(state.catalogue.current().version, "v2");
    assert_eq!(
        state.catalogue.normalized(),
        Catalogue::builtin().unwrap().normalized()
    );
    let mut conn = app.conn();
    assert_eq!(v1_rows(&mut conn), before, "v1 rows are not rewritten");
    assert!(before.iter().all(|(_, _, r, a)| r.is_none() && *a));
    drop(conn);
    let (_, prepared) = basisset::app::build_state(app.state.db.clone(), test_config()).unwrap();
    assert!(prepared.catalogue_versions_written.is_empty());
}

/// v2 is served beside v1 from the database: every v2 indicator (retired ones included) with
/// its source reference and additivity, v1 as released.
#[actix_web::test]
async fn v2_is_served_beside_v1_with_a_source_for_every_indicator() {
    let app = TestApp::spawn().await;
    let versions = app.get("/api/v1/catalogue/versions", None).await.json();
    let names: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["v1", "v2"]);
    assert_eq!(versions[1]["extends"], "v1");

    let v1 = app
        .get("/api/v1/indicators?version=v1&includeRetired=true", None)
        .await
        .json();
    let v1 = v1.as_array().unwrap();
    assert_eq!(v1.len(), 49);
    for i in v1 {
        assert_eq!(i["version"], "v1");
        assert!(i["reference"].is_null(), "v1 as released: {i}");
        assert_eq!(i["additive"], true, "{i}");
        assert_eq!(i["retired"], false, "{i}");
    }

    // Every indicator of every version after v1, with its source; none without.
    let (listed, missing) = indicators_without_a_source(&app).await;
    assert_eq!(listed, 61);
    assert!(
        missing.is_empty(),
        "indicators without a source reference: {missing:?}"
    );

    let active = app.get("/api/v1/indicators", None).await.json();
    assert_eq!(
        active.as_array().unwrap().len(),
        54,
        "v2 is current; 7 retired"
    );
    let reach = app
        .get("/api/v1/indicators/bereik_inwoners", None)
        .await
        .json();
    assert_eq!(reach["version"], "v2");
    assert_eq!(reach["additive"], false);
    assert!(
        reach["acrossOrganisations"]
            .as_str()
            .unwrap()
            .starts_with("not summed"),
        "{reach}"
    );
    assert!(reach["reference"].as_str().unwrap().contains("r. 857"));
    let reach_v1 = app
        .get("/api/v1/indicators/bereik_inwoners?version=v1", None)
        .await
        .json();
    assert_eq!(reach_v1["additive"], true);
    let cost = app
        .get(
            "/api/v1/indicators/jeugd_kosten_specialistisch_per_inwoner",
            None,
        )
        .await
        .json();
    assert_eq!(cost["kind"], "amount");
    assert_eq!(cost["unit"], "euro_per_resident");
    assert_eq!(cost["additive"], false);
    let old = app
        .get("/api/v1/indicators/verwijzingen_specialistisch", None)
        .await
        .json();
    assert_eq!(old["retired"], true);
    assert_eq!(old["direction"], "lower_is_better", "kept as released");
    app.get("/api/v1/indicators/verwijzingen_door_team?version=v1", None)
        .await
        .assert_problem(404, "NOT_FOUND");

    let data = app
        .gql_ok(
            r#"{
                v2: indicators(version: "v2", includeRetired: true) {
                    code reference additive retired acrossOrganisations }
                helpend: indicator(code: "cev_helpend") { definition reference version }
            }"#,
            json!({}),
            None,
        )
        .await;
    let v2 = data["v2"].as_array().unwrap();
    assert_eq!(v2.len(), 61);
    assert!(
        v2.iter()
            .all(|i| i["reference"].as_str().is_some_and(|r| r.len() >= 10))
    );
    assert_eq!(v2.iter().filter(|i| i["retired"] == true).count(), 7);
    assert_eq!(v2.iter().filter(|i| i["additive"] == false).count(), 4);
    assert_eq!(data["helpend"]["version"], "v2");
    assert!(
        data["helpend"]["definition"]
            .as_str()
            .unwrap()
            .contains("76,5%")
    );
}

/// Lists every indicator of every version after v1 as the API serves it (retired ones
/// included) and returns how many there are and which have no source reference (a reference
/// names the study with its line, or a named external source such as CBS).
async fn indicators_without_a_source(app: &TestApp) -> (usize, Vec<String>) {
    let versions = app.get("/api/v1/catalogue/versions", None).await.json();
    let mut missing = Vec::new();
    let mut listed = 0;
    for v in versions
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| !v["extends"].is_null())
    {
        let version = v["version"].as_str().unwrap();
        let list = app
            .get(
                &format!("/api/v1/indicators?version={version}&includeRetired=true"),
                None,
            )
            .await
            .json();
        for i in list.as_array().unwrap() {
            listed += 1;
            let code = i["code"].as_str().unwrap();
            let named = |r: &str| {
                r.trim().len() >= 10
                    && (r.contains("r. ") || r.contains("CBS") || r.contains("Magnée"))
            };
            match i["reference"].as_str() {
                Some(r) if named(r) => {}
                _ => missing.push(format!("{version}/{code}")),
            }
            assert!(i["additive"].is_boolean(), "{i}");
        }
    }
    (listed, missing)
}

/// The check above has teeth: a v2 indicator whose source reference is gone (here: blanked in
/// the database the service reads its catalogue from, as a careless edit would) is reported by
/// name, and so is one whose reference names no source.
#[actix_web::test]
async fn an_indicator_without_a_source_reference_fails_the_catalogue_check() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let at = |code: &'static str| {
        schema::indicators::table
            .filter(schema::indicators::version.eq("v2"))
            .filter(schema::indicators::code.eq(code))
    };
    diesel::update(at("cev_helpend"))
        .set(schema::indicators::reference.eq(None::<String>))
        .execute(&mut *conn)
        .unwrap();
    diesel::update(at("klachten"))
        .set(schema::indicators::reference.eq(Some("zie jaarverslag")))
        .execute(&mut *conn)
        .unwrap();
    drop(conn);
    let (state, _) = basisset::app::build_state(app.state.db.clone(), test_config()).unwrap();
    let changed = TestApp::from_state(state, app.db.share()).await;
    let (listed, mut missing) = indicators_without_a_source(&changed).await;
    missing.sort();
    assert_eq!(listed, 61);
    assert_eq!(missing, ["v2/cev_helpend", "v2/klachten"]);
    // The loader's own check refuses the same in a catalogue file.
    let bare = basisset::catalogue::VERSION_TOMLS[1].replacen("reference = ", "# reference = ", 1);
    let err = Catalogue::from_sources(GOALS_TOML, &[VERSION_TOMLS[0], &bare]).unwrap_err();
    assert!(err.contains("needs a source reference"), "{err}");
}

/// Figures keep the catalogue version they were posted under: a v1 indicator retired in v2 can
/// still be posted under v1 (and is stored as v1), not under v2; a new v2 indicator is not in v1.
#[actix_web::test]
async fn figures_keep_the_catalogue_version_they_were_posted_under() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let path = format!("/api/v1/organisations/{}/submissions", f.org_a);
    let v1_body = json!({
        "period": "2023", "publication": "openbaar", "catalogueVersion": "v1",
        "figures": [
            {"indicator": "verwijzingen_specialistisch", "value": 120},
            {"indicator": "jeugd_aandeel_verwijzingen_team", "numerator": 33, "denominator": 100},
            {"indicator": "aandeel_zelfmelders", "numerator": 40, "denominator": 100}
        ]
    });
    let res = app.post_json(&path, Some(&f.team_a), &v1_body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let out = res.json();
    assert_eq!(out["catalogueVersion"], "v1");
    let id = out["submissionId"].as_i64().unwrap();
    let detail = app
        .get(&format!("/api/v1/submissions/{id}"), Some(&f.team_a))
        .await
        .json();
    assert_eq!(detail["revision"]["catalogueVersion"], "v1", "{detail}");
    let stored: Vec<String> = {
        use basisset::db::schema::figures;
        let mut conn = app.conn();
        figures::table
            .filter(figures::submission_id.eq(id))
            .select(figures::catalogue_version)
            .load(&mut *conn)
            .unwrap()
    };
    assert_eq!(stored, ["v1", "v1", "v1"]);

    // The same retired indicator under the current version (v2) is refused.
    let res = app
        .post_json(
            &path,
            Some(&f.team_a),
            &json!({"period": "2024", "figures": [
                {"indicator": "verwijzingen_specialistisch", "value": 120}]}),
        )
        .await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["code"], "indicator_retired", "{body}");
    // Its successor is a v2 indicator, unknown in v1.
    let res = app
        .post_json(
            &path,
            Some(&f.team_a),
            &json!({"period": "2024", "catalogueVersion": "v1", "figures": [
                {"indicator": "verwijzingen_door_team", "value": 120}]}),
        )
        .await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["code"], "unknown_indicator", "{body}");
    // And under v2 it is accepted, stored as v2.
    let res = app
        .post_json(
            &path,
            Some(&f.team_a),
            &json!({"period": "2024", "figures": [
                {"indicator": "verwijzingen_door_team", "value": 120},
                {"indicator": "jeugd_kosten_specialistisch_per_inwoner", "value": 412.37,
                 "municipality": "GM0344"}]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["catalogueVersion"], "v2");
}

#[actix_web::test]
async fn rest_lists_and_filters_indicators() {
    let app = TestApp::spawn().await;
    let all = app.get("/api/v1/indicators", None).await;
    assert_eq!(all.status, 200);
    let all = all.json();
    let list = all.as_array().unwrap();
    assert!(list.len() >= 35);
    let first = &list[0];
    for field in [
        "code",
        "labelNl",
        "labelEn",
        "definition",
        "goal",
        "kind",
        "unit",
        "direction",
        "periodTypes",
        "source",
        "teamTypes",
        "acrossOrganisations",
        "acrossPeriods",
        "version",
        "reference",
        "additive",
    ] {
        assert!(
            first.get(field).is_some(),
            "indicator lacks {field}: {first}"
        );
    }

    let ratios = app
        .get(
            "/api/v1/indicators?kind=ratio&goal=preventie_eigen_kracht",
            None,
        )
        .await
        .json();
    let ratios = ratios.as_array().unwrap();
    assert!(!ratios.is_empty());
    for i in ratios {
        assert_eq!(i["kind"], "ratio");
        assert_eq!(i["goal"], "preventie_eigen_kracht");
        assert!(i["numerator"].is_string() && i["denominator"].is_string());
    }

    let body = app
        .get("/api/v1/indicators?kind=avg", None)
        .await
        .assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["field"], "kind");
    let body = app
        .get("/api/v1/indicators?version=v9", None)
        .await
        .assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["code"], "unknown_catalogue_version");

    let one = app.get("/api/v1/indicators/cev_helpend", None).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["kind"], "survey");
    app.get("/api/v1/indicators/no_such_indicator", None)
        .await
        .assert_problem(404, "NOT_FOUND");
}

#[actix_web::test]
async fn rest_lists_municipalities() {
    let app = TestApp::spawn().await;
    let res = app
        .get("/api/v1/municipalities?province=PV27&sizeClass=groot", None)
        .await;
    assert_eq!(res.status, 200);
    let list = res.json();
    let codes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"GM0363"), "{codes:?}");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|m| m["province"] == "PV27"
                && m["sizeClass"] == "groot"
                && m["population"].as_i64().unwrap() > 100_000)
    );
    let one = app.get("/api/v1/municipalities/GM0088", None).await.json();
    assert_eq!(one["name"], "Schiermonnikoog");
    assert_eq!(one["sizeClass"], "klein");
    assert_eq!(one["year"], 2024);
    app.get("/api/v1/municipalities/GM9999", None)
        .await
        .assert_problem(404, "NOT_FOUND");
    app.get("/api/v1/municipalities?province=PV99", None)
        .await
        .assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(
        app.get("/api/v1/provinces", None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        12
    );
}

#[actix_web::test]
async fn graphql_serves_the_catalogue() {
    let app = TestApp::spawn().await;
    let data = app
        .gql_ok(
            r#"query($goal: String) {
                transformationGoals { code position labelNl }
                indicators(goal: $goal, kind: SURVEY) { code kind unit periodTypes teamTypes }
                indicator(code: "aandeel_zelfmelders") { code kind numerator denominator direction }
                missing: indicator(code: "nope") { code }
                municipalities(province: "PV21", sizeClass: KLEIN) { code name sizeClass }
                municipality(code: "GM0363") { name province population sizeClass year }
                catalogueVersions { version checksum }
            }"#,
            json!({ "goal": "eerder_juiste_hulp" }),
            None,
        )
        .await;
    assert_eq!(data["transformationGoals"].as_array().unwrap().len(), 5);
    let surveys = data["indicators"].as_array().unwrap();
    assert!(surveys.len() >= 5);
    assert!(
        surveys
            .iter()
            .all(|i| i["kind"] == "SURVEY" && i["unit"] == "PERCENT")
    );
    assert_eq!(data["indicator"]["kind"], "RATIO");
    assert!(data["missing"].is_null());
    assert!(
        data["municipalities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["code"] == "GM0088")
    );
    assert_eq!(data["municipality"]["name"], "Amsterdam");
    assert_eq!(data["municipality"]["sizeClass"], "GROOT");
    assert_eq!(data["catalogueVersions"][0]["version"], "v1");

    let body = app
        .gql(
            r#"{ indicators(goal: "geen_doel") { code } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(gql_error_code(&body), "VALIDATION_FAILED");
    assert_eq!(
        body["errors"][0]["extensions"]["errors"][0]["code"],
        "unknown_goal"
    );
}
