//! Where one organisation stands against its peers (same team type and size class unless other
//! dimensions are chosen) and the country. The peers are the organisation's cell of a published
//! table, never a list the caller picks: otherwise "national minus peers" would be one
//! organisation's figure. Callers other than the Associatie benchmark their own organisation or
//! one whose figure is published.

use serde::Serialize;

use super::aggregate::members_by_group;
use super::cache::Deps;
use super::protect::{CellKey, key_of, public_table, require_public_table};
use super::{
    Aggregate, Combine, Group, GroupDim, IndicatorRef, Member, Pooling, PublicStatus, ViewContext,
    ViewFilter, aggregate_full, aggregate_public, ranks_allowed, resolve_indicator, stats,
};
use crate::catalogue::Direction;
use crate::db::LazyConn;
use crate::db::versions::Snapshot;
use crate::error::{AppError, AppResult};
use crate::period::{Period, PeriodInfo, PeriodType};

#[derive(Debug, Clone)]
pub struct BenchmarkQuery {
    pub organisation: i64,
    pub indicator: String,
    pub version: Option<String>,
    pub units: Vec<Period>,
    /// Peer dimensions (default team type and size class).
    pub peers: Vec<GroupDim>,
    /// Requested pooling (`pooling`); default the indicator's.
    pub pooling: Option<Pooling>,
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
    /// The organisation's own value (null when it has none: only the Associatie gets an answer
    /// then; others get 404, as for a figure they may not see).
    pub value: Option<f64>,
    pub peer_dimensions: Vec<GroupDim>,
    /// The peer group's characteristics.
    pub peer_group: Group,
    /// The peer group: every organisation with those characteristics, this one included (a cell
    /// of the published tables, the same cell the aggregate view shows).
    pub peers: Aggregate,
    /// Share of the other peers with a lower value plus half the ties, in percent. For callers
    /// other than the Associatie only where quartiles are shown too.
    pub percentile_rank: Option<f64>,
    /// Share of the other peers the organisation does better than, given the indicator's
    /// direction.
    pub better_than_percent: Option<f64>,
    /// All organisations in the country.
    pub national: Aggregate,
    /// How the organisations' figures make up the peers' and national values
    /// (`distribution`: not additive, compare with the quartiles).
    pub pooling: Pooling,
    /// Catalogue versions whose figures are counted.
    pub catalogue_versions: Vec<String>,
}

pub fn benchmark_view(
    conn: &mut LazyConn<'_>,
    ctx: &ViewContext<'_>,
    q: &BenchmarkQuery,
) -> AppResult<std::sync::Arc<BenchmarkView>> {
    ctx.cached(conn, "benchmark", q, deps(q), |conn| compute(conn, ctx, q))
}

/// The view if it is cached at `at` (no database, nothing computed).
pub fn benchmark_cached(
    ctx: &ViewContext<'_>,
    at: &Snapshot,
    q: &BenchmarkQuery,
) -> Option<std::sync::Arc<BenchmarkView>> {
    ctx.cached_only(at, "benchmark", q, deps(q))
}

fn deps(q: &BenchmarkQuery) -> Deps {
    Deps::indicator(&q.indicator, q.units.iter().map(|u| u.year))
}

