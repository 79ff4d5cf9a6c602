//! `visitors export`, `visitors import` and `visitors sites history`.

use std::io::Write;

use futures::StreamExt;
use sqlx::PgPool;

use crate::{
    infra::command::CommandError,
    sites::commands::existing as site,
    transfer::{format::header_line, import_file, store, ExportRequest, Imported},
};

/// Writes the site's counts to standard output, row by row.
pub async fn export(
    pool: &PgPool,
    domain: &str,
    range: Option<&str>,
    granularity: Option<&str>,
) -> Result<(), CommandError> {
    let site = site(pool, domain).await?;
    let request = ExportRequest::parse(range, granularity)
        .map_err(|error| CommandError::Invalid(error.to_string()))?;
    let buckets = request.buckets(pool).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let failed =
        |error: std::io::Error| CommandError::Invalid(format!("writing the export: {error}"));
    out.write_all(header_line().as_bytes()).map_err(failed)?;
    let mut rows = store::export_rows(pool, site.id, request.granularity, buckets);
    while let Some(row) = rows.next().await {
        out.write_all(row?.to_line().as_bytes()).map_err(failed)?;
    }
    out.flush().map_err(failed)
}

/// Loads the file's daily rows as the site's imported history.
pub async fn import(
    pool: &PgPool,
    domain: &str,
    path: &str,
    source: Option<&str>,
) -> Result<(), CommandError> {
    let site = site(pool, domain).await?;
    let file =
        std::fs::read(path).map_err(|error| CommandError::Invalid(format!("{path}: {error}")))?;
    match import_file(pool, site.id, path, source.unwrap_or(path), &file).await? {
        Ok(Imported::Rows(rows)) => println!("imported {rows} rows into {domain}"),
        Ok(Imported::Before(at)) => {
            println!("{path} was imported into {domain} on {at}; nothing changed")
        }
        Err(refusal) => return Err(CommandError::Invalid(refusal)),
    }
    Ok(())
}

/// Lists the site's imports.
pub async fn history(pool: &PgPool, domain: &str) -> Result<(), CommandError> {
    let site = site(pool, domain).await?;
    for record in store::history(pool, site.id).await? {
        println!(
            "{}  {} rows  {}",
            record
                .imported_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            record.row_count,
            record.source
        );
    }
    Ok(())
}
