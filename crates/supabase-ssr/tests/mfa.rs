//! MFA (TOTP) through the server client against the local Auth emulator: enrollment, a
//! wrong code, the step-up to `aal2` written to the cookies, the assurance level, a
//! second sign-in, and unenrolling.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use supabase_ssr::cookies::CookieJar;
use supabase_ssr::mfa::{Aal, EnrollTotp, TotpEnrollment};
use supabase_ssr::{ServerClient, SupabaseAuth};

/// The code an authenticator app shows for `secret` now (RFC 6238: SHA-1, 6 digits,
/// 30 s), or `steps` periods away from now.
fn code(secret: &str, steps: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let at = now.checked_add_signed(steps * 30).unwrap();
    totp.generate(at).to_string()
}

/// A code that is none of the accepted ones (now, and one step either side).
fn wrong_code(secret: &str) -> String {
    let accepted = [code(secret, -1), code(secret, 0), code(secret, 1)];
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !accepted.contains(c))
        .unwrap()
}

async fn signed_in(auth: &SupabaseAuth) -> (Arc<CookieJar>, ServerClient) {
    let jar = Arc::new(CookieJar::default());
    let client = auth.server_client(jar.clone());
    client.sign_in_with_password(EMAIL, PASSWORD).await.unwrap();
    (jar, client)
}

/// A request's client over the cookies `jar` holds now.
fn next_request(auth: &SupabaseAuth, jar: &CookieJar) -> (Arc<CookieJar>, ServerClient) {
    let jar = Arc::new(CookieJar::new(jar.cookies()));
    let client = auth.server_client(jar.clone());
    (jar, client)
}

async fn aal(client: &ServerClient) -> Option<String> {
    client.get_claims().await.unwrap().unwrap().aal.clone()
}

/// Signs in, enrolls a factor and verifies a first code: the user now has a verified
/// factor and the session in `jar` is `aal2`.
async fn enrolled(auth: &SupabaseAuth) -> (Arc<CookieJar>, TotpEnrollment) {
    let (jar, client) = signed_in(auth).await;
    let factor = client
        .mfa()
        .enroll_totp(EnrollTotp::default().friendly_name("phone"))
        .await
        .unwrap();
    client
        .mfa()
        .challenge_and_verify(factor.id(), &code(factor.secret(), 0))
        .await
        .unwrap();
    (jar, factor)
}

#[tokio::test]
async fn a_verified_code_upgrades_the_session_in_the_cookies_to_aal2() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let (jar, client) = signed_in(&auth).await;
    let mfa = client.mfa();

    let level = mfa.assurance_level().await.unwrap();
    assert_eq!(
        (level.current, level.next),
        (Some(Aal::Aal1), Some(Aal::Aal1))
    );
    assert_eq!(
        level
            .current_methods
            .iter()
            .map(|m| m.method.as_str())
            .collect::<Vec<_>>(),
        ["password"]
    );

    let factor = mfa
        .enroll_totp(
            EnrollTotp::default()
                .friendly_name("phone")
                .issuer("Example"),
        )
        .await
        .unwrap();
    // GoTrue's SVG starts with its XML prologue; auth-js prefixes it as it is.
    assert!(
        factor
            .qr_code()
            .starts_with("data:image/svg+xml;utf-8,<?xml version=\"1.0\"?>"),
        "{}",
        &factor.qr_code()[..60]
    );
    assert!(factor.qr_code().contains("<svg"));
    assert!(
        factor
            .uri()
            .starts_with(&format!("otpauth://totp/Example:{EMAIL}?")),
        "{}",
        factor.uri()
    );
    assert!(
        factor
            .uri()
            .contains(&format!("secret={}", factor.secret()))
    );
    assert_eq!(factor.friendly_name(), Some("phone"));
    // Debug output keeps the secret out.
    assert!(!format!("{factor:?}").contains(factor.secret()));

    let listed = mfa.list_factors().await.unwrap();
    assert_eq!(listed.all.len(), 1);
    assert_eq!(listed.all[0].id(), factor.id());
    assert_eq!(listed.all[0].status(), "unverified");
    assert!(
        listed.totp.is_empty(),
        "an unverified factor is not listed by type"
    );

    let writes_before = jar.set_all_calls().len();
    let challenge = mfa.challenge(factor.id()).await.unwrap();
    assert_eq!(challenge.factor_type, "totp");
    let error = mfa
        .verify(factor.id(), &challenge.id, &wrong_code(factor.secret()))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(422));
    assert_eq!(error.code(), Some("mfa_verification_failed"));
    assert_eq!(
        jar.set_all_calls().len(),
        writes_before,
        "a wrong code writes nothing"
    );
    assert_eq!(aal(&client).await.as_deref(), Some("aal1"));

    // The challenge is still usable after a wrong code.
    let session = mfa
        .verify(factor.id(), &challenge.id, &code(factor.secret(), 0))
        .await
        .unwrap();
    let calls = jar.set_all_calls();
    assert_eq!(
        calls.len(),
        writes_before + 1,
        "one set_all with the new session"
    );
    assert_eq!(
        calls.last().unwrap().cookies[0].name,
        "sb-127-auth-token",
        "the session cookie is rewritten"
    );
    let user = session.user().unwrap();
    assert_eq!(user.factors().len(), 1);
    assert!(user.factors()[0].is_verified());

    // The next request reads an aal2 session from the cookies, verified.
    let (_, next) = next_request(&auth, &jar);
    let claims = next.get_claims().await.unwrap().unwrap();
    assert_eq!(claims.aal.as_deref(), Some("aal2"));
    let mut methods: Vec<&str> = claims
        .amr
        .iter()
        .flatten()
        .map(|m| m.method.as_str())
        .collect();
    // Newest first; a sign-in and a verify in the same second keep their order.
    methods.sort_unstable();
    assert_eq!(methods, ["password", "totp"]);
    let level = next.mfa().assurance_level().await.unwrap();
    assert_eq!(
        (level.current, level.next),
        (Some(Aal::Aal2), Some(Aal::Aal2))
    );
    assert!(!level.needs_step_up());
    let listed = next.mfa().list_factors().await.unwrap();
    assert_eq!(listed.totp.len(), 1);

    // A verified challenge cannot be verified again.
    let again = next
        .mfa()
        .verify(factor.id(), &challenge.id, &code(factor.secret(), 0))
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(422), "{again}");
}

