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
pub(crate) struct Proxy {
    pub(crate) addr: String,
    up: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    pub(crate) fn start(upstream: String) -> Proxy {
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

    pub(crate) fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.live.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    pub(crate) fn restore(&self) {
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

/// The service on a fresh PostgreSQL database (migrated directly), its pool of `pool_size`
/// connections reaching the database through a proxy the test can cut; `None` on SQLite.
async fn behind_a_proxy(pool_size: u32) -> Option<(TestApp, Proxy)> {
    let db = TestDb::new();
    let Some(upstream) = db.pg_host_port() else {
        eprintln!("PostgreSQL only (set {PG_ENV}); skipped on SQLite");
        return None;
    };
    let direct = db.connect(1);
    basisset::app::build_state(direct, test_config()).unwrap();
    let proxy = Proxy::start(upstream);
    let url = db.pg_url_via(&proxy.addr).unwrap();
    let pool = basisset::db::Db::connect(
        basisset::db::DatabaseTarget::parse(&url).unwrap(),
        pool_size,
        Duration::from_secs(2),
    )
    .unwrap();
    let (state, _) = basisset::app::build_state(pool, test_config()).unwrap();
    Some((TestApp::from_state(state, db).await, proxy))
}

/// PostgreSQL goes away: /readyz says 503; it comes back: 200 again, without a restart.
#[actix_web::test]
async fn readyz_follows_postgres_going_away_and_coming_back() {
    let Some((app, proxy)) = behind_a_proxy(2).await else {
        return;
    };

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

/// The pool hands out a PostgreSQL connection used a moment ago without checking it first (a
/// round trip per request saved). When such a connection was lost, the request that finds out
/// answers 503 and the connection is discarded, not put back: at most one request per pooled
/// connection fails, and the next ones succeed at once (well inside the second in which the
/// connection still counts as fresh). Fails if a lost connection goes back into the pool.
#[actix_web::test]
async fn a_connection_lost_a_moment_after_use_fails_one_request_and_is_not_reused() {
    let pool_size = 2;
    let Some((app, proxy)) = behind_a_proxy(pool_size).await else {
        return;
    };
    // `/readyz` runs its statement outside a transaction: nothing but the pool's own record
    // would tell that its connection is lost (diesel discards a connection whose transaction
    // failed to roll back, and only that).
    let path = "/readyz";
    for _ in 0..3 {
        assert_eq!(app.get(path, None).await.status, 200);
        assert_eq!(
            app.get("/api/v1/organisations?limit=1", None).await.status,
            200
        );
    }
    // Every open connection is cut; the database is reachable again at once.
    proxy.cut();
    proxy.restore();
    let started = std::time::Instant::now();
    let mut failed = 0;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let res = app.get(path, None).await;
        statuses.push(res.status);
        if res.status != 200 {
            res.assert_problem(503, "SERVICE_UNAVAILABLE");
            failed += 1;
        }
    }
    assert!(
        started.elapsed() < basisset::db::Health::FRESH,
        "the requests ran while the lost connections still counted as fresh"
    );
    assert!(
        failed >= 1,
        "the fresh connection was handed out unchecked: {statuses:?}"
    );
    assert!(failed <= pool_size, "{statuses:?}");
    assert!(
        statuses.ends_with(&[200; 10]),
        "a lost connection was put back: {statuses:?}"
    );
    assert_eq!(
        app.get("/api/v1/organisations?limit=1", None).await.status,
        200
    );
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
        "--auth-address-max-failures",
        "BASISSET_AUTH_ADDRESS_MAX_FAILURES",
        "--trusted-proxies",
        "BASISSET_TRUSTED_PROXIES",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}

/// Column names of every table as `db/schema.rs` declares them.
fn declared_columns() -> std::collections::BTreeMap<&'static str, Vec<String>> {
    use basisset::db::schema::*;
    use diesel::prelude::*;
    fn names(sql: String) -> Vec<String> {
        // "SELECT `t`.`a`, `t`.`b` FROM `t` -- binds: []"
        let list = sql
            .split(" FROM ")
            .next()
            .unwrap()
            .trim_start_matches("SELECT ");
        let mut v: Vec<String> = list
            .split(", ")
            .map(|c| c.rsplit('.').next().unwrap().trim_matches('`').to_owned())
            .collect();
        v.sort();
        v
    }
    macro_rules! cols {
        ($($t:ident),*) => {{
            let mut m = std::collections::BTreeMap::new();
            $(m.insert(stringify!($t), names(diesel::debug_query::<diesel::sqlite::Sqlite, _>(
                &$t::table.select($t::all_columns)).to_string()));)*
            m
        }};
    }
    cols!(
        catalogue_versions,
        transformation_goals,
        indicators,
        provinces,
        municipalities,
        organisations,
        organisation_municipalities,
        api_clients,
        submissions,
        submission_revisions,
        submission_events,
        figures,
        figure_rollups,
        figure_rollup_years,
        indicator_versions,
        idempotency_keys,
        data_version,
        auth_throttle,
        audit_log
    )
}

#[derive(diesel::QueryableByName)]
struct Col {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

fn live_columns(conn: &mut basisset::db::DbConn, table: &str) -> Vec<String> {
    let sql = match conn.backend() {
        Backend::Sqlite => format!("SELECT name FROM pragma_table_info('{table}')"),
        Backend::Postgres => format!(
            "SELECT column_name::text AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}'"
        ),
    };
    let mut v: Vec<String> = diesel::sql_query(sql)
        .load::<Col>(conn)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    v.sort();
    v
}

/// Both migration chains end in the columns `db/schema.rs` declares (SQLite always; PostgreSQL
/// when the run has one).
#[actix_web::test]
async fn both_migration_chains_match_the_declared_schema() {
    let declared = declared_columns();
    let mut dbs = vec![TestDb::new()];
    if dbs[0].backend == Backend::Postgres {
        // Also a SQLite database, so a PostgreSQL run checks both chains.
        let path = std::env::temp_dir().join(format!("basisset-chain-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let pool = basisset::db::Db::connect(
            basisset::db::DatabaseTarget::parse(&format!("sqlite://{}", path.display())).unwrap(),
            1,
            Duration::from_secs(5),
        )
        .unwrap();
        let mut conn = pool.get().unwrap();
        basisset::db::run_migrations(&mut conn).unwrap();
        for (table, cols) in &declared {
            assert_eq!(
                &live_columns(&mut conn, table),
                cols,
                "sqlite table {table}"
            );
        }
        drop(conn);
        let _ = std::fs::remove_file(&path);
    }
    let db = dbs.remove(0);
    let pool = db.connect(1);
    let mut conn = pool.get().unwrap();
    basisset::db::run_migrations(&mut conn).unwrap();
    for (table, cols) in &declared {
        assert_eq!(
            &live_columns(&mut conn, table),
            cols,
            "{:?} table {table}",
            db.backend
        );
    }
}

#[test]
fn json_logs_by_flag() {
    let db = TestDb::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_basisset"))
        .args(["--database-url", &db.url, "--log-format", "json", "migrate"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for l in lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"));
        assert!(
            v.get("level").is_some() && v.get("timestamp").is_some(),
            "{v}"
        );
    }
}
