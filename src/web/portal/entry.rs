//! Entering figures by form: per transformation goal, a form with each indicator that applies
//! to the team, its definition at hand and the inputs its kind needs (the catalogue's
//! `required_fields`: numerator and denominator for ratios, value and respondents for surveys,
//! value and cases for mean durations, a value otherwise), a note per figure and the
//! submission's publication level. The form becomes the REST API's JSON body and goes through
//! [`crate::submissions::input::from_json`] and [`crate::submissions::post`], exactly as an API
//! client's post: a dry run (*Controleren*) shows every error at its field and every warning
//! with its explanation, nothing stored; then *Opslaan als concept* or *Indienen*.
//!
//! A revision holds the whole period, so the figures of the period's latest revision that the
//! form does not show (other goals, figures per municipality) are carried along unchanged.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use chrono::Datelike;
use serde_json::{Map, Value};

use super::team::exact;
use super::{Form, OrExit, PortalChrome, PortalResult, redirect, render};
use crate::app::AppState;
use crate::auth::Caller;
use crate::catalogue::Indicator;
use crate::error::{AppError, FieldIssue};
use crate::period::Period;
use crate::registry::Organisation;
use crate::submissions::{self, Figure, PostOptions, Status, SubmissionDetail, SubmissionFilter};
use crate::users::sessions::Session;
use crate::web::Lang;

/// The note's field name (besides the kind's `required_fields`).
const NOTE: &str = "note";

/// A goal to choose.
pub struct GoalLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// An error or warning shown at its field (`id` is what the field's `aria-describedby` names).
pub struct FieldNote {
    pub id: String,
    pub code: String,
    pub message: String,
}

/// One input of an indicator's figure.
pub struct EntryField {
    /// `aandeel_zelfmelders.numerator`
    pub name: String,
    /// `f-aandeel_zelfmelders-numerator`
    pub id: String,
    pub label: &'static str,
    pub value: String,
    /// The note: a text area, not a number.
    pub multiline: bool,
    pub invalid: bool,
    pub errors: Vec<FieldNote>,
    pub warnings: Vec<FieldNote>,
    pub describedby: String,
}

/// One indicator of the goal, with its definition and inputs.
pub struct EntryIndicator {
    pub code: String,
    pub label: String,
    pub definition: String,
    pub numerator: String,
    pub denominator: String,
    pub unit: &'static str,
    pub kind: &'static str,
    pub fields: Vec<EntryField>,
    /// Figures per municipality of this indicator in the latest revision (carried along; an
    /// organisation-wide figure beside them is refused as `mixed_breakdown`).
    pub per_municipality: usize,
    /// Problems with the figure as a whole.
    pub errors: Vec<FieldNote>,
    pub warnings: Vec<FieldNote>,
}

/// An error or warning in the list above the form, linking to its field.
pub struct Notice {
    /// The form field (`aandeel_zelfmelders.numerator`), or the API's location for what the
    /// form does not show (a carried figure: `/figures/7/value`).
    pub field: String,
    /// `#f-…` of the field, or empty.
    pub href: String,
    /// Where, in words: the indicator and the input.
    pub place: String,
    pub code: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "web/portal/entry.html")]
struct EntryPage {
    c: PortalChrome,
    name: String,
    organisation_href: String,
    goals: Vec<GoalLink>,
    goal: String,
    goal_label: String,
    goal_description: String,
    period: String,
    en: bool,
    choose_action: String,
    action: String,
    openbaar: bool,
    indicators: Vec<EntryIndicator>,
    errors: Vec<Notice>,
    warnings: Vec<Notice>,
    checked: bool,
    figure_count: String,
    carried: usize,
}

/// The indicators of a goal a team of this type reports for a period of this type.
fn goal_indicators(
    state: &AppState,
    goal: &str,
    org: &Organisation,
    period: Period,
) -> Vec<Indicator> {
    state
        .catalogue
        .current()
        .indicators
        .iter()
        .filter(|i| {
            i.goal == goal
                && !i.retired
                && i.applies_to(org.team_type)
                && i.allows_period(period.kind)
        })
        .cloned()
        .collect()
}

