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
async fn a_second_catalogue_version_loads_beside_the_first() {
    let app = TestApp::spawn().await;
    let v2 = include_str!("../fixtures/catalogue-v2.toml");
    let catalogue = Catalogue::from_sources(GOALS_TOML, &[VERSION_TOMLS[0], v2]).unwrap();
    let mut conn = app.conn();
    let written = basisset::db::transaction(&mut conn, |c| catalogue.sync(c)).unwrap();
    assert_eq!(
        written,
        vec!["v2".to_owned()],
        "v1 is unchanged and skipped"
    );
    let loaded = Catalogue::load(&mut conn).unwrap();
    assert_eq!(loaded.current().version, "v2");
    assert_eq!(loaded.normalized(), catalogue.normalized());
    let v1 = loaded.version("v1").unwrap();
    assert!(v1.indicators.iter().all(|i| !i.retired));
    assert!(loaded.indicator("v2", "klachten").unwrap().retired);
    // Loading again writes nothing.
    assert!(
        basisset::db::transaction(&mut conn, |c| catalogue.sync(c))
            .unwrap()
            .is_empty()
    );
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
