//! The app's one error type and its error pages: a dependency failure is a
//! 503 with a friendly page, a bad request a 4xx that says what was wrong.

use std::{borrow::Cow, sync::Arc};

use askama::Template;
use rocket::{
    catch, catchers,
    http::{Header, Status},
    request::Request,
    response::{self, Redirect, Responder},
    serde::json::Json,
    Catcher,
};
use serde_json::json;

use crate::infra::{
    metrics::Metrics,
    page::{Layout, Page},
    text::capitalised,
};

/// A query parameter's value that is not one of the values it can take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidChoice {
    pub parameter: &'static str,
    pub value: String,
    /// Each choice links to this followed by `parameter=value`: the page and
    /// what its links keep (`/sites/x?token=…&`, or `/?`).
    pub link_prefix: String,
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
    /// The server cannot serve this right now; the text names the cause
    /// ("the visit recorder has stopped") and is shown on the 503 page.
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
    /// The request may not do this; the text says why and what to do.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A thing that exists already cannot be created again.
    #[error("{0}")]
    Conflict(String),
    /// The page is for someone signed in: the sign-in page's address, which
    /// comes back to it, is where the browser goes instead.
    #[error("signing in is needed")]
    SignInFirst(String),
    /// The body is not of the type the route reads; the text says which.
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
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

/// API and admin callers get JSON errors, everyone else an HTML page.
fn wants_json(request: &Request<'_>) -> bool {
    let path = request.uri().path();
    path.starts_with("/api/") || path.starts_with("/admin/")
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.respond_plainly(request)?;
        // The failed request's address may hold a private site's token: an
        // error page passes it on to nothing it links to.
        response.set_header(Header::new("Referrer-Policy", "no-referrer"));
        Ok(response)
    }
}

impl AppError {
    fn respond_plainly(self, request: &Request<'_>) -> response::Result<'static> {
        match self {
            Self::Database(_) | Self::Unavailable(_) => {
                // sqlx errors name the statement's failure, never its values.
                rocket::error!("{self}");
                if let (Self::Database(_), Some(metrics)) =
                    (&self, request.rocket().state::<Metrics>())
                {
                    metrics.database_error();
                }
                let cause = match &self {
                    Self::Unavailable(cause) => cause,
                    _ => "the database cannot be reached",
                };
                let mut response = explained(
                    Status::ServiceUnavailable,
                    format!("{}. Please try again in a few seconds.", capitalised(cause)),
                    request,
                )?;
                response.set_header(Header::new("Retry-After", "5"));
                Ok(response)
            }
            Self::BadRequest(message) => explained(Status::BadRequest, message, request),
            Self::Conflict(message) => explained(Status::Conflict, message, request),
            Self::Forbidden(message) => explained(Status::Forbidden, message.into(), request),
            Self::UnsupportedMediaType(message) => {
                explained(Status::UnsupportedMediaType, message.into(), request)
            }
            Self::NotFound => caught(Status::NotFound, request),
            Self::SignInFirst(login) => Redirect::to(login).respond_to(request),
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
                        href: format!("{}{}={value}", invalid.link_prefix, invalid.parameter),
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

/// An error with no more to say than its status: the status's own page,
/// or `{"error": …}` for the API. A 401 names the scheme it wants.
fn caught(status: Status, request: &Request<'_>) -> response::Result<'static> {
    let mut response = if wants_json(request) {
        let reason = status.reason_lossy().to_ascii_lowercase();
        (status, Json(json!({ "error": reason }))).respond_to(request)?
    } else {
        error_page(status, request).respond_to(request)?
    };
    if status == Status::Unauthorized {
        response.set_header(Header::new("WWW-Authenticate", "Bearer"));
    }
    Ok(response)
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
        401 => ("Unauthorized", "This needs the admin token."),
        415 => (
            "Unsupported media type",
            "The request's body is not of a type this address reads.",
        ),
        503 => (
            "Temporarily unavailable",
            "The visitor counter cannot answer right now. Please try again in a few seconds.",
        ),
        409 => ("Conflict", "This exists already."),
        403 => ("Forbidden", "This request is not allowed."),
        code if code < 500 => ("Request refused", "The request could not be served."),
        _ => (
            "Something went wrong",
            "The server could not answer this request.",
        ),
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

/// What Rocket could not route or a guard refused (a 404, a 401 of the
/// admin token, a 422 of a malformed body): the same answers as `AppError`.
struct Caught(Status);

impl<'r> Responder<'r, 'static> for Caught {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        caught(self.0, request)
    }
}

#[catch(default)]
fn any_error(status: Status, _: &Request<'_>) -> Caught {
    Caught(status)
}

pub fn catchers() -> Vec<Catcher> {
    catchers![any_error]
}
