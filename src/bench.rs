//! `basisset bench`: the performance benchmarks behind BENCHMARKS.md, measured against the real
//! service (started in-process on a loopback port, as many workers as cores) and the real
//! database, with the load generator in the same process.
//!
//! - views: the demo data set at national scale; median latency of grouped aggregates against
//!   the equivalent hand-written SQL (pooled value, organisations, quartiles per group) run on
//!   the same database in the same run; throughput with N concurrent keep-alive clients.
//! - workloads: as users load the views: thousands of distinct public URLs, each once (cache
//!   misses); database transactions during cache hits; a reporting deadline (a team submitting
//!   every 200 ms while readers use 300 distinct URLs).
//! - peer: the same grouped aggregate (a flow indicator's counted figures summed per
//!   organisation, for many indicators and periods) against PostGraphile 5 + pg-aggregates
//!   (`bench/peer`), the two taking turns in one run with the same clients and seconds.
//! - ingest: one 10,000-figure submission validated and stored; sustained ingest through the
//!   API against a raw COPY of the same rows into the same table.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::json;

use crate::app::{self, AppState};
use crate::auth::{Caller, Role, clients};
use crate::catalogue::Kind;
use crate::config::{BenchArgs, BenchKind, GlobalArgs, ServeArgs};
use crate::db::{Backend, DbConn};
use crate::error::{AppError, AppResult};
use crate::period::PeriodType;
use crate::registry::organisations::{self, NewOrganisation, ServedMunicipalityInput};
use crate::registry::{OrgForm, TeamType};

/// A keep-alive HTTP/1.1 client, enough for benchmarking our own server.
pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    host: String,
}

impl Client {
    pub fn connect(addr: &str) -> std::io::Result<Client> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        Ok(Client {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
            host: addr.to_owned(),
        })
    }

    /// Send a request and read the whole response; returns (status, body). A connection the
    /// server closed while idle (keep-alive timeout) is opened again, once.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        match self.exchange(method, path, headers, body) {
            Ok(r) => Ok(r),
            Err(_) => {
                *self = Client::connect(&self.host.clone())?;
                self.exchange(method, path, headers, body)
            }
        }
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(k);
            head.push_str(": ");
            head.push_str(v);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        self.writer.write_all(head.as_bytes())?;
        self.writer.write_all(body)?;
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        self.reader.read_exact(&mut body)?;
        Ok((status, body))
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Start the service in-process on a free loopback port.
fn start_server(state: AppState, workers: usize) -> (String, actix_web::dev::ServerHandle) {
    state.start_background();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let sys = actix_web::rt::System::new();
        sys.block_on(async move {
            let server = actix_web::HttpServer::new(move || crate::server::app(state.clone()))
                .workers(workers)
                .bind("127.0.0.1:0")
                .expect("bind");
            let addr = server.addrs()[0].to_string();
            let server = server.run();
            tx.send((addr, server.handle())).expect("send");
            let _ = server.await;
        });
    });
    rx.recv().expect("server started")
}

pub fn run(global: &GlobalArgs, args: &BenchArgs) -> AppResult<()> {
    let db = app::connect(global)?;
    let mut config = ServeArgs::defaults();
    config.auth.jwt_keys = Some(
        serde_json::to_string(&crate::auth::keys::generate("EdDSA")?)
            .map_err(|e| AppError::internal(e.to_string()))?,
    );
    config.views.min_organisations = 3;
    let mut uncached = config.clone();
    uncached.views.view_cache_entries = 0;
    let (state, _) = app::build_state(db.clone(), config)?;
    let (state_uncached, _) = app::build_state(db.clone(), uncached)?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    println!("# basisset benchmark");
    println!();
    println!("- database: {}", db.target().redacted());
    println!("- cores: {cores}; server workers: {cores}; load generator in the same process");
    if let Some(v) = server_version(&mut *db.get()?) {
        println!("- database server: {v}");
    }
    println!();
    if matches!(args.which, BenchKind::Views | BenchKind::All) {
        views(&state, &state_uncached, args, cores)?;
    }
    if matches!(args.which, BenchKind::Workloads | BenchKind::All) {
        workloads(&state, args, cores)?;
    }
    if args.which == BenchKind::Peer || (args.which == BenchKind::All && args.peer_url.is_some()) {
        peer(&state, &state_uncached, args, cores)?;
    }
    if matches!(args.which, BenchKind::Ingest | BenchKind::All) {
        ingest(&state, args, cores)?;
    }
    Ok(())
}

fn server_version(conn: &mut DbConn) -> Option<String> {
    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let sql = match conn.backend() {
        Backend::Postgres => "SELECT version() AS v",
        Backend::Sqlite => "SELECT 'SQLite ' || sqlite_version() AS v",
    };
    diesel::sql_query(sql)
        .load::<V>(conn)
        .ok()
        .and_then(|mut v| v.pop())
        .map(|v| v.v)
}

/// One benchmarked view query and its hand-written SQL equivalent.
struct Case {
    name: &'static str,
    path: String,
    sql: String,
}

/// The hand-written equivalent of a grouped aggregate: per organisation, then per group the
/// pooled value, the number of organisations and the quartiles of per-organisation values.
fn equivalent_sql(indicator: &str, kind: Kind, from: &str, to: &str, group: &str) -> String {
    let (per_org, pooled) = match kind {
        Kind::Ratio => (
            "SUM(f.numerator)::float8 AS a, SUM(f.denominator)::float8 AS b",
            "100.0 * SUM(a) / NULLIF(SUM(b), 0)",
        ),
        Kind::Survey => (
            "SUM(f.value * f.respondents) AS a, SUM(f.respondents)::float8 AS b",
            "SUM(a) / NULLIF(SUM(b), 0)",
        ),
        Kind::MeanDuration => (
            "SUM(f.value * f.cases) AS a, SUM(f.cases)::float8 AS b",
            "SUM(a) / NULLIF(SUM(b), 0)",
        ),
        _ => ("SUM(f.value) AS a, 1.0::float8 AS b", "SUM(a)"),
    };
    let org_value = match kind {
        Kind::Ratio => "100.0 * a / NULLIF(b, 0)",
        Kind::Survey | Kind::MeanDuration => "a / NULLIF(b, 0)",
        _ => "a",
    };
    format!(
        "WITH per_org AS (
           SELECT f.organisation_id, {per_org}
           FROM figures f
           WHERE f.counted AND f.indicator = '{indicator}'
             AND f.period_start >= '{from}' AND f.period_start <= '{to}' AND f.period_end <= '{to}'
           GROUP BY f.organisation_id)
         SELECT o.{group} AS grp, {pooled} AS value, COUNT(*) AS organisations,
                percentile_cont(0.25) WITHIN GROUP (ORDER BY {org_value}) AS q1,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY {org_value}) AS median,
                percentile_cont(0.75) WITHIN GROUP (ORDER BY {org_value}) AS q3
         FROM per_org JOIN organisations o ON o.id = per_org.organisation_id
         GROUP BY o.{group}"
    )
}

fn run_sql(conn: &mut DbConn, sql: &str) -> AppResult<usize> {
    #[derive(QueryableByName)]
    #[allow(dead_code)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        grp: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
        value: Option<f64>,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        organisations: i64,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
        q1: Option<f64>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
        median: Option<f64>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
        q3: Option<f64>,
    }
    Ok(diesel::sql_query(sql).load::<Row>(conn)?.len())
}

fn truncated(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.chars().take(400).collect()
}

