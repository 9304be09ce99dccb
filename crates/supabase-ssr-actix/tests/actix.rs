//! What only actix-web has: errors from middleware inside ours, and the middleware's
//! `Debug`. Everything else is in the shared conformance suite (conformance.rs).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Service as _;
use actix_web::http::header::{COOKIE, SET_COOKIE};
use actix_web::test as actix_test;
use actix_web::{App, HttpResponse, web};
use supabase_auth_emulator::EmulatorConfig;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::adapter::codec::cookie_header_value;
use supabase_ssr::clock::{Clock, ManualClock, SystemClock};
use supabase_ssr::cookies::CookieJar;
use supabase_ssr_actix::SupabaseMiddleware;

#[actix_web::test]
async fn an_error_from_an_inner_middleware_still_carries_the_cookies() {
    let emu = EmulatorConfig::default().start().await.unwrap();
    emu.create_user("ada@example.com", "correct horse battery staple")
        .await
        .unwrap();
    let jar = Arc::new(CookieJar::default());
    SupabaseAuth::builder(emu.url(), emu.publishable_key())
        .build()
        .unwrap()
        .server_client(jar.clone())
        .sign_in_with_password("ada@example.com", "correct horse battery staple")
        .await
        .unwrap();
    let cookies = cookie_header_value(&jar.cookies());
    // Inside the refresh margin: the middleware refreshes and writes the new session.
    emu.advance_clock(Duration::from_secs(3550));
    let auth = SupabaseAuth::builder(emu.url(), emu.publishable_key())
        .clock(ManualClock::new(SystemClock.now_millis() + 3_550_000))
        .build()
        .unwrap();

    let app = actix_test::init_service(
        App::new()
            .route("/", web::get().to(HttpResponse::Ok))
            .wrap_fn(|req, srv| {
                let fut = srv.call(req);
                async move {
                    fut.await?;
                    Err::<actix_web::dev::ServiceResponse, _>(actix_web::error::ErrorForbidden(
                        "denied by an inner middleware",
                    ))
                }
            })
            .wrap(SupabaseMiddleware::new(auth)),
    )
    .await;
    let req = actix_test::TestRequest::get()
        .uri("/")
        .insert_header((COOKIE, cookies))
        .to_request();
    let error = match app.call(req).await {
        Ok(res) => panic!("expected the inner error, got {}", res.status()),
        Err(error) => error,
    };
    let response = error.error_response();
    assert_eq!(response.status(), 403);
    let lines: Vec<&str> = response
        .headers()
        .get_all(SET_COOKIE)
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("sb-127-auth-token=base64-")
            && lines[0].ends_with("; Max-Age=34560000; Path=/; SameSite=Lax"),
        "{lines:?}"
    );
    assert_eq!(
        response.headers().get("cache-control").unwrap(),
        "private, no-cache, no-store, must-revalidate, max-age=0"
    );
}

#[test]
fn debug_shows_the_settings_and_no_key() {
    let auth = SupabaseAuth::builder("http://127.0.0.1:9", "sb_publishable_secretish")
        .build()
        .unwrap();
    let middleware = SupabaseMiddleware::new(auth).login_path("/sign-in");
    let debug = format!("{middleware:?}");
    assert!(debug.starts_with("SupabaseMiddleware { auth: "), "{debug}");
    assert!(debug.contains(r#"login_path: Some("/sign-in")"#), "{debug}");
    assert!(!debug.contains("sb_publishable_secretish"), "{debug}");
}
