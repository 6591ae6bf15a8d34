//! Signing in and server-side sessions.
//!
//! A session is a random 256-bit id in an HttpOnly cookie; the database keeps only its SHA-256,
//! the user, a CSRF token, its stage and its times. Signing in always makes a new session (the
//! id a browser had before is dropped: no session fixation), and so does every step up (the
//! second factor, setting one up). A session ends after `idle` without use or `absolute` after
//! it began, whichever comes first, when its user is deactivated or reset, and on sign-out;
//! "sign out everywhere" ends all of a user's sessions.
//!
//! Stages: after the password, an account with a second factor is at `second_factor` (only the
//! code page opens); an associatie or admin account without one is at `enrol` (only the set-up
//! page opens); otherwise, and after either step, `full`. Only a `full` session is a caller.
//!
//! Failed sign-ins are throttled like token requests ([`crate::auth::throttle`], counted in
//! the database, so across instances) per e-mail address and client address, and second-factor
//! codes per account and address. Every sign-in, failure and sign-out is in the audit log.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Serialize;

use super::{User, UserRow, load_row, new_token, token_hash, totp};
use crate::audit::{self, AuditAction, AuditSubject};
use crate::auth::Caller;
use crate::auth::throttle::Throttle;
use crate::db::DbConn;
use crate::db::schema::{user_sessions, users};
use crate::error::{AppError, AppResult, FieldIssue};

crate::text_enum! {
    /// How far a session has come.
    pub enum Stage {
        /// The password was right; the second-factor code is next.
        SecondFactor = "second_factor",
        /// The password was right; the account must set up a second factor first.
        Enrol = "enrol",
        /// Signed in.
        Full = "full",
    }
}

/// Session lifetimes.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: TimeDelta,
    pub absolute: TimeDelta,
}

impl SessionPolicy {
    pub fn from_args(args: &crate::config::AccountArgs) -> SessionPolicy {
        SessionPolicy {
            idle: TimeDelta::minutes(args.session_idle_minutes.max(1)),
            absolute: TimeDelta::hours(args.session_absolute_hours.max(1)),
        }
    }
}

/// A session as a request finds it.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub user: User,
    pub stage: Stage,
    /// The token every state-changing form of this session must carry.
    pub csrf: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl Session {
    /// The caller this session is: the person when fully signed in, else anonymous.
    pub fn caller(&self) -> Caller {
        if self.stage == Stage::Full {
            self.user.caller()
        } else {
            Caller::Anonymous
        }
    }

    /// Whether `token` is this session's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, token: &str) -> bool {
        let (a, b) = (self.csrf.as_bytes(), token.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// A new session: the cookie value goes to the browser, once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie: String,
    pub session: Session,
}

const WRONG: &str = "e-mailadres of wachtwoord onjuist / wrong e-mail address or password";

#[derive(Serialize)]
struct SignInNote<'a> {
    outcome: &'a str,
}

fn audit_sign_in(
    conn: &mut DbConn,
    actor: &Caller,
    action: AuditAction,
    user_id: Option<i64>,
    outcome: &str,
) -> AppResult<()> {
    audit::record(
        conn,
        actor,
        action,
        AuditSubject::User,
        user_id.map_or_else(|| "unknown".to_owned(), |id| id.to_string()),
        None,
        Some(&SignInNote { outcome }),
    )
}

fn throttle_key_password(email: &str) -> String {
    format!("signin:{}", email.trim().to_lowercase())
}

fn throttle_key_code(user_id: i64) -> String {
    format!("totp:{user_id}")
}

/// Step 1 of signing in: the attempt is reserved with the throttle (429 while the e-mail
/// address and client address wait out earlier failures) and the account loaded.
pub fn begin_sign_in(
    conn: &mut DbConn,
    throttle: &Throttle,
    email: &str,
    address: &str,
) -> AppResult<SignInAttempt> {
    let key = throttle_key_password(email);
    throttle.reserve(conn, &key, address, crate::db::now())?;
    let row = super::find_by_email(conn, email)?;
    Ok(SignInAttempt {
        key,
        address: address.to_owned(),
        row,
    })
}

/// A reserved sign-in attempt (see [`begin_sign_in`]).
pub struct SignInAttempt {
    key: String,
    address: String,
    row: Option<UserRow>,
}

/// A checked password (see [`SignInAttempt::verify`]).
pub struct VerifiedSignIn {
    key: String,
    address: String,
    row: UserRow,
}

