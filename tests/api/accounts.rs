//! Accounts: the first-run setup, signing in and out, sessions, the form
//! tokens, the throttle and `visitors users`, against a real PostgreSQL and
//! (for the printed setup code) a real server process.

use std::{net::SocketAddr, time::Duration};

use rocket::{
    http::{ContentType, Cookie, Header, Status},
    local::asynchronous::{Client, LocalResponse},
};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use visitors::accounts::{model::Email, password::PasswordHasher, store};

use crate::helpers::{fresh_database, run_command_with_input, AppProcess, TestApp, FIREFOX};

pub const PASSWORD: &str = "correct horse battery";
const SESSION: &str = "visitors_session";

/// The hidden form token of a page.
pub fn form_token(html: &str) -> String {
    regex::Regex::new(r#"name="csrf" value="([0-9a-f]{64})""#)
        .unwrap()
        .captures(html)
        .unwrap_or_else(|| panic!("no form token in {html}"))[1]
        .to_owned()
}

pub fn encoded(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// The HTML of a page.
pub async fn page(client: &Client, path: &str) -> String {
    client
        .get(path)
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap()
}

/// GETs `page` and POSTs `fields` to `action` with the page's form token.
pub async fn submit<'c>(
    client: &'c Client,
    from: &str,
    action: &'c str,
    fields: &[(&str, &str)],
) -> LocalResponse<'c> {
    let token = form_token(&page(client, from).await);
    let mut all = vec![("csrf", token.as_str())];
    all.extend_from_slice(fields);
    client
        .post(action)
        .header(ContentType::Form)
        .body(encoded(&all))
        .dispatch()
        .await
}

pub async fn add_account(db: &PgPool, email: &str) {
    let hash = PasswordHasher::new()
        .hash(&visitors::accounts::model::Password::new(PASSWORD.into()))
        .await
        .unwrap();
    store::add_user(db, &Email::parse(email).unwrap(), &hash, false, false)
        .await
        .unwrap()
        .unwrap();
}

pub async fn sign_in<'c>(client: &'c Client, email: &str, password: &str) -> LocalResponse<'c> {
    submit(
        client,
        "/login",
        "/login",
        &[("email", email), ("password", password)],
    )
    .await
}

/// A fresh app with one account, signed in.
pub async fn signed_in_app(email: &str) -> TestApp {
    let app = TestApp::spawn().await;
    add_account(&app.db, email).await;
    let response = sign_in(&app.client, email, PASSWORD).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    app
}

pub fn location(response: &LocalResponse<'_>) -> String {
    response
        .headers()
        .get_one("Location")
        .unwrap_or("")
        .to_owned()
}

pub fn database_url(app: &TestApp) -> String {
    app.client
        .rocket()
        .figment()
        .extract_inner("databases.visitors.url")
        .unwrap()
}

/// A second browser, on a second replica of the same database.
pub async fn other_browser(app: &TestApp) -> TestApp {
    TestApp::spawn_on(&database_url(app), &[]).await
}

pub async fn count(db: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(db)
        .await
        .unwrap()
}

