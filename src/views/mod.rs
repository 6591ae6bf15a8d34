//! Cross-municipal views: aggregates, trends, benchmarks, completeness and per-municipality
//! values, computed per kind of figure (see [`stats`]) from the counted revisions only.
//!
//! The path is the same for every view: fetch the counted figures of one indicator in a date
//! range (one indexed query), roll them up per organisation and period unit (exact period if
//! reported, else the sub-periods: flows need every sub-period, stocks take the last), group and
//! pool. The Associatie gets the result as computed; everyone else gets the cells of the
//! protected table family of the indicator and year ([`protect`], [`crate::disclosure`]).

pub mod aggregate;
pub mod benchmark;
pub mod cache;
pub mod completeness;
pub mod csv;
pub mod municipalities;
pub mod protect;
pub mod stats;
pub mod table;
pub mod trend;

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use crate::auth::{Caller, Role};
use crate::catalogue::{Catalogue, Indicator, Kind};
use crate::db::schema::{organisation_municipalities, organisations};
use crate::db::{DbConn, LazyConn};
use crate::disclosure::{ConfStatus, Policy, Reason};
use crate::error::{AppError, AppResult};
use crate::period::{Period, PeriodType};
use crate::registry::{OrgForm, OrgSizeClass, Reference, TeamType};
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

crate::text_enum! {
    /// "Provides help itself", as a group.
    pub enum HelpGroup {
        Yes = "yes",
        No = "no",
        Unknown = "unknown",
        /// Wmo-only teams: the measure exists only for youth help (the share of ambulatory
        /// youth help the team delivers), so it does not apply to them.
        NotApplicable = "not_applicable",
    }
}

impl HelpGroup {
    /// The group of an organisation: not applicable to wmo-only teams, else its registry value.
    pub fn of(team_type: TeamType, provides_help: Option<bool>) -> HelpGroup {
        match (team_type, provides_help) {
            (TeamType::Wmo, _) => HelpGroup::NotApplicable,
            (_, Some(true)) => HelpGroup::Yes,
            (_, Some(false)) => HelpGroup::No,
            (_, None) => HelpGroup::Unknown,
        }
    }
}

crate::text_enum! {
    /// How the figures of several organisations make up a cell's `value`.
    pub enum Pooling {
        /// Summed (flows, stocks, amounts of additive indicators).
        Sum = "sum",
        /// Sum of numerators over sum of denominators (ratios).
        RatioOfSums = "ratio_of_sums",
        /// Mean weighted by respondents (surveys) or cases (mean durations).
        WeightedMean = "weighted_mean",
        /// Not combined: the indicator is not additive across organisations (distinct residents
        /// or households, amounts per resident). `value` is null unless one organisation is
        /// behind the cell; `organisations` and `distribution` (the quartiles of the
        /// per-organisation values) describe it.
        Distribution = "distribution",
    }
}

impl Pooling {
    /// The pooling of a kind of figure when it may be combined.
    pub fn of_kind(kind: Kind) -> Pooling {
        match kind {
            Kind::Flow | Kind::Stock | Kind::Amount => Pooling::Sum,
            Kind::Ratio => Pooling::RatioOfSums,
            Kind::Survey | Kind::MeanDuration => Pooling::WeightedMean,
        }
    }

    /// Whether cells pool their figures into one value.
    pub fn pools(self) -> bool {
        self != Pooling::Distribution
    }
}

/// How a view combines the figures of one indicator: its kind, and whether (and how) figures of
/// several organisations may be pooled. The one place that decides a shown value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Combine {
    pub kind: Kind,
    pub pooling: Pooling,
    /// Whether the indicator may be combined across organisations at all.
    pub additive: bool,
    /// An amount per resident: an organisation's figures for several municipalities are
    /// averaged, never summed.
    pub per_resident: bool,
}

impl Combine {
    /// The combination for an indicator whose figures of `versions` a view reads. An
    /// indicator is additive only if every version defining it says so: a later version's
    /// correction (`additive = false`) holds for the figures posted under earlier ones too, as
    /// they measure the same. `requested` (the `pooling` parameter) may ask for the
    /// distribution only, or name the indicator's own pooling; asking a non-additive indicator
    /// for a sum (or any pooled value) is refused with `not_additive`, naming `field`.
    pub fn of(
        catalogue: &Catalogue,
        ind: &Indicator,
        versions: &[String],
        requested: Option<Pooling>,
        field: &str,
    ) -> AppResult<Combine> {
        let additive = ind.additive
            && versions
                .iter()
                .all(|v| catalogue.indicator(v, &ind.code).is_none_or(|i| i.additive));
        let across = if additive {
            ind.across_organisations.clone()
        } else {
            crate::catalogue::across_organisations(ind.kind, ind.unit, false).to_owned()
        };
        let own = if additive {
            Pooling::of_kind(ind.kind)
        } else {
            Pooling::Distribution
        };
        let pooling = match requested {
            None => own,
            Some(Pooling::Distribution) => Pooling::Distribution,
            Some(p) if !additive => {
                return Err(AppError::validation(
                    field,
                    "not_additive",
                    format!(
                        "{}: figures of different organisations may not be combined ({} requested): {}. Use pooling=distribution (the default for this \
                         indicator) for the number of organisations and the quartiles of their values",
                        ind.code, p, across
                    ),
                ));
            }
            Some(p) if p != own => {
                return Err(AppError::validation(
                    field,
                    "invalid_pooling",
                    format!(
                        "{}: figures of kind {} pool as {own} (or use distribution), not {p}",
                        ind.code, ind.kind
                    ),
                ));
            }
            Some(p) => p,
        };
        Ok(Combine {
            kind: ind.kind,
            pooling,
            additive,
            per_resident: ind.unit == crate::catalogue::Unit::EuroPerResident,
        })
    }

