//! The API reference page (Swagger UI) for the OpenAPI document at `/docs`.

use actix_web::HttpResponse;

/// API reference page for `/api/openapi.json`.
pub async fn api_docs() -> HttpResponse {
    crate::transport::assets::page("docs/index.html")
}
