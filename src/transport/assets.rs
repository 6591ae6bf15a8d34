//! The static files served under `/assets/` and the pages built from them (GraphiQL, the API
//! reference): vendored in `assets/` (see assets/README.md) and embedded in the binary, so
//! nothing loads from a CDN and `cargo run` serves everything offline.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::error::AppError;

/// (path under /assets/, content type, bytes)
pub static ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql/index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../assets/graphiql/index.html"),
    ),
    (
        "graphiql/init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/init.js"),
    ),
    (
        "graphiql/page.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/page.css"),
    ),
    (
        "graphiql/graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "graphiql/graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql/react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "graphiql/react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "docs/index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../assets/docs/index.html"),
    ),
    (
        "docs/init.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/docs/init.js"),
    ),
    (
        "docs/page.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/docs/page.css"),
    ),
    (
        "docs/swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/docs/swagger-ui.css"),
    ),
    (
        "docs/swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/docs/swagger-ui-bundle.js"),
    ),
    (
        "docs/swagger-ui-bundle.js.LICENSE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/docs/swagger-ui-bundle.js.LICENSE.txt"),
    ),
    (
        "licenses/graphiql.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/licenses/graphiql.LICENSE"),
    ),
    (
        "licenses/react.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/licenses/react.LICENSE"),
    ),
    (
        "licenses/react-dom.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/licenses/react-dom.LICENSE"),
    ),
    (
        "licenses/swagger-ui-dist.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/licenses/swagger-ui-dist.LICENSE"),
    ),
    (
        "licenses/swagger-ui-dist.NOTICE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/licenses/swagger-ui-dist.NOTICE"),
    ),
    (
        "vendor/d3.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/d3.min.js"),
    ),
    (
        "vendor/plot.umd.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/plot.umd.min.js"),
    ),
    (
        "vendor/topojson-client.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/topojson-client.min.js"),
    ),
    (
        "web/site.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/web/site.css"),
    ),
    (
        "web/portal.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/web/portal.css"),
    ),
    (
        "web/charts.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/web/charts.js"),
    ),
    (
        "web/map.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/web/map.js"),
    ),
    (
        "web/gemeenten_2024.topojson",
        "application/json",
        include_bytes!("../../data/reference/gemeenten_2024.topojson"),
    ),
    (
        "licenses/d3.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/licenses/d3.LICENSE"),
    ),
    (
        "licenses/observablehq-plot.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/licenses/observablehq-plot.LICENSE"),
    ),
    (
        "licenses/topojson-client.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/licenses/topojson-client.LICENSE"),
    ),
    (
        "licenses/isoformat.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/licenses/isoformat.LICENSE"),
    ),
    (
        "licenses/interval-tree-1d.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/licenses/interval-tree-1d.LICENSE"),
    ),
    (
        "licenses/binary-search-bounds.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/licenses/binary-search-bounds.LICENSE"),
    ),
];

/// The Content-Security-Policy of the embedded pages: everything from this origin only.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// An embedded HTML page (by its path under `assets/`).
pub fn page(path: &str) -> HttpResponse {
    let (_, content_type, bytes) = ASSETS
        .iter()
        .find(|(p, _, _)| *p == path)
        .expect("page is embedded");
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, *content_type))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(*bytes)
}

/// `GET /assets/{path}`: an embedded static asset.
pub async fn asset(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let path = path.into_inner();
    let (_, content_type, bytes) = ASSETS
        .iter()
        .find(|(p, _, _)| *p == path)
        .ok_or_else(|| AppError::not_found("asset", &path))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, *content_type))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(*bytes))
}