fn compute(
    conn: &mut LazyConn<'_>,
    ctx: &ViewContext<'_>,
    q: &BenchmarkQuery,
) -> AppResult<BenchmarkView> {
    let policy = ctx.policy;
    let (ind, versions) = resolve_indicator(ctx.catalogue, &q.indicator, q.version.as_deref())?;
    let c = Combine::of(ctx.catalogue, ind, &versions, q.pooling, "pooling")?;
    if q.peers.contains(&GroupDim::Year) {
        return Err(AppError::validation(
            "peers",
            "invalid_value",
            "peers are compared in one period; year is not a peer dimension",
        ));
    }
    let unit = *q.units.first().expect("units");
    let orgs = ctx.organisations(conn)?;
    let org = orgs
        .get(&q.organisation)
        .ok_or_else(|| AppError::not_found("organisation", q.organisation))?;
    let peer_group = org.group(&q.peers, None);
    let no_figure = || {
        AppError::not_found(
            "published figure",
            format!(
                "of organisation {} for {} in {}",
                q.organisation,
                ind.code,
                unit.code()
            ),
        )
    };
    let (value, peers, rank_values, national) = if ctx.full() {
        let rows = ctx.summed(conn, ind, &versions, &[unit], true)?;
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
        let peer_filter = ViewFilter::default().with(&peer_group);
        let peers: Vec<Member> = all
            .iter()
            .filter(|m| {
                orgs.get(&m.organisation)
                    .is_some_and(|o| o.matches(&peer_filter))
            })
            .copied()
            .collect();
        let public = match (unit.kind, public_table(&q.peers)) {
            (PeriodType::Year, Some(_)) => Some(ctx.family(conn, ind, &versions, unit.year)?),
            _ => None,
        };
        let status = |key: &CellKey| {
            public
                .as_ref()
                .and_then(|f| f.cell(key))
                .map(PublicStatus::of)
                .unwrap_or(PublicStatus::NOT_PUBLISHED)
        };
        let own = all.iter().find(|m| m.organisation == org.id);
        let value = own.and_then(|m| c.member_value(&m.cell.acc));
        let others: Vec<f64> = peers
            .iter()
            .filter(|m| m.organisation != org.id)
            .filter_map(|m| c.member_value(&m.cell.acc))
            .collect();
        (
            value,
            aggregate_full(
                c,
                &peers,
                &policy,
                status(&CellKey::Group(peer_group.clone())),
            ),
            Some(others),
            aggregate_full(c, &all, &policy, status(&CellKey::Group(Group::default()))),
        )
    } else {
        if unit.kind != PeriodType::Year {
            return Err(AppError::bad_request(
                "PERIOD_NOT_PUBLISHED",
                "benchmarks are published per year; half-years and quarters are for the \
                 Associatie only",
            ));
        }
        let table = require_public_table(&q.peers, "peers")?;
        let family = ctx.family(conn, ind, &versions, unit.year)?;
        let total = family
            .cell(&CellKey::Group(Group::default()))
            .ok_or_else(no_figure)?;
        let own = total
            .members
            .iter()
            .find(|m| m.organisation == org.id)
            .ok_or_else(no_figure)?;
        if !ctx.audience.sees(org.id, own.cell.published()) {
            return Err(no_figure());
        }
        let peer_cell = family
            .cell(&CellKey::Group(key_of(org, table)))
            .ok_or_else(no_figure)?;
        let others = ranks_allowed(peer_cell, &policy).then(|| {
            peer_cell
                .members
                .iter()
                .filter(|m| m.organisation != org.id)
                .filter_map(|m| c.member_value(&m.cell.acc))
                .collect()
        });
        (
            c.member_value(&own.cell.acc),
            aggregate_public(c, peer_cell, ctx.audience, &policy),
            others,
            aggregate_public(c, total, ctx.audience, &policy),
        )
    };
    let rank = match (value, &rank_values) {
        (Some(v), Some(others)) => stats::percentile_rank(v, others),
        _ => None,
    };
    let better = rank.and_then(|r| match ind.direction {
        Direction::HigherIsBetter => Some(r),
        Direction::LowerIsBetter => Some(100.0 - r),
        Direction::Neutral => None,
    });
    Ok(BenchmarkView {
        indicator: c.indicator_ref(ind),
        from: unit.info(),
        to: unit.info(),
        organisation: OrganisationRef {
            id: org.id,
            name: org.name.clone(),
        },
        value,
        peer_dimensions: q.peers.clone(),
        peer_group,
        peers,
        percentile_rank: rank,
        better_than_percent: better,
        national,
        pooling: c.pooling,
        catalogue_versions: versions,
    })
}
