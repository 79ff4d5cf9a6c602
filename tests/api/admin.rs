//! The health switch: POST /admin/fail-health with the admin token.

use std::time::{Duration, Instant};

use rocket::http::{Header, Status};

use crate::helpers::{fresh_database, http, AppProcess, TestApp};

const TOKEN: &str = "a-long-enough-admin-token";

#[rocket::async_test]
async fn without_a_token_configured_the_route_does_not_exist() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post("/admin/fail-health")
        .header(Header::new("Authorization", format!("Bearer {TOKEN}")))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::NotFound);
    assert_eq!(
        app.client.get("/healthz").dispatch().await.status(),
        Status::Ok
    );
}

#[rocket::async_test]
async fn only_the_right_token_fails_health() {
    let app =
        TestApp::spawn_with(&[("admin_token", TOKEN), ("health_fail_exit_after", "3600")]).await;
    let attempt = |authorization: Option<String>| {
        let mut request = app.client.post("/admin/fail-health");
        if let Some(value) = authorization {
            request = request.header(Header::new("Authorization", value));
        }
        request.dispatch()
    };
    for wrong in [
        None,
        Some("Bearer nope".into()),
        Some(format!("Bearer {TOKEN}x")),
        Some(format!("Basic {TOKEN}")),
        Some(TOKEN.to_string()),
    ] {
        assert_eq!(
            attempt(wrong.clone()).await.status(),
            Status::Unauthorized,
            "{wrong:?}"
        );
        assert_eq!(
            app.client.get("/healthz").dispatch().await.status(),
            Status::Ok
        );
    }
    let response = attempt(Some(format!("Bearer {TOKEN}"))).await;
    assert_eq!(response.status(), Status::Ok);
    let healthz = app.client.get("/healthz").dispatch().await;
    assert_eq!(healthz.status(), Status::ServiceUnavailable);
    assert_eq!(
        healthz.into_string().await.unwrap(),
        r#"{"status":"failing"}"#
    );
    assert_eq!(
        app.client.get("/readyz").dispatch().await.status(),
        Status::Ok,
        "readiness is about the database"
    );
}

#[test]
fn a_failed_health_ends_the_process_with_a_non_zero_code_in_time() {
    let database = rocket::execute(fresh_database());
    let database_url = database.url.clone();
    let mut app = AppProcess::start(&[
        ("DATABASE_URL", &database_url),
        ("ADMIN_TOKEN", TOKEN),
        ("HEALTH_FAIL_EXIT_AFTER", "2"),
    ]);
    app.wait_ready(Duration::from_secs(60));
    let response = http()
        .post(&app.url("/admin/fail-health"))
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .send_empty()
        .unwrap();
    assert_eq!(response.status(), 200);
    let failed = Instant::now();
    let status = loop {
        if let Some(status) = app.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            failed.elapsed() < Duration::from_secs(15),
            "still running long after HEALTH_FAIL_EXIT_AFTER"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = failed.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "exited before its time: {took:?}"
    );
    assert_eq!(
        status.code(),
        Some(4),
        "exit code 4 tells the supervisor health failed"
    );
    eprintln!("process exited {took:?} after its health was failed");
}