/// The organisation and the period's latest revision (none, or withdrawn: nothing to carry).
fn load(
    conn: &mut crate::db::DbConn,
    state: &AppState,
    caller: &Caller,
    id: i64,
    period: Period,
) -> Result<(Organisation, Option<SubmissionDetail>), AppError> {
    let org = crate::registry::organisations::get(conn, &state.reference, id)?;
    let filter = SubmissionFilter {
        organisation_id: Some(id),
        period: Some(period.code()),
        limit: Some(1),
        ..SubmissionFilter::default()
    };
    let latest = match submissions::list(conn, caller, &filter)?.items.first() {
        Some(sub) if sub.status != Status::Withdrawn => {
            Some(submissions::get(conn, caller, sub.id, None)?)
        }
        _ => None,
    };
    Ok((org, latest))
}

fn parse_period(raw: &str, field: &str) -> Result<Period, AppError> {
    match raw.trim() {
        "" => Ok(Period::year(chrono::Utc::now().year() - 1)),
        p => Period::parse(p).map_err(|e| AppError::validation(field, "invalid_period", e)),
    }
}

fn field_name(code: &str, field: &str) -> String {
    format!("{code}.{field}")
}

fn field_id(code: &str, field: &str) -> String {
    format!("f-{code}-{field}")
}

/// The inputs of an indicator: what its kind needs, then the note.
fn inputs(ind: &Indicator) -> Vec<&str> {
    ind.required_fields
        .iter()
        .map(String::as_str)
        .chain([NOTE])
        .collect()
}

fn input_label(field: &str, p: &super::text::PortalTexts) -> &'static str {
    match field {
        "numerator" => p.numerator,
        "denominator" => p.denominator,
        "respondents" => p.fe_respondents,
        "cases" => p.fe_cases,
        NOTE => p.note,
        _ => p.value,
    }
}

/// A stored figure as the form's text.
fn figure_values(f: &Figure, lang: Lang) -> [(&'static str, String); 6] {
    let int = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    [
        ("value", f.value.map(|v| exact(v, lang)).unwrap_or_default()),
        ("numerator", int(f.numerator)),
        ("denominator", int(f.denominator)),
        ("respondents", int(f.respondents)),
        ("cases", int(f.cases)),
        (NOTE, f.note.clone().unwrap_or_default()),
    ]
}

/// A figure the form does not show, as the API's JSON.
fn carried_json(f: &Figure) -> Value {
    let mut m = Map::new();
    m.insert("indicator".into(), f.indicator.clone().into());
    let opt = |m: &mut Map<String, Value>, k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.into(), v);
        }
    };
    opt(
        &mut m,
        "municipality",
        f.municipality.clone().map(Value::from),
    );
    opt(&mut m, "value", f.value.map(Value::from));
    opt(&mut m, "numerator", f.numerator.map(Value::from));
    opt(&mut m, "denominator", f.denominator.map(Value::from));
    opt(&mut m, "respondents", f.respondents.map(Value::from));
    opt(&mut m, "cases", f.cases.map(Value::from));
    opt(&mut m, NOTE, f.note.clone().map(Value::from));
    Value::Object(m)
}

/// Per indicator, how many figures per municipality the latest revision holds.
fn municipal_counts(latest: Option<&SubmissionDetail>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for f in latest.iter().flat_map(|d| &d.figures) {
        if f.municipality.is_some() {
            *counts.entry(f.indicator.clone()).or_insert(0) += 1;
        }
    }
    counts
}

/// Whether the form shows this stored figure (an organisation-wide figure of the goal).
fn on_form(f: &Figure, inds: &[Indicator]) -> bool {
    f.municipality.is_none() && inds.iter().any(|i| i.code == f.indicator)
}

/// Where an issue of the API body belongs: a form field, an indicator as a whole, or neither.
enum Place {
    Field(String, String),
    Figure(String),
    Elsewhere,
}

fn place(issue: &FieldIssue, codes: &[String]) -> Place {
    let Some(rest) = issue.field.strip_prefix("/figures/") else {
        return Place::Elsewhere;
    };
    let mut parts = rest.splitn(2, '/');
    let index = parts.next().and_then(|i| i.parse::<usize>().ok());
    let Some(code) = index.and_then(|i| codes.get(i)) else {
        return Place::Elsewhere;
    };
    match parts.next() {
        Some(f) if submissions::input::FIELDS[2..].contains(&f) => {
            Place::Field(code.clone(), f.to_owned())
        }
        _ => Place::Figure(code.clone()),
    }
}

/// Add an error (or, `warning`, a warning) to its list.
fn push<T>(lists: &mut (Vec<T>, Vec<T>), warning: bool, item: T) {
    if warning {
        lists.1.push(item);
    } else {
        lists.0.push(item);
    }
}

