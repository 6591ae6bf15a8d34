//! Validation of a submission: every problem at once, each with its location, a stable code and
//! a readable message. Nothing is stored unless this passes.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::input::{Loc, Publication, RawFigure, RawSubmission};
use crate::catalogue::{Catalogue, Indicator, Kind};
use crate::error::{FieldIssue, Issues};
use crate::period::Period;
use crate::registry::{Organisation, Reference};

pub use crate::free_text::{check_personal, check_text};

pub use super::input::MAX_FIGURES;
pub const MAX_NOTE_CHARS: usize = 2_000;
/// No count, mean or amount in this domain comes near this.
pub const MAX_VALUE: f64 = 1e12;
/// Survey figures on fewer respondents are flagged (and their aggregates too).
pub const SMALL_SAMPLE: i64 = 30;

/// A figure that passed validation, normalised (integers as integers, derived fields dropped).
#[derive(Debug, Clone)]
pub struct ValidFigure {
    pub loc: Loc,
    pub indicator: String,
    pub kind: Kind,
    pub municipality: Option<String>,
    pub value: Option<f64>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub respondents: Option<i64>,
    pub cases: Option<i64>,
    pub note: Option<String>,
    /// Warning codes kept with the figure.
    pub warnings: Vec<&'static str>,
}

impl ValidFigure {
    /// The value a person compares: the value, or the percentage for ratios.
    pub fn comparable(&self) -> Option<f64> {
        comparable(self.kind, self.value, self.numerator, self.denominator)
    }
}

pub fn comparable(
    kind: Kind,
    value: Option<f64>,
    numerator: Option<i64>,
    denominator: Option<i64>,
) -> Option<f64> {
    match kind {
        Kind::Ratio => match (numerator, denominator) {
            (Some(n), Some(d)) if d > 0 => Some(100.0 * n as f64 / d as f64),
            _ => None,
        },
        _ => value,
    }
}

#[derive(Debug, Clone)]
pub struct ValidSubmission {
    pub period: Period,
    pub publication: Publication,
    pub catalogue_version: String,
    pub figures: Vec<ValidFigure>,
    /// Plausibility warnings (they do not block).
    pub warnings: Vec<FieldIssue>,
}

fn integer(v: Option<f64>, loc: &Loc, field: &str, issues: &mut Issues) -> Option<i64> {
    let v = v?;
    if v.fract() != 0.0 {
        issues.push(loc.issue(
            field,
            "not_integer",
            "moet een geheel getal zijn / must be a whole number",
        ));
        return None;
    }
    if v.abs() > MAX_VALUE {
        issues.push(loc.issue(
            field,
            "out_of_range",
            format!("te groot / larger than {MAX_VALUE:e}"),
        ));
        return None;
    }
    Some(v as i64)
}

fn require<T>(v: Option<T>, loc: &Loc, field: &str, kind: Kind, issues: &mut Issues) -> Option<T> {
    if v.is_none() {
        issues.push(loc.issue(
            field,
            &format!("missing_{field}"),
            format!(
                "{field} is verplicht voor een indicator van soort {kind} / {field} is required for kind {kind}"
            ),
        ));
    }
    v
}

fn not_applicable(v: bool, loc: &Loc, field: &str, kind: Kind, issues: &mut Issues) {
    if v {
        issues.push(loc.issue(
            field,
            "field_not_applicable",
            format!("{field} hoort niet bij soort {kind} / {field} does not apply to kind {kind}; needs {}",
                kind.required_fields().join(", ")),
        ));
    }
}

fn non_negative(v: Option<f64>, loc: &Loc, field: &str, issues: &mut Issues) -> bool {
    match v {
        Some(x) if x < 0.0 => {
            issues.push(loc.issue(
                field,
                "negative",
                "mag niet negatief zijn / must not be negative",
            ));
            false
        }
        Some(x) if x > MAX_VALUE => {
            issues.push(loc.issue(
                field,
                "out_of_range",
                format!("te groot / larger than {MAX_VALUE:e}"),
            ));
            false
        }
        _ => true,
    }
}

