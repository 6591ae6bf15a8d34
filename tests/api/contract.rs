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
