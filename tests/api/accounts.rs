//! People's accounts (issue 14), at the domain level: who may invite whom, invitation links
//! that work once and expire, the password rules, signing in with throttling and a second
//! factor, and sessions that end when they should. The pages on top are tested in
//! `portal.rs` and the browser walk-through.

use basisset::auth::{Caller, ClientIdentity, Role};
use basisset::error::AppError;
use basisset::users::password::NewPassword;
use basisset::users::sessions::{self, SessionPolicy, Stage};
use basisset::users::{self, NewUser, totp};
use chrono::TimeDelta;
use diesel::prelude::*;

use crate::common::*;

const PASSWORD: &str = "paars konijn eet 3 wortels";
const DAYS: TimeDelta = TimeDelta::days(3);

fn new_user(email: &str, role: Role, org: Option<i64>, coordinator: bool) -> NewUser {
    NewUser {
        email: email.into(),
        role,
        organisation_id: org,
        coordinator,
    }
}

fn code_of(err: &AppError) -> String {
    err.problem().code.to_string()
}

fn admin_client() -> Caller {
    Caller::Client(ClientIdentity {
        client_id: "some-admin-client".into(),
        name: "admin".into(),
        role: Role::Admin,
        organisation_id: None,
    })
}

/// Invite and set a password, as the person would; returns the account id.
fn onboard(conn: &mut basisset::db::DbConn, input: NewUser) -> i64 {
    let email = input.email.clone();
    let inv = users::invite(conn, &Caller::System, input, DAYS).unwrap();
    let pw = NewPassword::prepare(PASSWORD, &email).unwrap();
    users::accept_invitation(conn, &inv.token, &pw).unwrap().id
}

fn policy() -> SessionPolicy {
    SessionPolicy {
        idle: TimeDelta::minutes(30),
        absolute: TimeDelta::hours(12),
    }
}

fn sign_in(
    app: &TestApp,
    email: &str,
    password: &str,
    previous: Option<&str>,
) -> Result<sessions::NewSession, AppError> {
    let mut conn = app.conn();
    let throttle = &app.state.auth.throttle;
    let attempt = sessions::begin_sign_in(&mut conn, throttle, email, "192.0.2.7")?;
    match attempt.verify(password) {
        Ok(v) => sessions::finish_sign_in(&mut conn, throttle, &policy(), v, previous),
        Err(f) => Err(sessions::record_failure(&mut conn, &f).unwrap()),
    }
}

fn totp_now(secret: &str, offset_steps: i64) -> (String, i64) {
    let now = chrono::Utc::now().timestamp() + offset_steps * totp::STEP_SECS;
    let key = totp::base32_decode(secret).unwrap();
    (
        format!("{:06}", totp::hotp(&key, totp::step_at(now) as u64, 6)),
        now,
    )
}