/// Check the fields a figure's kind needs.
fn check_kind(f: &RawFigure, ind: &Indicator, issues: &mut Issues) -> Option<ValidFigure> {
    let loc = &f.loc;
    let kind = ind.kind;
    let before = issues.len();
    let mut out = ValidFigure {
        loc: loc.clone(),
        indicator: ind.code.clone(),
        kind,
        municipality: None,
        value: None,
        numerator: None,
        denominator: None,
        respondents: None,
        cases: None,
        note: None,
        warnings: Vec::new(),
    };
    for (field, v) in [
        ("value", f.value),
        ("numerator", f.numerator),
        ("denominator", f.denominator),
        ("respondents", f.respondents),
        ("cases", f.cases),
    ] {
        non_negative(v, loc, field, issues);
    }
    match kind {
        Kind::Flow | Kind::Stock | Kind::Amount => {
            not_applicable(f.numerator.is_some(), loc, "numerator", kind, issues);
            not_applicable(f.denominator.is_some(), loc, "denominator", kind, issues);
            not_applicable(f.respondents.is_some(), loc, "respondents", kind, issues);
            not_applicable(f.cases.is_some(), loc, "cases", kind, issues);
            let v = require(f.value, loc, "value", kind, issues);
            out.value = if kind == Kind::Amount {
                v
            } else {
                integer(v, loc, "value", issues).map(|i| i as f64)
            };
        }
        Kind::Ratio => {
            not_applicable(f.respondents.is_some(), loc, "respondents", kind, issues);
            not_applicable(f.cases.is_some(), loc, "cases", kind, issues);
            let n = integer(
                require(f.numerator, loc, "numerator", kind, issues),
                loc,
                "numerator",
                issues,
            );
            let d = integer(
                require(f.denominator, loc, "denominator", kind, issues),
                loc,
                "denominator",
                issues,
            );
            if let (Some(n), Some(d)) = (n, d) {
                if n > d {
                    issues.push(loc.issue(
                        "numerator",
                        "numerator_exceeds_denominator",
                        format!(
                            "teller ({n}) groter dan noemer ({d}) / numerator exceeds denominator"
                        ),
                    ));
                } else if let Some(v) = f.value {
                    // A percentage given alongside must agree (it is derived, not stored).
                    let pct = if d > 0 {
                        100.0 * n as f64 / d as f64
                    } else {
                        0.0
                    };
                    if (v - pct).abs() > 0.5 {
                        issues.push(loc.issue(
                            "value",
                            "inconsistent_value",
                            format!("value {v} wijkt af van teller/noemer ({pct:.1}%) / disagrees with numerator/denominator"),
                        ));
                    }
                }
            }
            out.numerator = n;
            out.denominator = d;
        }
        Kind::Survey => {
            not_applicable(f.numerator.is_some(), loc, "numerator", kind, issues);
            not_applicable(f.denominator.is_some(), loc, "denominator", kind, issues);
            not_applicable(f.cases.is_some(), loc, "cases", kind, issues);
            let v = require(f.value, loc, "value", kind, issues);
            if let Some(v) = v
                && !(0.0..=100.0).contains(&v)
            {
                issues.push(loc.issue(
                    "value",
                    "out_of_range",
                    "een percentage ligt tussen 0 en 100 / a percentage is between 0 and 100",
                ));
            }
            let n = integer(
                require(f.respondents, loc, "respondents", kind, issues),
                loc,
                "respondents",
                issues,
            );
            if let Some(n) = n
                && n < 1
            {
                issues.push(loc.issue(
                    "respondents",
                    "out_of_range",
                    "minstens 1 respondent / at least 1 respondent",
                ));
            }
            out.value = v;
            out.respondents = n;
            if n.is_some_and(|n| n < SMALL_SAMPLE) {
                out.warnings.push("small_sample");
            }
        }
        Kind::MeanDuration => {
            not_applicable(f.numerator.is_some(), loc, "numerator", kind, issues);
            not_applicable(f.denominator.is_some(), loc, "denominator", kind, issues);
            not_applicable(f.respondents.is_some(), loc, "respondents", kind, issues);
            let v = require(f.value, loc, "value", kind, issues);
            let c = integer(
                require(f.cases, loc, "cases", kind, issues),
                loc,
                "cases",
                issues,
            );
            if let Some(c) = c
                && c < 1
            {
                issues.push(loc.issue(
                    "cases",
                    "out_of_range",
                    "een gemiddelde rust op minstens 1 casus / a mean needs at least 1 case",
                ));
            }
            out.value = v;
            out.cases = c;
        }
    }
    (issues.len() == before).then_some(out)
}

pub struct Context<'a> {
    pub catalogue: &'a Catalogue,
    pub reference: &'a Reference,
    pub organisation: &'a Organisation,
    pub today: NaiveDate,
}

