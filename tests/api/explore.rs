//! Filters: `?f=page:/a&f=!country:DE` narrows every number of a site's
//! dashboard and its JSON, exactly as a count of the raw visits does; the
//! page shows them as chips and every panel row links to one more.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use futures::future::join_all;
use rocket::http::Status;
use serde_json::Value;
use visitors::{
    counting::{
        details::{DetailText, HitDetails},
        site_id::SiteId,
        store::{record_visits, NewVisit},
        visitor_key::VisitorKey,
    },
    infra::database::{database_now, READ_DEADLINE},
    sites::model::Visibility,
    stats::store::begin_snapshot,
};

use crate::{helpers::TestApp, sites::add_site};

const BLOG: &str = "blog.example";
const PAGES: [&str; 4] = ["/a", "/b", "/c", "/d"];
const COUNTRIES: [Option<&str>; 4] = [Some("DE"), Some("FR"), Some("US"), None];
const BROWSERS: [&str; 2] = ["Firefox", "Chrome"];
const EVENTS: [&str; 2] = ["Signup", "Download"];

async fn add_blog(app: &TestApp, visibility: Visibility) -> (SiteId, String) {
    let site = add_site(app, BLOG, visibility, false, false).await;
    (site.id, site.share_token.to_hex())
}

/// Forty visitors over forty days, each on several pages, from several
/// countries (some change country), two browsers, some crawlers, some
/// sending events; every visit recorded at once, in concurrent batches.
async fn record_history(app: &TestApp, site: SiteId) {
    let now = database_now(&app.db).await.unwrap();
    let none = HitDetails::default();
    let events: Vec<HitDetails> = EVENTS
        .iter()
        .map(|name| HitDetails {
            event: DetailText::parse("test", name).unwrap(),
            ..Default::default()
        })
        .collect();
    // Visit by visit number, then visitor: a batch never holds one visitor
    // twice (its visits would have to share a time).
    let mut visits = Vec::new();
    for n in 0..5usize {
        for who in (0..40usize).filter(|who| n < 2 + who % 4) {
            let ago = match (who + n) % 5 {
                0 => TimeDelta::minutes((who + n) as i64 % 50),
                1 => TimeDelta::hours(1 + (who * n) as i64 % 20),
                _ => TimeDelta::days((who * 7 + n * 3) as i64 % 40),
            };
            let details = match (who % 7, n) {
                (0, 1) => &events[0],
                (3, _) if n > 1 => &events[1],
                _ => &none,
            };
            visits.push(NewVisit {
                site,
                visitor: VisitorKey::from_bytes([who as u8; 32]),
                path: PAGES[(who + n) % 4],
                browser: BROWSERS[who % 2],
                os: "Linux",
                device: if who % 9 == 4 { "bot" } else { "desktop" },
                is_bot: who % 9 == 4,
                country: COUNTRIES[(who + n / 3) % 4],
                referrer_host: None,
                details,
                visited_at: Some(now - ago),
                request: None,
            });
        }
    }
    let results = join_all(visits.chunks(3).map(|batch| record_visits(&app.db, batch))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}

/// One page view of `path` by visitor `who` at `at`, on its own.
async fn record_one(app: &TestApp, site: SiteId, who: u8, path: &str, at: DateTime<Utc>) {
    let visit = NewVisit {
        site,
        visitor: VisitorKey::from_bytes([who; 32]),
        path,
        browser: "Firefox",
        os: "Linux",
        device: "desktop",
        is_bot: false,
        country: None,
        referrer_host: None,
        details: &HitDetails::default(),
        visited_at: Some(at),
        request: None,
    };
    record_visits(&app.db, &[visit]).await.unwrap();
}

/// The filters as the test's own SQL, apart from the app's: a column's
/// value (or not), and an event's visitors (or not), from `$1` until `$2`.
fn condition(filter: &str) -> String {
    let (negated, filter) = match filter.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, filter),
    };
    let (dimension, value) = filter.split_once(':').unwrap();
    if dimension == "event" {
        let not = if negated { "NOT " } else { "" };
        return format!(
            "visitor_key {not}IN (SELECT visitor_key FROM visit_events \
             WHERE site_id <> 0 AND visited_at >= $1 AND visited_at < $2 AND event = '{value}')"
        );
    }
    let column = if dimension == "page" {
        "path"
    } else {
        dimension
    };
    let relation = if negated { "IS DISTINCT FROM" } else { "=" };
    format!("{column} {relation} '{value}'")
}

