//! Configuration. `SETTINGS` is the one table of every setting: its
//! variable, default, meaning and rule. The binary's defaults come from it,
//! `Config::from_figment` validates by it, and tests check the README's
//! table and `.env.example` against it.
//!
//! Sources, later ones winning: Rocket's defaults, the table's defaults, a
//! `Rocket.toml` if there is one (or `ROCKET_CONFIG`), `ROCKET_*` variables,
//! then the app's own plain variables (`DATABASE_URL`, `USER_NAME`, …).

use std::{fmt, net::IpAddr, str::FromStr, sync::Arc, time::Duration};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    value::{Dict, Value},
    Figment, Profile,
};
use secrecy::{ExposeSecret, SecretSlice};
use sqlx::postgres::PgConnectOptions;

use crate::infra::logging::LogFormat;

/// The name rocket_db_pools knows our pool by: `databases.visitors.*`.
pub const DATABASE_NAME: &str = "visitors";
const DATABASE_URL_KEY: &str = "databases.visitors.url";

/// A secret shorter than this would make the keyed hash guessable.
const MIN_SECRET_LEN: usize = 16;

/// Who reads a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The app, from a plain variable.
    App,
    /// Rocket, from `ROCKET_<KEY>`; validated by Rocket's own configuration.
    Rocket,
}

/// What a value must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Any text.
    Text,
    /// `true` or `false`.
    Flag,
    /// A whole number from `min` to `max`.
    Number { min: u64, max: u64 },
    /// At least `MIN_SECRET_LEN` characters; never printed.
    Secret,
    /// `http(s)://…` or `#`.
    LinkOrHash,
    /// `http(s)://host[:port]`, with no path, query or trailing slash.
    BaseUrl,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// At most 64 printable ASCII characters (it becomes a header).
    HeaderValue,
    /// A `postgres://` URL; its password is never printed.
    PostgresUrl,
    /// An `smtp://` or `smtps://` URL as lettre reads it; never printed.
    SmtpUrl,
    /// A mail address, with or without a name: `Name <address>`.
    Mailbox,
    /// Checked by Rocket.
    Rocket,
}

/// One setting. An empty value counts as unset, because Compose passes an
/// unset `${NAME:-}` as an empty string.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub variable: &'static str,
    /// The value when unset, written as the variable would hold it; `None`
    /// when there is none (required, or worked out at start).
    pub default: Option<&'static str>,
    /// How the documentation states the default when there is no value.
    pub default_doc: &'static str,
    pub meaning: &'static str,
    pub rule: Rule,
    pub reader: Reader,
}

impl Setting {
    const fn app(variable: &'static str, default: Option<&'static str>, rule: Rule) -> Self {
        Self {
            variable,
            default,
            default_doc: "",
            meaning: "",
            rule,
            reader: Reader::App,
        }
    }

    const fn rocket(variable: &'static str, default: Option<&'static str>) -> Self {
        Self {
            reader: Reader::Rocket,
            ..Self::app(variable, default, Rule::Rocket)
        }
    }

    const fn doc(self, default_doc: &'static str, meaning: &'static str) -> Self {
        Self {
            default_doc,
            meaning,
            ..self
        }
    }

    /// The figment key: `ROCKET_PORT` → `port`, `USER_NAME` → `user_name`.
    pub fn key(&self) -> String {
        match self.variable {
            "DATABASE_URL" => DATABASE_URL_KEY.to_owned(),
            name => name
                .strip_prefix("ROCKET_")
                .unwrap_or(name)
                .to_ascii_lowercase(),
        }
    }

    /// The default as the documentation shows it.
    pub fn default_text(&self) -> String {
        match (self.default, self.default_doc) {
            (Some(value), "") => format!("`{value}`"),
            (Some(value), doc) => format!("`{value}` {doc}"),
            (None, doc) => doc.to_owned(),
        }
    }
}

pub const DATABASE_URL: Setting = Setting::app("DATABASE_URL", None, Rule::PostgresUrl).doc(
    "(required)",
    "`postgres://user:password@host:port/database`",
);
pub const USER_NAME: Setting = Setting::app("USER_NAME", None, Rule::Text).doc(
    "(unset)",
    "who runs this instance, shown in the footer as \"Made by …\"; unset, the footer names nobody",
);
pub const USER_URL: Setting = Setting::app("USER_URL", Some("#"), Rule::LinkOrHash)
    .doc("", "link of that name; `http(s)://…` or `#`");
pub const PUBLIC_URL: Setting =
    Setting::app("PUBLIC_URL", Some("http://localhost:8080"), Rule::BaseUrl).doc(
        "(the compose stack's nginx)",
        "where people reach this instance, `http(s)://host[:port]`: the pixel snippets and \
         private links that `visitors sites` and `/api/sites` print start with it",
    );
