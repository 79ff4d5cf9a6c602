//! The stack's topology on this machine: the project's own nginx template
//! (rendered as the nginx image renders it) in front of three app processes
//! and a real PostgreSQL. The replicas listen on 127.0.0.1, .2 and .3 on one
//! port, and dnsmasq answers for the name `app` with those three addresses,
//! as Docker's DNS does for a scaled service (`scripts/topology.py`, shared
//! with the stack benchmark). Needs nginx and dnsmasq ($NGINX_BIN,
//! $DNSMASQ_BIN; the test command installs them).

use std::{
    collections::BTreeSet,
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    thread,
    time::{Duration, Instant},
};

use visitors::infra::database::REQUEST_DEADLINE;

use crate::helpers::{fresh_database, http, your_visits, AppProcess, FIREFOX};

const ADMIN_TOKEN: &str = "topology-admin-token";
const REPLICAS: [(&str, &str); 3] = [
    ("127.0.0.1", "replica-1"),
    ("127.0.0.2", "replica-2"),
    ("127.0.0.3", "replica-3"),
];

/// dnsmasq and nginx as `scripts/topology.py` (the harness the stack
/// benchmark uses too) runs them; stopped with the test.
struct Network {
    child: Child,
}

impl Drop for Network {
    fn drop(&mut self) {
        // SIGTERM: the harness stops nginx (master and workers) and dnsmasq.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// dnsmasq answering `app` with every replica address, and the project's
/// nginx in front of `app:{app_port}`; returns it and nginx's port.
fn start_network(app_port: u16, rate: &str, burst: &str) -> (Network, u16) {
    start_network_with(app_port, rate, burst, &[])
}

/// The same, with files added to nginx's server.d/ (a deployment's own
/// settings).
fn start_network_with(
    app_port: u16,
    rate: &str,
    burst: &str,
    server_conf: &[&std::path::Path],
) -> (Network, u16) {
    let dir = std::env::temp_dir().join(format!(
        "visitors-topology-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let mut command = Command::new("python3");
    command
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/topology.py"))
        .arg(&dir)
        .args(["--rate", rate, "--burst", burst, "--stop-on-eof"])
        .arg(format!("--proxy=lb=app:{app_port}"));
    for file in server_conf {
        command.arg("--server-conf").arg(file);
    }
    for (address, _) in REPLICAS {
        command.arg(format!("--host=app={address}"));
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs scripts/topology.py");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let network = Network { child };
    let ports: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|_| panic!("the topology did not start: {line:?}"));
    let port = ports["lb"].as_u64().expect("nginx's port") as u16;
    (network, port)
}

/// GET through nginx: (status, X-Served-By, body).
fn get(port: u16, path: &str) -> (u16, String, String) {
    let mut response = http()
        .get(&format!("http://127.0.0.1:{port}{path}"))
        .header("User-Agent", FIREFOX)
        .call()
        .expect("nginx answers");
    let served_by = response
        .headers()
        .get("X-Served-By")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        response.status().as_u16(),
        served_by,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

#[test]
fn nginx_in_front_of_three_replicas_behaves_like_the_stack() {
    let database = rocket::execute(fresh_database());
    let database_url = database.url.clone();
    let env = |name| {
        [
            ("DATABASE_URL", database_url.clone()),
            ("INSTANCE_NAME", name),
            ("ROCKET_IP_HEADER", "X-Real-IP".to_owned()),
            ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
            ("HEALTH_FAIL_EXIT_AFTER", "2".to_owned()),
        ]
    };
    // The first replica picks a free port; the others take the same port on
    // their own addresses, as replicas of one service do.
    let mut replicas: Vec<AppProcess> = Vec::new();
    let mut app_port = 0;
    for (address, name) in REPLICAS {
        let env = env(name.to_owned());
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut replica = AppProcess::start_on(address, app_port, &env);
        replica.wait_ready(Duration::from_secs(60));
        app_port = replica.port;
        replicas.push(replica);
    }
    let (_network, port) = start_network(app_port, "1000r/s", "1000");

    // Metrics stay inside: Prometheus scrapes each replica's metrics
    // listener, which no spelling of a path through nginx reaches.
    for path in [
        "/metrics",
        "/metrics/",
        "//metrics",
        "/%6Detrics",
        "/METRICS",
        "/x/../metrics",
    ] {
        let (status, _, body) = get(port, path);
        assert_eq!(status, 404, "{path}");
        assert!(!body.contains("visitors_"), "{path}: {body}");
    }
    let metrics_port = replicas[0].metrics_port().expect("a metrics listener");
    let mut scraped = http()
        .get(&format!("http://{}:{metrics_port}/metrics", REPLICAS[0].0))
        .call()
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped
        .body_mut()
        .read_to_string()
        .unwrap()
        .contains("visitors_http_requests_total"));

    // Every replica serves.
    let served: BTreeSet<String> = (0..30).map(|_| get(port, "/version").1).collect();
    assert_eq!(
        served,
        REPLICAS.iter().map(|(_, name)| name.to_string()).collect()
    );

    // A visit recorded through one replica is counted through the others.
    let mut seen_by = BTreeSet::new();
    for expected in 1..=6 {
        let (status, served_by, body) = get(port, "/");
        assert_eq!(status, 200);
        assert_eq!(
            your_visits(&body),
            expected,
            "the count continues across replicas"
        );
        seen_by.insert(served_by);
    }
    assert!(
        seen_by.len() >= 2,
        "visits went through several replicas: {seen_by:?}"
    );

    // A replica killed during a burst costs no failed request: nginx tries
    // the next one. (That the request's id keeps a visit the dead one had
    // recorded from counting twice is the fault suite's to check.)
    let sent = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let sent = Arc::clone(&sent);
            thread::spawn(move || {
                (0..60)
                    .map(|_| {
                        sent.fetch_add(1, Ordering::SeqCst);
                        get(port, "/").0
                    })
                    .filter(|status| *status != 200)
                    .count()
            })
        })
        .collect();
    while sent.load(Ordering::SeqCst) < 40 {
        thread::sleep(Duration::from_millis(2));
    }
    replicas[1].child.kill().unwrap();
    let failed: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(failed, 0, "requests failed while a replica died");
    let served: BTreeSet<String> = (0..12).map(|_| get(port, "/version").1).collect();
    assert!(
        !served.contains("replica-2"),
        "nginx routes around the dead replica: {served:?}"
    );

    // The health switch: the replica that took the request exits non-zero in time.
    let mut response = http()
        .post(&format!("http://127.0.0.1:{port}/admin/fail-health"))
        .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .send_empty()
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.body_mut().read_to_string().unwrap_or_default()
    );
    let failing = response
        .headers()
        .get("X-Served-By")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let index = REPLICAS
        .iter()
        .position(|(_, name)| *name == failing)
        .unwrap();
    let failed_at = Instant::now();
    let status = loop {
        if let Some(status) = replicas[index].child.try_wait().unwrap() {
            break status;
        }
        assert!(
            failed_at.elapsed() < Duration::from_secs(15),
            "{failing} did not exit"
        );
        // Meanwhile the site keeps answering.
        assert_eq!(get(port, "/version").0, 200);
        thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(4), "{failing} exits with code 4");
    assert!(failed_at.elapsed() >= Duration::from_secs(2));
    let statuses: Vec<u16> = (0..10).map(|_| get(port, "/").0).collect();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "the last replica serves: {statuses:?}"
    );
}

