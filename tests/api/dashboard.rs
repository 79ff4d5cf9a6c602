//! The dashboard, its chart and /api/stats against a hand-computed fixture.

use chrono::{DateTime, TimeDelta, Utc};
use rocket::http::{ContentType, Header, Status};
use serde_json::Value;
use visitors::{
    counting::{
        maintenance::maintain_counters,
        site_id::SiteId,
        store::{record_visits, NewVisit},
        user_agent::UserAgentClassifier,
        visitor_key::VisitorKey,
    },
    infra::database::database_now,
    stats::range::Granularity,
};

use crate::helpers::{page_number, TestApp, FIREFOX, IPHONE, NO_DETAILS};

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

/// A visit in the past, through the same statement as a live one.
async fn past_visit(
    app: &TestApp,
    who: u8,
    agent: &str,
    ago: TimeDelta,
    referrer: Option<&str>,
    now: DateTime<Utc>,
) {
    let classifier = UserAgentClassifier::new();
    let client = classifier.classify(agent);
    let mut key = [0u8; 32];
    key[0] = who;
    key[31] = who;
    record_visits(
        &app.db,
        &[NewVisit {
            site: SiteId::INSTANCE,
            visitor: VisitorKey::from_bytes(key),
            path: "/",
            browser: &client.browser,
            os: &client.os,
            device: client.device.as_str(),
            is_bot: client.is_bot(),
            country: None,
            details: &NO_DETAILS,
            referrer_host: referrer,
            visited_at: Some(now - ago),
            request: None,
        }],
    )
    .await
    .unwrap();
}

/// Visitors A, B, C, E (people) and D (a crawler), at times chosen well
/// inside or outside each range. Expected numbers, by hand:
///
/// | range | unique | visits | bots | who |
/// |-------|--------|--------|------|-----|
/// | 1h    | 1      | 2      | 0    | A   |
/// | 24h   | 2      | 4      | 1    | A C |
/// | 7d    | 3      | 6      | 2    | A B C |
/// | 30d   | 3      | 7      | 2    | A B C |
/// | all   | 4      | 8      | 2    | A B C E |
async fn fixture() -> TestApp {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    let now = database_now(&app.db).await.unwrap();
    let h = TimeDelta::hours;
    let d = TimeDelta::days;
    let m = TimeDelta::minutes;
    const A: u8 = 1;
    const B: u8 = 2;
    const C: u8 = 3;
    const D: u8 = 4;
    const E: u8 = 5;
    past_visit(&app, E, FIREFOX, d(45), None, now).await;
    past_visit(&app, A, FIREFOX, d(10), Some("news.example.com"), now).await;
    past_visit(&app, B, IPHONE, d(5), None, now).await;
    past_visit(&app, B, IPHONE, d(3), Some("news.example.com"), now).await;
    past_visit(&app, D, crate::helpers::GOOGLEBOT, d(2), None, now).await;
    // Both of C's visits in one hour, 20 hours before the current one.
    let c_hour = c_hour(now);
    past_visit(
        &app,
        C,
        CHROME,
        now - (c_hour + m(10)),
        Some("search.example.org"),
        now,
    )
    .await;
    past_visit(&app, C, CHROME, now - (c_hour + m(20)), None, now).await;
    past_visit(&app, D, crate::helpers::GOOGLEBOT, h(3), None, now).await;
    past_visit(&app, A, FIREFOX, m(30), Some("news.example.com"), now).await;
    past_visit(&app, A, FIREFOX, m(1), None, now).await;
    app
}

fn c_hour(now: DateTime<Utc>) -> DateTime<Utc> {
    Granularity::Hour.truncate(now) - TimeDelta::hours(20)
}

