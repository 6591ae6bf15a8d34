//! Test harness: the real actix app, in-process, against a fresh database per test.
//!
//! Backend: SQLite (a temporary file) by default; PostgreSQL when `BASISSET_TEST_DATABASE_URL`
//! is set (e.g. `postgres://postgres@127.0.0.1:5432/postgres`): each test then gets its own
//! schema, created here and dropped when the test ends, so tests run in parallel.

#![allow(dead_code)]

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::test;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use basisset::app::{self, AppState};
use basisset::config::ServeArgs;
use basisset::db::{Backend, DatabaseTarget, Db};

pub const PG_ENV: &str = "BASISSET_TEST_DATABASE_URL";

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh, empty database for one test; removed on drop.
pub struct TestDb {
    pub backend: Backend,
    /// The URL the service uses.
    pub url: String,
    /// PostgreSQL: the base URL and the test's schema.
    pg: Option<(String, String)>,
    sqlite_path: Option<std::path::PathBuf>,
    /// Whether dropping this handle removes the database (false for [`TestDb::share`]).
    owner: bool,
}

pub fn with_query_param(url: &str, param: &str) -> String {
    if url.contains('?') {
        format!("{url}&{param}")
    } else {
        format!("{url}?{param}")
    }
}

impl TestDb {
    pub fn new() -> TestDb {
        match std::env::var(PG_ENV).ok().filter(|s| !s.is_empty()) {
            Some(base) => {
                let schema = unique("t");
                let mut conn = diesel::PgConnection::establish(&base)
                    .unwrap_or_else(|e| panic!("{PG_ENV}={base}: cannot connect: {e}"));
                conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create schema");
                let url = Self::pg_url(&base, &schema);
                TestDb {
                    backend: Backend::Postgres,
                    url,
                    pg: Some((base, schema)),
                    sqlite_path: None,
                    owner: true,
                }
            }
            None => {
                let path = std::env::temp_dir().join(format!("{}.db", unique("basisset")));
                TestDb {
                    backend: Backend::Sqlite,
                    url: format!("sqlite://{}", path.display()),
                    pg: None,
                    sqlite_path: Some(path),
                    owner: true,
                }
            }
        }
    }

    /// Another handle on the same database, e.g. for a second service instance; the database is
    /// removed only when the original handle is dropped, so drop this one first.
    pub fn share(&self) -> TestDb {
        TestDb {
            backend: self.backend,
            url: self.url.clone(),
            pg: self.pg.clone(),
            sqlite_path: self.sqlite_path.clone(),
            owner: false,
        }
    }

    fn pg_url(base: &str, schema: &str) -> String {
        with_query_param(base, &format!("options=-csearch_path%3D{schema}"))
    }

    /// PostgreSQL only: the same database reached through another `host:port`.
    pub fn pg_url_via(&self, host_port: &str) -> Option<String> {
        let (base, schema) = self.pg.as_ref()?;
        let (scheme, rest) = base.split_once("://")?;
        let (userinfo, after) = match rest.split_once('@') {
            Some((u, a)) => (format!("{u}@"), a),
            None => (String::new(), rest),
        };
        let path = after.find('/').map(|i| &after[i..]).unwrap_or("/postgres");
        Some(Self::pg_url(
            &format!("{scheme}://{userinfo}{host_port}{path}"),
            schema,
        ))
    }

    /// The upstream `host:port` of the PostgreSQL server.
    pub fn pg_host_port(&self) -> Option<String> {
        let (base, _) = self.pg.as_ref()?;
        let rest = base.split_once("://")?.1;
        let after = rest.rsplit_once('@').map(|x| x.1).unwrap_or(rest);
        let hp = after.split(['/', '?']).next()?;
        Some(if hp.contains(':') {
            hp.to_owned()
        } else {
            format!("{hp}:5432")
        })
    }

    pub fn connect(&self, pool_size: u32) -> Db {
        Db::connect(
            DatabaseTarget::parse(&self.url).unwrap(),
            pool_size,
            Duration::from_secs(10),
        )
        .unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if !self.owner {
            return;
        }
        if let Some((base, schema)) = &self.pg
            && let Ok(mut conn) = diesel::PgConnection::establish(base)
        {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
        if let Some(path) = &self.sqlite_path {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

pub fn test_config() -> ServeArgs {
    let mut config = ServeArgs::defaults();
    // A fresh Ed25519 key set per test, inline (nothing written to disk).
    let keys = basisset::auth::keys::generate("EdDSA").unwrap();
    config.auth.jwt_keys = Some(serde_json::to_string(&keys).unwrap());
    config
}

/// A response, fully read.
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    }
    /// Assert a problem+json error with the given status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "body: {}",
            self.text()
        );
        let body = self.json();
        assert_eq!(body["code"], code, "body: {body}");
        assert_eq!(body["status"], status);
        body
    }
}

type Svc = Rc<
    dyn Fn(
        actix_http::Request,
    ) -> LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>>,
>;

