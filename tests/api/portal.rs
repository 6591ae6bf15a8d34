//! Issue 14: the portal over HTTP, as a browser uses it (cookies, forms, redirects): the whole
//! flow from invitation to an accepted submission, CSRF and origin checks, a new session id at
//! sign-in, the cookie's flags, everything escaped, and the role matrix extended to pages.

use actix_web::test;
use basisset::auth::{Caller, Role};
use basisset::users::{self, NewUser, totp};

use crate::common::*;

const PASSWORD: &str = "paars konijn eet 3 wortels";
const COOKIE: &str = "__Host-basisset";

/// A browser: one session cookie, following nothing by itself.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Browser { app, cookie: None }
    }

    async fn send(&mut self, mut req: test::TestRequest) -> Resp {
        if let Some(c) = &self.cookie {
            req = req.insert_header(("Cookie", format!("{COOKIE}={c}")));
        }
        let res = self.app.send(req).await;
        if let Some(set) = res.header("set-cookie") {
            let value = set
                .split(';')
                .next()
                .and_then(|kv| kv.split_once('='))
                .map(|(_, v)| v.to_owned())
                .unwrap_or_default();
            self.cookie = (!value.is_empty()).then_some(value);
        }
        res
    }

    async fn get(&mut self, path: &str) -> Resp {
        self.send(
            test::TestRequest::get()
                .uri(path)
                .insert_header(("Accept", "text/html")),
        )
        .await
    }

    /// GET that must answer a page.
    async fn page(&mut self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        assert_eq!(
            res.header("cache-control").as_deref(),
            Some("no-store"),
            "{path}"
        );
        res.text()
    }

    /// GET that must answer 200, whatever its caching.
    async fn page_any(&mut self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        res.text()
    }

    async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(
            test::TestRequest::post()
                .uri(path)
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(body),
        )
        .await
    }

    async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> Resp {
        let b = "----basissettestgrens";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                    .as_bytes(),
            );
        }
        if let Some((name, data)) = file {
            body.extend_from_slice(
                format!(
                    "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
        self.send(
            test::TestRequest::post()
                .uri(path)
                .insert_header(("Content-Type", format!("multipart/form-data; boundary={b}")))
                .set_payload(body),
        )
        .await
    }
}

fn location(res: &Resp) -> String {
    assert_eq!(res.status, 303, "{}", res.text());
    res.header("location").unwrap()
}

/// The value of a hidden input in a page.
fn hidden(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_owned()
}

fn text_of(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &html[at..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    rest[..rest.find('<').unwrap()].to_owned()
}

async fn invite(app: &TestApp, email: &str, role: Role, org: Option<i64>) -> String {
    let input = NewUser {
        email: email.into(),
        role,
        organisation_id: org,
        coordinator: false,
    };
    let state = app.state.clone();
    state
        .db
        .run(move |conn| users::invite(conn, &Caller::System, input, chrono::TimeDelta::hours(72)))
        .await
        .unwrap()
        .token
}

fn step_now() -> i64 {
    totp::step_at(chrono::Utc::now().timestamp())
}

/// The code of a time step (a code is accepted once, within one step of the clock).
fn code_of_step(secret: &str, step: i64) -> String {
    let key = totp::base32_decode(secret).unwrap();
    format!("{:06}", totp::hotp(&key, step as u64, 6))
}

/// Accept the invitation and sign in; returns the page the sign-in leads to.
async fn onboard(b: &mut Browser<'_>, token: &str, email: &str) -> String {
    let page = b.page(&format!("/account/welkom?token={token}")).await;
    assert!(page.contains(email), "{page}");
    // The rules are checked and shown.
    let res = b
        .post_form(
            "/account/welkom",
            &[
                ("token", token),
                ("password", "welkom123"),
                ("password2", "welkom123"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(
        res.text().contains("data-field=\"password\""),
        "{}",
        res.text()
    );
    let res = b
        .post_form(
            "/account/welkom",
            &[
                ("token", token),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&res), "/account/inloggen?welkom=1");
    let res = b
        .post_form(
            "/account/inloggen",
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    location(&res)
}

/// A team member and an organisation with a hostile name; signed in.
async fn team_member<'a>(app: &'a TestApp, email: &str, org: i64) -> Browser<'a> {
    let token = invite(app, email, Role::Team, Some(org)).await;
    let mut b = Browser::new(app);
    assert_eq!(onboard(&mut b, &token, email).await, "/portaal");
    b
}

/// An Associatie member, with the second factor set up; signed in.
async fn associatie_member<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    associatie_member_with_secret(app, email).await.0
}

/// Also the secret and the time step of the code that confirmed it.
async fn associatie_member_with_secret<'a>(
    app: &'a TestApp,
    email: &str,
) -> (Browser<'a>, String, i64) {
    second_factor_member(app, email, Role::Associatie, "/portaal/beoordelen").await
}

/// An Associatie or admin member: invited, password, second factor; `home` is where
/// `/portaal` leads it.
async fn second_factor_member<'a>(
    app: &'a TestApp,
    email: &str,
    role: Role,
    home: &str,
) -> (Browser<'a>, String, i64) {
    let token = invite(app, email, role, None).await;
    let mut b = Browser::new(app);
    // Required before anything else.
    assert_eq!(onboard(&mut b, &token, email).await, "/account/app");
    assert_eq!(location(&b.get("/portaal").await), "/account/app");
    let page = b.page("/account/app").await;
    let csrf = hidden(&page, "csrf");
    let res = b.post_form("/account/app/start", &[("csrf", &csrf)]).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let secret = text_of(&res.text(), "totp-secret");
    assert!(text_of(&res.text(), "totp-uri").starts_with("otpauth://totp/"));
    let res = b
        .post_form("/account/app", &[("csrf", &csrf), ("code", "000000")])
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let step = step_now();
    let res = b
        .post_form(
            "/account/app",
            &[("csrf", &csrf), ("code", &code_of_step(&secret, step))],
        )
        .await;
    assert_eq!(location(&res), "/portaal");
    assert_eq!(location(&b.get("/portaal").await), home);
    (b, secret, step)
}

const BAD_CSV: &str = "\u{feff}indicator;gemeente;waarde;teller;noemer;respondenten;aantal;toelichting\r\n\
    nieuwe_aanmeldingen;;1200,5;;;;;\r\n\
    formatie_fte;;42,5;;;;;\r\n\
    aandeel_zelfmelders;GM0344;;480;400;;;\"<b>vet</b> & zo\"\r\n\
    cev_helpend;;74,0;;;1939;;\r\n";
const GOOD_CSV: &str = "\u{feff}indicator;gemeente;waarde;teller;noemer;respondenten;aantal;toelichting\r\n\
    nieuwe_aanmeldingen;;1200;;;;;\r\n\
    formatie_fte;;42,5;;;;;\r\n\
    aandeel_zelfmelders;GM0344;;480;1200;;;\"<b>vet</b> & zo\"\r\n\
    cev_helpend;;74,0;;;1939;;\r\n";

#[actix_web::test]
async fn the_whole_flow_from_invitation_to_acceptance() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let mut team = team_member(&app, "data@buurtteam-a.nl", f.org_a).await;
    let org_page = format!("/portaal/organisaties/{}", f.org_a);
    assert_eq!(location(&team.get("/portaal").await), org_page);
    let page = team.page(&org_page).await;
    assert!(page.contains("Buurtteam A"));
    assert!(page.contains("data-status=\"due\""), "{page}");
    let csrf = hidden(&page, "csrf");
    let upload = format!("{org_page}/upload");

    // Two mistakes: each at its row and column, nothing stored.
    let res = team
        .post_multipart(
            &upload,
            &[
                ("csrf", &csrf),
                ("period", "2023"),
                ("publication", "openbaar"),
                ("action", "check"),
            ],
            Some(("cijfers.csv", BAD_CSV.as_bytes())),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let html = res.text();
    assert!(
        html.contains("data-row=\"2\" data-cell=\"\" data-code=\"not_integer\""),
        "{html}"
    );
    assert!(html.contains("data-row=\"4\""), "{html}");
    assert!(html.contains("numerator_exceeds_denominator"), "{html}");
    let api = app
        .get(
            &format!("/api/v1/organisations/{}/submissions", f.org_a),
            Some(&f.team_a),
        )
        .await
        .json();
    assert_eq!(api.as_array().unwrap().len(), 0);

    // Fixed: the check passes and shows the figures, escaped; then submit the checked file.
    let res = team
        .post_multipart(
            &upload,
            &[
                ("csrf", &csrf),
                ("period", "2023"),
                ("publication", "openbaar"),
                ("action", "check"),
            ],
            Some(("cijfers.csv", GOOD_CSV.as_bytes())),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let html = res.text();
    assert_eq!(text_of(&html, "aantal"), "4");
    assert!(
        html.contains("&#60;b&#62;vet&#60;/b&#62; &#38; zo"),
        "{html}"
    );
    assert!(!html.contains("<b>vet</b>"));
    let content = hidden(&html, "content");
    let res = team
        .post_multipart(
            &upload,
            &[
                ("csrf", &csrf),
                ("content", &content),
                ("filename", "cijfers.csv"),
                ("period", "2023"),
                ("publication", "openbaar"),
                ("action", "submit"),
            ],
            None,
        )
        .await;
    let sub_page = location(&res);
    assert!(sub_page.starts_with("/portaal/inzendingen/"), "{sub_page}");
    let id: i64 = sub_page.rsplit('/').next().unwrap().parse().unwrap();
    let html = team.page(&sub_page).await;
    assert_eq!(text_of(&html, "status"), "ingediend");

    // The Associatie finds it in the queue and returns it with a reason (escaped for the team).
    let mut assoc = associatie_member(&app, "analist@associatie.nl").await;
    let queue = assoc.page("/portaal/beoordelen").await;
    assert!(queue.contains(&sub_page), "{queue}");
    let html = assoc.page(&sub_page).await;
    let acsrf = hidden(&html, "csrf");
    let res = assoc
        .post_form(
            &format!("{sub_page}/terugsturen"),
            &[("csrf", &acsrf), ("reason", "")],
        )
        .await;
    assert_eq!(res.status, 422);
    let reason = "Formatie <script>alert(1)</script> lijkt te hoog";
    let res = assoc
        .post_form(
            &format!("{sub_page}/terugsturen"),
            &[("csrf", &acsrf), ("reason", reason)],
        )
        .await;
    assert_eq!(location(&res), sub_page);

    let overview = team.page(&org_page).await;
    assert!(overview.contains("data-status=\"returned\""), "{overview}");
    assert!(overview.contains("Formatie &#60;script&#62;alert(1)&#60;/script&#62; lijkt te hoog"));
    assert!(!overview.contains("<script>alert"));
    let html = team.page(&sub_page).await;
    assert!(text_of(&html, "reden").contains("&#60;script&#62;"));

    // Corrected and resubmitted: a new revision, with its diff against the first.
    let fixed = GOOD_CSV.replace("42,5", "40,5");
    let res = team
        .post_multipart(
            &upload,
            &[
                ("csrf", &csrf),
                ("period", "2023"),
                ("publication", "openbaar"),
                ("action", "submit"),
            ],
            Some(("cijfers.csv", fixed.as_bytes())),
        )
        .await;
    assert_eq!(location(&res), sub_page);
    let html = assoc.page(&sub_page).await;
    assert!(html.contains("id=\"verschillen\""));
    // Revision authors by e-mail address, not `user:ID`; the team sees the reviewer as the
    // Associatie, not by name.
    assert!(html.contains("<td>data@buurtteam-a.nl</td>"), "{html}");
    assert!(html.contains("analist@associatie.nl"), "{html}");
    assert!(!html.contains("user:"), "{html}");
    let team_view = team.page(&sub_page).await;
    assert!(team_view.contains("<td>data@buurtteam-a.nl</td>"));
    assert!(!team_view.contains("analist@associatie.nl"));
    assert!(team_view.contains("· Associatie"), "{team_view}");
    assert!(html.contains("data-key=\"formatie_fte\""), "{html}");
    assert!(html.contains("40,5"), "{html}");
    let res = assoc
        .post_form(&format!("{sub_page}/accepteren"), &[("csrf", &acsrf)])
        .await;
    assert_eq!(location(&res), sub_page);
    let detail = app
        .get(&format!("/api/v1/submissions/{id}"), Some(&f.associatie))
        .await
        .json();
    assert_eq!(detail["submission"]["status"], "accepted");
    assert_eq!(detail["figures"][1]["value"], 40.5);
    let html = team.page(&sub_page).await;
    assert_eq!(text_of(&html, "status"), "geaccepteerd");
    // English on request.
    let html = team.page(&format!("{sub_page}?lang=en")).await;
    assert!(html.contains("<html lang=\"en\">"));
    assert_eq!(text_of(&html, "status"), "accepted");
}

#[actix_web::test]
async fn forms_refuse_missing_tokens_and_other_sites() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let mut team = team_member(&app, "a@buurtteam-a.nl", f.org_a).await;
    let page = team
        .page(&format!("/portaal/organisaties/{}", f.org_a))
        .await;
    let csrf = hidden(&page, "csrf");
    let upload = format!("/portaal/organisaties/{}/upload", f.org_a);
    let fields = |t: &'static str| [("csrf", t), ("period", "2023"), ("action", "check")];
    // No token, a wrong token.
    for token in ["", "nep"] {
        let res = team
            .post_multipart(
                &upload,
                &fields(token),
                Some(("c.csv", GOOD_CSV.as_bytes())),
            )
            .await;
        assert_eq!(res.status, 403, "{}", res.text());
        assert!(res.text().contains("CSRF"));
        let res = team
            .post_form("/account/overal-uitloggen", &[("csrf", token)])
            .await;
        assert_eq!(res.status, 403);
    }
    // The right token from another site.
    let res = team
        .send(
            test::TestRequest::post()
                .uri("/account/uitloggen")
                .insert_header(("Origin", "https://evil.example"))
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(format!("csrf={csrf}")),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    // Still signed in; the sign-in form from another site is refused too.
    team.page("/account").await;
    let res = Browser::new(&app)
        .send(
            test::TestRequest::post()
                .uri("/account/inloggen")
                .insert_header(("Origin", "https://evil.example"))
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(format!("email=a%40buurtteam-a.nl&password={PASSWORD}")),
        )
        .await;
    assert_eq!(res.status, 403);
    // With the token, from this site: signed out, the cookie cleared, the session gone.
    let old = team.cookie.clone().unwrap();
    let res = team
        .post_form("/account/uitloggen", &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&res), "/account/inloggen");
    assert!(res.header("set-cookie").unwrap().contains("Max-Age=0"));
    team.cookie = Some(old);
    assert_eq!(location(&team.get("/account").await), "/account/inloggen");
}

#[actix_web::test]
async fn sign_in_renews_the_session_id_and_sets_a_strict_cookie() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let token = invite(&app, "b@buurtteam-a.nl", Role::Team, Some(f.org_a)).await;
    let mut b = Browser::new(&app);
    b.post_form(
        "/account/welkom",
        &[
            ("token", &token),
            ("password", PASSWORD),
            ("password2", PASSWORD),
        ],
    )
    .await;
    // A wrong password: 401, the form again, no cookie.
    let res = b
        .post_form(
            "/account/inloggen",
            &[
                ("email", "b@buurtteam-a.nl"),
                ("password", "fout fout fout fout"),
            ],
        )
        .await;
    assert_eq!(res.status, 401);
    assert!(res.header("set-cookie").is_none());
    // An attacker's id planted in the browser is not adopted: sign-in makes a new one.
    let res = b
        .post_form(
            "/account/inloggen",
            &[("email", "b@buurtteam-a.nl"), ("password", PASSWORD)],
        )
        .await;
    let set = res.header("set-cookie").unwrap();
    let first = b.cookie.clone().unwrap();
    for flag in [
        "__Host-basisset=",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
    ] {
        assert!(set.contains(flag), "{set}");
    }
    assert!(!set.contains("Domain"), "{set}");
    b.page("/account").await;
    let res = b
        .post_form(
            "/account/inloggen",
            &[("email", "b@buurtteam-a.nl"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 303);
    let second = b.cookie.clone().unwrap();
    assert_ne!(first, second);
    // The session the browser had before signing in again has ended.
    b.cookie = Some(first);
    assert_eq!(location(&b.get("/account").await), "/account/inloggen");
    b.cookie = Some("planted-by-someone-else".into());
    assert_eq!(location(&b.get("/portaal").await), "/account/inloggen");
}

#[actix_web::test]
async fn a_team_reaches_only_its_own_pages() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    // A hostile organisation name, rendered escaped.
    let evil = app
        .create_org("<img src=x onerror=alert(1)> Zorg", "jeugd", &["GM0363"])
        .await;
    let evil_member = team_member(&app, "c@evil.nl", evil).await;
    let mut evil_b = evil_member;
    let html = evil_b.page(&format!("/portaal/organisaties/{evil}")).await;
    assert!(
        html.contains("&#60;img src=x onerror=alert(1)&#62; Zorg"),
        "{html}"
    );
    assert!(!html.contains("<img src=x"));

    // B's submission, posted over the API.
    let res = app
        .post_raw(
            &format!("/api/v1/organisations/{}/submissions?period=2023", f.org_b),
            Some(&f.team_b),
            "text/csv",
            "indicator;waarde\nnieuwe_aanmeldingen;12\n",
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let b_sub = res.json()["submissionId"].as_i64().unwrap();

    let mut team = team_member(&app, "d@buurtteam-a.nl", f.org_a).await;
    let page = team
        .page(&format!("/portaal/organisaties/{}", f.org_a))
        .await;
    let csrf = hidden(&page, "csrf");
    for path in [
        format!("/portaal/organisaties/{}", f.org_b),
        "/portaal/beoordelen".to_owned(),
    ] {
        let res = team.get(&path).await;
        assert_eq!(res.status, 403, "{path}: {}", res.text());
        assert!(res.text().starts_with("<!doctype html>"));
    }
    let res = team.get(&format!("/portaal/inzendingen/{b_sub}")).await;
    assert!(matches!(res.status, 403 | 404), "{}", res.status);
    let res = team
        .post_multipart(
            &format!("/portaal/organisaties/{}/upload", f.org_b),
            &[("csrf", &csrf), ("period", "2023"), ("action", "submit")],
            Some(("c.csv", GOOD_CSV.as_bytes())),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    for action in ["indienen", "intrekken", "accepteren"] {
        let res = team
            .post_form(
                &format!("/portaal/inzendingen/{b_sub}/{action}"),
                &[("csrf", &csrf)],
            )
            .await;
        assert!(matches!(res.status, 403 | 404), "{action}: {}", res.status);
    }
    let res = team
        .post_form(
            &format!("/portaal/inzendingen/{b_sub}/terugsturen"),
            &[("csrf", &csrf), ("reason", "x")],
        )
        .await;
    assert!(matches!(res.status, 403 | 404));
    let api = app
        .get(&format!("/api/v1/submissions/{b_sub}"), Some(&f.team_b))
        .await
        .json();
    assert_eq!(api["submission"]["status"], "draft");

    // Not signed in: every portal page leads to the sign-in page.
    let mut anon = Browser::new(&app);
    for path in [
        "/portaal",
        "/account",
        "/portaal/beoordelen",
        &format!("/portaal/organisaties/{}", f.org_a),
    ] {
        assert_eq!(
            location(&anon.get(path).await),
            "/account/inloggen",
            "{path}"
        );
    }
    // An API token does not open pages (sessions only), nor does a cookie open the API.
    let res = app
        .get_accept("/portaal/beoordelen", "text/html", Some(&f.associatie))
        .await;
    assert_eq!(res.status, 303);
    let res = team
        .send(
            test::TestRequest::get().uri(&format!("/api/v1/organisations/{}/submissions", f.org_a)),
        )
        .await;
    assert_eq!(res.status, 401);
}

#[actix_web::test]
async fn the_code_step_password_change_and_sign_out_everywhere() {
    let app = TestApp::spawn().await;
    let email = "e@associatie.nl";
    let (mut first, secret, step) = associatie_member_with_secret(&app, email).await;
    // The step after the one used to confirm: accepted once, within a step of the clock.
    let next = code_of_step(&secret, step + 1);
    // A second browser: after the password, only the code page opens.
    let mut second = Browser::new(&app);
    let res = second
        .post_form(
            "/account/inloggen",
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&res), "/account/code");
    assert_eq!(
        location(&second.get("/portaal/beoordelen").await),
        "/account/code"
    );
    let page = second.page("/account/code").await;
    let csrf = hidden(&page, "csrf");
    let res = second
        .post_form("/account/code", &[("csrf", &csrf), ("code", "123456")])
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.text().contains("data-field=\"code\""));
    let res = second
        .post_form("/account/code", &[("csrf", "nep"), ("code", &next)])
        .await;
    assert_eq!(res.status, 403);
    let res = second
        .post_form("/account/code", &[("csrf", &csrf), ("code", &next)])
        .await;
    assert_eq!(location(&res), "/portaal");
    second.page("/portaal/beoordelen").await;

    // Changing the password: the current one must be right; the other sessions end.
    let page = first.page("/account/wachtwoord").await;
    let csrf = hidden(&page, "csrf");
    let new = "groene kikker springt 7 keer";
    let res = first
        .post_form(
            "/account/wachtwoord",
            &[
                ("csrf", &csrf),
                ("current", "fout wachtwoord hier"),
                ("password", new),
                ("password2", new),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    let res = first
        .post_form(
            "/account/wachtwoord",
            &[
                ("csrf", &csrf),
                ("current", PASSWORD),
                ("password", new),
                ("password2", new),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.text().contains("class=\"notice\""));
    assert_eq!(
        location(&second.get("/portaal/beoordelen").await),
        "/account/inloggen"
    );
    first.page("/portaal/beoordelen").await;

    // Sign out everywhere: this session ends too.
    let res = first
        .post_form("/account/overal-uitloggen", &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&res), "/account/inloggen");
    assert_eq!(location(&first.get("/account").await), "/account/inloggen");
}

/// A team with its own client token, for posting figures over the API.
async fn team_org(app: &TestApp, name: &str, municipality: &str) -> (i64, String) {
    let id = app.create_org(name, "jeugd", &[municipality]).await;
    (id, app.client_token("team", Some(id)).await)
}

/// Post and submit one figure of `aandeel_zelfmelders` for 2022.
async fn submit_share(app: &TestApp, org: i64, token: &str, numerator: i64) {
    let res = app
        .post_json(
            &format!("/api/v1/organisations/{org}/submissions?submit=true"),
            Some(token),
            &serde_json::json!({"period": "2022", "publication": "associatie", "figures": [
                {"indicator": "aandeel_zelfmelders", "numerator": numerator, "denominator": 100}
            ]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
}

/// The `<tr>` of a row of a table, by its `data-key`, within the part of the page after `from`.
fn tr<'h>(html: &'h str, from: &str, key: &str) -> &'h str {
    let start = html.find(from).unwrap_or_else(|| panic!("no {from}"));
    let rest = &html[start..];
    let at = rest
        .find(&format!("<tr data-key=\"{key}\""))
        .unwrap_or_else(|| panic!("no row {key} after {from}"));
    let row = &rest[at..];
    &row[..row.find("</tr>").unwrap()]
}

/// The value of an attribute in a piece of HTML.
fn attr(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"));
    let rest = &html[at + name.len() + 2..];
    rest[..rest.find('"').unwrap()].to_owned()
}

#[actix_web::test]
async fn the_benchmark_page_shows_own_peers_and_national_as_the_api_does() {
    let app = TestApp::spawn().await;
    // Eleven large jeugd teams with 10%, 15%, ..., 60%; two small ones (too few to show).
    let large = [
        "GM0363", "GM0344", "GM0599", "GM0518", "GM0772", "GM0855", "GM0034", "GM0546", "GM0268",
        "GM0758", "GM0014",
    ];
    let mut orgs = Vec::new();
    for (i, m) in large.iter().enumerate() {
        let name = if i == 6 {
            "<b>Groot</b> & Co".to_owned()
        } else {
            format!("Groot {i}")
        };
        let (id, token) = team_org(&app, &name, m).await;
        submit_share(&app, id, &token, 10 + 5 * i as i64).await;
        orgs.push((id, token));
    }
    let mut small = Vec::new();
    for (i, m) in ["GM0088", "GM0093"].iter().enumerate() {
        let (id, token) = team_org(&app, &format!("Klein {i}"), m).await;
        submit_share(&app, id, &token, 80 + i as i64).await;
        small.push((id, token));
    }
    let (me, me_token) = orgs[6].clone();
    let mut team = team_member(&app, "data@groot6.nl", me).await;
    let path = format!("/portaal/organisaties/{me}/benchmark?periode=2022");
    let html = team.page(&path).await;
    // The name escaped; the chart drawn from the table by the vendored script, no inline script.
    assert!(
        html.contains("&#60;b&#62;Groot&#60;/b&#62; &#38; Co"),
        "{html}"
    );
    assert!(!html.contains("<b>Groot"));
    assert!(html.contains("<script src=\"/assets/web/charts.js\" defer></script>"));
    assert!(!html.contains("<script>"));
    assert!(html.contains("data-chart=\"bar\" data-table=\"bm-aandeel_zelfmelders\""));
    assert!(html.contains("aria-current=\"page\">Benchmark<"), "{html}");
    let own = tr(&html, "bm-aandeel_zelfmelders", "eigen");
    assert_eq!(attr(own, "data-value"), "40");
    // Peers and national: exactly what the API gives this team.
    let api = app
        .get(
            &format!(
                "/api/v1/views/benchmark?organisation={me}&indicator=aandeel_zelfmelders&period=2022"
            ),
            Some(&me_token),
        )
        .await
        .json();
    for (key, part) in [("peers", "peers"), ("landelijk", "national")] {
        let row = tr(&html, "bm-aandeel_zelfmelders", key);
        let expected = api[part]["value"]
            .as_f64()
            .map(|v| v.to_string())
            .unwrap_or_default();
        assert_eq!(attr(row, "data-value"), expected, "{key}: {row}");
        let suppressed = api[part]["suppressed"].as_bool().unwrap();
        assert_eq!(
            attr(row, "data-status") == "suppressed",
            suppressed,
            "{row}"
        );
    }
    // Indicators without a figure of its own are listed, not benchmarked.
    assert!(
        html.contains("<li data-indicator=\"formatie_fte\">"),
        "{html}"
    );
    // English on request.
    let en = team.page(&format!("{path}&lang=en")).await;
    assert!(en.contains("Comparable teams"));

    // A small team: its two-member peer group is withheld from it, its own value is not; the
    // Associatie sees the peers' exact value on the same page.
    let (klein, _) = small[0].clone();
    let mut small_team = team_member(&app, "data@klein0.nl", klein).await;
    let kpath = format!("/portaal/organisaties/{klein}/benchmark?periode=2022");
    let html = small_team.page(&kpath).await;
    assert_eq!(
        attr(tr(&html, "bm-aandeel_zelfmelders", "eigen"), "data-value"),
        "80"
    );
    let peers = tr(&html, "bm-aandeel_zelfmelders", "peers");
    assert_eq!(attr(peers, "data-status"), "suppressed", "{peers}");
    assert_eq!(attr(peers, "data-value"), "");
    assert!(
        !html.contains("data-value=\"81\"") && !html.contains("81,0%"),
        "the other small team's value leaks: {html}"
    );
    let mut assoc = associatie_member(&app, "analist@associatie.nl").await;
    let html = assoc.page(&kpath).await;
    let peers = tr(&html, "bm-aandeel_zelfmelders", "peers");
    assert_eq!(attr(peers, "data-status"), "shown", "{peers}");
    assert_eq!(attr(peers, "data-value"), "80.5");

    // Another organisation's benchmark: refused, as reading its figures is over the API.
    for other in [orgs[0].0, klein] {
        let res = team
            .get(&format!(
                "/portaal/organisaties/{other}/benchmark?periode=2022"
            ))
            .await;
        assert_eq!(res.status, 403, "{}", res.text());
    }
    // A year that is not a year: the reason, at its field.
    let res = team
        .get(&format!(
            "/portaal/organisaties/{me}/benchmark?periode=2022-Q1"
        ))
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    // Not signed in: to the sign-in page.
    assert_eq!(
        location(&Browser::new(&app).get(&path).await),
        "/account/inloggen"
    );
}

#[actix_web::test]
async fn the_completeness_matrix_is_the_associaties() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let evil = app
        .create_org("<img src=x onerror=alert(1)> Zorg", "jeugd", &["GM0363"])
        .await;
    submit_share(&app, f.org_a, &f.team_a, 30).await;
    let mut assoc = associatie_member(&app, "analist@associatie.nl").await;
    let html = assoc.page("/portaal/volledigheid?periode=2022").await;
    assert!(
        html.contains("&#60;img src=x onerror=alert(1)&#62; Zorg"),
        "{html}"
    );
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("aria-current=\"page\">Volledigheid<"));
    // The API's view, as a matrix: A reported one indicator, B and the third nothing.
    let api = app
        .get(
            "/api/v1/views/completeness?period=2022",
            Some(&f.associatie),
        )
        .await
        .json();
    let row_of = |id: i64| {
        let at = html
            .find(&format!("<tr data-organisation=\"{id}\""))
            .unwrap_or_else(|| panic!("no row {id}"));
        let rest = &html[at..];
        rest[..rest.find("</tr>").unwrap()].to_owned()
    };
    let a = row_of(f.org_a);
    assert!(a.contains("data-status=\"submitted\""), "{a}");
    assert!(
        a.contains("data-late"),
        "2022 is over and nothing is accepted: {a}"
    );
    assert_eq!(a.matches("class=\"cell reported\"").count(), 1, "{a}");
    let api_a = api["organisations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == f.org_a)
        .unwrap();
    let missing = api_a["missing"].as_array().unwrap().len();
    assert_eq!(a.matches("class=\"cell missing\"").count(), missing);
    assert!(
        a.contains(&format!("<td class=\"num\">{missing}</td>")),
        "{a}"
    );
    let b = row_of(f.org_b);
    assert!(b.contains("data-status=\"due\""), "{b}");
    assert_eq!(b.matches("class=\"cell reported\"").count(), 0);
    row_of(evil);
    // English.
    let en = assoc
        .page("/portaal/volledigheid?periode=2022&lang=en")
        .await;
    assert!(en.contains(">late<"), "{en}");
    // Nobody else: a team (its own organisation's row is in the API, the matrix is not) nor
    // an admin.
    let mut team = team_member(&app, "data@buurtteam-a.nl", f.org_a).await;
    let res = team.get("/portaal/volledigheid?periode=2022").await;
    assert_eq!(res.status, 403, "{}", res.text());
    let (mut admin, _, _) = second_factor_member(
        &app,
        "beheer@associatie.nl",
        Role::Admin,
        "/portaal/beheer/organisaties",
    )
    .await;
    assert_eq!(admin.get("/portaal/volledigheid").await.status, 403);
    // A period that is none.
    assert_eq!(
        assoc
            .get("/portaal/volledigheid?periode=twintig")
            .await
            .status,
        422
    );
}

#[actix_web::test]
async fn registry_and_access_pages_follow_the_apis_roles() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let evil = app
        .create_org("<img src=x onerror=alert(1)> Zorg", "jeugd", &["GM0363"])
        .await;
    let (mut admin, _, _) = second_factor_member(
        &app,
        "beheer@associatie.nl",
        Role::Admin,
        "/portaal/beheer/organisaties",
    )
    .await;

    // Organisations, escaped.
    let html = admin.page("/portaal/beheer/organisaties").await;
    assert!(html.contains("&#60;img src=x onerror=alert(1)&#62; Zorg"));
    assert!(!html.contains("<img src=x"));
    assert!(html.contains(&format!("<tr data-id=\"{evil}\"")));
    let csrf = hidden(&html, "csrf");

    // API clients: a team client, its secret shown once; without the token refused.
    let page = admin.page("/portaal/beheer/clients").await;
    assert!(page.contains("id=\"clients\""));
    let org = f.org_a.to_string();
    let name = "<i>Leverancier</i> Noord";
    for t in ["", "nep"] {
        let res = admin
            .post_form(
                "/portaal/beheer/clients",
                &[("csrf", t), ("name", name), ("organisation", &org)],
            )
            .await;
        assert_eq!(res.status, 403, "{}", res.text());
    }
    let res = admin
        .post_form(
            "/portaal/beheer/clients",
            &[("csrf", &csrf), ("name", name), ("organisation", &org)],
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let html = res.text();
    let client_id = text_of(&html, "client-id");
    let secret = text_of(&html, "client-secret");
    assert!(secret.starts_with("bss_"), "{secret}");
    assert!(html.contains("&#60;i&#62;Leverancier&#60;/i&#62; Noord"));
    // The credentials work, as those of the API's createClient.
    let token = app.token(&client_id, &secret).await;
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.json()["organisationId"],
        f.org_a
    );
    // Never shown again.
    let again = admin.page("/portaal/beheer/clients").await;
    assert!(again.contains(&client_id));
    assert!(!again.contains(&secret));
    // An empty name: the reason at its field, nothing created.
    let res = admin
        .post_form(
            "/portaal/beheer/clients",
            &[("csrf", &csrf), ("name", " "), ("organisation", &org)],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(
        res.text().contains("data-field=\"/name\""),
        "{}",
        res.text()
    );

    // Accounts: invite a team member (the link shown once), deactivate.
    let res = admin
        .post_form(
            "/portaal/beheer/gebruikers",
            &[("email", "nieuw@buurtteam-a.nl"), ("organisation", &org)],
        )
        .await;
    assert_eq!(res.status, 403);
    let res = admin
        .post_form(
            "/portaal/beheer/gebruikers",
            &[
                ("csrf", &csrf),
                ("email", "nieuw@buurtteam-a.nl"),
                ("organisation", &org),
            ],
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let link = text_of(&res.text(), "link");
    let path = link
        .split_once("/account/welkom")
        .map(|(_, rest)| format!("/account/welkom{rest}"))
        .unwrap();
    assert!(path.contains("token=bsi_"), "{link}");
    let mut newcomer = Browser::new(&app);
    assert!(newcomer.page(&path).await.contains("nieuw@buurtteam-a.nl"));
    let users = app
        .state
        .db
        .run(|conn| users::list(conn, &Caller::System))
        .await
        .unwrap();
    let nieuw = users
        .iter()
        .find(|u| u.email == "nieuw@buurtteam-a.nl")
        .unwrap();
    assert_eq!(nieuw.organisation_id, Some(f.org_a));
    // A new link: without the token refused; with it shown once, and the first link ends.
    let reset = format!("/portaal/beheer/gebruikers/{}/nieuwe-link", nieuw.id);
    assert_eq!(admin.post_form(&reset, &[]).await.status, 403);
    let res = admin.post_form(&reset, &[("csrf", &csrf)]).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let second = text_of(&res.text(), "link");
    assert_ne!(second, link);
    assert_eq!(newcomer.get(&path).await.status, 404);
    let path = second
        .split_once("/account/welkom")
        .map(|(_, rest)| format!("/account/welkom{rest}"))
        .unwrap();
    assert!(newcomer.page(&path).await.contains("nieuw@buurtteam-a.nl"));
    let deactivate = format!("/portaal/beheer/gebruikers/{}/deactiveren", nieuw.id);
    let html = admin.page("/portaal/beheer/gebruikers").await;
    assert!(html.contains(&format!("action=\"{deactivate}\"")), "{html}");
    assert_eq!(admin.post_form(&deactivate, &[]).await.status, 403);
    assert_eq!(
        location(&admin.post_form(&deactivate, &[("csrf", &csrf)]).await),
        "/portaal/beheer/gebruikers"
    );
    let html = admin.page("/portaal/beheer/gebruikers").await;
    assert!(html.contains(&format!(
        "<tr data-user=\"{}\" data-inactive=\"\">",
        nieuw.id
    )));
    // The link ended with the account.
    assert_eq!(newcomer.get(&path).await.status, 404);

    // The audit log, paged, with people by e-mail address.
    let html = admin.page("/portaal/beheer/audit").await;
    assert!(html.contains("user.deactivated"), "{html}");
    assert!(html.contains("client.created"));
    assert!(html.contains("<td>beheer@associatie.nl</td>"), "{html}");
    assert!(
        html.contains("&#60;i&#62;Leverancier"),
        "escaped JSON: {html}"
    );
    assert!(!html.contains("rel=\"prev\""));
    let far = admin.page("/portaal/beheer/audit?pagina=99").await;
    assert!(far.contains("rel=\"prev\""));
    assert!(!far.contains("<tr data-entry="));

    // The Associatie: organisations, accounts (no invite form) and the log; not the clients.
    let mut assoc = associatie_member(&app, "analist@associatie.nl").await;
    assoc.page("/portaal/beheer/organisaties").await;
    assoc.page("/portaal/beheer/audit").await;
    let html = assoc.page("/portaal/beheer/gebruikers").await;
    assert!(html.contains("nieuw@buurtteam-a.nl"));
    assert!(!html.contains("id=\"uitnodigen\""));
    assert!(!html.contains("/deactiveren"));
    assert!(!html.contains("/nieuwe-link"));
    assert_eq!(assoc.get("/portaal/beheer/clients").await.status, 403);
    let acsrf = hidden(&html, "csrf");
    let res = assoc
        .post_form(
            "/portaal/beheer/gebruikers",
            &[
                ("csrf", &acsrf),
                ("email", "x@buurtteam-a.nl"),
                ("organisation", &org),
            ],
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    let res = assoc
        .post_form(
            "/portaal/beheer/clients",
            &[("csrf", &acsrf), ("name", "x"), ("organisation", &org)],
        )
        .await;
    assert_eq!(res.status, 403);

    // A team member: none of them, nor its forms.
    let mut team = team_member(&app, "data@buurtteam-a.nl", f.org_a).await;
    let page = team
        .page(&format!("/portaal/organisaties/{}", f.org_a))
        .await;
    let tcsrf = hidden(&page, "csrf");
    for path in [
        "/portaal/beheer/organisaties",
        "/portaal/beheer/clients",
        "/portaal/beheer/gebruikers",
        "/portaal/beheer/audit",
    ] {
        let res = team.get(path).await;
        assert_eq!(res.status, 403, "{path}: {}", res.text());
    }
    let res = team
        .post_form(
            "/portaal/beheer/gebruikers",
            &[("csrf", &tcsrf), ("email", "y@buurtteam-a.nl")],
        )
        .await;
    assert_eq!(res.status, 403);
    let res = team
        .post_form(
            &format!("/portaal/beheer/gebruikers/{}/deactiveren", nieuw.id + 100),
            &[("csrf", &tcsrf)],
        )
        .await;
    assert!(matches!(res.status, 403 | 404), "{}", res.status);
    // Nor a new link for a colleague (only an admin or the team's coordinator).
    let res = team
        .post_form(
            &format!("/portaal/beheer/gebruikers/{}/nieuwe-link", nieuw.id),
            &[("csrf", &tcsrf)],
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());

    // A coordinator: its own team's accounts, and invitations to it.
    let input = NewUser {
        email: "coord@buurtteam-b.nl".into(),
        role: Role::Team,
        organisation_id: Some(f.org_b),
        coordinator: true,
    };
    let token = app
        .state
        .db
        .run(move |conn| users::invite(conn, &Caller::System, input, chrono::TimeDelta::hours(1)))
        .await
        .unwrap()
        .token;
    let mut coord = Browser::new(&app);
    onboard(&mut coord, &token, "coord@buurtteam-b.nl").await;
    let html = coord.page("/portaal/beheer/gebruikers").await;
    assert!(html.contains("coord@buurtteam-b.nl"));
    assert!(
        !html.contains("nieuw@buurtteam-a.nl"),
        "another team's accounts: {html}"
    );
    assert!(html.contains(">Accounts</a>"));
    let ccsrf = hidden(&html, "csrf");
    let res = coord
        .post_form(
            "/portaal/beheer/gebruikers",
            &[
                ("csrf", &ccsrf),
                ("email", "collega@buurtteam-b.nl"),
                // Ignored: a coordinator invites to its own organisation.
                ("organisation", &org),
            ],
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let users = app
        .state
        .db
        .run(|conn| users::list(conn, &Caller::System))
        .await
        .unwrap();
    let collega = users
        .iter()
        .find(|u| u.email == "collega@buurtteam-b.nl")
        .unwrap();
    assert_eq!(collega.organisation_id, Some(f.org_b));
    assert_eq!(coord.get("/portaal/beheer/audit").await.status, 403);
}

#[actix_web::test]
async fn the_public_site_links_to_signing_in() {
    let app = TestApp::spawn().await;
    let mut anon = Browser::new(&app);
    let home = anon.page_any("/").await;
    assert!(
        home.contains("<a class=\"signin\" href=\"/account/inloggen\">Inloggen</a>"),
        "{home}"
    );
    let home = anon.page_any("/?lang=en").await;
    assert!(home.contains("<a class=\"signin\" href=\"/account/inloggen?lang=en\">Sign in</a>"));
}

/// The `<tfoot>` row (the national total) of a table of a page, by the table's id.
fn total_row<'h>(html: &'h str, table: &str) -> &'h str {
    let start = html
        .find(&format!("<table id=\"{table}\""))
        .unwrap_or_else(|| panic!("no table {table}"));
    let rest = &html[start..];
    let at = rest.find("<tr data-total=\"\"").expect("a total row");
    let row = &rest[at..];
    &row[..row.find("</tr>").unwrap()]
}

#[actix_web::test]
async fn the_analysis_shows_the_associatie_what_the_public_site_withholds() {
    let app = TestApp::spawn().await;
    // Two small teams: too few organisations for the public to get the national value.
    let mut orgs = Vec::new();
    for (i, m) in ["GM0088", "GM0093"].iter().enumerate() {
        let (id, token) = team_org(&app, &format!("Klein {i}"), m).await;
        submit_share(&app, id, &token, 80 + i as i64).await;
        orgs.push(id);
    }
    let public = Browser::new(&app)
        .page_any("/indicatoren/aandeel_zelfmelders?period=2022")
        .await;
    let withheld = total_row(&public, "teamType");
    assert_eq!(attr(withheld, "data-status"), "suppressed", "{withheld}");
    assert_eq!(attr(withheld, "data-value"), "");
    assert!(!public.contains("80,5"), "the public page leaks the value");

    let mut assoc = associatie_member(&app, "analist@associatie.nl").await;
    let path = "/portaal/analyse?indicator=aandeel_zelfmelders&period=2022";
    let html = assoc.page(path).await;
    assert!(html.contains("aria-current=\"page\">Analyse<"), "{html}");
    // The same tables and charts as the public page, drawn by the vendored scripts.
    for table in [
        "trend",
        "teamType",
        "sizeClass",
        "province",
        "providesHelp",
        "gemeenten",
    ] {
        assert!(html.contains(&format!("<table id=\"{table}\"")), "{table}");
    }
    assert!(html.contains("<script src=\"/assets/web/charts.js\" defer></script>"));
    assert!(html.contains("<script src=\"/assets/web/map.js\" defer></script>"));
    assert!(!html.contains("<script>"));
    // The exact national value, its flag, and what the public sees instead.
    let total = total_row(&html, "teamType");
    assert_eq!(attr(total, "data-status"), "shown", "{total}");
    assert_eq!(attr(total, "data-value"), "80.5", "{total}");
    assert!(total.contains("weinig organisaties"), "{total}");
    assert_eq!(attr(total, "data-public"), "A", "{total}");
    assert!(total.contains("× A: weinig organisaties"), "{total}");
    // The same cell as the API gives the Associatie.
    let token = app.client_token("associatie", None).await;
    let api = app
        .get(
            "/api/v1/views/aggregate?indicator=aandeel_zelfmelders&period=2022",
            Some(&token),
        )
        .await
        .json();
    assert_eq!(api["total"]["value"], 80.5, "{api}");
    assert_eq!(api["total"]["publicConfStatus"], "A", "{api}");
    // A municipality on the map: exact as well.
    let gm = tr(&html, "<table id=\"gemeenten\"", "GM0088");
    assert_eq!(attr(gm, "data-value"), "80", "{gm}");
    // English on request.
    let en = assoc.page(&format!("{path}&lang=en")).await;
    assert!(en.contains("The public sees"), "{en}");
    assert!(en.contains("few organisations"));
    // A year out of range: refused.
    let res = assoc
        .get("/portaal/analyse?indicator=aandeel_zelfmelders&period=1990")
        .await;
    assert_eq!(res.status, 422, "{}", res.text());

    // Only the Associatie: a team (even one behind the cell) and an admin get 403.
    let mut team = team_member(&app, "data@klein0.nl", orgs[0]).await;
    let res = team.get(path).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert!(!res.text().contains("80,5"));
    let (mut admin, _, _) = second_factor_member(
        &app,
        "beheer@associatie.nl",
        Role::Admin,
        "/portaal/beheer/organisaties",
    )
    .await;
    assert_eq!(admin.get(path).await.status, 403);
    assert_eq!(
        location(&Browser::new(&app).get(path).await),
        "/account/inloggen"
    );
}

/// The API lists no submission of the organisation.
async fn no_submissions(app: &TestApp, org: i64, token: &str) {
    let list = app
        .get(
            &format!("/api/v1/organisations/{org}/submissions"),
            Some(token),
        )
        .await
        .json();
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");
}

#[actix_web::test]
async fn figures_entered_by_form_are_checked_at_their_fields_then_submitted() {
    let app = TestApp::spawn().await;
    let f = app.fixture().await;
    let goal = app
        .state
        .catalogue
        .get("aandeel_zelfmelders", None)
        .unwrap()
        .goal
        .clone();
    let mut team = team_member(&app, "data@buurtteam-a.nl", f.org_a).await;
    let overview = team
        .page(&format!("/portaal/organisaties/{}", f.org_a))
        .await;
    assert!(overview.contains("id=\"invoeren\""), "{overview}");
    let path = format!("/portaal/organisaties/{}/invoeren", f.org_a);
    let html = team.page(&format!("{path}?doel={goal}&periode=2022")).await;
    // The ratio's inputs, with its definition at hand; no value input for a ratio.
    assert!(
        html.contains("name=\"aandeel_zelfmelders.numerator\""),
        "{html}"
    );
    assert!(html.contains("name=\"aandeel_zelfmelders.denominator\""));
    assert!(html.contains("name=\"aandeel_zelfmelders.note\""));
    assert!(!html.contains("name=\"aandeel_zelfmelders.value\""));
    assert!(html.contains("id=\"d-aandeel_zelfmelders\""));
    assert!(!html.contains("<script"), "no script on the form");
    let csrf = hidden(&html, "csrf");

    // A wrong figure: the dry run names its field, stores nothing.
    let res = team
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("goal", &goal),
                ("period", "2022"),
                ("publication", "associatie"),
                ("aandeel_zelfmelders.numerator", "480"),
                ("aandeel_zelfmelders.denominator", "400"),
                ("aandeel_zelfmelders.note", "<b>vet</b>"),
                ("action", "check"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let html = res.text();
    assert!(
        html.contains(
            "data-field=\"aandeel_zelfmelders.numerator\" data-code=\"numerator_exceeds_denominator\""
        ),
        "{html}"
    );
    assert!(html.contains("href=\"#f-aandeel_zelfmelders-numerator\""));
    let input = &html[html.find("id=\"f-aandeel_zelfmelders-numerator\"").unwrap()..];
    let input = &input[..input.find('>').unwrap()];
    assert!(input.contains("aria-invalid=\"true\""), "{input}");
    assert!(
        input.contains("value=\"480\""),
        "what was typed stays: {input}"
    );
    assert!(
        html.contains("&#60;b&#62;vet&#60;/b&#62;"),
        "the note escaped"
    );
    assert!(!html.contains("name=\"action\" value=\"submit\""));
    no_submissions(&app, f.org_a, &f.team_a).await;
    // Without the token: refused.
    let res = team
        .post_form(
            &path,
            &[
                ("goal", goal.as_str()),
                ("period", "2022"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    no_submissions(&app, f.org_a, &f.team_a).await;

    // Corrected: the dry run passes (still nothing stored) and offers saving.
    let fields = |action: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("goal", goal.clone()),
            ("period", "2022".to_owned()),
            ("publication", "associatie".to_owned()),
            ("aandeel_zelfmelders.numerator", "48".to_owned()),
            ("aandeel_zelfmelders.denominator", "400".to_owned()),
            ("aandeel_zelfmelders.note", "telling per 31-12".to_owned()),
            ("action", action.to_owned()),
        ]
    };
    let check = fields("check");
    let check: Vec<(&str, &str)> = check.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = team.post_form(&path, &check).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(text_of(&res.text(), "aantal"), "1");
    assert!(res.text().contains("name=\"action\" value=\"submit\""));
    no_submissions(&app, f.org_a, &f.team_a).await;

    // Submitted through the form: the API shows the figure, and once accepted it counts.
    let submit = fields("submit");
    let submit: Vec<(&str, &str)> = submit.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = team.post_form(&path, &submit).await;
    let to = location(&res);
    let id: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
    let detail = app
        .get(&format!("/api/v1/submissions/{id}"), Some(&f.team_a))
        .await
        .json();
    assert_eq!(detail["submission"]["status"], "submitted", "{detail}");
    assert_eq!(detail["figures"][0]["indicator"], "aandeel_zelfmelders");
    assert_eq!(detail["figures"][0]["numerator"], 48);
    assert_eq!(detail["figures"][0]["note"], "telling per 31-12");
    let res = app
        .post_json(
            &format!("/api/v1/submissions/{id}/accept"),
            Some(&f.associatie),
            &serde_json::json!({}),
        )
        .await;
    assert!(res.status < 300, "{}", res.text());
    let view = app
        .get(
            "/api/v1/views/aggregate?indicator=aandeel_zelfmelders&period=2022",
            Some(&f.associatie),
        )
        .await
        .json();
    assert_eq!(view["total"]["value"], 12.0, "{view}");
    assert_eq!(view["total"]["organisations"], 1, "{view}");
    // The form shows the stored figure again.
    let html = team.page(&format!("{path}?doel={goal}&periode=2022")).await;
    assert!(html.contains("value=\"48\""), "{html}");

    // Figures per municipality in the latest revision: carried along and said so; an
    // organisation-wide figure beside them is refused by the domain.
    let res = app
        .post_json(
            &format!("/api/v1/organisations/{}/submissions", f.org_a),
            Some(&f.team_a),
            &serde_json::json!({"period": "2023", "figures": [
                {"indicator": "aandeel_zelfmelders", "municipality": "GM0344", "numerator": 5, "denominator": 50}
            ]}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let html = team.page(&format!("{path}?doel={goal}&periode=2023")).await;
    assert!(html.contains("data-per-municipality=\"1\""), "{html}");
    let res = team
        .post_form(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("goal", goal.as_str()),
                ("period", "2023"),
                ("aandeel_zelfmelders.numerator", "6"),
                ("aandeel_zelfmelders.denominator", "60"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(
        res.text().contains("data-code=\"mixed_breakdown\""),
        "{}",
        res.text()
    );

    // Another organisation's form: 403, as writing its figures is over the API.
    let res = team
        .get(&format!("/portaal/organisaties/{}/invoeren", f.org_b))
        .await;
    assert_eq!(res.status, 403);
}
