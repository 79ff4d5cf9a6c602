//! Site domains as they are stored and looked up: lower case, ASCII (IDNA),
//! a host name and nothing else. A name that is not one is refused with the
//! reason, never stored.

use std::fmt;

use serde::Serialize;

const MAX_DOMAIN_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// A normalised host name such as `example.com` or `xn--bcher-kva.example`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Domain(String);

/// Why a text is not a domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDomain {
    #[error("a domain has no scheme: write example.com, not https://example.com")]
    HasScheme,
    #[error("a domain has no path, port, query or user: write example.com")]
    HasMore,
    #[error("an address is not a domain: use the site's host name")]
    IsAddress,
    #[error("a domain has at least two labels, like example.com")]
    SingleLabel,
    #[error("{0:?} is not a valid host name")]
    Malformed(String),
}

impl Domain {
    pub fn parse(text: &str) -> Result<Self, InvalidDomain> {
        let text = text.trim();
        if text.contains("://") {
            return Err(InvalidDomain::HasScheme);
        }
        if text.contains(['/', ':', '?', '#', '@', '\\']) {
            return Err(InvalidDomain::HasMore);
        }
        let trimmed = text.strip_suffix('.').unwrap_or(text);
        let ascii = idna::domain_to_ascii_strict(trimmed)
            .map_err(|_| InvalidDomain::Malformed(text.to_owned()))?;
        if ascii.parse::<std::net::Ipv4Addr>().is_ok() {
            return Err(InvalidDomain::IsAddress);
        }
        let labels: Vec<&str> = ascii.split('.').collect();
        let label_ok = |label: &&str| {
            !label.is_empty()
                && label.len() <= MAX_LABEL_LEN
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if ascii.is_empty() || ascii.len() > MAX_DOMAIN_LEN || !labels.iter().all(label_ok) {
            return Err(InvalidDomain::Malformed(text.to_owned()));
        }
        if labels.len() < 2 {
            return Err(InvalidDomain::SingleLabel);
        }
        // A top-level label of digits only would be an address, never a name.
        if labels
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(InvalidDomain::IsAddress);
        }
        Ok(Self(ascii))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised() {
        let ok = |text: &str| Domain::parse(text).map(|d| d.0);
        assert_eq!(ok("Example.COM").as_deref(), Ok("example.com"));
        assert_eq!(ok(" www.example.com. ").as_deref(), Ok("www.example.com"));
        assert_eq!(ok("bücher.example").as_deref(), Ok("xn--bcher-kva.example"));
        assert_eq!(ok("a-b.co.uk").as_deref(), Ok("a-b.co.uk"));
    }

    #[test]
    fn anything_else_is_refused_with_its_reason() {
        let err = |text: &str| Domain::parse(text).unwrap_err();
        assert_eq!(err("https://example.com"), InvalidDomain::HasScheme);
        assert_eq!(err("example.com/about"), InvalidDomain::HasMore);
        assert_eq!(err("example.com:8080"), InvalidDomain::HasMore);
        assert_eq!(err("203.0.113.9"), InvalidDomain::IsAddress);
        assert_eq!(err("localhost"), InvalidDomain::SingleLabel);
        assert!(matches!(err(""), InvalidDomain::Malformed(_)));
        assert!(matches!(err("exa mple.com"), InvalidDomain::Malformed(_)));
        assert!(matches!(err("-bad.example"), InvalidDomain::Malformed(_)));
        assert!(matches!(err("a..b"), InvalidDomain::Malformed(_)));
        assert!(matches!(err("<script>.com"), InvalidDomain::Malformed(_)));
        let long = format!("{}.com", "a".repeat(64));
        assert!(matches!(err(&long), InvalidDomain::Malformed(_)));
    }
}
