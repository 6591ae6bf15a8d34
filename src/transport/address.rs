//! The client's address, as the throttles count it.

use actix_web::HttpRequest;

use crate::app::AppState;
use crate::auth::throttle;

/// The key the token throttle counts this request under: the TCP peer, or behind a trusted
/// proxy (`--trusted-proxies`) the client named by `X-Forwarded-For`.
pub fn client_address(state: &AppState, req: &HttpRequest) -> String {
    // Lossy: a client's junk on the left must not hide the hops proxies appended on the right.
    let forwarded_for: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let forwarded_for: Vec<&str> = forwarded_for.iter().map(String::as_str).collect();
    throttle::address_key(throttle::client_address(
        req.peer_addr().map(|a| a.ip()),
        &forwarded_for,
        &state.config.auth.trusted_proxies,
    ))
}
