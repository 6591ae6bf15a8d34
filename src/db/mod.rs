//! Database access: one connection type for PostgreSQL and SQLite (diesel `MultiConnection`),
//! an r2d2 pool that picks the backend from the URL, embedded per-backend migrations, and the
//! helper that runs blocking diesel work on the blocking thread pool, never on async workers.

pub mod prepared;
pub mod schema;
pub mod versions;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{AppError, AppResult};

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// A connection to either backend. Queries written with the diesel DSL run on both; the few
/// places that need backend-specific SQL (bulk COPY on PostgreSQL) match on the variant.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgresql",
            Backend::Sqlite => "sqlite",
        }
    }
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Pg(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Run the same diesel code on the concrete connection of either backend. For the few
/// statements `MultiConnection` cannot express (batch inserts, COPY).
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// A parsed `--database-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseTarget {
    pub backend: Backend,
    /// For PostgreSQL the libpq URL, for SQLite the file path.
    pub url: String,
}

impl DatabaseTarget {
    pub fn parse(raw: &str) -> AppResult<Self> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseTarget {
                backend: Backend::Postgres,
                url: raw.to_owned(),
            });
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() || path.contains("://") {
            return Err(AppError::bad_request(
                "INVALID_DATABASE_URL",
                format!(
                    "unsupported database URL {raw:?}: use postgres://... or a SQLite file path"
                ),
            ));
        }
        Ok(DatabaseTarget {
            backend: Backend::Sqlite,
            url: path.to_owned(),
        })
    }

    /// A description for logs, without credentials.
    pub fn redacted(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite file {}", self.url),
            Backend::Postgres => {
                let rest = self.url.split_once("://").map(|x| x.1).unwrap_or("");
                let host = rest.rsplit_once('@').map(|x| x.1).unwrap_or(rest);
                let host = host.split('?').next().unwrap_or(host);
                format!("postgresql {host}")
            }
        }
    }
}

/// r2d2 manager that opens the variant named by the URL (no guessing by trial).
#[derive(Debug, Clone)]
pub struct Manager {
    target: DatabaseTarget,
}

impl Manager {
    pub fn new(target: DatabaseTarget) -> Self {
        Manager { target }
    }

    pub fn establish(&self) -> Result<DbConn, diesel::ConnectionError> {
        match self.target.backend {
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&self.target.url)?;
                conn.set_instrumentation(Health::default());
                Ok(DbConn::Pg(conn))
            }
            Backend::Sqlite => {
                create_private(&self.target.url);
                let mut conn = diesel::SqliteConnection::establish(&self.target.url)?;
                // WAL lets readers work while one writer commits; busy_timeout makes writers
                // queue instead of failing; foreign keys are off by default in SQLite.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 15000; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// Create a new SQLite file readable by its owner only (0600, like the keys file): it holds
/// every organisation's figures. SQLite gives its -wal and -shm files the same mode.
fn create_private(path: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    if path.starts_with(':') || path.starts_with("file:") || std::path::Path::new(path).exists() {
        return;
    }
    // Losing a race with another connection creating it is fine: it then exists.
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        self.establish()
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        match conn {
            // A connection to a file cannot be lost; checking it would be one more statement
            // for every request (a full disk shows on the write, and answers 503 there).
            DbConn::Sqlite(_) => Ok(()),
            // A connection whose last statement succeeded a moment ago is taken as it is: the
            // check would be one more round trip for every request under load.
            DbConn::Pg(c) => {
                if health(c).is_some_and(Health::fresh) {
                    return Ok(());
                }
                conn.ping().map_err(diesel::r2d2::Error::QueryError)
            }
        }
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        // True for a PostgreSQL connection that libpq reports lost (diesel then puts its
        // transaction manager in error): the pool discards it instead of putting it back.
        conn.is_broken()
    }
}

/// When a PostgreSQL connection's last statement succeeded, recorded by diesel's
/// instrumentation and read when the pool hands the connection out.
///
/// The pool checks a connection before handing it out (`SELECT 1`) only when that success is
/// older than [`Health::FRESH`]: under load every connection was used a moment ago, and the
/// check would be a round trip added to every request. A connection lost within that moment
/// fails the one statement that finds out (that request answers 503, unless the statement only
/// served a cache check) and is then discarded, not put back; a connection idle for longer is
/// checked as before.
#[derive(Debug, Default)]
pub struct Health {
    ok_at: Option<std::time::Instant>,
}

impl Health {
    /// How recent a success must be for the pool to skip its check.
    pub const FRESH: Duration = Duration::from_secs(1);

