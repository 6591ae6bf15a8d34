//! Cross-municipal views: aggregates, trends, benchmarks, completeness and per-municipality
//! values, computed per kind of figure (see [`stats`]) from the counted revisions only.
//!
//! The path is the same for every view: fetch the counted figures of one indicator in a date
//! range (one indexed query), roll them up per organisation and period unit (exact period if
//! reported, else the sub-periods: flows need every sub-period, stocks take the last), group,
//! pool, and withhold what the caller may not see.

pub mod aggregate;
pub mod benchmark;
pub mod cache;
pub mod completeness;
pub mod csv;
pub mod municipalities;
pub mod stats;
pub mod trend;

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use crate::auth::{Caller, Role};
use crate::catalogue::{Catalogue, Indicator, Kind};
use crate::db::DbConn;
use crate::db::schema::{figures, organisations};
use crate::error::{AppError, AppResult};
use crate::period::{Period, PeriodType};
use crate::registry::{OrgForm, Reference, SizeClass, TeamType};
use stats::{Acc, Distribution};

/// Who a view is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The Associatie: everything, small groups flagged.
    Full,
    /// A team: its own figures and published ones; aggregates over enough others.
    Team(i64),
    /// Anonymous callers and admins: published figures and aggregates over enough organisations.
    Public,
}

impl Audience {
    pub fn of(caller: &Caller) -> Audience {
        match caller {
            Caller::System => Audience::Full,
            Caller::Client(c) => match (c.role, c.organisation_id) {
                (Role::Associatie, _) => Audience::Full,
                (Role::Team, Some(org)) => Audience::Team(org),
                _ => Audience::Public,
            },
            Caller::Anonymous => Audience::Public,
        }
    }

    /// Whether this audience may see an individual figure of `organisation`.
    pub fn sees(&self, organisation: i64, published: bool) -> bool {
        match self {
            Audience::Full => true,
            Audience::Team(own) => *own == organisation || published,
            Audience::Public => published,
        }
    }
}

/// View settings from configuration.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// k: the least number of organisations behind a value shown to teams and the public.
    pub min_organisations: usize,
    /// Survey aggregates on fewer respondents are unreliable.
    pub min_respondents: i64,
}

crate::text_enum! {
    /// "Provides help itself", as a group.
    pub enum HelpGroup {
        Yes = "yes",
        No = "no",
        Unknown = "unknown",
    }
}

/// A dimension to group (or filter) by.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    async_graphql::Enum,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum GroupDim {
    TeamType,
    SizeClass,
    Province,
    ProvidesHelp,
    OrgForm,
    Year,
}

impl GroupDim {
    pub fn parse(s: &str) -> Option<GroupDim> {
        let norm: String = s
            .trim()
            .chars()
            .filter(|c| *c != '_' && *c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        Some(match norm.as_str() {
            "teamtype" => GroupDim::TeamType,
            "sizeclass" => GroupDim::SizeClass,
            "province" => GroupDim::Province,
            "provideshelp" => GroupDim::ProvidesHelp,
            "orgform" => GroupDim::OrgForm,
            "year" => GroupDim::Year,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupDim::TeamType => "teamType",
            GroupDim::SizeClass => "sizeClass",
            GroupDim::Province => "province",
            GroupDim::ProvidesHelp => "providesHelp",
            GroupDim::OrgForm => "orgForm",
            GroupDim::Year => "year",
        }
    }

    /// Parse a comma-separated list (REST `groupBy=teamType,sizeClass`).
    pub fn parse_list(raw: Option<&str>, field: &str) -> AppResult<Vec<GroupDim>> {
        let mut dims = Vec::new();
        for part in raw
            .unwrap_or("")
            .split(',')
            .filter(|p| !p.trim().is_empty())
        {
            let dim = GroupDim::parse(part).ok_or_else(|| {
                AppError::validation(
                    field,
                    "invalid_value",
                    format!(
                        "unknown dimension {part:?}: use teamType, sizeClass, province, \
                         providesHelp, orgForm, year"
                    ),
                )
            })?;
            if !dims.contains(&dim) {
                dims.push(dim);
            }
        }
        Ok(dims)
    }
}

/// The group a row stands for; dimensions not grouped by are null.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    async_graphql::SimpleObject,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub team_type: Option<TeamType>,
    pub size_class: Option<SizeClass>,
    pub province: Option<String>,
    pub provides_help: Option<HelpGroup>,
    pub org_form: Option<OrgForm>,
    pub year: Option<i32>,
}

/// Restrict a view to organisations with these characteristics.
#[derive(Debug, Clone, Default)]
pub struct ViewFilter {
    pub team_type: Option<TeamType>,
    pub size_class: Option<SizeClass>,
    pub province: Option<String>,
    pub provides_help: Option<HelpGroup>,
    pub org_form: Option<OrgForm>,
}

/// What a view needs to know about an organisation.
#[derive(Debug, Clone)]
pub struct OrgInfo {
    pub id: i64,
    pub name: String,
    pub team_type: TeamType,
    pub org_form: OrgForm,
    pub provides_help: HelpGroup,
    pub size_class: Option<SizeClass>,
    pub province: Option<String>,
    pub active: bool,
}

impl OrgInfo {
    pub fn group(&self, dims: &[GroupDim], year: Option<i32>) -> Group {
        let mut g = Group::default();
        for d in dims {
            match d {
                GroupDim::TeamType => g.team_type = Some(self.team_type),
                GroupDim::SizeClass => g.size_class = self.size_class,
                GroupDim::Province => g.province = self.province.clone(),
                GroupDim::ProvidesHelp => g.provides_help = Some(self.provides_help),
                GroupDim::OrgForm => g.org_form = Some(self.org_form),
                GroupDim::Year => g.year = year,
            }
        }
        g
    }

