//! Exact counting under concurrency, bots, and which address identifies a visitor.

use std::{collections::BTreeSet, time::Duration};

use chrono::TimeDelta;
use futures::future::join_all;
use rocket::http::{Header, Status};
use visitors::{
    counting::{
        maintenance::maintain_counters,
        site_id::SiteId,
        store::{record_visits, NewVisit},
        visitor_key::VisitorKey,
    },
    infra::database::database_now,
};

use crate::helpers::{
    fresh_database, page_number, your_visits, TestApp, FIREFOX, GOOGLEBOT, NO_DETAILS,
};

#[rocket::async_test]
async fn five_hundred_concurrent_first_visits_of_one_visitor_count_exactly() {
    let app = TestApp::spawn().await;
    let responses = join_all((0..500).map(|_| app.visit("198.51.100.7", FIREFOX))).await;

    let mut seen = BTreeSet::new();
    for response in responses {
        assert_eq!(response.status(), Status::Ok);
        seen.insert(your_visits(&response.into_string().await.unwrap()));
    }
    // Every visit got its own count: none lost, none counted twice.
    assert_eq!(seen, (1..=500).collect::<BTreeSet<_>>());

    let (visits, bot_visits, unique) = app.totals().await;
    assert_eq!((visits, bot_visits, unique), (500, 0, 1));
    let stored: i64 = sqlx::query_scalar("SELECT visits FROM visitors")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 500);
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM visit_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(events, 500);
}

#[rocket::async_test]
async fn concurrent_new_visitors_are_each_counted_once() {
    let app = TestApp::spawn().await;
    let ips: Vec<String> = (0..200)
        .map(|i| format!("10.1.{}.{}", i / 250, i % 250 + 1))
        .collect();
    let responses = join_all(ips.iter().map(|ip| app.visit(ip, FIREFOX))).await;
    assert!(responses.iter().all(|r| r.status() == Status::Ok));
    assert_eq!(app.totals().await, (200, 0, 200));
}

#[rocket::async_test]
async fn the_page_shows_the_visitor_and_the_totals() {
    let app = TestApp::spawn().await;
    app.visit("192.0.2.1", FIREFOX).await;
    app.visit("192.0.2.2", FIREFOX).await;
    app.visit("192.0.2.1", FIREFOX).await;
    let html = app
        .visit("192.0.2.1", FIREFOX)
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(your_visits(&html), 3);
    assert_eq!(page_number(&html, "unique-visitors"), 2);
    assert_eq!(page_number(&html, "visits"), 4);
    assert!(
        html.contains("test-instance"),
        "the serving instance is named"
    );
    assert!(html.contains("Firefox"), "the visitor's browser is shown");
}

#[rocket::async_test]
async fn another_browser_on_the_same_address_is_another_visitor() {
    let app = TestApp::spawn().await;
    app.visit("192.0.2.1", FIREFOX).await;
    app.visit(
        "192.0.2.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0.0.0 Safari/537.36",
    )
    .await;
    assert_eq!(app.totals().await, (2, 0, 2));
}

#[rocket::async_test]
async fn crawlers_and_empty_agents_are_never_unique_visitors() {
    let app = TestApp::spawn().await;
    for ip in ["192.0.2.10", "192.0.2.11"] {
        assert_eq!(app.visit(ip, GOOGLEBOT).await.status(), Status::Ok);
        assert_eq!(app.visit(ip, "").await.status(), Status::Ok);
    }
    let no_agent = app.client.get("/").dispatch().await;
    assert_eq!(no_agent.status(), Status::Ok);
    assert_eq!(app.totals().await, (0, 5, 0));

    let html = app
        .visit("192.0.2.12", FIREFOX)
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(page_number(&html, "unique-visitors"), 1);
    assert_eq!(page_number(&html, "visits"), 1);
    let bots: i64 = sqlx::query_scalar("SELECT count(*) FROM visit_events WHERE is_bot")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(bots, 5, "bot visits are still stored, marked as bots");
}

