//! The pages of a wijkteam organisation (and, reading along, the Associatie): the period
//! overview, uploading figures with a dry run that shows every problem at its row and cell,
//! a submission's revisions with the per-figure diff, and the workflow buttons (submit,
//! withdraw; for the Associatie accept and return). Everything goes through
//! [`crate::submissions`] as the signed-in caller: the same rules as the REST API.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, web};
use askama::Template;
use base64::Engine;
use chrono::Datelike;

use super::{Exit, Form, OrExit, PortalChrome, PortalResult, multipart, redirect, render};
use crate::app::AppState;
use crate::auth::{Caller, Role};
use crate::error::{AppError, FieldIssue};
use crate::submissions::{
    self, Figure, History, PostOptions, PostOutcome, RevisionDiff, Status, SubmissionFilter,
};
use crate::web::Lang;
use text_of as pt;

fn text_of(lang: Lang) -> &'static super::text::PortalTexts {
    super::text::PortalTexts::of(lang)
}

/// A number as the figures hold it, exactly, in the page's notation.
pub fn exact(v: f64, lang: Lang) -> String {
    let s = format!("{v}");
    match lang {
        Lang::Nl => s.replace('.', ","),
        Lang::En => s,
    }
}

fn opt_num(v: Option<f64>, lang: Lang) -> String {
    v.map(|v| exact(v, lang)).unwrap_or_default()
}

fn opt_int(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Where to go after signing in: the team's organisation, the review queue, or the account.
pub async fn home(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    let to = match (s.user.role, s.user.organisation_id) {
        (Role::Team, Some(org)) => format!("/portaal/organisaties/{org}"),
        (Role::Associatie, _) => "/portaal/beoordelen".to_owned(),
        (Role::Admin, _) => "/portaal/beheer/organisaties".to_owned(),
        _ => "/account".to_owned(),
    };
    Err(Exit::Redirect(lang.href(&to, &[])))
}

/// One period of the overview.
pub struct PeriodRow {
    pub period: String,
    pub status: String,
    /// `due`, or the status code (for styling and tests).
    pub key: String,
    pub revision: String,
    pub figures: String,
    pub updated: String,
    pub reason: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "web/portal/organisation.html")]
struct OrganisationPage {
    c: PortalChrome,
    name: String,
    rows: Vec<PeriodRow>,
    can_write: bool,
    upload: String,
    /// The form per transformation goal.
    entry: String,
    default_period: String,
}

fn organisation_name(
    state: &AppState,
    id: i64,
) -> impl FnOnce(&mut crate::db::DbConn) -> Result<String, AppError> + Send + 'static {
    let reference = state.reference.clone();
    move |conn| Ok(crate::registry::organisations::get(conn, &reference, id)?.name)
}

