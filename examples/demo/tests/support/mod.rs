//! Shared by the notes and database tests: the demo on a free port, a cookie-keeping
//! browser, bearer tokens from the core client, and the notes a page lists.
#![allow(dead_code, reason = "each test file uses a different part")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use demo::{Database, DemoConfig};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::Value;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::cookies::CookieJar;

/// What the notes pages and the banner say when `DATABASE_URL=off` turned the database
/// off.
pub(crate) const TURNED_OFF: &str = "Notes are off (DATABASE_URL=off): unset DATABASE_URL for a \
                                     throwaway PostgreSQL, or set DATABASE_URL=postgres://...";

/// The demo with the embedded emulator, on a free port.
pub(crate) async fn start(database: Database) -> demo::App {
    demo::run(DemoConfig::emulator().port(0).database(database))
        .await
        .unwrap()
}

/// A client that keeps cookies and shows redirects instead of following them.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

pub(crate) fn location(res: &reqwest::Response) -> &str {
    res.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Signs `client` in through the sign-in form.
pub(crate) async fn sign_in_page(app: &demo::App, client: &reqwest::Client, email: &str, pw: &str) {
    let res = client
        .post(format!("{}/sign-in", app.url()))
        .form(&[("email", email), ("password", pw), ("next", "/notes")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/notes");
}

/// A signed-in user as an API client sees it.
pub(crate) struct Bearer {
    pub(crate) token: String,
    /// The user id (`sub`).
    pub(crate) id: String,
    /// The verified claims, as JSON.
    pub(crate) claims: Value,
}

/// Signs in with the core client (password grant) and verifies the access token.
pub(crate) async fn bearer(app: &demo::App, email: &str, password: &str) -> Bearer {
    let key = app.emulator().unwrap().publishable_key();
    let auth = SupabaseAuth::builder(app.supabase_url(), key)
        .build()
        .unwrap();
    let session = auth
        .server_client(Arc::new(CookieJar::default()))
        .sign_in_with_password(email, password)
        .await
        .unwrap();
    let claims = auth
        .verify_access_token(session.access_token())
        .await
        .unwrap();
    Bearer {
        token: session.access_token().to_owned(),
        id: claims.sub.clone().unwrap(),
        claims: serde_json::to_value(&claims).unwrap(),
    }
}

/// The status and JSON body of an answer.
pub(crate) async fn json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// `(id, body as HTML)` of each note the notes page lists, in order.
pub(crate) fn page_notes(html: &str) -> Vec<(i64, String)> {
    html.split(r#"<li class="card note" data-id=""#)
        .skip(1)
        .map(|rest| {
            let (id, rest) = rest.split_once(r#"">"#).unwrap();
            let (body, _) = rest.split_once("</li>").unwrap();
            (id.parse().unwrap(), body.to_owned())
        })
        .collect()
}

/// `GET /api/notes` with a bearer token: the status and the JSON body.
pub(crate) async fn api_get(app: &demo::App, token: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .get(format!("{}/api/notes", app.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    json(res).await
}

/// `POST /api/notes` with a bearer token and a raw JSON body.
pub(crate) async fn api_post(app: &demo::App, token: &str, body: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/notes", app.url()))
        .bearer_auth(token)
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    json(res).await
}
