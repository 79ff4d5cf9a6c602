//! Hostile and malformed input: escaped, and never a 5xx.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use rocket::http::{ContentType, Header, Status};

use crate::helpers::{fresh_database, AppProcess, TestApp, FIREFOX};

/// uap-core's CFNetwork rule copies this product name into the browser family,
/// which the page shows.
const HOSTILE_AGENT: &str = "<img src=x onerror=alert(1)>/1.2 CFNetwork/1.0 Darwin/1";

#[rocket::async_test]
async fn request_text_on_the_page_is_escaped() {
    let app = TestApp::spawn().await;
    let html = app
        .visit("192.0.2.1", HOSTILE_AGENT)
        .await
        .into_string()
        .await
        .unwrap();
    assert!(
        !html.contains("<img src=x"),
        "raw markup from the User-Agent reached the page"
    );
    assert!(
        html.contains("&#60;img src=x") || html.contains("&lt;img src=x"),
        "the family is shown, escaped"
    );

    let html = app
        .visit("192.0.2.2", "<script>alert(1)</script>")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
}

#[rocket::async_test]
async fn html_responses_carry_a_strict_policy() {
    let app = TestApp::spawn().await;
    for response in [
        app.visit("192.0.2.1", FIREFOX).await,
        app.client.get("/missing").dispatch().await,
    ] {
        let csp = response
            .headers()
            .get_one("Content-Security-Policy")
            .expect("a CSP");
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(
            !csp.contains("script-src"),
            "no script is allowed at all: {csp}"
        );
        assert_eq!(
            response.headers().get_one("X-Content-Type-Options"),
            Some("nosniff")
        );
        assert!(response.headers().get_one("Referrer-Policy").is_some());
        assert_eq!(
            response.headers().get_one("X-Served-By"),
            Some("test-instance")
        );
    }
}

#[rocket::async_test]
async fn unknown_paths_and_methods_get_a_4xx_page() {
    let app = TestApp::spawn().await;
    let missing = app.client.get("/wp-admin/setup.php").dispatch().await;
    assert_eq!(missing.status(), Status::NotFound);
    assert_eq!(missing.content_type(), Some(ContentType::HTML));
    assert!(missing
        .into_string()
        .await
        .unwrap()
        .contains("Page not found"));

    for response in [
        app.client.post("/").dispatch().await,
        app.client.delete("/version").dispatch().await,
        app.client.put("/healthz").dispatch().await,
    ] {
        assert!(
            matches!(response.status().code, 404 | 405),
            "{}",
            response.status()
        );
    }
    let (visits, bots, _) = app.totals().await;
    assert_eq!(
        visits + bots,
        0,
        "no visit is recorded for a refused request"
    );
}

#[rocket::async_test]
async fn the_stylesheet_is_served_and_cacheable() {
    let app = TestApp::spawn().await;
    let css = app.client.get("/static/style.css?v=1").dispatch().await;
    assert_eq!(css.status(), Status::Ok);
    assert_eq!(css.content_type(), Some(ContentType::CSS));
    assert!(css
        .headers()
        .get_one("Cache-Control")
        .unwrap()
        .contains("max-age=31536000"));
    assert_eq!(
        app.client
            .get("/static/../Cargo.toml")
            .dispatch()
            .await
            .status(),
        Status::NotFound
    );
    assert_eq!(
        app.client
            .get("/static/nothing.css")
            .dispatch()
            .await
            .status(),
        Status::NotFound
    );
}

#[rocket::async_test]
async fn a_very_long_user_agent_is_a_normal_visit() {
    let app = TestApp::spawn().await;
    let long = format!("Mozilla/5.0 {}", "x".repeat(16 * 1024));
    let response = app
        .client
        .get("/")
        .header(Header::new("User-Agent", long))
        .header(Header::new(
            "Referer",
            format!("https://{}.example/", "r".repeat(5000)),
        ))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
}

/// Sends raw bytes, as a broken or hostile client would, and returns the status.
fn raw_request(port: u16, request: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let head = String::from_utf8_lossy(&response[..response.len().min(12)]).into_owned();
    head.get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {head:?}"))
}

#[test]
fn malformed_headers_over_the_wire_never_give_a_5xx() {
    let database = rocket::execute(fresh_database());
    let database_url = database.url.clone();
    let mut app = AppProcess::start(&[
        ("DATABASE_URL", &database_url),
        ("ROCKET_IP_HEADER", "X-Real-IP"),
    ]);
    app.wait_ready(Duration::from_secs(60));

    let long_agent = "A".repeat(16 * 1024);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "non-UTF-8 User-Agent",
            b"User-Agent: Mozilla/5.0 \xff\xfe\xc3(\r\n".to_vec(),
        ),
        (
            "non-UTF-8 X-Real-IP",
            b"X-Real-IP: \xff\xff\xff\r\nUser-Agent: Firefox\r\n".to_vec(),
        ),
        (
            "16 KiB User-Agent",
            format!("User-Agent: {long_agent}\r\n").into_bytes(),
        ),
        (
            "16 KiB X-Real-IP",
            format!("X-Real-IP: {long_agent}\r\n").into_bytes(),
        ),
        (
            "a list in X-Real-IP",
            b"X-Real-IP: 1.2.3.4, 5.6.7.8\r\n".to_vec(),
        ),
        (
            "two User-Agents",
            b"User-Agent: a\r\nUser-Agent: b\r\n".to_vec(),
        ),
    ];
    for (case, header) in cases {
        let mut request = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n".to_vec();
        request.extend_from_slice(&header);
        request.extend_from_slice(b"\r\n");
        let status = raw_request(app.port, &request);
        assert!(status < 500, "{case}: got {status}");
    }
    let status = raw_request(
        app.port,
        b"GET /%ff%fe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 404, "a non-UTF-8 path is a 404");
}
