//! Secrets out of logs and exports.

/// Path and query for logs, with the values of secret-looking parameters replaced.
pub fn redacted_target(uri: &actix_web::http::Uri) -> String {
    const SECRET: [&str; 9] = [
        "access_token",
        "token",
        "client_secret",
        "secret",
        "password",
        "refresh_token",
        "id_token",
        "code",
        "api_key",
    ];
    let Some(query) = uri.query() else {
        return uri.path().to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = k.to_ascii_lowercase();
            if SECRET.contains(&key.as_str()) && !v.is_empty() {
                format!("{k}=REDACTED")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    format!("{}?{}", uri.path(), parts.join("&"))
}
