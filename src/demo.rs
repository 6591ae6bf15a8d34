//! A synthetic national data set: about 400 wijkteam organisations over the 342 municipalities,
//! every v1 indicator they report, quarterly and yearly from 2017, with trends, the study's
//! differences between teams that provide help themselves and teams that only refer, and
//! noise. For demos (`serve --demo`) and benchmarks. Deterministic for a given seed.
//!
//! The figures are generated valid by construction and written in bulk (the same COPY path as
//! posts) as accepted submissions; a test runs a sample of them through the validator.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::catalogue::{Catalogue, Indicator, Kind};
use crate::db::schema::{
    organisation_municipalities as om, organisations, submission_events, submission_revisions,
    submissions,
};
use crate::db::{DbConn, transaction};
use crate::error::{AppError, AppResult};
use crate::period::{Period, PeriodType};
use crate::registry::{Municipality, OrgForm, Reference, TeamType};
use crate::submissions::store::{NewFigureRow, insert_figures};

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub organisations: usize,
    pub from_year: i32,
    /// Last complete year; the quarters of the running year that have ended are added.
    pub to_year: i32,
    pub today: NaiveDate,
    pub seed: u64,
}

impl DemoOptions {
    pub fn new(organisations: usize, from_year: i32, to_year: Option<i32>, seed: u64) -> Self {
        let today = chrono::Utc::now().date_naive();
        DemoOptions {
            organisations,
            from_year,
            to_year: to_year.unwrap_or(chrono::Datelike::year(&today) - 1),
            today,
            seed,
        }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DemoReport {
    pub organisations: usize,
    pub submissions: usize,
    pub figures: usize,
}

/// SplitMix64: small, fast, good enough for synthetic data, identical everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f()
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// Multiplicative noise around 1.
    pub fn noise(&mut self, spread: f64) -> f64 {
        1.0 + spread * (self.f() + self.f() - 1.0)
    }
}

/// A generated organisation.
pub struct DemoOrg {
    pub name: String,
    pub team_type: TeamType,
    pub form: OrgForm,
    pub municipalities: Vec<String>,
    pub population: f64,
    /// Share of ambulatory youth help the team delivers itself (percent).
    pub own_help_share: f64,
    pub published: bool,
    pub level: f64,
}

fn team_name(t: TeamType, i: usize) -> &'static str {
    let names: &[&str] = match t {
        TeamType::Wmo => &["Wmo-team", "Sociaal wijkteam", "Team Ondersteuning"],
        TeamType::Jeugd => &[
            "Jeugd- en gezinsteam",
            "Buurtteam jeugd",
            "Centrum voor Jeugd en Gezin",
        ],
        TeamType::Integraal => &["Sociaal team", "Buurtteam", "Wijkteam", "Dorpsteam"],
    };
    names[i % names.len()]
}

