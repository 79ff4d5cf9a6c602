//! `GET /badge/DOMAIN.svg`: a counter badge in the style of README badges,
//! label on the left and the exact number on the right, readable by screen
//! readers and drawn without fonts or scripts from elsewhere.

use askama::Template;
use num_format::{Locale, ToFormattedString};
use rocket::{get, head, http::ContentType, FromForm};

use crate::{
    counting::{
        site_id::SiteId,
        store::VisitCounts,
        visit::{canonical_page, RequestVisitor},
    },
    infra::{
        database::{database_now, within_deadline},
        error::AppError,
        page::CrossSiteResource,
    },
    sites::{
        access::{Audience, SiteAccess},
        hit::{Dropped, HitCounter, HitRequest, HitSource},
    },
    sources::attribution::DetailParams,
    stats::{store, StatsQuery, StatsRange, StatsReader},
};

const MAX_LABEL_CHARS: usize = 32;

/// Characters a label may not hold: controls, and the invisible ones that
/// reorder or hide text (bidirectional overrides, zero-width characters).
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// What a badge counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Visitors,
    Visits,
}

impl Metric {
    fn of(self, visitors: i64, visits: i64) -> i64 {
        match self {
            Self::Visitors => visitors,
            Self::Visits => visits,
        }
    }
}

/// The look of a badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BadgeStyle {
    /// Rounded corners and a light gradient.
    Flat,
    FlatSquare,
}

#[derive(FromForm)]
pub struct BadgeQuery<'r> {
    metric: Option<&'r str>,
    range: Option<&'r str>,
    label: Option<&'r str>,
    style: Option<&'r str>,
    p: Option<&'r str>,
    count: Option<&'r str>,
    s: Option<&'r str>,
    token: Option<&'r str>,
}

/// The badge's choices, checked as a whole before anything is counted.
struct BadgeRequest {
    metric: Metric,
    range: StatsRange,
    label: String,
    style: BadgeStyle,
    count: bool,
}

fn refuse(parameter: &str, valid: &str) -> AppError {
    AppError::BadRequest(format!("{parameter} must be {valid}"))
}

impl BadgeRequest {
    fn parse(query: &BadgeQuery<'_>) -> Result<Self, AppError> {
        let metric = match query.metric {
            None | Some("visitors") => Metric::Visitors,
            Some("visits") => Metric::Visits,
            Some(_) => return Err(refuse("metric", "visitors or visits")),
        };
        // Pages have hour and day counters, so a badge's ranges start at a day.
        let range = match query.range {
            None => StatsRange::AllTime,
            Some(value) => StatsRange::parse(Some(value))
                .ok()
                .filter(|range| *range != StatsRange::LastHour)
                .ok_or_else(|| refuse("range", "24h, 7d, 30d or all"))?,
        };
        let label = match query.label {
            None => match metric {
                Metric::Visitors => "visitors".to_owned(),
                Metric::Visits => "visits".to_owned(),
            },
            Some(label)
                if label.chars().count() <= MAX_LABEL_CHARS && !label.chars().any(is_hidden) =>
            {
                label.to_owned()
            }
            Some(_) => {
                return Err(refuse(
                    "label",
                    &format!("at most {MAX_LABEL_CHARS} visible characters"),
                ))
            }
        };
        let style = match query.style {
            None | Some("flat") => BadgeStyle::Flat,
            Some("flat-square") => BadgeStyle::FlatSquare,
            Some(_) => return Err(refuse("style", "flat or flat-square")),
        };
        let count = match query.count {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return Err(refuse("count", "0 or 1")),
        };
        Ok(Self {
            metric,
            range,
            label,
            style,
            count,
        })
    }
}

#[derive(Template)]
#[template(path = "badge.svg")]
struct BadgeTemplate {
    label: String,
    value: String,
    label_text_width: u32,
    value_text_width: u32,
    label_width: u32,
    value_width: u32,
    rounded: bool,
}

impl BadgeTemplate {
    fn new(label: String, value: String, style: BadgeStyle) -> Self {
        let (label_text_width, value_text_width) = (text_width(&label), text_width(&value));
        Self {
            label_text_width,
            value_text_width,
            label_width: label_text_width + 2 * PADDING,
            value_width: value_text_width + 2 * PADDING,
            label,
            value,
            rounded: style == BadgeStyle::Flat,
        }
    }

    fn total_width(&self) -> u32 {
        self.label_width + self.value_width
    }
}

const PADDING: u32 = 6;

/// About how wide `text` is at 11 px in a sans-serif face; the SVG's
/// `textLength` then fits the text to exactly that, whatever font renders it.
fn text_width(text: &str) -> u32 {
    let tenths: u32 = text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' => 35,
            'f' | 't' | 'r' | 'I' | '(' | ')' | '[' | ']' | '-' | '/' => 45,
            'm' | 'w' | 'M' | 'W' | '@' | '%' => 100,
            '0'..='9' => 70,
            c if c.is_uppercase() => 80,
            _ => 65,
        })
        .sum();
    tenths.div_ceil(10).max(1)
}