/// One request's time in ms (an error unless it answers 200).
fn timed(client: &mut Client, path: &str, headers: &[(&str, &str)]) -> AppResult<f64> {
    let io = |e: std::io::Error| AppError::internal(e.to_string());
    let t = Instant::now();
    let (status, body) = client.request("GET", path, headers, b"").map_err(io)?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    if status != 200 {
        return Err(AppError::internal(format!(
            "{path}: {status} {}",
            truncated(&body)
        )));
    }
    Ok(ms)
}

/// Requests per second with `clients` keep-alive clients cycling through `paths` (with an
/// `Authorization` header if `auth` is given).
fn throughput(
    addr: &str,
    paths: &[String],
    auth: Option<&str>,
    clients: usize,
    seconds: u64,
) -> (f64, u64, Vec<f64>) {
    drive(
        addr,
        &auth_header(auth),
        &gets(paths),
        ok,
        clients,
        Some(seconds),
    )
}

/// GET requests of `paths`, as [`drive`] sends them.
fn gets(paths: &[String]) -> Vec<Call> {
    paths
        .iter()
        .map(|p| Call {
            method: "GET",
            path: p.clone(),
            body: Vec::new(),
        })
        .collect()
}

/// The `Authorization` header, if any.
fn auth_header(auth: Option<&str>) -> Vec<(String, String)> {
    auth.map(|a| ("Authorization".to_owned(), a.to_owned()))
        .into_iter()
        .collect()
}

/// An answer that counts: status 200.
fn ok(status: u16, _: &[u8]) -> bool {
    status == 200
}

/// A temporary Associatie client for a benchmark (removed with [`remove_client`]).
fn analyst(conn: &mut DbConn, name: &str) -> AppResult<clients::IssuedCredentials> {
    clients::create(
        conn,
        &Caller::System,
        clients::NewClient {
            name: name.into(),
            role: Role::Associatie,
            organisation_id: None,
        },
    )
}

fn remove_client(conn: &mut DbConn, creds: &clients::IssuedCredentials) -> AppResult<()> {
    use crate::db::schema::api_clients;
    diesel::delete(api_clients::table.filter(api_clients::id.eq(&creds.client_id)))
        .execute(conn)?;
    Ok(())
}

/// The national demo data set: seeded (and analysed) in an empty database, refused in a database
/// holding other data. Returns the number of figures.
fn demo_data_set(state: &AppState, args: &BenchArgs) -> AppResult<i64> {
    let mut conn = state.db.get()?;
    let figures: i64 = crate::db::schema::figures::table
        .count()
        .get_result(&mut conn)?;
    if figures < 600_000 {
        let orgs: i64 = crate::db::schema::organisations::table
            .count()
            .get_result(&mut conn)?;
        if orgs > 0 {
            return Err(AppError::conflict(
                "DATABASE_NOT_EMPTY",
                "the view benchmark needs the demo data set in an otherwise empty database",
            ));
        }
        let t = Instant::now();
        let report = crate::demo::seed(
            &mut conn,
            &state.catalogue,
            &state.reference,
            &crate::demo::DemoOptions::new(args.organisations, 2017, None, 2022),
        )?;
        // Let the planner know the new data, as autovacuum would in production.
        let analyze = match conn.backend() {
            Backend::Postgres => "VACUUM ANALYZE",
            Backend::Sqlite => "ANALYZE",
        };
        diesel::sql_query(analyze).execute(&mut conn)?;
        println!(
            "Seeded the demo data set: {} organisations, {} submissions, {} figures in {:.1} s \
             (then {analyze}).\n",
            report.organisations,
            report.submissions,
            report.figures,
            t.elapsed().as_secs_f64()
        );
    }
    let figures: i64 = crate::db::schema::figures::table
        .count()
        .get_result(&mut conn)?;
    Ok(figures)
}