#[actix_web::test]
async fn invitations_follow_the_role_matrix() {
    let app = TestApp::spawn().await;
    let org_a = app.create_org("Buurtteam A", "jeugd", &["GM0344"]).await;
    let org_b = app.create_org("Buurtteam B", "jeugd", &["GM0599"]).await;
    let mut conn = app.conn();
    let sys = Caller::System;
    // The server invites anyone.
    for (email, role, org) in [
        ("beheer@associatie.nl", Role::Admin, None),
        ("analist@associatie.nl", Role::Associatie, None),
        ("data@buurtteam-a.nl", Role::Team, Some(org_a)),
    ] {
        users::invite(&mut conn, &sys, new_user(email, role, org, false), DAYS).unwrap();
    }
    // An admin over the portal: team accounts only.
    let admin = admin_client();
    for role in [Role::Associatie, Role::Admin] {
        let err = users::invite(
            &mut conn,
            &admin,
            new_user("x@y.nl", role, None, false),
            DAYS,
        )
        .unwrap_err();
        assert_eq!(code_of(&err), "FORBIDDEN", "admin inviting {role}");
    }
    users::invite(
        &mut conn,
        &admin,
        new_user("coord@buurtteam-a.nl", Role::Team, Some(org_a), true),
        DAYS,
    )
    .unwrap();
    // A coordinator: its own team, not coordinators, not another organisation.
    let coord_id = onboard(
        &mut conn,
        new_user("coord2@buurtteam-a.nl", Role::Team, Some(org_a), true),
    );
    let coord = users::get(&mut conn, &sys, coord_id).unwrap().caller();
    users::invite(
        &mut conn,
        &coord,
        new_user("collega@buurtteam-a.nl", Role::Team, Some(org_a), false),
        DAYS,
    )
    .unwrap();
    for (input, why) in [
        (
            new_user("b@buurtteam-b.nl", Role::Team, Some(org_b), false),
            "another organisation",
        ),
        (
            new_user("c2@buurtteam-a.nl", Role::Team, Some(org_a), true),
            "a coordinator",
        ),
        (
            new_user("a@associatie.nl", Role::Associatie, None, false),
            "the Associatie",
        ),
    ] {
        let err = users::invite(&mut conn, &coord, input, DAYS).unwrap_err();
        assert_eq!(code_of(&err), "FORBIDDEN", "coordinator inviting {why}");
    }
    // A team member that is not a coordinator, the Associatie, anonymous: no.
    let member_id = onboard(
        &mut conn,
        new_user("lid@buurtteam-a.nl", Role::Team, Some(org_a), false),
    );
    let member = users::get(&mut conn, &sys, member_id).unwrap().caller();
    let assoc = Caller::Client(ClientIdentity {
        client_id: "assoc".into(),
        name: "assoc".into(),
        role: Role::Associatie,
        organisation_id: None,
    });
    for (caller, who) in [(&member, "member"), (&assoc, "associatie")] {
        let err = users::invite(
            &mut conn,
            caller,
            new_user("n@buurtteam-a.nl", Role::Team, Some(org_a), false),
            DAYS,
        )
        .unwrap_err();
        assert_eq!(code_of(&err), "FORBIDDEN", "{who}");
    }
    let err = users::invite(
        &mut conn,
        &Caller::Anonymous,
        new_user("n@buurtteam-a.nl", Role::Team, Some(org_a), false),
        DAYS,
    )
    .unwrap_err();
    assert!(matches!(
        code_of(&err).as_str(),
        "FORBIDDEN" | "UNAUTHENTICATED"
    ));
    // Every input problem at once, named.
    let err = users::invite(
        &mut conn,
        &sys,
        new_user("geen-adres", Role::Team, None, false),
        DAYS,
    )
    .unwrap_err();
    let fields: Vec<String> = err
        .problem()
        .errors
        .iter()
        .map(|i| i.field.clone())
        .collect();
    assert_eq!(fields, ["email", "organisationId"]);
    let err = users::invite(
        &mut conn,
        &sys,
        new_user("x@y.nl", Role::Associatie, Some(org_a), true),
        DAYS,
    )
    .unwrap_err();
    assert_eq!(err.problem().errors.len(), 2);
    // The same address twice (any case): 409.
    let err = users::invite(
        &mut conn,
        &sys,
        new_user(" DATA@Buurtteam-A.nl ", Role::Team, Some(org_a), false),
        DAYS,
    )
    .unwrap_err();
    assert_eq!(code_of(&err), "USER_EXISTS");
    // The coordinator sees its own team only; a member sees none.
    let seen = users::list(&mut conn, &coord).unwrap();
    assert!(seen.iter().all(|u| u.organisation_id == Some(org_a)));
    assert!(seen.len() >= 4);
    assert_eq!(
        code_of(&users::list(&mut conn, &member).unwrap_err()),
        "FORBIDDEN"
    );
}

#[actix_web::test]
async fn an_invitation_link_works_once_and_then_never_again() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Buurtteam A", "jeugd", &["GM0344"]).await;
    let mut conn = app.conn();
    let inv = users::invite(
        &mut conn,
        &Caller::System,
        new_user("data@buurtteam-a.nl", Role::Team, Some(org), false),
        DAYS,
    )
    .unwrap();
    assert!(inv.path.starts_with("/account/welkom?token=bsi_"));
    let opened = users::open_invitation(&mut conn, &inv.token).unwrap();
    assert_eq!(opened.email, "data@buurtteam-a.nl");
    // Weak passwords never get as far as the account.
    for weak in ["kort", "Welkom2024!!!", "data@buurtteam-a.nl2026"] {
        let err = NewPassword::prepare(weak, &opened.email).unwrap_err();
        assert_eq!(code_of(&err), "VALIDATION_FAILED", "{weak}");
        assert_eq!(err.problem().errors[0].field, "password");
    }
    let pw = NewPassword::prepare(PASSWORD, &opened.email).unwrap();
    users::accept_invitation(&mut conn, &inv.token, &pw).unwrap();
    // Used: gone, also with the token changed in case or cut short.
    for t in [
        inv.token.clone(),
        inv.token.to_uppercase(),
        inv.token[..20].to_owned(),
    ] {
        let err = users::accept_invitation(&mut conn, &t, &pw).unwrap_err();
        assert_eq!(code_of(&err), "NOT_FOUND");
    }
    // An expired link, and a link replaced by a newer one.
    let old = users::reset(&mut conn, &Caller::System, inv.user.id, DAYS).unwrap();
    let newer = users::reset(&mut conn, &Caller::System, inv.user.id, DAYS).unwrap();
    assert_eq!(
        code_of(&users::open_invitation(&mut conn, &old.token).unwrap_err()),
        "NOT_FOUND"
    );
    let expired = users::reset(
        &mut conn,
        &Caller::System,
        inv.user.id,
        TimeDelta::seconds(-1),
    )
    .unwrap();
    assert_eq!(
        code_of(&users::open_invitation(&mut conn, &expired.token).unwrap_err()),
        "NOT_FOUND"
    );
    let _ = newer;
    // Only hashes are stored.
    use basisset::db::schema::user_invitations::dsl as i;
    let stored: Vec<String> = i::user_invitations
        .select(i::token_hash)
        .load(&mut conn)
        .unwrap();
    assert!(stored.iter().all(|h| !h.contains("bsi_") && h.len() == 43));
}