pub const INSTANCE_NAME: Setting = Setting::app("INSTANCE_NAME", None, Rule::HeaderValue).doc(
    "host name",
    "this replica's name on the page and in `X-Served-By` (≤ 64 printable ASCII characters)",
);
pub const VISITOR_SECRET: Setting = Setting::app("VISITOR_SECRET", None, Rule::Secret).doc(
    "(unset)",
    "key of the visitor hash, ≥ 16 characters, e.g. from a secret store; unset, the key in \
     `VISITOR_SECRET_FILE` is used. Never kept in the database",
);
pub const VISITOR_SECRET_FILE: Setting = Setting::app(
    "VISITOR_SECRET_FILE",
    Some("/var/lib/visitors/visitor-secret"),
    Rule::Text,
)
.doc(
    "",
    "file of the visitor hash's key when `VISITOR_SECRET` is unset: a random 32-byte key is \
     written there once by the first replica to start, and every replica sharing the file (a \
     volume) uses it; an earlier release's key, kept in the database, moves there",
);
pub const MIGRATE_ON_START: Setting = Setting::app("MIGRATE_ON_START", Some("true"), Rule::Flag)
    .doc(
        "",
        "apply migrations before serving; `false` leaves it to `visitors migrate` (the server \
         then reports not ready until they are applied)",
    );
pub const DB_STARTUP_TIMEOUT: Setting = Setting::app(
    "DB_STARTUP_TIMEOUT",
    Some("30"),
    Rule::Number { min: 1, max: 3600 },
)
.doc(
    "",
    "seconds to keep retrying an unreachable database at start, with back-off, before exiting \
     with code 3",
);
pub const STATS_CACHE_MS: Setting = Setting::app(
    "STATS_CACHE_MS",
    Some("1000"),
    Rule::Number {
        min: 0,
        max: 3_600_000,
    },
)
.doc(
    "",
    "how long a replica reuses the dashboard's numbers for a range; `0` computes them on every \
     request",
);
pub const ADMIN_TOKEN: Setting = Setting::app("ADMIN_TOKEN", None, Rule::Secret).doc(
    "(unset)",
    "enables `POST /admin/fail-health` (≥ 16 characters); unset, the admin routes do not exist",
);
pub const HEALTH_FAIL_EXIT_AFTER: Setting = Setting::app(
    "HEALTH_FAIL_EXIT_AFTER",
    Some("30"),
    Rule::Number { min: 0, max: 3600 },
)
.doc(
    "",
    "seconds of failed health (the switch) after which the server shuts down with exit code 4",
);
pub const LOG_FORMAT: Setting =
    Setting::app("LOG_FORMAT", Some("text"), Rule::OneOf(&["json", "text"])).doc(
        "(`json` in the image)",
        "`json`: one JSON object per line (route, method, status, latency, instance for each \
         request); `text`: human-readable. `RUST_LOG` replaces the level filter \
         (`info,rocket=error,_=error`). No log line holds a client address or a visitor key",
    );