/// The period overview of an organisation, with the upload form (its team only).
pub async fn organisation(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    let caller = s.caller();
    let id = id.into_inner();
    caller.require_read_org(id).or_exit(lang)?;
    let p = pt(lang);
    let filter = SubmissionFilter {
        organisation_id: Some(id),
        limit: Some(1000),
        ..SubmissionFilter::default()
    };
    let c2 = caller.clone();
    let name_of = organisation_name(&state, id);
    let (name, list, reasons) = state
        .db
        .run(move |conn| {
            let name = name_of(conn)?;
            let list = submissions::list(conn, &c2, &filter)?.items;
            // The reason of each returned submission's newest revision.
            let mut reasons = Vec::new();
            for sub in list.iter().filter(|s| s.status == Status::Returned) {
                let h = submissions::history(conn, &c2, sub.id)?;
                let reason = h
                    .revisions
                    .iter()
                    .rev()
                    .find_map(|r| r.return_reason.clone())
                    .unwrap_or_default();
                reasons.push((sub.id, reason));
            }
            Ok((name, list, reasons))
        })
        .await
        .or_exit(lang)?;
    let mut rows: Vec<PeriodRow> = list
        .iter()
        .map(|sub| PeriodRow {
            period: sub.period.label.clone(),
            status: p.status(sub.status).to_owned(),
            key: sub.status.as_str().to_owned(),
            revision: sub.latest_revision.to_string(),
            figures: sub.figure_count.to_string(),
            updated: when(sub.updated_at.0),
            reason: reasons
                .iter()
                .find(|(i, _)| *i == sub.id)
                .map(|(_, r)| r.clone())
                .unwrap_or_default(),
            href: lang.href(&format!("/portaal/inzendingen/{}", sub.id), &[]),
        })
        .collect();
    // The last three years are due when nothing was posted for them.
    let last = chrono::Utc::now().year() - 1;
    for year in (last - 2..=last).rev() {
        let label = year.to_string();
        if !rows.iter().any(|r| r.period == label) {
            rows.push(PeriodRow {
                period: label,
                status: p.due.to_owned(),
                key: "due".into(),
                revision: String::new(),
                figures: String::new(),
                updated: String::new(),
                reason: String::new(),
                href: String::new(),
            });
        }
    }
    rows.sort_by(|a, b| b.period.cmp(&a.period));
    render(
        &OrganisationPage {
            c: PortalChrome::new(&req, lang, name.clone(), Some(&s), "overview"),
            name,
            rows,
            can_write: caller.require_write_org(id).is_ok(),
            upload: lang.href(&format!("/portaal/organisaties/{id}/upload"), &[]),
            entry: lang.href(&format!("/portaal/organisaties/{id}/invoeren"), &[]),
            default_period: last.to_string(),
        },
        lang,
        StatusCode::OK,
    )
}

/// A problem of an upload, at its place in the file.
pub struct IssueRow {
    pub row: String,
    pub cell: String,
    pub column: String,
    pub field: String,
    pub code: String,
    pub message: String,
}

impl IssueRow {
    fn of(i: &FieldIssue) -> IssueRow {
        IssueRow {
            row: i.row.map(|r| r.to_string()).unwrap_or_default(),
            cell: i.cell.clone().unwrap_or_default(),
            column: i.column.clone().unwrap_or_default(),
            field: i.field.clone(),
            code: i.code.clone(),
            message: i.message.clone(),
        }
    }
}

/// A figure as shown.
pub struct FigureRow {
    pub indicator: String,
    pub municipality: String,
    pub value: String,
    pub numerator: String,
    pub denominator: String,
    pub respondents: String,
    pub note: String,
    pub warnings: String,
}

impl FigureRow {
    fn of(f: &Figure, lang: Lang) -> FigureRow {
        FigureRow {
            indicator: f.indicator.clone(),
            municipality: f.municipality.clone().unwrap_or_default(),
            value: opt_num(f.value.or(f.percentage), lang),
            numerator: opt_int(f.numerator),
            denominator: opt_int(f.denominator),
            respondents: opt_int(f.respondents.or(f.cases)),
            note: f.note.clone().unwrap_or_default(),
            warnings: f.warnings.join(", "),
        }
    }

    fn short(f: &Figure, lang: Lang) -> String {
        let r = FigureRow::of(f, lang);
        let mut parts = vec![r.value];
        if !r.numerator.is_empty() {
            parts.push(format!("{}/{}", r.numerator, r.denominator));
        }
        if !r.respondents.is_empty() {
            parts.push(format!("n={}", r.respondents));
        }
        parts.retain(|p| !p.is_empty());
        parts.join(" · ")
    }
}

#[derive(Template)]
#[template(path = "web/portal/upload.html")]
struct UploadPage {
    c: PortalChrome,
    name: String,
    filename: String,
    errors: Vec<IssueRow>,
    more_errors: usize,
    warnings: Vec<IssueRow>,
    /// The dry run passed: the figures and the form to store them.
    checked: bool,
    figure_count: String,
    figures: Vec<FigureRow>,
    action: String,
    content: String,
    period: String,
    publication: String,
}

