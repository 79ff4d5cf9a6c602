//! `/account/reports`: which of their sites' weekly and monthly reports a
//! person gets by mail.

use askama::Template;
use rocket::{
    form::{Form, FromForm},
    get,
    http::Status,
    post, routes, Route, State,
};

use super::{
    period::Cadence,
    store::{self, ReportChoice},
};
use crate::{
    accounts::{
        forms::{go, show, signed_in_form, signed_in_or_login, Answer, FormErrors, FormRequest},
        session::{NoSession, SignedIn},
    },
    infra::{
        database::within_deadline,
        mail::Mailer,
        page::{Layout, Page},
    },
};

pub fn routes() -> Vec<Route> {
    routes![report_choices, choose_reports]
}

const PAGE: &str = "/account/reports";

#[derive(Template)]
#[template(path = "reports/choices.html")]
pub struct ChoicesTemplate<'a> {
    pub token: String,
    pub sites: Vec<ReportChoice>,
    /// Without an SMTP server there is nothing to choose.
    pub mail_on: bool,
    pub errors: FormErrors,
    pub notice: Option<&'static str>,
    pub layout: Option<&'a Layout>,
}

async fn choices_page<'r>(
    request: &FormRequest<'r>,
    signed_in: SignedIn,
    mailer: &Mailer,
    status: Status,
    errors: FormErrors,
    notice: Option<&'static str>,
) -> Answer<ChoicesTemplate<'r>> {
    let sites = within_deadline(store::choices(request.db, signed_in.user.id)).await?;
    show(Page::with_status(
        status,
        ChoicesTemplate {
            token: request.token.as_str().to_owned(),
            sites,
            mail_on: mailer.is_on(),
            errors,
            notice,
            layout: Some(request.layout),
        },
    ))
}

#[get("/account/reports?<done>")]
async fn report_choices<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    mailer: &State<Mailer>,
    done: Option<&str>,
) -> Answer<ChoicesTemplate<'r>> {
    let signed_in = signed_in_or_login(signed_in, PAGE)?;
    let notice = (done == Some("saved")).then_some(
        "Saved: a report comes within minutes for the last whole week or month, then after \
         each one ends.",
    );
    choices_page(
        &request,
        signed_in,
        mailer,
        Status::Ok,
        FormErrors::default(),
        notice,
    )
    .await
}

/// The ticked boxes: each a site's domain, under the cadence's name.
#[derive(FromForm)]
pub struct ChoicesForm {
    #[field(default = String::new())]
    csrf: String,
    #[field(default = Vec::new())]
    weekly: Vec<String>,
    #[field(default = Vec::new())]
    monthly: Vec<String>,
}

#[post("/account/reports", data = "<form>")]
async fn choose_reports<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    mailer: &State<Mailer>,
    form: Form<ChoicesForm>,
) -> Answer<ChoicesTemplate<'r>> {
    let signed_in = signed_in_form(&request, &form.csrf, signed_in, PAGE)?;
    let refuse = |message: String| FormErrors::whole(message);
    if !mailer.is_on() {
        let errors =
            refuse("This instance sends no mail: its operator has not set SMTP_URL.".into());
        return choices_page(&request, signed_in, mailer, Status::Conflict, errors, None).await;
    }
    let chosen: Vec<(String, Cadence)> = form
        .weekly
        .iter()
        .map(|domain| (domain.clone(), Cadence::Weekly))
        .chain(
            form.monthly
                .iter()
                .map(|domain| (domain.clone(), Cadence::Monthly)),
        )
        .collect();
    let unknown = within_deadline(store::choose(request.db, signed_in.user.id, &chosen)).await?;
    if !unknown.is_empty() {
        let errors = refuse(format!(
            "You are not a member of {}: nothing was changed.",
            unknown.join(", ")
        ));
        let status = Status::UnprocessableEntity;
        return choices_page(&request, signed_in, mailer, status, errors, None).await;
    }
    go(format!("{PAGE}?done=saved"))
}
