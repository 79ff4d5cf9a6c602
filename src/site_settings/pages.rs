//! `/account/sites` (the list and the form that adds a site) and
//! `/account/sites/DOMAIN` (snippets, the private link and its rotation).
//! A site's settings are its owners' and the admins'; anyone else gets the
//! 404 a missing site gets.

use askama::Template;
use rocket::{
    form::{Form, FromForm},
    get,
    http::Status,
    post, routes, Route, State,
};

use super::store::{self, ListedSite, SiteRole};
use crate::{
    accounts::{
        forms::{go, show, signed_in_or_login, Answer, FormErrors, FormRequest},
        model::User,
        session::{NoSession, SignedIn},
    },
    infra::{
        database::within_deadline,
        error::AppError,
        page::{Layout, Page},
        text::capitalised,
    },
    sites::{
        domain::Domain,
        manage::SiteRequest,
        model::{Site, Visibility},
        store as site_store, SiteDirectory, SiteLinks,
    },
};

pub fn routes() -> Vec<Route> {
    routes![site_list, add_site, site_settings, rotate_link]
}

const LIST: &str = "/account/sites";

#[derive(Template)]
#[template(path = "site_settings/sites.html")]
pub struct SitesTemplate<'a> {
    pub token: String,
    pub sites: Vec<ListedSite>,
    /// The form as it was sent, when it was refused.
    pub form: SiteForm,
    pub errors: FormErrors,
    pub notice: Option<&'static str>,
    pub layout: Option<&'a Layout>,
}

/// The add form's fields. Check boxes are absent when unticked.
#[derive(FromForm, Default)]
pub struct SiteForm {
    #[field(default = String::new())]
    csrf: String,
    #[field(default = String::new())]
    pub domain: String,
    /// Further host names, separated by spaces, commas or lines.
    #[field(default = String::new())]
    pub hosts: String,
    #[field(default = false)]
    pub public: bool,
    #[field(default = false)]
    pub signed: bool,
    #[field(default = false)]
    pub badge: bool,
    #[field(default = false)]
    pub origin_required: bool,
}

impl SiteForm {
    fn request(&self) -> SiteRequest {
        SiteRequest {
            domain: self.domain.clone(),
            hosts: self
                .hosts
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|host| !host.is_empty())
                .map(str::to_owned)
                .collect(),
            visibility: if self.public {
                Visibility::Public
            } else {
                Visibility::Private
            },
            signed: self.signed,
            badge: self.badge,
            origin_required: self.origin_required,
        }
    }
}

async fn list_page<'r>(
    request: &FormRequest<'r>,
    signed_in: SignedIn,
    status: Status,
    form: SiteForm,
    errors: FormErrors,
) -> Answer<SitesTemplate<'r>> {
    let user = signed_in.user;
    let sites = within_deadline(store::sites_of(request.db, user.id, user.is_admin)).await?;
    show(Page::with_status(
        status,
        SitesTemplate {
            token: request.token.as_str().to_owned(),
            sites,
            form,
            errors,
            notice: None,
            layout: Some(request.layout),
        },
    ))
}

#[get("/account/sites")]
async fn site_list<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
) -> Answer<SitesTemplate<'r>> {
    match signed_in_or_login(signed_in, LIST)? {
        Ok(signed_in) => {
            list_page(
                &request,
                signed_in,
                Status::Ok,
                Default::default(),
                FormErrors::default(),
            )
            .await
        }
        Err(login) => go(login),
    }
}

