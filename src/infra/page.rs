//! Rendering askama templates as HTML responses, and what every page's
//! layout shows.

use askama::Template;
use rocket::{
    http::{ContentType, Header, Status},
    request::Request,
    response::{self, Responder, Response},
};

use crate::infra::{build_info::BuildInfo, config::Config};

/// What the shared page layout shows: who runs the instance, which replica
/// answered, and which version it runs.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Who runs the instance; the footer names nobody without it.
    pub user_name: Option<String>,
    pub user_url: String,
    pub instance_name: String,
    pub version: String,
}

impl Layout {
    pub fn new(config: &Config, build: &BuildInfo) -> Self {
        Self {
            user_name: config.user_name.clone(),
            user_url: config.user_url.clone(),
            instance_name: config.instance_name.clone(),
            version: build.version.clone(),
        }
    }
}

/// A rendered template with its status.
pub struct Page<T> {
    status: Status,
    template: T,
}

impl<T: Template> Page<T> {
    pub fn ok(template: T) -> Self {
        Self::with_status(Status::Ok, template)
    }

    pub fn with_status(status: Status, template: T) -> Self {
        Self { status, template }
    }

    pub fn template_mut(&mut self) -> &mut T {
        &mut self.template
    }
}

impl<'r, T: Template> Responder<'r, 'static> for Page<T> {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let html = self.template.render().map_err(|error| {
            rocket::error!("template rendering failed: {error}");
            Status::InternalServerError
        })?;
        Response::build()
            .status(self.status)
            .header(ContentType::HTML)
            .sized_body(html.len(), std::io::Cursor::new(html))
            .ok()
    }
}

/// A resource any site may embed (`Cross-Origin-Resource-Policy:
/// cross-origin`): the pixel, the badge, a chart, the script.
#[derive(rocket::Responder)]
pub struct CrossSiteResource<T> {
    pub body: T,
    pub content_type: ContentType,
    pub cache_control: Header<'static>,
    pub resource_policy: Header<'static>,
}

impl<T> CrossSiteResource<T> {
    pub fn new(body: T, content_type: ContentType, cache_control: &'static str) -> Self {
        Self {
            body,
            content_type,
            cache_control: Header::new("Cache-Control", cache_control),
            resource_policy: Header::new("Cross-Origin-Resource-Policy", "cross-origin"),
        }
    }
}

/// A response that must not pass its address (which may hold a private
/// site's share token) on to anywhere it links or loads.
#[derive(rocket::Responder)]
pub struct NoReferrer<T> {
    pub body: T,
    pub referrer_policy: Header<'static>,
}

impl<T> NoReferrer<T> {
    pub fn new(body: T) -> Self {
        Self {
            body,
            referrer_policy: Header::new("Referrer-Policy", "no-referrer"),
        }
    }
}

/// An answer for one person (a form with its anti-forgery token, an
/// account's page): no cache keeps it.
#[derive(rocket::Responder)]
pub struct Private<T> {
    pub body: T,
    pub cache_control: Header<'static>,
}

impl<T> Private<T> {
    pub fn new(body: T) -> Self {
        Self {
            body,
            cache_control: Header::new("Cache-Control", "no-store"),
        }
    }
}