fn views(state: &AppState, uncached: &AppState, args: &BenchArgs, cores: usize) -> AppResult<()> {
    let mut conn = state.db.get()?;
    let figures = demo_data_set(state, args)?;
    println!("## Views ({figures} figures)\n");
    let backend = conn.backend();
    let year = chrono::Datelike::year(&chrono::Utc::now().date_naive()) - 2;
    let cases = [
        (
            "survey, one year, by team type",
            "cev_helpend",
            Kind::Survey,
            "teamType",
            "team_type",
        ),
        (
            "ratio, one year, by provides-help",
            "jeugd_trajecten_crisis",
            Kind::Ratio,
            "providesHelp",
            "provides_help",
        ),
        (
            "flow rolled up from quarters, by organisation form",
            "nieuwe_aanmeldingen",
            Kind::Flow,
            "orgForm",
            "org_form",
        ),
        (
            "mean duration from quarters, by team type",
            "wachttijd_dagen",
            Kind::MeanDuration,
            "teamType",
            "team_type",
        ),
    ]
    .map(|(name, ind, kind, dim, col)| Case {
        name,
        path: format!("/api/v1/views/aggregate?indicator={ind}&period={year}&groupBy={dim}"),
        sql: equivalent_sql(
            ind,
            kind,
            &format!("{year}-01-01"),
            &format!("{year}-12-31"),
            col,
        ),
    });
    let (addr_cold, handle_cold) = start_server(uncached.clone(), cores);
    let (addr, handle) = start_server(state.clone(), cores);
    let io = |e: std::io::Error| AppError::internal(e.to_string());
    // The Associatie sees exact figures: its views are pooled from the roll-ups on every
    // request when the cache is off (the public's are cut from protected table families).
    let analyst = analyst(&mut conn, "benchmark analyst")?;
    let auth = bearer(&addr_cold, &analyst)?;
    let associatie = [("Authorization", auth.as_str())];
    let mut cold = Client::connect(&addr_cold).map_err(io)?;
    let mut warm = Client::connect(&addr).map_err(io)?;
    let rounds = args.rounds.max(5);
    println!(
        "Median latency of {rounds} sequential requests per query (after a warm-up; the four \
         columns take turns, one request each), ms. \
         \"computed\": view cache off (the public's answer is cut from the protected table \
         family, which stays cached until its figures change; the Associatie's exact answer is \
         pooled from the roll-ups on every request); \"cached\": the default (results reused \
         until their figures change).\n"
    );
    println!(
        "| query | hand-written SQL | public, computed | ratio | Associatie, computed | ratio \
         | public, cached | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let (mut worst_cold, mut worst_exact, mut worst_warm): (f64, f64, f64) = (0.0, 0.0, 0.0);
    for case in &cases {
        // The four take turns, one request each per round, so that whatever else the machine
        // does at a moment falls on all of them alike.
        let postgres = backend == Backend::Postgres;
        let mut times: [Vec<f64>; 4] = Default::default();
        for round in 0..rounds + rounds / 5 {
            let t = [
                timed(&mut cold, &case.path, &[])?,
                timed(&mut cold, &case.path, &associatie)?,
                timed(&mut warm, &case.path, &[])?,
                if postgres {
                    let t = Instant::now();
                    run_sql(&mut conn, &case.sql)?;
                    t.elapsed().as_secs_f64() * 1000.0
                } else {
                    0.0
                },
            ];
            if round >= rounds / 5 {
                // (the first fifth is a warm-up)
                for (all, t) in times.iter_mut().zip(t) {
                    all.push(t);
                }
            }
        }
        let [mut cold_t, mut exact_t, mut warm_t, mut sql] = times;
        let (s_cold, s_exact, s_warm) = (
            median(&mut cold_t),
            median(&mut exact_t),
            median(&mut warm_t),
        );
        if postgres {
            let q = median(&mut sql);
            worst_cold = worst_cold.max(s_cold / q);
            worst_exact = worst_exact.max(s_exact / q);
            worst_warm = worst_warm.max(s_warm / q);
            println!(
                "| {} | {q:.2} | {s_cold:.2} | {:.2} | {s_exact:.2} | {:.2} | {s_warm:.2} | {:.2} |",
                case.name,
                s_cold / q,
                s_exact / q,
                s_warm / q
            );
        } else {
            println!(
                "| {} | (PostgreSQL only) | {s_cold:.2} | | {s_exact:.2} | | {s_warm:.2} | |",
                case.name
            );
        }
    }
    if backend == Backend::Postgres {
        println!(
            "\nWorst ratio to the hand-written SQL: public computed {worst_cold:.2}, Associatie \
             computed {worst_exact:.2}, cached {worst_warm:.2} (target: at most 1.0).\n"
        );
    }
    let paths: Vec<String> = cases.iter().map(|c| c.path.clone()).collect();
    let clients = args.clients.max(1);
    println!(
        "Throughput, {clients} concurrent keep-alive clients cycling through the four queries:\n"
    );
    println!("| service | requests/s | errors | median ms | p95 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    for (label, address, auth) in [
        ("public, cached (default)", &addr, None),
        ("public, computed (cache off)", &addr_cold, None),
        (
            "Associatie, computed (cache off)",
            &addr_cold,
            Some(auth.as_str()),
        ),
    ] {
        let (rate, errors, mut lat) = throughput(address, &paths, auth, clients, args.seconds);
        println!(
            "| {label} | **{rate:.0}** | {errors} | {:.2} | {:.2} | {:.2} |",
            median(&mut lat),
            pct(&mut lat, 0.95),
            pct(&mut lat, 0.99)
        );
    }
    remove_client(&mut conn, &analyst)?;
    println!("\nTarget: at least 1,000 requests/s.\n");
    actix_web::rt::System::new().block_on(async {
        handle.stop(true).await;
        handle_cold.stop(true).await;
    });
    Ok(())
}

fn ingest(state: &AppState, args: &BenchArgs, cores: usize) -> AppResult<()> {
    let mut conn = state.db.get()?;
    let reference = state.reference.clone();
    let codes: Vec<String> = reference
        .list(None, None)?
        .iter()
        .take(250)
        .map(|m| m.code.clone())
        .collect();
    let per_muni = args.figures.div_ceil(codes.len()).max(1);
    let indicators: Vec<&crate::catalogue::Indicator> = state
        .catalogue
        .current()
        .indicators
        .iter()
        .filter(|i| {
            i.allows_period(PeriodType::Year) && i.applies_to(TeamType::Integraal) && !i.retired
        })
        .take(per_muni)
        .collect();
    let muni_count = args.figures.div_ceil(indicators.len()).min(codes.len());
    let codes = &codes[..muni_count];
    let org = organisations::create(
        &mut conn,
        &reference,
        &Caller::System,
        NewOrganisation {
            name: format!("Benchmark regio {}", chrono::Utc::now().timestamp()),
            kvk: None,
            team_type: TeamType::Integraal,
            org_form: OrgForm::Netwerk,
            self_registration: true,
            provides_help_declared: None,
            municipalities: codes
                .iter()
                .map(|c| ServedMunicipalityInput {
                    code: c.clone(),
                    valid_from: None,
                    valid_to: None,
                })
                .collect(),
            primary_municipality: None,
        },
    )?;
    let creds = clients::create(
        &mut conn,
        &Caller::System,
        clients::NewClient {
            name: "benchmark".into(),
            role: Role::Team,
            organisation_id: Some(org.id),
        },
    )?;
    let mut figures = Vec::with_capacity(args.figures);
    'outer: for c in codes {
        for i in &indicators {
            if figures.len() == args.figures {
                break 'outer;
            }
            let mut rng = crate::demo::Rng::new(figures.len() as u64);
            let v = match i.kind {
                Kind::Flow | Kind::Stock => {
                    json!({"indicator": i.code, "municipality": c, "value": 10 + rng.below(90)})
                }
                Kind::Amount => json!({"indicator": i.code, "municipality": c, "value": 2.5}),
                Kind::Ratio => {
                    json!({"indicator": i.code, "municipality": c, "numerator": 3, "denominator": 10 + rng.below(90)})
                }
                Kind::Survey => {
                    json!({"indicator": i.code, "municipality": c, "value": 70, "respondents": 100})
                }
                Kind::MeanDuration => {
                    json!({"indicator": i.code, "municipality": c, "value": 12.5, "cases": 50})
                }
            };
            figures.push(v);
        }
    }
    let n = figures.len();
    let last_year = chrono::Datelike::year(&chrono::Utc::now().date_naive()) - 1;
    let bodies: Vec<Vec<u8>> = (2015..=last_year)
        .map(|y| {
            json!({"period": y.to_string(), "figures": figures})
                .to_string()
                .into_bytes()
        })
        .collect();
    println!(
        "## Ingest ({n} figures per submission, {} bytes of JSON)\n",
        bodies[0].len()
    );
    let (addr, handle) = start_server(state.clone(), cores);
    let mut client = Client::connect(&addr).map_err(|e| AppError::internal(e.to_string()))?;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        creds.client_id, creds.client_secret
    );
    let (status, body) = client
        .request(
            "POST",
            "/oauth/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form.as_bytes(),
        )
        .map_err(|e| AppError::internal(e.to_string()))?;
    if status != 200 {
        return Err(AppError::internal(format!(
            "token: {status} {}",
            truncated(&body)
        )));
    }
    let token: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| AppError::internal(e.to_string()))?;
    let auth = format!(
        "Bearer {}",
        token["access_token"].as_str().unwrap_or_default()
    );
    let path = format!("/api/v1/organisations/{}/submissions", org.id);
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    // Single submissions, one after another.
    let mut single = Vec::new();
    for body in bodies.iter().take(5) {
        let t = Instant::now();
        let (status, out) = client
            .request("POST", &path, &headers, body)
            .map_err(|e| AppError::internal(e.to_string()))?;
        single.push(t.elapsed().as_secs_f64() * 1000.0);
        if status != 201 {
            return Err(AppError::internal(format!(
                "post: {status} {}",
                truncated(&out)
            )));
        }
    }
    let worst = single.iter().cloned().fold(0.0, f64::max);
    println!(
        "One submission of {n} figures, validated and stored (HTTP, JSON, validation, plausibility, \
         one transaction): median {:.0} ms, slowest {worst:.0} ms of 5. Target: under 1,000 ms.\n",
        median(&mut single)
    );
    // Sustained: as many clients as cores, each posting submissions back to back.
    let stop = Arc::new(AtomicBool::new(false));
    let stored = Arc::new(AtomicU64::new(0));
    let bodies = Arc::new(bodies);
    let mut threads = Vec::new();
    let started = Instant::now();
    for i in 0..cores {
        let (stop, stored, bodies, addr, path, auth) = (
            stop.clone(),
            stored.clone(),
            bodies.clone(),
            addr.clone(),
            path.clone(),
            auth.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let Ok(mut c) = Client::connect(&addr) else {
                return;
            };
            let mut k = i;
            while !stop.load(Ordering::Relaxed) {
                let h = [
                    ("Authorization", auth.as_str()),
                    ("Content-Type", "application/json"),
                ];
                if let Ok((201, _)) = c.request("POST", &path, &h, &bodies[k % bodies.len()]) {
                    stored.fetch_add(n as u64, Ordering::Relaxed);
                }
                k += cores;
            }
        }));
    }
    std::thread::sleep(Duration::from_secs(args.seconds.max(1)));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let api_rate = stored.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    actix_web::rt::System::new().block_on(handle.stop(true));
    // Raw COPY of the same rows into the same table, one transaction per submission's rows.
    let copy_rate = raw_copy_rate(&state.db, org.id, n, args.seconds, cores, false)?;
    let raw = match state.db.backend() {
        Backend::Postgres => "raw binary COPY",
        Backend::Sqlite => "raw multi-row INSERT",
    };
    println!("| path | figures/s |");
    println!("|---|---|");
    println!(
        "| API, {cores} concurrent clients (POST JSON, validation, plausibility, revision, bulk write) | {api_rate:.0} |"
    );
    println!(
        "| {raw} of the same rows, {cores} concurrent connections, one transaction per {n} rows | {copy_rate:.0} |"
    );
    if state.db.backend() == Backend::Postgres {
        let text_rate = raw_copy_rate(&state.db, org.id, n, args.seconds, cores, true)?;
        println!(
            "| raw text COPY (tab-separated, as `\\copy` sends it) of the same rows, {cores} concurrent connections, one transaction per {n} rows | {text_rate:.0} |"
        );
        println!(
            "\nAPI ingest reaches **{:.0}%** of the binary COPY rate (target: at least 60%) and \
             **{:.0}%** of the text COPY rate (target: at least 50%).\n",
            100.0 * api_rate / copy_rate,
            100.0 * api_rate / text_rate
        );
    } else {
        println!(
            "\nAPI ingest reaches **{:.0}%** of the {raw} rate.\n",
            100.0 * api_rate / copy_rate
        );
    }
    remove_bench_organisation(&mut conn, org.id)
}

