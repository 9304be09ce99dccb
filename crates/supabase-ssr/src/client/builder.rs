//! Configuration of [`SupabaseAuth`].

use std::sync::Arc;
use std::time::Duration;

use super::{Inner, SupabaseAuth};
use crate::AuthError;
use crate::api::{ApiOptions, AuthApi};
use crate::api_auth::ApiKeys;
use crate::clock::{Clock, SharedClock, SystemClock};
use crate::config::ProjectUrl;
use crate::cookies::{CookieConfig, CookieContents, CookieEncoding, SameSite};
use crate::jwt::{JwksFetchError, JwksSource, JwtConfig, JwtVerifier};
use crate::refresh::RefreshCoordinator;

/// Builds a [`SupabaseAuth`]. Every setting has the `@supabase/ssr` default unless
/// noted.
#[must_use]
pub struct SupabaseAuthBuilder {
    project_url: String,
    api_key: String,
    cookies: CookieConfig,
    api: ApiOptions,
    http: Option<reqwest::Client>,
    clock: SharedClock,
    refresh_margin: Duration,
    reuse_window: Duration,
    session_cache_entries: usize,
    /// `Some` when set with [`Self::issuer`]; otherwise the project's Auth URL.
    issuer: Option<Option<String>>,
    /// The verification settings, with `JwtConfig`'s defaults (one place for them); the
    /// issuer is filled in by `build`.
    jwt: JwtConfig,
    user_fallback_concurrency: usize,
    api_keys: ApiKeys,
}

impl SupabaseAuthBuilder {
    pub(super) fn new(project_url: String, api_key: String) -> Self {
        // The project key is the `default` key of its kind for the API auth modes.
        let api_keys = if api_key.trim().starts_with("sb_secret_") {
            ApiKeys::new().secret("default", &api_key)
        } else {
            ApiKeys::new().publishable("default", &api_key)
        };
        Self {
            api_keys,
            project_url,
            api_key,
            cookies: CookieConfig::default(),
            api: ApiOptions::default(),
            http: None,
            clock: Arc::new(SystemClock),
            refresh_margin: Duration::from_secs(90),
            reuse_window: Duration::from_secs(10),
            session_cache_entries: crate::session::SESSION_CACHE_ENTRIES,
            issuer: None,
            jwt: JwtConfig::for_auth_url(""),
            user_fallback_concurrency: super::fallback::DEFAULT_CONCURRENCY,
        }
    }

