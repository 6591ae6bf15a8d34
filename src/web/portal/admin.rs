//! Registry and access, for admins and the Associatie: the organisations, the API clients
//! (with "create client" for admins, the secret shown once), people's accounts (invite,
//! deactivate) and the audit log. Every rule (who may list, create, invite or deactivate
//! what) is the domain's: [`crate::registry`], [`crate::auth::clients`], [`crate::users`],
//! [`crate::audit`]; these pages only show what those allow the signed-in person.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;

use super::{
    Form, OrExit, PortalChrome, PortalResult, Problem, problems_of, redirect, render,
    signed_in_form,
};
use crate::app::AppState;
use crate::audit::{self, AuditFilter};
use crate::auth::clients::{self, IssuedCredentials, NewClient};
use crate::auth::{Caller, Role};
use crate::error::AppError;
use crate::registry::organisations::{self, OrganisationFilter};
use crate::users::sessions::Session;
use crate::users::{self, NewUser};
use crate::web::Lang;

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The tabs of the registry and access pages, as far as the person may open them.
pub struct Tab {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

fn tabs(lang: Lang, s: &Session, current: &str) -> Vec<Tab> {
    let p = super::text::PortalTexts::of(lang);
    let role = s.user.role;
    let manager = matches!(role, Role::Admin | Role::Associatie);
    [
        ("organisaties", p.adm_organisations, manager),
        ("clients", p.adm_clients, role == Role::Admin),
        ("gebruikers", p.adm_users, manager || s.user.coordinator),
        ("audit", p.adm_audit, manager),
    ]
    .into_iter()
    .filter(|(_, _, shown)| *shown)
    .map(|(path, label, _)| Tab {
        href: lang.href(&format!("/portaal/beheer/{path}"), &[]),
        label,
        current: path == current,
    })
    .collect()
}

/// An organisation of the list.
pub struct OrganisationRow {
    pub id: String,
    pub name: String,
    pub team_type: String,
    pub size_class: String,
    pub municipalities: String,
    pub active: bool,
    pub href: String,
}

#[derive(Template)]
#[template(path = "web/portal/admin_organisations.html")]
struct OrganisationsPage {
    c: PortalChrome,
    tabs: Vec<Tab>,
    rows: Vec<OrganisationRow>,
}

/// `/portaal/beheer/organisaties`: every organisation of the registry (admins, Associatie).
pub async fn organisations(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    s.caller()
        .require(&[Role::Admin, Role::Associatie])
        .or_exit(lang)?;
    let reference = state.reference.clone();
    let list = state
        .db
        .run(move |conn| organisations::list(conn, &reference, &OrganisationFilter::default()))
        .await
        .or_exit(lang)?;
    let p = super::text::PortalTexts::of(lang);
    let associatie = s.user.role == Role::Associatie;
    let rows = list
        .into_iter()
        .map(|o| OrganisationRow {
            id: o.id.to_string(),
            team_type: crate::web::text::team_type(o.team_type, lang).to_owned(),
            size_class: o
                .size_class
                .map(|c| crate::web::text::org_size_class(c, lang).to_owned())
                .unwrap_or_default(),
            municipalities: o
                .municipalities
                .iter()
                .map(|m| m.code.clone())
                .collect::<Vec<_>>()
                .join(", "),
            active: o.active,
            href: if associatie {
                lang.href(&format!("/portaal/organisaties/{}", o.id), &[])
            } else {
                String::new()
            },
            name: o.name,
        })
        .collect();
    render(
        &OrganisationsPage {
            c: PortalChrome::new(&req, lang, p.adm_organisations.into(), Some(&s), "admin"),
            tabs: tabs(lang, &s, "organisaties"),
            rows,
        },
        lang,
        StatusCode::OK,
    )
}

/// An API client of the list.
pub struct ClientRow {
    pub client_id: String,
    pub name: String,
    pub role: &'static str,
    pub organisation: String,
    pub created: String,
    pub rotated: String,
    pub active: bool,
}

/// An organisation to choose in a form.
pub struct OrgOption {
    pub id: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "web/portal/admin_clients.html")]
struct ClientsPage {
    c: PortalChrome,
    tabs: Vec<Tab>,
    rows: Vec<ClientRow>,
    organisations: Vec<OrgOption>,
    action: String,
    /// Just created: the credentials, shown this once.
    created: Option<IssuedCredentials>,
    name: String,
    problems: Vec<Problem>,
}

