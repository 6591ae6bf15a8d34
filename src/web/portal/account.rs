//! Account pages: accepting an invitation, signing in (with the code step), setting up the
//! authenticator app, the account overview, changing the password, signing out. Every rule
//! (throttling, password checks, session renewal, audit) is in [`crate::users`].

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{
    Exit, Form, OrExit, PortalChrome, PortalResult, Problem, problems_of, redirect, render,
};
use crate::app::AppState;
use crate::error::AppError;
use crate::transport::{client_address, session};
use crate::users::sessions::{self, NewSession, SessionPolicy, Stage};
use crate::users::{self, password};
use crate::web::Lang;

fn policy(state: &AppState) -> SessionPolicy {
    SessionPolicy::from_args(&state.config.accounts)
}

/// Set the new session's cookie and go where its stage leads.
fn start(state: &AppState, lang: Lang, new: &NewSession) -> HttpResponse {
    let mut res = redirect(&super::stage_home(lang, new.session.stage));
    if let Ok(v) = session::set_cookie(state, &new.cookie).parse() {
        res.headers_mut()
            .insert(actix_web::http::header::SET_COOKIE, v);
    }
    res
}

#[derive(Template)]
#[template(path = "web/portal/sign_in.html")]
struct SignInPage {
    c: PortalChrome,
    action: String,
    email: String,
    notice: String,
    problems: Vec<Problem>,
}

fn sign_in_page(
    req: &HttpRequest,
    lang: Lang,
    email: String,
    notice: String,
    problems: Vec<Problem>,
    status: StatusCode,
) -> PortalResult {
    let c = PortalChrome::new(
        req,
        lang,
        super::text::PortalTexts::of(lang).sign_in.into(),
        None,
        "",
    );
    let action = lang.href("/account/inloggen", &[]);
    render(
        &SignInPage {
            c,
            action,
            email,
            notice,
            problems,
        },
        lang,
        status,
    )
}

pub async fn sign_in(req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let notice = if req.query_string().contains("welkom=1") {
        super::text::PortalTexts::of(lang).welcome_done.to_owned()
    } else {
        String::new()
    };
    sign_in_page(&req, lang, String::new(), notice, vec![], StatusCode::OK)
}

pub async fn sign_in_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    session::require_own_origin(&state, &req).or_exit(lang)?;
    let form = Form::parse(&body);
    let (email, password) = (form.get("email"), form.get("password"));
    let address = client_address(&state, &req);
    let failed = |e: AppError, email: String| {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
        sign_in_page(&req, lang, email, String::new(), problems_of(&e), status)
    };
    let s = state.clone();
    let (e, a) = (email.clone(), address.clone());
    let attempt = match state
        .db
        .run(move |conn| sessions::begin_sign_in(conn, &s.auth.throttle, &e, &a))
        .await
    {
        Ok(a) => a,
        Err(e @ AppError::RateLimited { .. }) => return failed(e, email),
        Err(e) => return Err(e).or_exit(lang),
    };
    // The slow password check runs off the database connection.
    let checked = web::block(move || attempt.verify(&password))
        .await
        .map_err(|e| AppError::internal(format!("password check: {e}")))
        .or_exit(lang)?;
    let verified = match checked {
        Ok(v) => v,
        Err(failure) => {
            let e = state
                .db
                .run(move |conn| sessions::record_failure(conn, &failure))
                .await
                .or_exit(lang)?;
            return failed(e, email);
        }
    };
    let previous = session::cookie_value(&req, session::cookie_name(&state));
    let s = state.clone();
    let new = state
        .db
        .run(move |conn| {
            sessions::finish_sign_in(
                conn,
                &s.auth.throttle,
                &policy(&s),
                verified,
                previous.as_deref(),
            )
        })
        .await
        .or_exit(lang)?;
    Ok(start(&state, lang, &new))
}

#[derive(Template)]
#[template(path = "web/portal/welcome.html")]
struct WelcomePage {
    c: PortalChrome,
    action: String,
    token: String,
    email: String,
    problems: Vec<Problem>,
}

pub async fn welcome(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let token = Form::parse(req.query_string().as_bytes()).get("token");
    let t = token.clone();
    let invitation = state
        .db
        .run(move |conn| users::open_invitation(conn, &t))
        .await
        .or_exit(lang)?;
    welcome_page(&req, lang, token, invitation.email, vec![], StatusCode::OK)
}

fn welcome_page(
    req: &HttpRequest,
    lang: Lang,
    token: String,
    email: String,
    problems: Vec<Problem>,
    status: StatusCode,
) -> PortalResult {
    let p = super::text::PortalTexts::of(lang);
    render(
        &WelcomePage {
            c: PortalChrome::new(req, lang, p.welcome.into(), None, ""),
            action: lang.href("/account/welkom", &[]),
            token,
            email,
            problems,
        },
        lang,
        status,
    )
}