pub const TRUSTED_PROXY_HOPS: Setting = Setting::app(
    "TRUSTED_PROXY_HOPS",
    Some("0"),
    Rule::Number { min: 0, max: 8 },
)
.doc(
    "",
    "behind N proxies that each append the connecting address to `X-Forwarded-For` (an AWS \
     load balancer: 1), the client is the N-th address from the right of that header; \
     entries left of it are whatever the client sent and are ignored. `0`: the header is not \
     read",
);
pub const RAW_VISITS_RETENTION_DAYS: Setting = Setting::app(
    "RAW_VISITS_RETENTION_DAYS",
    Some("90"),
    Rule::Number {
        min: 0,
        max: 36_500,
    },
)
.doc(
    "",
    "days a raw visit (`visit_events`: time, path, browser, OS, device, country, referrer host, \
     source, campaign, screen, event name, visitor key) is kept; the maintenance job deletes older ones in batches. Every count the dashboard \
     and API show of a whole site comes from rollups and stays the same; filtered ones (`?f=`), those of a period that has ended and \
     the change against the period before count the raw visits kept, and the page says so where a period reaches past them. `0` keeps them forever",
);
pub const GEOIP_DB: Setting = Setting::app(
    "GEOIP_DB",
    Some("/usr/share/visitors/geo-whois-asn-country.mmdb"),
    Rule::Text,
)
.doc(
    "",
    "a MaxMind-format country (or city) database, for the Countries panel: the image ships the \
     CC BY 4.0 geo-whois-asn-country database there; DB-IP Lite or GeoLite2 files work too. \
     Only the country code is kept. No file at this default path (outside the image): no \
     countries, unless `COUNTRY_HEADER`; a file named here that cannot be read stops the start",
);
/// The CDN country headers `COUNTRY_HEADER` may name.
const COUNTRY_HEADERS: &[&str] = &["CloudFront-Viewer-Country", "CF-IPCountry"];
pub const COUNTRY_HEADER: Setting = Setting::app(
    "COUNTRY_HEADER",
    None,
    Rule::OneOf(COUNTRY_HEADERS),
)
.doc(
    "(unset)",
    "the country header a CDN in front sets (`CloudFront-Viewer-Country`, `CF-IPCountry`), read \
     before `GEOIP_DB`; only behind proxies that `TRUSTED_PROXY_HOPS` counts, since a client \
     reaching the app any other way could choose its own country",
);
pub const METRICS_PORT: Setting = Setting::app(
    "METRICS_PORT",
    Some("9464"),
    Rule::Number {
        min: 0,
        max: 65_535,
    },
)
.doc(
    "",
    "port of the metrics listener (`/metrics` alone, on `ROCKET_ADDRESS`): for Prometheus, never \
     to be published or proxied; `0` picks a free one (the log says which)",
);
pub const SMTP_URL: Setting = Setting::app("SMTP_URL", None, Rule::SmtpUrl).doc(
    "(unset)",
    "the SMTP server that mails the email reports and invitations: \
     `smtps://user:password@host:465` (TLS), `smtp://user:password@host:587?tls=required` \
     (STARTTLS), or `smtp://host:25` (no encryption: a relay on the same host or network). \
     Unset, no mail is sent: invitations are links to pass on, and reports cannot be asked for",
);
pub const MAIL_FROM: Setting = Setting::app("MAIL_FROM", None, Rule::Mailbox).doc(
    "(required with `SMTP_URL`)",
    "the sender of that mail, `Visitors <visitors@example.com>`",
);
pub const REPORT_CHECK_SECONDS: Setting = Setting::app(
    "REPORT_CHECK_SECONDS",
    Some("300"),
    Rule::Number {
        min: 1,
        max: 86_400,
    },
)
.doc(
    "",
    "how often each replica looks for email reports due (with `SMTP_URL`); whichever replica \
     claims a report in PostgreSQL first sends it, the others skip it",
);
pub const ROCKET_ADDRESS: Setting = Setting::rocket("ROCKET_ADDRESS", Some("127.0.0.1"))
    .doc("", "address to listen on (`0.0.0.0` in a container)");
pub const ROCKET_PORT: Setting = Setting::rocket("ROCKET_PORT", Some("8000")).doc(
    "",
    "port to listen on; `0` picks a free one (the log says which)",
);
pub const ROCKET_IP_HEADER: Setting = Setting::rocket("ROCKET_IP_HEADER", Some("false")).doc(
    "",
    "header holding the client IP. Off by default: the client is the peer address. Behind a \
     proxy that *overwrites* `X-Real-IP` with the connection's address, set `X-Real-IP`. A \
     malformed value falls back to the peer address",
);
pub const ROCKET_SHUTDOWN: Setting = Setting::rocket("ROCKET_SHUTDOWN", Some("{grace=12,mercy=1}"))
    .doc(
        "",
        "on SIGTERM the listener closes and the requests in flight get up to 11 s for their \
         answers (a badge's site, its visit, its numbers); Rocket cuts connections after \
         `grace` + `mercy` seconds, which must be longer. A container's stop timeout must be \
         longer still (the compose file gives 15 s)",
    );
pub const ROCKET_DATABASES: Setting =
    Setting::rocket("ROCKET_DATABASES", Some("{visitors={connect_timeout=3}}")).doc(
        "",
        "pool settings, e.g. `{visitors={max_connections=16}}`; `connect_timeout` is also how \
         long a request waits for a connection before the 503 page",
    );

pub const ROCKET_LIMITS: Setting =
    Setting::rocket("ROCKET_LIMITS", Some("{file=\"8MiB\",data-form=\"9MiB\"}")).doc(
        "(Rocket's other limits unchanged)",
        "request size limits, merged with Rocket's: `file` is the largest CSV a site's page \
         imports, `data-form` the whole upload",
    );

