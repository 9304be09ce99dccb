//! HTML, rendered with maud (compile-time templates; every interpolation escaped).

mod auth;
mod mfa;
mod notes;
mod pages;

pub(crate) use auth::{SignInForm, check_inbox, magic_link, sign_in, sign_up};
pub(crate) use mfa::{
    MfaAccountView, MfaChallengeView, MfaEnrollView, mfa_account, mfa_challenge, mfa_enroll,
    security,
};
pub(crate) use notes::{NotesView, notes, notes_unavailable};
pub(crate) use pages::{
    AccountView, DashboardView, account, browser_client, dashboard, home, not_found,
};

use axum::response::Html;
use maud::{DOCTYPE, Markup, html};

use crate::state::AppState;

/// What the layout needs to know about the request.
pub(crate) struct Ctx<'a> {
    /// The signed-in user's email (from verified claims), if any.
    pub(crate) user: Option<&'a str>,
    pub(crate) supabase_url: &'a str,
    pub(crate) inbox_url: Option<&'a str>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(app: &'a AppState, user: Option<&'a str>) -> Self {
        Self {
            user,
            supabase_url: &app.supabase_url,
            inbox_url: app.inbox_url.as_deref(),
        }
    }
}

/// The page frame: navigation, the signed-in state with a sign-out button, the body,
/// and a footer naming the Auth server.
pub(crate) fn layout(ctx: &Ctx<'_>, title: &str, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · supabase-ssr demo" }
                    link rel="stylesheet" href="/static/demo.css";
                    // No favicon request.
                    link rel="icon" href="data:,";
                }
                body {
                    header.top {
                        nav {
                            a.brand href="/" { "supabase-ssr" span.tag { "demo" } }
                            a href="/dashboard" { "Dashboard" }
                            a href="/notes" { "Notes" }
                            a href="/account" { "Account" }
                            a href="/security" { "Security" }
                            a href="/browser-client" { "Browser client" }
                        }
                        div.who {
                            @if let Some(email) = ctx.user {
                                span #nav-user { (email) }
                                form.inline method="post" action="/sign-out" {
                                    button.link type="submit" { "Sign out" }
                                }
                            } @else {
                                a href="/sign-in" { "Sign in" }
                                a.button href="/sign-up" { "Sign up" }
                            }
                        }
                    }
                    main { (body) }
                    footer {
                        "Auth server: " code { (ctx.supabase_url) }
                        @if let Some(inbox) = ctx.inbox_url {
                            " (embedded supabase-auth-emulator) · "
                            a href=(inbox) target="_blank" rel="noopener" { "Email inbox" }
                        }
                    }
                }
            }
        }
        .into_string(),
    )
}

/// A page without request context (errors raised before the handlers run).
pub(crate) fn message_page(title: &str, message: &str) -> Html<String> {
    let ctx = Ctx {
        user: None,
        supabase_url: "",
        inbox_url: None,
    };
    layout(
        &ctx,
        title,
        html! {
            h1 { (title) }
            p.error { (message) }
            p { a href="/" { "Home" } }
        },
    )
}

/// An error page with a way back.
pub(crate) fn error_page(ctx: &Ctx<'_>, title: &str, message: &str) -> Html<String> {
    layout(
        ctx,
        title,
        html! {
            h1 { (title) }
            p.error role="alert" { (message) }
            p { a href="/sign-in" { "Sign in" } " · " a href="/" { "Home" } }
        },
    )
}

/// `HH:MM:SS UTC` of a Unix time in seconds.
pub(crate) fn utc_time(secs: i64) -> String {
    let day = secs.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02} UTC",
        day / 3600,
        (day % 3600) / 60,
        day % 60
    )
}

/// `in 42 s` / `12 s ago`.
pub(crate) fn relative(secs: i64, now: i64) -> String {
    match secs - now {
        0 => "now".to_owned(),
        d if d > 0 => format!("in {d} s"),
        d => format!("{} s ago", -d),
    }
}

/// An error message box, when there is one.
pub(crate) fn alert(error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error {
            p.error role="alert" #error { (e) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render() {
        assert_eq!(utc_time(0), "00:00:00 UTC");
        assert_eq!(utc_time(86_399), "23:59:59 UTC");
        assert_eq!(utc_time(1_800_000_000), "08:00:00 UTC");
        assert_eq!(relative(10, 0), "in 10 s");
        assert_eq!(relative(0, 12), "12 s ago");
        assert_eq!(relative(5, 5), "now");
    }

    #[test]
    fn text_is_escaped() {
        let page = message_page("<b>", "<script>x</script>").0;
        assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!page.contains("<script>x"));
    }
}
