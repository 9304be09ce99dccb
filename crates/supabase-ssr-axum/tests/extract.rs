//! The extractors: `Verified`'s rejections, the `Supabase` client's writes reaching the
//! response, and extractors used without the layer.
#![allow(clippy::unwrap_used)]

mod support;

use axum::Router;
use axum::routing::get;
use serde_json::json;
use supabase_ssr::adapter::codec::decode_value;
use supabase_ssr::cookies::{CookieOptions, SetCookie};
use supabase_ssr_axum::{AuthOutcome, MaybeVerified, Supabase, SupabaseLayer, Verified};
use support::*;

#[tokio::test]
async fn verified_rejects_with_401_without_a_session() {
    let emu = emulator().await;
    let app = app(SupabaseLayer::new(auth(&emu)));

    for cookies in [
        &[][..],
        &["theme=dark"][..],
        &["sb-127-auth-token=base64-e30"][..],
    ] {
        let res = send(&app, get_with("/dashboard", cookies)).await;
        assert_eq!(res.status, 401, "{cookies:?}");
        assert_eq!(res.body, "sign-in required");
        assert!(res.header("location").is_empty());
    }
}

#[tokio::test]
async fn verified_redirects_to_the_login_path_with_next() {
    let emu = emulator().await;
    let app = app(SupabaseLayer::new(auth(&emu)).login_path("/sign-in"));

    let res = send(&app, get_with("/dashboard?a=1", &[])).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        res.header("location"),
        ["/sign-in?next=%2Fdashboard%3Fa%3D1"]
    );

    // A login path with a query of its own gets `&next=`.
    let app = routes().layer(SupabaseLayer::new(auth(&emu)).login_path("/sign-in?lang=en"));
    let res = send(&app, get_with("/dashboard", &[])).await;
    assert_eq!(
        res.header("location"),
        ["/sign-in?lang=en&next=%2Fdashboard"]
    );
}

#[tokio::test]
async fn next_is_the_path_the_layer_saw_before_nest_stripped_it() {
    let emu = emulator().await;
    let app = Router::new()
        .nest("/app", routes())
        .layer(SupabaseLayer::new(auth(&emu)).login_path("/sign-in"));

    let res = send(&app, get_with("/app/dashboard?tab=a%20b", &[])).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        res.header("location"),
        ["/sign-in?next=%2Fapp%2Fdashboard%3Ftab%3Da%2520b"]
    );
}

#[tokio::test]
async fn verified_hands_over_the_claims_of_a_session() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let app = app(SupabaseLayer::new(auth).login_path("/sign-in"));

    let res = send(&app, get_with("/dashboard", &[&header_of(&cookies)])).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, format!("dashboard of {EMAIL}"));
}

#[tokio::test]
async fn a_handler_that_signs_in_writes_the_session_to_the_response() {
    let emu = emulator().await;
    let app = app(SupabaseLayer::new(auth(&emu)));

    let res = send(&app, request("POST", "/sign-in", &["theme=dark"])).await;

    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), ["/dashboard"]);
    let lines = res.set_cookies();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let value = lines[0]
        .strip_prefix("sb-127-auth-token=")
        .and_then(|rest| rest.strip_suffix(ATTRIBUTES))
        .unwrap();
    let set = SetCookie {
        name: SESSION.into(),
        value: value.into(),
        options: CookieOptions::default_set(),
    };
    assert_eq!(set.to_header_value(), lines[0]);
    let session: serde_json::Value = serde_json::from_str(&decode_value(value).unwrap()).unwrap();
    assert_eq!(session["user"]["email"], EMAIL);
    assert_eq!(res.cache_headers(), no_store());

    // The browser sends it back: signed in.
    let cookie = format!("theme=dark; {SESSION}={value}");
    let res = send(&app, get_with("/dashboard", &[&cookie])).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, format!("dashboard of {EMAIL}"));
}

#[tokio::test]
async fn a_handler_that_signs_out_deletes_the_session_cookie() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let app = app(SupabaseLayer::new(auth));
    emu.clear_requests();

    let res = send(&app, request("POST", "/sign-out", &[&header_of(&cookies)])).await;

    assert_eq!(res.status, 303);
    assert_eq!(res.set_cookies(), [SESSION_DELETION]);
    assert_eq!(res.cache_headers(), no_store());
    let logouts = emu
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/logout"))
        .count();
    assert_eq!(logouts, 1);

    // The old cookies no longer sign anyone in once the access token expires.
    let res = send(
        &routes().layer(SupabaseLayer::new(auth_ahead(&emu, 3700))),
        get_with("/dashboard", &[&header_of(&cookies)]),
    )
    .await;
    assert_eq!(res.status, 401);
}

