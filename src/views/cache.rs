//! Computed views, cached per data version. Every change that can alter a view raises the
//! version in its own transaction ([`crate::db::bump_data_version`]); a request reads the
//! version first and only uses entries computed at that version. A new submission is therefore
//! visible the instant it commits, also with several service instances on one database.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::db::DbConn;
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

    fn clear(&mut self) {
        self.map.clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }
}

struct State {
    version: i64,
    entries: Lru<Entry>,
    /// The organisations as views see them; kept even when view caching is off.
    organisations: Option<Entry>,
    /// Protected table families per indicator and year; kept even when view caching is off
    /// (they decide what is shown, and are costly to compute).
    families: Lru<Arc<crate::views::protect::Family>>,
}

impl State {
    fn advance(&mut self, version: i64) {
        self.version = version;
        self.entries.clear();
        self.organisations = None;
        self.families.clear();
    }
}

/// Protected table families kept per data version (an indicator × versions × year each).
const MAX_FAMILIES: usize = 4096;

pub struct ViewCache {
    max_entries: usize,
    state: Mutex<State>,
}

impl ViewCache {
    /// `max_entries` 0 disables caching.
    pub fn new(max_entries: usize) -> Self {
        ViewCache {
            max_entries,
            state: Mutex::new(State {
                version: -1,
                entries: Lru::new(max_entries),
                organisations: None,
                families: Lru::new(MAX_FAMILIES),
            }),
        }
    }

    fn lookup(&self, version: i64, key: &str) -> Option<Entry> {
        let mut s = self.state.lock().expect("cache lock");
        if s.version != version {
            if version < s.version {
                return None;
            }
            s.advance(version);
        }
        s.entries.get(key)
    }

    /// The organisation table as views use it, at the current data version.
    pub fn organisations<T, F>(&self, conn: &mut DbConn, load: F) -> AppResult<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T>,
    {
        let version = crate::db::data_version(conn)?;
        {
            let mut s = self.state.lock().expect("cache lock");
            if s.version < version {
                s.advance(version);
            }
            if s.version == version
                && let Some(hit) = s.organisations.clone()
                && let Ok(v) = hit.downcast::<T>()
            {
                return Ok(v);
            }
        }
        let value = Arc::new(load(conn)?);
        let mut s = self.state.lock().expect("cache lock");
        if s.version == version {
            s.organisations = Some(value.clone());
        }
        Ok(value)
    }

    /// The protected family stored under `key` at data version `version`, if any.
    pub fn family(&self, version: i64, key: &str) -> Option<Arc<crate::views::protect::Family>> {
        let mut s = self.state.lock().expect("cache lock");
        if s.version < version {
            s.advance(version);
        }
        if s.version != version {
            return None;
        }
        s.families.get(key)
    }

    /// Keep a family computed at `version` (unless the version moved on meanwhile).
    pub fn put_family(
        &self,
        version: i64,
        key: String,
        family: crate::views::protect::Family,
    ) -> Arc<crate::views::protect::Family> {
        let family = Arc::new(family);
        let mut s = self.state.lock().expect("cache lock");
        if s.version == version {
            s.families.insert(key, family.clone());
        }
        family
    }

    fn store(&self, version: i64, key: String, value: Entry) {
        let mut s = self.state.lock().expect("cache lock");
        if s.version != version {
            return;
        }
        s.entries.insert(key, value);
    }

    /// The value for `key` at the current data version, computed if need be.
    pub fn get_or_compute<T, F>(
        &self,
        conn: &mut DbConn,
        key: String,
        compute: F,
    ) -> AppResult<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T>,
    {
        if self.max_entries == 0 {
            return compute(conn).map(Arc::new);
        }
        let version = crate::db::data_version(conn)?;
        if let Some(hit) = self.lookup(version, &key)
            && let Ok(value) = hit.downcast::<T>()
        {
            crate::server::metrics::cache_hit();
            return Ok(value);
        }
        crate::server::metrics::cache_miss();
        let value = Arc::new(compute(conn)?);
        self.store(version, key, value.clone());
        Ok(value)
    }
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