    /// The indicator as a view shows it: with the additivity (and rule across organisations)
    /// the view applies.
    pub fn indicator_ref(&self, ind: &Indicator) -> IndicatorRef {
        let mut r = IndicatorRef::of(ind);
        if !self.additive {
            r.additive = false;
            r.across_organisations =
                crate::catalogue::across_organisations(ind.kind, ind.unit, false).to_owned();
        }
        r
    }

    /// One organisation's value from its rolled-up figures.
    pub fn member_value(&self, acc: &Acc) -> Option<f64> {
        if self.per_resident && self.kind == Kind::Amount {
            return (acc.figures > 0).then(|| acc.sum / acc.figures as f64);
        }
        acc.value(self.kind)
    }

    /// The value shown for a cell of `members` organisations: pooled, or (not additive) the one
    /// organisation's value when it is alone, else nothing.
    pub fn cell_value(&self, acc: &Acc, members: usize) -> Option<f64> {
        if self.pooling.pools() {
            acc.value(self.kind)
        } else if members == 1 {
            self.member_value(acc)
        } else {
            None
        }
    }

    /// Whether the pooled components (numerator and denominator, respondents, cases) are shown.
    fn shows(&self, kind: Kind) -> bool {
        self.kind == kind && self.pooling.pools()
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
    /// Whether residents can register themselves (zelfmelders).
    SelfRegistration,
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
            "selfregistration" => GroupDim::SelfRegistration,
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
            GroupDim::SelfRegistration => "selfRegistration",
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
                         providesHelp, orgForm, selfRegistration, year"
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
    pub size_class: Option<OrgSizeClass>,
    pub province: Option<String>,
    pub provides_help: Option<HelpGroup>,
    pub org_form: Option<OrgForm>,
    pub self_registration: Option<bool>,
    pub year: Option<i32>,
}

impl Group {
    /// The same group with only `dims` kept (the cell of a coarser table holding it).
    pub fn project(&self, dims: &[GroupDim]) -> Group {
        let mut g = Group::default();
        for d in dims {
            match d {
                GroupDim::TeamType => g.team_type = self.team_type,
                GroupDim::SizeClass => g.size_class = self.size_class,
                GroupDim::Province => g.province = self.province.clone(),
                GroupDim::ProvidesHelp => g.provides_help = self.provides_help,
                GroupDim::OrgForm => g.org_form = self.org_form,
                GroupDim::SelfRegistration => g.self_registration = self.self_registration,
                GroupDim::Year => g.year = self.year,
            }
        }
        g
    }

    /// Set the dimensions a filter fixes.
    pub fn with_filter(mut self, f: &ViewFilter) -> Group {
        if f.team_type.is_some() {
            self.team_type = f.team_type;
        }
        if f.size_class.is_some() {
            self.size_class = f.size_class;
        }
        if f.province.is_some() {
            self.province = f.province.clone();
        }
        if f.provides_help.is_some() {
            self.provides_help = f.provides_help;
        }
        if f.org_form.is_some() {
            self.org_form = f.org_form;
        }
        if f.self_registration.is_some() {
            self.self_registration = f.self_registration;
        }
        self
    }
}

/// Restrict a view to organisations with these characteristics.
#[derive(Debug, Clone, Default)]
pub struct ViewFilter {
    pub team_type: Option<TeamType>,
    pub size_class: Option<OrgSizeClass>,
    pub province: Option<String>,
    pub provides_help: Option<HelpGroup>,
    pub org_form: Option<OrgForm>,
    pub self_registration: Option<bool>,
}

impl ViewFilter {
    /// The filter selecting a group's organisations (its set dimensions, year ignored).
    pub fn with(mut self, g: &Group) -> ViewFilter {
        self.team_type = g.team_type.or(self.team_type);
        self.size_class = g.size_class.or(self.size_class);
        self.province = g.province.clone().or(self.province);
        self.provides_help = g.provides_help.or(self.provides_help);
        self.org_form = g.org_form.or(self.org_form);
        self.self_registration = g.self_registration.or(self.self_registration);
        self
    }

    /// The dimensions the filter fixes.
    pub fn dims(&self) -> Vec<GroupDim> {
        let mut d = Vec::new();
        if self.team_type.is_some() {
            d.push(GroupDim::TeamType);
        }
        if self.size_class.is_some() {
            d.push(GroupDim::SizeClass);
        }
        if self.province.is_some() {
            d.push(GroupDim::Province);
        }
        if self.provides_help.is_some() {
            d.push(GroupDim::ProvidesHelp);
        }
        if self.org_form.is_some() {
            d.push(GroupDim::OrgForm);
        }
        if self.self_registration.is_some() {
            d.push(GroupDim::SelfRegistration);
        }
        d
    }
}

/// What a view needs to know about an organisation.
#[derive(Debug, Clone)]
pub struct OrgInfo {
    pub id: i64,
    pub name: String,
    pub team_type: TeamType,
    pub org_form: OrgForm,
    pub provides_help: HelpGroup,
    pub size_class: Option<OrgSizeClass>,
    pub province: Option<String>,
    pub self_registration: bool,
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
                GroupDim::SelfRegistration => g.self_registration = Some(self.self_registration),
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
            && f.self_registration
                .is_none_or(|s| s == self.self_registration)
    }
}