#[test]
fn a_fresh_instance_is_claimed_only_with_the_code_its_log_printed() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = runtime.block_on(fresh_database());
    let log = std::env::temp_dir().join(format!("visitors-setup-{}.log", uuid::Uuid::new_v4()));
    let mut app = AppProcess::start_logged(
        "127.0.0.1",
        &[
            ("DATABASE_URL", &database.url),
            ("PUBLIC_URL", "http://count.example.org"),
        ],
        &log,
    );
    app.wait_ready(Duration::from_secs(60));
    let pattern = regex::Regex::new(
        r"open http://count\.example\.org/setup and enter the setup code ([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})",
    )
    .unwrap();
    let mut code = None;
    for _ in 0..250 {
        let text = std::fs::read_to_string(&log).unwrap();
        if let Some(found) = pattern.captures(&text) {
            code = Some(found[1].to_owned());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let code = code.expect("the log names the setup page and a code");
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent();
    let mut page = agent.get(&app.url("/setup")).call().unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("visitors_form="), "{cookie}");
    let token = form_token(&page.body_mut().read_to_string().unwrap());
    let post = |code: &str| {
        agent
            .post(&app.url("/setup"))
            .header("Cookie", &cookie)
            .content_type("application/x-www-form-urlencoded")
            .send(encoded(&[
                ("csrf", &token),
                ("code", code),
                ("email", "owner@example.org"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ]))
            .unwrap()
    };
    let db = runtime.block_on(PgPool::connect(&database.url)).unwrap();
    // Anyone else on the network: a made-up code is refused, nothing stored.
    let mut refused = post("2345-6789-ABCD-EFGH");
    assert_eq!(refused.status(), 403);
    assert!(refused
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains("This is not a setup code this instance printed"));
    assert_eq!(runtime.block_on(count(&db, "users")), 0);
    // The operator, typing it in lower case with spaces.
    let claimed = post(&code.to_lowercase().replace('-', " "));
    assert_eq!(claimed.status(), 303);
    assert_eq!(claimed.headers().get("location").unwrap(), "/account");
    let session = claimed
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(session.starts_with("visitors_session="), "{session}");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let admin: bool = runtime
        .block_on(
            sqlx::query_scalar("SELECT is_admin FROM users WHERE email = 'owner@example.org'")
                .fetch_one(&db),
        )
        .unwrap();
    assert!(admin, "the first account is the instance's admin");
    assert_eq!(
        runtime.block_on(count(&db, "setup_codes")),
        0,
        "the codes are spent"
    );
    // Set up: the page sends to the sign-in, and the code claims nothing more.
    let again = agent.get(&app.url("/setup")).call().unwrap();
    assert_eq!(again.status(), 303);
    assert_eq!(again.headers().get("location").unwrap(), "/login");
    assert_eq!(post(&code).status(), 409);
    assert_eq!(runtime.block_on(count(&db, "users")), 1);
    drop(app);
    let _ = std::fs::remove_file(&log);
    runtime.block_on(db.close());
}

#[rocket::async_test]
async fn every_setup_field_says_what_is_wrong_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let code = "ABCD-EFGH-JKMN-PQRS";
    let digest: [u8; 32] = Sha256::digest(code.replace('-', "").as_bytes()).into();
    sqlx::query("INSERT INTO setup_codes (code_digest) VALUES ($1)")
        .bind(&digest[..])
        .execute(&app.db)
        .await
        .unwrap();
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("code", ""),
                ("email", "a@example.org"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
            "Enter the setup code from the server&#39;s log.",
        ),
        (
            &[
                ("code", code),
                ("email", "not an address"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
            "This is not an email address",
        ),
        (
            &[
                ("code", code),
                ("email", "a@example.org"),
                ("password", "short"),
                ("password_again", "short"),
            ],
            "Use at least 10 characters.",
        ),
        (
            &[
                ("code", code),
                ("email", "a@example.org"),
                ("password", PASSWORD),
                ("password_again", "something else"),
            ],
            "The two passwords differ.",
        ),
        (
            &[
                ("code", code),
                ("email", ""),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
            "Enter an email address.",
        ),
    ];
    for (fields, message) in cases {
        let response = submit(&app.client, "/setup", "/setup", fields).await;
        assert_eq!(response.status(), Status::UnprocessableEntity, "{fields:?}");
        let html = response.into_string().await.unwrap();
        assert!(
            html.contains(message),
            "{fields:?}: no {message:?} in {html}"
        );
        assert!(html.contains(r#"aria-invalid="true""#), "{fields:?}");
    }
    // The address typed is shown again, escaped.
    let response = submit(
        &app.client,
        "/setup",
        "/setup",
        &[
            ("code", ""),
            ("email", "<b>x</b>@example.org"),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
        ],
    )
    .await;
    let html = response.into_string().await.unwrap();
    assert!(
        html.contains("&#60;b&#62;x&#60;/b&#62;@example.org")
            || html.contains("&lt;b&gt;x&lt;/b&gt;@example.org"),
        "{html}"
    );
    assert!(!html.contains("<b>x</b>"));
    assert_eq!(count(&app.db, "users").await, 0);
    assert_eq!(count(&app.db, "sessions").await, 0);
}

#[rocket::async_test]
async fn a_session_ends_at_sign_out_after_idle_time_and_with_age() {
    let app = TestApp::spawn().await;
    add_account(&app.db, "ann@example.org").await;
    // Not signed in: the account page sends to the sign-in, and back.
    let response = app.client.get("/account").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), "/login?next=%2Faccount");

    let response = sign_in(&app.client, "ANN@example.org", PASSWORD).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), "/account");
    let page = app
        .client
        .get("/account")
        .header(Header::new("User-Agent", FIREFOX))
        .dispatch()
        .await;
    assert_eq!(page.status(), Status::Ok);
    assert_eq!(page.headers().get_one("Cache-Control"), Some("no-store"));
    let html = page.into_string().await.unwrap();
    assert!(
        html.contains("Signed in as <strong>ann@example.org</strong>"),
        "{html}"
    );
    assert!(html.contains("(this one)"));
    let cookie = app
        .client
        .cookies()
        .get(SESSION)
        .unwrap()
        .value()
        .to_owned();

    // Sign-out: the old cookie, sent again, is refused.
    let response = submit(&app.client, "/account", "/logout", &[]).await;
    assert_eq!(location(&response), "/login?done=sign-out");
    let replayed = app
        .client
        .get("/account")
        .cookie(Cookie::new(SESSION, cookie))
        .dispatch()
        .await;
    assert_eq!(replayed.status(), Status::SeeOther);
    assert_eq!(count(&app.db, "sessions").await, 0);

    // Idle for longer than 14 days, or older than 30 days: ended.
    for aged in [
        "last_seen = now() - interval '14 days 1 minute'",
        "created_at = now() - interval '30 days 1 minute'",
    ] {
        assert_eq!(
            sign_in(&app.client, "ann@example.org", PASSWORD)
                .await
                .status(),
            Status::SeeOther
        );
        assert_eq!(
            app.client.get("/account").dispatch().await.status(),
            Status::Ok
        );
        sqlx::query(&format!("UPDATE sessions SET {aged}"))
            .execute(&app.db)
            .await
            .unwrap();
        let response = app.client.get("/account").dispatch().await;
        assert_eq!(response.status(), Status::SeeOther, "{aged}");
        assert!(location(&response).starts_with("/login"), "{aged}");
    }
}