/// (unique visitors, visits) of `filters` from `window.0` until before
/// `window.1`, among page views (bots: visits only) or events, and grouped
/// by a column when one is given.
async fn counted(
    app: &TestApp,
    filters: &[&str],
    window: (DateTime<Utc>, DateTime<Utc>),
    rows: &str,
    group: Option<&str>,
) -> BTreeMap<String, (i64, i64)> {
    let mut conditions = vec![
        "site_id <> 0".to_owned(),
        "visited_at >= $1 AND visited_at < $2".to_owned(),
        rows.to_owned(),
    ];
    conditions.extend(filters.iter().map(|filter| condition(filter)));
    let key = group.map_or("'total'".to_owned(), |column| format!("{column}::text"));
    let sql = format!(
        "SELECT {key}, count(DISTINCT visitor_key), count(*) FROM visit_events \
         WHERE {} AND {key} IS NOT NULL GROUP BY 1",
        conditions.join(" AND ")
    );
    let found: Vec<(String, i64, i64)> = sqlx::query_as(&sql)
        .bind(window.0)
        .bind(window.1)
        .fetch_all(&app.db)
        .await
        .unwrap();
    found
        .into_iter()
        .map(|(value, visitors, visits)| (value, (visitors, visits)))
        .collect()
}

/// {name: (unique visitors, visits)} of a breakdown; page views and event
/// completions are shown, the others count visits only in the raw rows.
fn shown(entries: &Value) -> BTreeMap<String, i64> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["name"].as_str().unwrap().to_owned(),
                entry["unique_visitors"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn visitors_of(counts: &BTreeMap<String, (i64, i64)>) -> BTreeMap<String, i64> {
    counts
        .iter()
        .map(|(name, (visitors, _))| (name.clone(), *visitors))
        .collect()
}

fn query(period: &str, filters: &[&str]) -> String {
    let mut query = period.to_owned();
    for filter in filters {
        let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
        query.push_str(&format!("&f={encoded}"));
    }
    query
}

/// No filter, every filter alone, combined and negated, in every period
/// (rolling, calendar, days): each number and breakdown equals the raw
/// visits' count under the same conditions.
#[rocket::async_test]
async fn filtered_numbers_equal_the_raw_visits_counts() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    let (site, _) = add_blog(&app, Visibility::Public).await;
    record_history(&app, site).await;
    let filter_sets: [&[&str]; 9] = [
        &[],
        &["page:/a"],
        &["country:DE"],
        &["page:/a", "country:DE"],
        &["!page:/a"],
        &["!country:DE", "browser:Firefox"],
        &["event:Signup"],
        &["!event:Signup", "page:/b"],
        &["country:DE", "!country:FR", "device:desktop"],
    ];
    let page_views = "event IS NULL AND NOT is_bot";
    let today = database_now(&app.db).await.unwrap().date_naive();
    let days = format!(
        "from={}&to={}",
        today - TimeDelta::days(20),
        today - TimeDelta::days(10)
    );
    let periods = [
        "range=1h",
        "range=today",
        "range=yesterday",
        "range=24h",
        "range=7d",
        "range=30d",
        "range=month",
        "range=last-month",
        "range=year",
        "range=all",
        &days,
    ];
    for period in periods {
        for filters in filter_sets {
            let url = format!("/api/sites/{BLOG}/stats?{}", query(period, filters));
            let (status, stats) = app.get_json(&url).await;
            assert_eq!(status, Status::Ok, "{url}: {stats}");
            // All time starts at the first page view shown, but counts all;
            // a period up to now ends after every visit recorded.
            let time = |field: &str| stats[field].as_str().unwrap().parse().unwrap();
            let from = match period {
                "range=all" => DateTime::UNIX_EPOCH,
                _ => time("from"),
            };
            let window = (from, time("to"));
            let total = counted(&app, filters, window, page_views, None).await;
            let (visitors, visits) = total.get("total").copied().unwrap_or((0, 0));
            assert_eq!(stats["unique_visitors"], visitors, "{url}");
            assert_eq!(stats["visits"], visits, "{url}");
            let bots = counted(&app, filters, window, "event IS NULL AND is_bot", None).await;
            assert_eq!(
                stats["bot_visits"],
                bots.get("total").map_or(0, |(_, visits)| *visits),
                "{url}"
            );
            let series: i64 = stats["series"]
                .as_array()
                .unwrap()
                .iter()
                .map(|point| point["visits"].as_i64().unwrap())
                .sum();
            assert_eq!(series, visits, "{url}: the chart adds up");
            for (field, column, rows) in [
                ("pages", "path", page_views),
                ("countries", "country", page_views),
                ("browsers", "browser", page_views),
                ("events", "event", "event IS NOT NULL AND NOT is_bot"),
            ] {
                let expected = counted(&app, filters, window, rows, Some(column)).await;
                assert_eq!(
                    shown(&stats[field]),
                    visitors_of(&expected),
                    "{url}: {field}"
                );
            }
            let applied: Vec<String> = stats["filters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    let not = if f["negated"] == true { "!" } else { "" };
                    format!(
                        "{not}{}:{}",
                        f["dimension"].as_str().unwrap(),
                        f["value"].as_str().unwrap()
                    )
                })
                .collect();
            let mut asked: Vec<String> = filters.iter().map(|f| (*f).to_owned()).collect();
            asked.sort();
            let mut applied_sorted = applied.clone();
            applied_sorted.sort();
            assert_eq!(applied_sorted, asked, "{url}: the answer names its filters");
        }
    }
    let (_, whole) = app
        .get_json(&format!("/api/sites/{BLOG}/stats?range=30d"))
        .await;
    let (_, page_a) = app
        .get_json(&format!("/api/sites/{BLOG}/stats?range=30d&f=page:/a"))
        .await;
    assert!(
        page_a["unique_visitors"].as_i64().unwrap() < whole["unique_visitors"].as_i64().unwrap(),
        "a filter narrows: {page_a} {whole}"
    );
}

