//! Where a site's visitors come from and what they do: sources, campaigns,
//! screens, countries and events, through the script's endpoint and the
//! pixel, exact in every range; countries from a country database (built
//! here) or a CDN's header only where trusted; goals; the script itself.

use std::{collections::BTreeMap, net::Ipv4Addr};

use chrono::{DateTime, TimeDelta, Utc};
use futures::future::join_all;
use rocket::http::{ContentType, Header, Status};
use serde_json::Value;
use visitors::{
    counting::{
        details::{DetailText, HitDetails, ScreenClass, Utm},
        site_id::SiteId,
        store::{record_visits, NewVisit},
        visitor_key::VisitorKey,
    },
    infra::database::database_now,
    sites::{manage::SiteRequest, model::Visibility, store},
};

use crate::helpers::{country_database, every_stored_row, run_command, TestApp, FIREFOX, IPHONE};

const BLOG: &str = "blog.example";

async fn add_blog(app: &TestApp) -> SiteId {
    let request = SiteRequest {
        domain: BLOG.into(),
        hosts: vec![format!("www.{BLOG}")],
        visibility: Visibility::Public,
        signed: false,
        badge: false,
        origin_required: false,
    };
    store::add(&app.db, &request.validate().unwrap())
        .await
        .unwrap()
        .id
}

async fn site_stats(app: &TestApp, range: &str) -> Value {
    let response = app
        .client
        .get(format!("/api/sites/{BLOG}/stats?range={range}"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    response.into_json().await.unwrap()
}

/// {name: (unique visitors, visits when shown)} of a breakdown.
fn shown(entries: &Value) -> BTreeMap<String, (i64, Option<i64>)> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["name"].as_str().unwrap().to_owned(),
                (
                    entry["unique_visitors"].as_i64().unwrap(),
                    entry["visits"].as_i64(),
                ),
            )
        })
        .collect()
}

/// The same from the raw visits: a column's values among the page views,
/// or events with their completions.
async fn counted(
    app: &TestApp,
    column: &str,
    from: DateTime<Utc>,
) -> BTreeMap<String, (i64, Option<i64>)> {
    let events = column == "event";
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT {column}, count(DISTINCT visitor_key), count(*) FROM visit_events \
         WHERE site_id <> 0 AND visited_at >= $1 AND NOT is_bot AND {column} IS NOT NULL \
           AND (event IS NOT NULL) = $2 \
         GROUP BY 1"
    ))
    .bind(from)
    .bind(events)
    .fetch_all(&app.db)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(value, visitors, visits)| (value, (visitors, events.then_some(visits))))
        .collect()
}

/// Every new breakdown of every range equals a count of the raw visits.
async fn assert_exact_in_every_range(app: &TestApp) {
    for range in ["1h", "24h", "7d", "30d", "all"] {
        let stats = site_stats(app, range).await;
        let from: DateTime<Utc> = stats["from"].as_str().unwrap().parse().unwrap();
        for (field, column) in [
            (&stats["sources"], "source"),
            (&stats["campaigns"]["utm_source"], "utm_source"),
            (&stats["campaigns"]["utm_medium"], "utm_medium"),
            (&stats["campaigns"]["utm_campaign"], "utm_campaign"),
            (&stats["campaigns"]["utm_term"], "utm_term"),
            (&stats["campaigns"]["utm_content"], "utm_content"),
            (&stats["screens"], "screen"),
            (&stats["countries"], "country"),
            (&stats["events"], "event"),
        ] {
            assert_eq!(
                shown(field),
                counted(app, column, from).await,
                "{range} {column}"
            );
        }
        let unique: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT visitor_key) FROM visit_events \
             WHERE site_id <> 0 AND visited_at >= $1 AND NOT is_bot AND event IS NULL",
        )
        .bind(from)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(
            stats["unique_visitors"], unique,
            "{range}: events make no visitor"
        );
    }
}

fn text(value: &str) -> Option<DetailText> {
    DetailText::parse("test", value).unwrap()
}

