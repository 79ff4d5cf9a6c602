//! The replicas' report sender: every `REPORT_CHECK_SECONDS` each replica
//! claims the reports due that nobody holds (a lease row in PostgreSQL),
//! sends them and marks them sent. A replica that dies holding a lease
//! leaves it to run out; another sends the report then.

use std::time::Duration;

use chrono::Utc;
use prometheus::{IntCounter, IntCounterVec};
use rocket::{fairing::AdHoc, Orbit, Rocket};
use rocket_db_pools::Database;
use sqlx::PgPool;

use super::{
    report::{About, Report},
    store::{self, Delivery, MAX_ATTEMPTS},
};
use crate::{
    counting::site_id::SiteId,
    infra::{
        config::{Config, RetentionDays},
        database::Db,
        mail::{Mail, MailError, Mailer},
        metrics::Metrics,
    },
};

/// Longer than composing and sending one report can take (the SMTP
/// timeout is 10 s), so that a lease runs out only on a replica that died
/// or a send that failed.
const LEASE: Duration = Duration::from_secs(600);
/// Reports claimed at a time by one replica.
const BATCH: i64 = 20;

struct Sender {
    pool: PgPool,
    mailer: Mailer,
    public_url: String,
    retention: Option<RetentionDays>,
    checks: IntCounter,
    sent: IntCounterVec,
}

#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("the report could not be written: {0}")]
    Template(#[from] askama::Error),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("the account's address is not one mail can go to")]
    Address,
}

/// Starts the sender once the server is up, when mail is configured.
pub fn job(config: &Config) -> AdHoc {
    let every = config.report_check_interval;
    let public_url = config.public_url.clone();
    let retention = config.raw_visits_retention;
    AdHoc::on_liftoff("Email reports", move |rocket| {
        Box::pin(async move {
            let Some(sender) = Sender::of(rocket, public_url, retention) else {
                return;
            };
            let shutdown = rocket.shutdown();
            rocket::tokio::spawn(async move {
                let mut ticks = rocket::tokio::time::interval(every);
                loop {
                    rocket::tokio::select! {
                        _ = ticks.tick() => sender.send_due().await,
                        _ = shutdown.clone() => break,
                    }
                }
            });
        })
    })
}

impl Sender {
    fn of(
        rocket: &Rocket<Orbit>,
        public_url: String,
        retention: Option<RetentionDays>,
    ) -> Option<Self> {
        // Registered with or without mail, so that every replica exports them.
        let metrics = rocket.state::<Metrics>()?;
        let checks = metrics.counter(
            "visitors_report_checks_total",
            "Times this replica looked for email reports due",
        );
        let sent = metrics.counter_vec(
            "visitors_reports_total",
            "Email reports this replica sent (sent) or failed to send (failed)",
            &["result"],
        );
        for result in ["sent", "failed"] {
            sent.with_label_values(&[result]);
        }
        let mailer = rocket.state::<Mailer>()?.clone();
        if !mailer.is_on() {
            return None;
        }
        Some(Self {
            pool: PgPool::clone(Db::fetch(rocket)?),
            mailer,
            public_url,
            retention,
            checks,
            sent,
        })
    }

    /// One round: claims what is due and sends it.
    async fn send_due(&self) {
        self.checks.inc();
        let claimed = match store::claim_due(&self.pool, Utc::now(), LEASE, BATCH).await {
            Ok(claimed) => claimed,
            Err(error) => {
                rocket::warn!("looking for email reports due failed: {error}");
                return;
            }
        };
        for delivery in claimed {
            match self.send(&delivery).await {
                Ok(()) => self.sent.with_label_values(&["sent"]).inc(),
                Err(error) => {
                    self.sent.with_label_values(&["failed"]).inc();
                    // The site and the user's number, not their address.
                    rocket::warn!(
                        "the {} report of {} for user {} was not sent (it is tried again \
                         in {} minutes, {} times in all): {error}",
                        delivery.cadence.as_str(),
                        delivery.domain,
                        delivery.user_id,
                        LEASE.as_secs() / 60,
                        MAX_ATTEMPTS,
                    );
                }
            }
        }
    }

    async fn send(&self, delivery: &Delivery) -> Result<(), SendError> {
        let period = delivery
            .cadence
            .starting(delivery.period_start, delivery.time_zone);
        let report = Report::load(
            &self.pool,
            SiteId(delivery.site_id),
            About {
                domain: delivery.domain.clone(),
                cadence: delivery.cadence,
                period,
                dashboard: format!("{}/sites/{}", self.public_url, delivery.domain),
                choices: format!("{}/account/reports", self.public_url),
            },
            self.retention,
            Utc::now(),
        )
        .await?;
        let to = delivery.email.parse().map_err(|_| SendError::Address)?;
        self.mailer
            .send(Mail {
                to,
                subject: report.subject(),
                text: report.text()?,
                html: Some(report.html()?),
            })
            .await?;
        store::mark_sent(&self.pool, delivery).await?;
        Ok(())
    }
}