pub fn load_organisations(
    conn: &mut DbConn,
    reference: &Reference,
) -> AppResult<HashMap<i64, OrgInfo>> {
    type Row = (
        i64,
        String,
        String,
        String,
        Option<bool>,
        String,
        bool,
        bool,
    );
    let rows: Vec<Row> = organisations::table
        .select((
            organisations::id,
            organisations::name,
            organisations::team_type,
            organisations::org_form,
            organisations::provides_help,
            organisations::primary_municipality,
            organisations::self_registration,
            organisations::active,
        ))
        .load(conn)?;
    let mut served: HashMap<i64, Vec<(String, Option<NaiveDate>)>> = HashMap::new();
    for (org, code, to) in organisation_municipalities::table
        .select((
            organisation_municipalities::organisation_id,
            organisation_municipalities::municipality_code,
            organisation_municipalities::valid_to,
        ))
        .load::<(i64, String, Option<NaiveDate>)>(conn)?
    {
        served.entry(org).or_default().push((code, to));
    }
    rows.into_iter()
        .map(
            |(id, name, team_type, org_form, help, primary, self_registration, active)| {
                let m = reference.municipality(&primary);
                let team_type: TeamType = team_type.parse().map_err(AppError::internal)?;
                let regional = crate::registry::organisations::is_regional(
                    served
                        .get(&id)
                        .into_iter()
                        .flatten()
                        .map(|(c, to)| (c.as_str(), *to)),
                );
                Ok((
                    id,
                    OrgInfo {
                        id,
                        name,
                        team_type,
                        org_form: org_form.parse().map_err(AppError::internal)?,
                        provides_help: HelpGroup::of(team_type, help),
                        size_class: crate::registry::organisations::size_class_of(
                            reference, &primary, regional,
                        ),
                        province: m.map(|m| m.province.clone()),
                        self_registration,
                        active,
                    },
                ))
            },
        )
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
    /// Whether figures of different organisations may be combined (false: views show the
    /// distribution of the per-organisation values, never a sum).
    pub additive: bool,
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
            additive: i.additive,
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

/// The components of a rolled-up row, as [`Acc`] keeps them for the kind.
#[allow(clippy::too_many_arguments)]
fn acc_of(
    kind: Kind,
    sum: Option<f64>,
    numerator: Option<i64>,
    denominator: Option<i64>,
    respondents_weighted: Option<f64>,
    respondents: Option<i64>,
    cases_weighted: Option<f64>,
    cases: Option<i64>,
    figures: i64,
) -> Acc {
    let (weighted, weight) = match kind {
        Kind::Survey => (
            respondents_weighted.unwrap_or(0.0),
            respondents.unwrap_or(0),
        ),
        Kind::MeanDuration => (cases_weighted.unwrap_or(0.0), cases.unwrap_or(0)),
        _ => (0.0, 0),
    };
    Acc {
        sum: sum.unwrap_or(0.0),
        numerator: numerator.unwrap_or(0),
        denominator: denominator.unwrap_or(0),
        weighted,
        weight,
        figures: figures.max(0) as usize,
    }
}

/// A statement on the roll-ups: organisation, period type, then `$select` (period start, how
/// many periods the row sums, municipality or ''), `$sums` (the columns [`acc_of`] takes),
/// the publication level; for one indicator, catalogue versions and the periods in a range.
macro_rules! rollup_sql {
    ($select:literal, kind $kind:ident, $group:literal) => {
        rollup_sql!($select, kind_sums!($kind), $group)
    };
    ($select:literal, $sums:expr, $group:literal) => {
        concat!(
            "SELECT organisation_id, period_type, ",
            $select,
            ", ",
            $sums,
            ", publication FROM figure_rollups WHERE indicator = ? AND period_start >= ? \
             AND period_start <= ? AND period_end <= ? AND catalogue_version ?",
            $group
        )
    };
}

/// The sums of the roll-up columns [`acc_of`] takes, for the kinds whose figures have them:
/// `plain` (flows, stocks, amounts: values), `ratio` (numerators and denominators), `survey`
/// (respondents), `mean` (cases); the columns a kind's figures never have are NULL.
macro_rules! kind_sums {
    (plain) => {
        "SUM(value_sum), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), \
         CAST(NULL AS DOUBLE PRECISION), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE PRECISION), \
         CAST(NULL AS BIGINT), CAST(SUM(figures) AS BIGINT)"
    };
    (ratio) => {
        "SUM(value_sum), CAST(SUM(numerator) AS BIGINT), CAST(SUM(denominator) AS BIGINT), \
         CAST(NULL AS DOUBLE PRECISION), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE PRECISION), \
         CAST(NULL AS BIGINT), CAST(SUM(figures) AS BIGINT)"
    };
    (survey) => {
        "SUM(value_sum), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), \
         SUM(respondents_weighted), CAST(SUM(respondents) AS BIGINT), \
         CAST(NULL AS DOUBLE PRECISION), CAST(NULL AS BIGINT), CAST(SUM(figures) AS BIGINT)"
    };
    (mean) => {
        "SUM(value_sum), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), \
         CAST(NULL AS DOUBLE PRECISION), CAST(NULL AS BIGINT), SUM(cases_weighted), \
         CAST(SUM(cases) AS BIGINT), CAST(SUM(figures) AS BIGINT)"
    };
}

/// Which of the per-kind statements (in the order of [`kind_sums`]) serves a kind.
fn kind_index(kind: Kind) -> usize {
    match kind {
        Kind::Flow | Kind::Stock | Kind::Amount => 0,
        Kind::Ratio => 1,
        Kind::Survey => 2,
        Kind::MeanDuration => 3,
    }
}

/// SQL types of a roll-up row as [`fetch`] and [`fetch_summed`] select it.
type RollupRowSql = (
    diesel::sql_types::BigInt,
    diesel::sql_types::Text,
    diesel::sql_types::Date,
    diesel::sql_types::BigInt,
    diesel::sql_types::Text,
    diesel::sql_types::Nullable<diesel::sql_types::Double>,
    diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
    diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
    diesel::sql_types::Nullable<diesel::sql_types::Double>,
    diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
    diesel::sql_types::Nullable<diesel::sql_types::Double>,
    diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
    diesel::sql_types::BigInt,
    diesel::sql_types::Text,
);
type RollupRow = (
    i64,
    String,
    NaiveDate,
    i64,
    String,
    Option<f64>,
    Option<i64>,
    Option<i64>,
    Option<f64>,
    Option<i64>,
    Option<f64>,
    Option<i64>,
    i64,
    String,
);

/// Run one of the fixed roll-up statements for an indicator, its catalogue versions and the
/// periods inside `[from, to]`: prepared once per connection ([`crate::db::prepared`]).
fn rollup_rows(
    conn: &mut DbConn,
    sql: &'static str,
    indicator: &str,
    versions: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<RollupRow>> {
    use crate::db::prepared::{Bind, Fixed};
    let query = Fixed::<RollupRowSql>::new(
        sql,
        vec![
            Bind::Text(indicator.to_owned()),
            Bind::Date(from),
            Bind::Date(to),
            Bind::Date(to),
            Bind::text_in(versions),
        ],
    );
    Ok(crate::with_conn!(conn, |c| query.load::<RollupRow>(c))?)
}

/// Counted figures of one indicator with periods inside `[from, to]`, per organisation, period,
/// municipality and publication level: the roll-ups ([`crate::rollups`]), as they are.
pub fn fetch(
    conn: &mut DbConn,
    kind: Kind,
    indicator: &str,
    versions: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<ViewRow>> {
    const SQL: &str = rollup_sql!(
        "period_start, CAST(1 AS BIGINT), municipality",
        "value_sum, numerator, denominator, respondents_weighted, respondents, cases_weighted, \
         cases, figures",
        ""
    );
    rollup_rows(conn, SQL, indicator, versions, from, to)?
        .into_iter()
        .map(
            |(org, pt, start, _, muni, a, b, c, d, e, f, g, n, publication)| {
                Ok(ViewRow {
                    organisation: org,
                    period_type: period_type(&pt)?,
                    start,
                    periods: 1,
                    municipality: Some(muni).filter(|m| !m.is_empty()),
                    acc: acc_of(kind, a, b, c, d, e, f, g, n),
                    published: publication == "openbaar",
                })
            },
        )
        .collect()
}

fn period_type(s: &str) -> AppResult<PeriodType> {
    PeriodType::parse(s).ok_or_else(|| AppError::internal(format!("period type {s}")))
}

/// Like [`fetch`], but summed by the database for the unit periods of a view (consecutive,
/// of one type): per organisation and publication level, and per period, or, when `per_type`
/// (one unit, and a kind that does not take the last value), per period type. A row's
/// `periods` is how many distinct periods it sums (only flows need to know whether every
/// sub-period is there), its `start` the latest one's.
///
/// Whole years of kinds that sum (not stocks and amounts, which take the last period) come from
/// the year roll-ups: per organisation, year and period type, a few hundred rows per indicator
/// and year, already summed over municipalities and sub-periods. [`rollup`] treats such a row as
/// the sum of its periods, which is what it makes of them one by one.
pub fn fetch_summed(
    conn: &mut DbConn,
    kind: Kind,
    indicator: &str,
    versions: &[String],
    units: &[Period],
    per_type: bool,
) -> AppResult<Vec<ViewRow>> {
    let (Some(first), Some(last)) = (units.first(), units.last()) else {
        return Ok(Vec::new());
    };
    let sums = !matches!(kind, Kind::Stock | Kind::Amount);
    if sums && units.iter().all(|u| u.kind == PeriodType::Year) {
        return fetch_years(conn, kind, indicator, versions, first.year, last.year);
    }
    // Per kind, only the sums its figures have (the others are NULL in every figure of the
    // kind: validation sees to that); each text is prepared once per connection.
    macro_rules! by_kind {
        ($select:literal, $group:literal) => {
            [
                rollup_sql!($select, kind plain, $group),
                rollup_sql!($select, kind ratio, $group),
                rollup_sql!($select, kind survey, $group),
                rollup_sql!($select, kind mean, $group),
            ]
        };
    }
    // Per organisation and period type: only for kinds that need not count their periods
    // (flows do, and a sort for COUNT(DISTINCT) costs more than returning their few periods).
    const PER_TYPE: [&str; 4] = by_kind!(
        "MAX(period_start), CAST(1 AS BIGINT), ''",
        " GROUP BY organisation_id, period_type, publication"
    );
    const PER_PERIOD: [&str; 4] = by_kind!(
        "period_start, CAST(1 AS BIGINT), ''",
        " GROUP BY organisation_id, period_type, period_start, publication"
    );
    let per_type = per_type && !matches!(kind, Kind::Flow | Kind::Stock | Kind::Amount);
    let sql = if per_type { PER_TYPE } else { PER_PERIOD }[kind_index(kind)];
    rollup_rows(conn, sql, indicator, versions, first.start(), last.end())?
        .into_iter()
        .map(|row| view_row(kind, row))
        .collect()
}

/// The year roll-ups of an indicator for the years `[from, to]`.
fn fetch_years(
    conn: &mut DbConn,
    kind: Kind,
    indicator: &str,
    versions: &[String],
    from: i32,
    to: i32,
) -> AppResult<Vec<ViewRow>> {
    use crate::db::prepared::{Bind, Fixed};
    macro_rules! years {
        ($columns:literal) => {
            concat!(
                "SELECT organisation_id, period_type, last_start, periods, '', ",
                $columns,
                ", publication FROM figure_rollup_years \
                 WHERE indicator = ? AND year >= ? AND year <= ? AND catalogue_version ?"
            )
        };
    }
    const SQL: [&str; 4] = [
        years!(
            "value_sum, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE PRECISION), \
             CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE PRECISION), CAST(NULL AS BIGINT), figures"
        ),
        years!(
            "value_sum, numerator, denominator, CAST(NULL AS DOUBLE PRECISION), \
             CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE PRECISION), CAST(NULL AS BIGINT), figures"
        ),
        years!(
            "value_sum, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), respondents_weighted, \
             respondents, CAST(NULL AS DOUBLE PRECISION), CAST(NULL AS BIGINT), figures"
        ),
        years!(
            "value_sum, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE PRECISION), \
             CAST(NULL AS BIGINT), cases_weighted, cases, figures"
        ),
    ];
    let sql = SQL[kind_index(kind)];
    let query = Fixed::<RollupRowSql>::new(
        sql,
        vec![
            Bind::Text(indicator.to_owned()),
            Bind::Int(from),
            Bind::Int(to),
            Bind::text_in(versions),
        ],
    );
    crate::with_conn!(conn, |c| query.load::<RollupRow>(c))?
        .into_iter()
        .map(|row| view_row(kind, row))
        .collect()
}

/// A summed roll-up row as views read it.
fn view_row(kind: Kind, row: RollupRow) -> AppResult<ViewRow> {
    let (org, pt, start, periods, _, a, b, c, d, e, f, g, n, publication) = row;
    Ok(ViewRow {
        organisation: org,
        period_type: period_type(&pt)?,
        start,
        periods: periods.max(1) as u32,
        municipality: None,
        acc: acc_of(kind, a, b, c, d, e, f, g, n),
        published: publication == "openbaar",
    })
}

/// The figures of one key (an organisation, or organisation x municipality) for one unit
/// period, rolled up.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cell {
    /// Every figure behind it.
    pub acc: Acc,
    /// The part of `acc` from figures that are not published (publication level associatie).
    pub hidden: Acc,
}

impl Cell {
    /// Every figure behind it is published (openbaar).
    pub fn published(&self) -> bool {
        self.hidden.figures == 0
    }

    fn add(&mut self, acc: &Acc, published: bool) {
        self.acc.merge(acc);
        if !published {
            self.hidden.merge(acc);
        }
    }

    fn merge(&mut self, other: &Cell) {
        self.acc.merge(&other.acc);
        self.hidden.merge(&other.hidden);
    }
}

/// Roll up one key's figures for `unit`: the figures for exactly that period if there are any;
/// otherwise those of the coarsest sub-period type present, where flows need every sub-period
/// and stocks and amounts take the last one. `None` when nothing (complete) is there.
pub fn rollup(kind: Kind, rows: &[&ViewRow], unit: Period) -> Option<Cell> {
    // A view computes this for every organisation and unit: no allocation, the few rows of one
    // organisation are walked again instead.
    let (start, end) = (unit.start(), unit.end());
    let inside = || {
        rows.iter()
            .copied()
            .filter(move |r| r.start >= start && r.start <= end)
    };
    let mut cell = Cell::default();
    let mut exact = false;
    for r in inside().filter(|r| r.period_type == unit.kind && r.start == start) {
        cell.add(&r.acc, r.published);
        exact = true;
    }
    if exact {
        return Some(cell);
    }
    // None inside the unit, or none of a finer type: no value.
    let sub = inside()
        .map(|r| r.period_type)
        .filter(|t| t.rank() > unit.kind.rank())
        .min_by_key(|t| t.rank())?;
    let of_type = || inside().filter(move |r| r.period_type == sub);
    let last = match kind {
        Kind::Flow => {
            // Rows of one key hold distinct periods (or count them when summed per type).
            let covered: u32 = of_type().map(|r| r.periods).sum();
            if covered < unit.kind.months() / sub.months() {
                return None;
            }
            None
        }
        Kind::Stock | Kind::Amount => Some(of_type().map(|r| r.start).max()?),
        _ => None,
    };
    for r in of_type().filter(|r| last.is_none_or(|l| r.start == l)) {
        cell.add(&r.acc, r.published);
    }
    Some(cell)
}

/// Combine one key's cells over several units (a span of years) the way the kind combines
/// across periods: flows sum (every unit required), stocks take the last, the rest pool.
pub fn combine_units(kind: Kind, cells: &[Option<Cell>]) -> Option<Cell> {
    match kind {
        Kind::Flow => {
            let mut out = Cell::default();
            for c in cells {
                out.merge(c.as_ref()?);
            }
            Some(out)
        }
        Kind::Stock | Kind::Amount => cells.iter().rev().find_map(|c| *c),
        _ => {
            let mut out: Option<Cell> = None;
            for c in cells.iter().flatten() {
                out.get_or_insert_with(Cell::default).merge(c);
            }
            out
        }
    }
}

/// Group rows by organisation.
pub fn by_organisation(rows: &[ViewRow]) -> ByOrganisation<'_> {
    let mut sorted: Vec<&ViewRow> = rows.iter().collect();
    // Stable: each organisation's rows keep their order.
    sorted.sort_by_key(|r| r.organisation);
    ByOrganisation { sorted }
}

/// Rows grouped by organisation, in the order of the organisations' ids.
pub struct ByOrganisation<'a> {
    sorted: Vec<&'a ViewRow>,
}

