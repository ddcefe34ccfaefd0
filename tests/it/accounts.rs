//! Accounts and sessions against a hostile client: registration that reveals no account,
//! sign-in failure budgets that stop guessing without locking the owner out (through the
//! real binary, from two client addresses), sign-out, the absolute session lifetime, the
//! web client's cookie mode through the edge, and the page's Content-Security-Policy.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use imgedge::api::{ApiSettings, Quotas};
use imgedge::ratelimit::Quota;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::api_support::{Options, PASSWORD, TestApp, assert_error};
use crate::binary::{Process, dev_env, free_port, imgedge, wait_ready};
use crate::delivery_support::{Stack, StackOptions, header};

async fn users(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await
        .expect("count")
}

/// The fastest of `samples`: the least disturbed by other tests sharing the machine's cores.
fn fastest(samples: &[Duration]) -> Duration {
    samples.iter().copied().min().expect("samples")
}

#[sqlx::test(migrations = "./migrations")]
async fn a_taken_email_registers_like_a_new_one_and_changes_nothing(pool: PgPool) {
    // Room for the timing samples below under the per-address registration limit.
    let settings = ApiSettings {
        quotas: Quotas {
            register_ip: Quota::per_minute(600, 100),
            ..Quotas::default()
        },
        ..Options::default().settings
    };
    let app = TestApp::spawn_with(
        pool.clone(),
        Options {
            settings,
            ..Options::default()
        },
    )
    .await;
    let register = |email: String, password: &'static str| {
        let request = app
            .http
            .post(app.url("/v1/auth/register"))
            .json(&json!({ "email": email, "password": password }));
        async move {
            let start = Instant::now();
            let resp = request.send().await.expect("request");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.expect("JSON");
            (status, body, start.elapsed())
        }
    };

    let (status, new_body, _) = register("owner@example.com".into(), PASSWORD).await;
    assert_eq!(status, 201);
    // Taken, in another case and with another password: the same answer.
    let (status, taken_body, _) =
        register("Owner@Example.com".into(), "an attacker's password").await;
    assert_eq!(status, 201);
    assert_eq!(taken_body, new_body, "the same body for a taken email");
    assert!(new_body.get("user_id").is_none(), "no user id: {new_body}");
    assert_eq!(users(&pool).await, 1, "nothing was created");
    // The owner's account is untouched; the second password opens nothing.
    app.login("owner@example.com").await;
    let resp = app
        .http
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "email": "owner@example.com", "password": "an attacker's password" }))
        .send()
        .await
        .expect("request");
    assert_error(resp, 401, "invalid_credentials").await;

    // Both paths do the same Argon2 work: alternate them and compare the fastest of each.
    // Skipping the hash would answer a taken email in a few per cent of the time; the
    // bounds leave room for a loaded machine, which disturbs single samples, not minima.
    let (mut new, mut taken) = (Vec::new(), Vec::new());
    for i in 0..7 {
        let (status, _, elapsed) = register(format!("new{i}@example.com"), PASSWORD).await;
        assert_eq!(status, 201);
        new.push(elapsed);
        let (status, _, elapsed) = register("owner@example.com".into(), PASSWORD).await;
        assert_eq!(status, 201);
        taken.push(elapsed);
    }
    let (new, taken) = (fastest(&new), fastest(&taken));
    let ratio = taken.as_secs_f64() / new.as_secs_f64();
    println!(
        "register: new email fastest {new:?}, taken email fastest {taken:?}, ratio {ratio:.2}"
    );
    assert!(
        (0.5..=2.0).contains(&ratio),
        "a taken email answers in about the same time: new {new:?}, taken {taken:?}"
    );
    assert_eq!(users(&pool).await, 8);
}

/// A client of `base` whose requests leave from `source` (127.0.0.0/8 is all loopback on
/// Linux, so each address is a different client to the edge).
fn client_from(source: &str) -> reqwest::Client {
    let source: IpAddr = source.parse().expect("address");
    reqwest::Client::builder()
        .local_address(source)
        .build()
        .expect("client")
}