/// The organisations to choose from, and their names by id.
fn org_options(
    state: &AppState,
) -> impl FnOnce(&mut crate::db::DbConn) -> Result<Vec<OrgOption>, AppError> + Send + 'static {
    let reference = state.reference.clone();
    move |conn| {
        Ok(organisations::list(
            conn,
            &reference,
            &OrganisationFilter {
                active: Some(true),
                ..OrganisationFilter::default()
            },
        )?
        .into_iter()
        .map(|o| OrgOption {
            id: o.id.to_string(),
            name: o.name,
        })
        .collect())
    }
}

#[allow(clippy::too_many_arguments)]
async fn clients_page(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    s: &Session,
    created: Option<IssuedCredentials>,
    name: String,
    problems: Vec<Problem>,
    status: StatusCode,
) -> PortalResult {
    let caller = s.caller();
    let options = org_options(state);
    let (list, orgs) = state
        .db
        .run(move |conn| Ok((clients::list(conn, &caller)?, options(conn)?)))
        .await
        .or_exit(lang)?;
    let p = super::text::PortalTexts::of(lang);
    let org_name = |id: Option<i64>| {
        id.map(|id| {
            orgs.iter()
                .find(|o| o.id == id.to_string())
                .map_or_else(|| id.to_string(), |o| o.name.clone())
        })
        .unwrap_or_default()
    };
    let rows = list
        .iter()
        .map(|c| ClientRow {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            role: p.role(c.role),
            organisation: org_name(c.organisation_id),
            created: when(c.created_at.0),
            rotated: when(c.secret_rotated_at.0),
            active: c.active,
        })
        .collect();
    render(
        &ClientsPage {
            c: PortalChrome::new(req, lang, p.adm_clients.into(), Some(s), "admin"),
            tabs: tabs(lang, s, "clients"),
            rows,
            organisations: orgs,
            action: lang.href("/portaal/beheer/clients", &[]),
            created,
            name,
            problems,
        },
        lang,
        status,
    )
}

/// `/portaal/beheer/clients`: the API clients (admins, as over the API).
pub async fn clients_list(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    s.caller().require_admin().or_exit(lang)?;
    clients_page(
        &state,
        &req,
        lang,
        &s,
        None,
        String::new(),
        vec![],
        StatusCode::OK,
    )
    .await
}

/// Create a team client (an admin, as over the API: associatie and admin clients only on the
/// server). The page shows the secret once.
pub async fn clients_create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    let form = Form::parse(&body);
    let s = signed_in_form(&state, &req, lang, &form.get("csrf")).await?;
    let caller = s.caller();
    caller.require_admin().or_exit(lang)?;
    let name = form.get("name");
    let organisation_id = form.get("organisation").trim().parse::<i64>().ok();
    let input = NewClient {
        name: name.clone(),
        role: Role::Team,
        organisation_id,
    };
    let outcome = state
        .db
        .run(move |conn| clients::create(conn, &caller, input))
        .await;
    match outcome {
        Ok(created) => {
            clients_page(
                &state,
                &req,
                lang,
                &s,
                Some(created),
                String::new(),
                vec![],
                StatusCode::CREATED,
            )
            .await
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            clients_page(&state, &req, lang, &s, None, name, problems_of(&e), status).await
        }
        Err(e) => Err(e).or_exit(lang),
    }
}

/// An account of the list.
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub role: &'static str,
    pub organisation: String,
    pub coordinator: bool,
    pub active: bool,
    pub has_password: bool,
    pub second_factor: bool,
    pub last_sign_in: String,
    /// The deactivate button's form, when this person may use it.
    pub deactivate: String,
    /// The "new link" button's form (a reset: a new one-time link), when this person may.
    pub reset: String,
}

#[derive(Template)]
#[template(path = "web/portal/admin_users.html")]
struct UsersPage {
    c: PortalChrome,
    tabs: Vec<Tab>,
    rows: Vec<UserRow>,
    /// The invite form: admins choose the organisation, a coordinator invites to its own.
    can_invite: bool,
    choose_organisation: bool,
    organisations: Vec<OrgOption>,
    action: String,
    /// Just invited: the link to pass on, shown this once.
    link: String,
    invited: String,
    expires: String,
    email: String,
    problems: Vec<Problem>,
}

