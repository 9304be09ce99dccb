//! `bench actix`: requests/s and latency of a plain actix-web route and the same route
//! behind `SupabaseMiddleware` with a valid session cookie, under the same wrk load: the
//! actix-web counterpart of `bench http`, measured the same way.

use std::io::Read as _;

use actix_web::{App, HttpServer, web};
use supabase_auth_emulator::EmulatorConfig;
use supabase_ssr_actix::{SupabaseMiddleware, Verified};

use crate::Options;
use crate::common::{has_command, signed_in_cookie};
use crate::load::{self, Load};
use crate::servers::{BODY, auth};
use crate::wrk::Header;

pub(crate) async fn run(options: &Options) -> Result<(), String> {
    if !has_command("wrk") {
        return Err("wrk is not installed (apt-get install -y wrk)".into());
    }
    let load = Load::new(options);

    let emulator = EmulatorConfig::default()
        .start()
        .await
        .map_err(|e| format!("emulator: {e}"))?;
    let header = Header::cookie(signed_in_cookie(&emulator).await?);
    let servers = vec![
        load.start_self("actix-web plain route", &["actix-plain".into()])
            .await?,
        load.start_self(
            "actix-web + SupabaseMiddleware (ours)",
            &[
                "actix-proxy".into(),
                emulator.url(),
                emulator.publishable_key().to_owned(),
            ],
        )
        .await?,
    ];
    let result =
        load::baseline_and_ours(&load, "actix", servers, &header, "ours / plain actix-web").await;
    emulator.shutdown().await;
    result
}

/// `bench serve actix-plain` or `bench serve actix-proxy URL KEY`: `GET /` answers
/// "Hello, World!" (behind the middleware, through `Verified`, so a request that did not
/// verify gets a 401 and wrk counts it as an error), on `threads` actix-web workers (one
/// by default, as the axum servers have). Prints `listening PORT`; stops when stdin closes.
pub(crate) fn serve_child(args: &[String], threads: usize) -> Result<(), String> {
    let middleware = match args {
        [kind] if kind == "actix-plain" => None,
        [kind, url, key] if kind == "actix-proxy" => {
            Some(SupabaseMiddleware::new(auth(url, key, 0)?))
        }
        _ => return Err("usage: bench serve actix-plain | bench serve actix-proxy URL KEY".into()),
    };
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    actix_web::rt::System::new().block_on(async move {
        let server = match middleware {
            None => HttpServer::new(|| App::new().route("/", web::get().to(|| async { BODY })))
                .workers(threads)
                .disable_signals()
                .listen(listener)
                .map_err(|e| e.to_string())?
                .run(),
            Some(middleware) => HttpServer::new(move || {
                App::new()
                    .route(
                        "/",
                        web::get().to(|Verified(_claims): Verified| async { BODY }),
                    )
                    .wrap(middleware.clone())
            })
            .workers(threads)
            .disable_signals()
            .listen(listener)
            .map_err(|e| e.to_string())?
            .run(),
        };
        println!("listening {port}");
        let handle = server.handle();
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
            drop(handle.stop(true));
        });
        server.await.map_err(|e| e.to_string())
    })
}
