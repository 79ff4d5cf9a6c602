//! The country of a visitor's address: looked up in a MaxMind-format
//! country database (`GEOIP_DB`), or read from a CDN's header where the
//! deployment says a CDN sets it (`COUNTRY_HEADER`). Only the two-letter
//! code is kept; the address is dropped with the request, as always.

use std::{net::IpAddr, path::Path};

use chrono::DateTime;
use rocket::Request;
use serde::Deserialize;

/// An ISO 3166-1 alpha-2 code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Two ASCII letters, in either case; not `XX` or `ZZ`, which CDNs and
    /// databases use for "unknown".
    pub fn parse(text: &str) -> Option<Self> {
        let [a, b] = <[u8; 2]>::try_from(text.trim().as_bytes()).ok()?;
        let code = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
        (code.iter().all(u8::is_ascii_uppercase) && !matches!(&code, b"XX" | b"ZZ"))
            .then_some(Self(code))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("two ASCII letters")
    }
}

/// Why the country database could not be used.
#[derive(Debug, thiserror::Error)]
#[error("GEOIP_DB {path}: {problem}")]
pub struct CountryDatabaseError {
    path: String,
    problem: String,
}

/// A record of the country databases we know: `country_code` (the
/// ip-location-db files), or `country.iso_code` (GeoLite2, DB-IP Lite).
#[derive(Deserialize)]
struct CountryRecord<'a> {
    #[serde(borrow)]
    country_code: Option<&'a str>,
    #[serde(borrow)]
    country: Option<IsoCountry<'a>>,
}

#[derive(Deserialize)]
struct IsoCountry<'a> {
    iso_code: Option<&'a str>,
}

/// An opened country database, and what `/privacy` says of it.
pub struct CountryDatabase {
    reader: maxminddb::Reader<Vec<u8>>,
    /// The attribution its licence asks for: the text of the file beside
    /// it, `GEOIP_DB.LICENSE`, when there is one (the image's is the NRO's).
    pub licence: Option<String>,
    /// Its file, type and build date, e.g. "geo-whois-asn-country.mmdb
    /// (country ipvAll, built 2026-06-17)".
    pub description: String,
}

impl CountryDatabase {
    pub fn open(path: &Path) -> Result<Self, CountryDatabaseError> {
        let failed = |problem: String| CountryDatabaseError {
            path: path.display().to_string(),
            problem,
        };
        let reader = maxminddb::Reader::open_readfile(path).map_err(|e| failed(e.to_string()))?;
        let metadata = reader.metadata();
        let built = i64::try_from(metadata.build_epoch)
            .ok()
            .and_then(|epoch| DateTime::from_timestamp(epoch, 0))
            .map_or_else(String::new, |at| {
                format!(", built {}", at.format("%Y-%m-%d"))
            });
        let file = path.file_name().map_or_else(
            || path.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        let description = format!("{file} ({}{built})", metadata.database_type);
        let mut licence_path = path.as_os_str().to_owned();
        licence_path.push(".LICENSE");
        let licence = std::fs::read_to_string(licence_path)
            .ok()
            .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|text| !text.is_empty());
        Ok(Self {
            reader,
            licence,
            description,
        })
    }

    fn country(&self, address: IpAddr) -> Option<CountryCode> {
        let found = self.reader.lookup(address).ok()?;
        let record: CountryRecord<'_> = found.decode().ok()??;
        record
            .country_code
            .or(record.country.and_then(|country| country.iso_code))
            .and_then(CountryCode::parse)
    }
}

/// Where countries come from on this replica.
pub struct CountryLookup {
    database: Option<CountryDatabase>,
    /// A header the deployment's CDN sets (and a client cannot), read
    /// before the database.
    header: Option<&'static str>,
}

impl CountryLookup {
    pub fn new(database: Option<CountryDatabase>, header: Option<&'static str>) -> Self {
        Self { database, header }
    }

    /// The request's country: the CDN's header when trusted, else the
    /// database's answer for the client's address; `None` when neither
    /// knows.
    pub fn country(&self, request: &Request<'_>, address: Option<IpAddr>) -> Option<CountryCode> {
        self.header
            .and_then(|header| request.headers().get_one(header))
            .and_then(CountryCode::parse)
            .or_else(|| self.database.as_ref()?.country(address?))
    }

    /// The database's licence, to be shown where its data is.
    pub fn licence(&self) -> Option<&str> {
        self.database.as_ref()?.licence.as_deref()
    }

    /// Whether countries are known at all, and from what.
    pub fn source(&self) -> Option<String> {
        match (&self.database, self.header) {
            (Some(database), Some(header)) => Some(format!(
                "the header {header} of the deployment's CDN, else {}",
                database.description
            )),
            (Some(database), None) => Some(database.description.clone()),
            (None, Some(header)) => Some(format!("the header {header} of the deployment's CDN")),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CountryCode;

    #[test]
    fn only_two_letters_make_a_country() {
        assert_eq!(CountryCode::parse("de").unwrap().as_str(), "DE");
        assert_eq!(CountryCode::parse(" US ").unwrap().as_str(), "US");
        for refused in ["", "D", "DEU", "T1", "XX", "zz", "é"] {
            assert_eq!(CountryCode::parse(refused), None, "{refused:?}");
        }
    }
}
