//! [`SupabaseAuth`], built once per process, and the [`ServerClient`] it makes for
//! each request.

mod builder;
mod fallback;
mod flows;
mod server;

use std::sync::Arc;

pub use builder::SupabaseAuthBuilder;
pub use flows::{OAuthStart, OtpOptions, SignUpOptions, SignUpOutcome, VerifyOtp};
pub use server::ServerClient;

use crate::AuthError;
use crate::api::AuthApi;
use crate::clock::SharedClock;
use crate::cookies::{CookieConfig, CookieMethods};
use crate::jwt::{FallbackReason, JwtVerifier, Verification, VerifiedClaims};
use crate::refresh::RefreshCoordinator;
use crate::storage::CookieStorage;

/// Process-wide Supabase Auth state: configuration, the HTTP client, the JWKS cache and
/// the refresh coordinator. Build it once at start-up; cloning is cheap (an `Arc`).
///
/// ```no_run
/// # async fn example(cookies: impl supabase_ssr::cookies::CookieMethods + 'static) -> Result<(), supabase_ssr::AuthError> {
/// use supabase_ssr::SupabaseAuth;
///
/// let auth = SupabaseAuth::builder("https://abcdefghijklmnop.supabase.co", "sb_publishable_...").build()?;
/// let client = auth.server_client(cookies); // one per request
/// if let Some(claims) = client.get_claims().await? {
///     println!("signed in as {}", claims.sub.as_deref().unwrap_or_default());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SupabaseAuth {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) storage_key: String,
    pub(crate) api: AuthApi,
    pub(crate) cookies: Arc<CookieConfig>,
    pub(crate) jwt: JwtVerifier,
    /// Decoded sessions by cookie value; `None` when turned off.
    pub(crate) sessions: Option<crate::session::SessionCache>,
    pub(crate) refresh: RefreshCoordinator,
    /// Refreshes paused while the Auth server fails.
    pub(crate) outage: crate::outage::AuthOutage,
    pub(crate) clock: SharedClock,
    pub(crate) refresh_margin_millis: i64,
    /// Bounds concurrent `GET /user` checks of tokens not verifiable locally.
    pub(crate) user_checks: fallback::UserCheckLimiter,
    /// The named API keys the `apikey` auth modes accept.
    pub(crate) api_keys: crate::api_auth::ApiKeys,
    /// The key this server sends to Supabase (the builder's), for Data API requests.
    pub(crate) api_key: std::sync::Arc<str>,
    /// `<project>/rest/v1`.
    pub(crate) rest_url: String,
}

impl SupabaseAuth {
    /// Starts building from the project URL (`https://<ref>.supabase.co`, or a local
    /// emulator's URL) and the publishable (or legacy anon) key.
    pub fn builder(
        project_url: impl Into<String>,
        api_key: impl Into<String>,
    ) -> SupabaseAuthBuilder {
        SupabaseAuthBuilder::new(project_url.into(), api_key.into())
    }

    /// A client for one request, over that request's cookies.
    pub fn server_client(&self, cookies: impl CookieMethods + 'static) -> ServerClient {
        ServerClient::new(self.clone(), Arc::new(self.cookie_storage(cookies)))
    }

    /// Like [`Self::server_client`], for cookie methods already behind an `Arc`.
    pub fn server_client_shared(&self, cookies: Arc<dyn CookieMethods>) -> ServerClient {
        self.server_client(cookies)
    }

    /// The request-scoped storage over `cookies`, for a client to be made with
    /// [`ServerClient::new`] (an adapter keeping the storage's cookie methods, typed, in
    /// the same allocation).
    pub(crate) fn cookie_storage<M>(&self, cookies: M) -> CookieStorage<M> {
        CookieStorage::new(cookies, self.inner.cookies.clone())
    }

    /// The name of the session cookie (`sb-<project ref>-auth-token`), also the prefix
    /// of its chunks and of the PKCE verifier cookies.
    pub fn storage_key(&self) -> &str {
        &self.inner.storage_key
    }

    /// The cookie settings in use.
    pub fn cookie_config(&self) -> &CookieConfig {
        &self.inner.cookies
    }

    pub(crate) fn now_millis(&self) -> i64 {
        self.inner.clock.now_millis()
    }

    /// The session to store for an Auth response, as this project's cookies hold it.
    pub(crate) fn session_from_response(
        &self,
        body: serde_json::Map<String, serde_json::Value>,
    ) -> Option<crate::session::UnverifiedSession> {
        crate::session::UnverifiedSession::from_auth_response_as(
            body,
            self.now_millis(),
            self.inner.cookies.contents,
        )
    }

    /// Verifies an access token exactly as [`ServerClient::get_claims`] verifies the
    /// session's: locally against the project's JWKS (algorithm from the JWK, `exp`,
    /// `iss`, `aud`, `sub` required, the verified-token cache), or by the Auth server
    /// (`GET /user`) for tokens that cannot be verified locally. Touches no cookies and
    /// never refreshes: this is the check for `Authorization: Bearer` tokens.
    pub async fn verify_access_token(&self, token: &str) -> Result<VerifiedClaims, AuthError> {
        // The common case answers without waiting on anything: a token the
        // verified-token cache vouches for.
        if let Some(claims) = self.inner.jwt.verified_from_cache(token) {
            return Ok(claims);
        }
        // Boxed: what may wait on the network (a JWKS fetch, `GET /user`) makes a large
        // future, which the cached answer above should not carry.
        Box::pin(self.verify_access_token_in_full(token)).await
    }

    async fn verify_access_token_in_full(&self, token: &str) -> Result<VerifiedClaims, AuthError> {
        match self
            .inner
            .jwt
            .verify(token)
            .await
            .map_err(AuthError::from_jwt)?
        {
            Verification::Verified(claims) => Ok(claims),
            Verification::NeedsServerCheck { claims, reason } => {
                // Anyone can make a token that lands here; bound what it costs the
                // Auth server.
                let _permit = self.inner.user_checks.acquire().await?;
                match self.inner.api.get_user(token).await {
                    Ok(_) => Ok(VerifiedClaims::new(Arc::new(claims))),
                    Err(refusal)
                        if reason == FallbackReason::UnknownKid
                            && !refusal.is_transient()
                            && !refusal.is_session_missing() =>
                    {
                        Err(AuthError::unknown_key(refusal))
                    }
                    Err(error) => Err(error),
                }
            }
        }
    }
}

impl std::fmt::Debug for SupabaseAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupabaseAuth")
            .field("storage_key", &self.inner.storage_key)
            .finish_non_exhaustive()
    }
}
