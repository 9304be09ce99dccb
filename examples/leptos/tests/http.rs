//! The whole flow over plain HTTP (reqwest, no browser), with exact status codes,
//! `Location` headers and `Set-Cookie` names: signed out, sign in, the protected page,
//! a refresh on a page load and another on a server-function call, the other sessions
//! signed out, sign out.
//!
//! Time moves by hand (`support::Harness::advance`): the app reads an offset clock and
//! the emulator's clock is advanced by the same amount, so a refresh happens exactly
//! when the test says.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use leptos_app::{DEMO_EMAIL, DEMO_PASSWORD};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CACHE_CONTROL, ORIGIN, REFERER};

use support::{
    Harness, INTO_THE_MARGIN, TOKEN_LIFETIME, claims_of, location, session_of, set_cookie_names,
    set_cookies, shown_exp,
};

const PRIVATE: &str = "private, no-cache, no-store, must-revalidate, max-age=0";

#[tokio::test]
async fn sign_in_refresh_on_pages_and_server_functions_then_sign_out() {
    let h = Harness::start().await;
    let cookie = h.app.session_cookie_name().to_owned();
    assert_eq!(cookie, "sb-127-auth-token");
    let browser = h.browser();

    // Signed out, the protected page sends to the sign-in page.
    let res = h.get(&browser, "/protected").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/sign-in");
    assert_eq!(set_cookie_names(&res), Vec::<String>::new());

    // A wrong password: back to the form with the reason, no cookie.
    let res = h
        .post(
            &browser,
            "/api/sign_in",
            &[("email", DEMO_EMAIL), ("password", "not-the-password")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/sign-in?error=invalid_credentials");
    assert_eq!(set_cookie_names(&res), Vec::<String>::new());
    let page = h
        .get(&browser, "/sign-in?error=invalid_credentials")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<p id="error" role="alert" class="error">Invalid email or password.</p>"#),
        "{page}"
    );

    // Sign in: the server function's client wrote the session, and it reached the
    // response through the layer.
    let res = h.sign_in(&browser).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/protected");
    assert_eq!(set_cookie_names(&res), vec![cookie.clone()]);
    assert_eq!(res.headers()[CACHE_CONTROL], PRIVATE);
    let signed_in = session_of(&set_cookies(&res)[0]);
    assert_eq!(signed_in["user"]["email"], DEMO_EMAIL);

    // The protected page: the email from the verified claims; nothing to refresh.
    let res = h.get(&browser, "/protected").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(set_cookie_names(&res), Vec::<String>::new());
    let body = res.text().await.unwrap();
    assert!(
        body.contains(&format!(r#"<dd id="user-email">{DEMO_EMAIL}</dd>"#)),
        "{body}"
    );
    assert_eq!(shown_exp(&body), signed_in["expires_at"].as_i64().unwrap());

    // The page's server function is an endpoint too: JSON for a caller that is not a
    // form, the same verified claims.
    let res = browser
        .post(h.url("/api/current_user"))
        .header(ORIGIN, h.app.url())
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(set_cookie_names(&res), Vec::<String>::new());
    let claims = claims_of(signed_in["access_token"].as_str().unwrap());
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({
            "state": "signed_in",
            "email": DEMO_EMAIL,
            "user_id": claims["sub"],
            "session_id": claims["session_id"],
            "expires_at": claims["exp"],
        })
    );

    // A second browser signs in as the same user: a second session.
    let other = h.browser();
    let res = h.sign_in(&other).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(set_cookie_names(&res), vec![cookie.clone()]);

    // Into the refresh margin: the next page load refreshes, once.
    h.advance(INTO_THE_MARGIN);
    let res = h.get(&browser, "/protected").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(set_cookie_names(&res), vec![cookie.clone()]);
    assert_eq!(res.headers()[CACHE_CONTROL], PRIVATE);
    let after_page = session_of(&set_cookies(&res)[0]);
    assert_ne!(after_page["refresh_token"], signed_in["refresh_token"]);
    assert_ne!(after_page["access_token"], signed_in["access_token"]);
    let body = res.text().await.unwrap();
    assert!(body.contains(&format!(r#"<dd id="user-email">{DEMO_EMAIL}</dd>"#)));
    // The page shows the refreshed token's claims, not the old one's.
    assert_eq!(shown_exp(&body), after_page["expires_at"].as_i64().unwrap());
    assert_ne!(shown_exp(&body), signed_in["expires_at"].as_i64().unwrap());
    let res = h.get(&browser, "/protected").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(set_cookie_names(&res), Vec::<String>::new());

    // Into the margin again: this time a server-function call refreshes, and the
    // server function works with the refreshed session (it ends the other sessions
    // with the new access token).
    h.advance(INTO_THE_MARGIN);
    let res = h.post(&browser, "/api/sign_out_others", &[]).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/protected?notice=others_signed_out");
    assert_eq!(set_cookie_names(&res), vec![cookie.clone()]);
    let after_call = session_of(&set_cookies(&res)[0]);
    assert_ne!(after_call["refresh_token"], after_page["refresh_token"]);
    let res = h.get(&browser, "/protected?notice=others_signed_out").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(set_cookie_names(&res), Vec::<String>::new());
    let body = res.text().await.unwrap();
    assert!(
        body.contains(r#"<p id="notice" class="notice">Your other sessions are signed out.</p>"#),
        "{body}"
    );
    assert!(body.contains(&format!(r#"<dd id="user-email">{DEMO_EMAIL}</dd>"#)));
    assert_eq!(shown_exp(&body), after_call["expires_at"].as_i64().unwrap());

    // The second browser's session was ended: its refresh is refused, its cookie
    // deleted, and the protected page sends it to sign in.
    let res = h.get(&other, "/protected").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/sign-in");
    assert_eq!(
        set_cookies(&res),
        vec![format!("{cookie}=; Max-Age=0; Path=/; SameSite=Lax")]
    );

    // Sign out: the cookie is deleted, the protected page refuses again.
    let res = h.post(&browser, "/api/sign_out", &[]).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/");
    assert_eq!(
        set_cookies(&res),
        vec![format!("{cookie}=; Max-Age=0; Path=/; SameSite=Lax")]
    );
    let res = h.get(&browser, "/protected").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/sign-in");
    assert_eq!(set_cookie_names(&res), Vec::<String>::new());
    let res = h.get(&browser, "/").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text().await.unwrap().contains(
            r#"<p id="whoami">You are not signed in. <a href="/sign-in">Sign in</a></p>"#
        )
    );

    h.app.shutdown().await;
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_bad_input_is_no_crash() {
    let h = Harness::start().await;
    let browser = h.browser();

    // A sign-in form on another site ("login CSRF"): refused before the server function.
    let res = browser
        .post(h.url("/api/sign_in"))
        .header(ORIGIN, "https://evil.example")
        .form(&[("email", DEMO_EMAIL), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(set_cookie_names(&res), Vec::<String>::new());
    let res = browser
        .post(h.url("/api/sign_in"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", DEMO_EMAIL), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A form without a password: Leptos refuses the arguments before the server
    // function runs and, for a form post, redirects back to the page that posted with
    // the error in the query (`__err` is base64url of "Args|missing field `password`").
    let res = browser
        .post(h.url("/api/sign_in"))
        .header(ORIGIN, h.app.url())
        .header(REFERER, h.url("/sign-in"))
        .form(&[("email", DEMO_EMAIL)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        location(&res),
        format!(
            "{}/sign-in?__path=%2Fapi%2Fsign_in&__err=QXJnc3xtaXNzaW5nIGZpZWxkIGBwYXNzd29yZGA%3D",
            h.app.url()
        )
    );
    assert_eq!(set_cookie_names(&res), Vec::<String>::new());
    // Called as an API (no `text/html`), the same refusal is a 500 with the reason.
    let res = reqwest::Client::new()
        .post(h.url("/api/sign_in"))
        .form(&[("email", DEMO_EMAIL)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.text().await.unwrap(), "Args|missing field `password`");

    // Signing out the other sessions needs a signed-in user.
    let res = h.post(&browser, "/api/sign_out_others", &[]).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/sign-in");

    let res = h.get(&browser, "/nowhere").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Still serving.
    let res = h.sign_in(&browser).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/protected");

    h.app.shutdown().await;
}

#[tokio::test]
async fn an_auth_outage_is_not_a_sign_out() {
    let h = Harness::start().await;
    let cookie = h.app.session_cookie_name().to_owned();
    let email = format!(r#"<dd id="user-email">{DEMO_EMAIL}</dd>"#);
    let browser = h.browser();
    let res = h.sign_in(&browser).await;
    assert_eq!(location(&res), "/protected");
    // The first verification fetches the signing keys; they stay cached.
    let res = h.get(&browser, "/protected").await;
    assert_eq!(res.status(), StatusCode::OK);
    let faults = h.app.emulator().unwrap().faults();
    faults.fail_all(503).unwrap();

    // Signing in while Auth answers 503: back to the form with the reason.
    let res = h.sign_in(&h.browser()).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(location(&res), "/sign-in?error=unavailable");
    assert_eq!(set_cookie_names(&res), Vec::<String>::new());

    // The refresh fails, but the access token is still valid: the page is served and
    // the cookie stays.
    h.advance(INTO_THE_MARGIN);
    let res = h.get(&browser, "/protected").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(set_cookie_names(&res), Vec::<String>::new());
    assert!(res.text().await.unwrap().contains(&email));

    // Past the expiry nobody is verified: the page says Auth is unreachable, with a
    // 503, and the cookie still stays.
    h.advance(TOKEN_LIFETIME - INTO_THE_MARGIN);
    let res = h.get(&browser, "/protected").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(set_cookie_names(&res), Vec::<String>::new());
    let body = res.text().await.unwrap();
    assert!(
        body.contains(
            r#"<p id="error" role="alert" class="error">Supabase Auth cannot be reached right now; try again in a moment.</p>"#
        ),
        "{body}"
    );

    // Auth is back: after the pause of refreshes the failures started (at most 30 s),
    // the same cookie refreshes and the user is there.
    faults.stop_failing();
    h.advance(Duration::from_secs(31));
    let res = h.get(&browser, "/protected").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(set_cookie_names(&res), vec![cookie]);
    assert!(res.text().await.unwrap().contains(&email));

    h.app.shutdown().await;
}
