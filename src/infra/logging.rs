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
pub fn startup_report(instance: String, version: String) -> rocket::fairing::AdHoc {
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
