//! `/account/users`, the instance's accounts for its admins: the list, a
//! new account (as `visitors users add`), and removing one. To anyone else
//! the page does not exist.

use askama::Template;
use rocket::{
    form::{Form, FromForm},
    get,
    http::Status,
    post, routes, Route,
};

use super::{
    forms::{
        go, hash_failure, new_account, show, signed_in_form, signed_in_or_login, Answer,
        FormErrors, FormRequest,
    },
    model::{Email, User},
    session::{NoSession, SignedIn},
    store::{self, ListedUser},
};
use crate::infra::{
    database::within_deadline,
    error::AppError,
    page::{Layout, Page},
};

pub fn routes() -> Vec<Route> {
    routes![people, add_person, remove_person]
}

const PAGE: &str = "/account/users";

#[derive(Template)]
#[template(path = "accounts/users.html")]
pub struct PeopleTemplate<'a> {
    pub token: String,
    pub users: Vec<ListedUser>,
    pub me: User,
    /// The add form's address and admin box, as sent when it was refused.
    pub email: String,
    pub admin: bool,
    pub errors: FormErrors,
    pub notice: Option<&'static str>,
    pub layout: Option<&'a Layout>,
}

/// The signed-in admin; anyone else gets the 404 of a page that is not there.
fn admin(signed_in: SignedIn) -> Result<User, AppError> {
    match signed_in.user {
        user if user.is_admin => Ok(user),
        _ => Err(AppError::NotFound),
    }
}

async fn people_page<'r>(
    request: &FormRequest<'r>,
    me: User,
    status: Status,
    (email, admin, errors): (String, bool, FormErrors),
    notice: Option<&'static str>,
) -> Answer<PeopleTemplate<'r>> {
    let users = within_deadline(store::list_users(request.db)).await?;
    show(Page::with_status(
        status,
        PeopleTemplate {
            token: request.token.as_str().to_owned(),
            users,
            me,
            email,
            admin,
            errors,
            notice,
            layout: Some(request.layout),
        },
    ))
}

#[get("/account/users?<done>")]
async fn people<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    done: Option<&str>,
) -> Answer<PeopleTemplate<'r>> {
    let me = admin(signed_in_or_login(signed_in, PAGE)?)?;
    let notice = match done {
        Some("added") => Some("The account is added: its owner signs in with that password."),
        Some("removed") => Some("The account is removed, and signed out everywhere."),
        _ => None,
    };
    let blank = (String::new(), false, FormErrors::default());
    people_page(&request, me, Status::Ok, blank, notice).await
}

#[derive(FromForm)]
pub struct PersonForm {
    #[field(default = String::new())]
    csrf: String,
    #[field(default = String::new())]
    email: String,
    #[field(default = String::new())]
    password: String,
    #[field(default = String::new())]
    password_again: String,
    #[field(default = false)]
    admin: bool,
}

#[post("/account/users", data = "<form>")]
async fn add_person<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    form: Form<PersonForm>,
) -> Answer<PeopleTemplate<'r>> {
    let me = admin(signed_in_form(&request, &form.csrf, signed_in, PAGE)?)?;
    let form = form.into_inner();
    let mut errors = FormErrors::default();
    let refused = |errors| (form.email.clone(), form.admin, errors);
    let Some((email, password)) = new_account(
        &form.email,
        form.password.clone(),
        &form.password_again,
        &mut errors,
    ) else {
        let status = Status::UnprocessableEntity;
        return people_page(&request, me, status, refused(errors), None).await;
    };
    let hash = request
        .hasher
        .hash(password.password())
        .await
        .map_err(hash_failure)?;
    let added = within_deadline(store::add_user(
        request.db, &email, &hash, form.admin, false,
    ))
    .await?;
    if let Err(refusal) = added {
        errors.field(
            "email",
            format!("{}.", crate::infra::text::capitalised(&refusal.to_string())),
        );
        return people_page(&request, me, Status::Conflict, refused(errors), None).await;
    }
    go(format!("{PAGE}?done=added"))
}

#[derive(FromForm)]
pub struct RemoveForm {
    #[field(default = String::new())]
    csrf: String,
    /// The account to remove.
    #[field(default = String::new())]
    email: String,
    /// Its address, typed again.
    #[field(default = String::new())]
    confirm: String,
}

#[post("/account/users/remove", data = "<form>")]
async fn remove_person<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    form: Form<RemoveForm>,
) -> Answer<PeopleTemplate<'r>> {
    let me = admin(signed_in_form(&request, &form.csrf, signed_in, PAGE)?)?;
    let email = Email::parse(&form.email).map_err(|_| AppError::NotFound)?;
    let user = within_deadline(store::find_user(request.db, &email))
        .await?
        .ok_or(AppError::NotFound)?;
    let refusal = if user == me.id {
        Some("You cannot remove your own account here: another admin can.".to_owned())
    } else if !form.confirm.trim().eq_ignore_ascii_case(email.as_str()) {
        Some(format!("Type {email} to confirm."))
    } else {
        None
    };
    if let Some(message) = refusal {
        let status = Status::UnprocessableEntity;
        let errors = FormErrors::whole(message);
        return people_page(&request, me, status, (String::new(), false, errors), None).await;
    }
    within_deadline(store::remove_user(request.db, user)).await?;
    go(format!("{PAGE}?done=removed"))
}