async fn api_stats(app: &TestApp, range: &str) -> Value {
    let response = app
        .client
        .get(format!("/api/stats?range={range}"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    response.into_json().await.unwrap()
}

fn names(entries: &Value) -> Vec<(String, i64)> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["unique_visitors"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[rocket::async_test]
async fn exact_numbers_for_every_range() {
    let app = fixture().await;
    for (range, unique, visits, bots, buckets) in [
        ("1h", 1, 2, 0, Some(60)),
        ("24h", 2, 4, 1, Some(24)),
        ("7d", 3, 6, 2, Some(7)),
        ("30d", 3, 7, 2, Some(30)),
        ("all", 4, 8, 2, None),
    ] {
        let stats = api_stats(&app, range).await;
        assert_eq!(stats["range"], range);
        assert_eq!(stats["unique_visitors"], unique, "{range} unique");
        assert_eq!(stats["visits"], visits, "{range} visits");
        assert_eq!(stats["bot_visits"], bots, "{range} bots");
        assert_eq!(
            stats["current_visitors"], 1,
            "only A visited in the last 5 minutes"
        );
        let series = stats["series"].as_array().unwrap();
        if let Some(buckets) = buckets {
            assert_eq!(
                series.len(),
                buckets,
                "{range}: every bucket, empty ones too"
            );
        }
        let series_visits: i64 = series.iter().map(|p| p["visits"].as_i64().unwrap()).sum();
        assert_eq!(series_visits, visits, "{range}: the series adds up");
        let browsers: i64 = names(&stats["browsers"]).iter().map(|(_, n)| n).sum();
        assert_eq!(browsers, unique, "{range}: each visitor has one browser");
        for key in ["from", "to", "generated_at"] {
            let text = stats[key].as_str().unwrap();
            assert!(
                DateTime::parse_from_rfc3339(text).is_ok() && text.ends_with('Z'),
                "{key}: {text}"
            );
        }
    }

    let all = api_stats(&app, "all").await;
    assert_eq!(
        all["series"].as_array().unwrap().len(),
        46,
        "all time starts at the first day (45 days ago)"
    );
    assert_eq!(
        names(&all["browsers"]),
        [
            ("Firefox".into(), 2),
            ("Chrome".into(), 1),
            ("Mobile Safari".into(), 1)
        ]
    );
    assert_eq!(all["browsers"][0]["share"], 50.0);
    assert_eq!(
        names(&all["devices"]),
        [("desktop".into(), 3), ("mobile".into(), 1)]
    );

    let day = api_stats(&app, "24h").await;
    let c_start = c_hour(
        DateTime::parse_from_rfc3339(day["to"].as_str().unwrap())
            .unwrap()
            .to_utc(),
    );
    let c_bucket = day["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["start"] == c_start.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap();
    assert_eq!(
        (
            c_bucket["visits"].as_i64(),
            c_bucket["unique_visitors"].as_i64()
        ),
        (Some(2), Some(1)),
        "C twice in one hour"
    );
    assert_eq!(
        names(&day["referrers"]),
        [
            ("news.example.com".into(), 1),
            ("search.example.org".into(), 1)
        ]
    );
    for range in ["7d", "30d", "all"] {
        let referrers = names(&api_stats(&app, range).await["referrers"]);
        let expected = [
            ("news.example.com".into(), 2),
            ("search.example.org".into(), 1),
        ];
        assert_eq!(
            referrers, expected,
            "{range}: A twice from news is one visitor"
        );
    }
}

/// (granularity, bucket, visits, bot visits, arrivals, departures)
type RollupRow = (String, DateTime<Utc>, i64, i64, i64, i64);
/// (granularity, bucket, dimension, value, arrivals, departures)
type BreakdownRow = (String, DateTime<Utc>, String, String, i64, i64);

/// Every counter, summed over shards (which maintenance merges).
async fn counters(app: &TestApp) -> (Vec<RollupRow>, Vec<BreakdownRow>, Vec<(i64, i64, i64)>) {
    let rollups = sqlx::query_as(
        "SELECT granularity, bucket, sum(visits)::bigint, sum(bot_visits)::bigint, \
                sum(arrivals)::bigint, sum(departures)::bigint \
         FROM visit_rollups GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let breakdowns = sqlx::query_as(
        "SELECT granularity, bucket, dimension, value, sum(arrivals)::bigint, sum(departures)::bigint \
         FROM visitor_breakdowns GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let totals = sqlx::query_as(
        "SELECT sum(visits)::bigint, sum(bot_visits)::bigint, sum(unique_visitors)::bigint FROM visit_totals",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    (rollups, breakdowns, totals)
}

#[rocket::async_test]
async fn the_live_counters_equal_a_full_recomputation() {
    let app = fixture().await;
    // Live visits on top, concurrently, returning and new, some referred.
    let live = futures::future::join_all((0..40).map(|i| {
        app.client
            .get("/")
            .remote(format!("192.0.2.{}:1", i % 3 + 1).parse().unwrap())
            .header(Header::new("User-Agent", FIREFOX))
            .header(Header::new(
                "Referer",
                if i % 2 == 0 {
                    "https://news.example.com/"
                } else {
                    "https://other.example/"
                },
            ))
            .dispatch()
    }))
    .await;
    assert!(live.iter().all(|r| r.status() == Status::Ok));
    maintain_counters(&app.db).await.unwrap();
    let written = counters(&app).await;
    assert!(written.0.len() > 10 && written.1.len() > 10);

    sqlx::query("SELECT rebuild_visit_rollups()")
        .execute(&app.db)
        .await
        .unwrap();
    maintain_counters(&app.db).await.unwrap();
    assert_eq!(counters(&app).await, written);
}

#[rocket::async_test]
async fn the_api_matches_the_page_and_records_no_visit() {
    let app = fixture().await;
    let page = app
        .client
        .get("/?range=7d")
        .header(Header::new("User-Agent", FIREFOX))
        .dispatch()
        .await;
    assert_eq!(page.status(), Status::Ok);
    let html = page.into_string().await.unwrap();
    let stats = api_stats(&app, "7d").await;
    // The page's own visit (an unknown peer) is the fourth visitor of the week.
    assert_eq!(page_number(&html, "range-unique-visitors"), 4);
    assert_eq!(
        stats["unique_visitors"],
        page_number(&html, "range-unique-visitors")
    );
    assert_eq!(stats["visits"], page_number(&html, "range-visits"));
    assert_eq!(stats["bot_visits"], page_number(&html, "range-bot-visits"));
    assert_eq!(
        stats["current_visitors"],
        page_number(&html, "current-visitors")
    );
    for _ in 0..3 {
        api_stats(&app, "7d").await;
    }
    assert_eq!(
        api_stats(&app, "7d").await["visits"],
        stats["visits"],
        "reading stats records nothing"
    );
}

#[rocket::async_test]
async fn an_unknown_range_is_a_400_that_lists_the_valid_ones() {
    let app = TestApp::spawn().await;
    let page = app.client.get("/?range=2w").dispatch().await;
    assert_eq!(page.status(), Status::BadRequest);
    let html = page.into_string().await.unwrap();
    for range in [
        "1h",
        "today",
        "yesterday",
        "24h",
        "7d",
        "30d",
        "month",
        "last-month",
        "year",
        "all",
    ] {
        assert!(
            html.contains(&format!("href=\"/?range={range}\"")),
            "{range} offered"
        );
    }
    let api = app
        .client
        .get("/api/stats?range=%3Cscript%3E")
        .dispatch()
        .await;
    assert_eq!(api.status(), Status::BadRequest);
    let body: Value = api.into_json().await.unwrap();
    assert_eq!(body["valid_ranges"].as_array().unwrap().len(), 10);
    assert_eq!(
        app.client
            .get("/chart.svg?range=1y")
            .dispatch()
            .await
            .status(),
        Status::BadRequest
    );
    assert_eq!(
        app.totals().await,
        (0, 0, 0),
        "a bad range records no visit"
    );
}

#[rocket::async_test]
async fn the_chart_is_well_formed_svg_with_one_bar_per_bucket() {
    let app = fixture().await;
    for (range, buckets) in [("1h", 60), ("24h", 24), ("7d", 7), ("30d", 30), ("all", 46)] {
        let response = app
            .client
            .get(format!("/chart.svg?range={range}"))
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::Ok);
        assert_eq!(response.content_type(), Some(ContentType::SVG));
        let svg = response.into_string().await.unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{range}: {e}"));
        let bars = |class: &str| {
            doc.descendants()
                .filter(|n| n.has_tag_name("rect") && n.attribute("class") == Some(class))
                .count()
        };
        assert_eq!(
            (bars("visits"), bars("unique")),
            (buckets, buckets),
            "{range}"
        );
        let labels: Vec<&str> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("x-label"))
            .filter_map(|n| n.text())
            .collect();
        assert!(
            !labels.is_empty() && labels.len() <= 8,
            "{range}: {labels:?}"
        );
        if range == "1h" {
            assert!(
                labels
                    .iter()
                    .all(|l| l.len() == 5 && l.as_bytes()[2] == b':'),
                "minutes as HH:MM: {labels:?}"
            );
        }
    }
    let page = app
        .client
        .get("/?range=24h")
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(page.contains("<svg"), "the chart is inline in the page");
}

#[rocket::async_test]
async fn hostile_agents_and_referrers_are_escaped_on_the_dashboard() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    for (i, referrer) in [
        "https://evil.example/<script>alert(1)</script>",
        "foo://x\"onmouseover=alert(1)//",
        "https://a.example/?q=<img src=x>",
    ]
    .iter()
    .enumerate()
    {
        app.client
            .get("/")
            .remote(format!("192.0.2.{}:1", i + 1).parse().unwrap())
            .header(Header::new(
                "User-Agent",
                "<img src=x onerror=alert(1)>/1.2 CFNetwork/1.0 Darwin/1",
            ))
            .header(Header::new("Referer", referrer.to_string()))
            .dispatch()
            .await;
    }
    let html = app
        .client
        .get("/?range=1h")
        .header(Header::new("User-Agent", FIREFOX))
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(
        html.contains("&#60;img src=x onerror=alert(1)&#62;")
            || html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "the hostile family is listed, escaped"
    );
    assert!(!html.contains("<img src=x"));
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("\"onmouseover"));
}

#[rocket::async_test]
async fn maintenance_merges_past_shards_and_drops_old_counters_without_changing_a_number() {
    let app = fixture().await;
    let ranges = ["1h", "24h", "7d", "all"];
    let before: Vec<Value> = futures::future::join_all(ranges.map(|r| api_stats(&app, r))).await;
    maintain_counters(&app.db).await.unwrap();

    let leftovers: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM visit_rollups WHERE shard >= 0 AND bucket < date_trunc(granularity, now(), 'UTC')) \
              + (SELECT count(*) FROM visitor_breakdowns WHERE shard >= 0 AND bucket < date_trunc(granularity, now(), 'UTC')) \
              + (SELECT count(*) FROM visit_rollups WHERE granularity <> 'day' AND bucket < now() - interval '3 days') \
              + (SELECT count(*) FROM visitor_breakdowns WHERE granularity <> 'day' AND bucket < now() - interval '3 days')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        leftovers, 0,
        "past buckets are merged, old minute and hour counters gone"
    );

    let after: Vec<Value> = futures::future::join_all(ranges.map(|r| api_stats(&app, r))).await;
    for (before, after) in before.iter().zip(&after) {
        for key in [
            "unique_visitors",
            "visits",
            "bot_visits",
            "browsers",
            "os",
            "devices",
            "referrers",
        ] {
            assert_eq!(before[key], after[key], "{}: {key}", before["range"]);
        }
    }
}

