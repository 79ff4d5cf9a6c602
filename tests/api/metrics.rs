//! /metrics: what monitoring reads, and what it must never reveal.

use std::time::Instant;

use rocket::http::{ContentType, Status};

use crate::helpers::{TestApp, FIREFOX, GOOGLEBOT};

/// The value of the sample `name{labels}` (labels as Prometheus prints them).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        line.strip_prefix(series)
            .and_then(|rest| rest.trim().parse().ok())
    })
}

async fn scrape(app: &TestApp) -> String {
    app.scrape_metrics().await.2
}

/// Every `visitors_…` metric the documentation names.
fn documented_metrics() -> Vec<String> {
    let docs = [
        include_str!("../../README.md"),
        include_str!("../../docs/operations.md"),
        include_str!("../../docs/architecture.md"),
    ];
    let mut names: Vec<String> = docs.iter().flat_map(|doc| metric_names(doc)).collect();
    names.sort();
    names.dedup();
    names
}

#[rocket::async_test]
async fn requests_visits_and_the_pool_are_exported_without_identities() {
    let app = TestApp::spawn().await;
    app.visit("192.0.2.61", FIREFOX).await;
    app.visit("192.0.2.61", FIREFOX).await;
    app.visit("192.0.2.62", GOOGLEBOT).await;
    app.client.get("/wp-admin/secret-path").dispatch().await;

    let (status, content_type, text) = app.scrape_metrics().await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        content_type.map(|c| c.to_string()),
        Some(
            ContentType::new("text", "plain")
                .with_params([("version", "0.0.4"), ("charset", "utf-8")])
                .to_string()
        )
    );

    assert_eq!(
        sample(&text, r#"visitors_visits_recorded_total{kind="human"}"#),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, r#"visitors_visits_recorded_total{kind="bot"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "visitors_new_unique_visitors_total"),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"visitors_http_requests_total{method="GET",route="/?<params..>",status="200"}"#
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"visitors_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        Some(1.0)
    );
    assert!(sample(
        &text,
        r#"visitors_http_request_duration_seconds_count{method="GET",route="/?<params..>",status="200"}"#
    )
    .is_some());
    assert!(sample(&text, "visitors_db_pool_connections").unwrap() >= 1.0);
    assert!(sample(&text, "visitors_db_pool_idle_connections").is_some());
    assert_eq!(sample(&text, "visitors_database_errors_total"), Some(0.0));
    assert!(
        text.contains("visitors_build_info{build=")
            && text.contains(&format!(
                "version=\"{}",
                include_str!("../../version.txt").trim()
            ))
    );

    assert!(
        !text.contains("secret-path"),
        "raw paths never become labels"
    );
    assert!(!text.contains("192.0.2."), "no client address");
    let stored_key: Vec<u8> = sqlx::query_scalar("SELECT visitor_key FROM visitors LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let hex: String = stored_key.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&hex[..16]), "no visitor key");

    let after = scrape(&app).await;
    assert_eq!(
        sample(&after, r#"visitors_visits_recorded_total{kind="human"}"#),
        Some(2.0),
        "scraping records no visit"
    );
}

#[rocket::async_test]
async fn every_metric_the_docs_name_is_exported() {
    let app = TestApp::spawn().await;
    app.visit("192.0.2.1", FIREFOX).await;
    let text = scrape(&app).await;
    let documented = documented_metrics();
    assert!(documented.len() >= 8, "{documented:?}");
    for name in documented {
        assert!(
            text.lines().any(|line| line.starts_with(&name)),
            "{name} is documented but not exported"
        );
    }
}

/// The `visitors_…` metric names an expression reads.
fn metric_names(expression: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expression;
    while let Some(start) = rest.find("visitors_") {
        let name: String = rest[start..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        rest = &rest[start + name.len()..];
        names.push(name);
    }
    names
}

#[rocket::async_test]
async fn the_grafana_dashboard_reads_only_exported_metrics() {
    let app = TestApp::spawn().await;
    app.visit("192.0.2.1", FIREFOX).await;
    let text = scrape(&app).await;
    let exported: Vec<&str> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split(['{', ' ']).next())
        .collect();

    let dashboard: serde_json::Value = serde_json::from_str(include_str!(
        "../../monitoring/grafana/dashboards/visitors.json"
    ))
    .expect("the dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    let titles: Vec<&str> = panels
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    for topic in ["Requests", "Latency", "Visits", "Errors", "Replicas"] {
        assert!(
            titles.iter().any(|t| t.contains(topic)),
            "a {topic} panel: {titles:?}"
        );
    }
    let expressions: Vec<&str> = panels
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap())
        .map(|t| t["expr"].as_str().unwrap())
        .collect();
    let mut checked = 0;
    for expression in expressions {
        for name in metric_names(expression) {
            assert!(
                exported.contains(&name.as_str()),
                "{name} (in {expression:?}) is not exported"
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "the dashboard reads the app's metrics");
}

/// The public port has no metrics under any spelling of their path: they
/// are on their own listener.
#[rocket::async_test]
async fn the_public_port_serves_no_metrics_whatever_the_spelling() {
    let app = TestApp::spawn().await;
    for path in [
        "/metrics",
        "/metrics/",
        "//metrics",
        "/%6Detrics",
        "/METRICS",
        "/./metrics",
    ] {
        let response = app.client.get(path).dispatch().await;
        assert_eq!(response.status(), Status::NotFound, "{path}");
        let body = response.into_string().await.unwrap_or_default();
        assert!(!body.contains("visitors_"), "{path}: {body}");
    }
}

/// Probes from every load balancer and nginx's retries cost the database
/// about one readiness check a second, not one each.
#[rocket::async_test]
async fn readiness_is_checked_about_once_a_second_however_often_it_is_probed() {
    let app = TestApp::spawn().await;
    let started = Instant::now();
    for _ in 0..50 {
        assert_eq!(
            app.client.get("/readyz").dispatch().await.status(),
            Status::Ok
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    let text = scrape(&app).await;
    let checks = sample(&text, "visitors_readiness_checks_total{result=\"ready\"}").unwrap();
    assert!(
        (1.0..=elapsed.ceil() + 1.0).contains(&checks),
        "{checks} checks for 50 probes in {elapsed:.2} s"
    );
}
