//! `/account/sites` (the list and the form that adds a site) and
//! `/account/sites/DOMAIN` (snippets, the private link and its rotation).
//! A site's settings are its owners' and the admins'; anyone else gets the
//! 404 a missing site gets.

use askama::Template;
use lettre::message::Mailbox;
use rocket::{
    form::{Form, FromForm},
    get,
    http::Status,
    post, routes, Either, Route, State,
};
use sha2::{Digest, Sha256};

use super::store::{self, ListedSite};
use crate::{
    accounts::{
        forms::{
            go, hash_failure, new_account, show, signed_in_form, signed_in_or_login, Answer,
            FormErrors, FormRequest,
        },
        model::{Email, User},
        session::{NoSession, SignedIn},
        store as accounts_store,
    },
    infra::{
        database::within_deadline,
        error::AppError,
        mail::{Mail, MailError, Mailer},
        page::{Layout, Page},
        text::capitalised,
    },
    sites::{
        domain::Domain,
        manage::{InvalidSite, SiteRequest},
        members::{self, SiteRole},
        model::{Site, Visibility},
        store as site_store, SiteDirectory, SiteLinks,
    },
};
use crate::{
    counting::goal::Goal,
    goals::store as goal_store,
    transfer::store::{self as transfer_store, ImportRecord},
};

pub fn routes() -> Vec<Route> {
    routes![
        site_list,
        add_site,
        site_settings,
        change_site,
        rotate_link,
        remove_site,
        invite,
        invitation,
        accept_invitation,
        join_by_invitation
    ]
}

pub(super) const LIST: &str = "/account/sites";

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
    /// The form filled with a site's settings.
    pub(super) fn of(site: &Site) -> Self {
        Self {
            domain: site.name().to_owned(),
            hosts: site
                .hosts
                .iter()
                .map(|host| host.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            public: site.is_public(),
            signed: site.signed,
            badge: site.badge,
            origin_required: site.origin_required,
            ..Default::default()
        }
    }

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
    (form, errors): (SiteForm, FormErrors),
    notice: Option<&'static str>,
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
            notice,
            layout: Some(request.layout),
        },
    ))
}

#[get("/account/sites?<done>")]
async fn site_list<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    done: Option<&str>,
) -> Answer<SitesTemplate<'r>> {
    let notice = match done {
        Some("deleted") => Some("The site is deleted, with every count it had."),
        Some("joined") => Some("You are a member of the site you were invited to."),
        _ => None,
    };
    let signed_in = signed_in_or_login(signed_in, LIST)?;
    let blank = (Default::default(), FormErrors::default());
    list_page(&request, signed_in, Status::Ok, blank, notice).await
}

#[post("/account/sites", data = "<form>")]
async fn add_site<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    directory: &State<SiteDirectory>,
    form: Form<SiteForm>,
) -> Answer<SitesTemplate<'r>> {
    let signed_in = signed_in_form(&request, &form.csrf, signed_in, LIST)?;
    let form = form.into_inner();
    let mut errors = FormErrors::default();
    let new = match form.request().validate() {
        Ok(new) => new,
        Err(invalid) => {
            // The domain's field names it; a further host is named.
            if invalid.name == form.domain {
                errors.field("domain", capitalised(&invalid.reason.to_string()));
            } else {
                errors.field("hosts", host_refusal(&invalid));
            }
            return list_page(
                &request,
                signed_in,
                Status::UnprocessableEntity,
                (form, errors),
                None,
            )
            .await;
        }
    };
    // A site no longer counted keeps its counts: only its owners and the
    // admins may count it again, since its history goes with it.
    let existing = within_deadline(site_store::find(request.db, &new.domain)).await?;
    let taken = match existing {
        Some(site) if site.active => true,
        Some(site) => {
            let role =
                within_deadline(members::role_of(request.db, site.id, signed_in.user.id)).await?;
            !signed_in.user.is_admin && role != Some(SiteRole::Owner)
        }
        None => false,
    };
    let added = if taken {
        None
    } else {
        within_deadline(members::add_owned(request.db, &new, signed_in.user.id))
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
        return list_page(&request, signed_in, Status::Conflict, (form, errors), None).await;
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
    /// An invitation just made: shown this once, never stored.
    pub invitation: Option<MadeInvitation>,
    /// Invitations can be mailed.
    pub mail_on: bool,
    pub goals: Vec<Goal>,
    pub imports: Vec<ImportRecord>,
    /// The site's CSV export, without its query.
    pub export: String,
    /// The largest file the import takes.
    pub import_limit: &'static str,
    /// The settings form as it was sent, when it was refused.
    pub form: SiteForm,
    pub errors: FormErrors,
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
    let role = within_deadline(members::role_of(request.db, site.id, user.id)).await?;
    match role {
        Some(SiteRole::Owner) => Ok((site, SiteRole::Owner.label())),
        _ if user.is_admin => Ok((site, "admin")),
        _ => Err(AppError::NotFound),
    }
}

