//! API keys: made on the account page and shown once, acting on
//! `/api/sites*` as their owner would, on the owner's sites and with the
//! owner's roles, and refused at once on every replica once revoked.

use rocket::{
    http::{ContentType, Header, Status},
    local::asynchronous::Client,
};
use serde_json::Value;
use visitors::sites::{domain::Domain, model::Visibility, store as site_store};

use crate::{
    accounts::{add_account, count, location, other_browser, page, sign_in, submit, PASSWORD},
    helpers::{every_stored_row, TestApp},
    site_settings::{add_site, snippet},
};

/// A call of the API with `key`: (status, JSON body or null).
async fn call(
    client: &Client,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&str>,
) -> (Status, Value) {
    let request = match method {
        "GET" => client.get(path.to_owned()),
        "POST" => client.post(path.to_owned()),
        "DELETE" => client.delete(path.to_owned()),
        _ => unreachable!("a method of the API"),
    };
    let mut request = request.header(Header::new("Authorization", format!("Bearer {key}")));
    if let Some(body) = body {
        request = request.header(ContentType::JSON).body(body);
    }
    let response = request.dispatch().await;
    let status = response.status();
    let text = response.into_string().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn domains(listed: &Value) -> Vec<&str> {
    listed
        .as_array()
        .expect("a list of sites")
        .iter()
        .map(|site| site["domain"].as_str().unwrap())
        .collect()
}

#[rocket::async_test]
async fn an_api_key_acts_as_its_owner_and_is_refused_at_once_when_revoked() {
    let app = TestApp::spawn().await;
    add_account(&app.db, "admin@example.org").await; // the first account: the admin
    add_account(&app.db, "bea@example.org").await;
    assert_eq!(
        sign_in(&app.client, "bea@example.org", PASSWORD)
            .await
            .status(),
        Status::SeeOther
    );
    assert_eq!(
        add_site(&app.client, &[("domain", "bea.example")])
            .await
            .status(),
        Status::SeeOther
    );
    let other = site_store::add(
        &app.db,
        &visitors::sites::model::NewSite {
            domain: Domain::parse("other.example").unwrap(),
            hosts: Vec::new(),
            visibility: Visibility::Private,
            signed: false,
            badge: false,
            origin_required: false,
        },
    )
    .await
    .unwrap();
    assert!(other.active);

    // A key's name is checked; a key is shown once.
    let response = submit(
        &app.client,
        "/account",
        "/account/api-keys",
        &[("name", " ")],
    )
    .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    assert!(response
        .into_string()
        .await
        .unwrap()
        .contains("Name the key"));
    assert_eq!(count(&app.db, "api_keys").await, 0);
    let response = submit(
        &app.client,
        "/account",
        "/account/api-keys",
        &[("name", "deploy <script>")],
    )
    .await;
    assert_eq!(response.status(), Status::Ok);
    let key = snippet(&response.into_string().await.unwrap(), "new-key");
    assert!(key.starts_with("vk_"), "{key}");
    let html = page(&app.client, "/account").await;
    assert!(
        html.contains("deploy &#60;script&#62;") || html.contains("deploy &lt;script&gt;"),
        "{html}"
    );
    assert!(!html.contains(&key), "shown once");
    assert!(
        !every_stored_row(&app.db).await.contains(&key),
        "kept as its digest"
    );

    // Bea's sites, with Bea's role.
    let (status, listed) = call(&app.client, "GET", "/api/sites", &key, None).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(domains(&listed), ["bea.example"]);
    let used: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_used_at FROM api_keys")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(used.is_some(), "its last use is noted");
    let (status, _) = call(
        &app.client,
        "POST",
        "/api/sites",
        &key,
        Some(r#"{"domain": "new.example"}"#),
    )
    .await;
    assert_eq!(status, Status::Created);
    let (_, listed) = call(&app.client, "GET", "/api/sites", &key, None).await;
    assert_eq!(domains(&listed), ["bea.example", "new.example"]);
    assert_eq!(
        call(
            &app.client,
            "GET",
            "/api/sites/bea.example/stats",
            &key,
            None
        )
        .await
        .0,
        Status::Ok
    );
    assert_eq!(
        call(
            &app.client,
            "GET",
            "/api/sites/bea.example/goals",
            &key,
            None
        )
        .await
        .0,
        Status::Ok
    );
    for (method, path) in [
        ("GET", "/api/sites/other.example/stats"),
        ("GET", "/api/sites/other.example/goals"),
        ("DELETE", "/api/sites/other.example"),
    ] {
        assert_eq!(
            call(&app.client, method, path, &key, None).await.0,
            Status::NotFound,
            "{method} {path}"
        );
    }
    let active: bool =
        sqlx::query_scalar("SELECT active FROM sites WHERE domain = 'other.example'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(active, "someone else's site stays");
    assert_eq!(
        call(&app.client, "DELETE", "/api/sites/new.example", &key, None)
            .await
            .0,
        Status::NoContent
    );

    // Revoked on one replica, refused at once on another.
    let replica = other_browser(&app).await;
    assert_eq!(
        call(&replica.client, "GET", "/api/sites", &key, None)
            .await
            .0,
        Status::Ok
    );
    let id: i64 = sqlx::query_scalar("SELECT id FROM api_keys")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let revoke = format!("/account/api-keys/{id}/revoke");
    let response = submit(&app.client, "/account", &revoke, &[]).await;
    assert_eq!(location(&response), "/account?done=key-revoked");
    assert_eq!(
        call(&replica.client, "GET", "/api/sites", &key, None)
            .await
            .0,
        Status::Unauthorized
    );
    // No key, or one that never was: 401.
    let forged = format!("vk_{}", "0".repeat(64));
    assert_eq!(
        call(&app.client, "GET", "/api/sites", &forged, None)
            .await
            .0,
        Status::Unauthorized
    );
    let response = app.client.get("/api/sites").dispatch().await;
    assert_eq!(response.status(), Status::Unauthorized);
    assert_eq!(
        response.headers().get_one("WWW-Authenticate"),
        Some("Bearer")
    );
}
