//! How the dashboards show the breakdowns the numbers hold: each row a link
//! that filters the dashboard to its value, a country by its flag and name,
//! each UTM field as a tab of the Campaigns panel, the filters as chips.

use crate::stats::{
    filter::{Dimension, Filter, Filters},
    model::{BreakdownEntry, Campaigns},
};

/// A country's flag (its two regional indicator symbols, no image) and
/// its ISO 3166 name; the code alone when it is not a known one.
pub fn country_label(code: &str) -> String {
    let Some(country) = rust_iso3166::from_alpha2(code) else {
        return code.to_owned();
    };
    let flag: String = code
        .chars()
        .filter_map(|letter| char::from_u32(0x1F1E6 + (letter as u32).checked_sub('A' as u32)?))
        .collect();
    format!("{flag} {}", country.name)
}

/// How a panel or a chip shows a dimension's value.
fn value_label(dimension: Dimension, value: &str) -> String {
    match dimension {
        Dimension::Country => country_label(value),
        _ => value.to_owned(),
    }
}

/// One row of a panel.
pub struct PanelRow {
    /// The value as shown.
    pub label: String,
    pub entry: BreakdownEntry,
    /// The dashboard filtered to this value; none for "Other" and for the
    /// value the dashboard is filtered to already.
    pub href: Option<String>,
}

/// The links of a dashboard's filters: `to(filters)` is the page with them.
pub trait FilterLinks {
    fn to(&self, filters: &Filters) -> String;
}

/// A panel's rows, each linking to the dashboard with its value added to
/// the current filters.
pub fn rows(
    entries: &[BreakdownEntry],
    dimension: Dimension,
    filters: &Filters,
    links: &impl FilterLinks,
) -> Vec<PanelRow> {
    entries
        .iter()
        .map(|entry| {
            let filter = Filter::is(dimension, &entry.name);
            let applied = filters.iter().any(|f| *f == filter);
            PanelRow {
                label: if entry.folded {
                    entry.name.clone()
                } else {
                    value_label(dimension, &entry.name)
                },
                href: (!entry.folded && !applied).then(|| links.to(&filters.with(filter))),
                entry: entry.clone(),
            }
        })
        .collect()
}

/// One filter as a chip: what it says, and its two links.
pub struct FilterChip {
    pub dimension: &'static str,
    pub relation: &'static str,
    pub value: String,
    /// The dashboard without it.
    pub remove_href: String,
    /// The dashboard with it turned around ("is" to "is not").
    pub invert_href: String,
}

pub fn chips(filters: &Filters, links: &impl FilterLinks) -> Vec<FilterChip> {
    filters
        .iter()
        .map(|filter| {
            let inverted = Filter {
                negated: !filter.negated,
                ..filter.clone()
            };
            FilterChip {
                dimension: filter.dimension.label(),
                relation: filter.relation(),
                value: value_label(filter.dimension, &filter.value),
                remove_href: links.to(&filters.without(filter)),
                invert_href: links.to(&filters.with(inverted)),
            }
        })
        .collect()
}

/// One tab of the Campaigns panel.
pub struct CampaignTab {
    /// The UTM field, as the page's address names it.
    pub field: &'static str,
    pub label: &'static str,
    pub rows: Vec<PanelRow>,
}

pub fn campaign_tabs(
    campaigns: &Campaigns,
    filters: &Filters,
    links: &impl FilterLinks,
) -> Vec<CampaignTab> {
    [
        (Dimension::UtmSource, "Source", &campaigns.utm_source),
        (Dimension::UtmMedium, "Medium", &campaigns.utm_medium),
        (Dimension::UtmCampaign, "Campaign", &campaigns.utm_campaign),
        (Dimension::UtmTerm, "Term", &campaigns.utm_term),
        (Dimension::UtmContent, "Content", &campaigns.utm_content),
    ]
    .into_iter()
    .map(|(dimension, label, entries)| CampaignTab {
        field: dimension.as_str(),
        label,
        rows: rows(entries, dimension, filters, links),
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Plain;

    impl FilterLinks for Plain {
        fn to(&self, filters: &Filters) -> String {
            format!("?{}", filters.query())
        }
    }

    fn entry(name: &str, folded: bool) -> BreakdownEntry {
        BreakdownEntry {
            name: name.into(),
            unique_visitors: 1,
            share: 50.0,
            visits: None,
            folded,
        }
    }

    #[test]
    fn a_country_is_its_flag_and_name() {
        assert_eq!(country_label("DE"), "🇩🇪 Germany");
        assert_eq!(country_label("QQ"), "QQ");
    }

    #[test]
    fn rows_link_to_their_value_added_but_other_and_the_filtered_one() {
        let filters = Filters::parse(&["country:DE"]).unwrap();
        let shown = rows(
            &[entry("DE", false), entry("FR", false), entry("Other", true)],
            Dimension::Country,
            &filters,
            &Plain,
        );
        let links: Vec<Option<&str>> = shown.iter().map(|row| row.href.as_deref()).collect();
        assert_eq!(links, [None, Some("?&f=country%3ADE&f=country%3AFR"), None]);
        assert_eq!(shown[1].label, "🇫🇷 France");
        assert_eq!(shown[2].label, "Other");
    }

    #[test]
    fn a_chip_removes_or_inverts_its_filter() {
        let filters = Filters::parse(&["page:/a", "country:DE"]).unwrap();
        let chips = chips(&filters, &Plain);
        assert_eq!(
            (
                chips[0].dimension,
                chips[0].relation,
                chips[0].value.as_str()
            ),
            ("Page", "is", "/a")
        );
        assert_eq!(chips[0].remove_href, "?&f=country%3ADE");
        assert_eq!(chips[0].invert_href, "?&f=%21page%3A%2Fa&f=country%3ADE");
    }
}
