//! Email, PKCE and OAuth flows of the server client against the local Auth emulator:
//! the verifier cookies written, the links followed, the code exchanged.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use supabase_auth_emulator::EmulatorConfig;
use supabase_ssr::adapter::codec::decode_value;
use supabase_ssr::cookies::CookieJar;
use supabase_ssr::{OtpOptions, SignUpOptions, SignUpOutcome, VerifyOtp};

const CALLBACK: &str = "http://127.0.0.1:3000/auth/callback";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Follows one redirect hop and returns the `Location`.
async fn location(client: &reqwest::Client, url: &str) -> String {
    let res = client.get(url).send().await.unwrap();
    assert!(res.status().is_redirection(), "{url}: {}", res.status());
    res.headers()["location"].to_str().unwrap().to_owned()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn stored(jar: &CookieJar, name: &str) -> Option<String> {
    jar.cookies()
        .into_iter()
        .find(|c| c.name == name)
        .and_then(|c| decode_value(&c.value))
}

#[tokio::test]
async fn magic_link_with_pkce_signs_in_through_the_code_exchange() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let jar = Arc::new(CookieJar::default());
    auth.server_client(jar.clone())
        .sign_in_with_otp(EMAIL, OtpOptions::redirect_to(CALLBACK))
        .await
        .unwrap();

    // Slot, index and legacy key, each written at once; cache headers on the first.
    let calls = jar.set_all_calls();
    let names: Vec<Vec<String>> = calls
        .iter()
        .map(|c| c.cookies.iter().map(|s| s.name.clone()).collect())
        .collect();
    let flows: Vec<String> =
        serde_json::from_str(&stored(&jar, "sb-127-auth-token-flows-code-verifier").unwrap())
            .unwrap();
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].len(), 32);
    let slot = format!("sb-127-auth-token-flow-{}-code-verifier", flows[0]);
    assert_eq!(
        names,
        vec![
            vec![slot.clone()],
            vec!["sb-127-auth-token-flows-code-verifier".to_owned()],
            vec!["sb-127-auth-token-code-verifier".to_owned()],
        ]
    );
    assert_eq!(calls[0].headers.len(), 3);
    assert!(calls[1].headers.is_empty() && calls[2].headers.is_empty());
    let verifier: String = serde_json::from_str(&stored(&jar, &slot).unwrap()).unwrap();
    assert_eq!(verifier.len(), 112);
    assert_eq!(
        stored(&jar, "sb-127-auth-token-code-verifier"),
        stored(&jar, &slot)
    );
    let otp_request = emu
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/otp"))
        .unwrap();
    assert!(
        otp_request.query.contains("redirect_to="),
        "{}",
        otp_request.query
    );

    // The email's link redirects back to the app with a code.
    let email = emu.inbox_for(EMAIL).pop().unwrap();
    assert_eq!(email.kind, "magiclink");
    assert!(email.token_hash.starts_with("pkce_"));
    let back = location(&no_redirects(), &email.link).await;
    assert!(back.starts_with(CALLBACK), "{back}");
    let code = query_param(&back, "code").unwrap();

    // The callback request carries the verifier cookies.
    let callback = Arc::new(CookieJar::new(jar.cookies()));
    let session = auth
        .server_client(callback.clone())
        .exchange_code_for_session(&code, None)
        .await
        .unwrap();
    assert_eq!(session.user().unwrap().email(), Some(EMAIL));
    let calls = callback.set_all_calls();
    assert_eq!(calls.len(), 1);
    let written: Vec<(String, Option<i64>)> = calls[0]
        .cookies
        .iter()
        .map(|c| (c.name.clone(), c.options.max_age))
        .collect();
    assert_eq!(
        written,
        vec![
            ("sb-127-auth-token-code-verifier".to_owned(), Some(0)),
            ("sb-127-auth-token".to_owned(), Some(34_560_000)),
        ]
    );
    // As auth-js: without a flow id the slot and the index stay.
    assert!(stored(&callback, &slot).is_some());

    // The code is single use.
    let again = auth
        .server_client(CookieJar::new(jar.cookies()))
        .exchange_code_for_session(&code, None)
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some("flow_state_not_found"));
    assert_eq!(again.status(), Some(404));
}

