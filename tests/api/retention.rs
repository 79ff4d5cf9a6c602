//! Raw visits older than RAW_VISITS_RETENTION_DAYS are deleted in batches by
//! the maintenance job, and no number the API shows changes.

use std::time::Duration;

use chrono::{Timelike, Utc};
use rocket::http::Status;
use serde_json::Value;
use visitors::{
    counting::maintenance::{self, maintain_counters, PRUNE_BATCH},
    infra::{config::RetentionDays, database::database_now},
    stats::StatsRange,
};

use crate::helpers::{fresh_database, run_binary, TestApp, FIREFOX, GOOGLEBOT};

/// A year of visits, 40 a day from a crowd of 300 visitors who come back
/// over the whole year (so that pruned visits belong to visitors who are
/// still counted), some of them crawlers, some referred; the most recent
/// day's visits fall in the last hour. Loaded in SQL and counted by
/// `rebuild_visit_rollups()`, as the benchmark loads its history.
const YEAR_OF_VISITS: &str = "
    INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host)
    SELECT 0, now() - d * interval '1 day' - i * interval '83 seconds',
           sha256(int8send(((d * 37 + i * 11) % 300)::bigint)),
           CASE WHEN i % 3 = 0 THEN '/' ELSE '/?range=7d' END,
           (ARRAY['Firefox', 'Chrome', 'Safari'])[1 + (d * 37 + i * 11) % 300 % 3],
           (ARRAY['Linux', 'Windows', 'iOS', 'macOS'])[1 + (d * 37 + i * 11) % 300 % 4],
           CASE WHEN (d * 37 + i * 11) % 300 % 17 = 0 THEN 'bot'
                WHEN (d * 37 + i * 11) % 300 % 4 = 2 THEN 'mobile' ELSE 'desktop' END,
           (d * 37 + i * 11) % 300 % 17 = 0,
           CASE WHEN i % 5 = 0 AND (d * 37 + i * 11) % 300 % 17 <> 0
                THEN (ARRAY['news.example.com', 'search.example'])[1 + d % 2] END
    FROM generate_series(0, 365) AS d, generate_series(1, 40) AS i";

