//! Sites from the browser: adding one (its owner is whoever adds it), its
//! settings page with the snippets and the private link, and who may see
//! which, against a real PostgreSQL.

use rocket::http::{ContentType, Header, Status};
use visitors::sites::{domain::Domain, store as site_store};

use crate::{
    accounts::{
        add_account, count, encoded, location, other_browser, page, sign_in, signed_in_app, submit,
        PASSWORD,
    },
    helpers::{TestApp, FIREFOX},
};

/// The value of a read-only snippet box, as the page escapes it.
pub fn snippet(html: &str, id: &str) -> String {
    let pattern =
        regex::Regex::new(&format!(r#"(?s)<textarea id="{id}"[^>]*>(.*?)</textarea>"#)).unwrap();
    pattern
        .captures(html)
        .unwrap_or_else(|| panic!("no #{id} in {html}"))[1]
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#38;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

pub async fn add_site<'c>(
    client: &'c rocket::local::asynchronous::Client,
    fields: &[(&str, &str)],
) -> rocket::local::asynchronous::LocalResponse<'c> {
    submit(client, "/account/sites", "/account/sites", fields).await
}

/// A fresh app where ann@example.org is signed in and owns example.com.
async fn owner_of_example() -> TestApp {
    let app = signed_in_app("ann@example.org").await;
    let response = add_site(&app.client, &[("domain", "example.com")]).await;
    assert_eq!(response.status(), Status::SeeOther);
    drop(response);
    app
}

#[rocket::async_test]
async fn whoever_adds_a_site_owns_it_and_finds_its_snippets_and_link() {
    let app = TestApp::spawn().await;
    add_account(&app.db, "ann@example.org").await;
    let response = app.client.get("/account/sites").dispatch().await;
    assert_eq!(location(&response), "/login?next=%2Faccount%2Fsites");
    assert_eq!(
        sign_in(&app.client, "ann@example.org", PASSWORD)
            .await
            .status(),
        Status::SeeOther
    );
    assert!(page(&app.client, "/account/sites")
        .await
        .contains("No sites yet"));

    let response = add_site(
        &app.client,
        &[
            ("domain", "Example.COM"),
            ("hosts", "www.example.com, blog.example.com"),
            ("badge", "on"),
        ],
    )
    .await;
    assert_eq!(location(&response), "/account/sites/example.com?done=added");
    let html = page(&app.client, "/account/sites/example.com?done=added").await;
    assert!(html.contains("The site is added"));
    assert!(
        html.contains("<title>example.com · Visitors</title>"),
        "{html}"
    );
    assert!(
        html.contains("Private, badge shown. You are its owner."),
        "{html}"
    );
    assert_eq!(
        snippet(&html, "pixel"),
        r#"<img src="http://localhost:8080/pixel/example.com.gif?p=%2F" alt="" width="1" height="1">"#
    );
    assert_eq!(
        snippet(&html, "script"),
        r#"<script defer src="http://localhost:8080/script.js" data-site="example.com"></script>"#
    );
    assert_eq!(
        snippet(&html, "badge"),
        "http://localhost:8080/badge/example.com.svg"
    );
    let link = snippet(&html, "private-link");
    let role: String = sqlx::query_scalar(
        "SELECT m.role::text FROM site_members m JOIN sites s ON s.id = m.site_id WHERE s.domain = 'example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(role, "owner");
    let hosts: Vec<String> =
        sqlx::query_scalar("SELECT hosts FROM sites WHERE domain = 'example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(hosts, ["www.example.com", "blog.example.com"]);
    let listed = page(&app.client, "/account/sites").await;
    assert!(
        listed.contains(r#"<a href="/account/sites/example.com">example.com</a>"#),
        "{listed}"
    );

    // The link opens the private dashboard, for someone signed in nowhere.
    let stranger = other_browser(&app).await;
    let path = link.trim_start_matches("http://localhost:8080");
    assert_eq!(
        stranger.client.get(path).dispatch().await.status(),
        Status::Ok
    );
    assert_eq!(
        stranger
            .client
            .get("/sites/example.com")
            .dispatch()
            .await
            .status(),
        Status::NotFound
    );
    // A new link: the old one is refused, the new one opens it.
    let response = submit(
        &app.client,
        "/account/sites/example.com",
        "/account/sites/example.com/link",
        &[],
    )
    .await;
    assert_eq!(location(&response), "/account/sites/example.com?done=link");
    let html = page(&app.client, "/account/sites/example.com").await;
    let new_link = snippet(&html, "private-link");
    assert_ne!(new_link, link);
    // Refused on the other replica once its site directory forgets the
    // old link (5 s); its owner, signed in, reads it with no link at all.
    let mut refused = false;
    for _ in 0..100 {
        if stranger.client.get(path).dispatch().await.status() == Status::NotFound {
            refused = true;
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        refused,
        "the old link still opened the dashboard after 10 s"
    );
    let new_path = new_link.trim_start_matches("http://localhost:8080");
    assert_eq!(
        stranger.client.get(new_path).dispatch().await.status(),
        Status::Ok
    );
}

/// A form's fields, and the status, the field and the message it gets.
type FieldRefusal<'a> = (&'a [(&'a str, &'a str)], Status, &'a str, &'a str);

/// A form's fields, and the status and the message it gets.
type Refusal<'a> = (&'a [(&'a str, &'a str)], Status, &'a str);

#[rocket::async_test]
async fn every_field_of_a_new_site_says_what_is_wrong_and_nothing_is_stored() {
    let app = signed_in_app("ann@example.org").await;
    assert_eq!(
        add_site(&app.client, &[("domain", "taken.example")])
            .await
            .status(),
        Status::SeeOther
    );
    let (sites, members) = (
        count(&app.db, "sites").await,
        count(&app.db, "site_members").await,
    );
    let cases: [FieldRefusal; 5] = [
        (
            &[("domain", "https://example.com")],
            Status::UnprocessableEntity,
            "domain-error",
            "A domain has no scheme: write example.com, not https://example.com",
        ),
        (
            &[("domain", "")],
            Status::UnprocessableEntity,
            "domain-error",
            "is not a valid host name",
        ),
        (
            &[
                ("domain", "example.com"),
                ("hosts", "www.example.com 192.0.2.1"),
            ],
            Status::UnprocessableEntity,
            "hosts-error",
            "An address is not a domain",
        ),
        (
            &[("domain", "example.com"), ("hosts", "<b>bad</b>")],
            Status::UnprocessableEntity,
            "hosts-error",
            "A domain has no path, port, query or user",
        ),
        (
            &[("domain", "TAKEN.example")],
            Status::Conflict,
            "domain-error",
            "taken.example is counted here already",
        ),
    ];
    for (fields, status, id, message) in cases {
        let response = add_site(&app.client, fields).await;
        assert_eq!(response.status(), status, "{fields:?}");
        let html = response.into_string().await.unwrap();
        let shown = regex::Regex::new(&format!(r#"id="{id}">([^<]*)</p>"#)).unwrap();
        let shown = &shown
            .captures(&html)
            .unwrap_or_else(|| panic!("no {id} in {html}"))[1];
        assert!(
            shown.contains(&message.replace('"', "&#34;")) || shown.contains(message),
            "{shown}"
        );
        assert!(!html.contains("<b>bad</b>"), "the input is escaped");
    }
    // Without the form's token, nothing either.
    let response = app
        .client
        .post("/account/sites")
        .header(ContentType::Form)
        .body(encoded(&[("domain", "forged.example")]))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Forbidden);
    assert_eq!(count(&app.db, "sites").await, sites);
    assert_eq!(count(&app.db, "site_members").await, members);
}

#[rocket::async_test]
async fn a_site_is_managed_by_its_owners_and_the_admins_only() {
    let app = TestApp::spawn().await;
    add_account(&app.db, "admin@example.org").await; // the first account: the admin
    add_account(&app.db, "bea@example.org").await;
    add_account(&app.db, "cal@example.org").await;
    let bea = other_browser(&app).await;
    let cal = other_browser(&app).await;
    for (browser, email) in [
        (&app.client, "admin@example.org"),
        (&bea.client, "bea@example.org"),
        (&cal.client, "cal@example.org"),
    ] {
        assert_eq!(
            sign_in(browser, email, PASSWORD).await.status(),
            Status::SeeOther
        );
    }
    assert_eq!(
        add_site(&bea.client, &[("domain", "bea.example")])
            .await
            .status(),
        Status::SeeOther
    );

    // Someone else: as if it did not exist, for the page and for its form.
    assert!(!page(&cal.client, "/account/sites")
        .await
        .contains("bea.example"));
    assert_eq!(
        cal.client
            .get("/account/sites/bea.example")
            .dispatch()
            .await
            .status(),
        Status::NotFound
    );
    let html = page(&cal.client, "/account/sites").await;
    let token = crate::accounts::form_token(&html);
    let response = cal
        .client
        .post("/account/sites/bea.example/link")
        .header(ContentType::Form)
        .body(encoded(&[("csrf", &token)]))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::NotFound);
    let html = page(&bea.client, "/account/sites/bea.example").await;
    assert!(html.contains("You are its owner."));

    // The admin sees and manages every site.
    let listed = page(&app.client, "/account/sites").await;
    assert!(
        listed.contains("bea.example") && listed.contains("<td>admin</td>"),
        "{listed}"
    );
    assert!(page(&app.client, "/account/sites/bea.example")
        .await
        .contains("You are its admin."));

    // A site no longer counted keeps its history: only an admin brings it back.
    site_store::remove(&app.db, &Domain::parse("bea.example").unwrap(), false)
        .await
        .unwrap();
    assert_eq!(
        add_site(&cal.client, &[("domain", "bea.example")])
            .await
            .status(),
        Status::Conflict
    );
    assert_eq!(
        add_site(&app.client, &[("domain", "bea.example")])
            .await
            .status(),
        Status::SeeOther
    );
}

#[rocket::async_test]
async fn an_owner_changes_stops_and_deletes_a_site() {
    let app = owner_of_example().await;
    let settings = "/account/sites/example.com";
    let html = page(&app.client, settings).await;
    assert!(html.contains(r#"name="hosts" value="""#), "{html}");

    // New settings, checked as a new site's; a refusal changes nothing.
    let response = submit(
        &app.client,
        settings,
        settings,
        &[("hosts", "www.example.com 192.0.2.1")],
    )
    .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    assert!(response
        .into_string()
        .await
        .unwrap()
        .contains("An address is not a domain"));
    let response = submit(
        &app.client,
        settings,
        settings,
        &[
            ("hosts", "www.example.com"),
            ("public", "on"),
            ("origin_required", "on"),
        ],
    )
    .await;
    assert_eq!(location(&response), "/account/sites/example.com?done=saved");
    let (visibility, hosts, origin_required): (String, Vec<String>, bool) = sqlx::query_as(
        "SELECT visibility::text, hosts, origin_required FROM sites WHERE domain = 'example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (visibility.as_str(), &hosts[..], origin_required),
        ("public", &["www.example.com".to_owned()][..], true)
    );
    let html = page(&app.client, settings).await;
    assert!(html.contains("Public, own pages only."), "{html}");
    // The site counts with its new host.
    let hit = app
        .client
        .get("/pixel/example.com.gif?p=/")
        .remote("192.0.2.10:40000".parse().unwrap())
        .header(Header::new("User-Agent", FIREFOX))
        .header(Header::new("Referer", "https://www.example.com/"))
        .dispatch()
        .await;
    assert_eq!(hit.status(), Status::Ok);
    let counted = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT coalesce(sum(t.visits), 0)::bigint FROM visit_totals t JOIN sites s ON s.id = t.site_id \
             WHERE s.domain = 'example.com'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    assert_eq!(counted().await, 1);

    // Stopping needs the domain typed again; the history stays.
    let remove = "/account/sites/example.com/remove";
    let response = submit(&app.client, settings, remove, &[("confirm", "example.org")]).await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    assert!(response
        .into_string()
        .await
        .unwrap()
        .contains("Type example.com to confirm."));
    let active = || async {
        sqlx::query_scalar::<_, bool>("SELECT active FROM sites WHERE domain = 'example.com'")
            .fetch_optional(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(active().await, Some(true));
    let response = submit(&app.client, settings, remove, &[("confirm", "example.com")]).await;
    assert_eq!(
        location(&response),
        "/account/sites/example.com?done=stopped"
    );
    assert_eq!(active().await, Some(false));
    assert_eq!(counted().await, 1);
    // Its owner counts it again, with its history.
    assert_eq!(
        add_site(&app.client, &[("domain", "example.com")])
            .await
            .status(),
        Status::SeeOther
    );
    assert_eq!(active().await, Some(true));
    assert_eq!(counted().await, 1);

    // Deleting it deletes every count and its owners.
    let response = submit(
        &app.client,
        settings,
        remove,
        &[("confirm", "example.com"), ("purge", "on")],
    )
    .await;
    assert_eq!(location(&response), "/account/sites?done=deleted");
    assert_eq!(active().await, None);
    assert_eq!(counted().await, 0);
    assert_eq!(count(&app.db, "site_members").await, 0);
    assert!(page(&app.client, "/account/sites?done=deleted")
        .await
        .contains("The site is deleted"));
}

/// The path of a new invitation to example.com, made by its owner `client`.
async fn invitation_path(client: &rocket::local::asynchronous::Client, role: &str) -> String {
    let response = submit(
        client,
        "/account/sites/example.com",
        "/account/sites/example.com/invitations",
        &[("role", role)],
    )
    .await;
    assert_eq!(response.status(), Status::Ok);
    let link = snippet(&response.into_string().await.unwrap(), "invitation");
    let path = link.trim_start_matches("http://localhost:8080").to_owned();
    assert!(path.starts_with("/invite/"), "{link}");
    path
}

#[rocket::async_test]
async fn an_invited_viewer_reads_the_private_dashboard_and_changes_nothing() {
    let app = owner_of_example().await;
    let settings = "/account/sites/example.com";
    let path = invitation_path(&app.client, "viewer").await;
    assert!(
        !page(&app.client, settings)
            .await
            .contains(r#"id="invitation""#),
        "shown once"
    );

    let guest = other_browser(&app).await;
    let html = page(&guest.client, &path).await;
    assert!(
        html.contains("You are invited to example.com as its viewer"),
        "{html}"
    );
    let join = format!("{path}/account");
    let cases: [Refusal; 4] = [
        (
            &[
                ("email", "vic"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
            Status::UnprocessableEntity,
            "This is not an email address",
        ),
        (
            &[
                ("email", "vic@example.org"),
                ("password", "short"),
                ("password_again", "short"),
            ],
            Status::UnprocessableEntity,
            "Use at least 10 characters.",
        ),
        (
            &[
                ("email", "vic@example.org"),
                ("password", PASSWORD),
                ("password_again", "something else"),
            ],
            Status::UnprocessableEntity,
            "The two passwords differ.",
        ),
        (
            &[
                ("email", "ANN@example.org"),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
            ],
            Status::Conflict,
            "An account with this address exists",
        ),
    ];
    for (fields, status, message) in cases {
        let response = submit(&guest.client, &path, &join, fields).await;
        assert_eq!(response.status(), status, "{fields:?}");
        assert!(
            response.into_string().await.unwrap().contains(message),
            "{message}"
        );
    }
    assert_eq!(count(&app.db, "users").await, 1);
    assert_eq!(count(&app.db, "site_members").await, 1);

    let response = submit(
        &guest.client,
        &path,
        &join,
        &[
            ("email", "vic@example.org"),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
        ],
    )
    .await;
    assert_eq!(location(&response), "/account/sites?done=joined");
    let listed = page(&guest.client, "/account/sites?done=joined").await;
    assert!(listed.contains("You are a member of the site"), "{listed}");
    assert!(
        listed.contains("<td>example.com</td>") && listed.contains("<td>viewer</td>"),
        "{listed}"
    );
    // A viewer reads the private dashboard without its link, and manages nothing.
    assert_eq!(
        guest
            .client
            .get("/sites/example.com")
            .dispatch()
            .await
            .status(),
        Status::Ok
    );
    assert_eq!(
        guest
            .client
            .get("/api/sites/example.com/stats")
            .dispatch()
            .await
            .status(),
        Status::Ok
    );
    assert_eq!(
        guest.client.get(settings).dispatch().await.status(),
        Status::NotFound
    );
    let token = crate::accounts::form_token(&page(&guest.client, "/account/sites").await);
    for (action, fields) in [
        (
            "/account/sites/example.com/link",
            vec![("csrf", token.as_str())],
        ),
        (
            "/account/sites/example.com/remove",
            vec![("csrf", token.as_str()), ("confirm", "example.com")],
        ),
        (
            "/account/sites/example.com",
            vec![("csrf", token.as_str()), ("public", "on")],
        ),
        (
            "/account/sites/example.com/invitations",
            vec![("csrf", token.as_str()), ("role", "owner")],
        ),
    ] {
        let response = guest
            .client
            .post(action)
            .header(ContentType::Form)
            .body(encoded(&fields))
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::NotFound, "{action}");
    }
    let (visibility, active): (String, bool) =
        sqlx::query_as("SELECT visibility::text, active FROM sites WHERE domain = 'example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((visibility.as_str(), active), ("private", true));
    assert_eq!(count(&app.db, "invitations").await, 1);

    // The link is spent; someone signed in who is no member sees nothing.
    add_account(&app.db, "cal@example.org").await;
    let stranger = other_browser(&app).await;
    assert_eq!(
        sign_in(&stranger.client, "cal@example.org", PASSWORD)
            .await
            .status(),
        Status::SeeOther
    );
    let response = stranger.client.get(path.as_str()).dispatch().await;
    assert_eq!(response.status(), Status::Forbidden);
    assert!(response
        .into_string()
        .await
        .unwrap()
        .contains("it was used already"));
    assert_eq!(
        stranger
            .client
            .get("/sites/example.com")
            .dispatch()
            .await
            .status(),
        Status::NotFound
    );
}

#[rocket::async_test]
async fn an_owner_invitation_is_accepted_signed_in_and_expires() {
    let app = owner_of_example().await;
    let settings = "/account/sites/example.com";
    let invitations = "/account/sites/example.com/invitations";
    add_account(&app.db, "bea@example.org").await;
    let bea = other_browser(&app).await;
    assert_eq!(
        sign_in(&bea.client, "bea@example.org", PASSWORD)
            .await
            .status(),
        Status::SeeOther
    );
    assert_eq!(
        bea.client.get(settings).dispatch().await.status(),
        Status::NotFound
    );

    let path = invitation_path(&app.client, "owner").await;
    let html = page(&bea.client, &path).await;
    assert!(
        html.contains("You are signed in as <strong>bea@example.org</strong>"),
        "{html}"
    );
    let response = submit(&bea.client, &path, &path, &[]).await;
    assert_eq!(location(&response), "/account/sites?done=joined");
    assert!(page(&bea.client, settings)
        .await
        .contains("You are its owner."));

    // An invitation past its seven days is refused.
    let path = invitation_path(&app.client, "viewer").await;
    sqlx::query(
        "UPDATE invitations SET expires_at = now() - interval '1 second' WHERE accepted_at IS NULL",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let guest = other_browser(&app).await;
    assert_eq!(
        guest.client.get(path.as_str()).dispatch().await.status(),
        Status::Forbidden
    );
    // A bad role is a 400, and makes no invitation.
    let response = submit(&app.client, settings, invitations, &[("role", "admin")]).await;
    assert_eq!(response.status(), Status::BadRequest);
    assert_eq!(count(&app.db, "invitations").await, 2);
}

#[rocket::async_test]
async fn a_site_page_shows_its_goals_imports_and_exports() {
    let app = owner_of_example().await;
    let settings = "/account/sites/example.com";
    let html = page(&app.client, settings).await;
    assert!(
        html.contains("No goals yet.") && html.contains("No history imported."),
        "{html}"
    );
    let site: i32 = sqlx::query_scalar("SELECT id FROM sites WHERE domain = 'example.com'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    for (kind, pattern) in [
        (visitors::counting::goal::GoalKind::Event, "Sign<up>"),
        (visitors::counting::goal::GoalKind::Page, "/pricing"),
    ] {
        let goal = visitors::counting::goal::Goal::parse(kind, pattern).unwrap();
        visitors::goals::store::add(&app.db, visitors::counting::site_id::SiteId(site), &goal)
            .await
            .unwrap();
    }
    let html = page(&app.client, settings).await;
    assert!(
        html.contains("<li>event <code>Sign&#60;up&#62;</code> <form")
            || html.contains("<li>event <code>Sign&lt;up&gt;</code> <form"),
        "{html}"
    );
    assert!(
        html.contains("<li>page <code>/pricing</code> <form"),
        "{html}"
    );
    // The private site's export opens for its owner, signed in, without its link.
    let export = "/api/sites/example.com/export.csv?range=all&granularity=day";
    assert!(html.contains(&export.replace('&', "&amp;")), "{html}");
    let response = app.client.get(export).dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::CSV));
    let stranger = other_browser(&app).await;
    assert_eq!(
        stranger.client.get(export).dispatch().await.status(),
        Status::NotFound
    );
}

#[rocket::async_test]
async fn goals_are_added_and_removed_from_the_sites_page_with_the_clis_checks() {
    let app = owner_of_example().await;
    let settings = "/account/sites/example.com";
    let goals = "/account/sites/example.com/goals";
    let refused = submit(
        &app.client,
        settings,
        goals,
        &[("kind", "page"), ("pattern", "/blog/*/x")],
    )
    .await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    let html = refused.into_string().await.unwrap();
    assert!(
        html.contains(
            r#"<p class="field-error" id="goal-error">The page must be a path like /pricing"#
        ),
        "{html}"
    );
    let refused = submit(
        &app.client,
        settings,
        goals,
        &[("kind", "event"), ("pattern", " ")],
    )
    .await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    assert!(refused
        .into_string()
        .await
        .unwrap()
        .contains("An event needs a name."));
    assert_eq!(count(&app.db, "goals").await, 0);

    let fields = [("kind", "event"), ("pattern", "Sign<up>")];
    let added = submit(&app.client, settings, goals, &fields).await;
    assert_eq!(
        location(&added),
        "/account/sites/example.com?done=goal-added"
    );
    drop(added);
    let again = submit(&app.client, settings, goals, &fields).await;
    assert_eq!(
        location(&again),
        "/account/sites/example.com?done=goal-kept"
    );
    drop(again);
    assert_eq!(count(&app.db, "goals").await, 1);
    let html = page(&app.client, settings).await;
    assert!(
        html.contains(r#"name="pattern" value="Sign&#60;up&#62;""#)
            || html.contains(r#"name="pattern" value="Sign&lt;up&gt;""#),
        "{html}"
    );

    let remove = format!("{goals}/remove");
    let removed = submit(&app.client, settings, &remove, &fields).await;
    assert_eq!(
        location(&removed),
        "/account/sites/example.com?done=goal-removed"
    );
    drop(removed);
    assert_eq!(count(&app.db, "goals").await, 0);
}

/// A multipart body with the form token and one file field.
fn upload(token: &str, name: &str, content: &[u8]) -> (ContentType, Vec<u8>) {
    let boundary = "visitors-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type =
        ContentType::new("multipart", "form-data").with_params(("boundary", boundary));
    (content_type, body)
}

#[rocket::async_test]
async fn history_is_imported_from_the_sites_page_with_the_clis_checks() {
    let app = owner_of_example().await;
    let settings = "/account/sites/example.com";
    let import = "/account/sites/example.com/import";
    let send = |name: &'static str, content: Vec<u8>| {
        let client = &app.client;
        async move {
            let token = crate::accounts::form_token(&page(client, settings).await);
            let (content_type, body) = upload(&token, name, &content);
            let response = client
                .post(import)
                .header(content_type)
                .body(body)
                .dispatch()
                .await;
            (
                response.status(),
                location(&response),
                response.into_string().await.unwrap_or_default(),
            )
        }
    };
    let header = "time,granularity,dimension,value,unique_visitors,visits\r\n";
    let bad = format!(
        "{header}2026-11-01T00:00:00Z,day,total,,5,9\r\n2026-11-02T00:00:00Z,day,total,,five,9\r\n"
    );
    let (status, _, html) = send("old<1>.csv", bad.into_bytes()).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(
        html.contains(r#"id="import-error">old&#60;1&#62;.csv: line 3"#)
            || html.contains(r#"id="import-error">old&lt;1&gt;.csv: line 3"#),
        "{html}"
    );
    assert!(html.contains("nothing was imported"), "{html}");
    let (status, _, html) = send("empty.csv", Vec::new()).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("Choose a CSV file to import."), "{html}");
    let mut huge = header.as_bytes().to_vec();
    huge.resize(8 * 1024 * 1024 + 1, b'x');
    let (status, _, html) = send("huge.csv", huge).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(
        html.contains("huge.csv is larger than 8 MiB; nothing was imported."),
        "{html}"
    );
    assert_eq!(count(&app.db, "imports").await, 0);
    assert_eq!(count(&app.db, "imported_counts").await, 0);

    let good = format!(
        "{header}2026-11-01T00:00:00Z,day,total,,5,9\r\n2026-11-01T00:00:00Z,day,page,/,5,9\r\n"
    );
    let (status, to, _) = send("old.csv", good.clone().into_bytes()).await;
    assert_eq!(
        (status, to.as_str()),
        (Status::SeeOther, "/account/sites/example.com?done=imported")
    );
    let (_, to, _) = send("old.csv", good.into_bytes()).await;
    assert_eq!(to, "/account/sites/example.com?done=imported-before");
    assert_eq!(count(&app.db, "imports").await, 1);
    assert_eq!(count(&app.db, "imported_counts").await, 2);
    let html = page(&app.client, settings).await;
    assert!(
        html.contains(r#"<td class="num">2</td><td>old.csv</td>"#),
        "{html}"
    );
}

/// The time zone from a site's page: a name that is not one is refused next
/// to its field and changes nothing; a real one is saved, and the site's
/// dashboard and JSON count in it at once.
#[rocket::async_test]
async fn the_time_zone_is_set_from_the_sites_page() {
    let app = owner_of_example().await;
    let settings = "/account/sites/example.com";
    let action = "/account/sites/example.com/time-zone";
    let zone = || async {
        sqlx::query_scalar::<_, String>("SELECT time_zone FROM sites WHERE domain = 'example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    for bad in ["Mars/Olympus", "<b>CET</b>", ""] {
        let refused = submit(&app.client, settings, action, &[("time_zone", bad)]).await;
        assert_eq!(refused.status(), Status::UnprocessableEntity, "{bad}");
        let html = refused.into_string().await.unwrap();
        assert!(
            html.contains(r#"<p class="field-error" id="time-zone-error">"#)
                && html.contains("is not a time zone"),
            "{html}"
        );
        assert!(!html.contains("<b>CET</b>"), "escaped");
        assert_eq!(zone().await, "UTC");
    }
    let saved = submit(
        &app.client,
        settings,
        action,
        &[("time_zone", "Europe/Berlin")],
    )
    .await;
    assert_eq!(
        location(&saved),
        "/account/sites/example.com?done=time-zone"
    );
    drop(saved);
    assert_eq!(zone().await, "Europe/Berlin");
    let stats: serde_json::Value = app
        .client
        .get("/api/sites/example.com/stats?range=7d")
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(stats["time_zone"], "Europe/Berlin");
    let page = app
        .client
        .get(settings)
        .dispatch()
        .await
        .into_string()
        .await
        .unwrap();
    assert!(page.contains(r#"name="time_zone" value="Europe/Berlin""#));
}
