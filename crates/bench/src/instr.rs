//! `bench instr WHAT ITERATIONS`: a fixed loop for `valgrind --tool=callgrind`, whose
//! instruction counts do not depend on what else the shared machine is doing.
//!
//! ```text
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured_loop*' \
//!     target/release/bench instr hit 2000
//! ```
//!
//! Only `measured_loop` is counted (not the emulator start or the sign-in); divide the
//! total by ITERATIONS. WHAT is one of:
//! - `read`: the session read from a `Cookie` header (`get_session`, no refresh);
//! - `hit`: `get_claims()` with a verified-token cache hit (cookie read included);
//! - `miss`: `get_claims()` with the cache off (a signature check every time);
//! - `sig`: the ES256 signature check alone (aws-lc, key parsed once);
//! - `plain`: one request through the plain axum router, in process (no sockets);
//! - `proxy`: one request through the same router behind `SupabaseLayer`, in process;
//! - `users`: the same with one of 10,000 users' sessions (signed by a project of our own,
//!   all in the caches), taken in a fixed pseudo-random order: with
//!   `--cache-sim=yes`, what reading the entries of many users costs in cache misses;
//! - `api`: one request with `Authorization: Bearer <token>` through the same route
//!   behind `ApiAuthLayer` (mode `user`), in process;
//! - `scoped`, `baseline`, `uncached`, `context`: one transaction of `bench rls`'s workloads, on a
//!   pool of one connection to a throwaway PostgreSQL (the client's instructions only:
//!   the server is another process).

use std::hint::black_box;

use bytes::{Bytes, BytesMut};

use aws_lc_rs::signature::ParsedPublicKey;
use axum::http::HeaderValue;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use supabase_auth_emulator::EmulatorConfig;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::cookies::CookieJar;
use tower::ServiceExt as _;

use crate::common::sign_in;
use crate::servers;

struct Setup {
    cached: SupabaseAuth,
    uncached: SupabaseAuth,
    cookie: String,
    /// `cookie` and the `Authorization` value, as a server receives them (see [`shared`]).
    cookie_value: Bytes,
    bearer_value: Bytes,
    key: ParsedPublicKey,
    signing_input: String,
    signature: Vec<u8>,
    plain: axum::Router,
    proxy: axum::Router,
    api: axum::Router,
    /// `users`: the router behind `SupabaseLayer` for the project of our own, and its
    /// users' cookies (empty for the other measures).
    users_proxy: axum::Router,
    user_cookies: Vec<Bytes>,
    _project: Option<crate::signer::TestProject>,
}

#[derive(Clone, Copy)]
enum What {
    Read,
    Hit,
    Miss,
    Sig,
    Plain,
    Proxy,
    Users,
    Api,
}

/// Users of `bench instr users`.
const USERS: u64 = 10_000;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let [workload, n] = args
        && matches!(
            workload.as_str(),
            "scoped" | "baseline" | "uncached" | "context"
        )
    {
        return crate::rls::instr(workload, n.parse::<u64>().map_err(|e| e.to_string())?);
    }
    let (what, iterations) = match args {
        [what, n] => (
            match what.as_str() {
                "read" => What::Read,
                "hit" => What::Hit,
                "miss" => What::Miss,
                "sig" => What::Sig,
                "plain" => What::Plain,
                "proxy" => What::Proxy,
                "users" => What::Users,
                "api" => What::Api,
                other => return Err(format!("unknown measure {other}")),
            },
            n.parse::<u64>().map_err(|e| e.to_string())?,
        ),
        _ => return Err("usage: bench instr read|hit|miss|sig|plain|proxy|users|api|scoped|baseline|uncached|context ITERATIONS".into()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let emulator = runtime
        .block_on(EmulatorConfig::default().start())
        .map_err(|e| e.to_string())?;
    let setup = runtime.block_on(async {
        let signed_in = sign_in(&emulator).await?;
        let cookie = signed_in.jar.cookie_header();
        let bearer = format!("Bearer {}", signed_in.access_token);
        let build = |cache: bool| {
            let b = SupabaseAuth::builder(emulator.url(), emulator.publishable_key());
            let b = if cache {
                b
            } else {
                b.disable_verified_token_cache()
            };
            b.build().map_err(|e| e.to_string())
        };
        let (cached, uncached) = (build(true)?, build(false)?);
        let mut token = String::new();
        for auth in [&cached, &uncached] {
            let client = auth.server_client(CookieJar::from_cookie_header(&cookie));
            client.get_claims().await.map_err(|e| e.to_string())?;
            token = client
                .get_session()
                .await
                .map_err(|e| e.to_string())?
                .map(|s| s.access_token().to_owned())
                .unwrap_or_default();
        }
        let key = crate::signer::es256_key(&emulator.jwks()["keys"][0])?;
        let (signing_input, signature) = token.rsplit_once('.').ok_or("not a JWT")?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|e| e.to_string())?;
        let proxy = servers::proxy(cached.clone());
        let api = servers::api(cached.clone());
        // Warm each path once (their JWKS cache is the one of `cached`).
        for (router, header) in [
            (&proxy, ("cookie", &shared(&cookie))),
            (&api, ("authorization", &shared(&bearer))),
        ] {
            let status = router
                .clone()
                .oneshot(request(header)?)
                .await
                .map_err(|e| e.to_string())?
                .status();
            if status != 200 {
                return Err(format!("the router answered {status}"));
            }
        }
        let (users_proxy, user_cookies, project) = if matches!(what, What::Users) {
            let project = crate::signer::TestProject::start().await?;
            let auth = SupabaseAuth::builder(project.url.clone(), crate::signer::TestProject::KEY)
                .build()
                .map_err(|e| e.to_string())?;
            let router = servers::proxy(auth);
            let mut cookies = Vec::new();
            for n in 0..USERS {
                let cookie = shared(&project.signer.session(n)?.1);
                let status = router
                    .clone()
                    .oneshot(request(("cookie", &cookie))?)
                    .await
                    .map_err(|e| e.to_string())?
                    .status();
                if status != 200 {
                    return Err(format!("user {n}: the router answered {status}"));
                }
                cookies.push(cookie);
            }
            (router, cookies, Some(project))
        } else {
            (servers::plain(), Vec::new(), None)
        };
        Ok::<_, String>(Setup {
            users_proxy,
            user_cookies,
            _project: project,
            plain: servers::plain(),
            proxy,
            api,
            cached,
            uncached,
            cookie_value: shared(&cookie),
            bearer_value: shared(&bearer),
            cookie,
            key,
            signing_input: signing_input.to_owned(),
            signature,
        })
    })?;
    let failures = measured_loop(&runtime, &setup, what, iterations);
    if failures > 0 {
        return Err(format!("{failures} iterations failed"));
    }
    println!("instr: {iterations} iterations done");
    Ok(())
}

