//! Home, the protected dashboard and account pages, and the browser-client page.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use supabase_ssr_axum::{MaybeVerified, Supabase, Verified};

use super::{describe, pairs, see_other, status_for};
use crate::state::{Seen, Shared, fingerprint};
use crate::views::{self, AccountView, Ctx, DashboardView};
use crate::{assets, now_secs, profiles};

const MAX_DISPLAY_NAME: usize = 100;

/// `GET /`
pub(crate) async fn home(
    State(app): State<Shared>,
    MaybeVerified(claims): MaybeVerified,
) -> Response {
    let user = claims.as_ref().and_then(|c| c.email.as_deref());
    views::home(&Ctx::new(&app, user), claims.as_deref()).into_response()
}

/// `GET /dashboard`: verified claims, the user from the Auth server, and the session's
/// refresh history.
pub(crate) async fn dashboard(
    State(app): State<Shared>,
    Verified(claims): Verified,
    supabase: Supabase,
) -> Response {
    // The same per-request client the layer used: the session it refreshed, if it did.
    let session = supabase.get_session().await.ok().flatten();
    let user = supabase.get_user().await.map_err(|e| describe(&e));
    let history = match (&session, &claims.session_id) {
        (Some(s), Some(id)) => app.refresh_log.record(
            id,
            Seen {
                fingerprint: fingerprint(s.refresh_token()),
                issued_at: claims.iat.unwrap_or_default(),
            },
        ),
        _ => Vec::new(),
    };
    let view = DashboardView {
        claims: &claims,
        claims_json: serde_json::to_string_pretty(&claims).unwrap_or_default(),
        user,
        session_expires_at: session.as_ref().map(|s| s.expires_at()),
        history,
        now: now_secs(),
        refresh_margin_secs: app.refresh_margin.as_secs(),
        token_lifetime_secs: app.access_token_lifetime.map(|d| d.as_secs()),
    };
    views::dashboard(&Ctx::new(&app, claims.email.as_deref()), &view).into_response()
}

/// `GET /account[?saved=1]`: the display name from the Auth server, and the profile row
/// the sign-up trigger made, read as the user.
pub(crate) async fn account(
    State(app): State<Shared>,
    Verified(claims): Verified,
    supabase: Supabase,
    RawQuery(raw): RawQuery,
) -> Response {
    let saved = pairs(raw.unwrap_or_default().as_bytes()).contains_key("saved");
    // The current name from the Auth server; the token's copy may be older.
    let (name, error) = match supabase.get_user().await {
        Ok(Some(user)) => (
            user.user_metadata()
                .and_then(|m| m.get("display_name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            None,
        ),
        Ok(None) => (String::new(), None),
        Err(e) => (String::new(), Some(describe(&e))),
    };
    let profile = profiles::read(app.profiles.as_ref().map_err(String::as_str), &claims).await;
    let email = claims.email.as_deref().unwrap_or_default();
    let view = AccountView {
        email,
        display_name: &name,
        saved,
        error: error.as_deref(),
        profile: &profile,
    };
    views::account(&Ctx::new(&app, Some(email)), &view).into_response()
}

/// `POST /account`: display_name, saved into `user_metadata`.
pub(crate) async fn account_submit(
    State(app): State<Shared>,
    Verified(claims): Verified,
    supabase: Supabase,
    body: Bytes,
) -> Response {
    let form = pairs(&body);
    let name = form
        .get("display_name")
        .map(|s| s.trim())
        .unwrap_or_default();
    let (status, message) = if name.chars().count() > MAX_DISPLAY_NAME {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "The display name is too long (100 characters at most).".to_owned(),
        )
    } else {
        let mut data = Map::new();
        data.insert("display_name".into(), Value::String(name.to_owned()));
        let mut attributes = Map::new();
        attributes.insert("data".into(), Value::Object(data));
        match supabase.update_user(attributes).await {
            Ok(_) => return see_other("/account?saved=1"),
            Err(e) => {
                tracing::info!(error = %e, "update_user failed");
                (status_for(&e), describe(&e))
            }
        }
    };
    let profile = profiles::read(app.profiles.as_ref().map_err(String::as_str), &claims).await;
    let email = claims.email.as_deref().unwrap_or_default();
    let view = AccountView {
        email,
        display_name: name,
        saved: false,
        error: Some(&message),
        profile: &profile,
    };
    (status, views::account(&Ctx::new(&app, Some(email)), &view)).into_response()
}

/// `GET /browser-client`
pub(crate) async fn browser_client(
    State(app): State<Shared>,
    MaybeVerified(claims): MaybeVerified,
) -> Response {
    let user = claims.as_ref().and_then(|c| c.email.as_deref());
    views::browser_client(
        &Ctx::new(&app, user),
        user,
        &app.supabase_key,
        assets::bundle_missing(),
    )
    .into_response()
}

/// Anything else. No claims: unknown static paths skip the layer.
pub(crate) async fn not_found(State(app): State<Shared>) -> Response {
    (
        StatusCode::NOT_FOUND,
        views::not_found(&Ctx::new(&app, None)),
    )
        .into_response()
}
