//! Where a site's visitor came from, from what its page sends: the script
//! sends the page's referrer (`r`) and its UTM parameters; the pixel's
//! image request carries the page's own address in its `Referer` when the
//! page allows it (`referrerpolicy="unsafe-url"`), and with it the UTM
//! parameters of that address.

use rocket::FromForm;

use crate::{
    counting::{
        details::{DetailError, DetailText, HitDetails, ScreenClass, Utm, DIRECT},
        visit::referrer_host,
    },
    sources::known::KnownSources,
};

/// What a hit's query says beyond its page, as sent.
#[derive(Debug, Default, FromForm)]
pub struct DetailParams<'r> {
    /// The page's referrer (`document.referrer`); present and empty: the
    /// page was opened directly.
    pub r: Option<&'r str>,
    /// A custom event's name: the hit is this event, not a page view.
    pub e: Option<&'r str>,
    /// The screen's class: mobile, tablet, laptop or desktop.
    pub w: Option<&'r str>,
    pub utm_source: Option<&'r str>,
    pub utm_medium: Option<&'r str>,
    pub utm_campaign: Option<&'r str>,
    pub utm_term: Option<&'r str>,
    pub utm_content: Option<&'r str>,
    /// `ref` and `source`: a source named by the link, as `utm_source`.
    #[field(name = "ref")]
    pub reference: Option<&'r str>,
    pub source: Option<&'r str>,
}

impl DetailParams<'_> {
    /// Whether the query says nothing beyond the page.
    pub fn is_empty(&self) -> bool {
        [
            self.r,
            self.e,
            self.w,
            self.utm_source,
            self.utm_medium,
            self.utm_campaign,
            self.utm_term,
            self.utm_content,
            self.reference,
            self.source,
        ]
        .iter()
        .all(Option::is_none)
    }

    /// A hit that says nothing beyond its page (a counting badge).
    pub const NONE: DetailParams<'static> = DetailParams {
        r: None,
        e: None,
        w: None,
        utm_source: None,
        utm_medium: None,
        utm_campaign: None,
        utm_term: None,
        utm_content: None,
        reference: None,
        source: None,
    };
}

/// The site whose hit it is, as attribution needs it.
pub trait OwnHosts {
    /// Whether `host` is one of the site's: a referrer there is a move
    /// within the site, not a source.
    fn is_own(&self, host: &str) -> bool;
}