/// The only code callgrind counts (`--toggle-collect='*measured_loop*'`).
#[inline(never)]
fn measured_loop(
    runtime: &tokio::runtime::Runtime,
    setup: &Setup,
    what: What,
    iterations: u64,
) -> u64 {
    runtime.block_on(async {
        let mut failures = 0;
        // A fixed pseudo-random walk over the users (an LCG), the same in every run.
        let mut user = 0u64;
        for _ in 0..iterations {
            let ok = match what {
                What::Users => {
                    user = user
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let cookie = &setup.user_cookies[((user >> 33) % USERS) as usize];
                    match request(black_box(("cookie", cookie))) {
                        Ok(req) => setup
                            .users_proxy
                            .clone()
                            .oneshot(req)
                            .await
                            .is_ok_and(|r| black_box(r).status() == 200),
                        Err(_) => false,
                    }
                }
                What::Read => {
                    let jar = CookieJar::from_cookie_header(black_box(&setup.cookie));
                    let session = setup.cached.server_client(jar).get_session().await;
                    black_box(session).is_ok_and(|s| s.is_some())
                }
                What::Hit | What::Miss => {
                    let auth = match what {
                        What::Hit => &setup.cached,
                        _ => &setup.uncached,
                    };
                    let jar = CookieJar::from_cookie_header(black_box(&setup.cookie));
                    let claims = auth.server_client(jar).get_claims().await;
                    black_box(claims).is_ok_and(|c| c.is_some())
                }
                What::Plain | What::Proxy | What::Api => {
                    let (router, header) = match what {
                        What::Plain => (&setup.plain, ("cookie", &setup.cookie_value)),
                        What::Proxy => (&setup.proxy, ("cookie", &setup.cookie_value)),
                        _ => (&setup.api, ("authorization", &setup.bearer_value)),
                    };
                    match request(black_box(header)) {
                        Ok(req) => router
                            .clone()
                            .oneshot(req)
                            .await
                            .is_ok_and(|r| black_box(r).status() == 200),
                        Err(_) => false,
                    }
                }
                What::Sig => setup
                    .key
                    .verify_sig(
                        black_box(setup.signing_input.as_bytes()),
                        black_box(&setup.signature),
                    )
                    .is_ok(),
            };
            failures += u64::from(!ok);
        }
        failures
    })
}

/// `GET /` with one header: the session cookie, as a browser sends it, or the bearer
/// token, as an API client does. The value is checked as a server checks it, and
/// shared, not copied: hyper's header values are slices of the connection's read
/// buffer.
fn request((name, value): (&str, &Bytes)) -> Result<axum::http::Request<axum::body::Body>, String> {
    let value = HeaderValue::from_maybe_shared(value.clone()).map_err(|e| e.to_string())?;
    axum::http::Request::get("/")
        .header("host", "127.0.0.1")
        .header(name, value)
        .body(axum::body::Body::empty())
        .map_err(|e| e.to_string())
}

/// `value` as a reference-counted slice of a larger buffer, as hyper's parser hands a
/// header value over: cloning it (a proxy keeping the `Cookie` header) shares it.
fn shared(value: &str) -> Bytes {
    let mut buffer = BytesMut::from(value.as_bytes());
    buffer.split_to(value.len()).freeze()
}