/// Organisations over the municipalities: every municipality gets at least one team; big
/// cities get more; a quarter of the organisations is regional.
pub fn organisations(reference: &Reference, n: usize, rng: &mut Rng) -> Vec<DemoOrg> {
    let mut munis: Vec<&Municipality> = reference
        .municipalities
        .iter()
        .filter(|m| m.year == reference.year)
        .collect();
    munis.sort_by(|a, b| {
        (a.province.as_str(), a.code.as_str()).cmp(&(b.province.as_str(), b.code.as_str()))
    });
    let mut by_size: Vec<&Municipality> = munis.clone();
    by_size.sort_by_key(|m| std::cmp::Reverse(m.population));
    let mut orgs = Vec::with_capacity(n);
    let mut used_names: HashMap<String, usize> = HashMap::new();
    for i in 0..n {
        // First round: every municipality; then the largest ones again.
        let home = if i < munis.len() {
            munis[i]
        } else {
            by_size[(i - munis.len()) % by_size.len()]
        };
        let idx = munis.iter().position(|m| m.code == home.code).unwrap_or(0);
        let r = rng.f();
        let team_type = if i >= munis.len() {
            if i % 2 == 0 {
                TeamType::Jeugd
            } else {
                TeamType::Wmo
            }
        } else if r < 0.5 {
            TeamType::Integraal
        } else if r < 0.8 {
            TeamType::Jeugd
        } else {
            TeamType::Wmo
        };
        let mut served = vec![home.code.clone()];
        if i < munis.len() && rng.f() < 0.25 {
            for k in 1..=(1 + rng.below(4)) {
                if let Some(m) = munis.get(idx + k).filter(|m| m.province == home.province) {
                    served.push(m.code.clone());
                }
            }
        }
        let population: f64 = served
            .iter()
            .filter_map(|c| reference.municipality(c))
            .map(|m| m.population as f64)
            .sum();
        let base = format!("{} {}", team_name(team_type, i), home.name);
        let count = used_names.entry(base.clone()).or_default();
        *count += 1;
        let name = if *count == 1 {
            base
        } else {
            format!("{base} {}", *count)
        };
        let form = match rng.below(20) {
            0..=9 => OrgForm::Stichting,
            10..=13 => OrgForm::Gemeentelijk,
            14..=15 => OrgForm::Cooperatie,
            16 => OrgForm::Bv,
            17..=18 => OrgForm::Netwerk,
            _ => OrgForm::Hoofdaannemer,
        };
        let helps = team_type != TeamType::Wmo && rng.f() < 0.55;
        orgs.push(DemoOrg {
            name,
            team_type,
            form,
            municipalities: served,
            population,
            own_help_share: if helps {
                rng.range(6.0, 40.0)
            } else {
                rng.range(0.0, 4.5)
            },
            published: rng.f() < 0.4,
            level: rng.noise(0.25),
        });
    }
    orgs
}

/// The periods an indicator is reported for: quarterly when it may be, else yearly.
fn periods_for(ind: &Indicator, years: &[i32], running: &[Period]) -> Vec<Period> {
    if ind.allows_period(PeriodType::Quarter) {
        let mut ps: Vec<Period> = years
            .iter()
            .flat_map(|y| (1..=4).filter_map(move |q| Period::new(*y, PeriodType::Quarter, q)))
            .collect();
        ps.extend(running.iter().copied());
        ps
    } else {
        years.iter().map(|y| Period::year(*y)).collect()
    }
}

