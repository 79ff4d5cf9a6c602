//! `GET /badge/DOMAIN.svg`: a counter badge in the style of README badges,
//! label on the left and the exact number on the right, readable by screen
//! readers and drawn without fonts or scripts from elsewhere.

use askama::Template;
use num_format::{Locale, ToFormattedString};
use rocket::{get, http::ContentType, FromForm, State};

use crate::{
    counting::{recorder::VisitRecorder, visit::RequestVisitor, visitor_key::VisitorIdentities},
    infra::{admin::Admin, database::Db, error::AppError, metrics::Metrics},
    sites::{
        access::{Audience, ReadableSite},
        directory::SiteDirectory,
        hit::{HitCounter, HitRequest, HitSource},
        pixel::CrossSiteImage,
    },
    stats::{store, StatsCache, StatsRange},
};

const MAX_LABEL_CHARS: usize = 32;

/// What a badge counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Visitors,
    Visits,
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
                if label.chars().count() <= MAX_LABEL_CHARS
                    && !label.chars().any(char::is_control) =>
            {
                label.to_owned()
            }
            Some(_) => {
                return Err(refuse(
                    "label",
                    &format!("at most {MAX_LABEL_CHARS} printable characters"),
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

#[allow(clippy::too_many_arguments)]
#[get("/badge/<file>?<query..>")]
pub async fn badge(
    file: &str,
    query: BadgeQuery<'_>,
    admin: Option<Admin>,
    source: HitSource,
    visitor: Option<RequestVisitor<'_>>,
    db: &Db,
    directory: &State<SiteDirectory>,
    recorder: &State<VisitRecorder>,
    identities: &State<VisitorIdentities>,
    metrics: &State<Metrics>,
    stats: &State<StatsCache>,
) -> Result<CrossSiteImage<String>, AppError> {
    let domain = file.strip_suffix(".svg").ok_or(AppError::NotFound)?;
    let readable =
        ReadableSite::open(directory, db, domain, query.token, admin, Audience::Badge).await?;
    let request = BadgeRequest::parse(&query)?;
    let site = &readable.site;

    let counted = if request.count {
        let counter = HitCounter {
            directory,
            pool: db,
            recorder,
            identities,
            metrics,
        };
        let hit = HitRequest {
            domain,
            path: query.p,
            signature: query.s,
        };
        counter.count(&hit, &source, visitor).await.ok()
    } else {
        None
    };

    let number = match (query.p, counted) {
        // The visit just recorded answers with the site's exact totals.
        (None, Some(counts)) if request.range == StatsRange::AllTime => match request.metric {
            Metric::Visitors => counts.unique_visitors,
            Metric::Visits => counts.total_visits,
        },
        (None, _) => {
            let stats = stats.get(db, site.id, request.range).await?;
            match request.metric {
                Metric::Visitors => stats.unique_visitors,
                Metric::Visits => stats.visits,
            }
        }
        (Some(path), _) => {
            let path = path.split(['?', '#']).next().unwrap_or_default();
            let now = crate::infra::database::database_now(db).await?;
            let granularity = request.range.granularity();
            let counts = store::page_counts(
                db,
                site.id,
                granularity,
                request.range.first_bucket(now),
                path,
            )
            .await?;
            match request.metric {
                Metric::Visitors => counts.unique_visitors,
                Metric::Visits => counts.visits,
            }
        }
    };
    let template = BadgeTemplate::new(
        request.label,
        number.to_formatted_string(&Locale::en),
        request.style,
    );
    let svg = template
        .render()
        .map_err(|_| AppError::Unavailable("the badge could not be drawn"))?;
    Ok(CrossSiteImage::new(svg, ContentType::SVG, "no-cache"))
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