/// Visits over a month: a visitor whose source, campaign and screen change
/// from visit to visit, whose country changes (a new database), who sends
/// events; returning visitors across days, hours and minutes.
#[rocket::async_test]
async fn every_new_dimension_counts_exactly_in_every_range() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    let site = add_blog(&app).await;
    let now = database_now(&app.db).await.unwrap();
    let (d, h, m) = (TimeDelta::days, TimeDelta::hours, TimeDelta::minutes);
    let google = HitDetails {
        source: text("Google"),
        screen: Some(ScreenClass::Laptop),
        ..Default::default()
    };
    let mail = HitDetails {
        source: text("newsletter"),
        utm: Utm {
            source: text("newsletter"),
            medium: text("email"),
            campaign: text("launch"),
            term: text("counter"),
            content: text("header link"),
        },
        screen: Some(ScreenClass::Mobile),
        event: None,
    };
    let direct = HitDetails {
        source: text("Direct / none"),
        screen: Some(ScreenClass::Desktop),
        ..Default::default()
    };
    let signup = HitDetails {
        event: text("Signup"),
        ..Default::default()
    };
    let none = HitDetails::default();
    for (who, details, country, ago) in [
        (1u8, &google, Some("DE"), d(20)),
        (1, &mail, Some("DE"), d(3)),
        (1, &signup, Some("DE"), d(3)),
        (1, &direct, Some("AT"), h(5)),
        (1, &google, Some("AT"), m(20)),
        (2, &mail, Some("US"), d(10)),
        (2, &none, Some("US"), d(9)),
        (2, &signup, Some("US"), m(30)),
        (2, &mail, None, m(10)),
        (3, &direct, None, h(30)),
        (3, &google, Some("FR"), m(40)),
        (3, &signup, Some("FR"), m(5)),
        (3, &signup, Some("FR"), m(4)),
        (4, &signup, None, m(15)),
    ] {
        record_visits(
            &app.db,
            &[NewVisit {
                site,
                visitor: VisitorKey::from_bytes([who; 32]),
                path: "/post",
                browser: "Firefox",
                os: "Linux",
                device: "desktop",
                is_bot: false,
                country,
                details,
                referrer_host: None,
                visited_at: Some(now - ago),
                request: None,
            }],
        )
        .await
        .unwrap();
    }
    assert_exact_in_every_range(&app).await;
    let all = site_stats(&app, "all").await;
    assert_eq!(
        shown(&all["events"]),
        BTreeMap::from([("Signup".to_owned(), (4, Some(5)))])
    );
    assert_eq!(
        shown(&all["sources"]).get("Google"),
        Some(&(2, None)),
        "visitors 1 and 3"
    );
    assert_eq!(all["unique_visitors"], 3, "visitor 4 only sent an event");

    // The counters the write path kept are what a full recomputation from
    // the raw visits gives.
    sqlx::query("SELECT rebuild_visit_rollups()")
        .execute(&app.db)
        .await
        .unwrap();
    assert_exact_in_every_range(&app).await;
}

fn hit(path: &str, query: &str) -> String {
    format!("{path}?{query}")
}

/// One visitor's hit through the script's endpoint or the pixel.
async fn send(app: &TestApp, address: String, agent: &str, uri: String, post: bool) -> Status {
    let request = if post {
        app.client.post(uri)
    } else {
        app.client.get(uri)
    };
    request
        .header(Header::new("X-Real-IP", address))
        .header(Header::new("User-Agent", agent.to_owned()))
        .header(Header::new("Referer", format!("https://www.{BLOG}/post")))
        .dispatch()
        .await
        .status()
}

