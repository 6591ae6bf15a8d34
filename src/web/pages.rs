//! The page handlers: each gathers what it shows from the views (as the anonymous caller, so
//! the disclosure layer applies), turns it into display rows (numbers formatted here, not in
//! the templates) and renders its template.

use actix_web::{HttpRequest, web};
use askama::Template;
use chrono::Datelike;
use serde::Deserialize;

use super::{Chrome, InLang, Lang, WebResult, format, page, text};
use crate::app::AppState;
use crate::auth::Caller;
use crate::catalogue::{Indicator, IndicatorFilter, Unit};
use crate::db::DbConn;
use crate::disclosure::ConfStatus;
use crate::error::{AppError, AppResult};
use crate::period::Period;
use crate::registry::OrgSizeClass;
use crate::registry::organisations::{self, OrganisationFilter};
use crate::views::aggregate::{AggregateQuery, aggregate_view};
use crate::views::completeness::{CompletenessQuery, completeness_view};
use crate::views::municipalities::{MunicipalityQuery, municipality_view};
use crate::views::trend::{ChangeUnit, TrendQuery, trend_view};
use crate::views::{Aggregate, Group, GroupDim, Pooling, ViewContext, ViewFilter};

/// The query parameters of the pages (all optional; unknown ones are ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageQuery {
    /// A year: 2024.
    period: Option<String>,
    /// On the map: the indicator code.
    indicator: Option<String>,
    /// On an indicator page: show only this breakdown.
    group_by: Option<String>,
}

impl PageQuery {
    /// The page's query string; a malformed one is a 400 page.
    fn of(req: &HttpRequest, lang: Lang) -> Result<PageQuery, super::WebError> {
        serde_urlencoded::from_str(req.query_string())
            .map_err(|e| AppError::bad_request("INVALID_QUERY", format!("query string: {e}")))
            .in_lang(lang)
    }
}

/// The breakdowns an indicator page shows (each a published table).
pub const BREAKDOWNS: [GroupDim; 4] = [
    GroupDim::TeamType,
    GroupDim::SizeClass,
    GroupDim::Province,
    GroupDim::ProvidesHelp,
];

/// How many years a trend covers.
const TREND_YEARS: i32 = 10;

/// One row of a table: a group, a year or a municipality.
pub struct Row {
    /// What the row stands for, as the API names it (`jeugd`, `2024`, `GM0014`).
    pub key: String,
    pub label: String,
    /// A link for the label, if any.
    pub href: String,
    /// The value as shown: `76,5%`, `× A` (suppressed) or `–` (no data).
    pub value: String,
    /// The exact value for the chart (empty when none).
    pub raw: String,
    /// `shown`, `suppressed`, `missing`, or `distribution` (not additive: the median of the
    /// organisations' values instead of a pooled value).
    pub status: &'static str,
    pub organisations: String,
    /// Respondents (surveys) or cases (means).
    pub extra: String,
    pub quartiles: String,
    /// Trend tables: the index (base year = 100) and the change since the base year.
    pub index: String,
    pub change: String,
    /// The Associatie's tables ([`Table::audit`]): the reliability flags of the cell, in words.
    pub flags: String,
    /// What the public gets of the cell: its confidentiality status (`F`, `A`, `M`, `D`, `N`;
    /// empty without figures) and in words.
    pub public_status: &'static str,
    pub public: String,
}

impl Row {
    /// A row without figures (not withheld: nobody reported).
    fn missing(key: String, label: String) -> Row {
        Row {
            key,
            label,
            href: String::new(),
            value: "–".to_owned(),
            raw: String::new(),
            status: "missing",
            organisations: String::new(),
            extra: String::new(),
            quartiles: String::new(),
            index: String::new(),
            change: String::new(),
            flags: String::new(),
            public_status: "",
            public: String::new(),
        }
    }

    pub(crate) fn of(key: String, label: String, a: &Aggregate, unit: Unit, lang: Lang) -> Row {
        let (value, raw, status) = match (a.value, a.suppressed) {
            (_, true) => (
                format!("× {}", a.conf_status.as_str()),
                String::new(),
                "suppressed",
            ),
            (Some(v), false) => (format::value(v, unit, lang), v.to_string(), "shown"),
            // Not additive: no pooled value; the median of the organisations' own values.
            (None, false) if a.pooling == Pooling::Distribution && a.distribution.is_some() => {
                let median = a.distribution.as_ref().map_or(0.0, |d| d.median);
                (
                    format!(
                        "{} {}",
                        lang.texts().median_word,
                        format::value(median, unit, lang)
                    ),
                    median.to_string(),
                    "distribution",
                )
            }
            (None, false) => ("–".to_owned(), String::new(), "missing"),
        };
        let extra = a.respondents.or(a.cases).map(|n| format::count(n, lang));
        let t = lang.texts();
        let public = match (a.public_conf_status, status) {
            (_, "missing") => String::new(),
            (ConfStatus::F, _) => t.public_same.to_owned(),
            (s, _) => match a.public_suppression_reason {
                Some(r) => format!("× {}: {}", s.as_str(), text::flag(r, lang)),
                None => format!("× {}", s.as_str()),
            },
        };
        Row {
            key,
            label,
            href: String::new(),
            value,
            raw,
            status,
            organisations: a
                .organisations
                .map(|n| format::count(n, lang))
                .unwrap_or_default(),
            extra: extra.unwrap_or_default(),
            quartiles: a
                .distribution
                .as_ref()
                .map(|d| {
                    format!(
                        "{} – {}",
                        format::value(d.q1, unit, lang),
                        format::value(d.q3, unit, lang)
                    )
                })
                .unwrap_or_default(),
            index: String::new(),
            change: String::new(),
            flags: a
                .flags
                .iter()
                .map(|f| text::flag(*f, lang))
                .collect::<Vec<_>>()
                .join(", "),
            public_status: if status == "missing" {
                ""
            } else {
                a.public_conf_status.as_str()
            },
            public,
        }
    }
}