#[actix_web::test]
async fn sign_in_is_throttled_and_never_says_which_part_was_wrong() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Buurtteam A", "jeugd", &["GM0344"]).await;
    {
        let mut conn = app.conn();
        onboard(
            &mut conn,
            new_user("data@buurtteam-a.nl", Role::Team, Some(org), false),
        );
    }
    let ok = sign_in(&app, "Data@Buurtteam-A.nl", PASSWORD, None).unwrap();
    assert_eq!(ok.session.stage, Stage::Full);
    assert_eq!(ok.session.caller().role(), Some(Role::Team));
    // Unknown address and wrong password: the same answer.
    let unknown = sign_in(&app, "niemand@buurtteam-a.nl", PASSWORD, None).unwrap_err();
    let wrong = sign_in(&app, "data@buurtteam-a.nl", "verkeerd wachtwoord!", None).unwrap_err();
    assert_eq!(unknown.problem().detail, wrong.problem().detail);
    assert_eq!(code_of(&wrong), "UNAUTHENTICATED");
    // Five failures in a row, then even the right password waits.
    for _ in 0..4 {
        let _ = sign_in(&app, "data@buurtteam-a.nl", "verkeerd wachtwoord!", None);
    }
    let err = sign_in(&app, "data@buurtteam-a.nl", PASSWORD, None).unwrap_err();
    assert_eq!(code_of(&err), "RATE_LIMITED");
    // Every failure is in the audit log, none with the password typed.
    let mut conn = app.conn();
    use basisset::db::schema::audit_log::dsl as a;
    let failures: Vec<Option<String>> = a::audit_log
        .filter(a::action.eq("user.sign_in_failed"))
        .select(a::after)
        .load(&mut conn)
        .unwrap();
    assert!(failures.len() >= 5, "{failures:?}");
    assert!(failures.iter().flatten().all(|f| !f.contains("verkeerd")));
}

#[actix_web::test]
async fn associatie_accounts_must_set_up_and_then_use_a_second_factor() {
    let app = TestApp::spawn().await;
    {
        let mut conn = app.conn();
        onboard(
            &mut conn,
            new_user("analist@associatie.nl", Role::Associatie, None, false),
        );
    }
    // Password right, no second factor yet: the session can only set one up.
    let first = sign_in(&app, "analist@associatie.nl", PASSWORD, None).unwrap();
    assert_eq!(first.session.stage, Stage::Enrol);
    assert_eq!(first.session.caller(), Caller::Anonymous);
    let mut conn = app.conn();
    let setup = sessions::begin_enrolment(&mut conn, &first.session).unwrap();
    assert!(
        setup
            .uri
            .starts_with("otpauth://totp/basisset:analist@associatie.nl?secret=")
    );
    let wrong =
        sessions::confirm_enrolment(&mut conn, &policy(), &first.session, "000000", 0).unwrap_err();
    assert_eq!(wrong.problem().errors[0].code, "wrong_code");
    let (code, now) = totp_now(&setup.secret, 0);
    let full =
        sessions::confirm_enrolment(&mut conn, &policy(), &first.session, &code, now).unwrap();
    assert_eq!(full.session.stage, Stage::Full);
    assert_eq!(full.session.caller().role(), Some(Role::Associatie));
    assert_ne!(
        full.cookie, first.cookie,
        "a new session id after the step up"
    );
    let policy = policy();
    assert!(
        sessions::resolve(&mut conn, &policy, &first.cookie)
            .unwrap()
            .is_none()
    );
    drop(conn);
    // Next time: the code after the password; a used code does not work twice.
    let second = sign_in(&app, "analist@associatie.nl", PASSWORD, None).unwrap();
    assert_eq!(second.session.stage, Stage::SecondFactor);
    let mut conn = app.conn();
    let throttle = &app.state.auth.throttle;
    let replay = sessions::second_factor(
        &mut conn,
        throttle,
        &policy,
        &second.session,
        &code,
        "192.0.2.7",
        now,
    )
    .unwrap_err();
    assert_eq!(replay.problem().errors[0].code, "wrong_code");
    let (next, later) = totp_now(&setup.secret, 1);
    let signed_in = sessions::second_factor(
        &mut conn,
        throttle,
        &policy,
        &second.session,
        &next,
        "192.0.2.7",
        later,
    )
    .unwrap();
    assert_eq!(signed_in.session.stage, Stage::Full);
    // Codes are throttled like passwords.
    drop(conn);
    let third = sign_in(&app, "analist@associatie.nl", PASSWORD, None).unwrap();
    let mut conn = app.conn();
    let mut last = None;
    for _ in 0..7 {
        last = Some(
            sessions::second_factor(
                &mut conn,
                throttle,
                &policy,
                &third.session,
                "123456",
                "192.0.2.7",
                later,
            )
            .unwrap_err(),
        );
    }
    assert_eq!(code_of(&last.unwrap()), "RATE_LIMITED");
}

