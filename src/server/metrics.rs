//! Prometheus metrics at `GET /metrics`, in the text exposition format 0.0.4, written by hand
//! (a handful of counters, gauges and one histogram family need no metrics library).
//!
//! What is measured:
//! - every request, by method, matched route *pattern* (`/api/v1/organisations/{id}`, never the
//!   raw path, so the number of series stays bounded) and status: a counter and a latency
//!   histogram (time until the response head is ready);
//! - the database pool (r2d2): open, idle and maximum connections, read at scrape time;
//! - the view cache: hits and misses (this instance's [`crate::views::cache::ViewCache`]);
//! - submissions by the status of their newest revision, queried at scrape time;
//! - lag: the roll-ups are kept in the transaction of each change (`basisset_rollup_lag_seconds`
//!   is 0 by construction); what can lag is an instance's in-memory versions behind the
//!   database (`basisset_versions_behind`, read at scrape time) and how often they were read.
//!
//! Counters live in process-wide atomics: they describe this instance (each instance behind a
//! load balancer is scraped on its own); the submission counts describe the shared database.
//!
//! Access ([`authorize`]): with `--metrics-token` every scrape must send
//! `Authorization: Bearer <token>`; without one, only a loopback peer that came through no proxy
//! (no `X-Forwarded-For`, `Forwarded` or `X-Real-IP`) is answered.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::AppState;
use crate::error::{AppError, AppResult};

/// Upper bounds (seconds) of the latency histogram buckets; `+Inf` is implied.
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    /// Per bucket, not cumulative; the last slot is `+Inf`.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        let slot = BUCKETS
            .iter()
            .position(|le| seconds <= *le)
            .unwrap_or(BUCKETS.len());
        self.counts[slot] += 1;
        self.sum += seconds;
        self.count += 1;
    }
}