/// Every setting, in the order the documentation lists them.
pub const SETTINGS: &[Setting] = &[
    DATABASE_URL,
    USER_NAME,
    USER_URL,
    PUBLIC_URL,
    INSTANCE_NAME,
    VISITOR_SECRET,
    VISITOR_SECRET_FILE,
    MIGRATE_ON_START,
    DB_STARTUP_TIMEOUT,
    STATS_CACHE_MS,
    ADMIN_TOKEN,
    LOG_FORMAT,
    HEALTH_FAIL_EXIT_AFTER,
    TRUSTED_PROXY_HOPS,
    RAW_VISITS_RETENTION_DAYS,
    GEOIP_DB,
    COUNTRY_HEADER,
    METRICS_PORT,
    SMTP_URL,
    MAIL_FROM,
    REPORT_CHECK_SECONDS,
    ROCKET_ADDRESS,
    ROCKET_PORT,
    ROCKET_IP_HEADER,
    ROCKET_SHUTDOWN,
    ROCKET_DATABASES,
    ROCKET_LIMITS,
];

/// Everything the app needs, validated.
#[derive(Clone)]
pub struct Config {
    figment: Figment,
    pub database_url: String,
    /// Who runs the instance, for the footer; `None` names nobody.
    pub user_name: Option<String>,
    pub user_url: String,
    /// Where people reach this instance; links printed for them start here.
    pub public_url: String,
    pub instance_name: String,
    /// Where the visitor hash's key comes from.
    pub visitor_secret: SecretSource,
    pub migrate_on_start: bool,
    pub db_startup_timeout: Duration,
    /// How long a replica reuses the dashboard's numbers; zero turns it off.
    pub stats_cache_ttl: Duration,
    /// Enables the `/admin/` routes.
    pub admin_token: Option<Secret>,
    /// How long health may fail before the process exits.
    pub health_fail_exit_after: Duration,
    pub log_format: LogFormat,
    /// Proxies in front that append to `X-Forwarded-For`; 0 reads no such header.
    pub trusted_proxy_hops: usize,
    /// How long raw visits are kept; `None` keeps them forever.
    pub raw_visits_retention: Option<RetentionDays>,
    /// The metrics listener's port; 0 picks one.
    pub metrics_port: u16,
    /// The country database's file; a missing one is an error unless it is
    /// the default path.
    pub geoip_db: GeoIpDb,
    /// A CDN's country header, trusted (behind `trusted_proxy_hops`).
    pub country_header: Option<&'static str>,
    /// Where mail goes out; `None` sends none.
    pub mail: Option<MailSettings>,
    /// How often a replica looks for email reports due.
    pub report_check_interval: Duration,
}

/// The SMTP server and the sender of the instance's mail.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// The URL holds the server's password.
    pub smtp_url: Secret,
    pub from: lettre::message::Mailbox,
}

/// Where the country database is (`GEOIP_DB`).
#[derive(Debug, Clone)]
pub struct GeoIpDb {
    pub path: std::path::PathBuf,
    /// Set by the operator: a missing file stops the start. The default
    /// path may hold nothing (a build without the image's database).
    pub required: bool,
}

/// A whole number of days, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionDays(std::num::NonZeroU32);

impl RetentionDays {
    /// `None` for 0, which means "forever".
    pub fn new(days: u32) -> Option<Self> {
        std::num::NonZeroU32::new(days).map(Self)
    }

    pub fn days(self) -> u32 {
        self.0.get()
    }
}

/// A key or token: never printed (its `Debug` is redacted), wiped from
/// memory when the last clone goes.
#[derive(Clone)]
pub struct Secret(Arc<SecretSlice<u8>>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Arc::new(SecretSlice::from(bytes)))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Where the visitor hash's key comes from: `VISITOR_SECRET` as given, or
/// the file `VISITOR_SECRET_FILE` names (created once by whichever replica
/// starts first; replicas share it through a volume). Never the database:
/// with the key, the visitor keys in a backup could be tested against
/// every address.
#[derive(Clone, Debug)]
pub enum SecretSource {
    Given(Secret),
    File(std::path::PathBuf),
}

/// A missing or invalid setting, named as the operator set it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable}: {problem}")]
pub struct ConfigError {
    pub variable: String,
    pub problem: String,
}

/// Where `make run` (scripts/run.sh) leaves, while it runs, the settings of
/// the app it started: its database, public address and secret's file. The
/// commands run from the same checkout (`visitors sites add …`) read them
/// under the environment's, so nothing needs exporting.
pub const LOCAL_RUN_FILE: &str = ".data/run.toml";

/// Where the settings come from, in order of precedence (last wins).
pub fn figment() -> Figment {
    figment_over(None)
}

/// The same, with `LOCAL_RUN_FILE`'s settings (if it exists) between a
/// `Rocket.toml` and the environment: for the commands, not the server.
pub fn figment_beside_local_run() -> Figment {
    figment_over(Some(LOCAL_RUN_FILE))
}

