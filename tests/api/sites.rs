//! Counting other websites: sites, the pixel, the badge, private sites and
//! their links, the admin API and `visitors sites`, all against a real
//! PostgreSQL.

use std::net::SocketAddr;

use futures::future::join_all;
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};
use visitors::{
    counting::visitor_key::VisitorIdentities,
    sites::{
        domain::Domain,
        manage::SiteRequest,
        model::{Site, Visibility},
        signature::PathSigner,
        store, SiteDirectory,
    },
};

use crate::helpers::{fresh_database, run_command, run_command_in, TestApp, FIREFOX};

const TOKEN: &str = "a-long-enough-admin-token";
const BLOG: &str = "blog.example";

pub async fn add_site(
    app: &TestApp,
    domain: &str,
    visibility: Visibility,
    signed: bool,
    badge: bool,
) -> Site {
    let request = SiteRequest {
        domain: domain.into(),
        hosts: vec![format!("www.{domain}")],
        visibility,
        signed,
        badge,
        origin_required: false,
    };
    store::add(&app.db, &request.validate().unwrap())
        .await
        .unwrap()
}

/// A pixel hit from the page `referer` (if any) at `ip`.
async fn pixel(app: &TestApp, query: &str, ip: &str, referer: Option<&str>) -> Status {
    let mut request = app
        .client
        .get(format!("/pixel/{query}"))
        .remote(SocketAddr::new(ip.parse().unwrap(), 40000))
        .header(Header::new("User-Agent", FIREFOX));
    if let Some(referer) = referer {
        request = request.header(Header::new("Referer", referer.to_owned()));
    }
    let response = request.dispatch().await;
    let status = response.status();
    if status == Status::Ok {
        assert_eq!(response.content_type(), Some(ContentType::GIF));
        assert_eq!(
            response.headers().get_one("Cache-Control"),
            Some("no-store")
        );
        assert_eq!(
            response.headers().get_one("Cross-Origin-Resource-Policy"),
            Some("cross-origin")
        );
        let body = response.into_bytes().await.unwrap();
        assert!(body.starts_with(b"GIF89a"), "a GIF, always");
    }
    status
}