/// A site's page: its settings form holds `form` (the site's own settings
/// unless a refused form is shown again).
pub(super) async fn settings_page<'r>(
    request: &FormRequest<'r>,
    links: &SiteLinks,
    (site, role): (Site, &'static str),
    status: Status,
    refused: Option<(SiteForm, FormErrors)>,
    notice: Option<&'static str>,
) -> Answer<SiteTemplate<'r>> {
    let (form, errors) = refused.unwrap_or_else(|| (SiteForm::of(&site), FormErrors::default()));
    let goals = within_deadline(goal_store::list(&**request.db, site.id)).await?;
    let imports = within_deadline(transfer_store::history(request.db, site.id)).await?;
    show(Page::with_status(
        status,
        SiteTemplate {
            token: request.token.as_str().to_owned(),
            dashboard: links.dashboard(&site),
            private_link: (!site.is_public()).then(|| links.private_link(&site)),
            pixel: links.pixel_snippet(&site, "/", None),
            script: links.script_snippet(&site),
            badge: links.badge(&site),
            invitation: None,
            mail_on: request.mailer.is_on(),
            goals,
            imports,
            export: format!("/api/sites/{}/export.csv", site.name()),
            import_limit: super::site_data::IMPORT_LIMIT,
            role,
            site,
            form,
            errors,
            notice,
            layout: Some(request.layout),
        },
    ))
}

/// The site a form names, when its sender may manage it; without a session,
/// the sign-in page first. The form's token is checked before anything else.
pub(super) async fn site_of_form(
    request: &FormRequest<'_>,
    signed_in: Result<SignedIn, NoSession>,
    domain: &str,
    csrf: &str,
) -> Result<(Site, &'static str, User), AppError> {
    let signed_in = signed_in_form(request, csrf, signed_in, &format!("{LIST}/{domain}"))?;
    let (site, role) = managed_site(request, &signed_in.user, domain).await?;
    Ok((site, role, signed_in.user))
}

/// The message of a further host name that is not one.
fn host_refusal(invalid: &InvalidSite) -> String {
    capitalised(&format!("{} ({})", invalid.reason, invalid.name))
}

#[get("/account/sites/<domain>?<done>")]
async fn site_settings<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    links: &State<SiteLinks>,
    domain: &str,
    done: Option<&str>,
) -> Answer<SiteTemplate<'r>> {
    let signed_in = signed_in_or_login(signed_in, &format!("{LIST}/{domain}"))?;
    let managed = managed_site(&request, &signed_in.user, domain).await?;
    let notice = match done {
        Some("added") => Some("The site is added: put a snippet on its pages."),
        Some("link") => Some("The private link is new: the old one no longer opens the dashboard."),
        Some("saved") => Some("The settings are saved."),
        Some("time-zone") => Some("The time zone is saved: the dashboard's days follow it."),
        Some("stopped") => Some("The site is no longer counted; its history is kept."),
        Some("goal-added") => Some("The goal is added: the Goals panel counts it."),
        Some("goal-kept") => Some("The site has this goal already."),
        Some("goal-removed") => Some("The goal is removed."),
        Some("imported") => Some("The file is imported: its days are in the list of imports."),
        Some("imported-before") => Some("This file was imported before; nothing changed."),
        _ => None,
    };
    settings_page(&request, links, managed, Status::Ok, None, notice).await
}

