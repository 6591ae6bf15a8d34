//! Issue 4: OAuth2 client credentials, JWT checks, revocation, bootstrapping from the CLI.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

use crate::common::*;

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

/// A token signed with the service's own active key, with the claims given.
fn signed(app: &TestApp, claims: &Value) -> String {
    let key = app.state.auth.keys.active_key();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn status_with(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/me", Some(token)).await.status
}

#[actix_web::test]
async fn client_credentials_grant_with_form_and_basic() {
    let app = TestApp::spawn().await;
    let (id, secret) = app.create_client("associatie", None).await;

    let res = app
        .post_raw(
            "/oauth/token",
            None,
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let body = res.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let token = body["access_token"].as_str().unwrap();
    let claims = claims_of(token);
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["aud"], "basisset-api");
    assert_eq!(claims["iss"], "basisset");
    assert_eq!(claims["role"], "associatie");
    for c in ["exp", "nbf", "iat", "jti"] {
        assert!(claims.get(c).is_some(), "claim {c}");
    }
    assert_eq!(header_of(token)["alg"], "EdDSA");
    assert!(header_of(token)["kid"].is_string());
    let me = app.get("/api/v1/me", Some(token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["role"], "associatie");

    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let res = app
        .send(
            actix_web::test::TestRequest::post()
                .uri("/oauth/token")
                .insert_header(("Authorization", format!("Basic {basic}")))
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload("grant_type=client_credentials"),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[actix_web::test]
async fn token_endpoint_refuses_bad_requests_in_oauth_terms() {
    let app = TestApp::spawn().await;
    let (id, secret) = app
        .create_client(
            "team",
            Some(app.create_org("Team T", "wmo", &["GM0014"]).await),
        )
        .await;
    let form = "application/x-www-form-urlencoded";

    let res = app
        .post_raw(
            "/oauth/token",
            None,
            form,
            format!("grant_type=client_credentials&client_id={id}&client_secret=wrong"),
        )
        .await;
    let body = res.assert_problem(401, "INVALID_CLIENT");
    assert_eq!(body["error"], "invalid_client");
    assert!(res.header("www-authenticate").unwrap().starts_with("Basic"));

    let res = app
        .post_raw(
            "/oauth/token",
            None,
            form,
            format!("grant_type=password&client_id={id}&client_secret={secret}"),
        )
        .await;
    assert_eq!(
        res.assert_problem(400, "UNSUPPORTED_GRANT_TYPE")["error"],
        "unsupported_grant_type"
    );

    let res = app
        .post_raw("/oauth/token", None, form, "grant_type=client_credentials")
        .await;
    assert_eq!(
        res.assert_problem(400, "INVALID_REQUEST")["error"],
        "invalid_request"
    );

    let res = app
        .post_raw(
            "/oauth/token",
            None,
            form,
            format!("grant_type=client_credentials&client_id=nobody&client_secret={secret}"),
        )
        .await;
    res.assert_problem(401, "INVALID_CLIENT");
}

/// A token request by form from the TCP peer `ip`.
fn token_request(client: &str, secret: &str, ip: &str) -> actix_web::test::TestRequest {
    actix_web::test::TestRequest::post()
        .uri("/oauth/token")
        .peer_addr(format!("{ip}:40000").parse().unwrap())
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(format!(
            "grant_type=client_credentials&client_id={client}&client_secret={secret}"
        ))
}

async fn attempt(app: &TestApp, client: &str, secret: &str, ip: &str) -> Resp {
    app.send(token_request(client, secret, ip)).await
}

/// The `Retry-After` of a 429 from the token endpoint, in seconds.
#[track_caller]
fn retry_after(res: &Resp) -> u64 {
    let body = res.assert_problem(429, "RATE_LIMITED");
    let secs: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!(secs > 0);
    assert_eq!(body["retryAfter"], secs);
    secs
}

async fn sleep_secs(secs: u64) {
    actix_web::rt::time::sleep(std::time::Duration::from_secs(secs)).await;
}

/// Issue: ten wrong secrets from anywhere locked the right secret out from everywhere, and a
/// storm from one address locked out every client behind it. Failures now count per (client id,
/// address): other addresses and other clients at the same address are not affected.
#[actix_web::test]
async fn a_correct_secret_is_not_refused_for_failures_elsewhere() {
    let app = TestApp::spawn().await;
    let (x, x_secret) = app.create_client("associatie", None).await;
    let (y, y_secret) = app.create_client("associatie", None).await;
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(attempt(&app, &x, "wrong", "10.0.0.1").await.status);
    }
    // The default rule: 5 failures answered at once, then delays (429) for this pair.
    assert_eq!(statuses[..5], [401; 5], "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
    // From another address: the right secret works, a wrong one is an ordinary 401.
    let res = attempt(&app, &x, &x_secret, "10.0.0.2").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(attempt(&app, &x, "wrong", "10.0.0.3").await.status, 401);
    // Another client behind the same address is not affected (far below the address ceiling).
    let res = attempt(&app, &y, &y_secret, "10.0.0.1").await;
    assert_eq!(res.status, 200, "{}", res.text());
}

/// After the free failures each further attempt of the pair waits 2^(f - free) seconds; a
/// correct secret once the delay has passed gets a token and clears the pair's count.
#[actix_web::test]
async fn delays_grow_per_client_and_address_and_a_token_clears_them() {
    let mut config = test_config();
    config.auth.auth_max_failures = 2;
    let app = TestApp::spawn_with(config).await;
    let (x, secret) = app.create_client("associatie", None).await;
    let ip = "192.0.2.10";
    assert_eq!(attempt(&app, &x, "wrong", ip).await.status, 401);
    assert_eq!(attempt(&app, &x, "wrong", ip).await.status, 401);
    // 2 failures: 2^0 = 1 s.
    let first = retry_after(&attempt(&app, &x, "wrong", ip).await);
    assert_eq!(first, 1);
    sleep_secs(first).await;
    assert_eq!(attempt(&app, &x, "wrong", ip).await.status, 401);
    // 3 failures: 2^1 = 2 s, for the right secret too.
    let second = retry_after(&attempt(&app, &x, "wrong", ip).await);
    assert_eq!(second, 2);
    assert_eq!(retry_after(&attempt(&app, &x, &secret, ip).await), 2);
    sleep_secs(second).await;
    let res = attempt(&app, &x, &secret, ip).await;
    assert_eq!(res.status, 200, "{}", res.text());
    // The token cleared the pair: the free failures again, then 1 s.
    assert_eq!(attempt(&app, &x, "wrong", ip).await.status, 401);
    assert_eq!(attempt(&app, &x, "wrong", ip).await.status, 401);
    assert_eq!(retry_after(&attempt(&app, &x, "wrong", ip).await), 1);
}

/// Issue: 40 concurrent wrong attempts let 19 through a limit of 10. Every attempt is now
/// reserved atomically before its secret is checked.
#[actix_web::test]
async fn concurrent_wrong_attempts_get_no_more_secrets_checked_than_the_rule_allows() {
    let mut config = test_config();
    config.auth.auth_max_failures = 10;
    let app = TestApp::spawn_with(config).await;
    let (x, _) = app.create_client("associatie", None).await;
    let started = std::time::Instant::now();
    let responses = futures_util::future::join_all(
        (0..40).map(|_| app.send(token_request(&x, "wrong", "198.51.100.40"))),
    )
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    let checked = responses.iter().filter(|r| r.status == 401).count();
    let refused = responses.iter().filter(|r| r.status == 429).count();
    assert_eq!(checked + refused, 40, "only 401 and 429");
    // 10 free failures; then one more per delay that ended while the batch ran (1 s, 2 s, ...).
    let extra = (elapsed + 1.0).log2().floor() as usize;
    assert!(
        (10..=10 + extra).contains(&checked),
        "{checked} of 40 concurrent wrong secrets were checked in {elapsed:.2} s (allowed: 10 + {extra})"
    );
}

/// The reservation itself, from many threads on their own connections at the same instant:
/// exactly the free failures get through, on both backends.
#[actix_web::test]
async fn reservations_are_atomic_across_connections() {
    use basisset::auth::throttle::{self, ThrottlePolicy};
    let app = TestApp::spawn().await;
    let pool = app.db.connect(8);
    let policy = ThrottlePolicy {
        free_failures: 10,
        window: chrono::TimeDelta::seconds(900),
        address_max_failures: 25,
    };
    let now = basisset::db::now();
    let reserve = |client: &str| {
        let mut conn = pool.get().unwrap();
        throttle::reserve(&mut conn, &policy, client, "198.51.100.41", now)
    };
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..40).map(|_| s.spawn(|| reserve("bsc_target"))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let allowed = results.iter().filter(|r| r.is_ok()).count();
    for r in &results {
        if let Err(e) = r {
            assert_eq!(e.code(), "RATE_LIMITED", "{e:?}");
        }
    }
    assert_eq!(allowed, 10, "40 concurrent reservations at one instant");
    // The address ceiling (25) is atomic too: 40 concurrent reservations for 40 client ids.
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..40)
            .map(|i| {
                let reserve = &reserve;
                s.spawn(move || reserve(&format!("bsc_spray{i}")))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        25 - 10,
        "the address had 10 failures already"
    );
}

/// Past the per-address ceiling (over all client ids) every client at that address waits,
/// clients elsewhere do not; issued tokens do not count towards it.
#[actix_web::test]
async fn the_address_ceiling_stops_a_spray_across_client_ids() {
    let mut config = test_config();
    config.auth.auth_max_failures = 3;
    config.auth.auth_address_max_failures = 8;
    let app = TestApp::spawn_with(config).await;
    let (y, y_secret) = app.create_client("associatie", None).await;
    let nat = "203.0.113.99";
    for _ in 0..3 {
        assert_eq!(attempt(&app, &y, &y_secret, nat).await.status, 200);
    }
    for i in 0..7 {
        let res = attempt(&app, &format!("bsc_spray{i}"), "wrong", nat).await;
        assert_eq!(res.status, 401, "{}", res.text());
    }
    // 7 failures: still under the ceiling of 8; the token does not count.
    assert_eq!(attempt(&app, &y, &y_secret, nat).await.status, 200);
    assert_eq!(attempt(&app, "bsc_spray7", "wrong", nat).await.status, 401);
    // 8 failures: every client at this address waits for the window (900 s) to end.
    let wait = retry_after(&attempt(&app, &y, &y_secret, nat).await);
    assert!((890..=900).contains(&wait), "{wait}");
    retry_after(&attempt(&app, "bsc_spray8", "wrong", nat).await);
    // Elsewhere nothing changed.
    assert_eq!(
        attempt(&app, &y, &y_secret, "203.0.113.100").await.status,
        200
    );
}

/// The counts live in the database: two instances on one database see each other's failures.
#[actix_web::test]
async fn failures_count_across_instances_on_one_database() {
    let config = || {
        let mut config = test_config();
        config.auth.auth_max_failures = 3;
        config
    };
    let one = TestApp::spawn_with(config()).await;
    let two = one.another_instance(config()).await;
    let (x, x_secret) = one.create_client("associatie", None).await;
    let (y, y_secret) = one.create_client("associatie", None).await;
    for _ in 0..3 {
        assert_eq!(attempt(&one, &x, "wrong", "10.1.0.1").await.status, 401);
    }
    retry_after(&attempt(&two, &x, &x_secret, "10.1.0.1").await);
    retry_after(&attempt(&two, &x, "wrong", "10.1.0.1").await);
    assert_eq!(attempt(&two, &x, &x_secret, "10.1.0.2").await.status, 200);
    // And the other way round, alternating instances.
    for app in [&two, &one, &two] {
        assert_eq!(attempt(app, &y, "wrong", "10.1.0.3").await.status, 401);
    }
    retry_after(&attempt(&one, &y, &y_secret, "10.1.0.3").await);
    drop(two);
}

/// Behind a trusted proxy the client address comes from X-Forwarded-For; otherwise the header
/// is ignored (a client cannot pick its own address).
#[actix_web::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let forwarded = |client: &str, via: &str, xff: &str| {
        token_request(client, "wrong", via).insert_header(("X-Forwarded-For", xff.to_owned()))
    };
    let mut config = test_config();
    config.auth.auth_max_failures = 2;
    let mut behind_proxy = config.clone();
    behind_proxy.auth.trusted_proxies = "10.9.0.0/16".parse().unwrap();

    let app = TestApp::spawn_with(config).await;
    let (x, _) = app.create_client("associatie", None).await;
    for xff in ["192.0.2.1", "192.0.2.2"] {
        assert_eq!(app.send(forwarded(&x, "10.9.0.1", xff)).await.status, 401);
    }
    retry_after(&app.send(forwarded(&x, "10.9.0.1", "192.0.2.3")).await);

    let app = TestApp::spawn_with(behind_proxy).await;
    let (x, _) = app.create_client("associatie", None).await;
    for _ in 0..2 {
        let res = app
            .send(forwarded(&x, "10.9.0.1", "198.51.100.7, 192.0.2.1"))
            .await;
        assert_eq!(res.status, 401);
    }
    // The same client address through another proxy of the pool: the same pair.
    retry_after(&app.send(forwarded(&x, "10.9.0.2", "192.0.2.1")).await);
    // Another client address through the same proxy: its own pair.
    assert_eq!(
        app.send(forwarded(&x, "10.9.0.1", "192.0.2.2"))
            .await
            .status,
        401
    );
    // An untrusted peer's header is ignored.
    for _ in 0..2 {
        assert_eq!(
            app.send(forwarded(&x, "198.51.100.9", "192.0.2.1"))
                .await
                .status,
            401
        );
    }
    retry_after(&app.send(forwarded(&x, "198.51.100.9", "192.0.2.50")).await);
}

/// Issue: a NUL byte in a token request field gave 500 on PostgreSQL (text cannot hold it).
/// Any control character is a 400 invalid_request naming the field, on every backend and in
/// every way credentials can be sent.
#[actix_web::test]
async fn control_characters_in_token_requests_are_invalid_requests_naming_the_field() {
    let app = TestApp::spawn().await;
    let (id, secret) = app.create_client("associatie", None).await;
    let form = "application/x-www-form-urlencoded";
    let check = |res: Resp, field: &str| {
        let body = res.assert_problem(400, "INVALID_REQUEST");
        assert_eq!(body["error"], "invalid_request", "{body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(description.starts_with(field), "{field}: {description}");
    };
    for (field, body) in [
        (
            "client_id",
            format!("grant_type=client_credentials&client_id=%00{id}&client_secret={secret}"),
        ),
        (
            "client_id",
            format!("grant_type=client_credentials&client_id={id}%09&client_secret={secret}"),
        ),
        (
            "client_secret",
            format!("grant_type=client_credentials&client_id={id}&client_secret={secret}%00"),
        ),
        (
            "grant_type",
            format!("grant_type=client_credentials%00&client_id={id}&client_secret={secret}"),
        ),
        (
            "scope",
            format!(
                "grant_type=client_credentials&client_id={id}&client_secret={secret}&scope=a%00"
            ),
        ),
    ] {
        check(app.post_raw("/oauth/token", None, form, body).await, field);
    }
    let res = app
        .post_json(
            "/oauth/token",
            None,
            &json!({"grant_type": "client_credentials", "client_id": format!("{id}\u{0}"), "client_secret": secret}),
        )
        .await;
    check(res, "client_id");
    let basic = |user: &str, password: &str| {
        actix_web::test::TestRequest::post()
            .uri("/oauth/token")
            .insert_header((
                "Authorization",
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
                ),
            ))
            .insert_header(("Content-Type", form))
            .set_payload("grant_type=client_credentials")
    };
    check(
        app.send(basic(&format!("{id}\0"), &secret)).await,
        "client_id",
    );
    check(
        app.send(basic(&format!("{id}%00"), &secret)).await,
        "client_id",
    );
    check(
        app.send(basic(&id, &format!("{secret}%00"))).await,
        "client_secret",
    );
    // Nothing was counted: the right secret still works at once.
    assert_eq!(app.send(basic(&id, &secret)).await.status, 200);
}

/// A verified token is remembered (the signature check is skipped the next time), but only by
/// its exact text and only while it is valid: a token past its expiry is refused even though it
/// was accepted a moment before, and a changed signature is checked (and refused) in full.
#[actix_web::test]
async fn a_remembered_token_still_expires_and_a_changed_one_is_checked_again() {
    let app = TestApp::spawn().await;
    let good = app.client_token("associatie", None).await;
    let mut c = claims_of(&good);
    // Valid for about two more seconds: expired three seconds ago, within the 5 s leeway.
    c["exp"] = json!(now() - 3);
    let short = signed(&app, &c);
    assert_eq!(status_with(&app, &short).await, 200);
    assert_eq!(status_with(&app, &short).await, 200, "remembered");
    // Another signature over the same claims (one character inside the signature changed):
    // refused.
    let at = short.len() - 10;
    let was = &short[at..at + 1];
    let forged = format!(
        "{}{}{}",
        &short[..at],
        if was == "A" { "B" } else { "A" },
        &short[at + 1..]
    );
    assert_eq!(status_with(&app, &forged).await, 401, "forged signature");
    assert_eq!(
        status_with(&app, &short).await,
        200,
        "the genuine one still"
    );
    // Past expiry plus leeway: refused, also though it was verified before.
    actix_web::rt::time::sleep(std::time::Duration::from_millis(3100)).await;
    let res = app.get("/api/v1/me", Some(&short)).await;
    assert_eq!(res.status, 401);
    assert!(res.text().contains("expired"), "{}", res.text());
}

#[actix_web::test]
async fn forged_and_invalid_tokens_are_rejected() {
    let app = TestApp::spawn().await;
    let good = app.client_token("associatie", None).await;
    assert_eq!(status_with(&app, &good).await, 200);
    let claims = claims_of(&good);
    let kid = header_of(&good)["kid"].as_str().unwrap().to_owned();

    // Re-signed with the real key: only the claims change.
    let mut c = claims.clone();
    c["exp"] = json!(now() - 3600);
    c["nbf"] = json!(now() - 7200);
    c["iat"] = json!(now() - 7200);
    assert_eq!(status_with(&app, &signed(&app, &c)).await, 401, "expired");
    let mut c = claims.clone();
    c["aud"] = json!("another-api");
    assert_eq!(
        status_with(&app, &signed(&app, &c)).await,
        401,
        "wrong audience"
    );
    let mut c = claims.clone();
    c["iss"] = json!("someone-else");
    assert_eq!(
        status_with(&app, &signed(&app, &c)).await,
        401,
        "wrong issuer"
    );
    let mut c = claims.clone();
    c["nbf"] = json!(now() + 3600);
    assert_eq!(
        status_with(&app, &signed(&app, &c)).await,
        401,
        "not yet valid"
    );
    let mut c = claims.clone();
    c.as_object_mut().unwrap().remove("exp");
    assert_eq!(status_with(&app, &signed(&app, &c)).await, 401, "no exp");
    let mut c = claims.clone();
    c["exp"] = json!((now() + 3600).to_string());
    assert_eq!(
        status_with(&app, &signed(&app, &c)).await,
        401,
        "exp of the wrong type"
    );
    let mut c = claims.clone();
    c["sub"] = json!("bsc_nonexistent");
    assert_eq!(
        status_with(&app, &signed(&app, &c)).await,
        401,
        "unknown client"
    );
    // Sanity: the same path with unchanged claims works.
    assert_eq!(status_with(&app, &signed(&app, &claims)).await, 200);

    // Tampered payload, original signature.
    let parts: Vec<&str> = good.split('.').collect();
    let mut c = claims.clone();
    c["role"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], B64.encode(c.to_string()), parts[2]);
    assert_eq!(status_with(&app, &tampered).await, 401, "tampered");

    // alg: none.
    let none_header = B64.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let none = format!("{none_header}.{}.", parts[1]);
    assert_eq!(status_with(&app, &none).await, 401, "alg none");

    // HS/RS confusion: HMAC-signed with the service's public key as the secret.
    let public = app.state.auth.keys.active_key().public.clone().unwrap();
    for secret in [public.clone(), B64.encode(&public).into_bytes()] {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.clone());
        let forged = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&secret),
        )
        .unwrap();
        assert_eq!(
            status_with(&app, &forged).await,
            401,
            "HS256 with public key"
        );
    }
    let rs_header = B64.encode(json!({"alg": "RS256", "typ": "JWT", "kid": kid}).to_string());
    let rs = format!("{rs_header}.{}.{}", parts[1], parts[2]);
    assert_eq!(status_with(&app, &rs).await, 401, "RS256 header");

    // Unknown key id, missing key id, garbage, wrong scheme.
    let unknown_kid = B64.encode(json!({"alg": "EdDSA", "typ": "JWT", "kid": "nope"}).to_string());
    assert_eq!(
        status_with(&app, &format!("{unknown_kid}.{}.{}", parts[1], parts[2])).await,
        401
    );
    let no_kid = B64.encode(json!({"alg": "EdDSA", "typ": "JWT"}).to_string());
    assert_eq!(
        status_with(&app, &format!("{no_kid}.{}.{}", parts[1], parts[2])).await,
        401
    );
    assert_eq!(status_with(&app, "not-a-token").await, 401);
    let res = app
        .send(
            actix_web::test::TestRequest::get()
                .uri("/api/v1/me")
                .insert_header(("Authorization", format!("Token {good}"))),
        )
        .await;
    let body = res.assert_problem(401, "UNAUTHENTICATED");
    assert!(body["detail"].as_str().unwrap().contains("Bearer"));

    // GraphQL says the same, with extensions.code.
    let res = app
        .send(
            actix_web::test::TestRequest::post()
                .uri("/graphql")
                .insert_header(("Authorization", format!("Bearer {tampered}")))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(json!({"query": "{ me { role } }"}).to_string()),
        )
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(gql_error_code(&res.json()), "UNAUTHENTICATED");
}