    pub fn matches(&self, f: &ViewFilter) -> bool {
        f.team_type.is_none_or(|t| t == self.team_type)
            && f.size_class.is_none_or(|s| Some(s) == self.size_class)
            && f.province
                .as_ref()
                .is_none_or(|p| Some(p) == self.province.as_ref())
            && f.provides_help.is_none_or(|h| h == self.provides_help)
            && f.org_form.is_none_or(|o| o == self.org_form)
    }
}

pub fn load_organisations(
    conn: &mut DbConn,
    reference: &Reference,
) -> AppResult<HashMap<i64, OrgInfo>> {
    type Row = (i64, String, String, String, Option<bool>, String, bool);
    let rows: Vec<Row> = organisations::table
        .select((
            organisations::id,
            organisations::name,
            organisations::team_type,
            organisations::org_form,
            organisations::provides_help,
            organisations::primary_municipality,
            organisations::active,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, name, team_type, org_form, help, primary, active)| {
            let m = reference.municipality(&primary);
            Ok((
                id,
                OrgInfo {
                    id,
                    name,
                    team_type: team_type.parse().map_err(AppError::internal)?,
                    org_form: org_form.parse().map_err(AppError::internal)?,
                    provides_help: match help {
                        Some(true) => HelpGroup::Yes,
                        Some(false) => HelpGroup::No,
                        None => HelpGroup::Unknown,
                    },
                    size_class: m.map(|m| m.size_class),
                    province: m.map(|m| m.province.clone()),
                    active,
                },
            ))
        })
        .collect()
}

/// Counted figures as views read them: one figure, or (for views that do not need the
/// municipality) the figures of one organisation and period summed by the database.
#[derive(Debug, Clone)]
pub struct ViewRow {
    pub organisation: i64,
    pub period_type: PeriodType,
    /// The (last) period start behind the row.
    pub start: NaiveDate,
    /// How many distinct periods of `period_type` the row sums (1 unless summed per type).
    pub periods: u32,
    pub municipality: Option<String>,
    pub acc: Acc,
    pub published: bool,
}
/// The indicator a view is about, as shown in responses.
#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorRef {
    pub code: String,
    pub label_nl: String,
    pub label_en: String,
    pub kind: Kind,
    pub unit: crate::catalogue::Unit,
    pub direction: crate::catalogue::Direction,
    pub across_organisations: String,
    pub across_periods: String,
}

impl IndicatorRef {
    pub fn of(i: &Indicator) -> Self {
        IndicatorRef {
            code: i.code.clone(),
            label_nl: i.label_nl.clone(),
            label_en: i.label_en.clone(),
            kind: i.kind,
            unit: i.unit,
            direction: i.direction,
            across_organisations: i.across_organisations.clone(),
            across_periods: i.across_periods.clone(),
        }
    }
}

