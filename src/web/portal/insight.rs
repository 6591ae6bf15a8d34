//! Comparing and checking: an organisation's own benchmark (its value against its peers and
//! the country, per indicator) and the Associatie's completeness matrix (organisations ×
//! indicators for a period). Both are the views of [`crate::views`] computed for the
//! signed-in person's audience, so the disclosure layer applies to every figure of another
//! organisation exactly as over the API.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use chrono::Datelike;

use super::{Form, OrExit, PortalChrome, PortalResult, render};
use crate::app::AppState;
use crate::auth::Role;
use crate::error::AppError;
use crate::period::{Period, PeriodType};
use crate::submissions::{self, Status, SubmissionFilter};
use crate::views::benchmark::{BenchmarkQuery, benchmark_view};
use crate::views::completeness::{CompletenessQuery, completeness_view};
use crate::views::{GroupDim, ViewContext};
use crate::web::Lang;
use crate::web::pages::Row;

/// The newest year a report can be due for (last calendar year).
fn last_year() -> i32 {
    chrono::Utc::now().year() - 1
}

/// A year to choose in a period form.
pub struct YearOption {
    pub year: String,
    pub selected: bool,
}

fn years(selected: &str) -> Vec<YearOption> {
    let last = last_year();
    (last - 5..=last)
        .rev()
        .map(|y| YearOption {
            year: y.to_string(),
            selected: y.to_string() == selected,
        })
        .collect()
}

/// One indicator of the benchmark: three bars (own, peers, national) and their table.
pub struct BenchmarkRow {
    pub code: String,
    pub label: String,
    pub unit: String,
    pub rows: Vec<Row>,
    /// "Beter dan 60% van de vergelijkbare teams", when it may be shown.
    pub better: String,
}

/// An indicator without a benchmark, and why.
pub struct NoFigure {
    pub code: String,
    pub label: String,
    pub why: String,
}

#[derive(Template)]
#[template(path = "web/portal/benchmark.html")]
struct BenchmarkPage {
    c: PortalChrome,
    name: String,
    period: String,
    years: Vec<YearOption>,
    en: bool,
    action: String,
    organisation_href: String,
    indicators: Vec<BenchmarkRow>,
    without: Vec<NoFigure>,
}