/// A bad filter or bad days are a 400 saying why, in JSON and on the page;
/// nothing else is answered for them.
#[rocket::async_test]
async fn a_bad_filter_or_bad_days_are_refused_with_the_reason() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    add_blog(&app, Visibility::Public).await;
    for (query, why) in [
        ("f=colour:red", "the dimensions are page"),
        ("f=page", "dimension:value"),
        ("f=page:", "empty"),
        ("from=2026-11-15&to=2026-11-01", "must not be after"),
        ("from=2026-11-01", "go together"),
        ("from=2026-11-01&to=2026-11-31", "must be a date"),
    ] {
        let url = format!("/api/sites/{BLOG}/stats?{query}");
        let (status, body) = app.get_json(&url).await;
        assert_eq!(status, Status::BadRequest, "{url}");
        assert!(body.to_string().contains(why), "{url}: {body}");
        let (status, html) = app.get_html(&format!("/sites/{BLOG}?{query}")).await;
        assert_eq!(status, Status::BadRequest);
        assert!(html.contains(why), "{html}");
    }
}

/// The page of a filtered private dashboard: chips that remove or turn
/// around each filter, rows that add one, range links that keep them, all
/// with the share token; its numbers are the JSON's.
#[rocket::async_test]
async fn the_filtered_page_links_keep_the_filters_and_the_token() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    let (site, token) = add_blog(&app, Visibility::Private).await;
    record_history(&app, site).await;
    let base = format!("/sites/{BLOG}?token={token}&#38;range=30d");
    let (status, html) = app
        .get_html(&format!("/sites/{BLOG}?range=30d&f=page:/a&token={token}"))
        .await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Page is <strong>/a</strong>"), "{html}");
    assert!(
        html.contains(&format!("href=\"{base}\" class=\"remove\"")),
        "the chip's cross leads to the whole site: {html}"
    );
    assert!(html.contains(&format!(
        "href=\"{base}&#38;f=%21page%3A%2Fa\" class=\"filter\""
    )));
    assert!(
        html.contains(&format!(
            "href=\"{base}&#38;f=page%3A%2Fa&#38;f=country%3ADE\""
        )),
        "a country row adds itself to the page's filter"
    );
    assert!(html.contains(&format!(
        "/sites/{BLOG}?token={token}&#38;range=7d&#38;f=page%3A%2Fa"
    )));
    // Any days, asked by a form that keeps the token and the filter.
    assert!(html.contains(&format!(
        "<input type=\"hidden\" name=\"token\" value=\"{token}\">"
    )));
    assert!(html.contains("<input type=\"hidden\" name=\"f\" value=\"page:/a\">"));
    assert!(html.contains("<input type=\"date\" name=\"from\""));
    let (_, stats) = app
        .get_json(&format!(
            "/api/sites/{BLOG}/stats?range=30d&f=page:/a&token={token}"
        ))
        .await;
    assert!(html.contains(&format!(
        "<dd id=\"range-unique-visitors\">{}</dd>",
        stats["unique_visitors"]
    )));
    let (status, _) = app
        .get_json(&format!("/api/sites/{BLOG}/stats?f=page:/a"))
        .await;
    assert_eq!(status, Status::NotFound, "a filter opens nothing private");
}