/// The ingest benchmark's organisation and everything posted for it are synthetic load; remove
/// them so repeated runs measure the same database.
fn remove_bench_organisation(conn: &mut DbConn, org: i64) -> AppResult<()> {
    use crate::db::schema::{
        api_clients, figure_rollup_years, figure_rollups, figures, idempotency_keys,
        organisation_municipalities, organisations, submission_events, submission_revisions,
        submissions,
    };
    crate::db::transaction(conn, |conn| {
        let subs = submissions::table
            .filter(submissions::organisation_id.eq(org))
            .select(submissions::id);
        diesel::delete(figures::table.filter(figures::organisation_id.eq(org))).execute(conn)?;
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::organisation_id.eq(org)))
            .execute(conn)?;
        diesel::delete(
            submission_events::table.filter(submission_events::submission_id.eq_any(subs)),
        )
        .execute(conn)?;
        diesel::delete(
            submission_revisions::table.filter(submission_revisions::submission_id.eq_any(subs)),
        )
        .execute(conn)?;
        diesel::delete(submissions::table.filter(submissions::organisation_id.eq(org)))
            .execute(conn)?;
        diesel::delete(api_clients::table.filter(api_clients::organisation_id.eq(org)))
            .execute(conn)?;
        diesel::delete(
            organisation_municipalities::table
                .filter(organisation_municipalities::organisation_id.eq(org)),
        )
        .execute(conn)?;
        diesel::delete(organisations::table.find(org)).execute(conn)?;
        diesel::delete(figure_rollups::table.filter(figure_rollups::organisation_id.eq(org)))
            .execute(conn)?;
        diesel::delete(
            figure_rollup_years::table.filter(figure_rollup_years::organisation_id.eq(org)),
        )
        .execute(conn)?;
        crate::db::versions::bump_registry(conn).map(|_| ())
    })
}

/// Rows per second of a plain bulk load of rows shaped like a submission's figures, into the
/// figures table (COPY on PostgreSQL, multi-row INSERT on SQLite). The rows are removed after.
fn raw_copy_rate(
    db: &crate::db::Db,
    organisation: i64,
    n: usize,
    seconds: u64,
    concurrency: usize,
    text: bool,
) -> AppResult<f64> {
    let mut pooled = db.get()?;
    let conn: &mut DbConn = &mut pooled;
    use crate::db::schema::{figures, submission_revisions, submissions};
    let (revision, submission, period_start, period_end): (
        i64,
        i64,
        chrono::NaiveDate,
        chrono::NaiveDate,
    ) = submission_revisions::table
        .inner_join(submissions::table)
        .filter(submissions::organisation_id.eq(organisation))
        .select((
            submission_revisions::id,
            submissions::id,
            submissions::period_start,
            submissions::period_end,
        ))
        .first(conn)?;
    type Template = (
        String,
        Option<String>,
        Option<f64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let template: Vec<Template> = figures::table
        .filter(figures::revision_id.eq(revision))
        .select((
            figures::indicator,
            figures::municipality,
            figures::value,
            figures::numerator,
            figures::denominator,
            figures::respondents,
            figures::cases,
        ))
        .limit(n as i64)
        .load(conn)?;
    let max_before: i64 = figures::table
        .select(diesel::dsl::max(figures::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0);
    let rows: Vec<crate::submissions::store::NewFigureRow> = template
        .iter()
        .map(
            |(ind, muni, value, num, den, resp, cases)| crate::submissions::store::NewFigureRow {
                revision_id: revision,
                submission_id: submission,
                organisation_id: organisation,
                period_type: "year".into(),
                period_start,
                period_end,
                catalogue_version: "v1".into(),
                indicator: ind.clone(),
                municipality: muni.clone(),
                value: *value,
                numerator: *num,
                denominator: *den,
                respondents: *resp,
                cases: *cases,
                note: None,
                warnings: None,
                publication: "associatie".into(),
                counted: false,
            },
        )
        .collect();
    // The same rows as COPY's text format (tab-separated, \N for none), written once.
    let tsv = Arc::new(copy_text(&rows));
    let rows = Arc::new(rows);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (db, rows, tsv) = (db.clone(), rows.clone(), tsv.clone());
            std::thread::spawn(move || -> AppResult<usize> {
                let mut conn = db.get()?;
                let mut done = 0usize;
                while started.elapsed() < Duration::from_secs(seconds.max(1)) {
                    crate::db::transaction(&mut conn, |conn| match conn {
                        DbConn::Pg(c) if text => {
                            use crate::db::schema::figures as f;
                            use diesel::pg::CopyFormat;
                            diesel::copy_from(f::table)
                                .from_raw_data(
                                    (
                                        f::revision_id,
                                        f::submission_id,
                                        f::organisation_id,
                                        f::period_type,
                                        f::period_start,
                                        f::period_end,
                                        f::catalogue_version,
                                        f::indicator,
                                        f::municipality,
                                        f::value,
                                        f::numerator,
                                        f::denominator,
                                        f::respondents,
                                        f::cases,
                                        f::note,
                                        f::warnings,
                                        f::publication,
                                        f::counted,
                                    ),
                                    |w| {
                                        w.write_all(&tsv).map_err(|e| {
                                            diesel::result::Error::SerializationError(Box::new(e))
                                        })
                                    },
                                )
                                .with_format(CopyFormat::Text)
                                .execute(c)?;
                            Ok(())
                        }
                        _ => crate::submissions::store::insert_figures(conn, &rows),
                    })?;
                    done += rows.len();
                }
                Ok(done)
            })
        })
        .collect();
    let mut rows_done = 0usize;
    for w in workers {
        rows_done += w
            .join()
            .map_err(|_| AppError::internal("copy worker panicked"))??;
    }
    let rate = rows_done as f64 / started.elapsed().as_secs_f64();
    diesel::delete(
        figures::table
            .filter(figures::id.gt(max_before))
            .filter(figures::revision_id.eq(revision)),
    )
    .execute(conn)?;
    Ok(rate)
}