pub async fn welcome_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    session::require_own_origin(&state, &req).or_exit(lang)?;
    let form = Form::parse(&body);
    let (token, pw, again) = (
        form.get("token"),
        form.get("password"),
        form.get("password2"),
    );
    let t = token.clone();
    let email = state
        .db
        .run(move |conn| users::invitation_email(conn, &t))
        .await
        .or_exit(lang)?;
    if pw != again {
        let p = super::text::PortalTexts::of(lang);
        let problems = vec![Problem {
            field: "password2".into(),
            message: p.password_mismatch.into(),
        }];
        return welcome_page(
            &req,
            lang,
            token,
            email,
            problems,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let e = email.clone();
    let prepared = web::block(move || password::NewPassword::prepare(&pw, &e))
        .await
        .map_err(|e| AppError::internal(format!("password hash: {e}")))
        .or_exit(lang)?;
    let prepared = match prepared {
        Ok(p) => p,
        Err(e) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            return welcome_page(&req, lang, token, email, problems_of(&e), status);
        }
    };
    state
        .db
        .run(move |conn| users::accept_invitation(conn, &token, &prepared))
        .await
        .or_exit(lang)?;
    Ok(redirect(
        &lang.href("/account/inloggen", &[("welkom", "1")]),
    ))
}

#[derive(Template)]
#[template(path = "web/portal/code.html")]
struct CodePage {
    c: PortalChrome,
    action: String,
    problems: Vec<Problem>,
}

async fn at_stage(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    stages: &[Stage],
) -> Result<sessions::Session, Exit> {
    match super::any_session(state, req, lang).await? {
        Some(s) if stages.contains(&s.stage) => Ok(s),
        Some(s) => Err(Exit::Redirect(super::stage_home(lang, s.stage))),
        None => Err(Exit::Redirect(lang.href("/account/inloggen", &[]))),
    }
}

pub async fn code(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let s = at_stage(&state, &req, lang, &[Stage::SecondFactor]).await?;
    code_page(&req, lang, &s, vec![], StatusCode::OK)
}

fn code_page(
    req: &HttpRequest,
    lang: Lang,
    s: &sessions::Session,
    problems: Vec<Problem>,
    status: StatusCode,
) -> PortalResult {
    let p = super::text::PortalTexts::of(lang);
    render(
        &CodePage {
            c: PortalChrome::new(req, lang, p.code_title.into(), Some(s), ""),
            action: lang.href("/account/code", &[]),
            problems,
        },
        lang,
        status,
    )
}

pub async fn code_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    let form = Form::parse(&body);
    let s = at_stage(&state, &req, lang, &[Stage::SecondFactor]).await?;
    session::require_same_site(&state, &req, &s, &form.get("csrf")).or_exit(lang)?;
    let address = client_address(&state, &req);
    let (st, sess, code) = (state.clone(), s.clone(), form.get("code"));
    let outcome = state
        .db
        .run(move |conn| {
            sessions::second_factor(
                conn,
                &st.auth.throttle,
                &policy(&st),
                &sess,
                code.trim(),
                &address,
                chrono::Utc::now().timestamp(),
            )
        })
        .await;
    match outcome {
        Ok(new) => Ok(start(&state, lang, &new)),
        Err(e @ (AppError::Validation(_) | AppError::RateLimited { .. })) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            code_page(&req, lang, &s, problems_of(&e), status)
        }
        Err(e) => Err(e).or_exit(lang),
    }
}

#[derive(Template)]
#[template(path = "web/portal/enrol.html")]
struct EnrolPage {
    c: PortalChrome,
    required: bool,
    start: String,
    action: String,
    secret: String,
    uri: String,
    problems: Vec<Problem>,
}

fn enrol_page(
    req: &HttpRequest,
    lang: Lang,
    s: &sessions::Session,
    setup: Option<users::sessions::TotpSetup>,
    problems: Vec<Problem>,
    status: StatusCode,
) -> PortalResult {
    let p = super::text::PortalTexts::of(lang);
    let (secret, uri) = setup.map(|t| (t.secret, t.uri)).unwrap_or_default();
    render(
        &EnrolPage {
            c: PortalChrome::new(req, lang, p.enrol_title.into(), Some(s), "account"),
            required: s.stage == Stage::Enrol,
            start: lang.href("/account/app/start", &[]),
            action: lang.href("/account/app", &[]),
            secret,
            uri,
            problems,
        },
        lang,
        status,
    )
}

pub async fn enrol(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let s = at_stage(&state, &req, lang, &[Stage::Enrol, Stage::Full]).await?;
    enrol_page(&req, lang, &s, None, vec![], StatusCode::OK)
}

pub async fn enrol_start(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    let form = Form::parse(&body);
    let s = at_stage(&state, &req, lang, &[Stage::Enrol, Stage::Full]).await?;
    session::require_same_site(&state, &req, &s, &form.get("csrf")).or_exit(lang)?;
    let sess = s.clone();
    let setup = state
        .db
        .run(move |conn| sessions::begin_enrolment(conn, &sess))
        .await
        .or_exit(lang)?;
    enrol_page(&req, lang, &s, Some(setup), vec![], StatusCode::OK)
}