#[post("/account/sites", data = "<form>")]
async fn add_site<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    directory: &State<SiteDirectory>,
    form: Form<SiteForm>,
) -> Answer<SitesTemplate<'r>> {
    request.token.check(&form.csrf)?;
    let signed_in = match signed_in_or_login(signed_in, LIST)? {
        Ok(signed_in) => signed_in,
        Err(login) => return go(login),
    };
    let form = form.into_inner();
    let mut errors = FormErrors::default();
    let new = match form.request().validate() {
        Ok(new) => new,
        Err(invalid) => {
            // The domain's field names it; a further host is named.
            if invalid.name == form.domain {
                errors.field("domain", capitalised(&invalid.reason.to_string()));
            } else {
                let message = format!("{} ({})", invalid.reason, invalid.name);
                errors.field("hosts", capitalised(&message));
            }
            return list_page(
                &request,
                signed_in,
                Status::UnprocessableEntity,
                form,
                errors,
            )
            .await;
        }
    };
    // A removed site keeps its counts: only an admin may bring it back for
    // someone, since its history would go with it.
    let existing = within_deadline(site_store::find(request.db, &new.domain)).await?;
    let taken = match existing {
        Some(site) => site.active || !signed_in.user.is_admin,
        None => false,
    };
    let added = if taken {
        None
    } else {
        within_deadline(store::add_owned(request.db, &new, signed_in.user.id))
            .await?
            .ok()
    };
    let Some(site) = added else {
        errors.field(
            "domain",
            format!(
                "{} is counted here already: ask its owner or this instance's admin to add you.",
                new.domain
            ),
        );
        return list_page(&request, signed_in, Status::Conflict, form, errors).await;
    };
    directory.forget(&new.domain).await;
    go(format!("{LIST}/{}?done=added", site.name()))
}

#[derive(Template)]
#[template(path = "site_settings/site.html")]
pub struct SiteTemplate<'a> {
    pub token: String,
    pub site: Site,
    pub role: &'static str,
    pub dashboard: String,
    pub private_link: Option<String>,
    pub pixel: String,
    pub script: Option<String>,
    pub badge: String,
    pub notice: Option<&'static str>,
    pub layout: Option<&'a Layout>,
}

/// The site named `domain` if `user` may manage it, with how.
async fn managed_site(
    request: &FormRequest<'_>,
    user: &User,
    domain: &str,
) -> Result<(Site, &'static str), AppError> {
    let domain = Domain::parse(domain).map_err(|_| AppError::NotFound)?;
    let site = within_deadline(site_store::find(request.db, &domain))
        .await?
        .ok_or(AppError::NotFound)?;
    let role = within_deadline(store::role_of(request.db, site.id, user.id)).await?;
    match role {
        Some(SiteRole::Owner) => Ok((site, SiteRole::Owner.label())),
        _ if user.is_admin => Ok((site, "admin")),
        _ => Err(AppError::NotFound),
    }
}

#[get("/account/sites/<domain>?<done>")]
async fn site_settings<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    links: &State<SiteLinks>,
    domain: &str,
    done: Option<&str>,
) -> Answer<SiteTemplate<'r>> {
    let signed_in = match signed_in_or_login(signed_in, &format!("{LIST}/{domain}"))? {
        Ok(signed_in) => signed_in,
        Err(login) => return go(login),
    };
    let (site, role) = managed_site(&request, &signed_in.user, domain).await?;
    show(Page::ok(SiteTemplate {
        token: request.token.as_str().to_owned(),
        dashboard: links.dashboard(&site),
        private_link: (!site.is_public()).then(|| links.private_link(&site)),
        pixel: links.pixel_snippet(&site, "/", None),
        script: links.script_snippet(&site),
        badge: links.badge(&site),
        role,
        site,
        notice: match done {
            Some("added") => Some("The site is added: put a snippet on its pages."),
            Some("link") => {
                Some("The private link is new: the old one no longer opens the dashboard.")
            }
            _ => None,
        },
        layout: Some(request.layout),
    }))
}

#[derive(FromForm)]
pub struct LinkForm {
    #[field(default = String::new())]
    csrf: String,
}

/// A new private link; every earlier one stops working, on every replica
/// within the site directory's few seconds.
#[post("/account/sites/<domain>/link", data = "<form>")]
async fn rotate_link<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    directory: &State<SiteDirectory>,
    domain: &str,
    form: Form<LinkForm>,
) -> Answer<SiteTemplate<'r>> {
    request.token.check(&form.csrf)?;
    let signed_in = match signed_in_or_login(signed_in, &format!("{LIST}/{domain}"))? {
        Ok(signed_in) => signed_in,
        Err(login) => return go(login),
    };
    let (site, _) = managed_site(&request, &signed_in.user, domain).await?;
    let domain = site.domain.clone().ok_or(AppError::NotFound)?;
    within_deadline(site_store::rotate_token(request.db, &domain)).await?;
    directory.forget(&domain).await;
    go(format!("{LIST}/{domain}?done=link"))
}