/// Concurrent hits of many visitors, through both ways a page counts:
/// every breakdown equals a count of the raw visits, and the named ones are
/// what was sent.
#[rocket::async_test]
async fn concurrent_script_and_pixel_hits_count_exactly() {
    let database = country_database();
    let app = TestApp::spawn_with(&[
        ("stats_cache_ms", "0"),
        ("ip_header", "X-Real-IP"),
        ("geoip_db", database.to_str().unwrap()),
    ])
    .await;
    add_blog(&app).await;
    let script = format!("/hit/{BLOG}");
    let pixel = format!("/pixel/{BLOG}.gif");
    let mut hits = Vec::new();
    for i in 0..40u8 {
        let network = match i % 3 {
            0 => Ipv4Addr::new(192, 0, 2, i),
            1 => Ipv4Addr::new(198, 51, 100, i),
            _ => Ipv4Addr::new(233, 252, 0, i),
        };
        let agent = if i % 2 == 0 { FIREFOX } else { IPHONE };
        let address = network.to_string();
        hits.push((
            address.clone(),
            agent,
            hit(
                &script,
                "p=/post&r=https%3A%2F%2Fwww.google.de%2Fsearch&w=laptop",
            ),
            true,
        ));
        hits.push((
            address.clone(),
            agent,
            hit(
                &script,
                "p=/post&r=&w=mobile&utm_source=mail&utm_medium=email&utm_campaign=launch",
            ),
            true,
        ));
        hits.push((
            address.clone(),
            agent,
            hit(
                &script,
                "p=/post&r=https%3A%2F%2Fwww.blog.example%2F&w=mobile",
            ),
            true,
        ));
        hits.push((
            address.clone(),
            agent,
            hit(&script, "p=/post&e=Signup"),
            true,
        ));
        hits.push((
            address.clone(),
            agent,
            hit(&pixel, "p=/post&ref=producthunt"),
            false,
        ));
        if i % 4 == 0 {
            hits.push((address, agent, hit(&pixel, "p=/post&e=Download"), false));
        }
    }
    let statuses = join_all(
        hits.into_iter()
            .map(|(address, agent, uri, post)| send(&app, address, agent, uri, post)),
    )
    .await;
    assert!(
        statuses
            .iter()
            .all(|s| *s == Status::NoContent || *s == Status::Ok),
        "{statuses:?}"
    );
    assert_exact_in_every_range(&app).await;
    let stats = site_stats(&app, "24h").await;
    let sources = shown(&stats["sources"]);
    assert_eq!(sources.get("Google"), Some(&(40, None)));
    assert_eq!(sources.get("mail"), Some(&(40, None)));
    assert_eq!(sources.get("producthunt"), Some(&(40, None)));
    assert_eq!(
        sources.get("www.blog.example"),
        None,
        "a move within the site"
    );
    assert_eq!(sources.get("Direct / none"), None, "the campaign named it");
    assert_eq!(
        shown(&stats["events"]),
        BTreeMap::from([
            ("Download".to_owned(), (10, Some(10))),
            ("Signup".to_owned(), (40, Some(40)))
        ])
    );
    assert_eq!(
        shown(&stats["countries"]),
        BTreeMap::from([("DE".to_owned(), (14, None)), ("US".to_owned(), (13, None)),]),
        "233.252.0.0/24 is in no network of the database"
    );
    assert_eq!(stats["visits"], 160, "events are no page views");
    std::fs::remove_file(database).unwrap();
}

/// The country comes from the address; a client's own country header is
/// not believed unless the deployment says a CDN in front sets it; only
/// the code is stored, never the address.
#[rocket::async_test]
async fn countries_from_the_database_or_a_trusted_cdn_header_and_no_address_kept() {
    let database = country_database();
    let app = TestApp::spawn_with(&[
        ("stats_cache_ms", "0"),
        ("ip_header", "X-Real-IP"),
        ("geoip_db", database.to_str().unwrap()),
    ])
    .await;
    add_blog(&app).await;
    for (address, claimed) in [("192.0.2.77", "FR"), ("203.0.113.77", "US")] {
        let status = app
            .client
            .get(format!("/pixel/{BLOG}.gif?p=/"))
            .header(Header::new("X-Real-IP", address))
            .header(Header::new("CF-IPCountry", claimed))
            .header(Header::new("CloudFront-Viewer-Country", claimed))
            .header(Header::new("User-Agent", FIREFOX))
            .dispatch()
            .await
            .status();
        assert_eq!(status, Status::Ok);
    }
    let stats = site_stats(&app, "24h").await;
    assert_eq!(
        shown(&stats["countries"]),
        BTreeMap::from([("DE".to_owned(), (1, None)), ("FR".to_owned(), (1, None))]),
        "the database's countries, not the headers the client sent"
    );
    let dump = every_stored_row(&app.db).await;
    for address in ["192.0.2.77", "203.0.113.77", "c000024d", "cb00714d"] {
        assert!(!dump.contains(address), "{address} stored");
    }

    // Behind a CDN (one trusted proxy) that sets CF-IPCountry.
    let cdn = TestApp::spawn_with(&[
        ("stats_cache_ms", "0"),
        ("trusted_proxy_hops", "1"),
        ("country_header", "CF-IPCountry"),
        ("geoip_db", database.to_str().unwrap()),
    ])
    .await;
    add_blog(&cdn).await;
    let status = cdn
        .client
        .get(format!("/pixel/{BLOG}.gif?p=/"))
        .header(Header::new("X-Forwarded-For", "192.0.2.78"))
        .header(Header::new("CF-IPCountry", "jp"))
        .header(Header::new("User-Agent", FIREFOX))
        .dispatch()
        .await
        .status();
    assert_eq!(status, Status::Ok);
    assert_eq!(
        shown(&site_stats(&cdn, "24h").await["countries"]),
        BTreeMap::from([("JP".to_owned(), (1, None))])
    );
    std::fs::remove_file(database).unwrap();
}

