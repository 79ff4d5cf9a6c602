//! Logs and the proxy diagnostic: what an operator reads, never who visited.

use std::time::{Duration, Instant};

use rocket::http::{Header, Status};
use serde_json::Value;

use crate::helpers::{country_database, fresh_database, http, AppProcess, TestApp, FIREFOX};

#[test]
fn json_logs_have_one_line_per_request_and_no_client_address() {
    let database = rocket::execute(fresh_database());
    // The address is looked up for its country (203.0.113.0/24 is France in
    // this database), and is in the logs no more for that.
    let countries = country_database();
    let database_url = database.url.clone();
    let log = std::env::temp_dir().join(format!(
        "visitors-log-{}.jsonl",
        uuid::Uuid::new_v4().simple()
    ));
    let mut app = AppProcess::start_logged(
        "0.0.0.0",
        &[
            ("DATABASE_URL", &database_url),
            ("LOG_FORMAT", "json"),
            ("ROCKET_IP_HEADER", "X-Real-IP"),
            ("INSTANCE_NAME", "replica-log"),
            ("GEOIP_DB", countries.to_str().unwrap()),
        ],
        &log,
    );
    app.wait_ready(Duration::from_secs(60));
    let agent = http();
    let visit = agent
        .get(&app.url("/?range=7d"))
        .header("X-Real-IP", "203.0.113.99")
        .header("User-Agent", FIREFOX);
    assert_eq!(visit.call().unwrap().status(), 200);
    assert_eq!(
        agent
            .get(&app.url("/no/such/page"))
            .header("X-Real-IP", "203.0.113.99")
            .call()
            .unwrap()
            .status(),
        404
    );
    // The line of the last request is written after its response: wait for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains("\"status\":404")
    {
        assert!(Instant::now() < deadline, "no log line for the 404");
        std::thread::sleep(Duration::from_millis(10));
    }
    app.child.kill().unwrap();
    app.child.wait().unwrap();

    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let requests: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    let dashboard = requests
        .iter()
        .find(|l| l["route"] == "/?<params..>")
        .expect("a line for the dashboard request");
    assert_eq!(dashboard["status"], 200);
    assert_eq!(dashboard["instance"], "replica-log");
    assert!(dashboard["latency_ms"].as_f64().unwrap() > 0.0);
    assert!(requests
        .iter()
        .any(|l| l["route"] == "unmatched" && l["status"] == 404));
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "WARN" && l["message"].as_str().unwrap().contains("X-Real-IP")),
        "trusting a header on a public address is warned about"
    );
    assert!(
        lines.iter().any(|l| l["level"] == "WARN"
            && l["message"]
                .as_str()
                .unwrap()
                .contains("PUBLIC_URL is http://localhost:8080")),
        "the default PUBLIC_URL on a public address is warned about"
    );

    assert!(
        !text.contains("203.0.113.99"),
        "no client address in the logs"
    );
    let (key, country): (Vec<u8>, String) = rocket::execute(async {
        let db = sqlx::PgPool::connect(&database_url).await.unwrap();
        sqlx::query_as("SELECT visitor_key, client[4] FROM visitors")
            .fetch_one(&db)
            .await
            .unwrap()
    });
    std::fs::remove_file(countries).unwrap();
    assert_eq!(country, "FR", "the visit's country, from its address");
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&hex[..16]), "no visitor key in the logs");
}

/// GET /api/whoami from peer 10.0.0.2 with X-Real-IP 203.0.113.7.
async fn whoami(app: &TestApp) -> rocket::local::asynchronous::LocalResponse<'_> {
    app.client
        .get("/api/whoami")
        .remote("10.0.0.2:5000".parse().unwrap())
        .header(Header::new("X-Real-IP", "203.0.113.7"))
        .dispatch()
        .await
}

#[rocket::async_test]
async fn whoami_shows_callers_the_address_the_server_sees() {
    let direct = TestApp::spawn().await;
    let response = whoami(&direct).await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.headers().get_one("Cache-Control"),
        Some("no-store")
    );
    let seen: Value = response.into_json().await.unwrap();
    assert_eq!(
        seen["client_address"], "10.0.0.2",
        "no header is trusted by default"
    );
    assert_eq!(seen["from_header"], false);
    assert_eq!(seen["trusted_header"], Value::Null);

    let proxied = TestApp::spawn_with(&[("ip_header", "X-Real-IP")]).await;
    let seen: Value = whoami(&proxied).await.into_json().await.unwrap();
    assert_eq!(seen["client_address"], "203.0.113.7");
    assert_eq!(seen["peer_address"], "10.0.0.2");
    assert_eq!(seen["trusted_header"], "X-Real-IP");
    assert_eq!(seen["from_header"], true);
    assert_eq!(proxied.totals().await, (0, 0, 0), "asking records no visit");
}

/// Behind one appending proxy (an AWS load balancer), the client is the
/// rightmost `X-Forwarded-For` entry; whatever the client put left of it is
/// ignored, so a spoofed entry neither changes the address nor makes a new
/// visitor.
#[rocket::async_test]
async fn behind_one_proxy_the_rightmost_forwarded_address_counts() {
    let app = TestApp::spawn_with(&[("trusted_proxy_hops", "1")]).await;
    let from = |forwarded: &'static str| {
        app.client
            .get("/api/whoami")
            .remote("10.0.0.2:40000".parse().unwrap())
            .header(Header::new("X-Forwarded-For", forwarded))
    };
    let seen: Value = from("6.6.6.6, 203.0.113.7")
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(seen["client_address"], "203.0.113.7");
    assert_eq!(seen["trusted_header"], "X-Forwarded-For");
    for spoofed in [
        "6.6.6.6, 203.0.113.7",
        "1.2.3.4, 203.0.113.7",
        "203.0.113.7",
    ] {
        let page = app
            .client
            .get("/")
            .remote("10.0.0.2:40000".parse().unwrap())
            .header(Header::new("X-Forwarded-For", spoofed))
            .header(Header::new("User-Agent", FIREFOX))
            .dispatch()
            .await;
        assert_eq!(page.status(), Status::Ok);
    }
    let (visits, _, unique) = app.totals().await;
    assert_eq!(
        (visits, unique),
        (3, 1),
        "one visitor, whatever the left entries said"
    );
}

/// A header sent as several lines is one list (RFC 9110, 5.3): behind two
/// proxies where the outer one started a line of its own, the client is still
/// the second entry from the right of all of them, not of the last line.
#[rocket::async_test]
async fn forwarded_for_on_several_lines_is_read_as_one_list() {
    let app = TestApp::spawn_with(&[("trusted_proxy_hops", "2")]).await;
    let seen: Value = app
        .client
        .get("/api/whoami")
        .remote("10.0.0.2:40000".parse().unwrap())
        .header(Header::new("X-Forwarded-For", "6.6.6.6, 198.51.100.9"))
        .header(Header::new("X-Forwarded-For", "10.1.1.1"))
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(seen["client_address"], "198.51.100.9");
    assert_eq!(seen["from_header"], true);
}
