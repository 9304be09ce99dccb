//! Profiles over real HTTP and a real PostgreSQL: the embedded emulator keeps its users in
//! the demo's database, so signing up through the demo inserts into `auth.users`, whose
//! trigger makes the `public.profiles` row the account page shows (read as the user,
//! under row-level security); deleting the user with the Auth admin API deletes the
//! profile. With a real project the demo leaves `auth` alone and says what to run; an
//! `auth` schema from another Auth server stops start-up with the emulator's error.
#![allow(clippy::unwrap_used)]

mod support;

use demo::{DEMO_EMAIL, DEMO_PASSWORD, Database, DemoConfig};
use reqwest::StatusCode;
use sqlx::{Connection, PgConnection};
use supabase_auth_emulator::EmulatorConfig;
use support::{bearer, browser, location, sign_in_page};

const ADA: &str = "ada@example.com";
const ADA_PASSWORD: &str = "ada-password-1";

/// The `<dl>` of the account page's profile card.
fn profile_list(display_name: &str, created: &str, id: &str) -> String {
    format!(
        r#"<dl><dt>Display name</dt><dd id="profile-display-name">{display_name}</dd><dt>Created</dt><dd id="profile-created">{created}</dd><dt>User id</dt><dd id="profile-id"><code>{id}</code></dd></dl>"#
    )
}

/// Every profile, read as the superuser (RLS does not apply to it), oldest first:
/// `(id, display_name, created_at as the account page writes it)`.
async fn all_profiles(conn: &mut PgConnection) -> Vec<(String, Option<String>, String)> {
    sqlx::query_as(
        "select id::text, display_name, \
         to_char(created_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' \
         from public.profiles order by created_at, id",
    )
    .fetch_all(conn)
    .await
    .unwrap()
}

