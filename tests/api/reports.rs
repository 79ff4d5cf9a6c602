//! Email reports and mailed invitations, against a real PostgreSQL and a
//! real SMTP server (aiosmtpd, started by each test): what a report says,
//! that three replicas send each report once, and that a refused mail is
//! tried again and stays unsent.

use std::time::Duration;

use chrono::{DateTime, Datelike, Days, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use rocket::http::Status;
use sqlx::PgPool;

use visitors::reports::store;

use crate::{
    accounts::{add_account, database_url, location, page, sign_in, submit, PASSWORD},
    helpers::{AppProcess, SmtpSink, TestApp},
    site_settings::add_site,
};

const FROM: &str = "Visitors <reports@visitors.test>";

/// The settings of an app that mails through `sink`, looking every second.
fn mail_settings(sink: &SmtpSink) -> [(&'static str, String); 3] {
    [
        ("smtp_url", sink.url()),
        ("mail_from", FROM.to_owned()),
        ("report_check_seconds", "1".to_owned()),
    ]
}

/// Monday 00:00 in `zone` (one without summer time) of the week before this
/// one there: the weekly report's start, worked out here rather than by the
/// code under test.
fn last_week_in(zone: Tz) -> DateTime<Utc> {
    let today = Utc::now().with_timezone(&zone).date_naive();
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let midnight = (monday - Days::new(7)).and_hms_opt(0, 0, 0).unwrap();
    zone.from_local_datetime(&midnight).unwrap().to_utc()
}

fn last_week() -> DateTime<Utc> {
    last_week_in(Tz::UTC)
}

/// Stores a raw visit as the counting path would.
async fn visit(
    db: &PgPool,
    at: DateTime<Utc>,
    visitor: u8,
    path: &str,
    source: Option<&str>,
    event: Option<&str>,
    is_bot: bool,
) {
    sqlx::query(
        "INSERT INTO visit_events (site_id, visited_at, visitor_key, path, browser, os, device, \
         is_bot, source, event)
         SELECT id, $1, $2, $3, 'Firefox', 'Linux', $4, $5, $6, $7 FROM sites
         WHERE domain = 'example.com'",
    )
    .bind(at)
    .bind(vec![visitor; 32])
    .bind(path)
    .bind(if is_bot { "bot" } else { "desktop" })
    .bind(is_bot)
    .bind(source)
    .bind(event)
    .execute(db)
    .await
    .unwrap();
}

/// Last week: visitors 1, 2 and 3 over four page views (and an event, a bot
/// and this week's visit, which do not count); the week before: visitors 4
/// and 5 over two.
async fn two_weeks_of_visits(db: &PgPool) {
    let week = last_week();
    let day = |days: i64| week + TimeDelta::days(days) + TimeDelta::hours(12);
    visit(db, day(0), 1, "/about", Some("Google"), None, false).await;
    visit(db, day(1), 1, "/about", None, None, false).await;
    visit(db, day(2), 2, "/about", Some("Google"), None, false).await;
    visit(db, day(6), 3, "/<script>", Some("Hacker News"), None, false).await;
    visit(db, day(6), 3, "/<script>", None, Some("Signup"), false).await;
    visit(db, day(3), 9, "/", None, None, true).await;
    visit(db, day(7), 6, "/", None, None, false).await;
    visit(db, day(-7), 4, "/", None, None, false).await;
    visit(db, day(-1), 5, "/pricing", None, None, false).await;
}

/// The value of a counter of a metrics text, summed over its labels.
fn counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(name) && !line.starts_with('#'))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// An app mailing through `sink` (with `mail`) or sending none, where
/// ann@example.org is signed in and owns example.com.
async fn owner_of_example(sink: Option<&SmtpSink>) -> TestApp {
    let settings = sink.map(mail_settings);
    let settings: Vec<(&str, &str)> = settings
        .iter()
        .flatten()
        .map(|(key, value)| (*key, value.as_str()))
        .collect();
    let app = TestApp::spawn_with(&settings).await;
    add_account(&app.db, "ann@example.org").await;
    let signed_in = sign_in(&app.client, "ann@example.org", PASSWORD).await;
    assert_eq!(signed_in.status(), Status::SeeOther);
    drop(signed_in);
    let added = add_site(&app.client, &[("domain", "example.com")]).await;
    assert_eq!(added.status(), Status::SeeOther);
    drop(added);
    app
}

/// Asks for example.com's report of `cadence` ("weekly", "monthly").
async fn ask_for(app: &TestApp, cadence: &str) {
    let saved = submit(
        &app.client,
        "/account/reports",
        "/account/reports",
        &[(cadence, "example.com")],
    )
    .await;
    assert_eq!(location(&saved), "/account/reports?done=saved");
}

/// The app's metrics once it has looked for reports twice more.
async fn after_two_more_rounds(app: &TestApp) -> String {
    let checks = counter(
        &app.scrape_metrics().await.2,
        "visitors_report_checks_total",
    );
    loop {
        let metrics = app.scrape_metrics().await.2;
        if counter(&metrics, "visitors_report_checks_total") >= checks + 2 {
            return metrics;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[rocket::async_test]
async fn a_weekly_report_is_mailed_once_with_the_weeks_figures() {
    let sink = SmtpSink::start();
    let app = owner_of_example(Some(&sink)).await;
    two_weeks_of_visits(&app.db).await;

    let choices = page(&app.client, "/account/reports").await;
    assert!(
        choices.contains(r#"name="weekly" value="example.com""#),
        "{choices}"
    );
    // A site that is not hers is refused whole: nothing is asked for.
    let refused = submit(
        &app.client,
        "/account/reports",
        "/account/reports",
        &[("weekly", "example.com"), ("monthly", "other.example")],
    )
    .await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    let text = refused.into_string().await.unwrap();
    assert!(
        text.contains("You are not a member of other.example"),
        "{text}"
    );
    let subscriptions: i64 = sqlx::query_scalar("SELECT count(*) FROM report_subscriptions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(subscriptions, 0);

    ask_for(&app, "weekly").await;
    assert!(page(&app.client, "/account/reports")
        .await
        .contains(r#"value="example.com" aria-label="Weekly report of example.com" checked"#));

    let mail = sink.wait_for(1, Duration::from_secs(30)).await.remove(0);
    assert_eq!(mail.to, ["ann@example.org"]);
    assert_eq!(mail.from, "reports@visitors.test");
    let week = last_week().format("%-d %B %Y");
    assert_eq!(
        mail.subject(),
        format!("example.com: 3 unique visitors in the week of {week}")
    );
    let text = mail.body("text/plain");
    for line in [
        "Unique visitors: 3 (↑ 50 % against the week before: 2)",
        "Page views: 4 (↑ 100 % against the week before: 2)",
        "       2  /about",
        "       1  /<script>",
        "       2  Google",
        "       1  Hacker News",
        "The dashboard: http://localhost:8080/sites/example.com",
    ] {
        assert!(text.contains(line), "{line:?} not in\n{text}");
    }
    let html = mail.body("text/html");
    assert!(
        html.contains("/&#60;script&#62;") || html.contains("/&lt;script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");

    // Rounds after it send nothing more.
    let metrics = after_two_more_rounds(&app).await;
    assert_eq!(counter(&metrics, "visitors_reports_total"), 1, "{metrics}");
    assert_eq!(sink.received().len(), 1);
}

#[rocket::async_test]
async fn a_weekly_report_follows_the_sites_time_zone() {
    let sink = SmtpSink::start();
    let app = owner_of_example(Some(&sink)).await;
    let saved = submit(
        &app.client,
        "/account/sites/example.com",
        "/account/sites/example.com/time-zone",
        &[("time_zone", "Asia/Tokyo")],
    )
    .await;
    assert_eq!(saved.status(), Status::SeeOther);
    drop(saved);
    // Tokyo is UTC+9 all year: its week starts on Sunday at 15:00 UTC.
    let week = last_week_in(Tz::Asia__Tokyo);
    let hours = |hours: i64| week + TimeDelta::hours(hours);
    // Visitors 1 and 2 in Tokyo's week, the first on UTC's Sunday before it;
    // 3 and 4 on Tokyo's Monday after it, still UTC's Sunday; 5 in the
    // Tokyo week before. In UTC the week would read 3 against 2.
    visit(&app.db, hours(1), 1, "/", None, None, false).await;
    visit(&app.db, hours(80), 2, "/", None, None, false).await;
    visit(&app.db, hours(24 * 7 + 1), 3, "/", None, None, false).await;
    visit(&app.db, hours(24 * 7 + 2), 4, "/", None, None, false).await;
    visit(&app.db, hours(-1), 5, "/", None, None, false).await;

    ask_for(&app, "weekly").await;

    let mail = sink.wait_for(1, Duration::from_secs(30)).await.remove(0);
    let local = |at: DateTime<Utc>| at.with_timezone(&Tz::Asia__Tokyo).format("%-d %B %Y");
    assert_eq!(
        mail.subject(),
        format!(
            "example.com: 2 unique visitors in the week of {}",
            local(week)
        )
    );
    let text = mail.body("text/plain");
    for line in [
        format!("to {} (Asia/Tokyo)", local(hours(24 * 6))),
        "Unique visitors: 2 (↑ 100 % against the week before: 1)".to_owned(),
    ] {
        assert!(text.contains(&line), "{line:?} not in\n{text}");
    }
}

/// A week mailed in the site's zone is not mailed again once the zone
/// changes: neither the same week in the new zone nor, in a zone behind, the
/// week before it. The claims are made at fixed times, not by the app.
#[rocket::async_test]
async fn a_week_reported_in_one_zone_is_not_reported_again_in_another() {
    let app = owner_of_example(None).await;
    sqlx::query(
        "INSERT INTO report_subscriptions (user_id, site_id, cadence)
         SELECT user_id, site_id, 'weekly' FROM site_members",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let in_zone = |zone: &'static str| {
        sqlx::query("UPDATE sites SET time_zone = $1 WHERE domain = 'example.com'")
            .bind(zone)
            .execute(&app.db)
    };
    let claimed_at = |now: &'static str| async {
        let now = DateTime::parse_from_rfc3339(now).unwrap().to_utc();
        let claimed = store::claim_due(&app.db, now, Duration::from_secs(600), 10)
            .await
            .unwrap();
        let starts: Vec<String> = claimed
            .iter()
            .map(|d| d.period_start.to_rfc3339())
            .collect();
        (claimed, starts)
    };

    // Monday 10:00 in Tokyo: its week of 30 November is due.
    in_zone("Asia/Tokyo").await.unwrap();
    let (claimed, starts) = claimed_at("2026-12-07T01:00:00Z").await;
    assert_eq!(starts, ["2026-11-29T15:00:00+00:00"]);
    store::mark_sent(&app.db, &claimed[0]).await.unwrap();
    // In UTC that week starts 9 hours later.
    in_zone("UTC").await.unwrap();
    assert!(claimed_at("2026-12-07T01:00:00Z").await.1.is_empty());
    // In Honolulu it is still Sunday: its last whole week is the one before.
    in_zone("Pacific/Honolulu").await.unwrap();
    assert!(claimed_at("2026-12-07T01:00:00Z").await.1.is_empty());
    // A week later the next week is due.
    in_zone("UTC").await.unwrap();
    let (_, starts) = claimed_at("2026-12-14T01:00:00Z").await;
    assert_eq!(starts, ["2026-12-07T00:00:00+00:00"]);
}

#[rocket::async_test]
async fn three_replicas_send_each_report_once() {
    let sink = SmtpSink::start();
    // The accounts, the site and the choices, made by a replica that
    // sends no mail.
    let app = owner_of_example(None).await;
    add_account(&app.db, "bob@example.org").await;
    two_weeks_of_visits(&app.db).await;
    sqlx::query(
        "INSERT INTO site_members (site_id, user_id, role)
         SELECT s.id, u.id, 'viewer' FROM sites s, users u
         WHERE s.domain = 'example.com' AND u.email = 'bob@example.org'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO report_subscriptions (site_id, user_id, cadence)
         SELECT site_id, user_id, cadence FROM site_members,
             unnest('{weekly,monthly}'::report_cadence[]) AS cadence",
    )
    .execute(&app.db)
    .await
    .unwrap();

    let url = database_url(&app);
    let settings = mail_settings(&sink);
    let mut env: Vec<(&str, &str)> = vec![("DATABASE_URL", &url)];
    env.extend(settings.iter().map(|(key, value)| match *key {
        "smtp_url" => ("SMTP_URL", value.as_str()),
        "mail_from" => ("MAIL_FROM", value.as_str()),
        _ => ("REPORT_CHECK_SECONDS", value.as_str()),
    }));
    let mut replicas: Vec<AppProcess> = (0..3).map(|_| AppProcess::start(&env)).collect();
    for replica in &mut replicas {
        replica.wait_ready(Duration::from_secs(30));
    }

    // Two people, a weekly and a monthly report each.
    let mails = sink.wait_for(4, Duration::from_secs(30)).await;
    let mut sent: Vec<(String, String)> = mails
        .iter()
        .map(|mail| (mail.to[0].clone(), mail.subject()))
        .collect();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), 4, "{sent:?}");

    // Each replica looks twice more; no report goes out again.
    let agent = crate::helpers::http();
    let scrape = |replica: &AppProcess| {
        let port = replica.metrics_port().expect("a metrics port in the log");
        agent
            .get(&format!("http://127.0.0.1:{port}/metrics"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    };
    let before: Vec<u64> = replicas
        .iter()
        .map(|replica| counter(&scrape(replica), "visitors_report_checks_total"))
        .collect();
    for (replica, checks) in replicas.iter().zip(before) {
        while counter(&scrape(replica), "visitors_report_checks_total") < checks + 2 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let sent_by_replicas: u64 = replicas
        .iter()
        .map(|replica| counter(&scrape(replica), "visitors_reports_total{result=\"sent\"}"))
        .sum();
    assert_eq!(sent_by_replicas, 4);
    assert_eq!(sink.received().len(), 4);
    let marked: i64 =
        sqlx::query_scalar("SELECT count(*) FROM report_deliveries WHERE sent_at IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(marked, 4);
}

#[rocket::async_test]
async fn a_refused_report_stays_unsent_and_is_counted_as_failed() {
    let sink = SmtpSink::refusing();
    let app = owner_of_example(Some(&sink)).await;
    ask_for(&app, "monthly").await;
    loop {
        let metrics = app.scrape_metrics().await.2;
        if counter(&metrics, "visitors_reports_total{result=\"failed\"}") >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (attempts, sent): (i32, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT attempts, sent_at FROM report_deliveries")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((attempts, sent), (1, None));
    // Its lease has not run out: the rounds after it leave it alone.
    let metrics = after_two_more_rounds(&app).await;
    assert_eq!(counter(&metrics, "visitors_reports_total"), 1, "{metrics}");
}

#[rocket::async_test]
async fn without_smtp_there_are_no_reports_to_ask_for() {
    let app = owner_of_example(None).await;
    assert!(page(&app.client, "/account/reports")
        .await
        .contains("This instance sends no mail"));
    let refused = submit(
        &app.client,
        "/account/sites/example.com",
        "/account/reports",
        &[("weekly", "example.com")],
    )
    .await;
    assert_eq!(refused.status(), Status::Conflict);
    drop(refused);
    let subscriptions: i64 = sqlx::query_scalar("SELECT count(*) FROM report_subscriptions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(subscriptions, 0);
}

#[rocket::async_test]
async fn an_invitation_is_mailed_when_an_address_is_given() {
    let sink = SmtpSink::start();
    let app = owner_of_example(Some(&sink)).await;
    let site = "/account/sites/example.com";
    let invitations = "/account/sites/example.com/invitations";

    let refused = submit(
        &app.client,
        site,
        invitations,
        &[("role", "viewer"), ("email", "not an address")],
    )
    .await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    let text = refused.into_string().await.unwrap();
    assert!(text.contains(r#"id="invite-email-error""#), "{text}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM invitations")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    let made = submit(
        &app.client,
        site,
        invitations,
        &[("role", "viewer"), ("email", "bob@example.org")],
    )
    .await;
    assert_eq!(made.status(), Status::Ok);
    let text = made.into_string().await.unwrap();
    assert!(text.contains("mailed to bob@example.org"), "{text}");
    let link = crate::site_settings::snippet(&text, "invitation");
    let mail = sink.wait_for(1, Duration::from_secs(10)).await.remove(0);
    assert_eq!(mail.to, ["bob@example.org"]);
    assert_eq!(mail.subject(), "An invitation to example.com on Visitors");
    let body = mail.body("text/plain");
    assert!(body.contains(&link), "{link} not in\n{body}");
    assert!(
        body.contains("ann@example.org invites you to example.com"),
        "{body}"
    );
}