async fn sign_in(http: &reqwest::Client, base: &str, password: &str) -> reqwest::Response {
    http.post(format!("{base}/v1/auth/login"))
        .json(&json!({ "email": "victim@example.com", "password": password }))
        .send()
        .await
        .expect("sign-in request")
}

/// `imgedge dev` with `extra` in its environment; the process and its base URL.
async fn dev(
    pool: &PgPool,
    data_dir: &tempfile::TempDir,
    extra: &[(&'static str, String)],
) -> (Process, String) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let listen = format!("127.0.0.1:{port}");
    let data = data_dir.path().display().to_string();
    let mut env = dev_env(pool);
    env.extend_from_slice(extra);
    let process = Process(
        imgedge(&["dev", "--listen", &listen, "--data-dir", &data], &env)
            .spawn()
            .expect("dev starts"),
    );
    wait_ready(&reqwest::Client::new(), &format!("{base}/healthz")).await;
    (process, base)
}

#[sqlx::test(migrations = false)]
async fn failed_sign_ins_from_one_address_do_not_lock_the_owner_out(pool: PgPool) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (_dev, base) = dev(&pool, &data_dir, &[]).await;
    let attacker = client_from("127.0.0.2");
    let owner = client_from("127.0.0.3");
    let resp = owner
        .post(format!("{base}/v1/auth/register"))
        .json(&json!({ "email": "victim@example.com", "password": PASSWORD }))
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status(), 201);

    let mut statuses = Vec::new();
    for _ in 0..15 {
        let resp = sign_in(&attacker, &base, "not the password").await;
        let status = resp.status().as_u16();
        if status == 429 {
            let retry: u64 = header(&resp, "retry-after").parse().expect("Retry-After");
            assert!(retry >= 1, "{retry}");
        }
        statuses.push(status);
    }
    let refused = statuses.iter().filter(|s| **s == 429).count();
    println!("15 wrong passwords from 127.0.0.2: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert_eq!(&statuses[..5], &[401; 5], "the failure budget's burst");
    assert_eq!(
        refused, 10,
        "past it, refused before the password is checked"
    );

    // The owner, from another address: signed in at once, and a correct password spends
    // nothing, so signing in again and again is fine too.
    for attempt in 0..8 {
        let resp = sign_in(&owner, &base, PASSWORD).await;
        assert_eq!(resp.status(), 200, "the owner's sign-in {attempt}");
    }
}

#[sqlx::test(migrations = false)]
async fn guessing_from_many_addresses_slows_the_owner_but_does_not_lock_them_out(pool: PgPool) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    // A low ceiling (one failure a second, 8 at once) so that three addresses reach it.
    let quota = ("IMGEDGE_QUOTA_LOGIN_EMAIL", "60:8".to_owned());
    let (_dev, base) = dev(&pool, &data_dir, &[quota]).await;
    let owner = client_from("127.0.0.9");
    let resp = owner
        .post(format!("{base}/v1/auth/register"))
        .json(&json!({ "email": "victim@example.com", "password": PASSWORD }))
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status(), 201);
    for source in ["127.0.0.4", "127.0.0.5", "127.0.0.6"] {
        let attacker = client_from(source);
        for _ in 0..5 {
            sign_in(&attacker, &base, "not the password").await;
        }
    }
    // The ceiling is spent: the owner waits, briefly, then signs in.
    let resp = sign_in(&owner, &base, PASSWORD).await;
    assert_eq!(resp.status(), 429, "the per-email ceiling is reached");
    let retry: u64 = header(&resp, "retry-after").parse().expect("Retry-After");
    println!("per-email ceiling reached: the owner's Retry-After is {retry} s");
    assert!((1..=2).contains(&retry), "a short wait: {retry} s");
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(sign_in(&owner, &base, PASSWORD).await.status(), 200);
}