/// Resolve an indicator for a view (current catalogue version unless named) and the catalogue
/// versions whose figures it reads: those defining the code with the same kind.
pub fn resolve_indicator<'a>(
    catalogue: &'a Catalogue,
    code: &str,
    version: Option<&str>,
) -> AppResult<(&'a Indicator, Vec<String>)> {
    let v = catalogue.resolve_version(version, "version")?;
    let code = code.trim();
    if code.is_empty() {
        return Err(AppError::validation(
            "indicator",
            "missing_indicator",
            "indicator is required",
        ));
    }
    let ind = catalogue.indicator(&v.version, code).ok_or_else(|| {
        AppError::validation(
            "indicator",
            "unknown_indicator",
            format!("unknown indicator {code:?} (GET /api/v1/indicators)"),
        )
    })?;
    let versions = catalogue
        .versions
        .iter()
        .filter(|cv| {
            catalogue
                .indicator(&cv.version, code)
                .is_some_and(|i| i.kind == ind.kind)
        })
        .map(|cv| cv.version.clone())
        .collect();
    Ok((ind, versions))
}

/// Counted figures of one indicator with periods inside `[from, to]`, one row per figure.
pub fn fetch(
    conn: &mut DbConn,
    kind: Kind,
    indicator: &str,
    versions: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<ViewRow>> {
    type Row = (
        i64,
        String,
        NaiveDate,
        Option<String>,
        Option<f64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        String,
    );
    let rows: Vec<Row> = figures::table
        .filter(figures::counted)
        .filter(figures::indicator.eq(indicator))
        .filter(figures::period_start.ge(from))
        .filter(figures::period_start.le(to))
        .filter(figures::period_end.le(to))
        .filter(figures::catalogue_version.eq_any(versions))
        .select((
            figures::organisation_id,
            figures::period_type,
            figures::period_start,
            figures::municipality,
            figures::value,
            figures::numerator,
            figures::denominator,
            figures::respondents,
            figures::cases,
            figures::publication,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(org, pt, start, muni, value, num, den, resp, cases, publication)| {
                let mut acc = Acc::default();
                acc.add_figure(kind, value, num, den, resp, cases);
                Ok(ViewRow {
                    organisation: org,
                    period_type: period_type(&pt)?,
                    start,
                    periods: 1,
                    municipality: muni,
                    acc,
                    published: publication == "openbaar",
                })
            },
        )
        .collect()
}

fn period_type(s: &str) -> AppResult<PeriodType> {
    PeriodType::parse(s).ok_or_else(|| AppError::internal(format!("period type {s}")))
}

/// Like [`fetch`], but summed by the database per organisation and period, or, when
/// `per_type` (one period unit, and a kind that does not take the last value), per organisation
/// and period type: what aggregates, trends and benchmarks need, with far fewer rows to move.
pub fn fetch_summed(
    conn: &mut DbConn,
    kind: Kind,
    indicator: &str,
    versions: &[String],
    from: NaiveDate,
    to: NaiveDate,
    per_type: bool,
) -> AppResult<Vec<ViewRow>> {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Date, Double, Nullable, Text};
    type Row = (
        i64,
        String,
        NaiveDate,
        i64,
        Option<f64>,
        Option<i64>,
        Option<i64>,
        Option<f64>,
        Option<i64>,
        Option<f64>,
        Option<i64>,
        Option<String>,
        i64,
    );
    let sums = (
        sql::<Nullable<Double>>("SUM(value)"),
        sql::<Nullable<BigInt>>("CAST(SUM(numerator) AS BIGINT)"),
        sql::<Nullable<BigInt>>("CAST(SUM(denominator) AS BIGINT)"),
        sql::<Nullable<Double>>("SUM(value * respondents)"),
        sql::<Nullable<BigInt>>("CAST(SUM(respondents) AS BIGINT)"),
        sql::<Nullable<Double>>("SUM(value * cases)"),
        sql::<Nullable<BigInt>>("CAST(SUM(cases) AS BIGINT)"),
        sql::<Nullable<Text>>("MIN(publication)"),
        sql::<BigInt>("COUNT(*)"),
    );
    let base = figures::table
        .filter(figures::counted)
        .filter(figures::indicator.eq(indicator))
        .filter(figures::period_start.ge(from))
        .filter(figures::period_start.le(to))
        .filter(figures::period_end.le(to))
        .filter(figures::catalogue_version.eq_any(versions));
    let rows: Vec<Row> = if per_type && !matches!(kind, Kind::Stock | Kind::Amount) {
        base.group_by((figures::organisation_id, figures::period_type))
            .select((
                figures::organisation_id,
                figures::period_type,
                sql::<Date>("MAX(period_start)"),
                // Only flows need to know whether every sub-period is there.
                sql::<BigInt>(if kind == Kind::Flow {
                    "COUNT(DISTINCT period_start)"
                } else {
                    "CAST(1 AS BIGINT)"
                }),
                sums,
            ))
            .load::<(i64, String, NaiveDate, i64, _)>(conn)?
            .into_iter()
            .map(|(o, t, s, p, (a, b, c, d, e, f, g, h, i))| {
                (o, t, s, p, a, b, c, d, e, f, g, h, i)
            })
            .collect()
    } else {
        base.group_by((
            figures::organisation_id,
            figures::period_type,
            figures::period_start,
        ))
        .select((
            figures::organisation_id,
            figures::period_type,
            figures::period_start,
            sql::<BigInt>("CAST(1 AS BIGINT)"),
            sums,
        ))
        .load::<(i64, String, NaiveDate, i64, _)>(conn)?
        .into_iter()
        .map(|(o, t, s, p, (a, b, c, d, e, f, g, h, i))| (o, t, s, p, a, b, c, d, e, f, g, h, i))
        .collect()
    };
    rows.into_iter()
        .map(
            |(org, pt, start, periods, sum, num, den, wr, resp, wc, cases, min_pub, n)| {
                let (weighted, weight) = match kind {
                    Kind::Survey => (wr.unwrap_or(0.0), resp.unwrap_or(0)),
                    Kind::MeanDuration => (wc.unwrap_or(0.0), cases.unwrap_or(0)),
                    _ => (0.0, 0),
                };
                Ok(ViewRow {
                    organisation: org,
                    period_type: period_type(&pt)?,
                    start,
                    periods: periods.max(1) as u32,
                    municipality: None,
                    acc: Acc {
                        sum: sum.unwrap_or(0.0),
                        numerator: num.unwrap_or(0),
                        denominator: den.unwrap_or(0),
                        weighted,
                        weight,
                        figures: n.max(0) as usize,
                    },
                    // 'associatie' < 'openbaar': the minimum is 'openbaar' only if all are.
                    published: min_pub.as_deref() == Some("openbaar"),
                })
            },
        )
        .collect()
}

/// The figures of one key (an organisation, or organisation x municipality) for one unit
/// period, rolled up.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cell {
    pub acc: Acc,
    /// Every figure behind it is published (openbaar).
    pub published: bool,
}

