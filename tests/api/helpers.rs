//! Test fixtures: a fresh database per test on the server in $DATABASE_URL,
//! the app in-process (Rocket's local client) or as a real process, and a
//! private PostgreSQL cluster for tests that stop the server.

use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use figment::providers::Serialized;
use maxminddb_writer::{paths::IpAddrWithMask, Database};
use rocket::{
    http::{Accept, ContentType, Header, Status},
    local::asynchronous::{Client, LocalResponse},
};
use sqlx::{Connection, PgConnection, PgPool};
use visitors::{
    counting::details::{HitDetails, Utm},
    infra::config::{self, Config},
};

/// Every row of every table of the app's schema, as text: what a search
/// for something that must never be stored (an address) looks through.
pub async fn every_stored_row(db: &PgPool) -> String {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert!(tables.len() >= 4, "found tables {tables:?}");
    let mut dump = String::new();
    for table in &tables {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {table} t"))
            .fetch_all(db)
            .await
            .unwrap();
        dump.extend(rows.into_iter().map(|row| row + "\n"));
    }
    dump
}

/// A country database of three networks, in a new file: 192.0.2.0/24 in Germany and
/// 198.51.100.0/24 in the United States, as the ip-location-db files write
/// them (`country_code`), and 203.0.113.0/24 as GeoLite2 and DB-IP do
/// (`country.iso_code`): France.
pub fn country_database() -> PathBuf {
    let mut database = Database::default();
    database.metadata.database_type = "test-country".into();
    database.metadata.binary_format_major_version = 2;
    database.metadata.build_epoch = 1_780_000_000;
    for (network, code, nested) in [
        ("192.0.2.0/24", "DE", false),
        ("198.51.100.0/24", "US", false),
        ("203.0.113.0/24", "FR", true),
    ] {
        let value = if nested {
            serde_json::json!({ "country": { "iso_code": code } })
        } else {
            serde_json::json!({ "country_code": code })
        };
        let data = database.insert_value(value).unwrap();
        database.insert_node(network.parse::<IpAddrWithMask>().unwrap(), data);
    }
    let path = std::env::temp_dir().join(format!("visitors-{}.mmdb", uuid::Uuid::new_v4()));
    let file = std::fs::File::create(&path).unwrap();
    database.write_to(file).unwrap();
    path
}

/// A visit's details when it has none (the instance's own page, a badge).
pub static NO_DETAILS: HitDetails = HitDetails {
    source: None,
    utm: Utm {
        source: None,
        medium: None,
        campaign: None,
        term: None,
        content: None,
    },
    screen: None,
    event: None,
};

pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
pub const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
pub const GOOGLEBOT: &str =
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// The server the test command started (or the one the developer gave).
pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a PostgreSQL server: run the tests with `make test`")
}

/// A new, empty database on the test server, dropped when the test ends.
pub async fn fresh_database() -> TestDatabase {
    fresh_database_on(&server_url()).await
}

pub async fn fresh_database_on(server: &str) -> TestDatabase {
    let name = format!("visitors_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(server)
        .await
        .expect("connect to the test server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(server).expect("DATABASE_URL is a URL");
    url.set_path(&name);
    TestDatabase {
        url: url.to_string(),
        server: server.to_owned(),
        name,
    }
}

/// The visitor secret file of the apps of one database: they share it, as
/// replicas share theirs through a volume. Deleted with the database.
pub fn secret_file_for(database_url: &str) -> PathBuf {
    let name = url::Url::parse(database_url)
        .ok()
        .map(|url| url.path().trim_start_matches('/').to_owned())
        .unwrap_or_default();
    std::env::temp_dir().join(format!("visitors-secret-{name}"))
}

/// The secret file for a process given `env` (by its `DATABASE_URL`).
fn secret_file_of(env: &[(&str, &str)]) -> PathBuf {
    env.iter()
        .find(|(name, _)| *name == "DATABASE_URL")
        .map_or_else(|| secret_file_for(""), |(_, url)| secret_file_for(url))
}

/// A test's own database; dropped (with whatever is still connected to it)
/// when the value is.
pub struct TestDatabase {
    pub url: String,
    server: String,
    name: String,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(secret_file_for(&self.url));
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop may run inside a test's runtime, which cannot be blocked on:
        // the statement runs on a thread and runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                // The server may be gone already (a private cluster the test
                // stopped): then so is the database.
                if let Ok(mut admin) = PgConnection::connect(&server).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        });
        let _ = dropped.join();
    }
}

/// The app in-process on a fresh database.
pub struct TestApp {
    pub client: Client,
    pub db: PgPool,
    /// Set when the app made its own database; dropped last.
    _database: Option<TestDatabase>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// `settings` are figment keys (`ip_header`, `user_name`, …) and values.
    pub async fn spawn_with(settings: &[(&str, &str)]) -> Self {
        let database = fresh_database().await;
        let mut app = Self::spawn_on(&database.url, settings).await;
        app._database = Some(database);
        app
    }