/// New settings for a site: its hosts and flags, checked as a new site's.
#[post("/account/sites/<domain>", data = "<form>")]
async fn change_site<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    links: &State<SiteLinks>,
    directory: &State<SiteDirectory>,
    domain: &str,
    form: Form<SiteForm>,
) -> Answer<SiteTemplate<'r>> {
    let (site, role, _) = site_of_form(&request, signed_in, domain, &form.csrf).await?;
    let mut form = form.into_inner();
    form.domain = site.name().to_owned();
    let new = match form.request().validate() {
        Ok(new) => new,
        Err(invalid) => {
            let mut errors = FormErrors::default();
            errors.field("hosts", host_refusal(&invalid));
            let status = Status::UnprocessableEntity;
            return settings_page(
                &request,
                links,
                (site, role),
                status,
                Some((form, errors)),
                None,
            )
            .await;
        }
    };
    within_deadline(site_store::update(request.db, &new))
        .await?
        .ok_or(AppError::NotFound)?;
    directory.forget(&new.domain).await;
    go(format!("{LIST}/{}?done=saved", new.domain))
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
    let (site, _, _) = site_of_form(&request, signed_in, domain, &form.csrf).await?;
    let domain = site.domain.clone().ok_or(AppError::NotFound)?;
    within_deadline(site_store::rotate_token(request.db, &domain)).await?;
    directory.forget(&domain).await;
    go(format!("{LIST}/{domain}?done=link"))
}

#[derive(FromForm)]
pub struct RemoveForm {
    #[field(default = String::new())]
    csrf: String,
    /// The site's domain, typed again.
    #[field(default = String::new())]
    confirm: String,
    #[field(default = false)]
    purge: bool,
}

/// Stops counting a site, or with `purge` deletes it and all its counts,
/// once its domain is typed again.
#[post("/account/sites/<domain>/remove", data = "<form>")]
async fn remove_site<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    links: &State<SiteLinks>,
    directory: &State<SiteDirectory>,
    domain: &str,
    form: Form<RemoveForm>,
) -> Answer<SiteTemplate<'r>> {
    let (site, role, _) = site_of_form(&request, signed_in, domain, &form.csrf).await?;
    let name = site.domain.clone().ok_or(AppError::NotFound)?;
    if form.confirm.trim() != name.as_str() {
        let mut errors = FormErrors::default();
        errors.field("confirm", format!("Type {name} to confirm."));
        let refused = Some((SiteForm::of(&site), errors));
        let status = Status::UnprocessableEntity;
        return settings_page(&request, links, (site, role), status, refused, None).await;
    }
    within_deadline(site_store::remove(request.db, &name, form.purge)).await?;
    directory.forget(&name).await;
    if form.purge {
        go(format!("{LIST}?done=deleted"))
    } else {
        go(format!("{LIST}/{name}?done=stopped"))
    }
}

#[derive(FromForm)]
pub struct InviteForm {
    #[field(default = String::new())]
    csrf: String,
    /// `owner` or `viewer`.
    #[field(default = String::new())]
    role: String,
    /// Where to mail the link; empty: the link is only shown.
    #[field(default = String::new())]
    email: String,
}

/// An invitation link just made, and whom it was mailed to.
pub struct MadeInvitation {
    pub link: String,
    pub role: &'static str,
    pub mailed_to: Option<String>,
}

