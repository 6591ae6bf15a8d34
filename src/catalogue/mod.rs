//! The basisset catalogue: transformation goals and versioned indicator definitions.
//!
//! The definitions are data files in `data/catalogue/` (TOML), embedded in the binary. At
//! start-up they are written to the database idempotently ([`Catalogue::sync`]) and read back
//! ([`Catalogue::load`]): the service serves what the database holds. A version is immutable
//! once figures are posted under it; a later version names its parent with `extends`, adds or
//! changes indicators and retires others, so figures posted under an earlier version keep their
//! meaning.
//!
//! A later version may clarify an inherited indicator (labels, definition, counting moment), give
//! it a source reference and correct its additivity (`[amend.<code>]`), but never change what it
//! measures: kind, unit, direction, period types, team types, source and goal stay as they were.
//! A change of meaning needs a new code; the old one is retired. Every indicator of a version
//! that extends another carries a source reference.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::DbConn;
use crate::db::schema::{catalogue_versions, indicators, transformation_goals};
use crate::error::{AppError, AppResult};
use crate::period::PeriodType;
use crate::registry::TeamType;

pub const GOALS_TOML: &str = include_str!("../../data/catalogue/goals.toml");
/// Version files in release order.
pub const VERSION_TOMLS: &[&str] = &[
    include_str!("../../data/catalogue/v1.toml"),
    include_str!("../../data/catalogue/v2.toml"),
];

crate::text_enum! {
    /// What kind of figure an indicator is; fixes validation and aggregation.
    pub enum Kind {
        /// Count of events in the period: integer >= 0; summed across organisations and periods.
        Flow = "flow",
        /// Count at the end of the period: integer >= 0; summed across organisations, last value across periods.
        Stock = "stock",
        /// Quantity with decimals (FTE at the end of the period, euro per resident): >= 0; summed across organisations unless the indicator is not additive, last value across periods.
        Amount = "amount",
        /// Numerator and denominator, integers, numerator <= denominator; pooled as sum(num)/sum(den).
        Ratio = "ratio",
        /// Survey percentage 0-100 with respondents n >= 1; pooled as sum(pct*n)/sum(n).
        Survey = "survey",
        /// Mean with the number of cases behind it (days, or a count per case such as professionals per household); pooled as sum(mean*cases)/sum(cases).
        MeanDuration = "mean_duration",
    }
}

impl Kind {
    /// How figures of this kind combine across organisations.
    pub fn across_organisations(self) -> &'static str {
        match self {
            Kind::Flow | Kind::Stock | Kind::Amount => "sum",
            Kind::Ratio => "sum(numerator) / sum(denominator)",
            Kind::Survey => "sum(percentage * respondents) / sum(respondents)",
            Kind::MeanDuration => "sum(mean * cases) / sum(cases)",
        }
    }
    /// How figures of this kind combine across the periods within a longer period.
    pub fn across_periods(self) -> &'static str {
        match self {
            Kind::Flow => "sum (all sub-periods required)",
            Kind::Stock | Kind::Amount => "last value in the period",
            other => other.across_organisations(),
        }
    }
    /// The figure fields a value of this kind needs.
    pub fn required_fields(self) -> &'static [&'static str] {
        match self {
            Kind::Flow | Kind::Stock | Kind::Amount => &["value"],
            Kind::Ratio => &["numerator", "denominator"],
            Kind::Survey => &["value", "respondents"],
            Kind::MeanDuration => &["value", "cases"],
        }
    }
    /// Whether the pooled value is a percentage.
    pub fn is_percentage(self) -> bool {
        matches!(self, Kind::Ratio | Kind::Survey)
    }
}

crate::text_enum! {
    /// Unit of an indicator's values.
    pub enum Unit {
        Count = "count",
        Percent = "percent",
        Days = "days",
        Fte = "fte",
        Euro = "euro",
        /// Euro per resident of a municipality (an amount that is never summed).
        EuroPerResident = "euro_per_resident",
    }
}

crate::text_enum! {
    /// Which way is better.
    pub enum Direction {
        HigherIsBetter = "higher_is_better",
        LowerIsBetter = "lower_is_better",
        Neutral = "neutral",
    }
}

crate::text_enum! {
    /// Where the figures come from.
    pub enum Source {
        /// The organisation's own registration system.
        Registration = "registration",
        /// Client-experience survey (cliëntervaringsonderzoek).
        ClientSurvey = "client_survey",
        /// Survey among partner organisations.
        PartnerSurvey = "partner_survey",
        /// CBS statistics (Beleidsinformatie Jeugd, Monitor Sociaal Domein Wmo).
        Cbs = "cbs",
    }
}

/// A transformation goal (transformatiedoel), or the context group.
#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Goal {
    pub code: String,
    pub position: i32,
    pub label_nl: String,
    pub label_en: String,
    pub description: String,
}

