//! GraphQL: organisations, API clients and the caller.

use async_graphql::{Context, Object, Result};

use super::{ContextExt, gql, run};
use crate::audit::{AuditAction, AuditEntry, AuditFilter, AuditSubject};
use crate::auth::ClientIdentity;
use crate::auth::clients::{self, ApiClient, IssuedCredentials, NewClient};
use crate::registry::TeamType;
use crate::registry::organisations::{
    self, NewOrganisation, Organisation, OrganisationFilter, OrganisationPatch,
};

#[derive(Default)]
pub struct RegistryQuery;

#[Object]
impl RegistryQuery {
    /// The audit log of registry and access changes, newest first (admin, Associatie).
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        subject_type: Option<AuditSubject>,
        subject_id: Option<String>,
        action: Option<AuditAction>,
        #[graphql(default = 100)] limit: i32,
        #[graphql(default = 0)] offset: i32,
    ) -> Result<Vec<AuditEntry>> {
        let filter = AuditFilter {
            subject_type,
            subject_id,
            action,
            limit: Some(i64::from(limit)),
            offset: Some(i64::from(offset)),
        };
        run(ctx, move |conn, _state, caller| {
            crate::audit::list(conn, caller, &filter).map(|p| p.items)
        })
        .await
    }

    /// How many entries `auditLog` has with the same filters, over all pages.
    async fn audit_log_count(
        &self,
        ctx: &Context<'_>,
        subject_type: Option<AuditSubject>,
        subject_id: Option<String>,
        action: Option<AuditAction>,
    ) -> Result<i64> {
        let filter = AuditFilter {
            subject_type,
            subject_id,
            action,
            limit: Some(1),
            offset: Some(0),
        };
        run(ctx, move |conn, _state, caller| {
            crate::audit::list(conn, caller, &filter).map(|p| p.total)
        })
        .await
    }

    /// Organisations (public), one page (default 100).
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        team_type: Option<TeamType>,
        active: Option<bool>,
        municipality: Option<String>,
        #[graphql(default = 100)] limit: i32,
        #[graphql(default = 0)] offset: i32,
    ) -> Result<Vec<Organisation>> {
        let filter = OrganisationFilter {
            team_type,
            active,
            municipality,
        };
        let page = gql(crate::paging::PageRequest::new(
            Some(i64::from(limit)),
            Some(i64::from(offset)),
        ))?;
        run(ctx, move |conn, state, _caller| {
            organisations::list(conn, &state.reference, &filter).map(|l| page.slice(l).items)
        })
        .await
    }

    /// How many organisations `organisations` has with the same filters, over all pages.
    async fn organisation_count(
        &self,
        ctx: &Context<'_>,
        team_type: Option<TeamType>,
        active: Option<bool>,
        municipality: Option<String>,
    ) -> Result<i64> {
        let filter = OrganisationFilter {
            team_type,
            active,
            municipality,
        };
        run(ctx, move |conn, state, _caller| {
            organisations::list(conn, &state.reference, &filter).map(|l| l.len() as i64)
        })
        .await
    }

    /// One organisation (public); null when unknown.
    async fn organisation(&self, ctx: &Context<'_>, id: i32) -> Result<Option<Organisation>> {
        let id = i64::from(id);
        let state = ctx.state().clone();
        match state
            .db
            .run(move |conn| organisations::get(conn, &state.reference, id))
            .await
        {
            Ok(o) => Ok(Some(o)),
            Err(crate::error::AppError::NotFound { .. }) => Ok(None),
            Err(e) => gql(Err(e)),
        }
    }

    /// The authenticated client; null for anonymous callers.
    async fn me(&self, ctx: &Context<'_>) -> Option<ClientIdentity> {
        ctx.caller().identity().cloned()
    }

    /// API clients (admin).
    async fn clients(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] limit: i32,
        #[graphql(default = 0)] offset: i32,
    ) -> Result<Vec<ApiClient>> {
        let page = gql(crate::paging::PageRequest::new(
            Some(i64::from(limit)),
            Some(i64::from(offset)),
        ))?;
        run(ctx, move |conn, _state, caller| {
            clients::list(conn, caller).map(|l| page.slice(l).items)
        })
        .await
    }

    /// How many API clients there are (admin).
    async fn client_count(&self, ctx: &Context<'_>) -> Result<i64> {
        run(ctx, move |conn, _state, caller| {
            clients::list(conn, caller).map(|l| l.len() as i64)
        })
        .await
    }
}

#[derive(Default)]
pub struct RegistryMutation;

#[Object]
impl RegistryMutation {
    /// Register an organisation (admin).
    async fn create_organisation(
        &self,
        ctx: &Context<'_>,
        input: NewOrganisation,
    ) -> Result<Organisation> {
        run(ctx, move |conn, state, caller| {
            organisations::create(conn, &state.reference, caller, input)
        })
        .await
    }

    /// Change an organisation (admin).
    async fn update_organisation(
        &self,
        ctx: &Context<'_>,
        id: i32,
        input: OrganisationPatch,
    ) -> Result<Organisation> {
        let id = i64::from(id);
        run(ctx, move |conn, state, caller| {
            organisations::update(conn, &state.reference, caller, id, input)
        })
        .await
    }

    /// Deactivate an organisation (admin): its clients' tokens stop working; figures stay.
    async fn deactivate_organisation(&self, ctx: &Context<'_>, id: i32) -> Result<Organisation> {
        let id = i64::from(id);
        let patch = OrganisationPatch {
            active: Some(false),
            ..Default::default()
        };
        run(ctx, move |conn, state, caller| {
            organisations::update(conn, &state.reference, caller, id, patch)
        })
        .await
    }

    /// Create an API client (admin); the secret is returned once.
    async fn create_client(
        &self,
        ctx: &Context<'_>,
        input: NewClient,
    ) -> Result<IssuedCredentials> {
        run(ctx, move |conn, _state, caller| {
            clients::create(conn, caller, input)
        })
        .await
    }

    /// New secret for a client (admin); its earlier tokens stop working.
    async fn rotate_client_secret(
        &self,
        ctx: &Context<'_>,
        client_id: String,
    ) -> Result<IssuedCredentials> {
        run(ctx, move |conn, _state, caller| {
            clients::rotate(conn, caller, &client_id)
        })
        .await
    }

    /// Revoke a client (admin); its tokens stop working at once.
    async fn revoke_client(&self, ctx: &Context<'_>, client_id: String) -> Result<ApiClient> {
        run(ctx, move |conn, _state, caller| {
            clients::revoke(conn, caller, &client_id)
        })
        .await
    }
}
