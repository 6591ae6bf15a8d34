//! The portal: people of wijkteam organisations and the Associatie sign in and do their work in
//! the browser. A thin transport like the public pages: every page gathers what it shows from
//! the same domain functions the REST handlers call ([`crate::users`] for accounts,
//! [`crate::submissions`] for figures and the review), as the signed-in person's [`Caller`],
//! so a person can do in the browser exactly what an API client of the same role can.
//!
//! Every form that changes something carries the session's CSRF token and passes
//! [`session::require_same_site`]; the sign-in and invitation forms, before there is a
//! session, pass [`session::require_own_origin`]. Pages are never cached (`no-store`).

mod account;
mod admin;
mod analysis;
mod entry;
mod insight;
mod multipart;
mod review;
mod team;
pub mod text;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;

use super::{Chrome, Lang, WebError};
use crate::app::AppState;
use crate::auth::{Caller, Role};
use crate::error::{AppError, FieldIssue};
use crate::transport::session;
use crate::transport::{get, resource};
use crate::users::sessions::{Session, Stage};
use text::PortalTexts;

/// What every portal page has around its content.
pub struct PortalChrome {
    pub chrome: Chrome,
    pub p: &'static PortalTexts,
    /// The session's CSRF token (empty before signing in).
    pub csrf: String,
    /// Signed in fully: the menu and the sign-out button show.
    pub signed_in: bool,
    pub email: String,
    /// The associatie's review queue and completeness matrix are in the menu.
    pub reviewer: bool,
    /// The registry and access pages are in the menu (admins, the Associatie).
    pub manager: bool,
    /// A team's coordinator: its team's accounts are in the menu.
    pub coordinator: bool,
    /// A team member: its benchmark is in the menu (empty otherwise).
    pub benchmark: String,
    pub completeness: String,
    pub analysis: String,
    pub admin: String,
    pub users: String,
    pub overview: String,
    pub review: String,
    pub account: String,
    pub sign_out: String,
    /// Which menu item is the current page: `overview`, `review`, `benchmark`,
    /// `completeness`, `analysis`, `admin`, `account` or empty.
    pub current: &'static str,
}

impl PortalChrome {
    pub fn new(
        req: &HttpRequest,
        lang: Lang,
        title: String,
        session: Option<&Session>,
        current: &'static str,
    ) -> PortalChrome {
        let full = session.filter(|s| s.stage == Stage::Full);
        PortalChrome {
            chrome: Chrome::new(req, lang, title, ""),
            p: PortalTexts::of(lang),
            csrf: session.map(|s| s.csrf.clone()).unwrap_or_default(),
            signed_in: full.is_some(),
            email: full.map(|s| s.user.email.clone()).unwrap_or_default(),
            reviewer: full.is_some_and(|s| s.user.role == Role::Associatie),
            manager: full.is_some_and(|s| matches!(s.user.role, Role::Admin | Role::Associatie)),
            coordinator: full.is_some_and(|s| s.user.role == Role::Team && s.user.coordinator),
            benchmark: full
                .filter(|s| s.user.role == Role::Team)
                .and_then(|s| s.user.organisation_id)
                .map(|org| lang.href(&format!("/portaal/organisaties/{org}/benchmark"), &[]))
                .unwrap_or_default(),
            completeness: lang.href("/portaal/volledigheid", &[]),
            analysis: lang.href(crate::web::pages::ANALYSIS, &[]),
            admin: lang.href("/portaal/beheer/organisaties", &[]),
            users: lang.href("/portaal/beheer/gebruikers", &[]),
            overview: lang.href("/portaal", &[]),
            review: lang.href("/portaal/beoordelen", &[]),
            account: lang.href("/account", &[]),
            sign_out: lang.href("/account/uitloggen", &[]),
            current,
        }
    }

    /// A link within the site in the page's language.
    pub fn href(&self, path: &str) -> String {
        lang_of(self.chrome.lang).href(path, &[])
    }
}

