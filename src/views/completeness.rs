//! Completeness: for a period, which organisations reported which indicators. The study's main
//! complaint is that teams report different things; this shows how far the basisset is from
//! being used everywhere.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use serde::Serialize;

use super::cache::Deps;
use super::{Audience, ViewContext};
use crate::db::LazyConn;
use crate::db::schema::figure_rollups;
use crate::db::versions::Snapshot;
use crate::disclosure::ConfStatus;
use crate::error::AppResult;
use crate::period::{Period, PeriodInfo};
use crate::registry::TeamType;

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IndicatorCoverage {
    pub code: String,
    pub label_nl: String,
    /// Active organisations the indicator applies to (by team type).
    pub applicable: i64,
    /// Of those, how many reported it (counted figures within the period). Withheld from
    /// callers other than the Associatie when between 1 and k-1 (it would point at who
    /// reported).
    pub reported: Option<i64>,
    /// reported / applicable, in percent.
    pub coverage: Option<f64>,
    /// `F` shown, `A` withheld (too few organisations reported).
    pub conf_status: ConfStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationCoverage {
    pub id: i64,
    pub name: String,
    pub team_type: TeamType,
    pub applicable: i64,
    pub reported: i64,
    pub coverage: Option<f64>,
    /// Applicable indicators it did not report.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompletenessView {
    pub period: PeriodInfo,
    pub catalogue_version: String,
    /// Active organisations considered.
    pub organisations_considered: i64,
    /// Reported (organisation, indicator) pairs over applicable pairs, in percent.
    pub overall_coverage: Option<f64>,
    pub indicators: Vec<IndicatorCoverage>,
    /// Per organisation: all of them for the Associatie, a team's own row for a team, none
    /// for the public.
    pub organisations: Vec<OrganisationCoverage>,
}

fn pct(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| 100.0 * a as f64 / b as f64)
}

#[derive(Debug, Clone)]
pub struct CompletenessQuery {
    pub period: Period,
    pub version: Option<String>,
    pub team_type: Option<TeamType>,
}

pub fn completeness_view(
    conn: &mut LazyConn<'_>,
    ctx: &ViewContext<'_>,
    q: &CompletenessQuery,
) -> AppResult<std::sync::Arc<CompletenessView>> {
    ctx.cached(conn, "completeness", q, Deps::Everything, |conn| {
        compute(conn, ctx, q)
    })
}

/// The view if it is cached at `at` (no database, nothing computed).
pub fn completeness_cached(
    ctx: &ViewContext<'_>,
    at: &Snapshot,
    q: &CompletenessQuery,
) -> Option<std::sync::Arc<CompletenessView>> {
    ctx.cached_only(at, "completeness", q, Deps::Everything)
}

fn compute(
    conn: &mut LazyConn<'_>,
    ctx: &ViewContext<'_>,
    q: &CompletenessQuery,
) -> AppResult<CompletenessView> {
    let (catalogue, audience) = (ctx.catalogue, ctx.audience);
    let (period, version, team_type) = (q.period, q.version.as_deref(), q.team_type);
    let v = catalogue.resolve_version(version, "version")?;
    let reported: BTreeSet<(i64, String)> = figure_rollups::table
        .filter(figure_rollups::period_start.ge(period.start()))
        .filter(figure_rollups::period_end.le(period.end()))
        .select((figure_rollups::organisation_id, figure_rollups::indicator))
        .distinct()
        .load::<(i64, String)>(conn.get()?)?
        .into_iter()
        .collect();
    let orgs = ctx.organisations(conn)?;
    let mut considered: Vec<&super::OrgInfo> = orgs
        .values()
        .filter(|o| o.active && team_type.is_none_or(|t| t == o.team_type))
        .collect();
    considered.sort_by_key(|o| o.id);
    let indicators: Vec<_> = v
        .indicators
        .iter()
        .filter(|i| {
            !i.retired
                && i.period_types
                    .iter()
                    .any(|t| t.rank() >= period.kind.rank())
        })
        .collect();
    let mut per_indicator: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    let mut rows = Vec::new();
    let (mut all_reported, mut all_applicable) = (0i64, 0i64);
    for o in &considered {
        let mut applicable = 0;
        let mut got = 0;
        let mut missing = Vec::new();
        for i in indicators.iter().filter(|i| i.applies_to(o.team_type)) {
            applicable += 1;
            let slot = per_indicator.entry(&i.code).or_default();
            slot.1 += 1;
            if reported.contains(&(o.id, i.code.clone())) {
                got += 1;
                slot.0 += 1;
            } else {
                missing.push(i.code.clone());
            }
        }
        all_reported += got;
        all_applicable += applicable;
        let visible = match audience {
            Audience::Full => true,
            Audience::Team(own) => own == o.id,
            Audience::Public => false,
        };
        if visible {
            rows.push(OrganisationCoverage {
                id: o.id,
                name: o.name.clone(),
                team_type: o.team_type,
                applicable,
                reported: got,
                coverage: pct(got, applicable),
                missing,
            });
        }
    }
    Ok(CompletenessView {
        period: period.info(),
        catalogue_version: v.version.clone(),
        organisations_considered: considered.len() as i64,
        overall_coverage: pct(all_reported, all_applicable),
        indicators: indicators
            .iter()
            .map(|i| {
                let (r, a) = per_indicator
                    .get(i.code.as_str())
                    .copied()
                    .unwrap_or_default();
                let hide = audience != Audience::Full && r > 0 && (r as usize) < ctx.policy.k;
                IndicatorCoverage {
                    code: i.code.clone(),
                    label_nl: i.label_nl.clone(),
                    applicable: a,
                    reported: (!hide).then_some(r),
                    coverage: pct(r, a).filter(|_| !hide),
                    conf_status: if hide { ConfStatus::A } else { ConfStatus::F },
                }
            })
            .collect(),
        organisations: rows,
    })
}
