//! People: accounts for the staff of wijkteam organisations (role `team`), the Associatie
//! (`associatie`) and admins, beside the API clients of [`crate::auth::clients`]. A signed-in
//! person is a [`Caller`] with the same role and organisation rules as an API client of that
//! role: the portal can do nothing the API would not let the same role do.
//!
//! Accounts start with an invitation: a one-time link that expires, on which the person sets a
//! password ([`password`]); associatie and admin accounts must add a second factor
//! ([`totp`]) before they can do anything. An admin (or, for its own team, an organisation's
//! coordinator) invites, resets (a new link) and deactivates. As with API clients, accounts
//! that see every confidential figure (associatie) or manage access (admin) are invited and
//! reset only on the server itself (`basisset user invite|reset`). Sessions: [`sessions`].
//!
//! The only personal data kept is a work e-mail address, to sign in with. Nothing is e-mailed:
//! whoever invites passes the link on.

pub mod password;
pub mod sessions;
pub mod totp;

use crate::dates::Timestamp;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditAction, AuditSubject};
use crate::auth::{Caller, ClientIdentity, Role, base64_url, keys};
use crate::db::schema::{organisations, user_invitations, user_sessions, users};
use crate::db::{DbConn, utc};
use crate::error::{AppError, AppResult, FieldIssue};

/// Client ids of signed-in people start with this, followed by the user id.
pub const CALLER_PREFIX: &str = "user:";

/// An account as listed (never with its password or second-factor secret).
#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub organisation_id: Option<i64>,
    /// May invite, reset and deactivate the accounts of its own organisation's team.
    pub coordinator: bool,
    pub active: bool,
    /// Whether a password has been set (the invitation was used).
    pub has_password: bool,
    /// Whether a second factor (TOTP) is set up.
    pub second_factor: bool,
    pub created_at: Timestamp,
    pub created_by: String,
    pub updated_at: Timestamp,
    pub last_sign_in_at: Option<Timestamp>,
}

impl User {
    /// The caller this person is once signed in.
    pub fn caller(&self) -> Caller {
        Caller::Client(ClientIdentity {
            client_id: format!("{CALLER_PREFIX}{}", self.id),
            name: self.email.clone(),
            role: self.role,
            organisation_id: self.organisation_id,
        })
    }

    /// Associatie and admin accounts must have a second factor.
    pub fn needs_second_factor(&self) -> bool {
        matches!(self.role, Role::Associatie | Role::Admin)
    }
}

/// Input for an invitation.
#[derive(Debug, Clone, Deserialize, async_graphql::InputObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUser {
    /// Work e-mail address; what the person signs in with.
    pub email: String,
    pub role: Role,
    /// Required for role `team`, absent otherwise.
    #[graphql(validator(custom = "crate::wire::graphql_int"))]
    pub organisation_id: Option<i64>,
    /// Team accounts only: may manage the accounts of its own organisation's team.
    #[serde(default)]
    pub coordinator: bool,
}

crate::text_enum! {
    /// What an invitation link is for.
    pub enum InvitationPurpose {
        /// A new account: set a first password.
        Invite = "invite",
        /// A reset by an admin or coordinator: set a new password.
        Reset = "reset",
    }
}

/// A one-time link, shown once to whoever asked for it.
#[derive(Debug, Clone, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub user: User,
    pub purpose: InvitationPurpose,
    /// The secret token of the link (stored only as a SHA-256 hash).
    pub token: String,
    /// The path to open, with the token: `/account/welkom?token=…` (prefix the site's URL).
    pub path: String,
    pub expires_at: Timestamp,
}

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub organisation_id: Option<i64>,
    pub coordinator: bool,
    pub password_hash: Option<String>,
    pub totp_secret: Option<String>,
    pub totp_pending_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    pub updated_at: NaiveDateTime,
    pub last_sign_in_at: Option<NaiveDateTime>,
}

impl UserRow {
    pub(crate) fn to_user(&self) -> AppResult<User> {
        Ok(User {
            id: self.id,
            email: self.email.clone(),
            role: self.role.parse().map_err(AppError::internal)?,
            organisation_id: self.organisation_id,
            coordinator: self.coordinator,
            active: self.active,
            has_password: self.password_hash.is_some(),
            second_factor: self.totp_secret.is_some(),
            created_at: utc(self.created_at),
            created_by: self.created_by.clone(),
            updated_at: utc(self.updated_at),
            last_sign_in_at: self.last_sign_in_at.map(utc),
        })
    }
}