    pub async fn spawn_on(database_url: &str, settings: &[(&str, &str)]) -> Self {
        let mut figment = config::figment()
            .merge(Serialized::global("databases.visitors.url", database_url))
            .merge(Serialized::global("databases.visitors.max_connections", 32))
            .merge(Serialized::global("instance_name", "test-instance"))
            .merge(Serialized::global(
                "visitor_secret_file",
                secret_file_for(database_url),
            ));
        for (key, value) in settings {
            // Parsed as environment variables are: "false" is a boolean.
            let value: figment::value::Value = value.parse().expect("a setting value");
            figment = figment.merge(Serialized::global(key, value));
        }
        let config = Config::from_figment(figment).expect("valid test configuration");
        let client = Client::tracked(visitors::rocket(config))
            .await
            .expect("the app ignites");
        let db = PgPool::connect(database_url)
            .await
            .expect("connect to the test database");
        Self {
            client,
            db,
            _database: None,
        }
    }

    /// `GET /metrics` from this app's metrics listener (in-process, as the
    /// server runs it on `METRICS_PORT`): (status, content type, text).
    pub async fn scrape_metrics(&self) -> (Status, Option<ContentType>, String) {
        let listener = visitors::infra::metrics::listener(self.client.rocket(), 0)
            .expect("the app has a registry and a pool");
        let client = Client::untracked(listener)
            .await
            .expect("the metrics listener ignites");
        let response = client.get("/metrics").dispatch().await;
        let (status, content_type) = (response.status(), response.content_type());
        (status, content_type, response.into_string().await.unwrap())
    }

    /// `GET url` asking for JSON: (status, the body as JSON).
    pub async fn get_json(&self, url: &str) -> (Status, serde_json::Value) {
        let response = self.client.get(url).header(Accept::JSON).dispatch().await;
        (response.status(), response.into_json().await.unwrap())
    }

    /// `GET url`: (status, the body as text).
    pub async fn get_html(&self, url: &str) -> (Status, String) {
        let response = self.client.get(url).dispatch().await;
        (response.status(), response.into_string().await.unwrap())
    }

    /// `GET /` as a browser at `ip` with `user_agent`.
    pub async fn visit(&self, ip: &str, user_agent: &str) -> LocalResponse<'_> {
        self.client
            .get("/")
            .remote(SocketAddr::new(ip.parse().expect("an IP address"), 40000))
            .header(Header::new("User-Agent", user_agent.to_owned()))
            .dispatch()
            .await
    }

    /// (human visits, bot visits, unique visitors) as stored.
    pub async fn totals(&self) -> (i64, i64, i64) {
        sqlx::query_as(
            "SELECT coalesce(sum(visits), 0)::bigint, coalesce(sum(bot_visits), 0)::bigint, \
             coalesce(sum(unique_visitors), 0)::bigint FROM visit_totals",
        )
        .fetch_one(&self.db)
        .await
        .expect("read totals")
    }

    /// What the rollups hold, per granularity: human visits and net unique
    /// visitors (arrivals − departures, which does not depend on where
    /// bucket boundaries fall), and the net breakdown counts per dimension
    /// and value.
    pub async fn rollup_summary(&self) -> RollupSummary {
        let rollups = sqlx::query_as(
            "SELECT granularity, sum(visits)::bigint, sum(arrivals - departures)::bigint \
             FROM visit_rollups GROUP BY granularity ORDER BY granularity",
        )
        .fetch_all(&self.db)
        .await
        .expect("read rollups");
        let breakdowns = sqlx::query_as(
            "SELECT granularity, dimension, value, sum(arrivals - departures)::bigint \
             FROM visitor_breakdowns GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        )
        .fetch_all(&self.db)
        .await
        .expect("read breakdowns");
        (rollups, breakdowns)
    }
}

/// Rollups (granularity, visits, net unique visitors) and breakdowns
/// (granularity, dimension, value, net unique visitors).
pub type RollupSummary = (Vec<(String, i64, i64)>, Vec<(String, String, String, i64)>);

