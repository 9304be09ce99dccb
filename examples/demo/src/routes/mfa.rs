//! Two-factor authentication (TOTP): an authenticator app set up on `/account/mfa`,
//! the step-up to `aal2` on `/mfa/challenge`, and `/security`, which only an `aal2`
//! session opens (`VerifiedAal2` sends the others to one of the two pages).
//!
//! The secret is shown once, on the page right after enrolling, as the Auth server
//! gives it once; neither it nor a code is ever logged.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use supabase_ssr::mfa::{Aal, EnrollTotp, Factor};
use supabase_ssr_axum::{Supabase, Verified, VerifiedAal2};

use super::{describe, pairs, see_other, status_for};
use crate::redirect::{is_local_path, safe_next_or};
use crate::state::Shared;
use crate::views::{self, Ctx, MfaAccountView, MfaChallengeView, MfaEnrollView};

/// Where a passed second factor leads when no `next` says otherwise.
const DEFAULT_NEXT: &str = "/security";
/// The name of a new factor; a number is added when the user already has one by it
/// (the Auth server refuses two factors with the same name).
const FRIENDLY_NAME: &str = "Authenticator app";
/// What the authenticator app shows above the codes.
const ISSUER: &str = "supabase-ssr demo";

/// The six digits of a TOTP code; spaces are dropped (apps show `123 456`).
fn totp_code(raw: &str) -> Option<String> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// A factor id as the Auth server makes them (a UUID); anything else is refused
/// before a request is made.
fn is_factor_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `FRIENDLY_NAME`, or `FRIENDLY_NAME 2`, `3`...: the first one no factor in `taken`
/// has.
fn unused_name<'a>(taken: impl Iterator<Item = &'a str> + Clone) -> String {
    (1..)
        .map(|n| match n {
            1 => FRIENDLY_NAME.to_owned(),
            n => format!("{FRIENDLY_NAME} {n}"),
        })
        .find(|name| !taken.clone().any(|t| t == name))
        .unwrap_or_else(|| FRIENDLY_NAME.to_owned())
}