fn figment_over(local_run: Option<&str>) -> Figment {
    let mut figment = Figment::from(rocket::Config::default())
        .merge(Serialized::defaults(defaults()))
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested());
    if let Some(path) = local_run {
        figment = figment.merge(Toml::file(path).nested());
    }
    figment
        .merge(non_empty(
            Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global(),
            |text| text.parse().expect("parsing a value is infallible"),
        ))
        // Plain variables must be global, or a `[release]` table would beat
        // them. They are kept as written: each rule checks the text, and a
        // secret such as `"abc…"` or `[abc,…]` is not TOML to be parsed.
        .merge(non_empty(
            Env::raw()
                .filter_map(|name| {
                    SETTINGS
                        .iter()
                        .find(|s| s.reader == Reader::App && name == s.variable)
                        .map(|s| s.key().into())
                })
                .global(),
            |text| Value::from(text.to_owned()),
        ))
        .select(Profile::from_env_or(
            "ROCKET_PROFILE",
            rocket::Config::DEFAULT_PROFILE,
        ))
}

/// The variables of `env` without the empty ones, which mean "unset", each
/// read into a value by `read`.
fn non_empty(env: Env, read: fn(&str) -> Value) -> Serialized<Dict> {
    let mut values = Dict::new();
    for (key, value) in env.iter() {
        if !value.trim().is_empty() {
            insert_dotted(&mut values, key.as_str(), read(&value));
        }
    }
    Serialized::globals(values)
}

/// `a.b.c = v` as nested dictionaries, as figment's own providers nest keys.
fn insert_dotted(dict: &mut Dict, key: &str, value: Value) {
    match key.split_once('.') {
        None => {
            dict.insert(key.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = dict
                .entry(head.to_owned())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = entry {
                insert_dotted(inner, rest, value);
            }
        }
    }
}

/// The table's defaults, as figment values at their keys.
fn defaults() -> Dict {
    let mut values = Dict::new();
    for setting in SETTINGS {
        if let Some(default) = setting.default {
            let value = default.parse::<Value>().expect("a default parses");
            insert_dotted(&mut values, &setting.key(), value);
        }
    }
    values
}

impl Config {
    /// Reads and validates everything once; the first problem found is returned.
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        figment
            .extract::<rocket::Config>()
            .map_err(|e| ConfigError::from_figment(&e))?;
        let read = Settings(&figment);
        let database_url = read.required(&DATABASE_URL)?;
        let instance_name = match read.optional(&INSTANCE_NAME)? {
            Some(name) => name,
            None => gethostname::gethostname().to_string_lossy().into_owned(),
        };
        check(&INSTANCE_NAME, &instance_name)?;
        Ok(Self {
            database_url,
            user_name: read.optional(&USER_NAME)?,
            user_url: read.required(&USER_URL)?,
            public_url: read.required(&PUBLIC_URL)?,
            instance_name,
            visitor_secret: match read.secret(&VISITOR_SECRET)? {
                Some(secret) => SecretSource::Given(secret),
                None => SecretSource::File(read.required(&VISITOR_SECRET_FILE)?.into()),
            },
            migrate_on_start: read.flag(&MIGRATE_ON_START)?,
            db_startup_timeout: Duration::from_secs(read.number(&DB_STARTUP_TIMEOUT)?),
            stats_cache_ttl: Duration::from_millis(read.number(&STATS_CACHE_MS)?),
            admin_token: read.secret(&ADMIN_TOKEN)?,
            health_fail_exit_after: Duration::from_secs(read.number(&HEALTH_FAIL_EXIT_AFTER)?),
            log_format: read
                .required(&LOG_FORMAT)?
                .parse()
                .map_err(|problem| ConfigError::new(LOG_FORMAT.variable, problem))?,
            trusted_proxy_hops: read.number(&TRUSTED_PROXY_HOPS)? as usize,
            raw_visits_retention: RetentionDays::new(
                u32::try_from(read.number(&RAW_VISITS_RETENTION_DAYS)?)
                    .expect("checked by the rule"),
            ),
            metrics_port: u16::try_from(read.number(&METRICS_PORT)?).expect("checked by the rule"),
            geoip_db: {
                let path = read.required(&GEOIP_DB)?;
                GeoIpDb {
                    required: GEOIP_DB.default != Some(path.as_str()),
                    path: path.into(),
                }
            },
            country_header: read.country_header()?,
            mail: read.mail()?,
            report_check_interval: Duration::from_secs(read.number(&REPORT_CHECK_SECONDS)?),
            figment,
        })
    }

    /// Reads the environment (and a `Rocket.toml`, if any).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_figment(figment())
    }

    /// The figment Rocket itself is built from.
    pub fn figment(&self) -> &Figment {
        &self.figment
    }
}

