//! Where one organisation stands against its peers (same team type and size class unless other
//! dimensions are chosen) and the country.

use serde::Serialize;

use super::aggregate::members_by_group;
use super::{
    Aggregate, Group, GroupDim, IndicatorRef, Member, ViewContext, ViewFilter, aggregate,
    fetch_summed, resolve_indicator, stats,
};
use crate::catalogue::Direction;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::period::{Period, PeriodInfo};

#[derive(Debug, Clone)]
pub struct BenchmarkQuery {
    pub organisation: i64,
    pub indicator: String,
    pub version: Option<String>,
    pub units: Vec<Period>,
    /// Peer dimensions (default team type and size class).
    pub peers: Vec<GroupDim>,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BenchmarkView {
    pub indicator: IndicatorRef,
    pub from: PeriodInfo,
    pub to: PeriodInfo,
    pub organisation: OrganisationRef,
    /// The organisation's own value; null when it has none or the caller may not see it.
    pub value: Option<f64>,
    /// True when the organisation has a value the caller may not see.
    pub value_withheld: bool,
    pub peer_dimensions: Vec<GroupDim>,
    /// The peer group's characteristics.
    pub peer_group: Group,
    /// The peers (excluding the organisation itself).
    pub peers: Aggregate,
    /// Share of peers with a lower value plus half the ties, in percent.
    pub percentile_rank: Option<f64>,
    /// Share of peers the organisation does better than, given the indicator's direction.
    pub better_than_percent: Option<f64>,
    /// All organisations in the country.
    pub national: Aggregate,
}

pub fn benchmark_view(
    conn: &mut DbConn,
    ctx: &ViewContext<'_>,
    q: &BenchmarkQuery,
) -> AppResult<std::sync::Arc<BenchmarkView>> {
    ctx.cached(conn, "benchmark", q, |conn| compute(conn, ctx, q))
}

fn compute(
    conn: &mut DbConn,
    ctx: &ViewContext<'_>,
    q: &BenchmarkQuery,
) -> AppResult<BenchmarkView> {
    let (catalogue, audience, t) = (ctx.catalogue, ctx.audience, ctx.thresholds);
    let (ind, versions) = resolve_indicator(catalogue, &q.indicator, q.version.as_deref())?;
    if q.peers.contains(&GroupDim::Year) {
        return Err(AppError::validation(
            "peers",
            "invalid_value",
            "peers are compared in one period; year is not a peer dimension",
        ));
    }
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
    let org = orgs
        .get(&q.organisation)
        .ok_or_else(|| AppError::not_found("organisation", q.organisation))?;
    let peer_group = org.group(&q.peers, None);
    let peer_filter = ViewFilter {
        team_type: peer_group.team_type,
        size_class: peer_group.size_class,
        province: peer_group.province.clone(),
        provides_help: peer_group.provides_help,
        org_form: peer_group.org_form,
    };
    let all: Vec<Member> = members_by_group(
        ind.kind,
        &rows,
        &q.units,
        &orgs,
        &[],
        &ViewFilter::default(),
    )
    .into_values()
    .flatten()
    .collect();
    let own = all.iter().find(|m| m.organisation == org.id).copied();
    let peers: Vec<Member> = all
        .iter()
        .filter(|m| m.organisation != org.id)
        .filter(|m| {
            orgs.get(&m.organisation)
                .is_some_and(|o| o.matches(&peer_filter))
        })
        .copied()
        .collect();
    let visible = own.is_some_and(|m| audience.sees(m.organisation, m.cell.published));
    let value = own
        .filter(|_| visible)
        .and_then(|m| m.cell.acc.value(ind.kind));
    let peers_agg = aggregate(ind.kind, &peers, audience, t);
    let peer_values: Vec<f64> = peers
        .iter()
        .filter_map(|m| m.cell.acc.value(ind.kind))
        .collect();
    let rank = match (value, peers_agg.suppressed) {
        (Some(v), false) => stats::percentile_rank(v, &peer_values),
        _ => None,
    };
    let better = rank.and_then(|r| match ind.direction {
        Direction::HigherIsBetter => Some(r),
        Direction::LowerIsBetter => Some(100.0 - r),
        Direction::Neutral => None,
    });
    Ok(BenchmarkView {
        indicator: IndicatorRef::of(ind),
        from: first.info(),
        to: last.info(),
        organisation: OrganisationRef {
            id: org.id,
            name: org.name.clone(),
        },
        value,
        value_withheld: own.is_some() && !visible,
        peer_dimensions: q.peers.clone(),
        peer_group,
        peers: peers_agg,
        percentile_rank: rank,
        better_than_percent: better,
        national: aggregate(ind.kind, &all, audience, t),
    })
}
