//! The accounts' cookies: `HttpOnly`, `Path=/`, and where the instance is
//! reached over HTTPS (`PUBLIC_URL`), `Secure` with the `__Host-` prefix, so
//! that no other host, not even a sibling subdomain, can set them.

use rocket::http::{Cookie, CookieJar, SameSite};

/// How this instance's cookies are made, from `PUBLIC_URL`.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
}

/// A cookie's role: its name and how far it travels.
#[derive(Debug, Clone, Copy)]
pub enum CookieKind {
    /// The session: sent on top-level navigations from other sites too
    /// (`Lax`), so that a link to a private dashboard opens signed in.
    Session,
    /// The forms' anti-forgery token: never sent from another site.
    FormToken,
}

impl CookiePolicy {
    pub fn new(public_url: &str) -> Self {
        Self {
            secure: public_url.starts_with("https://"),
        }
    }

    pub fn name(self, kind: CookieKind) -> &'static str {
        match (kind, self.secure) {
            (CookieKind::Session, true) => "__Host-visitors_session",
            (CookieKind::Session, false) => "visitors_session",
            (CookieKind::FormToken, true) => "__Host-visitors_form",
            (CookieKind::FormToken, false) => "visitors_form",
        }
    }

    /// The cookie's value in this request, if it sent one.
    pub fn read(self, jar: &CookieJar<'_>, kind: CookieKind) -> Option<String> {
        jar.get(self.name(kind))
            .map(|cookie| cookie.value().to_owned())
    }

    /// Sets the cookie for the browser's session (no expiry: the server's
    /// row says how long a session lasts).
    pub fn set(self, jar: &CookieJar<'_>, kind: CookieKind, value: String) {
        let same_site = match kind {
            CookieKind::Session => SameSite::Lax,
            CookieKind::FormToken => SameSite::Strict,
        };
        jar.add(
            Cookie::build((self.name(kind), value))
                .path("/")
                .http_only(true)
                .secure(self.secure)
                .same_site(same_site),
        );
    }

    pub fn remove(self, jar: &CookieJar<'_>, kind: CookieKind) {
        jar.remove(Cookie::build(self.name(kind)).path("/"));
    }
}