#[allow(clippy::too_many_arguments)]
async fn users_page(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    s: &Session,
    invitation: Option<users::Invitation>,
    email: String,
    problems: Vec<Problem>,
    status: StatusCode,
) -> PortalResult {
    let caller = s.caller();
    let options = org_options(state);
    let (list, orgs) = state
        .db
        .run(move |conn| Ok((users::list(conn, &caller)?, options(conn)?)))
        .await
        .or_exit(lang)?;
    let p = super::text::PortalTexts::of(lang);
    let admin = s.user.role == Role::Admin;
    let coordinator = s.user.role == Role::Team && s.user.coordinator;
    let org_name = |id: Option<i64>| {
        id.map(|id| {
            orgs.iter()
                .find(|o| o.id == id.to_string())
                .map_or_else(|| id.to_string(), |o| o.name.clone())
        })
        .unwrap_or_default()
    };
    let rows = list
        .iter()
        .map(|u| {
            // The buttons the domain would honour: an admin turns any account off, a
            // coordinator its own team's other members; never one's own account.
            let may = u.active
                && u.id != s.user.id
                && (admin
                    || (coordinator
                        && u.role == Role::Team
                        && !u.coordinator
                        && u.organisation_id == s.user.organisation_id));
            // A new link: team accounts only, by an admin or the team's coordinator.
            let may_reset = u.active
                && u.role == Role::Team
                && u.id != s.user.id
                && (admin
                    || (coordinator
                        && !u.coordinator
                        && u.organisation_id == s.user.organisation_id));
            UserRow {
                id: u.id.to_string(),
                email: u.email.clone(),
                role: p.role(u.role),
                organisation: org_name(u.organisation_id),
                coordinator: u.coordinator,
                active: u.active,
                has_password: u.has_password,
                second_factor: u.second_factor,
                last_sign_in: u.last_sign_in_at.map(|t| when(t.0)).unwrap_or_default(),
                deactivate: if may {
                    lang.href(
                        &format!("/portaal/beheer/gebruikers/{}/deactiveren", u.id),
                        &[],
                    )
                } else {
                    String::new()
                },
                reset: if may_reset {
                    lang.href(
                        &format!("/portaal/beheer/gebruikers/{}/nieuwe-link", u.id),
                        &[],
                    )
                } else {
                    String::new()
                },
            }
        })
        .collect();
    let (link, invited, expires) = invitation
        .map(|i| {
            (
                format!("{}{}", state.public_url(), i.path),
                i.user.email,
                when(i.expires_at.0),
            )
        })
        .unwrap_or_default();
    render(
        &UsersPage {
            c: PortalChrome::new(req, lang, p.adm_users.into(), Some(s), "admin"),
            tabs: tabs(lang, s, "gebruikers"),
            rows,
            can_invite: admin || coordinator,
            choose_organisation: admin,
            organisations: orgs,
            action: lang.href("/portaal/beheer/gebruikers", &[]),
            link,
            invited,
            expires,
            email,
            problems,
        },
        lang,
        status,
    )
}

/// `/portaal/beheer/gebruikers`: the accounts the person may see (admins and the Associatie
/// all, a team's coordinator its own team's).
pub async fn users_list(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    users_page(
        &state,
        &req,
        lang,
        &s,
        None,
        String::new(),
        vec![],
        StatusCode::OK,
    )
    .await
}

/// Invite a team member (an admin for any organisation, a coordinator for its own); the page
/// shows the one-time link to pass on.
pub async fn users_invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    let form = Form::parse(&body);
    let s = signed_in_form(&state, &req, lang, &form.get("csrf")).await?;
    let caller: Caller = s.caller();
    let email = form.get("email");
    // A team's coordinator invites to its own organisation; the domain checks either way.
    let organisation_id = if s.user.role == Role::Team {
        s.user.organisation_id
    } else {
        form.get("organisation").trim().parse::<i64>().ok()
    };
    let input = NewUser {
        email: email.clone(),
        role: Role::Team,
        organisation_id,
        coordinator: s.user.role == Role::Admin && form.get("coordinator") == "1",
    };
    let hours = state.config.accounts.invitation_hours.max(1);
    let outcome = state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| {
                users::invite(conn, &caller, input, chrono::TimeDelta::hours(hours))
            })
        })
        .await;
    match outcome {
        Ok(invitation) => {
            users_page(
                &state,
                &req,
                lang,
                &s,
                Some(invitation),
                String::new(),
                vec![],
                StatusCode::CREATED,
            )
            .await
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            users_page(&state, &req, lang, &s, None, email, problems_of(&e), status).await
        }
        Err(e) => Err(e).or_exit(lang),
    }
}

