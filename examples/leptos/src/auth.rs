//! The server functions: sign in, who is signed in, sign out.
//!
//! Each one is also an HTTP endpoint, `POST /api/<endpoint>`, which the pages' plain
//! HTML forms post to. They reach the request through `leptos_axum::extract`, with the
//! extractors of `supabase-ssr-axum`: `SupabaseLayer` ran before them (it wraps the
//! whole router), so the session is already refreshed and verified, and whatever the
//! `Supabase` client writes here (a new session, a deleted one) goes out with the
//! response as `Set-Cookie`.
//!
//! They answer a form post with a redirect (`leptos_axum::redirect`: `302` and
//! `Location` when the request accepts `text/html`, as a browser's form post does).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who is signed in, as the pages and `POST /api/current_user` tell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub(crate) enum Session {
    /// A user whose access token `SupabaseLayer` verified.
    SignedIn(UserView),
    /// Nobody: no session, or one the Auth server refused (its cookies are deleted).
    SignedOut,
    /// Supabase Auth cannot be reached and the access token has expired: nobody is
    /// verified, but the cookies are kept and the user is back once Auth is.
    AuthUnreachable,
}

/// What the pages show of the signed-in user: from the verified access token only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UserView {
    /// `email`.
    pub(crate) email: String,
    /// `sub`, the user's id.
    pub(crate) user_id: String,
    /// `session_id`, the Auth session (the same across refreshes).
    pub(crate) session_id: String,
    /// `exp`, when this access token expires (seconds since the Unix epoch); a refresh
    /// moves it.
    pub(crate) expires_at: i64,
}

/// Who is signed in, from what `SupabaseLayer` found for this request (`AuthOutcome`).
#[server(endpoint = "current_user")]
pub(crate) async fn current_user() -> Result<Session, ServerFnError> {
    use supabase_ssr_axum::AuthOutcome;

    let outcome: AuthOutcome = leptos_axum::extract().await?;
    Ok(match outcome {
        AuthOutcome::Verified(claims) => Session::SignedIn(UserView {
            email: claims.email.clone().unwrap_or_default(),
            user_id: claims.sub.clone().unwrap_or_default(),
            session_id: claims.session_id.clone().unwrap_or_default(),
            expires_at: claims.exp.unwrap_or_default(),
        }),
        AuthOutcome::Failed(error) if error.is_transient() => Session::AuthUnreachable,
        _ => Session::SignedOut,
    })
}

/// Signs in with email and password (the `Supabase` extractor's
/// `sign_in_with_password`), then sends the browser to the protected page, or back to
/// the form with an error code.
#[server(endpoint = "sign_in")]
pub(crate) async fn sign_in(email: String, password: String) -> Result<(), ServerFnError> {
    use supabase_ssr_axum::Supabase;

    let supabase: Supabase = leptos_axum::extract().await?;
    let to = match supabase
        .sign_in_with_password(email.trim(), &password)
        .await
    {
        Ok(_) => "/protected",
        Err(error) if error.is_transient() => {
            tracing::warn!(%error, "sign-in: Supabase Auth cannot be reached");
            "/sign-in?error=unavailable"
        }
        Err(error) if error.code() == Some("invalid_credentials") => {
            "/sign-in?error=invalid_credentials"
        }
        Err(error) => {
            tracing::info!(%error, "sign-in refused");
            "/sign-in?error=refused"
        }
    };
    leptos_axum::redirect(to);
    Ok(())
}

/// Ends the user's other sessions (other browsers, other devices) and keeps this one.
/// Needs a verified user (`MaybeVerified`); the session it uses is the one the layer
/// refreshed for this very request.
#[server(endpoint = "sign_out_others")]
pub(crate) async fn sign_out_others() -> Result<(), ServerFnError> {
    use supabase_ssr::SignOutScope;
    use supabase_ssr_axum::{MaybeVerified, Supabase};

    let MaybeVerified(claims) = leptos_axum::extract().await?;
    if claims.is_none() {
        leptos_axum::redirect("/sign-in");
        return Ok(());
    }
    let supabase: Supabase = leptos_axum::extract().await?;
    let to = match supabase.sign_out(SignOutScope::Others).await {
        Ok(()) => "/protected?notice=others_signed_out",
        Err(error) => {
            tracing::warn!(%error, "signing out the other sessions failed");
            "/protected?notice=others_failed"
        }
    };
    leptos_axum::redirect(to);
    Ok(())
}

/// Signs out of this browser: the session cookies are deleted whatever the Auth server
/// answers.
#[server(endpoint = "sign_out")]
pub(crate) async fn sign_out() -> Result<(), ServerFnError> {
    use supabase_ssr::SignOutScope;
    use supabase_ssr_axum::Supabase;

    let supabase: Supabase = leptos_axum::extract().await?;
    if let Err(error) = supabase.sign_out(SignOutScope::Local).await {
        // `Local` deletes the cookies before it calls the Auth server.
        tracing::warn!(%error, "the Auth server did not take the sign-out");
    }
    leptos_axum::redirect("/");
    Ok(())
}