/// The number in the element `id="{id}"` of a page (`<dd id=…>12</dd>`).
pub fn page_number(html: &str, id: &str) -> i64 {
    let pattern =
        regex::Regex::new(&format!(r#"id="{}">\s*(-?\d+)\s*<"#, regex::escape(id))).unwrap();
    let captures = pattern
        .captures(html)
        .unwrap_or_else(|| panic!("no number in #{id} of the page"));
    captures[1].parse().unwrap()
}

/// "You have visited this page N times" → N.
pub fn your_visits(html: &str) -> i64 {
    let pattern = regex::Regex::new(r"You have visited this page <strong>(\d+)</strong>").unwrap();
    let captures = pattern.captures(html).expect("the visitor's line");
    captures[1].parse().unwrap()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// The variables a child process keeps from the test's environment: PATH,
/// and where an instrumented binary writes its coverage profile.
fn inherited_env() -> impl Iterator<Item = (&'static str, String)> {
    ["PATH", "LLVM_PROFILE_FILE"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok().map(|value| (name, value)))
}

/// The `visitors` binary as a real server process.
pub struct AppProcess {
    pub child: Child,
    pub address: String,
    /// 0 until `wait_ready` has read the port the server bound.
    pub port: u16,
    log: PathBuf,
    /// The log file is the test's (`start_logged`), not ours to delete.
    keep_log: bool,
}

impl AppProcess {
    /// Starts `visitors serve` on 127.0.0.1 and a port the server picks
    /// (`ROCKET_PORT=0`), with only the given environment (plus
    /// `inherited_env`); `wait_ready` learns the port from its log.
    pub fn start(env: &[(&str, &str)]) -> Self {
        Self::start_on("127.0.0.1", 0, env)
    }

    /// The same on a given address and port.
    pub fn start_on(address: &str, port: u16, env: &[(&str, &str)]) -> Self {
        let log = std::env::temp_dir().join(format!(
            "visitors-app-{}.log",
            uuid::Uuid::new_v4().simple()
        ));
        Self::spawn(address, port, env, log, false)
    }

    /// The same on a port the server picks, with the server's log (its
    /// stdout) written to `log`.
    pub fn start_logged(address: &str, env: &[(&str, &str)], log: &Path) -> Self {
        Self::spawn(address, 0, env, log.to_owned(), true)
    }

    fn spawn(address: &str, port: u16, env: &[(&str, &str)], log: PathBuf, keep_log: bool) -> Self {
        let file = std::fs::File::create(&log).expect("create the log file");
        let secret_file = secret_file_of(env);
        let child = Command::new(env!("CARGO_BIN_EXE_visitors"))
            .env_clear()
            .envs(inherited_env())
            .env("ROCKET_ADDRESS", address)
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_CLI_COLORS", "false")
            // Tests run servers side by side: each metrics listener on a port of its own.
            .env("METRICS_PORT", "0")
            .env("VISITOR_SECRET_FILE", &secret_file)
            .envs(env.iter().copied())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::from(file))
            .stderr(Stdio::null())
            .spawn()
            .expect("start the visitors binary");
        Self {
            child,
            address: address.to_owned(),
            port,
            log,
            keep_log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        assert_ne!(self.port, 0, "wait_ready first: the port is not known yet");
        format!("http://{}:{}{path}", self.address, self.port)
    }

    /// The port in the server's "listening" log line (text or JSON).
    fn logged_port(&self) -> Option<u16> {
        self.logged_number(r#"listening.*?\bport"?[=:](\d+)"#)
    }

    /// The port of its metrics listener, from its log.
    pub fn metrics_port(&self) -> Option<u16> {
        self.logged_number(r#"metrics listening.*?\bmetrics_port"?[=:](\d+)"#)
    }

    fn logged_number(&self, pattern: &str) -> Option<u16> {
        let log = std::fs::read_to_string(&self.log).ok()?;
        regex::Regex::new(pattern).unwrap().captures(&log)?[1]
            .parse()
            .ok()
    }

    /// Waits for `/readyz` to answer 200; returns how long that took.
    pub fn wait_ready(&mut self, limit: Duration) -> Duration {
        self.wait_for("/readyz", limit)
    }

    /// Waits for `path` to answer 200 (`/healthz`: the server serves,
    /// ready or not); returns how long that took.
    pub fn wait_for(&mut self, path: &str, limit: Duration) -> Duration {
        let started = Instant::now();
        let agent = http();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the server exited with {status} before it was ready");
            }
            if self.port == 0 {
                self.port = self.logged_port().unwrap_or(0);
            }
            if self.port != 0 {
                if let Ok(response) = agent.get(&self.url(path)).call() {
                    if response.status() == 200 {
                        return started.elapsed();
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{path} did not answer 200 within {limit:?}");
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.keep_log {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// Runs the binary to completion with `env` (plus `inherited_env`); returns
/// (exit code, stderr).
pub fn run_binary(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let (code, _, stderr) = run_command(args, env);
    (code, stderr)
}

/// The same, with what it printed: (exit code, stdout, stderr).
pub fn run_command(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    run_command_with_input(args, env, "")
}

/// The same, with `input` on its standard input. It runs in the temporary
/// directory, not the checkout, where a developer's `make run` may have left
/// its settings (`.data/run.toml`) for the commands.
pub fn run_command_with_input(
    args: &[&str],
    env: &[(&str, &str)],
    input: &str,
) -> (i32, String, String) {
    run_command_in(&std::env::temp_dir(), args, env, input)
}

/// The same, in the directory `dir`.
pub fn run_command_in(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    input: &str,
) -> (i32, String, String) {
    use std::io::Write;
    let secret_file = secret_file_of(env);
    let mut child = Command::new(env!("CARGO_BIN_EXE_visitors"))
        .args(args)
        .env_clear()
        .envs(inherited_env())
        .env("VISITOR_SECRET_FILE", &secret_file)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the visitors binary");
    let mut stdin = child.stdin.take().expect("a piped stdin");
    stdin.write_all(input.as_bytes()).expect("write the input");
    drop(stdin);
    let output = child.wait_with_output().expect("run the visitors binary");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A PostgreSQL cluster of the test's own, which the test may stop and start.
/// Needs the server binaries in $PG_BINDIR (the test command sets it).
pub struct PrivateCluster {
    dir: PathBuf,
    pub port: u16,
}

impl PrivateCluster {
    pub fn start() -> Self {
        let dir =
            std::env::temp_dir().join(format!("visitors-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let cluster = Self {
            dir,
            port: free_port(),
        };
        if is_root() {
            run_checked(Command::new("chown").arg("postgres").arg(&cluster.dir));
        }
        let data = cluster.dir.join("data");
        cluster.as_owner("initdb", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "-A", "trust", "--no-sync"])
        });
        cluster.pg_ctl_start();
        cluster
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn stop(&self) {
        let data = self.dir.join("data");
        self.as_owner("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"])
        });
    }

    pub fn pg_ctl_start(&self) {
        let data = self.dir.join("data");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        self.as_owner("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-o", &options, "start"])
        });
    }

    fn as_owner(&self, program: &str, args: impl FnOnce(&mut Command) -> &mut Command) {
        let bindir = std::env::var("PG_BINDIR").expect(
            "PG_BINDIR must name PostgreSQL's bin directory: run the tests with `make test`",
        );
        let program = Path::new(&bindir).join(program);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        run_checked(args(&mut command));
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        if data.join("postmaster.pid").exists() {
            self.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn run_checked(command: &mut Command) {
    let output = command
        .stdout(Stdio::null())
        .output()
        .expect("run a PostgreSQL command");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One message an `SmtpSink` received.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// As sent: headers and the encoded body.
    pub message: String,
}

impl ReceivedMail {
    pub fn subject(&self) -> String {
        let parsed = mailparse::parse_mail(self.message.as_bytes()).expect("a mail");
        parsed
            .headers
            .iter()
            .find(|header| header.get_key_ref().eq_ignore_ascii_case("subject"))
            .map(|header| header.get_value())
            .unwrap_or_default()
    }

    /// The decoded body of its part of type `mime` (`text/plain`, `text/html`).
    pub fn body(&self, mime: &str) -> String {
        fn find(part: &mailparse::ParsedMail<'_>, mime: &str) -> Option<String> {
            if part.subparts.is_empty() {
                return (part.ctype.mimetype == mime).then(|| part.get_body().expect("a body"));
            }
            part.subparts.iter().find_map(|sub| find(sub, mime))
        }
        let parsed = mailparse::parse_mail(self.message.as_bytes()).expect("a mail");
        find(&parsed, mime).unwrap_or_else(|| panic!("no {mime} part in {}", self.message))
    }
}

/// A real SMTP server (aiosmtpd, from the test venv) on a port it picks,
/// collecting what it is sent; `refusing` answers every message with 554.
pub struct SmtpSink {
    child: Child,
    port: u16,
    received: std::sync::Arc<std::sync::Mutex<Vec<ReceivedMail>>>,
}

impl SmtpSink {
    pub fn start() -> Self {
        Self::spawn(&[])
    }

    pub fn refusing() -> Self {
        Self::spawn(&["--refuse"])
    }

    fn spawn(args: &[&str]) -> Self {
        use std::io::BufRead;
        let python = std::env::var("SMTP_SINK_PYTHON").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/target/test-venv/bin/python").to_owned()
        });
        let mut child = Command::new(&python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/smtp_sink.py"
            ))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("start {python} (aiosmtpd; scripts/lib/test-env.sh installs it): {error}")
            });
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the sink's first line").unwrap();
        let port = first
            .strip_prefix("listening ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("not a port: {first}"));
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let collected = received.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mail = serde_json::from_str(&line).expect("a JSON line");
                collected.lock().unwrap().push(mail);
            }
        });
        Self {
            child,
            port,
            received,
        }
    }

    /// `SMTP_URL` for it: plain SMTP on 127.0.0.1.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `count` messages arrived; returns them all.
    pub async fn wait_for(&self, count: usize, limit: Duration) -> Vec<ReceivedMail> {
        let started = Instant::now();
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                started.elapsed() < limit,
                "{count} mails expected within {limit:?}, {} came",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