#[actix_web::test]
async fn sessions_end_when_idle_too_old_deactivated_or_signed_out_everywhere() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Buurtteam A", "jeugd", &["GM0344"]).await;
    let id = {
        let mut conn = app.conn();
        onboard(
            &mut conn,
            new_user("data@buurtteam-a.nl", Role::Team, Some(org), false),
        )
    };
    let policy = policy();
    use basisset::db::schema::user_sessions::dsl as s;
    // Sign-in drops the session the browser came with (no fixation).
    let a = sign_in(&app, "data@buurtteam-a.nl", PASSWORD, None).unwrap();
    let b = sign_in(&app, "data@buurtteam-a.nl", PASSWORD, Some(&a.cookie)).unwrap();
    let mut conn = app.conn();
    assert!(
        sessions::resolve(&mut conn, &policy, &a.cookie)
            .unwrap()
            .is_none()
    );
    assert!(
        sessions::resolve(&mut conn, &policy, &b.cookie)
            .unwrap()
            .is_some()
    );
    // Idle past 30 minutes.
    diesel::update(s::user_sessions.filter(s::id_hash.eq(&b.session.id_hash)))
        .set(s::last_seen_at.eq(basisset::db::now() - TimeDelta::minutes(31)))
        .execute(&mut conn)
        .unwrap();
    assert!(
        sessions::resolve(&mut conn, &policy, &b.cookie)
            .unwrap()
            .is_none()
    );
    drop(conn);
    // Past the absolute end, however recently used.
    let c = sign_in(&app, "data@buurtteam-a.nl", PASSWORD, None).unwrap();
    let mut conn = app.conn();
    diesel::update(s::user_sessions.filter(s::id_hash.eq(&c.session.id_hash)))
        .set(s::expires_at.eq(basisset::db::now() - TimeDelta::seconds(1)))
        .execute(&mut conn)
        .unwrap();
    assert!(
        sessions::resolve(&mut conn, &policy, &c.cookie)
            .unwrap()
            .is_none()
    );
    drop(conn);
    // Sign out everywhere ends them all; deactivation too.
    let d = sign_in(&app, "data@buurtteam-a.nl", PASSWORD, None).unwrap();
    let e = sign_in(&app, "data@buurtteam-a.nl", PASSWORD, None).unwrap();
    let mut conn = app.conn();
    sessions::sign_out_everywhere(&mut conn, &d.session).unwrap();
    assert!(
        sessions::resolve(&mut conn, &policy, &e.cookie)
            .unwrap()
            .is_none()
    );
    drop(conn);
    let f = sign_in(&app, "data@buurtteam-a.nl", PASSWORD, None).unwrap();
    let mut conn = app.conn();
    users::set_active(&mut conn, &admin_client(), id, false).unwrap();
    assert!(
        sessions::resolve(&mut conn, &policy, &f.cookie)
            .unwrap()
            .is_none()
    );
    drop(conn);
    assert_eq!(
        code_of(&sign_in(&app, "data@buurtteam-a.nl", PASSWORD, None).unwrap_err()),
        "UNAUTHENTICATED"
    );
    // Session ids are stored hashed only.
    let mut conn = app.conn();
    let hashes: Vec<String> = s::user_sessions.select(s::id_hash).load(&mut conn).unwrap();
    assert!(hashes.iter().all(|h| *h != f.cookie));
}