/// A session's refresh tokens, one sign-in and `rotations` refreshes, oldest first.
async fn family(app: &TestApp, email: &str, rotations: usize) -> Vec<Value> {
    let mut tokens = vec![app.login(email).await["refresh_token"].clone()];
    for _ in 0..rotations {
        let resp = app.refresh(tokens.last().expect("a token").clone()).await;
        assert_eq!(resp.status(), 200);
        let session: Value = resp.json().await.expect("JSON");
        tokens.push(session["refresh_token"].clone());
    }
    tokens
}

async fn logout(app: &TestApp, body: Value) -> reqwest::Response {
    app.http
        .post(app.url("/v1/auth/logout"))
        .json(&body)
        .send()
        .await
        .expect("request")
}

#[sqlx::test(migrations = "./migrations")]
async fn logout_revokes_the_session_and_only_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user("leaving@example.com").await;
    let session = family(&app, "leaving@example.com", 2).await;
    let other = family(&app, "leaving@example.com", 0).await;

    let resp = logout(&app, json!({ "refresh_token": session[2] })).await;
    assert_eq!(resp.status(), 204);
    for (i, token) in session.iter().enumerate() {
        let refused = app.refresh(token.clone()).await;
        assert_eq!(refused.status(), 401, "token {i} of the signed-out session");
    }
    // Another session of the same user goes on.
    assert_eq!(app.refresh(other[0].clone()).await.status(), 200);

    // Idempotent, and the same answer for anything: no oracle.
    for body in [
        json!({ "refresh_token": session[2] }),
        json!({ "refresh_token": session[0] }),
        json!({ "refresh_token": "never-issued" }),
        json!({}),
    ] {
        let resp = logout(&app, body.clone()).await;
        assert_eq!(resp.status(), 204, "{body}");
        assert!(resp.bytes().await.expect("body").is_empty());
    }
    let resp = app
        .http
        .post(app.url("/v1/auth/logout"))
        .header("content-type", "text/plain")
        .body(r#"{"refresh_token":"x"}"#)
        .send()
        .await
        .expect("request");
    assert_error(resp, 415, "unsupported_media_type").await;
}

#[sqlx::test(migrations = "./migrations")]
async fn a_session_ends_at_its_absolute_lifetime_whatever_the_refreshes(pool: PgPool) {
    let lifetime = Duration::from_secs(3);
    let app = TestApp::spawn_with(
        pool,
        Options {
            settings: ApiSettings {
                session_lifetime: lifetime,
                ..Options::default().settings
            },
            ..Options::default()
        },
    )
    .await;
    app.user("brief@example.com").await;
    let started = Instant::now();
    let mut token = app.login("brief@example.com").await["refresh_token"].clone();
    let mut refreshes = 0;
    let refused = loop {
        let resp = app.refresh(token.clone()).await;
        if resp.status() != 200 {
            break resp;
        }
        refreshes += 1;
        token = resp.json::<Value>().await.expect("JSON")["refresh_token"].clone();
        assert!(
            started.elapsed() < lifetime + Duration::from_secs(2),
            "still refreshing {:?} after sign-in",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let ended = started.elapsed();
    println!("a {lifetime:?} session: {refreshes} refreshes, refused {ended:?} after sign-in");
    assert!(ended + Duration::from_millis(500) >= lifetime, "{ended:?}");
    assert!(refreshes >= 5, "refreshed while it lasted: {refreshes}");
    assert_error(refused, 401, "invalid_refresh_token").await;
}

/// The `imgedge_refresh` cookie of a `Set-Cookie` header: its value and attributes.
fn refresh_cookie(resp: &reqwest::Response) -> (String, String) {
    let set_cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("imgedge_refresh="))
        .unwrap_or_else(|| panic!("a refresh cookie: {:?}", resp.headers()))
        .to_owned();
    let value = set_cookie
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("imgedge_refresh="))
        .expect("value")
        .to_owned();
    (value, set_cookie)
}