/// Rows in COPY's text format: tab-separated columns, `\N` for none, one line per row (the
/// benchmark's values hold no tab, newline or backslash).
fn copy_text(rows: &[crate::submissions::store::NewFigureRow]) -> Vec<u8> {
    fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
        v.as_ref()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "\\N".into())
    }
    let mut out = String::new();
    for r in rows {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            r.revision_id,
            r.submission_id,
            r.organisation_id,
            r.period_type,
            r.period_start,
            r.period_end,
            r.catalogue_version,
            r.indicator,
            opt(&r.municipality),
            opt(&r.value),
            opt(&r.numerator),
            opt(&r.denominator),
            opt(&r.respondents),
            opt(&r.cases),
            opt(&r.note),
            opt(&r.warnings),
            r.publication,
            if r.counted { "t" } else { "f" },
        ));
    }
    out.into_bytes()
}

/// A bearer token for a client, over the service's token endpoint.
fn bearer(addr: &str, creds: &clients::IssuedCredentials) -> AppResult<String> {
    let io = |e: std::io::Error| AppError::internal(e.to_string());
    let mut client = Client::connect(addr).map_err(io)?;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        creds.client_id, creds.client_secret
    );
    let (status, body) = client
        .request(
            "POST",
            "/oauth/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form.as_bytes(),
        )
        .map_err(io)?;
    if status != 200 {
        return Err(AppError::internal(format!(
            "token: {status} {}",
            truncated(&body)
        )));
    }
    let token: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(format!(
        "Bearer {}",
        token["access_token"].as_str().unwrap_or_default()
    ))
}

/// Distinct public view URLs: every indicator x year x published grouping (and filtered
/// groupings), in a fixed shuffled order. Totals (no grouping) are left out: they warm the
/// table families.
fn distinct_urls(state: &AppState, years: &[i32]) -> Vec<String> {
    let groupings = [
        "groupBy=teamType",
        "groupBy=sizeClass",
        "groupBy=province",
        "groupBy=providesHelp",
        "groupBy=orgForm",
        "groupBy=selfRegistration",
        "groupBy=teamType,sizeClass",
        "groupBy=teamType,providesHelp",
        "groupBy=sizeClass,providesHelp",
        "teamType=jeugd&groupBy=sizeClass",
        "teamType=integraal&groupBy=sizeClass",
        "sizeClass=groot&groupBy=teamType",
    ];
    let mut urls = Vec::new();
    for i in state
        .catalogue
        .current()
        .indicators
        .iter()
        .filter(|i| !i.retired)
    {
        for y in years {
            for g in groupings {
                urls.push(format!(
                    "/api/v1/views/aggregate?indicator={}&period={y}&{g}",
                    i.code
                ));
            }
        }
    }
    let mut rng = crate::demo::Rng::new(15);
    for k in (1..urls.len()).rev() {
        let j = rng.below(k + 1);
        urls.swap(k, j);
    }
    urls
}

/// Each URL requested once, by `clients` keep-alive clients taking the next one in turn.
fn each_once(
    addr: &str,
    urls: &[String],
    auth: Option<&str>,
    clients: usize,
) -> (f64, u64, Vec<f64>) {
    drive(addr, &auth_header(auth), &gets(urls), ok, clients, None)
}

/// Transactions the database has counted for this database so far (PostgreSQL).
fn transactions(conn: &mut DbConn) -> Option<i64> {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT CAST(xact_commit + xact_rollback AS BIGINT) AS n FROM pg_stat_database \
         WHERE datname = current_database()",
    )
    .load::<T>(conn)
    .ok()
    .and_then(|mut v| v.pop())
    .map(|t| t.n)
}

