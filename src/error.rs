//! The app's one error type and its error pages: a dependency failure is a
//! 503 with a friendly page, a bad request a 4xx that says what was wrong.

use askama::Template;
use rocket::{
    catch, catchers,
    http::{Header, Status},
    request::Request,
    response::{self, Responder},
    Catcher,
};

use crate::page::{Page, SiteInfo};

#[derive(Debug)]
pub enum AppError {
    /// PostgreSQL failed or could not be reached in time.
    Database(sqlx::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        match self {
            Self::Database(error) => {
                // sqlx errors name the statement's failure, never its values.
                rocket::error!("database unavailable: {error}");
                let mut response =
                    error_page(Status::ServiceUnavailable, request).respond_to(request)?;
                response.set_header(Header::new("Retry-After", "5"));
                Ok(response)
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorTemplate<'a> {
    pub code: u16,
    pub title: &'a str,
    pub message: &'a str,
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
            message,
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
