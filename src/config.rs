//! Configuration: one typed struct, read through figment and validated once at
//! start. Sources, later ones winning: Rocket's defaults, the project's
//! defaults, `Rocket.toml`, `ROCKET_*` variables, then the app's own plain
//! variables (`DATABASE_URL`, `USER_NAME`, …).

use std::{fmt, str::FromStr, time::Duration};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment, Profile,
};
use serde::Deserialize;
use sqlx::postgres::PgConnectOptions;

use crate::logging::LogFormat;

/// The name rocket_db_pools knows our pool by: `databases.visitors.*`.
pub const DATABASE_NAME: &str = "visitors";
const DATABASE_URL_KEY: &str = "databases.visitors.url";

/// The app's own variables, read without a prefix.
const APP_VARIABLES: &[&str] = &[
    "USER_NAME",
    "USER_URL",
    "INSTANCE_NAME",
    "VISITOR_SECRET",
    "MIGRATE_ON_START",
    "DB_STARTUP_TIMEOUT",
    "STATS_CACHE_MS",
    "ADMIN_TOKEN",
    "HEALTH_FAIL_EXIT_AFTER",
    "LOG_FORMAT",
];

/// A visitor secret shorter than this would make the keyed hash guessable.
const MIN_SECRET_LEN: usize = 16;

/// Everything the app needs, validated.
#[derive(Clone)]
pub struct Config {
    figment: Figment,
    pub database_url: String,
    pub user_name: String,
    pub user_url: String,
    pub instance_name: String,
    pub visitor_secret: Option<VisitorSecret>,
    pub migrate_on_start: bool,
    pub db_startup_timeout: Duration,
    /// How long a replica reuses the dashboard's numbers; zero turns it off.
    pub stats_cache_ttl: Duration,
    /// Enables the `/admin/` routes; never printed.
    pub admin_token: Option<String>,
    /// How long health may fail before the process exits.
    pub health_fail_exit_after: Duration,
    pub log_format: LogFormat,
}

/// The HMAC key for visitor identities; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct VisitorSecret(Vec<u8>);

impl VisitorSecret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for VisitorSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VisitorSecret(..)")
    }
}

/// A missing or invalid setting, named as the operator set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "configuration error: {}: {}",
            self.variable, self.problem
        )
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
struct AppSettings {
    #[serde(default = "default_user_name")]
    user_name: String,
    #[serde(default = "default_user_url")]
    user_url: String,
    instance_name: Option<String>,
    visitor_secret: Option<String>,
    #[serde(default = "default_true")]
    migrate_on_start: bool,
    #[serde(default = "default_db_startup_timeout")]
    db_startup_timeout: u64,
    #[serde(default = "default_stats_cache_ms")]
    stats_cache_ms: u64,
    admin_token: Option<String>,
    #[serde(default = "default_health_fail_exit_after")]
    health_fail_exit_after: u64,
    #[serde(default = "default_log_format")]
    log_format: String,
}

fn default_user_name() -> String {
    "n/a".into()
}

fn default_user_url() -> String {
    "#".into()
}

fn default_true() -> bool {
    true
}

fn default_db_startup_timeout() -> u64 {
    30
}

fn default_stats_cache_ms() -> u64 {
    1000
}

fn default_health_fail_exit_after() -> u64 {
    30
}

fn default_log_format() -> String {
    "text".into()
}

/// Where the settings come from, in order of precedence (last wins).
pub fn figment() -> Figment {
    Figment::from(rocket::Config::default())
        .merge(Serialized::defaults(project_defaults()))
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        // Plain variables must be global, or a `[release]` table would beat them.
        .merge(Env::raw().only(APP_VARIABLES).global())
        .merge(
            Env::raw()
                .only(&["DATABASE_URL"])
                .map(|_| DATABASE_URL_KEY.into())
                .global(),
        )
        .select(Profile::from_env_or(
            "ROCKET_PROFILE",
            rocket::Config::DEFAULT_PROFILE,
        ))
}

/// Defaults that differ from Rocket's; `Rocket.toml` repeats them for readers,
/// but the binary must not depend on finding that file.
fn project_defaults() -> serde_json::Value {
    serde_json::json!({
        // Trust no forwarded header unless the deployment says a proxy sets it.
        "ip_header": false,
        "databases": { DATABASE_NAME: {
            // rocket_db_pools uses this as the pool's acquire timeout: a dead
            // database turns into a 503 within seconds instead of a hang.
            "connect_timeout": 3,
        }},
    })
}

