//! Values per CBS municipality code, for maps. A figure counts for a municipality when it was
//! reported for it, or when it was reported organisation-wide by an organisation that served
//! only that municipality in the period.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::cache::Deps;
use super::protect::CellKey;
use super::{
    Aggregate, Combine, IndicatorRef, Member, PublicStatus, ViewContext, ViewRow, aggregate_full,
    aggregate_public, combine_units, fetch, resolve_indicator, rollup,
};
use crate::db::schema::organisation_municipalities as om;
use crate::db::versions::Snapshot;
use crate::db::{DbConn, LazyConn};
use crate::error::{AppError, AppResult};
use crate::period::{Period, PeriodInfo, PeriodType};
use crate::registry::SizeClass;

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MunicipalityValue {
    pub code: String,
    pub name: String,
    pub province: String,
    pub size_class: SizeClass,
    #[serde(flatten)]
    #[graphql(flatten)]
    pub aggregate: Aggregate,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MunicipalityView {
    pub indicator: IndicatorRef,
    pub from: PeriodInfo,
    pub to: PeriodInfo,
    pub min_organisations: i64,
    /// Municipalities with figures, by CBS code.
    pub rows: Vec<MunicipalityValue>,
    /// Organisations whose organisation-wide figures cannot be placed in one municipality.
    pub unattributed_organisations: i64,
}

#[derive(Debug, Clone)]
pub struct MunicipalityQuery {
    pub indicator: String,
    pub version: Option<String>,
    pub units: Vec<Period>,
}

pub fn municipality_view(
    conn: &mut LazyConn<'_>,
    ctx: &ViewContext<'_>,
    q: &MunicipalityQuery,
) -> AppResult<std::sync::Arc<MunicipalityView>> {
    ctx.cached(conn, "municipalities", q, deps(q), |conn| {
        compute(conn, ctx, q)
    })
}

/// The view if it is cached at `at` (no database, nothing computed).
pub fn municipality_cached(
    ctx: &ViewContext<'_>,
    at: &Snapshot,
    q: &MunicipalityQuery,
) -> Option<std::sync::Arc<MunicipalityView>> {
    ctx.cached_only(at, "municipalities", q, deps(q))
}

fn deps(q: &MunicipalityQuery) -> Deps {
    Deps::indicator(&q.indicator, q.units.iter().map(|u| u.year))
}

/// Which municipality an organisation's figures count for: the one they were reported for, or,
/// for organisation-wide figures, the organisation's only municipality in the period.
pub struct Attribution {
    only: HashMap<i64, Vec<String>>,
}

impl Attribution {
    pub fn municipality_of(&self, r: &ViewRow) -> Option<String> {
        match &r.municipality {
            Some(m) => Some(m.clone()),
            None => match self.only.get(&r.organisation).map(Vec::as_slice) {
                Some([single]) => Some(single.clone()),
                _ => None,
            },
        }
    }
}

/// The municipalities each organisation served at some day between `from` and `to`.
pub fn attribution(conn: &mut DbConn, from: NaiveDate, to: NaiveDate) -> AppResult<Attribution> {
    let served: Vec<(i64, String, NaiveDate, Option<NaiveDate>)> = om::table
        .select((
            om::organisation_id,
            om::municipality_code,
            om::valid_from,
            om::valid_to,
        ))
        .load(conn)?;
    let mut only: HashMap<i64, Vec<String>> = HashMap::new();
    for (org, code, f, t) in served {
        if f <= to && t.is_none_or(|t| t >= from) {
            only.entry(org).or_default().push(code);
        }
    }
    Ok(Attribution { only })
}

fn compute(
    conn: &mut LazyConn<'_>,
    ctx: &ViewContext<'_>,
    q: &MunicipalityQuery,
) -> AppResult<MunicipalityView> {
    let (catalogue, reference, policy) = (ctx.catalogue, ctx.reference, ctx.policy);
    let (indicator, version, units) = (q.indicator.as_str(), q.version.as_deref(), &q.units[..]);
    let (ind, versions) = resolve_indicator(catalogue, indicator, version)?;
    // Per municipality as everywhere: an indicator that is not additive shows the value of a
    // municipality's one organisation, never a sum of several.
    let c = Combine::of(catalogue, ind, &versions, None, "pooling")?;
    let (from, to) = (units[0].start(), units[units.len() - 1].end());
    let rows = fetch(conn.get()?, ind.kind, &ind.code, &versions, from, to)?;
    let attribution = attribution(conn.get()?, from, to)?;
    let mut keyed: HashMap<(i64, String), Vec<&ViewRow>> = HashMap::new();
    let mut unattributed = std::collections::HashSet::new();
    for r in &rows {
        match attribution.municipality_of(r) {
            Some(c) => keyed.entry((r.organisation, c)).or_default().push(r),
            None => {
                unattributed.insert(r.organisation);
            }
        }
    }
    let public_year = match units {
        [u] if u.kind == PeriodType::Year => Some(u.year),
        _ => None,
    };
    if !ctx.full() && public_year.is_none() {
        return Err(AppError::bad_request(
            "PERIOD_NOT_PUBLISHED",
            "values per municipality are published per year (one period, a year)",
        ));
    }
    let family = match public_year {
        Some(y) => Some(ctx.family(conn, ind, &versions, y)?),
        None => None,
    };
    let mut by_muni: BTreeMap<String, Aggregate> = BTreeMap::new();
    if ctx.full() {
        let mut members: BTreeMap<String, Vec<Member>> = BTreeMap::new();
        for ((org, code), rs) in keyed {
            let cells: Vec<_> = units.iter().map(|u| rollup(ind.kind, &rs, *u)).collect();
            if let Some(cell) = combine_units(ind.kind, &cells) {
                members.entry(code).or_default().push(Member {
                    organisation: org,
                    cell,
                });
            }
        }
        for (code, ms) in members {
            let status = family
                .as_ref()
                .and_then(|f| f.cell(&CellKey::Municipality(code.clone())))
                .map(PublicStatus::of)
                .unwrap_or(PublicStatus::NOT_PUBLISHED);
            by_muni.insert(code, aggregate_full(c, &ms, &policy, status));
        }
    } else if let Some(family) = &family {
        for (code, key) in &family.municipalities {
            if let Some(cell) = family.cell(key) {
                by_muni.insert(
                    code.clone(),
                    aggregate_public(c, cell, ctx.audience, &policy),
                );
            }
        }
    }
    Ok(MunicipalityView {
        indicator: c.indicator_ref(ind),
        from: units[0].info(),
        to: units[units.len() - 1].info(),
        min_organisations: policy.k as i64,
        rows: by_muni
            .into_iter()
            .filter_map(|(code, aggregate)| {
                let m = reference.municipality(&code)?;
                Some(MunicipalityValue {
                    code,
                    name: m.name.clone(),
                    province: m.province.clone(),
                    size_class: m.size_class,
                    aggregate,
                })
            })
            .collect(),
        unattributed_organisations: unattributed.len() as i64,
    })
}
