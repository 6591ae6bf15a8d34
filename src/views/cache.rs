//! Computed views, cached with the versions of what they depend on ([`crate::db::versions`]):
//! the registry and, per indicator and year, the counted figures. Every change raises the
//! versions it touches in its own transaction; an entry is used only while the versions it was
//! computed at are still current, so a new submission is visible the instant it commits (also
//! with several instances on one database) and invalidates only its own indicators and year.
//! Entries are bounded: a full cache drops its least recently used tenth.

use std::any::Any;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::db::versions::{Snapshot, Versions};
use crate::db::{DbConn, LazyConn};
use crate::error::AppResult;

type Entry = Arc<dyn Any + Send + Sync>;

/// A bounded map that, when full, drops the least recently used tenth of its entries (never all
/// of them: a burst of distinct requests must not empty the cache of what is in use).
struct Lru<V> {
    capacity: usize,
    tick: u64,
    map: HashMap<String, (u64, V)>,
}

impl<V: Clone> Lru<V> {
    fn new(capacity: usize) -> Self {
        Lru {
            capacity,
            tick: 0,
            map: HashMap::new(),
        }
    }

    fn get(&mut self, key: &str) -> Option<V> {
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(key).map(|(used, v)| {
            *used = tick;
            v.clone()
        })
    }

    fn insert(&mut self, key: String, value: V) {
        if self.capacity == 0 {
            return;
        }
        if self.map.len() >= self.capacity && !self.map.contains_key(&key) {
            let drop = (self.capacity / 10).max(1);
            let mut ticks: Vec<u64> = self.map.values().map(|(t, _)| *t).collect();
            let (_, cut, _) = ticks.select_nth_unstable(drop - 1);
            let cut = *cut;
            self.map.retain(|_, (t, _)| *t > cut);
        }
        self.tick += 1;
        self.map.insert(key, (self.tick, value));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }
}

struct State {
    /// Views, each with the versions it was computed at ([`Snapshot::stamp`]).
    entries: Lru<(Vec<i64>, Entry)>,
    /// The organisations as views see them, at a registry version; kept even when view caching
    /// is off.
    organisations: Option<(i64, Entry)>,
    /// Protected table families per indicator and year, with the versions they were built at;
    /// kept even when view caching is off (they decide what is shown, and are costly to
    /// compute).
    families: Lru<(Vec<i64>, Arc<crate::views::protect::Family>)>,
    /// Summed roll-ups of an indicator for some periods (what exact views pool), with the
    /// versions of that indicator's years; only while view caching is on.
    sums: Lru<(Vec<i64>, Entry)>,
}

/// Protected table families kept (an indicator x versions x year each).
const MAX_FAMILIES: usize = 4096;

/// Sets of summed roll-ups kept (an indicator x periods each, a few hundred rows per year).
const MAX_SUMS: usize = 1024;

/// What a view depends on, to tell whether a cached copy is still valid.
#[derive(Debug, Clone)]
pub enum Deps {
    /// One indicator in some years (and the registry).
    Indicator { code: String, years: Vec<i32> },
    /// Anything (views over every indicator).
    Everything,
}

impl Deps {
    pub fn indicator(code: &str, years: impl IntoIterator<Item = i32>) -> Deps {
        let mut years: Vec<i32> = years.into_iter().collect();
        years.sort_unstable();
        years.dedup();
        Deps::Indicator {
            code: code.trim().to_owned(),
            years,
        }
    }

    fn stamp(&self, s: &Snapshot) -> Vec<i64> {
        match self {
            Deps::Indicator { code, years } => s.stamp(code, years.iter().copied()),
            Deps::Everything => vec![s.data],
        }
    }
}

thread_local! {
    /// Set while a view is computed on this thread if it used a protected family older than the
    /// current versions (one was being rebuilt): such a view is answered but not cached.
    static USED_STALE: Cell<bool> = const { Cell::new(false) };
}

/// Note that the view being computed on this thread used a family that is being rebuilt.
pub fn note_stale_family() {
    USED_STALE.with(|c| c.set(true));
}

/// What the background rebuild of families needs besides the cache itself.
pub struct Background {
    pub db: crate::db::Db,
    pub catalogue: Arc<crate::catalogue::Catalogue>,
    pub reference: Arc<crate::registry::Reference>,
}

/// One family to rebuild in the background.
pub struct FamilyJob {
    pub key: String,
    pub indicator: String,
    pub catalogue_version: String,
    pub versions: Vec<String>,
    pub year: i32,
    pub policy: crate::disclosure::Policy,
}

struct Rebuilder {
    background: Background,
    queue: Mutex<std::sync::mpsc::Sender<FamilyJob>>,
}

pub struct ViewCache {
    max_entries: usize,
    versions: Arc<Versions>,
    hits: AtomicU64,
    misses: AtomicU64,
    stale_served: AtomicU64,
    state: Mutex<State>,
    /// Families being rebuilt or queued for it (by key).
    rebuilding: Mutex<HashSet<String>>,
    rebuilder: OnceLock<Rebuilder>,
}

