//! [`Emulator`]: a running server and the handle tests use to drive and inspect it.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::{EmulatorError, ErrorKind};
use crate::keys::KeyRing;
use crate::state::AppState;
use crate::store::Store;
use crate::{EmulatorConfig, SigningAlg, apikeys};

/// One HTTP request the emulator served.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, e.g. `/auth/v1/token`.
    pub path: String,
    /// The raw query string without `?` (empty if none), e.g. `grant_type=refresh_token`.
    pub query: String,
    /// All request headers, names lower-case, in received order.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The first value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| match k.as_str() {
                "authorization" | "apikey" | "cookie" => (k.as_str(), "[redacted]"),
                _ => (k.as_str(), v.as_str()),
            })
            .collect();
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .finish()
    }
}

/// An email (or SMS, with [`Email::channel`] `sms`) the emulator would have sent; read
/// it with [`Emulator::inbox`] or `GET /inbox/api/messages`.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Email {
    /// Unique id of the message.
    pub id: String,
    /// Recipient address (lower-case).
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// `signup`, `magiclink`, `recovery`, `email_change`, `invite` or `reauthentication`
    /// (a code only: no link, no token hash); for an SMS the `verifyOtp` type of its
    /// code, `sms` or `phone_change`, or `reauthentication`.
    pub kind: String,
    /// The one-time code (6 digits by default), for `verifyOtp({ email, token, type: 'email' })`.
    pub otp: String,
    /// The token hash (`pkce_`-prefixed in PKCE flows), for `verifyOtp({ token_hash, type })`.
    pub token_hash: String,
    /// The action link: `<auth url>/verify?token=<hash>&type=<kind>&redirect_to=<url>`.
    pub link: String,
    /// Where the link redirects after verification.
    pub redirect_to: String,
    /// The HTML body.
    pub html: String,
    /// When it was sent (RFC 3339).
    pub sent_at: String,
    /// `email`, or for an SMS the channel GoTrue was asked to use (`sms`).
    pub channel: String,
    /// An SMS's text (GoTrue's default template, `Your code is 123456`); empty for
    /// emails, whose body is [`Email::html`].
    pub body: String,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("id", &self.id)
            .field("to", &self.to)
            .field("kind", &self.kind)
            .field("channel", &self.channel)
            .field("sent_at", &self.sent_at)
            .finish_non_exhaustive()
    }
}

