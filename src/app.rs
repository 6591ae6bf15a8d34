//! Start-up: connect, migrate, load the catalogue and reference data, and the shared state every
//! request handler and GraphQL resolver receives.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::AuthService;
use crate::catalogue::Catalogue;
use crate::config::{GlobalArgs, ServeArgs};
use crate::db::{self, DatabaseTarget, Db, DbConn};
use crate::error::{AppError, AppResult};
use crate::registry::Reference;

/// Everything a request needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub catalogue: Arc<Catalogue>,
    pub reference: Arc<Reference>,
    pub config: Arc<ServeArgs>,
    pub auth: Arc<AuthService>,
    pub view_cache: Arc<crate::views::cache::ViewCache>,
}

impl AppState {
    /// What runs beside the HTTP server: the rebuilder of protected families (readers are not
    /// held up by a rebuild while other families are rebuilt) and, on PostgreSQL, the listener
    /// that keeps the data versions fresh (so a cached view needs no database round trip).
    pub fn start_background(&self) {
        self.view_cache
            .enable_background(crate::views::cache::Background {
                db: self.db.clone(),
                catalogue: self.catalogue.clone(),
                reference: self.reference.clone(),
            });
        self.view_cache.versions().spawn_listener(
            self.db.clone(),
            std::time::Duration::from_secs(self.config.views.version_check_seconds.max(1)),
        );
    }

    /// The service's public URL (no trailing slash): `--public-url`, else `http://` + bind.
    pub fn public_url(&self) -> String {
        self.config
            .web
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.config.bind))
            .trim_end_matches('/')
            .to_owned()
    }
}

/// What start-up did, for the log.
#[derive(Debug, Default)]
pub struct Prepared {
    pub migrations_applied: Vec<String>,
    pub catalogue_versions_written: Vec<String>,
    pub reference_rows_written: usize,
}

/// Open the pool for `--database-url`.
pub fn connect(global: &GlobalArgs) -> AppResult<Db> {
    let target = DatabaseTarget::parse(&global.database_url)?;
    Db::connect(
        target,
        global.pool_size,
        Duration::from_secs(global.pool_timeout_secs.max(1)),
    )
}

/// Apply migrations and load the versioned data files, idempotently, in one transaction.
pub fn prepare(
    conn: &mut DbConn,
    catalogue: &Catalogue,
    reference: &Reference,
) -> AppResult<Prepared> {
    let migrations_applied = db::run_migrations(conn)?;
    db::transaction(conn, |conn| {
        Ok(Prepared {
            migrations_applied,
            catalogue_versions_written: catalogue.sync(conn)?,
            reference_rows_written: reference.sync(conn)?,
        })
    })
}

/// Migrate, load the data files and read them back (blocking).
pub fn prepare_database(db: &Db) -> AppResult<(Catalogue, Reference, Prepared)> {
    let catalogue = Catalogue::builtin().map_err(AppError::internal)?;
    let reference = Reference::builtin().map_err(AppError::internal)?;
    let mut conn = db.get()?;
    let prepared = prepare(&mut conn, &catalogue, &reference)?;
    Ok((
        Catalogue::load(&mut conn)?,
        Reference::load(&mut conn)?,
        prepared,
    ))
}

/// Prepare the database and build the state the service runs with (blocking).
pub fn build_state(db: Db, config: ServeArgs) -> AppResult<(AppState, Prepared)> {
    let auth = AuthService::new(&config.auth)?;
    let (catalogue, reference, prepared) = prepare_database(&db)?;
    let versions = crate::db::versions::Versions::new(db.backend());
    let catalogue = Arc::new(catalogue);
    let reference = Arc::new(reference);
    let view_cache = Arc::new(crate::views::cache::ViewCache::new(
        config.views.view_cache_entries,
        versions,
    ));
    Ok((
        AppState {
            db,
            catalogue,
            reference,
            view_cache,
            config: Arc::new(config),
            auth: Arc::new(auth),
        },
        prepared,
    ))
}

impl<'a> crate::views::ViewContext<'a> {
    /// The views as `caller` may see them, over this application's catalogue, reference data,
    /// disclosure policy and cache.
    pub fn new(state: &'a AppState, caller: &crate::auth::Caller) -> Self {
        crate::views::ViewContext {
            catalogue: &state.catalogue,
            reference: &state.reference,
            audience: crate::views::Audience::of(caller),
            policy: crate::views::policy_of(&state.config.views),
            cache: &state.view_cache,
        }
    }
}
