//! Issue 2: health, readiness, problem+json for unknown routes, configuration.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::RunQueryDsl;

use crate::common::*;
use basisset::db::Backend;

#[actix_web::test]
async fn healthz_and_readyz_answer() {
    let app = TestApp::spawn().await;
    let res = app.get("/healthz", None).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["status"], "ok");
    assert!(res.header("x-request-id").is_some(), "request id header");

    let res = app.get("/readyz", None).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let expected = match app.db.backend {
        Backend::Postgres => "postgresql",
        Backend::Sqlite => "sqlite",
    };
    assert_eq!(res.json()["database"], expected);
}

#[actix_web::test]
async fn readyz_is_503_while_a_migration_is_missing() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let newest: String = diesel::sql_query(
        "SELECT version FROM __diesel_schema_migrations ORDER BY version DESC LIMIT 1",
    )
    .load::<Version>(&mut *conn)
    .unwrap()
    .remove(0)
    .version;
    diesel::sql_query(format!(
        "DELETE FROM __diesel_schema_migrations WHERE version = '{newest}'"
    ))
    .execute(&mut *conn)
    .unwrap();
    drop(conn);
    app.get("/readyz", None)
        .await
        .assert_problem(503, "SERVICE_UNAVAILABLE");
    let mut conn = app.conn();
    diesel::sql_query(format!(
        "INSERT INTO __diesel_schema_migrations (version) VALUES ('{newest}')"
    ))
    .execute(&mut *conn)
    .unwrap();
    drop(conn);
    assert_eq!(app.get("/readyz", None).await.status, 200);
}

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

#[actix_web::test]
async fn unknown_routes_are_problem_json() {
    let app = TestApp::spawn().await;
    let body = app
        .get("/no/such/thing", None)
        .await
        .assert_problem(404, "NOT_FOUND");
    assert_eq!(body["type"], "urn:basisset:problem:not_found");
    assert!(body["detail"].as_str().unwrap().contains("/no/such/thing"));
}

/// A TCP proxy in front of PostgreSQL that the test can cut and restore.
struct Proxy {
    addr: String,
    up: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let up = Arc::new(AtomicBool::new(true));
        let live: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (up2, live2) = (up.clone(), live.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut l = live2.lock().unwrap();
                l.push(client.try_clone().unwrap());
                l.push(server.try_clone().unwrap());
                drop(l);
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Proxy { addr, up, live }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.live.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

/// PostgreSQL goes away: /readyz says 503; it comes back: 200 again, without a restart.
#[actix_web::test]
async fn readyz_follows_postgres_going_away_and_coming_back() {
    let db = TestDb::new();
    let Some(upstream) = db.pg_host_port() else {
        eprintln!("PostgreSQL only (set {PG_ENV}); skipped on SQLite");
        return;
    };
    // Migrate directly, then run the service through the proxy.
    let direct = db.connect(1);
    basisset::app::build_state(direct, test_config()).unwrap();
    let proxy = Proxy::start(upstream);
    let url = db.pg_url_via(&proxy.addr).unwrap();
    let pool = basisset::db::Db::connect(
        basisset::db::DatabaseTarget::parse(&url).unwrap(),
        2,
        Duration::from_secs(2),
    )
    .unwrap();
    let (state, _) = basisset::app::build_state(pool, test_config()).unwrap();
    let app = TestApp::from_state(state, db).await;

    assert_eq!(app.get("/readyz", None).await.status, 200);
    proxy.cut();
    app.get("/readyz", None)
        .await
        .assert_problem(503, "SERVICE_UNAVAILABLE");
    // Liveness does not depend on the database.
    assert_eq!(app.get("/healthz", None).await.status, 200);
    proxy.restore();
    let mut status = 0;
    for _ in 0..20 {
        status = app.get("/readyz", None).await.status;
        if status == 200 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200, "ready again after the database came back");
}

#[test]
fn help_lists_every_option_with_its_environment_variable() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_basisset"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--bind",
        "BASISSET_BIND",
        "--database-url",
        "DATABASE_URL",
        "BASISSET_LOG_FORMAT",
        "BASISSET_POOL_SIZE",
        "BASISSET_MIN_ORGANISATIONS",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}
