//! The page every visitor sees, and which records their visit.

use std::sync::Arc;

use askama::Template;
use rocket::{get, routes, Route, State};

use crate::{
    db::{self, Db, VisitCounts},
    error::AppError,
    page::{Page, SiteInfo},
    user_agent::ClientInfo,
    visit::IncomingVisit,
};

#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexTemplate<'a> {
    pub counts: VisitCounts,
    /// How this visitor's User-Agent was read; it comes from the request.
    pub client: Arc<ClientInfo>,
    pub site: Option<&'a SiteInfo>,
}

#[get("/")]
async fn index<'a>(
    visit: IncomingVisit,
    db: &Db,
    site: &'a State<SiteInfo>,
) -> Result<Page<IndexTemplate<'a>>, AppError> {
    let counts = db::record_visit(db, &visit.as_new_visit()).await?;
    Ok(Page::ok(IndexTemplate {
        counts,
        client: visit.client,
        site: Some(site),
    }))
}

pub fn routes() -> Vec<Route> {
    routes![index]
}