/// Same peer, different X-Real-IP values: how many visitors does the app see?
async fn visitors_seen_behind_one_peer(app: &TestApp, header_values: &[&str]) -> i64 {
    for value in header_values {
        let response = app
            .client
            .get("/")
            .remote("192.0.2.200:50000".parse().unwrap())
            .header(Header::new("User-Agent", FIREFOX))
            .header(Header::new("X-Real-IP", value.to_string()))
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::Ok);
    }
    app.totals().await.2
}

#[rocket::async_test]
async fn forwarded_headers_are_ignored_by_default() {
    let app = TestApp::spawn().await;
    assert_eq!(
        visitors_seen_behind_one_peer(&app, &["203.0.113.1", "203.0.113.2"]).await,
        1
    );
}

#[rocket::async_test]
async fn a_trusted_ip_header_identifies_visitors() {
    let app = TestApp::spawn_with(&[("ip_header", "X-Real-IP")]).await;
    assert_eq!(
        visitors_seen_behind_one_peer(&app, &["203.0.113.1", "203.0.113.2"]).await,
        2
    );
}

#[rocket::async_test]
async fn a_malformed_trusted_header_falls_back_to_the_peer() {
    let app = TestApp::spawn_with(&[("ip_header", "X-Real-IP")]).await;
    let seen = visitors_seen_behind_one_peer(&app, &["not-an-ip", "999.1.1.1", "<script>"]).await;
    assert_eq!(seen, 1, "all three fall back to the one peer address");
}

/// The corpus of automated clients and real browsers
/// (tests/fixtures/user_agents.tsv), each sent to `/` from an address of
/// its own through the real recording path: the automated ones must be
/// recorded as bot visits, the browsers as visitors. Target: at least 95 %
/// of the automated clients kept out of unique visitors, no browser.
#[rocket::async_test]
async fn automated_clients_are_bots_and_browsers_are_visitors() {
    let corpus = include_str!("../fixtures/user_agents.tsv");
    let entries: Vec<(&str, &str)> = corpus
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| line.split_once('\t').expect("KIND<TAB>USER_AGENT"))
        .collect();
    let app = TestApp::spawn().await;
    let (mut bots, mut browsers, mut missed, mut false_positives) = (0, 0, Vec::new(), Vec::new());
    for (i, (kind, user_agent)) in entries.iter().enumerate() {
        let (_, bot_visits_before, _) = app.totals().await;
        let ip = format!("198.18.{}.{}", i / 250, i % 250 + 1);
        assert_eq!(app.visit(&ip, user_agent).await.status(), Status::Ok);
        let (_, bot_visits_after, _) = app.totals().await;
        let recorded_as_bot = bot_visits_after > bot_visits_before;
        if *kind == "browser" {
            browsers += 1;
            if recorded_as_bot {
                false_positives.push(*user_agent);
            }
        } else {
            bots += 1;
            if !recorded_as_bot {
                missed.push(format!("{kind}: {user_agent}"));
            }
        }
    }
    assert!(
        bots >= 60 && browsers >= 40,
        "{bots} bots, {browsers} browsers"
    );
    let (visits, bot_visits, unique) = app.totals().await;
    assert_eq!(
        (visits, bot_visits, unique),
        (
            (browsers - false_positives.len()) as i64,
            (bots - missed.len() + false_positives.len()) as i64,
            (browsers - false_positives.len()) as i64
        )
    );
    assert!(
        false_positives.is_empty(),
        "browsers taken for bots: {false_positives:#?}"
    );
    let share = (bots - missed.len()) as f64 / bots as f64;
    println!(
        "automated clients kept out: {:.1} % of {bots}; browsers counted: {browsers} of {browsers}",
        share * 100.0
    );
    assert!(
        share >= 0.95,
        "only {:.1} % kept out; missed: {missed:#?}",
        share * 100.0
    );
}

