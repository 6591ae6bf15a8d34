//! GraphQL: the cross-municipal views (mirrors `/api/v1/views/*`).

use async_graphql::{Context, InputObject, Object, Result};

use super::{ContextExt, gql, run_lazy};
use crate::error::AppError;
use crate::period::Period;
use crate::registry::{OrgForm, OrgSizeClass, TeamType};
use crate::views::aggregate::{AggregateQuery, AggregateView};
use crate::views::benchmark::{BenchmarkQuery, BenchmarkView};
use crate::views::completeness::{CompletenessQuery, CompletenessView};
use crate::views::municipalities::{MunicipalityQuery, MunicipalityView};
use crate::views::trend::{TrendQuery, TrendView};
use crate::views::{self, GroupDim, HelpGroup, Pooling, ViewContext, ViewFilter};

/// Restrict a view to organisations with these characteristics.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ViewFilterInput {
    pub team_type: Option<TeamType>,
    /// KLEIN, MIDDELGROOT, GROOT, or REGIONAAL (organisations serving several municipalities).
    pub size_class: Option<OrgSizeClass>,
    /// Province code PV20..PV31.
    pub province: Option<String>,
    pub provides_help: Option<HelpGroup>,
    pub org_form: Option<OrgForm>,
    /// Residents can register themselves.
    pub self_registration: Option<bool>,
}

impl ViewFilterInput {
    fn into_filter(self, reference: &crate::registry::Reference) -> Result<ViewFilter> {
        let province = match self.province {
            Some(p) => Some(
                gql(reference.province(&p).ok_or_else(|| {
                    AppError::validation("filter.province", "unknown_province", "use PV20..PV31")
                }))?
                .code
                .clone(),
            ),
            None => None,
        };
        Ok(ViewFilter {
            team_type: self.team_type,
            size_class: self.size_class,
            province,
            provides_help: self.provides_help,
            org_form: self.org_form,
            self_registration: self.self_registration,
        })
    }
}

#[derive(Default)]
pub struct ViewQuery;

#[Object]
impl ViewQuery {
    /// Aggregate of one indicator for a period (or the years from..to), grouped and filtered.
    #[allow(clippy::too_many_arguments)]
    async fn aggregate(
        &self,
        ctx: &Context<'_>,
        indicator: String,
        period: Option<String>,
        from: Option<String>,
        to: Option<String>,
        #[graphql(default)] group_by: Vec<GroupDim>,
        #[graphql(default)] filter: ViewFilterInput,
        version: Option<String>,
        #[graphql(
            desc = "Default: the indicator's own pooling (DISTRIBUTION when not additive). A \
                    pooled value of an indicator that is not additive is refused (not_additive)."
        )]
        pooling: Option<Pooling>,
    ) -> Result<std::sync::Arc<AggregateView>> {
        let state = ctx.state().clone();
        let query = AggregateQuery {
            indicator,
            version,
            units: gql(views::units_of(
                period.as_deref(),
                from.as_deref(),
                to.as_deref(),
            ))?,
            group_by: dedup(group_by),
            filter: filter.into_filter(&state.reference)?,
            pooling,
        };
        run_lazy(ctx, move |conn, state, caller| {
            views::aggregate::aggregate_view(conn, &ViewContext::new(state, caller), &query)
        })
        .await
    }

    /// Yearly series per group indexed to a base year (default: from).
    #[allow(clippy::too_many_arguments)]
    async fn trend(
        &self,
        ctx: &Context<'_>,
        indicator: String,
        from: i32,
        to: i32,
        base: Option<i32>,
        #[graphql(default)] group_by: Vec<GroupDim>,
        #[graphql(default)] filter: ViewFilterInput,
        #[graphql(default = false)] balanced: bool,
        version: Option<String>,
        #[graphql(desc = "Default: the indicator's own pooling (DISTRIBUTION when not additive).")]
        pooling: Option<Pooling>,
    ) -> Result<std::sync::Arc<TrendView>> {
        let state = ctx.state().clone();
        let query = TrendQuery {
            indicator,
            version,
            from,
            to,
            base,
            group_by: dedup(group_by),
            filter: filter.into_filter(&state.reference)?,
            balanced,
            pooling,
        };
        run_lazy(ctx, move |conn, state, caller| {
            views::trend::trend_view(conn, &ViewContext::new(state, caller), &query)
        })
        .await
    }

    /// One organisation against its peers (default: same team type and size class).
    #[allow(clippy::too_many_arguments)]
    async fn benchmark(
        &self,
        ctx: &Context<'_>,
        organisation: i32,
        indicator: String,
        period: String,
        peers: Option<Vec<GroupDim>>,
        version: Option<String>,
        #[graphql(desc = "Default: the indicator's own pooling (DISTRIBUTION when not additive).")]
        pooling: Option<Pooling>,
    ) -> Result<std::sync::Arc<BenchmarkView>> {
        let organisation = i64::from(organisation);
        let query = BenchmarkQuery {
            organisation,
            indicator,
            version,
            units: gql(views::units_of(Some(&period), None, None))?,
            peers: dedup(peers.unwrap_or_else(|| vec![GroupDim::TeamType, GroupDim::SizeClass])),
            pooling,
        };
        run_lazy(ctx, move |conn, state, caller| {
            views::benchmark::benchmark_view(conn, &ViewContext::new(state, caller), &query)
        })
        .await
    }

    /// Which organisations reported which indicators in a period.
    async fn completeness(
        &self,
        ctx: &Context<'_>,
        period: String,
        team_type: Option<TeamType>,
        version: Option<String>,
    ) -> Result<std::sync::Arc<CompletenessView>> {
        let query = CompletenessQuery {
            period: gql(Period::parse(&period)
                .map_err(|e| AppError::validation("period", "invalid_period", e)))?,
            version,
            team_type,
        };
        run_lazy(ctx, move |conn, state, caller| {
            views::completeness::completeness_view(conn, &ViewContext::new(state, caller), &query)
        })
        .await
    }

    /// The value per CBS municipality code, for maps.
    async fn municipality_values(
        &self,
        ctx: &Context<'_>,
        indicator: String,
        period: Option<String>,
        from: Option<String>,
        to: Option<String>,
        version: Option<String>,
    ) -> Result<std::sync::Arc<MunicipalityView>> {
        let query = MunicipalityQuery {
            indicator,
            version,
            units: gql(views::units_of(
                period.as_deref(),
                from.as_deref(),
                to.as_deref(),
            ))?,
        };
        run_lazy(ctx, move |conn, state, caller| {
            views::municipalities::municipality_view(conn, &ViewContext::new(state, caller), &query)
        })
        .await
    }
}

fn dedup(mut dims: Vec<GroupDim>) -> Vec<GroupDim> {
    let mut seen = Vec::new();
    dims.retain(|d| {
        let new = !seen.contains(d);
        seen.push(*d);
        new
    });
    dims
}