/// Workloads as users load the views: many distinct URLs (cache misses), and a reporting
/// deadline (a team submitting every 200 ms while readers use 300 distinct URLs).
fn workloads(state: &AppState, args: &BenchArgs, cores: usize) -> AppResult<()> {
    let mut conn = state.db.get()?;
    let last = chrono::Datelike::year(&chrono::Utc::now().date_naive()) - 2;
    let years: Vec<i32> = (last - 3..=last).collect();
    let urls = distinct_urls(state, &years);
    let clients = args.clients.max(1);
    println!("## Workloads\n");
    let (addr, handle) = start_server(state.clone(), cores);
    let io = |e: std::io::Error| AppError::internal(e.to_string());

    // The deadline's team, registered (and its first figures counted) before the families are
    // built: a new organisation changes every grouping.
    let reference = state.reference.clone();
    let code = reference
        .list(None, None)?
        .first()
        .map(|m| m.code.clone())
        .ok_or_else(|| AppError::internal("no municipalities"))?;
    let org = organisations::create(
        &mut conn,
        &reference,
        &Caller::System,
        NewOrganisation {
            name: format!("Benchmark deadline {}", chrono::Utc::now().timestamp()),
            kvk: None,
            team_type: TeamType::Integraal,
            org_form: OrgForm::Stichting,
            self_registration: true,
            provides_help_declared: None,
            municipalities: vec![ServedMunicipalityInput {
                code,
                valid_from: None,
                valid_to: None,
            }],
            primary_municipality: None,
        },
    )?;
    let creds = clients::create(
        &mut conn,
        &Caller::System,
        clients::NewClient {
            name: "benchmark deadline".into(),
            role: Role::Team,
            organisation_id: Some(org.id),
        },
    )?;
    let auth = bearer(&addr, &creds)?;
    let indicators: Vec<&crate::catalogue::Indicator> = state
        .catalogue
        .current()
        .indicators
        .iter()
        .filter(|i| {
            i.allows_period(PeriodType::Year) && i.applies_to(TeamType::Integraal) && !i.retired
        })
        .collect();
    let body = |round: u64| {
        let mut rng = crate::demo::Rng::new(round);
        let figures: Vec<serde_json::Value> = indicators
            .iter()
            .map(|i| match i.kind {
                Kind::Flow | Kind::Stock => {
                    json!({"indicator": i.code, "value": 100 + rng.below(900)})
                }
                Kind::Amount => json!({"indicator": i.code, "value": 250.0}),
                Kind::Ratio => {
                    json!({"indicator": i.code, "numerator": 40, "denominator": 100})
                }
                Kind::Survey => json!({"indicator": i.code, "value": 70, "respondents": 100}),
                Kind::MeanDuration => json!({"indicator": i.code, "value": 12.5, "cases": 50}),
            })
            .collect();
        json!({"period": last.to_string(), "publication": "openbaar", "figures": figures})
            .to_string()
            .into_bytes()
    };
    {
        let mut c = Client::connect(&addr).map_err(io)?;
        let h = [
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        let path = format!("/api/v1/organisations/{}/submissions?submit=true", org.id);
        let (status, out) = c.request("POST", &path, &h, &body(0)).map_err(io)?;
        if status != 201 {
            return Err(AppError::internal(format!(
                "post: {status} {}",
                truncated(&out)
            )));
        }
    }
    // Table families (the protected tables every public answer is cut from) for every
    // indicator and year, built once per change of their figures.
    let mut c = Client::connect(&addr).map_err(io)?;
    let t = Instant::now();
    let mut families = 0;
    for i in state
        .catalogue
        .current()
        .indicators
        .iter()
        .filter(|i| !i.retired)
    {
        for y in &years {
            let path = format!("/api/v1/views/aggregate?indicator={}&period={y}", i.code);
            c.request("GET", &path, &[], b"").map_err(io)?;
            families += 1;
        }
    }
    println!(
        "Warm-up: {families} table families (every indicator x {} years) protected in {:.1} s.\n",
        years.len(),
        t.elapsed().as_secs_f64()
    );

    // 1. Cache misses: every URL once.
    let (rate, errors, mut lat) = each_once(&addr, &urls, None, clients);
    println!(
        "**Cache-miss workload**: {} distinct public view URLs (indicator x year x grouping or \
         filter), each requested once by {clients} keep-alive clients: **{rate:.0} requests/s**, \
         {errors} errors, median {:.2} ms, p99 {:.2} ms (target: at least 1,000 requests/s).\n",
        urls.len(),
        median(&mut lat),
        pct(&mut lat, 0.99)
    );
    // The same URLs once each for the Associatie: exact figures, pooled from the summed
    // roll-ups (read once per indicator and year, then shared by its other groupings).
    let analyst = analyst(&mut conn, "benchmark analyst (workloads)")?;
    let analyst_auth = bearer(&addr, &analyst)?;
    let (rate, errors, mut lat) = each_once(&addr, &urls, Some(&analyst_auth), clients);
    println!(
        "**Cache-miss workload, Associatie** (signed in, exact figures): the same {} URLs, each \
         once: **{rate:.0} requests/s**, {errors} errors, median {:.2} ms, p99 {:.2} ms.\n",
        urls.len(),
        median(&mut lat),
        pct(&mut lat, 0.99)
    );
    remove_client(&mut conn, &analyst)?;

    // 2. Cache hits need no database: count the database's transactions during 2,000 hits.
    if conn.backend() == Backend::Postgres {
        let path = &urls[0];
        for _ in 0..10 {
            c.request("GET", path, &[], b"").map_err(io)?;
        }
        // Families still being rebuilt in the background (their reads are transactions, but
        // not the hits') finish first.
        let waited = Instant::now();
        while state.view_cache.rebuilds_pending() > 0 && waited.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        // PostgreSQL publishes a backend's counters at most once a second, and those of a
        // backend gone idle up to 10 s later (PostgreSQL 15): the pooled connections of the
        // workload before must have published theirs, or they are counted here (seen: 300-900).
        std::thread::sleep(Duration::from_millis(11_000));
        let before = transactions(&mut conn);
        for _ in 0..2_000 {
            c.request("GET", path, &[], b"").map_err(io)?;
        }
        std::thread::sleep(Duration::from_millis(1500));
        let after = transactions(&mut conn);
        if let (Some(b), Some(a)) = (before, after) {
            // Less the two counter reads of the benchmark itself.
            println!(
                "**Cache hits**: 2,000 requests of one cached public view: {} database \
                 transactions (target: none; the service's check of the data versions every \
                 5 s, `--version-check-seconds`, may fall in the window).\n",
                (a - b - 1).max(0)
            );
        }
    }

    // 3. The deadline: a team submits every 200 ms; 8 readers over 300 distinct URLs.
    let path = format!("/api/v1/organisations/{}/submissions?submit=true", org.id);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, addr, auth, path) = (stop.clone(), addr.clone(), auth.clone(), path.clone());
        let bodies: Vec<Vec<u8>> = (0..16).map(body).collect();
        std::thread::spawn(move || {
            let mut lat = Vec::new();
            let mut failed = 0u64;
            let Ok(mut c) = Client::connect(&addr) else {
                return (lat, 1);
            };
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let h = [
                    ("Authorization", auth.as_str()),
                    ("Content-Type", "application/json"),
                ];
                match c.request("POST", &path, &h, &bodies[k % bodies.len()]) {
                    Ok((201, _)) => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                    _ => failed += 1,
                }
                k += 1;
                std::thread::sleep(Duration::from_millis(200).saturating_sub(t.elapsed()));
            }
            (lat, failed)
        })
    };
    // The readers' 300 URLs: the deadline year and the years before, as the distinct list
    // mixes them.
    let readers: Vec<String> = urls.iter().take(300).cloned().collect();
    let stale_before = state.view_cache.stale_served();
    let (rate, errors, mut lat) = throughput(&addr, &readers, None, clients, args.seconds);
    stop.store(true, Ordering::Relaxed);
    let (mut wlat, wfailed) = writer.join().unwrap_or_default();
    let stale = state.view_cache.stale_served() - stale_before;
    let answers = lat.len();
    let caught_up = Instant::now();
    while state.view_cache.rebuilds_pending() > 0 && caught_up.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "**Deadline workload**: one team submitting its {} yearly figures for {last} every 200 ms \
         ({} submissions, {wfailed} failed, median {:.0} ms) while {clients} readers cycle \
         through 300 distinct public view URLs: **{rate:.0} requests/s**, {errors} errors, \
         median {:.2} ms, p99 **{:.2} ms** (target: at least 1,500 requests/s, p99 under 50 ms).\n",
        indicators.len(),
        wlat.len(),
        median(&mut wlat),
        median(&mut lat),
        pct(&mut lat, 0.99)
    );
    println!(
        "During the deadline {stale} of {answers} answers ({:.1}%) were cut from the previous \
         protected family of their indicator and year while the new one was rebuilt in the \
         background (the Associatie's exact figures are always current); the last family caught \
         up {:.0} ms after the last submission.\n",
        100.0 * stale as f64 / answers.max(1) as f64,
        caught_up.elapsed().as_secs_f64() * 1000.0
    );
    actix_web::rt::System::new().block_on(handle.stop(true));
    remove_bench_organisation(&mut conn, org.id)
}

/// The GraphQL document the peer answers: the counted figures of one indicator in one period,
/// summed per organisation by pg-aggregates (the connection filter gives the period range; the
/// upper bound on the start, implied by the one on the end, lets PostgreSQL bound the index scan
/// of `figures_view (indicator, period_start) WHERE counted`, as basisset's own query does).
const PEER_QUERY: &str = "query Grouped($indicator: String!, $from: Date!, $to: Date!) { \
     allFigures(condition: {indicator: $indicator, counted: true}, \
     filter: {periodStart: {greaterThanOrEqualTo: $from, lessThanOrEqualTo: $to}, \
     periodEnd: {lessThanOrEqualTo: $to}}) { \
     groupedAggregates(groupBy: [ORGANISATION_ID]) { keys sum { value } } } }";

/// A request of one side of the peer comparison.
#[derive(Clone)]
struct Call {
    method: &'static str,
    path: String,
    body: Vec<u8>,
}

/// Whether an answer counts: status 200 and a non-empty result.
type Check = fn(u16, &[u8]) -> bool;

/// basisset: the view answered with at least one row (group).
fn basisset_answered(status: u16, body: &[u8]) -> bool {
    status == 200
        && serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["rows"].as_array().map(|g| !g.is_empty()))
            .unwrap_or(false)
}

/// The peer: no GraphQL errors and at least one group.
fn peer_answered(status: u16, body: &[u8]) -> bool {
    status == 200
        && serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .filter(|v| v.get("errors").is_none())
            .and_then(|v| {
                v["data"]["allFigures"]["groupedAggregates"]
                    .as_array()
                    .map(|g| !g.is_empty())
            })
            .unwrap_or(false)
}