/// One indicator of one catalogue version.
#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Indicator {
    /// Catalogue version this definition belongs to.
    pub version: String,
    /// Stable code, e.g. `aandeel_zelfmelders`.
    pub code: String,
    /// Transformation goal code.
    pub goal: String,
    pub kind: Kind,
    pub unit: Unit,
    pub direction: Direction,
    /// Period types the indicator may be reported for.
    pub period_types: Vec<PeriodType>,
    pub source: Source,
    /// Team types the indicator applies to.
    pub team_types: Vec<TeamType>,
    pub label_nl: String,
    pub label_en: String,
    /// What counts, precisely enough that two teams count the same thing.
    pub definition: String,
    /// Ratios: what the numerator counts.
    pub numerator: Option<String>,
    /// Ratios: what the denominator counts.
    pub denominator: Option<String>,
    /// Which date decides the period a case belongs to.
    pub counting_moment: String,
    /// Where the indicator comes from: the study (document, line and page) or a named external
    /// source. Every indicator of a version after v1 has one.
    pub reference: Option<String>,
    /// Whether figures of different organisations may be added up (summed, or pooled by
    /// summing numerators, respondents or cases). False for counts of distinct residents or
    /// households (one resident can be in contact with several organisations) and for amounts
    /// per resident: views then show the distribution of the per-organisation values instead.
    pub additive: bool,
    /// Retired in this version: no new figures; figures posted under earlier versions stay.
    pub retired: bool,
    /// How figures combine across organisations (derived from the kind and additivity).
    pub across_organisations: String,
    /// How figures combine across periods (derived from the kind).
    pub across_periods: String,
    /// Figure fields a value needs (derived from the kind).
    pub required_fields: Vec<String>,
}

impl Indicator {
    pub fn allows_period(&self, t: PeriodType) -> bool {
        self.period_types.contains(&t)
    }
    pub fn applies_to(&self, t: TeamType) -> bool {
        self.team_types.contains(&t)
    }
}

/// One catalogue version with its full (resolved) set of indicators.
#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogueVersion {
    pub version: String,
    pub title: String,
    pub released_on: crate::dates::Date,
    /// The version this one builds on.
    pub extends: Option<String>,
    /// SHA-256 of its resolved content (its fields and every indicator as stored).
    pub checksum: String,
    #[graphql(skip)]
    #[serde(skip)]
    pub indicators: Vec<Indicator>,
}

/// The whole catalogue, held in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub goals: Vec<Goal>,
    /// In release order; the last is the current version.
    pub versions: Vec<CatalogueVersion>,
    index: HashMap<(String, String), (usize, usize)>,
}