/// The application under test.
pub struct TestApp {
    pub state: AppState,
    svc: Svc,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(test_config()).await
    }

    pub async fn spawn_with(config: ServeArgs) -> TestApp {
        Self::spawn_on(TestDb::new(), config).await
    }

    /// The app on an existing test database (e.g. one the command line prepared).
    pub async fn spawn_on(db: TestDb, config: ServeArgs) -> TestApp {
        let pool = db.connect(4);
        let (state, _) = app::build_state(pool, config).expect("start-up");
        Self::from_state(state, db).await
    }

    /// A second service instance on this app's database (its own state, keys and caches), as
    /// two replicas behind a load balancer would be. Drop it before this app.
    pub async fn another_instance(&self, config: ServeArgs) -> TestApp {
        Self::spawn_on(self.db.share(), config).await
    }

    pub async fn from_state(state: AppState, db: TestDb) -> TestApp {
        let service = Rc::new(test::init_service(basisset::server::app(state.clone())).await);
        let svc: Svc = Rc::new(move |req| {
            let service = service.clone();
            Box::pin(async move { service.call(req).await.map(|r| r.map_into_boxed_body()) })
        });
        TestApp { state, svc, db }
    }

    pub async fn send(&self, req: test::TestRequest) -> Resp {
        let res = match (self.svc)(req.to_request()).await {
            Ok(res) => res,
            Err(e) => {
                let res = e.error_response();
                ServiceResponse::new(test::TestRequest::default().to_http_request(), res)
            }
        };
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = actix_web::body::to_bytes(res.into_body())
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let mut req = test::TestRequest::get().uri(path);
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        self.send(req).await
    }

    pub async fn get_accept(&self, path: &str, accept: &str, token: Option<&str>) -> Resp {
        let mut req = test::TestRequest::get()
            .uri(path)
            .insert_header(("Accept", accept.to_owned()));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        self.send(req).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send_json(test::TestRequest::post(), path, token, body)
            .await
    }

    pub async fn patch_json(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send_json(test::TestRequest::patch(), path, token, body)
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        let mut req = test::TestRequest::delete().uri(path);
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        self.send(req).await
    }

    async fn send_json(
        &self,
        req: test::TestRequest,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Resp {
        let mut req = req
            .uri(path)
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.to_string());
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        self.send(req).await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Resp {
        let mut req = test::TestRequest::post()
            .uri(path)
            .insert_header(("Content-Type", content_type.to_owned()))
            .set_payload(body.into());
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        self.send(req).await
    }

    /// Run a GraphQL operation; returns the whole response body.
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let res = self
            .post_json(
                "/graphql",
                token,
                &json!({ "query": query, "variables": variables }),
            )
            .await;
        assert_eq!(res.status, 200, "graphql: {}", res.text());
        res.json()
    }

    /// Run a GraphQL operation that must succeed; returns `data`.
    pub async fn gql_ok(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let body = self.gql(query, variables, token).await;
        assert!(
            body.get("errors")
                .is_none_or(|e| e.as_array().is_some_and(|a| a.is_empty())),
            "graphql errors: {body}"
        );
        body["data"].clone()
    }

    pub fn conn(&self) -> basisset::db::PooledConn {
        self.state.db.get().unwrap()
    }
}

/// Clients of every role and two organisations, A and B (both `jeugd`, one municipality each).
pub struct Fixture {
    pub admin: String,
    pub associatie: String,
    pub team_a: String,
    pub team_b: String,
    pub org_a: i64,
    pub org_b: i64,
}

impl TestApp {
    /// Create a client directly (as the command line would) and return its credentials.
    pub async fn create_client(&self, role: &str, org: Option<i64>) -> (String, String) {
        let state = self.state.clone();
        let role = role.parse().unwrap();
        let creds = state
            .db
            .run(move |conn| {
                basisset::auth::clients::create(
                    conn,
                    &basisset::auth::Caller::System,
                    basisset::auth::clients::NewClient {
                        name: format!("test {role}"),
                        role,
                        organisation_id: org,
                    },
                )
            })
            .await
            .unwrap();
        (creds.client_id, creds.client_secret)
    }

    /// Exchange credentials for an access token over the real token endpoint.
    pub async fn token(&self, client_id: &str, secret: &str) -> String {
        let res = self
            .post_raw(
                "/oauth/token",
                None,
                "application/x-www-form-urlencoded",
                format!(
                    "grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
                ),
            )
            .await;
        assert_eq!(res.status, 200, "token: {}", res.text());
        res.json()["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn client_token(&self, role: &str, org: Option<i64>) -> String {
        let (id, secret) = self.create_client(role, org).await;
        self.token(&id, &secret).await
    }

    /// Register an organisation as the command line would; returns its id.
    pub async fn create_org(&self, name: &str, team_type: &str, municipalities: &[&str]) -> i64 {
        let state = self.state.clone();
        let input: basisset::registry::organisations::NewOrganisation =
            serde_json::from_value(json!({
                "name": name,
                "teamType": team_type,
                "orgForm": "stichting",
                "municipalities": municipalities.iter().map(|c| json!({"code": c})).collect::<Vec<_>>(),
            }))
            .unwrap();
        state
            .db
            .run(move |conn| {
                basisset::registry::organisations::create(
                    conn,
                    &state.reference,
                    &basisset::auth::Caller::System,
                    input,
                )
            })
            .await
            .unwrap()
            .id
    }

    pub async fn fixture(&self) -> Fixture {
        let org_a = self.create_org("Buurtteam A", "jeugd", &["GM0344"]).await;
        let org_b = self.create_org("Buurtteam B", "jeugd", &["GM0599"]).await;
        Fixture {
            admin: self.client_token("admin", None).await,
            associatie: self.client_token("associatie", None).await,
            team_a: self.client_token("team", Some(org_a)).await,
            team_b: self.client_token("team", Some(org_b)).await,
            org_a,
            org_b,
        }
    }
}

/// The `extensions.code` of the first GraphQL error.
pub fn gql_error_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
        .to_owned()
}
