//! Starting the real binary: configuration errors, an unreachable database,
//! replicas migrating one empty database together, and the subcommands.

use std::time::Duration;

use crate::helpers::{free_port, fresh_database, http, run_binary, AppProcess};

/// A start that fails says so in one line and exits with `code`; no panic.
fn assert_clean_failure(env: &[(&str, &str)], code: i32, variable: &str) {
    let (status, stderr) = run_binary(&[], env);
    assert_eq!(status, code, "{env:?}: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line, got: {stderr}");
    assert!(
        stderr.contains(variable),
        "{variable} is named in: {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[test]
fn each_bad_setting_exits_2_naming_its_variable() {
    let url = "postgres://postgres@127.0.0.1:1/db";
    assert_clean_failure(&[], 2, "DATABASE_URL");
    assert_clean_failure(
        &[("DATABASE_URL", "mysql://root:hunter2@db/x")],
        2,
        "DATABASE_URL",
    );
    for (variable, value) in [
        ("MIGRATE_ON_START", "perhaps"),
        ("DB_STARTUP_TIMEOUT", "-5"),
        ("DB_STARTUP_TIMEOUT", "0"),
        ("USER_URL", "javascript:alert(1)"),
        ("VISITOR_SECRET", "too-short"),
        ("INSTANCE_NAME", "line\nbreak"),
        ("ROCKET_PORT", "99999"),
    ] {
        assert_clean_failure(&[("DATABASE_URL", url), (variable, value)], 2, variable);
    }
    let (_, stderr) = run_binary(&[], &[("DATABASE_URL", "mysql://root:hunter2@db/x")]);
    assert!(!stderr.contains("hunter2"), "the password is never printed");
}

#[test]
fn an_unreachable_database_exits_3_after_the_timeout() {
    let port = free_port().to_string();
    let url = format!("postgres://postgres@127.0.0.1:{port}/db");
    assert_clean_failure(
        &[("DATABASE_URL", &url), ("DB_STARTUP_TIMEOUT", "1")],
        3,
        "DB_STARTUP_TIMEOUT",
    );
}

#[test]
fn three_replicas_starting_together_migrate_one_empty_database() {
    let database = rocket::execute(fresh_database());
    let database_url = database.url.clone();
    let mut replicas: Vec<AppProcess> = ["a", "b", "c"]
        .into_iter()
        .map(|name| AppProcess::start(&[("DATABASE_URL", &database_url), ("INSTANCE_NAME", name)]))
        .collect();
    for replica in &mut replicas {
        let took = replica.wait_ready(Duration::from_secs(60));
        eprintln!("replica on port {} ready after {took:?}", replica.port);
    }

    // All three share the generated secret: one visitor is one visitor everywhere.
    let agent = http();
    let mut served_by = Vec::new();
    for replica in &replicas {
        let response = agent
            .get(&replica.url("/"))
            .header("User-Agent", "Firefox/128.0")
            .call()
            .unwrap();
        assert_eq!(response.status(), 200);
        served_by.push(
            response
                .headers()
                .get("X-Served-By")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned(),
        );
        let html = response.into_body().read_to_string().unwrap();
        assert!(
            html.contains(&format!("<strong>{}</strong>", served_by.len())),
            "visit {} counted in order",
            served_by.len()
        );
    }
    assert_eq!(served_by, ["a", "b", "c"]);

    rocket::execute(async {
        let db = sqlx::PgPool::connect(&database_url).await.unwrap();
        let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(
            applied as usize,
            visitors::infra::database::MIGRATOR.iter().count()
        );
        let secrets: i64 = sqlx::query_scalar("SELECT count(*) FROM app_settings")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(secrets, 0, "the visitor secret is not kept in the database");
    });
}

#[test]
fn migrate_applies_the_schema_and_exits() {
    let database = rocket::execute(fresh_database());
    let database_url = database.url.clone();
    let (status, stderr) = run_binary(&["migrate"], &[("DATABASE_URL", &database_url)]);
    assert_eq!(status, 0, "{stderr}");
    // A server that does not migrate by itself finds the schema ready.
    let mut app = AppProcess::start(&[
        ("DATABASE_URL", &database_url),
        ("MIGRATE_ON_START", "false"),
    ]);
    app.wait_ready(Duration::from_secs(60));
    // Running it again is harmless.
    assert_eq!(
        run_binary(&["migrate"], &[("DATABASE_URL", &database_url)]).0,
        0
    );
}

#[test]
fn the_healthcheck_command_reports_the_local_server() {
    let database = rocket::execute(fresh_database());
    let database_url = database.url.clone();
    let mut app = AppProcess::start(&[("DATABASE_URL", &database_url)]);
    app.wait_ready(Duration::from_secs(60));
    let port = app.port.to_string();
    assert_eq!(run_binary(&["healthcheck"], &[("ROCKET_PORT", &port)]).0, 0);
    // Dropping kills the server and waits for it: its port is closed.
    drop(app);
    assert_eq!(run_binary(&["healthcheck"], &[("ROCKET_PORT", &port)]).0, 1);
}
