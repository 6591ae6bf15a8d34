//! Wijkteam organisations: the registry the Associatie keeps. Readable by everyone (names, team
//! types and the municipalities served are public facts); changed by admins only.

use crate::dates::{Date, Timestamp};
use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{OrgForm, Reference, SizeClass, TeamType};
use crate::audit::{self, AuditAction, AuditSubject};
use crate::auth::Caller;
use crate::db::schema::{organisation_municipalities as om, organisations};
use crate::db::{DbConn, utc};
use crate::error::{AppError, AppResult, FieldIssue};

crate::text_enum! {
    /// Where "provides help itself" comes from.
    pub enum ProvidesHelpSource {
        /// Derived from the organisation's figures (share of ambulatory youth help by the team >= 5%).
        Figures = "figures",
        /// Declared in the registry, no figures yet.
        Declared = "declared",
        /// Neither figures nor a declaration.
        Unknown = "unknown",
        /// A wmo-only team: the measure exists only for youth help, so it does not apply.
        NotApplicable = "not_applicable",
    }
}

crate::text_enum! {
    /// An organisation's size class: that of the municipality it serves, or `regionaal` when it
    /// serves several (the study left such (sub)regional teams out of its size breakdown: they
    /// have no single size class, r. 1286).
    pub enum OrgSizeClass {
        /// Fewer than 50,000 residents.
        Klein = "klein",
        /// 50,000 to 100,000 residents.
        Middelgroot = "middelgroot",
        /// More than 100,000 residents.
        Groot = "groot",
        /// Serves several municipalities.
        Regionaal = "regionaal",
    }
}

impl OrgSizeClass {
    pub fn of(size_class: SizeClass) -> OrgSizeClass {
        match size_class {
            SizeClass::Klein => OrgSizeClass::Klein,
            SizeClass::Middelgroot => OrgSizeClass::Middelgroot,
            SizeClass::Groot => OrgSizeClass::Groot,
        }
    }
}

/// Whether an organisation is regional: it serves several municipalities today (of the
/// municipalities it is registered for, those whose service has not ended).
pub fn is_regional<'a>(served: impl IntoIterator<Item = (&'a str, Option<NaiveDate>)>) -> bool {
    let today = chrono::Utc::now().date_naive();
    let mut codes: Vec<&str> = served
        .into_iter()
        .filter(|(_, to)| to.is_none_or(|t| t >= today))
        .map(|(c, _)| c)
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes.len() > 1
}

/// The size class an organisation has in the registry and in views: `regionaal` when regional,
/// else that of its primary municipality.
pub fn size_class_of(reference: &Reference, primary: &str, regional: bool) -> Option<OrgSizeClass> {
    if regional {
        return Some(OrgSizeClass::Regionaal);
    }
    reference
        .municipality(primary)
        .map(|m| OrgSizeClass::of(m.size_class))
}

/// "Provides help itself" as the registry shows it: never for a wmo-only team (not
/// applicable), else the stored value and where it comes from.
pub fn provides_help_shown(
    team_type: TeamType,
    provides_help: Option<bool>,
    source: ProvidesHelpSource,
) -> (Option<bool>, ProvidesHelpSource) {
    if team_type == TeamType::Wmo {
        (None, ProvidesHelpSource::NotApplicable)
    } else {
        (provides_help, source)
    }
}

/// The share of ambulatory youth help a team must deliver itself to count as "provides help
/// itself" (CBS and the 2022 study), in percent.
pub const PROVIDES_HELP_THRESHOLD_PCT: f64 = 5.0;

