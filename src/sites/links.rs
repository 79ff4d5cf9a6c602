//! The addresses people are given for a site: its dashboard, its private
//! link, its pixel and script snippets and its badge, all under
//! `PUBLIC_URL`.

use url::form_urlencoded::byte_serialize;

use crate::{
    sites::{model::Site, signature::PathSigner},
    sources::ScriptUrls,
};

/// Builds links under the instance's public address.
#[derive(Debug, Clone)]
pub struct SiteLinks {
    pub public_url: String,
}

fn query_value(value: &str) -> String {
    byte_serialize(value.as_bytes()).collect()
}

impl SiteLinks {
    fn public_dashboard(&self, site: &Site) -> String {
        format!("{}/sites/{}", self.public_url, site.name())
    }

    /// The dashboard's address with the share token, which opens it while
    /// the site is private.
    pub fn private_link(&self, site: &Site) -> String {
        format!(
            "{}?token={}",
            self.public_dashboard(site),
            site.share_token.to_hex()
        )
    }

    /// The dashboard's address, with the share token for a private site.
    pub fn dashboard(&self, site: &Site) -> String {
        if site.is_public() {
            self.public_dashboard(site)
        } else {
            self.private_link(site)
        }
    }

    /// The pixel's address for `path`, signed when the site wants it.
    pub fn pixel(&self, site: &Site, path: &str, signer: Option<&PathSigner>) -> String {
        let mut url = format!(
            "{}/pixel/{}.gif?p={}",
            self.public_url,
            site.name(),
            query_value(path)
        );
        if let (true, Some(signer)) = (site.signed, signer) {
            url.push_str("&s=");
            url.push_str(&signer.sign(site.id, path));
        }
        url
    }

    /// The one line of HTML a page of the site carries.
    pub fn pixel_snippet(&self, site: &Site, path: &str, signer: Option<&PathSigner>) -> String {
        let url = self.pixel(site, path, signer).replace('&', "&amp;");
        format!(r#"<img src="{url}" alt="" width="1" height="1">"#)
    }

    /// The script's tag for the site's pages (not for a signed site: the
    /// script's hits carry no signature).
    pub fn script_snippet(&self, site: &Site) -> Option<String> {
        (!site.signed).then(|| {
            format!(
                r#"<script defer src="{}{}" data-site="{}"></script>"#,
                self.public_url,
                ScriptUrls::LATEST,
                site.name()
            )
        })
    }

    /// The badge's address (all-time unique visitors).
    pub fn badge(&self, site: &Site) -> String {
        format!("{}/badge/{}.svg", self.public_url, site.name())
    }
}
