//! The notes over real HTTP, on a throwaway PostgreSQL: the page (cookie session) and
//! `/api/notes` (bearer token) run as the user, row-level security keeps each user to
//! their own rows, signed-out requests get nothing, and bad input is a 4xx.
#![allow(clippy::unwrap_used)]

mod support;

use demo::{DEMO_EMAIL, DEMO_PASSWORD, Database};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, ORIGIN, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use sqlx::Connection;
use support::{
    Bearer, api_get, api_post, bearer, browser, json, location, page_notes, sign_in_page, start,
};

const BOB: &str = "bob@example.com";
const BOB_PASSWORD: &str = "bob-password-1";

async fn post_form(app: &demo::App, client: &reqwest::Client, body: &str) -> reqwest::Response {
    client
        .post(format!("{}/notes", app.url()))
        .form(&[("body", body)])
        .send()
        .await
        .unwrap()
}

async fn page(app: &demo::App, client: &reqwest::Client) -> (StatusCode, String) {
    let res = client
        .get(format!("{}/notes", app.url()))
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

fn note(id: i64, user: &Bearer, body: &str) -> Value {
    json!({ "id": id, "user_id": user.id, "body": body })
}

/// Every row, read as the superuser (RLS does not apply to it).
async fn all_rows(app: &demo::App) -> Vec<(i64, String, String)> {
    let mut conn = sqlx::PgConnection::connect(app.database_url().unwrap())
        .await
        .unwrap();
    let rows = sqlx::query_as("select id, user_id::text, body from notes order by id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows
}

#[tokio::test]
async fn each_user_sees_only_their_own_notes_on_the_page_and_the_api() {
    let app = start(Database::Throwaway).await;
    app.emulator()
        .unwrap()
        .create_user(BOB, BOB_PASSWORD)
        .await
        .unwrap();
    let (a, b) = (browser(), browser());
    sign_in_page(&app, &a, DEMO_EMAIL, DEMO_PASSWORD).await;
    let a_api = bearer(&app, DEMO_EMAIL, DEMO_PASSWORD).await;

    // A: one note through the form, one through the API.
    let res = post_form(&app, &a, "first note of A").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/notes");
    assert_eq!(
        api_post(&app, &a_api.token, r#"{"body": "second note of A"}"#).await,
        (201, note(2, &a_api, "second note of A"))
    );
    let (status, html) = page(&app, &a).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        page_notes(&html),
        [
            (1, "first note of A".to_owned()),
            (2, "second note of A".to_owned())
        ]
    );
    assert!(html.contains(r#"<a href="/notes">Notes</a>"#));
    assert_eq!(
        api_get(&app, &a_api.token).await,
        (
            200,
            json!([
                note(1, &a_api, "first note of A"),
                note(2, &a_api, "second note of A")
            ])
        )
    );

    // B sees none of them, on the page or the API, and writes one of their own.
    sign_in_page(&app, &b, BOB, BOB_PASSWORD).await;
    let b_api = bearer(&app, BOB, BOB_PASSWORD).await;
    let (status, html) = page(&app, &b).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page_notes(&html), []);
    assert!(html.contains(r#"<p class="status" id="no-notes">No notes yet.</p>"#));
    assert_eq!(api_get(&app, &b_api.token).await, (200, json!([])));
    assert_eq!(
        post_form(&app, &b, "note of B").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        api_get(&app, &b_api.token).await,
        (200, json!([note(3, &b_api, "note of B")]))
    );
    assert_eq!(page_notes(&page(&app, &a).await.1).len(), 2);

    // All three are in the table, each with its writer's id.
    let row = |id: i64, user: &Bearer, body: &str| (id, user.id.clone(), body.to_owned());
    assert_eq!(
        all_rows(&app).await,
        [
            row(1, &a_api, "first note of A"),
            row(2, &a_api, "second note of A"),
            row(3, &b_api, "note of B")
        ]
    );
    app.shutdown().await;
}

#[tokio::test]
async fn signed_out_the_page_redirects_and_the_api_answers_401_json() {
    let app = start(Database::Throwaway).await;
    let nobody = browser();
    let res = nobody
        .get(format!("{}/notes", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/sign-in?next=%2Fnotes");
    let res = post_form(&app, &nobody, "from nobody").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/sign-in?next=%2Fnotes");

    let missing = json!({
        "code": "missing_credentials",
        "message": "credentials required: this endpoint accepts user"
    });
    let res = nobody
        .get(format!("{}/api/notes", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(res.headers()[WWW_AUTHENTICATE], "Bearer");
    assert_eq!(json(res).await, (401, missing.clone()));

    // A signed-in browser's cookies are not credentials for the API.
    let signed_in = browser();
    sign_in_page(&app, &signed_in, DEMO_EMAIL, DEMO_PASSWORD).await;
    let res = signed_in
        .post(format!("{}/api/notes", app.url()))
        .json(&json!({ "body": "from cookies" }))
        .send()
        .await
        .unwrap();
    assert_eq!(json(res).await, (401, missing));

    let res = reqwest::Client::new()
        .get(format!("{}/api/notes", app.url()))
        .bearer_auth("not-a-jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()[WWW_AUTHENTICATE],
        r#"Bearer error="invalid_token""#
    );
    assert_eq!(
        json(res).await,
        (
            401,
            json!({ "code": "invalid_token", "message": "the bearer token was rejected: invalid JWT: malformed JWT: not three dot-separated parts" })
        )
    );
    assert_eq!(all_rows(&app).await, []);
    app.shutdown().await;
}

#[tokio::test]
async fn a_token_for_another_role_is_403_and_writes_nothing() {
    let app = start(Database::Throwaway).await;
    let a = bearer(&app, DEMO_EMAIL, DEMO_PASSWORD).await;
    let mut claims = a.claims.clone();
    claims["role"] = json!("service_role");
    let forged = app.emulator().unwrap().sign_jwt(&claims).unwrap();
    assert_eq!(
        api_post(&app, &forged, r#"{"body": "as service_role"}"#).await,
        (
            403,
            json!({
                "code": "unsupported_role",
                "message": "the token's role `service_role` is not supported: a \
                    row-level-security-scoped transaction runs only as `authenticated` or \
                    `anon`; to bypass row-level security, use the admin path explicitly \
                    (`RlsPool::begin_bypassing_rls`)"
            })
        )
    );
    assert_eq!(all_rows(&app).await, []);
    app.shutdown().await;
}

#[tokio::test]
async fn note_text_is_escaped_and_every_bad_body_is_a_400() {
    let app = start(Database::Throwaway).await;
    let a = browser();
    sign_in_page(&app, &a, DEMO_EMAIL, DEMO_PASSWORD).await;
    let a_api = bearer(&app, DEMO_EMAIL, DEMO_PASSWORD).await;

    let script = r#"<script>alert("x")</script>"#;
    assert_eq!(
        post_form(&app, &a, script).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, html) = page(&app, &a).await;
    assert_eq!(
        page_notes(&html),
        [(
            1,
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;".to_owned()
        )]
    );
    assert!(!html.contains("<script>alert"));
    assert_eq!(
        api_get(&app, &a_api.token).await.1,
        json!([note(1, &a_api, script)])
    );

    // The form: the reason, and the text put back.
    let longest = "x".repeat(2000);
    let too_long = format!("{longest}y");
    for (body, reason) in [
        ("", "The note is empty."),
        ("  \r\n ", "The note is empty."),
        (
            too_long.as_str(),
            "The note is longer than 2000 characters.",
        ),
        ("a\0b", "The note contains a NUL character."),
    ] {
        let res = post_form(&app, &a, body).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body:?}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!(
                r#"<p class="error" id="error" role="alert">{reason}</p>"#
            )),
            "{body:?}: {html}"
        );
        assert_eq!(
            page_notes(&html),
            [(
                1,
                "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;".to_owned()
            )]
        );
    }
    let res = post_form(&app, &a, &too_long).await;
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(&format!(">{too_long}</textarea>"))
    );
    // A form without the field at all.
    let res = a
        .post(format!("{}/notes", app.url()))
        .form(&[("other", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The API: one shape for every refusal.
    let invalid = |message: &str| (400, json!({ "code": "invalid_body", "message": message }));
    let not_json = invalid(r#"the request body must be JSON: {"body": "..."}"#);
    let not_string = invalid("`body` must be a string");
    for (body, expected) in [
        ("", not_json.clone()),
        ("{", not_json.clone()),
        ("body=x", not_json),
        ("{}", not_string.clone()),
        ("[]", not_string.clone()),
        (r#"{"body": 42}"#, not_string.clone()),
        (r#"{"body": null}"#, not_string.clone()),
        (r#"{"body": ["x"]}"#, not_string),
        (r#"{"body": ""}"#, invalid("The note is empty.")),
        (r#"{"body": " \n "}"#, invalid("The note is empty.")),
        (
            &format!(r#"{{"body": "{too_long}"}}"#),
            invalid("The note is longer than 2000 characters."),
        ),
        (
            r#"{"body": "a\u0000b"}"#,
            invalid("The note contains a NUL character."),
        ),
    ] {
        assert_eq!(
            api_post(&app, &a_api.token, body).await,
            expected,
            "{body:?}"
        );
    }
    // The longest note fits, through both doors; surrounding whitespace goes.
    assert_eq!(
        post_form(&app, &a, &format!(" {longest}\n")).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        api_post(&app, &a_api.token, &format!(r#"{{"body": "{longest}"}}"#)).await,
        (201, note(3, &a_api, &longest))
    );
    // Only the three accepted notes were written (ids 2 and 3: nothing refused took one).
    let bodies: Vec<String> = all_rows(&app).await.into_iter().map(|r| r.2).collect();
    assert_eq!(bodies, [script.to_owned(), longest.clone(), longest]);
    app.shutdown().await;
}

#[tokio::test]
async fn bearer_posts_pass_without_an_origin_and_cross_site_page_posts_do_not() {
    let app = start(Database::Throwaway).await;
    let a_api = bearer(&app, DEMO_EMAIL, DEMO_PASSWORD).await;
    // curl-like: no Origin, no Sec-Fetch-Site.
    assert_eq!(
        api_post(&app, &a_api.token, r#"{"body": "from a script"}"#).await,
        (201, note(1, &a_api, "from a script"))
    );
    // The API's credential is the token, which no other site has: Origin does not matter.
    let res = reqwest::Client::new()
        .post(format!("{}/api/notes", app.url()))
        .bearer_auth(&a_api.token)
        .header(ORIGIN, "http://evil.example")
        .header("sec-fetch-site", "cross-site")
        .body(r#"{"body": "from another origin"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(res).await,
        (201, note(2, &a_api, "from another origin"))
    );
    // The page's credential is the cookie: a cross-site form post is refused.
    let a = browser();
    sign_in_page(&app, &a, DEMO_EMAIL, DEMO_PASSWORD).await;
    let res = a
        .post(format!("{}/notes", app.url()))
        .header(ORIGIN, "http://evil.example")
        .form(&[("body", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Cross-site request refused")
    );
    assert_eq!(all_rows(&app).await.len(), 2);
    app.shutdown().await;
}

#[tokio::test]
async fn under_api_wrong_paths_methods_and_sizes_answer_json_too() {
    let app = start(Database::Throwaway).await;
    let ada = bearer(&app, DEMO_EMAIL, DEMO_PASSWORD).await;
    let http = reqwest::Client::new();
    let not_found = http
        .get(format!("{}/api/nope", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(not_found).await,
        (
            404,
            json!({ "code": "not_found", "message": "no such API route" })
        )
    );
    let wrong_method = http
        .delete(format!("{}/api/notes", app.url()))
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(wrong_method).await,
        (
            405,
            json!({ "code": "method_not_allowed", "message": "this route does not answer that method" })
        )
    );
    // Past axum's 2 MB default body limit.
    let huge = format!(r#"{{"body":"{}"}}"#, "x".repeat(3 * 1024 * 1024));
    let (status, body) = api_post(&app, &ada.token, &huge).await;
    assert_eq!((status, &body["code"]), (413, &json!("invalid_body")));
    assert_eq!(all_rows(&app).await, Vec::new());
    app.shutdown().await;
}