#[tokio::test]
async fn set_cookie_lines_the_handler_already_added_are_not_repeated() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let app = app(SupabaseLayer::new(auth));

    let res = send(
        &app,
        request("POST", "/sign-out-by-hand", &[&header_of(&cookies)]),
    )
    .await;

    assert_eq!(res.set_cookies(), [SESSION_DELETION, "theme=dark; Path=/"]);
}

async fn report(
    supabase: Option<Supabase>,
    outcome: Option<AuthOutcome>,
    MaybeVerified(claims): MaybeVerified,
) -> String {
    format!(
        "{} {} {}",
        supabase.is_some(),
        outcome.is_some(),
        claims.is_some()
    )
}

#[tokio::test]
async fn extractors_without_the_layer_reject_with_500() {
    let app = Router::new()
        .route("/supabase", get(|_: Supabase| async { "unreachable" }))
        .route("/verified", get(|_: Verified| async { "unreachable" }))
        .route("/outcome", get(|_: AuthOutcome| async { "unreachable" }))
        .route("/report", get(report));

    for (path, extractor) in [
        ("/supabase", "Supabase"),
        ("/verified", "Verified"),
        ("/outcome", "AuthOutcome"),
    ] {
        let res = send(&app, get_with(path, &[])).await;
        assert_eq!(res.status, 500, "{path}");
        assert_eq!(
            res.body,
            format!(
                "the `{extractor}` extractor found nothing from SupabaseLayer: add \
                 `.layer(SupabaseLayer::new(auth))` to the router, and make sure its \
                 matcher does not skip this path"
            )
        );
    }
    let res = send(&app, get_with("/report", &[])).await;
    assert_eq!(
        (res.status.as_u16(), res.body.as_str()),
        (200, "false false false")
    );
}

#[tokio::test]
async fn verified_on_a_skipped_path_fails_closed() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let app = Router::new()
        .route("/assets/secret", get(|_: Verified| async { "unreachable" }))
        .layer(SupabaseLayer::new(auth));

    let res = send(&app, get_with("/assets/secret", &[&header_of(&cookies)])).await;
    assert_eq!(res.status, 500);
    assert!(res.set_cookies().is_empty());
}

#[tokio::test]
async fn auth_outcome_is_an_extractor() {
    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let app = Router::new()
        .route(
            "/",
            get(|outcome: AuthOutcome| async move {
                json!({
                    "verified": outcome.is_verified(),
                    "no_session": outcome.is_no_session(),
                    "failed": outcome.is_failed(),
                    "email": outcome.claims().and_then(|c| c.email.clone()),
                })
                .to_string()
            }),
        )
        .layer(SupabaseLayer::new(auth));

    let res = send(&app, get_with("/", &[&header_of(&cookies)])).await;
    assert_eq!(
        res.json(),
        json!({"verified": true, "no_session": false, "failed": false, "email": EMAIL})
    );
    let res = send(&app, get_with("/", &[])).await;
    assert_eq!(
        res.json(),
        json!({"verified": false, "no_session": true, "failed": false, "email": null})
    );
}

/// A plain tower middleware below the layer reads what the layer found from the
/// request extensions, without extractors.
#[tokio::test]
async fn middleware_below_the_layer_reads_the_outcome_from_the_extensions() {
    use axum::extract::Request;
    use axum::middleware::{Next, from_fn};
    use axum::response::Response;

    async fn tag(req: Request, next: Next) -> Response {
        let who = match AuthOutcome::from_extensions(req.extensions()) {
            Some(AuthOutcome::Verified(claims)) => claims.email.clone().unwrap_or_default(),
            Some(AuthOutcome::NoSession) => "no session".to_owned(),
            Some(_) => "failed".to_owned(),
            None => "no layer".to_owned(),
        };
        let client = Supabase::from_extensions(req.extensions()).is_some();
        let mut res = next.run(req).await;
        res.headers_mut()
            .insert("x-who", format!("{who}; client={client}").parse().unwrap());
        res
    }

    let emu = emulator().await;
    let auth = auth(&emu);
    let cookies = signed_in_cookies(&auth).await;
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .route("/logo.png", get(|| async { "png" }))
        .layer(from_fn(tag))
        .layer(SupabaseLayer::new(auth));

    let res = send(&app, get_with("/", &[&header_of(&cookies)])).await;
    assert_eq!(res.header("x-who"), [format!("{EMAIL}; client=true")]);
    let res = send(&app, get_with("/", &[])).await;
    assert_eq!(res.header("x-who"), ["no session; client=true"]);
    // A path the matcher skips gets nothing in its extensions.
    let res = send(&app, get_with("/logo.png", &[&header_of(&cookies)])).await;
    assert_eq!(res.header("x-who"), ["no layer; client=false"]);
}