/// `GET /` as one visitor who came from `referer`.
async fn visit_from<'a>(
    app: &'a TestApp,
    ip: &str,
    referer: &str,
) -> rocket::local::asynchronous::LocalResponse<'a> {
    app.client
        .get("/")
        .remote(std::net::SocketAddr::new(ip.parse().unwrap(), 40000))
        .header(Header::new("User-Agent", FIREFOX))
        .header(Header::new("Referer", referer.to_owned()))
        .dispatch()
        .await
}

/// 300 concurrent hits of one visitor (one address, one browser: an office
/// behind one NAT, a load test) are merged into few batches, and still each
/// answers with its own count, 1 … 300, and leave exactly what 300 hits one
/// after the other leave.
#[rocket::async_test]
async fn three_hundred_concurrent_hits_of_one_visitor_equal_three_hundred_in_a_row() {
    let referer = |i: usize| {
        if i.is_multiple_of(3) {
            "https://news.example.org/story"
        } else {
            "https://search.example.com/?q=visitors"
        }
    };
    let concurrent = TestApp::spawn().await;
    let responses =
        join_all((0..300).map(|i| visit_from(&concurrent, "198.51.100.9", referer(i)))).await;
    let mut seen = BTreeSet::new();
    for response in responses {
        assert_eq!(response.status(), Status::Ok);
        assert!(seen.insert(your_visits(&response.into_string().await.unwrap())));
    }
    assert_eq!(seen, (1..=300).collect::<BTreeSet<_>>());

    let sequential = TestApp::spawn().await;
    for i in 0..300 {
        assert_eq!(
            visit_from(&sequential, "198.51.100.9", referer(i))
                .await
                .status(),
            Status::Ok
        );
    }
    assert_eq!(concurrent.totals().await, (300, 0, 1));
    assert_eq!(concurrent.totals().await, sequential.totals().await);
    let (rollups, breakdowns) = concurrent.rollup_summary().await;
    assert_eq!(
        rollups.len(),
        3,
        "minute, hour and day rollups: {rollups:?}"
    );
    assert!(rollups
        .iter()
        .all(|(_, visits, unique)| (*visits, *unique) == (300, 1)));
    assert_eq!((rollups, breakdowns), sequential.rollup_summary().await);
}

/// One visitor's repeated hits in the same batches as other visitors' first
/// visits: every count stays exact.
#[rocket::async_test]
async fn a_visitors_repeated_hits_mixed_with_first_visits_stay_exact() {
    let app = TestApp::spawn().await;
    let ips: Vec<String> = (0..300u32)
        .map(|i| {
            if i.is_multiple_of(2) {
                "198.51.100.10".to_owned()
            } else {
                format!("10.2.{}.{}", i / 250, i % 250 + 1)
            }
        })
        .collect();
    let responses = join_all(ips.iter().map(|ip| app.visit(ip, FIREFOX))).await;
    let mut repeated = BTreeSet::new();
    for (ip, response) in ips.iter().zip(responses) {
        assert_eq!(response.status(), Status::Ok);
        let count = your_visits(&response.into_string().await.unwrap());
        if ip == "198.51.100.10" {
            assert!(repeated.insert(count), "count {count} seen twice");
        } else {
            assert_eq!(count, 1, "a first visit");
        }
    }
    assert_eq!(repeated, (1..=150).collect::<BTreeSet<_>>());
    assert_eq!(app.totals().await, (300, 0, 151));
}

