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

#[derive(Default)]
struct State {
    version: i64,
    entries: HashMap<String, Entry>,
    /// The organisations as views see them; kept even when view caching is off.
    organisations: Option<Entry>,
    /// Protected table families per indicator and year; kept even when view caching is off
    /// (they decide what is shown, and are costly to compute).
    families: HashMap<String, Arc<crate::views::protect::Family>>,
}

impl State {
    fn advance(&mut self, version: i64) {
        self.version = version;
        self.entries.clear();
        self.organisations = None;
        self.families.clear();
    }
}

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
                ..Default::default()
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
        s.entries.get(key).cloned()
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
        s.families.get(key).cloned()
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
            if s.families.len() >= 4096 {
                s.families.clear();
            }
            s.families.insert(key, family.clone());
        }
        family
    }

    fn store(&self, version: i64, key: String, value: Entry) {
        let mut s = self.state.lock().expect("cache lock");
        if s.version != version {
            return;
        }
        if s.entries.len() >= self.max_entries {
            s.entries.clear();
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
            return Ok(value);
        }
        let value = Arc::new(compute(conn)?);
        self.store(version, key, value.clone());
        Ok(value)
    }
}
