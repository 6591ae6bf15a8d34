//! Values per CBS municipality code, for maps. A figure counts for a municipality when it was
//! reported for it, or when it was reported organisation-wide by an organisation that served
//! only that municipality in the period.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::{
    Aggregate, IndicatorRef, Member, ViewContext, aggregate, combine_units, fetch,
    resolve_indicator, rollup,
};
use crate::db::DbConn;
use crate::db::schema::organisation_municipalities as om;
use crate::error::AppResult;
use crate::period::{Period, PeriodInfo};
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
    conn: &mut DbConn,
    ctx: &ViewContext<'_>,
    q: &MunicipalityQuery,
) -> AppResult<std::sync::Arc<MunicipalityView>> {
    ctx.cached(conn, "municipalities", q, |conn| compute(conn, ctx, q))
}

fn compute(
    conn: &mut DbConn,
    ctx: &ViewContext<'_>,
    q: &MunicipalityQuery,
) -> AppResult<MunicipalityView> {
    let (catalogue, reference, audience, t) =
        (ctx.catalogue, ctx.reference, ctx.audience, ctx.thresholds);
    let (indicator, version, units) = (q.indicator.as_str(), q.version.as_deref(), &q.units[..]);
    let (ind, versions) = resolve_indicator(catalogue, indicator, version)?;
    let (from, to) = (units[0].start(), units[units.len() - 1].end());
    let rows = fetch(conn, ind.kind, &ind.code, &versions, from, to)?;
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
    let mut keyed: HashMap<(i64, String), Vec<&super::ViewRow>> = HashMap::new();
    let mut unattributed = std::collections::HashSet::new();
    for r in &rows {
        let code = match &r.municipality {
            Some(m) => Some(m.clone()),
            None => match only.get(&r.organisation).map(Vec::as_slice) {
                Some([single]) => Some(single.clone()),
                _ => None,
            },
        };
        match code {
            Some(c) => keyed.entry((r.organisation, c)).or_default().push(r),
            None => {
                unattributed.insert(r.organisation);
            }
        }
    }
    let mut by_muni: BTreeMap<String, Vec<Member>> = BTreeMap::new();
    for ((org, code), rs) in keyed {
        let cells: Vec<_> = units.iter().map(|u| rollup(ind.kind, &rs, *u)).collect();
        if let Some(cell) = combine_units(ind.kind, &cells) {
            by_muni.entry(code).or_default().push(Member {
                organisation: org,
                cell,
            });
        }
    }
    Ok(MunicipalityView {
        indicator: IndicatorRef::of(ind),
        from: units[0].info(),
        to: units[units.len() - 1].info(),
        min_organisations: t.min_organisations as i64,
        rows: by_muni
            .into_iter()
            .filter_map(|(code, members)| {
                let m = reference.municipality(&code)?;
                Some(MunicipalityValue {
                    code,
                    name: m.name.clone(),
                    province: m.province.clone(),
                    size_class: m.size_class,
                    aggregate: aggregate(ind.kind, &members, audience, t),
                })
            })
            .collect(),
        unattributed_organisations: unattributed.len() as i64,
    })
}
