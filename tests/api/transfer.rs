//! A site's counts out and in as CSV: the export (API and command line),
//! the import of daily history, its refusal of a bad file as a whole, and a
//! round trip that gives the same file again.

use chrono::{DateTime, TimeDelta, Utc};
use rocket::http::{ContentType, Status};
use visitors::{
    counting::{
        details::{DetailText, HitDetails, ScreenClass, Utm},
        maintenance::maintain_counters,
        store::{record_visits, NewVisit},
        user_agent::UserAgentClassifier,
        visitor_key::VisitorKey,
    },
    infra::database::database_now,
    sites::{manage::SiteRequest, model::Visibility, store},
    stats::{filter::Filters, model::load_stats, period::Period, query::StatsQuery},
};

use crate::helpers::{fresh_database, run_command, TestApp, FIREFOX, IPHONE, NO_DETAILS};

const SITE: &str = "blog.example";

async fn add_site(app: &TestApp, visibility: Visibility) -> visitors::counting::site_id::SiteId {
    let request = SiteRequest {
        domain: SITE.into(),
        hosts: Vec::new(),
        visibility,
        signed: false,
        badge: false,
        origin_required: false,
    };
    store::add(&app.db, &request.validate().unwrap())
        .await
        .unwrap()
        .id
}

/// A few weeks of a site's visits: several visitors, pages and browsers,
/// up to today.
async fn history(app: &TestApp) {
    let site = add_site(app, Visibility::Public).await;
    let now = database_now(&app.db).await.unwrap();
    let classifier = UserAgentClassifier::new();
    for (who, agent, path, days_ago) in [
        (1u8, FIREFOX, "/", 20),
        (1, FIREFOX, "/about", 20),
        (2, IPHONE, "/", 12),
        (1, FIREFOX, "/, \"quoted\"", 12),
        (3, IPHONE, "/about", 3),
        (2, IPHONE, "/", 1),
        (4, FIREFOX, "/today", 0),
    ] {
        let client = classifier.classify(agent);
        record_visits(
            &app.db,
            &[NewVisit {
                site,
                visitor: VisitorKey::from_bytes([who; 32]),
                path,
                browser: &client.browser,
                os: &client.os,
                device: client.device.as_str(),
                is_bot: false,
                country: None,
                details: &NO_DETAILS,
                referrer_host: None,
                visited_at: Some(now - TimeDelta::days(days_ago)),
                request: None,
            }],
        )
        .await
        .unwrap();
    }
    // A visit with a source, a campaign, a screen and a country, and an
    // event: the export carries them, the import takes them.
    let client = classifier.classify(IPHONE);
    let text = |value| DetailText::parse("test", value).unwrap();
    let tagged = HitDetails {
        source: text("Hacker News"),
        utm: Utm {
            medium: text("social"),
            campaign: text("launch, \"day 1\""),
            ..Default::default()
        },
        screen: Some(ScreenClass::Mobile),
        event: None,
    };
    let signup = HitDetails {
        event: text("Signup"),
        ..Default::default()
    };
    for details in [&tagged, &signup] {
        record_visits(
            &app.db,
            &[NewVisit {
                site,
                visitor: VisitorKey::from_bytes([5; 32]),
                path: "/launch",
                browser: &client.browser,
                os: &client.os,
                device: client.device.as_str(),
                is_bot: false,
                country: Some("NZ"),
                details,
                referrer_host: None,
                visited_at: Some(now - TimeDelta::days(2)),
                request: None,
            }],
        )
        .await
        .unwrap();
    }
    maintain_counters(&app.db).await.unwrap();
}

async fn exported(app: &TestApp, query: &str) -> (Status, String) {
    let response = app
        .client
        .get(format!("/api/sites/{SITE}/export.csv{query}"))
        .dispatch()
        .await;
    let status = response.status();
    if status == Status::Ok {
        assert_eq!(response.content_type(), Some(ContentType::CSV));
    }
    (status, response.into_string().await.unwrap_or_default())
}