async fn site_stats(app: &TestApp, domain: &str, query: &str) -> (Status, Value) {
    let response = app
        .client
        .get(format!("/api/sites/{domain}/stats?{query}"))
        .dispatch()
        .await;
    let status = response.status();
    let body = response.into_string().await.unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn stored_visits(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM visit_events")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

fn page_count(stats: &Value, path: &str) -> Option<i64> {
    stats["pages"]
        .as_array()?
        .iter()
        .find(|page| page["name"] == path)
        .and_then(|page| page["unique_visitors"].as_i64())
}

/// Hit `i` of one visitor of blog.example (one address, one browser): two
/// pixel hits of `/post` to every badge that counts (`count=1`), as a page
/// with the pixel and a badge makes them.
async fn one_visitors_hit(app: &TestApp, i: usize) -> Status {
    const VISITOR: &str = "198.51.100.7";
    if i % 3 == 2 {
        app.client
            .get("/badge/blog.example.svg?count=1&metric=visits")
            .remote(SocketAddr::new(VISITOR.parse().unwrap(), 40000))
            .header(Header::new("User-Agent", FIREFOX))
            .dispatch()
            .await
            .status()
    } else {
        pixel(
            app,
            "blog.example.gif?p=/post",
            VISITOR,
            Some("https://blog.example/post"),
        )
        .await
    }
}

/// 300 concurrent pixel and badge hits of one visitor of a site are merged
/// into few batches, and leave what the same hits one after the other
/// leave: the numbers the site's API shows, the rollups and breakdowns.
#[rocket::async_test]
async fn a_site_visitors_concurrent_hits_equal_the_same_hits_in_a_row() {
    let concurrent = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    add_site(&concurrent, BLOG, Visibility::Public, false, false).await;
    let statuses = join_all((0..300).map(|i| one_visitors_hit(&concurrent, i))).await;
    assert!(statuses.iter().all(|s| *s == Status::Ok), "{statuses:?}");

    let sequential = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    add_site(&sequential, BLOG, Visibility::Public, false, false).await;
    for i in 0..300 {
        assert_eq!(one_visitors_hit(&sequential, i).await, Status::Ok);
    }

    assert_eq!(concurrent.totals().await, (300, 0, 1));
    assert_eq!(concurrent.totals().await, sequential.totals().await);
    let (_, stats) = site_stats(&concurrent, BLOG, "range=24h").await;
    let (_, in_a_row) = site_stats(&sequential, BLOG, "range=24h").await;
    assert_eq!(
        (&stats["unique_visitors"], &stats["visits"]),
        (&json!(1), &json!(300))
    );
    assert_eq!(page_count(&stats, "/post"), Some(1));
    for shown in [
        "unique_visitors",
        "visits",
        "browsers",
        "os",
        "devices",
        "pages",
    ] {
        assert_eq!(stats[shown], in_a_row[shown], "{shown}");
    }
    let (rollups, breakdowns) = concurrent.rollup_summary().await;
    assert!(
        rollups
            .iter()
            .all(|(_, visits, unique)| (*visits, *unique) == (300, 1)),
        "{rollups:?}"
    );
    assert_eq!((rollups, breakdowns), sequential.rollup_summary().await);
}

#[rocket::async_test]
async fn three_hundred_concurrent_first_visits_of_a_site_count_exactly() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    add_site(&app, BLOG, Visibility::Public, false, false).await;
    let ips: Vec<String> = (0..300)
        .map(|i| format!("10.2.{}.{}", i / 200, i % 200 + 1))
        .collect();
    let statuses = join_all(ips.iter().map(|ip| {
        pixel(
            &app,
            "blog.example.gif?p=/post",
            ip,
            Some("https://blog.example/post"),
        )
    }))
    .await;
    assert!(statuses.iter().all(|s| *s == Status::Ok));
    let (status, stats) = site_stats(&app, BLOG, "range=24h").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(stats["unique_visitors"], 300);
    assert_eq!(stats["visits"], 300);
    assert_eq!(page_count(&stats, "/post"), Some(300));
    // The referrer of a pixel hit is the site's own page: not a referral.
    assert_eq!(stats["referrers"], json!([]));
    // The instance's own page counted none of it.
    let own: Value = serde_json::from_str(
        &app.client
            .get("/api/stats?range=24h")
            .dispatch()
            .await
            .into_string()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(own["visits"], 0);
}

#[rocket::async_test]
async fn hits_for_unknown_or_removed_sites_and_from_foreign_hosts_store_nothing() {
    let app = TestApp::spawn().await;
    add_site(&app, BLOG, Visibility::Public, false, false).await;
    add_site(&app, "gone.example", Visibility::Public, false, false).await;
    store::remove(&app.db, &Domain::parse("gone.example").unwrap(), false)
        .await
        .unwrap();
    for (query, referer) in [
        ("nosuch.example.gif?p=/", None),
        ("not_a_domain.gif?p=/", None),
        ("gone.example.gif?p=/", None),
        ("blog.example.gif?p=/", Some("https://evil.example/page")),
        ("blog.example.gif?p=relative", None),
    ] {
        assert_eq!(
            pixel(&app, query, "192.0.2.1", referer).await,
            Status::Ok,
            "{query}"
        );
    }
    assert_eq!(stored_visits(&app).await, 0);

    // The page's own hosts count, with the path from the Referer when no p,
    // and without the query of p.
    pixel(
        &app,
        "blog.example.gif",
        "192.0.2.1",
        Some("https://www.blog.example/a?x=1"),
    )
    .await;
    pixel(
        &app,
        "blog.example.gif?p=/b%3Fnot-a-query",
        "192.0.2.1",
        None,
    )
    .await;
    // Neither: the front page.
    pixel(&app, "blog.example.gif", "192.0.2.1", None).await;
    let paths: Vec<String> =
        sqlx::query_scalar("SELECT path FROM visit_events ORDER BY visited_at")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(paths, ["/a", "/b", "/"]);

    let (_, _, metrics) = app.scrape_metrics().await;
    for reason in ["unknown_site", "removed_site", "foreign_host", "bad_path"] {
        assert!(
            metrics.contains(&format!(
                "visitors_site_hits_dropped_total{{reason=\"{reason}\"}}"
            )),
            "{reason} in {metrics}"
        );
    }
}

#[rocket::async_test]
async fn a_signed_site_counts_only_the_paths_the_server_signed() {
    let app = TestApp::spawn().await;
    let site = add_site(&app, BLOG, Visibility::Public, true, false).await;
    let identities = app
        .client
        .rocket()
        .state::<VisitorIdentities>()
        .expect("the app's identities");
    let signer = PathSigner::new(identities.load(&app.db).await.unwrap());
    let good = signer.sign(site.id, "/about");
    for query in [
        "blog.example.gif?p=/about".to_owned(),
        "blog.example.gif?p=/about&s=00".to_owned(),
        format!("blog.example.gif?p=/spam&s={good}"),
    ] {
        pixel(&app, &query, "192.0.2.1", None).await;
    }
    assert_eq!(stored_visits(&app).await, 0);
    pixel(
        &app,
        &format!("blog.example.gif?p=/about&s={good}"),
        "192.0.2.1",
        None,
    )
    .await;
    assert_eq!(stored_visits(&app).await, 1);
}

#[rocket::async_test]
async fn one_person_on_two_sites_is_two_unrelated_visitors() {
    let app = TestApp::spawn().await;
    add_site(&app, BLOG, Visibility::Public, false, false).await;
    add_site(&app, "shop.example", Visibility::Public, false, false).await;
    pixel(&app, "blog.example.gif?p=/", "192.0.2.9", None).await;
    pixel(&app, "shop.example.gif?p=/", "192.0.2.9", None).await;
    app.visit("192.0.2.9", FIREFOX).await;
    let keys: Vec<Vec<u8>> = sqlx::query_scalar("SELECT DISTINCT visitor_key FROM visitors")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(keys.len(), 3, "one key per site");
}

#[rocket::async_test]
async fn a_private_site_is_a_404_without_its_token() {
    let app = TestApp::spawn_with(&[("admin_token", TOKEN)]).await;
    let site = add_site(&app, BLOG, Visibility::Private, false, false).await;
    let token = site.share_token.to_hex();
    for path in [
        "/sites/blog.example".to_owned(),
        "/sites/blog.example/chart.svg".to_owned(),
        "/api/sites/blog.example/stats".to_owned(),
        "/badge/blog.example.svg".to_owned(),
        format!("/sites/blog.example?token={}", "0".repeat(64)),
        "/sites/blog.example?token=not-hex".to_owned(),
    ] {
        let response = app.client.get(&path).dispatch().await;
        assert_eq!(response.status(), Status::NotFound, "{path}");
        // Exactly what a site that does not exist answers.
        let none = app
            .client
            .get(path.replace("blog.example", "nosuch.example"))
            .dispatch()
            .await;
        assert_eq!(none.status(), Status::NotFound);
    }
    let page = app
        .client
        .get(format!("/sites/blog.example?range=7d&token={token}"))
        .dispatch()
        .await;
    assert_eq!(page.status(), Status::Ok);
    assert_eq!(
        page.headers().get_one("Referrer-Policy"),
        Some("no-referrer")
    );
    let html = page.into_string().await.unwrap();
    // Its own links keep the token, so the range selector still works.
    assert!(html.contains(&format!("/sites/blog.example?token={token}&#38;range=30d")));
    assert!(html.contains("Pages"));
    // So do the links of its error page.
    let refused = app
        .client
        .get(format!("/sites/blog.example?range=forever&token={token}"))
        .dispatch()
        .await;
    assert_eq!(refused.status(), Status::BadRequest);
    let html = refused.into_string().await.unwrap();
    assert!(
        html.contains(&format!("/sites/blog.example?token={token}&#38;range=7d")),
        "{html}"
    );
    assert_eq!(
        site_stats(&app, BLOG, &format!("token={token}")).await.0,
        Status::Ok
    );
    let with_admin = app
        .client
        .get("/api/sites/blog.example/stats")
        .header(Header::new("Authorization", format!("Bearer {TOKEN}")))
        .dispatch()
        .await;
    assert_eq!(with_admin.status(), Status::Ok);
    // Private sites are not listed.
    let list = app
        .client
        .get("/sites")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(!list.contains(BLOG));

    // Rotating the token revokes the old link.
    let domain = Domain::parse(BLOG).unwrap();
    store::rotate_token(&app.db, &domain).await.unwrap();
    // Another replica would see it within seconds; this one is told.
    let directory = app.client.rocket().state::<SiteDirectory>().unwrap();
    directory.forget(&domain).await;
    assert_eq!(
        site_stats(&app, BLOG, &format!("token={token}")).await.0,
        Status::NotFound
    );
}

#[rocket::async_test]
async fn the_badge_shows_the_exact_number_and_counts_when_asked() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    let token = add_site(&app, BLOG, Visibility::Private, false, true)
        .await
        .share_token
        .to_hex();
    let badge = |query: String, ip: &'static str| {
        let app = &app;
        async move {
            let response = app
                .client
                .get(format!("/badge/blog.example.svg{query}"))
                .remote(SocketAddr::new(ip.parse().unwrap(), 40000))
                .header(Header::new("User-Agent", FIREFOX))
                .dispatch()
                .await;
            let status = response.status();
            if status == Status::Ok {
                assert_eq!(response.content_type(), Some(ContentType::SVG));
                assert_eq!(
                    response.headers().get_one("Cache-Control"),
                    Some("no-cache")
                );
            }
            (status, response.into_string().await.unwrap_or_default())
        }
    };
    // A private site with its badge on shows it to everyone.
    let (status, svg) = badge("".into(), "192.0.2.1").await;
    assert_eq!(status, Status::Ok);
    assert!(svg.contains(r#"aria-label="visitors: 0""#), "{svg}");
    assert!(svg.contains("<title>visitors: 0</title>"));

    let (_, svg) = badge(
        format!("?count=1&metric=visits&p=/readme&token={token}"),
        "192.0.2.1",
    )
    .await;
    assert!(svg.contains("visits: 1<"), "{svg}");
    let (_, svg) = badge("?count=1&metric=visits".into(), "192.0.2.2").await;
    assert!(svg.contains("visits: 2<"), "{svg}");
    // Which pages exist is the dashboard's to tell: a page's badge needs
    // the token while the site is private.
    let page_badge = "?p=/readme&range=30d&style=flat-square";
    assert_eq!(
        badge(page_badge.into(), "192.0.2.3").await.0,
        Status::NotFound
    );
    let with_token = format!("{page_badge}&token={token}");
    let (_, svg) = badge(with_token, "192.0.2.3").await;
    assert!(svg.contains("visitors: 1<"), "{svg}");
    assert!(
        !svg.contains("rx=\"3\""),
        "flat-square has no rounded corners"
    );
    assert_eq!(stored_visits(&app).await, 2, "only count=1 counts");

    for bad in [
        "?metric=hits",
        "?range=1h",
        "?style=round",
        "?count=yes",
        "?label=%E2%80%AEevil",
    ] {
        assert_eq!(
            badge(bad.into(), "192.0.2.1").await.0,
            Status::BadRequest,
            "{bad}"
        );
    }
    let long_label = "?label=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_eq!(
        badge(long_label.into(), "192.0.2.1").await.0,
        Status::BadRequest
    );

    // Thousands separators.
    sqlx::query(
        "UPDATE visit_totals SET visits = visits + 1233999 \
         WHERE ctid = (SELECT ctid FROM visit_totals WHERE site_id <> 0 LIMIT 1)",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let (_, svg) = badge("?count=1&metric=visits".into(), "192.0.2.4").await;
    assert!(svg.contains("visits: 1,234,002<"), "{svg}");
}

#[rocket::async_test]
async fn hostile_paths_labels_and_names_are_escaped_everywhere() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    add_site(&app, BLOG, Visibility::Public, false, false).await;
    let stored = "/%3Cscript%3Ealert(1)%3C/script%3E%22'&";
    let encoded = "%2F%3Cscript%3Ealert(1)%3C%2Fscript%3E%22'%26";
    pixel(
        &app,
        &format!("blog.example.gif?p={encoded}"),
        "192.0.2.1",
        None,
    )
    .await;

    let page = app
        .client
        .get("/sites/blog.example?range=1h")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(page.contains("Pages"));
    // Stored as a URL spells it (percent-encoded), and what is left of the
    // text is escaped.
    assert!(!page.contains("<script>"), "the page escapes the path");
    assert!(
        page.contains("/%3Cscript%3Ealert(1)%3C/script%3E%22&#39;&#38;"),
        "{page}"
    );

    let (_, stats) = site_stats(&app, BLOG, "range=1h").await;
    assert_eq!(
        page_count(&stats, stored),
        Some(1),
        "JSON carries the text as data"
    );

    let svg = app
        .client
        .get("/badge/blog.example.svg?label=%3Cscript%3E%26")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(!svg.contains("<script>"));
    assert!(svg.contains("&#60;script&#62;&#38;"), "{svg}");
}

async fn admin(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (Status, Value) {
    let request = match method {
        "GET" => app.client.get(path),
        "POST" => app.client.post(path),
        _ => app.client.delete(path),
    }
    .header(Header::new("Authorization", format!("Bearer {TOKEN}")));
    let request = match body {
        Some(body) => request.header(ContentType::JSON).body(body.to_string()),
        None => request,
    };
    let response = request.dispatch().await;
    let status = response.status();
    let text = response.into_string().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[rocket::async_test]
async fn the_admin_api_manages_sites_and_refuses_bad_names_whole() {
    // Without ADMIN_TOKEN the API is there for API keys: a 401 without one.
    let without = TestApp::spawn().await;
    assert_eq!(
        admin(&without, "GET", "/api/sites", None).await.0,
        Status::Unauthorized
    );

    let app = TestApp::spawn_with(&[
        ("admin_token", TOKEN),
        ("public_url", "https://count.example.org"),
    ])
    .await;
    let unauthorized = app.client.get("/api/sites").dispatch().await;
    assert_eq!(unauthorized.status(), Status::Unauthorized);

    let (status, created) = admin(
        &app,
        "POST",
        "/api/sites",
        Some(json!({"domain": "Blog.Example", "hosts": ["www.blog.example"], "visibility": "public"})),
    )
    .await;
    assert_eq!(status, Status::Created);
    assert_eq!(created["domain"], BLOG);
    assert_eq!(
        created["dashboard"],
        "https://count.example.org/sites/blog.example"
    );

    for bad in [
        json!({"domain": "https://blog.example"}),
        json!({"domain": "ok.example", "hosts": ["bad host"]}),
        json!({"domain": "ok.example", "visibility": "secret"}),
        json!({"domain": "ok.example", "colour": "red"}),
    ] {
        let (status, body) = admin(&app, "POST", "/api/sites", Some(bad.clone())).await;
        assert_eq!(status, Status::BadRequest, "{bad}");
        assert!(body["error"].is_string(), "{body}");
    }
    let (status, _) = admin(&app, "POST", "/api/sites", Some(json!({"domain": BLOG}))).await;
    assert_eq!(status, Status::Conflict);

    let (_, list) = admin(&app, "GET", "/api/sites", None).await;
    let domains: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains, [BLOG], "nothing of a refused request was stored");

    pixel(&app, "blog.example.gif?p=/", "192.0.2.1", None).await;
    assert_eq!(
        admin(&app, "DELETE", "/api/sites/blog.example", None)
            .await
            .0,
        Status::NoContent
    );
    assert_eq!(stored_visits(&app).await, 1, "removing keeps the counts");
    assert_eq!(
        admin(&app, "DELETE", "/api/sites/blog.example?purge=true", None)
            .await
            .0,
        Status::NoContent
    );
    assert_eq!(stored_visits(&app).await, 0, "purging deletes them");
    assert_eq!(
        admin(&app, "DELETE", "/api/sites/blog.example", None)
            .await
            .0,
        Status::NotFound
    );
}

#[rocket::async_test]
async fn the_public_list_shows_public_sites_with_their_visitors() {
    let app = TestApp::spawn().await;
    add_site(&app, BLOG, Visibility::Public, false, false).await;
    add_site(&app, "secret.example", Visibility::Private, false, false).await;
    pixel(&app, "blog.example.gif?p=/", "192.0.2.1", None).await;
    pixel(&app, "blog.example.gif?p=/", "192.0.2.2", None).await;
    let html = app
        .client
        .get("/sites")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<a href="/sites/blog.example">blog.example</a></td><td class="num">2<"#),
        "{html}"
    );
    assert!(!html.contains("secret.example"));
}

#[test]
fn the_command_line_manages_sites() {
    let database = rocket::tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(fresh_database());
    let env = [
        ("DATABASE_URL", database.url.as_str()),
        ("PUBLIC_URL", "https://count.example.org"),
    ];
    let (code, _, stderr) = run_command(&["migrate"], &env);
    assert_eq!(code, 0, "{stderr}");

    let (code, out, stderr) = run_command(
        &[
            "sites",
            "add",
            "Blog.Example",
            "--host",
            "www.blog.example",
            "--signed",
        ],
        &env,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        out.contains("added blog.example (also www.blog.example) [private, signed]"),
        "{out}"
    );

    let (code, _, stderr) = run_command(&["sites", "add", "https://bad.example"], &env);
    assert_eq!(code, 2);
    assert!(stderr.contains("no scheme"), "{stderr}");
    let (code, _, stderr) = run_command(&["sites", "add", "blog.example"], &env);
    assert_eq!(code, 2);
    assert!(stderr.contains("exists already"), "{stderr}");

    let (_, link, _) = run_command(&["sites", "share", "blog.example"], &env);
    assert!(
        link.starts_with("https://count.example.org/sites/blog.example?token="),
        "{link}"
    );
    let (_, rotated, _) = run_command(&["sites", "share", "blog.example", "--rotate"], &env);
    assert_ne!(link, rotated);

    let (code, snippet, stderr) = run_command(
        &["sites", "snippet", "blog.example", "--path", "/about us"],
        &env,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        snippet.starts_with(
            r#"<img src="https://count.example.org/pixel/blog.example.gif?p=%2Fabout%2520us&amp;s="#
        ),
        "{snippet}"
    );

    let (_, list, _) = run_command(&["sites", "list"], &env);
    assert_eq!(list.lines().count(), 1, "{list}");
    let (code, _, _) = run_command(&["sites", "remove", "nosuch.example"], &env);
    assert_eq!(code, 1);
    let (code, out, _) = run_command(&["sites", "remove", "blog.example"], &env);
    assert_eq!(code, 0);
    assert!(out.contains("no longer counts"));
    let (_, list, _) = run_command(&["sites", "list"], &env);
    assert!(list.contains("removed"), "{list}");
    let (code, _, _) = run_command(&["sites", "remove", "blog.example", "--purge"], &env);
    assert_eq!(code, 0);
    let (_, list, _) = run_command(&["sites", "list"], &env);
    assert!(list.is_empty(), "{list}");
}

/// `HEAD` is what monitors and link checkers send: it is answered as `GET`
/// would be, with no body, and records no visit on any counting address.
#[rocket::async_test]
async fn head_requests_count_nothing() {
    let app = TestApp::spawn().await;
    add_site(&app, BLOG, Visibility::Public, false, false).await;
    for (path, content_type) in [
        ("/", ContentType::HTML),
        ("/?range=7d", ContentType::HTML),
        ("/pixel/blog.example.gif?p=/about", ContentType::GIF),
        ("/badge/blog.example.svg?count=1", ContentType::SVG),
    ] {
        let response = app
            .client
            .head(path)
            .header(Header::new("User-Agent", FIREFOX))
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::Ok, "{path}");
        assert_eq!(response.content_type(), Some(content_type), "{path}");
        assert!(response.into_bytes().await.unwrap_or_default().is_empty());
    }
    assert_eq!(
        app.client.head("/?range=2w").dispatch().await.status(),
        Status::BadRequest
    );
    assert_eq!(app.totals().await, (0, 0, 0), "no visit of any site");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM visit_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(events, 0);
}