/// Where the range reaches past the raw visits kept, the filtered page says
/// from when it counts; the whole site's numbers (rollups) need no such note.
#[rocket::async_test]
async fn a_filtered_range_past_the_retention_says_so() {
    let app =
        TestApp::spawn_with(&[("stats_cache_ms", "0"), ("raw_visits_retention_days", "7")]).await;
    let (site, _) = add_blog(&app, Visibility::Public).await;
    record_history(&app, site).await;
    let (_, week) = app
        .get_json(&format!("/api/sites/{BLOG}/stats?range=7d&f=page:/a"))
        .await;
    assert!(week.get("raw_visits_since").is_none(), "{week}");
    let (_, month) = app
        .get_json(&format!("/api/sites/{BLOG}/stats?range=30d&f=page:/a"))
        .await;
    assert!(month["raw_visits_since"].is_string(), "{month}");
    let (_, whole) = app
        .get_json(&format!("/api/sites/{BLOG}/stats?range=30d"))
        .await;
    assert!(whole.get("raw_visits_since").is_none(), "{whole}");
    let (_, html) = app
        .get_html(&format!("/sites/{BLOG}?range=30d&f=page:/a"))
        .await;
    assert!(html.contains("id=\"raw-visits-since\""), "{html}");
}

/// A made-up fortnight with a known change: ten visitors with two page
/// views each on /a eight days ago; fifteen visitors this week, five of
/// them on /a. The week's numbers show it against the week before, whole
/// and filtered, in JSON and on the page, and the chart draws the week
/// before over its bars; all time has nothing to compare.
#[rocket::async_test]
async fn the_change_against_the_previous_period_is_shown() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    let (site, _) = add_blog(&app, Visibility::Public).await;
    let now = database_now(&app.db).await.unwrap();
    let mut visits = Vec::new();
    for who in 0..10u8 {
        for _ in 0..2 {
            visits.push((who, "/a", now - TimeDelta::days(8)));
        }
    }
    for who in 10..25u8 {
        let path = if who < 15 { "/a" } else { "/b" };
        visits.push((who, path, now - TimeDelta::hours(1)));
    }
    visits.extend((20..25u8).map(|who| (who, "/b", now - TimeDelta::hours(1))));
    for (who, path, at) in visits {
        record_one(&app, site, who, path, at).await;
    }
    let (_, week) = app
        .get_json(&format!("/api/sites/{BLOG}/stats?range=7d"))
        .await;
    assert_eq!(
        (&week["unique_visitors"], &week["visits"]),
        (&15.into(), &20.into())
    );
    assert_eq!(
        (
            &week["previous"]["unique_visitors"],
            &week["previous"]["visits"]
        ),
        (&10.into(), &20.into()),
        "{week}"
    );
    let previous: Vec<i64> = week["previous"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|visits| visits.as_i64().unwrap())
        .collect();
    assert_eq!(
        (previous.len(), previous.iter().sum::<i64>()),
        (7, 20),
        "a bar's worth of the week before for each day: {week}"
    );
    let (_, chart) = app
        .get_html(&format!("/sites/{BLOG}/chart.svg?range=7d"))
        .await;
    let line = chart
        .split("<polyline class=\"previous\" points=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("the week before drawn over the bars: {chart}"));
    assert_eq!(line.split(' ').count(), 7, "{line}");
    let page = |query: String| {
        let app = &app;
        async move { app.get_html(&format!("/sites/{BLOG}?{query}")).await.1 }
    };
    let html = page("range=7d".into()).await;
    assert!(
        html.contains(">↑ 50 %</dd>"),
        "15 visitors against 10: {html}"
    );
    assert!(html.contains("id=\"change-visits\""));
    assert!(html.contains(">no change</dd>"), "20 visits against 20");
    let html = page(query("range=7d", &["page:/a"])).await;
    assert!(
        html.contains(">↓ 50 %</dd>"),
        "5 visitors of /a against 10: {html}"
    );
    let (_, all) = app
        .get_json(&format!("/api/sites/{BLOG}/stats?range=all"))
        .await;
    assert!(all.get("previous").is_none(), "{all}");
    assert!(!page("range=all".into())
        .await
        .contains("id=\"change-visits\""));
}

