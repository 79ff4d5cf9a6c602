//! A site's goals, imported history and time zone, from its settings page:
//! adding and removing a goal, uploading a CSV of another counter's days
//! (with the checks and messages of `visitors goals` and `visitors
//! import`), and the zone its dashboard's days follow.

use chrono_tz::Tz;
use rocket::{
    data::Capped,
    form::{Form, FromForm},
    fs::TempFile,
    http::Status,
    post, routes, Route, State,
};
use tokio::io::AsyncReadExt;

use super::pages::{settings_page, site_of_form, SiteForm, SiteTemplate, LIST};
use crate::{
    accounts::{
        forms::{go, Answer, FormErrors, FormRequest},
        session::{NoSession, SignedIn},
    },
    counting::goal::{Goal, GoalKind},
    goals::store as goal_store,
    infra::{database::within_deadline, error::AppError, text::capitalised},
    sites::{directory::SiteDirectory, store as site_store, SiteLinks},
    transfer::{import_file, Imported},
};

pub fn routes() -> Vec<Route> {
    routes![add_goal, remove_goal, import_history, set_time_zone]
}

/// The largest file the page takes (Rocket's `file` limit, set with the
/// other settings' defaults).
pub const IMPORT_LIMIT: &str = "8 MiB";
/// A file's name, as the list of imports shows it, is cut at this length.
const SOURCE_CHARS: usize = 100;

#[derive(FromForm)]
pub struct GoalForm {
    #[field(default = String::new())]
    csrf: String,
    /// `page` or `event`.
    #[field(default = String::new())]
    kind: String,
    #[field(default = String::new())]
    pattern: String,
}

impl GoalForm {
    fn goal(&self) -> Result<Goal, String> {
        let kind = match self.kind.as_str() {
            "page" => GoalKind::Page,
            "event" => GoalKind::Event,
            _ => return Err("A goal is a page or an event.".into()),
        };
        Goal::parse(kind, &self.pattern).map_err(|error| capitalised(&format!("{error}.")))
    }
}

/// The page again, with `message` next to the field `field`.
async fn refused<'r>(
    request: &FormRequest<'r>,
    links: &SiteLinks,
    managed: (crate::sites::model::Site, &'static str),
    field: &'static str,
    message: String,
) -> Answer<SiteTemplate<'r>> {
    let mut errors = FormErrors::default();
    errors.field(field, message);
    let refused = Some((SiteForm::of(&managed.0), errors));
    let status = Status::UnprocessableEntity;
    settings_page(request, links, managed, status, refused, None).await
}

#[post("/account/sites/<domain>/goals", data = "<form>")]
async fn add_goal<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    links: &State<SiteLinks>,
    domain: &str,
    form: Form<GoalForm>,
) -> Answer<SiteTemplate<'r>> {
    let (site, role, _) = site_of_form(&request, signed_in, domain, &form.csrf).await?;
    let goal = match form.goal() {
        Ok(goal) => goal,
        Err(message) => return refused(&request, links, (site, role), "goal", message).await,
    };
    let added = within_deadline(goal_store::add(request.db, site.id, &goal)).await?;
    let done = if added { "goal-added" } else { "goal-kept" };
    go(format!("{LIST}/{}?done={done}", site.name()))
}

#[post("/account/sites/<domain>/goals/remove", data = "<form>")]
async fn remove_goal<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    domain: &str,
    form: Form<GoalForm>,
) -> Answer<SiteTemplate<'r>> {
    let (site, _, _) = site_of_form(&request, signed_in, domain, &form.csrf).await?;
    let goal = form.goal().map_err(AppError::BadRequest)?;
    if !within_deadline(goal_store::remove(request.db, site.id, &goal)).await? {
        return Err(AppError::NotFound);
    }
    go(format!("{LIST}/{}?done=goal-removed", site.name()))
}

#[derive(FromForm)]
pub struct TimeZoneForm {
    #[field(default = String::new())]
    csrf: String,
    #[field(default = String::new())]
    time_zone: String,
}

#[post("/account/sites/<domain>/time-zone", data = "<form>")]
async fn set_time_zone<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    links: &State<SiteLinks>,
    directory: &State<SiteDirectory>,
    domain: &str,
    form: Form<TimeZoneForm>,
) -> Answer<SiteTemplate<'r>> {
    let (site, role, _) = site_of_form(&request, signed_in, domain, &form.csrf).await?;
    let Ok(zone) = form.time_zone.trim().parse::<Tz>() else {
        let message = format!(
            "{:?} is not a time zone: write an IANA name such as Europe/Berlin or UTC.",
            form.time_zone.trim()
        );
        return refused(&request, links, (site, role), "time_zone", message).await;
    };
    within_deadline(site_store::set_time_zone(request.db, site.id, zone)).await?;
    if let Some(domain) = &site.domain {
        directory.forget(domain).await;
    }
    go(format!("{LIST}/{}?done=time-zone", site.name()))
}

#[derive(FromForm)]
pub struct ImportForm<'r> {
    #[field(default = String::new())]
    csrf: String,
    /// Cut at the `file` limit: `is_complete()` says whether it was.
    file: Option<Capped<TempFile<'r>>>,
}

/// The uploaded file's name as the person's browser gave it, for the
/// messages and the list of imports (escaped wherever it is shown).
fn file_name(file: &TempFile<'_>) -> String {
    let name = file
        .raw_name()
        .map(|name| name.dangerous_unsafe_unsanitized_raw().as_str().trim())
        .filter(|name| !name.is_empty())
        .unwrap_or("the file");
    name.chars().take(SOURCE_CHARS).collect()
}

#[post("/account/sites/<domain>/import", data = "<form>")]
async fn import_history<'r>(
    request: FormRequest<'r>,
    signed_in: Result<SignedIn, NoSession>,
    links: &State<SiteLinks>,
    domain: &str,
    form: Form<ImportForm<'r>>,
) -> Answer<SiteTemplate<'r>> {
    let (site, role, _) = site_of_form(&request, signed_in, domain, &form.csrf).await?;
    let Some(file) = form.file.as_ref().filter(|file| !file.is_empty()) else {
        let message = "Choose a CSV file to import.".to_owned();
        return refused(&request, links, (site, role), "import_file", message).await;
    };
    let name = file_name(file);
    if !file.is_complete() {
        let message = format!("{name} is larger than {IMPORT_LIMIT}; nothing was imported.");
        return refused(&request, links, (site, role), "import_file", message).await;
    }
    let mut bytes = Vec::new();
    let read = async { file.open().await?.read_to_end(&mut bytes).await };
    read.await
        .map_err(|_| AppError::Unavailable("the uploaded file could not be read"))?;
    let outcome = within_deadline(import_file(request.db, site.id, &name, &name, &bytes)).await?;
    match outcome {
        Ok(Imported::Rows(_)) => go(format!("{LIST}/{}?done=imported", site.name())),
        Ok(Imported::Before(_)) => go(format!("{LIST}/{}?done=imported-before", site.name())),
        Err(refusal) => refused(&request, links, (site, role), "import_file", refusal).await,
    }
}
