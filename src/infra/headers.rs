//! Headers on every response: which replica answered, and a strict policy
//! for browsers. Rocket's `Shield` sets the standard security headers (no
//! sniffing, referrers kept to origins, no framing); Shield has no
//! Content-Security-Policy, so that one is ours: no script at all.

use rocket::{
    fairing::{AdHoc, Fairing, Info, Kind},
    http::Header,
    shield::{Frame, NoSniff, Referrer, Shield},
    Request, Response,
};

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Shield, the Content-Security-Policy and `X-Served-By`.
pub fn stage(instance_name: &str) -> AdHoc {
    let served_by = ServedBy(instance_name.to_owned());
    AdHoc::on_ignite("Response headers", |rocket| async {
        // Shield leaves a header that a route set itself alone, so a page
        // can ask for a stricter referrer policy.
        let shield = Shield::new()
            .enable(NoSniff::Enable)
            .enable(Referrer::StrictOriginWhenCrossOrigin)
            .enable(Frame::Deny);
        rocket.attach(shield).attach(served_by)
    })
}

struct ServedBy(String);

#[rocket::async_trait]
impl Fairing for ServedBy {
    fn info(&self) -> Info {
        Info {
            name: "X-Served-By and Content-Security-Policy",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, _: &'r Request<'_>, response: &mut Response<'r>) {
        response.set_header(Header::new("X-Served-By", self.0.clone()));
        response.set_header(Header::new(
            "Content-Security-Policy",
            CONTENT_SECURITY_POLICY,
        ));
    }
}
