//! What an account is made of: an email address that names one person, a
//! password that meets the rules, and the account as the pages show it.

use std::fmt;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

/// A password shorter than this is refused (NIST SP 800-63B asks for at
/// least 8; a dashboard of someone's visitors deserves a little more).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longer ones are refused too: Argon2 reads every byte.
pub const MAX_PASSWORD_CHARS: usize = 128;
const MAX_EMAIL_LEN: usize = 254;

/// An account's address as stored: trimmed, with the domain in lower case.
/// Two accounts cannot share one address whatever its case (the unique
/// index is on `lower(email)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmail {
    #[error("Enter an email address.")]
    Empty,
    #[error("This is not an email address: write it as name@example.org.")]
    Malformed,
}

impl Email {
    pub fn parse(text: &str) -> Result<Self, InvalidEmail> {
        let text = text.trim();
        if text.is_empty() {
            return Err(InvalidEmail::Empty);
        }
        // A display name ("Ann <ann@example.org>") or a bare local part is
        // not an address to sign in with.
        let parsed = email_address::EmailAddress::parse_with_options(
            text,
            email_address::Options::default()
                .without_display_text()
                .with_required_tld(),
        )
        .map_err(|_| InvalidEmail::Malformed)?;
        if text.len() > MAX_EMAIL_LEN {
            return Err(InvalidEmail::Malformed);
        }
        Ok(Self(format!(
            "{}@{}",
            parsed.local_part(),
            parsed.domain().to_lowercase()
        )))
    }

    /// An address as stored, read back.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password someone typed: never printed, wiped when dropped.
pub struct Password(SecretString);

impl Password {
    pub fn new(text: String) -> Self {
        Self(SecretString::from(text))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A password that meets the rules, to be hashed and stored.
#[derive(Debug)]
pub struct NewPassword(Password);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPassword {
    #[error("Use at least {MIN_PASSWORD_CHARS} characters.")]
    TooShort,
    #[error("Use at most {MAX_PASSWORD_CHARS} characters.")]
    TooLong,
    #[error("The two passwords differ.")]
    Mismatch,
}

impl NewPassword {
    /// The password and its repetition, as a form asks for them.
    pub fn parse(password: String, repeated: &str) -> Result<Self, InvalidPassword> {
        let chars = password.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(InvalidPassword::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(InvalidPassword::TooLong);
        }
        if password != repeated {
            return Err(InvalidPassword::Mismatch);
        }
        Ok(Self(Password::new(password)))
    }

    pub fn password(&self) -> &Password {
        &self.0
    }
}

/// An account's id in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(transparent)]
pub struct UserId(pub i64);

/// A signed-in person's account.
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    /// Manages the instance's accounts.
    pub is_admin: bool,
}

/// An account as a query reads it.
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub is_admin: bool,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            email: Email::from_stored(row.email),
            is_admin: row.is_admin,
        }
    }
}

/// One of an account's sessions, as its account page lists them.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// "Firefox on Linux", read from the User-Agent at sign-in.
    pub client: String,
    /// The session of the request that lists them.
    pub current: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_their_domain_lower_cased() {
        assert_eq!(
            Email::parse("  Ann.Lee@Example.ORG ").unwrap().as_str(),
            "Ann.Lee@example.org"
        );
        assert_eq!(Email::parse(" "), Err(InvalidEmail::Empty));
        for bad in [
            "ann",
            "ann@",
            "@example.org",
            "ann@example",
            "Ann <ann@example.org>",
            "ann @example.org",
            "<script>@example.org",
        ] {
            assert_eq!(Email::parse(bad), Err(InvalidEmail::Malformed), "{bad}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(InvalidEmail::Malformed));
    }

    #[test]
    fn new_passwords_follow_the_rules() {
        let ok = "correct horse".to_owned();
        assert!(NewPassword::parse(ok.clone(), &ok).is_ok());
        assert_eq!(
            NewPassword::parse("short".into(), "short").unwrap_err(),
            InvalidPassword::TooShort
        );
        let long = "x".repeat(MAX_PASSWORD_CHARS + 1);
        assert_eq!(
            NewPassword::parse(long.clone(), &long).unwrap_err(),
            InvalidPassword::TooLong
        );
        assert_eq!(
            NewPassword::parse(ok, "correct horsE").unwrap_err(),
            InvalidPassword::Mismatch
        );
        // Counted in characters, not bytes.
        let accents = "é".repeat(MIN_PASSWORD_CHARS);
        assert!(NewPassword::parse(accents.clone(), &accents).is_ok());
    }
}
