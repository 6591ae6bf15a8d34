//! What changed, for cached views. Three kinds of version live in the database, all raised in
//! the transaction of the change itself:
//!
//! - the **data version** (`data_version.version`): raised by every change that can alter a view;
//!   it tags HTTP responses (ETag) and views over many indicators;
//! - the **registry version** (`data_version.registry_version`): organisations and their
//!   characteristics (every grouping depends on them);
//! - per **indicator and year** (`indicator_versions`): the counted figures of that indicator in
//!   that year. A submission touches only its own indicators and year, so the views of every
//!   other indicator and year stay cached.
//!
//! Each change takes the next data version and writes it into the registry or indicator versions
//! it touched, so one number orders everything and a reload only reads what is newer.
//!
//! The service holds a [`Snapshot`] of these in memory ([`Versions`]). On PostgreSQL a listener
//! (`LISTEN basisset_versions`, a dedicated libpq connection) reloads it the moment another
//! transaction commits, on every instance, with a periodic check as a safety net; a cache hit then
//! needs no database round trip. An instance also reloads right after its own writes, before it
//! answers them, and signed-in requests (whose token is checked against the database anyway)
//! read the data version, so they see a commit made on another instance at once even while its
//! announcement is still on its way; anonymous readers see it when the announcement arrives
//! (within milliseconds). On SQLite (one instance) the snapshot is checked against the data version at
//! each view request, an in-process read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::Datelike;
use diesel::prelude::*;

use super::schema::{data_version, indicator_versions};
use super::{Backend, Db, DbConn};
use crate::error::AppResult;

/// The PostgreSQL channel changes are announced on (followed by `_` and the schema).
pub const CHANNEL: &str = "basisset_versions";

/// Changes this process has made (or begun: a transaction may still roll back). A request that
/// raised it reloads the versions before it answers ([`Versions::reload`]).
static LOCAL_CHANGES: AtomicU64 = AtomicU64::new(0);

/// How many changes this process has begun (compare before and after a request).
pub fn local_changes() -> u64 {
    LOCAL_CHANGES.load(Ordering::Acquire)
}

/// Take the next data version (in the caller's transaction) and announce it at commit, saying
/// what changed (`what`: `d` data only, `r` registry, `f code:year,...` figures, `*` reload).
fn next(conn: &mut DbConn, what: impl FnOnce(i64) -> String) -> AppResult<i64> {
    use data_version::dsl as d;
    LOCAL_CHANGES.fetch_add(1, Ordering::AcqRel);
    diesel::update(d::data_version.find(1))
        .set(d::version.eq(d::version + 1))
        .execute(conn)?;
    let v: i64 = d::data_version.find(1).select(d::version).first(conn)?;
    if let DbConn::Pg(c) = conn {
        // Delivered to every listener when (and only if) the transaction commits, in commit
        // order. The payload lets instances update their snapshot without a query.
        let mut payload = format!("{v} {}", what(v));
        if payload.len() > 7_000 {
            payload = format!("{v} *");
        }
        // The channel is per schema: deployments (and test runs) sharing a database each hear
        // only their own changes.
        diesel::sql_query(format!(
            "SELECT pg_notify('{CHANNEL}_' || current_schema(), '{}')",
            payload.replace('\'', "''")
        ))
        .execute(c)?;
    }
    Ok(v)
}

/// A change that alters views in ways not tied to one indicator and year: raises the data
/// version only (views over many indicators, HTTP tags).
pub fn bump_data(conn: &mut DbConn) -> AppResult<i64> {
    next(conn, |_| "d".into())
}

/// Organisations or their characteristics changed: every grouping may change.
pub fn bump_registry(conn: &mut DbConn) -> AppResult<i64> {
    let v = next(conn, |_| "r".into())?;
    diesel::update(data_version::table.find(1))
        .set(data_version::registry_version.eq(v))
        .execute(conn)?;
    Ok(v)
}