#[tokio::test]
async fn exchanging_without_a_verifier_fails_before_any_request() {
    let emu = emulator().await;
    let err = auth(&emu)
        .server_client(CookieJar::default())
        .exchange_code_for_session("8b9f1f6e-0000-4000-8000-000000000000", None)
        .await
        .unwrap_err();
    assert!(err.is_pkce_verifier_missing());
    assert_eq!(err.code(), Some("pkce_code_verifier_not_found"));
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn the_emailed_code_and_the_token_hash_both_verify() {
    // No per-user send limit: two emails go out within a second.
    let emu =
        emulator_with(EmulatorConfig::default().email_max_frequency(std::time::Duration::ZERO))
            .await;
    let auth = auth(&emu);
    auth.server_client(CookieJar::default())
        .sign_in_with_otp(EMAIL, OtpOptions::default())
        .await
        .unwrap();
    let email = emu.inbox_for(EMAIL).pop().unwrap();
    assert_eq!(email.otp.len(), 6);
    let jar = Arc::new(CookieJar::default());
    let session = auth
        .server_client(jar.clone())
        .verify_otp(VerifyOtp::EmailCode {
            email: EMAIL.into(),
            token: email.otp.clone(),
            kind: "email".into(),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.user().unwrap().email(), Some(EMAIL));
    assert_eq!(
        writes(&jar),
        vec![vec![("sb-127-auth-token".to_owned(), Some(34_560_000))]]
    );

    // A used code is rejected with the server's error.
    let err = auth
        .server_client(CookieJar::default())
        .verify_otp(VerifyOtp::EmailCode {
            email: EMAIL.into(),
            token: email.otp,
            kind: "email".into(),
        })
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some("otp_expired")));

    // The `/auth/confirm?token_hash=...&type=email` route of an SSR app.
    emu.clear_inbox();
    auth.server_client(CookieJar::default())
        .sign_in_with_otp(EMAIL, OtpOptions::default())
        .await
        .unwrap();
    let email = emu.inbox_for(EMAIL).pop().unwrap();
    let session = auth
        .server_client(CookieJar::default())
        .verify_otp(VerifyOtp::TokenHash {
            token_hash: email.token_hash,
            kind: "email".into(),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.user().unwrap().email(), Some(EMAIL));
}

#[tokio::test]
async fn oauth_through_the_local_provider_uses_the_flow_slot() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let jar = Arc::new(CookieJar::default());
    let start = auth.server_client(jar.clone()).sign_in_with_oauth(
        "github",
        Some(CALLBACK),
        Some("read:user"),
        &[],
    );
    assert!(
        start
            .url
            .starts_with(&format!("{}/auth/v1/authorize?provider=github&", emu.url()))
    );
    assert_eq!(
        query_param(&start.url, "code_challenge_method").as_deref(),
        Some("s256")
    );

    // The provider's consent page, approved as a new user.
    let http = no_redirects();
    let consent = location(&http, &start.url).await;
    let consent = url::Url::parse(&emu.url()).unwrap().join(&consent).unwrap();
    let form: Vec<(String, String)> = consent
        .query_pairs()
        .filter(|(k, _)| k == "state" || k == "redirect_uri" || k == "provider")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .chain([
            ("email".into(), "octo@example.com".into()),
            ("name".into(), "Octo Cat".into()),
            ("action".into(), "approve".into()),
        ])
        .collect();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&form)
        .finish();
    let res = http
        .post(consent.as_str().split('?').next().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let callback = res.headers()["location"].to_str().unwrap().to_owned();
    let back = location(&http, &callback).await;
    let code = query_param(&back, "code").unwrap();

    let exchange = Arc::new(CookieJar::new(jar.cookies()));
    let session = auth
        .server_client(exchange.clone())
        .exchange_code_for_session(&code, Some(&start.flow_id))
        .await
        .unwrap();
    let user = session.user().unwrap();
    assert_eq!(user.email(), Some("octo@example.com"));
    assert_eq!(user.app_metadata().unwrap()["provider"], "github");
    // With the flow id: its slot and the index go at once, the legacy key with the session.
    let written: Vec<Vec<(String, Option<i64>)>> = writes(&exchange);
    assert_eq!(
        written,
        vec![
            vec![(
                format!("sb-127-auth-token-flow-{}-code-verifier", start.flow_id),
                Some(0)
            )],
            vec![("sb-127-auth-token-flows-code-verifier".to_owned(), Some(0))],
            // OAuth identities make the session larger than one cookie: two chunks.
            vec![
                ("sb-127-auth-token-code-verifier".to_owned(), Some(0)),
                ("sb-127-auth-token.0".to_owned(), Some(34_560_000)),
                ("sb-127-auth-token.1".to_owned(), Some(34_560_000)),
            ],
        ]
    );
    assert_eq!(
        exchange
            .cookies()
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec!["sb-127-auth-token.0", "sb-127-auth-token.1"]
    );
    // The next request reads the chunked session.
    let next = auth.server_client(CookieJar::new(exchange.cookies()));
    let claims = next.get_claims().await.unwrap().unwrap();
    assert_eq!(claims.email.as_deref(), Some("octo@example.com"));
}

#[tokio::test]
async fn sign_up_signs_in_or_sends_a_confirmation() {
    let emu = emulator().await;
    let jar = Arc::new(CookieJar::default());
    let outcome = common::auth(&emu)
        .server_client(jar.clone())
        .sign_up(
            "new@example.com",
            "a-long-password",
            SignUpOptions::default(),
        )
        .await
        .unwrap();
    let SignUpOutcome::SignedIn(session) = outcome else {
        panic!("autoconfirm signs in: {outcome:?}");
    };
    assert_eq!(session.user().unwrap().email(), Some("new@example.com"));
    assert!(stored(&jar, "sb-127-auth-token").is_some());

    let confirm = emulator_with(EmulatorConfig::default().autoconfirm(false)).await;
    let auth = common::auth(&confirm);
    let jar = Arc::new(CookieJar::default());
    let outcome = auth
        .server_client(jar.clone())
        .sign_up(
            "later@example.com",
            "a-long-password",
            SignUpOptions::redirect_to(CALLBACK),
        )
        .await
        .unwrap();
    let SignUpOutcome::ConfirmationSent(user) = outcome else {
        panic!("confirmation expected: {outcome:?}");
    };
    assert_eq!(user.email(), Some("later@example.com"));
    assert!(stored(&jar, "sb-127-auth-token").is_none());
    let email = confirm.inbox_for("later@example.com").pop().unwrap();
    assert_eq!(email.kind, "signup");
    let back = location(&no_redirects(), &email.link).await;
    let code = query_param(&back, "code").unwrap();
    let session = auth
        .server_client(CookieJar::new(jar.cookies()))
        .exchange_code_for_session(&code, None)
        .await
        .unwrap();
    assert_eq!(session.user().unwrap().email(), Some("later@example.com"));

    let err = auth
        .server_client(CookieJar::default())
        .sign_up("later@example.com", "short", SignUpOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(422), Some("weak_password"))
    );
}
