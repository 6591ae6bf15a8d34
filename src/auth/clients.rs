//! API clients (OAuth2 client credentials): create, list, rotate, revoke; the token grant; and
//! turning a verified token into a [`Caller`] against the database.

use crate::dates::Timestamp;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::{AuthService, Caller, ClientIdentity, Role, TokenResponse, base64_url, keys};
use crate::audit::{self, AuditAction, AuditSubject};
use crate::db::schema::{api_clients, data_version, organisations};
use crate::db::{DbConn, utc};
use crate::error::{AppError, AppResult, FieldIssue};

/// An API client as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiClient {
    pub client_id: String,
    pub name: String,
    pub role: Role,
    pub organisation_id: Option<i64>,
    pub created_at: Timestamp,
    pub created_by: Option<String>,
    pub secret_rotated_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub active: bool,
}

/// Credentials, shown once on creation or rotation. Field names follow OAuth2 (snake_case).
#[derive(Debug, Clone, Serialize, async_graphql::SimpleObject, utoipa::ToSchema)]
pub struct IssuedCredentials {
    pub client_id: String,
    /// The secret in clear text; it is stored only as an argon2 hash and cannot be shown again.
    pub client_secret: String,
    pub name: String,
    pub role: Role,
    pub organisation_id: Option<i64>,
}

/// Input for a new API client.
#[derive(Debug, Clone, Deserialize, async_graphql::InputObject, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewClient {
    /// Human name, e.g. "registratiesysteem buurtteam Noord".
    pub name: String,
    pub role: Role,
    /// Required for role `team`, absent otherwise.
    #[graphql(validator(custom = "crate::wire::graphql_int"))]
    pub organisation_id: Option<i64>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = api_clients)]
struct ClientRow {
    id: String,
    name: String,
    role: String,
    organisation_id: Option<i64>,
    secret_hash: String,
    created_at: chrono::NaiveDateTime,
    created_by: Option<String>,
    secret_rotated_at: chrono::NaiveDateTime,
    revoked_at: Option<chrono::NaiveDateTime>,
}

impl ClientRow {
    fn role(&self) -> AppResult<Role> {
        self.role.parse().map_err(AppError::internal)
    }
    fn to_api(&self) -> AppResult<ApiClient> {
        Ok(ApiClient {
            client_id: self.id.clone(),
            name: self.name.clone(),
            role: self.role()?,
            organisation_id: self.organisation_id,
            created_at: utc(self.created_at),
            created_by: self.created_by.clone(),
            secret_rotated_at: utc(self.secret_rotated_at),
            revoked_at: self.revoked_at.map(utc),
            active: self.revoked_at.is_none(),
        })
    }
}

fn new_secret() -> String {
    format!("bss_{}", base64_url(&keys::random_bytes(32)))
}

fn hash_secret(secret: &str) -> AppResult<String> {
    let salt = keys::random_bytes(16);
    Argon2::default()
        .hash_password_with_salt(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("hashing secret: {e}")))
}

/// A valid hash of a random secret, to spend the same time on unknown client ids.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_secret(&new_secret()).expect("hash"))
}

fn load(conn: &mut DbConn, client_id: &str) -> AppResult<ClientRow> {
    api_clients::table
        .find(client_id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("client", client_id))
}

/// Separation of duties: an admin manages team clients over the API, but a client that sees
/// every confidential figure (associatie) or manages access (admin) is created or given a new
/// secret only on the server itself (`basisset client create|rotate`), so no single API
/// credential can grant itself or anyone the Associatie's view.
fn require_server_for(caller: &Caller, role: Role) -> AppResult<()> {
    if role == Role::Team || *caller == Caller::System {
        return Ok(());
    }
    Err(AppError::forbidden(format!(
        "{role} clients are created and rotated on the server only: basisset client create \
         --role {role} (or client rotate); over the API an admin manages team clients"
    )))
}