/// Roll up one key's figures for `unit`: the figures for exactly that period if there are any;
/// otherwise those of the coarsest sub-period type present, where flows need every sub-period
/// and stocks and amounts take the last one. `None` when nothing (complete) is there.
pub fn rollup(kind: Kind, rows: &[&ViewRow], unit: Period) -> Option<Cell> {
    let (start, end) = (unit.start(), unit.end());
    let inside: Vec<&&ViewRow> = rows
        .iter()
        .filter(|r| r.start >= start && r.start <= end)
        .collect();
    if inside.is_empty() {
        return None;
    }
    let exact: Vec<&&ViewRow> = inside
        .iter()
        .copied()
        .filter(|r| r.period_type == unit.kind && r.start == start)
        .collect();
    let chosen: Vec<&&ViewRow> = if !exact.is_empty() {
        exact
    } else {
        let sub = inside
            .iter()
            .map(|r| r.period_type)
            .filter(|t| t.rank() > unit.kind.rank())
            .min_by_key(|t| t.rank())?;
        let of_type: Vec<&&ViewRow> = inside
            .iter()
            .copied()
            .filter(|r| r.period_type == sub)
            .collect();
        match kind {
            Kind::Flow => {
                // Rows of one key hold distinct periods (or count them when summed per type).
                let covered: u32 = of_type.iter().map(|r| r.periods).sum();
                if covered < unit.kind.months() / sub.months() {
                    return None;
                }
                of_type
            }
            Kind::Stock | Kind::Amount => {
                let last = of_type.iter().map(|r| r.start).max()?;
                of_type.into_iter().filter(|r| r.start == last).collect()
            }
            _ => of_type,
        }
    };
    let mut cell = Cell {
        published: true,
        ..Default::default()
    };
    for r in chosen {
        cell.acc.merge(&r.acc);
        cell.published &= r.published;
    }
    Some(cell)
}