impl<'a> ByOrganisation<'a> {
    /// Each organisation with its rows.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &[&'a ViewRow])> {
        self.sorted
            .chunk_by(|a, b| a.organisation == b.organisation)
            .map(|rows| (rows[0].organisation, rows))
    }
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
        /// Rests on fewer organisations than k (withheld: too few organisations the caller may
        /// not see individually).
        FewOrganisations = "few_organisations",
        /// A survey aggregate on fewer respondents than the minimum.
        SmallSample = "small_sample",
        /// Withheld by the p% rule: one organisation dominates the value.
        Dominance = "dominance",
        /// Withheld so that another withheld value cannot be derived from it.
        Secondary = "secondary",
        /// Not part of the tables published to this caller (e.g. a total over several years).
        NotPublished = "not_published",
    }
}

impl Flag {
    pub fn of(reason: Reason) -> Flag {
        match reason {
            Reason::FewContributors => Flag::FewOrganisations,
            Reason::SmallSample => Flag::SmallSample,
            Reason::Dominance => Flag::Dominance,
            Reason::Secondary => Flag::Secondary,
        }
    }
}

/// What the public gets of a cell: its status and, when withheld, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicStatus {
    pub status: ConfStatus,
    pub reason: Option<Flag>,
}

impl PublicStatus {
    pub const NOT_PUBLISHED: PublicStatus = PublicStatus {
        status: ConfStatus::N,
        reason: Some(Flag::NotPublished),
    };

