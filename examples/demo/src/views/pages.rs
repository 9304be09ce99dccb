//! Home, dashboard, account and the browser-client page.

use axum::response::Html;
use maud::{Markup, html};
use supabase_ssr::{Claims, User};

use super::{Ctx, alert, layout, relative, utc_time};
use crate::profiles::ProfileState;
use crate::state::Seen;

pub(crate) fn home(ctx: &Ctx<'_>, claims: Option<&Claims>) -> Html<String> {
    layout(
        ctx,
        "Home",
        html! {
            section.hero {
                h1 { "Supabase Auth sessions in cookies, served by Rust" }
                p {
                    "This app keeps a Supabase Auth session in the same cookies "
                    code { "@supabase/ssr" } " writes. A tower layer refreshes it on every request and "
                    "the pages trust a user only after verifying the access token."
                }
                @match claims {
                    Some(c) => {
                        p.status.ok #whoami {
                            "Signed in as " strong { (c.email.as_deref().unwrap_or("(no email)")) }
                            " (verified claims)."
                        }
                        p { a.button href="/dashboard" { "Open the dashboard" } }
                    }
                    None => {
                        p.status #whoami { "You are not signed in." }
                        p {
                            a.button href="/sign-in" { "Sign in" } " "
                            a.button.secondary href="/sign-up" { "Sign up" }
                        }
                    }
                }
            }
            section.grid {
                div.card { h3 { "Password & sign-up" } p { "Email confirmation through the inbox, then a PKCE code exchange at " code { "/auth/callback" } "." } }
                div.card { h3 { "Magic links" } p { "One-time links, verified with " code { "verify_otp" } " at " code { "/auth/confirm" } " or exchanged at " code { "/auth/callback" } "." } }
                div.card { h3 { "Refresh" } p { "Short-lived access tokens; the server refreshes them and rotates the refresh token. Watch it on the dashboard." } }
                div.card { h3 { "Shared with the browser" } p { "The official " code { "createBrowserClient" } " reads the very same cookies on " a href="/browser-client" { "/browser-client" } "." } }
            }
        },
    )
}

/// What the dashboard shows.
pub(crate) struct DashboardView<'a> {
    pub(crate) claims: &'a Claims,
    pub(crate) claims_json: String,
    pub(crate) user: Result<Option<User>, String>,
    pub(crate) session_expires_at: Option<i64>,
    pub(crate) history: Vec<Seen>,
    pub(crate) now: i64,
    pub(crate) refresh_margin_secs: u64,
    pub(crate) token_lifetime_secs: Option<u64>,
}

pub(crate) fn dashboard(ctx: &Ctx<'_>, v: &DashboardView<'_>) -> Html<String> {
    let c = v.claims;
    let amr: Vec<&str> = c.amr.iter().flatten().map(|a| a.method.as_str()).collect();
    layout(
        ctx,
        "Dashboard",
        html! {
            h1 { "Dashboard" }
            p.status.ok { "Signed in as " strong #claims-email { (c.email.as_deref().unwrap_or("(no email)")) } }
            section.grid {
                div.card {
                    h2 { "Verified claims" }
                    p.hint { "From " code { "Verified" } ": the access token's signature checked against the project's JWKS." }
                    dl {
                        dt { "User id (sub)" } dd #claims-sub { code { (c.sub.as_deref().unwrap_or("")) } }
                        dt { "Role" } dd { (c.role.as_deref().unwrap_or("")) }
                        dt { "Signed in with" } dd #claims-amr { (amr.join(", ")) }
                        dt { "Issued (iat)" } dd #claims-iat { (time_cell(c.iat, v.now)) }
                        dt { "Expires (exp)" } dd #claims-exp data-exp=[c.exp] { (time_cell(c.exp, v.now)) }
                    }
                }
                div.card {
                    h2 { "User from the Auth server" }
                    p.hint { "From " code { "get_user()" } ": one round trip to " code { "GET /auth/v1/user" } "." }
                    @match &v.user {
                        Ok(Some(user)) => {
                            dl {
                                dt { "Email" } dd #user-email { (user.email().unwrap_or("")) }
                                dt { "Display name" } dd #user-display-name { (display_name(user).unwrap_or("(not set)")) }
                                dt { "Created" } dd { (str_field(user, "created_at")) }
                                dt { "Last sign-in" } dd { (str_field(user, "last_sign_in_at")) }
                            }
                            p { a href="/account" { "Change your display name" } }
                        }
                        Ok(None) => p.error { "The Auth server has no session for these cookies." },
                        Err(e) => p.error { "The Auth server could not be asked: " (e) },
                    }
                }
            }
            section.card #session {
                h2 { "Session and refresh" }
                p {
                    @if let Some(life) = v.token_lifetime_secs {
                        "Access tokens live " strong { (life) " s" } " here. "
                    }
                    "The server refreshes the session on any request made when fewer than "
                    strong { (v.refresh_margin_secs) " s" } " remain, and the Auth server rotates the refresh token. "
                    "Reload after the expiry: the issue time moves and a new refresh token appears below."
                }
                dl {
                    dt { "Session expires" } dd #session-expires { (time_cell(v.session_expires_at, v.now)) }
                    dt { "Refresh token now" } dd #refresh-fingerprint { code { (v.history.first().map(|s| s.fingerprint.as_str()).unwrap_or("")) } }
                }
                h3 { "Refresh tokens seen by this dashboard (newest first)" }
                ol #refresh-history {
                    @for seen in &v.history {
                        li { code { (seen.fingerprint) } " with an access token issued " (utc_time(seen.issued_at)) }
                    }
                }
                p.hint { "Fingerprints are the first 8 hex digits of the token's SHA-256, never the token." }
            }
            details.card {
                summary { "Raw claims" }
                pre #claims-json { (v.claims_json) }
            }
        },
    )
}