/// A table of figures, with the chart drawn from it and its downloads.
pub struct Table {
    pub id: String,
    pub caption: String,
    /// `bar`, `line` or empty (no chart).
    pub chart: &'static str,
    /// The dimension the rows are keyed by, as the API names it (`teamType`, `year`, `code`).
    pub dim: &'static str,
    /// The same numbers as JSON from the REST API.
    pub api: String,
    /// Axis label of the chart.
    pub unit: &'static str,
    /// Header of the first column.
    pub head: &'static str,
    /// Header of the respondents/cases column, empty when the kind has none.
    pub extra_head: &'static str,
    pub has_quartiles: bool,
    /// Trend tables: the headers of the index and change columns (empty: no such columns).
    pub index_head: String,
    pub change_head: String,
    pub rows: Vec<Row>,
    /// The national total, shown under the rows.
    pub total: Option<Row>,
    pub downloads: Vec<Link>,
    pub permalink: String,
    /// The Associatie's exact table: per row its flags and what the public sees instead (no
    /// downloads: the API links are the public's).
    pub audit: bool,
}

impl Table {
    /// Too many columns to share the width with its chart: the chart goes above the table.
    pub fn wide(&self) -> bool {
        let columns = 3
            + 2 * usize::from(!self.change_head.is_empty())
            + usize::from(!self.extra_head.is_empty())
            + usize::from(self.has_quartiles)
            + 2 * usize::from(self.audit);
        columns >= 5
    }
}

/// Whom a page's tables are for: the public site, or the Associatie's analysis in the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Public,
    Associatie,
}

impl Audience {
    /// The downloads of a table from the REST API (the public's only: the Associatie's exact
    /// figures are for its API clients, not for a link).
    fn downloads(self, api: &str) -> Vec<Link> {
        match self {
            Audience::Public => downloads(api),
            Audience::Associatie => Vec::new(),
        }
    }

    /// The permanent link of an indicator's table for this audience: the public page (a year,
    /// one breakdown), or the Associatie's analysis of the year at the table (`#anchor`).
    fn permalink(
        self,
        lang: Lang,
        code: &str,
        year: Option<&str>,
        group_by: Option<&str>,
        anchor: &str,
    ) -> String {
        let mut q: Vec<(&str, &str)> = Vec::new();
        match self {
            Audience::Public => {
                q.extend(year.map(|y| ("period", y)));
                q.extend(group_by.map(|g| ("groupBy", g)));
                let href = lang.href(&format!("/indicatoren/{code}"), &q);
                if group_by.is_some() {
                    href
                } else {
                    format!("{href}#{anchor}")
                }
            }
            Audience::Associatie => {
                q.push(("indicator", code));
                q.extend(year.map(|y| ("period", y)));
                format!("{}#{anchor}", lang.href(ANALYSIS, &q))
            }
        }
    }
}

/// The Associatie's analysis page in the portal.
pub const ANALYSIS: &str = "/portaal/analyse";

pub struct Link {
    pub label: String,
    pub href: String,
}

fn downloads(api: &str) -> Vec<Link> {
    [
        ("CSV", "format=csv"),
        ("CSV (Excel NL)", "format=csv&dialect=excel-nl"),
        ("Excel (.xlsx)", "format=xlsx"),
        ("JSON", "format=json"),
    ]
    .into_iter()
    .map(|(label, q)| Link {
        label: label.to_owned(),
        href: format!("{api}&{q}"),
    })
    .collect()
}

fn extra_head(ind: &Indicator, lang: Lang) -> &'static str {
    match ind.kind {
        crate::catalogue::Kind::Survey => lang.texts().respondents,
        crate::catalogue::Kind::MeanDuration => match lang {
            Lang::Nl => "Gevallen",
            Lang::En => "Cases",
        },
        _ => "",
    }
}

fn context<'a>(state: &'a AppState) -> ViewContext<'a> {
    ViewContext::new(state, &Caller::Anonymous)
}

