//! GraphQL: the catalogue and reference data (public).

use async_graphql::{Context, Object, Result};

use super::{ContextExt, gql};
use crate::catalogue::{CatalogueVersion, Goal, Indicator, IndicatorFilter, Kind};
use crate::registry::{Municipality, Province, SizeClass, TeamType};

#[derive(Default)]
pub struct CatalogueQuery;

#[Object]
impl CatalogueQuery {
    /// The transformation goals (and the context group), in order.
    async fn transformation_goals(&self, ctx: &Context<'_>) -> Vec<Goal> {
        ctx.state().catalogue.goals.clone()
    }

    /// Catalogue versions, oldest first; the last is current.
    async fn catalogue_versions(&self, ctx: &Context<'_>) -> Vec<CatalogueVersion> {
        ctx.state().catalogue.versions.clone()
    }

    /// Indicators of one catalogue version (default: current), filtered.
    async fn indicators(
        &self,
        ctx: &Context<'_>,
        goal: Option<String>,
        kind: Option<Kind>,
        version: Option<String>,
        team_type: Option<TeamType>,
        #[graphql(default = false)] include_retired: bool,
    ) -> Result<Vec<Indicator>> {
        gql(ctx.state().catalogue.list(&IndicatorFilter {
            goal,
            kind,
            version,
            team_type,
            include_retired,
        }))
    }

    /// One indicator by code; null when unknown.
    async fn indicator(
        &self,
        ctx: &Context<'_>,
        code: String,
        version: Option<String>,
    ) -> Result<Option<Indicator>> {
        match ctx.state().catalogue.get(&code, version.as_deref()) {
            Ok(i) => Ok(Some(i)),
            Err(crate::error::AppError::NotFound { .. }) => Ok(None),
            Err(e) => gql(Err(e)),
        }
    }

    /// Provinces.
    async fn provinces(&self, ctx: &Context<'_>) -> Vec<Province> {
        ctx.state().reference.provinces.clone()
    }

    /// Municipalities of the reference year, filtered by province code and size class.
    async fn municipalities(
        &self,
        ctx: &Context<'_>,
        province: Option<String>,
        size_class: Option<SizeClass>,
    ) -> Result<Vec<Municipality>> {
        gql(ctx.state().reference.list(province.as_deref(), size_class))
    }

    /// One municipality by CBS code; null when unknown.
    async fn municipality(&self, ctx: &Context<'_>, code: String) -> Option<Municipality> {
        ctx.state().reference.municipality(&code).cloned()
    }
}
