//! The per-request client: reading, refreshing and verifying the cookie session.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::SupabaseAuth;
use crate::AuthError;
use crate::api_auth::{CredentialSource, VerifiedUser};
use crate::cookies::CookieContents;
use crate::jwt::VerifiedClaims;
use crate::pkce;
use crate::session::{Stored, UnverifiedSession, User};
use crate::storage::CookieStorage;

/// A Supabase Auth client for one request, over that request's cookies.
///
/// Create one per request with [`SupabaseAuth::server_client`]. Cloning shares the same
/// request state. Writes go through the cookie methods' `set_all` and are visible to
/// later reads in the same request.
#[derive(Clone)]
pub struct ServerClient {
    pub(crate) auth: SupabaseAuth,
    pub(crate) storage: Arc<CookieStorage>,
}

impl std::fmt::Debug for ServerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerClient")
            .field("storage_key", &self.auth.storage_key())
            .finish_non_exhaustive()
    }
}

impl ServerClient {
    pub(crate) fn new(auth: SupabaseAuth, storage: Arc<CookieStorage>) -> Self {
        Self { auth, storage }
    }

    pub(crate) fn key(&self) -> &str {
        self.auth.storage_key()
    }

    /// The session in the cookies, refreshed first when it expires within the refresh
    /// margin (90 s by default).
    ///
    /// **Not verified**: the cookies come from the browser. Use [`Self::get_claims`] or
    /// [`Self::get_user`] to know who the user is.
    ///
    /// `Ok(None)`: no session. An invalid session value is deleted. When the refresh
    /// fails (or is not attempted, while refreshes are paused after an Auth server
    /// failure): a still-valid session is returned as it is; otherwise the error is
    /// returned, and the cookies are deleted only when the Auth server rejected the
    /// refresh token (never on network errors, 5xx or 429). A request refreshes at most
    /// once, however many calls ask for the session.
    pub async fn get_session(&self) -> Result<Option<UnverifiedSession>, AuthError> {
        let Some(session) = self.stored_session() else {
            return Ok(None);
        };
        // Refreshed once in this request already: that session is the one to use, even
        // if it too expires within the margin (tokens shorter-lived than the margin).
        if !self.expires_soon(&session) || self.storage.refreshed() {
            return Ok(Some(session));
        }
        // Boxed: the refresh makes a large future, which the common case (nothing to
        // refresh) should not carry.
        Box::pin(self.refreshed_or_kept(session)).await.map(Some)
    }

    /// Whether `session` is within the refresh margin of its expiry (or past it).
    fn expires_soon(&self, session: &UnverifiedSession) -> bool {
        session.expires_within(
            self.auth.now_millis(),
            self.auth.inner.refresh_margin_millis,
        )
    }

    /// `get_session` for a session that expires soon: refreshed, or kept as it is when
    /// the refresh fails and it is still valid.
    async fn refreshed_or_kept(
        &self,
        session: UnverifiedSession,
    ) -> Result<UnverifiedSession, AuthError> {
        match self.refresh_with(&session).await {
            Ok(fresh) => Ok(fresh),
            Err(error) => {
                if !session.is_expired(self.auth.now_millis()) {
                    tracing::debug!(%error, "supabase-ssr: early refresh failed; the session is still valid");
                    return Ok(session);
                }
                if !error.is_transient() {
                    self.remove_session();
                }
                Err(error)
            }
        }
    }