    /// Overrides the session cookie name (default `sb-<project ref>-auth-token`).
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookies.name = Some(name.into());
        self
    }

    /// Sets `Domain` on every cookie written (deletions are then also sent host-only).
    pub fn cookie_domain(mut self, domain: impl Into<String>) -> Self {
        self.cookies.domain = Some(domain.into());
        self
    }

    /// Sets `Path` (default `/`).
    pub fn cookie_path(mut self, path: impl Into<String>) -> Self {
        self.cookies.path = path.into();
        self
    }

    /// Sets `Secure` (default off, as `@supabase/ssr`; turn it on in production).
    pub fn cookie_secure(mut self, secure: bool) -> Self {
        self.cookies.secure = secure;
        self
    }

    /// Sets `HttpOnly` (default off, so the browser client can read the session).
    pub fn cookie_http_only(mut self, http_only: bool) -> Self {
        self.cookies.http_only = http_only;
        self
    }

    /// Sets `SameSite` (default `Lax`).
    pub fn cookie_same_site(mut self, same_site: SameSite) -> Self {
        self.cookies.same_site = same_site;
        self
    }

    /// Chooses the value encoding (default `base64-` + base64url).
    pub fn cookie_encoding(mut self, encoding: CookieEncoding) -> Self {
        self.cookies.encoding = encoding;
        self
    }

    /// Chooses what the session cookie holds (default the whole session, user
    /// included). [`CookieContents::TokensOnly`] is `@supabase/ssr`'s
    /// `cookies: { encode: "tokens-only" }`, byte for byte: the cookie drops the user
    /// object and usually fits in one cookie.
    pub fn cookie_contents(mut self, contents: CookieContents) -> Self {
        self.cookies.contents = contents;
        self
    }

    /// Sessions spread over more chunks than this are treated as absent (default 5).
    pub fn max_cookie_chunks(mut self, chunks: usize) -> Self {
        self.cookies.max_chunks = chunks.max(1);
        self
    }

    /// Total time a refresh may take, retries included (default 3 s). The JS client can
    /// block for about 25 s during an Auth outage; a server should not. Only the refresh
    /// of an expired session retries: a session whose access token is still valid gets
    /// one attempt, and after a transient failure refreshes pause for the whole process
    /// (1 s, doubling up to 30 s, one single-attempt probe per pause).
    pub fn retry_budget(mut self, budget: Duration) -> Self {
        self.api.retry_budget = budget;
        self
    }

    /// Timeout of every other Auth request (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.api.request_timeout = timeout;
        self
    }

    /// How many decoded sessions are kept per process, keyed by the exact cookie value, so
    /// a browser's repeat requests skip decoding its cookies (default 16,384; 0 turns it
    /// off). It holds nothing the cookies do not, and changes no trust decision.
    ///
    /// An entry takes about 3.9 KB for a typical session (the cookie value and the
    /// decoded session), taken only as distinct sessions come: about 64 MB when full. The
    /// default keeps 10,000 users active at once at full speed; beyond the cache, a read
    /// decodes the cookie again (a few microseconds; BENCHMARKS.md section 10).
    pub fn session_cache(mut self, max_entries: usize) -> Self {
        self.session_cache_entries = max_entries;
        self
    }

    /// A session expiring within this margin is refreshed (default 90 s).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// How long after a refresh a request still holding the old refresh token gets the
    /// rotated session from this process (default 10 s, the Auth server's reuse
    /// interval).
    pub fn refresh_reuse_window(mut self, window: Duration) -> Self {
        self.reuse_window = window;
        self
    }

    /// The expected `iss` claim; `None` turns the check off (default
    /// `<project url>/auth/v1`).
    pub fn jwt_issuer(mut self, issuer: Option<String>) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// The expected `aud` claim; `None` turns the check off (default `authenticated`).
    pub fn jwt_audience(mut self, audience: Option<String>) -> Self {
        self.jwt.audience = audience;
        self
    }

    /// Clock leeway for `exp` and `nbf` (default 0, as auth-js).
    pub fn jwt_leeway(mut self, leeway: Duration) -> Self {
        self.jwt.leeway_secs = leeway.as_secs();
        self
    }

    /// How long fetched signing keys are used before the JWKS is fetched again
    /// (default 10 minutes).
    pub fn jwks_ttl(mut self, ttl: Duration) -> Self {
        self.jwt.jwks_ttl = ttl;
        self
    }

    /// At most one JWKS refetch for unknown key ids per this period, shared by all
    /// requests (default 30 s).
    pub fn jwks_refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.jwt.unknown_kid_cooldown = cooldown;
        self
    }

    /// When the JWKS cannot be fetched, keys fetched earlier stay in use this long
    /// (default 1 hour).
    pub fn jwks_stale_max(mut self, max: Duration) -> Self {
        self.jwt.stale_max = max;
        self
    }

    /// Remembers up to `max_entries` verified access tokens (default 16,384; 0 turns the
    /// cache off), so a token seen again skips the signature check. Its `exp`/`nbf` and the
    /// JWKS (the key must still be published) are checked on every use.
    ///
    /// An entry takes about 3.4 KB for a typical Supabase token (the token and its
    /// claims), about 55 MB when full. The default keeps 10,000 users active at once at
    /// full speed; beyond the cache, a request verifies its token's signature again
    /// (about 40 µs for ES256; BENCHMARKS.md section 10).
    /// Once the cache is full, a new token is written over the oldest entry's memory
    /// rather than into new allocations, so the process's memory stays flat however many
    /// distinct tokens go through.
    pub fn verified_token_cache(mut self, max_entries: usize) -> Self {
        self.jwt.verified_token_cache_entries = max_entries;
        self
    }

    /// Verifies the signature of every access token, every time.
    pub fn disable_verified_token_cache(mut self) -> Self {
        self.jwt.verified_token_cache_entries = 0;
        self
    }

    /// The longest a verified token is remembered, whatever its `exp` (default 1 hour).
    pub fn verified_token_cache_max_age(mut self, max_age: Duration) -> Self {
        self.jwt.verified_token_cache_max_age = max_age;
        self
    }

    /// At most this many `GET /user` checks of tokens that cannot be verified locally
    /// (HS256, no `kid`, an unknown `kid`) run at once (default 32, at least 1). A few
    /// more wait, each at most the retry budget; beyond that a check fails at once
    /// with a transient (timeout) error, so a flood of forged tokens cannot be
    /// amplified onto the Auth server.
    pub fn user_fallback_concurrency(mut self, concurrency: usize) -> Self {
        self.user_fallback_concurrency = concurrency.max(1);
        self
    }

    /// Adds (or replaces) a named publishable key for the `publishable` auth modes. The
    /// key given to [`SupabaseAuth::builder`] is already the `default` one (the
    /// `default` secret key when it is an `sb_secret_` key).
    pub fn publishable_key(mut self, name: impl AsRef<str>, key: impl AsRef<str>) -> Self {
        self.api_keys = self.api_keys.publishable(name, key);
        self
    }

    /// Adds (or replaces) a named secret key (`default`, `automations`...) for the
    /// `secret` auth modes: server-to-server calls to your API. Only a digest is kept.
    pub fn secret_key(mut self, name: impl AsRef<str>, key: impl AsRef<str>) -> Self {
        self.api_keys = self.api_keys.secret(name, key);
        self
    }

    /// Uses this HTTP client (for proxies, custom TLS roots, ...).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Adds a header to every Auth request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.api.extra_headers.push((name.into(), value.into()));
        self
    }

    /// Uses this clock for every expiry decision (tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds. Fails on an invalid project URL or an empty key.
    pub fn build(self) -> Result<SupabaseAuth, AuthError> {
        let project =
            ProjectUrl::parse(&self.project_url).map_err(|e| AuthError::invalid_input(e.0))?;
        if self.api_key.trim().is_empty() {
            return Err(AuthError::invalid_input("the API key is empty"));
        }
        let http = match self.http {
            Some(c) => c,
            None => reqwest::Client::builder()
                .build()
                .map_err(|_| AuthError::invalid_input("the HTTP client could not be built"))?,
        };
        let user_checks = super::fallback::UserCheckLimiter::new(
            self.user_fallback_concurrency,
            self.api.retry_budget,
        );
        let api = AuthApi::new(http, &project.auth_url, self.api_key.trim(), self.api)?;
        let storage_key = self.cookies.name.clone().unwrap_or(project.storage_key);
        let mut jwt_config = self.jwt;
        jwt_config.issuer = match self.issuer {
            Some(issuer) => issuer,
            None => JwtConfig::for_auth_url(&project.auth_url).issuer,
        };
        let jwt = JwtVerifier::new(
            jwt_config,
            Arc::new(ApiJwks(api.clone())),
            self.clock.clone(),
        );
        Ok(SupabaseAuth {
            inner: Arc::new(Inner {
                storage_key,
                api,
                cookies: Arc::new(self.cookies),
                jwt,
                refresh: RefreshCoordinator::new(millis(self.reuse_window)),
                outage: crate::outage::AuthOutage::default(),
                clock: self.clock,
                refresh_margin_millis: millis(self.refresh_margin),
                sessions: crate::session::SessionCache::new(self.session_cache_entries),
                user_checks,
                api_keys: self.api_keys,
                api_key: Arc::from(self.api_key.trim()),
                rest_url: project.rest_url,
            }),
        })
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The JWKS comes from the Auth server.
struct ApiJwks(AuthApi);

impl JwksSource for ApiJwks {
    fn fetch(
        &self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<u8>, JwksFetchError>> + Send + '_>,
    > {
        Box::pin(async move {
            self.0
                .fetch_jwks()
                .await
                .map_err(|e| JwksFetchError::new(e.to_string()))
        })
    }
}