/// Combine one key's cells over several units (a span of years) the way the kind combines
/// across periods: flows sum (every unit required), stocks take the last, the rest pool.
pub fn combine_units(kind: Kind, cells: &[Option<Cell>]) -> Option<Cell> {
    match kind {
        Kind::Flow => {
            let mut out = Cell {
                published: true,
                ..Default::default()
            };
            for c in cells {
                let c = c.as_ref()?;
                out.acc.merge(&c.acc);
                out.published &= c.published;
            }
            Some(out)
        }
        Kind::Stock | Kind::Amount => cells.iter().rev().find_map(|c| *c),
        _ => {
            let mut out: Option<Cell> = None;
            for c in cells.iter().flatten() {
                let o = out.get_or_insert(Cell {
                    published: true,
                    ..Default::default()
                });
                o.acc.merge(&c.acc);
                o.published &= c.published;
            }
            out
        }
    }
}

/// Group rows by organisation.
pub fn by_organisation(rows: &[ViewRow]) -> HashMap<i64, Vec<&ViewRow>> {
    let mut m: HashMap<i64, Vec<&ViewRow>> = HashMap::new();
    for r in rows {
        m.entry(r.organisation).or_default().push(r);
    }
    m
}

/// One value of one contributor (organisation) in a group.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub organisation: i64,
    pub cell: Cell,
}

crate::text_enum! {
    /// Why a value is withheld or flagged.
    pub enum Flag {
        /// Rests on fewer organisations than k.
        FewOrganisations = "few_organisations",
        /// A survey aggregate on fewer respondents than the minimum.
        SmallSample = "small_sample",
    }
}

/// An aggregated value with what is behind it.
#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Aggregate {
    /// The pooled value per the indicator's kind; null when withheld or not computable.
    pub value: Option<f64>,
    /// Organisations behind the value.
    pub organisations: i64,
    /// Ratios: the summed numerator and denominator.
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    /// Surveys: respondents behind the value.
    pub respondents: Option<i64>,
    /// Mean durations: cases behind the value.
    pub cases: Option<i64>,
    /// Per-organisation values: quartiles and median (min and max only when every value
    /// behind them is visible to the caller).
    pub distribution: Option<Distribution>,
    pub suppressed: bool,
    /// Why the value is withheld, when it is.
    pub suppression_reason: Option<Flag>,
    /// Warnings about reliability (also for the Associatie, who sees everything).
    pub flags: Vec<Flag>,
}

/// Pool the members' cells and apply what the audience may see.
pub fn aggregate(kind: Kind, members: &[Member], audience: Audience, t: Thresholds) -> Aggregate {
    let mut acc = Acc::default();
    let mut values = Vec::with_capacity(members.len());
    let mut hidden = 0usize;
    for m in members {
        acc.merge(&m.cell.acc);
        if let Some(v) = m.cell.acc.value(kind) {
            values.push(v);
        }
        if !audience.sees(m.organisation, m.cell.published) {
            hidden += 1;
        }
    }
    let n = members.len();
    let mut flags = Vec::new();
    if n < t.min_organisations {
        flags.push(Flag::FewOrganisations);
    }
    if kind == Kind::Survey && acc.weight < t.min_respondents {
        flags.push(Flag::SmallSample);
    }
    // Figures the caller may not see individually must be hidden among at least k: otherwise
    // one organisation's figure could be read (or subtracted) from the aggregate.
    let suppression = match audience {
        Audience::Full => None,
        _ if hidden > 0 && hidden < t.min_organisations => Some(Flag::FewOrganisations),
        Audience::Public if flags.contains(&Flag::SmallSample) => Some(Flag::SmallSample),
        _ => None,
    };
    let mut distribution = stats::distribution(&values);
    if audience != Audience::Full
        && hidden > 0
        && let Some(d) = distribution.as_mut()
    {
        d.min = None;
        d.max = None;
    }
    let show = suppression.is_none();
    Aggregate {
        value: acc.value(kind).filter(|_| show),
        organisations: n as i64,
        numerator: (kind == Kind::Ratio && show).then_some(acc.numerator),
        denominator: (kind == Kind::Ratio && show).then_some(acc.denominator),
        respondents: (kind == Kind::Survey && show).then_some(acc.weight),
        cases: (kind == Kind::MeanDuration && show).then_some(acc.weight),
        distribution: distribution.filter(|_| show),
        suppressed: !show,
        suppression_reason: suppression,
        flags,
    }
}