/// One visitor an hour, each new, around a change of summer time: the
/// site's local day is 25 hours long (Berlin, 25 October 2026) or 23 (New
/// York, 8 March 2026), by hour and as one of three days, exactly.
#[rocket::async_test]
async fn days_and_hours_follow_the_sites_time_zone_across_summer_time() {
    let app =
        TestApp::spawn_with(&[("stats_cache_ms", "0"), ("raw_visits_retention_days", "0")]).await;
    let utc = |text: &str| -> DateTime<Utc> { text.parse().unwrap() };
    for (domain, zone, first_hour, hours, day, day_hours, days_around) in [
        (
            "berlin.example",
            chrono_tz::Europe::Berlin,
            "2026-10-24T20:00:00Z",
            30,
            "2026-10-25",
            25,
            [2, 25, 3],
        ),
        (
            "newyork.example",
            chrono_tz::America::New_York,
            "2026-03-07T23:00:00Z",
            32,
            "2026-03-08",
            23,
            [6, 23, 3],
        ),
    ] {
        let site = add_site(&app, domain, Visibility::Public, false, false).await;
        visitors::sites::store::set_time_zone(&app.db, site.id, zone)
            .await
            .unwrap();
        for hour in 0..hours {
            let at = utc(first_hour) + TimeDelta::hours(hour) + TimeDelta::minutes(30);
            record_one(&app, site.id, hour as u8, "/", at).await;
        }
        let url = format!("/api/sites/{domain}/stats?from={day}&to={day}");
        let (status, stats) = app.get_json(&url).await;
        assert_eq!(status, Status::Ok, "{stats}");
        assert_eq!(stats["time_zone"], zone.name());
        let series = stats["series"].as_array().unwrap();
        assert_eq!(series.len(), day_hours, "{url}: one bar an hour");
        assert!(
            series.iter().all(|point| point["visits"] == 1),
            "{url}: {stats}"
        );
        assert_eq!(stats["unique_visitors"], day_hours as i64, "{url}");
        let (_, around) = app
            .get_json(&format!(
                "/api/sites/{domain}/stats?from={}&to={}",
                day.parse::<chrono::NaiveDate>().unwrap() - TimeDelta::days(1),
                day.parse::<chrono::NaiveDate>().unwrap() + TimeDelta::days(1)
            ))
            .await;
        let per_day: Vec<i64> = around["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|point| point["visits"].as_i64().unwrap())
            .collect();
        assert_eq!(per_day, days_around, "{domain}: three local days");
        let (_, whole) = app
            .get_json(&format!("/api/sites/{domain}/stats?range=all"))
            .await;
        assert_eq!(whole["visits"], hours, "{domain}");
    }
}

/// A read the request gave up on must not run on in PostgreSQL beside the
/// next one (a reloaded filtered view of a big site): the snapshot every
/// computation reads in ends its statements at the request's deadline.
#[rocket::async_test]
async fn a_read_past_the_deadline_is_stopped_by_postgresql() {
    let app = TestApp::spawn().await;
    let mut snapshot = begin_snapshot(&app.db).await.unwrap();
    let error = sqlx::query("SELECT pg_sleep($1)")
        .bind(READ_DEADLINE.as_secs_f64() * 3.0)
        .execute(&mut *snapshot)
        .await
        .expect_err("the sleep outlasts the deadline");
    let code = error.as_database_error().and_then(|e| e.code());
    assert_eq!(
        code.as_deref(),
        Some("57014"),
        "{error}: canceled by the timeout"
    );
}

/// The period before is the one figure a dashboard can do without: when its
/// raw visits cannot be read in time (here a lock holds them), the numbers
/// are shown without it and the page says so.
#[rocket::async_test]
async fn a_period_before_that_cannot_be_counted_in_time_is_left_out() {
    let app = TestApp::spawn_with(&[("stats_cache_ms", "0")]).await;
    let (site, _) = add_blog(&app, Visibility::Public).await;
    let now = database_now(&app.db).await.unwrap();
    record_one(&app, site, 1, "/a", now - TimeDelta::days(8)).await;
    record_one(&app, site, 2, "/a", now - TimeDelta::hours(1)).await;

    let mut lock = app.db.begin().await.unwrap();
    sqlx::query("LOCK TABLE visit_events IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let url = format!("/api/sites/{BLOG}/stats?range=7d");
    let (status, week) = app.get_json(&url).await;
    assert_eq!(status, Status::Ok, "{week}");
    assert_eq!(week["unique_visitors"], 1, "{week}");
    assert_eq!(week["previous_left_out"], true, "{week}");
    assert!(week.get("previous").is_none(), "{week}");
    let (status, html) = app.get_html(&format!("/sites/{BLOG}?range=7d")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(r#"id="previous-left-out""#), "{html}");
    assert!(!html.contains(r#"id="change-visits""#), "{html}");
    lock.rollback().await.unwrap();

    let (_, week) = app.get_json(&url).await;
    assert!(week.get("previous_left_out").is_none(), "{week}");
    assert_eq!(week["previous"]["unique_visitors"], 1, "{week}");
}