/// The organisation's value against its peers (same team type and size class) and the
/// country, per indicator that applies to it, for a year (`?periode=2024`). Its own team and
/// the Associatie; others' figures as the caller's audience may see them.
pub async fn benchmark(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    let caller = s.caller();
    let id = id.into_inner();
    caller.require_read_org(id).or_exit(lang)?;
    let asked = Form::parse(req.query_string().as_bytes()).get("periode");
    let year = match asked.trim() {
        "" => last_year(),
        y => Period::parse(y)
            .ok()
            .filter(|p| p.kind == PeriodType::Year)
            .map(|p| p.year)
            .ok_or_else(|| {
                AppError::validation(
                    "periode",
                    "invalid_period",
                    "kies een jaar, bijvoorbeeld 2024 / choose a year, e.g. 2024",
                )
            })
            .or_exit(lang)?,
    };
    let st = state.clone();
    let (name, results) = state
        .db
        .run_lazy(move |conn| {
            let org = crate::registry::organisations::get(conn.get()?, &st.reference, id)?;
            let ctx = ViewContext::new(&st, &caller);
            let mut out = Vec::new();
            for ind in st.catalogue.current().indicators.iter().filter(|i| {
                !i.retired
                    && i.applies_to(org.team_type)
                    && i.period_types.contains(&PeriodType::Year)
            }) {
                let q = BenchmarkQuery {
                    organisation: id,
                    indicator: ind.code.clone(),
                    version: None,
                    units: vec![Period::year(year)],
                    peers: vec![GroupDim::TeamType, GroupDim::SizeClass],
                    pooling: None,
                };
                match benchmark_view(conn, &ctx, &q) {
                    Ok(v) => out.push((ind.clone(), Ok(v))),
                    // No figure of its own (or none it may see): listed, not an error.
                    Err(e) if e.status() < 500 => out.push((ind.clone(), Err(e))),
                    Err(e) => return Err(e),
                }
            }
            Ok((org.name, out))
        })
        .await
        .or_exit(lang)?;
    let p = super::text::PortalTexts::of(lang);
    let mut indicators = Vec::new();
    let mut without = Vec::new();
    for (ind, result) in results {
        let label = match lang {
            Lang::Nl => ind.label_nl.clone(),
            Lang::En => ind.label_en.clone(),
        };
        match result {
            Ok(v) if v.value.is_some() => {
                let own = v.value.unwrap_or_default();
                let own_row = Row {
                    key: "eigen".into(),
                    label: p.bm_own.into(),
                    href: String::new(),
                    value: crate::web::format::value(own, ind.unit, lang),
                    raw: own.to_string(),
                    status: "shown",
                    organisations: String::new(),
                    extra: String::new(),
                    quartiles: String::new(),
                    index: String::new(),
                    change: String::new(),
                    flags: String::new(),
                    public_status: "",
                    public: String::new(),
                };
                let peers = Row::of("peers".into(), p.bm_peers.into(), &v.peers, ind.unit, lang);
                let national = Row::of(
                    "landelijk".into(),
                    p.bm_national.into(),
                    &v.national,
                    ind.unit,
                    lang,
                );
                indicators.push(BenchmarkRow {
                    code: ind.code.clone(),
                    label,
                    unit: crate::web::text::unit(ind.unit, lang).to_owned(),
                    rows: vec![own_row, peers, national],
                    better: v
                        .better_than_percent
                        .map(|b| {
                            format!(
                                "{} {}% {}",
                                p.bm_better_than,
                                crate::web::format::number(b, 0, lang),
                                p.bm_of_peers
                            )
                        })
                        .unwrap_or_default(),
                });
            }
            Ok(_) => without.push(NoFigure {
                code: ind.code.clone(),
                label,
                why: p.bm_no_own.into(),
            }),
            Err(e) => without.push(NoFigure {
                code: ind.code.clone(),
                label,
                why: match e {
                    AppError::NotFound { .. } => p.bm_no_own.into(),
                    other => other.problem().detail,
                },
            }),
        }
    }
    let period = year.to_string();
    render(
        &BenchmarkPage {
            c: PortalChrome::new(
                &req,
                lang,
                format!("{} · {name}", p.bm_title),
                Some(&s),
                if s.user.role == Role::Team {
                    "benchmark"
                } else {
                    "overview"
                },
            ),
            name,
            years: years(&period),
            period,
            en: lang == Lang::En,
            action: format!("/portaal/organisaties/{id}/benchmark"),
            organisation_href: lang.href(&format!("/portaal/organisaties/{id}"), &[]),
            indicators,
            without,
        },
        lang,
        StatusCode::OK,
    )
}

/// One organisation's row of the matrix.
pub struct MatrixRow {
    pub id: i64,
    pub name: String,
    pub href: String,
    pub cells: Vec<MatrixCell>,
    pub coverage: String,
    pub missing: String,
    pub status: String,
    /// `due` when nothing was posted, else the status code.
    pub status_key: String,
    pub late: bool,
}

/// A cell of the matrix: `reported`, `missing` or `na` (the indicator does not apply).
pub struct MatrixCell {
    pub key: &'static str,
    pub reported: bool,
    pub missing: bool,
}

impl MatrixCell {
    fn of(key: &'static str) -> MatrixCell {
        MatrixCell {
            key,
            reported: key == "reported",
            missing: key == "missing",
        }
    }
}

/// An indicator column.
pub struct MatrixColumn {
    /// The column's number (the header shows it; the list under the table names it).
    pub number: usize,
    pub code: String,
    pub label: String,
    pub coverage: String,
}

#[derive(Template)]
#[template(path = "web/portal/completeness.html")]
struct CompletenessPage {
    c: PortalChrome,
    period: String,
    years: Vec<YearOption>,
    en: bool,
    action: String,
    overall: String,
    considered: String,
    ended: bool,
    columns: Vec<MatrixColumn>,
    rows: Vec<MatrixRow>,
}