    /// The session stored in the cookies, as it is: no refresh, no verification.
    /// An invalid value is deleted.
    pub(crate) fn stored_session(&self) -> Option<UnverifiedSession> {
        let cache = self.auth.inner.sessions.as_ref();
        let stored = self
            .storage
            .with_combined_or_known(
                self.key(),
                // A browser's repeat request: its cookie, byte for byte, was read before.
                |value| Some(Some(Stored::Valid(cache?.get(value)?))),
                |combined| {
                    let json = crate::cookies::decode_base64_value(combined)?;
                    let stored = UnverifiedSession::from_stored_json(&json);
                    if let (Some(cache), Stored::Valid(session)) = (cache, &stored) {
                        cache.insert(combined, session.clone());
                    }
                    Some(stored)
                },
            )
            .flatten()?;
        match stored {
            Stored::Valid(session) => Some(match self.auth.inner.cookies.contents {
                CookieContents::UserAndTokens => session,
                // auth-js hydrates the user from its per-client user storage only.
                CookieContents::TokensOnly => session.with_split_user(self.storage.split_user()),
            }),
            Stored::Invalid => {
                tracing::debug!("supabase-ssr: the stored session is not a session; deleting it");
                self.remove_session();
                None
            }
            Stored::Unreadable => {
                crate::cookies::warn_invalid_json();
                None
            }
        }
    }

    /// Refreshes the session now, whatever its expiry.
    pub async fn refresh_session(&self) -> Result<UnverifiedSession, AuthError> {
        let session = self
            .stored_session()
            .ok_or_else(AuthError::session_missing)?;
        match self.refresh_with(&session).await {
            Ok(s) => Ok(s),
            Err(error) => {
                if !error.is_transient() && session.is_expired(self.auth.now_millis()) {
                    self.remove_session();
                }
                Err(error)
            }
        }
    }

    /// Refreshes `session`: at most once per request (a failure is remembered and
    /// returned again), shared with concurrent requests holding the same refresh token,
    /// and not at all while refreshes are paused after an Auth server failure. A session
    /// whose access token is still valid gets one attempt, not the retry budget: it can
    /// go on as it is.
    async fn refresh_with(
        &self,
        session: &UnverifiedSession,
    ) -> Result<UnverifiedSession, AuthError> {
        if let Some(error) = self.storage.failed_refresh() {
            return Err(error);
        }
        let auth = &self.auth;
        let rt = session.refresh_token();
        let expired = session.is_expired(auth.now_millis());
        let outcome = auth
            .inner
            .refresh
            .refresh(
                rt,
                || auth.now_millis(),
                || async {
                    let outage = &auth.inner.outage;
                    // Retries within the budget only for an expired token while Auth is
                    // up: a still-valid one can go on as it is, and a probe at the end of
                    // a pause knows Auth was failing a moment ago.
                    let attempt = outage.permit(auth.now_millis())?;
                    let retry = expired && attempt == crate::outage::Attempt::Normal;
                    let answer = auth.inner.api.refresh(rt, retry).await;
                    match &answer {
                        Err(error) if error.is_transient() => outage.failed(auth.now_millis()),
                        _ => outage.answered(),
                    }
                    auth.session_from_response(answer?).ok_or_else(|| {
                        AuthError::invalid_response("the refresh response holds no session")
                    })
                },
            )
            .await;
        match outcome {
            Ok(fresh) => {
                self.save_session(&fresh, &[]);
                self.storage.remember_refreshed();
                Ok(fresh)
            }
            Err(error) => {
                self.storage.remember_failed_refresh(&error);
                Err(error)
            }
        }
    }

    /// Verified claims of the signed-in user, or `Ok(None)` when there is no session.
    ///
    /// Refreshes an expiring session first, then verifies the access token's signature
    /// locally against the project's JWKS (fetched once, cached), and checks `exp`,
    /// `iss` and `aud`. Tokens that cannot be verified locally (HS256 projects, no
    /// `kid`, a `kid` still unknown after a refetch) are checked with the Auth server
    /// (`GET /user`) instead.
    pub async fn get_claims(&self) -> Result<Option<VerifiedClaims>, AuthError> {
        let Some(session) = self.get_session().await? else {
            return Ok(None);
        };
        let jwt = &self.auth.inner.jwt;
        if let Some(claims) = jwt.verified_from_memo(session.verified_memo()) {
            return Ok(Some(claims));
        }
        let claims = self.verify_token(session.access_token()).await?;
        jwt.fill_memo(session.verified_memo(), session.access_token());
        Ok(Some(claims))
    }

