//! The accounts' pages: first-run setup, sign-in, sign-out and the account
//! page (its sessions, "sign out everywhere", the password). Server-rendered
//! forms that need no JavaScript; every POST checks the form's token first
//! and changes nothing on any refusal.

use askama::Template;
use rocket::{
    form::{Form, FromForm},
    get,
    http::Status,
    post,
    response::Redirect,
    routes, Either, Route,
};
use sha2::{Digest, Sha256};

use super::{
    api_keys::{self, key_name, ApiKey, ListedKey},
    cookies::CookieKind,
    forms::{
        go, hash_failure, new_account, show, signed_in_form, signed_in_or_login, Answer,
        FormErrors, FormRequest,
    },
    model::{Email, NewPassword, Password, SessionSummary, User},
    session::{NoSession, SessionToken, SignedIn},
    setup::SetupCode,
    store,
    throttle::ATTEMPTS_PER_ADDRESS,
};
use crate::infra::{
    database::within_deadline,
    error::AppError,
    page::{Layout, Page, Private},
};

pub fn routes() -> Vec<Route> {
    routes![
        setup_form,
        set_up,
        sign_in_form,
        sign_in,
        sign_out,
        account,
        change_password,
        sign_out_everywhere,
        new_api_key,
        revoke_api_key
    ]
}

fn email_digest(email: &Email) -> [u8; 32] {
    Sha256::digest(email.as_str().to_lowercase().as_bytes()).into()
}

/// Where to go after signing in: a path of this instance, nothing else.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains(['\\', '\r', '\n']) =>
        {
            path.to_owned()
        }
        _ => "/account".to_owned(),
    }
}

const TOO_MANY: &str = "Too many attempts: try again in 15 minutes.";

// --- First-run setup -------------------------------------------------------

#[derive(Template)]
#[template(path = "accounts/setup.html")]
pub struct SetupTemplate<'a> {
    pub token: String,
    pub email: String,
    pub errors: FormErrors,
    /// Nothing to say before the form is sent (the messages partial asks).
    pub notice: Option<&'static str>,
    pub layout: Option<&'a Layout>,
}

#[derive(FromForm)]
pub struct SetupForm {
    #[field(default = String::new())]
    csrf: String,
    #[field(default = String::new())]
    code: String,
    #[field(default = String::new())]
    email: String,
    #[field(default = String::new())]
    password: String,
    #[field(default = String::new())]
    password_again: String,
}

#[get("/setup")]
async fn setup_form<'r>(request: FormRequest<'r>) -> Answer<SetupTemplate<'r>> {
    if within_deadline(store::has_users(request.db)).await? {
        return go("/login".into());
    }
    show(Page::ok(SetupTemplate {
        token: request.token.as_str().to_owned(),
        email: String::new(),
        errors: FormErrors::default(),
        notice: None,
        layout: Some(request.layout),
    }))
}

#[post("/setup", data = "<form>")]
async fn set_up<'r>(request: FormRequest<'r>, form: Form<SetupForm>) -> Answer<SetupTemplate<'r>> {
    request.token.check(&form.csrf)?;
    if within_deadline(store::has_users(request.db)).await? {
        return Err(AppError::Conflict(
            "This instance is set up already: sign in.".into(),
        ));
    }
    let form = form.into_inner();
    let refuse = |status, errors, email: String| {
        show(Page::with_status(
            status,
            SetupTemplate {
                token: request.token.as_str().to_owned(),
                email,
                errors,
                notice: None,
                layout: Some(request.layout),
            },
        ))
    };
    if !request.throttle.allow(request.client) {
        return refuse(
            Status::TooManyRequests,
            FormErrors::whole(TOO_MANY),
            form.email,
        );
    }
    let mut errors = FormErrors::default();
    if form.code.trim().is_empty() {
        errors.field("code", "Enter the setup code from the server's log.");
    }
    let Some((email, password)) = new_account(
        &form.email,
        form.password,
        &form.password_again,
        &mut errors,
    ) else {
        return refuse(Status::UnprocessableEntity, errors, form.email);
    };
    if !errors.is_empty() {
        return refuse(Status::UnprocessableEntity, errors, form.email);
    }
    let digest = SetupCode::digest_of(&form.code);
    if !within_deadline(store::setup_code_valid(request.db, &digest)).await? {
        errors.field(
            "code",
            "This is not a setup code this instance printed in the last 24 hours: copy it from \
             the log of a running replica (a restart prints a new one).",
        );
        return refuse(Status::Forbidden, errors, form.email);
    }
    let hash = request
        .hasher
        .hash(password.password())
        .await
        .map_err(hash_failure)?;
    // The first account: a refusal means another setup won the race.
    let user = within_deadline(store::add_user(request.db, &email, &hash, true, true))
        .await?
        .map_err(|_| AppError::Conflict("This instance is set up already: sign in.".into()))?;
    request.start_session(user).await?;
    go("/account".into())
}

// --- Sign-in and sign-out ----------------------------------------------------