/// The value fields of a figure: (value, numerator, denominator, respondents, cases).
pub type Fields = (
    Option<f64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// The fields of one figure, by indicator, for an organisation, year and share of the year.
pub fn figure_values(
    ind: &Indicator,
    org: &DemoOrg,
    population: f64,
    year: i32,
    fraction: f64,
    rng: &mut Rng,
) -> Fields {
    let t = (year - 2017) as f64;
    let helps = org.own_help_share >= 5.0;
    let youth = population * 0.2;
    let registrations = (population * 0.012 * fraction * org.level * (1.0 + 0.02 * t)).max(4.0);
    let n = |v: f64| v.max(0.0).round() as i64;
    match ind.kind {
        Kind::Flow => {
            let v = match ind.code.as_str() {
                "nieuwe_aanmeldingen" => registrations,
                "klachten" => registrations * 0.004,
                "bereik_inwoners" => registrations * 1.6,
                "bereik_huishoudens" => registrations * 1.1,
                "verwijzingen_specialistisch" => registrations * if helps { 0.18 } else { 0.26 },
                "jeugd_nieuwe_specialistisch_ambulant" => {
                    let drop = if helps { 0.034 } else { 0.017 };
                    youth * 0.025 * fraction * (1.0 - drop * t.min(3.0)) * org.level
                }
                "wmo_nieuwe_trajecten_ondersteuning_thuis" => population * 0.006 * fraction,
                "voorkomen_huisuitzettingen" => population * 0.00008 * fraction,
                _ => population * 0.0004 * fraction * org.level,
            };
            (Some(n(v * rng.noise(0.15)) as f64), None, None, None, None)
        }
        Kind::Stock => {
            let v = match ind.code.as_str() {
                "lopende_trajecten" => population * 0.006,
                "wachtlijst_inwoners" => population * 0.0003 * (1.0 + 0.08 * t),
                "wmo_clienten_ondersteuning_thuis" => population * 0.035,
                _ => population * 0.0008,
            };
            (
                Some(n(v * org.level * rng.noise(0.12)) as f64),
                None,
                None,
                None,
                None,
            )
        }
        Kind::Amount => {
            let v = population / 2500.0 * org.level * rng.noise(0.05);
            (Some((v * 10.0).round() / 10.0), None, None, None, None)
        }
        Kind::Ratio => {
            let (share, den) = match ind.code.as_str() {
                "aandeel_zelfmelders" => (0.30 + 0.015 * t, registrations),
                "jeugd_aandeel_ambulant_door_team" => (org.own_help_share / 100.0, youth * 0.08),
                "jeugd_trajecten_crisis" => (if helps { 0.023 } else { 0.036 }, youth * 0.05),
                "jeugd_aandeel_verwijzingen_team" => {
                    (if helps { 0.33 } else { 0.32 }, youth * 0.05)
                }
                "jeugd_aandeel_specialistisch_ambulant" => {
                    (if helps { 0.045 } else { 0.05 }, youth)
                }
                "aandeel_zonder_specialistische_hulp" => {
                    (if helps { 0.8 } else { 0.7 }, registrations)
                }
                "aandeel_zelf_geboden_ondersteuning" => {
                    (if helps { 0.6 } else { 0.35 }, registrations)
                }
                "huishoudens_veel_professionals" => (0.12 - 0.005 * t, registrations * 0.4),
                _ => (0.5, registrations),
            };
            let den = n(den * rng.noise(0.05)).max(1);
            let share = (share * rng.noise(0.08)).clamp(0.0, 1.0);
            let num = n(den as f64 * share).min(den);
            (None, Some(num), Some(den), None, None)
        }
        Kind::Survey => {
            let base = match (ind.code.as_str(), org.team_type) {
                ("cev_helpend", TeamType::Wmo) => 80.0,
                ("cev_helpend", TeamType::Integraal) => 71.0,
                ("cev_helpend", TeamType::Jeugd) => 74.0,
                ("cev_bekendheid", _) => (57.0 + 4.5 * t).min(76.0),
                ("cev_tijdigheid", _) => 72.0,
                ("cev_kwaliteit", _) => 80.0,
                ("cev_passend", _) => 81.0,
                ("cev_zelfredzaamheid_toegenomen", _) => 67.0,
                ("cev_eigen_regie", _) => 79.0,
                ("cev_samenwerking", _) => 66.0,
                ("tevredenheid_partners", _) => 70.0,
                ("aansluiting_zorgvormen", _) => 58.0,
                _ => 75.0,
            };
            let pct = (base + rng.range(-6.0, 6.0)).clamp(0.0, 100.0);
            let respondents = (20.0 + (population / 400.0).min(600.0) * rng.f()).round() as i64;
            (
                Some((pct * 10.0).round() / 10.0),
                None,
                None,
                Some(respondents.max(5)),
                None,
            )
        }
        Kind::MeanDuration => {
            let (mean, cases) = match ind.code.as_str() {
                "jeugd_duur_specialistisch_ambulant" => {
                    (if helps { 337.0 } else { 389.0 }, youth * 0.02)
                }
                "doorlooptijd_dagen" => (120.0, registrations * 0.6),
                _ => (14.0 + 0.5 * t, registrations * 0.7),
            };
            let mean = (mean * rng.noise(0.1) * 10.0).round() / 10.0;
            (Some(mean), None, None, None, Some(n(cases).max(1)))
        }
    }
}

/// Fill an empty database. Refuses when organisations exist already.
pub fn seed(
    conn: &mut DbConn,
    catalogue: &Catalogue,
    reference: &Reference,
    opts: &DemoOptions,
) -> AppResult<DemoReport> {
    let existing: i64 = organisations::table.count().get_result(conn)?;
    if existing > 0 {
        return Err(AppError::conflict(
            "DATABASE_NOT_EMPTY",
            "the demo data set goes into an empty database only (it has organisations)",
        ));
    }
    if opts.from_year > opts.to_year {
        return Err(AppError::validation(
            "--from-year",
            "invalid_value",
            "from-year is after to-year",
        ));
    }
    let mut rng = Rng::new(opts.seed);
    let orgs = organisations(reference, opts.organisations, &mut rng);
    // The demo data set is v1's: figures posted under v1 keep their meaning in later versions.
    let version = catalogue
        .version("v1")
        .ok_or_else(|| AppError::internal("catalogue v1 is missing"))?;
    let years: Vec<i32> = (opts.from_year..=opts.to_year).collect();
    let running: Vec<Period> = (1..=4)
        .filter_map(|q| Period::new(opts.to_year + 1, PeriodType::Quarter, q))
        .filter(|p| p.end() < opts.today)
        .collect();
    let now = crate::db::now();
    transaction(conn, |conn| {
        // Organisations.
        let mut ids = Vec::with_capacity(orgs.len());
        for o in &orgs {
            let id: i64 = diesel::insert_into(organisations::table)
                .values((
                    organisations::name.eq(&o.name),
                    organisations::team_type.eq(o.team_type.as_str()),
                    organisations::org_form.eq(o.form.as_str()),
                    organisations::self_registration.eq(rng.f() < 0.8),
                    organisations::provides_help_declared.eq(None::<bool>),
                    organisations::provides_help.eq(None::<bool>),
                    organisations::provides_help_source.eq("unknown"),
                    organisations::primary_municipality.eq(&o.municipalities[0]),
                    organisations::active.eq(true),
                    organisations::created_at.eq(now),
                    organisations::updated_at.eq(now),
                ))
                .returning(organisations::id)
                .get_result(conn)?;
            for code in &o.municipalities {
                diesel::insert_into(om::table)
                    .values((
                        om::organisation_id.eq(id),
                        om::municipality_code.eq(code),
                        om::valid_from.eq(crate::registry::organisations::default_valid_from()),
                    ))
                    .execute(conn)?;
            }
            ids.push(id);
        }
        // Which indicators each organisation reports, in which periods.
        let mut plan: Vec<(usize, Period, Vec<&Indicator>)> = Vec::new();
        for (oi, o) in orgs.iter().enumerate() {
            let mut per_period: std::collections::BTreeMap<Period, Vec<&Indicator>> =
                Default::default();
            for ind in version
                .indicators
                .iter()
                .filter(|i| !i.retired && i.applies_to(o.team_type))
            {
                for p in periods_for(ind, &years, &running) {
                    per_period.entry(p).or_default().push(ind);
                }
            }
            for (p, inds) in per_period {
                plan.push((oi, p, inds));
            }
        }
        // Submissions, revisions and events.
        let mut sub_ids: HashMap<(i64, String), i64> = HashMap::new();
        for chunk in plan.chunks(2_000) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|(oi, p, _)| {
                    (
                        submissions::organisation_id.eq(ids[*oi]),
                        submissions::period.eq(p.code()),
                        submissions::period_type.eq(p.kind.as_str()),
                        submissions::period_start.eq(p.start()),
                        submissions::period_end.eq(p.end()),
                        submissions::latest_revision.eq(1),
                        submissions::created_at.eq(now),
                        submissions::updated_at.eq(now),
                    )
                })
                .collect();
            let got: Vec<(i64, i64, String)> =
                crate::with_conn!(conn, |c| diesel::insert_into(submissions::table)
                    .values(&rows)
                    .returning((
                        submissions::id,
                        submissions::organisation_id,
                        submissions::period
                    ))
                    .get_results(c))?;
            for (id, org, period) in got {
                sub_ids.insert((org, period), id);
            }
        }
        let mut rev_ids: HashMap<i64, i64> = HashMap::new();
        for chunk in plan.chunks(2_000) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|(oi, p, inds)| {
                    let sub = sub_ids[&(ids[*oi], p.code())];
                    (
                        submission_revisions::submission_id.eq(sub),
                        submission_revisions::revision.eq(1),
                        submission_revisions::kind.eq("figures"),
                        submission_revisions::catalogue_version.eq(&version.version),
                        submission_revisions::publication.eq(if orgs[*oi].published {
                            "openbaar"
                        } else {
                            "associatie"
                        }),
                        submission_revisions::status.eq("accepted"),
                        submission_revisions::posted_by.eq("demo"),
                        submission_revisions::posted_at.eq(now),
                        submission_revisions::figure_count
                            .eq((inds.len() * orgs[*oi].municipalities.len()) as i32),
                        submission_revisions::warning_count.eq(0),
                    )
                })
                .collect();
            let got: Vec<(i64, i64)> =
                crate::with_conn!(conn, |c| diesel::insert_into(submission_revisions::table)
                    .values(&rows)
                    .returning((
                        submission_revisions::id,
                        submission_revisions::submission_id
                    ))
                    .get_results(c))?;
            rev_ids.extend(got.into_iter().map(|(r, s)| (s, r)));
            let mut events = Vec::with_capacity(chunk.len() * 3);
            for (oi, p, _) in chunk {
                let sub = sub_ids[&(ids[*oi], p.code())];
                for action in ["posted", "submitted", "accepted"] {
                    events.push((
                        submission_events::submission_id.eq(sub),
                        submission_events::revision_id.eq(rev_ids[&sub]),
                        submission_events::action.eq(action),
                        submission_events::actor.eq("demo"),
                        submission_events::at.eq(now),
                    ));
                }
            }
            for ev in events.chunks(3_000) {
                crate::with_conn!(conn, |c| diesel::insert_into(submission_events::table)
                    .values(ev)
                    .execute(c))?;
            }
        }
        for (sub, rev) in &rev_ids {
            diesel::update(submissions::table.find(sub))
                .set(submissions::counted_revision_id.eq(rev))
                .execute(conn)?;
        }
        // Figures: per-municipality for regional organisations.
        let mut total = 0usize;
        let mut batch: Vec<NewFigureRow> = Vec::with_capacity(50_000);
        for (oi, p, inds) in &plan {
            let o = &orgs[*oi];
            let sub = sub_ids[&(ids[*oi], p.code())];
            let fraction = p.kind.months() as f64 / 12.0;
            let split: Vec<(Option<String>, f64)> = if o.municipalities.len() == 1 {
                vec![(None, o.population)]
            } else {
                o.municipalities
                    .iter()
                    .map(|c| {
                        (
                            Some(c.clone()),
                            reference
                                .municipality(c)
                                .map(|m| m.population as f64)
                                .unwrap_or(1.0),
                        )
                    })
                    .collect()
            };
            for ind in inds {
                for (muni, pop) in &split {
                    let (value, numerator, denominator, respondents, cases) =
                        figure_values(ind, o, *pop, p.year, fraction, &mut rng);
                    batch.push(NewFigureRow {
                        revision_id: rev_ids[&sub],
                        submission_id: sub,
                        organisation_id: ids[*oi],
                        period_type: p.kind.as_str().to_owned(),
                        period_start: p.start(),
                        period_end: p.end(),
                        catalogue_version: version.version.clone(),
                        indicator: ind.code.clone(),
                        municipality: muni.clone(),
                        value,
                        numerator,
                        denominator,
                        respondents,
                        cases,
                        note: None,
                        warnings: None,
                        publication: if o.published {
                            "openbaar"
                        } else {
                            "associatie"
                        }
                        .to_owned(),
                        counted: true,
                    });
                }
            }
            if batch.len() >= 40_000 {
                total += batch.len();
                insert_figures(conn, &batch)?;
                batch.clear();
            }
        }
        total += batch.len();
        insert_figures(conn, &batch)?;
        for id in &ids {
            crate::registry::organisations::refresh_provides_help(conn, *id)?;
        }
        crate::rollups::rebuild(conn)?;
        Ok(DemoReport {
            organisations: ids.len(),
            submissions: plan.len(),
            figures: total,
        })
    })
}
