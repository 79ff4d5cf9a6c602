//! What the pages with forms share: their request guard (the database,
//! the form token, the throttle, the cookies), the messages of a refused
//! form, and answering with a page or a redirect.

use rocket::{
    http::{CookieJar, Status},
    request::{FromRequest, Outcome},
    response::Redirect,
    Either, Request,
};

use super::{
    cookies::CookiePolicy,
    form_token::FormToken,
    model::{Email, NewPassword, UserId},
    password::{HashError, PasswordHasher},
    session::{NoSession, SessionToken, SignedIn},
    store,
    throttle::ClientThrottle,
};
use crate::{
    counting::{user_agent::UserAgentClassifier, visit::ClientAddressRule},
    infra::{
        database::{within_deadline, Db},
        error::AppError,
        mail::Mailer,
        page::{Layout, Page, Private},
    },
};

/// A page or where to go instead.
pub type Answer<T> = Result<Private<Either<Page<T>, Redirect>>, AppError>;

pub fn show<T>(page: Page<T>) -> Answer<T> {
    Ok(Private::new(Either::Left(page)))
}

pub fn go<T>(to: String) -> Answer<T> {
    Ok(Private::new(Either::Right(Redirect::to(to))))
}

/// What every page with a form needs from its request.
pub struct FormRequest<'r> {
    pub db: &'r Db,
    pub hasher: &'r PasswordHasher,
    pub throttle: &'r ClientThrottle,
    pub policy: CookiePolicy,
    pub cookies: &'r CookieJar<'r>,
    pub token: FormToken,
    pub layout: &'r Layout,
    pub mailer: &'r Mailer,
    pub client: Option<std::net::IpAddr>,
    /// "Firefox on Linux", for the account's list of sessions.
    pub client_label: String,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for FormRequest<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let db =
            rocket::outcome::try_outcome!(request.guard::<&Db>().await.map_error(|(s, _)| (s, ())));
        let token = rocket::outcome::try_outcome!(request.guard::<FormToken>().await);
        let rocket = request.rocket();
        let (Some(hasher), Some(throttle), Some(policy), Some(layout), Some(mailer)) = (
            rocket.state::<PasswordHasher>(),
            rocket.state::<ClientThrottle>(),
            rocket.state::<CookiePolicy>(),
            rocket.state::<Layout>(),
            rocket.state::<Mailer>(),
        ) else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        let client = rocket
            .state::<ClientAddressRule>()
            .and_then(|rule| rule.client_address(request));
        let client_label = match (
            rocket.state::<UserAgentClassifier>(),
            request.headers().get_one("User-Agent"),
        ) {
            (Some(classifier), Some(user_agent)) => {
                let info = classifier.classify(user_agent);
                format!("{} on {}", info.browser, info.os)
            }
            _ => "an unknown browser".to_owned(),
        };
        Outcome::Success(Self {
            db,
            hasher,
            throttle,
            policy: *policy,
            cookies: request.cookies(),
            token,
            layout,
            mailer,
            client,
            client_label,
        })
    }
}

impl FormRequest<'_> {
    /// Starts a session for `user` in this browser.
    pub async fn start_session(&self, user: UserId) -> Result<(), AppError> {
        let token = SessionToken::generate();
        within_deadline(store::start_session(
            self.db,
            &token.digest(),
            user,
            &self.client_label,
        ))
        .await?;
        token.set(self.policy, self.cookies);
        Ok(())
    }
}

/// A form's messages: one per field that was refused, and one for the form.
#[derive(Default)]
pub struct FormErrors {
    fields: Vec<(&'static str, String)>,
    pub form: Option<String>,
}

impl FormErrors {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, message)| message.as_str())
    }

    pub fn field(&mut self, name: &'static str, message: impl ToString) {
        self.fields.push((name, message.to_string()));
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.form.is_none()
    }

    pub fn whole(message: impl Into<String>) -> Self {
        Self {
            form: Some(message.into()),
            ..Self::default()
        }
    }
}

/// The signed-in person; without a session, the sign-in page, which comes
/// back to `back`.
pub fn signed_in_or_login(
    signed_in: Result<SignedIn, NoSession>,
    back: &str,
) -> Result<SignedIn, AppError> {
    match signed_in {
        Ok(signed_in) => Ok(signed_in),
        Err(NoSession::SignedOut) => Err(AppError::SignInFirst(format!(
            "/login?next={}",
            url::form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
        ))),
        Err(NoSession::Unavailable(error)) => Err(error),
    }
}

/// A hashing failure as the person sees it: a 503 that says why.
pub fn hash_failure(error: HashError) -> AppError {
    match error {
        HashError::Busy => AppError::Unavailable("too many sign-ins are being checked at once"),
        HashError::Failed(reason) => {
            rocket::error!("password hashing failed: {reason}");
            AppError::Unavailable("passwords cannot be checked right now")
        }
    }
}

/// A new account's address and password, as a form gives them: each one
/// refused gets its message in `errors`.
pub fn new_account(
    email: &str,
    password: String,
    repeated: &str,
    errors: &mut FormErrors,
) -> Option<(Email, NewPassword)> {
    let email = Email::parse(email)
        .map_err(|e| errors.field("email", e))
        .ok();
    let password = NewPassword::parse(password, repeated)
        .map_err(|e| errors.field("password", e))
        .ok();
    email.zip(password)
}

/// A form sent by someone signed in: its token checked first, then the
/// session; without one, the sign-in page that comes back to `back`.
pub fn signed_in_form(
    request: &FormRequest<'_>,
    csrf: &str,
    signed_in: Result<SignedIn, NoSession>,
    back: &str,
) -> Result<SignedIn, AppError> {
    request.token.check(csrf)?;
    signed_in_or_login(signed_in, back)
}