#[sqlx::test]
async fn the_web_clients_session_lives_in_an_http_only_cookie_through_the_edge(pool: PgPool) {
    let stack = Stack::spawn(pool).await;
    stack.user("browser@example.com").await;
    let post = |path: &str, cookie: Option<&str>, body: Value| {
        let mut request = stack.http.post(stack.url(path)).json(&body);
        if let Some(value) = cookie {
            request = request.header("cookie", format!("imgedge_refresh={value}"));
        }
        request.send()
    };
    let creds =
        json!({ "email": "browser@example.com", "password": PASSWORD, "refresh_cookie": true });
    let resp = post("/v1/auth/login", None, creds).await.expect("login");
    assert_eq!(resp.status(), 200);
    let (first, attributes) = refresh_cookie(&resp);
    let session: Value = resp.json().await.expect("JSON");
    assert!(session["access_token"].is_string());
    assert!(
        session.get("refresh_token").is_none(),
        "not in the body: {session}"
    );
    let attributes = attributes.to_ascii_lowercase();
    for attribute in ["httponly", "samesite=strict", "path=/v1/auth"] {
        assert!(attributes.contains(attribute), "{attribute}: {attributes}");
    }
    assert!(
        !attributes.contains("secure"),
        "plain HTTP: not Secure: {attributes}"
    );

    // Refresh with the cookie, but only as JSON: a cross-site form cannot send that.
    let forged = stack
        .http
        .post(stack.url("/v1/auth/refresh"))
        .header("cookie", format!("imgedge_refresh={first}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=b")
        .send()
        .await
        .expect("request");
    assert_error(forged, 415, "unsupported_media_type").await;
    let resp = post("/v1/auth/refresh", Some(&first), json!({}))
        .await
        .expect("refresh");
    assert_eq!(resp.status(), 200);
    let (second, _) = refresh_cookie(&resp);
    assert_ne!(second, first);
    let session: Value = resp.json().await.expect("JSON");
    assert!(session.get("refresh_token").is_none());

    // Sign out with the cookie: cleared, and the session is over.
    let resp = post("/v1/auth/logout", Some(&second), json!({}))
        .await
        .expect("logout");
    assert_eq!(resp.status(), 204);
    let (cleared, attributes) = refresh_cookie(&resp);
    assert!(
        cleared.is_empty() && attributes.contains("Max-Age=0"),
        "{attributes}"
    );
    let resp = post("/v1/auth/refresh", Some(&second), json!({}))
        .await
        .expect("refresh");
    let (cleared, _) = refresh_cookie(&resp);
    assert!(cleared.is_empty(), "a refused cookie is cleared");
    assert_error(resp, 401, "refresh_token_reused").await;
    // No cookie and no token: nothing to present.
    let resp = post("/v1/auth/refresh", None, json!({}))
        .await
        .expect("refresh");
    assert_error(resp, 401, "invalid_refresh_token").await;
}

#[sqlx::test]
async fn the_web_client_is_served_with_a_strict_content_security_policy(pool: PgPool) {
    let web = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>app</title>",
    )
    .expect("write");
    let stack = Stack::spawn_with(
        pool,
        StackOptions {
            web_dir: web.path().to_path_buf(),
            ..StackOptions::default()
        },
    )
    .await;
    for route in ["/", "/images/abc"] {
        let page = stack.get(route).await;
        assert_eq!(page.status(), 200, "{route}");
        let csp = header(&page, "content-security-policy");
        assert_eq!(csp, imgedge::edge::CONTENT_SECURITY_POLICY, "{route}");
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        for directive in [
            "default-src 'self'",
            "img-src 'self' blob: data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                directives.contains(&directive),
                "{route}: {directive} in {csp}"
            );
        }
        assert!(!csp.contains("unsafe"), "{csp}");
    }
}
