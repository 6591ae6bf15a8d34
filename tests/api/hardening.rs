//! Issue 11: hardening. Bombs and limits, NUL bytes, faults answered 503, idempotency races,
//! registry changes reaching views at once, separation of duties, the audit log, ownership not
//! told by status codes, and the small ones (file mode, log redaction, closed pipes).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::*;
use crate::crash::{BIN, free_port, http};

fn gql_code(res: &Resp) -> String {
    res.json()["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

async fn gql_raw(app: &TestApp, query: &str, variables: Value, token: Option<&str>) -> Resp {
    app.post_json(
        "/graphql",
        token,
        &json!({"query": query, "variables": variables}),
    )
    .await
}

#[actix_web::test]
async fn graphql_documents_are_measured_before_they_cost_anything() {
    let app = TestApp::spawn().await;
    // Over the byte limit (64 KiB): the issue's 2.4 MB document of one repeated field.
    let bomb = format!("{{ {} }}", "goals { code } ".repeat(150_000));
    let started = Instant::now();
    let res = gql_raw(&app, &bomb, json!({}), None).await;
    assert_eq!(res.status, 400, "{}", res.text());
    assert_eq!(gql_code(&res), "QUERY_TOO_LARGE");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Under the byte limit but too many tokens.
    let tokens = format!("{{ goals {{ {} }} }}", "code ".repeat(12_000));
    assert!(tokens.len() < 64 * 1024);
    let res = gql_raw(&app, &tokens, json!({}), None).await;
    assert_eq!(gql_code(&res), "TOO_MANY_TOKENS", "{}", res.text());
    // Few tokens, many fields: fragments spreading each other double the work at each level.
    let mut doc = String::from("{ goals { ...F0 } }\n");
    for i in 0..12 {
        doc.push_str(&format!(
            "fragment F{i} on TransformationGoal {{ ...F{} ...F{} }}\n",
            i + 1,
            i + 1
        ));
    }
    doc.push_str("fragment F12 on TransformationGoal { code }\n");
    let res = gql_raw(&app, &doc, json!({}), None).await;
    assert_eq!(gql_code(&res), "TOO_MANY_FIELDS", "{}", res.text());
    // GraphiQL's introspection query passes every limit.
    let introspection = include_str!("../fixtures/introspection.graphql");
    let res = gql_raw(&app, introspection, json!({}), None).await;
    assert_eq!(res.status, 200);
    assert!(
        res.json()["data"]["__schema"]["types"].is_array(),
        "{}",
        res.text()
    );
}

#[actix_web::test]
async fn the_limits_are_configurable() {
    let mut config = test_config();
    config.limits.graphql_max_query_bytes = 22;
    config.limits.graphql_max_fields = 2;
    let app = TestApp::spawn_with(config).await;
    let res = gql_raw(&app, "{  goals  {  code  labelNl  }  }", json!({}), None).await;
    assert_eq!(gql_code(&res), "QUERY_TOO_LARGE");
    let res = gql_raw(&app, "{goals{code labelNl}}", json!({}), None).await;
    assert_eq!(gql_code(&res), "TOO_MANY_FIELDS", "{}", res.text());
}

fn figure(i: usize) -> Value {
    json!({"indicator": "klachten", "value": -(i as i64) - 1})
}

#[actix_web::test]
async fn validation_errors_are_bounded() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let url = format!("/api/v1/organisations/{}/submissions", f.org_a);
    // More figures than allowed: refused before any figure is checked, with one problem.
    let figures: Vec<Value> = (0..100_001).map(figure).collect();
    let started = Instant::now();
    let res = app
        .post_json(
            &url,
            Some(&f.team_a),
            &json!({"period": "2023", "figures": figures}),
        )
        .await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["errors"][0]["code"], "too_many_figures");
    assert!(res.body.len() < 2_000, "{} bytes", res.body.len());
    assert!(started.elapsed() < Duration::from_secs(20));
    // Many bad figures: the first 1,000 problems, the total, and `truncated`.
    let figures: Vec<Value> = (0..3_000).map(figure).collect();
    let res = app
        .post_json(
            &url,
            Some(&f.team_a),
            &json!({"period": "2023", "figures": figures}),
        )
        .await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1_000);
    assert_eq!(body["truncated"], true);
    assert!(
        body["errorCount"].as_u64().unwrap() >= 3_000,
        "{}",
        body["errorCount"]
    );
    // The same for CSV.
    let mut csv = String::from("indicator;waarde\n");
    for i in 0..100_001 {
        csv.push_str(&format!("klachten;{i}\n"));
    }
    let res = app
        .post_raw(
            &format!("{url}?period=2023"),
            Some(&f.team_a),
            "text/csv",
            csv,
        )
        .await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["code"], "too_many_figures", "{body}");
    // Nothing was stored.
    let list = app
        .get(
            &format!("/api/v1/organisations/{}/submissions", f.org_a),
            Some(&f.team_a),
        )
        .await
        .json();
    assert_eq!(list.as_array().map(Vec::len).unwrap_or(0), 0, "{list}");
}

