//! /healthz, /readyz and /version.

use std::time::Duration;

use rocket::http::{ContentType, Status};
use serde_json::{json, Value};

use crate::helpers::{fresh_database, http, AppProcess, TestApp};

#[rocket::async_test]
async fn liveness_is_a_constant_ok() {
    let app = TestApp::spawn().await;
    let response = app.client.get("/healthz").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.into_json::<Value>().await,
        Some(json!({"status": "ok"}))
    );
}

#[rocket::async_test]
async fn ready_once_migrated() {
    let app = TestApp::spawn().await;
    let response = app.client.get("/readyz").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.into_json::<Value>().await,
        Some(json!({"status": "ready"}))
    );
}

#[rocket::async_test]
async fn not_ready_while_migrations_are_missing() {
    let app = TestApp::spawn_with(&[("migrate_on_start", "false")]).await;
    let response = app.client.get("/readyz").dispatch().await;
    assert_eq!(response.status(), Status::ServiceUnavailable);
    let body: Value = response.into_json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert!(
        body["reason"].as_str().unwrap().contains("migrations"),
        "{body}"
    );
}

#[rocket::async_test]
async fn version_reports_version_txt_and_the_build() {
    let app = TestApp::spawn().await;
    let response = app.client.get("/version").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let body: Value = response.into_json().await.unwrap();

    let base = include_str!("../../version.txt").trim();
    // The test binary and the app are built in one cargo run, with one BUILD_NUMBER.
    match option_env!("BUILD_NUMBER")
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        Some(build) => {
            assert_eq!(body["version"], format!("{base}+{build}"));
            assert_eq!(body["build"], build.parse::<u64>().unwrap());
        }
        None => {
            assert_eq!(body["version"], base);
            assert_eq!(body["build"], Value::Null);
        }
    }
}

#[test]
fn a_build_number_set_at_run_time_is_ignored() {
    let database = rocket::execute(fresh_database());
    let database_url = database.url.clone();
    let mut app = AppProcess::start(&[("DATABASE_URL", &database_url), ("BUILD_NUMBER", "4242")]);
    app.wait_ready(Duration::from_secs(60));
    let body: Value = http()
        .get(&app.url("/version"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert!(
        !body["version"].as_str().unwrap().contains("4242"),
        "{body}"
    );
    assert_ne!(body["build"], json!(4242));
}

#[rocket::async_test]
async fn a_replica_started_before_migrate_serves_once_migrations_ran() {
    let database = fresh_database().await;
    let database_url = database.url.clone();
    let app = TestApp::spawn_on(&database_url, &[("migrate_on_start", "false")]).await;
    let before = app.visit("192.0.2.1", crate::helpers::FIREFOX).await;
    assert_eq!(
        before.status(),
        Status::ServiceUnavailable,
        "a friendly 503, not a crash"
    );

    visitors::infra::database::migrate(&app.db).await.unwrap();
    assert_eq!(
        app.client.get("/readyz").dispatch().await.status(),
        Status::Ok
    );
    assert_eq!(
        app.visit("192.0.2.1", crate::helpers::FIREFOX)
            .await
            .status(),
        Status::Ok
    );
}