#[rocket::async_test]
async fn a_round_trip_through_export_and_import_gives_the_same_file() {
    let source = TestApp::spawn().await;
    history(&source).await;
    let (status, csv) = exported(&source, "?range=all").await;
    assert_eq!(status, Status::Ok);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "time,granularity,dimension,value,unique_visitors,visits"
    );
    assert!(
        csv.contains(",day,page,\"/, \"\"quoted\"\"\",1,1\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains(",day,total,,2,2\r\n"),
        "twelve days ago: {csv}"
    );
    for row in [
        ",day,source,Hacker News,1,\r\n",
        ",day,utm_campaign,\"launch, \"\"day 1\"\"\",1,\r\n",
        ",day,country,NZ,1,\r\n",
        ",day,screen,mobile,1,\r\n",
        ",day,event,Signup,1,1\r\n",
    ] {
        assert!(csv.contains(row), "{row} in {csv}");
    }
    // Complete days only: today is still being counted (its hours are in
    // the hourly export), and could not be imported.
    let today = database_now(&source.db).await.unwrap();
    assert!(
        !csv.contains(&today.format("%Y-%m-%dT").to_string()),
        "{csv}"
    );
    let (_, hourly) = exported(&source, "?range=24h&granularity=hour").await;
    assert!(hourly.contains(",hour,page,/today,1,1\r\n"), "{hourly}");
    let file = std::env::temp_dir().join(format!("visitors-export-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(&file, &csv).unwrap();
    let file = file.to_str().unwrap();

    let target = fresh_database().await;
    let app = TestApp::spawn_on(&target.url, &[("stats_cache_ms", "0")]).await;
    let site = add_site(&app, Visibility::Private).await;
    let env = [("DATABASE_URL", target.url.as_str())];
    let (code, out, stderr) = run_command(&["import", SITE, file, "--source", "old counter"], &env);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.contains("imported"), "{out}");
    let (code, again, _) = run_command(&["export", SITE], &env);
    assert_eq!(code, 0);
    assert_eq!(again, csv, "the same file again");

    let (code, out, _) = run_command(&["import", SITE, file], &env);
    assert_eq!(code, 0);
    assert!(out.contains("nothing changed"), "{out}");
    let (_, history, _) = run_command(&["sites", "history", SITE], &env);
    assert_eq!(history.lines().count(), 1, "{history}");
    assert!(history.contains("old counter"), "{history}");

    // The API says which days are imported, and keeps them out of the
    // exact counts.
    let token: Vec<u8> = sqlx::query_scalar("SELECT share_token FROM sites WHERE domain = $1")
        .bind(SITE)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let token = hex::encode(token);
    let (_, stats) = app
        .get_json(&format!("/api/sites/{SITE}/stats?range=30d&token={token}"))
        .await;
    let imported: Vec<&serde_json::Value> = stats["series"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["imported"].is_null())
        .collect();
    assert_eq!(imported.len(), 5, "{stats}");
    assert_eq!(stats["unique_visitors"], 0);
    assert_eq!(stats["visits"], 0);
    assert!(stats.get("imported_days_left_out").is_none(), "{stats}");

    // A filter cannot split a day's totals: the days are left out, and the
    // page says so.
    let filtered = format!("range=30d&token={token}&f=page:/about");
    let (_, stats) = app
        .get_json(&format!("/api/sites/{SITE}/stats?{filtered}"))
        .await;
    assert_eq!(stats["imported_days_left_out"], 5, "{stats}");
    let series = stats["series"].as_array().unwrap();
    assert!(series.iter().all(|p| p["imported"].is_null()), "{stats}");
    let (_, page) = app.get_html(&format!("/sites/{SITE}?{filtered}")).await;
    assert!(
        page.contains("5 days of this period counted elsewhere are not shown here: under a filter"),
        "{page}"
    );
    assert!(!page.contains(r#"id="imported-history""#), "{page}");

    // In a zone behind UTC, the imported days are still those of the
    // period's dates, though its local midnights are UTC's mornings.
    let (first, last): (DateTime<Utc>, DateTime<Utc>) =
        sqlx::query_as("SELECT min(day), max(day) FROM imported_counts")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let query = StatsQuery {
        period: Period::days(
            &first.format("%Y-%m-%d").to_string(),
            &last.format("%Y-%m-%d").to_string(),
        )
        .unwrap(),
        filters: Filters::default(),
        zone: chrono_tz::America::New_York,
    };
    let in_new_york = load_stats(&app.db, site, &query, None).await.unwrap();
    assert_eq!(in_new_york.imported_days_left_out, 5);
    std::fs::remove_file(file).unwrap();
}

/// Today is still being counted: importing it would give the day a second
/// total, and the next export could not be imported again.
#[rocket::async_test]
async fn today_cannot_be_imported() {
    let database = fresh_database().await;
    let app = TestApp::spawn_on(&database.url, &[]).await;
    add_site(&app, Visibility::Public).await;
    let today = database_now(&app.db)
        .await
        .unwrap()
        .format("%Y-%m-%dT00:00:00Z");
    let file = std::env::temp_dir().join(format!("visitors-today-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(
        &file,
        format!(
            "time,granularity,dimension,value,unique_visitors,visits\r\n{today},day,total,,5,9\r\n"
        ),
    )
    .unwrap();
    let env = [("DATABASE_URL", database.url.as_str())];
    let (code, _, stderr) = run_command(&["import", SITE, file.to_str().unwrap()], &env);
    assert_eq!(code, 2);
    assert!(stderr.contains("not before today"), "{stderr}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM imported_counts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    std::fs::remove_file(file).unwrap();
}

#[rocket::async_test]
async fn a_malformed_file_is_refused_whole_with_its_line() {
    let database = fresh_database().await;
    let app = TestApp::spawn_on(&database.url, &[]).await;
    add_site(&app, Visibility::Public).await;
    let file = std::env::temp_dir().join(format!("visitors-bad-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(
        &file,
        "time,granularity,dimension,value,unique_visitors,visits\r\n\
         2026-11-01T00:00:00Z,day,total,,5,9\r\n\
         2026-11-02T00:00:00Z,day,total,,five,9\r\n",
    )
    .unwrap();
    let env = [("DATABASE_URL", database.url.as_str())];
    let (code, _, stderr) = run_command(&["import", SITE, file.to_str().unwrap()], &env);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("line 3") && stderr.contains("nothing was imported"),
        "{stderr}"
    );
    let stored: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM imported_counts) + (SELECT count(*) FROM imports)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(stored, 0);
    std::fs::remove_file(file).unwrap();
}

#[rocket::async_test]
async fn a_private_sites_export_needs_its_token_and_bad_choices_are_400() {
    let app = TestApp::spawn().await;
    add_site(&app, Visibility::Private).await;
    assert_eq!(exported(&app, "").await.0, Status::NotFound);
    let token: Vec<u8> = sqlx::query_scalar("SELECT share_token FROM sites WHERE domain = $1")
        .bind(SITE)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let token = hex::encode(token);
    assert_eq!(
        exported(&app, &format!("?token={token}&granularity=hour"))
            .await
            .0,
        Status::Ok
    );
    assert_eq!(
        exported(&app, &format!("?token={token}&granularity=week"))
            .await
            .0,
        Status::BadRequest
    );
    assert_eq!(
        exported(&app, &format!("?token={token}&range=1y")).await.0,
        Status::BadRequest
    );
}
