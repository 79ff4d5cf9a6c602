//! The app's one error type and its error pages: a dependency failure is a
//! 503 with a friendly page, a bad request a 4xx that says what was wrong.

use std::{borrow::Cow, sync::Arc};

use askama::Template;
use rocket::{
    catch, catchers,
    http::{Header, Status},
    request::Request,
    response::{self, Responder},
    serde::json::Json,
    Catcher,
};
use serde_json::json;

use crate::{
    metrics::Metrics,
    page::{Page, SiteInfo},
    stats::{InvalidRange, StatsRange},
};

#[derive(Debug)]
pub enum AppError {
    /// PostgreSQL failed or could not be reached in time.
    /// Shared: one failed batch of visits fails every request in it.
    Database(Arc<sqlx::Error>),
    /// `?range=` is not one of the known ranges.
    InvalidRange(InvalidRange),
    /// A template did not render; a bug, not bad input.
    Render(askama::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(Arc::new(error))
    }
}

impl From<Arc<sqlx::Error>> for AppError {
    fn from(error: Arc<sqlx::Error>) -> Self {
        Self::Database(error)
    }
}

impl From<InvalidRange> for AppError {
    fn from(error: InvalidRange) -> Self {
        Self::InvalidRange(error)
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        Self::Render(error)
    }
}

/// API callers get JSON errors, everyone else an HTML page.
fn wants_json(request: &Request<'_>) -> bool {
    request.uri().path().starts_with("/api/")
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        match self {
            Self::Database(error) => {
                // sqlx errors name the statement's failure, never its values.
                rocket::error!("database unavailable: {error}");
                if let Some(metrics) = request.rocket().state::<Metrics>() {
                    metrics.database_error();
                }
                let mut response = if wants_json(request) {
                    let body = json!({ "error": "the database is unavailable, retry shortly" });
                    (Status::ServiceUnavailable, Json(body)).respond_to(request)?
                } else {
                    error_page(Status::ServiceUnavailable, request).respond_to(request)?
                };
                response.set_header(Header::new("Retry-After", "5"));
                Ok(response)
            }
            Self::InvalidRange(InvalidRange(value)) => {
                let valid: Vec<&str> = StatsRange::ALL.iter().map(|r| r.as_str()).collect();
                if wants_json(request) {
                    let body = json!({
                        "error": format!("unknown range {value:?}"),
                        "valid_ranges": valid,
                    });
                    return (Status::BadRequest, Json(body)).respond_to(request);
                }
                let message = format!("Unknown range. Valid ranges are: {}.", valid.join(", "));
                let mut page = error_page(Status::BadRequest, request);
                page.template_mut().message = message.into();
                page.template_mut().ranges = &StatsRange::ALL;
                page.respond_to(request)
            }
            Self::Render(error) => {
                rocket::error!("template rendering failed: {error}");
                Err(Status::InternalServerError)
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorTemplate<'a> {
    pub code: u16,
    pub title: &'a str,
    pub message: Cow<'a, str>,
    /// Links to offer instead, for a bad `?range=`.
    pub ranges: &'a [StatsRange],
    pub site: Option<&'a SiteInfo>,
}

fn error_page<'a>(status: Status, request: &'a Request<'_>) -> Page<ErrorTemplate<'a>> {
    let (title, message) = match status.code {
        404 => ("Page not found", "There is nothing at this address."),
        400 | 422 => ("Bad request", "The request could not be understood."),
        503 => (
            "Temporarily unavailable",
            "The visitor counter cannot reach its database right now. Please try again in a few seconds.",
        ),
        code if code < 500 => ("Request refused", "The request could not be served."),
        _ => ("Something went wrong", "The server could not answer this request."),
    };
    Page::with_status(
        status,
        ErrorTemplate {
            code: status.code,
            title,
            message: message.into(),
            ranges: &[],
            site: request.rocket().state::<SiteInfo>(),
        },
    )
}

#[catch(default)]
fn any_error<'r>(status: Status, request: &'r Request<'_>) -> Page<ErrorTemplate<'r>> {
    error_page(status, request)
}

pub fn catchers() -> Vec<Catcher> {
    catchers![any_error]
}