pub async fn enrol_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    let form = Form::parse(&body);
    let s = at_stage(&state, &req, lang, &[Stage::Enrol, Stage::Full]).await?;
    session::require_same_site(&state, &req, &s, &form.get("csrf")).or_exit(lang)?;
    let (st, sess, code) = (state.clone(), s.clone(), form.get("code"));
    let outcome = state
        .db
        .run(move |conn| {
            sessions::confirm_enrolment(
                conn,
                &policy(&st),
                &sess,
                code.trim(),
                chrono::Utc::now().timestamp(),
            )
        })
        .await;
    match outcome {
        Ok(new) => Ok(start(&state, lang, &new)),
        Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            enrol_page(&req, lang, &s, None, problems_of(&e), status)
        }
        Err(e) => Err(e).or_exit(lang),
    }
}

#[derive(Template)]
#[template(path = "web/portal/account.html")]
struct AccountPage {
    c: PortalChrome,
    role: &'static str,
    organisation: String,
    second_factor: bool,
    password: String,
    app: String,
    everywhere: String,
}

pub async fn overview(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    let p = super::text::PortalTexts::of(lang);
    let organisation = match s.user.organisation_id {
        Some(id) => {
            let st = state.clone();
            state
                .db
                .run(move |conn| crate::registry::organisations::get(conn, &st.reference, id))
                .await
                .or_exit(lang)?
                .name
        }
        None => String::new(),
    };
    render(
        &AccountPage {
            c: PortalChrome::new(&req, lang, p.account_title.into(), Some(&s), "account"),
            role: p.role(s.user.role),
            organisation,
            second_factor: s.user.second_factor,
            password: lang.href("/account/wachtwoord", &[]),
            app: lang.href("/account/app", &[]),
            everywhere: lang.href("/account/overal-uitloggen", &[]),
        },
        lang,
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "web/portal/password.html")]
struct PasswordPage {
    c: PortalChrome,
    action: String,
    done: bool,
    problems: Vec<Problem>,
}

fn password_page(
    req: &HttpRequest,
    lang: Lang,
    s: &sessions::Session,
    done: bool,
    problems: Vec<Problem>,
    status: StatusCode,
) -> PortalResult {
    let p = super::text::PortalTexts::of(lang);
    render(
        &PasswordPage {
            c: PortalChrome::new(req, lang, p.change_password.into(), Some(s), "account"),
            action: lang.href("/account/wachtwoord", &[]),
            done,
            problems,
        },
        lang,
        status,
    )
}

pub async fn password(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    password_page(&req, lang, &s, false, vec![], StatusCode::OK)
}

pub async fn password_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    let form = Form::parse(&body);
    let s = super::signed_in_form(&state, &req, lang, &form.get("csrf")).await?;
    let p = super::text::PortalTexts::of(lang);
    let (current, new, again) = (
        form.get("current"),
        form.get("password"),
        form.get("password2"),
    );
    let unprocessable = |problems| {
        password_page(
            &req,
            lang,
            &s,
            false,
            problems,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    if new != again {
        return unprocessable(vec![Problem {
            field: "password2".into(),
            message: p.password_mismatch.into(),
        }]);
    }
    let id = s.user.id;
    let hash = state
        .db
        .run(move |conn| sessions::password_hash_of(conn, id))
        .await
        .or_exit(lang)?
        .unwrap_or_default();
    let email = s.user.email.clone();
    let checked = web::block(move || {
        if !password::verify(&current, &hash) {
            return Ok(None);
        }
        password::NewPassword::prepare(&new, &email).map(Some)
    })
    .await
    .map_err(|e| AppError::internal(format!("password hash: {e}")))
    .or_exit(lang)?;
    let prepared = match checked {
        Ok(Some(p)) => p,
        Ok(None) => {
            return unprocessable(vec![Problem {
                field: "current".into(),
                message: p.wrong_current.into(),
            }]);
        }
        Err(e) => return unprocessable(problems_of(&e)),
    };
    let sess = s.clone();
    state
        .db
        .run(move |conn| sessions::change_password(conn, &sess, &prepared))
        .await
        .or_exit(lang)?;
    password_page(&req, lang, &s, true, vec![], StatusCode::OK)
}

fn signed_out(state: &AppState, lang: Lang) -> HttpResponse {
    let mut res = redirect(&lang.href("/account/inloggen", &[]));
    if let Ok(v) = session::clear_cookie(state).parse() {
        res.headers_mut()
            .insert(actix_web::http::header::SET_COOKIE, v);
    }
    res
}

pub async fn sign_out(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    let form = Form::parse(&body);
    let Some(s) = super::any_session(&state, &req, lang).await? else {
        return Ok(signed_out(&state, lang));
    };
    session::require_same_site(&state, &req, &s, &form.get("csrf")).or_exit(lang)?;
    state
        .db
        .run(move |conn| sessions::sign_out(conn, &s))
        .await
        .or_exit(lang)?;
    Ok(signed_out(&state, lang))
}

pub async fn sign_out_everywhere(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    let form = Form::parse(&body);
    let s = super::signed_in_form(&state, &req, lang, &form.get("csrf")).await?;
    state
        .db
        .run(move |conn| sessions::sign_out_everywhere(conn, &s))
        .await
        .or_exit(lang)?;
    Ok(signed_out(&state, lang))
}