#[actix_web::test]
async fn nul_bytes_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let body = app
        .get("/api/v1/submissions?period=2023%00", Some(&f.associatie))
        .await
        .assert_problem(400, "INVALID_QUERY");
    assert!(
        body["detail"].as_str().unwrap().contains("period"),
        "{body}"
    );
    app.get(
        "/api/v1/views/aggregate?indicator=klachten%00&period=2023",
        None,
    )
    .await
    .assert_problem(400, "INVALID_QUERY");
    app.delete("/api/v1/clients/bsc_%00x", Some(&f.admin))
        .await
        .assert_problem(400, "INVALID_PATH");
    // GraphQL: in a variable and in a literal argument.
    let res = gql_raw(
        &app,
        "query($p: String) { submissions(period: $p) { id } }",
        json!({"p": "2023\u{0}"}),
        Some(&f.associatie),
    )
    .await;
    assert_eq!(res.status, 400);
    assert_eq!(gql_code(&res), "INVALID_TEXT");
    assert!(res.text().contains("$p"), "{}", res.text());
    let res = gql_raw(
        &app,
        r#"{ submissions(period: "2023\u0000") { id } }"#,
        json!({}),
        Some(&f.associatie),
    )
    .await;
    assert_eq!(gql_code(&res), "INVALID_TEXT", "{}", res.text());
    // JSON bodies: the text checks name the field.
    let res = app
        .post_json(
            &format!("/api/v1/organisations/{}/submissions", f.org_a),
            Some(&f.team_a),
            &json!({"period": "2023", "figures": [{"indicator": "klachten", "value": 1, "note": "a\u{0}b"}]}),
        )
        .await;
    let body = res.assert_problem(422, "VALIDATION_FAILED");
    assert_eq!(body["errors"][0]["field"], "/figures/0/note");
    let res = app
        .patch_json(
            &format!("/api/v1/organisations/{}", f.org_a),
            Some(&f.admin),
            &json!({"name": "Team\u{0}A"}),
        )
        .await;
    assert_eq!(
        res.assert_problem(422, "VALIDATION_FAILED")["errors"][0]["field"],
        "/name"
    );
}

