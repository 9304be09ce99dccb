//! The HTTP surface: `/auth/v1/*` (GoTrue behind the gateway), the local OAuth
//! provider, the inbox and the emulator's own key routes.

pub(crate) mod admin;
mod admin_factors;
pub(crate) mod auth;
pub(crate) mod error;
mod external;
pub(crate) mod extract;
mod faults;
mod generate_link;
mod id_token;
mod identities;
mod inbox;
mod keys;
mod meta;
mod mfa;
mod middleware;
mod oauth;
mod oidc_provider;
mod otp;
mod phone;
mod reauthenticate;
mod signup;
mod token;
mod token_refresh;
mod user;
mod verify;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};

use crate::state::AppState;

/// Shared state as handlers receive it.
pub(crate) type St = axum::extract::State<Arc<AppState>>;

async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
}

/// Builds the whole application.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let auth = Router::new()
        .route("/health", get(meta::health))
        .route("/settings", get(meta::settings))
        .route("/.well-known/jwks.json", get(meta::jwks))
        .route(
            "/.well-known/openid-configuration",
            get(meta::openid_configuration),
        )
        .route("/signup", post(signup::signup))
        .route("/token", post(token::token))
        .route("/otp", post(otp::otp))
        .route("/magiclink", post(otp::magiclink))
        .route("/recover", post(otp::recover))
        .route("/resend", post(otp::resend))
        .route("/verify", get(verify::verify_get).post(verify::verify_post))
        .route("/user", get(user::get_user).put(user::update_user))
        .route("/logout", post(user::logout))
        .route("/user/identities/authorize", get(identities::authorize))
        .route("/user/identities/{identity_id}", delete(identities::unlink))
        .route("/reauthenticate", get(reauthenticate::reauthenticate))
        .route("/authorize", get(oauth::authorize))
        .route("/callback", get(oauth::callback).post(oauth::callback))
        .route("/invite", post(admin::invite))
        .route(
            "/admin/users",
            get(admin::list_users).post(admin::create_user_route),
        )
        .route(
            "/admin/users/{user_id}",
            get(admin::get_user)
                .put(admin::update_user)
                .delete(admin::delete_user),
        )
        .route("/admin/users/{user_id}/factors", get(admin_factors::list))
        .route(
            "/admin/users/{user_id}/factors/{factor_id}",
            delete(admin_factors::delete).put(admin_factors::update),
        )
        .route("/admin/generate_link", post(generate_link::generate_link))
        .route("/factors", post(mfa::enroll))
        .route("/factors/{factor_id}", delete(mfa::unenroll))
        .route("/factors/{factor_id}/challenge", post(mfa::challenge))
        .route("/factors/{factor_id}/verify", post(mfa::verify))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::gateway,
        ))
        .layer(axum::middleware::from_fn(middleware::api_version));

    Router::new()
        .nest("/auth/v1", auth)
        .route(
            "/oauth-provider/authorize",
            get(oauth::consent_page).post(oauth::consent_submit),
        )
        .route(
            "/oauth-provider/.well-known/openid-configuration",
            get(oidc_provider::openid_configuration),
        )
        .route("/oauth-provider/jwks", get(oidc_provider::jwks))
        .route(
            "/oauth-provider/id_token",
            post(oidc_provider::issue_id_token),
        )
        .route("/inbox", get(inbox::page))
        .route("/inbox/{id}", get(inbox::message_page))
        .route("/inbox/api/messages", get(inbox::list).delete(inbox::clear))
        .route("/inbox/api/messages/latest", get(inbox::latest))
        .route("/emulator/v1/keys", get(keys::list))
        .route("/emulator/v1/keys/rotate", post(keys::rotate))
        .route("/emulator/v1/keys/{kid}", delete(keys::drop))
        .route(
            "/emulator/v1/faults",
            get(faults::show).post(faults::change).delete(faults::clear),
        )
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(extract::MAX_BODY))
        .layer(axum::middleware::from_fn(middleware::cors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::record,
        ))
        .with_state(state)
}