#[actix_web::test]
async fn revocation_rotation_and_deactivation_end_tokens_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.client_token("admin", None).await;
    let org = app
        .create_org("Sociaal Team", "integraal", &["GM0153"])
        .await;

    let (id, secret) = app.create_client("team", Some(org)).await;
    let token = app.token(&id, &secret).await;
    assert_eq!(status_with(&app, &token).await, 200);
    // Rotate: the old token dies, the old secret no longer works, the new one does.
    let res = app
        .post_json(
            &format!("/api/v1/clients/{id}/rotate"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let new_secret = res.json()["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(status_with(&app, &token).await, 401);
    let res = app
        .post_raw(
            "/oauth/token",
            None,
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"),
        )
        .await;
    assert_eq!(res.status, 401);
    let token = app.token(&id, &new_secret).await;
    assert_eq!(status_with(&app, &token).await, 200);

    // Deactivate the organisation: its team's token stops; reactivate: works again.
    let res = app
        .patch_json(
            &format!("/api/v1/organisations/{org}"),
            Some(&admin),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["active"], false);
    assert_eq!(status_with(&app, &token).await, 401);
    app.patch_json(
        &format!("/api/v1/organisations/{org}"),
        Some(&admin),
        &json!({"active": true}),
    )
    .await;
    assert_eq!(status_with(&app, &token).await, 200);

    // Revoke: dead at once, for REST and GraphQL, and no new tokens.
    let res = app
        .delete(&format!("/api/v1/clients/{id}"), Some(&admin))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["active"], false);
    assert_eq!(status_with(&app, &token).await, 401);
    let res = app
        .post_json(
            "/graphql",
            Some(&token),
            &json!({"query": "{ me { role } }"}),
        )
        .await;
    assert_eq!(res.status, 401);
    let res = app
        .post_raw(
            "/oauth/token",
            None,
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&client_id={id}&client_secret={new_secret}"),
        )
        .await;
    assert_eq!(res.status, 401);
}

#[actix_web::test]
async fn secrets_are_stored_only_as_argon2_hashes() {
    use diesel::prelude::*;
    let app = TestApp::spawn().await;
    let (id, secret) = app.create_client("associatie", None).await;
    let mut conn = app.conn();
    let hash: String = basisset::db::schema::api_clients::table
        .find(&id)
        .select(basisset::db::schema::api_clients::secret_hash)
        .first(&mut *conn)
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(&secret));
    // Listing never shows secrets.
    let admin = app.client_token("admin", None).await;
    let list = app.get("/api/v1/clients", Some(&admin)).await.text();
    assert!(!list.contains(&secret) && !list.contains("argon2"));
}

