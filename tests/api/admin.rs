//! The health switch: POST /admin/fail-health with the admin token.

use std::time::{Duration, Instant};

use rocket::{
    http::{ContentType, Header, Status},
    local::asynchronous::LocalResponse,
};

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
    // The scheme is case-insensitive (RFC 9110, 11.1), the token is not.
    let response = attempt(Some(format!("bearer {TOKEN}"))).await;
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

/// The API's errors are JSON, whatever refused the request: a guard, the
/// router or the handler; a 401 says which scheme it wants.
#[rocket::async_test]
async fn api_errors_answer_json_and_a_401_names_its_scheme() {
    let app = TestApp::spawn_with(&[("admin_token", TOKEN)]).await;

    let unauthorized = app.client.get("/api/sites").dispatch().await;
    assert_eq!(unauthorized.status(), Status::Unauthorized);
    assert_eq!(
        unauthorized.headers().get_one("WWW-Authenticate"),
        Some("Bearer")
    );
    assert_eq!(json_error(unauthorized).await, "unauthorized");
    let wrong = app
        .client
        .post("/admin/fail-health")
        .header(Header::new("Authorization", "Bearer wrong"))
        .dispatch()
        .await;
    assert_eq!(wrong.status(), Status::Unauthorized);
    assert_eq!(wrong.headers().get_one("WWW-Authenticate"), Some("Bearer"));

    let missing = app.client.get("/api/nothing-here").dispatch().await;
    assert_eq!(missing.status(), Status::NotFound);
    assert_eq!(json_error(missing).await, "not found");

    let form = app
        .client
        .post("/api/sites")
        .header(Header::new("Authorization", format!("Bearer {TOKEN}")))
        .header(ContentType::Form)
        .body("domain=blog.example")
        .dispatch()
        .await;
    assert_eq!(form.status(), Status::UnsupportedMediaType);
    assert!(json_error(form).await.contains("application/json"));
    assert_eq!(
        app.client
            .get("/api/sites")
            .header(Header::new("Authorization", format!("Bearer {TOKEN}")))
            .dispatch()
            .await
            .into_string()
            .await
            .unwrap(),
        "[]",
        "nothing of the refused request was stored"
    );

    // Pages keep their HTML error pages.
    let page = app.client.get("/nothing-here").dispatch().await;
    assert_eq!(page.content_type(), Some(ContentType::HTML));
}

/// The `error` text of a JSON error answer.
async fn json_error(response: LocalResponse<'_>) -> String {
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let body: serde_json::Value = response.into_json().await.expect("a JSON body");
    body["error"].as_str().expect("an error text").to_owned()
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