/// A release may read a visitor's User-Agent differently from one visit to
/// the next: a crawler becomes a person, a browser is renamed, and back.
/// Every range's numbers still equal a count of the raw visits: each
/// visitor counted once among the unique visitors, once under each value
/// it had in the range.
#[rocket::async_test]
async fn visitors_read_differently_between_visits_count_exactly_in_every_range() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    let now = database_now(&app.db).await.unwrap();
    let (d, m) = (TimeDelta::days, TimeDelta::minutes);
    let chrome = ("Chrome", "Windows", "desktop", false);
    let chromium = ("Chromium", "Windows", "desktop", false);
    let crawler = ("Googlebot", "Other", "bot", true);
    let firefox = ("Firefox", "Linux", "desktop", false);
    let phone = ("Mobile Safari", "iOS", "mobile", false);
    let tablet = ("Mobile Safari", "iOS", "tablet", false);
    let edge = ("Edge", "Windows", "desktop", false);
    for (who, client, ago) in [
        (1u8, crawler, d(10)),
        (1, chrome, d(3)),
        (1, chromium, m(50)),
        (1, chrome, m(10)),
        (2, firefox, d(10)),
        (2, crawler, d(3)),
        (2, firefox, m(50)),
        (3, phone, d(3)),
        (3, tablet, m(10)),
        (3, phone, m(5)),
        (4, edge, d(10)),
        (5, crawler, m(50)),
        (6, chrome, m(10)),
        (6, crawler, m(5)),
    ] {
        let (browser, os, device, is_bot) = client;
        record_visits(
            &app.db,
            &[NewVisit {
                site: SiteId::INSTANCE,
                visitor: VisitorKey::from_bytes([who; 32]),
                path: "/",
                browser,
                os,
                device,
                is_bot,
                country: None,
                details: &NO_DETAILS,
                referrer_host: None,
                visited_at: Some(now - ago),
                request: None,
            }],
        )
        .await
        .unwrap();
    }
    for range in ["1h", "24h", "7d", "30d", "all"] {
        let stats = api_stats(&app, range).await;
        let from: DateTime<Utc> = stats["from"].as_str().unwrap().parse().unwrap();
        let (unique, visits, bots): (i64, i64, i64) = sqlx::query_as(
            "SELECT count(DISTINCT visitor_key) FILTER (WHERE NOT is_bot), \
                    count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_bot) \
             FROM visit_events WHERE visited_at >= $1",
        )
        .bind(from)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(
            (
                stats["unique_visitors"].as_i64().unwrap(),
                stats["visits"].as_i64().unwrap(),
                stats["bot_visits"].as_i64().unwrap()
            ),
            (unique, visits, bots),
            "{range}"
        );
        for (field, column) in [("browsers", "browser"), ("os", "os"), ("devices", "device")] {
            let mut raw: Vec<(String, i64)> = sqlx::query_as(&format!(
                "SELECT {column}, count(DISTINCT visitor_key) FROM visit_events \
                 WHERE visited_at >= $1 AND NOT is_bot GROUP BY 1"
            ))
            .bind(from)
            .fetch_all(&app.db)
            .await
            .unwrap();
            let mut shown = names(&stats[field]);
            raw.sort();
            shown.sort();
            assert_eq!(shown, raw, "{range} {field}");
        }
    }
    let (_, _, unique) = app.totals().await;
    assert_eq!(unique, 5, "every visitor who came as a person, once");
    // And the page's own answer for visitor 1, who comes back.
    let counts = record_visits(
        &app.db,
        &[NewVisit {
            site: SiteId::INSTANCE,
            visitor: VisitorKey::from_bytes([1; 32]),
            path: "/",
            browser: "Chrome",
            os: "Windows",
            device: "desktop",
            is_bot: false,
            country: None,
            details: &NO_DETAILS,
            referrer_host: None,
            visited_at: None,
            request: None,
        }],
    )
    .await
    .unwrap();
    assert_eq!((counts[0].your_visits, counts[0].is_new), (5, false));
    assert_eq!(counts[0].unique_visitors, 5);
}