/// `clients` keep-alive clients sending `calls` with `headers`, taking the next one in turn:
/// each once (`seconds` None), or cycling through them for `seconds`. Returns (answers per
/// second, errors, latencies in ms of the answers that count).
fn drive(
    addr: &str,
    headers: &[(String, String)],
    calls: &[Call],
    check: Check,
    clients: usize,
    seconds: Option<u64>,
) -> (f64, u64, Vec<f64>) {
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let calls: Arc<Vec<Call>> = Arc::new(calls.to_vec());
    let headers: Arc<Vec<(String, String)>> = Arc::new(headers.to_vec());
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (next, stop, errors, calls, headers, addr) = (
                next.clone(),
                stop.clone(),
                errors.clone(),
                calls.clone(),
                headers.clone(),
                addr.to_owned(),
            );
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let Ok(mut c) = Client::connect(&addr) else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return lat;
                };
                let h: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                while !stop.load(Ordering::Relaxed) {
                    let k = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let call = match seconds {
                        None => match calls.get(k) {
                            Some(call) => call,
                            None => break,
                        },
                        Some(_) => &calls[k % calls.len()],
                    };
                    let t = Instant::now();
                    let answer = c.request(call.method, &call.path, &h, &call.body);
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    match answer {
                        Ok((status, body)) if check(status, &body) => lat.push(ms),
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                lat
            })
        })
        .collect();
    if let Some(seconds) = seconds {
        std::thread::sleep(Duration::from_secs(seconds.max(1)));
        stop.store(true, Ordering::Relaxed);
    }
    let lat: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap_or_default())
        .collect();
    let rate = lat.len() as f64 / started.elapsed().as_secs_f64();
    (rate, errors.load(Ordering::Relaxed), lat)
}

/// `host:port` and path of a plain `http://` URL on this machine.
fn http_address(url: &str) -> AppResult<(String, String)> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        AppError::internal(format!(
            "--peer-url {url:?}: only http:// URLs are supported"
        ))
    })?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/graphql"),
    };
    if host.is_empty() {
        return Err(AppError::internal(format!("--peer-url {url:?}: no host")));
    }
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:80")
    };
    Ok((host, path.to_owned()))
}

/// The questions of the peer comparison: every (indicator, period) among `indicators` for
/// which the database holds counted figures, a period being a year or one of its quarters
/// (where quarterly figures exist) that has ended. Returns (indicator, basisset period, first
/// day, last day), sorted.
fn peer_questions(
    conn: &mut DbConn,
    indicators: &[String],
) -> AppResult<Vec<(String, String, String, String)>> {
    use crate::db::schema::figures;
    let present: Vec<(String, String, chrono::NaiveDate)> = figures::table
        .filter(figures::counted.eq(true))
        .filter(figures::indicator.eq_any(indicators))
        .select((
            figures::indicator,
            figures::period_type,
            figures::period_start,
        ))
        .distinct()
        .load(conn)?;
    // Periods that have ended only: the year in progress holds some quarters, which the peer
    // would add up but basisset, rightly, does not call a year.
    let today = chrono::Utc::now().date_naive();
    let mut questions = std::collections::BTreeSet::new();
    for (indicator, period_type, start) in present {
        let year = chrono::Datelike::year(&start);
        if year < chrono::Datelike::year(&today) {
            questions.insert((
                indicator.clone(),
                year.to_string(),
                format!("{year}-01-01"),
                format!("{year}-12-31"),
            ));
        }
        if period_type == PeriodType::Quarter.as_str() {
            let q = chrono::Datelike::month0(&start) / 3;
            let (from, to) = [
                ("01-01", "03-31"),
                ("04-01", "06-30"),
                ("07-01", "09-30"),
                ("10-01", "12-31"),
            ][q as usize];
            if format!("{year}-{to}") >= today.to_string() {
                continue;
            }
            questions.insert((
                indicator,
                format!("{year}-Q{}", q + 1),
                format!("{year}-{from}"),
                format!("{year}-{to}"),
            ));
        }
    }
    Ok(questions.into_iter().collect())
}