/// Reads app settings out of a figment, each checked by its rule.
struct Settings<'a>(&'a Figment);

impl Settings<'_> {
    fn optional(&self, setting: &Setting) -> Result<Option<String>, ConfigError> {
        let value = match self.0.find_value(&setting.key()) {
            Ok(value) => value,
            Err(e) if e.missing() => return Ok(None),
            Err(e) => return Err(ConfigError::from_figment(&e)),
        };
        // Figment has parsed "30" as a number and "true" as a boolean; the
        // rules check the text as the operator wrote it.
        let text = match value {
            Value::String(_, text) => text,
            Value::Num(_, number) => number
                .to_u128()
                .map(|n| n.to_string())
                .or_else(|| number.to_i128().map(|n| n.to_string()))
                .or_else(|| number.to_f64().map(|n| n.to_string()))
                .unwrap_or_default(),
            Value::Bool(_, flag) => flag.to_string(),
            Value::Char(_, c) => c.to_string(),
            _ => return Err(ConfigError::new(setting.variable, "must be a single value")),
        };
        if text.trim().is_empty() {
            return Ok(None);
        }
        check(setting, &text)?;
        Ok(Some(text))
    }

    fn required(&self, setting: &Setting) -> Result<String, ConfigError> {
        self.optional(setting)?
            .ok_or_else(|| ConfigError::new(setting.variable, "is required"))
    }

    fn flag(&self, setting: &Setting) -> Result<bool, ConfigError> {
        Ok(self.required(setting)? == "true")
    }

    fn number(&self, setting: &Setting) -> Result<u64, ConfigError> {
        Ok(self
            .required(setting)?
            .parse()
            .expect("checked by the rule"))
    }

    fn secret(&self, setting: &Setting) -> Result<Option<Secret>, ConfigError> {
        Ok(self
            .optional(setting)?
            .map(|text| Secret::new(text.into_bytes())))
    }

    /// `SMTP_URL` with `MAIL_FROM`, which it needs.
    fn mail(&self) -> Result<Option<MailSettings>, ConfigError> {
        let Some(smtp_url) = self.secret(&SMTP_URL)? else {
            return Ok(None);
        };
        let from = self.optional(&MAIL_FROM)?.ok_or_else(|| {
            ConfigError::new(MAIL_FROM.variable, "is required when SMTP_URL is set")
        })?;
        Ok(Some(MailSettings {
            smtp_url,
            from: from.parse().expect("checked by the rule"),
        }))
    }

    /// `COUNTRY_HEADER`, as the rule's own word; refused unless proxies are
    /// trusted, which is what says a CDN set it.
    fn country_header(&self) -> Result<Option<&'static str>, ConfigError> {
        let Some(header) = self.optional(&COUNTRY_HEADER)? else {
            return Ok(None);
        };
        if self.number(&TRUSTED_PROXY_HOPS)? == 0 {
            return Err(ConfigError::new(
                COUNTRY_HEADER.variable,
                "needs TRUSTED_PROXY_HOPS of 1 or more (the CDN in front): otherwise a client \
                 could send the header itself and choose its country",
            ));
        }
        Ok(COUNTRY_HEADERS.iter().copied().find(|word| *word == header))
    }
}