/// First day of the decentralisation; default start of a municipality's service.
pub fn default_valid_from() -> NaiveDate {
    NaiveDate::from_ymd_opt(2015, 1, 1).expect("date")
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServedMunicipality {
    /// CBS code.
    pub code: String,
    pub name: String,
    pub valid_from: Date,
    /// Last day served (inclusive); null while still served.
    pub valid_to: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    /// KvK number (8 digits).
    pub kvk: Option<String>,
    pub team_type: TeamType,
    pub org_form: OrgForm,
    /// Residents can register themselves (zelfmelders).
    pub self_registration: bool,
    /// Whether the team provides help itself (null: unknown, or not applicable to a wmo-only
    /// team: see `providesHelpSource`).
    pub provides_help: Option<bool>,
    pub provides_help_source: ProvidesHelpSource,
    /// When derived from figures: the share of ambulatory youth help delivered by the team (%),
    /// shown only when those figures are published (openbaar).
    pub provides_help_share: Option<f64>,
    /// What the registry declares, used until figures exist.
    pub provides_help_declared: Option<bool>,
    /// The municipality that decides province (and, unless regional, size class) in views.
    pub primary_municipality: String,
    /// Serves several municipalities (today).
    pub regional: bool,
    /// `regionaal` for a regional organisation, else its primary municipality's size class.
    pub size_class: Option<OrgSizeClass>,
    pub province: Option<String>,
    pub municipalities: Vec<ServedMunicipality>,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Organisation {
    /// Whether the organisation serves `code` at some day between `from` and `to`.
    pub fn serves(&self, code: &str, from: NaiveDate, to: NaiveDate) -> bool {
        self.municipalities.iter().any(|m| {
            m.code == code && m.valid_from.0 <= to && m.valid_to.is_none_or(|t| t.0 >= from)
        })
    }
}

/// A municipality served, as input.
#[derive(Debug, Clone, Deserialize, async_graphql::InputObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[graphql(name = "ServedMunicipalityInput")]
pub struct ServedMunicipalityInput {
    /// CBS code, e.g. GM0363.
    pub code: String,
    /// First day served (default 2015-01-01).
    pub valid_from: Option<Date>,
    /// Last day served, inclusive (default: still served).
    pub valid_to: Option<Date>,
}

#[derive(Debug, Clone, Deserialize, async_graphql::InputObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewOrganisation {
    pub name: String,
    /// KvK number, 8 digits.
    pub kvk: Option<String>,
    pub team_type: TeamType,
    pub org_form: OrgForm,
    #[serde(default)]
    #[graphql(default)]
    pub self_registration: bool,
    /// Declared "provides help itself", used until figures show it.
    pub provides_help_declared: Option<bool>,
    /// At least one.
    pub municipalities: Vec<ServedMunicipalityInput>,
    /// Default: the largest municipality served.
    pub primary_municipality: Option<String>,
}

/// A partial update: absent fields stay as they are. `kvk: ""` removes the KvK number;
/// `municipalities` replaces the whole list.
#[derive(Debug, Clone, Default, Deserialize, async_graphql::InputObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganisationPatch {
    pub name: Option<String>,
    pub kvk: Option<String>,
    pub team_type: Option<TeamType>,
    pub org_form: Option<OrgForm>,
    pub self_registration: Option<bool>,
    pub provides_help_declared: Option<bool>,
    pub municipalities: Option<Vec<ServedMunicipalityInput>>,
    pub primary_municipality: Option<String>,
    /// `false` deactivates: its clients' tokens stop working, its figures stay.
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct OrganisationFilter {
    pub team_type: Option<TeamType>,
    pub active: Option<bool>,
    pub municipality: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organisations, treat_none_as_null = true)]
pub struct OrganisationRow {
    pub id: i64,
    pub name: String,
    pub kvk: Option<String>,
    pub team_type: String,
    pub org_form: String,
    pub self_registration: bool,
    pub provides_help_declared: Option<bool>,
    pub provides_help: Option<bool>,
    pub provides_help_source: String,
    pub provides_help_share: Option<f64>,
    pub primary_municipality: String,
    pub active: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = organisations)]