/// A badge; with `count=1` it counts the hit too, and answers 503 when the
/// hit could not be recorded right now (its number would not include it).
#[get("/badge/<file>?<query..>")]
pub async fn badge(
    file: &str,
    query: BadgeQuery<'_>,
    access: SiteAccess<'_>,
    stats: StatsReader<'_>,
    source: HitSource,
    visitor: Option<RequestVisitor<'_>>,
    counter: HitCounter<'_>,
) -> Result<CrossSiteResource<String>, AppError> {
    let hit = Hit {
        source,
        visitor,
        counter,
    };
    draw(file, &query, &access, &stats, Some(hit)).await
}

/// `HEAD` of a badge (a README renderer's proxy checking it) counts nothing,
/// whatever its `count` says.
#[head("/badge/<file>?<query..>")]
pub async fn badge_head(
    file: &str,
    query: BadgeQuery<'_>,
    access: SiteAccess<'_>,
    stats: StatsReader<'_>,
) -> Result<CrossSiteResource<String>, AppError> {
    draw(file, &query, &access, &stats, None).await
}

/// What counting a badge's hit needs.
struct Hit<'r> {
    source: HitSource,
    visitor: Option<RequestVisitor<'r>>,
    counter: HitCounter<'r>,
}

/// The badge, counting `hit` first when one is given and `count=1` asks.
async fn draw(
    file: &str,
    query: &BadgeQuery<'_>,
    access: &SiteAccess<'_>,
    stats: &StatsReader<'_>,
    hit: Option<Hit<'_>>,
) -> Result<CrossSiteResource<String>, AppError> {
    let domain = file.strip_suffix(".svg").ok_or(AppError::NotFound)?;
    let readable = access.open(domain, query.token, Audience::Badge).await?;
    let request = BadgeRequest::parse(query)?;
    let site = &readable.site;

    // A private site's badge shown to everyone tells its own totals, not
    // which pages exist.
    if query.p.is_some() && !readable.sees_dashboard {
        return Err(AppError::NotFound);
    }

    let counted = match hit.filter(|_| request.count) {
        Some(hit) => {
            let request = HitRequest {
                domain,
                path: query.p,
                signature: query.s,
                details: &DetailParams::NONE,
            };
            match hit.counter.count(&request, &hit.source, hit.visitor).await {
                Ok(counts) => Some((counts, hit.counter)),
                Err(Dropped::Unavailable) => {
                    return Err(AppError::Unavailable(
                        "the database could not record the hit",
                    ))
                }
                Err(_) => None,
            }
        }
        None => None,
    };

    let number = number_shown(&request, query.p, site.id, stats, counted.as_ref()).await;
    let number = match &counted {
        Some((counts, counter)) => counter.answer(counts, number),
        None => number,
    }?;
    let template = BadgeTemplate::new(
        request.label,
        number.to_formatted_string(&Locale::en),
        request.style,
    );
    let svg = template
        .render()
        .map_err(|_| AppError::Unavailable("the badge could not be drawn"))?;
    Ok(CrossSiteResource::new(svg, ContentType::SVG, "no-cache"))
}

/// The badge's number: the site's, from the hit just `counted` when it
/// answers it (all time), or a page's.
async fn number_shown(
    request: &BadgeRequest,
    page: Option<&str>,
    site: SiteId,
    stats: &StatsReader<'_>,
    counted: Option<&(VisitCounts, HitCounter<'_>)>,
) -> Result<i64, AppError> {
    let metric = request.metric;
    Ok(match (page, counted) {
        // The visit just recorded answers with the site's exact totals.
        (None, Some((counts, _))) if request.range == StatsRange::AllTime => {
            metric.of(counts.unique_visitors, counts.total_visits)
        }
        (None, _) => {
            let stats = stats.get(site, &StatsQuery::whole(request.range)).await?;
            metric.of(stats.unique_visitors, stats.visits)
        }
        (Some(path), _) => {
            let path = canonical_page(path)
                .ok_or_else(|| AppError::BadRequest("p must be a path, like /about".into()))?;
            let counts = within_deadline(async {
                let now = database_now(stats.pool()).await?;
                let first = request.range.first_bucket(now);
                store::page_counts(
                    stats.pool(),
                    site,
                    request.range.granularity(),
                    first,
                    &path,
                )
                .await
            })
            .await?;
            metric.of(counts.unique_visitors, counts.visits)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_badge_escapes_its_label_and_fits_its_text() {
        let badge = BadgeTemplate::new(
            "<script>&\"".into(),
            12_345.to_formatted_string(&Locale::en),
            BadgeStyle::Flat,
        );
        let svg = badge.render().unwrap();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&#60;script&#62;&#38;&#34;"), "{svg}");
        assert!(svg.contains("12,345"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("aria-label="));
        assert!(text_width("12,345") < text_width("1,234,567"));
    }
}
