//! The router: pages behind `SupabaseLayer`, static files skipped by its matcher,
//! same-origin checks on every form post; the notes page and `/api/notes` behind
//! `RlsLayer`, the API also behind `ApiAuthLayer` (bearer tokens only). `/security`
//! needs a second factor (`VerifiedAal2`): the layer names the pages that ask for one.

mod api;
mod auth;
mod mfa;
mod notes;
mod pages;

use std::collections::HashMap;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use supabase_ssr::AuthError;
use supabase_ssr::api_auth::AuthMode;
use supabase_ssr_axum::{ApiAuthLayer, SupabaseLayer};
use supabase_ssr_postgres::axum::RlsLayer;

use crate::state::Shared;
use crate::{assets, csrf};

pub(crate) fn router(app: Shared) -> Router {
    let layer = SupabaseLayer::new(app.auth.clone())
        .login_path("/sign-in")
        .mfa_challenge_path("/mfa/challenge")
        .mfa_enroll_path("/account/mfa");
    Router::new()
        .route("/", get(pages::home))
        .route("/dashboard", get(pages::dashboard))
        .route("/account", get(pages::account).post(pages::account_submit))
        .route("/account/mfa", get(mfa::account))
        .route("/account/mfa/enroll", post(mfa::enroll))
        .route("/account/mfa/verify", post(mfa::verify))
        .route("/account/mfa/unenroll", post(mfa::unenroll))
        .route(
            "/mfa/challenge",
            get(mfa::challenge).post(mfa::challenge_submit),
        )
        .route("/security", get(mfa::security))
        .route("/browser-client", get(pages::browser_client))
        .route("/sign-in", get(auth::sign_in).post(auth::sign_in_submit))
        .route(
            "/sign-in/magic-link",
            get(auth::magic_link).post(auth::magic_link_submit),
        )
        .route("/sign-up", get(auth::sign_up).post(auth::sign_up_submit))
        .route("/sign-out", post(auth::sign_out))
        .route("/auth/oauth", post(auth::oauth))
        .route("/auth/confirm", get(auth::confirm))
        .route("/auth/callback", get(auth::callback))
        .merge(notes_routes(&app))
        .route("/static/demo.css", get(assets::stylesheet))
        .route("/static/supabase-browser.js", get(assets::browser_bundle))
        .fallback(pages::not_found)
        .layer(layer)
        .layer(middleware::from_fn(csrf::same_origin_posts))
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// `/notes` and `/api/notes`, on the database when there is one, saying how to get one
/// otherwise.
fn notes_routes(app: &Shared) -> Router<Shared> {
    // The API ignores cookies: a bearer token, or a 401.
    let bearer = ApiAuthLayer::new(app.auth.clone(), [AuthMode::User]);
    // Under /api, even a wrong path or method answers JSON.
    let api_misses = Router::new().route("/api/{*rest}", any(api::not_found));
    let routes = match &app.notes_db {
        Some(pool) => Router::new()
            .route("/notes", get(notes::page).post(notes::submit))
            .merge(
                Router::new()
                    .route(
                        "/api/notes",
                        get(api::list)
                            .post(api::create)
                            .fallback(api::method_not_allowed),
                    )
                    .route_layer(bearer),
            )
            .layer(RlsLayer::new(pool.clone())),
        None => Router::new()
            .route("/notes", get(notes::unavailable).post(notes::unavailable))
            .merge(
                Router::new()
                    .route("/api/notes", get(api::unavailable).post(api::unavailable))
                    .route_layer(bearer),
            ),
    };
    routes.merge(api_misses)
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // The callback URL carries a one-time code: keep it out of Referer headers.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// `303 See Other` to `location` (already checked, or built by us).
pub(crate) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "invalid redirect target").into_response(),
    }
}

/// Query or form pairs; the first value of a repeated key wins. Never fails: bad
/// percent-encoding or UTF-8 is replaced, as browsers do.
pub(crate) fn pairs(raw: &[u8]) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    map
}

/// What to tell the user about a failed Auth call.
pub(crate) fn describe(e: &AuthError) -> String {
    if e.is_transient() {
        return "The Auth server could not be reached or is busy. Try again in a moment.".into();
    }
    if e.is_pkce_verifier_missing() {
        return "This link was opened in another browser than the one that asked for it \
                (the PKCE verifier cookie is missing). Open it in the same browser, or ask \
                for a new one."
            .into();
    }
    match e.message().trim() {
        "" => e.to_string(),
        m => m.to_owned(),
    }
}

/// The HTTP status for a page showing `e`.
pub(crate) fn status_for(e: &AuthError) -> StatusCode {
    if e.is_transient() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        match e.status() {
            Some(401) => StatusCode::UNAUTHORIZED,
            Some(403) => StatusCode::FORBIDDEN,
            Some(422) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_take_the_first_value_and_never_fail() {
        let p = pairs(b"next=%2Fa&next=%2Fb&x=%ZZ&y=%C3%28");
        assert_eq!(p.get("next").map(String::as_str), Some("/a"));
        assert_eq!(p.get("x").map(String::as_str), Some("%ZZ"));
        assert!(p.contains_key("y"));
    }
}