impl Config {
    /// Reads and validates everything once; the first problem found is returned.
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        figment
            .extract::<rocket::Config>()
            .map_err(|e| ConfigError::from_figment(&e))?;
        let app: AppSettings = figment
            .extract()
            .map_err(|e| ConfigError::from_figment(&e))?;

        let database_url: String = match figment.extract_inner(DATABASE_URL_KEY) {
            Ok(url) => url,
            Err(e) if e.missing() => {
                return Err(ConfigError::new("DATABASE_URL", "is required"));
            }
            Err(e) => return Err(ConfigError::from_figment(&e)),
        };
        // The message deliberately leaves the URL out: it holds the password.
        let postgres_scheme =
            database_url.starts_with("postgres://") || database_url.starts_with("postgresql://");
        PgConnectOptions::from_str(&database_url)
            .ok()
            .filter(|_| postgres_scheme)
            .ok_or_else(|| {
                ConfigError::new(
                    "DATABASE_URL",
                    "is not a PostgreSQL URL (postgres://user:password@host:port/database)",
                )
            })?;

        if !(app.user_url == "#"
            || app.user_url.starts_with("https://")
            || app.user_url.starts_with("http://"))
        {
            return Err(ConfigError::new(
                "USER_URL",
                "must be an http:// or https:// URL (or # for none)",
            ));
        }

        // Compose passes unset variables as empty strings: empty means unset.
        let visitor_secret = match app.visitor_secret.filter(|secret| !secret.is_empty()) {
            Some(secret) if secret.len() < MIN_SECRET_LEN => {
                return Err(ConfigError::new(
                    "VISITOR_SECRET",
                    format!("must be at least {MIN_SECRET_LEN} characters long"),
                ));
            }
            secret => secret.map(|s| VisitorSecret::new(s.into_bytes())),
        };

        let admin_token = app.admin_token.filter(|token| !token.is_empty());
        if admin_token
            .as_ref()
            .is_some_and(|token| token.len() < MIN_SECRET_LEN)
        {
            return Err(ConfigError::new(
                "ADMIN_TOKEN",
                format!("must be at least {MIN_SECRET_LEN} characters long"),
            ));
        }

        let log_format: LogFormat = app
            .log_format
            .parse()
            .map_err(|problem: String| ConfigError::new("LOG_FORMAT", problem))?;

        if app.db_startup_timeout == 0 {
            return Err(ConfigError::new(
                "DB_STARTUP_TIMEOUT",
                "must be at least 1 second",
            ));
        }

        let instance_name = match app.instance_name.filter(|name| !name.trim().is_empty()) {
            Some(name) => name,
            None => gethostname::gethostname().to_string_lossy().into_owned(),
        };
        // It becomes the X-Served-By header: printable ASCII, reasonably short.
        if instance_name.len() > 64
            || !instance_name
                .bytes()
                .all(|b| b.is_ascii_graphic() || b == b' ')
        {
            return Err(ConfigError::new(
                "INSTANCE_NAME",
                "must be at most 64 printable ASCII characters",
            ));
        }

        Ok(Self {
            figment,
            database_url,
            user_name: app.user_name,
            user_url: app.user_url,
            instance_name,
            visitor_secret,
            migrate_on_start: app.migrate_on_start,
            db_startup_timeout: Duration::from_secs(app.db_startup_timeout),
            stats_cache_ttl: Duration::from_millis(app.stats_cache_ms),
            admin_token,
            health_fail_exit_after: Duration::from_secs(app.health_fail_exit_after),
            log_format,
        })
    }

    /// Reads the environment (and `Rocket.toml`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_figment(figment())
    }

    /// The figment Rocket itself is built from.
    pub fn figment(&self) -> &Figment {
        &self.figment
    }
}

impl ConfigError {
    fn new(variable: &str, problem: impl Into<String>) -> Self {
        Self {
            variable: variable.into(),
            problem: problem.into(),
        }
    }

    fn from_figment(error: &figment::Error) -> Self {
        let key = error.path.join(".");
        // figment repeats the key inside its message; keep only the problem.
        Self::new(&variable_name(&key), error.kind.to_string())
    }
}

