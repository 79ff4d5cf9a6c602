//! Mail through the SMTP server `SMTP_URL` names, from `MAIL_FROM`: the
//! email reports and the invitations. Without it the `Mailer` is there but
//! off, and every feature asks it before offering mail.

use std::time::Duration;

use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use rocket::fairing::AdHoc;

use crate::infra::config::{Config, MailSettings};

/// How long one SMTP exchange may take before the mail counts as not sent.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends the instance's mail, or none when no server is configured.
#[derive(Clone)]
pub struct Mailer(Option<Transport>);

#[derive(Clone)]
struct Transport {
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// One message: plain text, with an HTML alternative when there is one.
pub struct Mail {
    pub to: Mailbox,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("this instance sends no mail (SMTP_URL is unset)")]
    Off,
    #[error("the message could not be written: {0}")]
    Template(#[from] askama::Error),
    #[error("the message could not be made: {0}")]
    Message(#[from] lettre::error::Error),
    #[error("the SMTP server did not take the message: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// The mailer, made once the runtime runs (its connection pool needs it).
pub fn stage(config: &Config) -> AdHoc {
    let settings = config.mail.clone();
    AdHoc::on_ignite("Mail", |rocket| async move {
        rocket.manage(Mailer::new(settings.as_ref()))
    })
}

impl Mailer {
    pub fn new(settings: Option<&MailSettings>) -> Self {
        Self(settings.map(|settings| {
            let url = std::str::from_utf8(settings.smtp_url.as_bytes())
                .expect("the setting was read as text");
            let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .expect("checked by the setting's rule")
                .timeout(Some(SMTP_TIMEOUT))
                .build();
            Transport {
                smtp,
                from: settings.from.clone(),
            }
        }))
    }

    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let transport = self.0.as_ref().ok_or(MailError::Off)?;
        let builder = Message::builder()
            .from(transport.from.clone())
            .to(mail.to)
            .subject(mail.subject);
        let message = match mail.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(mail.text, html))?,
            None => builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.text),
            )?,
        };
        transport.smtp.send(message).await?;
        Ok(())
    }
}
