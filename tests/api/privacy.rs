//! No raw IP address is ever written to the database.

use rocket::http::Header;

use crate::helpers::{TestApp, FIREFOX};

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

    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(tables.len() >= 4, "found tables {tables:?}");

    let mut dump = String::new();
    for table in &tables {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {table} t"))
            .fetch_all(&app.db)
            .await
            .unwrap();
        dump.extend(rows.into_iter().map(|row| row + "\n"));
    }
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