/// A country database that cannot be read stops the start with its name.
#[rocket::async_test]
async fn an_unreadable_country_database_stops_the_start() {
    let database = crate::helpers::fresh_database().await;
    let (code, out, stderr) = run_command(
        &["serve"],
        &[
            ("DATABASE_URL", database.url.as_str()),
            ("GEOIP_DB", "/nonexistent/country.mmdb"),
            ("ROCKET_PORT", "0"),
            ("METRICS_PORT", "0"),
        ],
    );
    assert_ne!(code, 0);
    assert!(
        format!("{out}{stderr}").contains("GEOIP_DB /nonexistent/country.mmdb"),
        "{out}{stderr}"
    );
}

/// A value with control characters, a width class that is not one, or a
/// referrer that is no address stores nothing of the hit; a long campaign
/// value is cut, and a bad one in the pixel's page address is left out
/// while the page still counts; a signed site's hit that names more than
/// its signed path counts nothing.
#[rocket::async_test]
async fn a_bad_detail_refuses_the_whole_hit() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    add_blog(&app).await;
    for query in [
        "p=/a&e=Sign%0Aup",
        "p=/a&w=1920x1080",
        "p=/a&r=not%20a%20url",
    ] {
        let status = app
            .client
            .post(format!("/hit/{BLOG}?{query}"))
            .header(Header::new("User-Agent", FIREFOX))
            .dispatch()
            .await
            .status();
        assert_eq!(status, Status::NoContent, "{query}");
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM visit_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    let metrics = app.scrape_metrics().await.2;
    assert!(
        metrics.contains("visitors_site_hits_dropped_total{reason=\"bad_detail\"} 3"),
        "{metrics}"
    );

    let long = "x".repeat(150);
    let status = app
        .client
        .post(format!("/hit/{BLOG}?p=/a&utm_campaign={long}"))
        .header(Header::new("User-Agent", FIREFOX))
        .dispatch()
        .await
        .status();
    assert_eq!(status, Status::NoContent);
    let status = app
        .client
        .get(format!("/pixel/{BLOG}.gif?p=/b"))
        .header(Header::new(
            "Referer",
            format!("https://{BLOG}/b?utm_medium=a%0Ab&utm_source=mail"),
        ))
        .header(Header::new("User-Agent", IPHONE))
        .dispatch()
        .await
        .status();
    assert_eq!(status, Status::Ok);
    let stats = site_stats(&app, "24h").await;
    assert_eq!(stats["visits"], 2, "both pages counted");
    assert_eq!(
        shown(&stats["campaigns"]["utm_campaign"]),
        BTreeMap::from([("x".repeat(100), (1, None))])
    );
    assert_eq!(shown(&stats["campaigns"]["utm_medium"]), BTreeMap::new());
    assert_eq!(
        shown(&stats["sources"]),
        BTreeMap::from([("mail".to_owned(), (1, None))])
    );

    let signed = SiteRequest {
        domain: "signed.example".into(),
        hosts: Vec::new(),
        visibility: Visibility::Public,
        signed: true,
        badge: false,
        origin_required: false,
    };
    store::add(&app.db, &signed.validate().unwrap())
        .await
        .unwrap();
    let status = app
        .client
        .get("/pixel/signed.example.gif?p=/&e=Forged")
        .header(Header::new("User-Agent", FIREFOX))
        .dispatch()
        .await
        .status();
    assert_eq!(status, Status::Ok);
    let events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM visit_events WHERE event IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(events, 0, "no event named on a signed site");
}