    fn fresh(&self) -> bool {
        self.ok_at.is_some_and(|t| t.elapsed() < Self::FRESH)
    }
}

impl diesel::connection::Instrumentation for Health {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        if let diesel::connection::InstrumentationEvent::FinishQuery { error: None, .. } = event {
            self.ok_at = Some(std::time::Instant::now());
        }
    }
}

fn health(conn: &mut diesel::PgConnection) -> Option<&Health> {
    conn.instrumentation().downcast_ref::<Health>()
}

pub type DbPool = Pool<Manager>;
pub type PooledConn = PooledConnection<Manager>;

/// The pool plus what the service needs to know about it.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    target: DatabaseTarget,
}

impl Db {
    /// Build a pool. Connections are opened lazily, so the service can start (and answer
    /// `/readyz` with 503) while the database is still down.
    pub fn connect(target: DatabaseTarget, max_size: u32, timeout: Duration) -> AppResult<Self> {
        let max_size = match target.backend {
            Backend::Postgres => max_size.max(1),
            // SQLite has one writer at a time; a few readers in WAL mode are plenty.
            Backend::Sqlite => max_size.clamp(1, 8),
        };
        let pool = Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .connection_timeout(timeout)
            .test_on_check_out(true)
            .build_unchecked(Manager::new(target.clone()));
        Ok(Db { pool, target })
    }

    pub fn backend(&self) -> Backend {
        self.target.backend
    }

    pub fn target(&self) -> &DatabaseTarget {
        &self.target
    }

    pub fn get(&self) -> AppResult<PooledConn> {
        Ok(self.pool.get()?)
    }

    /// An idle SQLite connection if one is free now (never waits, never opens one); `None` on
    /// PostgreSQL, whose reads are network round trips and belong on a blocking thread.
    pub fn try_get_sqlite(&self) -> Option<PooledConn> {
        match self.target.backend {
            Backend::Sqlite => self.pool.try_get(),
            Backend::Postgres => None,
        }
    }

    pub fn get_timeout(&self, timeout: Duration) -> AppResult<PooledConn> {
        Ok(self.pool.get_timeout(timeout)?)
    }

    /// Like [`Db::run`], but the work takes a connection only if it needs one.
    pub async fn run_lazy<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut LazyConn<'_>) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || f(&mut LazyConn::pool(&db)))
            .await
            .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?
    }

    /// The pool's open and idle connections now, and its maximum size (for `/metrics`).
    pub fn pool_state(&self) -> (diesel::r2d2::State, u32) {
        (self.pool.state(), self.pool.max_size())
    }

    /// Run blocking diesel work on actix's blocking pool.
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?
    }
}

/// Run `f` in a transaction that is rolled back on any error. On SQLite the transaction takes
/// the write lock at its start (`BEGIN IMMEDIATE`), so concurrent writers queue on busy_timeout
/// instead of failing half-way with "database is locked".
pub fn transaction<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> AppResult<T>,
) -> AppResult<T> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Tm = AnsiTransactionManager;
    match conn {
        DbConn::Pg(_) => conn.transaction(f),
        DbConn::Sqlite(inner) => {
            let nested = <Tm as TransactionManager<diesel::SqliteConnection>>::transaction_manager_status_mut(inner)
                .transaction_depth()?
                .is_some();
            if nested {
                // Already inside one: a savepoint.
                return conn.transaction(f);
            }
            // Through diesel's transaction manager, so nested `transaction` calls (diesel uses
            // them itself, e.g. for batch inserts) become savepoints.
            Tm::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            let result = f(conn);
            let DbConn::Sqlite(inner) = conn else {
                unreachable!("backend does not change")
            };
            match result {
                Ok(v) => {
                    match <Tm as TransactionManager<diesel::SqliteConnection>>::commit_transaction(
                        inner,
                    ) {
                        Ok(()) => {
                            // A write went through: whatever filled the disk is over.
                            crate::error::storage_has_room();
                            Ok(v)
                        }
                        Err(e) => {
                            let _ = <Tm as TransactionManager<diesel::SqliteConnection>>::rollback_transaction(inner);
                            Err(e.into())
                        }
                    }
                }
                Err(e) => {
                    let _ =
                        <Tm as TransactionManager<diesel::SqliteConnection>>::rollback_transaction(
                            inner,
                        );
                    Err(e)
                }
            }
        }
    }
}