/// The README's bootstrap: CLI admin client → token → organisation → team client → team token.
#[actix_web::test]
async fn a_new_install_is_bootstrapped_from_the_command_line() {
    let db = TestDb::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_basisset"))
        .args([
            "--database-url",
            &db.url,
            "client",
            "create",
            "--role",
            "admin",
            "--name",
            "beheer",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "stdout is one JSON object: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let (id, secret) = (
        created["client_id"].as_str().unwrap().to_owned(),
        created["client_secret"].as_str().unwrap().to_owned(),
    );
    assert_eq!(created["role"], "admin");

    let app = TestApp::spawn_on(db, test_config()).await;
    let admin = app.token(&id, &secret).await;
    let res = app
        .post_json(
            "/api/v1/organisations",
            Some(&admin),
            &json!({
                "name": "Buurtteams Utrecht",
                "kvk": "12345678",
                "teamType": "jeugd",
                "orgForm": "stichting",
                "selfRegistration": true,
                "municipalities": [{"code": "GM0344"}]
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let org = res.json()["id"].as_i64().unwrap();
    let res = app
        .post_json(
            "/api/v1/clients",
            Some(&admin),
            &json!({"name": "registratiesysteem", "role": "team", "organisationId": org}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let team = res.json();
    let token = app
        .token(
            team["client_id"].as_str().unwrap(),
            team["client_secret"].as_str().unwrap(),
        )
        .await;
    let me = app.get("/api/v1/me", Some(&token)).await.json();
    assert_eq!(me["role"], "team");
    assert_eq!(me["organisationId"], org);
}
