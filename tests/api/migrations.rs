//! Migrations: each in a transaction of its own, so one that fails halfway
//! leaves the database exactly as it was and the server refuses to start,
//! naming it; and a binary older than the database's schema refuses it.

use std::{
    borrow::Cow,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use sqlx::{migrate::Migrator, PgPool};
use visitors::infra::database::MIGRATOR;

use crate::helpers::{fresh_database, run_command, AppProcess};

/// The whole database as pg_dump writes it.
fn dump(database_url: &str) -> String {
    let bindir = std::env::var("PG_BINDIR").expect("PG_BINDIR: run the tests with `make test`");
    let output = Command::new(Path::new(&bindir).join("pg_dump"))
        .args(["--no-owner", "--no-privileges", database_url])
        .output()
        .expect("pg_dump runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // pg_dump marks each dump with a random key of its own.
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("\\restrict") && !line.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lines of `after` that are not in `before`, and the other way round:
/// empty when the two dumps are the same.
fn changed_lines(before: &str, after: &str) -> Vec<String> {
    let (before, after): (Vec<&str>, Vec<&str>) =
        (before.lines().collect(), after.lines().collect());
    let added = after
        .iter()
        .filter(|l| !before.contains(l))
        .map(|l| format!("+ {l}"));
    let removed = before
        .iter()
        .filter(|l| !after.contains(l))
        .map(|l| format!("- {l}"));
    added.chain(removed).collect()
}

/// Starts `visitors serve` and waits for it to exit; (exit code, its log).
fn serve_until_it_exits(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let log = std::env::temp_dir().join(format!(
        "visitors-migrate-{}.log",
        uuid::Uuid::new_v4().simple()
    ));
    let mut app = AppProcess::start_logged("127.0.0.1", env, &log);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = app.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server kept running"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(log);
    (status.code(), text)
}

/// A database with every migration but the newest applied.
async fn all_but_the_newest(pool: &PgPool) -> &'static sqlx::migrate::Migration {
    let newest = MIGRATOR.iter().last().expect("migrations");
    let earlier = Migrator {
        migrations: Cow::Owned(
            MIGRATOR
                .iter()
                .filter(|m| m.version < newest.version)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    };
    earlier.run(pool).await.unwrap();
    newest
}

#[test]
fn a_migration_that_fails_halfway_changes_nothing_and_the_server_names_it() {
    let database = rocket::execute(fresh_database());
    let url = database.url.clone();
    let newest = rocket::execute(async {
        let pool = PgPool::connect(&url).await.unwrap();
        let newest = all_but_the_newest(&pool).await;
        // The second DDL statement of any transaction fails: the newest
        // migration gets halfway, then fails.
        sqlx::raw_sql(
            "CREATE FUNCTION halfway() RETURNS event_trigger LANGUAGE plpgsql AS $$
             BEGIN
                 PERFORM set_config('test.ddl', (coalesce(nullif(current_setting('test.ddl', true), ''), '0')::int + 1)::text, true);
                 IF current_setting('test.ddl')::int >= 2 THEN
                     RAISE EXCEPTION 'a failure injected halfway';
                 END IF;
             END $$;
             CREATE EVENT TRIGGER halfway ON ddl_command_end EXECUTE FUNCTION halfway();",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        newest
    });
    let before = dump(&url);

    let (code, log) = serve_until_it_exits(&[("DATABASE_URL", &url)]);
    assert_ne!(code, Some(0));
    let line = format!(
        "migration {} ({}) failed and was rolled back",
        newest.version, newest.description
    );
    assert!(log.contains(&line), "{log}");
    assert!(log.contains("a failure injected halfway"), "{log}");
    assert_eq!(
        changed_lines(&before, &dump(&url)),
        Vec::<String>::new(),
        "nothing of the migration is left"
    );

    let (code, _, stderr) = run_command(&["migrate"], &[("DATABASE_URL", &url)]);
    assert_eq!(code, 1);
    assert!(stderr.contains(&line), "{stderr}");
    assert_eq!(changed_lines(&before, &dump(&url)), Vec::<String>::new());

    // A server that does not migrate serves, and says it is not ready.
    let mut app = AppProcess::start(&[("DATABASE_URL", &url), ("MIGRATE_ON_START", "false")]);
    app.wait_for("/healthz", Duration::from_secs(60));
    let readiness = crate::helpers::http()
        .get(&app.url("/readyz"))
        .call()
        .unwrap();
    assert_eq!(readiness.status(), 503);
}

#[test]
fn a_binary_older_than_the_schema_refuses_it() {
    let database = rocket::execute(fresh_database());
    let url = database.url.clone();
    rocket::execute(async {
        let pool = PgPool::connect(&url).await.unwrap();
        MIGRATOR.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (29991231000001, 'from a later release', true, '\\x00', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    });
    let known = MIGRATOR.iter().last().unwrap().version;
    let message = format!(
        "the database is at migration 29991231000001, newer than this binary, which knows migrations up to {known}"
    );
    for migrate_on_start in ["true", "false"] {
        let (code, log) = serve_until_it_exits(&[
            ("DATABASE_URL", &url),
            ("MIGRATE_ON_START", migrate_on_start),
        ]);
        assert_ne!(code, Some(0));
        assert!(
            log.contains(&message),
            "MIGRATE_ON_START={migrate_on_start}: {log}"
        );
    }
    let (code, _, stderr) = run_command(&["migrate"], &[("DATABASE_URL", &url)]);
    assert_eq!(code, 1);
    assert!(stderr.contains(&message), "{stderr}");
}
