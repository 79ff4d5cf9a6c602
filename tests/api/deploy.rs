//! The rolling deploy (scripts/rolling-update.sh) against a stand-in for
//! `docker` (tests/fixtures/fake_docker.py) that records every call.

use std::{path::PathBuf, process::Command};

use serde_json::{json, Value};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/rolling-update.sh");
const FAKE_DOCKER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fake_docker.py");

struct Deploy {
    dir: PathBuf,
    status: std::process::ExitStatus,
    calls: Vec<Value>,
}

/// Runs the rolling update of three old replicas to `new:2`.
fn deploy(unhealthy: bool) -> Deploy {
    let dir =
        std::env::temp_dir().join(format!("visitors-deploy-{}", uuid::Uuid::new_v4().simple()));
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let docker = bin.join("docker");
    std::fs::write(
        &docker,
        format!("#!/bin/sh\nexec python3 {FAKE_DOCKER} \"$@\"\n"),
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&docker)
        .status()
        .unwrap();
    std::fs::write(dir.join(".env"), "POSTGRES_PASSWORD=x\nAPP_IMAGE=old:1\n").unwrap();
    // The stack's checkout holds the backup script; six earlier backups wait.
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/backup.sh"),
        dir.join("scripts/backup.sh"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("backups")).unwrap();
    for day in 1..=6 {
        std::fs::write(
            dir.join(format!(
                "backups/pre-upgrade-2026110{day}T000000Z-old_1.dump"
            )),
            "PGDMP",
        )
        .unwrap();
    }
    let old = |id: &str| json!({"id": id, "image": "old:1", "running": true, "inspects": 0});
    let state = json!({"created": 0, "containers": [old("old1"), old("old2"), old("old3")]});
    std::fs::write(dir.join("state.json"), state.to_string()).unwrap();

    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .arg(SCRIPT)
        .env("PATH", path)
        .env("IMAGE", "new:2")
        .env("APP_DIR", &dir)
        .env("HEALTH_POLL", "0.05")
        .env("HEALTH_TIMEOUT", "10")
        .env("FAKE_DOCKER_STATE", dir.join("state.json"))
        .env("FAKE_DOCKER_LOG", dir.join("calls.jsonl"))
        .env("FAKE_DOCKER_UNHEALTHY", if unhealthy { "1" } else { "0" })
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&output.stdout));
    let calls = std::fs::read_to_string(dir.join("calls.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    Deploy {
        dir,
        status: output.status,
        calls,
    }
}

/// The calls as short words, e.g. "pull", "migrate", "up", "stop old1".
fn steps(calls: &[Value]) -> Vec<String> {
    calls
        .iter()
        .filter_map(|call| {
            let args: Vec<&str> = call["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            match args.as_slice() {
                ["pull", ..] => Some("pull".into()),
                ["compose", "exec", "-T", "db", "sh", "-c", dump] if dump.contains("pg_dump") => {
                    Some("backup".into())
                }
                ["compose", "run", .., last] if last.starts_with("(image") => {
                    Some(format!("migrate {last}"))
                }
                ["compose", "up", ..] => Some("up".into()),
                ["inspect", .., id] => Some(format!("inspect {id}")),
                ["stop", id] => Some(format!("stop {id}")),
                ["rm", id] => Some(format!("rm {id}")),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn migrates_first_then_replaces_one_healthy_replica_at_a_time() {
    let deploy = deploy(false);
    assert!(deploy.status.success());
    let expected = [
        "pull",
        "backup",
        "migrate (image new:2)",
        "up",
        "inspect new1",
        "inspect new1",
        "stop old1",
        "rm old1",
        "up",
        "inspect new2",
        "inspect new2",
        "stop old2",
        "rm old2",
        "up",
        "inspect new3",
        "inspect new3",
        "stop old3",
        "rm old3",
    ];
    assert_eq!(steps(&deploy.calls), expected);
    // Never fewer than the three replicas the stack had.
    for call in &deploy.calls {
        assert!(call["running"].as_array().unwrap().len() >= 3, "{call}");
    }
    let last = deploy.calls.last().unwrap();
    assert_eq!(last["running"], json!(["new1", "new2", "new3"]));
    let env = std::fs::read_to_string(deploy.dir.join(".env")).unwrap();
    assert!(
        env.contains("APP_IMAGE=new:2\n") && !env.contains("old:1"),
        "{env}"
    );
    assert!(
        env.contains("POSTGRES_PASSWORD=x"),
        "the rest of .env is kept"
    );
    // The backup taken before migrating, and the last five kept.
    let mut backups: Vec<String> = std::fs::read_dir(deploy.dir.join("backups"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    backups.sort();
    assert_eq!(backups.len(), 5, "{backups:?}");
    assert!(
        backups.last().unwrap().ends_with("-new_2.dump"),
        "{backups:?}"
    );
    assert!(
        std::fs::read_to_string(deploy.dir.join("backups").join(backups.last().unwrap()))
            .unwrap()
            .starts_with("PGDMP"),
        "the dump itself"
    );
    let _ = std::fs::remove_dir_all(&deploy.dir);
}

#[test]
fn an_unhealthy_new_replica_stops_the_deploy_with_the_old_ones_serving() {
    let deploy = deploy(true);
    assert!(!deploy.status.success());
    assert_eq!(
        steps(&deploy.calls),
        [
            "pull",
            "backup",
            "migrate (image new:2)",
            "up",
            "inspect new1",
            "inspect new1",
            "stop new1",
            "rm new1"
        ]
    );
    assert_eq!(
        deploy.calls.last().unwrap()["running"],
        json!(["old1", "old2", "old3"])
    );
    let _ = std::fs::remove_dir_all(&deploy.dir);
}