/// Goals from the command line and the admin API: converters, completions
/// and conversion rates of the range, exact; a page goal with `*` counts
/// every page under it once per visitor.
#[rocket::async_test]
async fn goals_count_converters_and_completions() {
    let database = crate::helpers::fresh_database().await;
    let app = TestApp::spawn_on(
        &database.url,
        &[("stats_cache_ms", "0"), ("admin_token", ADMIN_TOKEN)],
    )
    .await;
    let site = add_blog(&app).await;
    let env = [("DATABASE_URL", database.url.as_str())];
    let (code, out, stderr) = run_command(&["goals", "add", BLOG, "--event", "Signup"], &env);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.contains("counts the goal event Signup"), "{out}");
    let (code, _, stderr) = run_command(&["goals", "add", BLOG, "--page", "blog/*"], &env);
    assert_eq!(code, 2, "a path starts with /");
    assert!(stderr.contains("must be a path"), "{stderr}");
    let response = app
        .client
        .post(format!("/api/sites/{BLOG}/goals"))
        .header(ContentType::JSON)
        .header(Header::new(
            "Authorization",
            format!("Bearer {ADMIN_TOKEN}"),
        ))
        .body(r#"{"kind": "page", "pattern": "/docs/*"}"#)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Created);
    let response = app
        .client
        .post(format!("/api/sites/{BLOG}/goals"))
        .header(ContentType::JSON)
        .header(Header::new(
            "Authorization",
            format!("Bearer {ADMIN_TOKEN}"),
        ))
        .body(r#"{"kind": "page", "pattern": "/pricing"}"#)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Created);
    let refused = app
        .client
        .post(format!("/api/sites/{BLOG}/goals"))
        .header(ContentType::JSON)
        .header(Header::new(
            "Authorization",
            format!("Bearer {ADMIN_TOKEN}"),
        ))
        .body(r#"{"kind": "page", "pattern": "/a*b"}"#)
        .dispatch()
        .await;
    assert_eq!(refused.status(), Status::BadRequest);
    let (_, listed, _) = run_command(&["goals", "list", BLOG], &env);
    assert_eq!(listed, "event Signup\npage /docs/*\npage /pricing\n");

    let now = database_now(&app.db).await.unwrap();
    let signup = HitDetails {
        event: text("Signup"),
        ..Default::default()
    };
    let none = HitDetails::default();
    for (who, path, details, ago) in [
        (1u8, "/docs/a", &none, TimeDelta::days(3)),
        (1, "/docs/b", &none, TimeDelta::hours(2)),
        (1, "/pricing", &none, TimeDelta::hours(2)),
        (1, "/pricing", &signup, TimeDelta::hours(1)),
        (2, "/docs/a", &none, TimeDelta::minutes(30)),
        (2, "/", &none, TimeDelta::minutes(20)),
        (3, "/", &none, TimeDelta::minutes(10)),
        (3, "/", &signup, TimeDelta::minutes(9)),
        (3, "/", &signup, TimeDelta::minutes(8)),
        (4, "/", &none, TimeDelta::minutes(5)),
    ] {
        record_visits(
            &app.db,
            &[NewVisit {
                site,
                visitor: VisitorKey::from_bytes([who; 32]),
                path,
                browser: "Firefox",
                os: "Linux",
                device: "desktop",
                is_bot: false,
                country: None,
                details,
                referrer_host: None,
                visited_at: Some(now - ago),
                request: None,
            }],
        )
        .await
        .unwrap();
    }
    let goals = |stats: &Value| -> Vec<(String, i64, i64, f64)> {
        stats["goals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|goal| {
                (
                    goal["pattern"].as_str().unwrap().to_owned(),
                    goal["converters"].as_i64().unwrap(),
                    goal["completions"].as_i64().unwrap(),
                    goal["conversion_rate"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        goals(&site_stats(&app, "all").await),
        [
            ("Signup".to_owned(), 2, 3, 50.0),
            ("/docs/*".to_owned(), 2, 3, 50.0),
            ("/pricing".to_owned(), 1, 1, 25.0),
        ]
    );
    assert_eq!(
        goals(&site_stats(&app, "1h").await),
        [
            ("Signup".to_owned(), 1, 2, 33.3),
            ("/docs/*".to_owned(), 1, 1, 33.3),
            ("/pricing".to_owned(), 0, 0, 0.0),
        ]
    );
    let removed = app
        .client
        .delete(format!(
            "/api/sites/{BLOG}/goals?kind=page&pattern=/pricing"
        ))
        .header(Header::new(
            "Authorization",
            format!("Bearer {ADMIN_TOKEN}"),
        ))
        .dispatch()
        .await;
    assert_eq!(removed.status(), Status::NoContent);
    assert_eq!(goals(&site_stats(&app, "all").await).len(), 2);
}

const ADMIN_TOKEN: &str = "an-admin-token-for-goals";

/// The script, at its own address and at a versioned one (an earlier
/// version's leading to it), embeddable from any site, and small.
#[rocket::async_test]
async fn the_script_is_served_small_and_cacheable() {
    let app = TestApp::spawn().await;
    let response = app.client.get("/script.js").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::JavaScript));
    assert_eq!(
        response.headers().get_one("Cross-Origin-Resource-Policy"),
        Some("cross-origin")
    );
    assert_eq!(
        response.headers().get_one("Cache-Control"),
        Some("public, max-age=3600")
    );
    let body = response.into_string().await.unwrap();
    assert!(body.contains("sendBeacon") && body.len() < 4096, "{body}");
    let version = visitors::sources::ScriptUrls::versioned();
    let response = app.client.get(version).dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.headers().get_one("Cache-Control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(response.into_string().await.unwrap(), body);
    // A page that kept an earlier version's address after an upgrade.
    let earlier = app
        .client
        .get("/script/0123456789abcdef.js")
        .dispatch()
        .await;
    assert_eq!(earlier.status(), Status::TemporaryRedirect);
    assert_eq!(earlier.headers().get_one("Location"), Some("/script.js"));
    let other = app.client.get("/script/visitors.js").dispatch().await;
    assert_eq!(other.status(), Status::NotFound);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM visit_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0, "loading the script records nothing");
}

/// Campaign values, sources and event names come from the page's visitor:
/// the dashboard escapes them, the CSV guards them against formulas.
#[rocket::async_test]
async fn text_from_the_page_is_escaped_wherever_it_is_shown() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    add_blog(&app).await;
    let status = app
        .client
        .post(format!(
            "/hit/{BLOG}?p=/&r=&utm_source=%3Cscript%3Ealert(1)%3C%2Fscript%3E\
             &utm_campaign=%3DHYPERLINK(%22http%3A%2F%2Fevil.example%22)"
        ))
        .header(Header::new("User-Agent", FIREFOX))
        .dispatch()
        .await
        .status();
    assert_eq!(status, Status::NoContent);
    let event = app
        .client
        .post(format!("/hit/{BLOG}?p=/&e=%40SUM(A1%3AA9)%20%3Cb%3E"))
        .header(Header::new("User-Agent", FIREFOX))
        .dispatch()
        .await
        .status();
    assert_eq!(event, Status::NoContent);
    let html = app
        .client
        .get(format!("/sites/{BLOG}?range=24h"))
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("@SUM(A1:A9) &#60;b&#62;"), "{html}");
    let json: Value = site_stats(&app, "24h").await;
    assert_eq!(
        json["sources"][0]["name"], "<script>alert(1)</script>",
        "JSON holds the text itself, escaped by its encoding"
    );
    let csv = app
        .client
        .get(format!(
            "/api/sites/{BLOG}/export.csv?granularity=hour&range=24h"
        ))
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(
        csv.contains(",utm_campaign,\"'=HYPERLINK(\"\"http://evil.example\"\")\",1,"),
        "{csv}"
    );
    assert!(csv.contains(",event,'@SUM(A1:A9) <b>,1,1"), "{csv}");
}
