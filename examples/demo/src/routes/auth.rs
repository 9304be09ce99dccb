//! Sign-in, sign-up, magic links, OAuth, the email and PKCE callbacks, sign-out.
//! Forms post, and success answers `303 See Other`; failures re-render the form with
//! the reason.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use supabase_ssr::{OtpOptions, SignOutScope, SignUpOptions, SignUpOutcome, VerifyOtp};
use supabase_ssr_axum::{MaybeVerified, Supabase};

use super::{describe, pairs, see_other, status_for};
use crate::redirect::safe_next;
use crate::state::Shared;
use crate::views::{self, Ctx, SignInForm};

const MAX_DISPLAY_NAME: usize = 100;

fn query(raw: Option<String>) -> std::collections::HashMap<String, String> {
    pairs(raw.unwrap_or_default().as_bytes())
}

fn sign_in_page(
    app: &Shared,
    user: Option<&str>,
    email: &str,
    next: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> axum::response::Html<String> {
    let form = SignInForm {
        email,
        next,
        error,
        notice,
        demo_user: app
            .demo_user
            .as_ref()
            .map(|(e, p)| (e.as_str(), p.as_str())),
        oauth_providers: &app.oauth_providers,
    };
    views::sign_in(&Ctx::new(app, user), &form)
}

/// `GET /sign-in[?next=/path]`
pub(crate) async fn sign_in(
    State(app): State<Shared>,
    MaybeVerified(claims): MaybeVerified,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(raw);
    let next = safe_next(q.get("next").map(String::as_str));
    let user = claims.as_ref().and_then(|c| c.email.as_deref());
    let notice = match (user, q.contains_key("next")) {
        (Some(_), _) => Some("You are already signed in; signing in again replaces the session."),
        (None, true) => Some("Sign in to continue."),
        (None, false) => None,
    };
    sign_in_page(&app, user, "", next, None, notice).into_response()
}

/// `POST /sign-in`: email, password, next.
pub(crate) async fn sign_in_submit(
    State(app): State<Shared>,
    supabase: Supabase,
    MaybeVerified(claims): MaybeVerified,
    body: Bytes,
) -> Response {
    let form = pairs(&body);
    let email = form.get("email").map(|s| s.trim()).unwrap_or_default();
    let password = form.get("password").map(String::as_str).unwrap_or_default();
    let next = safe_next(form.get("next").map(String::as_str));
    let user = claims.as_ref().and_then(|c| c.email.as_deref());
    if email.is_empty() || password.is_empty() {
        let page = sign_in_page(
            &app,
            user,
            email,
            next,
            Some("Enter your email and password."),
            None,
        );
        return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    }
    match supabase.sign_in_with_password(email, password).await {
        Ok(_) => see_other(next),
        Err(e) => {
            tracing::info!(error = %e, "sign-in failed");
            let page = sign_in_page(&app, user, email, next, Some(&describe(&e)), None);
            (status_for(&e), page).into_response()
        }
    }
}

/// `GET /sign-up`
pub(crate) async fn sign_up(
    State(app): State<Shared>,
    MaybeVerified(claims): MaybeVerified,
) -> Response {
    let user = claims.as_ref().and_then(|c| c.email.as_deref());
    views::sign_up(&Ctx::new(&app, user), "", "", None).into_response()
}

/// `POST /sign-up`: display_name, email, password. With email confirmation on, the
/// confirmation link comes back to `/auth/callback` (PKCE).
pub(crate) async fn sign_up_submit(
    State(app): State<Shared>,
    supabase: Supabase,
    MaybeVerified(claims): MaybeVerified,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = pairs(&body);
    let email = form.get("email").map(|s| s.trim()).unwrap_or_default();
    let password = form.get("password").map(String::as_str).unwrap_or_default();
    let name = form
        .get("display_name")
        .map(|s| s.trim())
        .unwrap_or_default();
    let user = claims.as_ref().and_then(|c| c.email.as_deref());
    let ctx = Ctx::new(&app, user);
    let invalid = if email.is_empty() || password.is_empty() {
        Some("Enter an email and a password.")
    } else if name.chars().count() > MAX_DISPLAY_NAME {
        Some("The display name is too long (100 characters at most).")
    } else {
        None
    };
    if let Some(message) = invalid {
        let page = views::sign_up(&ctx, email, name, Some(message));
        return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    }
    let mut options = SignUpOptions::redirect_to(app.callback_url(&headers, "/dashboard"));
    if !name.is_empty() {
        let mut data = Map::new();
        data.insert("display_name".into(), Value::String(name.to_owned()));
        options.data = Some(data);
    }
    match supabase.sign_up(email, password, options).await {
        Ok(SignUpOutcome::SignedIn(_)) => see_other("/dashboard"),
        Ok(SignUpOutcome::ConfirmationSent(_)) => {
            views::check_inbox(&ctx, email, "confirm your address and sign in").into_response()
        }
        Err(e) => {
            tracing::info!(error = %e, "sign-up failed");
            let page = views::sign_up(&ctx, email, name, Some(&describe(&e)));
            (status_for(&e), page).into_response()
        }
    }
}

/// `GET /sign-in/magic-link[?next=/path]`
pub(crate) async fn magic_link(
    State(app): State<Shared>,
    MaybeVerified(claims): MaybeVerified,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(raw);
    let next = safe_next(q.get("next").map(String::as_str));
    let user = claims.as_ref().and_then(|c| c.email.as_deref());
    views::magic_link(&Ctx::new(&app, user), "", next, None).into_response()
}

/// `POST /sign-in/magic-link`: email, next. Existing users only (sign-up is its own
/// page).
pub(crate) async fn magic_link_submit(
    State(app): State<Shared>,
    supabase: Supabase,
    MaybeVerified(claims): MaybeVerified,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = pairs(&body);
    let email = form.get("email").map(|s| s.trim()).unwrap_or_default();
    let next = safe_next(form.get("next").map(String::as_str));
    let user = claims.as_ref().and_then(|c| c.email.as_deref());
    let ctx = Ctx::new(&app, user);
    if email.is_empty() {
        let page = views::magic_link(&ctx, email, next, Some("Enter your email."));
        return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    }
    let mut options = OtpOptions::redirect_to(app.callback_url(&headers, next));
    options.should_create_user = false;
    match supabase.sign_in_with_otp(email, options).await {
        Ok(()) => views::check_inbox(&ctx, email, "sign in").into_response(),
        Err(e) => {
            tracing::info!(error = %e, "magic link failed");
            let page = views::magic_link(&ctx, email, next, Some(&describe(&e)));
            (status_for(&e), page).into_response()
        }
    }
}

/// `POST /auth/oauth`: provider, next. Writes the PKCE verifier cookies and sends the
/// browser to the provider through the Auth server.
pub(crate) async fn oauth(
    State(app): State<Shared>,
    supabase: Supabase,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = pairs(&body);
    let next = safe_next(form.get("next").map(String::as_str));
    let Some(provider) = form
        .get("provider")
        .filter(|p| app.oauth_providers.iter().any(|o| o == *p))
    else {
        let page = views::error_page(
            &Ctx::new(&app, None),
            "Unknown provider",
            "This sign-in provider is not offered here.",
        );
        return (StatusCode::BAD_REQUEST, page).into_response();
    };
    let start =
        supabase.sign_in_with_oauth(provider, Some(&app.callback_url(&headers, next)), None, &[]);
    see_other(&start.url)
}

/// `GET /auth/confirm?token_hash=...&type=email[&next=/path]`: the link of an email
/// template pointing at the app (`{{ .SiteURL }}/auth/confirm?token_hash={{ .TokenHash }}&type=email`).
/// Works from any browser: no PKCE verifier needed.
pub(crate) async fn confirm(
    State(app): State<Shared>,
    supabase: Supabase,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(raw);
    let next = safe_next(q.get("next").map(String::as_str));
    let ctx = Ctx::new(&app, None);
    let token_hash = q.get("token_hash").map(|s| s.trim()).unwrap_or_default();
    let kind = q.get("type").map(String::as_str).unwrap_or_default();
    let known = matches!(
        kind,
        "email" | "signup" | "magiclink" | "recovery" | "invite" | "email_change"
    );
    if token_hash.is_empty() || !known {
        let page = views::error_page(
            &ctx,
            "Invalid link",
            "This confirmation link is incomplete: it needs a token_hash and a known type.",
        );
        return (StatusCode::BAD_REQUEST, page).into_response();
    }
    let params = VerifyOtp::TokenHash {
        token_hash: token_hash.to_owned(),
        kind: kind.to_owned(),
    };
    match supabase.verify_otp(params).await {
        Ok(Some(_)) => see_other(next),
        Ok(None) => views::error_page(
            &ctx,
            "Almost there",
            "This address is confirmed. Open the link sent to the other address to finish the change.",
        )
        .into_response(),
        Err(e) => {
            tracing::info!(error = %e, "token hash verification failed");
            let page = views::error_page(&ctx, "This link did not work", &describe(&e));
            (status_for(&e), page).into_response()
        }
    }
}

/// `GET /auth/callback?code=...[&next=/path]`: the PKCE exchange, for email links and
/// OAuth. Errors come back as `error` and `error_description`.
pub(crate) async fn callback(
    State(app): State<Shared>,
    supabase: Supabase,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(raw);
    let next = safe_next(q.get("next").map(String::as_str));
    let ctx = Ctx::new(&app, None);
    if let Some(error) = q.get("error") {
        let description = q
            .get("error_description")
            .filter(|d| !d.is_empty())
            .unwrap_or(error);
        let page = views::error_page(&ctx, "Sign-in did not complete", description);
        return (StatusCode::BAD_REQUEST, page).into_response();
    }
    let Some(code) = q.get("code").filter(|c| !c.is_empty()) else {
        let page = views::error_page(&ctx, "Invalid link", "This sign-in link has no code.");
        return (StatusCode::BAD_REQUEST, page).into_response();
    };
    match supabase.exchange_code_for_session(code, None).await {
        Ok(_) => see_other(next),
        Err(e) => {
            tracing::info!(error = %e, "code exchange failed");
            let page = views::error_page(&ctx, "Sign-in did not complete", &describe(&e));
            (status_for(&e), page).into_response()
        }
    }
}

/// `POST /sign-out`: this browser's session only. The cookies are deleted even when
/// the Auth server cannot be told.
pub(crate) async fn sign_out(supabase: Supabase) -> Response {
    if let Err(e) = supabase.sign_out(SignOutScope::Local).await {
        tracing::info!(error = %e, "sign-out: the Auth server was not told");
    }
    see_other("/")
}