async fn api_stats(app: &TestApp, range: &str) -> Value {
    let response = app
        .client
        .get(format!("/api/stats?range={range}"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    let mut stats: Value = response.into_json().await.unwrap();
    // The clock, not a count; and the previous period's numbers, which
    // count the raw visits (where the app's own retention keeps them all:
    // this app's is off, the prune below is the test's).
    let object = stats.as_object_mut().unwrap();
    object.remove("to");
    object.remove("generated_at");
    object.remove("previous");
    stats
}

async fn every_range(app: &TestApp) -> Vec<Value> {
    let mut all = Vec::new();
    for range in StatsRange::ALL {
        all.push(api_stats(app, range.as_str()).await);
    }
    all
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// Starts a comparison well inside a minute, so that no range's buckets
/// move on between the two snapshots.
async fn away_from_a_minute_boundary(app: &TestApp) {
    let second = database_now(&app.db).await.unwrap().second();
    if second >= 40 {
        tokio::time::sleep(Duration::from_secs(u64::from(61 - second))).await;
    }
}

#[rocket::async_test]
async fn pruning_a_year_of_raw_visits_changes_no_number() {
    // Retention off for the fill, so that the background job cannot prune
    // before the first snapshot; the prune runs the job's own round below.
    let app =
        TestApp::spawn_with(&[("stats_cache_ms", "0"), ("raw_visits_retention_days", "0")]).await;
    sqlx::query(YEAR_OF_VISITS).execute(&app.db).await.unwrap();
    // The same year for two more sites, with raw visits only: the prune
    // deletes every site's old visits, and its batches mix sites.
    sqlx::query(
        "INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, is_bot,
                                   referrer_host)
         SELECT other.id, visited_at, visitor_key, path, browser, os, device, is_bot, referrer_host
         FROM visit_events CROSS JOIN (VALUES (3), (8)) AS other (id)",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("SELECT rebuild_visit_rollups()")
        .execute(&app.db)
        .await
        .unwrap();
    // And live visits on top, people and a crawler.
    for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.1"] {
        assert_eq!(app.visit(ip, FIREFOX).await.status(), Status::Ok);
    }
    app.visit("192.0.2.9", GOOGLEBOT).await;
    maintain_counters(&app.db).await.unwrap();

    let old = "SELECT count(*) FROM visit_events WHERE visited_at < now() - interval '30 days'";
    let old_before = count(&app, old).await;
    let kept_before = count(&app, "SELECT count(*) FROM visit_events").await - old_before;
    assert!(
        old_before > PRUNE_BATCH,
        "{old_before} old visits: more than one batch"
    );

    away_from_a_minute_boundary(&app).await;
    let before = every_range(&app).await;
    assert!(before[4]["unique_visitors"].as_i64().unwrap() > 250);
    assert!(before[0]["visits"].as_i64().unwrap() > 30, "{}", before[0]);
    assert!(!before[0]["referrers"].as_array().unwrap().is_empty());

    let retention = RetentionDays::new(30).unwrap();
    let pruned = maintenance::prune_raw_visits(&app.db, retention)
        .await
        .unwrap();
    maintenance::maintain(&app.db, Some(retention))
        .await
        .unwrap();
    let after = every_range(&app).await;

    assert_eq!(pruned.visits, old_before as u64);
    assert_eq!(pruned.batches, old_before as u64 / PRUNE_BATCH as u64 + 1);
    assert_eq!(count(&app, old).await, 0, "no raw visit past the limit");
    assert_eq!(
        count(&app, "SELECT count(*) FROM visit_events").await,
        kept_before,
        "the younger ones all stay"
    );
    for (range, (before, after)) in StatsRange::ALL.iter().zip(before.iter().zip(&after)) {
        assert_eq!(before, after, "/api/stats?range={range} changed");
    }
}

#[rocket::async_test]
async fn the_server_prunes_by_its_setting_and_zero_keeps_everything() {
    let database = fresh_database().await;
    let forever = TestApp::spawn_on(&database.url, &[("raw_visits_retention_days", "0")]).await;
    sqlx::query(YEAR_OF_VISITS)
        .execute(&forever.db)
        .await
        .unwrap();
    let total = count(&forever, "SELECT count(*) FROM visit_events").await;
    maintenance::maintain(&forever.db, None).await.unwrap();
    assert_eq!(
        count(&forever, "SELECT count(*) FROM visit_events").await,
        total,
        "0 keeps every raw visit"
    );

    // A replica set to 7 days prunes at start (its job's first round), and
    // keeps the week.
    let week = TestApp::spawn_on(&database.url, &[("raw_visits_retention_days", "7")]).await;
    let started = Utc::now();
    loop {
        let old = count(
            &week,
            "SELECT count(*) FROM visit_events WHERE visited_at < now() - interval '7 days'",
        )
        .await;
        if old == 0 {
            break;
        }
        assert!(
            Utc::now() - started < chrono::TimeDelta::seconds(30),
            "{old} raw visits older than 7 days left after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(&week, "SELECT count(*) FROM visit_events").await,
        40 * 7,
        "the last 7 days stay"
    );
}

#[rocket::async_test]
async fn visitors_prune_deletes_by_the_setting_at_once() {
    let database = fresh_database().await;
    let app = TestApp::spawn_on(&database.url, &[("raw_visits_retention_days", "0")]).await;
    sqlx::query(YEAR_OF_VISITS).execute(&app.db).await.unwrap();
    let url = database.url.clone();
    let total = count(&app, "SELECT count(*) FROM visit_events").await;

    let (code, stderr) = run_binary(
        &["prune"],
        &[("DATABASE_URL", &url), ("RAW_VISITS_RETENTION_DAYS", "0")],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        count(&app, "SELECT count(*) FROM visit_events").await,
        total
    );

    let (code, stderr) = run_binary(
        &["prune"],
        &[("DATABASE_URL", &url), ("RAW_VISITS_RETENTION_DAYS", "100")],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM visit_events WHERE visited_at < now() - interval '100 days'"
        )
        .await,
        0
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM visit_events").await,
        40 * 100
    );

    let (code, _) = run_binary(
        &["prune"],
        &[
            ("DATABASE_URL", &url),
            ("RAW_VISITS_RETENTION_DAYS", "soon"),
        ],
    );
    assert_eq!(code, 2, "an invalid setting is a configuration error");
}
