//! `visitors healthcheck`: the container's HEALTHCHECK, with no curl or shell
//! in the image. It asks the server on this host, on the configured port.

use std::{process::ExitCode, time::Duration};

const TIMEOUT: Duration = Duration::from_secs(3);

pub fn run() -> ExitCode {
    // Only the port matters here: the check must work even while the rest of
    // the configuration (say, the database URL) is what is broken.
    let port: u16 = crate::infra::config::figment()
        .extract_inner("port")
        .unwrap_or(8000);
    let url = format!("http://127.0.0.1:{port}/healthz");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .build()
        .into();
    match agent.get(&url).call() {
        Ok(response) if response.status() == 200 => ExitCode::SUCCESS,
        Ok(response) => {
            eprintln!("visitors: {url} answered {}", response.status());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("visitors: {url} failed: {error}");
            ExitCode::FAILURE
        }
    }
}
