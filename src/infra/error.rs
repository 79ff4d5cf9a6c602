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

use crate::infra::{
    metrics::Metrics,
    page::{Layout, Page},
};

/// A query parameter's value that is not one of the values it can take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidChoice {
    pub parameter: &'static str,
    pub value: String,
    /// The page the choices link to.
    pub link_base: String,
    /// (value, label) of each valid choice.
    pub choices: Vec<(&'static str, &'static str)>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// PostgreSQL failed or could not be reached in time. Shared: one failed
    /// batch of visits, or one failed stats read, fails every request
    /// waiting for it.
    #[error("database unavailable: {0}")]
    Database(Arc<sqlx::Error>),
    /// The server cannot serve yet or any more (still starting, shutting down).
    #[error("{0}")]
    Unavailable(&'static str),
    #[error("unknown {} {:?}", .0.parameter, .0.value)]
    InvalidChoice(InvalidChoice),
    /// A request that cannot be served as it is; the text says why.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing here, or nothing this caller may know exists.
    #[error("not found")]
    NotFound,
    /// A thing that exists already cannot be created again.
    #[error("{0}")]
    Conflict(String),
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

impl From<InvalidChoice> for AppError {
    fn from(error: InvalidChoice) -> Self {
        Self::InvalidChoice(error)
    }
}

/// API callers get JSON errors, everyone else an HTML page.
fn wants_json(request: &Request<'_>) -> bool {
    request.uri().path().starts_with("/api/")
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        match self {
            Self::Database(_) | Self::Unavailable(_) => {
                // sqlx errors name the statement's failure, never its values.
                rocket::error!("{self}");
                if let (Self::Database(_), Some(metrics)) =
                    (&self, request.rocket().state::<Metrics>())
                {
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
            Self::BadRequest(message) => explained(Status::BadRequest, message, request),
            Self::Conflict(message) => explained(Status::Conflict, message, request),
            Self::NotFound => {
                if wants_json(request) {
                    let body = json!({ "error": "not found" });
                    return (Status::NotFound, Json(body)).respond_to(request);
                }
                error_page(Status::NotFound, request).respond_to(request)
            }
            Self::InvalidChoice(invalid) => {
                let valid: Vec<&str> = invalid.choices.iter().map(|(value, _)| *value).collect();
                if wants_json(request) {
                    let body = json!({
                        "error": format!("unknown {} {:?}", invalid.parameter, invalid.value),
                        format!("valid_{}s", invalid.parameter): valid,
                    });
                    return (Status::BadRequest, Json(body)).respond_to(request);
                }
                let mut page = error_page(Status::BadRequest, request);
                let template = page.template_mut();
                template.message = format!(
                    "Unknown {}. Valid {}s are: {}.",
                    invalid.parameter,
                    invalid.parameter,
                    valid.join(", ")
                )
                .into();
                template.choices = invalid
                    .choices
                    .iter()
                    .map(|(value, label)| Choice {
                        href: format!("{}?{}={value}", invalid.link_base, invalid.parameter),
                        value,
                        label,
                    })
                    .collect();
                page.respond_to(request)
            }
        }
    }
}

/// A refusal with its reason, as JSON or as a page.
fn explained(status: Status, message: String, request: &Request<'_>) -> response::Result<'static> {
    if wants_json(request) {
        return (status, Json(json!({ "error": message }))).respond_to(request);
    }
    let mut page = error_page(status, request);
    page.template_mut().message = message.into();
    page.respond_to(request)
}

/// A link the error page offers instead.
pub struct Choice {
    pub href: String,
    pub value: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorTemplate<'a> {
    pub code: u16,
    pub title: &'a str,
    pub message: Cow<'a, str>,
    pub choices: Vec<Choice>,
    pub layout: Option<&'a Layout>,
}

fn error_page<'a>(status: Status, request: &'a Request<'_>) -> Page<ErrorTemplate<'a>> {
    let (title, message) = match status.code {
        404 => ("Page not found", "There is nothing at this address."),
        400 | 422 => ("Bad request", "The request could not be understood."),
        503 => (
            "Temporarily unavailable",
            "The visitor counter cannot reach its database right now. Please try again in a few seconds.",
        ),
        409 => ("Conflict", "This exists already."),
        code if code < 500 => ("Request refused", "The request could not be served."),
        _ => ("Something went wrong", "The server could not answer this request."),
    };
    Page::with_status(
        status,
        ErrorTemplate {
            code: status.code,
            title,
            message: message.into(),
            choices: Vec::new(),
            layout: request.rocket().state::<Layout>(),
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
