//! `GET /api/sites/DOMAIN/export.csv`: a site's counts as CSV, under the
//! site's own access rule, streamed row by row as the database returns them.

use futures::StreamExt;
use rocket::{
    get,
    http::{ContentType, Header},
    response::stream::TextStream,
    Responder,
};

use crate::{
    infra::{
        database::{within_deadline, Db},
        error::AppError,
    },
    sites::access::{Audience, SiteAccess},
    transfer::{format::header_line, store, ExportRequest},
};

#[derive(Responder)]
pub struct CsvDownload<T> {
    body: T,
    content_type: ContentType,
    disposition: Header<'static>,
    referrer_policy: Header<'static>,
}

/// The header, then one line per row as the database returns it. A database
/// error mid-way ends the file early (the status went out with the first
/// line), and is logged.
#[get("/api/sites/<domain>/export.csv?<range>&<granularity>&<token>")]
pub async fn export(
    domain: &str,
    range: Option<&str>,
    granularity: Option<&str>,
    token: Option<&str>,
    access: SiteAccess<'_>,
    db: &Db,
) -> Result<CsvDownload<TextStream![String]>, AppError> {
    let readable = access.open(domain, token, Audience::Dashboard).await?;
    let request = ExportRequest::parse(range, granularity)?;
    let buckets = within_deadline(request.buckets(db)).await?;
    let pool = sqlx::PgPool::clone(db);
    let site = readable.site.id;
    let body = TextStream! {
        yield header_line();
        let mut rows = store::export_rows(&pool, site, request.granularity, buckets);
        while let Some(row) = rows.next().await {
            match row {
                Ok(row) => yield row.to_line(),
                Err(error) => {
                    rocket::error!("the export stopped early: {error}");
                    break;
                }
            }
        }
    };
    // The stored, validated name: nothing of the request's own text.
    let file = format!("{}-{}.csv", readable.site.name(), request.range);
    Ok(CsvDownload {
        body,
        content_type: ContentType::CSV,
        disposition: Header::new(
            "Content-Disposition",
            format!("attachment; filename=\"{file}\""),
        ),
        referrer_policy: Header::new("Referrer-Policy", "no-referrer"),
    })
}