#[derive(Template)]
#[template(path = "site_settings/invitation_mail.txt")]
struct InvitationMail<'a> {
    inviter: &'a str,
    domain: &'a str,
    role: SiteRole,
    link: &'a str,
    days: f64,
}

impl InvitationMail<'_> {
    /// Mails the invitation to `to`; returns the address it went to.
    async fn send(&self, mailer: &Mailer, to: Mailbox) -> Result<String, MailError> {
        let address = to.email.to_string();
        mailer
            .send(Mail {
                to,
                subject: format!("An invitation to {} on Visitors", self.domain),
                text: self.render()?,
                html: None,
            })
            .await?;
        Ok(address)
    }
}

/// Where an invitation may be mailed, or why not.
fn invitee(address: &str, mailer: &Mailer) -> Result<Mailbox, String> {
    let email = Email::parse(address).map_err(|refusal| refusal.to_string())?;
    if !mailer.is_on() {
        return Err("This instance sends no mail: make the link and send it yourself.".into());
    }
    email
        .as_str()
        .parse()
        .map_err(|_| "Mail cannot be sent to this address.".into())
}

fn invitation_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// An invitation link to the site, shown once on the page that answers and,
/// when an address is given, mailed to it.
#[post("/account/sites/<domain>/invitations", data = "<form>")]
async fn invite<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    links: &State<SiteLinks>,
    domain: &str,
    form: Form<InviteForm>,
) -> Answer<SiteTemplate<'r>> {
    let (site, role, by) = site_of_form(&request, signed_in, domain, &form.csrf).await?;
    let invited_as = match form.role.as_str() {
        "owner" => SiteRole::Owner,
        "viewer" => SiteRole::Viewer,
        _ => {
            return Err(AppError::BadRequest(
                "An invitation is for an owner or a viewer.".into(),
            ))
        }
    };
    let to = match form.email.trim() {
        "" => None,
        address => match invitee(address, request.mailer) {
            Ok(to) => Some(to),
            Err(refusal) => {
                let mut errors = FormErrors::default();
                errors.field("invite_email", refusal);
                let refused = Some((SiteForm::of(&site), errors));
                let status = Status::UnprocessableEntity;
                return settings_page(&request, links, (site, role), status, refused, None).await;
            }
        },
    };
    let token = hex::encode(rand::random::<[u8; 32]>());
    within_deadline(store::invite(
        request.db,
        &invitation_digest(&token),
        site.id,
        invited_as,
        by.id,
    ))
    .await?;
    let link = format!("{}/invite/{token}", links.public_url);
    let mut mailed_to = None;
    let mut errors = FormErrors::default();
    if let Some(to) = to {
        let mail = InvitationMail {
            inviter: by.email.as_str(),
            domain: site.name(),
            role: invited_as,
            link: &link,
            days: store::INVITATION_DAYS,
        };
        match mail.send(request.mailer, to).await {
            Ok(address) => mailed_to = Some(address),
            Err(error) => {
                errors.form = Some(format!(
                    "The invitation could not be mailed ({error}): send the link yourself."
                ))
            }
        }
    }
    let refused = Some((SiteForm::of(&site), errors));
    let mut answer =
        settings_page(&request, links, (site, role), Status::Ok, refused, None).await?;
    if let Either::Left(page) = &mut answer.body {
        page.template_mut().invitation = Some(MadeInvitation {
            link,
            role: invited_as.label(),
            mailed_to,
        });
    }
    Ok(answer)
}

#[derive(Template)]
#[template(path = "site_settings/invitation.html")]
pub struct InvitationTemplate<'a> {
    pub token: String,
    /// The invitation's own token, for its forms' addresses.
    pub invitation: String,
    pub domain: String,
    pub role: &'static str,
    /// Who is signed in, if anyone: they accept; anyone else signs up.
    pub signed_in_as: Option<String>,
    pub email: String,
    pub errors: FormErrors,
    pub notice: Option<&'static str>,
    pub layout: Option<&'a Layout>,
}