impl ViewCache {
    /// `max_entries` 0 disables caching of views (families and organisations are still kept).
    pub fn new(max_entries: usize, versions: Arc<Versions>) -> Self {
        ViewCache {
            max_entries,
            versions,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stale_served: AtomicU64::new(0),
            state: Mutex::new(State {
                entries: Lru::new(max_entries),
                organisations: None,
                families: Lru::new(MAX_FAMILIES),
                sums: Lru::new(MAX_SUMS),
            }),
            rebuilding: Mutex::new(HashSet::new()),
            rebuilder: OnceLock::new(),
        }
    }

    /// Let families be rebuilt in the background (one worker thread): while one is rebuilt,
    /// readers get the previous protected family instead of waiting. Without this (tests that
    /// build a cache alone), every stale family is rebuilt by the request that finds it.
    pub fn enable_background(self: &Arc<Self>, background: Background) {
        let (tx, rx) = std::sync::mpsc::channel::<FamilyJob>();
        let worker_cache: Weak<ViewCache> = Arc::downgrade(self);
        if self
            .rebuilder
            .set(Rebuilder {
                background,
                queue: Mutex::new(tx),
            })
            .is_err()
        {
            return;
        }
        std::thread::Builder::new()
            .name("basisset-families".into())
            .spawn(move || {
                // Ends when the cache (and with it the sender) is dropped.
                while let Ok(job) = rx.recv() {
                    let Some(cache) = worker_cache.upgrade() else {
                        break;
                    };
                    let key = job.key.clone();
                    if let Some(r) = cache.rebuilder.get()
                        && let Err(e) = crate::views::rebuild_family(&cache, &r.background, &job)
                    {
                        tracing::warn!(error = %e, family = %key, "family rebuild failed");
                    }
                    cache.rebuilding.lock().expect("rebuild lock").remove(&key);
                }
            })
            .expect("spawn the family rebuilder");
    }

    /// Families being rebuilt or waiting for it (while there are any, answers may come from an
    /// older family, so HTTP answers are not tagged for revalidation).
    pub fn rebuilds_pending(&self) -> usize {
        self.rebuilding.lock().expect("rebuild lock").len()
    }

    /// Answers computed from an older family while a newer one was being built.
    pub fn stale_served(&self) -> u64 {
        self.stale_served.load(Ordering::Relaxed)
    }

    /// May this request rebuild the stale families `keys` itself? Yes when nothing else is being
    /// rebuilt (a quiet service answers with the new figures at once), or when there is no
    /// background rebuilder; then the caller calls [`ViewCache::end_rebuild`] for each after.
    /// No while other families are being rebuilt: the caller serves the older families and
    /// queues these ([`ViewCache::queue_rebuild`]), so that readers never wait behind the
    /// protection's linear programs during a busy reporting deadline.
    pub fn begin_rebuild(&self, keys: &[String]) -> bool {
        if self.rebuilder.get().is_none() {
            return true;
        }
        let mut r = self.rebuilding.lock().expect("rebuild lock");
        if r.is_empty() {
            r.extend(keys.iter().cloned());
            true
        } else {
            false
        }
    }

    pub fn end_rebuild(&self, key: &str) {
        self.rebuilding.lock().expect("rebuild lock").remove(key);
    }

    /// Serve the older family and have the newer one built in the background (once).
    pub fn queue_rebuild(&self, job: FamilyJob) {
        self.stale_served.fetch_add(1, Ordering::Relaxed);
        note_stale_family();
        let Some(r) = self.rebuilder.get() else {
            return;
        };
        let mut pending = self.rebuilding.lock().expect("rebuild lock");
        if pending.contains(&job.key) {
            return;
        }
        pending.insert(job.key.clone());
        if r.queue.lock().expect("queue lock").send(job).is_err() {
            pending.clear();
        }
    }

    /// The versions this cache checks entries against.
    pub fn versions(&self) -> &Arc<Versions> {
        &self.versions
    }

    /// View requests answered from the cache, and computed.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The current versions (from memory where a listener keeps them fresh).
    pub fn snapshot(&self, conn: &mut LazyConn<'_>) -> AppResult<Arc<Snapshot>> {
        self.versions.current_lazy(conn)
    }