/// What a page shows besides its figures.
struct Outcome<'a> {
    errors: &'a [FieldIssue],
    warnings: &'a [FieldIssue],
    /// The form's figures in the order they were posted (issue `/figures/N` → code).
    codes: &'a [String],
    checked: Option<i32>,
}

/// The form as it stands: whose, which goal and period, and what its fields hold.
struct Setting<'a> {
    req: &'a HttpRequest,
    lang: Lang,
    session: &'a Session,
    state: &'a AppState,
    org: &'a Organisation,
    goal: &'a str,
    /// The period as typed (`2024`, `2024-H1`).
    period: &'a str,
    period_kind: Period,
    publication: &'a str,
    /// Field name (`aandeel_zelfmelders.numerator`) → text.
    values: &'a HashMap<String, String>,
    /// Figures of the latest revision the form does not show.
    carried: usize,
    /// Per indicator: its figures per municipality in the latest revision.
    per_municipality: &'a HashMap<String, usize>,
}

fn build(set: &Setting<'_>, outcome: Outcome<'_>) -> EntryPage {
    let Setting {
        req,
        lang,
        session,
        state,
        org,
        goal,
        period,
        period_kind,
        publication,
        values,
        carried,
        per_municipality,
    } = *set;
    let p = super::text::PortalTexts::of(lang);
    let inds = goal_indicators(state, goal, org, period_kind);
    let base = format!("/portaal/organisaties/{}/invoeren", org.id);
    let goals = state
        .catalogue
        .goals
        .iter()
        .filter(|g| !goal_indicators(state, &g.code, org, period_kind).is_empty())
        .map(|g| GoalLink {
            href: lang.href(&base, &[("doel", &g.code), ("periode", period)]),
            label: match lang {
                Lang::Nl => g.label_nl.clone(),
                Lang::En => g.label_en.clone(),
            },
            current: g.code == goal,
        })
        .collect::<Vec<_>>();
    let (goal_label, goal_description) = state
        .catalogue
        .goal(goal)
        .map(|g| {
            (
                match lang {
                    Lang::Nl => g.label_nl.clone(),
                    Lang::En => g.label_en.clone(),
                },
                g.description.clone(),
            )
        })
        .unwrap_or_default();
    // Issues by where they belong: the notes at a field or fieldset (by its id), and the lists
    // above the form.
    let mut notes: HashMap<String, (Vec<FieldNote>, Vec<FieldNote>)> = HashMap::new();
    let mut notices = (Vec::new(), Vec::new());
    let labels: HashMap<&str, String> = inds
        .iter()
        .map(|i| {
            (
                i.code.as_str(),
                match lang {
                    Lang::Nl => i.label_nl.clone(),
                    Lang::En => i.label_en.clone(),
                },
            )
        })
        .collect();
    let label_of = |code: &str| labels.get(code).cloned().unwrap_or_else(|| code.to_owned());
    for (warning, list) in [(false, outcome.errors), (true, outcome.warnings)] {
        for (n, issue) in list.iter().enumerate() {
            // (the form field, the id of what it is shown at, where in words)
            let (field, at, place_words) = match place(issue, outcome.codes) {
                Place::Field(code, f) => (
                    field_name(&code, &f),
                    Some(field_id(&code, &f)),
                    format!("{} – {}", label_of(&code), input_label(&f, p)),
                ),
                Place::Figure(code) => (code.clone(), Some(format!("ind-{code}")), label_of(&code)),
                Place::Elsewhere => (
                    issue.field.clone(),
                    None,
                    match issue.field.as_str() {
                        "/publication" => p.publication.to_owned(),
                        "/period" => p.period.to_owned(),
                        other => format!("{}: {other}", p.fe_other),
                    },
                ),
            };
            if let Some(at) = &at {
                let slot = notes.entry(at.clone()).or_default();
                let note = FieldNote {
                    id: format!("{}{n}-{at}", if warning { "w" } else { "e" }),
                    code: issue.code.clone(),
                    message: issue.message.clone(),
                };
                push(slot, warning, note);
            }
            let href = match (&at, issue.field.as_str()) {
                (Some(at), _) => format!("#{at}"),
                (None, "/publication") => "#publication".to_owned(),
                (None, _) => String::new(),
            };
            let notice = Notice {
                field,
                href,
                place: place_words,
                code: issue.code.clone(),
                message: issue.message.clone(),
            };
            push(&mut notices, warning, notice);
        }
    }
    let indicators = inds
        .iter()
        .map(|ind| {
            let fields = inputs(ind)
                .into_iter()
                .map(|f| {
                    let id = field_id(&ind.code, f);
                    let (errors, warnings) = notes.remove(&id).unwrap_or_default();
                    let describedby = std::iter::once(format!("d-{}", ind.code))
                        .chain(errors.iter().chain(&warnings).map(|n| n.id.clone()))
                        .collect::<Vec<_>>()
                        .join(" ");
                    EntryField {
                        name: field_name(&ind.code, f),
                        value: values
                            .get(&field_name(&ind.code, f))
                            .cloned()
                            .unwrap_or_default(),
                        label: input_label(f, p),
                        multiline: f == NOTE,
                        invalid: !errors.is_empty(),
                        errors,
                        warnings,
                        describedby,
                        id,
                    }
                })
                .collect();
            let (errors, warnings) = notes
                .remove(&format!("ind-{}", ind.code))
                .unwrap_or_default();
            EntryIndicator {
                label: label_of(&ind.code),
                definition: ind.definition.clone(),
                numerator: ind.numerator.clone().unwrap_or_default(),
                denominator: ind.denominator.clone().unwrap_or_default(),
                unit: crate::web::text::unit(ind.unit, lang),
                kind: crate::web::text::kind(ind.kind, lang),
                per_municipality: per_municipality.get(&ind.code).copied().unwrap_or(0),
                code: ind.code.clone(),
                fields,
                errors,
                warnings,
            }
        })
        .collect();
    EntryPage {
        c: PortalChrome::new(
            req,
            lang,
            format!("{} · {}", p.fe_title, org.name),
            Some(session),
            "overview",
        ),
        name: org.name.clone(),
        organisation_href: lang.href(&format!("/portaal/organisaties/{}", org.id), &[]),
        goals,
        goal: goal.to_owned(),
        goal_label,
        goal_description,
        period: period.to_owned(),
        en: lang == Lang::En,
        choose_action: base.clone(),
        action: lang.href(&base, &[]),
        openbaar: publication == "openbaar",
        indicators,
        errors: notices.0,
        warnings: notices.1,
        checked: outcome.checked.is_some(),
        figure_count: outcome.checked.map(|n| n.to_string()).unwrap_or_default(),
        carried,
    }
}