const NO_INVITATION: &str =
    "This invitation cannot be used: it was used already, it expired, or it was never made.";

/// The invitation's page: accept it (signed in), or make an account with it.
#[get("/invite/<token>")]
async fn invitation<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    token: &str,
) -> Answer<InvitationTemplate<'r>> {
    let signed_in_as = match signed_in {
        Ok(signed_in) => Some(signed_in.user.email.to_string()),
        Err(NoSession::SignedOut) => None,
        Err(NoSession::Unavailable(error)) => return Err(error),
    };
    let found = within_deadline(store::invitation(request.db, &invitation_digest(token)))
        .await?
        .ok_or(AppError::Forbidden(NO_INVITATION))?;
    show(Page::ok(InvitationTemplate {
        token: request.token.as_str().to_owned(),
        invitation: token.to_owned(),
        domain: found.domain,
        role: found.role.label(),
        signed_in_as,
        email: String::new(),
        errors: FormErrors::default(),
        notice: None,
        layout: Some(request.layout),
    }))
}

#[derive(FromForm)]
pub struct AcceptForm {
    #[field(default = String::new())]
    csrf: String,
}

#[post("/invite/<token>", data = "<form>")]
async fn accept_invitation<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    token: &str,
    form: Form<AcceptForm>,
) -> Answer<InvitationTemplate<'r>> {
    let signed_in = signed_in_form(&request, &form.csrf, signed_in, &format!("/invite/{token}"))?;
    within_deadline(store::accept(
        request.db,
        &invitation_digest(token),
        signed_in.user.id,
    ))
    .await?
    .ok_or(AppError::Forbidden(NO_INVITATION))?;
    go(format!("{LIST}?done=joined"))
}

#[derive(FromForm)]
pub struct JoinForm {
    #[field(default = String::new())]
    csrf: String,
    #[field(default = String::new())]
    email: String,
    #[field(default = String::new())]
    password: String,
    #[field(default = String::new())]
    password_again: String,
}

/// A new account, made with the invitation and joined to its site.
#[post("/invite/<token>/account", data = "<form>")]
async fn join_by_invitation<'r>(
    request: FormRequest<'r>,
    token: &str,
    form: Form<JoinForm>,
) -> Answer<InvitationTemplate<'r>> {
    request.token.check(&form.csrf)?;
    let digest = invitation_digest(token);
    let found = within_deadline(store::invitation(request.db, &digest))
        .await?
        .ok_or(AppError::Forbidden(NO_INVITATION))?;
    let form = form.into_inner();
    let mut errors = FormErrors::default();
    let account = new_account(
        &form.email,
        form.password,
        &form.password_again,
        &mut errors,
    );
    let refuse = |status, errors| {
        show(Page::with_status(
            status,
            InvitationTemplate {
                token: request.token.as_str().to_owned(),
                invitation: token.to_owned(),
                domain: found.domain.clone(),
                role: found.role.label(),
                signed_in_as: None,
                email: form.email.clone(),
                errors,
                notice: None,
                layout: Some(request.layout),
            },
        ))
    };
    let Some((email, password)) = account else {
        return refuse(Status::UnprocessableEntity, errors);
    };
    let hash = request
        .hasher
        .hash(password.password())
        .await
        .map_err(hash_failure)?;
    let Ok(user) = within_deadline(accounts_store::add_user(
        request.db, &email, &hash, false, false,
    ))
    .await?
    else {
        errors.field(
            "email",
            "An account with this address exists: sign in, then use the invitation.",
        );
        return refuse(Status::Conflict, errors);
    };
    within_deadline(store::accept(request.db, &digest, user))
        .await?
        .ok_or(AppError::Forbidden(NO_INVITATION))?;
    request.start_session(user).await?;
    go(format!("{LIST}?done=joined"))
}