    pub fn of(cell: &protect::FamilyCell) -> PublicStatus {
        PublicStatus {
            status: cell.status(),
            reason: cell.withheld.map(Flag::of),
        }
    }
}

/// An aggregated value with what is behind it.
#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Aggregate {
    /// The pooled value per the indicator's kind; null when withheld or not computable.
    pub value: Option<f64>,
    /// Organisations behind the value; null when withheld.
    pub organisations: Option<i64>,
    /// Ratios: the summed numerator and denominator.
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    /// Surveys: respondents behind the value.
    pub respondents: Option<i64>,
    /// Mean durations: cases behind the value.
    pub cases: Option<i64>,
    /// Per-organisation values: quartiles and median, min and max. For callers other than the
    /// Associatie: only over at least 10 organisations whose figures they may not see (or none
    /// such), and min and max only when every value behind them is visible to them.
    pub distribution: Option<Distribution>,
    /// True when the value is withheld from this caller.
    pub suppressed: bool,
    /// Why the value is withheld, when it is.
    pub suppression_reason: Option<Flag>,
    /// SDMX-style confidentiality status of this answer (CL_CONF_STATUS): `F` shown; withheld
    /// `A` (too few organisations or respondents), `M` (p% rule: one organisation dominates),
    /// `D` (secondary suppression), `N` (not published to this caller).
    pub conf_status: ConfStatus,
    /// What the public gets for the same cell (for the Associatie: what it publishes).
    pub public_conf_status: ConfStatus,
    /// Why the public does not get the value, when it does not.
    pub public_suppression_reason: Option<Flag>,
    /// Warnings about reliability (also for the Associatie, who sees everything).
    pub flags: Vec<Flag>,
    /// How the organisations' figures make up `value`; `distribution` for indicators that are
    /// not additive across organisations (then `value` is null unless one organisation is
    /// behind it).
    pub pooling: Pooling,
}