/// Create a client (admin, or the command line for bootstrapping).
pub fn create(
    conn: &mut DbConn,
    caller: &Caller,
    input: NewClient,
) -> AppResult<IssuedCredentials> {
    caller.require_admin()?;
    require_server_for(caller, input.role)?;
    let mut issues = Vec::new();
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        issues.push(FieldIssue::new(
            "/name",
            "invalid_name",
            "naam verplicht, 1-200 tekens / name required, 1-200 characters",
        ));
    }
    crate::free_text::check_personal(&name, |c, m| FieldIssue::new("/name", c, m), &mut issues);
    match (input.role, input.organisation_id) {
        (Role::Team, None) => issues.push(FieldIssue::new(
            "/organisationId",
            "organisation_required",
            "a team client belongs to an organisation",
        )),
        (Role::Team, Some(id)) => {
            let active: Option<bool> = organisations::table
                .find(id)
                .select(organisations::active)
                .first(conn)
                .optional()?;
            match active {
                None => issues.push(FieldIssue::new(
                    "/organisationId",
                    "unknown_organisation",
                    format!("organisation {id} does not exist"),
                )),
                Some(false) => issues.push(FieldIssue::new(
                    "/organisationId",
                    "organisation_inactive",
                    format!("organisation {id} is deactivated"),
                )),
                Some(true) => {}
            }
        }
        (_, Some(_)) => issues.push(FieldIssue::new(
            "/organisationId",
            "organisation_not_allowed",
            "only team clients belong to an organisation",
        )),
        (_, None) => {}
    }
    if !issues.is_empty() {
        return Err(AppError::Validation(issues.into()));
    }
    let secret = new_secret();
    let now = crate::db::now();
    let row = ClientRow {
        id: format!("bsc_{}", base64_url(&keys::random_bytes(12))),
        name,
        role: input.role.as_str().to_owned(),
        organisation_id: input.organisation_id,
        secret_hash: hash_secret(&secret)?,
        created_at: now,
        created_by: Some(caller.actor()),
        secret_rotated_at: now,
        revoked_at: None,
    };
    crate::db::transaction(conn, |conn| {
        diesel::insert_into(api_clients::table)
            .values(&row)
            .execute(conn)?;
        audit::record(
            conn,
            caller,
            AuditAction::ClientCreated,
            AuditSubject::Client,
            &row.id,
            None,
            Some(&row.to_api()?),
        )
    })?;
    Ok(IssuedCredentials {
        client_id: row.id,
        client_secret: secret,
        name: row.name,
        role: input.role,
        organisation_id: row.organisation_id,
    })
}

pub fn list(conn: &mut DbConn, caller: &Caller) -> AppResult<Vec<ApiClient>> {
    caller.require_admin()?;
    api_clients::table
        .order(api_clients::created_at)
        .select(ClientRow::as_select())
        .load(conn)?
        .iter()
        .map(ClientRow::to_api)
        .collect()
}

