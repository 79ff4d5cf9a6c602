//! No raw IP address is ever written to the database.

use rocket::http::Header;

use crate::helpers::{every_stored_row, TestApp, FIREFOX};

#[rocket::async_test]
async fn no_table_holds_a_client_address() {
    let app = TestApp::spawn_with(&[("ip_header", "X-Real-IP")]).await;
    app.visit("203.0.113.77", FIREFOX).await;
    app.visit("2001:db8::77", FIREFOX).await;
    app.client
        .get("/")
        .remote("192.0.2.99:1".parse().unwrap())
        .header(Header::new("X-Real-IP", "198.51.100.23"))
        .header(Header::new("Referer", "https://news.example.com/item"))
        .dispatch()
        .await;

    let dump = every_stored_row(&app.db).await;
    assert!(
        dump.contains("news.example.com"),
        "the dump has the stored visits"
    );
    // Text forms, and the bytes as PostgreSQL prints bytea (hex).
    for needle in [
        "203.0.113.77",
        "2001:db8::77",
        "198.51.100.23",
        "192.0.2.99",
        "cb00714d",
        "c6336417",
        "20010db8",
    ] {
        assert!(!dump.contains(needle), "{needle} found in the database");
    }
}