/// The period units of a span: one period, or the years `from..=to`.
pub fn units_of(
    period: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<Vec<Period>> {
    let parse = |field: &str, raw: &str| {
        Period::parse(raw).map_err(|e| AppError::validation(field, "invalid_period", e))
    };
    match (
        period.filter(|p| !p.trim().is_empty()),
        from.filter(|p| !p.trim().is_empty()),
        to.filter(|p| !p.trim().is_empty()),
    ) {
        (Some(p), None, None) => Ok(vec![parse("period", p)?]),
        (None, Some(f), Some(t)) => {
            let (f, t) = (parse("from", f)?, parse("to", t)?);
            years_between(f, t)
        }
        (None, Some(f), None) => Ok(vec![parse("from", f)?]),
        (None, None, _) => Err(AppError::validation(
            "period",
            "missing_period",
            "give period (e.g. 2023, 2023-Q2) or from and to (years)",
        )),
        _ => Err(AppError::validation(
            "period",
            "invalid_combination",
            "give either period or from/to, not both",
        )),
    }
}

/// Years from `f` to `t` inclusive (both must be years, at most 30).
pub fn years_between(f: Period, t: Period) -> AppResult<Vec<Period>> {
    for (field, p) in [("from", f), ("to", t)] {
        if Period::new(p.year, p.kind, p.index).is_none() {
            return Err(AppError::validation(
                field,
                "invalid_period",
                format!(
                    "a year between {} and {}",
                    crate::period::MIN_YEAR,
                    crate::period::MAX_YEAR
                ),
            ));
        }
    }
    if f.kind != PeriodType::Year || t.kind != PeriodType::Year {
        return Err(AppError::validation(
            "from",
            "invalid_period",
            "from and to are years (e.g. 2017)",
        ));
    }
    if t.year < f.year || t.year - f.year > 30 {
        return Err(AppError::validation(
            "to",
            "invalid_period",
            "to must be 0-30 years after from",
        ));
    }
    Ok((f.year..=t.year).map(Period::year).collect())
}

/// Everything a view needs besides the database and its query.
#[derive(Clone, Copy)]
pub struct ViewContext<'a> {
    pub catalogue: &'a Catalogue,
    pub reference: &'a Reference,
    pub audience: Audience,
    pub thresholds: Thresholds,
    pub cache: &'a cache::ViewCache,
}

impl<'a> ViewContext<'a> {
    pub fn new(state: &'a crate::app::AppState, caller: &Caller) -> Self {
        let v = &state.config.views;
        ViewContext {
            catalogue: &state.catalogue,
            reference: &state.reference,
            audience: Audience::of(caller),
            thresholds: Thresholds {
                min_organisations: v.min_organisations.max(1),
                min_respondents: v.min_respondents.max(0),
            },
            cache: &state.view_cache,
        }
    }

    /// A view for this audience, from the cache at the current data version or computed.
    pub fn cached<T, Q>(
        &self,
        conn: &mut DbConn,
        view: &str,
        query: &Q,
        compute: impl FnOnce(&mut DbConn) -> AppResult<T>,
    ) -> AppResult<std::sync::Arc<T>>
    where
        T: Send + Sync + 'static,
        Q: std::fmt::Debug,
    {
        let key = format!("{view}|{:?}|{:?}", self.audience, query);
        self.cache.get_or_compute(conn, key, compute)
    }

    /// The organisations, cached per data version (their characteristics are part of it),
    /// also when the view cache is off.
    pub fn organisations(
        &self,
        conn: &mut DbConn,
    ) -> AppResult<std::sync::Arc<HashMap<i64, OrgInfo>>> {
        self.cache
            .organisations(conn, |conn| load_organisations(conn, self.reference))
    }
}
