//! `GET /privacy`: what this instance stores about a visit, what it never
//! stores, how long each kind of data is kept and which headers it trusts
//! for the client's address, all read from the running configuration (and
//! the rollup retention from the database's `rollup_granularities`), so the
//! page cannot drift from what the server does. Reading it records no visit.

use askama::Template;
use rocket::{fairing::AdHoc, get, routes, State};

use crate::{
    counting::{country::CountryLookup, visitor_key::VisitorIdentities},
    infra::{
        config::{Config, RetentionDays, SecretSource},
        database::Db,
        error::AppError,
        page::{Layout, Page},
    },
};

/// `/privacy` and the facts it shows.
pub fn stage(config: &Config) -> AdHoc {
    let facts = PrivacyFacts::from_config(config);
    AdHoc::on_ignite("Privacy", |rocket| async {
        rocket.manage(facts).mount("/", routes![privacy])
    })
}

/// Where the client address (which is hashed, never stored) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressSource {
    /// The TCP connection's peer address; no header is read.
    Peer,
    /// The header `ROCKET_IP_HEADER` names.
    Header(String),
    /// The `hops`-th entry from the right of `X-Forwarded-For`.
    Forwarded { hops: usize },
}

/// What the configuration says about the data, read once at start.
#[derive(Debug, Clone)]
pub struct PrivacyFacts {
    pub raw_visits_retention: Option<RetentionDays>,
    pub address_source: AddressSource,
    /// Whether `VISITOR_SECRET` is set (else the key is generated and kept
    /// in `VISITOR_SECRET_FILE`). The secret itself is never shown.
    pub secret_configured: bool,
}

impl PrivacyFacts {
    pub fn from_config(config: &Config) -> Self {
        let ip_header = config
            .figment()
            .extract::<rocket::Config>()
            .ok()
            .and_then(|rocket| rocket.ip_header)
            .map(|header| header.to_string());
        let address_source = match (config.trusted_proxy_hops, ip_header) {
            (0, None) => AddressSource::Peer,
            (0, Some(header)) => AddressSource::Header(header),
            (hops, _) => AddressSource::Forwarded { hops },
        };
        Self {
            raw_visits_retention: config.raw_visits_retention,
            address_source,
            secret_configured: matches!(config.visitor_secret, SecretSource::Given(_)),
        }
    }
}

/// One kind of stored data and how long it stays.
pub struct Kept {
    pub what: &'static str,
    pub detail: &'static str,
    pub how_long: String,
}

#[derive(Template)]
#[template(path = "privacy.html")]
pub struct PrivacyTemplate<'a> {
    pub facts: &'a PrivacyFacts,
    /// The key of the visitor hash is an earlier release's, still in the
    /// database (see `VisitorIdentities::kept_in_database`).
    pub key_in_database: bool,
    /// Where countries come from (the database and its build), if anywhere.
    pub countries: Option<String>,
    /// The country database's licence.
    pub countries_licence: Option<String>,
    pub kept: Vec<Kept>,
    pub layout: Option<&'a Layout>,
}

/// "forever", "1 day", "90 days", "2 hours", "30 minutes".
pub fn duration_text(seconds: Option<i64>) -> String {
    let Some(seconds) = seconds else {
        return "forever".into();
    };
    let (count, unit) = if seconds % 86_400 == 0 {
        (seconds / 86_400, "day")
    } else if seconds % 3_600 == 0 {
        (seconds / 3_600, "hour")
    } else {
        (seconds / 60, "minute")
    };
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

/// How long each rollup granularity is kept, from the database's
/// `rollup_granularities` (`None`: forever).
async fn rollup_retention(db: &Db) -> Result<Vec<(String, Option<i64>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT granularity, extract(epoch FROM retention)::bigint FROM rollup_granularities \
         ORDER BY retention NULLS LAST",
    )
    .fetch_all(&**db)
    .await
}

#[get("/privacy")]
async fn privacy<'a>(
    facts: &'a State<PrivacyFacts>,
    identities: &State<VisitorIdentities>,
    countries: &State<CountryLookup>,
    db: &Db,
    layout: &'a State<Layout>,
) -> Result<Page<PrivacyTemplate<'a>>, AppError> {
    let raw_days = facts
        .raw_visits_retention
        .map(|days| i64::from(days.days()) * 86_400);
    let mut kept = vec![Kept {
        what: "Raw visits",
        detail: "one row per visit or event: the time, path, browser, OS, device, country, \
                 referrer host, source, campaign, screen, event name and visitor key",
        how_long: duration_text(raw_days),
    }];
    for (granularity, retention) in rollup_retention(db).await? {
        let (what, detail) = match granularity.as_str() {
            "minute" => (
                "Counts per minute",
                "visits and unique visitors per minute, for the last hour's chart",
            ),
            "hour" => (
                "Counts per hour",
                "visits, unique visitors, and the visitors per page, browser, OS, device, \
                 country, referrer, source, campaign value, screen and event, per hour",
            ),
            "day" => (
                "Counts per day",
                "visits, unique visitors, and the visitors per page, browser, OS, device, \
                 country, referrer, source, campaign value, screen and event, per day: the \
                 week, month and all-time numbers",
            ),
            _ => continue,
        };
        kept.push(Kept {
            what,
            detail,
            how_long: duration_text(retention),
        });
    }
    kept.push(Kept {
        what: "Per-visitor rows",
        detail: "per visitor key: the number of visits, the first, latest and previous visit's \
                 time, whether it is a crawler, its browser, OS, device and country; per visitor \
                 key and value (a page, a source, an event, …), the last two times. Needed to \
                 count unique visitors exactly; they hold no address",
        how_long: duration_text(None),
    });
    Ok(Page::ok(PrivacyTemplate {
        facts,
        key_in_database: identities.kept_in_database(),
        countries: countries.source(),
        countries_licence: countries.licence().map(str::to_owned),
        kept,
        layout: Some(layout),
    }))
}

#[cfg(test)]
mod tests {
    use super::duration_text;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_text(None), "forever");
        assert_eq!(duration_text(Some(86_400)), "1 day");
        assert_eq!(duration_text(Some(90 * 86_400)), "90 days");
        assert_eq!(duration_text(Some(7_200)), "2 hours");
        assert_eq!(duration_text(Some(1_800)), "30 minutes");
    }
}