/// The latest year with reported figures (looking back a few years from last year), and the
/// coverage of that year.
fn latest_year(
    conn: &mut DbConn,
    ctx: &ViewContext<'_>,
) -> AppResult<(
    i32,
    std::sync::Arc<crate::views::completeness::CompletenessView>,
)> {
    let last = chrono::Utc::now().year() - 1;
    let mut first = None;
    for year in (last - 6..=last).rev() {
        let view = completeness_view(
            &mut crate::db::LazyConn::held(conn),
            ctx,
            &CompletenessQuery {
                period: Period::year(year),
                version: None,
                team_type: None,
            },
        )?;
        if view.overall_coverage.is_some_and(|c| c > 0.0) {
            return Ok((year, view));
        }
        first.get_or_insert(view);
    }
    Ok((last, first.expect("looked at one year")))
}

fn parse_year(raw: Option<&str>, latest: i32) -> AppResult<i32> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(latest),
        Some(s) => s
            .parse::<i32>()
            .ok()
            .filter(|y| (latest - TREND_YEARS + 1..=latest).contains(y))
            .ok_or_else(|| {
                AppError::validation(
                    "period",
                    "invalid_period",
                    format!("a year from {} to {latest}", latest - TREND_YEARS + 1),
                )
            }),
    }
}

fn group_key(dim: GroupDim, g: &Group) -> String {
    match dim {
        GroupDim::TeamType => g.team_type.map(|t| t.as_str().to_owned()),
        GroupDim::SizeClass => g.size_class.map(|s| s.as_str().to_owned()),
        GroupDim::Province => g.province.clone(),
        GroupDim::ProvidesHelp => g.provides_help.map(|h| h.as_str().to_owned()),
        GroupDim::OrgForm => g.org_form.map(|o| o.as_str().to_owned()),
        GroupDim::SelfRegistration => g.self_registration.map(|b| b.to_string()),
        GroupDim::Year => g.year.map(|y| y.to_string()),
    }
    .unwrap_or_default()
}

fn group_label(state: &AppState, dim: GroupDim, g: &Group, lang: Lang) -> String {
    match dim {
        GroupDim::TeamType => g.team_type.map(|t| text::team_type(t, lang).to_owned()),
        GroupDim::SizeClass => g
            .size_class
            .map(|s| text::org_size_class(s, lang).to_owned()),
        GroupDim::Province => g.province.as_deref().map(|p| {
            state
                .reference
                .province(p)
                .map_or(p, |p| &p.name)
                .to_owned()
        }),
        GroupDim::ProvidesHelp => g
            .provides_help
            .map(|h| text::help_group(h, lang).to_owned()),
        _ => None,
    }
    .unwrap_or_else(|| group_key(dim, g))
}

pub fn indicator_label(ind: &Indicator, lang: Lang) -> String {
    match lang {
        Lang::Nl => ind.label_nl.clone(),
        Lang::En => ind.label_en.clone(),
    }
}

// ------------------------------------------------------------------------------------ dashboard

pub struct Headline {
    pub indicator: String,
    pub href: String,
    pub value: String,
    pub change: String,
    /// The last years (sparkline and its table), and the trend view they come from.
    pub years: Vec<Row>,
    pub api: String,
}

/// How many years the dashboard's sparklines cover.
const SPARK_YEARS: i32 = 5;

pub struct GoalCard {
    pub code: String,
    pub label: String,
    pub description: String,
    pub href: String,
    pub headline: Option<Headline>,
}

#[derive(Template)]
#[template(path = "web/dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    year: i32,
    goals: Vec<GoalCard>,
    organisations: String,
    coverage: String,
    map: String,
}

/// The indicators of a goal, percentages first (they make the best headline).
fn goal_indicators(state: &AppState, goal: &str) -> AppResult<Vec<Indicator>> {
    let mut list = state.catalogue.list(&IndicatorFilter {
        goal: Some(goal.to_owned()),
        ..Default::default()
    })?;
    list.sort_by_key(|i| i.unit != Unit::Percent);
    Ok(list)
}

