//! Upgrading keeps every count: a database written by the release before
//! sites (its migrations, then visits through its own statement, kept in
//! tests/fixtures/before_sites/) is migrated, and every stored number is
//! the same afterwards, as the instance's own site; its visitors are still
//! recognised.

use std::borrow::Cow;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::{migrate::Migrator, PgPool};
use visitors::{
    counting::{site_id::SiteId, visitor_key::VisitorHasher},
    infra::{
        config::Secret,
        database::{database_now, MIGRATOR},
    },
};

use crate::helpers::{fresh_database, secret_file_for, your_visits, TestApp, FIREFOX};

/// The first migration of the sites release.
const SITES_MIGRATION: i64 = 20261201000001;

const BEFORE_SITES: &str = include_str!("../fixtures/before_sites/record_visits.sql");

/// One visit through the earlier release's statement, as it bound it.
async fn old_visit(
    pool: &PgPool,
    key: &[u8],
    agent: (&str, &str, &str, bool),
    referrer: Option<&str>,
    at: DateTime<Utc>,
) {
    let (browser, os, device, is_bot) = agent;
    sqlx::query(BEFORE_SITES)
        .bind(vec![key.to_vec()])
        .bind(vec![is_bot])
        .bind(vec!["/"])
        .bind(vec![browser])
        .bind(vec![os])
        .bind(vec![device])
        .bind(vec![referrer])
        .bind(i16::from(key[0] % 64))
        .bind(vec![Some(at)])
        .fetch_all(pool)
        .await
        .expect("the earlier release's statement");
}

/// The schema a database is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Schema {
    BeforeSites,
    WithSites,
}

/// Every stored number, as text rows, table by table: all of them before
/// the upgrade, the instance's own site's after it.
async fn stored_numbers(pool: &PgPool, schema: Schema) -> Vec<Vec<String>> {
    let (only, referrals) = match schema {
        Schema::BeforeSites => ("", "referrals"),
        Schema::WithSites => (
            "WHERE site_id = 0",
            "(SELECT site_id, visitor_key, value AS referrer_host, last_seen, previous_seen \
             FROM visitor_values WHERE dimension = 'referrer') referrals",
        ),
    };
    let queries = [
        format!("SELECT concat_ws('|', sum(visits), sum(bot_visits), sum(unique_visitors)) FROM visit_totals {only}"),
        format!("SELECT concat_ws('|', granularity, bucket, sum(visits), sum(bot_visits), sum(arrivals), sum(departures)) \
                 FROM visit_rollups {only} GROUP BY granularity, bucket ORDER BY 1"),
        format!("SELECT concat_ws('|', granularity, bucket, dimension, value, sum(arrivals), sum(departures)) \
                 FROM visitor_breakdowns {only} GROUP BY granularity, bucket, dimension, value ORDER BY 1"),
        // A crawler's last visit is no longer kept as its last human one
        // (the migration reread_visitors): compared for people only.
        format!("SELECT concat_ws('|', encode(visitor_key, 'hex'), visits, is_bot, first_seen, \
                 CASE WHEN NOT is_bot THEN last_seen END, CASE WHEN NOT is_bot THEN previous_seen END) \
                 FROM visitors {only} ORDER BY 1"),
        format!("SELECT concat_ws('|', visited_at, encode(visitor_key, 'hex'), path, browser, os, device, is_bot, referrer_host) \
                 FROM visit_events {only} ORDER BY 1"),
        format!("SELECT concat_ws('|', encode(visitor_key, 'hex'), referrer_host, last_seen, previous_seen) \
                 FROM {referrals} {only} ORDER BY 1"),
    ];
    let mut tables = Vec::new();
    for query in &queries {
        tables.push(
            sqlx::query_scalar(query)
                .fetch_all(pool)
                .await
                .expect(query),
        );
    }
    tables
}