/// Checks `value` against the setting's rule.
fn check(setting: &Setting, value: &str) -> Result<(), ConfigError> {
    let refuse = |problem: String| Err(ConfigError::new(setting.variable, problem));
    match setting.rule {
        Rule::Text | Rule::Rocket => Ok(()),
        Rule::Flag => match value {
            "true" | "false" => Ok(()),
            _ => refuse("must be true or false".into()),
        },
        Rule::Number { min, max } => match value.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(()),
            _ => refuse(format!("must be a whole number from {min} to {max}")),
        },
        Rule::SmtpUrl => {
            // As for the database, the URL stays out of the message.
            let scheme = value.starts_with("smtp://") || value.starts_with("smtps://");
            match lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(value) {
                Ok(_) if scheme => Ok(()),
                _ => refuse(
                    "is not an SMTP URL (smtps://user:password@host:465, \
                     smtp://user:password@host:587?tls=required or smtp://host:25)"
                        .into(),
                ),
            }
        }
        Rule::Mailbox => match value.parse::<lettre::message::Mailbox>() {
            Ok(_) => Ok(()),
            Err(_) => refuse("must be a mail address, as `Visitors <visitors@example.com>`".into()),
        },
        Rule::Secret if value.len() < MIN_SECRET_LEN => {
            refuse(format!("must be at least {MIN_SECRET_LEN} characters long"))
        }
        Rule::Secret => Ok(()),
        Rule::LinkOrHash
            if value == "#" || value.starts_with("https://") || value.starts_with("http://") =>
        {
            Ok(())
        }
        Rule::LinkOrHash => refuse("must be an http:// or https:// URL (or # for none)".into()),
        Rule::BaseUrl => match url::Url::parse(value) {
            Ok(url)
                if matches!(url.scheme(), "http" | "https")
                    && url.host().is_some()
                    && !value.ends_with('/')
                    && url.path() == "/"
                    && url.query().is_none()
                    && url.username().is_empty() =>
            {
                Ok(())
            }
            _ => refuse("must be http(s)://host or http(s)://host:port, without a path".into()),
        },
        Rule::OneOf(words) if words.contains(&value) => Ok(()),
        Rule::OneOf(words) => refuse(format!("must be one of {}", words.join(", "))),
        Rule::HeaderValue
            if value.len() <= 64 && value.bytes().all(|b| b.is_ascii_graphic() || b == b' ') =>
        {
            Ok(())
        }
        Rule::HeaderValue => refuse("must be at most 64 printable ASCII characters".into()),
        Rule::PostgresUrl => {
            // The message deliberately leaves the URL out: it holds the password.
            let scheme = value.starts_with("postgres://") || value.starts_with("postgresql://");
            match PgConnectOptions::from_str(value) {
                Ok(_) if scheme => Ok(()),
                _ => refuse(
                    "is not a PostgreSQL URL (postgres://user:password@host:port/database)".into(),
                ),
            }
        }
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
        let variable = SETTINGS.iter().find(|s| s.key() == key).map_or_else(
            || format!("ROCKET_{}", key.replace('.', "_").to_ascii_uppercase()),
            |s| s.variable.to_owned(),
        );
        Self::new(&variable, error.kind.to_string())
    }
}

/// The client address of a request behind `hops` appending proxies: the
/// `hops`-th entry from the right of `X-Forwarded-For`. `None` when the
/// header has fewer entries or that one is not an address.
pub fn forwarded_client(forwarded_for: &str, hops: usize) -> Option<IpAddr> {
    let entry = forwarded_for.rsplit(',').nth(hops.checked_sub(1)?)?;
    entry.trim().parse().ok()
}

/// The README's table of settings, generated from `SETTINGS`.
pub fn markdown_table() -> String {
    let mut table = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for setting in SETTINGS {
        table += &format!(
            "| `{}` | {} | {} |\n",
            setting.variable,
            setting.default_text(),
            setting.meaning
        );
    }
    table
}