/// The hit's details. A parameter of the query wins over the same one in
/// the page's address; the source is `utm_source`, else `ref` or `source`,
/// else the referrer's known name or host (none for the site's own hosts),
/// else "Direct / none" when the page said it had no referrer. A parameter
/// of the query that holds control characters refuses the whole hit; one of
/// the page's address is left out (the pixel still counts the page).
pub fn details_of(
    params: &DetailParams<'_>,
    page: Option<&url::Url>,
    site: &impl OwnHosts,
    known: &KnownSources,
) -> Result<HitDetails, DetailError> {
    let of_page = |name: &str| {
        page.and_then(|url| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value)
        })
    };
    let field = |name: &'static str, given: Option<&str>| -> Result<_, DetailError> {
        match given {
            Some(value) => DetailText::parse(name, value),
            None => {
                Ok(of_page(name).and_then(|value| DetailText::parse(name, &value).ok().flatten()))
            }
        }
    };
    let utm = Utm {
        source: field("utm_source", params.utm_source)?,
        medium: field("utm_medium", params.utm_medium)?,
        campaign: field("utm_campaign", params.utm_campaign)?,
        term: field("utm_term", params.utm_term)?,
        content: field("utm_content", params.utm_content)?,
    };
    let named = match &utm.source {
        Some(source) => Some(source.clone()),
        None => match field("ref", params.reference)? {
            Some(source) => Some(source),
            None => field("source", params.source)?,
        },
    };
    let source = match (named, params.r.map(str::trim)) {
        (Some(named), _) => Some(named),
        (None, None) => None,
        (None, Some("")) => Some(DetailText::trusted(DIRECT)),
        (None, Some(referrer)) => {
            let host = referrer_host(referrer).ok_or(DetailError::Referrer)?;
            (!site.is_own(&host))
                .then(|| DetailText::trusted(known.name_of(&host).map_or(host.clone(), Into::into)))
        }
    };
    Ok(HitDetails {
        source,
        utm,
        screen: params.w.map_or(Ok(None), ScreenClass::parse)?,
        event: field("e", params.e)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Blog;

    impl OwnHosts for Blog {
        fn is_own(&self, host: &str) -> bool {
            host == "blog.example"
        }
    }

    fn details(params: DetailParams<'_>, page: Option<&str>) -> Result<HitDetails, DetailError> {
        let page = page.map(|p| url::Url::parse(p).unwrap());
        details_of(&params, page.as_ref(), &Blog, &KnownSources::load())
    }

    fn source(params: DetailParams<'_>, page: Option<&str>) -> Option<String> {
        details(params, page)
            .unwrap()
            .source
            .map(|s| s.as_str().to_owned())
    }

    #[test]
    fn the_source_is_the_campaigns_then_the_links_then_the_referrers() {
        let referred = |r| DetailParams {
            r: Some(r),
            ..Default::default()
        };
        assert_eq!(
            source(referred("https://www.google.de/search?q=x"), None).as_deref(),
            Some("Google")
        );
        assert_eq!(
            source(referred("https://t.co/abc"), None).as_deref(),
            Some("X")
        );
        assert_eq!(
            source(referred("android-app://com.google.android.gm/"), None).as_deref(),
            Some("Gmail")
        );
        assert_eq!(
            source(referred("https://friends.example/post/1"), None).as_deref(),
            Some("friends.example")
        );
        assert_eq!(
            source(referred("https://blog.example/earlier"), None),
            None,
            "a move within the site"
        );
        assert_eq!(source(referred(""), None).as_deref(), Some(DIRECT));
        assert_eq!(source(DetailParams::default(), None), None, "the pixel");
        let tagged = DetailParams {
            r: Some("https://www.google.com/"),
            utm_source: Some("newsletter"),
            ..Default::default()
        };
        assert_eq!(source(tagged, None).as_deref(), Some("newsletter"));
        let linked = DetailParams {
            r: Some(""),
            reference: Some("producthunt"),
            ..Default::default()
        };
        assert_eq!(source(linked, None).as_deref(), Some("producthunt"));
    }

    #[test]
    fn the_pixels_page_address_gives_its_campaign() {
        let found = details(
            DetailParams::default(),
            Some("https://blog.example/post?utm_source=mail&utm_medium=email&utm_campaign=launch%202"),
        )
        .unwrap();
        assert_eq!(found.source.as_ref().map(DetailText::as_str), Some("mail"));
        assert_eq!(
            found.utm.medium.as_ref().map(DetailText::as_str),
            Some("email")
        );
        assert_eq!(
            found.utm.campaign.as_ref().map(DetailText::as_str),
            Some("launch 2")
        );
    }

    #[test]
    fn a_bad_detail_refuses_the_hit_but_not_the_pages_address() {
        for params in [
            DetailParams {
                e: Some("Sign\u{0}up"),
                ..Default::default()
            },
            DetailParams {
                w: Some("1920"),
                ..Default::default()
            },
            DetailParams {
                r: Some("not a url"),
                ..Default::default()
            },
        ] {
            assert!(details(params, None).is_err());
        }
        let long = "x".repeat(101);
        let cut = details(
            DetailParams {
                utm_campaign: Some(&long),
                ..Default::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(cut.utm.campaign.unwrap().as_str().len(), 100);
        // The pixel's page, with a campaign value no query would carry.
        let page = details(
            DetailParams::default(),
            Some("https://blog.example/?utm_campaign=a%0Ab&utm_medium=email"),
        )
        .unwrap();
        assert_eq!(page.utm.campaign, None);
        assert_eq!(page.utm.medium.unwrap().as_str(), "email");
    }
}