fn time_cell(secs: Option<i64>, now: i64) -> Markup {
    match secs {
        Some(s) => html! { (utc_time(s)) " " span.muted { "(" (relative(s, now)) ")" } },
        None => html! { "—" },
    }
}

fn display_name(user: &User) -> Option<&str> {
    user.user_metadata()
        .and_then(|m| m.get("display_name"))
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

fn str_field<'a>(user: &'a User, key: &str) -> &'a str {
    user.as_json()
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or("")
}

/// What the account page shows.
pub(crate) struct AccountView<'a> {
    pub(crate) email: &'a str,
    pub(crate) display_name: &'a str,
    pub(crate) saved: bool,
    pub(crate) error: Option<&'a str>,
    pub(crate) profile: &'a ProfileState,
}

pub(crate) fn account(ctx: &Ctx<'_>, v: &AccountView<'_>) -> Html<String> {
    layout(
        ctx,
        "Account",
        html! {
            section.card.narrow {
                h1 { "Account" }
                p { "Signed in as " strong { (v.email) } "." }
                (alert(v.error))
                @if v.saved { p.notice #saved { "Saved. The new name is in your user metadata and in the session cookie." } }
                form.stack method="post" action="/account" {
                    label { "Display name" input type="text" name="display_name" maxlength="100" value=(v.display_name); }
                    button type="submit" { "Save" }
                }
                p.hint { "Saved with " code { "update_user({\"data\": {\"display_name\": …}})" } " (" code { "PUT /auth/v1/user" } ")." }
            }
            (profile_card(v.profile))
            section.card.narrow #account-mfa {
                h2 { "Two-factor authentication" }
                p { "Ask for a code from an authenticator app at sign-in, for the pages that need it." }
                p {
                    a href="/account/mfa" { "Set up or remove an authenticator app" } " · "
                    a href="/security" { "The page that needs a second factor" }
                }
            }
        },
    )
}

/// The user's row of `public.profiles`, or why there is none.
fn profile_card(profile: &ProfileState) -> Markup {
    html! {
        section.card.narrow #profile {
            h2 { "Profile" }
            p.hint {
                "Your row of " code { "public.profiles" } ", made by a trigger on " code { "auth.users" }
                " when you signed up, read in a transaction as you: the query has no "
                code { "where" } ", row-level security lets only your own row through. "
                "It keeps the name given at sign-up; the form above changes your user metadata."
            }
            @match profile {
                ProfileState::Found(p) => {
                    dl {
                        dt { "Display name" } dd #profile-display-name { (p.display_name.as_deref().unwrap_or("(none)")) }
                        dt { "Created" } dd #profile-created { (p.created_at) }
                        dt { "User id" } dd #profile-id { code { (p.id) } }
                    }
                }
                ProfileState::NoRow => p.status #no-profile { "You have no profile row." },
                ProfileState::Unavailable(why) => p.error role="alert" #profile-unavailable { (why) },
                ProfileState::Failed(why) => p.error role="alert" #profile-error { (why) },
            }
        }
    }
}

/// The page whose script is the official `createBrowserClient`; `bundle_missing` says
/// why the script is not there, in a build without it.
pub(crate) fn browser_client(
    ctx: &Ctx<'_>,
    server_email: Option<&str>,
    supabase_key: &str,
    bundle_missing: Option<&str>,
) -> Html<String> {
    layout(
        ctx,
        "Browser client",
        html! {
            h1 { "The official browser client, same session" }
            p {
                "This page runs " code { "createBrowserClient" } " from " code { "@supabase/ssr" }
                " (the pinned package, bundled with esbuild into a file committed with the demo). "
                "It reads the session from " code { "document.cookie" }
                " (the cookies this Rust server wrote), then asks the Auth server who the user is."
            }
            section.grid {
                div.card {
                    h2 { "The Rust server sees" }
                    dl { dt { "Email (verified claims)" } dd #server-email { (server_email.unwrap_or("(not signed in)")) } }
                }
                div.card #browser-client data-supabase-url=(ctx.supabase_url) data-supabase-key=(supabase_key) data-state="loading" {
                    h2 { "The browser client sees" }
                    @if let Some(why) = bundle_missing {
                        p.error #browser-status { "The browser client is not in this build: " (why) "." }
                    } @else {
                        p #browser-status { "Loading the browser client…" }
                    }
                    dl {
                        dt { "Session cookies" } dd #browser-cookies { "—" }
                        dt { "getSession() email" } dd #browser-session-email { "—" }
                        dt { "getSession() expires" } dd #browser-session-expires { "—" }
                        dt { "getUser() email" } dd #browser-user-email { "—" }
                        dt { "getUser() id" } dd #browser-user-id { "—" }
                    }
                }
            }
            @if bundle_missing.is_none() {
                script type="module" src="/static/supabase-browser.js" {}
            }
        },
    )
}

pub(crate) fn not_found(ctx: &Ctx<'_>) -> Html<String> {
    layout(
        ctx,
        "Not found",
        html! {
            h1 { "Not found" }
            p { "There is no page here. " a href="/" { "Home" } }
        },
    )
}
