//! Reading a request body with a size limit.

use actix_web::web;
use futures_util::StreamExt;

use crate::error::AppError;

/// Read a request body up to `limit` bytes (413 problem+json beyond).
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, AppError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| AppError::bad_request("INVALID_BODY", format!("reading body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge(format!(
                "request body exceeds {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
