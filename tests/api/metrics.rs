//! Issue 15, item 5: Prometheus `/metrics`. The scrape parses as the text exposition format,
//! its counters rise with requests, and it is refused without the token or from elsewhere.
//!
//! Counters are process-wide and tests run in parallel, so request and cache counters are
//! checked to rise by at least what this test did; submission counts come from this test's own
//! database and are exact.

use std::collections::BTreeMap;

use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::*;

const LOOPBACK: &str = "127.0.0.1:45000";

/// One sample line: `name{labels} value` (labels optional).
fn parse_sample(line: &str) -> Option<(String, f64)> {
    let (series, value) = line.rsplit_once(' ')?;
    let value: f64 = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    let name_end = series.find('{').unwrap_or(series.len());
    let name = &series[..name_end];
    let name_ok = !name.is_empty()
        && name.chars().enumerate().all(|(i, c)| {
            c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
        });
    if !name_ok {
        return None;
    }
    let labels = &series[name_end..];
    if !labels.is_empty() {
        let inner = labels.strip_prefix('{')?.strip_suffix('}')?;
        // label="value" pairs, values with \\ \" \n escapes.
        let mut rest = inner;
        while !rest.is_empty() {
            let (key, after) = rest.split_once("=\"")?;
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            let mut chars = after.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next()?;
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            rest = &after[end? + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    Some((series.to_owned(), value))
}

/// Every line a `# HELP`/`# TYPE` comment or a sample; the samples by series.
#[track_caller]
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) =
            parse_sample(line).unwrap_or_else(|| panic!("not a sample line: {line:?}"));
        assert!(
            samples.insert(series, value).is_none(),
            "duplicate series: {line}"
        );
    }
    samples
}

