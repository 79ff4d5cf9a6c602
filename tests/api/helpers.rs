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
use rocket::{
    http::Header,
    local::asynchronous::{Client, LocalResponse},
};
use sqlx::{Connection, PgConnection, PgPool};
use visitors::infra::config::{self, Config};

pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
pub const GOOGLEBOT: &str =
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// The server the test command started (or the one the developer gave).
pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a PostgreSQL server: run the tests with `make test`")
}

/// A new, empty database on the test server; returns its URL.
pub async fn fresh_database() -> String {
    fresh_database_on(&server_url()).await
}

pub async fn fresh_database_on(server: &str) -> String {
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
    url.to_string()
}

/// The app in-process on a fresh database.
pub struct TestApp {
    pub client: Client,
    pub db: PgPool,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// `settings` are figment keys (`ip_header`, `user_name`, …) and values.
    pub async fn spawn_with(settings: &[(&str, &str)]) -> Self {
        Self::spawn_on(&fresh_database().await, settings).await
    }

    pub async fn spawn_on(database_url: &str, settings: &[(&str, &str)]) -> Self {
        let mut figment = config::figment()
            .merge(Serialized::global("databases.visitors.url", database_url))
            .merge(Serialized::global("databases.visitors.max_connections", 32))
            .merge(Serialized::global("instance_name", "test-instance"));
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
        Self { client, db }
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
}

/// The number in `<dd id="{id}">…</dd>` of a page.
pub fn page_number(html: &str, id: &str) -> i64 {
    let start = html
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no #{id} in page"))
        + id.len()
        + 6;
    let end = start + html[start..].find('<').expect("closing tag");
    html[start..end].trim().parse().expect("a number")
}

/// "You have visited this page N times" → N.
pub fn your_visits(html: &str) -> i64 {
    let marker = "You have visited this page <strong>";
    let start = html.find(marker).expect("the visitor's line") + marker.len();
    let end = start + html[start..].find('<').unwrap();
    html[start..end].parse().unwrap()
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
    pub port: u16,
}

impl AppProcess {
    /// Starts `visitors serve` on 127.0.0.1 and a free port, with only the
    /// given environment (plus `inherited_env`).
    pub fn start(env: &[(&str, &str)]) -> Self {
        Self::start_on("127.0.0.1", free_port(), env)
    }

    /// The same on a given address and port.
    pub fn start_on(address: &str, port: u16, env: &[(&str, &str)]) -> Self {
        Self::spawn(address, port, env, Stdio::null())
    }

    /// The same, with the server's log (its stdout) written to `log`.
    pub fn start_logged(address: &str, port: u16, env: &[(&str, &str)], log: &Path) -> Self {
        let file = std::fs::File::create(log).expect("create the log file");
        Self::spawn(address, port, env, Stdio::from(file))
    }

    fn spawn(address: &str, port: u16, env: &[(&str, &str)], output: Stdio) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_visitors"))
            .env_clear()
            .envs(inherited_env())
            .env("ROCKET_ADDRESS", address)
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_CLI_COLORS", "false")
            .envs(env.iter().copied())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(output)
            .stderr(Stdio::null())
            .spawn()
            .expect("start the visitors binary");
        Self {
            child,
            address: address.to_owned(),
            port,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}:{}{path}", self.address, self.port)
    }

    /// Waits for `/readyz` to answer 200; returns how long that took.
    pub fn wait_ready(&mut self, limit: Duration) -> Duration {
        let started = Instant::now();
        let agent = http();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the server exited with {status} before it was ready");
            }
            if let Ok(response) = agent.get(&self.url("/readyz")).call() {
                if response.status() == 200 {
                    return started.elapsed();
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the server was not ready within {limit:?}");
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary to completion with `env` (plus `inherited_env`); returns
/// (exit code, stderr).
pub fn run_binary(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_visitors"))
        .args(args)
        .env_clear()
        .envs(inherited_env())
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the visitors binary");
    (
        output.status.code().unwrap_or(-1),
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