#[derive(Template)]
#[template(path = "accounts/login.html")]
pub struct LoginTemplate<'a> {
    pub token: String,
    pub email: String,
    /// Where the form sends the person once signed in.
    pub next: String,
    pub errors: FormErrors,
    /// Set after a sign-out or a password change elsewhere.
    pub notice: Option<&'static str>,
    pub layout: Option<&'a Layout>,
}

#[derive(FromForm)]
pub struct LoginForm {
    #[field(default = String::new())]
    csrf: String,
    #[field(default = String::new())]
    email: String,
    #[field(default = String::new())]
    password: String,
    next: Option<String>,
}

#[get("/login?<next>&<done>")]
async fn sign_in_form<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    next: Option<&str>,
    done: Option<&str>,
) -> Answer<LoginTemplate<'r>> {
    match signed_in {
        Ok(_) => return go(local_path(next)),
        Err(NoSession::Unavailable(error)) => return Err(error),
        Err(NoSession::SignedOut) => {}
    }
    if !within_deadline(store::has_users(request.db)).await? {
        return go("/setup".into());
    }
    show(Page::ok(LoginTemplate {
        token: request.token.as_str().to_owned(),
        email: String::new(),
        next: local_path(next),
        errors: FormErrors::default(),
        notice: match done {
            Some("sign-out") => Some("You are signed out."),
            Some("everywhere") => Some("Every session of your account is signed out."),
            _ => None,
        },
        layout: Some(request.layout),
    }))
}

#[post("/login", data = "<form>")]
async fn sign_in<'r>(request: FormRequest<'r>, form: Form<LoginForm>) -> Answer<LoginTemplate<'r>> {
    request.token.check(&form.csrf)?;
    let form = form.into_inner();
    let next = local_path(form.next.as_deref());
    let refuse = |status, errors, email: String| {
        show(Page::with_status(
            status,
            LoginTemplate {
                token: request.token.as_str().to_owned(),
                email,
                next: next.clone(),
                errors,
                notice: None,
                layout: Some(request.layout),
            },
        ))
    };
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(error) => {
            let mut errors = FormErrors::default();
            errors.field("email", error);
            return refuse(Status::UnprocessableEntity, errors, form.email);
        }
    };
    if !request.throttle.allow(request.client) {
        return refuse(
            Status::TooManyRequests,
            FormErrors::whole(TOO_MANY),
            form.email,
        );
    }
    // Counted for any address, known or not, before the password is checked.
    let digest = email_digest(&email);
    if within_deadline(store::count_attempt(request.db, &digest)).await? > ATTEMPTS_PER_ADDRESS {
        return refuse(
            Status::TooManyRequests,
            FormErrors::whole(TOO_MANY),
            form.email,
        );
    }
    // An unknown address costs a hash too, and gets the same answer.
    let credentials = within_deadline(store::credentials(request.db, &email)).await?;
    let password = Password::new(form.password);
    let matched = request
        .hasher
        .verify(
            &password,
            credentials.as_ref().map(|c| c.password_hash.as_str()),
        )
        .await
        .map_err(hash_failure)?;
    let Some(credentials) = credentials.filter(|_| matched) else {
        return refuse(
            Status::Unauthorized,
            FormErrors::whole("Wrong email or password."),
            form.email,
        );
    };
    within_deadline(store::clear_attempts(request.db, &digest)).await?;
    request.start_session(credentials.id).await?;
    go(next)
}

#[derive(FromForm)]
pub struct TokenForm {
    #[field(default = String::new())]
    csrf: String,
}

#[post("/logout", data = "<form>")]
async fn sign_out(
    request: FormRequest<'_>,
    signed_in: Result<SignedIn, NoSession>,
    form: Form<TokenForm>,
) -> Result<Private<Redirect>, AppError> {
    request.token.check(&form.csrf)?;
    match signed_in {
        Ok(signed_in) => {
            within_deadline(store::end_session(request.db, &signed_in.session)).await?
        }
        Err(NoSession::Unavailable(error)) => return Err(error),
        Err(NoSession::SignedOut) => {}
    }
    request.policy.remove(request.cookies, CookieKind::Session);
    Ok(Private::new(Redirect::to("/login?done=sign-out")))
}

// --- The account page ----------------------------------------------------------

#[derive(Template)]
#[template(path = "accounts/account.html")]
pub struct AccountTemplate<'a> {
    pub token: String,
    pub user: User,
    pub sessions: Vec<SessionSummary>,
    pub keys: Vec<ListedKey>,
    /// A key just made: shown this once, never stored.
    pub new_key: Option<String>,
    pub errors: FormErrors,
    pub notice: Option<&'static str>,
    pub layout: Option<&'a Layout>,
}

async fn account_page<'r>(
    request: &FormRequest<'r>,
    signed_in: SignedIn,
    status: Status,
    errors: FormErrors,
    notice: Option<&'static str>,
) -> Answer<AccountTemplate<'r>> {
    let sessions = within_deadline(store::sessions(
        request.db,
        signed_in.user.id,
        &signed_in.session,
    ))
    .await?;
    let keys = within_deadline(api_keys::keys_of(request.db, signed_in.user.id)).await?;
    show(Page::with_status(
        status,
        AccountTemplate {
            token: request.token.as_str().to_owned(),
            user: signed_in.user,
            sessions,
            keys,
            new_key: None,
            errors,
            notice,
            layout: Some(request.layout),
        },
    ))
}