    /// The organisation table as views use it, at the current registry version.
    pub fn organisations<T, F>(&self, conn: &mut LazyConn<'_>, load: F) -> AppResult<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T>,
    {
        let registry = self.snapshot(conn)?.registry;
        {
            let s = self.state.lock().expect("cache lock");
            if let Some((at, hit)) = s.organisations.clone()
                && at == registry
                && let Ok(v) = hit.downcast::<T>()
            {
                return Ok(v);
            }
        }
        let value = Arc::new(load(conn.get()?)?);
        let mut s = self.state.lock().expect("cache lock");
        if s.organisations
            .as_ref()
            .is_none_or(|(at, _)| *at <= registry)
        {
            s.organisations = Some((registry, value.clone()));
        }
        Ok(value)
    }

    /// The summed roll-ups stored under `key`, read again once the versions of `deps` move:
    /// views of one indicator and period that differ in grouping, filters or kind (aggregate,
    /// benchmark) pool the same rows without reading them again. Read every time when view
    /// caching is off.
    pub fn sums<T, F>(
        &self,
        conn: &mut LazyConn<'_>,
        key: String,
        deps: &Deps,
        load: F,
    ) -> AppResult<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T>,
    {
        if self.max_entries == 0 {
            return Ok(Arc::new(load(conn.get()?)?));
        }
        // Taken before the rows are read: rows newer than their stamp are read again at the
        // next version, never the other way round.
        let stamp = deps.stamp(&*self.snapshot(conn)?);
        if let Some(value) = current(
            &mut self.state.lock().expect("cache lock").sums,
            &key,
            &stamp,
        ) {
            return Ok(value);
        }
        let value = Arc::new(load(conn.get()?)?);
        let mut s = self.state.lock().expect("cache lock");
        s.sums.insert(key, (stamp, value.clone() as Entry));
        Ok(value)
    }

    /// The protected family stored under `key` and the versions it was built at.
    pub fn family(&self, key: &str) -> Option<(Vec<i64>, Arc<crate::views::protect::Family>)> {
        let mut s = self.state.lock().expect("cache lock");
        s.families.get(key)
    }

    /// Keep a family built at `stamp`.
    pub fn put_family(
        &self,
        stamp: Vec<i64>,
        key: String,
        family: crate::views::protect::Family,
    ) -> Arc<crate::views::protect::Family> {
        let family = Arc::new(family);
        let mut s = self.state.lock().expect("cache lock");
        s.families.insert(key, (stamp, family.clone()));
        family
    }

    /// The value for `key` if it was computed at the versions `at` (counted as a hit; a miss is
    /// not counted: the caller then computes it through [`ViewCache::get_or_compute`]).
    pub fn peek<T: Send + Sync + 'static>(
        &self,
        key: &str,
        deps: &Deps,
        at: &Snapshot,
    ) -> Option<Arc<T>> {
        if self.max_entries == 0 {
            return None;
        }
        let stamp = deps.stamp(at);
        let hit = current(
            &mut self.state.lock().expect("cache lock").entries,
            key,
            &stamp,
        )?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(hit)
    }

    /// The value for `key` at the current versions of what it depends on, computed if need be.
    /// A hit takes no database connection where the versions are kept in memory.
    pub fn get_or_compute<T, F>(
        &self,
        conn: &mut LazyConn<'_>,
        key: String,
        deps: &Deps,
        compute: F,
    ) -> AppResult<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&mut LazyConn<'_>) -> AppResult<T>,
    {
        if self.max_entries == 0 {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return compute(conn).map(Arc::new);
        }
        let stamp = deps.stamp(&*self.snapshot(conn)?);
        let hit = current(
            &mut self.state.lock().expect("cache lock").entries,
            &key,
            &stamp,
        );
        if let Some(value) = hit {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(value);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        USED_STALE.with(|c| c.set(false));
        let value = Arc::new(compute(conn)?);
        if USED_STALE.with(|c| c.replace(false)) {
            return Ok(value); // from an older family: answered, not kept
        }
        let mut s = self.state.lock().expect("cache lock");
        s.entries.insert(key, (stamp, value.clone() as Entry));
        Ok(value)
    }
}

/// The value stored under `key` if it was computed at `stamp` (and is a `T`).
fn current<T: Send + Sync + 'static>(
    store: &mut Lru<(Vec<i64>, Entry)>,
    key: &str,
    stamp: &[i64],
) -> Option<Arc<T>> {
    store
        .get(key)
        .filter(|(at, _)| at.as_slice() == stamp)
        .and_then(|(_, hit)| hit.downcast::<T>().ok())
}

#[cfg(test)]
mod tests {
    use super::Lru;

    #[test]
    fn a_full_cache_drops_the_least_recently_used_tenth_and_keeps_what_is_in_use() {
        let mut lru = Lru::new(100);
        for i in 0..100 {
            lru.insert(format!("k{i}"), i);
        }
        // k0..k9 are read again: they are in use, k10..k19 are now the oldest.
        for i in 0..10 {
            assert_eq!(lru.get(&format!("k{i}")), Some(i));
        }
        lru.insert("new".into(), 1000);
        assert_eq!(lru.len(), 91, "a tenth dropped, not everything");
        for i in 0..10 {
            assert!(
                lru.get(&format!("k{i}")).is_some(),
                "recently used k{i} kept"
            );
        }
        for i in 10..20 {
            assert!(
                lru.get(&format!("k{i}")).is_none(),
                "least recently used k{i} dropped"
            );
        }
        assert_eq!(lru.get("new"), Some(1000));
        // Re-inserting a present key never evicts.
        let before = lru.len();
        lru.insert("new".into(), 1001);
        assert_eq!(lru.len(), before);
        let mut off = Lru::new(0);
        off.insert("x".into(), 1);
        assert_eq!(off.get("x"), None);
    }
}
