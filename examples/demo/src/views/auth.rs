//! Sign-in, sign-up and magic-link forms, and the "check your inbox" page.

use axum::response::Html;
use maud::html;

use super::{Ctx, alert, layout};

/// What the sign-in page shows.
pub(crate) struct SignInForm<'a> {
    pub(crate) email: &'a str,
    pub(crate) next: &'a str,
    pub(crate) error: Option<&'a str>,
    pub(crate) notice: Option<&'a str>,
    pub(crate) demo_user: Option<(&'a str, &'a str)>,
    pub(crate) oauth_providers: &'a [String],
}

pub(crate) fn sign_in(ctx: &Ctx<'_>, form: &SignInForm<'_>) -> Html<String> {
    layout(
        ctx,
        "Sign in",
        html! {
            section.card.narrow {
                h1 { "Sign in" }
                (alert(form.error))
                @if let Some(n) = form.notice { p.notice #notice { (n) } }
                form.stack method="post" action="/sign-in" {
                    input type="hidden" name="next" value=(form.next);
                    label { "Email" input type="email" name="email" required autocomplete="username" value=(form.email); }
                    label { "Password" input type="password" name="password" required autocomplete="current-password"; }
                    button type="submit" { "Sign in" }
                }
                p.alt {
                    a href={ "/sign-in/magic-link?next=" (urlencode(form.next)) } { "Email me a magic link instead" }
                    " · " a href="/sign-up" { "Create an account" }
                }
                @for provider in form.oauth_providers {
                    form method="post" action="/auth/oauth" {
                        input type="hidden" name="provider" value=(provider);
                        input type="hidden" name="next" value=(form.next);
                        button.secondary type="submit" { "Continue with " (provider_label(provider)) }
                    }
                }
                @if let Some((email, password)) = form.demo_user {
                    p.hint #demo-user {
                        "Demo user: " code { (email) } " / " code { (password) }
                    }
                }
            }
        },
    )
}

pub(crate) fn sign_up(
    ctx: &Ctx<'_>,
    email: &str,
    display_name: &str,
    error: Option<&str>,
) -> Html<String> {
    layout(
        ctx,
        "Sign up",
        html! {
            section.card.narrow {
                h1 { "Create an account" }
                (alert(error))
                form.stack method="post" action="/sign-up" {
                    label { "Display name" input type="text" name="display_name" maxlength="100" autocomplete="nickname" value=(display_name); }
                    label { "Email" input type="email" name="email" required autocomplete="email" value=(email); }
                    label { "Password" small { " (at least 6 characters)" } input type="password" name="password" required minlength="6" autocomplete="new-password"; }
                    button type="submit" { "Sign up" }
                }
                p.alt { "Already have an account? " a href="/sign-in" { "Sign in" } }
            }
        },
    )
}

pub(crate) fn magic_link(
    ctx: &Ctx<'_>,
    email: &str,
    next: &str,
    error: Option<&str>,
) -> Html<String> {
    layout(
        ctx,
        "Magic link",
        html! {
            section.card.narrow {
                h1 { "Sign in with a magic link" }
                p { "We email you a link; opening it signs you in. No password needed." }
                (alert(error))
                form.stack method="post" action="/sign-in/magic-link" {
                    input type="hidden" name="next" value=(next);
                    label { "Email" input type="email" name="email" required autocomplete="email" value=(email); }
                    button type="submit" { "Send magic link" }
                }
                p.alt { a href="/sign-in" { "Sign in with a password" } }
            }
        },
    )
}

/// After a sign-up or a magic-link request.
pub(crate) fn check_inbox(ctx: &Ctx<'_>, email: &str, purpose: &str) -> Html<String> {
    layout(
        ctx,
        "Check your inbox",
        html! {
            section.card.narrow #check-inbox {
                h1 { "Check your inbox" }
                p { "We sent an email to " strong #sent-to { (email) } ". Open its link to " (purpose) "." }
                @if let Some(inbox) = ctx.inbox_url {
                    p {
                        "Emails of the local emulator are not sent: they land in its "
                        a #inbox-link href=(inbox) { "inbox" } "."
                    }
                    p.hint {
                        "The link goes to the Auth server's " code { "/verify" }
                        ", which sends you back to " code { "/auth/callback?code=…" }
                        " (PKCE: this browser holds the verifier cookie). A project whose email template points at "
                        code { "/auth/confirm?token_hash=…&type=email" } " works from any browser."
                    }
                }
            }
        },
    )
}

/// How a provider id is written on its button.
fn provider_label(id: &str) -> String {
    match id {
        "github" => "GitHub".into(),
        "gitlab" => "GitLab".into(),
        "linkedin_oidc" => "LinkedIn".into(),
        "workos" => "WorkOS".into(),
        _ => {
            let mut chars = id.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        }
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
