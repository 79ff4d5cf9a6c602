//! `GET /privacy` says what the running configuration does: the retention
//! of raw visits, the rollups' retention and the trusted address header.

use rocket::http::{ContentType, Status};
use sqlx::PgPool;
use visitors::infra::database::MIGRATOR;

use crate::helpers::{fresh_database, TestApp, FIREFOX};

async fn privacy_page(app: &TestApp) -> String {
    let response = app.client.get("/privacy").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
    response.into_string().await.unwrap()
}

/// The text of the element `id="{id}"` (a `<p>`), tags and spacing removed.
fn paragraph(html: &str, id: &str) -> String {
    let pattern =
        regex::Regex::new(&format!(r#"(?s)id="{}">(.*?)</p>"#, regex::escape(id))).unwrap();
    let inner = &pattern
        .captures(html)
        .unwrap_or_else(|| panic!("no #{id} on the page"))[1];
    let text = regex::Regex::new("<[^>]*>").unwrap().replace_all(inner, "");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// (data, kept) for each row of the retention table.
fn kept(html: &str) -> Vec<(String, String)> {
    let row = regex::Regex::new(
        r#"<tr><th scope="row">([^<]*)</th><td>[^<]*</td><td class="kept-for">([^<]*)</td></tr>"#,
    )
    .unwrap();
    row.captures_iter(html)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect()
}

#[rocket::async_test]
async fn the_page_follows_the_retention_setting() {
    let thirty = TestApp::spawn_with(&[("raw_visits_retention_days", "30")]).await;
    let html = privacy_page(&thirty).await;
    let expected = |raw: &str| {
        [
            ("Raw visits", raw),
            ("Counts per minute", "2 hours"),
            ("Counts per hour", "2 days"),
            ("Counts per day", "forever"),
            ("Per-visitor rows", "forever"),
        ]
        .map(|(what, how_long)| (what.to_owned(), how_long.to_owned()))
        .to_vec()
    };
    assert_eq!(kept(&html), expected("30 days"));
    assert!(paragraph(&html, "raw-visits-retention")
        .starts_with("Raw visits older than 30 days are deleted (RAW_VISITS_RETENTION_DAYS=30)"));

    let forever = TestApp::spawn_with(&[("raw_visits_retention_days", "0")]).await;
    let html = privacy_page(&forever).await;
    assert_eq!(kept(&html), expected("forever"));
    assert_eq!(
        paragraph(&html, "raw-visits-retention"),
        "Raw visits are kept forever (RAW_VISITS_RETENTION_DAYS=0)."
    );

    let one = TestApp::spawn_with(&[("raw_visits_retention_days", "1")]).await;
    let html = privacy_page(&one).await;
    assert_eq!(kept(&html), expected("1 day"));
    assert!(paragraph(&html, "raw-visits-retention").starts_with("Raw visits older than 1 day "));
}

#[rocket::async_test]
async fn the_page_names_the_trusted_header() {
    let peer = privacy_page(&TestApp::spawn().await).await;
    let text = paragraph(&peer, "address-source");
    assert!(text.starts_with("None: the address is that of the network connection itself"));
    assert!(text.contains("TRUSTED_PROXY_HOPS is 0"), "{text}");

    let header = privacy_page(&TestApp::spawn_with(&[("ip_header", "X-Real-IP")]).await).await;
    assert!(
        paragraph(&header, "address-source").starts_with("The header X-Real-IP (ROCKET_IP_HEADER)")
    );

    let forwarded = privacy_page(
        &TestApp::spawn_with(&[("ip_header", "X-Real-IP"), ("trusted_proxy_hops", "2")]).await,
    )
    .await;
    let text = paragraph(&forwarded, "address-source");
    assert!(
        text.starts_with("X-Forwarded-For, counted from the right: entry number 2 from its end (TRUSTED_PROXY_HOPS=2)"),
        "{text}"
    );
    for html in [&peer, &header, &forwarded] {
        assert!(html.contains(r#"<a href="/api/whoami">/api/whoami</a>"#));
    }
}

#[rocket::async_test]
async fn every_text_is_escaped_and_reading_it_records_nothing() {
    let app = TestApp::spawn_with(&[
        ("user_name", "<script>alert(1)</script> & co"),
        ("user_url", "https://example.org/?a=1&b=\"2\""),
        ("instance_name", "<b>replica</b>"),
    ])
    .await;
    let html = privacy_page(&app).await;
    assert!(!html.contains("<script>alert"), "the name is escaped");
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; co"));
    assert!(html.contains("&#60;b&#62;replica&#60;/b&#62;"));
    assert!(!html.contains("<b>replica"));
    assert!(
        html.contains("a=1&#38;b=&#34;2&#34;"),
        "the link is escaped too"
    );
    assert!(
        html.contains(r#"href="/privacy""#),
        "the footer links the page"
    );
    assert!(html.contains(r#"Made by <a href="https://example.org/?a=1&#38;b=&#34;2&#34;">"#));
    assert_eq!(
        app.totals().await,
        (0, 0, 0),
        "reading /privacy is no visit"
    );
}

#[rocket::async_test]
async fn every_footer_links_the_privacy_page() {
    let app = TestApp::spawn().await;
    let dashboard = app.visit("192.0.2.1", FIREFOX).await;
    let html = dashboard.into_string().await.unwrap();
    assert!(html.contains(r#"<a href="/privacy" class="privacy-link">"#));
    assert!(
        !html.contains("Made by"),
        "with USER_NAME unset the footer names nobody"
    );
    let missing = app.client.get("/?range=2w").dispatch().await;
    assert_eq!(missing.status(), Status::BadRequest);
    assert!(missing
        .into_string()
        .await
        .unwrap()
        .contains(r#"<a href="/privacy" class="privacy-link">"#));
}

/// It says where the visitor hash's key is kept (not in the database) and
/// what the proxies of each deployment keep.
#[rocket::async_test]
async fn it_names_where_the_key_lives_and_what_the_proxies_keep() {
    let app = TestApp::spawn().await;
    let html = privacy_page(&app).await;
    assert!(html.contains("<code>VISITOR_SECRET_FILE</code>), not in the database"));
    assert!(html.contains(r#"id="proxies-kept""#));
    assert!(html.contains("No address, no query string"));
    assert!(html.contains("<code>access_logs</code>"));
    let given = TestApp::spawn_with(&[("visitor_secret", "a-secret-of-the-operator")]).await;
    assert!(privacy_page(&given)
        .await
        .contains("Its key is the operator's <code>VISITOR_SECRET</code>."));
}

/// An earlier release's key that could not move into a file (no room for
/// it) stays in the database, and the page says so.
#[rocket::async_test]
async fn it_says_when_the_key_is_still_in_the_database() {
    let database = fresh_database().await;
    let pool = PgPool::connect(&database.url).await.unwrap();
    MIGRATOR.run(&pool).await.unwrap();
    sqlx::query("INSERT INTO app_settings (name, value) VALUES ('visitor_secret', $1)")
        .bind(vec![7u8; 32])
        .execute(&pool)
        .await
        .unwrap();
    let app = TestApp::spawn_on(
        &database.url,
        &[("visitor_secret_file", "/proc/no-room-for-it/visitor-secret")],
    )
    .await;
    let html = privacy_page(&app).await;
    assert!(
        html.contains("it is still there, so a copy of the database holds it too"),
        "{html}"
    );
    assert!(!html.contains("not in the database"), "{html}");
}
