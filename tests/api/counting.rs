//! Exact counting under concurrency, bots, and which address identifies a visitor.

use std::collections::BTreeSet;

use futures::future::join_all;
use rocket::http::{Header, Status};

use crate::helpers::{page_number, your_visits, TestApp, FIREFOX, GOOGLEBOT};

#[rocket::async_test]
async fn five_hundred_concurrent_first_visits_of_one_visitor_count_exactly() {
    let app = TestApp::spawn().await;
    let responses = join_all((0..500).map(|_| app.visit("198.51.100.7", FIREFOX))).await;

    let mut seen = BTreeSet::new();
    for response in responses {
        assert_eq!(response.status(), Status::Ok);
        seen.insert(your_visits(&response.into_string().await.unwrap()));
    }
    // Every visit got its own count: none lost, none counted twice.
    assert_eq!(seen, (1..=500).collect::<BTreeSet<_>>());

    let (visits, bot_visits, unique) = app.totals().await;
    assert_eq!((visits, bot_visits, unique), (500, 0, 1));
    let stored: i64 = sqlx::query_scalar("SELECT visits FROM visitors")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 500);
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM visit_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(events, 500);
}

#[rocket::async_test]
async fn concurrent_new_visitors_are_each_counted_once() {
    let app = TestApp::spawn().await;
    let ips: Vec<String> = (0..200)
        .map(|i| format!("10.1.{}.{}", i / 250, i % 250 + 1))
        .collect();
    let responses = join_all(ips.iter().map(|ip| app.visit(ip, FIREFOX))).await;
    assert!(responses.iter().all(|r| r.status() == Status::Ok));
    assert_eq!(app.totals().await, (200, 0, 200));
}

#[rocket::async_test]
async fn the_page_shows_the_visitor_and_the_totals() {
    let app = TestApp::spawn().await;
    app.visit("192.0.2.1", FIREFOX).await;
    app.visit("192.0.2.2", FIREFOX).await;
    app.visit("192.0.2.1", FIREFOX).await;
    let html = app
        .visit("192.0.2.1", FIREFOX)
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(your_visits(&html), 3);
    assert_eq!(page_number(&html, "unique-visitors"), 2);
    assert_eq!(page_number(&html, "visits"), 4);
    assert!(
        html.contains("test-instance"),
        "the serving instance is named"
    );
    assert!(html.contains("Firefox"), "the visitor's browser is shown");
}

#[rocket::async_test]
async fn another_browser_on_the_same_address_is_another_visitor() {
    let app = TestApp::spawn().await;
    app.visit("192.0.2.1", FIREFOX).await;
    app.visit(
        "192.0.2.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0.0.0 Safari/537.36",
    )
    .await;
    assert_eq!(app.totals().await, (2, 0, 2));
}

#[rocket::async_test]
async fn crawlers_and_empty_agents_are_never_unique_visitors() {
    let app = TestApp::spawn().await;
    for ip in ["192.0.2.10", "192.0.2.11"] {
        assert_eq!(app.visit(ip, GOOGLEBOT).await.status(), Status::Ok);
        assert_eq!(app.visit(ip, "").await.status(), Status::Ok);
    }
    let no_agent = app.client.get("/").dispatch().await;
    assert_eq!(no_agent.status(), Status::Ok);
    assert_eq!(app.totals().await, (0, 5, 0));

    let html = app
        .visit("192.0.2.12", FIREFOX)
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(page_number(&html, "unique-visitors"), 1);
    assert_eq!(page_number(&html, "visits"), 1);
    let bots: i64 = sqlx::query_scalar("SELECT count(*) FROM visit_events WHERE is_bot")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(bots, 5, "bot visits are still stored, marked as bots");
}

/// Same peer, different X-Real-IP values: how many visitors does the app see?
async fn visitors_seen_behind_one_peer(app: &TestApp, header_values: &[&str]) -> i64 {
    for value in header_values {
        let response = app
            .client
            .get("/")
            .remote("192.0.2.200:50000".parse().unwrap())
            .header(Header::new("User-Agent", FIREFOX))
            .header(Header::new("X-Real-IP", value.to_string()))
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::Ok);
    }
    app.totals().await.2
}

#[rocket::async_test]
async fn forwarded_headers_are_ignored_by_default() {
    let app = TestApp::spawn().await;
    assert_eq!(
        visitors_seen_behind_one_peer(&app, &["203.0.113.1", "203.0.113.2"]).await,
        1
    );
}

#[rocket::async_test]
async fn a_trusted_ip_header_identifies_visitors() {
    let app = TestApp::spawn_with(&[("ip_header", "X-Real-IP")]).await;
    assert_eq!(
        visitors_seen_behind_one_peer(&app, &["203.0.113.1", "203.0.113.2"]).await,
        2
    );
}

#[rocket::async_test]
async fn a_malformed_trusted_header_falls_back_to_the_peer() {
    let app = TestApp::spawn_with(&[("ip_header", "X-Real-IP")]).await;
    let seen = visitors_seen_behind_one_peer(&app, &["not-an-ip", "999.1.1.1", "<script>"]).await;
    assert_eq!(seen, 1, "all three fall back to the one peer address");
}
