//! The audit log of registry and access changes: organisations created, changed and
//! (de)activated; API clients created, given a new secret and revoked; people's accounts
//! invited, reset and (de)activated, their passwords and second factors set, every sign-in,
//! failed sign-in and sign-out; with who did it, when,
//! and the record before and after. Append-only: nothing here updates or deletes a row, and the
//! database refuses it too (a trigger on both backends). Readable by admins and the Associatie.

use crate::dates::Timestamp;
use diesel::prelude::*;
use serde::Serialize;

use crate::auth::{Caller, Role};
use crate::db::schema::audit_log;
use crate::db::{DbConn, utc};
use crate::error::{AppError, AppResult};

crate::text_enum! {
    /// What happened.
    pub enum AuditAction {
        OrganisationCreated = "organisation.created",
        OrganisationChanged = "organisation.changed",
        OrganisationDeactivated = "organisation.deactivated",
        OrganisationReactivated = "organisation.reactivated",
        ClientCreated = "client.created",
        ClientRotated = "client.rotated",
        ClientRevoked = "client.revoked",
        UserInvited = "user.invited",
        UserReset = "user.reset",
        UserDeactivated = "user.deactivated",
        UserReactivated = "user.reactivated",
        UserPasswordSet = "user.password_set",
        UserSecondFactorEnabled = "user.second_factor_enabled",
        UserSignedIn = "user.signed_in",
        UserSignInFailed = "user.sign_in_failed",
        UserSignedOut = "user.signed_out",
        UserSignedOutEverywhere = "user.signed_out_everywhere",
    }
}

crate::text_enum! {
    /// What kind of record an entry is about.
    pub enum AuditSubject {
        Organisation = "organisation",
        Client = "client",
        User = "user",
    }
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    /// Client id of who did it, or `system` (the command line on the server).
    pub actor: String,
    pub action: AuditAction,
    pub subject_type: AuditSubject,
    pub subject_id: String,
    /// The record before the change (JSON), absent for a creation. Never holds a secret.
    pub before: Option<String>,
    /// The record after the change (JSON).
    pub after: Option<String>,
}

/// Filters for reading the log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub subject_type: Option<AuditSubject>,
    pub subject_id: Option<String>,
    pub action: Option<AuditAction>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Write one entry, in the caller's transaction (so the change and its entry commit together).
pub fn record<T: Serialize>(
    conn: &mut DbConn,
    caller: &Caller,
    action: AuditAction,
    subject: AuditSubject,
    subject_id: impl ToString,
    before: Option<&T>,
    after: Option<&T>,
) -> AppResult<()> {
    let json = |v: Option<&T>| -> AppResult<Option<String>> {
        v.map(|v| serde_json::to_string(v).map_err(|e| AppError::internal(e.to_string())))
            .transpose()
    };
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(crate::db::now()),
            audit_log::actor.eq(caller.actor()),
            audit_log::action.eq(action.as_str()),
            audit_log::subject_type.eq(subject.as_str()),
            audit_log::subject_id.eq(subject_id.to_string()),
            audit_log::before.eq(json(before)?),
            audit_log::after.eq(json(after)?),
        ))
        .execute(conn)?;
    Ok(())
}

type Row = (
    i64,
    chrono::NaiveDateTime,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// Read the log, newest first, one page. Admins and the Associatie.
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    f: &AuditFilter,
) -> AppResult<crate::paging::Page<AuditEntry>> {
    caller.require(&[Role::Admin, Role::Associatie])?;
    let page = crate::paging::PageRequest::new(f.limit, f.offset)?;
    let filtered = || {
        let mut q = audit_log::table.into_boxed();
        if let Some(t) = f.subject_type {
            q = q.filter(audit_log::subject_type.eq(t.as_str()));
        }
        if let Some(id) = &f.subject_id {
            q = q.filter(audit_log::subject_id.eq(id.clone()));
        }
        if let Some(a) = f.action {
            q = q.filter(audit_log::action.eq(a.as_str()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<Row> = filtered()
        .order(audit_log::id.desc())
        .limit(page.limit)
        .offset(page.offset)
        .select((
            audit_log::id,
            audit_log::at,
            audit_log::actor,
            audit_log::action,
            audit_log::subject_type,
            audit_log::subject_id,
            audit_log::before,
            audit_log::after,
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(
            |(id, at, actor, action, subject_type, subject_id, before, after)| {
                Ok(AuditEntry {
                    id,
                    at: utc(at),
                    actor,
                    action: action.parse().map_err(AppError::internal)?,
                    subject_type: subject_type.parse().map_err(AppError::internal)?,
                    subject_id,
                    before,
                    after,
                })
            },
        )
        .collect::<AppResult<Vec<_>>>()?;
    Ok(crate::paging::Page {
        items,
        total,
        limit: page.limit,
        offset: page.offset,
    })
}