/// Validate a raw submission. Returns every problem found, or the normalised submission.
pub fn validate(raw: RawSubmission, ctx: &Context<'_>) -> Result<ValidSubmission, Issues> {
    let mut issues = raw.issues;
    let pf = raw.period_field.as_str();
    let period = match raw.period.as_deref().map(str::trim) {
        None | Some("") => {
            issues.push(FieldIssue::new(
                pf,
                "missing_period",
                "periode is verplicht / period is required (e.g. 2021, 2021-Q3, 2021KW03)",
            ));
            None
        }
        Some(p) => match Period::parse(p) {
            Ok(p) if p.start() > ctx.today => {
                issues.push(FieldIssue::new(
                    pf,
                    "period_in_future",
                    format!("{} ligt in de toekomst / is in the future", p.label()),
                ));
                None
            }
            Ok(p) => Some(p),
            Err(e) => {
                issues.push(FieldIssue::new(pf, "invalid_period", e));
                None
            }
        },
    };
    let pubf = if pf == "period" {
        "publication"
    } else {
        "/publication"
    };
    let publication = match raw.publication.as_deref().map(str::trim) {
        None | Some("") => Publication::Associatie,
        Some(p) => Publication::parse(p).unwrap_or_else(|| {
            issues.push(FieldIssue::new(
                pubf,
                "invalid_value",
                format!("publication is {} / one of: {}", p, Publication::expected()),
            ));
            Publication::Associatie
        }),
    };
    let vf = if pf == "period" {
        "catalogueVersion"
    } else {
        "/catalogueVersion"
    };
    let version = match ctx.catalogue.resolve_version(
        raw.catalogue_version
            .as_deref()
            .filter(|v| !v.trim().is_empty()),
        vf,
    ) {
        Ok(v) => Some(v),
        Err(e) => {
            issues.extend(e.issues().iter().cloned());
            None
        }
    };
    if raw.figures.is_empty() && issues.is_empty() {
        issues.push(FieldIssue::new(
            if pf == "period" { "row 2" } else { "/figures" },
            "no_figures",
            "geen cijfers / no figures: a submission holds at least one figure (withdraw to retract one)",
        ));
    }
    if raw.figures.len() > MAX_FIGURES {
        issues.push(FieldIssue::new(
            "/figures",
            "too_many_figures",
            format!("at most {MAX_FIGURES} figures per submission"),
        ));
        return Err(issues);
    }
    let org = ctx.organisation;
    let mut figures = Vec::with_capacity(raw.figures.len());
    let mut seen: HashMap<(String, Option<String>), String> = HashMap::new();
    // Per indicator: whether it was given org-wide and/or per municipality.
    let mut breakdown: HashMap<String, (bool, bool, bool)> = HashMap::new();
    for f in &raw.figures {
        let loc = &f.loc;
        let code = f.indicator.as_deref().map(str::trim).unwrap_or("");
        if code.is_empty() {
            issues.push(loc.issue(
                "indicator",
                "missing_indicator",
                "indicator is verplicht / indicator is required",
            ));
            continue;
        }
        let Some(version) = version else { continue };
        let Some(ind) = ctx.catalogue.indicator(&version.version, code) else {
            issues.push(loc.issue("indicator", "unknown_indicator", format!(
                "onbekende indicator / unknown indicator {code:?} in catalogue {} (GET /api/v1/indicators)", version.version)));
            continue;
        };
        let mut ok = true;
        if ind.retired {
            issues.push(loc.issue(
                "indicator",
                "indicator_retired",
                format!(
                    "{code} is vervallen in {} / retired in this version",
                    version.version
                ),
            ));
            ok = false;
        }
        if !ind.applies_to(org.team_type) {
            issues.push(loc.issue("indicator", "indicator_not_for_team_type", format!(
                "{code} geldt voor {} teams, deze organisatie is {} / applies to other team types",
                ind.team_types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "), org.team_type)));
            ok = false;
        }
        if let Some(p) = &period
            && !ind.allows_period(p.kind)
        {
            issues.push(loc.issue(
                "indicator",
                "period_type_not_allowed",
                format!(
                        "{code} wordt gerapporteerd per {} , niet per {} / not reported per {}",
                        ind.period_types
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(" of "),
                        p.kind,
                        p.kind
                    ),
            ));
            ok = false;
        }
        let municipality = match f
            .municipality
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
        {
            None => None,
            Some(m) => {
                let m = m.to_ascii_uppercase();
                if ctx.reference.municipality(&m).is_none() {
                    issues.push(loc.issue(
                        "municipality",
                        "unknown_municipality",
                        format!("onbekende gemeentecode / unknown municipality {m:?}"),
                    ));
                    ok = false;
                } else if let Some(p) = &period
                    && !org.serves(&m, p.start(), p.end())
                {
                    issues.push(loc.issue("municipality", "municipality_not_served", format!(
                        "{m} wordt in {} niet door deze organisatie bediend / not served by this organisation in the period", p.label())));
                    ok = false;
                }
                Some(m)
            }
        };
        if let Some(note) = &f.note {
            check_text(
                note,
                MAX_NOTE_CHARS,
                |c, m| loc.issue("note", c, m),
                &mut issues,
            );
        }
        let key = (code.to_owned(), municipality.clone());
        if let Some(first) = seen.get(&key) {
            issues.push(loc.whole(
                "duplicate_figure",
                format!(
                "{code}{} staat er al ({first}) / duplicate figure",
                municipality.as_deref().map(|m| format!(" voor {m}")).unwrap_or_default()),
            ));
            ok = false;
        } else {
            seen.insert(key, loc.describe());
        }
        let entry = breakdown
            .entry(code.to_owned())
            .or_insert((false, false, false));
        if municipality.is_some() {
            entry.1 = true
        } else {
            entry.0 = true
        }
        if entry.0 && entry.1 && !entry.2 {
            entry.2 = true;
            issues.push(loc.whole("mixed_breakdown", format!(
                "{code}: geef óf één cijfer voor de hele organisatie óf cijfers per gemeente, niet beide \
                 / either one organisation-wide figure or one per municipality, not both")));
            ok = false;
        }
        if let Some(mut v) = check_kind(f, ind, &mut issues)
            && ok
        {
            v.municipality = municipality;
            v.note = f.note.clone().filter(|n| !n.trim().is_empty());
            figures.push(v);
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    let period = period.expect("checked");
    let mut warnings = raw.warnings;
    if period.end() >= ctx.today {
        warnings.push(FieldIssue::new(pf, "period_not_ended", format!(
            "{} is nog niet afgelopen; cijfers kunnen onvolledig zijn / the period has not ended", period.label())));
    }
    for f in &figures {
        for w in &f.warnings {
            warnings.push(warning(f, w, None));
        }
    }
    Ok(ValidSubmission {
        period,
        publication,
        catalogue_version: version.expect("checked").version.clone(),
        figures,
        warnings,
    })
}

/// The readable form of a warning code on a figure.
pub fn warning(f: &ValidFigure, code: &str, detail: Option<String>) -> FieldIssue {
    let message = match code {
        "small_sample" => format!(
            "minder dan {SMALL_SAMPLE} respondenten: onbetrouwbaar / fewer than {SMALL_SAMPLE} respondents: unreliable"
        ),
        "far_from_previous" => detail.unwrap_or_default(),
        other => other.to_owned(),
    };
    let field = if code == "small_sample" {
        "respondents"
    } else {
        "value"
    };
    f.loc.issue(field, code, message)
}

/// (indicator, municipality) of a figure.
pub type FigureKey = (String, Option<String>);
/// The previous figure of a key: (period label, comparable value).
pub type Previous = HashMap<FigureKey, (String, f64)>;

/// Warn about figures far from the organisation's own previous figure (same indicator and
/// municipality, same period type). `previous` maps (indicator, municipality) to (period, value).
pub fn plausibility(sub: &mut ValidSubmission, previous: &Previous) {
    for f in &mut sub.figures {
        let Some(now) = f.comparable() else { continue };
        let Some((period, before)) = previous.get(&(f.indicator.clone(), f.municipality.clone()))
        else {
            continue;
        };
        let far = if f.kind.is_percentage() {
            (now - before).abs() > 25.0
        } else {
            (now.max(*before) >= 10.0) && (now > before * 2.0 || now < before * 0.5)
        };
        if far {
            f.warnings.push("far_from_previous");
            let detail = format!(
                "{now:.1} wijkt sterk af van {before:.1} in {period} / far from the previous figure {before:.1} ({period})"
            );
            sub.warnings
                .push(warning(f, "far_from_previous", Some(detail)));
        }
    }
}
