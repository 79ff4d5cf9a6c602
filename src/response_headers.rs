//! Headers on every response: which replica answered, and a strict policy
//! for browsers (no inline script, no sniffing, referrers kept to origins).

use rocket::{
    fairing::{Fairing, Info, Kind},
    http::Header,
    Request, Response,
};

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub struct ResponseHeaders {
    instance_name: String,
}

impl ResponseHeaders {
    pub fn new(instance_name: &str) -> Self {
        Self {
            instance_name: instance_name.to_owned(),
        }
    }
}

#[rocket::async_trait]
impl Fairing for ResponseHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Response headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, _: &'r Request<'_>, response: &mut Response<'r>) {
        response.set_header(Header::new("X-Served-By", self.instance_name.clone()));
        response.set_header(Header::new(
            "Content-Security-Policy",
            CONTENT_SECURITY_POLICY,
        ));
        response.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        response.set_header(Header::new(
            "Referrer-Policy",
            "strict-origin-when-cross-origin",
        ));
    }
}
