//! Two-factor authentication: the factors page, the QR code of a new authenticator
//! app, the code prompt of the step-up, and the page only `aal2` sessions open.

use axum::response::Html;
use maud::{Markup, html};
use supabase_ssr::Claims;
use supabase_ssr::mfa::Factor;

use super::{Ctx, alert, layout};

/// What `/account/mfa` shows.
pub(crate) struct MfaAccountView<'a> {
    pub(crate) email: &'a str,
    /// The verified token's `aal` claim.
    pub(crate) aal: &'a str,
    /// Every factor of the user, verified or not.
    pub(crate) factors: &'a [Factor],
    /// Where to go once a new factor is verified (already checked to be local).
    pub(crate) next: Option<&'a str>,
    /// A factor was just removed.
    pub(crate) removed: bool,
    pub(crate) error: Option<&'a str>,
}

impl MfaAccountView<'_> {
    fn notice(&self) -> Option<&'static str> {
        if self.removed {
            Some("The authenticator app was removed.")
        } else if self.next.is_some() && !self.factors.iter().any(Factor::is_verified) {
            // `VerifiedAal2` sent the user here from a page that needs `aal2`.
            Some("That page needs a second factor: set up an authenticator app first.")
        } else {
            None
        }
    }

    /// Adding or removing a verified factor needs `aal2` once the user has one.
    fn needs_code_first(&self) -> bool {
        self.aal != "aal2" && self.factors.iter().any(Factor::is_verified)
    }
}

