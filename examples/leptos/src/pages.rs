//! The pages, rendered on the server only. Forms are plain HTML forms posting to the
//! server functions' URLs (`<Fn as ServerFn>::PATH`): no WebAssembly runs in the
//! browser, so Leptos's `ActionForm` would add nothing.
//!
//! Every route renders with `SsrMode::Async`: the whole page is ready before the first
//! byte leaves, so a page can still answer with a redirect (`<Redirect/>`) or a status
//! once it knows who is signed in.

use axum::http::StatusCode;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::hooks::use_query_map;
use leptos_router::{SsrMode, path};

use crate::auth::{Session, SignIn, SignOut, SignOutOthers, UserView, current_user};

const STYLE: &str = "
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
nav { display: flex; gap: 1rem; border-bottom: 1px solid #ddd; padding-bottom: .5rem; }
form { margin: 1rem 0; }
label { display: block; margin: .5rem 0; }
input { display: block; padding: .3rem; width: 18rem; }
dt { font-weight: 600; }
code { background: #f3f3f3; padding: 0 .2rem; }
.notice { background: #eef6ee; padding: .5rem; }
.error { background: #fbeaea; padding: .5rem; }
";

/// The HTML document around [`App`]. No hydration scripts, no WebAssembly: the only
/// scripts on a page are the two one-line ones leptos_axum appends after it (its
/// server-side resource lists, empty here).
pub(crate) fn shell() -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>"supabase-ssr with Leptos"</title>
                // An empty icon, so the browser does not ask for `/favicon.ico` (a 404).
                <link rel="icon" href="data:,"/>
                <style>{STYLE}</style>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The routes.
#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <nav>
                <a href="/">"Home"</a>
                <a href="/protected">"Protected page"</a>
                <a href="/sign-in">"Sign in"</a>
            </nav>
            <main>
                <Routes fallback=|| view! { <p>"There is no page here."</p> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/protected") view=ProtectedPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn HomePage() -> impl IntoView {
    view! {
        <h1>"supabase-ssr with Leptos"</h1>
        <p>
            "Rendered on the server by Leptos; the Supabase Auth session lives in cookies that "
            <code>"SupabaseLayer"</code>" refreshes and verifies on every request."
        </p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match current_user().await {
                    Ok(Session::SignedIn(user)) => view! {
                        <p id="whoami">"Signed in as " {user.email}</p>
                        <SignOutForm/>
                    }.into_any(),
                    Ok(Session::SignedOut) => view! {
                        <p id="whoami">"You are not signed in. " <a href="/sign-in">"Sign in"</a></p>
                    }.into_any(),
                    Ok(Session::AuthUnreachable) => auth_unreachable().into_any(),
                    Err(error) => failed(&error).into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        query.read().get("error").map(
            |code| view! { <p id="error" class="error" role="alert">{sign_in_error(&code)}</p> },
        )
    };
    view! {
        <h1>"Sign in"</h1>
        {error}
        <form method="post" action=SignIn::PATH>
            <label>
                "Email" <input type="email" name="email" required autocomplete="username"/>
            </label>
            <label>
                "Password"
                <input type="password" name="password" required autocomplete="current-password"/>
            </label>
            <button type="submit">"Sign in"</button>
        </form>
    }
}

/// The message for a sign-in error code in the query: fixed texts, never the query
/// itself.
fn sign_in_error(code: &str) -> &'static str {
    match code {
        "invalid_credentials" => "Invalid email or password.",
        "unavailable" => "Supabase Auth cannot be reached right now; try again in a moment.",
        _ => "Sign-in failed.",
    }
}

#[component]
fn ProtectedPage() -> impl IntoView {
    let query = use_query_map();
    view! {
        <h1>"Protected page"</h1>
        <Suspense fallback=|| ()>
            {move || {
                let notice = query.read().get("notice");
                Suspend::new(async move {
                    match current_user().await {
                        Ok(Session::SignedIn(user)) => view! { <UserDetails user notice/> }.into_any(),
                        // A 302 to the sign-in page; the text is for clients that do
                        // not follow it.
                        Ok(Session::SignedOut) => view! {
                            <Redirect path="/sign-in"/>
                            <p id="signed-out">"You are not signed in. " <a href="/sign-in">"Sign in"</a></p>
                        }.into_any(),
                        Ok(Session::AuthUnreachable) => auth_unreachable().into_any(),
                        Err(error) => failed(&error).into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn UserDetails(user: UserView, notice: Option<String>) -> impl IntoView {
    let notice = notice.map(|code| {
        let text = match code.as_str() {
            "others_signed_out" => "Your other sessions are signed out.",
            _ => "Your other sessions could not be signed out.",
        };
        view! { <p id="notice" class="notice">{text}</p> }
    });
    view! {
        {notice}
        <p>"From the verified access token:"</p>
        <dl>
            <dt>"Email"</dt>
            <dd id="user-email">{user.email}</dd>
            <dt>"User id"</dt>
            <dd id="user-id">{user.user_id}</dd>
            <dt>"Session id"</dt>
            <dd id="session-id">{user.session_id}</dd>
            <dt>"Access token expires"</dt>
            <dd id="token-exp" data-exp=user.expires_at>
                {user.expires_at} " (Unix time; a refresh moves it)"
            </dd>
        </dl>
        <form method="post" action=SignOutOthers::PATH>
            <button type="submit">"Sign out my other sessions"</button>
        </form>
        <SignOutForm/>
    }
}

#[component]
fn SignOutForm() -> impl IntoView {
    view! {
        <form method="post" action=SignOut::PATH>
            <button type="submit">"Sign out"</button>
        </form>
    }
}

/// The page body while Supabase Auth cannot be reached, answered with `503`.
fn auth_unreachable() -> impl IntoView {
    set_status(StatusCode::SERVICE_UNAVAILABLE);
    view! {
        <p id="error" class="error" role="alert">
            "Supabase Auth cannot be reached right now; try again in a moment."
        </p>
    }
}

/// The page body when the server function itself failed (the layer missing, say: a
/// programming error), answered with `500`. The details go to the log only.
fn failed(error: &ServerFnError) -> impl IntoView + use<> {
    tracing::error!(%error, "current_user failed");
    set_status(StatusCode::INTERNAL_SERVER_ERROR);
    view! { <p id="error" class="error" role="alert">"Something went wrong."</p> }
}

fn set_status(status: StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}
