//! The aggregate view: one indicator, one period (or a span of years), grouped and filtered by
//! organisation characteristics, with the national total.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{
    Aggregate, Group, GroupDim, IndicatorRef, Member, ViewContext, ViewFilter, aggregate,
    by_organisation, combine_units, fetch_summed, resolve_indicator, rollup,
};
use crate::db::DbConn;
use crate::error::AppResult;
use crate::period::{Period, PeriodInfo};

#[derive(Debug, Clone, Default)]
pub struct AggregateQuery {
    pub indicator: String,
    pub version: Option<String>,
    /// The period units: one period, or consecutive years.
    pub units: Vec<Period>,
    pub group_by: Vec<GroupDim>,
    pub filter: ViewFilter,
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
    /// k: organisations needed behind a value shown to teams and the public.
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
    for (org_id, org_rows) in by_organisation(rows) {
        let Some(org) = orgs.get(&org_id) else {
            continue;
        };
        if !org.matches(filter) {
            continue;
        }
        let cells: Vec<Option<super::Cell>> =
            units.iter().map(|u| rollup(kind, &org_rows, *u)).collect();
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
    conn: &mut DbConn,
    ctx: &ViewContext<'_>,
    q: &AggregateQuery,
) -> AppResult<std::sync::Arc<AggregateView>> {
    ctx.cached(conn, "aggregate", q, |conn| compute(conn, ctx, q))
}

fn compute(
    conn: &mut DbConn,
    ctx: &ViewContext<'_>,
    q: &AggregateQuery,
) -> AppResult<AggregateView> {
    let (catalogue, audience, t) = (ctx.catalogue, ctx.audience, ctx.thresholds);
    let (ind, versions) = resolve_indicator(catalogue, &q.indicator, q.version.as_deref())?;
    let first = *q.units.first().expect("units");
    let last = *q.units.last().expect("units");
    let single = q.units.len() == 1;
    let rows = fetch_summed(
        conn,
        ind.kind,
        &ind.code,
        &versions,
        first.start(),
        last.end(),
        single,
    )?;
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
    Ok(AggregateView {
        indicator: IndicatorRef::of(ind),
        from: first.info(),
        to: last.info(),
        group_by: q.group_by.clone(),
        min_organisations: t.min_organisations as i64,
        rows: groups
            .into_iter()
            .map(|(group, members)| AggregateRow {
                group,
                aggregate: aggregate(ind.kind, &members, audience, t),
            })
            .collect(),
        total: aggregate(ind.kind, &total_members, audience, t),
    })
}