struct Running {
    state: Arc<AppState>,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// A running emulator. Cheap to clone (an `Arc` inside); the server stops on
/// [`Emulator::shutdown`] or when the last clone is dropped.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Running>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.inner.state.base_url)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    pub(crate) async fn start(config: EmulatorConfig) -> Result<Self, EmulatorError> {
        // Pin jsonwebtoken's backend so feature unification elsewhere cannot make it panic.
        let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
            &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
        );
        let store = match &config.database_url {
            Some(_) if config.db_path.is_some() => {
                return Err(EmulatorError::new(
                    ErrorKind::Config,
                    "db_path (SQLite) and database_url (PostgreSQL) are exclusive: choose one",
                ));
            }
            Some(url) => {
                let url = url.clone();
                // Connecting blocks; keep it off the async threads.
                tokio::task::spawn_blocking(move || Store::open_postgres(&url))
                    .await
                    .map_err(|e| {
                        EmulatorError::new(
                            ErrorKind::Database,
                            format!("opening the PostgreSQL store failed: {e}"),
                        )
                    })??
            }
            None => Store::open(config.db_path.as_deref())?,
        };
        let listener = tokio::net::TcpListener::bind((config.host, config.port))
            .await
            .map_err(|e| {
                EmulatorError::with_source(ErrorKind::Io, "cannot bind the listener", e)
            })?;
        let addr = listener.local_addr().map_err(|e| {
            EmulatorError::with_source(ErrorKind::Io, "cannot read the bound address", e)
        })?;
        let clock = crate::clock::Clock::default();
        let keys =
            store.exclusively(|| KeyRing::load(&store, config.signing_alg, clock.now_micros()))?;
        let state = Arc::new(AppState {
            config,
            store,
            keys: RwLock::new(keys),
            clock,
            base_url: format!("http://{addr}"),
            requests: Mutex::new(Vec::new()),
            faults: crate::fault::FaultState::default(),
        });
        let app = crate::routes::router(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // A dropped sender (last Emulator clone gone) also means shut down.
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "server stopped with an error");
            }
        });
        tracing::info!(url = %state.base_url, "supabase-auth-emulator listening");
        Ok(Self {
            inner: Arc::new(Running {
                state,
                shutdown: Mutex::new(Some(tx)),
                task: Mutex::new(Some(task)),
            }),
        })
    }

    fn state(&self) -> &AppState {
        &self.inner.state
    }

    /// The project URL, `http://127.0.0.1:PORT` (pass it to `createClient`).
    pub fn url(&self) -> String {
        self.state().base_url.clone()
    }

    /// The Auth API root and JWT issuer, `http://127.0.0.1:PORT/auth/v1`.
    pub fn auth_url(&self) -> String {
        self.state().auth_url()
    }

    /// The JWKS URL, `<auth_url>/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.auth_url())
    }

    /// The inbox page for browsers, `<url>/inbox`.
    pub fn inbox_url(&self) -> String {
        format!("{}/inbox", self.url())
    }

    /// Where users and keys are kept: `in memory`, the SQLite file, or
    /// `PostgreSQL at HOST, database NAME` (never the password).
    pub fn database(&self) -> String {
        match &self.state().store {
            Store::Postgres(pg) => pg.describe(),
            Store::Sqlite(_) => self
                .state()
                .config
                .db_path
                .as_ref()
                .map_or_else(|| "in memory".into(), |p| p.display().to_string()),
        }
    }

    /// The publishable key (`sb_publishable_…`), role anon.
    pub fn publishable_key(&self) -> &str {
        apikeys::PUBLISHABLE_KEY
    }

    /// The secret key (`sb_secret_…`), role service_role.
    pub fn secret_key(&self) -> &str {
        apikeys::SECRET_KEY
    }

    /// The legacy anon JWT key.
    pub fn anon_key(&self) -> &str {
        apikeys::ANON_KEY
    }

    /// The legacy service_role JWT key.
    pub fn service_role_key(&self) -> &str {
        apikeys::SERVICE_ROLE_KEY
    }

    /// The shared HS256 secret (signs the legacy keys, and access tokens in HS256 mode).
    pub fn jwt_secret(&self) -> &str {
        crate::keys::JWT_SECRET
    }

    /// The `kid` of the key signing new access tokens (`None` in HS256 mode).
    pub fn signing_kid(&self) -> Option<String> {
        self.state().keys().current_kid().map(str::to_string)
    }

    /// The algorithm signing new access tokens.
    pub fn signing_alg(&self) -> SigningAlg {
        self.state().keys().current_alg()
    }

    /// Signs `claims` as they are with the key that signs new access tokens (the HS256
    /// secret in HS256 mode), with its `kid` in the header: for tests of tokens the Auth
    /// server would not issue on its own, such as another `role` or custom claims (what
    /// a custom access token hook can produce on a real project). Nothing is added or
    /// checked; `claims` must be a JSON object.
    pub fn sign_jwt(&self, claims: &Value) -> Result<String, EmulatorError> {
        if !claims.is_object() {
            return Err(EmulatorError::new(
                ErrorKind::InvalidInput,
                "the claims must be a JSON object",
            ));
        }
        self.state()
            .keys()
            .sign(claims)
            .map_err(|e| EmulatorError::new(ErrorKind::Keys, format!("cannot sign: {e}")))
    }

    /// The JWKS document currently served.
    pub fn jwks(&self) -> Value {
        self.state().keys().jwks()
    }

    /// Every request served so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().request_log().clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.state().request_log().clear();
    }

    /// Every email sent so far, oldest first. A database error yields an empty list
    /// (and is logged); use `GET /inbox/api/messages` to see errors.
    pub fn inbox(&self) -> Vec<Email> {
        self.state()
            .store
            .tx(|c| crate::store::mail::list(c, None))
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot read the inbox");
                Vec::new()
            })
    }

    /// Emails to one address, oldest first.
    pub fn inbox_for(&self, to: &str) -> Vec<Email> {
        self.state()
            .store
            .tx(|c| crate::store::mail::list(c, Some(to)))
            .unwrap_or_default()
    }

    /// Empties the inbox.
    pub fn clear_inbox(&self) {
        if let Err(e) = self
            .state()
            .store
            .tx(|c| crate::store::mail::clear(c, None))
        {
            tracing::error!(error = %e, "cannot clear the inbox");
        }
    }

    /// Creates a confirmed email/password user (as `POST /admin/users` with
    /// `email_confirm: true`) and returns the user JSON.
    pub async fn create_user(&self, email: &str, password: &str) -> Result<Value, EmulatorError> {
        let params = crate::routes::admin::AdminUserParams {
            email: Some(email.to_string()),
            password: Some(password.to_string()),
            email_confirm: Some(true),
            ..Default::default()
        };
        crate::routes::admin::create_user(&self.inner.state, params)
            .await
            .map_err(|e| {
                EmulatorError::new(ErrorKind::InvalidInput, format!("{}: {}", e.code, e.msg))
            })
    }

    /// Adds a new signing key for `alg` and makes it sign new tokens; earlier keys
    /// stay in the JWKS (and keep verifying) until [`Emulator::drop_key`].
    /// Returns the new `kid`. RSA generation takes a moment.
    pub fn rotate_signing_key(&self, alg: SigningAlg) -> Result<String, EmulatorError> {
        self.state().rotate_key(alg)
    }

    /// Removes a previous key from the JWKS; tokens signed with it stop verifying.
    /// The current signing key cannot be dropped.
    pub fn drop_key(&self, kid: &str) -> Result<(), EmulatorError> {
        self.state().drop_key(kid)
    }

    /// The fault mode: latency, injected 5xx/429 answers, dropped connections, a JWKS
    /// outage, a clock offset. Everything is off until switched on here (or over HTTP
    /// at `/emulator/v1/faults`).
    pub fn faults(&self) -> crate::Faults {
        crate::Faults::new(self.inner.state.clone())
    }

    /// Moves the emulator's clock forward (token `iat`/`exp`, expiry checks, reuse interval).
    pub fn advance_clock(&self, by: Duration) {
        self.state().clock.advance(by);
    }

    /// Stops accepting connections and waits for in-flight requests to finish.
    pub async fn shutdown(&self) {
        let tx = self
            .inner
            .shutdown
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(tx) = tx {
            let _ = tx.send(());
        }
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