struct NewOrganisationRow {
    name: String,
    kvk: Option<String>,
    team_type: String,
    org_form: String,
    self_registration: bool,
    provides_help_declared: Option<bool>,
    provides_help: Option<bool>,
    provides_help_source: String,
    provides_help_share: Option<f64>,
    primary_municipality: String,
    active: bool,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = om)]
struct ServedRow {
    organisation_id: i64,
    municipality_code: String,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
}

fn validate_name(name: &str, issues: &mut Vec<FieldIssue>) -> String {
    let name = name.trim().to_owned();
    if name.chars().count() < 2 || name.chars().count() > 200 || name.chars().any(char::is_control)
    {
        issues.push(FieldIssue::new(
            "/name",
            "invalid_name",
            "naam van 2-200 tekens / name of 2-200 characters",
        ));
    }
    crate::free_text::check_personal(&name, |c, m| FieldIssue::new("/name", c, m), issues);
    name
}

fn validate_kvk(kvk: &str, issues: &mut Vec<FieldIssue>) -> Option<String> {
    let kvk: String = kvk.chars().filter(|c| !c.is_whitespace()).collect();
    if kvk.is_empty() {
        return None;
    }
    if kvk.len() != 8 || !kvk.bytes().all(|b| b.is_ascii_digit()) || kvk == "00000000" {
        issues.push(FieldIssue::new(
            "/kvk",
            "invalid_kvk",
            "KvK-nummer bestaat uit 8 cijfers / a KvK number has 8 digits",
        ));
    }
    Some(kvk)
}

fn validate_municipalities(
    reference: &Reference,
    list: &[ServedMunicipalityInput],
    issues: &mut Vec<FieldIssue>,
) -> Vec<(String, NaiveDate, Option<NaiveDate>)> {
    if list.is_empty() {
        issues.push(FieldIssue::new(
            "/municipalities",
            "municipalities_required",
            "een organisatie bedient minstens één gemeente / at least one municipality",
        ));
    }
    let mut out: Vec<(String, NaiveDate, Option<NaiveDate>)> = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let code = m.code.trim().to_ascii_uppercase();
        if reference.municipality(&code).is_none() {
            issues.push(FieldIssue::new(
                format!("/municipalities/{i}/code"),
                "unknown_municipality",
                format!(
                    "onbekende gemeentecode / unknown municipality {:?} (CBS list {})",
                    m.code, reference.year
                ),
            ));
            continue;
        }
        let from = m
            .valid_from
            .map_or_else(default_valid_from, NaiveDate::from);
        let valid_to = m.valid_to.map(NaiveDate::from);
        if let Some(to) = valid_to
            && to < from
        {
            issues.push(FieldIssue::new(
                format!("/municipalities/{i}/validTo"),
                "invalid_validity",
                "validTo ligt voor validFrom / validTo is before validFrom",
            ));
            continue;
        }
        let overlaps = out.iter().any(|(c, f, t)| {
            *c == code
                && *f <= valid_to.unwrap_or(NaiveDate::MAX)
                && t.unwrap_or(NaiveDate::MAX) >= from
        });
        if overlaps {
            issues.push(FieldIssue::new(
                format!("/municipalities/{i}"),
                "duplicate_municipality",
                format!("{code} is listed twice for overlapping periods"),
            ));
            continue;
        }
        out.push((code, from, valid_to));
    }
    out
}

fn choose_primary(
    reference: &Reference,
    served: &[(String, NaiveDate, Option<NaiveDate>)],
    requested: Option<&str>,
    issues: &mut Vec<FieldIssue>,
) -> String {
    if let Some(p) = requested {
        let p = p.trim().to_ascii_uppercase();
        if !served.iter().any(|(c, _, _)| *c == p) {
            issues.push(FieldIssue::new(
                "/primaryMunicipality",
                "primary_not_served",
                "de hoofdgemeente moet een bediende gemeente zijn / must be one of the municipalities",
            ));
        }
        return p;
    }
    served
        .iter()
        .filter_map(|(c, _, _)| reference.municipality(c))
        .max_by_key(|m| m.population)
        .map(|m| m.code.clone())
        .unwrap_or_default()
}