fn pct(v: Option<f64>, lang: Lang) -> String {
    v.map(|v| format!("{}%", crate::web::format::number(v, 0, lang)))
        .unwrap_or_else(|| "–".into())
}

/// The completeness matrix of a period (`?periode=2024`, also `2024-H1`, `2024-Q3`): which
/// organisation reported which indicator, its coverage, what is missing, and whether its
/// figures are late (the period has ended without an accepted submission). The Associatie.
pub async fn completeness(state: web::Data<AppState>, req: HttpRequest) -> PortalResult {
    let lang = Lang::of(&req);
    let s = super::signed_in(&state, &req, lang).await?;
    let caller = s.caller();
    caller.require(&[Role::Associatie]).or_exit(lang)?;
    let asked = Form::parse(req.query_string().as_bytes()).get("periode");
    let period = match asked.trim() {
        "" => Period::year(last_year()),
        p => Period::parse(p)
            .map_err(|e| AppError::validation("periode", "invalid_period", e))
            .or_exit(lang)?,
    };
    let st = state.clone();
    let (view, subs) = state
        .db
        .run_lazy(move |conn| {
            let q = CompletenessQuery {
                period,
                version: None,
                team_type: None,
            };
            let view = completeness_view(conn, &ViewContext::new(&st, &caller), &q)?;
            let filter = SubmissionFilter {
                period: Some(period.code()),
                limit: Some(1000),
                ..SubmissionFilter::default()
            };
            let subs = submissions::list(conn.get()?, &caller, &filter)?.items;
            Ok((view, subs))
        })
        .await
        .or_exit(lang)?;
    let p = super::text::PortalTexts::of(lang);
    let ended = period.end() < chrono::Utc::now().date_naive();
    let catalogue = state.catalogue.current();
    let columns: Vec<MatrixColumn> = view
        .indicators
        .iter()
        .enumerate()
        .map(|(n, i)| MatrixColumn {
            number: n + 1,
            code: i.code.clone(),
            label: catalogue
                .indicators
                .iter()
                .find(|c| c.code == i.code)
                .map(|c| match lang {
                    Lang::Nl => c.label_nl.clone(),
                    Lang::En => c.label_en.clone(),
                })
                .unwrap_or_else(|| i.label_nl.clone()),
            coverage: pct(i.coverage, lang),
        })
        .collect();
    let rows = view
        .organisations
        .iter()
        .map(|o| {
            let applies = |code: &str| {
                catalogue
                    .indicators
                    .iter()
                    .find(|c| c.code == code)
                    .is_some_and(|c| c.applies_to(o.team_type))
            };
            let sub = subs.iter().find(|s| s.organisation_id == o.id);
            let (status, status_key) = match sub {
                Some(s) => (p.status(s.status).to_owned(), s.status.as_str().to_owned()),
                None => (p.due.to_owned(), "due".to_owned()),
            };
            MatrixRow {
                id: o.id,
                name: o.name.clone(),
                href: lang.href(&format!("/portaal/organisaties/{}", o.id), &[]),
                cells: view
                    .indicators
                    .iter()
                    .map(|i| {
                        MatrixCell::of(if o.missing.contains(&i.code) {
                            "missing"
                        } else if applies(&i.code) {
                            "reported"
                        } else {
                            "na"
                        })
                    })
                    .collect(),
                coverage: pct(o.coverage, lang),
                missing: o.missing.len().to_string(),
                status,
                status_key,
                late: ended && sub.is_none_or(|s| s.status != Status::Accepted),
            }
        })
        .collect();
    let label = period.label();
    render(
        &CompletenessPage {
            c: PortalChrome::new(
                &req,
                lang,
                format!("{} {label}", p.cm_title),
                Some(&s),
                "completeness",
            ),
            years: years(&label),
            period: label,
            en: lang == Lang::En,
            action: "/portaal/volledigheid".into(),
            overall: pct(view.overall_coverage, lang),
            considered: view.organisations_considered.to_string(),
            ended,
            columns,
            rows,
        },
        lang,
        StatusCode::OK,
    )
}
