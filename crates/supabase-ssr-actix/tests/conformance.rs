//! The shared conformance suite (crates/supabase-ssr-conformance) against the actix-web
//! middleware, over real HTTP.
#![allow(clippy::unwrap_used)]

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{CACHE_CONTROL, COOKIE, HeaderValue, LOCATION, SET_COOKIE};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, Resource, web};
use supabase_ssr::SignOutScope;
use supabase_ssr::api_auth::AuthMode;
use supabase_ssr_actix::{
    ApiAuth, ApiCaller, AuthOutcome, MaybeVerified, Supabase, SupabaseMiddleware, Verified,
};
use supabase_ssr_conformance::{
    AppConfig, AppUnderTest, EMAIL, PASSWORD, RunningApp, caller_body, echo_body, unlayered,
};

struct ActixApp;

async fn echo(
    req: HttpRequest,
    outcome: Option<AuthOutcome>,
    supabase: Option<Supabase>,
    MaybeVerified(claims): MaybeVerified,
) -> String {
    let outcome = outcome.map(|o| match o {
        AuthOutcome::Verified(_) => "verified",
        AuthOutcome::NoSession => "no_session",
        AuthOutcome::Failed(e) if e.is_transient() => "failed_transient",
        AuthOutcome::Failed(_) => "failed",
        _ => "other",
    });
    echo_body(
        req.headers().get_all(COOKIE).map(HeaderValue::as_bytes),
        outcome,
        supabase.is_some(),
        claims.as_ref().and_then(|c| c.email.as_deref()),
    )
}

async fn echo_bytes(req: HttpRequest) -> Vec<u8> {
    let fields: Vec<&[u8]> = req
        .headers()
        .get_all(COOKIE)
        .map(HeaderValue::as_bytes)
        .collect();
    fields.join(&b'\n')
}

async fn dashboard(Verified(claims): Verified) -> String {
    format!(
        "dashboard of {}",
        claims.email.as_deref().unwrap_or_default()
    )
}

fn see_other(to: &'static str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, to))
        .finish()
}

async fn sign_in(supabase: Supabase) -> HttpResponse {
    match supabase.sign_in_with_password(EMAIL, PASSWORD).await {
        Ok(_) => see_other("/dashboard"),
        Err(e) => HttpResponse::BadRequest().body(e.to_string()),
    }
}

async fn sign_out(supabase: Supabase) -> HttpResponse {
    match supabase.sign_out(SignOutScope::Local).await {
        Ok(()) => see_other("/"),
        Err(e) => HttpResponse::BadGateway().body(e.to_string()),
    }
}

async fn sign_out_by_hand(supabase: Supabase) -> HttpResponse {
    let mut res = sign_out(supabase).await;
    for line in [
        "sb-127-auth-token=; Max-Age=0; Path=/; SameSite=Lax",
        "theme=dark; Path=/",
    ] {
        res.headers_mut()
            .append(SET_COOKIE, HeaderValue::from_static(line));
    }
    res
}

async fn caller(ApiCaller(caller): ApiCaller) -> String {
    caller_body(&caller)
}

fn api(
    config: &AppConfig,
    path: &str,
    modes: &[&str],
) -> Resource<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<EitherBody<BoxBody>>,
        Error = actix_web::Error,
        InitError = (),
    > + use<>,
> {
    let modes: Vec<AuthMode> = modes.iter().map(|m| m.parse().unwrap()).collect();
    web::resource(path)
        .wrap(ApiAuth::new(config.auth.clone(), modes))
        .route(web::get().to(caller))
}

fn configure(config: &AppConfig, cfg: &mut web::ServiceConfig) {
    cfg.route("/echo", web::get().to(echo))
        .route("/assets/echo.css", web::get().to(echo))
        .route("/echo-bytes", web::get().to(echo_bytes))
        .route("/dashboard", web::get().to(dashboard))
        .route("/unlayered/dashboard", web::get().to(dashboard))
        .route(
            "/unlayered/client",
            web::get().to(|_: Supabase| async { "client" }),
        )
        .route(
            "/boom",
            web::get().to(|| async { HttpResponse::InternalServerError().body("boom") }),
        )
        .route(
            "/redirect",
            web::get().to(|| async { see_other("/elsewhere") }),
        )
        .route(
            "/cached",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .insert_header((CACHE_CONTROL, "public, max-age=3600"))
                    .body("cacheable")
            }),
        )
        .route("/sign-in", web::post().to(sign_in))
        .route("/sign-out", web::post().to(sign_out))
        .route("/sign-out-by-hand", web::post().to(sign_out_by_hand))
        .service(api(config, "/api/user", &["user"]))
        .service(api(config, "/api/open", &["user", "none"]))
        .service(api(config, "/api/key", &["secret:*", "publishable:*"]))
        .service(api(config, "/api/session", &["session"]));
}

impl AppUnderTest for ActixApp {
    fn serve(config: AppConfig) -> RunningApp {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        // actix-web runs its own single-threaded runtimes: one system on a thread of its
        // own, stopped when the test drops the app.
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let mut middleware = SupabaseMiddleware::new(config.auth.clone())
                        .skip_if(|req| unlayered(req.path()));
                    if let Some(login_path) = &config.login_path {
                        middleware = middleware.login_path(login_path);
                    }
                    let config = config.clone();
                    App::new()
                        .configure(move |cfg| configure(&config, cfg))
                        .wrap(middleware)
                })
                .workers(2)
                .disable_signals()
                .listen(listener)
                .unwrap()
                .run();
                handle_tx.send(server.handle()).unwrap();
                server.await.unwrap();
            });
        });
        let handle = handle_rx.recv().unwrap();
        RunningApp::new(addr, move || {
            // The stop command is sent at once; the server finishes on its own thread.
            drop(handle.stop(false));
        })
    }
}

supabase_ssr_conformance::conformance_suite!(ActixApp);