pub(crate) fn mfa_account(ctx: &Ctx<'_>, v: &MfaAccountView<'_>) -> Html<String> {
    let challenge_first = "/mfa/challenge?next=%2Faccount%2Fmfa";
    layout(
        ctx,
        "Two-factor authentication",
        html! {
            section.card.narrow #mfa {
                h1 { "Two-factor authentication" }
                p { "Signed in as " strong { (v.email) } ". This session is at " strong #mfa-aal { (v.aal) } "." }
                (alert(v.error))
                @if let Some(n) = v.notice() { p.notice #notice { (n) } }
                h2 { "Authenticator apps" }
                @if v.factors.is_empty() {
                    p #no-factors { "None yet: signing in needs your password only." }
                } @else {
                    ul.factors #mfa-factors {
                        @for f in v.factors {
                            li.factor data-status=(f.status()) {
                                strong { (f.friendly_name().unwrap_or("(unnamed)")) }
                                " · " span.factor-status { (status_label(f)) }
                                @if let Some(at) = f.created_at() { " · " span.muted { "added " (at) } }
                                " "
                                @if f.is_verified() && v.needs_code_first() {
                                    a href=(challenge_first) { "Enter a code to remove it" }
                                } @else {
                                    form.inline method="post" action="/account/mfa/unenroll" {
                                        input type="hidden" name="factor_id" value=(f.id());
                                        button.link type="submit" { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                }
                @if v.needs_code_first() {
                    p {
                        "To add another app, first "
                        a href=(challenge_first) { "enter a code from your current one" } "."
                    }
                } @else {
                    form.stack method="post" action="/account/mfa/enroll" {
                        @if let Some(next) = v.next { input type="hidden" name="next" value=(next); }
                        button type="submit" {
                            @if v.factors.iter().any(Factor::is_verified) { "Add another authenticator app" }
                            @else { "Set up an authenticator app" }
                        }
                    }
                }
                p { a href="/security" { "Open the page that needs a second factor" } }
                p.hint {
                    "Listed with " code { "mfa().list_factors()" } " (" code { "GET /auth/v1/user" }
                    "); added with " code { "enroll_totp" } " (" code { "POST /factors" }
                    "); removed with " code { "unenroll" } " (" code { "DELETE /factors/{id}" }
                    "), which needs " code { "aal2" } " for a verified app."
                }
            }
        },
    )
}

fn status_label(f: &Factor) -> &'static str {
    if f.is_verified() {
        "verified"
    } else {
        "not verified yet"
    }
}

/// What the page after `POST /account/mfa/enroll` shows, and the same form again after
/// a wrong first code (without the QR code: the Auth server shows a secret only once).
pub(crate) struct MfaEnrollView<'a> {
    pub(crate) factor_id: &'a str,
    /// The QR code (`data:image/svg+xml;...`) and the base32 secret, right after
    /// enrolling.
    pub(crate) qr_and_secret: Option<(&'a str, &'a str)>,
    pub(crate) next: Option<&'a str>,
    pub(crate) error: Option<&'a str>,
}

pub(crate) fn mfa_enroll(ctx: &Ctx<'_>, v: &MfaEnrollView<'_>) -> Html<String> {
    layout(
        ctx,
        "Set up an authenticator app",
        html! {
            section.card.narrow #mfa-enroll {
                h1 { "Set up an authenticator app" }
                (alert(v.error))
                @if let Some((qr, secret)) = v.qr_and_secret {
                    ol {
                        li {
                            "Scan this QR code with an authenticator app (1Password, Google Authenticator, Authy…):"
                            br;
                            img #mfa-qr src=(qr) alt="QR code for your authenticator app";
                        }
                        li { "Or type this key into it: " code #mfa-secret { (secret) } }
                        li { "Enter the 6-digit code the app shows." }
                    }
                } @else {
                    p { "Enter the 6-digit code your authenticator app shows for " strong { "supabase-ssr demo" } "." }
                }
                (code_form("/account/mfa/verify", Some(v.factor_id), &[], v.next, "Verify and turn on"))
                @if v.qr_and_secret.is_none() {
                    form method="post" action="/account/mfa/enroll" {
                        @if let Some(next) = v.next { input type="hidden" name="next" value=(next); }
                        button.secondary type="submit" { "Start over with a new QR code" }
                    }
                }
                p.hint {
                    "The key is shown only once; the Auth server never gives it out again. The first code is checked with "
                    code { "challenge_and_verify" } ", which also raises this session to " code { "aal2" } "."
                }
            }
        },
    )
}

/// The 6-digit code form, posting `code`, `next` and `factor_id`: the given one, or
/// the user's pick among `choices`.
fn code_form(
    action: &str,
    factor_id: Option<&str>,
    choices: &[Factor],
    next: Option<&str>,
    label: &str,
) -> Markup {
    html! {
        form.stack method="post" action=(action) {
            @if let Some(id) = factor_id { input type="hidden" name="factor_id" value=(id); }
            @if let Some(next) = next { input type="hidden" name="next" value=(next); }
            @if !choices.is_empty() {
                label {
                    "App"
                    select name="factor_id" {
                        @for f in choices {
                            option value=(f.id()) { (f.friendly_name().unwrap_or("(unnamed)")) }
                        }
                    }
                }
            }
            label {
                "Code"
                input #mfa-code type="text" name="code" required inputmode="numeric"
                    autocomplete="one-time-code" maxlength="7" placeholder="123456";
            }
            button type="submit" { (label) }
        }
    }
}

/// What `/mfa/challenge` shows.
pub(crate) struct MfaChallengeView<'a> {
    /// The user's verified TOTP factors; a choice appears when there are several.
    pub(crate) factors: &'a [Factor],
    pub(crate) next: &'a str,
    pub(crate) error: Option<&'a str>,
}

pub(crate) fn mfa_challenge(ctx: &Ctx<'_>, v: &MfaChallengeView<'_>) -> Html<String> {
    let (single, choices) = match v.factors {
        [only] => (Some(only.id()), &[][..]),
        several => (None, several),
    };
    layout(
        ctx,
        "Enter your code",
        html! {
            section.card.narrow #mfa-challenge {
                h1 { "Enter your code" }
                p { "This page needs a second factor. Open your authenticator app and enter the 6-digit code for " strong { "supabase-ssr demo" } "." }
                (alert(v.error))
                (code_form("/mfa/challenge", single, choices, Some(v.next), "Verify"))
                p.hint {
                    code { "challenge_and_verify" } " (" code { "POST /factors/{id}/challenge" } ", then "
                    code { "/verify" } ") writes the " code { "aal2" } " session to the cookies."
                }
            }
        },
    )
}

/// `/security`: only a session that passed a second factor sees it.
pub(crate) fn security(ctx: &Ctx<'_>, claims: &Claims) -> Html<String> {
    let amr: Vec<&str> = claims
        .amr
        .iter()
        .flatten()
        .map(|a| a.method.as_str())
        .collect();
    layout(
        ctx,
        "Security",
        html! {
            section.card.narrow #security {
                h1 { "Security" }
                p.status.ok #security-passed { "You passed a second factor in this session." }
                dl {
                    dt { "Assurance level (aal)" } dd #security-aal { (claims.aal.as_deref().unwrap_or("")) }
                    dt { "Methods (amr)" } dd #security-amr { (amr.join(", ")) }
                }
                p.hint {
                    "From " code { "VerifiedAal2" } ": the verified access token says " code { "aal2" }
                    ". A session at " code { "aal1" } " is sent to " code { "/mfa/challenge" }
                    ", or to " code { "/account/mfa" } " when the user has no authenticator app yet."
                }
                p { a href="/account/mfa" { "Manage your authenticator apps" } }
            }
        },
    )
}