/// New secret; every token issued with the old one stops working.
pub fn rotate(conn: &mut DbConn, caller: &Caller, client_id: &str) -> AppResult<IssuedCredentials> {
    caller.require_admin()?;
    let row = load(conn, client_id)?;
    require_server_for(caller, row.role()?)?;
    if row.revoked_at.is_some() {
        return Err(AppError::conflict(
            "CLIENT_REVOKED",
            "a revoked client cannot get a new secret; create a new client",
        ));
    }
    let secret = new_secret();
    let hash = hash_secret(&secret)?;
    crate::db::transaction(conn, |conn| {
        diesel::update(api_clients::table.find(client_id))
            .set((
                api_clients::secret_hash.eq(hash),
                api_clients::secret_rotated_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
        let after = load(conn, client_id)?.to_api()?;
        audit::record(
            conn,
            caller,
            AuditAction::ClientRotated,
            AuditSubject::Client,
            client_id,
            Some(&row.to_api()?),
            Some(&after),
        )
    })?;
    Ok(IssuedCredentials {
        client_id: row.id.clone(),
        client_secret: secret,
        name: row.name.clone(),
        role: row.role()?,
        organisation_id: row.organisation_id,
    })
}

/// Revoke; the client's tokens stop working at once. Revoking twice changes nothing.
pub fn revoke(conn: &mut DbConn, caller: &Caller, client_id: &str) -> AppResult<ApiClient> {
    caller.require_admin()?;
    let row = load(conn, client_id)?;
    if row.revoked_at.is_none() {
        crate::db::transaction(conn, |conn| {
            diesel::update(api_clients::table.find(client_id))
                .set(api_clients::revoked_at.eq(Some(crate::db::now())))
                .execute(conn)?;
            let after = load(conn, client_id)?.to_api()?;
            audit::record(
                conn,
                caller,
                AuditAction::ClientRevoked,
                AuditSubject::Client,
                client_id,
                Some(&row.to_api()?),
                Some(&after),
            )
        })?;
    }
    load(conn, client_id)?.to_api()
}

fn secret_version(row: &ClientRow) -> i64 {
    row.secret_rotated_at.and_utc().timestamp_micros()
}

/// A token request that the throttle let through: the client's row, if the id exists, whose
/// secret is to be checked. Made by [`begin_grant`].
pub struct GrantAttempt {
    address: String,
    row: Option<ClientRow>,
}

/// A token request whose secret matched. Made by [`GrantAttempt::verify`].
pub struct VerifiedGrant {
    address: String,
    row: ClientRow,
}

/// Step 1 of the client-credentials grant: reserve the attempt with the throttle (429 while the
/// client id at this address, or the address, is throttled; see [`super::throttle`]), then load
/// the client. `address` is the client's address as [`super::throttle::address_key`] makes it.
pub fn begin_grant(
    conn: &mut DbConn,
    auth: &AuthService,
    client_id: &str,
    address: &str,
) -> AppResult<GrantAttempt> {
    if client_id == super::throttle::ADDRESS_ROW {
        // The key of the per-address rows; never a client id.
        return Err(AppError::oauth(
            401,
            "invalid_client",
            "unknown client or wrong secret",
        ));
    }
    auth.throttle
        .reserve(conn, client_id, address, crate::db::now())?;
    let row = api_clients::table
        .find(client_id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?;
    Ok(GrantAttempt {
        address: address.to_owned(),
        row,
    })
}

impl GrantAttempt {
    /// Step 2: the argon2 check, slow on purpose and without a database connection. It runs for
    /// unknown ids too, so timing does not tell which ids exist. A failure stays counted.
    pub fn verify(self, client_secret: &str) -> AppResult<VerifiedGrant> {
        let hash = self
            .row
            .as_ref()
            .map(|r| r.secret_hash.as_str())
            .unwrap_or(dummy_hash());
        let secret_ok = Argon2::default()
            .verify_password(client_secret.as_bytes(), hash)
            .is_ok();
        match self.row {
            Some(row) if secret_ok => Ok(VerifiedGrant {
                address: self.address,
                row,
            }),
            _ => Err(AppError::oauth(
                401,
                "invalid_client",
                "unknown client or wrong secret",
            )),
        }
    }
}

/// Step 3: the client must still be active, with the secret that was checked; then the token is
/// issued and the pair's failures are forgotten. A refusal here stays counted as a failure.
pub fn finish_grant(
    conn: &mut DbConn,
    auth: &AuthService,
    grant: VerifiedGrant,
) -> AppResult<TokenResponse> {
    let refuse = |why: &str| AppError::oauth(401, "invalid_client", why.to_owned());
    let row = api_clients::table
        .find(&grant.row.id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?
        .filter(|now| now.secret_hash == grant.row.secret_hash)
        .ok_or_else(|| refuse("unknown client or wrong secret"))?;
    if row.revoked_at.is_some() {
        return Err(refuse("the client is revoked"));
    }
    if let Some(org) = row.organisation_id {
        let active: bool = organisations::table
            .find(org)
            .select(organisations::active)
            .first(conn)?;
        if !active {
            return Err(refuse("the client's organisation is deactivated"));
        }
    }
    let identity = ClientIdentity {
        client_id: row.id.clone(),
        name: row.name.clone(),
        role: row.role()?,
        organisation_id: row.organisation_id,
    };
    let token = auth.issue(&identity, secret_version(&row))?;
    auth.throttle
        .release(conn, &row.id, &grant.address, crate::db::now())?;
    Ok(token)
}

/// The whole client-credentials grant on one connection (the HTTP handler runs step 2 without
/// one).
pub fn grant(
    conn: &mut DbConn,
    auth: &AuthService,
    client_id: &str,
    client_secret: &str,
    address: &str,
) -> AppResult<TokenResponse> {
    let verified = begin_grant(conn, auth, client_id, address)?.verify(client_secret)?;
    finish_grant(conn, auth, verified)
}

/// The caller behind verified claims, checked against the database at every request: a revoked
/// client, a rotated secret or a deactivated organisation ends the token's validity at once.
/// Also gives the data version read in the same statement (signed-in callers see every commit at
/// once: [`crate::db::versions::Versions::observe`]).
pub fn caller_for(conn: &mut DbConn, claims: &super::Claims) -> AppResult<(Caller, i64)> {
    let found = api_clients::table
        .left_join(organisations::table)
        .inner_join(data_version::table.on(data_version::id.eq(1)))
        .filter(api_clients::id.eq(&claims.sub))
        .select((
            ClientRow::as_select(),
            organisations::active.nullable(),
            data_version::version,
        ))
        .first::<(ClientRow, Option<bool>, i64)>(conn)
        .optional()?;
    let invalid = |why: &str| AppError::unauthenticated(format!("invalid token: {why}"));
    let Some((row, org_active, data)) = found else {
        return Err(invalid("unknown client"));
    };
    if row.revoked_at.is_some() {
        return Err(invalid("client revoked"));
    }
    if secret_version(&row) != claims.sv {
        return Err(invalid("client secret was rotated"));
    }
    if org_active == Some(false) {
        return Err(invalid("organisation deactivated"));
    }
    let caller = Caller::Client(ClientIdentity {
        client_id: row.id.clone(),
        name: row.name.clone(),
        role: row.role()?,
        organisation_id: row.organisation_id,
    });
    Ok((caller, data))
}