#[test]
fn the_rate_limit_answers_429_past_its_burst() {
    let database = rocket::execute(fresh_database());
    let database_url = database.url.clone();
    let mut replica = AppProcess::start_on(
        REPLICAS[0].0,
        0,
        &[
            ("DATABASE_URL", &database_url),
            ("ROCKET_IP_HEADER", "X-Real-IP"),
        ],
    );
    replica.wait_ready(Duration::from_secs(60));
    // The defaults docker-compose.yml gives: 10 requests/s, burst 20.
    let (_network, port) = start_network(replica.port, "10r/s", "20");

    // nginx's promise: at most 1 + burst + rate × elapsed requests pass.
    let started = Instant::now();
    let senders: Vec<_> = (0..6)
        .map(|_| thread::spawn(move || (0..40).map(|_| get(port, "/").0).collect::<Vec<u16>>()))
        .collect();
    let statuses: Vec<u16> = senders
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        ok + limited,
        statuses.len(),
        "only 200 or 429: {statuses:?}"
    );
    assert!(ok >= 21, "1 + the burst of 20 pass: {ok}");
    let allowed = 21 + (10.0 * elapsed).ceil() as usize;
    assert!(
        ok <= allowed,
        "{ok} passed in {elapsed:.2} s, at most {allowed} may"
    );
    // 240 requests could all pass only if sending them took 21.9 s.
    assert!(
        limited > 0,
        "{} requests in {elapsed:.2} s exceed the limit",
        statuses.len()
    );
    // Probes are never limited.
    assert!((0..20).all(|_| get(port, "/healthz").0 == 200));
}