/// Deactivate an account: its sessions and unused links end at once.
pub async fn users_deactivate(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    let form = Form::parse(&body);
    let s = signed_in_form(&state, &req, lang, &form.get("csrf")).await?;
    let caller = s.caller();
    let id = id.into_inner();
    state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| users::set_active(conn, &caller, id, false))
        })
        .await
        .or_exit(lang)?;
    Ok(redirect(&lang.href("/portaal/beheer/gebruikers", &[])))
}

/// A new one-time link for an account (a forgotten password or a lost phone): the page shows
/// it once; the account's older unused link stops working.
pub async fn users_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    let form = Form::parse(&body);
    let s = signed_in_form(&state, &req, lang, &form.get("csrf")).await?;
    let caller = s.caller();
    let id = id.into_inner();
    let hours = state.config.accounts.invitation_hours.max(1);
    let invitation = state
        .db
        .run(move |conn| {
            crate::db::transaction(conn, |conn| {
                users::reset(conn, &caller, id, chrono::TimeDelta::hours(hours))
            })
        })
        .await
        .or_exit(lang)?;
    users_page(
        &state,
        &req,
        lang,
        &s,
        Some(invitation),
        String::new(),
        vec![],
        StatusCode::OK,
    )
    .await
}

/// An entry of the audit log.
pub struct AuditRow {
    pub id: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "web/portal/admin_audit.html")]
struct AuditPage {
    c: PortalChrome,
    tabs: Vec<Tab>,
    rows: Vec<AuditRow>,
    total: String,
    page: String,
    pages: String,
    previous: String,
    next: String,
}

/// Entries per page of the audit log.
const AUDIT_PAGE: i64 = 50;

/// `/portaal/beheer/audit?pagina=N`: the audit log, newest first (admins, Associatie).
pub async fn audit_log(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    let caller = s.caller();
    let page: i64 = Form::parse(req.query_string().as_bytes())
        .get("pagina")
        .trim()
        .parse()
        .ok()
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let filter = AuditFilter {
        limit: Some(AUDIT_PAGE),
        offset: Some((page - 1).saturating_mul(AUDIT_PAGE)),
        ..AuditFilter::default()
    };
    let list = state
        .db
        .run(move |conn| {
            let list = audit::list(conn, &caller, &filter)?;
            let emails =
                users::actor_names(conn, &caller, list.items.iter().map(|e| e.actor.as_str()))?;
            Ok((list, emails))
        })
        .await
        .or_exit(lang)?;
    let (list, emails) = list;
    let p = super::text::PortalTexts::of(lang);
    let pages = ((list.total + AUDIT_PAGE - 1) / AUDIT_PAGE).max(1);
    let link = |n: i64| lang.href("/portaal/beheer/audit", &[("pagina", &n.to_string())]);
    render(
        &AuditPage {
            c: PortalChrome::new(&req, lang, p.adm_audit.into(), Some(&s), "admin"),
            tabs: tabs(lang, &s, "audit"),
            rows: list
                .items
                .iter()
                .map(|e| AuditRow {
                    id: e.id.to_string(),
                    at: when(e.at.0),
                    actor: users::actor_name(&emails, &e.actor),
                    action: e.action.as_str().to_owned(),
                    subject: format!("{} {}", e.subject_type.as_str(), e.subject_id),
                    before: e.before.clone().unwrap_or_default(),
                    after: e.after.clone().unwrap_or_default(),
                })
                .collect(),
            total: list.total.to_string(),
            page: page.to_string(),
            pages: pages.to_string(),
            previous: if page > 1 {
                link(page - 1)
            } else {
                String::new()
            },
            next: if list.has_next() {
                link(page + 1)
            } else {
                String::new()
            },
        },
        lang,
        StatusCode::OK,
    )
}