/// basisset against PostGraphile 5 + pg-aggregates (`bench/peer`) on the same grouped
/// aggregate, interleaved in one run with the same clients and seconds.
fn peer(state: &AppState, uncached: &AppState, args: &BenchArgs, cores: usize) -> AppResult<()> {
    let url = args.peer_url.as_deref().ok_or_else(|| {
        AppError::internal(
            "bench peer needs --peer-url http://127.0.0.1:PORT/graphql: start the peer with \
             bench/peer/run.sh --database-url ... --port PORT (BENCHMARKS.md)",
        )
    })?;
    let (peer_addr, peer_path) = http_address(url)?;
    // The national demo set in an empty database (as the view benchmark seeds it); any other
    // data set is compared as it is.
    let figures: i64 = crate::db::schema::figures::table
        .count()
        .get_result(&mut state.db.get()?)?;
    let figures = if figures == 0 {
        demo_data_set(state, args)?
    } else {
        figures
    };
    let io = |e: std::io::Error| AppError::internal(e.to_string());
    let clients = args.clients.max(1);
    println!("## PostGraphile + pg-aggregates on the same grouped aggregate ({figures} figures)\n");

    // The same question to both: for every additive flow indicator and every year and quarter
    // with counted figures, those figures summed per organisation.
    let flows: Vec<String> = state
        .catalogue
        .current()
        .indicators
        .iter()
        .filter(|i| i.kind == Kind::Flow && i.additive && !i.retired)
        .map(|i| i.code.clone())
        .collect();
    let questions = peer_questions(&mut *state.db.get()?, &flows)?;
    // The span, for the report: the first year and the last period (a year or a quarter).
    let (first, last) = (
        questions
            .iter()
            .map(|q| q.2[..4].to_owned())
            .min()
            .unwrap_or_default(),
        questions
            .iter()
            .max_by(|a, b| a.3.cmp(&b.3).then(b.1.len().cmp(&a.1.len())))
            .map(|q| q.1.clone())
            .unwrap_or_default(),
    );
    let mut pairs: Vec<(Call, Call)> = Vec::new();
    for (indicator, period, from, to) in &questions {
        let body = json!({
            "query": PEER_QUERY,
            "variables": {"indicator": indicator, "from": from, "to": to},
        })
        .to_string()
        .into_bytes();
        pairs.push((
            Call {
                method: "GET",
                path: format!(
                    "/api/v1/views/aggregate?indicator={indicator}&period={period}&groupBy=teamType"
                ),
                body: Vec::new(),
            },
            Call {
                method: "POST",
                path: peer_path.clone(),
                body,
            },
        ));
    }
    if pairs.is_empty() {
        return Err(AppError::internal(
            "no counted figures of a flow indicator to compare",
        ));
    }
    let mut rng = crate::demo::Rng::new(15);
    for k in (1..pairs.len()).rev() {
        let j = rng.below(k + 1);
        pairs.swap(k, j);
    }
    // The public gets years only (protected tables); the Associatie every period.
    let (ours_years, theirs_years): (Vec<Call>, Vec<Call>) = pairs
        .iter()
        .filter(|(ours, _)| !ours.path.contains("-Q"))
        .cloned()
        .unzip();
    let (ours, theirs): (Vec<Call>, Vec<Call>) = pairs.into_iter().unzip();

    // The Associatie sees every cell exactly, as the peer does (no disclosure control there).
    let mut conn = state.db.get()?;
    let creds = analyst(&mut conn, "benchmark peer comparison")?;
    let (addr, handle) = start_server(state.clone(), cores);
    let (addr_cold, handle_cold) = start_server(uncached.clone(), cores);
    let result = (|| -> AppResult<()> {
        let auth = bearer(&addr, &creds)?;
        let ours_h = vec![("Authorization".to_owned(), auth)];
        let theirs_h = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        // Is the peer there, and does it answer the question?
        let mut c = Client::connect(&peer_addr).map_err(|e| {
            AppError::internal(format!(
                "the peer at {url} does not answer ({e}): start it with bench/peer/run.sh \
                 --database-url ... --port PORT"
            ))
        })?;
        let (status, body) = c
            .request(
                "POST",
                &peer_path,
                &[("Content-Type", "application/json")],
                &theirs[0].body,
            )
            .map_err(io)?;
        if !peer_answered(status, &body) {
            return Err(AppError::internal(format!(
                "the peer at {url} did not answer the grouped aggregate: {status} {}",
                truncated(&body)
            )));
        }
        println!(
            "{} distinct questions ({} of them years): every additive flow indicator ({}) x \
             every year and quarter from {first} to {last} that has ended and has counted \
             figures. basisset: `GET \
             /api/v1/views/aggregate?indicator=I&period=P&groupBy=teamType` (counted figures per \
             organisation, then per team type with quartiles), as the Associatie (exact, every \
             period) and as the public (years only, cut from the protected tables). PostGraphile \
             5 + pg-aggregates (`bench/peer`, {url}): `allFigures(condition: {{indicator, \
             counted: true}}, filter: {{from <= periodStart <= to, periodEnd <= to}}) {{ \
             groupedAggregates(groupBy: [ORGANISATION_ID]) {{ keys sum {{ value }} }} }}`. An \
             answer counts when it is 200 with at least one group. {clients} keep-alive clients \
             per side; the sides take turns, the peer first in each row, on the same questions.\n",
            ours.len(),
            ours_years.len(),
            flows.len()
        );
        // Warm-up, not measured. The protected table families (the Associatie's view says what
        // the public gets of each cell of a year) are built once per change of their figures:
        // build them in the shipped service through the public totals, URLs other than those
        // measured, as the workload benchmark does. Then every question once to each side (to
        // the cache-off service, so the view cache of the shipped one stays cold).
        let totals: Vec<Call> = questions
            .iter()
            .filter(|(_, period, _, _)| !period.contains('Q'))
            .map(|(indicator, period, _, _)| Call {
                method: "GET",
                path: format!("/api/v1/views/aggregate?indicator={indicator}&period={period}"),
                body: Vec::new(),
            })
            .collect();
        let t = Instant::now();
        let (_, e0, _) = drive(
            &addr,
            &[],
            &totals,
            |status, _| status == 200,
            clients,
            None,
        );
        println!(
            "Warm-up: {} table families (indicator x year) protected in {:.1} s.\n",
            totals.len(),
            t.elapsed().as_secs_f64()
        );
        let (_, e1, _) = drive(&peer_addr, &theirs_h, &theirs, peer_answered, clients, None);
        let (_, e2, _) = drive(&addr_cold, &ours_h, &ours, basisset_answered, clients, None);
        if e0 + e1 + e2 > 0 {
            println!("(warm-up: {} basisset errors, {e1} peer errors)\n", e0 + e2);
        }
        println!(
            "| basisset | requests/s | p50 ms | p99 ms | errors | PostGraphile + pg-aggregates \
             requests/s | p50 ms | p99 ms | errors | ratio basisset / PostGraphile |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        // (basisset's side, its service, caller and questions, the peer's questions, seconds:
        // None for each question once.)
        type Row<'a> = (
            &'a str,
            &'a str,
            &'a [(String, String)],
            &'a [Call],
            &'a [Call],
            Option<u64>,
        );
        let rows: [Row; 5] = [
            (
                "Associatie, as shipped, each question once (view cache misses)",
                &addr,
                &ours_h,
                &ours,
                &theirs,
                None,
            ),
            (
                "Associatie, as shipped, cycling through the questions (typical)",
                &addr,
                &ours_h,
                &ours,
                &theirs,
                Some(args.seconds),
            ),
            (
                "Associatie, view cache off, cycling",
                &addr_cold,
                &ours_h,
                &ours,
                &theirs,
                Some(args.seconds),
            ),
            (
                "public (anonymous), as shipped, each year question once (view cache misses)",
                &addr,
                &[],
                &ours_years,
                &theirs_years,
                None,
            ),
            (
                "public (anonymous), view cache off, cycling through the year questions",
                &addr_cold,
                &[],
                &ours_years,
                &theirs_years,
                Some(args.seconds),
            ),
        ];
        let mut worst = f64::INFINITY;
        for (label, address, headers, ours, theirs, seconds) in rows {
            let (p_rate, p_err, mut p_lat) = drive(
                &peer_addr,
                &theirs_h,
                theirs,
                peer_answered,
                clients,
                seconds,
            );
            let (b_rate, b_err, mut b_lat) =
                drive(address, headers, ours, basisset_answered, clients, seconds);
            let q = |lat: &mut Vec<f64>, p: f64| {
                if lat.is_empty() {
                    f64::NAN
                } else {
                    pct(lat, p)
                }
            };
            let ratio = b_rate / p_rate;
            worst = worst.min(ratio);
            println!(
                "| {label} | **{b_rate:.0}** | {:.2} | {:.2} | {b_err} | {p_rate:.0} | {:.2} | \
                 {:.2} | {p_err} | **{ratio:.2}x** |",
                q(&mut b_lat, 0.5),
                q(&mut b_lat, 0.99),
                q(&mut p_lat, 0.5),
                q(&mut p_lat, 0.99),
            );
        }
        println!(
            "\nLowest ratio: basisset {worst:.2}x PostGraphile + pg-aggregates (target: at \
             least 2x).\n"
        );
        Ok(())
    })();
    actix_web::rt::System::new().block_on(async {
        handle.stop(true).await;
        handle_cold.stop(true).await;
    });
    remove_client(&mut conn, &creds)?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_url_gives_address_and_path() {
        assert_eq!(
            http_address("http://127.0.0.1:5678/graphql").unwrap(),
            ("127.0.0.1:5678".to_owned(), "/graphql".to_owned())
        );
        assert_eq!(
            http_address("http://localhost").unwrap(),
            ("localhost:80".to_owned(), "/graphql".to_owned())
        );
        assert!(http_address("https://127.0.0.1:5678/graphql").is_err());
        assert!(http_address("http:///graphql").is_err());
    }

    #[test]
    fn answers_count_only_with_a_group() {
        let peer =
            br#"{"data":{"allFigures":{"groupedAggregates":[{"keys":["1"],"sum":{"value":4}}]}}}"#;
        assert!(peer_answered(200, peer));
        assert!(!peer_answered(
            200,
            br#"{"data":{"allFigures":{"groupedAggregates":[]}}}"#
        ));
        assert!(!peer_answered(
            200,
            br#"{"data":null,"errors":[{"message":"x"}]}"#
        ));
        assert!(!peer_answered(500, peer));
        assert!(basisset_answered(
            200,
            br#"{"rows":[{"teamType":"jeugd"}]}"#
        ));
        assert!(!basisset_answered(200, br#"{"rows":[]}"#));
        assert!(!basisset_answered(403, br#"{"rows":[{}]}"#));
    }
}