/// `.env.example`'s lines for the given app settings: each with its meaning
/// and default as a comment, left empty so that the app's default applies.
pub fn env_example(variables: &[&str]) -> String {
    let mut text = String::new();
    for setting in SETTINGS.iter().filter(|s| variables.contains(&s.variable)) {
        let meaning = setting.meaning.replace('`', "");
        text += &format!(
            "# {meaning}. Default: {}.\n{}=\n",
            setting.default_text().replace('`', ""),
            setting.variable
        );
    }
    text
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
        assert_eq!(config.user_name, None);
        assert_eq!(config.user_url, "#");
        assert!(config.migrate_on_start);
        assert_eq!(config.db_startup_timeout, Duration::from_secs(30));
        assert_eq!(config.stats_cache_ttl, Duration::from_secs(1));
        assert_eq!(config.health_fail_exit_after, Duration::from_secs(30));
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.trusted_proxy_hops, 0);
        assert_eq!(config.raw_visits_retention, RetentionDays::new(90));
        assert!(
            matches!(&config.visitor_secret, SecretSource::File(path) if path.as_os_str() == "/var/lib/visitors/visitor-secret")
        );
        assert!(config.admin_token.is_none());
        assert!(!config.instance_name.is_empty());
        let rocket: rocket::Config = config.figment().extract().unwrap();
        assert!(
            rocket.ip_header.is_none(),
            "no forwarded header is trusted by default"
        );
        assert_eq!(rocket.port, 8000);
        assert!(
            u64::from(rocket.shutdown.grace) > crate::infra::database::REQUEST_DEADLINE.as_secs(),
            "a shutdown lets the requests in flight finish"
        );
        assert!(
            rocket.shutdown.signals.contains(&rocket::config::Sig::Term),
            "SIGTERM still shuts down"
        );
        let timeout: u64 = config
            .figment()
            .extract_inner("databases.visitors.connect_timeout")
            .unwrap();
        assert_eq!(timeout, 3);
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
            ("TRUSTED_PROXY_HOPS", "1"),
            ("RAW_VISITS_RETENTION_DAYS", "0"),
            ("ROCKET_IP_HEADER", "X-Real-IP"),
        ]);
        let Ok(config) = config else {
            panic!("all values are valid")
        };
        assert_eq!(config.user_name.as_deref(), Some("Ada"));
        assert_eq!(config.user_url, "https://example.org/ada");
        assert_eq!(config.instance_name, "replica-7");
        assert_eq!(
            match &config.visitor_secret {
                SecretSource::Given(secret) => Some(secret.as_bytes()),
                SecretSource::File(_) => None,
            },
            Some(&b"0123456789abcdef0123"[..])
        );
        assert!(!config.migrate_on_start);
        assert_eq!(config.db_startup_timeout, Duration::from_secs(5));
        assert_eq!(config.trusted_proxy_hops, 1);
        assert_eq!(
            config.raw_visits_retention, None,
            "0 keeps raw visits forever"
        );
        let rocket: rocket::Config = config.figment().extract().unwrap();
        assert_eq!(
            rocket.ip_header.as_ref().map(|h| h.as_str()),
            Some("X-Real-IP")
        );
    }

    #[test]
    fn empty_variables_mean_unset() {
        let Ok(config) = config_with(&[
            ("DATABASE_URL", URL),
            ("USER_NAME", ""),
            ("MIGRATE_ON_START", ""),
            ("STATS_CACHE_MS", ""),
            ("ADMIN_TOKEN", ""),
            ("ROCKET_PORT", ""),
        ]) else {
            panic!("empty values take the defaults")
        };
        assert_eq!(config.user_name, None);
        assert!(config.migrate_on_start);
        assert_eq!(config.stats_cache_ttl, Duration::from_secs(1));
        assert!(config.admin_token.is_none());
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (name, value) in [
            ("MIGRATE_ON_START", "maybe"),
            ("DB_STARTUP_TIMEOUT", "soon"),
            ("DB_STARTUP_TIMEOUT", "0"),
            ("STATS_CACHE_MS", "-1"),
            ("TRUSTED_PROXY_HOPS", "99"),
            ("RAW_VISITS_RETENTION_DAYS", "-1"),
            ("RAW_VISITS_RETENTION_DAYS", "36501"),
            ("USER_URL", "javascript:alert(1)"),
            ("VISITOR_SECRET", "short"),
            ("ADMIN_TOKEN", "short"),
            ("ROCKET_PORT", "eighty"),
            ("LOG_FORMAT", "xml"),
            ("INSTANCE_NAME", "line\nbreak"),
        ] {
            let err = error_with(&[("DATABASE_URL", URL), (name, value)]);
            assert_eq!(err.variable, name, "{name}={value}: {err}");
        }
    }

    #[test]
    fn every_default_passes_its_own_rule() {
        for setting in SETTINGS {
            if let Some(default) = setting.default {
                assert!(check(setting, default).is_ok(), "{}", setting.variable);
            }
            assert!(
                !setting.meaning.is_empty(),
                "{} has a meaning",
                setting.variable
            );
        }
    }

    #[test]
    fn the_client_is_counted_from_the_right_of_forwarded_for() {
        let spoofed = "6.6.6.6, 203.0.113.7";
        assert_eq!(forwarded_client(spoofed, 1), "203.0.113.7".parse().ok());
        assert_eq!(forwarded_client(spoofed, 2), "6.6.6.6".parse().ok());
        assert_eq!(forwarded_client(spoofed, 3), None);
        assert_eq!(forwarded_client(spoofed, 0), None);
        assert_eq!(forwarded_client("not-an-address", 1), None);
    }

    /// Secrets and texts arrive as written: quotes and brackets are part of
    /// them, not TOML.
    #[test]
    fn secret_and_text_settings_are_read_as_written() {
        let quoted = "\"quoted-admin-token\"";
        let listed = "[abc,def,ghi,jkl,mno]";
        let Ok(config) = config_with(&[
            ("DATABASE_URL", URL),
            ("ADMIN_TOKEN", quoted),
            ("VISITOR_SECRET", listed),
            ("USER_NAME", "'Ada' & [co]"),
        ]) else {
            panic!("these are valid values")
        };
        assert_eq!(
            config.admin_token.as_ref().map(Secret::as_bytes),
            Some(quoted.as_bytes())
        );
        assert_eq!(
            match &config.visitor_secret {
                SecretSource::Given(secret) => Some(secret.as_bytes()),
                SecretSource::File(_) => None,
            },
            Some(listed.as_bytes())
        );
        assert_eq!(config.user_name.as_deref(), Some("'Ada' & [co]"));
    }

    #[test]
    fn secrets_are_never_printed() {
        let secret = Secret::new(b"correct horse battery staple".to_vec());
        assert!(!format!("{secret:?}").contains("horse"));
    }
}