/// The outcome of the password check, to record when it failed.
pub struct FailedSignIn {
    pub user_id: Option<i64>,
    pub reason: &'static str,
}

impl SignInAttempt {
    /// Step 2: the argon2 check, slow on purpose, without a database connection; unknown
    /// addresses cost the same time. A failure stays counted by the throttle.
    pub fn verify(self, password: &str) -> Result<VerifiedSignIn, FailedSignIn> {
        let hash = self
            .row
            .as_ref()
            .and_then(|r| r.password_hash.as_deref())
            .unwrap_or(super::password::dummy_hash());
        let ok = super::password::verify(password, hash);
        match self.row {
            Some(row) if ok && row.active && row.password_hash.is_some() => Ok(VerifiedSignIn {
                key: self.key,
                address: self.address,
                row,
            }),
            Some(row) => Err(FailedSignIn {
                user_id: Some(row.id),
                reason: if !row.active {
                    "inactive"
                } else if row.password_hash.is_none() {
                    "no_password"
                } else {
                    "wrong_password"
                },
            }),
            None => Err(FailedSignIn {
                user_id: None,
                reason: "unknown_email",
            }),
        }
    }
}

/// Record a failed sign-in in the audit log; the error to answer (the same for every reason).
pub fn record_failure(conn: &mut DbConn, failure: &FailedSignIn) -> AppResult<AppError> {
    audit_sign_in(
        conn,
        &Caller::Anonymous,
        AuditAction::UserSignInFailed,
        failure.user_id,
        failure.reason,
    )?;
    Ok(AppError::unauthenticated(WRONG))
}

