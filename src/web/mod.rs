//! The public website: server-rendered pages (askama templates, compile-time checked) over the
//! same domain functions as REST and GraphQL. A third thin transport: every figure comes from
//! the views called as the anonymous caller, so the one disclosure layer decides what a page
//! shows. Charts and the map are drawn in the browser from the tables on the page, with the
//! vendored libraries in `assets/vendor/`; tables and text work without JavaScript.

pub mod format;
pub(crate) mod pages;
pub mod portal;
pub mod text;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;

use crate::error::AppError;
use crate::transport::{get, resource};
use text::Texts;

/// The Content-Security-Policy of the pages: scripts, styles, data and forms from this origin
/// only. `'unsafe-inline'` styles are for the `<style>` element Observable Plot puts in its SVG.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self'; connect-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The language of a page: Dutch unless `?lang=en`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Nl,
    En,
}

impl Lang {
    pub fn of(req: &HttpRequest) -> Lang {
        let lang = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "lang"))
            .map(|(_, v)| v);
        match lang.as_deref() {
            Some("en") => Lang::En,
            _ => Lang::Nl,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Nl => &text::NL,
            Lang::En => &text::EN,
        }
    }

    /// A link within the site in this language: `path` with `params` and, in English, `lang=en`.
    pub fn href(self, path: &str, params: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> = params.to_vec();
        if self == Lang::En {
            pairs.push(("lang", "en"));
        }
        if pairs.is_empty() {
            path.to_owned()
        } else {
            format!(
                "{path}?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            )
        }
    }
}

/// What every page has around its content: language, navigation, the language switch.
pub struct Chrome {
    pub lang: &'static str,
    pub t: &'static Texts,
    pub title: String,
    pub home: String,
    pub indicators: String,
    pub map: String,
    /// The portal's sign-in page.
    pub sign_in: String,
    /// The same page in the other language.
    pub switch: String,
    pub switch_lang: &'static str,
    /// Which menu item is the current page: `home`, `indicators`, `map` or empty.
    pub current: &'static str,
}

impl Chrome {
    pub fn new(req: &HttpRequest, lang: Lang, title: String, current: &'static str) -> Chrome {
        let other = match lang {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        };
        let params: Vec<(String, String)> =
            serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| k != "lang")
                .collect();
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Chrome {
            lang: lang.code(),
            t: lang.texts(),
            title,
            home: lang.href("/", &[]),
            indicators: lang.href("/indicatoren", &[]),
            map: lang.href("/kaart", &[]),
            sign_in: lang.href("/account/inloggen", &[]),
            switch: other.href(req.path(), &params),
            switch_lang: other.code(),
            current,
        }
    }
}

/// An error of a page, shown as an HTML page with the status of the error.
#[derive(Debug)]
pub struct WebError {
    pub error: AppError,
    pub lang: Lang,
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

#[derive(Template)]
#[template(path = "web/error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    message: String,
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        self.error.log();
        let status = self.status_code();
        let t = self.lang.texts();
        let message = match status {
            StatusCode::NOT_FOUND => t.not_found.to_owned(),
            s if s.is_server_error() => t.error_title.to_owned(),
            _ => self.error.problem().detail,
        };
        let lang = self.lang;
        let chrome = Chrome {
            lang: lang.code(),
            t,
            title: format!("{} {}", status.as_u16(), t.error_title),
            home: lang.href("/", &[]),
            indicators: lang.href("/indicatoren", &[]),
            map: lang.href("/kaart", &[]),
            sign_in: lang.href("/account/inloggen", &[]),
            switch: lang.href("/", &[]),
            switch_lang: lang.code(),
            current: "",
        };
        let page = ErrorPage {
            chrome,
            status: status.as_u16(),
            message,
        };
        html(status, page.render().unwrap_or_default())
    }
}

/// The result of a page handler.
pub type WebResult = Result<HttpResponse, WebError>;

/// Attach the page's language to an error.
pub trait InLang<T> {
    fn in_lang(self, lang: Lang) -> Result<T, WebError>;
}

impl<T> InLang<T> for Result<T, AppError> {
    fn in_lang(self, lang: Lang) -> Result<T, WebError> {
        self.map_err(|error| WebError { error, lang })
    }
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// A rendered page, 200.
pub fn page(template: &impl Template, lang: Lang) -> WebResult {
    let body = template
        .render()
        .map_err(|e| AppError::internal(format!("template: {e}")))
        .in_lang(lang)?;
    Ok(html(StatusCode::OK, body))
}

/// Whether a request for an unknown route should get the HTML 404 page rather than a problem
/// document: a browser asking for a page outside the API.
pub fn wants_html(req: &HttpRequest) -> bool {
    let path = req.path();
    let api = ["/api/", "/graphql", "/oauth/", "/assets/", "/.well-known/"]
        .iter()
        .any(|p| path.starts_with(p));
    !api && req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// The HTML 404 page for an unknown route.
pub fn not_found(req: &HttpRequest) -> HttpResponse {
    WebError {
        error: AppError::not_found("page", req.path()),
        lang: Lang::of(req),
    }
    .error_response()
}

/// The routes of the website.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/", "GET, HEAD").route(get().to(pages::dashboard)))
        .service(resource("/indicatoren", "GET, HEAD").route(get().to(pages::indicators)))
        .service(resource("/indicatoren/{code}", "GET, HEAD").route(get().to(pages::indicator)))
        .service(resource("/kaart", "GET, HEAD").route(get().to(pages::map)))
        .service(resource("/gemeenten/{code}", "GET, HEAD").route(get().to(pages::municipality)));
    portal::routes(cfg);
}
