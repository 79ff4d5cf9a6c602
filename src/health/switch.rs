//! The health switch: once failed (by `POST /admin/fail-health`), `/healthz`
//! answers 503, and after `HEALTH_FAIL_EXIT_AFTER` seconds the server shuts
//! down and the process exits non-zero, so that Docker's restart policy
//! (which, outside Swarm, does not act on an unhealthy container) brings a
//! fresh one. nginx routes around the failing replica meanwhile.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rocket::fairing::AdHoc;

/// How often the watchdog looks at the switch.
const WATCH_EVERY: Duration = Duration::from_millis(250);

/// Shared by the routes and the watchdog; clones see the same switch.
#[derive(Clone)]
pub struct HealthSwitch {
    failed_at: Arc<Mutex<Option<Instant>>>,
    exit_after: Duration,
}

impl HealthSwitch {
    pub fn new(exit_after: Duration) -> Self {
        Self {
            failed_at: Arc::default(),
            exit_after,
        }
    }

    /// Fails health from now on; failing again keeps the first time.
    pub fn fail(&self) {
        self.failed_at().get_or_insert_with(Instant::now);
    }

    pub fn is_failing(&self) -> bool {
        self.failed_at().is_some()
    }

    pub fn exit_after(&self) -> Duration {
        self.exit_after
    }

    fn has_failed_long_enough(&self) -> bool {
        self.failed_at()
            .is_some_and(|at| at.elapsed() >= self.exit_after)
    }

    fn failed_at(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // The guarded value is a plain Option: a panic elsewhere cannot leave
        // it half-written, so a poisoned lock is still good to use.
        self.failed_at.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Shuts the server down gracefully once health has been failing for
    /// `exit_after`; `main` then exits with a non-zero code.
    pub fn watchdog() -> AdHoc {
        AdHoc::on_liftoff("Health watchdog", |rocket| {
            Box::pin(async move {
                let Some(switch) = rocket.state::<HealthSwitch>().cloned() else {
                    return;
                };
                let shutdown = rocket.shutdown();
                rocket::tokio::spawn(async move {
                    let mut every = rocket::tokio::time::interval(WATCH_EVERY);
                    loop {
                        every.tick().await;
                        if switch.has_failed_long_enough() {
                            rocket::error!(
                                "health has been failing for {} s: shutting down",
                                switch.exit_after.as_secs()
                            );
                            shutdown.notify();
                            return;
                        }
                    }
                });
            })
        })
    }
}