fn lang_of(code: &str) -> Lang {
    if code == "en" { Lang::En } else { Lang::Nl }
}

/// How a portal handler ends when it does not render its page: a redirect, or an error page.
#[derive(Debug)]
pub enum Exit {
    /// 303 See Other to this location (a path within the site).
    Redirect(String),
    Page(WebError),
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Redirect(to) => write!(f, "redirect to {to}"),
            Exit::Page(e) => e.fmt(f),
        }
    }
}

impl ResponseError for Exit {
    fn status_code(&self) -> StatusCode {
        match self {
            Exit::Redirect(_) => StatusCode::SEE_OTHER,
            Exit::Page(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Exit::Redirect(to) => redirect(to),
            Exit::Page(e) => {
                let mut res = e.error_response();
                res.headers_mut().insert(
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static("no-store"),
                );
                res
            }
        }
    }
}

impl From<WebError> for Exit {
    fn from(e: WebError) -> Exit {
        Exit::Page(e)
    }
}

/// The result of a portal handler.
pub type PortalResult = Result<HttpResponse, Exit>;

/// Attach the page's language to an error.
pub trait OrExit<T> {
    fn or_exit(self, lang: Lang) -> Result<T, Exit>;
}

impl<T> OrExit<T> for Result<T, AppError> {
    fn or_exit(self, lang: Lang) -> Result<T, Exit> {
        self.map_err(|error| Exit::Page(WebError { error, lang }))
    }
}

/// 303 See Other.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A rendered portal page with its status: never cached, same headers as the public pages.
pub fn render(template: &impl Template, lang: Lang, status: StatusCode) -> PortalResult {
    let body = template
        .render()
        .map_err(|e| AppError::internal(format!("template: {e}")))
        .or_exit(lang)?;
    let mut res = super::html(status, body);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// Where a session at `stage` must go next, if not where it is.
fn stage_home(lang: Lang, stage: Stage) -> String {
    match stage {
        Stage::SecondFactor => lang.href("/account/code", &[]),
        Stage::Enrol => lang.href("/account/app", &[]),
        Stage::Full => lang.href("/portaal", &[]),
    }
}

/// The session of the request, whatever its stage (`None` when there is none).
pub async fn any_session(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
) -> Result<Option<Session>, Exit> {
    session::session_of(state, req).await.or_exit(lang)
}

/// The session of a signed-in person; otherwise off to the step the browser is at (sign in,
/// the code, setting up the app).
pub async fn signed_in(state: &AppState, req: &HttpRequest, lang: Lang) -> Result<Session, Exit> {
    match any_session(state, req, lang).await? {
        Some(s) if s.stage == Stage::Full => Ok(s),
        Some(s) => Err(Exit::Redirect(stage_home(lang, s.stage))),
        None => Err(Exit::Redirect(lang.href("/account/inloggen", &[]))),
    }
}

/// A state-changing form of a signed-in person: the session, after the CSRF and origin check.
pub async fn signed_in_form(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    csrf: &str,
) -> Result<Session, Exit> {
    let session = match any_session(state, req, lang).await? {
        Some(s) => s,
        None => {
            return Err(Exit::Page(WebError {
                error: AppError::Forbidden(
                    "CSRF check failed: there is no session; reload the page and sign in".into(),
                ),
                lang,
            }));
        }
    };
    session::require_same_site(state, req, &session, csrf).or_exit(lang)?;
    if session.stage != Stage::Full {
        return Err(Exit::Redirect(stage_home(lang, session.stage)));
    }
    Ok(session)
}

/// The fields of a urlencoded form.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    /// A field's value (the first if sent twice), empty when absent.
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// A problem to show beside a form.
pub struct Problem {
    pub field: String,
    pub message: String,
}

/// The problems of an error, to show beside the form that caused it.
pub fn problems_of(error: &AppError) -> Vec<Problem> {
    let issues: &[FieldIssue] = error.issues();
    if issues.is_empty() {
        vec![Problem {
            field: String::new(),
            message: error.problem().detail,
        }]
    } else {
        issues
            .iter()
            .map(|i| Problem {
                field: i.field.clone(),
                message: i.message.clone(),
            })
            .collect()
    }
}

/// A signed-in person's caller (the same rights as an API client of its role).
pub fn caller_of(session: &Session) -> Caller {
    session.caller()
}

/// The routes of the portal.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use actix_web::web::post;
    cfg.service(resource("/account", "GET, HEAD").route(get().to(account::overview)))
        .service(
            resource("/account/welkom", "GET, HEAD, POST")
                .route(get().to(account::welcome))
                .route(post().to(account::welcome_post)),
        )
        .service(
            resource("/account/inloggen", "GET, HEAD, POST")
                .route(get().to(account::sign_in))
                .route(post().to(account::sign_in_post)),
        )
        .service(
            resource("/account/code", "GET, HEAD, POST")
                .route(get().to(account::code))
                .route(post().to(account::code_post)),
        )
        .service(
            resource("/account/app", "GET, HEAD, POST")
                .route(get().to(account::enrol))
                .route(post().to(account::enrol_post)),
        )
        .service(resource("/account/app/start", "POST").route(post().to(account::enrol_start)))
        .service(
            resource("/account/wachtwoord", "GET, HEAD, POST")
                .route(get().to(account::password))
                .route(post().to(account::password_post)),
        )
        .service(resource("/account/uitloggen", "POST").route(post().to(account::sign_out)))
        .service(
            resource("/account/overal-uitloggen", "POST")
                .route(post().to(account::sign_out_everywhere)),
        )
        .service(resource("/portaal", "GET, HEAD").route(get().to(team::home)))
        .service(
            resource("/portaal/organisaties/{id}", "GET, HEAD").route(get().to(team::organisation)),
        )
        .service(
            resource("/portaal/organisaties/{id}/upload", "POST").route(post().to(team::upload)),
        )
        .service(
            resource("/portaal/inzendingen/{id}", "GET, HEAD").route(get().to(team::submission)),
        )
        .service(resource("/portaal/inzendingen/{id}/{action}", "POST").route(post().to(team::act)))
        .service(resource("/portaal/beoordelen", "GET, HEAD").route(get().to(review::queue)))
        .service(
            resource("/portaal/organisaties/{id}/benchmark", "GET, HEAD")
                .route(get().to(insight::benchmark)),
        )
        .service(
            resource("/portaal/volledigheid", "GET, HEAD").route(get().to(insight::completeness)),
        )
        .service(resource("/portaal/analyse", "GET, HEAD").route(get().to(analysis::analysis)))
        .service(
            resource("/portaal/organisaties/{id}/invoeren", "GET, HEAD, POST")
                .route(get().to(entry::entry))
                .route(post().to(entry::entry_post)),
        )
        .service(
            resource("/portaal/beheer/organisaties", "GET, HEAD")
                .route(get().to(admin::organisations)),
        )
        .service(
            resource("/portaal/beheer/clients", "GET, HEAD, POST")
                .route(get().to(admin::clients_list))
                .route(post().to(admin::clients_create)),
        )
        .service(
            resource("/portaal/beheer/gebruikers", "GET, HEAD, POST")
                .route(get().to(admin::users_list))
                .route(post().to(admin::users_invite)),
        )
        .service(
            resource("/portaal/beheer/gebruikers/{id}/deactiveren", "POST")
                .route(post().to(admin::users_deactivate)),
        )
        .service(
            resource("/portaal/beheer/gebruikers/{id}/nieuwe-link", "POST")
                .route(post().to(admin::users_reset)),
        )
        .service(resource("/portaal/beheer/audit", "GET, HEAD").route(get().to(admin::audit_log)));
}
