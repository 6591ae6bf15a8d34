//! The aggregate view: one indicator, one period (or a span of years), grouped and filtered by
//! organisation characteristics, with the national total.

use std::collections::BTreeMap;

use serde::Serialize;

use super::cache::Deps;
use super::protect::{CellKey, Family, require_public_table};
use super::{
    Aggregate, Combine, Group, GroupDim, IndicatorRef, Member, Pooling, PublicStatus, ViewContext,
    ViewFilter, aggregate_full, aggregate_public, by_organisation, combine_units,
    resolve_indicator, rollup, withheld,
};
use crate::db::LazyConn;
use crate::db::versions::Snapshot;
use crate::error::{AppError, AppResult};
use crate::period::{Period, PeriodInfo, PeriodType};

#[derive(Debug, Clone, Default)]
pub struct AggregateQuery {
    pub indicator: String,
    pub version: Option<String>,
    /// The period units: one period, or consecutive years.
    pub units: Vec<Period>,
    pub group_by: Vec<GroupDim>,
    pub filter: ViewFilter,
    /// Requested pooling (`pooling`); default the indicator's.
    pub pooling: Option<Pooling>,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AggregateRow {
    pub group: Group,
    #[serde(flatten)]
    #[graphql(flatten)]
    pub aggregate: Aggregate,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AggregateView {
    pub indicator: IndicatorRef,
    /// First and last period unit (equal for a single period).
    pub from: PeriodInfo,
    pub to: PeriodInfo,
    pub group_by: Vec<GroupDim>,
    /// How the organisations' figures make up each value (`distribution` for an indicator that
    /// is not additive: no sums, the quartiles of the per-organisation values).
    pub pooling: Pooling,
    /// Catalogue versions whose figures are counted (every version defining the indicator with
    /// the same meaning: v1 figures count under v2 where the indicator is unchanged).
    pub catalogue_versions: Vec<String>,
    /// k: organisations whose figures a caller may not see, needed behind a value shown to it.
    pub min_organisations: i64,
    pub rows: Vec<AggregateRow>,
    /// All organisations matching the filter together.
    pub total: Aggregate,
}

/// Per organisation (and, grouping by year, per year): the rolled-up cell.
pub(crate) fn members_by_group(
    kind: crate::catalogue::Kind,
    rows: &[super::ViewRow],
    units: &[Period],
    orgs: &std::collections::HashMap<i64, super::OrgInfo>,
    group_by: &[GroupDim],
    filter: &ViewFilter,
) -> BTreeMap<Group, Vec<Member>> {
    let per_year = group_by.contains(&GroupDim::Year);
    let mut groups: BTreeMap<Group, Vec<Member>> = BTreeMap::new();
    for (org_id, org_rows) in by_organisation(rows).iter() {
        let Some(org) = orgs.get(&org_id) else {
            continue;
        };
        if !org.matches(filter) {
            continue;
        }
        let cells: Vec<Option<super::Cell>> =
            units.iter().map(|u| rollup(kind, org_rows, *u)).collect();
        if per_year {
            // Units are years (or a single period): one member per year.
            let mut by_year: BTreeMap<i32, Vec<Option<super::Cell>>> = BTreeMap::new();
            for (u, c) in units.iter().zip(&cells) {
                by_year.entry(u.year).or_default().push(*c);
            }
            for (year, cs) in by_year {
                if let Some(cell) = combine_units(kind, &cs) {
                    groups
                        .entry(org.group(group_by, Some(year)))
                        .or_default()
                        .push(Member {
                            organisation: org_id,
                            cell,
                        });
                }
            }
        } else if let Some(cell) = combine_units(kind, &cells) {
            groups
                .entry(org.group(group_by, None))
                .or_default()
                .push(Member {
                    organisation: org_id,
                    cell,
                });
        }
    }
    groups
}

pub fn aggregate_view(
    conn: &mut LazyConn<'_>,
    ctx: &ViewContext<'_>,
    q: &AggregateQuery,
) -> AppResult<std::sync::Arc<AggregateView>> {
    ctx.cached(conn, "aggregate", q, deps(q), |conn| compute(conn, ctx, q))
}

/// The view if it is cached at `at` (no database, nothing computed).
pub fn aggregate_cached(
    ctx: &ViewContext<'_>,
    at: &Snapshot,
    q: &AggregateQuery,
) -> Option<std::sync::Arc<AggregateView>> {
    ctx.cached_only(at, "aggregate", q, deps(q))
}

fn deps(q: &AggregateQuery) -> Deps {
    Deps::indicator(&q.indicator, q.units.iter().map(|u| u.year))
}

/// What a caller other than the Associatie may ask: years only, a public table, and a span
/// of years only per year. Returns the public table and the years.
pub(crate) fn public_request(
    units: &[Period],
    group_by: &[GroupDim],
    filter: &ViewFilter,
    field: &str,
) -> AppResult<(&'static [GroupDim], Vec<i32>)> {
    if let Some(u) = units.iter().find(|u| u.kind != PeriodType::Year) {
        return Err(AppError::bad_request(
            "PERIOD_NOT_PUBLISHED",
            format!(
                "period {}: figures are published per year; half-years and quarters are for the \
                 Associatie only (they would let a year's suppressed values be derived)",
                u.code()
            ),
        ));
    }
    if units.len() > 1 && !group_by.contains(&GroupDim::Year) {
        return Err(AppError::bad_request(
            "SPAN_NOT_PUBLISHED",
            "from/to: a span of years is published per year only; add year to groupBy (or \
             ask per period)",
        ));
    }
    let mut dims: Vec<GroupDim> = group_by.to_vec();
    dims.extend(filter.dims());
    let table = require_public_table(&dims, field)?;
    Ok((table, units.iter().map(|u| u.year).collect()))
}

/// The cells of a public table in one family that match a filter, keyed by their row group
/// (the `group_by` dimensions, and `year` when grouping by year).
pub(crate) fn public_rows(
    family: &Family,
    table: &[GroupDim],
    group_by: &[GroupDim],
    filter: &ViewFilter,
    year: Option<i32>,
) -> Vec<(Group, CellKey)> {
    let fixed = filter.dims();
    let want = Group::default().with_filter(filter);
    family
        .tables
        .get(table)
        .into_iter()
        .flatten()
        .filter_map(|key| {
            let CellKey::Group(g) = key else { return None };
            (g.project(&fixed) == want).then(|| {
                let mut row = g.project(group_by);
                row.year = year.filter(|_| group_by.contains(&GroupDim::Year));
                (row, key.clone())
            })
        })
        .collect()
}

/// The key of the family cell a row (group values plus filter) stands for.
pub(crate) fn family_key(row: &Group, filter: &ViewFilter) -> CellKey {
    CellKey::Group(
        Group {
            year: None,
            ..row.clone()
        }
        .with_filter(filter),
    )
}

fn compute(
    conn: &mut LazyConn<'_>,
    ctx: &ViewContext<'_>,
    q: &AggregateQuery,
) -> AppResult<AggregateView> {
    let (ind, versions) = resolve_indicator(ctx.catalogue, &q.indicator, q.version.as_deref())?;
    let c = Combine::of(ctx.catalogue, ind, &versions, q.pooling, "pooling")?;
    let first = *q.units.first().expect("units");
    let last = *q.units.last().expect("units");
    let policy = ctx.policy;
    let (rows, total) = if ctx.full() {
        full_cells(conn, ctx, ind, c, &versions, q)?
    } else {
        let (table, years) = public_request(&q.units, &q.group_by, &q.filter, "groupBy")?;
        let families = ctx.families(conn, ind, &versions, &years)?;
        let mut rows = BTreeMap::new();
        for (year, family) in years.iter().zip(&families) {
            for (group, key) in public_rows(family, table, &q.group_by, &q.filter, Some(*year)) {
                let cell = family.cell(&key).expect("listed cell");
                rows.insert(group, aggregate_public(c, cell, ctx.audience, &policy));
            }
        }
        let total = match families.as_slice() {
            [family] => {
                let key = family_key(&Group::default(), &q.filter);
                family
                    .cell(&key)
                    .map(|cell| aggregate_public(c, cell, ctx.audience, &policy))
                    .unwrap_or_else(|| withheld(PublicStatus::NOT_PUBLISHED, c.pooling))
            }
            _ => withheld(PublicStatus::NOT_PUBLISHED, c.pooling),
        };
        (rows, total)
    };
    Ok(AggregateView {
        indicator: c.indicator_ref(ind),
        from: first.info(),
        to: last.info(),
        group_by: q.group_by.clone(),
        pooling: c.pooling,
        catalogue_versions: versions,
        min_organisations: policy.k as i64,
        rows: rows
            .into_iter()
            .map(|(group, aggregate)| AggregateRow { group, aggregate })
            .collect(),
        total,
    })
}

/// The Associatie's view: every grouping, exact, with what the public gets of each cell.
fn full_cells(
    conn: &mut LazyConn<'_>,
    ctx: &ViewContext<'_>,
    ind: &crate::catalogue::Indicator,
    c: Combine,
    versions: &[String],
    q: &AggregateQuery,
) -> AppResult<(BTreeMap<Group, Aggregate>, Aggregate)> {
    let first = *q.units.first().expect("units");
    let single = q.units.len() == 1;
    let rows = ctx.summed(conn, ind, versions, &q.units, single)?;
    let orgs = ctx.organisations(conn)?;
    let groups = members_by_group(ind.kind, &rows, &q.units, &orgs, &q.group_by, &q.filter);
    // The total counts every organisation once (over the whole span).
    let total_members: Vec<Member> = if q.group_by.contains(&GroupDim::Year) {
        members_by_group(ind.kind, &rows, &q.units, &orgs, &[], &q.filter)
            .into_values()
            .flatten()
            .collect()
    } else {
        groups.values().flatten().copied().collect()
    };
    // What the public gets: only years, public tables, and per year.
    let public = public_request(&q.units, &q.group_by, &q.filter, "groupBy").ok();
    let families = match &public {
        Some((_, years)) => ctx.families(conn, ind, versions, years)?,
        None => Vec::new(),
    };
    let status_of = |row: &Group| -> PublicStatus {
        let Some((_, years)) = &public else {
            return PublicStatus::NOT_PUBLISHED;
        };
        let year = row.year.unwrap_or(first.year);
        let Some(family) = years
            .iter()
            .position(|y| *y == year)
            .and_then(|i| families.get(i))
        else {
            return PublicStatus::NOT_PUBLISHED;
        };
        family
            .cell(&family_key(row, &q.filter))
            .map(PublicStatus::of)
            .unwrap_or(PublicStatus::NOT_PUBLISHED)
    };
    let policy = ctx.policy;
    let total_status = if families.len() == 1 {
        status_of(&Group::default())
    } else {
        PublicStatus::NOT_PUBLISHED
    };
    let total = aggregate_full(c, &total_members, &policy, total_status);
    let rows = groups
        .into_iter()
        .map(|(group, members)| {
            let agg = aggregate_full(c, &members, &policy, status_of(&group));
            (group, agg)
        })
        .collect();
    Ok((rows, total))
}
