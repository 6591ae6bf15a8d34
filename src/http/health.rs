//! `/healthz`: the process is alive (no database). `/readyz`: a database connection can be had
//! within 2 seconds, answers, and has every migration this binary embeds.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;
use serde::Serialize;

use crate::app::AppState;
use crate::db;
use crate::error::AppError;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: &'static str,
    /// `postgresql` or `sqlite` (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

/// Process alive.
#[utoipa::path(get, path = "/healthz", operation_id = "getHealth", tag = "health",
    responses((status = 200, description = "The process is alive", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        database: None,
    })
}

/// Free space below which a SQLite database is reported not ready.
const MIN_FREE_BYTES: u64 = 1024 * 1024;

/// Database reachable, writable storage, migrations current.
#[utoipa::path(get, path = "/readyz", operation_id = "getReadiness", tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "Database unreachable, storage full or migrations pending (the reason in `detail`, never a host or port)",
         headers(("Retry-After" = u64, description = "Seconds to wait")),
         body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = state.db.clone();
    let backend = database.backend();
    let checked = web::block(move || -> Result<(), &'static str> {
        if db::storage_full_recently() {
            return Err("storage full: a write failed for lack of disk space in the last minute");
        }
        if backend == db::Backend::Sqlite
            && db::free_bytes(std::path::Path::new(&database.target().url))
                .is_some_and(|free| free < MIN_FREE_BYTES)
        {
            return Err("storage full: less than 1 MiB free for the database");
        }
        let mut conn = database
            .get_timeout(Duration::from_secs(2))
            .map_err(|_| "database unreachable")?;
        diesel::sql_query("SELECT 1")
            .execute(&mut *conn)
            .map_err(|_| "database does not answer")?;
        match db::has_pending_migrations(&mut conn) {
            Ok(false) => Ok(()),
            Ok(true) => Err("database migrations are pending"),
            Err(_) => Err("database does not answer"),
        }
    })
    .await
    .unwrap_or(Err("readiness check failed"));
    match checked {
        Ok(()) => HttpResponse::Ok().json(Health {
            status: "ready",
            database: Some(backend.name()),
        }),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            let mut problem = AppError::Unavailable(reason.to_owned()).problem();
            problem.detail = reason.to_owned();
            HttpResponse::ServiceUnavailable()
                .insert_header((
                    actix_web::http::header::CONTENT_TYPE,
                    "application/problem+json",
                ))
                .insert_header((
                    actix_web::http::header::RETRY_AFTER,
                    crate::error::UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
                ))
                .body(serde_json::to_string(&problem).unwrap_or_default())
        }
    }
}