/// The variable an operator sets for a figment key.
fn variable_name(key: &str) -> String {
    if key == DATABASE_URL_KEY {
        return "DATABASE_URL".into();
    }
    let upper = key.replace('.', "_").to_ascii_uppercase();
    if APP_VARIABLES.contains(&upper.as_str()) {
        upper
    } else {
        format!("ROCKET_{upper}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::Jail;

    const URL: &str = "postgres://u:p@localhost:5432/db";

    /// Reads the configuration as the binary does, from a sandboxed environment.
    // The closure's error type is figment's own (`Jail::expect_with`).
    #[allow(clippy::result_large_err)]
    fn config_with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut result = None;
        Jail::expect_with(|jail| {
            jail.clear_env();
            for (name, value) in vars {
                jail.set_env(name, value);
            }
            result = Some(Config::from_env());
            Ok(())
        });
        result.unwrap()
    }

    /// `Config` has no Debug (it holds the database password), so no unwrap_err.
    fn error_with(vars: &[(&str, &str)]) -> ConfigError {
        match config_with(vars) {
            Ok(_) => panic!("{vars:?} should be refused"),
            Err(error) => error,
        }
    }

    #[test]
    fn a_missing_database_url_is_named() {
        let err = error_with(&[]);
        assert_eq!(
            err.to_string(),
            "configuration error: DATABASE_URL: is required"
        );
    }

    #[test]
    fn a_bad_database_url_is_named_without_echoing_it() {
        let err = error_with(&[("DATABASE_URL", "mysql://secretpw@x/db")]);
        assert_eq!(err.variable, "DATABASE_URL");
        assert!(!err.to_string().contains("secretpw"));
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let Ok(config) = config_with(&[("DATABASE_URL", URL)]) else {
            panic!("the defaults are valid")
        };
        assert_eq!(config.database_url, URL);
        assert_eq!(config.user_name, "n/a");
        assert_eq!(config.user_url, "#");
        assert!(config.migrate_on_start);
        assert_eq!(config.db_startup_timeout, Duration::from_secs(30));
        assert!(config.visitor_secret.is_none());
        assert!(!config.instance_name.is_empty());
        let rocket: rocket::Config = config.figment().extract().unwrap();
        assert!(
            rocket.ip_header.is_none(),
            "no forwarded header is trusted by default"
        );
    }

    #[test]
    fn plain_variables_are_read() {
        let config = config_with(&[
            ("DATABASE_URL", URL),
            ("USER_NAME", "Ada"),
            ("USER_URL", "https://example.org/ada"),
            ("INSTANCE_NAME", "replica-7"),
            ("VISITOR_SECRET", "0123456789abcdef0123"),
            ("MIGRATE_ON_START", "false"),
            ("DB_STARTUP_TIMEOUT", "5"),
            ("ROCKET_IP_HEADER", "X-Real-IP"),
        ]);
        let Ok(config) = config else {
            panic!("all values are valid")
        };
        assert_eq!(config.user_name, "Ada");
        assert_eq!(config.user_url, "https://example.org/ada");
        assert_eq!(config.instance_name, "replica-7");
        assert_eq!(
            config.visitor_secret.as_ref().map(VisitorSecret::as_bytes),
            Some(&b"0123456789abcdef0123"[..])
        );
        assert!(!config.migrate_on_start);
        assert_eq!(config.db_startup_timeout, Duration::from_secs(5));
        let rocket: rocket::Config = config.figment().extract().unwrap();
        assert_eq!(
            rocket.ip_header.as_ref().map(|h| h.as_str()),
            Some("X-Real-IP")
        );
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (name, value) in [
            ("MIGRATE_ON_START", "maybe"),
            ("DB_STARTUP_TIMEOUT", "soon"),
            ("DB_STARTUP_TIMEOUT", "0"),
            ("USER_URL", "javascript:alert(1)"),
            ("VISITOR_SECRET", "short"),
            ("ROCKET_PORT", "eighty"),
            ("LOG_FORMAT", "xml"),
        ] {
            let err = error_with(&[("DATABASE_URL", URL), (name, value)]);
            assert_eq!(err.variable, name, "{name}={value}: {err}");
        }
    }

    #[test]
    fn the_secret_is_never_printed() {
        let secret = VisitorSecret::new(b"correct horse battery staple".to_vec());
        assert!(!format!("{secret:?}").contains("horse"));
    }
}