#[actix_web::test]
async fn a_lost_database_answers_503_with_retry_after_and_no_address() {
    let db = TestDb::new();
    let Some(upstream) = db.pg_host_port() else {
        // SQLite has no connection to lose; its full disk is tested below.
        return;
    };
    let direct = db.connect(1);
    basisset::app::build_state(direct, test_config()).unwrap();
    let proxy = crate::foundation::Proxy::start(upstream);
    let url = db.pg_url_via(&proxy.addr).unwrap();
    let pool = basisset::db::Db::connect(
        basisset::db::DatabaseTarget::parse(&url).unwrap(),
        2,
        Duration::from_secs(1),
    )
    .unwrap();
    let (state, _) = basisset::app::build_state(pool, test_config()).unwrap();
    let app = TestApp::from_state(state, db).await;
    let f = app.fixture().await;
    let port = proxy.addr.rsplit(':').next().unwrap().to_owned();
    let check = |res: &Resp| {
        let body = res.assert_problem(503, "SERVICE_UNAVAILABLE");
        assert_eq!(res.header("retry-after").as_deref(), Some("5"));
        let text = body.to_string();
        assert!(
            !text.contains("127.0.0.1") && !text.contains(&port),
            "{text}"
        );
    };
    // A submission in flight when the connection goes: 201 if it made it, else 503, never 500.
    let url = format!("/api/v1/organisations/{}/submissions?submit=true", f.org_a);
    let figures: Vec<Value> = (1..=40)
        .map(|i| json!({"indicator": "klachten", "value": i}))
        .take(1)
        .collect();
    let body = json!({"period": "2022", "figures": figures});
    let post = app.post_json(&url, Some(&f.team_a), &body);
    let cut = async {
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        proxy.cut();
    };
    let (res, ()) = futures_util::future::join(post, cut).await;
    assert!(
        res.status == 503 || res.status == 201,
        "{} {}",
        res.status,
        res.text()
    );
    if res.status == 503 {
        check(&res);
    }
    for path in [
        "/api/v1/views/aggregate?indicator=klachten&period=2022",
        "/api/v1/organisations",
        "/readyz",
    ] {
        check(&app.get(path, None).await);
    }
    check(&app.get("/api/v1/me", Some(&f.team_a)).await);
    let res = app
        .post_json(
            &format!("/api/v1/organisations/{}/submissions", f.org_a),
            Some(&f.team_a),
            &json!({"period": "2023", "figures": [{"indicator": "klachten", "value": 1}]}),
        )
        .await;
    check(&res);
    // GraphQL says the same in its extensions.
    let body = app
        .gql(
            r#"{ aggregate(indicator: "klachten", period: "2022") { total { value } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["status"], 503);
    proxy.restore();
}

/// SQLite on a file system that fills up: writes answer 503 with Retry-After, readiness
/// reports the storage, and both recover when there is room again.
#[test]
fn a_full_disk_answers_503_and_readiness_says_so() {
    if std::env::var(PG_ENV).is_ok_and(|v| !v.is_empty()) {
        return; // the SQLite file system; PostgreSQL's disk is the server's
    }
    let dir = std::env::temp_dir().join(format!("basisset-full-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.db");
    let ok = Command::new(BIN)
        .args([
            "--database-url",
            seed.to_str().unwrap(),
            "--log",
            "warn",
            "migrate",
        ])
        .status()
        .unwrap();
    assert!(ok.success());
    let wal = format!("{}-wal", seed.display());
    let size = std::fs::metadata(&seed).unwrap().len()
        + std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let mount = dir.join("mnt");
    std::fs::create_dir_all(&mount).unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let keys = serde_json::to_string(&basisset::auth::keys::generate("EdDSA").unwrap()).unwrap();
    // A private mount namespace with a small tmpfs: the database, and a filler that leaves
    // a little room.
    let script = format!(
        "mount -t tmpfs -o size={} tmpfs {m} && cp {seed} {m}/db.sqlite && \
         (test ! -f {wal} || cp {wal} {m}/db.sqlite-wal) && \
         head -c {} /dev/zero > {m}/filler; exec {BIN} --database-url {m}/db.sqlite --log warn \
         serve --bind {addr} --workers 1",
        size + 4 * 1024 * 1024,
        4 * 1024 * 1024 - 400 * 1024,
        m = mount.display(),
        seed = seed.display(),
    );
    let mut child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .env("BASISSET_JWT_KEYS", &keys)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare (util-linux) runs the service in its own mount namespace");
    let guard = KillOnDrop(&mut child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline
        && !(std::net::TcpStream::connect(&addr).is_ok()
            && http(&addr, "GET", "/healthz", &[], b"").0 == 200)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    // A team to write with, made with the command line inside the service's mount namespace
    // (SQLite resolves /proc/<pid>/root links, so it has to run in there).
    let pid = guard.0.id().to_string();
    let db_path = format!("{}/db.sqlite", mount.display());
    let cli = |args: &[&str]| {
        Command::new("nsenter")
            .args([
                "--mount",
                "--target",
                &pid,
                BIN,
                "--database-url",
                &db_path,
                "--log",
                "warn",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let (status, body) = http(&addr, "GET", "/readyz", &[], b"");
    assert_eq!(status, 503, "under 1 MiB free is not ready: {body}");
    assert!(body.contains("storage full"), "{body}");
    let out = cli(&[
        "organisation",
        "create",
        "--name",
        "Vol",
        "--team-type",
        "wmo",
        "--form",
        "stichting",
        "--municipalities",
        "GM0363",
    ]);
    let org: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let org_id = org["id"].as_i64();
    let out = cli(&[
        "client",
        "create",
        "--role",
        "team",
        "--name",
        "t",
        "--organisation",
        &org_id.unwrap_or(1).to_string(),
    ]);
    let creds: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let mut token: Option<String> = None;
    if let (Some(org), true) = (org_id, creds["client_id"].is_string()) {
        let token_body = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            creds["client_id"].as_str().unwrap(),
            creds["client_secret"].as_str().unwrap()
        );
        let (_, t) = http(
            &addr,
            "POST",
            "/oauth/token",
            &[("Content-Type", "application/x-www-form-urlencoded".into())],
            token_body.as_bytes(),
        );
        let bearer = serde_json::from_str::<Value>(&t).unwrap()["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{t}"))
            .to_owned();
        token = Some(bearer.clone());
        // Fill the disk with submissions until one fails: 503 with Retry-After, not 500.
        let mut saw_503 = false;
        for n in 0..400 {
            let period = format!("{}-Q{}", 2000 + n / 4, n % 4 + 1);
            let figures = json!([{"indicator": "klachten", "value": n, "note": "x".repeat(1_900)}]);
            let body = json!({"period": period, "figures": figures}).to_string();
            let (status, text) = http(
                &addr,
                "POST",
                &format!("/api/v1/organisations/{org}/submissions"),
                &[
                    ("Authorization", format!("Bearer {bearer}")),
                    ("Content-Type", "application/json".into()),
                ],
                body.as_bytes(),
            );
            assert!(status == 201 || status == 503, "{status}: {text}");
            if status == 503 {
                assert!(text.contains("SERVICE_UNAVAILABLE"), "{text}");
                saw_503 = true;
                break;
            }
        }
        assert!(saw_503, "the disk never filled up");
    } else {
        // The disk was too full to register an organisation from outside: that is the
        // refusal we wanted to see, from the command line.
        assert!(!out.status.success() || org_id.is_none());
    }
    let (status, body) = http(&addr, "GET", "/readyz", &[], b"");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("storage full"), "{body}");
    assert!(
        !body.contains("/proc") && !body.contains("tmp"),
        "no paths in answers: {body}"
    );
    // Room again: ready again once a write goes through.
    let rm = Command::new("nsenter")
        .args([
            "--mount",
            "--target",
            &pid,
            "rm",
            &format!("{}/filler", mount.display()),
        ])
        .status()
        .unwrap();
    assert!(rm.success());
    let mut ready = 0;
    for n in 0..50 {
        if let (Some(org), Some(token)) = (org_id, token.as_deref()) {
            let body = json!({"period": format!("{}", 2000 + n), "figures": [{"indicator": "klachten", "value": 1}]}).to_string();
            let _ = http(
                &addr,
                "POST",
                &format!("/api/v1/organisations/{org}/submissions"),
                &[
                    ("Authorization", format!("Bearer {token}")),
                    ("Content-Type", "application/json".into()),
                ],
                body.as_bytes(),
            );
        }
        ready = http(&addr, "GET", "/readyz", &[], b"").0;
        if ready == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(guard);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(ready, 200);
}

struct KillOnDrop<'a>(&'a mut std::process::Child);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[actix_web::test]
async fn concurrent_posts_with_one_idempotency_key_give_one_revision() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let url = format!("/api/v1/organisations/{}/submissions", f.org_a);
    let body = json!({"period": "2023", "figures": [{"indicator": "klachten", "value": 4}]});
    let reqs = (0..8).map(|_| {
        let req = actix_web::test::TestRequest::post()
            .uri(&url)
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Authorization", format!("Bearer {}", f.team_a)))
            .insert_header(("Idempotency-Key", "race-1"))
            .set_payload(body.to_string());
        app.send(req)
    });
    let results = futures_util::future::join_all(reqs).await;
    let mut created = 0;
    for r in &results {
        match r.status {
            201 => created += 1,
            200 => assert_eq!(r.header("idempotent-replayed").as_deref(), Some("true")),
            409 => assert_eq!(
                r.json()["code"],
                "IDEMPOTENCY_KEY_IN_PROGRESS",
                "{}",
                r.text()
            ),
            other => panic!("{other}: {}", r.text()),
        }
        assert!(!r.text().contains("idempotency_keys"), "{}", r.text());
    }
    assert_eq!(created, 1);
    let list = app
        .get(
            &format!("/api/v1/organisations/{}/submissions", f.org_a),
            Some(&f.team_a),
        )
        .await
        .json();
    assert_eq!(list[0]["latestRevision"], 1, "{list}");
}

#[actix_web::test]
async fn a_new_organisation_counts_in_views_at_once() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let before = app
        .get(
            "/api/v1/views/completeness?period=2023",
            Some(&f.associatie),
        )
        .await
        .json();
    let res = app
        .post_json(
            "/api/v1/organisations",
            Some(&f.admin),
            &json!({"name": "Nieuw Team", "teamType": "wmo", "orgForm": "stichting", "municipalities": [{"code": "GM0014"}]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    let after = app
        .get(
            "/api/v1/views/completeness?period=2023",
            Some(&f.associatie),
        )
        .await
        .json();
    assert_eq!(
        after["organisationsConsidered"].as_i64().unwrap(),
        before["organisationsConsidered"].as_i64().unwrap() + 1
    );
    let res = app
        .get(
            &format!("/api/v1/views/benchmark?organisation={id}&indicator=klachten&period=2023"),
            Some(&f.associatie),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[actix_web::test]
async fn an_admin_cannot_create_clients_that_see_everything() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    for role in ["associatie", "admin"] {
        let body = app
            .post_json(
                "/api/v1/clients",
                Some(&f.admin),
                &json!({"name": "x", "role": role}),
            )
            .await
            .assert_problem(403, "FORBIDDEN");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("basisset client create"),
            "{body}"
        );
        let body = app
            .gql(
                &format!(
                    r#"mutation {{ createClient(input: {{name: "x", role: {}}}) {{ clientId }} }}"#,
                    role.to_uppercase()
                ),
                json!({}),
                Some(&f.admin),
            )
            .await;
        assert_eq!(gql_error_code(&body), "FORBIDDEN");
    }
    let (assoc_id, _) = app.create_client("associatie", None).await;
    app.post_json(
        &format!("/api/v1/clients/{assoc_id}/rotate"),
        Some(&f.admin),
        &json!({}),
    )
    .await
    .assert_problem(403, "FORBIDDEN");
    // Revoking takes rights away: allowed.
    let res = app
        .delete(&format!("/api/v1/clients/{assoc_id}"), Some(&f.admin))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    // Team clients are the admin's to manage.
    let res = app
        .post_json(
            "/api/v1/clients",
            Some(&f.admin),
            &json!({"name": "t", "role": "team", "organisationId": f.org_a}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    // The command line on the server creates them.
    let db = TestDb::new();
    let out = Command::new(BIN)
        .args([
            "--database-url",
            &db.url,
            "--log",
            "warn",
            "client",
            "create",
            "--role",
            "associatie",
            "--name",
            "Associatie",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[actix_web::test]
async fn the_audit_log_records_registry_and_access_changes() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let res = app
        .post_json("/api/v1/organisations", Some(&f.admin), &json!({"name": "Audit Team", "teamType": "wmo", "orgForm": "stichting", "municipalities": [{"code": "GM0014"}]}))
        .await;
    let id = res.json()["id"].as_i64().unwrap();
    app.patch_json(
        &format!("/api/v1/organisations/{id}"),
        Some(&f.admin),
        &json!({"name": "Audit Team Noord"}),
    )
    .await;
    app.patch_json(
        &format!("/api/v1/organisations/{id}"),
        Some(&f.admin),
        &json!({"active": false}),
    )
    .await;
    let res = app
        .post_json(
            "/api/v1/clients",
            Some(&f.admin),
            &json!({"name": "reg", "role": "team", "organisationId": f.org_a}),
        )
        .await;
    let creds = res.json();
    let client = creds["client_id"].as_str().unwrap().to_owned();
    let secret = creds["client_secret"].as_str().unwrap().to_owned();
    app.post_json(
        &format!("/api/v1/clients/{client}/rotate"),
        Some(&f.admin),
        &json!({}),
    )
    .await;
    app.delete(&format!("/api/v1/clients/{client}"), Some(&f.admin))
        .await;
    let me = app.get("/api/v1/me", Some(&f.admin)).await.json();
    let admin_id = me["clientId"].as_str().unwrap().to_owned();
    for token in [&f.admin, &f.associatie] {
        let log = app.get("/api/v1/audit?limit=100", Some(token)).await;
        assert_eq!(log.status, 200, "{}", log.text());
        let log = log.json();
        let actions: Vec<&str> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in [
            "organisation.created",
            "organisation.changed",
            "organisation.deactivated",
            "client.created",
            "client.rotated",
            "client.revoked",
        ] {
            assert!(actions.contains(&a), "{a} missing in {actions:?}");
        }
        let changed = log
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "organisation.changed")
            .unwrap();
        assert_eq!(changed["actor"], admin_id);
        assert!(
            changed["before"]
                .as_str()
                .unwrap()
                .contains("\"Audit Team\"")
        );
        assert!(
            changed["after"]
                .as_str()
                .unwrap()
                .contains("Audit Team Noord")
        );
        assert!(!log.to_string().contains(&secret), "no secrets in the log");
        assert!(!log.to_string().contains("argon2"), "no hashes in the log");
    }
    let one = app
        .get(
            &format!("/api/v1/audit?subjectType=organisation&subjectId={id}"),
            Some(&f.admin),
        )
        .await
        .json();
    assert_eq!(one.as_array().unwrap().len(), 3);
    // GraphQL.
    let data = app.gql_ok(&format!(r#"{{ auditLog(subjectType: ORGANISATION, subjectId: "{id}") {{ action actor before after at }} }}"#), json!({}), Some(&f.associatie)).await;
    assert_eq!(data["auditLog"].as_array().unwrap().len(), 3);
    // Not for teams or the public.
    app.get("/api/v1/audit", Some(&f.team_a))
        .await
        .assert_problem(403, "FORBIDDEN");
    app.get("/api/v1/audit", None)
        .await
        .assert_problem(401, "UNAUTHENTICATED");
    // Append-only, whoever asks: the database refuses to change or delete entries.
    let mut conn = app.conn();
    use diesel::RunQueryDsl;
    assert!(
        diesel::sql_query("UPDATE audit_log SET actor = 'someone else'")
            .execute(&mut *conn)
            .is_err()
    );
    assert!(
        diesel::sql_query("DELETE FROM audit_log")
            .execute(&mut *conn)
            .is_err()
    );
}

#[actix_web::test]
async fn another_organisations_submission_looks_like_none() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let res = app
        .post_json(
            &format!("/api/v1/organisations/{}/submissions", f.org_b),
            Some(&f.team_b),
            &json!({"period": "2023", "figures": [{"indicator": "klachten", "value": 1}]}),
        )
        .await;
    let id = res.json()["submissionId"].as_i64().unwrap();
    for path in ["", "/revisions", "/diff?from=1&to=1"] {
        let theirs = app
            .get(&format!("/api/v1/submissions/{id}{path}"), Some(&f.team_a))
            .await;
        let none = app
            .get(
                &format!("/api/v1/submissions/999999{path}"),
                Some(&f.team_a),
            )
            .await;
        assert_eq!(theirs.status, 404, "{}", theirs.text());
        assert_eq!(theirs.status, none.status);
        assert_eq!(theirs.json()["title"], none.json()["title"]);
    }
    for action in ["submit", "withdraw"] {
        let theirs = app
            .post_json(
                &format!("/api/v1/submissions/{id}/{action}"),
                Some(&f.team_a),
                &json!({}),
            )
            .await;
        let none = app
            .post_json(
                &format!("/api/v1/submissions/999999/{action}"),
                Some(&f.team_a),
                &json!({}),
            )
            .await;
        assert_eq!(
            (theirs.status, none.status),
            (404, 404),
            "{}",
            theirs.text()
        );
    }
}

#[test]
fn a_new_sqlite_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::temp_dir().join(format!("basisset-mode-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let ok = Command::new(BIN)
        .args([
            "--database-url",
            path.to_str().unwrap(),
            "--log",
            "warn",
            "migrate",
        ])
        .status()
        .unwrap();
    assert!(ok.success());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    assert_eq!(mode, 0o600, "{mode:o}");
}

#[test]
fn secrets_in_query_strings_are_not_logged() {
    let uri: actix_web::http::Uri =
        "/api/v1/views/aggregate?indicator=x&access_token=abc.def&client_secret=s3&Token=t"
            .parse()
            .unwrap();
    let t = basisset::server::redacted_target(&uri);
    assert!(
        !t.contains("abc.def") && !t.contains("s3") && !t.contains("=t"),
        "{t}"
    );
    assert!(
        t.contains("indicator=x") && t.contains("access_token=REDACTED"),
        "{t}"
    );
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    // Enough organisations that the listing does not fit in a pipe's buffer.
    let db = TestDb::new();
    let (state, _) = basisset::app::build_state(db.connect(1), test_config()).unwrap();
    let mut conn = state.db.get().unwrap();
    for i in 0..150 {
        let input: basisset::registry::organisations::NewOrganisation =
            serde_json::from_value(json!({
                "name": format!("Wijkteam met een lange naam nummer {i}"), "teamType": "wmo",
                "orgForm": "stichting", "municipalities": [{"code": "GM0363"}, {"code": "GM0344"}]
            }))
            .unwrap();
        basisset::registry::organisations::create(
            &mut conn,
            &state.reference,
            &basisset::auth::Caller::System,
            input,
        )
        .unwrap();
    }
    let mut child = Command::new(BIN)
        .args([
            "--database-url",
            &db.url,
            "--log",
            "warn",
            "organisation",
            "list",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe, as `| head -n 1` does.
    {
        use std::io::BufRead;
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.starts_with('['), "{first}");
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{stderr}");
}