/// SHA-256 of a random token, base64url: what is stored of invitation tokens and session ids.
pub(crate) fn token_hash(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    base64_url(digest.as_ref())
}

pub(crate) fn new_token(prefix: &str) -> String {
    format!("{prefix}{}", base64_url(&keys::random_bytes(32)))
}

/// An e-mail address as stored: trimmed, lower case; refused unless it looks like one.
fn normalise_email(email: &str) -> Result<String, Box<FieldIssue>> {
    let e = email.trim().to_lowercase();
    let bad = || {
        Box::new(FieldIssue::new(
            "email",
            "invalid_email",
            "geen geldig e-mailadres / not a valid e-mail address",
        ))
    };
    let (local, domain) = e.split_once('@').ok_or_else(bad)?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && e.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    if ok { Ok(e) } else { Err(bad()) }
}

pub(crate) fn load_row(conn: &mut DbConn, id: i64) -> AppResult<UserRow> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("user", id.to_string()))
}

pub(crate) fn find_by_email(conn: &mut DbConn, email: &str) -> AppResult<Option<UserRow>> {
    let Ok(email) = normalise_email(email) else {
        return Ok(None);
    };
    Ok(users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// The account behind a signed-in caller, if the caller is a person.
fn caller_row(conn: &mut DbConn, caller: &Caller) -> AppResult<Option<UserRow>> {
    let Some(id) = caller
        .identity()
        .and_then(|c| c.client_id.strip_prefix(CALLER_PREFIX))
        .and_then(|id| id.parse::<i64>().ok())
    else {
        return Ok(None);
    };
    Ok(Some(load_row(conn, id)?))
}

/// What the caller may do to the accounts of `role` (and organisation): `Ok` or the 403.
/// Admins manage team accounts; a team's coordinator manages its own team's other accounts;
/// associatie and admin accounts only the server (the command line).
fn require_manage(
    conn: &mut DbConn,
    caller: &Caller,
    role: Role,
    organisation_id: Option<i64>,
    coordinator: bool,
) -> AppResult<()> {
    if *caller == Caller::System {
        return Ok(());
    }
    if role != Role::Team {
        return Err(AppError::forbidden(format!(
            "{role} accounts are invited and reset on the server only: basisset user invite \
             --role {role} (or user reset); in the portal an admin manages team accounts"
        )));
    }
    if caller.role() == Some(Role::Admin) {
        return Ok(());
    }
    if let Some(me) = caller_row(conn, caller)? {
        let own = me.organisation_id.is_some() && me.organisation_id == organisation_id;
        if me.coordinator && me.active && own && !coordinator {
            return Ok(());
        }
    }
    Err(AppError::forbidden(
        "only an admin, or the organisation's coordinator for its own team, manages these \
         accounts",
    ))
}

fn audit_user(
    conn: &mut DbConn,
    caller: &Caller,
    action: AuditAction,
    before: Option<&User>,
    after: &User,
) -> AppResult<()> {
    audit::record(
        conn,
        caller,
        action,
        AuditSubject::User,
        after.id,
        before,
        Some(after),
    )
}

fn issue_invitation(
    conn: &mut DbConn,
    caller: &Caller,
    user: User,
    purpose: InvitationPurpose,
    valid_for: TimeDelta,
) -> AppResult<Invitation> {
    let now = crate::db::now();
    // An older unused link of the account stops working.
    diesel::update(
        user_invitations::table
            .filter(user_invitations::user_id.eq(user.id))
            .filter(user_invitations::used_at.is_null()),
    )
    .set(user_invitations::expires_at.eq(now))
    .execute(conn)?;
    let token = new_token("bsi_");
    let expires_at = now + valid_for;
    diesel::insert_into(user_invitations::table)
        .values((
            user_invitations::token_hash.eq(token_hash(&token)),
            user_invitations::user_id.eq(user.id),
            user_invitations::purpose.eq(purpose.as_str()),
            user_invitations::created_by.eq(caller.actor()),
            user_invitations::created_at.eq(now),
            user_invitations::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(Invitation {
        path: format!("/account/welkom?token={token}"),
        token,
        user,
        purpose,
        expires_at: utc(expires_at),
    })
}

/// Invite a person: a new account without a password and a link to set one.
pub fn invite(
    conn: &mut DbConn,
    caller: &Caller,
    input: NewUser,
    valid_for: TimeDelta,
) -> AppResult<Invitation> {
    let mut issues = Vec::new();
    let email = normalise_email(&input.email)
        .map_err(|i| issues.push(*i))
        .ok();
    match (input.role, input.organisation_id) {
        (Role::Team, None) => issues.push(FieldIssue::new(
            "organisationId",
            "required",
            "een teamaccount hoort bij een organisatie / a team account needs an organisation",
        )),
        (Role::Admin | Role::Associatie, Some(_)) => issues.push(FieldIssue::new(
            "organisationId",
            "not_allowed",
            "alleen teamaccounts horen bij een organisatie / only team accounts belong to an \
             organisation",
        )),
        _ => {}
    }
    if input.coordinator && input.role != Role::Team {
        issues.push(FieldIssue::new(
            "coordinator",
            "not_allowed",
            "alleen een teamaccount kan coördinator zijn / only a team account can be coordinator",
        ));
    }
    if !issues.is_empty() {
        return Err(AppError::Validation(issues.into()));
    }
    let email = email.expect("checked");
    require_manage(
        conn,
        caller,
        input.role,
        input.organisation_id,
        input.coordinator,
    )?;
    if let Some(org) = input.organisation_id {
        let active: Option<bool> = organisations::table
            .find(org)
            .select(organisations::active)
            .first(conn)
            .optional()?;
        match active {
            None => {
                return Err(AppError::Validation(
                    vec![FieldIssue::new(
                        "organisationId",
                        "unknown_organisation",
                        format!("organisatie {org} bestaat niet / no organisation {org}"),
                    )]
                    .into(),
                ));
            }
            Some(false) => {
                return Err(AppError::conflict(
                    "ORGANISATION_INACTIVE",
                    format!("organisation {org} is deactivated"),
                ));
            }
            Some(true) => {}
        }
    }
    if find_by_email(conn, &email)?.is_some() {
        return Err(AppError::conflict(
            "USER_EXISTS",
            "an account with this e-mail address exists; reset it instead",
        ));
    }
    let now = crate::db::now();
    let id: i64 = diesel::insert_into(users::table)
        .values((
            users::email.eq(&email),
            users::role.eq(input.role.as_str()),
            users::organisation_id.eq(input.organisation_id),
            users::coordinator.eq(input.coordinator),
            users::active.eq(true),
            users::created_at.eq(now),
            users::created_by.eq(caller.actor()),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result(conn)?;
    let user = load_row(conn, id)?.to_user()?;
    audit_user(conn, caller, AuditAction::UserInvited, None, &user)?;
    issue_invitation(conn, caller, user, InvitationPurpose::Invite, valid_for)
}

/// A new link for an existing account (a forgotten password or a lost second factor): the old
/// password keeps working until the link is used; using it also removes the second factor,
/// which the person then sets up again.
pub fn reset(
    conn: &mut DbConn,
    caller: &Caller,
    id: i64,
    valid_for: TimeDelta,
) -> AppResult<Invitation> {
    let row = load_row(conn, id)?;
    let user = row.to_user()?;
    require_manage(
        conn,
        caller,
        user.role,
        user.organisation_id,
        user.coordinator,
    )?;
    if !user.active {
        return Err(AppError::conflict(
            "USER_INACTIVE",
            "the account is deactivated; reactivate it first",
        ));
    }
    audit_user(conn, caller, AuditAction::UserReset, Some(&user), &user)?;
    // Before a first password, a reset is simply a new invitation.
    let purpose = if user.has_password {
        InvitationPurpose::Reset
    } else {
        InvitationPurpose::Invite
    };
    issue_invitation(conn, caller, user, purpose, valid_for)
}

/// Deactivate (or reactivate) an account; deactivation ends its sessions and unused links.
pub fn set_active(conn: &mut DbConn, caller: &Caller, id: i64, active: bool) -> AppResult<User> {
    let before = load_row(conn, id)?.to_user()?;
    // An admin may turn any account off; turning an associatie or admin account on again is
    // for the server only. Otherwise the rules of invitations apply.
    let admin_turning_off = caller.role() == Some(Role::Admin) && !active;
    if !admin_turning_off {
        require_manage(
            conn,
            caller,
            before.role,
            before.organisation_id,
            before.coordinator,
        )?;
    }
    if caller.identity().map(|c| c.client_id.as_str()) == Some(&format!("{CALLER_PREFIX}{id}")) {
        return Err(AppError::conflict(
            "CONFLICT",
            "you cannot deactivate your own account",
        ));
    }
    diesel::update(users::table.find(id))
        .set((
            users::active.eq(active),
            users::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    if !active {
        sessions::end_all(conn, id)?;
        diesel::update(
            user_invitations::table
                .filter(user_invitations::user_id.eq(id))
                .filter(user_invitations::used_at.is_null()),
        )
        .set(user_invitations::expires_at.eq(crate::db::now()))
        .execute(conn)?;
    }
    let after = load_row(conn, id)?.to_user()?;
    let action = if active {
        AuditAction::UserReactivated
    } else {
        AuditAction::UserDeactivated
    };
    audit_user(conn, caller, action, Some(&before), &after)?;
    Ok(after)
}

/// Accounts the caller may see: all for admins and the Associatie, its own organisation's for
/// a team's coordinator.
pub fn list(conn: &mut DbConn, caller: &Caller) -> AppResult<Vec<User>> {
    let mut q = users::table
        .select(UserRow::as_select())
        .order(users::email)
        .into_boxed();
    match caller.role() {
        _ if *caller == Caller::System => {}
        Some(Role::Admin | Role::Associatie) => {}
        Some(Role::Team) => {
            let me = caller_row(conn, caller)?;
            match me {
                Some(me) if me.coordinator => {
                    q = q.filter(users::organisation_id.eq(me.organisation_id));
                }
                _ => {
                    return Err(AppError::forbidden(
                        "only a coordinator sees the accounts of its team",
                    ));
                }
            }
        }
        _ => {
            caller.require(&[Role::Admin, Role::Associatie])?;
        }
    }
    q.load::<UserRow>(conn)?
        .iter()
        .map(UserRow::to_user)
        .collect()
}

/// One account, for whoever may list it (and for the person itself).
pub fn get(conn: &mut DbConn, caller: &Caller, id: i64) -> AppResult<User> {
    let row = load_row(conn, id)?;
    if caller_row(conn, caller)?.is_some_and(|me| me.id == id) {
        return row.to_user();
    }
    let visible = list(conn, caller)?;
    visible
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| AppError::not_found("user", id.to_string()))
}

/// What an invitation link opens to, before a password is chosen.
#[derive(Debug, Clone)]
pub struct OpenInvitation {
    pub email: String,
    pub purpose: InvitationPurpose,
    pub expires_at: Timestamp,
}

fn load_invitation(
    conn: &mut DbConn,
    token: &str,
) -> AppResult<(String, i64, InvitationPurpose, NaiveDateTime)> {
    let gone = || {
        AppError::not_found(
            "invitation",
            "deze link is ongeldig, al gebruikt of verlopen; vraag een nieuwe / this link is \
             invalid, used or expired; ask for a new one",
        )
    };
    let found: Option<(String, i64, String, NaiveDateTime, Option<NaiveDateTime>)> =
        user_invitations::table
            .find(token_hash(token))
            .select((
                user_invitations::token_hash,
                user_invitations::user_id,
                user_invitations::purpose,
                user_invitations::expires_at,
                user_invitations::used_at,
            ))
            .first(conn)
            .optional()?;
    let Some((hash, user_id, purpose, expires_at, used_at)) = found else {
        return Err(gone());
    };
    if used_at.is_some() || expires_at <= crate::db::now() {
        return Err(gone());
    }
    let purpose = purpose.parse().map_err(AppError::internal)?;
    Ok((hash, user_id, purpose, expires_at))
}

/// Look at an invitation link without using it.
pub fn open_invitation(conn: &mut DbConn, token: &str) -> AppResult<OpenInvitation> {
    let (_, user_id, purpose, expires_at) = load_invitation(conn, token)?;
    let row = load_row(conn, user_id)?;
    if !row.active {
        return Err(AppError::not_found(
            "invitation",
            "the account is deactivated",
        ));
    }
    Ok(OpenInvitation {
        email: row.email,
        purpose,
        expires_at: utc(expires_at),
    })
}

/// Use an invitation link: set the password (checked and hashed beforehand, off the
/// connection: [`password::NewPassword::prepare`] with [`invitation_email`]) and spend the
/// link. A reset also removes the second factor and ends every session.
pub fn accept_invitation(
    conn: &mut DbConn,
    token: &str,
    password: &password::NewPassword,
) -> AppResult<User> {
    let (hash, user_id, purpose, _) = load_invitation(conn, token)?;
    let before = load_row(conn, user_id)?;
    if !before.active {
        return Err(AppError::not_found(
            "invitation",
            "the account is deactivated",
        ));
    }
    let now = crate::db::now();
    // Spend the link first; a concurrent use of the same link finds it used.
    let spent = diesel::update(
        user_invitations::table
            .find(&hash)
            .filter(user_invitations::used_at.is_null()),
    )
    .set(user_invitations::used_at.eq(now))
    .execute(conn)?;
    if spent != 1 {
        return Err(AppError::not_found("invitation", "this link was just used"));
    }
    let reset = purpose == InvitationPurpose::Reset;
    diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(password.hash()),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    if reset {
        diesel::update(users::table.find(user_id))
            .set((
                users::totp_secret.eq(None::<String>),
                users::totp_pending_secret.eq(None::<String>),
            ))
            .execute(conn)?;
        sessions::end_all(conn, user_id)?;
    }
    let after = load_row(conn, user_id)?.to_user()?;
    let actor = after.caller();
    audit_user(
        conn,
        &actor,
        AuditAction::UserPasswordSet,
        Some(&before.to_user()?),
        &after,
    )?;
    Ok(after)
}

/// The e-mail address of the account an invitation token belongs to (for the password check).
pub fn invitation_email(conn: &mut DbConn, token: &str) -> AppResult<String> {
    Ok(open_invitation(conn, token)?.email)
}

/// Remove sessions past their end (housekeeping).
pub fn purge(conn: &mut DbConn) -> AppResult<usize> {
    let now = crate::db::now();
    Ok(
        diesel::delete(user_sessions::table.filter(user_sessions::expires_at.le(now)))
            .execute(conn)?,
    )
}

/// How a caller sees the people behind `user:ID` actors (revision authors, reviewers, audit
/// entries): by e-mail address where it may list that account anyway (admins and the
/// Associatie: everyone; a team: the people of its own organisation), else an associatie
/// person as `Associatie` and an admin as `beheerder`. Actors that are not people (API clients,
/// `system`) are not in the map and stay as they are.
pub fn actor_names<'a>(
    conn: &mut DbConn,
    caller: &Caller,
    actors: impl IntoIterator<Item = &'a str>,
) -> AppResult<std::collections::HashMap<String, String>> {
    let ids: std::collections::BTreeSet<i64> = actors
        .into_iter()
        .filter_map(|a| a.strip_prefix(CALLER_PREFIX))
        .filter_map(|id| id.parse().ok())
        .collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let sees_all =
        *caller == Caller::System || matches!(caller.role(), Some(Role::Admin | Role::Associatie));
    let own = caller.own_organisation();
    let rows: Vec<(i64, String, String, Option<i64>)> = users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::email, users::role, users::organisation_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, email, role, org)| {
            let name = if sees_all || (own.is_some() && org == own) {
                email
            } else if role == Role::Associatie.as_str() {
                "Associatie".to_owned()
            } else if role == Role::Admin.as_str() {
                "beheerder".to_owned()
            } else {
                format!("{CALLER_PREFIX}{id}")
            };
            (format!("{CALLER_PREFIX}{id}"), name)
        })
        .collect())
}

/// An actor as [`actor_names`] names it (the actor itself when not a person).
pub fn actor_name(names: &std::collections::HashMap<String, String>, actor: &str) -> String {
    names
        .get(actor)
        .cloned()
        .unwrap_or_else(|| actor.to_owned())
}