fn create(
    conn: &mut DbConn,
    policy: &SessionPolicy,
    row: &UserRow,
    stage: Stage,
    created_at: Option<NaiveDateTime>,
) -> AppResult<NewSession> {
    let now = crate::db::now();
    let created_at = created_at.unwrap_or(now);
    let cookie = new_token("");
    let csrf = new_token("");
    let expires_at = created_at + policy.absolute;
    let id_hash = token_hash(&cookie);
    diesel::insert_into(user_sessions::table)
        .values((
            user_sessions::id_hash.eq(&id_hash),
            user_sessions::user_id.eq(row.id),
            user_sessions::csrf_token.eq(&csrf),
            user_sessions::stage.eq(stage.as_str()),
            user_sessions::created_at.eq(created_at),
            user_sessions::last_seen_at.eq(now),
            user_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(NewSession {
        cookie,
        session: Session {
            id_hash,
            user: row.to_user()?,
            stage,
            csrf,
            created_at,
            expires_at,
        },
    })
}

fn signed_in(conn: &mut DbConn, row: &UserRow) -> AppResult<()> {
    diesel::update(users::table.find(row.id))
        .set(users::last_sign_in_at.eq(crate::db::now()))
        .execute(conn)?;
    let user = row.to_user()?;
    audit_sign_in(
        conn,
        &user.caller(),
        AuditAction::UserSignedIn,
        Some(row.id),
        "signed_in",
    )
}

/// Step 3: the account must still be active with the checked password; the throttle forgets
/// the pair, the session the browser had (`previous`) ends, and a new one begins at the stage
/// the account's second factor calls for.
pub fn finish_sign_in(
    conn: &mut DbConn,
    throttle: &Throttle,
    policy: &SessionPolicy,
    verified: VerifiedSignIn,
    previous: Option<&str>,
) -> AppResult<NewSession> {
    crate::db::transaction(conn, |conn| {
        let row = load_row(conn, verified.row.id)?;
        if !row.active || row.password_hash != verified.row.password_hash {
            return Err(AppError::unauthenticated(WRONG));
        }
        throttle.release(conn, &verified.key, &verified.address, crate::db::now())?;
        if let Some(previous) = previous {
            end(conn, previous)?;
        }
        let user = row.to_user()?;
        let stage = if row.totp_secret.is_some() {
            Stage::SecondFactor
        } else if user.needs_second_factor() {
            Stage::Enrol
        } else {
            Stage::Full
        };
        let new = create(conn, policy, &row, stage, None)?;
        if stage == Stage::Full {
            signed_in(conn, &row)?;
        }
        Ok(new)
    })
}

/// The session behind a cookie, if it is current: known, not past its absolute end, used
/// within the idle time, and of an active account. Its last use is moved on (at most once a
/// minute, to spare the database).
pub fn resolve(
    conn: &mut DbConn,
    policy: &SessionPolicy,
    cookie: &str,
) -> AppResult<Option<Session>> {
    let now = crate::db::now();
    let found: Option<(
        String,
        String,
        String,
        NaiveDateTime,
        NaiveDateTime,
        NaiveDateTime,
        i64,
    )> = user_sessions::table
        .find(token_hash(cookie))
        .select((
            user_sessions::id_hash,
            user_sessions::csrf_token,
            user_sessions::stage,
            user_sessions::created_at,
            user_sessions::last_seen_at,
            user_sessions::expires_at,
            user_sessions::user_id,
        ))
        .first(conn)
        .optional()?;
    let Some((id_hash, csrf, stage, created_at, last_seen_at, expires_at, user_id)) = found else {
        return Ok(None);
    };
    if expires_at <= now || last_seen_at + policy.idle <= now {
        diesel::delete(user_sessions::table.find(&id_hash)).execute(conn)?;
        return Ok(None);
    }
    let row = load_row(conn, user_id)?;
    if !row.active {
        return Ok(None);
    }
    if now - last_seen_at > TimeDelta::seconds(60) {
        diesel::update(user_sessions::table.find(&id_hash))
            .set(user_sessions::last_seen_at.eq(now))
            .execute(conn)?;
    }
    Ok(Some(Session {
        id_hash,
        user: row.to_user()?,
        stage: stage.parse().map_err(AppError::internal)?,
        csrf,
        created_at,
        expires_at,
    }))
}

/// End the session behind a cookie (sign out).
pub fn end(conn: &mut DbConn, cookie: &str) -> AppResult<()> {
    diesel::delete(user_sessions::table.find(token_hash(cookie))).execute(conn)?;
    Ok(())
}

/// Sign out: end this session, and record it.
pub fn sign_out(conn: &mut DbConn, session: &Session) -> AppResult<()> {
    diesel::delete(user_sessions::table.find(&session.id_hash)).execute(conn)?;
    audit_sign_in(
        conn,
        &session.user.caller(),
        AuditAction::UserSignedOut,
        Some(session.user.id),
        "signed_out",
    )
}

/// End every session of a user.
pub fn end_all(conn: &mut DbConn, user_id: i64) -> AppResult<usize> {
    Ok(
        diesel::delete(user_sessions::table.filter(user_sessions::user_id.eq(user_id)))
            .execute(conn)?,
    )
}

/// Sign out everywhere: every session of the session's user ends, this one too.
pub fn sign_out_everywhere(conn: &mut DbConn, session: &Session) -> AppResult<usize> {
    let n = end_all(conn, session.user.id)?;
    audit_sign_in(
        conn,
        &session.user.caller(),
        AuditAction::UserSignedOutEverywhere,
        Some(session.user.id),
        "signed_out_everywhere",
    )?;
    Ok(n)
}

fn wrong_code() -> AppError {
    AppError::Validation(
        vec![FieldIssue::new(
            "code",
            "wrong_code",
            "deze code klopt niet (of is al gebruikt); neem de volgende uit je app / this code is \
             wrong (or was used already); take the next one from your app",
        )]
        .into(),
    )
}

/// At stage `second_factor`: check the code, then step up to a new `full` session.
/// Throttled per account and address like passwords; a code is accepted once.
pub fn second_factor(
    conn: &mut DbConn,
    throttle: &Throttle,
    policy: &SessionPolicy,
    session: &Session,
    code: &str,
    address: &str,
    unix_now: i64,
) -> AppResult<NewSession> {
    if session.stage != Stage::SecondFactor {
        return Err(AppError::conflict(
            "INVALID_TRANSITION",
            "this session does not wait for a second-factor code",
        ));
    }
    let key = throttle_key_code(session.user.id);
    throttle.reserve(conn, &key, address, crate::db::now())?;
    crate::db::transaction(conn, |conn| {
        let row = load_row(conn, session.user.id)?;
        let secret = row.totp_secret.as_deref().ok_or_else(wrong_code)?;
        let Some(step) = totp::verify(secret, code, unix_now, row.totp_last_step) else {
            audit_sign_in(
                conn,
                &Caller::Anonymous,
                AuditAction::UserSignInFailed,
                Some(row.id),
                "wrong_code",
            )?;
            return Ok(Err(wrong_code()));
        };
        // Only the first of two concurrent uses of one code gets through.
        let claimed = diesel::update(
            users::table.find(row.id).filter(
                users::totp_last_step
                    .is_null()
                    .or(users::totp_last_step.lt(step)),
            ),
        )
        .set(users::totp_last_step.eq(step))
        .execute(conn)?;
        if claimed != 1 {
            return Ok(Err(wrong_code()));
        }
        throttle.release(conn, &key, address, crate::db::now())?;
        diesel::delete(user_sessions::table.find(&session.id_hash)).execute(conn)?;
        let new = create(conn, policy, &row, Stage::Full, None)?;
        signed_in(conn, &row)?;
        Ok(Ok(new))
    })?
}

/// What an authenticator app needs to add the account.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    /// The secret, base32 (to type in when the app cannot scan).
    pub secret: String,
    /// `otpauth://` URI (for a QR code).
    pub uri: String,
}

/// Begin setting up a second factor (stage `enrol`, or a signed-in team account that wants
/// one): a new secret, kept pending until a code from it is confirmed.
pub fn begin_enrolment(conn: &mut DbConn, session: &Session) -> AppResult<TotpSetup> {
    if !matches!(session.stage, Stage::Enrol | Stage::Full) {
        return Err(AppError::conflict(
            "INVALID_TRANSITION",
            "sign in with your password first",
        ));
    }
    let secret = totp::new_secret();
    diesel::update(users::table.find(session.user.id))
        .set(users::totp_pending_secret.eq(&secret))
        .execute(conn)?;
    Ok(TotpSetup {
        uri: totp::otpauth_uri(&secret, &session.user.email, "basisset"),
        secret,
    })
}

/// Confirm the pending secret with a code from the app: it becomes the account's second
/// factor, the session steps up to a new `full` one, and it is recorded.
pub fn confirm_enrolment(
    conn: &mut DbConn,
    policy: &SessionPolicy,
    session: &Session,
    code: &str,
    unix_now: i64,
) -> AppResult<NewSession> {
    crate::db::transaction(conn, |conn| {
        let row = load_row(conn, session.user.id)?;
        let pending = row.totp_pending_secret.as_deref().ok_or_else(|| {
            AppError::conflict("INVALID_TRANSITION", "start setting up the app first")
        })?;
        let Some(step) = totp::verify(pending, code, unix_now, None) else {
            return Err(wrong_code());
        };
        let before = row.to_user()?;
        diesel::update(users::table.find(row.id))
            .set((
                users::totp_secret.eq(pending),
                users::totp_pending_secret.eq(None::<String>),
                users::totp_last_step.eq(step),
                users::updated_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
        let row = load_row(conn, row.id)?;
        let after = row.to_user()?;
        audit::record(
            conn,
            &after.caller(),
            AuditAction::UserSecondFactorEnabled,
            AuditSubject::User,
            after.id,
            Some(&before),
            Some(&after),
        )?;
        let was_full = session.stage == Stage::Full;
        diesel::delete(user_sessions::table.find(&session.id_hash)).execute(conn)?;
        let created_at = was_full.then_some(session.created_at);
        let new = create(conn, policy, &row, Stage::Full, created_at)?;
        if !was_full {
            signed_in(conn, &row)?;
        }
        Ok(new)
    })
}

/// Change one's own password (signed in; the transport checks the current one with
/// [`password_hash_of`] first): other sessions end.
pub fn change_password(
    conn: &mut DbConn,
    session: &Session,
    new: &super::password::NewPassword,
) -> AppResult<()> {
    crate::db::transaction(conn, |conn| {
        let before = load_row(conn, session.user.id)?.to_user()?;
        diesel::update(users::table.find(session.user.id))
            .set((
                users::password_hash.eq(new.hash()),
                users::updated_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
        diesel::delete(
            user_sessions::table
                .filter(user_sessions::user_id.eq(session.user.id))
                .filter(user_sessions::id_hash.ne(&session.id_hash)),
        )
        .execute(conn)?;
        let after = load_row(conn, session.user.id)?.to_user()?;
        audit::record(
            conn,
            &after.caller(),
            AuditAction::UserPasswordSet,
            AuditSubject::User,
            after.id,
            Some(&before),
            Some(&after),
        )
    })
}

/// The current password hash of the session's user (to check "current password" off the
/// connection).
pub fn password_hash_of(conn: &mut DbConn, user_id: i64) -> AppResult<Option<String>> {
    Ok(load_row(conn, user_id)?.password_hash)
}