/// nginx waits for a replica longer than the replica waits for its database
/// (to record the visit, then to read the page's numbers), so the app's own
/// 503 comes first and nginx never gives up on a visit that might count.
#[test]
fn nginx_waits_longer_than_the_apps_deadlines() {
    let template = include_str!("../../nginx/templates/default.conf.template");
    let timeout = regex::Regex::new(r"proxy_read_timeout (\d+)s;")
        .unwrap()
        .captures(template)
        .expect("a read timeout in seconds")[1]
        .parse::<u64>()
        .unwrap();
    assert!(
        Duration::from_secs(timeout) > REQUEST_DEADLINE,
        "proxy_read_timeout {timeout}s"
    );
}

/// One subscriber holds a whole IPv6 /64: the rate limit counts it as one
/// client, as it counts one IPv4 address. nginx takes the client address
/// from a header here (a test's own `real_ip` setting), so that one
/// machine can be many clients.
#[test]
fn the_rate_limit_counts_an_ipv6_slash_64_as_one_client() {
    let database = rocket::execute(fresh_database());
    let database_url = database.url.clone();
    let mut replica = AppProcess::start_on(
        REPLICAS[0].0,
        0,
        &[
            ("DATABASE_URL", &database_url),
            ("ROCKET_IP_HEADER", "X-Real-IP"),
        ],
    );
    replica.wait_ready(Duration::from_secs(60));
    let realip = std::env::temp_dir().join(format!(
        "visitors-realip-{}.conf",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(
        &realip,
        "set_real_ip_from 127.0.0.1;\nreal_ip_header X-Test-Client;\n",
    )
    .unwrap();
    let (_network, port) = start_network_with(replica.port, "1r/s", "5", &[&realip]);
    let from = |client: &str| {
        http()
            .get(&format!("http://127.0.0.1:{port}/api/stats"))
            .header("X-Test-Client", client)
            .call()
            .unwrap()
            .status()
            .as_u16()
    };
    // Ten requests from two addresses of one /64, well within a second:
    // 1 + the burst of 5 pass (at most one more as a second goes by).
    let started = Instant::now();
    let statuses: Vec<u16> = (0..10)
        .map(|i| from(["2001:db8:1:2::a", "2001:db8:1:2:ffff::b"][i % 2]))
        .collect();
    let passed = statuses.iter().filter(|s| **s == 200).count();
    let allowed = 6 + started.elapsed().as_secs() as usize;
    assert!(
        (6..=allowed).contains(&passed) && statuses.iter().all(|s| [200, 429].contains(s)),
        "{statuses:?}"
    );
    // Another /64, and IPv4 addresses, are clients of their own.
    for client in ["2001:db8:1:3::a", "198.51.100.1", "198.51.100.2"] {
        assert_eq!(from(client), 200, "{client}");
    }
    std::fs::remove_file(realip).unwrap();
}