#[rocket::async_test]
async fn a_password_change_and_sign_out_everywhere_end_the_other_sessions() {
    let app = TestApp::spawn().await;
    add_account(&app.db, "ann@example.org").await;
    let phone = other_browser(&app).await;
    let phone = &phone.client;
    for browser in [&app.client, phone] {
        assert_eq!(
            sign_in(browser, "ann@example.org", PASSWORD).await.status(),
            Status::SeeOther
        );
    }
    assert_eq!(phone.get("/account").dispatch().await.status(), Status::Ok);

    // Each field's bad input: its message, and the password stays.
    let new = "a new password of some length";
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("current", "wrong password!"),
                ("password", new),
                ("password_again", new),
            ],
            "This is not your current password.",
        ),
        (
            &[
                ("current", PASSWORD),
                ("password", "short"),
                ("password_again", "short"),
            ],
            "Use at least 10 characters.",
        ),
        (
            &[
                ("current", PASSWORD),
                ("password", new),
                ("password_again", "another one entirely"),
            ],
            "The two passwords differ.",
        ),
    ];
    for (fields, message) in cases {
        let response = submit(&app.client, "/account", "/account/password", fields).await;
        assert_eq!(response.status(), Status::UnprocessableEntity);
        assert!(
            response.into_string().await.unwrap().contains(message),
            "{message}"
        );
    }
    assert_eq!(phone.get("/account").dispatch().await.status(), Status::Ok);

    let response = submit(
        &app.client,
        "/account",
        "/account/password",
        &[
            ("current", PASSWORD),
            ("password", new),
            ("password_again", new),
        ],
    )
    .await;
    assert_eq!(location(&response), "/account?done=password");
    // This browser stays signed in, the phone is signed out.
    assert_eq!(
        app.client.get("/account").dispatch().await.status(),
        Status::Ok
    );
    assert_eq!(
        phone.get("/account").dispatch().await.status(),
        Status::SeeOther
    );
    assert_eq!(
        sign_in(phone, "ann@example.org", PASSWORD).await.status(),
        Status::Unauthorized
    );
    assert_eq!(
        sign_in(phone, "ann@example.org", new).await.status(),
        Status::SeeOther
    );

    let response = submit(&app.client, "/account", "/account/sign-out-everywhere", &[]).await;
    assert_eq!(location(&response), "/login?done=everywhere");
    for browser in [&app.client, phone] {
        assert_eq!(
            browser.get("/account").dispatch().await.status(),
            Status::SeeOther
        );
    }
    assert_eq!(count(&app.db, "sessions").await, 0);
}