/// `(provides_help, source)` from a declaration when no figures decide it.
fn declared_state(declared: Option<bool>) -> (Option<bool>, ProvidesHelpSource) {
    match declared {
        Some(d) => (Some(d), ProvidesHelpSource::Declared),
        None => (None, ProvidesHelpSource::Unknown),
    }
}

pub fn create(
    conn: &mut DbConn,
    reference: &Reference,
    caller: &Caller,
    input: NewOrganisation,
) -> AppResult<Organisation> {
    caller.require_admin()?;
    let mut issues = Vec::new();
    let name = validate_name(&input.name, &mut issues);
    let kvk = input
        .kvk
        .as_deref()
        .and_then(|k| validate_kvk(k, &mut issues));
    let served = validate_municipalities(reference, &input.municipalities, &mut issues);
    let primary = choose_primary(
        reference,
        &served,
        input.primary_municipality.as_deref(),
        &mut issues,
    );
    if !issues.is_empty() {
        return Err(AppError::Validation(issues.into()));
    }
    let now = crate::db::now();
    let (provides_help, source) = declared_state(input.provides_help_declared);
    crate::db::transaction(conn, |conn| {
        let id: i64 = diesel::insert_into(organisations::table)
            .values(NewOrganisationRow {
                name,
                kvk,
                team_type: input.team_type.as_str().to_owned(),
                org_form: input.org_form.as_str().to_owned(),
                self_registration: input.self_registration,
                provides_help_declared: input.provides_help_declared,
                provides_help,
                provides_help_source: source.as_str().to_owned(),
                provides_help_share: None,
                primary_municipality: primary,
                active: true,
                created_at: now,
                updated_at: now,
            })
            .returning(organisations::id)
            .get_result(conn)?;
        insert_served(conn, id, &served)?;
        // Views group and count organisations: they must see this one at once.
        crate::db::versions::bump_registry(conn)?;
        let created = get(conn, reference, id)?;
        audit::record(
            conn,
            caller,
            AuditAction::OrganisationCreated,
            AuditSubject::Organisation,
            id,
            None,
            Some(&created),
        )?;
        Ok(created)
    })
}

