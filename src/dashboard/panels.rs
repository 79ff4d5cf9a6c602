//! How the dashboards show the breakdowns the numbers hold: a country by
//! its flag and name, each UTM field as a tab of the Campaigns panel.

use crate::stats::model::{BreakdownEntry, Campaigns};

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

/// The countries' breakdown as the panel shows it.
pub fn countries(entries: &[BreakdownEntry]) -> Vec<BreakdownEntry> {
    entries
        .iter()
        .map(|entry| BreakdownEntry {
            name: if entry.name == "Other" {
                entry.name.clone()
            } else {
                country_label(&entry.name)
            },
            ..entry.clone()
        })
        .collect()
}

/// One tab of the Campaigns panel.
pub struct CampaignTab {
    /// The UTM field, as the page's address names it.
    pub field: &'static str,
    pub label: &'static str,
    pub entries: Vec<BreakdownEntry>,
}

pub fn campaign_tabs(campaigns: &Campaigns) -> Vec<CampaignTab> {
    [
        ("utm_source", "Source", &campaigns.utm_source),
        ("utm_medium", "Medium", &campaigns.utm_medium),
        ("utm_campaign", "Campaign", &campaigns.utm_campaign),
        ("utm_term", "Term", &campaigns.utm_term),
        ("utm_content", "Content", &campaigns.utm_content),
    ]
    .into_iter()
    .map(|(field, label, entries)| CampaignTab {
        field,
        label,
        entries: entries.clone(),
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::country_label;

    #[test]
    fn a_country_is_its_flag_and_name() {
        assert_eq!(country_label("DE"), "🇩🇪 Germany");
        assert_eq!(country_label("QQ"), "QQ");
    }
}