#[rocket::async_test]
async fn a_post_without_its_form_token_changes_nothing() {
    let app = TestApp::spawn().await;
    add_account(&app.db, "ann@example.org").await;
    // No token, a wrong one, and the right one from another site.
    for (token, site) in [
        ("", None),
        (&"0".repeat(64)[..], None),
        ("right", Some("cross-site")),
    ] {
        let html = page(&app.client, "/login").await;
        let token = if token == "right" {
            form_token(&html)
        } else {
            token.to_owned()
        };
        let mut request = app
            .client
            .post("/login")
            .header(ContentType::Form)
            .body(encoded(&[
                ("csrf", &token),
                ("email", "ann@example.org"),
                ("password", PASSWORD),
            ]));
        if let Some(site) = site {
            request = request.header(Header::new("Sec-Fetch-Site", site));
        }
        let response = request.dispatch().await;
        assert_eq!(response.status(), Status::Forbidden, "{token:?} {site:?}");
        assert!(response
            .into_string()
            .await
            .unwrap()
            .contains("nothing was changed"));
    }
    assert_eq!(count(&app.db, "sessions").await, 0);

    // Signed in, a forged password change and sign-out change nothing.
    assert_eq!(
        sign_in(&app.client, "ann@example.org", PASSWORD)
            .await
            .status(),
        Status::SeeOther
    );
    let new = "a new password of some length";
    for (action, fields) in [
        (
            "/account/password",
            &[
                ("csrf", "forged"),
                ("current", PASSWORD),
                ("password", new),
                ("password_again", new),
            ][..],
        ),
        ("/account/sign-out-everywhere", &[("csrf", "forged")][..]),
        ("/logout", &[][..]),
    ] {
        let response = app
            .client
            .post(action)
            .header(ContentType::Form)
            .body(encoded(fields))
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::Forbidden, "{action}");
    }
    assert_eq!(
        app.client.get("/account").dispatch().await.status(),
        Status::Ok
    );
    let browser = other_browser(&app).await;
    assert_eq!(
        sign_in(&browser.client, "ann@example.org", PASSWORD)
            .await
            .status(),
        Status::SeeOther
    );
}

/// A sign-in's status and page, with the address typed and the form token
/// taken out.
async fn answer(response: LocalResponse<'_>, email: &str) -> (Status, String) {
    let status = response.status();
    let html = response.into_string().await.unwrap();
    (
        status,
        html.replace(email, "EMAIL")
            .replace(&form_token(&html), "TOKEN"),
    )
}

#[rocket::async_test]
async fn an_unknown_address_and_a_wrong_password_answer_alike() {
    let app = TestApp::spawn().await;
    add_account(&app.db, "ann@example.org").await;
    let wrong = answer(
        sign_in(&app.client, "ann@example.org", "not the password").await,
        "ann@example.org",
    )
    .await;
    let unknown = answer(
        sign_in(&app.client, "bob@example.org", "not the password").await,
        "bob@example.org",
    )
    .await;
    assert_eq!(wrong.0, Status::Unauthorized);
    assert!(wrong.1.contains("Wrong email or password."));
    assert_eq!(wrong, unknown);
    // A bad address is the form's own message, before any password check.
    let response = sign_in(&app.client, "bob", PASSWORD).await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    assert!(response
        .into_string()
        .await
        .unwrap()
        .contains("This is not an email address"));
}