/// The cell as the Associatie sees it: exact, with what the public gets of it.
pub fn aggregate_full(
    c: Combine,
    members: &[Member],
    policy: &Policy,
    public: PublicStatus,
) -> Aggregate {
    let kind = c.kind;
    let mut acc = Acc::default();
    let mut values = Vec::with_capacity(members.len());
    for m in members {
        acc.merge(&m.cell.acc);
        if let Some(v) = c.member_value(&m.cell.acc) {
            values.push(v);
        }
    }
    let mut flags = Vec::new();
    if members.len() < policy.k {
        flags.push(Flag::FewOrganisations);
    }
    if kind == Kind::Survey && acc.weight < policy.min_respondents {
        flags.push(Flag::SmallSample);
    }
    Aggregate {
        value: c.cell_value(&acc, members.len()),
        organisations: Some(members.len() as i64),
        numerator: c.shows(Kind::Ratio).then_some(acc.numerator),
        denominator: c.shows(Kind::Ratio).then_some(acc.denominator),
        respondents: c.shows(Kind::Survey).then_some(acc.weight),
        cases: c.shows(Kind::MeanDuration).then_some(acc.weight),
        distribution: stats::distribution(&values),
        suppressed: false,
        suppression_reason: None,
        conf_status: ConfStatus::F,
        public_conf_status: public.status,
        public_suppression_reason: public.reason,
        flags,
        pooling: c.pooling,
    }
}

/// The cell as everyone but the Associatie sees it: a cell of the protected family. A team
/// also sees a cell withheld for confidentiality when every unpublished figure in it is its own.
pub fn aggregate_public(
    c: Combine,
    cell: &protect::FamilyCell,
    audience: Audience,
    policy: &Policy,
) -> Aggregate {
    if let Some(reason) = cell.withheld {
        let status = PublicStatus {
            status: reason.status(),
            reason: Some(Flag::of(reason)),
        };
        // Only confidentiality gives way to ownership: an unreliable survey stays withheld.
        let own_only = matches!(audience, Audience::Team(own)
            if reason != Reason::SmallSample
                && cell.members.iter().all(|m| m.cell.published() || m.organisation == own));
        if own_only {
            return Aggregate {
                distribution: None,
                ..aggregate_full(c, &cell.members, policy, status)
            };
        }
        return withheld(status, c.pooling);
    }
    let acc = &cell.acc;
    let values: Vec<f64> = cell
        .members
        .iter()
        .filter_map(|m| c.member_value(&m.cell.acc))
        .collect();
    // Quartiles of a few values give the values themselves; over hidden figures they are
    // shown only from many of them, and min and max never.
    let distribution = match cell.hidden {
        0 => stats::distribution(&values),
        h if h >= policy.min_distribution => stats::distribution(&values).map(|d| Distribution {
            min: None,
            max: None,
            ..d
        }),
        _ => None,
    };
    let mut flags = Vec::new();
    if cell.members.len() < policy.k {
        flags.push(Flag::FewOrganisations);
    }
    Aggregate {
        value: c.cell_value(acc, cell.members.len()),
        organisations: Some(cell.members.len() as i64),
        numerator: c.shows(Kind::Ratio).then_some(acc.numerator),
        denominator: c.shows(Kind::Ratio).then_some(acc.denominator),
        respondents: c.shows(Kind::Survey).then_some(acc.weight),
        cases: c.shows(Kind::MeanDuration).then_some(acc.weight),
        distribution,
        suppressed: false,
        suppression_reason: None,
        conf_status: ConfStatus::F,
        public_conf_status: ConfStatus::F,
        public_suppression_reason: None,
        flags,
        pooling: c.pooling,
    }
}