/// The first goal with indicators for this team, when none is asked for.
fn goal_or_first(state: &AppState, asked: &str, org: &Organisation, period: Period) -> String {
    match asked.trim() {
        "" => state
            .catalogue
            .goals
            .iter()
            .find(|g| !goal_indicators(state, &g.code, org, period).is_empty())
            .map(|g| g.code.clone())
            .unwrap_or_default(),
        g => g.to_owned(),
    }
}

/// The form of a goal (`?doel=…&periode=2024`), filled with the period's latest figures.
pub async fn entry(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    let caller = s.caller();
    let id = id.into_inner();
    caller.require_write_org(id).or_exit(lang)?;
    let q = Form::parse(req.query_string().as_bytes());
    let period = parse_period(&q.get("periode"), "periode").or_exit(lang)?;
    let st = state.clone();
    let (org, latest) = state
        .db
        .run(move |conn| load(conn, &st, &caller, id, period))
        .await
        .or_exit(lang)?;
    let goal = goal_or_first(&state, &q.get("doel"), &org, period);
    if state.catalogue.goal(&goal).is_none() {
        return Err(AppError::not_found("goal", goal)).or_exit(lang);
    }
    let inds = goal_indicators(&state, &goal, &org, period);
    let mut values = HashMap::new();
    let mut carried = 0;
    if let Some(d) = &latest {
        for f in &d.figures {
            if on_form(f, &inds) {
                for (k, v) in figure_values(f, lang) {
                    values.insert(field_name(&f.indicator, k), v);
                }
            } else {
                carried += 1;
            }
        }
    }
    let publication = latest
        .as_ref()
        .map(|d| d.submission.publication.as_str())
        .unwrap_or("associatie");
    let period_text = period.label();
    let setting = Setting {
        req: &req,
        lang,
        session: &s,
        state: &state,
        org: &org,
        goal: &goal,
        period: &period_text,
        period_kind: period,
        publication,
        values: &values,
        carried,
        per_municipality: &municipal_counts(latest.as_ref()),
    };
    let page = build(
        &setting,
        Outcome {
            errors: &[],
            warnings: &[],
            codes: &[],
            checked: None,
        },
    );
    render(&page, lang, StatusCode::OK)
}