fn insert_served(
    conn: &mut DbConn,
    id: i64,
    served: &[(String, NaiveDate, Option<NaiveDate>)],
) -> AppResult<()> {
    let rows: Vec<ServedRow> = served
        .iter()
        .map(|(code, from, to)| ServedRow {
            organisation_id: id,
            municipality_code: code.clone(),
            valid_from: *from,
            valid_to: *to,
        })
        .collect();
    for chunk in rows.chunks(1000) {
        crate::with_conn!(conn, |c| diesel::insert_into(om::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

pub fn update(
    conn: &mut DbConn,
    reference: &Reference,
    caller: &Caller,
    id: i64,
    patch: OrganisationPatch,
) -> AppResult<Organisation> {
    caller.require_admin()?;
    let mut row = load_row(conn, id)?;
    let current = get(conn, reference, id)?;
    let mut issues = Vec::new();
    if let Some(name) = &patch.name {
        row.name = validate_name(name, &mut issues);
    }
    if let Some(kvk) = &patch.kvk {
        row.kvk = validate_kvk(kvk, &mut issues);
    }
    if let Some(t) = patch.team_type {
        row.team_type = t.as_str().to_owned();
    }
    if let Some(f) = patch.org_form {
        row.org_form = f.as_str().to_owned();
    }
    if let Some(s) = patch.self_registration {
        row.self_registration = s;
    }
    if let Some(active) = patch.active {
        row.active = active;
    }
    if let Some(d) = patch.provides_help_declared {
        row.provides_help_declared = Some(d);
        if row.provides_help_source != ProvidesHelpSource::Figures.as_str() {
            let (v, s) = declared_state(Some(d));
            row.provides_help = v;
            row.provides_help_source = s.as_str().to_owned();
        }
    }
    let served = patch
        .municipalities
        .as_ref()
        .map(|list| validate_municipalities(reference, list, &mut issues));
    let served_now: Vec<(String, NaiveDate, Option<NaiveDate>)> = match &served {
        Some(s) => s.clone(),
        None => current
            .municipalities
            .iter()
            .map(|m| {
                (
                    m.code.clone(),
                    m.valid_from.0,
                    m.valid_to.map(NaiveDate::from),
                )
            })
            .collect(),
    };
    if patch.primary_municipality.is_some()
        || !served_now
            .iter()
            .any(|(c, _, _)| *c == row.primary_municipality)
    {
        row.primary_municipality = choose_primary(
            reference,
            &served_now,
            patch.primary_municipality.as_deref(),
            &mut issues,
        );
    }
    if !issues.is_empty() {
        return Err(AppError::Validation(issues.into()));
    }
    row.updated_at = crate::db::now();
    crate::db::transaction(conn, |conn| {
        diesel::update(organisations::table.find(id))
            .set(&row)
            .execute(conn)?;
        if let Some(served) = &served {
            diesel::delete(om::table.filter(om::organisation_id.eq(id))).execute(conn)?;
            insert_served(conn, id, served)?;
        }
        crate::db::versions::bump_registry(conn)?;
        let after = get(conn, reference, id)?;
        let action = match (current.active, after.active) {
            (true, false) => AuditAction::OrganisationDeactivated,
            (false, true) => AuditAction::OrganisationReactivated,
            _ => AuditAction::OrganisationChanged,
        };
        audit::record(
            conn,
            caller,
            action,
            AuditSubject::Organisation,
            id,
            Some(&current),
            Some(&after),
        )?;
        Ok(after)
    })
}

fn load_row(conn: &mut DbConn, id: i64) -> AppResult<OrganisationRow> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("organisation", id))
}

fn assemble(
    reference: &Reference,
    row: OrganisationRow,
    served: Vec<ServedRow>,
) -> AppResult<Organisation> {
    let primary = reference.municipality(&row.primary_municipality);
    let team_type: TeamType = row.team_type.parse().map_err(AppError::internal)?;
    let (provides_help, provides_help_source) = provides_help_shown(
        team_type,
        row.provides_help,
        row.provides_help_source
            .parse()
            .map_err(AppError::internal)?,
    );
    let regional = is_regional(
        served
            .iter()
            .map(|s| (s.municipality_code.as_str(), s.valid_to)),
    );
    Ok(Organisation {
        id: row.id,
        team_type,
        org_form: row.org_form.parse().map_err(AppError::internal)?,
        provides_help_source,
        regional,
        size_class: size_class_of(reference, &row.primary_municipality, regional),
        province: primary.map(|m| m.province.clone()),
        municipalities: served
            .into_iter()
            .map(|s| ServedMunicipality {
                name: reference
                    .municipality(&s.municipality_code)
                    .map(|m| m.name.clone())
                    .unwrap_or_default(),
                code: s.municipality_code,
                valid_from: s.valid_from.into(),
                valid_to: s.valid_to.map(Date::from),
            })
            .collect(),
        name: row.name,
        kvk: row.kvk,
        self_registration: row.self_registration,
        provides_help,
        provides_help_share: row.provides_help_share,
        provides_help_declared: row.provides_help_declared,
        primary_municipality: row.primary_municipality,
        active: row.active,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    })
}

/// One organisation (public).
pub fn get(conn: &mut DbConn, reference: &Reference, id: i64) -> AppResult<Organisation> {
    let row = load_row(conn, id)?;
    let served = om::table
        .filter(om::organisation_id.eq(id))
        .order((om::municipality_code, om::valid_from))
        .select(ServedRow::as_select())
        .load(conn)?;
    assemble(reference, row, served)
}

/// Organisations, filtered (public).
pub fn list(
    conn: &mut DbConn,
    reference: &Reference,
    filter: &OrganisationFilter,
) -> AppResult<Vec<Organisation>> {
    let mut query = organisations::table
        .select(OrganisationRow::as_select())
        .order(organisations::id)
        .into_boxed();
    if let Some(t) = filter.team_type {
        query = query.filter(organisations::team_type.eq(t.as_str()));
    }
    if let Some(a) = filter.active {
        query = query.filter(organisations::active.eq(a));
    }
    let rows: Vec<OrganisationRow> = query.load(conn)?;
    let mut served: HashMap<i64, Vec<ServedRow>> = HashMap::new();
    for s in om::table
        .order((om::organisation_id, om::municipality_code, om::valid_from))
        .select(ServedRow::as_select())
        .load::<ServedRow>(conn)?
    {
        served.entry(s.organisation_id).or_default().push(s);
    }
    let wanted: Option<String> = filter
        .municipality
        .as_ref()
        .map(|m| m.trim().to_ascii_uppercase());
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let s = served.remove(&r.id).unwrap_or_default();
        if let Some(w) = &wanted
            && !s.iter().any(|m| &m.municipality_code == w)
        {
            continue;
        }
        out.push(assemble(reference, r, s)?);
    }
    Ok(out)
}

/// The indicator whose figures decide "provides help itself".
pub const PROVIDES_HELP_INDICATOR: &str = "jeugd_aandeel_ambulant_door_team";

/// Derive "provides help itself" from the organisation's counted figures (the newest year of
/// the share of ambulatory youth help delivered by the team, pooled over its municipalities);
/// without such figures, the declaration stands. Called whenever counted figures change.
pub fn refresh_provides_help(conn: &mut DbConn, organisation_id: i64) -> AppResult<()> {
    use crate::db::schema::figures;
    let rows: Vec<(NaiveDate, Option<i64>, Option<i64>, String)> = figures::table
        .filter(figures::organisation_id.eq(organisation_id))
        .filter(figures::counted)
        .filter(figures::indicator.eq(PROVIDES_HELP_INDICATOR))
        .select((
            figures::period_start,
            figures::numerator,
            figures::denominator,
            figures::publication,
        ))
        .load(conn)?;
    let newest = rows.iter().map(|r| r.0).max();
    let latest: Vec<_> = rows.iter().filter(|r| Some(r.0) == newest).collect();
    let (num, den) = latest.iter().fold((0i64, 0i64), |(n, d), r| {
        (n + r.1.unwrap_or(0), d + r.2.unwrap_or(0))
    });
    // The registry is public: the share itself is shown only when the figures behind it are
    // published (disclosure control); the yes/no category it decides may always be shown.
    let published = latest.iter().all(|r| r.3 == "openbaar");
    let row = load_row(conn, organisation_id)?;
    let (provides_help, source, share) = if den > 0 {
        let share = 100.0 * num as f64 / den as f64;
        (
            Some(share >= PROVIDES_HELP_THRESHOLD_PCT),
            ProvidesHelpSource::Figures,
            Some(share).filter(|_| published),
        )
    } else {
        let (v, s) = declared_state(row.provides_help_declared);
        (v, s, None)
    };
    if row.provides_help != provides_help
        || row.provides_help_source != source.as_str()
        || row.provides_help_share != share
    {
        diesel::update(organisations::table.find(organisation_id))
            .set((
                organisations::provides_help.eq(provides_help),
                organisations::provides_help_source.eq(source.as_str()),
                organisations::provides_help_share.eq(share),
            ))
            .execute(conn)?;
        crate::db::versions::bump_registry(conn)?;
    }
    Ok(())
}