#[rocket::async_test]
async fn the_sign_in_throttle_holds_under_a_concurrent_burst() {
    let app = TestApp::spawn().await;
    add_account(&app.db, "ann@example.org").await;
    let html = page(&app.client, "/login").await;
    let token = form_token(&html);
    // Twenty wrong passwords at once, from twenty clients.
    let attempts = (0..20).map(|n| {
        let body = encoded(&[
            ("csrf", &token),
            ("email", "ann@example.org"),
            ("password", "a wrong guess"),
        ]);
        let client = &app.client;
        async move {
            client
                .post("/login")
                .remote(SocketAddr::new(
                    format!("192.0.2.{}", n + 1).parse().unwrap(),
                    40000,
                ))
                .header(ContentType::Form)
                .body(body)
                .dispatch()
                .await
                .status()
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    let refused = statuses
        .iter()
        .filter(|s| **s == Status::TooManyRequests)
        .count();
    let checked = statuses
        .iter()
        .filter(|s| **s == Status::Unauthorized)
        .count();
    assert_eq!((checked, refused), (10, 10), "{statuses:?}");
    // Even the right password waits for the window to end.
    let response = sign_in(&app.client, "ann@example.org", PASSWORD).await;
    assert_eq!(response.status(), Status::TooManyRequests);
    assert!(response
        .into_string()
        .await
        .unwrap()
        .contains("Too many attempts"));
    // Other addresses are not held back by it: one client is, after 30 tries.
    sqlx::query("DELETE FROM login_throttle")
        .execute(&app.db)
        .await
        .unwrap();
    let mut statuses = Vec::new();
    for n in 0..31 {
        let email = format!("someone{n}@example.org");
        let body = encoded(&[
            ("csrf", &token),
            ("email", &email),
            ("password", "a wrong guess"),
        ]);
        let response = app
            .client
            .post("/login")
            .remote("198.51.100.9:40000".parse().unwrap())
            .header(ContentType::Form)
            .body(body)
            .dispatch()
            .await;
        statuses.push(response.status());
    }
    assert!(
        statuses[..30].iter().all(|s| *s == Status::Unauthorized),
        "{statuses:?}"
    );
    assert_eq!(statuses[30], Status::TooManyRequests);
    // The throttle keeps digests, not the addresses typed.
    assert!(!crate::helpers::every_stored_row(&app.db)
        .await
        .contains("someone1"));
}

#[rocket::async_test]
async fn cookies_are_secure_with_the_host_prefix_behind_https() {
    let app = TestApp::spawn_with(&[("public_url", "https://count.example.org")]).await;
    add_account(&app.db, "ann@example.org").await;
    let page = app.client.get("/login").dispatch().await;
    let form = page.headers().get_one("Set-Cookie").unwrap().to_owned();
    assert!(form.starts_with("__Host-visitors_form="), "{form}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(form.contains(attribute), "{form} lacks {attribute}");
    }
    let response = sign_in(&app.client, "ann@example.org", PASSWORD).await;
    let session = response.headers().get_one("Set-Cookie").unwrap().to_owned();
    assert!(session.starts_with("__Host-visitors_session="), "{session}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(session.contains(attribute), "{session} lacks {attribute}");
    }
    assert!(!session.contains("Domain="));
}

#[rocket::async_test]
async fn operators_manage_accounts_from_the_command_line() {
    let app = TestApp::spawn().await;
    let url = database_url(&app);
    let env = [("DATABASE_URL", url.as_str())];
    let input = format!("{PASSWORD}\n");
    let (code, out, err) =
        run_command_with_input(&["users", "add", "Ann@Example.org"], &env, &input);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "visitors: added the account Ann@example.org");
    // One account per address, whatever its case; bad input is refused whole.
    for (args, input, message) in [
        (
            &["users", "add", "ann@EXAMPLE.org"][..],
            input.as_str(),
            "exists already",
        ),
        (
            &["users", "add", "bob"][..],
            input.as_str(),
            "This is not an email address",
        ),
        (
            &["users", "add", "bob@example.org"][..],
            "short\n",
            "Use at least 10 characters",
        ),
        (
            &["users", "passwd", "nobody@example.org"][..],
            input.as_str(),
            "there is no account nobody@example.org",
        ),
    ] {
        let (code, _, err) = run_command_with_input(args, &env, input);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    assert_eq!(count(&app.db, "users").await, 1);
    let (_, listed, _) = run_command_with_input(&["users", "list"], &env, "");
    assert!(
        listed.starts_with("Ann@example.org\tadmin\tsince "),
        "{listed}"
    );

    assert_eq!(
        sign_in(&app.client, "ann@example.org", PASSWORD)
            .await
            .status(),
        Status::SeeOther
    );
    let new = "another password, longer";
    let (code, _, err) = run_command_with_input(
        &["users", "passwd", "ann@example.org"],
        &env,
        &format!("{new}\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        app.client.get("/account").dispatch().await.status(),
        Status::SeeOther
    );
    assert_eq!(
        sign_in(&app.client, "ann@example.org", new).await.status(),
        Status::SeeOther
    );

    let (code, _, err) = run_command_with_input(&["users", "remove", "ann@example.org"], &env, "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        app.client.get("/account").dispatch().await.status(),
        Status::SeeOther
    );
    assert_eq!(count(&app.db, "users").await, 0);
    assert_eq!(count(&app.db, "sessions").await, 0);
}

#[rocket::async_test]
async fn an_admin_adds_and_removes_accounts_from_the_browser() {
    // The instance's first account is its admin.
    let app = signed_in_app("ada@example.org").await;
    let users = "/account/users";
    let refused = submit(
        &app.client,
        users,
        users,
        &[
            ("email", "no address"),
            ("password", "short"),
            ("password_again", "short"),
        ],
    )
    .await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    let html = refused.into_string().await.unwrap();
    assert!(
        html.contains(r#"id="email-error""#) && html.contains(r#"id="password-error""#),
        "{html}"
    );
    let taken = [
        ("email", "ADA@example.org"),
        ("password", PASSWORD),
        ("password_again", PASSWORD),
    ];
    let refused = submit(&app.client, users, users, &taken).await;
    assert_eq!(refused.status(), Status::Conflict);
    assert!(refused
        .into_string()
        .await
        .unwrap()
        .contains("exists already"));
    assert_eq!(count(&app.db, "users").await, 1);

    let bob = [
        ("email", "bob@example.org"),
        ("password", PASSWORD),
        ("password_again", PASSWORD),
    ];
    let added = submit(&app.client, users, users, &bob).await;
    assert_eq!(location(&added), "/account/users?done=added");
    drop(added);
    let bobs = other_browser(&app).await;
    assert_eq!(
        sign_in(&bobs.client, "bob@example.org", PASSWORD)
            .await
            .status(),
        Status::SeeOther
    );
    // Bob is no admin: the page is not there for him.
    assert_eq!(
        bobs.client.get(users).dispatch().await.status(),
        Status::NotFound
    );

    let remove = "/account/users/remove";
    let unconfirmed = submit(&app.client, users, remove, &[("email", "bob@example.org")]).await;
    assert_eq!(unconfirmed.status(), Status::UnprocessableEntity);
    assert!(unconfirmed
        .into_string()
        .await
        .unwrap()
        .contains("Type bob@example.org to confirm."));
    let own = [("email", "ada@example.org"), ("confirm", "ada@example.org")];
    let refused = submit(&app.client, users, remove, &own).await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    drop(refused);
    assert_eq!(count(&app.db, "users").await, 2);

    let confirmed = [("email", "bob@example.org"), ("confirm", "bob@example.org")];
    let removed = submit(&app.client, users, remove, &confirmed).await;
    assert_eq!(location(&removed), "/account/users?done=removed");
    drop(removed);
    assert_eq!(count(&app.db, "users").await, 1);
    // His session went with his account.
    let response = bobs.client.get("/account").dispatch().await;
    assert_eq!(location(&response), "/login?next=%2Faccount");
}