/// A withheld cell: nothing but its status (no value, no count of organisations or
/// respondents: those would tell who reported).
pub fn withheld(status: PublicStatus, pooling: Pooling) -> Aggregate {
    Aggregate {
        value: None,
        organisations: None,
        numerator: None,
        denominator: None,
        respondents: None,
        cases: None,
        distribution: None,
        suppressed: true,
        suppression_reason: status.reason,
        conf_status: status.status,
        public_conf_status: status.status,
        public_suppression_reason: status.reason,
        flags: Vec::new(),
        pooling,
    }
}

/// Whether percentile ranks among a cell's members may be shown to a non-Associatie caller:
/// the same rule as quartiles.
pub fn ranks_allowed(cell: &protect::FamilyCell, policy: &Policy) -> bool {
    cell.withheld.is_none() && (cell.hidden == 0 || cell.hidden >= policy.min_distribution)
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
    pub policy: Policy,
    pub cache: &'a cache::ViewCache,
}

impl<'a> ViewContext<'a> {
    /// Whether the caller sees exact values (the Associatie).
    pub fn full(&self) -> bool {
        self.audience == Audience::Full
    }

    /// A view for this audience, from the cache while what it depends on is unchanged, or
    /// computed.
    pub fn cached<T, Q>(
        &self,
        conn: &mut LazyConn<'_>,
        view: &str,
        query: &Q,
        deps: cache::Deps,
        compute: impl FnOnce(&mut LazyConn<'_>) -> AppResult<T>,
    ) -> AppResult<std::sync::Arc<T>>
    where
        T: Send + Sync + 'static,
        Q: std::fmt::Debug,
    {
        self.cache
            .get_or_compute(conn, self.key(view, query), &deps, compute)
    }

    /// A view for this audience if the cache holds it at the versions `at`: no database, no
    /// computation (a request that can be answered without a blocking step).
    pub fn cached_only<T, Q>(
        &self,
        at: &crate::db::versions::Snapshot,
        view: &str,
        query: &Q,
        deps: cache::Deps,
    ) -> Option<std::sync::Arc<T>>
    where
        T: Send + Sync + 'static,
        Q: std::fmt::Debug,
    {
        self.cache.peek(&self.key(view, query), &deps, at)
    }

    /// The cache key of a view for this audience.
    fn key(&self, view: &str, query: &impl std::fmt::Debug) -> String {
        format!("{view}|{:?}|{:?}", self.audience, query)
    }

    /// The summed roll-ups of an indicator for the unit periods of a view ([`fetch_summed`]),
    /// kept while that indicator's figures in those years are unchanged.
    pub fn summed(
        &self,
        conn: &mut LazyConn<'_>,
        ind: &Indicator,
        versions: &[String],
        units: &[Period],
        per_type: bool,
    ) -> AppResult<std::sync::Arc<Vec<ViewRow>>> {
        let key = format!("{}|{versions:?}|{units:?}|{per_type}", ind.code);
        let deps = cache::Deps::indicator(&ind.code, units.iter().map(|u| u.year));
        self.cache.sums(conn, key, &deps, |c| {
            fetch_summed(c, ind.kind, &ind.code, versions, units, per_type)
        })
    }

    /// The organisations, cached per registry version (their characteristics are part of it),
    /// also when the view cache is off.
    pub fn organisations(
        &self,
        conn: &mut LazyConn<'_>,
    ) -> AppResult<std::sync::Arc<HashMap<i64, OrgInfo>>> {
        self.cache
            .organisations(conn, |conn| load_organisations(conn, self.reference))
    }

    /// The protected table families of an indicator for some years (cached while the registry
    /// and that year's figures are unchanged, shared by every audience and view). A family whose
    /// figures changed is rebuilt by the request that finds it when the service is quiet; while
    /// other families are being rebuilt, the older family is used (and the answer not cached)
    /// and the new one is built in the background.
    pub fn families(
        &self,
        conn: &mut LazyConn<'_>,
        ind: &Indicator,
        versions: &[String],
        years: &[i32],
    ) -> AppResult<Vec<std::sync::Arc<protect::Family>>> {
        let key = |y: i32| format!("{}|{}|{y}|{:?}", ind.code, versions.join(","), self.policy);
        let snapshot = self.cache.snapshot(conn)?;
        let stamp = |y: i32| snapshot.stamp(&ind.code, [y]);
        let found: Vec<_> = years.iter().map(|y| self.cache.family(&key(*y))).collect();
        let stale: Vec<String> = years
            .iter()
            .zip(&found)
            .filter(|(y, f)| f.as_ref().is_some_and(|(at, _)| *at != stamp(**y)))
            .map(|(y, _)| key(*y))
            .collect();
        // Rebuild here (all of them) when the service is quiet; else serve the older families.
        let rebuild_here = stale.is_empty() || self.cache.begin_rebuild(&stale);
        let tracked: Vec<String> = if rebuild_here { stale } else { Vec::new() };
        let mut out: Vec<Option<std::sync::Arc<protect::Family>>> = Vec::new();
        let mut missing: Vec<i32> = Vec::new();
        for (&y, f) in years.iter().zip(found) {
            match f {
                Some((at, f)) if at == stamp(y) => out.push(Some(f)),
                Some((_, f)) if !rebuild_here => {
                    self.cache.queue_rebuild(cache::FamilyJob {
                        key: key(y),
                        indicator: ind.code.clone(),
                        catalogue_version: ind.version.clone(),
                        versions: versions.to_vec(),
                        year: y,
                        policy: self.policy,
                    });
                    out.push(Some(f));
                }
                _ => {
                    missing.push(y);
                    out.push(None);
                }
            }
        }
        if missing.is_empty() {
            return Ok(out.into_iter().flatten().collect());
        }
        let built = (|| {
            let orgs = self.organisations(conn)?;
            build_families(conn.get()?, self, &orgs, ind, versions, &missing)
        })();
        for k in &tracked {
            self.cache.end_rebuild(k);
        }
        for (year, family) in built? {
            let family = self.cache.put_family(stamp(year), key(year), family);
            if let Some(i) = years.iter().position(|y| *y == year) {
                out[i] = Some(family);
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// The family of one year.
    pub fn family(
        &self,
        conn: &mut LazyConn<'_>,
        ind: &Indicator,
        versions: &[String],
        year: i32,
    ) -> AppResult<std::sync::Arc<protect::Family>> {
        Ok(self
            .families(conn, ind, versions, &[year])?
            .pop()
            .expect("one family per year"))
    }
}

/// Rebuild one family in the background (see [`ViewContext::families`]): at the versions current
/// when it starts, so a change meanwhile leaves it stale again and it is rebuilt once more.
pub fn rebuild_family(
    cache: &cache::ViewCache,
    background: &cache::Background,
    job: &cache::FamilyJob,
) -> AppResult<()> {
    let (ind, _) = resolve_indicator(
        &background.catalogue,
        &job.indicator,
        Some(&job.catalogue_version),
    )?;
    let ctx = ViewContext {
        catalogue: &background.catalogue,
        reference: &background.reference,
        audience: Audience::Public,
        policy: job.policy,
        cache,
    };
    let mut conn = LazyConn::pool(&background.db);
    let snapshot = cache.snapshot(&mut conn)?;
    let stamp = snapshot.stamp(&ind.code, [job.year]);
    if cache.family(&job.key).is_some_and(|(at, _)| at == stamp) {
        return Ok(()); // a request rebuilt it meanwhile
    }
    let orgs = ctx.organisations(&mut conn)?;
    for (_, family) in build_families(conn.get()?, &ctx, &orgs, ind, &job.versions, &[job.year])? {
        cache.put_family(stamp.clone(), job.key.clone(), family);
    }
    Ok(())
}

/// The disclosure policy from configuration.
pub fn policy_of(v: &crate::config::ViewArgs) -> Policy {
    Policy {
        k: v.min_organisations.max(1),
        p: v.disclosure_p_percent.clamp(0.0, 100.0) / 100.0,
        min_respondents: v.min_respondents.max(0),
        min_distribution: v.min_distribution_organisations.max(1),
    }
}

/// Build the families of `years` from one fetch of the indicator's figures.
fn build_families(
    conn: &mut DbConn,
    ctx: &ViewContext<'_>,
    orgs: &HashMap<i64, OrgInfo>,
    ind: &Indicator,
    versions: &[String],
    years: &[i32],
) -> AppResult<Vec<(i32, protect::Family)>> {
    let (first, last) = (
        *years.iter().min().expect("years"),
        *years.iter().max().expect("years"),
    );
    let (from, to) = (Period::year(first).start(), Period::year(last).end());
    let kind = ind.kind;
    let summed = fetch_summed(
        conn,
        kind,
        &ind.code,
        versions,
        &[Period::year(first), Period::year(last)],
        false,
    )?;
    let per_figure = fetch(conn, kind, &ind.code, versions, from, to)?;
    let attribution = municipalities::attribution(conn, from, to)?;
    let by_org = by_organisation(&summed);
    let mut keyed: HashMap<(i64, String), Vec<&ViewRow>> = HashMap::new();
    for r in &per_figure {
        if let Some(code) = attribution.municipality_of(r) {
            keyed.entry((r.organisation, code)).or_default().push(r);
        }
    }
    let mut out = Vec::with_capacity(years.len());
    for &year in years {
        let unit = Period::year(year);
        // In a fixed order: the protection must be a function of the data alone, so that every
        // instance (and every run) withholds the same cells.
        let mut members: Vec<Member> = by_org
            .iter()
            .filter(|(o, _)| orgs.contains_key(o))
            .filter_map(|(o, rows)| {
                rollup(kind, rows, unit).map(|cell| Member {
                    organisation: o,
                    cell,
                })
            })
            .collect();
        members.sort_by_key(|m| m.organisation);
        let mut parts: Vec<(i64, String, Cell)> = keyed
            .iter()
            .filter(|((_, code), _)| ctx.reference.municipality(code).is_some())
            .filter_map(|((o, code), rows)| rollup(kind, rows, unit).map(|c| (*o, code.clone(), c)))
            .collect();
        parts.sort_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0)));
        let related = format!("{}|{}", ind.code, versions.join(","));
        let name = format!("{related}|{year}");
        let family = protect::build(kind, orgs, &members, &parts, &ctx.policy, &name, &related);
        tracing::debug!(
            indicator = %ind.code, year, solves = family.solves, rounds = family.rounds,
            seeds_kept = family.seeds_kept, micros = family.micros as u64,
            "protected table family"
        );
        out.push((year, family));
    }
    Ok(out)
}