pub async fn dashboard(state: web::Data<AppState>, req: HttpRequest) -> WebResult {
    let lang = Lang::of(&req);
    let s = state.clone();
    let (year, organisations, coverage, heads) = state
        .db
        .run(move |conn| {
            let ctx = context(&s);
            let (year, completeness) = latest_year(conn, &ctx)?;
            let mut heads = Vec::new();
            for goal in &s.catalogue.goals {
                let mut found = None;
                for ind in goal_indicators(&s, &goal.code)?.into_iter().take(4) {
                    let trend = trend_view(
                        &mut crate::db::LazyConn::held(conn),
                        &ctx,
                        &TrendQuery {
                            indicator: ind.code.clone(),
                            version: None,
                            from: year - SPARK_YEARS + 1,
                            to: year,
                            base: Some(year - 1),
                            group_by: vec![],
                            filter: ViewFilter::default(),
                            balanced: false,
                            pooling: None,
                        },
                    )?;
                    let point = trend
                        .series
                        .first()
                        .and_then(|s| s.points.iter().find(|p| p.year == year))
                        .filter(|p| p.aggregate.value.is_some())
                        .cloned();
                    if let Some(p) = point {
                        found = Some((ind, p, trend));
                        break;
                    }
                }
                heads.push((goal.clone(), found));
            }
            Ok((
                year,
                completeness.organisations_considered,
                completeness.overall_coverage,
                heads,
            ))
        })
        .await
        .in_lang(lang)?;
    let goals = heads
        .into_iter()
        .map(|(goal, found)| GoalCard {
            href: lang.href("/indicatoren", &[]) + "#" + &goal.code,
            label: match lang {
                Lang::Nl => goal.label_nl.clone(),
                Lang::En => goal.label_en.clone(),
            },
            description: goal.description.clone(),
            code: goal.code,
            headline: found.map(|(ind, p, trend)| Headline {
                indicator: indicator_label(&ind, lang),
                href: lang.href(&format!("/indicatoren/{}", ind.code), &[]),
                value: format::value(p.aggregate.value.unwrap_or_default(), ind.unit, lang),
                change: p
                    .change
                    .map(|c| {
                        format::change(c, trend.change_unit == ChangeUnit::PercentagePoints, lang)
                    })
                    .unwrap_or_default(),
                years: trend
                    .series
                    .first()
                    .map(|s| {
                        s.points
                            .iter()
                            .map(|p| {
                                let y = p.year.to_string();
                                Row::of(y.clone(), y, &p.aggregate, ind.unit, lang)
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                api: format!(
                    "/api/v1/views/trend?indicator={}&from={}&to={year}&base={}",
                    ind.code, trend.from, trend.base
                ),
            }),
        })
        .collect();
    let title = lang.texts().nav_home.to_owned();
    page(
        &Dashboard {
            chrome: Chrome::new(&req, lang, title, "home"),
            year,
            goals,
            organisations: format::count(organisations, lang),
            coverage: coverage
                .map(|c| format::value(c, Unit::Percent, lang))
                .unwrap_or_else(|| "–".to_owned()),
            map: lang.href("/kaart", &[]),
        },
        lang,
    )
}

// ------------------------------------------------------------------------------ indicator list

pub struct IndicatorItem {
    pub code: String,
    pub label: String,
    pub href: String,
    pub definition: String,
    pub unit: &'static str,
    pub kind: &'static str,
    pub direction: &'static str,
    pub pooling: String,
}

pub struct GoalSection {
    pub code: String,
    pub label: String,
    pub indicators: Vec<IndicatorItem>,
}

#[derive(Template)]
#[template(path = "web/indicators.html")]
struct Indicators {
    chrome: Chrome,
    goals: Vec<GoalSection>,
}

pub async fn indicators(state: web::Data<AppState>, req: HttpRequest) -> WebResult {
    let lang = Lang::of(&req);
    let mut goals = Vec::new();
    for goal in &state.catalogue.goals {
        let list = state
            .catalogue
            .list(&IndicatorFilter {
                goal: Some(goal.code.clone()),
                ..Default::default()
            })
            .in_lang(lang)?;
        goals.push(GoalSection {
            code: goal.code.clone(),
            label: match lang {
                Lang::Nl => goal.label_nl.clone(),
                Lang::En => goal.label_en.clone(),
            },
            indicators: list
                .iter()
                .map(|i| IndicatorItem {
                    code: i.code.clone(),
                    label: indicator_label(i, lang),
                    href: lang.href(&format!("/indicatoren/{}", i.code), &[]),
                    definition: i.definition.clone(),
                    unit: text::unit(i.unit, lang),
                    kind: text::kind(i.kind, lang),
                    direction: text::direction(i.direction, lang),
                    pooling: i.across_organisations.clone(),
                })
                .collect(),
        });
    }
    let title = lang.texts().indicators_title.to_owned();
    page(
        &Indicators {
            chrome: Chrome::new(&req, lang, title, "indicators"),
            goals,
        },
        lang,
    )
}

// ------------------------------------------------------------------------------ one indicator

pub struct Fact {
    pub term: &'static str,
    pub text: String,
}

pub struct YearOption {
    pub year: i32,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "web/indicator.html")]
struct IndicatorPage {
    chrome: Chrome,
    label: String,
    facts: Vec<Fact>,
    year: i32,
    years: Vec<YearOption>,
    action: String,
    en: bool,
    trend: Table,
    breakdowns: Vec<Table>,
    map: String,
}

/// What an indicator page shows, from the views as `ctx`'s audience sees them: the trend over
/// the last [`TREND_YEARS`] years (indexed to the first year with a value) and a breakdown of
/// the chosen year per dimension.
pub struct IndicatorFigures {
    pub latest: i32,
    pub year: i32,
    pub trend: std::sync::Arc<crate::views::trend::TrendView>,
    pub breakdowns: Vec<(
        GroupDim,
        std::sync::Arc<crate::views::aggregate::AggregateView>,
    )>,
}

/// Gather an indicator page's figures (`period`: a year, default the latest with figures).
pub fn indicator_figures(
    conn: &mut DbConn,
    ctx: &ViewContext<'_>,
    code: &str,
    period: Option<&str>,
    dims: &[GroupDim],
) -> AppResult<IndicatorFigures> {
    let (latest, _) = latest_year(conn, ctx)?;
    let year = parse_year(period, latest)?;
    let query = TrendQuery {
        indicator: code.to_owned(),
        version: None,
        from: latest - TREND_YEARS + 1,
        to: latest,
        base: None,
        group_by: vec![],
        filter: ViewFilter::default(),
        balanced: false,
        pooling: None,
    };
    let mut trend = trend_view(&mut crate::db::LazyConn::held(conn), ctx, &query)?;
    // Index to the first year with a published value.
    let first = trend
        .series
        .first()
        .and_then(|s| s.points.iter().find(|p| p.aggregate.value.is_some()))
        .map(|p| p.year);
    if let Some(base) = first.filter(|b| *b != query.from) {
        trend = trend_view(
            &mut crate::db::LazyConn::held(conn),
            ctx,
            &TrendQuery {
                base: Some(base),
                ..query
            },
        )?;
    }
    let mut breakdowns = Vec::new();
    for dim in dims {
        let view = aggregate_view(
            &mut crate::db::LazyConn::held(conn),
            ctx,
            &AggregateQuery {
                indicator: code.to_owned(),
                version: None,
                units: vec![Period::year(year)],
                group_by: vec![*dim],
                filter: ViewFilter::default(),
                pooling: None,
            },
        )?;
        breakdowns.push((*dim, view));
    }
    Ok(IndicatorFigures {
        latest,
        year,
        trend,
        breakdowns,
    })
}

/// The years to choose from, newest first.
pub fn year_options(latest: i32, year: i32) -> Vec<YearOption> {
    (latest - TREND_YEARS + 1..=latest)
        .rev()
        .map(|y| YearOption {
            year: y,
            selected: y == year,
        })
        .collect()
}

/// An indicator page's tables: the trend and one per breakdown, for `audience`.
pub fn indicator_tables(
    state: &AppState,
    ind: &Indicator,
    figures: &IndicatorFigures,
    lang: Lang,
    audience: Audience,
) -> (Table, Vec<Table>) {
    let t = lang.texts();
    let audit = audience == Audience::Associatie;
    let (latest, year, trend) = (figures.latest, figures.year, &figures.trend);
    let from = latest - TREND_YEARS + 1;
    let trend_api = format!(
        "/api/v1/views/trend?indicator={}&from={from}&to={latest}&base={}",
        ind.code, trend.base
    );
    // Index and change since the base year, as the trend view computes them.
    let points = trend.change_unit == ChangeUnit::PercentagePoints;
    let mut trend_rows: Vec<Row> = trend
        .series
        .first()
        .map(|s| {
            s.points
                .iter()
                .map(|p| {
                    let mut row = Row::of(
                        p.year.to_string(),
                        p.year.to_string(),
                        &p.aggregate,
                        ind.unit,
                        lang,
                    );
                    row.index = p
                        .index
                        .map(|i| format::number(i, 1, lang))
                        .unwrap_or_default();
                    row.change = p
                        .change
                        .filter(|_| p.year != trend.base)
                        .map(|c| format::change(c, points, lang))
                        .unwrap_or_default();
                    row
                })
                .collect()
        })
        .unwrap_or_default();
    // Years before the first figure are left out.
    while trend_rows.first().is_some_and(|r| r.status == "missing") {
        trend_rows.remove(0);
    }
    let label = indicator_label(ind, lang);
    let year_s = year.to_string();
    let trend_table = Table {
        id: "trend".to_owned(),
        caption: format!("{}: {}", t.trend_title, label),
        chart: "line",
        dim: "year",
        downloads: audience.downloads(&trend_api),
        api: trend_api,
        unit: text::unit(ind.unit, lang),
        head: t.year,
        extra_head: extra_head(ind, lang),
        has_quartiles: trend
            .series
            .first()
            .is_some_and(|s| s.points.iter().any(|p| p.aggregate.distribution.is_some())),
        index_head: format!("{} ({} = 100)", t.index, trend.base),
        change_head: format!("{} {} {}", t.change, t.since, trend.base),
        rows: trend_rows,
        total: None,
        permalink: audience.permalink(lang, &ind.code, None, None, "trend"),
        audit,
    };
    let tables = figures
        .breakdowns
        .iter()
        .map(|(dim, view)| {
            let api = format!(
                "/api/v1/views/aggregate?indicator={}&period={year}&groupBy={}",
                ind.code,
                dim.as_str()
            );
            let rows = view
                .rows
                .iter()
                .map(|r| {
                    Row::of(
                        group_key(*dim, &r.group),
                        group_label(state, *dim, &r.group, lang),
                        &r.aggregate,
                        ind.unit,
                        lang,
                    )
                })
                .collect();
            let mut total = Row::of(
                String::new(),
                t.national.to_owned(),
                &view.total,
                ind.unit,
                lang,
            );
            total.key.clear();
            Table {
                id: dim.as_str().to_owned(),
                caption: format!("{label} {} {}, {year}", t.by, text::dim(*dim, lang)),
                chart: "bar",
                dim: dim.as_str(),
                downloads: audience.downloads(&api),
                api,
                unit: text::unit(ind.unit, lang),
                head: match dim {
                    GroupDim::TeamType => t.team_type,
                    GroupDim::SizeClass => t.size_class,
                    GroupDim::Province => t.province,
                    _ => t.value,
                },
                extra_head: extra_head(ind, lang),
                has_quartiles: view.rows.iter().any(|r| r.aggregate.distribution.is_some()),
                index_head: String::new(),
                change_head: String::new(),
                rows,
                total: Some(total),
                permalink: audience.permalink(
                    lang,
                    &ind.code,
                    Some(&year_s),
                    Some(dim.as_str()),
                    dim.as_str(),
                ),
                audit,
            }
        })
        .collect();
    (trend_table, tables)
}

/// An indicator's definition, as a list of terms.
pub fn indicator_facts(state: &AppState, ind: &Indicator, lang: Lang) -> Vec<Fact> {
    let t = lang.texts();
    let goal = state
        .catalogue
        .goal(&ind.goal)
        .map(|g| match lang {
            Lang::Nl => g.label_nl.clone(),
            Lang::En => g.label_en.clone(),
        })
        .unwrap_or_else(|| ind.goal.clone());
    let mut facts = vec![
        Fact {
            term: t.code,
            text: ind.code.clone(),
        },
        Fact {
            term: t.goal,
            text: goal,
        },
        Fact {
            term: t.definition,
            text: ind.definition.clone(),
        },
    ];
    if let Some(n) = &ind.numerator {
        facts.push(Fact {
            term: t.numerator,
            text: n.clone(),
        });
    }
    if let Some(d) = &ind.denominator {
        facts.push(Fact {
            term: t.denominator,
            text: d.clone(),
        });
    }
    facts.extend([
        Fact {
            term: t.unit,
            text: text::unit(ind.unit, lang).to_owned(),
        },
        Fact {
            term: t.direction,
            text: text::direction(ind.direction, lang).to_owned(),
        },
        Fact {
            term: t.kind,
            text: text::kind(ind.kind, lang).to_owned(),
        },
        Fact {
            term: t.pooling,
            text: ind.across_organisations.clone(),
        },
        Fact {
            term: t.pooling_periods,
            text: ind.across_periods.clone(),
        },
        Fact {
            term: t.counting_moment,
            text: ind.counting_moment.clone(),
        },
        Fact {
            term: t.team_types,
            text: ind
                .team_types
                .iter()
                .map(|tt| text::team_type(*tt, lang))
                .collect::<Vec<_>>()
                .join(", "),
        },
    ]);
    facts
}

pub async fn indicator(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> WebResult {
    let lang = Lang::of(&req);
    let q = PageQuery::of(&req, lang)?;
    let ind = state.catalogue.get(&code, None).in_lang(lang)?;
    let dims: Vec<GroupDim> = match q.group_by.as_deref().filter(|g| !g.is_empty()) {
        None => BREAKDOWNS.to_vec(),
        Some(g) => {
            let dims = GroupDim::parse_list(Some(g), "groupBy").in_lang(lang)?;
            if dims.len() != 1 || !BREAKDOWNS.contains(&dims[0]) {
                return Err(AppError::validation(
                    "groupBy",
                    "invalid_value",
                    "one of teamType, sizeClass, province, providesHelp",
                ))
                .in_lang(lang);
            }
            dims
        }
    };
    let s = state.clone();
    let code_ = ind.code.clone();
    let period = q.period.clone();
    let figures = state
        .db
        .run(move |conn| indicator_figures(conn, &context(&s), &code_, period.as_deref(), &dims))
        .await
        .in_lang(lang)?;
    let (trend, breakdowns) = indicator_tables(&state, &ind, &figures, lang, Audience::Public);
    let label = indicator_label(&ind, lang);
    let year_s = figures.year.to_string();
    page(
        &IndicatorPage {
            chrome: Chrome::new(&req, lang, label.clone(), "indicators"),
            action: format!("/indicatoren/{}", ind.code),
            map: lang.href("/kaart", &[("indicator", &ind.code), ("period", &year_s)]),
            label,
            facts: indicator_facts(&state, &ind, lang),
            year: figures.year,
            years: year_options(figures.latest, figures.year),
            en: lang == Lang::En,
            trend,
            breakdowns,
        },
        lang,
    )
}

// -------------------------------------------------------------------------------------- map

/// The municipality view of an indicator for a year, as `ctx`'s audience sees it.
pub fn municipality_figures(
    conn: &mut DbConn,
    ctx: &ViewContext<'_>,
    code: &str,
    year: i32,
) -> AppResult<std::sync::Arc<crate::views::municipalities::MunicipalityView>> {
    municipality_view(
        &mut crate::db::LazyConn::held(conn),
        ctx,
        &MunicipalityQuery {
            indicator: code.to_owned(),
            version: None,
            units: vec![Period::year(year)],
        },
    )
}

/// Every current indicator to choose from, `selected` chosen.
pub fn indicator_options(
    state: &AppState,
    selected: &str,
    lang: Lang,
) -> AppResult<Vec<IndicatorOption>> {
    Ok(state
        .catalogue
        .list(&IndicatorFilter::default())?
        .iter()
        .map(|i| IndicatorOption {
            code: i.code.clone(),
            label: indicator_label(i, lang),
            selected: i.code == selected,
        })
        .collect())
}

/// The table of the map: every municipality (those the view has no cell for have no figures).
pub fn municipality_table(
    state: &AppState,
    ind: &Indicator,
    view: &crate::views::municipalities::MunicipalityView,
    year: i32,
    lang: Lang,
    audience: Audience,
) -> Table {
    let t = lang.texts();
    let label = indicator_label(ind, lang);
    let code = &ind.code;
    let api = format!("/api/v1/views/municipalities?indicator={code}&period={year}");
    let rows = state
        .reference
        .municipalities
        .iter()
        .map(|m| {
            let mut row = match view.rows.iter().find(|r| r.code == m.code) {
                Some(r) => Row::of(m.code.clone(), m.name.clone(), &r.aggregate, ind.unit, lang),
                None => Row::missing(m.code.clone(), m.name.clone()),
            };
            row.href = lang.href(&format!("/gemeenten/{}", m.code), &[]);
            row
        })
        .collect();
    let year_s = year.to_string();
    Table {
        id: "gemeenten".to_owned(),
        caption: format!("{label}, {year}: {}", t.map_table.to_lowercase()),
        chart: "",
        dim: "code",
        downloads: audience.downloads(&api),
        api,
        unit: text::unit(ind.unit, lang),
        head: t.municipality,
        extra_head: extra_head(ind, lang),
        has_quartiles: false,
        index_head: String::new(),
        change_head: String::new(),
        rows,
        total: None,
        permalink: match audience {
            Audience::Public => lang.href("/kaart", &[("indicator", code), ("period", &year_s)]),
            Audience::Associatie => {
                audience.permalink(lang, code, Some(&year_s), None, "gemeenten")
            }
        },
        audit: audience == Audience::Associatie,
    }
}

pub struct IndicatorOption {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "web/map.html")]
struct MapPage {
    chrome: Chrome,
    action: &'static str,
    indicators: Vec<IndicatorOption>,
    years: Vec<YearOption>,
    en: bool,
    label: String,
    year: i32,
    table: Table,
    unattributed: String,
    indicator_href: String,
}

/// The default indicator of the map: the first percentage with a published national value.
fn default_indicator(
    conn: &mut DbConn,
    ctx: &ViewContext<'_>,
    state: &AppState,
    year: i32,
) -> AppResult<String> {
    let list = state.catalogue.list(&IndicatorFilter::default())?;
    for ind in list.iter().filter(|i| i.unit == Unit::Percent).take(6) {
        let view = aggregate_view(
            &mut crate::db::LazyConn::held(conn),
            ctx,
            &AggregateQuery {
                indicator: ind.code.clone(),
                version: None,
                units: vec![Period::year(year)],
                group_by: vec![],
                filter: ViewFilter::default(),
                pooling: None,
            },
        )?;
        if view.total.value.is_some() {
            return Ok(ind.code.clone());
        }
    }
    Ok(list.first().map(|i| i.code.clone()).unwrap_or_default())
}

pub async fn map(state: web::Data<AppState>, req: HttpRequest) -> WebResult {
    let lang = Lang::of(&req);
    let q = PageQuery::of(&req, lang)?;
    let t = lang.texts();
    if let Some(code) = q.indicator.as_deref().filter(|c| !c.is_empty()) {
        state.catalogue.get(code, None).in_lang(lang)?;
    }
    let s = state.clone();
    let (period, wanted) = (q.period.clone(), q.indicator.clone());
    let (latest, year, code, view) = state
        .db
        .run(move |conn| {
            let ctx = context(&s);
            let (latest, _) = latest_year(conn, &ctx)?;
            let year = parse_year(period.as_deref(), latest)?;
            let code = match wanted.filter(|c| !c.is_empty()) {
                Some(c) => c,
                None => default_indicator(conn, &ctx, &s, year)?,
            };
            let view = municipality_figures(conn, &ctx, &code, year)?;
            Ok((latest, year, code, view))
        })
        .await
        .in_lang(lang)?;
    let ind = state.catalogue.get(&code, None).in_lang(lang)?;
    let label = indicator_label(&ind, lang);
    let year_s = year.to_string();
    let table = municipality_table(&state, &ind, &view, year, lang, Audience::Public);
    page(
        &MapPage {
            chrome: Chrome::new(&req, lang, t.map_title.to_owned(), "map"),
            action: "/kaart",
            indicators: indicator_options(&state, &code, lang).in_lang(lang)?,
            years: year_options(latest, year),
            en: lang == Lang::En,
            indicator_href: lang.href(&format!("/indicatoren/{code}"), &[("period", &year_s)]),
            label,
            year,
            table,
            unattributed: format::count(view.unattributed_organisations, lang),
        },
        lang,
    )
}

// ---------------------------------------------------------------------------- municipality

pub struct OrgItem {
    pub name: String,
    pub team_type: &'static str,
}

pub struct FigureRow {
    pub label: String,
    pub href: String,
    pub here: String,
    pub here_status: &'static str,
    pub peers: String,
    pub national: String,
}

#[derive(Template)]
#[template(path = "web/municipality.html")]
struct MunicipalityPage {
    chrome: Chrome,
    code: String,
    name: String,
    province: String,
    size_class: &'static str,
    residents: String,
    year: i32,
    organisations: Vec<OrgItem>,
    figures: Vec<FigureRow>,
    map: String,
}

pub async fn municipality(
    state: web::Data<AppState>,
    req: HttpRequest,
    code: web::Path<String>,
) -> WebResult {
    let lang = Lang::of(&req);
    let q = PageQuery::of(&req, lang)?;
    let m = state
        .reference
        .municipality(code.trim())
        .cloned()
        .ok_or_else(|| AppError::not_found("municipality", code.as_str()))
        .in_lang(lang)?;
    let s = state.clone();
    let (mcode, size) = (m.code.clone(), m.size_class);
    let period = q.period.clone();
    let (year, orgs, figures) = state
        .db
        .run(move |conn| {
            let ctx = context(&s);
            let (latest, _) = latest_year(conn, &ctx)?;
            let year = parse_year(period.as_deref(), latest)?;
            let orgs = organisations::list(
                conn,
                &s.reference,
                &OrganisationFilter {
                    municipality: Some(mcode.clone()),
                    active: Some(true),
                    ..Default::default()
                },
            )?;
            let mut figures = Vec::new();
            for ind in s.catalogue.list(&IndicatorFilter::default())? {
                let here = municipality_view(
                    &mut crate::db::LazyConn::held(conn),
                    &ctx,
                    &MunicipalityQuery {
                        indicator: ind.code.clone(),
                        version: None,
                        units: vec![Period::year(year)],
                    },
                )?;
                let by_size = aggregate_view(
                    &mut crate::db::LazyConn::held(conn),
                    &ctx,
                    &AggregateQuery {
                        indicator: ind.code.clone(),
                        version: None,
                        units: vec![Period::year(year)],
                        group_by: vec![GroupDim::SizeClass],
                        filter: ViewFilter::default(),
                        pooling: None,
                    },
                )?;
                let here = here
                    .rows
                    .iter()
                    .find(|r| r.code == mcode)
                    .map(|r| r.aggregate.clone());
                let peers = by_size
                    .rows
                    .iter()
                    .find(|r| r.group.size_class == Some(OrgSizeClass::of(size)))
                    .map(|r| r.aggregate.clone());
                figures.push((ind, here, peers, by_size.total.clone()));
            }
            Ok((year, orgs, figures))
        })
        .await
        .in_lang(lang)?;
    let year_s = year.to_string();
    let figures = figures
        .into_iter()
        .filter(|(_, here, peers, national)| {
            here.as_ref()
                .is_some_and(|a| a.value.is_some() || a.suppressed)
                || peers.as_ref().is_some_and(|a| a.value.is_some())
                || national.value.is_some()
        })
        .map(|(ind, here, peers, national)| {
            let show = |a: &Aggregate| Row::of(String::new(), String::new(), a, ind.unit, lang);
            let here_row = match here.as_ref() {
                Some(a) => show(a),
                None => Row::missing(String::new(), String::new()),
            };
            FigureRow {
                label: indicator_label(&ind, lang),
                href: lang.href(
                    &format!("/indicatoren/{}", ind.code),
                    &[("period", &year_s)],
                ),
                here: here_row.value,
                here_status: here_row.status,
                peers: peers
                    .as_ref()
                    .map(|a| show(a).value)
                    .unwrap_or_else(|| "–".to_owned()),
                national: show(&national).value,
            }
        })
        .collect();
    let province = state
        .reference
        .province(&m.province)
        .map_or(m.province.clone(), |p| p.name.clone());
    page(
        &MunicipalityPage {
            chrome: Chrome::new(&req, lang, m.name.clone(), ""),
            map: lang.href("/kaart", &[("period", &year_s)]),
            code: m.code.clone(),
            name: m.name.clone(),
            province,
            size_class: text::size_class(m.size_class, lang),
            residents: format::count(m.population, lang),
            year,
            organisations: orgs
                .iter()
                .map(|o| OrgItem {
                    name: o.name.clone(),
                    team_type: text::team_type(o.team_type, lang),
                })
                .collect(),
            figures,
        },
        lang,
    )
}