#[get("/account?<done>")]
async fn account<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    done: Option<&str>,
) -> Answer<AccountTemplate<'r>> {
    let signed_in = signed_in_or_login(signed_in, "/account")?;
    let notice = match done {
        Some("key-revoked") => Some("The key is revoked: it opens nothing any more."),
        Some("password") => {
            Some("Your password is changed, and every other session is signed out.")
        }
        _ => None,
    };
    account_page(
        &request,
        signed_in,
        Status::Ok,
        FormErrors::default(),
        notice,
    )
    .await
}

#[derive(FromForm)]
pub struct PasswordForm {
    #[field(default = String::new())]
    csrf: String,
    #[field(default = String::new())]
    current: String,
    #[field(default = String::new())]
    password: String,
    #[field(default = String::new())]
    password_again: String,
}

#[post("/account/password", data = "<form>")]
async fn change_password<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    form: Form<PasswordForm>,
) -> Answer<AccountTemplate<'r>> {
    let signed_in = signed_in_form(&request, &form.csrf, signed_in, "/account")?;
    let form = form.into_inner();
    let mut errors = FormErrors::default();
    let new = NewPassword::parse(form.password, &form.password_again)
        .map_err(|e| errors.field("password", e))
        .ok();
    if !request.throttle.allow(request.client) {
        let errors = FormErrors::whole(TOO_MANY);
        return account_page(&request, signed_in, Status::TooManyRequests, errors, None).await;
    }
    let credentials =
        within_deadline(store::credentials(request.db, &signed_in.user.email)).await?;
    let current_ok = request
        .hasher
        .verify(
            &Password::new(form.current),
            credentials.as_ref().map(|c| c.password_hash.as_str()),
        )
        .await
        .map_err(hash_failure)?;
    if !current_ok {
        errors.field("current", "This is not your current password.");
    }
    let Some(new) = new.filter(|_| errors.is_empty()) else {
        return account_page(
            &request,
            signed_in,
            Status::UnprocessableEntity,
            errors,
            None,
        )
        .await;
    };
    let hash = request
        .hasher
        .hash(new.password())
        .await
        .map_err(hash_failure)?;
    let token = SessionToken::generate();
    within_deadline(store::set_password(
        request.db,
        signed_in.user.id,
        &hash,
        Some((&token.digest(), &request.client_label)),
    ))
    .await?;
    token.set(request.policy, request.cookies);
    go("/account?done=password".into())
}

#[post("/account/sign-out-everywhere", data = "<form>")]
async fn sign_out_everywhere(
    request: FormRequest<'_>,
    signed_in: Result<SignedIn, NoSession>,
    form: Form<TokenForm>,
) -> Result<Private<Redirect>, AppError> {
    let signed_in = signed_in_form(&request, &form.csrf, signed_in, "/account")?;
    within_deadline(store::end_all_sessions(request.db, signed_in.user.id)).await?;
    request.policy.remove(request.cookies, CookieKind::Session);
    Ok(Private::new(Redirect::to("/login?done=everywhere")))
}

#[derive(FromForm)]
pub struct KeyForm {
    #[field(default = String::new())]
    csrf: String,
    #[field(default = String::new())]
    name: String,
}

/// A new API key, shown on the page that answers and never again.
#[post("/account/api-keys", data = "<form>")]
async fn new_api_key<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    form: Form<KeyForm>,
) -> Answer<AccountTemplate<'r>> {
    let signed_in = signed_in_form(&request, &form.csrf, signed_in, "/account")?;
    let name = match key_name(&form.name) {
        Ok(name) => name,
        Err(message) => {
            let mut errors = FormErrors::default();
            errors.field("name", message);
            return account_page(
                &request,
                signed_in,
                Status::UnprocessableEntity,
                errors,
                None,
            )
            .await;
        }
    };
    let key = ApiKey::generate();
    within_deadline(api_keys::create(request.db, signed_in.user.id, &name, &key)).await?;
    let mut answer =
        account_page(&request, signed_in, Status::Ok, FormErrors::default(), None).await?;
    if let Either::Left(page) = &mut answer.body {
        page.template_mut().new_key = Some(key.as_str().to_owned());
    }
    Ok(answer)
}

#[post("/account/api-keys/<id>/revoke", data = "<form>")]
async fn revoke_api_key<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    id: i64,
    form: Form<TokenForm>,
) -> Answer<AccountTemplate<'r>> {
    let signed_in = signed_in_form(&request, &form.csrf, signed_in, "/account")?;
    if !within_deadline(api_keys::revoke(request.db, signed_in.user.id, id)).await? {
        return Err(AppError::NotFound);
    }
    go("/account?done=key-revoked".into())
}
