//! The stack's topology on this machine: the project's own nginx template
//! (rendered as the nginx image renders it) in front of three app processes
//! and a real PostgreSQL. The replicas listen on 127.0.0.1, .2 and .3 on one
//! port, and dnsmasq answers for the name `app` with those three addresses,
//! as Docker's DNS does for a scaled service. Needs nginx and dnsmasq
//! ($NGINX_BIN, $DNSMASQ_BIN; the test command installs them).

use std::{
    collections::BTreeSet,
    net::{TcpListener, UdpSocket},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    thread,
    time::{Duration, Instant},
};

use crate::helpers::{free_port, fresh_database, http, your_visits, AppProcess, FIREFOX};

const ADMIN_TOKEN: &str = "topology-admin-token";
const REPLICAS: [(&str, &str); 3] = [
    ("127.0.0.1", "replica-1"),
    ("127.0.0.2", "replica-2"),
    ("127.0.0.3", "replica-3"),
];

/// A process that is killed with the test.
struct Daemon {
    child: Child,
    dir: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM: nginx's master then stops its workers, which SIGKILL would
        // leave running, orphaned, on their port.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("visitors-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A port free on 127.0.0.1 for both UDP and TCP: dnsmasq listens on both and
/// exits at once when either is taken, which would turn every request
/// through nginx into a 502.
fn free_dns_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// dnsmasq answering `app` with every replica address; returns it and its port.
fn start_dns() -> (Daemon, u16) {
    let dir = scratch_dir("dns");
    let hosts = dir.join("hosts");
    let lines: String = REPLICAS
        .iter()
        .map(|(address, _)| format!("{address} app\n"))
        .collect();
    std::fs::write(&hosts, lines).unwrap();
    let port = free_dns_port();
    let child = Command::new(std::env::var("DNSMASQ_BIN").unwrap_or_else(|_| "dnsmasq".into()))
        .args([
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
        ])
        .args(["--listen-address=127.0.0.1", "--pid-file="])
        .arg(format!("--port={port}"))
        .arg(format!("--addn-hosts={}", hosts.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dnsmasq must be installed: run the tests with `make test`");
    let mut dns = Daemon { child, dir };
    // Ready once it accepts on its TCP port. A dnsmasq that could not listen
    // exits at once; say so rather than let nginx answer 502 for a name it
    // cannot resolve.
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            dns.child.try_wait().unwrap().is_none(),
            "dnsmasq exited at start"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "dnsmasq did not start"
        );
        thread::sleep(Duration::from_millis(10));
    }
    (dns, port)
}

/// nginx with the shipped template; returns it and its port. nginx cannot
/// be told to pick a port, so it gets one that was free a moment ago; if
/// another process took it meanwhile, nginx exits and it gets another.
fn start_nginx(app_port: u16, dns_port: u16, rate: &str, burst: &str) -> (Daemon, u16) {
    for _ in 0..5 {
        let dir = scratch_dir("nginx");
        let port = free_port();
        let rendered = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scripts/render_nginx.py"
            ))
            .arg(&dir)
            .arg(format!("NGINX_LISTEN_PORT={port}"))
            .arg(format!("NGINX_APP_UPSTREAM=app:{app_port}"))
            .arg(format!("NGINX_RESOLVER=127.0.0.1:{dns_port}"))
            .arg(format!("NGINX_RATE_LIMIT={rate}"))
            .arg(format!("NGINX_RATE_BURST={burst}"))
            .status()
            .unwrap();
        assert!(rendered.success());
        let child = Command::new(std::env::var("NGINX_BIN").unwrap_or_else(|_| "nginx".into()))
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx must be installed: run the tests with `make test`");
        let mut nginx = Daemon { child, dir };
        let started = Instant::now();
        loop {
            if http()
                .get(&format!("http://127.0.0.1:{port}/lb-health"))
                .call()
                .is_ok_and(|r| r.headers().get("X-Served-By").is_none())
            {
                return (nginx, port);
            }
            if nginx.child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nginx did not start"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("nginx could not listen on any of 5 ports");
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
    let (_dns, dns_port) = start_dns();
    let (_nginx, port) = start_nginx(app_port, dns_port, "1000r/s", "1000");

    // Metrics stay inside: Prometheus scrapes the replicas themselves.
    assert_eq!(get(port, "/metrics").0, 404);

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

    // A replica killed during a burst costs no failed request.
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
    let (_dns, dns_port) = start_dns();
    // The defaults docker-compose.yml gives: 10 requests/s, burst 20.
    let (_nginx, port) = start_nginx(replica.port, dns_port, "10r/s", "20");

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