/// Apply pending migrations of the connection's backend; returns the versions applied.
pub fn run_migrations(conn: &mut DbConn) -> AppResult<Vec<String>> {
    let applied = match conn {
        DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|e| AppError::internal(format!("migrations failed: {e}")))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// True when the database lacks migrations this binary embeds.
pub fn has_pending_migrations(conn: &mut DbConn) -> AppResult<bool> {
    match conn {
        DbConn::Pg(c) => c.has_pending_migration(PG_MIGRATIONS),
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    }
    .map_err(|e| AppError::Unavailable(format!("cannot read migration state: {e}")))
}

/// Stored timestamps are UTC without a zone; responses show them as RFC 3339 in UTC
/// (`2026-11-25T12:00:00.123456Z`).
pub fn utc(t: chrono::NaiveDateTime) -> crate::dates::Timestamp {
    crate::dates::Timestamp(t.and_utc())
}

/// Current time as stored in the database (UTC, microseconds).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    // Both backends keep microseconds; truncate so a value read back equals the one written.
    now.with_nanosecond((now.nanosecond() / 1000) * 1000)
        .unwrap_or(now)
}

use chrono::Timelike;

/// The current data version (see [`versions`]).
pub fn data_version(conn: &mut DbConn) -> AppResult<i64> {
    use schema::data_version::dsl::*;
    Ok(data_version.find(1).select(version).first(conn)?)
}

/// A connection taken from the pool only when first needed (a cached view needs none), or one
/// the caller already holds, and the versions the work reads at (pinned at the first read, so
/// one request sees one state and reads the versions at most once).
pub struct LazyConn<'a> {
    source: Source<'a>,
    pinned: Option<std::sync::Arc<versions::Snapshot>>,
}

enum Source<'a> {
    Pool(&'a Db, Option<PooledConn>),
    Held(&'a mut DbConn),
}

impl<'a> LazyConn<'a> {
    /// A connection from `db`'s pool, taken when first needed.
    pub fn pool(db: &'a Db) -> Self {
        LazyConn {
            source: Source::Pool(db, None),
            pinned: None,
        }
    }

    pub fn held(conn: &'a mut DbConn) -> Self {
        LazyConn {
            source: Source::Held(conn),
            pinned: None,
        }
    }

    /// The connection, taken from the pool now if need be.
    pub fn get(&mut self) -> AppResult<&mut DbConn> {
        match &mut self.source {
            Source::Held(c) => Ok(c),
            Source::Pool(db, slot) => {
                if slot.is_none() {
                    *slot = Some(db.get()?);
                }
                Ok(slot.as_mut().expect("just taken"))
            }
        }
    }

    /// The versions this work reads at, once read ([`versions::Versions::current_lazy`]).
    pub fn pinned(&self) -> Option<&std::sync::Arc<versions::Snapshot>> {
        self.pinned.as_ref()
    }

    /// Read at these versions (read for this request already, e.g. for its HTTP tag).
    pub fn pin(&mut self, snapshot: std::sync::Arc<versions::Snapshot>) {
        self.pinned = Some(snapshot);
    }
}

pub use crate::error::{note_storage_full, storage_full_recently};

/// Free bytes on the file system holding `path` (SQLite's file), if it can be told.
pub fn free_bytes(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}