    /// What [`Self::get_claims`] would return, when it can be known without waiting and
    /// is not an error: no session (`Some(None)`), or a session that needs no refresh
    /// whose access token this process verified before and may still trust
    /// (`Some(Some(_))`). `None` when `get_claims` has work to do (a refresh, a
    /// verification). Proxies use it to answer the common request without an `await`.
    pub(crate) fn claims_at_hand(&self) -> Option<Option<VerifiedClaims>> {
        let Some(session) = self.stored_session() else {
            return Some(None);
        };
        // One clock reading for both checks (each is about 100 instructions).
        let now = self.auth.now_millis();
        if session.expires_within(now, self.auth.inner.refresh_margin_millis)
            && !self.storage.refreshed()
        {
            return None;
        }
        let claims = self
            .auth
            .inner
            .jwt
            .verified_from_memo_at(session.verified_memo(), now)?;
        Some(Some(claims))
    }

    /// Verifies an access token (from the session or an `Authorization` header), as
    /// [`SupabaseAuth::verify_access_token`] does. When the Auth server had to be asked
    /// and no longer knows the session, the cookie session is deleted.
    pub async fn verify_token(&self, token: &str) -> Result<VerifiedClaims, AuthError> {
        let verified = self.auth.verify_access_token(token).await;
        if let Err(error) = &verified
            && error.is_session_missing()
        {
            self.remove_session();
        }
        verified
    }

    /// The verified user of the cookie session, with its access token (refreshed first
    /// when it expires soon), or `Ok(None)` when there is no session: what the Data API
    /// and the API auth modes need besides the claims.
    pub async fn verified_user(&self) -> Result<Option<VerifiedUser>, AuthError> {
        let Some(session) = self.get_session().await? else {
            return Ok(None);
        };
        let token = session.access_token();
        let claims = self.verify_token(token).await?;
        Ok(Some(VerifiedUser::new(
            claims,
            token,
            CredentialSource::Cookie,
        )))
    }

    /// The user, as the Auth server knows them now (`GET /user`), or `Ok(None)` when
    /// there is no session. A session the server no longer knows is deleted.
    pub async fn get_user(&self) -> Result<Option<User>, AuthError> {
        let Some(session) = self.get_session().await? else {
            return Ok(None);
        };
        self.user_for_token(session.access_token()).await.map(Some)
    }

    async fn user_for_token(&self, token: &str) -> Result<User, AuthError> {
        match self.auth.inner.api.get_user(token).await {
            Ok(map) => Ok(User::from_map(map)),
            Err(error) => {
                if error.is_session_missing() {
                    self.remove_session();
                }
                Err(error)
            }
        }
    }

    /// Stores a session (and deletes `also_remove` in the same `set_all`). A user kept
    /// apart from tokens-only cookies is remembered for the rest of the request (a
    /// session without one leaves an earlier one in place, as auth-js does).
    pub(crate) fn save_session(&self, session: &UnverifiedSession, also_remove: &[&str]) {
        if let Some(user) = session.split_user() {
            self.storage.set_split_user(Some(user.clone()));
        }
        self.storage
            .apply(&[(self.key(), session.as_json())], also_remove);
    }

    /// Stores a session built from an Auth response.
    pub(crate) fn save_response(
        &self,
        body: Map<String, Value>,
        also_remove: &[&str],
    ) -> Result<UnverifiedSession, AuthError> {
        let session = self
            .auth
            .session_from_response(body)
            .ok_or_else(|| AuthError::invalid_response("the response holds no session"))?;
        self.save_session(&session, also_remove);
        Ok(session)
    }

    /// Deletes the session and every PKCE verifier, as auth-js's `_removeSession`: the
    /// verifier slots and their index at once, then the session, the legacy verifier and
    /// the split-out user together.
    pub(crate) fn remove_session(&self) {
        let key = self.key();
        pkce::remove_all_slots(&self.storage, key);
        let legacy = pkce::legacy_key(key);
        let user = format!("{key}-user");
        self.storage.apply(&[], &[key, &legacy, &user]);
        self.storage.set_split_user(None);
    }
}