/// The form posted: `action` `check` (dry run, the default), `draft` or `submit`.
pub async fn entry_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Bytes,
) -> PortalResult {
    let lang = Lang::of(&req);
    let id = id.into_inner();
    let form = Form::parse(&body);
    let s = super::signed_in_form(&state, &req, lang, &form.get("csrf")).await?;
    let caller = s.caller();
    caller.require_write_org(id).or_exit(lang)?;
    let period = parse_period(&form.get("period"), "period").or_exit(lang)?;
    let period_raw = match form.get("period").trim() {
        "" => period.label(),
        p => p.to_owned(),
    };
    let (st, c2) = (state.clone(), caller.clone());
    let (org, latest) = state
        .db
        .run(move |conn| load(conn, &st, &c2, id, period))
        .await
        .or_exit(lang)?;
    let goal = form.get("goal");
    if state.catalogue.goal(&goal).is_none() {
        return Err(AppError::validation(
            "goal",
            "unknown_goal",
            format!("onbekend doel / unknown goal {goal:?}"),
        ))
        .or_exit(lang);
    }
    let inds = goal_indicators(&state, &goal, &org, period);
    // The form's figures (an indicator with nothing filled in is not reported), then the
    // latest revision's figures the form does not show.
    let mut values = HashMap::new();
    let mut codes = Vec::new();
    let mut figures = Vec::new();
    for ind in &inds {
        let mut figure = Map::new();
        for f in inputs(ind) {
            let name = field_name(&ind.code, f);
            let v = form.get(&name);
            if !v.trim().is_empty() {
                figure.insert(f.to_owned(), Value::String(v.trim().to_owned()));
            }
            values.insert(name, v);
        }
        if !figure.is_empty() {
            figure.insert("indicator".into(), ind.code.clone().into());
            figures.push(Value::Object(figure));
            codes.push(ind.code.clone());
        }
    }
    let carried: Vec<Value> = latest
        .iter()
        .flat_map(|d| d.figures.iter())
        .filter(|f| !on_form(f, &inds))
        .map(carried_json)
        .collect();
    let carried_count = carried.len();
    figures.extend(carried);
    let publication = form.get("publication");
    let mut json = Map::new();
    json.insert("period".into(), period_raw.clone().into());
    if !publication.trim().is_empty() {
        json.insert("publication".into(), publication.trim().to_owned().into());
    }
    json.insert("figures".into(), Value::Array(figures));
    let raw = submissions::input::from_json(&Value::Object(json));
    let action = form.get("action");
    let opts = PostOptions {
        dry_run: !matches!(action.as_str(), "draft" | "submit"),
        submit: action == "submit",
        idempotency_key: None,
        request_hash: String::new(),
    };
    let st = state.clone();
    let outcome = state
        .db
        .run(move |conn| {
            Ok(submissions::post(
                conn,
                &st.catalogue,
                &st.reference,
                &caller,
                id,
                raw,
                &opts,
            ))
        })
        .await
        .or_exit(lang)?;
    let setting = Setting {
        req: &req,
        lang,
        session: &s,
        state: &state,
        org: &org,
        goal: &goal,
        period: &period_raw,
        period_kind: period,
        publication: &publication,
        values: &values,
        carried: carried_count,
        per_municipality: &municipal_counts(latest.as_ref()),
    };
    let page = |errors: &[FieldIssue], warnings: &[FieldIssue], checked: Option<i32>| {
        build(
            &setting,
            Outcome {
                errors,
                warnings,
                codes: &codes,
                checked,
            },
        )
    };
    match outcome {
        Ok(o) if o.dry_run => render(
            &page(&[], &o.warnings, Some(o.figure_count)),
            lang,
            StatusCode::OK,
        ),
        Ok(o) => {
            let to = o.submission_id.map_or_else(
                || format!("/portaal/organisaties/{id}"),
                |s| format!("/portaal/inzendingen/{s}"),
            );
            Ok(redirect(&lang.href(&to, &[])))
        }
        Err(AppError::Validation(issues)) => render(
            &page(issues.as_slice(), &[], None),
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e).or_exit(lang),
    }
}