/// An upload: check it (dry run), or store it as a draft or submitted, as the REST post does.
pub async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    payload: web::Payload,
) -> PortalResult {
    let lang = Lang::of(&req);
    let id = id.into_inner();
    // Only a signed-in person of the organisation's team gets its body read.
    super::signed_in(&state, &req, lang)
        .await?
        .caller()
        .require_write_org(id)
        .or_exit(lang)?;
    let body = crate::transport::read_body(payload, state.config.limits.max_body_bytes)
        .await
        .or_exit(lang)?;
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multipart::boundary(ctype)
        .ok_or_else(|| {
            AppError::UnsupportedMediaType("send the form as multipart/form-data".into())
        })
        .or_exit(lang)?;
    let parts = multipart::parse(&body, &boundary).or_exit(lang)?;
    let field = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
            .unwrap_or_default()
    };
    let s = super::signed_in_form(&state, &req, lang, &field("csrf")).await?;
    let caller = s.caller();
    caller.require_write_org(id).or_exit(lang)?;
    // The file, uploaded now or carried over from the check.
    let (filename, bytes) = match parts
        .iter()
        .find(|p| p.name == "file" && !p.data.is_empty())
    {
        Some(f) => (f.filename.clone().unwrap_or_default(), f.data.clone()),
        None => {
            let carried = base64::engine::general_purpose::STANDARD
                .decode(field("content").trim())
                .map_err(|_| {
                    AppError::validation("file", "missing_file", "kies een bestand / choose a file")
                })
                .or_exit(lang)?;
            if carried.is_empty() {
                return Err(AppError::validation(
                    "file",
                    "missing_file",
                    "kies een bestand / choose a file",
                ))
                .or_exit(lang);
            }
            (field("filename"), carried)
        }
    };
    let action = field("action");
    let (period, publication) = (field("period"), field("publication"));
    let opts = PostOptions {
        dry_run: !matches!(action.as_str(), "draft" | "submit"),
        submit: action == "submit",
        idempotency_key: None,
        request_hash: String::new(),
    };
    let (p2, pub2, b2) = (period.clone(), publication.clone(), bytes.clone());
    let raw = web::block(move || {
        crate::sheets::read::from_table_upload(
            &b2,
            crate::sheets::read::looks_like_xlsx(&b2),
            Some(p2).filter(|p| !p.trim().is_empty()),
            Some(pub2).filter(|p| !p.trim().is_empty()),
            None,
        )
    })
    .await
    .map_err(|e| AppError::internal(format!("reading the file: {e}")))
    .or_exit(lang)?;
    let (st, c2) = (state.clone(), caller.clone());
    let name_of = organisation_name(&state, id);
    let (name, outcome) = state
        .db
        .run(move |conn| {
            let name = name_of(conn)?;
            let outcome =
                submissions::post(conn, &st.catalogue, &st.reference, &c2, id, raw, &opts);
            Ok((name, outcome))
        })
        .await
        .or_exit(lang)?;
    let page = |errors: Vec<IssueRow>, more: usize, outcome: Option<&PostOutcome>| UploadPage {
        c: PortalChrome::new(
            &req,
            lang,
            pt(lang).check_title.into(),
            Some(&s),
            "overview",
        ),
        name: name.clone(),
        filename: filename.clone(),
        errors,
        more_errors: more,
        warnings: outcome
            .map(|o| o.warnings.iter().map(IssueRow::of).collect())
            .unwrap_or_default(),
        checked: outcome.is_some(),
        figure_count: outcome
            .map(|o| o.figure_count.to_string())
            .unwrap_or_default(),
        figures: outcome
            .and_then(|o| o.figures.as_ref())
            .map(|f| f.iter().map(|f| FigureRow::of(f, lang)).collect())
            .unwrap_or_default(),
        action: lang.href(&format!("/portaal/organisaties/{id}/upload"), &[]),
        content: base64::engine::general_purpose::STANDARD.encode(&bytes),
        period: period.clone(),
        publication: publication.clone(),
    };
    match outcome {
        Ok(o) if o.dry_run => render(&page(vec![], 0, Some(&o)), lang, StatusCode::OK),
        Ok(o) => {
            let to = o.submission_id.map_or_else(
                || format!("/portaal/organisaties/{id}"),
                |s| format!("/portaal/inzendingen/{s}"),
            );
            Ok(redirect(&lang.href(&to, &[])))
        }
        Err(AppError::Validation(issues)) => {
            let rows = issues.iter().map(IssueRow::of).collect();
            let more = issues.len() - issues.as_slice().len();
            render(
                &page(rows, more, None),
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => Err(e).or_exit(lang),
    }
}

/// A revision in the history.
pub struct RevisionRow {
    pub revision: String,
    pub status: String,
    pub key: String,
    pub posted_by: String,
    pub posted_at: String,
    pub figures: String,
    pub warnings: String,
    pub reason: String,
    pub counted: bool,
}

pub struct EventRow {
    pub revision: String,
    pub action: String,
    pub actor: String,
    pub at: String,
    pub reason: String,
}

pub struct ChangeRow {
    pub indicator: String,
    pub municipality: String,
    pub change: String,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "web/portal/submission.html")]