#[derive(Default)]
struct Requests {
    /// (method, route, status) → count.
    counts: BTreeMap<(&'static str, String, u16), u64>,
    /// (method, route) → latency.
    latency: BTreeMap<(&'static str, String), Histogram>,
}

static REQUESTS: Mutex<Requests> = Mutex::new(Requests {
    counts: BTreeMap::new(),
    latency: BTreeMap::new(),
});

/// The method as a label: the standard ones by name, anything else as `other` (bounded).
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Record one answered request. `route` is the matched pattern, `None` when no route matched
/// (recorded as `unmatched`, whatever the path was).
pub fn observe_request(
    method: &actix_web::http::Method,
    route: Option<String>,
    status: u16,
    elapsed: Duration,
) {
    let method = method_label(method);
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    let mut r = REQUESTS.lock().unwrap_or_else(|e| e.into_inner());
    *r.counts.entry((method, route.clone(), status)).or_default() += 1;
    r.latency
        .entry((method, route))
        .or_default()
        .observe(elapsed.as_secs_f64());
}

/// A label value, escaped as the exposition format wants (backslash, quote, newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value: Prometheus spells the special floats `NaN`, `+Inf`, `-Inf`.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The database pool as read at scrape time.
pub struct PoolGauges {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

/// Everything read at scrape time besides the process-wide counters.
pub struct Scrape {
    pub pool: PoolGauges,
    /// Submissions by the status of their newest revision; `None` when the database could not
    /// be read (then `basisset_submissions` is left out and `basisset_database_up` is 0).
    pub submissions: Option<BTreeMap<String, i64>>,
    /// View cache hits and misses.
    pub cache: (u64, u64),
    /// Data versions this instance's in-memory versions are behind the database (if read).
    pub versions_behind: Option<i64>,
    /// Times the versions were read from the database.
    pub version_reloads: u64,
}

/// The whole exposition.
pub fn render(scrape: &Scrape) -> String {
    let mut out = String::new();
    {
        let r = REQUESTS.lock().unwrap_or_else(|e| e.into_inner());
        family(
            &mut out,
            "basisset_http_requests_total",
            "counter",
            "HTTP requests answered, by method, matched route pattern and status.",
        );
        for ((method, route, status), n) in &r.counts {
            let _ = writeln!(
                out,
                "basisset_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
        family(
            &mut out,
            "basisset_http_request_duration_seconds",
            "histogram",
            "Seconds until the response head was ready, by method and matched route pattern.",
        );
        for ((method, route), h) in &r.latency {
            let route = label(route);
            let mut cumulative = 0;
            for (i, n) in h.counts.iter().enumerate() {
                cumulative += n;
                let le = BUCKETS.get(i).map_or("+Inf".to_owned(), |b| number(*b));
                let _ = writeln!(
                    out,
                    "basisset_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "basisset_http_request_duration_seconds_sum{{method=\"{method}\",route=\"{route}\"}} {}",
                number(h.sum)
            );
            let _ = writeln!(
                out,
                "basisset_http_request_duration_seconds_count{{method=\"{method}\",route=\"{route}\"}} {}",
                h.count
            );
        }
    }
    let gauges = [
        (
            "basisset_db_pool_connections",
            "Open database connections in this instance's pool (in use plus idle).",
            scrape.pool.connections,
        ),
        (
            "basisset_db_pool_idle_connections",
            "Idle database connections in this instance's pool.",
            scrape.pool.idle,
        ),
        (
            "basisset_db_pool_max_connections",
            "The most connections this instance's pool opens (--pool-size).",
            scrape.pool.max,
        ),
    ];
    for (name, help, v) in gauges {
        family(&mut out, name, "gauge", help);
        let _ = writeln!(out, "{name} {v}");
    }
    for (name, help, counter) in [
        (
            "basisset_view_cache_hits_total",
            "Views answered from this instance's view cache.",
            scrape.cache.0,
        ),
        (
            "basisset_view_cache_misses_total",
            "Views computed because this instance's view cache had no entry valid at the current versions.",
            scrape.cache.1,
        ),
        (
            "basisset_version_reloads_total",
            "Times this instance read the data versions from the database (PostgreSQL: at start, after its own writes, on a gap or the safety check; SQLite: per view request).",
            scrape.version_reloads,
        ),
    ] {
        family(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {counter}");
    }
    family(
        &mut out,
        "basisset_rollup_lag_seconds",
        "gauge",
        "Seconds the roll-ups are behind the newest committed change: 0, they change in the same transaction.",
    );
    let _ = writeln!(out, "basisset_rollup_lag_seconds 0");
    if let Some(behind) = scrape.versions_behind {
        family(
            &mut out,
            "basisset_versions_behind",
            "gauge",
            "Data versions this instance's in-memory versions are behind the database (0 when current).",
        );
        let _ = writeln!(out, "basisset_versions_behind {behind}");
    }
    family(
        &mut out,
        "basisset_database_up",
        "gauge",
        "1 when the scrape could read the database, else 0.",
    );
    let _ = writeln!(
        out,
        "basisset_database_up {}",
        u8::from(scrape.submissions.is_some())
    );
    if let Some(by_status) = &scrape.submissions {
        family(
            &mut out,
            "basisset_submissions",
            "gauge",
            "Submissions in the database by the status of their newest revision.",
        );
        for status in crate::submissions::Status::ALL {
            let n = by_status.get(status.as_str()).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "basisset_submissions{{status=\"{}\"}} {n}",
                status.as_str()
            );
        }
    }
    out
}

/// Submissions by the status of their newest revision (one query, both backends).
pub fn submissions_by_status(conn: &mut crate::db::DbConn) -> AppResult<BTreeMap<String, i64>> {
    use diesel::RunQueryDsl;
    use diesel::sql_types::{BigInt, Text};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT r.status AS status, COUNT(*) AS n FROM submissions s \
         JOIN submission_revisions r ON r.submission_id = s.id AND r.revision = s.latest_revision \
         GROUP BY r.status",
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.status, r.n)).collect())
}

/// Whether this request may read the metrics: see the module documentation.
pub fn authorize(req: &HttpRequest, token: Option<&str>) -> AppResult<()> {
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        let sent = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        return match sent {
            Some(sent) if constant_time_eq(sent.as_bytes(), token.as_bytes()) => Ok(()),
            Some(_) => Err(AppError::unauthenticated(
                "the metrics token is not valid: send Authorization: Bearer <--metrics-token>",
            )),
            None => Err(AppError::unauthenticated(
                "/metrics needs the metrics token: send Authorization: Bearer <--metrics-token>",
            )),
        };
    }
    let loopback = req.peer_addr().is_some_and(|a| match a.ip() {
        std::net::IpAddr::V4(ip) => ip.is_loopback(),
        std::net::IpAddr::V6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    });
    let proxied = ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|h| req.headers().contains_key(*h));
    if loopback && !proxied {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "/metrics is served only to loopback addresses, not through a proxy, unless \
             --metrics-token is set",
        ))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /metrics`.
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    authorize(&req, state.config.ops.metrics_token.as_deref())?;
    let db = state.db.clone();
    let cache = state.view_cache.clone();
    let scrape = web::block(move || {
        let (pool, max) = db.pool_state();
        let pool = PoolGauges {
            connections: pool.connections,
            idle: pool.idle_connections,
            max,
        };
        // A short wait: a scrape must not queue behind requests for an exhausted pool.
        let read = db.get_timeout(Duration::from_secs(1)).and_then(|mut conn| {
            let by_status = submissions_by_status(&mut conn)?;
            let in_memory = cache.versions().trusted_snapshot();
            let behind = match in_memory {
                Some(s) => crate::db::data_version(&mut conn)? - s.data,
                None => 0, // read per request
            };
            Ok((by_status, behind))
        });
        let read = read
            .inspect_err(|e| tracing::warn!(error = %e, "metrics: database not readable"))
            .ok();
        Scrape {
            pool,
            submissions: read.as_ref().map(|r| r.0.clone()),
            cache: cache.counts(),
            versions_behind: read.map(|r| r.1.max(0)),
            version_reloads: cache.versions().reloads(),
        }
    })
    .await
    .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(render(&scrape)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_in_inf() {
        observe_request(
            &actix_web::http::Method::GET,
            Some("/unit-test/{x}".into()),
            200,
            Duration::from_millis(3),
        );
        observe_request(
            &actix_web::http::Method::GET,
            Some("/unit-test/{x}".into()),
            200,
            Duration::from_secs(20),
        );
        let text = render(&Scrape {
            pool: PoolGauges {
                connections: 2,
                idle: 1,
                max: 4,
            },
            submissions: None,
            cache: (0, 0),
            versions_behind: None,
            version_reloads: 0,
        });
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("{prefix} in {text}"))
                .rsplit(' ')
                .next()
                .unwrap()
                .to_owned()
        };
        let b = "basisset_http_request_duration_seconds_bucket{method=\"GET\",route=\"/unit-test/{x}\",";
        assert_eq!(line(&format!("{b}le=\"0.001\"}}")), "0");
        assert_eq!(line(&format!("{b}le=\"0.005\"}}")), "1");
        assert_eq!(line(&format!("{b}le=\"10\"}}")), "1");
        assert_eq!(line(&format!("{b}le=\"+Inf\"}}")), "2");
        assert_eq!(line("basisset_db_pool_idle_connections "), "1");
        assert_eq!(line("basisset_database_up "), "0");
        assert!(!text.contains("basisset_submissions{"));
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