/// A site that requires its own page counts a hit only when the Referer or
/// Origin names one of its hosts: a client that sends neither (a script
/// with a new User-Agent each time) counts nothing.
#[rocket::async_test]
async fn a_site_that_requires_its_origin_counts_only_hits_from_its_pages() {
    let app = TestApp::spawn_with(&[("admin_token", TOKEN)]).await;
    let (status, created) = admin(
        &app,
        "POST",
        "/api/sites",
        Some(
            json!({"domain": BLOG, "hosts": ["www.blog.example"], "visibility": "public",
                    "origin_required": true}),
        ),
    )
    .await;
    assert_eq!(status, Status::Created);
    assert_eq!(created["origin_required"], true);
    assert_eq!(
        pixel(&app, "blog.example.gif?p=/a", "192.0.2.1", None).await,
        Status::Ok
    );
    assert_eq!(
        stored_visits(&app).await,
        0,
        "no Referer, no Origin: not counted"
    );
    pixel(
        &app,
        "blog.example.gif?p=/a",
        "192.0.2.1",
        Some("https://www.blog.example/a"),
    )
    .await;
    assert_eq!(stored_visits(&app).await, 1);
    let origin = app
        .client
        .get("/pixel/blog.example.gif?p=/b")
        .header(Header::new("User-Agent", FIREFOX))
        .header(Header::new("Origin", "https://blog.example"))
        .dispatch()
        .await;
    assert_eq!(origin.status(), Status::Ok);
    assert_eq!(stored_visits(&app).await, 2);
    let (_, _, metrics) = app.scrape_metrics().await;
    assert!(
        metrics.contains(r#"visitors_site_hits_dropped_total{reason="no_origin"} 1"#),
        "{metrics}"
    );
}

#[rocket::async_test]
async fn the_commands_find_the_database_and_address_make_run_left() {
    let database = fresh_database().await;
    // Migrated as a running app would have.
    let _app = TestApp::spawn_on(&database.url, &[]).await;
    let checkout = std::env::temp_dir().join(format!("visitors-run-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(checkout.join(".data")).unwrap();
    std::fs::write(
        checkout.join(".data/run.toml"),
        format!(
            "[default]\npublic_url = \"http://127.0.0.1:8123\"\n\n\
             [default.databases.visitors]\nurl = \"{}\"\n",
            database.url
        ),
    )
    .unwrap();
    let (code, out, stderr) = run_command_in(&checkout, &["sites", "add", "blog.example"], &[], "");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("the database and address of `make run`, from .data/run.toml"),
        "{stderr}"
    );
    assert!(
        out.contains(r#"<img src="http://127.0.0.1:8123/pixel/blog.example.gif"#),
        "{out}"
    );
    // The environment still wins.
    let env = [("PUBLIC_URL", "https://count.example.org")];
    let (_, link, _) = run_command_in(&checkout, &["sites", "share", "blog.example"], &env, "");
    assert!(
        link.starts_with("https://count.example.org/sites/blog.example?token="),
        "{link}"
    );

    // Elsewhere, the message says what to export.
    std::fs::remove_dir_all(checkout.join(".data")).unwrap();
    let (code, _, stderr) = run_command_in(&checkout, &["sites", "list"], &[], "");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("export DATABASE_URL=postgres://") && stderr.contains("make run"),
        "{stderr}"
    );
    std::fs::remove_dir_all(checkout).unwrap();
}