// ---- data file format

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GoalsFile {
    goals: Vec<GoalDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GoalDef {
    code: String,
    position: i32,
    label_nl: String,
    label_en: String,
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionFile {
    version: String,
    title: String,
    released_on: String,
    extends: Option<String>,
    #[serde(default)]
    retire: Vec<String>,
    /// Inherited indicators, by code: a reference, corrected additivity or clearer wording.
    #[serde(default)]
    amend: BTreeMap<String, Amendment>,
    #[serde(default)]
    indicators: Vec<IndicatorDef>,
}

/// What a later version may change in an inherited indicator without a new code.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Amendment {
    reference: Option<String>,
    additive: Option<bool>,
    label_nl: Option<String>,
    label_en: Option<String>,
    definition: Option<String>,
    numerator: Option<String>,
    denominator: Option<String>,
    counting_moment: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct IndicatorDef {
    code: String,
    goal: String,
    kind: Kind,
    unit: Unit,
    direction: Direction,
    period_types: Vec<PeriodType>,
    source: Source,
    team_types: Vec<TeamType>,
    label_nl: String,
    label_en: String,
    definition: String,
    numerator: Option<String>,
    denominator: Option<String>,
    counting_moment: String,
    reference: Option<String>,
    #[serde(default = "yes")]
    additive: bool,
}

/// How figures of an indicator combine across organisations.
pub fn across_organisations(kind: Kind, unit: Unit, additive: bool) -> &'static str {
    if additive {
        return kind.across_organisations();
    }
    match (kind, unit) {
        (_, Unit::EuroPerResident) => {
            "not summed (an amount per resident): the distribution of the per-organisation \
             values; a pooled figure weights each municipality once by its residents"
        }
        (Kind::Flow | Kind::Stock, _) => {
            "not summed (distinct residents or households: one can be counted by several \
             organisations): the distribution of the per-organisation values"
        }
        _ => "not combined: the distribution of the per-organisation values",
    }
}

fn build_indicator(version: &str, d: IndicatorDef, retired: bool) -> Indicator {
    Indicator {
        version: version.to_owned(),
        across_organisations: across_organisations(d.kind, d.unit, d.additive).to_owned(),
        across_periods: d.kind.across_periods().to_owned(),
        required_fields: d
            .kind
            .required_fields()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        code: d.code,
        goal: d.goal,
        kind: d.kind,
        unit: d.unit,
        direction: d.direction,
        period_types: d.period_types,
        source: d.source,
        team_types: d.team_types,
        label_nl: d.label_nl,
        label_en: d.label_en,
        definition: d.definition,
        numerator: d.numerator,
        denominator: d.denominator,
        counting_moment: d.counting_moment,
        reference: d.reference,
        additive: d.additive,
        retired,
    }
}

impl Indicator {
    /// Apply a later version's amendment (wording, reference, additivity) to an inherited
    /// indicator.
    fn amend(&mut self, a: Amendment) {
        if let Some(v) = a.reference {
            self.reference = Some(v);
        }
        if let Some(v) = a.additive {
            self.additive = v;
            self.across_organisations = across_organisations(self.kind, self.unit, v).to_owned();
        }
        if let Some(v) = a.label_nl {
            self.label_nl = v;
        }
        if let Some(v) = a.label_en {
            self.label_en = v;
        }
        if let Some(v) = a.definition {
            self.definition = v;
        }
        if let Some(v) = a.numerator {
            self.numerator = Some(v);
        }
        if let Some(v) = a.denominator {
            self.denominator = Some(v);
        }
        if let Some(v) = a.counting_moment {
            self.counting_moment = v;
        }
    }
}

impl CatalogueVersion {
    /// SHA-256 over what the database stores of this version: its own fields and every
    /// indicator (in code order), after `extends`, amendments and retirements are resolved. A
    /// change anywhere, also in an inherited indicator or in how rows are built, makes the next
    /// start rewrite the version; the same content never does.
    fn content_checksum(&self) -> String {
        let mut indicators: Vec<&Indicator> = self.indicators.iter().collect();
        indicators.sort_by(|a, b| a.code.cmp(&b.code));
        let content = serde_json::json!({
            "format": "basisset-catalogue-2",
            "version": self.version,
            "title": self.title,
            "releasedOn": self.released_on,
            "extends": self.extends,
            "indicators": indicators,
        });
        sha256_hex(&content.to_string())
    }
}

fn sha256_hex(text: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Filter for listing indicators.
#[derive(Debug, Clone, Default)]
pub struct IndicatorFilter {
    pub goal: Option<String>,
    pub kind: Option<Kind>,
    pub version: Option<String>,
    pub team_type: Option<TeamType>,
    pub include_retired: bool,
}

impl Catalogue {
    pub fn new(goals: Vec<Goal>, versions: Vec<CatalogueVersion>) -> Self {
        let mut index = HashMap::new();
        for (vi, v) in versions.iter().enumerate() {
            for (ii, ind) in v.indicators.iter().enumerate() {
                index.insert((v.version.clone(), ind.code.clone()), (vi, ii));
            }
        }
        Catalogue {
            goals,
            versions,
            index,
        }
    }

    /// The catalogue from the data files embedded in the binary.
    pub fn builtin() -> Result<Catalogue, String> {
        Self::from_sources(GOALS_TOML, VERSION_TOMLS)
    }

    /// Parse goals and version files (in release order), resolve `extends`, and check the
    /// result for consistency.
    pub fn from_sources(goals_toml: &str, version_tomls: &[&str]) -> Result<Catalogue, String> {
        let goals: GoalsFile =
            toml::from_str(goals_toml).map_err(|e| format!("goals file: {e}"))?;
        let mut versions: Vec<CatalogueVersion> = Vec::new();
        for text in version_tomls {
            let file: VersionFile =
                toml::from_str(text).map_err(|e| format!("catalogue version file: {e}"))?;
            let released_on = NaiveDate::parse_from_str(&file.released_on, "%Y-%m-%d")
                .map_err(|e| format!("{}: released_on: {e}", file.version))?;
            let mut list: Vec<Indicator> = match &file.extends {
                None => Vec::new(),
                Some(parent) => versions
                    .iter()
                    .find(|v| &v.version == parent)
                    .ok_or_else(|| format!("{} extends unknown version {parent}", file.version))?
                    .indicators
                    .iter()
                    .map(|i| Indicator {
                        version: file.version.clone(),
                        ..i.clone()
                    })
                    .collect(),
            };
            let restated: HashSet<String> =
                file.indicators.iter().map(|d| d.code.clone()).collect();
            for def in file.indicators {
                let ind = build_indicator(&file.version, def, false);
                match list.iter_mut().find(|i| i.code == ind.code) {
                    Some(slot) => *slot = ind,
                    None => list.push(ind),
                }
            }
            for (code, amendment) in file.amend {
                if restated.contains(&code) {
                    return Err(format!(
                        "{}: {code} is both restated and amended; do one",
                        file.version
                    ));
                }
                list.iter_mut()
                    .find(|i| i.code == code)
                    .ok_or_else(|| format!("{} amends unknown indicator {code}", file.version))?
                    .amend(amendment);
            }
            for code in &file.retire {
                let slot = list
                    .iter_mut()
                    .find(|i| &i.code == code)
                    .ok_or_else(|| format!("{} retires unknown indicator {code}", file.version))?;
                slot.retired = true;
            }
            if versions.iter().any(|v| v.version == file.version) {
                return Err(format!("version {} defined twice", file.version));
            }
            let mut v = CatalogueVersion {
                version: file.version,
                title: file.title,
                released_on: released_on.into(),
                extends: file.extends,
                checksum: String::new(),
                indicators: list,
            };
            v.checksum = v.content_checksum();
            versions.push(v);
        }
        let goals = goals
            .goals
            .into_iter()
            .map(|g| Goal {
                code: g.code,
                position: g.position,
                label_nl: g.label_nl,
                label_en: g.label_en,
                description: g.description,
            })
            .collect();
        let catalogue = Catalogue::new(goals, versions);
        let problems = catalogue.check();
        if problems.is_empty() {
            Ok(catalogue)
        } else {
            Err(format!(
                "catalogue is inconsistent:\n  {}",
                problems.join("\n  ")
            ))
        }
    }

    /// Every consistency problem (empty when sound): codes unique and well-formed, goals known,
    /// each kind with the unit and definitions it needs, each goal with active indicators; in a
    /// version that extends another, every indicator with a source reference and every inherited
    /// code with the meaning it had (kind, unit, direction, source, goal, periods, team types).
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let goal_codes: HashSet<&str> = self.goals.iter().map(|g| g.code.as_str()).collect();
        if goal_codes.len() != self.goals.len() {
            problems.push("goal codes are not unique".to_owned());
        }
        if self.versions.is_empty() {
            problems.push("no catalogue version".to_owned());
        }
        for v in &self.versions {
            let mut codes = HashSet::new();
            for i in &v.indicators {
                let at = format!("{}/{}", v.version, i.code);
                if !codes.insert(i.code.as_str()) {
                    problems.push(format!("{at}: code is not unique"));
                }
                let well_formed = (3..=64).contains(&i.code.len())
                    && i.code.starts_with(|c: char| c.is_ascii_lowercase())
                    && i.code
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if !well_formed {
                    problems.push(format!("{at}: code must be 3-64 of [a-z0-9_]"));
                }
                if !goal_codes.contains(i.goal.as_str()) {
                    problems.push(format!("{at}: unknown goal {}", i.goal));
                }
                let unit_ok = match i.kind {
                    Kind::Flow | Kind::Stock => i.unit == Unit::Count,
                    Kind::Amount => {
                        matches!(i.unit, Unit::Fte | Unit::Euro | Unit::EuroPerResident)
                    }
                    Kind::Ratio | Kind::Survey => i.unit == Unit::Percent,
                    Kind::MeanDuration => matches!(i.unit, Unit::Days | Unit::Count),
                };
                if !unit_ok {
                    problems.push(format!(
                        "{at}: unit {} does not fit kind {}",
                        i.unit, i.kind
                    ));
                }
                let is_ratio = i.kind == Kind::Ratio;
                if is_ratio != (i.numerator.is_some() && i.denominator.is_some()) {
                    problems.push(format!(
                        "{at}: ratios, and only ratios, define numerator and denominator"
                    ));
                }
                let survey_source =
                    matches!(i.source, Source::ClientSurvey | Source::PartnerSurvey);
                if (i.kind == Kind::Survey) != survey_source {
                    problems.push(format!(
                        "{at}: survey percentages, and only those, come from a survey"
                    ));
                }
                if i.period_types.is_empty()
                    || i.period_types.contains(&PeriodType::Month)
                    || i.period_types.len() != i.period_types.iter().collect::<HashSet<_>>().len()
                {
                    problems.push(format!(
                        "{at}: period types must be a non-empty set of year, half_year, quarter"
                    ));
                }
                if i.team_types.is_empty() {
                    problems.push(format!("{at}: no team types"));
                }
                if i.definition.chars().count() < 40
                    || i.label_nl.trim().is_empty()
                    || i.label_en.trim().is_empty()
                    || i.counting_moment.trim().is_empty()
                {
                    problems.push(format!(
                        "{at}: needs both labels, a counting moment and a precise definition"
                    ));
                }
            }
            if v.extends.is_some() {
                for i in &v.indicators {
                    if i.reference.as_deref().is_none_or(|r| r.trim().len() < 10) {
                        problems.push(format!(
                            "{}/{}: needs a source reference (the study with line and page, \
                             or a named external source)",
                            v.version, i.code
                        ));
                    }
                }
            }
            if let Some(parent) = v.extends.as_deref().and_then(|p| self.version(p)) {
                for i in &v.indicators {
                    let Some(old) = parent.indicators.iter().find(|o| o.code == i.code) else {
                        continue;
                    };
                    let same_set = |a: &[PeriodType], b: &[PeriodType]| {
                        a.iter().collect::<HashSet<_>>() == b.iter().collect::<HashSet<_>>()
                    };
                    let changed: Vec<&str> = [
                        ("kind", i.kind != old.kind),
                        ("unit", i.unit != old.unit),
                        ("direction", i.direction != old.direction),
                        ("source", i.source != old.source),
                        ("goal", i.goal != old.goal),
                        (
                            "period types",
                            !same_set(&i.period_types, &old.period_types),
                        ),
                        (
                            "team types",
                            i.team_types.iter().collect::<HashSet<_>>()
                                != old.team_types.iter().collect::<HashSet<_>>(),
                        ),
                        ("retired", old.retired && !i.retired),
                    ]
                    .into_iter()
                    .filter_map(|(what, differs)| differs.then_some(what))
                    .collect();
                    if !changed.is_empty() {
                        problems.push(format!(
                            "{}/{}: changes {} of its {} definition; a change of meaning needs \
                             a new code (and `retire` for the old one)",
                            v.version,
                            i.code,
                            changed.join(", "),
                            parent.version
                        ));
                    }
                }
            }
            for g in &self.goals {
                if !v.indicators.iter().any(|i| i.goal == g.code && !i.retired) {
                    problems.push(format!("{}: goal {} has no indicators", v.version, g.code));
                }
            }
        }
        problems
    }

    pub fn current(&self) -> &CatalogueVersion {
        self.versions.last().expect("catalogue has a version")
    }

    pub fn version(&self, version: &str) -> Option<&CatalogueVersion> {
        self.versions.iter().find(|v| v.version == version)
    }

    /// The version named, or the current one; unknown names are a validation error.
    pub fn resolve_version(
        &self,
        version: Option<&str>,
        field: &str,
    ) -> AppResult<&CatalogueVersion> {
        match version {
            None => Ok(self.current()),
            Some(v) => self.version(v.trim()).ok_or_else(|| {
                AppError::validation(
                    field,
                    "unknown_catalogue_version",
                    format!(
                        "onbekende catalogusversie / unknown catalogue version {v:?}; known: {}",
                        self.versions
                            .iter()
                            .map(|v| v.version.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            }),
        }
    }

    pub fn indicator(&self, version: &str, code: &str) -> Option<&Indicator> {
        self.index
            .get(&(version.to_owned(), code.to_owned()))
            .map(|&(v, i)| &self.versions[v].indicators[i])
    }

    pub fn goal(&self, code: &str) -> Option<&Goal> {
        self.goals.iter().find(|g| g.code == code)
    }

    /// Indicators of one version, filtered.
    pub fn list(&self, filter: &IndicatorFilter) -> AppResult<Vec<Indicator>> {
        let version = self.resolve_version(filter.version.as_deref(), "version")?;
        if let Some(goal) = &filter.goal
            && self.goal(goal).is_none()
        {
            return Err(AppError::validation(
                "goal",
                "unknown_goal",
                format!(
                    "onbekend doel / unknown goal {goal:?}; known: {}",
                    self.goals
                        .iter()
                        .map(|g| g.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(version
            .indicators
            .iter()
            .filter(|i| filter.include_retired || !i.retired)
            .filter(|i| filter.goal.as_ref().is_none_or(|g| &i.goal == g))
            .filter(|i| filter.kind.is_none_or(|k| i.kind == k))
            .filter(|i| filter.team_type.is_none_or(|t| i.applies_to(t)))
            .cloned()
            .collect())
    }

    /// One indicator by code (current version unless named); 404 when unknown.
    pub fn get(&self, code: &str, version: Option<&str>) -> AppResult<Indicator> {
        let v = self.resolve_version(version, "version")?;
        self.indicator(&v.version, code)
            .cloned()
            .ok_or_else(|| AppError::not_found("indicator", code))
    }

    // ---- database

    /// Write goals and versions to the database. A version whose checksum is already stored is
    /// skipped, so restarting changes nothing. Returns the versions written.
    pub fn sync(&self, conn: &mut DbConn) -> AppResult<Vec<String>> {
        for g in &self.goals {
            let row = GoalRow::from(g);
            let old: Option<GoalRow> = transformation_goals::table
                .find(&g.code)
                .first(conn)
                .optional()?;
            match old {
                Some(old) if old == row => {}
                Some(_) => {
                    diesel::update(transformation_goals::table.find(&g.code))
                        .set(&row)
                        .execute(conn)?;
                }
                None => {
                    diesel::insert_into(transformation_goals::table)
                        .values(&row)
                        .execute(conn)?;
                }
            }
        }
        let stored: BTreeMap<String, String> = catalogue_versions::table
            .select((catalogue_versions::version, catalogue_versions::checksum))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let mut written = Vec::new();
        for v in &self.versions {
            if stored.get(&v.version) == Some(&v.checksum) {
                continue;
            }
            let row = VersionRow {
                version: v.version.clone(),
                title: v.title.clone(),
                released_on: v.released_on.0,
                extends: v.extends.clone(),
                checksum: v.checksum.clone(),
                loaded_at: crate::db::now(),
            };
            if stored.contains_key(&v.version) {
                diesel::update(catalogue_versions::table.find(&v.version))
                    .set(&row)
                    .execute(conn)?;
            } else {
                diesel::insert_into(catalogue_versions::table)
                    .values(&row)
                    .execute(conn)?;
            }
            let old: HashMap<String, IndicatorRow> = indicators::table
                .filter(indicators::version.eq(&v.version))
                .load::<IndicatorRow>(conn)?
                .into_iter()
                .map(|r| (r.code.clone(), r))
                .collect();
            for ind in &v.indicators {
                let row = IndicatorRow::from(ind);
                if let Some(prev) = old.get(&ind.code) {
                    if prev.kind != row.kind {
                        return Err(AppError::internal(format!(
                            "catalogue {}: indicator {} changes kind from {} to {}; a released \
                             version cannot change meaning, add a new version instead",
                            v.version, ind.code, prev.kind, row.kind
                        )));
                    }
                    if *prev != row {
                        diesel::update(indicators::table.find((&v.version, &ind.code)))
                            .set(&row)
                            .execute(conn)?;
                    }
                } else {
                    diesel::insert_into(indicators::table)
                        .values(&row)
                        .execute(conn)?;
                }
            }
            written.push(v.version.clone());
        }
        Ok(written)
    }

    /// Read the catalogue back from the database.
    pub fn load(conn: &mut DbConn) -> AppResult<Catalogue> {
        let goals = transformation_goals::table
            .order(transformation_goals::position)
            .load::<GoalRow>(conn)?
            .into_iter()
            .map(|r| Goal {
                code: r.code,
                position: r.position,
                label_nl: r.label_nl,
                label_en: r.label_en,
                description: r.description,
            })
            .collect();
        let version_rows = catalogue_versions::table
            .order((catalogue_versions::released_on, catalogue_versions::version))
            .load::<VersionRow>(conn)?;
        let mut all: Vec<IndicatorRow> = indicators::table.load(conn)?;
        let mut versions = Vec::new();
        for vr in version_rows {
            let mut list = Vec::new();
            for r in all.iter_mut().filter(|r| r.version == vr.version) {
                list.push(r.to_indicator()?);
            }
            list.sort_by_key(|i| i.code.clone());
            versions.push(CatalogueVersion {
                version: vr.version,
                title: vr.title,
                released_on: vr.released_on.into(),
                extends: vr.extends,
                checksum: vr.checksum,
                indicators: list,
            });
        }
        // Versions are released in order; `extends` must point backwards.
        sort_versions(&mut versions);
        Ok(Catalogue::new(goals, versions))
    }

    /// Indicators in a stable order (by goal position, then file order is lost in the database,
    /// so by code): used to compare a loaded catalogue with a parsed one.
    pub fn normalized(&self) -> Catalogue {
        let mut c = self.clone();
        for v in &mut c.versions {
            v.indicators.sort_by(|a, b| a.code.cmp(&b.code));
        }
        sort_versions(&mut c.versions);
        Catalogue::new(c.goals, c.versions)
    }
}

fn sort_versions(versions: &mut [CatalogueVersion]) {
    versions.sort_by(|a, b| {
        (a.released_on, version_number(&a.version))
            .cmp(&(b.released_on, version_number(&b.version)))
    });
}

fn version_number(v: &str) -> u32 {
    v.trim_start_matches('v').parse().unwrap_or(0)
}

#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset, Queryable)]
#[diesel(table_name = transformation_goals)]
struct GoalRow {
    code: String,
    position: i32,
    label_nl: String,
    label_en: String,
    description: String,
}

impl From<&Goal> for GoalRow {
    fn from(g: &Goal) -> Self {
        GoalRow {
            code: g.code.clone(),
            position: g.position,
            label_nl: g.label_nl.clone(),
            label_en: g.label_en.clone(),
            description: g.description.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset, Queryable)]
#[diesel(table_name = catalogue_versions)]
struct VersionRow {
    version: String,
    title: String,
    released_on: NaiveDate,
    extends: Option<String>,
    checksum: String,
    loaded_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset, Queryable)]
#[diesel(table_name = indicators, treat_none_as_null = true)]
struct IndicatorRow {
    version: String,
    code: String,
    goal: String,
    kind: String,
    unit: String,
    direction: String,
    period_types: String,
    source: String,
    team_types: String,
    label_nl: String,
    label_en: String,
    definition: String,
    numerator_definition: Option<String>,
    denominator_definition: Option<String>,
    counting_moment: String,
    retired: bool,
    reference: Option<String>,
    additive: bool,
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn split<T: std::str::FromStr<Err = String>>(s: &str) -> AppResult<Vec<T>> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<T>().map_err(AppError::internal))
        .collect()
}

impl From<&Indicator> for IndicatorRow {
    fn from(i: &Indicator) -> Self {
        IndicatorRow {
            version: i.version.clone(),
            code: i.code.clone(),
            goal: i.goal.clone(),
            kind: i.kind.as_str().to_owned(),
            unit: i.unit.as_str().to_owned(),
            direction: i.direction.as_str().to_owned(),
            period_types: join(&i.period_types),
            source: i.source.as_str().to_owned(),
            team_types: join(&i.team_types),
            label_nl: i.label_nl.clone(),
            label_en: i.label_en.clone(),
            definition: i.definition.clone(),
            numerator_definition: i.numerator.clone(),
            denominator_definition: i.denominator.clone(),
            counting_moment: i.counting_moment.clone(),
            retired: i.retired,
            reference: i.reference.clone(),
            additive: i.additive,
        }
    }
}

impl IndicatorRow {
    fn to_indicator(&self) -> AppResult<Indicator> {
        let kind: Kind = self.kind.parse().map_err(AppError::internal)?;
        Ok(build_indicator(
            &self.version,
            IndicatorDef {
                code: self.code.clone(),
                goal: self.goal.clone(),
                kind,
                unit: self.unit.parse().map_err(AppError::internal)?,
                direction: self.direction.parse().map_err(AppError::internal)?,
                period_types: split(&self.period_types)?,
                source: self.source.parse().map_err(AppError::internal)?,
                team_types: split(&self.team_types)?,
                label_nl: self.label_nl.clone(),
                label_en: self.label_en.clone(),
                definition: self.definition.clone(),
                numerator: self.numerator_definition.clone(),
                denominator: self.denominator_definition.clone(),
                counting_moment: self.counting_moment.clone(),
                reference: self.reference.clone(),
                additive: self.additive,
            },
            self.retired,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_is_consistent() {
        let c = Catalogue::builtin().expect("catalogue parses and checks");
        let v1 = c.version("v1").unwrap();
        assert!(v1.indicators.len() >= 35, "{}", v1.indicators.len());
        // Every kind is used; the nine-plus client-survey topics are there.
        for k in Kind::ALL {
            assert!(v1.indicators.iter().any(|i| i.kind == *k), "{k} unused");
        }
        let surveys = v1
            .indicators
            .iter()
            .filter(|i| i.source == Source::ClientSurvey)
            .count();
        assert!(surveys >= 9, "{surveys}");
        for s in Source::ALL {
            assert!(v1.indicators.iter().any(|i| i.source == *s), "{s} unused");
        }
        assert_eq!(c.goals.len(), 5);
        assert!(c.check().is_empty());
    }

    const V3: &str = include_str!("../../tests/fixtures/catalogue-v3.toml");

    fn with_v3(v3: &str) -> Result<Catalogue, String> {
        Catalogue::from_sources(GOALS_TOML, &[VERSION_TOMLS[0], VERSION_TOMLS[1], v3])
    }

    #[test]
    fn a_later_version_extends_amends_and_retires() {
        let c = with_v3(V3).unwrap();
        assert_eq!(c.current().version, "v3");
        let v2n = c.version("v2").unwrap().indicators.len();
        assert_eq!(c.version("v3").unwrap().indicators.len(), v2n + 1);
        assert!(!c.indicator("v2", "klachten").unwrap().retired);
        assert!(c.indicator("v3", "klachten").unwrap().retired);
        assert!(c.indicator("v2", "klachten_gegrond").is_none());
        let helpend = c.indicator("v3", "cev_helpend").unwrap();
        assert_eq!(helpend.version, "v3");
        assert_eq!(helpend.label_en, "Client experience: the help helped");
        // The rest of an amended indicator is inherited, reference included.
        let before = c.indicator("v2", "cev_helpend").unwrap();
        assert_eq!(helpend.definition, before.definition);
        assert_eq!(helpend.reference, before.reference);
        // Retired in v2, still retired in v3.
        assert!(c.indicator("v3", "aandeel_tijdig_gestart").unwrap().retired);
    }

    /// Every indicator of every version after v1 names its source. Lists them all, so a failure
    /// shows which.
    #[test]
    fn every_indicator_after_v1_has_a_source_reference() {
        let c = Catalogue::builtin().unwrap();
        let mut missing = Vec::new();
        let mut listed = 0;
        for v in c.versions.iter().filter(|v| v.extends.is_some()) {
            for i in &v.indicators {
                listed += 1;
                let r = i.reference.as_deref().unwrap_or("").trim();
                eprintln!("{}/{}: {}", v.version, i.code, r);
                let named = r.contains("r. ") || r.contains("CBS") || r.contains("Magnée");
                if r.len() < 10 || !named {
                    missing.push(format!("{}/{}", v.version, i.code));
                }
            }
        }
        assert!(listed >= 61, "{listed}");
        assert!(missing.is_empty(), "no source reference: {missing:?}");
        // The study's own lines are real lines of its text (1572 lines).
        for i in &c.version("v2").unwrap().indicators {
            let r = i.reference.as_deref().unwrap();
            for part in r.split("r. ").skip(1) {
                let n: String = part.chars().take_while(|c| c.is_ascii_digit()).collect();
                let n: u32 = n.parse().unwrap_or_else(|_| panic!("{}: {r}", i.code));
                assert!((1..=1572).contains(&n), "{}: line {n}", i.code);
            }
        }
    }

    #[test]
    fn v2_corrects_v1_and_keeps_its_meaning() {
        let c = Catalogue::builtin().unwrap();
        assert_eq!(c.current().version, "v2");
        let v1 = c.version("v1").unwrap();
        assert!(v1.indicators.iter().all(|i| !i.retired && i.additive));
        assert!(v1.indicators.iter().all(|i| i.reference.is_none()));
        let v2 = |code: &str| c.indicator("v2", code).unwrap_or_else(|| panic!("{code}"));
        // Wrong in v1: retired in v2, each with a successor that has a new code.
        for (old, new) in [
            ("verwijzingen_specialistisch", "verwijzingen_door_team"),
            (
                "aandeel_verwijzingen_via_team",
                "jeugd_verwijzingen_aandeel_wijkteam",
            ),
            (
                "jeugd_aandeel_verwijzingen_team",
                "jeugd_verwijzingen_aandeel_wijkteam",
            ),
            (
                "aandeel_zonder_professionele_hulp",
                "aandeel_inwoners_zonder_professionele_hulp",
            ),
            ("aandeel_tijdig_gestart", "wachttijd_dagen"),
            (
                "huishoudens_veel_professionals",
                "professionals_per_huishouden",
            ),
            (
                "jeugd_nieuwe_specialistisch_ambulant",
                "jeugd_nieuwe_trajecten_specialistisch_ambulant",
            ),
        ] {
            assert!(!c.indicator("v1", old).unwrap().retired, "{old}");
            assert!(v2(old).retired, "{old}");
            assert!(!v2(new).retired, "{new}");
            assert!(c.indicator("v1", new).is_none() || new == "wachttijd_dagen");
        }
        // Referrals have no better direction; jeugd and wmo counts point the same way.
        for code in [
            "verwijzingen_door_team",
            "jeugd_verwijzingen_totaal",
            "jeugd_verwijzingen_aandeel_wijkteam",
            "jeugd_nieuwe_trajecten_specialistisch_ambulant",
            "wmo_nieuwe_trajecten_ondersteuning_thuis",
        ] {
            assert_eq!(v2(code).direction, Direction::Neutral, "{code}");
        }
        assert_eq!(
            v2("wmo_maatwerk_na_melding").direction,
            v2("jeugd_trajecten_crisis").direction
        );
        // Distinct residents and amounts per resident are not added up.
        for code in [
            "bereik_inwoners",
            "bereik_huishoudens",
            "jeugd_kosten_specialistisch_per_inwoner",
            "wmo_kosten_maatwerk_per_inwoner",
        ] {
            let i = v2(code);
            assert!(!i.additive, "{code}");
            assert!(i.across_organisations.starts_with("not summed"), "{code}");
        }
        assert!(c.indicator("v1", "bereik_inwoners").unwrap().additive);
        let cost = v2("jeugd_kosten_specialistisch_per_inwoner");
        assert_eq!(
            (cost.kind, cost.unit),
            (Kind::Amount, Unit::EuroPerResident)
        );
        let per_household = v2("professionals_per_huishouden");
        assert_eq!(
            (per_household.kind, per_household.unit),
            (Kind::MeanDuration, Unit::Count)
        );
        // Clarified wording, same code and meaning.
        assert!(v2("cev_helpend").definition.contains("76,5%"));
        assert!(
            v2("jeugd_duur_specialistisch_ambulant")
                .definition
                .contains("op locatie")
        );
        assert!(
            v2("jeugd_aandeel_ambulant_door_team")
                .definition
                .contains("Magnée")
        );
        assert!(
            !v2("aansluiting_zorgvormen")
                .definition
                .contains("lokale onderzoeken: 58%")
        );
        assert!(
            !v2("aandeel_zonder_specialistische_hulp")
                .definition
                .contains("jaarverslagen noemen")
        );
        // No invented thresholds left in active indicators.
        for i in c.current().indicators.iter().filter(|i| !i.retired) {
            assert!(!i.definition.contains("10 werkdagen"), "{}", i.code);
            assert!(
                !i.definition.contains("meer dan drie professionals"),
                "{}",
                i.code
            );
        }
    }

    #[test]
    fn a_change_of_meaning_needs_a_new_code() {
        // Restating an inherited code with another direction is refused.
        let restated = format!(
            "{V3}\n[[indicators]]\ncode = \"klachten\"\ngoal = \"context\"\nkind = \"flow\"\n\
             unit = \"count\"\ndirection = \"neutral\"\n\
             period_types = [\"year\", \"half_year\", \"quarter\"]\n\
             source = \"registration\"\nteam_types = [\"wmo\", \"jeugd\", \"integraal\"]\n\
             label_nl = \"Klachten\"\nlabel_en = \"Complaints\"\n\
             definition = \"Aantal formele klachten ontvangen in de periode, ongeacht de afloop.\"\n\
             counting_moment = \"datum van ontvangst\"\nreference = \"NJi 2022, r. 858 (p. 46-47)\"\n"
        );
        let err = with_v3(&restated).unwrap_err();
        assert!(err.contains("v3/klachten: changes direction"), "{err}");
        // A new indicator without a reference is refused.
        let bare = V3.replace("reference = \"Test fixture", "# reference = \"Test fixture");
        let err = with_v3(&bare).unwrap_err();
        assert!(
            err.contains("v3/klachten_gegrond: needs a source reference"),
            "{err}"
        );
        // Amendments only for codes that exist, and only the fields they may change.
        let unknown = format!("{V3}\n[amend.geen_indicator]\nreference = \"r. 1\"\n");
        assert!(
            with_v3(&unknown)
                .unwrap_err()
                .contains("amends unknown indicator")
        );
        let kind = V3.replace(
            "[amend.cev_helpend]",
            "[amend.cev_helpend]\nkind = \"ratio\"",
        );
        assert!(with_v3(&kind).unwrap_err().contains("unknown field"));
    }

    #[test]
    fn the_checksum_follows_the_resolved_content() {
        let c = Catalogue::builtin().unwrap();
        let again = Catalogue::builtin().unwrap();
        assert_eq!(
            c.version("v2").unwrap().checksum,
            again.version("v2").unwrap().checksum
        );
        // Clarifying an inherited v1 wording changes v2's content too, though v2.toml is the same.
        let v1 = VERSION_TOMLS[0].replace(
            "Formal complaints received in the period.",
            "Formal complaints received in the period, whatever their outcome.",
        );
        assert_ne!(v1, VERSION_TOMLS[0]);
        let clarified = Catalogue::from_sources(GOALS_TOML, &[&v1, VERSION_TOMLS[1]]).unwrap();
        assert_ne!(
            clarified.version("v1").unwrap().checksum,
            c.version("v1").unwrap().checksum
        );
        assert_ne!(
            clarified.version("v2").unwrap().checksum,
            c.version("v2").unwrap().checksum
        );
    }

    #[test]
    fn inconsistent_definitions_are_refused() {
        let bad = VERSION_TOMLS[0].replacen("kind = \"ratio\"", "kind = \"flow\"", 1);
        let err = Catalogue::from_sources(GOALS_TOML, &[&bad]).unwrap_err();
        assert!(
            err.contains("does not fit kind") || err.contains("only ratios"),
            "{err}"
        );
        let unknown = VERSION_TOMLS[0].replacen("kind = \"flow\"", "kind = \"avg\"", 1);
        assert!(Catalogue::from_sources(GOALS_TOML, &[&unknown]).is_err());
    }
}