/// What counts changed for these indicators in the years of these period starts.
pub fn bump_figures(conn: &mut DbConn, touched: &[(String, chrono::NaiveDate)]) -> AppResult<i64> {
    let mut keys: Vec<(&str, i32)> = touched
        .iter()
        .map(|(ind, start)| (ind.as_str(), start.year()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let listed: Vec<String> = keys.iter().map(|(i, y)| format!("{i}:{y}")).collect();
    let v = next(conn, |_| format!("f {}", listed.join(",")))?;
    for (ind, year) in keys {
        // Portable upsert (PostgreSQL and SQLite >= 3.24 share the syntax). Codes come from the
        // catalogue but are quoted anyway.
        let sql = format!(
            "INSERT INTO indicator_versions (indicator, year, version) VALUES ('{}', {year}, {v}) \
             ON CONFLICT (indicator, year) DO UPDATE SET version = excluded.version",
            ind.replace('\'', "''")
        );
        crate::with_conn!(conn, |c| diesel::sql_query(&sql).execute(c))?;
    }
    Ok(v)
}

/// The versions as one instance last saw them.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub data: i64,
    pub registry: i64,
    /// Per indicator code, per year.
    indicators: HashMap<String, HashMap<i32, i64>>,
}

impl Snapshot {
    /// The version of an indicator's figures in a year (0 if they never changed).
    pub fn indicator(&self, code: &str, year: i32) -> i64 {
        self.indicators
            .get(code)
            .and_then(|years| years.get(&year))
            .copied()
            .unwrap_or(0)
    }

    /// What a view of `code` over `years` depends on: the registry and each year's figures.
    pub fn stamp(&self, code: &str, years: impl IntoIterator<Item = i32>) -> Vec<i64> {
        let mut out = vec![self.registry];
        out.extend(years.into_iter().map(|y| self.indicator(code, y)));
        out
    }

    /// The snapshot after an announced change, if it follows this one directly and says what
    /// changed (else the caller reads the database).
    fn after(&self, payload: &str) -> Option<Snapshot> {
        let (v, what) = payload.split_once(' ')?;
        let v: i64 = v.parse().ok()?;
        if v != self.data + 1 {
            return None;
        }
        let mut next = self.clone();
        next.data = v;
        match what.split_once(' ').unwrap_or((what, "")) {
            ("d", _) => {}
            ("r", _) => next.registry = v,
            ("f", list) => {
                for item in list.split(',').filter(|i| !i.is_empty()) {
                    let (code, year) = item.rsplit_once(':')?;
                    next.indicators
                        .entry(code.to_owned())
                        .or_default()
                        .insert(year.parse().ok()?, v);
                }
            }
            _ => return None,
        }
        Some(next)
    }

    /// The versions in the database: `None` if the data version is still `newer_than`'s.
    fn load(conn: &mut DbConn, newer_than: Option<&Snapshot>) -> AppResult<Option<Snapshot>> {
        // The table's one row, read without a bound parameter: SQLite (built with STAT4)
        // prepares a statement again whenever a value bound to it changes, and diesel binds
        // `find(1)` and `first()`'s LIMIT anew at every execution.
        let (data, registry): (i64, i64) = data_version::table
            .select((data_version::version, data_version::registry_version))
            .load(conn)?
            .into_iter()
            .next()
            .ok_or_else(|| crate::error::AppError::internal("data_version has no row"))?;
        let mut indicators = match newer_than {
            Some(s) if s.data == data => return Ok(None),
            Some(s) => s.indicators.clone(),
            None => HashMap::new(),
        };
        let since = newer_than.map(|s| s.data).unwrap_or(i64::MIN);
        let rows: Vec<(String, i32, i64)> = indicator_versions::table
            .filter(indicator_versions::version.gt(since))
            .select((
                indicator_versions::indicator,
                indicator_versions::year,
                indicator_versions::version,
            ))
            .load(conn)?;
        for (code, year, v) in rows {
            indicators.entry(code).or_default().insert(year, v);
        }
        Ok(Some(Snapshot {
            data,
            registry,
            indicators,
        }))
    }
}

/// The versions a request's HTTP tag was computed at (a request extension set by the
/// conditional-GET middleware): its handler reads at the same versions, so the body matches
/// the tag and the versions are read once per request.
#[derive(Clone)]
pub struct RequestVersions(pub Arc<Snapshot>);

/// The in-memory snapshot of one instance and how it is kept fresh.
pub struct Versions {
    backend: Backend,
    current: RwLock<Arc<Snapshot>>,
    /// Set while the PostgreSQL listener is connected and listening; cleared when it loses the
    /// connection (requests then read the data version themselves until it is back).
    listening: AtomicBool,
    reloads: AtomicU64,
    /// Forces a read before use (start-up, and after the listener reconnects).
    stale: AtomicBool,
}

impl Versions {
    pub fn new(backend: Backend) -> Arc<Versions> {
        Arc::new(Versions {
            backend,
            current: RwLock::new(Arc::new(Snapshot {
                data: -1,
                ..Snapshot::default()
            })),
            listening: AtomicBool::new(false),
            reloads: AtomicU64::new(0),
            stale: AtomicBool::new(true),
        })
    }

    fn get(&self) -> Arc<Snapshot> {
        self.current.read().expect("versions lock").clone()
    }

    /// Whether the snapshot in memory may be used without asking the database.
    pub fn trusted(&self) -> bool {
        self.backend == Backend::Postgres
            && self.listening.load(Ordering::Acquire)
            && !self.stale.load(Ordering::Acquire)
    }

    /// The snapshot in memory, if it may be used without asking the database.
    pub fn trusted_snapshot(&self) -> Option<Arc<Snapshot>> {
        self.trusted().then(|| self.get())
    }

    /// The current versions: from memory when a listener keeps them fresh, else read now.
    pub fn current(&self, conn: &mut DbConn) -> AppResult<Arc<Snapshot>> {
        if self.trusted() {
            return Ok(self.get());
        }
        self.reload(conn)
    }

    /// Like [`Versions::current`] but a connection is taken only when one is needed, and the
    /// versions are read once per [`LazyConn`](super::LazyConn): later calls (and the work's
    /// other parts) get the same snapshot.
    pub fn current_lazy(&self, conn: &mut super::LazyConn<'_>) -> AppResult<Arc<Snapshot>> {
        if let Some(pinned) = conn.pinned() {
            return Ok(pinned.clone());
        }
        let snapshot = match self.trusted_snapshot() {
            Some(s) => s,
            None => self.reload(conn.get()?)?,
        };
        conn.pin(snapshot.clone());
        Ok(snapshot)
    }

    /// Where the snapshot is kept in memory: make sure it holds every commit up to data version
    /// `seen`, just read on `conn` (the rest is read only if something is new). For callers that
    /// read the database anyway (a signed-in caller's check).
    pub fn observe(&self, conn: &mut DbConn, seen: i64) -> AppResult<()> {
        if !self.trusted() {
            return Ok(()); // the view itself reads the versions
        }
        if seen > self.get().data {
            self.reload(conn)?;
        }
        Ok(())
    }

    /// Read what changed since the snapshot and install it (never going backwards).
    pub fn reload(&self, conn: &mut DbConn) -> AppResult<Arc<Snapshot>> {
        let stale = self.stale.swap(false, Ordering::AcqRel);
        let before = self.get();
        let base = (!stale && before.data >= 0).then_some(&*before);
        self.reloads.fetch_add(1, Ordering::Relaxed);
        let Some(fresh) = Snapshot::load(conn, base)? else {
            return Ok(before); // unchanged: no copy, no write lock
        };
        let mut cur = self.current.write().expect("versions lock");
        if fresh.data >= cur.data || stale {
            *cur = Arc::new(fresh);
        }
        Ok(cur.clone())
    }

    /// How often the snapshot was read from the database (for `/metrics` and tests).
    pub fn reloads(&self) -> u64 {
        self.reloads.load(Ordering::Relaxed)
    }

    /// Keep the snapshot fresh from PostgreSQL notifications, with a check every `safety` as a
    /// net. Runs on its own thread for the life of the process; SQLite needs none.
    pub fn spawn_listener(self: &Arc<Self>, db: Db, safety: Duration) {
        if self.backend != Backend::Postgres {
            return;
        }
        let me = self.clone();
        let url = db.target().url.clone();
        std::thread::Builder::new()
            .name("basisset-versions".into())
            .spawn(move || me.listen_forever(&db, &url, safety))
            .expect("spawn the versions listener");
    }

    fn listen_forever(&self, db: &Db, url: &str, safety: Duration) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match listener::Listener::connect(url) {
                Ok(mut l) => {
                    backoff = Duration::from_millis(100);
                    // Anything committed before LISTEN took effect is read now.
                    self.stale.store(true, Ordering::Release);
                    if self.reload_with(db).is_ok() {
                        self.listening.store(true, Ordering::Release);
                    }
                    let mut last = Instant::now();
                    loop {
                        let wait = safety.saturating_sub(last.elapsed());
                        match l.wait(wait) {
                            Ok(payloads) if !payloads.is_empty() => {
                                if !self.apply(&payloads) && self.reload_with(db).is_err() {
                                    self.stale.store(true, Ordering::Release);
                                }
                                last = Instant::now();
                            }
                            Ok(_) => {
                                // Safety net: nothing announced for a while; check anyway.
                                if self.reload_with(db).is_err() {
                                    self.stale.store(true, Ordering::Release);
                                }
                                last = Instant::now();
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "versions listener lost its connection");
                                break;
                            }
                        }
                    }
                    self.listening.store(false, Ordering::Release);
                }
                Err(e) => {
                    tracing::debug!(error = %e, "versions listener cannot connect yet");
                }
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    /// Take in announced changes without a query; false if the database must be read (a gap,
    /// or a change that does not say what it touched).
    fn apply(&self, payloads: &[String]) -> bool {
        let mut cur = self.current.write().expect("versions lock");
        let mut snap: Snapshot = (**cur).clone();
        for p in payloads {
            let v = p.split_once(' ').and_then(|(v, _)| v.parse::<i64>().ok());
            if v.is_some_and(|v| v <= snap.data) {
                continue; // already known (this instance read it after its own write)
            }
            match snap.after(p) {
                Some(next) => snap = next,
                None => return false,
            }
        }
        *cur = Arc::new(snap);
        true
    }

    fn reload_with(&self, db: &Db) -> AppResult<()> {
        let mut conn = db.get_timeout(Duration::from_secs(5))?;
        self.reload(&mut conn).map(|_| ())
    }
}

/// A bare libpq connection that LISTENs and waits on its socket (diesel's connection can only
/// poll for notifications; this one sleeps until one arrives).
mod listener {
    use std::ffi::{CStr, CString};
    use std::time::Duration;

    use pq_sys::*;

    pub struct Listener {
        conn: *mut PGconn,
    }

    // SAFETY: the connection is used by one thread at a time (it is owned by the listener
    // thread and never shared).
    unsafe impl Send for Listener {}

    impl Drop for Listener {
        fn drop(&mut self) {
            // SAFETY: `conn` came from PQconnectdb and is finished exactly once.
            unsafe { PQfinish(self.conn) }
        }
    }

    fn error(conn: *const PGconn) -> String {
        // SAFETY: PQerrorMessage returns a NUL-terminated string owned by the connection.
        unsafe {
            let p = PQerrorMessage(conn);
            if p.is_null() {
                return "unknown libpq error".into();
            }
            CStr::from_ptr(p).to_string_lossy().trim().to_owned()
        }
    }

    impl Listener {
        pub fn connect(url: &str) -> Result<Listener, String> {
            let c = CString::new(url).map_err(|_| "database URL holds a NUL byte".to_owned())?;
            // SAFETY: `c` is a valid C string; the result is checked before use.
            let conn = unsafe { PQconnectdb(c.as_ptr()) };
            if conn.is_null() {
                return Err("out of memory".into());
            }
            let l = Listener { conn };
            // SAFETY: `conn` is a live connection.
            if unsafe { PQstatus(conn) } != ConnStatusType::CONNECTION_OK {
                return Err(error(conn));
            }
            // SAFETY: live connection, valid query; the result is read while alive, then cleared.
            let schema = unsafe {
                let q = CString::new("SELECT current_schema()").expect("no NUL");
                let res = PQexec(conn, q.as_ptr());
                let ok = PQresultStatus(res) == ExecStatusType::PGRES_TUPLES_OK
                    && PQntuples(res) == 1
                    && PQgetisnull(res, 0, 0) == 0;
                let schema = ok.then(|| {
                    CStr::from_ptr(PQgetvalue(res, 0, 0))
                        .to_string_lossy()
                        .into_owned()
                });
                PQclear(res);
                schema.ok_or_else(|| error(conn))?
            };
            let channel = format!("{}_{schema}", super::CHANNEL).replace('"', "\"\"");
            let q = CString::new(format!("LISTEN \"{channel}\"")).map_err(|e| e.to_string())?;
            // SAFETY: live connection, valid query; the result is cleared.
            unsafe {
                let res = PQexec(conn, q.as_ptr());
                let ok = PQresultStatus(res) == ExecStatusType::PGRES_COMMAND_OK;
                PQclear(res);
                if !ok {
                    return Err(error(conn));
                }
            }
            Ok(l)
        }

        /// Wait up to `timeout` for notifications: their payloads (empty on timeout), `Err`
        /// when the connection is gone.
        pub fn wait(&mut self, timeout: Duration) -> Result<Vec<String>, String> {
            // SAFETY: live connection.
            let fd = unsafe { PQsocket(self.conn) };
            if fd < 0 {
                return Err("no socket".into());
            }
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rc < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    return Ok(Vec::new());
                }
                return Err(e.to_string());
            }
            if rc == 0 {
                return Ok(Vec::new());
            }
            // SAFETY: live connection; notifications are freed with PQfreemem.
            unsafe {
                if PQconsumeInput(self.conn) == 0 {
                    return Err(error(self.conn));
                }
                if PQstatus(self.conn) != ConnStatusType::CONNECTION_OK {
                    return Err(error(self.conn));
                }
                let mut payloads = Vec::new();
                loop {
                    let n = PQnotifies(self.conn);
                    if n.is_null() {
                        break;
                    }
                    let extra = (*n).extra;
                    if !extra.is_null() {
                        payloads.push(CStr::from_ptr(extra).to_string_lossy().into_owned());
                    } else {
                        payloads.push(String::new());
                    }
                    PQfreemem(n as *mut _);
                }
                Ok(payloads)
            }
        }
    }
}
