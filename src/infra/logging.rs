//! Logs through `tracing`: one JSON object per line when `LOG_FORMAT=json`
//! (the container's default, for log collectors), human-readable otherwise.
//! Rocket's and sqlx's own `log` records are forwarded into the same output.
//! Nothing logged carries a client address or a visitor key.

use std::{io::IsTerminal, str::FromStr};

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "json" => Ok(Self::Json),
            "text" => Ok(Self::Text),
            other => Err(format!("must be json or text, not {other:?}")),
        }
    }
}

/// Rocket narrates every request at info level ("Matched: …"); its errors
/// are kept, and each request gets our one line instead.
const DEFAULT_FILTER: &str = "info,rocket=error,_=error";

/// Installs the process-wide subscriber; `RUST_LOG` replaces the filter.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // Colours only for a terminal: a log file or collector gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal());
    // A second init (only ever in tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Says where the server listens, once it does, and warns about the most
/// common support problem of visitor counters: a forwarded header trusted on
/// a public address, where any client can set it (every visitor then claims
/// any address), or a proxy that does not set it (all visitors collapse into
/// the proxy's address). `/api/whoami` shows what the server sees.
pub fn startup_report(
    instance: String,
    version: String,
    public_url: String,
) -> rocket::fairing::AdHoc {
    rocket::fairing::AdHoc::on_liftoff("Startup report", move |rocket| {
        Box::pin(async move {
            let config = rocket.config();
            tracing::info!(
                address = %config.address,
                port = config.port,
                instance = %instance,
                version = %version,
                "listening"
            );
            if is_loopback_url(&public_url) && !config.address.is_loopback() {
                tracing::warn!(
                    public_url = %public_url,
                    address = %config.address,
                    "PUBLIC_URL is {public_url}, an address of this machine only, while listening \
                     on {}: the snippets and links printed for sites point there; set PUBLIC_URL \
                     to where people reach this instance",
                    config.address
                );
            }
            if let Some(header) = &config.ip_header {
                if !config.address.is_loopback() {
                    tracing::warn!(
                        header = %header,
                        address = %config.address,
                        "the client address is taken from the {header} header while listening on \
                         {}: only a proxy that overwrites that header may reach this port \
                         (check /api/whoami through it)",
                        config.address
                    );
                }
            }
        })
    })
}

/// Whether a URL names this machine only (`localhost`, 127.0.0.1, ::1).
fn is_loopback_url(url: &str) -> bool {
    match url::Url::parse(url)
        .ok()
        .and_then(|url| url.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_url;

    #[test]
    fn loopback_public_urls_are_told_apart() {
        for url in [
            "http://localhost:8080",
            "http://127.0.0.1",
            "http://[::1]:8000",
            "http://a.localhost",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "https://count.example.org",
            "http://203.0.113.9",
            "http://[2001:db8::1]",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }
}
