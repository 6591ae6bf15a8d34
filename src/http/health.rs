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
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is alive", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        database: None,
    })
}

/// Database reachable and migrations current.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "Database unreachable or migrations pending",
         body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let database = state.db.clone();
    let backend = database.backend();
    web::block(move || -> Result<(), AppError> {
        let mut conn = database.get_timeout(Duration::from_secs(2))?;
        diesel::sql_query("SELECT 1")
            .execute(&mut *conn)
            .map_err(|e| AppError::Unavailable(format!("database does not answer: {e}")))?;
        if db::has_pending_migrations(&mut conn)? {
            return Err(AppError::Unavailable(
                "database migrations are pending".into(),
            ));
        }
        Ok(())
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))??;
    Ok(HttpResponse::Ok().json(Health {
        status: "ready",
        database: Some(backend.name()),
    }))
}
