//! Issue 5: a submission is stored whole or not at all, also when the server process is killed
//! (SIGKILL) while it handles a large submission.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::*;
use basisset::db::schema::{figures, submission_revisions, submissions};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_basisset");

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Minimal HTTP/1.1 client (one request per connection).
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_owned())
        .unwrap_or_default();
    (status, body)
}

pub(crate) fn cli(db: &TestDb, args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .args(["--database-url", &db.url, "--log", "warn"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub(crate) fn start(db: &TestDb, keys: &str) -> (Child, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", &addr, "--workers", "2"])
        .env("DATABASE_URL", &db.url)
        .env("BASISSET_JWT_KEYS", keys)
        .env("BASISSET_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(&addr).is_ok() && http(&addr, "GET", "/readyz", &[], b"").0 == 200 {
            return (child, addr);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start");
}

/// Every stored revision has exactly the figures it says it has, and the submission points at
/// its newest revision. Returns the number of revisions.
fn check_all_or_nothing(db: &TestDb) -> i64 {
    let pool = db.connect(1);
    let mut conn = pool.get().unwrap();
    let revs: Vec<(i64, i32, i32)> = submission_revisions::table
        .select((
            submission_revisions::id,
            submission_revisions::revision,
            submission_revisions::figure_count,
        ))
        .load(&mut *conn)
        .unwrap();
    for (id, rev, count) in &revs {
        let actual: i64 = figures::table
            .filter(figures::revision_id.eq(id))
            .count()
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(actual, *count as i64, "revision {rev} is incomplete");
    }
    let orphans: i64 = figures::table
        .filter(diesel::dsl::not(figures::revision_id.eq_any(
            submission_revisions::table.select(submission_revisions::id),
        )))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(orphans, 0);
    let latest: Vec<i32> = submissions::table
        .select(submissions::latest_revision)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(
        latest.iter().map(|l| *l as usize).sum::<usize>(),
        revs.len()
    );
    revs.len() as i64
}

/// A regional organisation serving 250 municipalities, a team client, and a submission body of
/// 10,000 figures (40 indicators per municipality). Returns (db, keys, org, client, body).
fn bulk_setup() -> (TestDb, String, i64, Value, String) {
    let db = TestDb::new();
    let keys = serde_json::to_string(&basisset::auth::keys::generate("EdDSA").unwrap()).unwrap();
    // A regional organisation serving 250 municipalities; 40 indicators each: 10,000 figures.
    let reference = basisset::registry::Reference::builtin().unwrap();
    let codes: Vec<String> = reference
        .list(None, None)
        .unwrap()
        .iter()
        .take(250)
        .map(|m| m.code.clone())
        .collect();
    let org = cli(
        &db,
        &[
            "organisation",
            "create",
            "--name",
            "Regionaal team",
            "--team-type",
            "integraal",
            "--form",
            "netwerk",
            "--municipalities",
            &codes.join(","),
        ],
    )["id"]
        .as_i64()
        .unwrap();
    let creds = cli(
        &db,
        &[
            "client",
            "create",
            "--role",
            "team",
            "--name",
            "bulk",
            "--organisation",
            &org.to_string(),
        ],
    );
    let catalogue = basisset::catalogue::Catalogue::builtin().unwrap();
    let indicators: Vec<&basisset::catalogue::Indicator> = catalogue
        .current()
        .indicators
        .iter()
        .filter(|i| !i.retired)
        .filter(|i| i.allows_period(basisset::period::PeriodType::Year))
        .filter(|i| i.applies_to(basisset::registry::TeamType::Integraal))
        .take(40)
        .collect();
    assert_eq!(indicators.len(), 40);
    let mut figs = Vec::new();
    for c in &codes {
        for i in &indicators {
            use basisset::catalogue::Kind;
            figs.push(match i.kind {
                Kind::Flow | Kind::Stock => json!({"indicator": i.code, "municipality": c, "value": 10}),
                Kind::Amount => json!({"indicator": i.code, "municipality": c, "value": 2.5}),
                Kind::Ratio => json!({"indicator": i.code, "municipality": c, "numerator": 3, "denominator": 10}),
                Kind::Survey => json!({"indicator": i.code, "municipality": c, "value": 70, "respondents": 100}),
                Kind::MeanDuration => json!({"indicator": i.code, "municipality": c, "value": 12, "cases": 50}),
            });
        }
    }
    let n = figs.len();
    let body = json!({"period": "2023", "figures": figs}).to_string();

    assert_eq!(n, 10_000);
    (db, keys, org, creds, body)
}

fn token_for(addr: &str, creds: &Value) -> String {
    let (status, token) = http(
        addr,
        "POST",
        "/oauth/token",
        &[("Content-Type", "application/x-www-form-urlencoded".into())],
        format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            creds["client_id"].as_str().unwrap(),
            creds["client_secret"].as_str().unwrap()
        )
        .as_bytes(),
    );
    assert_eq!(status, 200, "{token}");
    let token: String = serde_json::from_str::<Value>(&token).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    token
}

#[test]
fn killing_the_server_mid_submission_leaves_all_or_nothing() {
    let (db, keys, org, creds, body) = bulk_setup();
    let n = 10_000;
    let (mut child, mut addr) = start(&db, &keys);
    let token = token_for(&addr, &creds);
    let path = format!("/api/v1/organisations/{org}/submissions?submit=true");

    // A complete post first, to know how long one takes here.
    let t = Instant::now();
    let (status, out) = http(
        &addr,
        "POST",
        &path,
        &[
            ("Authorization", format!("Bearer {token}")),
            ("Content-Type", "application/json".into()),
        ],
        body.as_bytes(),
    );
    assert_eq!(status, 201, "{out}");
    let took = t.elapsed();
    assert_eq!(check_all_or_nothing(&db), 1);

    let mut outcomes = Vec::new();
    for step in 0..8u32 {
        // Kill at points spread over the time one post takes (and once mid-upload).
        let delay = took.mul_f64(step as f64 / 3.0);
        let (tx, rx) = std::sync::mpsc::channel();
        let (a, p, b, t) = (addr.clone(), path.clone(), body.clone(), token.clone());
        std::thread::spawn(move || {
            let mut s = TcpStream::connect(&a).unwrap();
            let head = format!(
                "POST {p} HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                b.len()
            );
            let _ = s.write_all(head.as_bytes());
            let cut = if step == 0 { b.len() / 2 } else { b.len() };
            let _ = s.write_all(&b.as_bytes()[..cut]);
            let _ = tx.send(());
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink);
        });
        rx.recv().unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        let before = outcomes.iter().filter(|o| **o == "all").count() as i64 + 1;
        let revisions = check_all_or_nothing(&db);
        outcomes.push(if revisions > before { "all" } else { "none" });
        let (c, a) = start(&db, &keys);
        child = c;
        addr = a;
    }
    let _ = child.kill();
    let _ = child.wait();
    eprintln!("one post of {n} figures took {took:?}; outcomes per kill: {outcomes:?}");
    assert!(
        outcomes.contains(&"none"),
        "a kill before commit must leave nothing"
    );
}

/// SIGTERM while a large submission is being handled: the server finishes it, answers, and exits.
#[test]
fn sigterm_lets_in_flight_requests_finish() {
    let (db, keys, org, creds, body) = bulk_setup();
    let (mut child, addr) = start(&db, &keys);
    let token = token_for(&addr, &creds);
    let path = format!("/api/v1/organisations/{org}/submissions?submit=true");
    let (tx, rx) = std::sync::mpsc::channel();
    let request = std::thread::spawn(move || {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body.as_bytes()).unwrap();
        tx.send(()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    });
    rx.recv().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let response = request.join().unwrap();
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "in-flight request was cut off: {}",
        &response[..response.len().min(300)]
    );
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful exit, got {exit:?}");
    assert_eq!(check_all_or_nothing(&db), 1);
}