/// The numbers of one answer come from one snapshot, however many visits
/// are recorded while it is read: each visitor has one browser, so the
/// browsers' unique visitors add up to the range's, and the visitors right
/// now are some of the last hour's.
#[rocket::async_test]
async fn every_answer_reads_its_numbers_from_one_snapshot() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    let app = &app;
    let done = std::sync::atomic::AtomicBool::new(false);
    // Visits one after the other, each its own commit, while the numbers
    // are read again and again.
    let writes = async {
        for i in 0..300 {
            let ip = format!("10.2.{}.{}", i / 250, i % 250 + 1);
            assert_eq!(app.visit(&ip, FIREFOX).await.status(), Status::Ok);
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let reads = async {
        let mut read = Vec::new();
        for range in ["1h", "24h", "all"].into_iter().cycle() {
            if done.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            let response = app
                .client
                .get(format!("/api/stats?range={range}"))
                .dispatch()
                .await;
            read.push(response.into_json::<serde_json::Value>().await.unwrap());
        }
        read
    };
    let ((), read) = futures::join!(writes, reads);
    assert!(read.len() > 10, "read while visits were recorded");
    for stats in read {
        let unique = stats["unique_visitors"].as_i64().unwrap();
        let browsers: i64 = stats["browsers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["unique_visitors"].as_i64().unwrap())
            .sum();
        assert_eq!(browsers, unique, "{stats}");
        assert!(
            stats["current_visitors"].as_i64().unwrap() <= unique,
            "{stats}"
        );
        assert!(stats["visits"].as_i64().unwrap() >= unique, "{stats}");
    }
}

/// nginx may send one request to a second replica after the first recorded
/// its visit and failed: the request's id (nginx's `$request_id`) makes
/// the second answer with the counts as they stand and count nothing.
#[rocket::async_test]
async fn a_request_sent_again_is_counted_once() {
    let app = TestApp::spawn().await;
    let request = |id: &'static str| {
        app.client
            .get("/")
            .remote("192.0.2.7:40000".parse().unwrap())
            .header(Header::new("User-Agent", FIREFOX))
            .header(Header::new("X-Request-ID", id))
            .dispatch()
    };
    let first = request("00112233445566778899aabbccddeeff").await;
    assert_eq!(your_visits(&first.into_string().await.unwrap()), 1);
    let again = request("00112233445566778899aabbccddeeff").await;
    assert_eq!(again.status(), Status::Ok);
    let html = again.into_string().await.unwrap();
    assert_eq!(your_visits(&html), 1, "the same visit, not a second one");
    assert_eq!(page_number(&html, "visits"), 1);
    let other = request("ffeeddccbbaa99887766554433221100").await;
    assert_eq!(your_visits(&other.into_string().await.unwrap()), 2);
    // Not an id: counted as a request without one.
    request("not-a-request-id").await;
    assert_eq!(app.totals().await, (3, 0, 1));
}

/// Two replicas given the same requests at once (a retry racing the first
/// try) count each once.
#[rocket::async_test]
async fn the_same_request_on_two_replicas_at_once_counts_once() {
    let first = TestApp::spawn().await;
    let database = sqlx::query_scalar::<_, String>("SELECT current_database()")
        .fetch_one(&first.db)
        .await
        .unwrap();
    let mut url = url::Url::parse(&crate::helpers::server_url()).unwrap();
    url.set_path(&database);
    let second = TestApp::spawn_on(url.as_str(), &[]).await;
    let ids: Vec<String> = (0..100u32).map(|i| format!("{i:032x}")).collect();
    let sends = ids.iter().enumerate().flat_map(|(i, id)| {
        let ip = format!("10.3.0.{}", i + 1);
        [&first, &second].map(|app| {
            let request = app
                .client
                .get("/")
                .remote(format!("{ip}:40000").parse().unwrap())
                .header(Header::new("User-Agent", FIREFOX))
                .header(Header::new("X-Request-ID", id.clone()));
            async move { request.dispatch().await.status() }
        })
    });
    let statuses = join_all(sends).await;
    assert!(statuses.iter().all(|status| *status == Status::Ok));
    assert_eq!(first.totals().await, (100, 0, 100));
}

/// The maintenance job merges a past minute's and hour's rows while a batch
/// writes departures into them for two sites. The job locks rows in the
/// order the batch does (breakdowns, then rollups, each in key order); in
/// scan order (the rows of site 2 stored first), or rollups first, the two
/// deadlocked. A test transaction holds site 2's past minute until both
/// wait, so that they meet in the worst order every time. No app runs: its
/// own maintenance would join in.
#[rocket::async_test]
async fn maintenance_and_a_batch_of_two_sites_never_deadlock() {
    let database = fresh_database().await;
    let db = sqlx::PgPool::connect(&database.url).await.unwrap();
    visitors::infra::database::migrate(&db).await.unwrap();
    let now = database_now(&db).await.unwrap();
    let key = VisitorKey::from_bytes([5; 32]);
    let visit = move |site: i32, visited_at| NewVisit {
        site: SiteId(site),
        visitor: key,
        path: "/",
        browser: "Firefox",
        os: "Linux",
        device: "desktop",
        is_bot: false,
        country: None,
        details: &NO_DETAILS,
        referrer_host: None,
        visited_at,
        request: None,
    };
    // Past its minute and its hour, within the minutes kept.
    let earlier = now - TimeDelta::minutes(70);
    for site in [2, 1] {
        record_visits(&db, &[visit(site, Some(earlier))])
            .await
            .unwrap();
    }
    let mut holder = db.begin().await.unwrap();
    sqlx::query(
        "SELECT 1 FROM visit_rollups WHERE site_id = 2 AND granularity = 'minute' \
         AND bucket = date_trunc('minute', $1, 'UTC') AND shard = 5 FOR UPDATE",
    )
    .bind(earlier)
    .execute(&mut *holder)
    .await
    .unwrap();
    let waiting = |count: i64| {
        let db = db.clone();
        async move {
            for _ in 0..500 {
                let waits: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                )
                .fetch_one(&db)
                .await
                .unwrap();
                if waits >= count {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("{count} statements never waited for the held row");
        }
    };
    let pool = db.clone();
    let maintenance = tokio::spawn(async move { maintain_counters(&pool).await });
    waiting(1).await;
    let pool = db.clone();
    let batch =
        tokio::spawn(async move { record_visits(&pool, &[visit(1, None), visit(2, None)]).await });
    waiting(2).await;
    holder.commit().await.unwrap();
    let within = Duration::from_secs(30);
    let maintained = tokio::time::timeout(within, maintenance)
        .await
        .unwrap()
        .unwrap();
    let recorded = tokio::time::timeout(within, batch).await.unwrap().unwrap();
    assert!(maintained.is_ok(), "maintenance: {maintained:?}");
    assert_eq!(recorded.expect("the batch commits").len(), 2);
    for (granularity, dimension) in [("minute", None), ("hour", None), ("hour", Some("browser"))] {
        let unique: i64 = match dimension {
            None => sqlx::query_scalar(
                "SELECT sum(arrivals - departures)::bigint FROM visit_rollups \
                 WHERE granularity = $1 AND site_id = 1",
            )
            .bind(granularity),
            Some(dimension) => sqlx::query_scalar(
                "SELECT sum(arrivals - departures)::bigint FROM visitor_breakdowns \
                 WHERE granularity = $1 AND site_id = 1 AND dimension = $2",
            )
            .bind(granularity)
            .bind(dimension),
        }
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(
            unique, 1,
            "site 1's visitor counts once over its {granularity}s"
        );
    }
    db.close().await;
}

/// One batch holding the same request twice (a client that names its own
/// requests) records it once; the copy is answered, adding nothing.
#[rocket::async_test]
async fn a_request_twice_in_one_batch_counts_once() {
    let app = TestApp::spawn().await;
    let id = visitors::counting::visit::RequestId::parse("0123456789abcdef0123456789abcdef");
    let visit = |who: u8| NewVisit {
        site: SiteId::INSTANCE,
        visitor: VisitorKey::from_bytes([who; 32]),
        path: "/",
        browser: "Firefox",
        os: "Linux",
        device: "desktop",
        is_bot: false,
        country: None,
        details: &NO_DETAILS,
        referrer_host: None,
        visited_at: None,
        request: id,
    };
    let counts = record_visits(&app.db, &[visit(1), visit(1), visit(2)])
        .await
        .unwrap();
    assert_eq!(counts.len(), 3, "every visit is answered");
    assert_eq!(
        counts.iter().map(|c| c.recorded).collect::<Vec<_>>(),
        [true, false, false]
    );
    assert_eq!(app.totals().await, (1, 0, 1));
}