async fn account_page(app: &demo::App, client: &reqwest::Client) -> String {
    let res = client
        .get(format!("{}/account", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

#[tokio::test]
async fn signing_up_makes_a_profile_that_the_account_page_shows_and_deleting_the_user_removes() {
    let app = demo::run(
        DemoConfig::emulator()
            .port(0)
            // Signed in at once: the confirmation email is not what this test is about.
            .autoconfirm(true)
            .database(Database::Throwaway),
    )
    .await
    .unwrap();
    // The emulator is on the throwaway server's socket: the URL's `?host=`, as libpq
    // reads it.
    let emulator = app.emulator().unwrap();
    assert_eq!(
        emulator.database(),
        format!(
            "PostgreSQL at {}, database postgres",
            app.database_dir().unwrap().display()
        )
    );
    let mut conn = PgConnection::connect(app.database_url().unwrap())
        .await
        .unwrap();

    // The demo user, created at start-up, got a profile from the trigger: no name was
    // given, so the email's local part.
    let demo_user = bearer(&app, DEMO_EMAIL, DEMO_PASSWORD).await;
    let profiles = all_profiles(&mut conn).await;
    assert_eq!(profiles.len(), 1);
    assert_eq!(
        (profiles[0].0.as_str(), profiles[0].1.as_deref()),
        (demo_user.id.as_str(), Some("demo"))
    );

    // Ada signs up through the demo's form, with a name.
    let client = browser();
    let res = client
        .post(format!("{}/sign-up", app.url()))
        .form(&[
            ("display_name", "  Ada Lovelace "),
            ("email", ADA),
            ("password", ADA_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/dashboard");
    let ada = bearer(&app, ADA, ADA_PASSWORD).await;

    // The emulator wrote her into this database's auth.users, with her name in
    // raw_user_meta_data, and the trigger made her profile from it.
    let (email, meta_name): (String, String) = sqlx::query_as(
        "select email, raw_user_meta_data ->> 'display_name' from auth.users where id = $1::uuid",
    )
    .bind(&ada.id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((email.as_str(), meta_name.as_str()), (ADA, "Ada Lovelace"));
    let profiles = all_profiles(&mut conn).await;
    assert_eq!(profiles.len(), 2);
    let (id, name, created) = profiles[1].clone();
    assert_eq!(
        (id.as_str(), name.as_deref()),
        (ada.id.as_str(), Some("Ada Lovelace"))
    );

    // The account page shows her row, and only hers, though the demo user's is there
    // too: the query has no filter, RLS has.
    let html = account_page(&app, &client).await;
    assert!(
        html.contains(&profile_list("Ada Lovelace", &created, &ada.id)),
        "{html}"
    );
    assert!(!html.contains(&demo_user.id), "{html}");

    // And the demo user sees theirs.
    let other = browser();
    sign_in_page(&app, &other, DEMO_EMAIL, DEMO_PASSWORD).await;
    let html = account_page(&app, &other).await;
    assert!(
        html.contains(&profile_list("demo", &profiles[0].2, &demo_user.id)),
        "{html}"
    );
    assert!(!html.contains(&ada.id), "{html}");

    // Deleting Ada with the Auth admin API (the secret key) deletes her profile:
    // `references auth.users (id) on delete cascade`.
    let res = reqwest::Client::new()
        .delete(format!(
            "{}/auth/v1/admin/users/{}",
            app.supabase_url(),
            ada.id
        ))
        .header("apikey", emulator.secret_key())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let left: Vec<String> = all_profiles(&mut conn)
        .await
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(left, [demo_user.id.as_str()]);
    let users: Vec<String> = sqlx::query_scalar("select id::text from auth.users order by email")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(users, [demo_user.id]);

    conn.close().await.unwrap();
    app.shutdown().await;
}

#[tokio::test]
async fn with_a_real_project_the_demo_leaves_auth_alone_and_says_what_to_run() {
    // A stand-in for the real project: an emulator of its own, users in memory.
    let project = EmulatorConfig::default().port(0).start().await.unwrap();
    project.create_user(ADA, ADA_PASSWORD).await.unwrap();
    let app = demo::run(
        DemoConfig::project(project.url(), project.publishable_key())
            .port(0)
            .database(Database::Throwaway),
    )
    .await
    .unwrap();
    assert!(app.emulator().is_none());

    let client = browser();
    sign_in_page(&app, &client, ADA, ADA_PASSWORD).await;
    let html = account_page(&app, &client).await;
    assert!(
        html.contains(
            r#"<p class="error" id="profile-unavailable" role="alert">Profiles need the public.profiles table of examples/demo/sql/profiles.sql in your Supabase project's database: run it in the SQL editor, and set DATABASE_URL to that database.</p>"#
        ),
        "{html}"
    );

    // Only what the notes need: no auth.users, no profiles, no trigger.
    let mut conn = PgConnection::connect(app.database_url().unwrap())
        .await
        .unwrap();
    let tables: (Option<String>, Option<String>, Option<String>) = sqlx::query_as(
        "select to_regclass('auth.users')::text, to_regclass('public.profiles')::text, \
         to_regclass('public.notes')::text",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, (None, None, Some("notes".to_owned())));
    conn.close().await.unwrap();
    app.shutdown().await;
    project.shutdown().await;
}

#[tokio::test]
async fn an_auth_schema_from_another_auth_server_stops_start_up() {
    let server = tokio::task::spawn_blocking(throwaway_postgres::ThrowawayPostgres::start)
        .await
        .unwrap()
        .unwrap();
    let url = server.url().to_owned();
    // The emulator's schema, then without the columns only the emulator has: what a
    // Supabase database's GoTrue tables look like to it.
    demo::run(
        DemoConfig::emulator()
            .port(0)
            .database(Database::Url(url.clone())),
    )
    .await
    .unwrap()
    .shutdown()
    .await;
    let mut conn = PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(
        "alter table auth.sessions drop column amr; \
         alter table auth.flow_state drop column redirect_to",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let error = demo::run(
        DemoConfig::emulator()
            .port(0)
            .database(Database::Url(url.clone())),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, demo::DemoError::Emulator(_)), "{error:?}");
    // The server's socket directory, which the URL names as `?host=`.
    let dir = url.split_once("?host=").unwrap().1;
    assert_eq!(
        error.to_string(),
        format!(
            "the embedded Auth emulator failed: PostgreSQL at {dir}, database postgres already \
             has an `auth` schema made by another Auth server: it lacks auth.sessions.amr, \
             auth.flow_state.redirect_to. Use a database without one (the emulator creates its \
             own)."
        )
    );
    server.stop();
}