#[tokio::test]
async fn the_next_sign_in_is_aal1_and_steps_up_with_a_code() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let (_, factor) = enrolled(&auth).await;

    let (jar, client) = signed_in(&auth).await;
    assert_eq!(aal(&client).await.as_deref(), Some("aal1"));
    let level = client.mfa().assurance_level().await.unwrap();
    assert_eq!(
        (level.current, level.next),
        (Some(Aal::Aal1), Some(Aal::Aal2))
    );
    assert!(level.needs_step_up());

    client
        .mfa()
        .challenge_and_verify(factor.id(), &code(factor.secret(), 0))
        .await
        .unwrap();
    let (_, next) = next_request(&auth, &jar);
    assert_eq!(aal(&next).await.as_deref(), Some("aal2"));
    // A refresh keeps the level.
    next.refresh_session().await.unwrap();
    assert_eq!(aal(&next).await.as_deref(), Some("aal2"));
}

#[tokio::test]
async fn unenrolling_a_verified_factor_needs_aal2() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let (aal2_jar, factor) = enrolled(&auth).await;

    let (_, aal1) = signed_in(&auth).await;
    let refused = aal1.mfa().unenroll(factor.id()).await.unwrap_err();
    assert_eq!(refused.code(), Some("insufficient_aal"), "{refused}");

    // The sign-in above made a new aal1 session; the aal2 one may have been ended by
    // a later verify, so step up again on it.
    let (_, client) = next_request(&auth, &aal2_jar);
    let stepped_up = match aal(&client).await.as_deref() {
        Some("aal2") => client,
        _ => {
            let (jar, client) = signed_in(&auth).await;
            client
                .mfa()
                .challenge_and_verify(factor.id(), &code(factor.secret(), 0))
                .await
                .unwrap();
            next_request(&auth, &jar).1
        }
    };
    assert_eq!(
        stepped_up.mfa().unenroll(factor.id()).await.unwrap(),
        factor.id()
    );
    assert!(
        stepped_up
            .mfa()
            .list_factors()
            .await
            .unwrap()
            .all
            .is_empty()
    );
    // An unenrolled factor cannot be challenged.
    let gone = stepped_up.mfa().challenge(factor.id()).await.unwrap_err();
    assert_eq!(gone.status(), Some(404), "{gone}");
}

#[tokio::test]
async fn without_a_session_the_calls_send_nothing() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let client = auth.server_client(CookieJar::default());
    let error = client
        .mfa()
        .enroll_totp(EnrollTotp::default())
        .await
        .unwrap_err();
    assert!(error.is_session_missing(), "{error}");
    let level = client.mfa().assurance_level().await.unwrap();
    assert_eq!((level.current, level.next), (None, None));
    assert!(client.mfa().list_factors().await.unwrap().all.is_empty());
    assert_eq!(count_requests(&emu, "POST", "/factors", None), 0);
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
}