struct SubmissionPage {
    c: PortalChrome,
    organisation: String,
    organisation_href: String,
    period: String,
    status: String,
    status_key: String,
    return_reason: String,
    revisions: Vec<RevisionRow>,
    events: Vec<EventRow>,
    figures: Vec<FigureRow>,
    diff_from: String,
    changes: Vec<ChangeRow>,
    unchanged: String,
    can_submit: bool,
    can_withdraw: bool,
    can_review: bool,
    act_submit: String,
    act_accept: String,
    act_return: String,
    act_withdraw: String,
}

/// The revision to compare the newest with: the newest accepted one before it, else the one
/// before it.
fn compare_with(h: &History) -> Option<i32> {
    let latest = h.submission.latest_revision;
    h.revisions
        .iter()
        .rev()
        .filter(|r| r.revision < latest)
        .find(|r| r.status == Status::Accepted)
        .or_else(|| h.revisions.iter().rev().find(|r| r.revision < latest))
        .map(|r| r.revision)
}

/// One submission: its newest figures, the diff, the history and the workflow buttons.
pub async fn submission(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    let caller = s.caller();
    let id = id.into_inner();
    let reference = state.reference.clone();
    let c2 = caller.clone();
    let (detail, history, diff, organisation, names): (
        _,
        History,
        Option<RevisionDiff>,
        String,
        std::collections::HashMap<String, String>,
    ) = state
        .db
        .run(move |conn| {
            let history = submissions::history(conn, &c2, id)?;
            let detail = submissions::get(conn, &c2, id, None)?;
            let diff = match compare_with(&history) {
                Some(from) => Some(submissions::diff(conn, &c2, id, Some(from), None)?),
                None => None,
            };
            let org = crate::registry::organisations::get(
                conn,
                &reference,
                history.submission.organisation_id,
            )?
            .name;
            // Who posted and reviewed, by e-mail address where the caller may know it.
            let actors = history
                .revisions
                .iter()
                .map(|r| r.posted_by.as_str())
                .chain(history.events.iter().map(|e| e.actor.as_str()));
            let names = crate::users::actor_names(conn, &c2, actors)?;
            Ok((detail, history, diff, org, names))
        })
        .await
        .or_exit(lang)?;
    let p = pt(lang);
    let sub = &history.submission;
    let own_team =
        caller.own_organisation() == Some(sub.organisation_id) && caller.role() == Some(Role::Team);
    let latest = history.revisions.last();
    render(
        &SubmissionPage {
            c: PortalChrome::new(
                &req,
                lang,
                format!("{organisation} · {}", sub.period.label),
                Some(&s),
                if caller.role() == Some(Role::Associatie) {
                    "review"
                } else {
                    "overview"
                },
            ),
            organisation_href: lang.href(
                &format!("/portaal/organisaties/{}", sub.organisation_id),
                &[],
            ),
            organisation,
            period: sub.period.label.clone(),
            status: p.status(sub.status).to_owned(),
            status_key: sub.status.as_str().to_owned(),
            return_reason: latest
                .filter(|r| r.status == Status::Returned)
                .and_then(|r| r.return_reason.clone())
                .unwrap_or_default(),
            revisions: history
                .revisions
                .iter()
                .rev()
                .map(|r| RevisionRow {
                    revision: r.revision.to_string(),
                    status: p.status(r.status).to_owned(),
                    key: r.status.as_str().to_owned(),
                    posted_by: crate::users::actor_name(&names, &r.posted_by),
                    posted_at: when(r.posted_at.0),
                    figures: r.figure_count.to_string(),
                    warnings: r.warning_count.to_string(),
                    reason: r.return_reason.clone().unwrap_or_default(),
                    counted: r.counted,
                })
                .collect(),
            events: history
                .events
                .iter()
                .rev()
                .map(|e| EventRow {
                    revision: e.revision.to_string(),
                    action: p.action(e.action).to_owned(),
                    actor: crate::users::actor_name(&names, &e.actor),
                    at: when(e.at.0),
                    reason: e.reason.clone().unwrap_or_default(),
                })
                .collect(),
            figures: detail
                .figures
                .iter()
                .map(|f| FigureRow::of(f, lang))
                .collect(),
            diff_from: diff
                .as_ref()
                .map(|d| d.from.to_string())
                .unwrap_or_default(),
            unchanged: diff
                .as_ref()
                .map(|d| d.unchanged.to_string())
                .unwrap_or_default(),
            changes: diff
                .map(|d| {
                    d.changes
                        .iter()
                        .map(|c| ChangeRow {
                            indicator: c.indicator.clone(),
                            municipality: c.municipality.clone().unwrap_or_default(),
                            change: p.change(c.change).to_owned(),
                            before: c
                                .before
                                .as_ref()
                                .map(|f| FigureRow::short(f, lang))
                                .unwrap_or_default(),
                            after: c
                                .after
                                .as_ref()
                                .map(|f| FigureRow::short(f, lang))
                                .unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            can_submit: own_team && sub.status == Status::Draft,
            can_withdraw: own_team && sub.status != Status::Withdrawn,
            can_review: caller.role() == Some(Role::Associatie) && sub.status == Status::Submitted,
            act_submit: lang.href(&format!("/portaal/inzendingen/{id}/indienen"), &[]),
            act_accept: lang.href(&format!("/portaal/inzendingen/{id}/accepteren"), &[]),
            act_return: lang.href(&format!("/portaal/inzendingen/{id}/terugsturen"), &[]),
            act_withdraw: lang.href(&format!("/portaal/inzendingen/{id}/intrekken"), &[]),
        },
        lang,
        StatusCode::OK,
    )
}

/// A workflow button: `indienen` (submit), `intrekken` (withdraw), `accepteren` (accept),
/// `terugsturen` (return, with a reason).
pub async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    let (id, action) = path.into_inner();
    let form = Form::parse(&body);
    let s = super::signed_in_form(&state, &req, lang, &form.get("csrf")).await?;
    let caller: Caller = s.caller();
    let reason = Some(form.get("reason")).filter(|r| !r.trim().is_empty());
    let outcome = state
        .db
        .run(move |conn| match action.as_str() {
            "indienen" => submissions::submit(conn, &caller, id),
            "intrekken" => submissions::withdraw(conn, &caller, id, reason),
            "accepteren" => submissions::review(conn, &caller, id, true, None),
            "terugsturen" => submissions::review(conn, &caller, id, false, reason),
            other => Err(AppError::not_found(
                "page",
                format!("/portaal/inzendingen/{id}/{other}"),
            )),
        })
        .await;
    match outcome {
        Ok(_) => Ok(redirect(
            &lang.href(&format!("/portaal/inzendingen/{id}"), &[]),
        )),
        Err(e) => Err(e).or_exit(lang),
    }
}