#[rocket::async_test]
async fn upgrading_keeps_every_count_as_the_instances_own_site() {
    let database = fresh_database().await;
    let pool = PgPool::connect(&database.url).await.unwrap();
    let earlier = Migrator {
        migrations: Cow::Owned(
            MIGRATOR
                .migrations
                .iter()
                .filter(|m| m.version < SITES_MIGRATION)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    earlier.run(&pool).await.unwrap();

    // The real visitor key of one person, as the earlier release derived
    // it from the secret it generated and kept in the database.
    let stored: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
    sqlx::query("INSERT INTO app_settings (name, value) VALUES ('visitor_secret', $1)")
        .bind(&stored)
        .execute(&pool)
        .await
        .unwrap();
    let hasher = VisitorHasher::new(&Secret::new(stored.clone()));
    let ip = "203.0.113.50".parse().ok();
    let person = hasher.key(SiteId::INSTANCE, ip, FIREFOX);

    let now = database_now(&pool).await.unwrap();
    let firefox = ("Firefox", "Linux", "desktop", false);
    let iphone = ("Mobile Safari", "iOS", "mobile", false);
    let crawler = ("Googlebot", "Unknown", "bot", true);
    let (d, h, m) = (TimeDelta::days, TimeDelta::hours, TimeDelta::minutes);
    for (who, agent, referrer, ago) in [
        (1u8, firefox, Some("news.example.com"), d(40)),
        (1, firefox, None, d(3)),
        (2, iphone, Some("search.example.org"), d(2)),
        (2, iphone, Some("search.example.org"), h(5)),
        (3, crawler, None, h(4)),
        (4, firefox, None, m(30)),
        (4, firefox, Some("news.example.com"), m(2)),
    ] {
        old_visit(&pool, &[who; 32], agent, referrer, now - ago).await;
    }
    for ago in [d(1), m(10), m(1)] {
        old_visit(&pool, person.as_bytes(), firefox, None, now - ago).await;
    }
    // As the earlier release's own upkeep left them (the current one's runs
    // at start): past minutes and hours beyond what the dashboard reads are
    // pruned.
    sqlx::query("SELECT maintain_counters()")
        .execute(&pool)
        .await
        .unwrap();
    let before = stored_numbers(&pool, Schema::BeforeSites).await;
    assert_eq!(before[4].len(), 10, "ten visits stored");

    // The current release migrates at start.
    let app = TestApp::spawn_on(&database.url, &[("stats_cache_ms", "0")]).await;
    let after = stored_numbers(&app.db, Schema::WithSites).await;
    assert_eq!(after, before, "every number is the same, table by table");
    let elsewhere: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM visit_events WHERE site_id <> 0) + (SELECT count(*) FROM sites WHERE id <> 0)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(elsewhere, 0);

    // The dashboard reads them: 4 people (the crawler apart), 9 human visits.
    let stats: serde_json::Value = serde_json::from_str(
        &app.client
            .get("/api/stats?range=all")
            .dispatch()
            .await
            .into_string()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (
            stats["unique_visitors"].as_i64(),
            stats["visits"].as_i64(),
            stats["bot_visits"].as_i64()
        ),
        (Some(4), Some(9), Some(1))
    );

    // The person who came three times before the upgrade comes back.
    let html = app
        .visit("203.0.113.50", FIREFOX)
        .await
        .into_string()
        .await
        .unwrap();
    assert_eq!(your_visits(&html), 4);
    // Every person's latest reading is known from the kept raw visits, so a
    // later release's new reading of them counts exactly.
    let unread: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM visitors WHERE NOT is_bot AND client[1:3] IS DISTINCT FROM \
         ARRAY['Firefox', 'Linux', 'desktop'] AND client[1:3] IS DISTINCT FROM \
         ARRAY['Mobile Safari', 'iOS', 'mobile']",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(unread, 0);
    // Its secret left the database (and its backups) for the secret file.
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM app_settings")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(kept, 0);
    let file = std::fs::read_to_string(secret_file_for(&database.url)).unwrap();
    assert_eq!(file.trim(), hex::encode(&stored));
}