/// `next` from a query or form, when it is a local path.
fn local_next(form: &std::collections::HashMap<String, String>) -> Option<&str> {
    form.get("next")
        .map(String::as_str)
        .filter(|n| is_local_path(n))
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `/account/mfa`, keeping `next` for after the first code.
fn enroll_location(next: &str) -> String {
    format!("/account/mfa?next={}", urlencode(next))
}

fn aal_of(claims: &supabase_ssr::Claims) -> &str {
    claims.aal.as_deref().unwrap_or("aal1")
}

/// The factors page, with the user's factors as the Auth server lists them now.
async fn account_page(
    app: &Shared,
    claims: &supabase_ssr::Claims,
    supabase: &Supabase,
    next: Option<&str>,
    removed: bool,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (factors, list_error) = match supabase.mfa().list_factors().await {
        Ok(f) => (f.all, None),
        Err(e) => {
            tracing::info!(error = %e, "list_factors failed");
            (Vec::new(), Some((status_for(&e), describe(&e))))
        }
    };
    let (status, error) = match (&list_error, error) {
        (_, Some(e)) => (status, Some(e)),
        (Some((s, e)), None) => (*s, Some(e.as_str())),
        (None, None) => (status, None),
    };
    let email = claims.email.as_deref().unwrap_or_default();
    let view = MfaAccountView {
        email,
        aal: aal_of(claims),
        factors: &factors,
        next,
        removed,
        error,
    };
    (
        status,
        views::mfa_account(&Ctx::new(app, Some(email)), &view),
    )
        .into_response()
}

/// `GET /account/mfa[?next=/path][&removed=1]`
pub(crate) async fn account(
    State(app): State<Shared>,
    Verified(claims): Verified,
    supabase: Supabase,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = pairs(raw.unwrap_or_default().as_bytes());
    let removed = q.contains_key("removed");
    account_page(
        &app,
        &claims,
        &supabase,
        local_next(&q),
        removed,
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /account/mfa/enroll`: next. Removes the user's unverified TOTP factors (a
/// setup left half done), enrolls a new one and shows its QR code and secret.
pub(crate) async fn enroll(
    State(app): State<Shared>,
    Verified(claims): Verified,
    supabase: Supabase,
    body: Bytes,
) -> Response {
    let form = pairs(&body);
    let next = local_next(&form);
    let fail = |e: supabase_ssr::AuthError| {
        let (app, claims, supabase) = (&app, &claims, &supabase);
        async move {
            let message = describe(&e);
            let status = status_for(&e);
            account_page(app, claims, supabase, next, false, Some(&message), status).await
        }
    };
    let factors = match supabase.mfa().list_factors().await {
        Ok(f) => f,
        Err(e) => {
            tracing::info!(error = %e, "list_factors failed");
            return fail(e).await;
        }
    };
    let mut kept: Vec<&Factor> = Vec::new();
    for factor in &factors.all {
        if factor.is_verified() || factor.factor_type() != "totp" {
            kept.push(factor);
            continue;
        }
        if let Err(e) = supabase.mfa().unenroll(factor.id()).await {
            // Its name stays taken; the new factor gets another.
            tracing::info!(error = %e, "removing an unverified factor failed");
            kept.push(factor);
        }
    }
    let name = unused_name(kept.iter().filter_map(|f| f.friendly_name()));
    let params = EnrollTotp::default().friendly_name(name).issuer(ISSUER);
    let enrollment = match supabase.mfa().enroll_totp(params).await {
        Ok(enrollment) => enrollment,
        Err(e) => {
            tracing::info!(error = %e, "enroll_totp failed");
            return fail(e).await;
        }
    };
    let email = claims.email.as_deref().unwrap_or_default();
    let view = MfaEnrollView {
        factor_id: enrollment.id(),
        qr_and_secret: Some((enrollment.qr_code(), enrollment.secret())),
        next,
        error: None,
    };
    let mut res = views::mfa_enroll(&Ctx::new(&app, Some(email)), &view).into_response();
    // The page holds the secret: keep it out of every cache.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `POST /account/mfa/verify`: factor_id, code, next. The first code of a new factor.
pub(crate) async fn verify(
    State(app): State<Shared>,
    Verified(claims): Verified,
    supabase: Supabase,
    body: Bytes,
) -> Response {
    let form = pairs(&body);
    let next = local_next(&form);
    let email = claims.email.as_deref().unwrap_or_default();
    let ctx = Ctx::new(&app, Some(email));
    let factor_id = form.get("factor_id").map(|s| s.trim()).unwrap_or_default();
    if !is_factor_id(factor_id) {
        let page = views::error_page(
            &ctx,
            "Set-up incomplete",
            "This form does not say which authenticator app to verify. Start again from the account page.",
        );
        return (StatusCode::BAD_REQUEST, page).into_response();
    }
    let again = |status: StatusCode, message: &str| {
        let view = MfaEnrollView {
            factor_id,
            qr_and_secret: None,
            next,
            error: Some(message),
        };
        (status, views::mfa_enroll(&ctx, &view)).into_response()
    };
    let next = next.unwrap_or(DEFAULT_NEXT);
    let refused = "verifying a new factor failed";
    verify_code(&supabase, factor_id, &form, next, again, refused).await
}

/// `POST /account/mfa/unenroll`: factor_id. The Auth server refuses a verified factor
/// at `aal1`; the page then shows why.
pub(crate) async fn unenroll(
    State(app): State<Shared>,
    Verified(claims): Verified,
    supabase: Supabase,
    body: Bytes,
) -> Response {
    let form = pairs(&body);
    let factor_id = form.get("factor_id").map(|s| s.trim()).unwrap_or_default();
    if !is_factor_id(factor_id) {
        let message = "This form does not say which authenticator app to remove.";
        return account_page(
            &app,
            &claims,
            &supabase,
            None,
            false,
            Some(message),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    match supabase.mfa().unenroll(factor_id).await {
        Ok(_) => see_other("/account/mfa?removed=1"),
        Err(e) => {
            tracing::info!(error = %e, "unenroll failed");
            let message = describe(&e);
            let status = status_for(&e);
            account_page(
                &app,
                &claims,
                &supabase,
                None,
                false,
                Some(&message),
                status,
            )
            .await
        }
    }
}

/// `GET /mfa/challenge[?next=/path]`: the code prompt. A session already at `aal2`
/// goes on to `next`; a user without an authenticator app is sent to set one up.
pub(crate) async fn challenge(
    State(app): State<Shared>,
    Verified(claims): Verified,
    supabase: Supabase,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = pairs(raw.unwrap_or_default().as_bytes());
    let next = safe_next_or(q.get("next").map(String::as_str), DEFAULT_NEXT);
    if claims.aal.as_deref().and_then(Aal::parse) == Some(Aal::Aal2) {
        return see_other(next);
    }
    let email = claims.email.as_deref().unwrap_or_default();
    let ctx = Ctx::new(&app, Some(email));
    match supabase.mfa().list_factors().await {
        Ok(factors) if factors.totp.is_empty() => see_other(&enroll_location(next)),
        Ok(factors) => {
            let view = MfaChallengeView {
                factors: &factors.totp,
                next,
                error: None,
            };
            views::mfa_challenge(&ctx, &view).into_response()
        }
        Err(e) => {
            tracing::info!(error = %e, "list_factors failed");
            let page = views::error_page(&ctx, "Cannot ask for a code", &describe(&e));
            (status_for(&e), page).into_response()
        }
    }
}

/// `POST /mfa/challenge`: code, next, factor_id (one of the user's verified TOTP
/// factors; the first one when absent or unknown).
pub(crate) async fn challenge_submit(
    State(app): State<Shared>,
    Verified(claims): Verified,
    supabase: Supabase,
    body: Bytes,
) -> Response {
    let form = pairs(&body);
    let next = safe_next_or(form.get("next").map(String::as_str), DEFAULT_NEXT);
    let email = claims.email.as_deref().unwrap_or_default();
    let ctx = Ctx::new(&app, Some(email));
    let factors = match supabase.mfa().list_factors().await {
        Ok(f) => f.totp,
        Err(e) => {
            tracing::info!(error = %e, "list_factors failed");
            let page = views::error_page(&ctx, "Cannot check the code", &describe(&e));
            return (status_for(&e), page).into_response();
        }
    };
    let chosen = form.get("factor_id").map(|s| s.trim());
    let Some(factor) = factors
        .iter()
        .find(|f| Some(f.id()) == chosen)
        .or_else(|| factors.first())
    else {
        return see_other(&enroll_location(next));
    };
    let again = |status: StatusCode, message: &str| {
        let view = MfaChallengeView {
            factors: &factors,
            next,
            error: Some(message),
        };
        (status, views::mfa_challenge(&ctx, &view)).into_response()
    };
    let refused = "the second factor was refused";
    verify_code(&supabase, factor.id(), &form, next, again, refused).await
}

/// Checks the form's code on `factor_id` (`challenge_and_verify`): `303` to `next`, or
/// the page `again` with why (logged as `refused`).
async fn verify_code(
    supabase: &Supabase,
    factor_id: &str,
    form: &HashMap<String, String>,
    next: &str,
    again: impl Fn(StatusCode, &str) -> Response,
    refused: &str,
) -> Response {
    let Some(code) = form.get("code").and_then(|c| totp_code(c)) else {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter the 6-digit code your authenticator app shows.",
        );
    };
    match supabase.mfa().challenge_and_verify(factor_id, &code).await {
        Ok(_) => see_other(next),
        Err(e) => {
            tracing::info!(error = %e, "{refused}");
            again(status_for(&e), &describe(&e))
        }
    }
}

/// `GET /security`: only for a session that passed a second factor.
pub(crate) async fn security(
    State(app): State<Shared>,
    VerifiedAal2(claims): VerifiedAal2,
) -> Response {
    let ctx = Ctx::new(&app, claims.email.as_deref());
    views::security(&ctx, &claims).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(totp_code("123456").as_deref(), Some("123456"));
        assert_eq!(totp_code(" 123 456\n").as_deref(), Some("123456"));
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６", "12-456"] {
            assert_eq!(totp_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn factor_ids_are_uuid_like() {
        assert!(is_factor_id("0b6d3c1e-8f3a-4c39-9a57-1f6f0f6c2d11"));
        for bad in ["", "../user", "a b", "a/b", &"a".repeat(65)] {
            assert!(!is_factor_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_new_factor_gets_a_name_nobody_has() {
        assert_eq!(unused_name([].into_iter()), "Authenticator app");
        assert_eq!(unused_name(["Phone"].into_iter()), "Authenticator app");
        assert_eq!(
            unused_name(["Authenticator app", "Authenticator app 2"].into_iter()),
            "Authenticator app 3"
        );
    }

    #[test]
    fn the_enroll_page_keeps_next() {
        assert_eq!(
            enroll_location("/security?x=1"),
            "/account/mfa?next=%2Fsecurity%3Fx%3D1"
        );
    }
}
