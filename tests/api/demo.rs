//! Issue 6: the synthetic national data set (small here), and the benchmark command.

use serde_json::json;

use crate::common::*;
use basisset::auth::Caller;
use basisset::demo::{DemoOptions, seed};

#[actix_web::test]
async fn the_demo_data_set_is_valid_and_shows_the_studys_patterns() {
    let app = TestApp::spawn().await;
    let state = app.state.clone();
    let opts = DemoOptions::new(40, 2019, Some(2022), 7);
    let report = state
        .db
        .run(move |conn| seed(conn, &state.catalogue, &state.reference, &opts))
        .await
        .unwrap();
    assert_eq!(report.organisations, 40);
    assert!(report.figures > 10_000, "{report:?}");
    // Seeding again is refused: it only fills an empty database.
    let state = app.state.clone();
    let again = state
        .db
        .run(move |conn| {
            seed(
                conn,
                &state.catalogue,
                &state.reference,
                &DemoOptions::new(5, 2020, Some(2020), 1),
            )
        })
        .await;
    assert_eq!(again.unwrap_err().code(), "DATABASE_NOT_EMPTY");

    // A sample of the generated submissions passes the same validation as a post.
    let state = app.state.clone();
    state
        .db
        .run(move |conn| {
            let list = basisset::submissions::list(conn, &Caller::System, &basisset::submissions::SubmissionFilter {
                limit: Some(60),
                ..Default::default()
            })?;
            assert_eq!(list.items.len(), 60);
            for s in list.items.iter().step_by(7) {
                let detail = basisset::submissions::get(conn, &Caller::System, s.id, None)?;
                let org = basisset::registry::organisations::get(conn, &state.reference, s.organisation_id)?;
                let figures: Vec<serde_json::Value> = detail
                    .figures
                    .iter()
                    .map(|f| json!({"indicator": f.indicator, "municipality": f.municipality, "value": f.value,
                        "numerator": f.numerator, "denominator": f.denominator, "respondents": f.respondents, "cases": f.cases}))
                    .collect();
                let raw = basisset::submissions::input::from_json(&json!({"period": s.period.code,
                    "catalogueVersion": detail.revision.catalogue_version, "figures": figures}));
                let ctx = basisset::submissions::validate::Context {
                    catalogue: &state.catalogue,
                    reference: &state.reference,
                    organisation: &org,
                    today: chrono::Utc::now().date_naive(),
                };
                if let Err(issues) = basisset::submissions::validate::validate(raw, &ctx) {
                    panic!("demo submission {} is invalid: {:?}", s.id, &issues.as_slice()[..issues.as_slice().len().min(3)]);
                }
            }
            Ok(())
        })
        .await
        .unwrap();

    // The study's finding: fewer crisis trajectories where teams provide help themselves.
    let assoc = app.client_token("associatie", None).await;
    let v = app
        .get("/api/v1/views/aggregate?indicator=jeugd_trajecten_crisis&period=2020&groupBy=providesHelp", Some(&assoc))
        .await
        .json();
    let value = |h: &str| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["group"]["providesHelp"] == h)
            .unwrap()["value"]
            .as_f64()
            .unwrap()
    };
    assert!(value("yes") < value("no"), "{v}");
    let completeness = app
        .get(
            "/api/v1/views/completeness?period=2021&version=v1",
            Some(&assoc),
        )
        .await
        .json();
    assert!(completeness["overallCoverage"].as_f64().unwrap() > 90.0);
}

#[test]
fn the_benchmark_command_runs() {
    let db = TestDb::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_basisset"))
        .args([
            "--database-url",
            &db.url,
            "--log",
            "warn",
            "bench",
            "all",
            "--seconds",
            "1",
            "--rounds",
            "5",
            "--figures",
            "200",
            "--organisations",
            "8",
            "--clients",
            "2",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("requests/s"), "{stdout}");
    assert!(stdout.contains("figures/s"), "{stdout}");
    assert!(stdout.contains("API ingest reaches"), "{stdout}");
}

#[test]
fn the_peer_benchmark_asks_for_its_peer() {
    let db = TestDb::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_basisset"))
        .args(["--database-url", &db.url, "--log", "warn", "bench", "peer"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("--peer-url"), "{stderr}");
    assert!(stderr.contains("bench/peer/run.sh"), "{stderr}");
}
