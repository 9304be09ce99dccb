//! The app under test: the contract an adapter serves, and what it is given.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};

use serde_json::{Value, json};
use supabase_ssr::SupabaseAuth;
use supabase_ssr::adapter::is_static_path;
use supabase_ssr::api_auth::Caller;

/// What a scenario hands the app under test.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// The process-wide value for the proxy and the API middleware (its clock may run
    /// ahead of the system's, to put a session inside the refresh margin).
    pub auth: SupabaseAuth,
    /// The proxy's login path (`login_path("/sign-in")`), when the scenario sets one.
    pub login_path: Option<String>,
}

/// A framework adapter's app, serving the contract's routes.
///
/// The proxy wraps every route, skipping the paths for which [`unlayered`] is `true`
/// (static files, and `/unlayered/...`), with `config.login_path` when it is set:
///
/// | route | handler |
/// |---|---|
/// | `GET /echo` and `GET /assets/echo.css` | `200`, JSON [`echo_body`] of the request's `Cookie` fields, the outcome extractor as `Option` (its name: `"verified"`, `"no_session"`, `"failed_transient"` or `"failed"`), whether the client extractor as `Option` is present, and the `MaybeVerified` email |
/// | `GET /echo-bytes` | `200`, the body is the request's `Cookie` fields, raw, joined by `\n` |
/// | `GET /dashboard` and `GET /unlayered/dashboard` | `Verified`: `200` `dashboard of {email}` |
/// | `GET /unlayered/client` | the client extractor: `200` `client` |
/// | `GET /boom` | `500` `boom` |
/// | `GET /redirect` | `303`, `Location: /elsewhere` |
/// | `GET /cached` | `200` `cacheable`, `Cache-Control: public, max-age=3600` |
/// | `POST /sign-in` | the client's `sign_in_with_password(EMAIL, PASSWORD)`: `303` to `/dashboard`, or `400` |
/// | `POST /sign-out` | the client's `sign_out(SignOutScope::Local)`: `303` to `/`, or `502` |
/// | `POST /sign-out-by-hand` | as `/sign-out`, then the handler appends `Set-Cookie: sb-127-auth-token=; Max-Age=0; Path=/; SameSite=Lax` and `Set-Cookie: theme=dark; Path=/` itself |
///
/// And, each wrapped in the adapter's API auth middleware with these modes, answering
/// `200` with the JSON [`caller_body`] of the accepted caller:
/// `GET /api/user` (`user`), `GET /api/open` (`user`, `none`), `GET /api/key` (`secret:*`,
/// `publishable:*`), `GET /api/session` (`session`).
pub trait AppUnderTest {
    /// Serves the routes on 127.0.0.1, on a port the OS chooses, until the returned value
    /// is dropped. Called inside a tokio runtime.
    fn serve(config: AppConfig) -> RunningApp;
}

/// A served app: its address; dropping it stops the server.
pub struct RunningApp {
    addr: SocketAddr,
    /// Behind a mutex so the app can be shared between tasks.
    stop: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl RunningApp {
    /// An app listening on `addr`, stopped by `stop` when dropped.
    pub fn new(addr: SocketAddr, stop: impl FnOnce() + Send + 'static) -> Self {
        Self {
            addr,
            stop: Mutex::new(Some(Box::new(stop))),
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl fmt::Debug for RunningApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningApp")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        let stop = self.stop.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(stop) = stop.take() {
            stop();
        }
    }
}

/// The paths the app's proxy skips: static files (the default matcher) and
/// `/unlayered/...`.
pub fn unlayered(path: &str) -> bool {
    is_static_path(path) || path.starts_with("/unlayered/")
}

/// The body of `/echo`.
pub fn echo_body<'a>(
    cookie_fields: impl IntoIterator<Item = &'a [u8]>,
    outcome: Option<&str>,
    client: bool,
    email: Option<&str>,
) -> String {
    let cookie: Vec<String> = cookie_fields
        .into_iter()
        .map(|field| String::from_utf8_lossy(field).into_owned())
        .collect();
    json!({
        "cookie": cookie,
        "outcome": outcome,
        "client": client,
        "email": email,
    })
    .to_string()
}

/// The body of the `/api/...` routes.
pub fn caller_body(caller: &Caller) -> String {
    let value: Value = json!({
        "mode": caller.mode(),
        "id": caller.user().map(|user| user.id()),
        "key": caller.key_name(),
    });
    value.to_string()
}
