//! Trends: a yearly series per group, indexed to a base year (index 2017 = 100, as the study
//! does), with the change since the base year.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::aggregate::{family_key, members_by_group, public_rows};
use super::cache::Deps;
use super::protect::require_public_table;
use super::{
    Aggregate, Combine, Group, GroupDim, IndicatorRef, Pooling, PublicStatus, ViewContext,
    ViewFilter, aggregate_full, aggregate_public, resolve_indicator,
};
use crate::db::LazyConn;
use crate::db::versions::Snapshot;
use crate::error::{AppError, AppResult};
use crate::period::Period;

#[derive(Debug, Clone, Default)]
pub struct TrendQuery {
    pub indicator: String,
    pub version: Option<String>,
    pub from: i32,
    pub to: i32,
    /// Base year (index 100); default `from`.
    pub base: Option<i32>,
    pub group_by: Vec<GroupDim>,
    pub filter: ViewFilter,
    /// Only organisations with a value in every year (a balanced panel), so sums compare.
    pub balanced: bool,
    /// Requested pooling (`pooling`); default the indicator's.
    pub pooling: Option<Pooling>,
}

crate::text_enum! {
    /// What `change` is measured in.
    pub enum ChangeUnit {
        /// Percentages (ratios, surveys): difference in percentage points.
        PercentagePoints = "percentage_points",
        /// Other figures: relative change in percent.
        Percent = "percent",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrendPoint {
    pub year: i32,
    #[serde(flatten)]
    #[graphql(flatten)]
    pub aggregate: Aggregate,
    /// value / base-year value * 100 (pooling `distribution`: the median of the per-organisation
    /// values instead of the value); null where either is withheld.
    pub index: Option<f64>,
    /// Change since the base year, in `changeUnit`.
    pub change: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrendSeries {
    pub group: Group,
    pub points: Vec<TrendPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrendView {
    pub indicator: IndicatorRef,
    pub from: i32,
    pub to: i32,
    pub base: i32,
    pub change_unit: ChangeUnit,
    pub group_by: Vec<GroupDim>,
    pub balanced: bool,
    /// How the organisations' figures make up each value (`distribution`: not additive; index
    /// and change follow the median of the per-organisation values).
    pub pooling: Pooling,
    /// Catalogue versions whose figures are counted.
    pub catalogue_versions: Vec<String>,
    pub min_organisations: i64,
    pub series: Vec<TrendSeries>,
}

/// What a trend depends on: its indicator in its years. A span no trend can have (the
/// computation refuses it) is not listed year by year: it depends on everything.
fn trend_deps(q: &TrendQuery) -> Deps {
    let (from, to) = (q.from.min(q.to), q.from.max(q.to));
    if (to as i64 - from as i64) <= 200 {
        Deps::indicator(&q.indicator, from..=to)
    } else {
        Deps::Everything
    }
}

pub fn trend_view(
    conn: &mut LazyConn<'_>,
    ctx: &ViewContext<'_>,
    q: &TrendQuery,
) -> AppResult<std::sync::Arc<TrendView>> {
    ctx.cached(conn, "trend", q, trend_deps(q), |conn| {
        compute(conn, ctx, q)
    })
}

/// The view if it is cached at `at` (no database, nothing computed).
pub fn trend_cached(
    ctx: &ViewContext<'_>,
    at: &Snapshot,
    q: &TrendQuery,
) -> Option<std::sync::Arc<TrendView>> {
    ctx.cached_only(at, "trend", q, trend_deps(q))
}

fn compute(conn: &mut LazyConn<'_>, ctx: &ViewContext<'_>, q: &TrendQuery) -> AppResult<TrendView> {
    let policy = ctx.policy;
    if q.group_by.contains(&GroupDim::Year) {
        return Err(AppError::validation(
            "groupBy",
            "invalid_value",
            "a trend is per year already; leave year out of groupBy",
        ));
    }
    let units = super::years_between(Period::year(q.from), Period::year(q.to))?;
    let base = q.base.unwrap_or(q.from);
    if !(q.from..=q.to).contains(&base) {
        return Err(AppError::validation(
            "base",
            "out_of_range",
            "the base year lies between from and to",
        ));
    }
    let (ind, versions) = resolve_indicator(ctx.catalogue, &q.indicator, q.version.as_deref())?;
    let c = Combine::of(ctx.catalogue, ind, &versions, q.pooling, "pooling")?;
    let years: Vec<i32> = units.iter().map(|u| u.year).collect();
    let mut by_series: BTreeMap<Group, BTreeMap<i32, Aggregate>> = BTreeMap::new();
    if ctx.full() {
        let rows = ctx.summed(conn, ind, &versions, &units, false)?;
        let orgs = ctx.organisations(conn)?;
        let mut dims = q.group_by.clone();
        dims.push(GroupDim::Year);
        let mut groups = members_by_group(ind.kind, &rows, &units, &orgs, &dims, &q.filter);
        if q.balanced {
            let mut seen: BTreeMap<i64, HashSet<i32>> = BTreeMap::new();
            for (g, members) in &groups {
                for m in members {
                    seen.entry(m.organisation)
                        .or_default()
                        .insert(g.year.unwrap_or(0));
                }
            }
            let panel: HashSet<i64> = seen
                .into_iter()
                .filter(|(_, ys)| ys.len() == years.len())
                .map(|(o, _)| o)
                .collect();
            for members in groups.values_mut() {
                members.retain(|m| panel.contains(&m.organisation));
            }
            groups.retain(|_, m| !m.is_empty());
        }
        // What the public gets of each point (a balanced panel is not published).
        let public = if q.balanced {
            None
        } else {
            require_public_table(
                &q.group_by
                    .iter()
                    .copied()
                    .chain(q.filter.dims())
                    .collect::<Vec<_>>(),
                "groupBy",
            )
            .ok()
        };
        let families = match public {
            Some(_) => ctx.families(conn, ind, &versions, &years)?,
            None => Vec::new(),
        };
        for (g, members) in groups {
            let year = g.year.unwrap_or(q.from);
            let key = Group { year: None, ..g };
            let status = years
                .iter()
                .position(|y| *y == year)
                .and_then(|i| families.get(i))
                .and_then(|f| f.cell(&family_key(&key, &q.filter)))
                .map(PublicStatus::of)
                .unwrap_or(PublicStatus::NOT_PUBLISHED);
            by_series
                .entry(key)
                .or_default()
                .insert(year, aggregate_full(c, &members, &policy, status));
        }
    } else {
        if q.balanced {
            return Err(AppError::bad_request(
                "GROUPING_NOT_PUBLISHED",
                "balanced: a balanced panel (only organisations reporting every year) is for the \
                 Associatie only: its cells differ from the published ones by a few organisations",
            ));
        }
        let mut dims = q.group_by.clone();
        dims.extend(q.filter.dims());
        let table = require_public_table(&dims, "groupBy")?;
        let families = ctx.families(conn, ind, &versions, &years)?;
        for (year, family) in years.iter().zip(&families) {
            for (group, key) in public_rows(family, table, &q.group_by, &q.filter, None) {
                let cell = family.cell(&key).expect("listed cell");
                by_series
                    .entry(group)
                    .or_default()
                    .insert(*year, aggregate_public(c, cell, ctx.audience, &policy));
            }
        }
    }
    let change_unit = if ind.kind.is_percentage() {
        ChangeUnit::PercentagePoints
    } else {
        ChangeUnit::Percent
    };
    // What index and change follow: the pooled value, or (not additive) the median.
    let level = |a: &Aggregate| {
        if c.pooling.pools() {
            a.value
        } else {
            a.distribution.as_ref().map(|d| d.median)
        }
    };
    let series = by_series
        .into_iter()
        .map(|(group, aggregates)| {
            let base_value = aggregates.get(&base).and_then(level);
            let points = (q.from..=q.to)
                .filter_map(|y| aggregates.get(&y).map(|a| (y, a.clone())))
                .map(|(year, agg)| {
                    let (index, change) = match (level(&agg), base_value) {
                        (Some(v), Some(b)) => (
                            (b != 0.0).then(|| 100.0 * v / b),
                            match change_unit {
                                ChangeUnit::PercentagePoints => Some(v - b),
                                ChangeUnit::Percent => (b != 0.0).then(|| 100.0 * (v - b) / b),
                            },
                        ),
                        _ => (None, None),
                    };
                    TrendPoint {
                        year,
                        aggregate: agg,
                        index,
                        change,
                    }
                })
                .collect();
            TrendSeries { group, points }
        })
        .collect();
    Ok(TrendView {
        indicator: c.indicator_ref(ind),
        from: q.from,
        to: q.to,
        base,
        change_unit,
        group_by: q.group_by.clone(),
        balanced: q.balanced,
        pooling: c.pooling,
        catalogue_versions: versions,
        min_organisations: policy.k as i64,
        series,
    })
}
