//! A database outage while running: 503 pages, then recovery without a restart.

use std::time::{Duration, Instant};

use rocket::http::{ContentType, Header, Status};
use visitors::sites::{manage::SiteRequest, model::Visibility, store};

use crate::helpers::{fresh_database_on, PrivateCluster, TestApp, FIREFOX};

#[rocket::async_test]
async fn an_outage_gives_503_pages_and_the_app_recovers_by_itself() {
    let cluster = PrivateCluster::start();
    let database = fresh_database_on(&cluster.url()).await;
    let database_url = database.url.clone();
    let app = TestApp::spawn_on(&database_url, &[]).await;
    assert_eq!(app.visit("192.0.2.1", FIREFOX).await.status(), Status::Ok);
    let site = SiteRequest {
        domain: "blog.example".into(),
        hosts: Vec::new(),
        visibility: Visibility::Public,
        signed: false,
        badge: false,
        origin_required: false,
    };
    store::add(&app.db, &site.validate().unwrap())
        .await
        .unwrap();
    let pixel = || {
        app.client
            .get("/pixel/blog.example.gif?p=/")
            .header(Header::new("User-Agent", FIREFOX))
            .dispatch()
    };
    assert_eq!(pixel().await.status(), Status::Ok);
    app.db.close().await;

    cluster.stop();
    let started = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(20), app.visit("192.0.2.1", FIREFOX))
        .await
        .expect("an outage must not hang the page");
    assert_eq!(response.status(), Status::ServiceUnavailable);
    assert_eq!(response.headers().get_one("Retry-After"), Some("5"));
    let html = response.into_string().await.unwrap();
    assert!(html.contains("Temporarily unavailable"), "a friendly page");
    assert!(html.contains("database"), "that names the cause: {html}");
    eprintln!("503 after {:?}", started.elapsed());
    // The pixel still gives its image (the site is known to this replica
    // for a few seconds), but says the hit was not recorded.
    let refused = pixel().await;
    assert_eq!(refused.status(), Status::ServiceUnavailable);
    assert_eq!(refused.content_type(), Some(ContentType::GIF));
    // So does a counting badge, whose page names the cause: the hit not
    // recorded while the site is still known here, or the site not read.
    let badge = app
        .client
        .get("/badge/blog.example.svg?count=1")
        .header(Header::new("User-Agent", FIREFOX))
        .dispatch()
        .await;
    assert_eq!(badge.status(), Status::ServiceUnavailable);
    let page = badge.into_string().await.unwrap();
    assert!(
        page.contains("The database could not record the hit")
            || page.contains("The database cannot be reached"),
        "{page}"
    );
    assert_eq!(
        app.client.get("/healthz").dispatch().await.status(),
        Status::Ok,
        "still alive"
    );
    let not_ready = Instant::now() + Duration::from_secs(10);
    // Readiness answers are reused for a second.
    while app.client.get("/readyz").dispatch().await.status() != Status::ServiceUnavailable {
        assert!(Instant::now() < not_ready, "still ready without a database");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    cluster.pg_ctl_start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = app.visit("192.0.2.1", FIREFOX).await;
        if response.status() == Status::Ok {
            let html = response.into_string().await.unwrap();
            assert!(
                html.contains("<strong>2</strong>"),
                "the count continues where it was"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the app did not recover after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ready = Instant::now() + Duration::from_secs(10);
    while app.client.get("/readyz").dispatch().await.status() != Status::Ok {
        assert!(Instant::now() < ready, "not ready again after the outage");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
