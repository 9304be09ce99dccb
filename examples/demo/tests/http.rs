//! The demo over plain HTTP: bad input gives pages with the reason (never a 500), `next`
//! only goes to local paths, cross-site posts are refused, protected pages redirect.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use demo::{DEMO_EMAIL, DEMO_PASSWORD, DemoConfig};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION, ORIGIN, SET_COOKIE};

async fn start() -> (demo::App, reqwest::Client) {
    let app = demo::run(
        DemoConfig::emulator()
            .port(0)
            .jwt_exp(Duration::from_secs(60)),
    )
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    (app, client)
}

fn location(res: &reqwest::Response) -> &str {
    res.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn sign_in(app: &demo::App, client: &reqwest::Client, next: &str) -> reqwest::Response {
    client
        .post(format!("{}/sign-in", app.url()))
        .form(&[
            ("email", DEMO_EMAIL),
            ("password", DEMO_PASSWORD),
            ("next", next),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn pages_render_and_protected_pages_redirect() {
    let (app, client) = start().await;
    let home = client.get(app.url()).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    assert!(home.text().await.unwrap().contains("You are not signed in"));

    let dash = client
        .get(format!("{}/dashboard", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(dash.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&dash).starts_with("/sign-in?next="),
        "{}",
        location(&dash)
    );

    let css = client
        .get(format!("{}/static/demo.css", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(css.headers().get(SET_COOKIE).is_none());

    let missing = client
        .get(format!("{}/nowhere", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("There is no page here")
    );
    app.shutdown().await;
}

#[tokio::test]
async fn sign_in_follows_only_local_next_paths() {
    let (app, client) = start().await;
    for (next, expected) in [
        ("https://evil.example/", "/dashboard"),
        ("//evil.example/", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("/account?x=1", "/account?x=1"),
    ] {
        let res = sign_in(&app, &client, next).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&res), expected, "{next}");
    }
    let res = sign_in(&app, &client, "/dashboard").await;
    let cookie = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(app.session_cookie_name()))
        .unwrap()
        .to_owned();
    assert!(cookie.contains("base64-"), "{cookie}");

    let dash = client
        .get(format!("{}/dashboard", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(dash.status(), StatusCode::OK);
    let body = dash.text().await.unwrap();
    assert!(body.contains(DEMO_EMAIL), "{body}");

    // The email and OAuth callbacks validate `next` too.
    let cb = client
        .get(format!(
            "{}/auth/callback?error=access_denied&error_description=Nope&next=https://evil.example",
            app.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(cb.status(), StatusCode::BAD_REQUEST);
    assert!(cb.text().await.unwrap().contains("Nope"));
    app.shutdown().await;
}

#[tokio::test]
async fn bad_input_shows_the_reason_without_a_500() {
    let (app, client) = start().await;
    let url = |p: &str| format!("{}{p}", app.url());
    // First, while this client holds no PKCE verifier cookie.
    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            client.get(url("/auth/callback?code=made-up")),
            StatusCode::BAD_REQUEST,
            "PKCE verifier cookie is missing",
        ),
        (
            client
                .post(url("/sign-in"))
                .body(vec![0xff, 0xfe, b'=', 0x00]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your email and password",
        ),
        (
            client
                .post(url("/sign-in"))
                .form(&[("email", DEMO_EMAIL), ("password", "wrong")]),
            StatusCode::BAD_REQUEST,
            "Invalid login credentials",
        ),
        (
            client
                .post(url("/sign-up"))
                .form(&[("email", "x@example.com")]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter an email and a password",
        ),
        (
            client
                .post(url("/sign-up"))
                .form(&[("email", "not-an-email"), ("password", "secret123")]),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            client
                .post(url("/sign-in/magic-link"))
                .form(&[("email", "")]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter your email",
        ),
        (
            client
                .post(url("/auth/oauth"))
                .form(&[("provider", "myspace")]),
            StatusCode::BAD_REQUEST,
            "not offered here",
        ),
        (
            client.get(url("/auth/callback")),
            StatusCode::BAD_REQUEST,
            "has no code",
        ),
        (
            client.get(url("/auth/confirm?token_hash=abc&type=bogus")),
            StatusCode::BAD_REQUEST,
            "needs a token_hash and a known type",
        ),
        (
            client.get(url("/auth/confirm?token_hash=abc&type=email")),
            StatusCode::FORBIDDEN,
            "invalid or has expired",
        ),
        (
            client.get(url("/sign-in?next=%ZZ%00")),
            StatusCode::OK,
            "Sign in",
        ),
    ];
    for (request, status, text) in cases {
        let res = request.send().await.unwrap();
        let got = res.status();
        let body = res.text().await.unwrap();
        assert_eq!(got, status, "{body}");
        assert!(body.contains(text), "expected {text:?} in {body}");
    }

    // Signed in, an oversized display name is refused on the page.
    sign_in(&app, &client, "/dashboard").await;
    let long = "x".repeat(101);
    let res = client
        .post(url("/account"))
        .form(&[("display_name", long.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("too long"));
    app.shutdown().await;
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let (app, client) = start().await;
    let res = client
        .post(format!("{}/sign-in", app.url()))
        .header(ORIGIN, "http://evil.example")
        .form(&[("email", DEMO_EMAIL), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get(SET_COOKIE).is_none());
    let res = client
        .post(format!("{}/sign-out", app.url()))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = client
        .post(format!("{}/sign-in", app.url()))
        .header(ORIGIN, app.url())
        .form(&[("email", DEMO_EMAIL), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    app.shutdown().await;
}
