//! Resources with an honest 405.

use actix_web::http::header;
use actix_web::{ResponseError, guard, web};

use crate::error::AppError;

/// A resource that answers methods it does not have with 405 and an `Allow` header.
pub fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        let err = AppError::MethodNotAllowed(allow);
        let mut res = err.error_response();
        res.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static(allow));
        res
    }))
}

/// A GET route that answers HEAD too (the same headers; the server sends no body).
pub fn get() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}