async fn scrape(app: &TestApp) -> BTreeMap<String, f64> {
    let res = app
        .send(
            TestRequest::get()
                .uri("/metrics")
                .peer_addr(LOOPBACK.parse().unwrap()),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    parse(&res.text())
}

fn get(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[actix_web::test]
async fn the_scrape_parses_and_its_counters_rise_with_requests() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let before = scrape(&app).await;
    assert_eq!(
        get(&before, "basisset_submissions{status=\"submitted\"}"),
        0.0
    );
    assert!(before.contains_key("basisset_db_pool_max_connections"));
    assert_eq!(get(&before, "basisset_database_up"), 1.0);

    for _ in 0..3 {
        assert_eq!(app.get("/healthz", None).await.status, 200);
    }
    assert_eq!(
        app.get(&format!("/api/v1/organisations/{}", f.org_a), None)
            .await
            .status,
        200
    );
    assert_eq!(app.get("/no/such/route/4711", None).await.status, 404);
    let res = app
        .post_json(
            &format!("/api/v1/organisations/{}/submissions?submit=true", f.org_a),
            Some(&f.team_a),
            &json!({"period": "2023", "figures": [{"indicator": "klachten", "value": 2}]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let view = "/api/v1/views/aggregate?indicator=klachten&period=2023";
    for _ in 0..2 {
        assert_eq!(app.get(view, Some(&f.associatie)).await.status, 200);
    }

    let text = app
        .send(
            TestRequest::get()
                .uri("/metrics")
                .peer_addr(LOOPBACK.parse().unwrap()),
        )
        .await
        .text();
    let after = parse(&text);
    let healthz = "basisset_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}";
    assert!(
        get(&after, healthz) >= get(&before, healthz) + 3.0,
        "{text}"
    );
    let count = "basisset_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"}";
    let inf = "basisset_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"}";
    assert!(get(&after, count) >= get(&before, count) + 3.0);
    assert_eq!(get(&after, count), get(&after, inf), "+Inf bucket = count");
    // The route pattern, never the raw path: ids and unknown paths add no series.
    assert!(
        after.contains_key(
            "basisset_http_requests_total{method=\"GET\",route=\"/api/v1/organisations/{id}\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(!text.contains(&format!("organisations/{}\"", f.org_a)));
    // (In the series' names and labels: a value such as a latency sum may hold those digits.)
    assert!(
        after.keys().all(|series| !series.contains("4711")),
        "{text}"
    );
    assert!(
        get(
            &after,
            "basisset_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"
        ) >= 1.0
    );
    // Submissions by status: this test's database, exact.
    assert_eq!(
        get(&after, "basisset_submissions{status=\"submitted\"}"),
        1.0
    );
    assert_eq!(get(&after, "basisset_submissions{status=\"draft\"}"), 0.0);
    // The same view twice: at least one miss, then at least one hit.
    for c in [
        "basisset_view_cache_misses_total",
        "basisset_view_cache_hits_total",
    ] {
        assert!(get(&after, c) >= get(&before, c) + 1.0, "{c}: {text}");
    }
    // The pool: within its bounds.
    let max = get(&after, "basisset_db_pool_max_connections");
    assert_eq!(max, 4.0, "the tests' pool size");
    assert!(
        get(&after, "basisset_db_pool_idle_connections")
            <= get(&after, "basisset_db_pool_connections")
    );
    assert!(get(&after, "basisset_db_pool_connections") <= max);
    assert!(text.contains("# TYPE basisset_http_request_duration_seconds histogram"));
    assert!(text.contains("# TYPE basisset_rollup_lag_seconds gauge"));
    // Roll-ups change in the transaction of each change: no lag; nor are the versions behind.
    assert_eq!(get(&after, "basisset_rollup_lag_seconds"), 0.0);
    assert_eq!(get(&after, "basisset_versions_behind"), 0.0);
    assert!(get(&after, "basisset_version_reloads_total") >= 1.0);
}

#[actix_web::test]
async fn without_a_token_only_loopback_without_a_proxy_may_scrape() {
    let app = TestApp::spawn().await;
    // Another address.
    let res = app
        .send(
            TestRequest::get()
                .uri("/metrics")
                .peer_addr("192.0.2.7:45000".parse().unwrap()),
        )
        .await;
    res.assert_problem(403, "FORBIDDEN");
    // No known peer.
    app.get("/metrics", None)
        .await
        .assert_problem(403, "FORBIDDEN");
    // Loopback, but relayed by a proxy (nginx on the same host): the client is elsewhere.
    for (name, value) in [
        ("X-Forwarded-For", "198.51.100.4"),
        ("Forwarded", "for=198.51.100.4"),
        ("X-Real-IP", "198.51.100.4"),
    ] {
        let res = app
            .send(
                TestRequest::get()
                    .uri("/metrics")
                    .peer_addr(LOOPBACK.parse().unwrap())
                    .insert_header((name, value)),
            )
            .await;
        res.assert_problem(403, "FORBIDDEN");
    }
    // IPv6 loopback is loopback.
    let res = app
        .send(
            TestRequest::get()
                .uri("/metrics")
                .peer_addr("[::1]:45000".parse().unwrap()),
        )
        .await;
    assert_eq!(res.status, 200);
}

#[actix_web::test]
async fn with_a_token_every_scrape_needs_it() {
    let mut config = test_config();
    config.ops.metrics_token = Some("s3cret-metrics-token".into());
    let app = TestApp::spawn_with(config).await;
    let req = |auth: Option<&str>, peer: &str| {
        let mut r = TestRequest::get()
            .uri("/metrics")
            .peer_addr(peer.parse().unwrap());
        if let Some(a) = auth {
            r = r.insert_header(("Authorization", a.to_owned()));
        }
        r
    };
    // Loopback alone is not enough once a token is set.
    app.send(req(None, LOOPBACK))
        .await
        .assert_problem(401, "UNAUTHENTICATED");
    app.send(req(Some("Bearer wrong-token"), "192.0.2.7:1"))
        .await
        .assert_problem(401, "UNAUTHENTICATED");
    app.send(req(Some("Bearer s3cret-metrics-tokenX"), LOOPBACK))
        .await
        .assert_problem(401, "UNAUTHENTICATED");
    // An API access token is not the metrics token.
    let f = app.fixture().await;
    app.send(req(Some(&format!("Bearer {}", f.admin)), LOOPBACK))
        .await
        .assert_problem(401, "UNAUTHENTICATED");
    // The token, from anywhere (the scraper may be on another host).
    let res = app
        .send(req(Some("Bearer s3cret-metrics-token"), "192.0.2.7:1"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    parse(&res.text());
}
