//! `visitors simulate`: demo traffic that stops by itself and looks real.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{fresh_database, http, run_binary, AppProcess};

#[test]
fn simulated_visits_arrive_as_a_varied_crowd_and_the_run_ends_by_itself() {
    let database = rocket::execute(fresh_database());
    let database_url = database.url.clone();
    let mut app = AppProcess::start(&[("DATABASE_URL", &database_url), ("STATS_CACHE_MS", "0")]);
    app.wait_ready(Duration::from_secs(60));

    let started = Instant::now();
    let (status, stderr) = run_binary(
        &[
            "simulate",
            "--url",
            &app.url("/"),
            "--rate",
            "40",
            "--duration",
            "2",
            "--workers",
            "4",
        ],
        &[],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it stops after its duration"
    );

    let stats: Value = http()
        .get(&app.url("/api/stats?range=1h"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let sent = stats["visits"].as_i64().unwrap() + stats["bot_visits"].as_i64().unwrap();
    // Paced at 40 visits/s for 2 s: never more (a slow server makes it fewer).
    assert!((10..=82).contains(&sent), "at most 40/s for 2 s: {sent}");
    assert!(
        stats["unique_visitors"].as_i64().unwrap() >= 10,
        "many visitors: {stats}"
    );
    assert!(
        stats["browsers"].as_array().unwrap().len() >= 3,
        "several browsers: {stats}"
    );
    assert!(
        stats["devices"].as_array().unwrap().len() >= 2,
        "desktop and mobile: {stats}"
    );
    assert!(
        !stats["referrers"].as_array().unwrap().is_empty(),
        "some arrive from other sites"
    );
}

#[test]
fn simulate_refuses_what_it_should_not_target() {
    for args in [
        ["--url", "https://example.org/", "--rate", "5"],
        ["--url", "ftp://127.0.0.1/", "--rate", "5"],
        ["--url", "http://127.0.0.1:9/", "--rate", "0"],
    ] {
        let (status, stderr) = run_binary(&[&["simulate"][..], &args[..]].concat(), &[]);
        assert_eq!(status, 2, "{args:?}: {stderr}");
    }
}
