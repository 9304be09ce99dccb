//! Where the notes live: a throwaway server removed at shutdown, a `DATABASE_URL` set up
//! once and reused (with the emulator's users and their profiles), an unreachable one
//! refused at start-up without its password shown, and no database at all, where the
//! notes and the account page say how to get one and the rest works.
#![allow(clippy::unwrap_used)]

mod support;

use demo::{DEMO_EMAIL, DEMO_PASSWORD, Database, DemoError};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;
use support::{TURNED_OFF, api_get, api_post, bearer, browser, json, sign_in_page, start};
use throwaway_postgres::ThrowawayPostgres;

async fn server_version(url: &str) -> String {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let version: String = sqlx::query_scalar("select current_setting('server_version')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    version.split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn shutdown_stops_the_throwaway_server_and_removes_its_directory() {
    let app = start(Database::Throwaway).await;
    let url = app.database_url().unwrap().to_owned();
    let dir = app.database_dir().unwrap();
    assert!(dir.join("data").is_dir(), "{}", dir.display());
    assert!(url.ends_with(&format!("?host={}", dir.display())), "{url}");
    assert_eq!(
        app.database_summary(),
        format!(
            "throwaway PostgreSQL {} (removed on exit)",
            server_version(&url).await
        )
    );
    app.shutdown().await;
    assert!(!dir.exists(), "{} is still there", dir.display());
    assert!(sqlx::PgConnection::connect(&url).await.is_err());
}

#[tokio::test]
async fn a_database_url_is_set_up_when_empty_and_reused_as_it_is() {
    let server = tokio::task::spawn_blocking(ThrowawayPostgres::start)
        .await
        .unwrap()
        .unwrap();
    let url = server.url().to_owned();

    let first = start(Database::Url(url.clone())).await;
    assert_eq!(first.database_summary(), url);
    assert_eq!(first.database_url(), Some(url.as_str()));
    // Not ours: nothing to remove.
    assert_eq!(first.database_dir(), None);
    let a = bearer(&first, DEMO_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(
        api_post(&first, &a.token, r#"{"body":"kept"}"#).await.0,
        201
    );
    first.shutdown().await;

    // The server outlives the demo, and a second one finds the table and its row, and
    // the emulator its users: the demo user is the same one, with the same note.
    let second = start(Database::Url(url.clone())).await;
    let a2 = bearer(&second, DEMO_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(a2.id, a.id);
    let (status, notes) = api_get(&second, &a2.token).await;
    assert_eq!(status, 200);
    assert_eq!(notes, json!([{ "id": 1, "user_id": a.id, "body": "kept" }]));
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as("select user_id::text, body from notes")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, [(a.id.clone(), "kept".to_owned())]);
    // One demo user, one profile: the second start added neither again.
    let users: Vec<(String, String)> =
        sqlx::query_as("select u.id::text, u.email from auth.users u order by u.email")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(users, [(a.id.clone(), DEMO_EMAIL.to_owned())]);
    let profiles: Vec<(String, String)> =
        sqlx::query_as("select id::text, display_name from public.profiles")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(profiles, [(a.id.clone(), "demo".to_owned())]);
    conn.close().await.unwrap();
    second.shutdown().await;
    server.stop();
}

#[tokio::test]
async fn an_unreachable_database_url_stops_start_up_without_showing_the_password() {
    let error = demo::run(demo::DemoConfig::emulator().port(0).database(Database::Url(
        "postgres://demo:s3cret@127.0.0.1:1/notes".into(),
    )))
    .await
    .unwrap_err();
    assert!(matches!(error, DemoError::Database { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the notes database postgres://demo@127.0.0.1:1/notes: connecting failed: error \
         communicating with database: Connection refused (os error 111)"
    );
    assert!(!format!("{error:?}").contains("s3cret"));
}

#[tokio::test]
async fn with_the_database_turned_off_the_notes_say_how_to_get_one_and_the_rest_works() {
    let app = start(Database::Off).await;
    assert_eq!(app.database_summary(), TURNED_OFF);
    assert_eq!(app.database_url(), None);
    assert_eq!(app.database_dir(), None);
    let client = browser();
    let unavailable =
        format!(r#"<p class="error" id="notes-unavailable" role="alert">{TURNED_OFF}</p>"#);

    let res = client
        .get(format!("{}/notes", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains(&unavailable));
    let res = client.get(app.url()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("You are not signed in"));

    sign_in_page(&app, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let res = client
        .get(format!("{}/dashboard", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The emulator keeps its users in memory, and the account page says why there is no
    // profile.
    assert_eq!(app.emulator().unwrap().database(), "in memory");
    let res = client
        .get(format!("{}/account", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let profiles_off = "Profiles are off (DATABASE_URL=off): unset DATABASE_URL for a throwaway \
                        PostgreSQL, or set DATABASE_URL=postgres://...";
    assert!(res.text().await.unwrap().contains(&format!(
        r#"<p class="error" id="profile-unavailable" role="alert">{profiles_off}</p>"#
    )));
    let res = client
        .post(format!("{}/notes", app.url()))
        .form(&[("body", "nowhere to go")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.text().await.unwrap().contains(&unavailable));

    let a = bearer(&app, DEMO_EMAIL, DEMO_PASSWORD).await;
    let down = json!({ "code": "database_unavailable", "message": TURNED_OFF });
    assert_eq!(api_get(&app, &a.token).await, (503, down.clone()));
    assert_eq!(
        api_post(&app, &a.token, r#"{"body":"x"}"#).await,
        (503, down)
    );
    let res = reqwest::Client::new()
        .get(format!("{}/api/notes", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(json(res).await.0, 401);
    app.shutdown().await;
}
