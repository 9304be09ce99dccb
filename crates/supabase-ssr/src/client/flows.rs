//! Sign-in, sign-up, PKCE, user updates and sign-out: the calls of Route Handlers and
//! Server Actions.

use serde_json::{Map, Value};

use super::ServerClient;
use crate::AuthError;
use crate::api::{
    Identifier, OtpParams, SignOutScope, SignUpParams, SignUpResponse, VerifyResponse,
};
use crate::pkce;
use crate::session::{UnverifiedSession, User};

/// Options of [`ServerClient::sign_up`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SignUpOptions {
    /// Stored as the user's `user_metadata`.
    pub data: Option<Map<String, Value>>,
    /// Where the confirmation link leads (must be allowed by the project).
    pub email_redirect_to: Option<String>,
}

impl SignUpOptions {
    /// Options with a confirmation redirect.
    pub fn redirect_to(url: impl Into<String>) -> Self {
        Self {
            data: None,
            email_redirect_to: Some(url.into()),
        }
    }
}

/// What a sign-up gave.
#[derive(Debug, Clone)]
pub enum SignUpOutcome {
    /// The project confirms emails automatically: the user is signed in.
    SignedIn(UnverifiedSession),
    /// A confirmation email was sent; no session yet.
    ConfirmationSent(User),
}

/// Options of [`ServerClient::sign_in_with_otp`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OtpOptions {
    /// Where the magic link leads.
    pub email_redirect_to: Option<String>,
    /// Create the user when unknown (default true).
    pub should_create_user: bool,
    /// `user_metadata` for a created user.
    pub data: Option<Map<String, Value>>,
}

impl Default for OtpOptions {
    fn default() -> Self {
        Self {
            email_redirect_to: None,
            should_create_user: true,
            data: None,
        }
    }
}

impl OtpOptions {
    /// Options with a magic-link redirect.
    pub fn redirect_to(url: impl Into<String>) -> Self {
        Self {
            email_redirect_to: Some(url.into()),
            ..Self::default()
        }
    }
}

/// What [`ServerClient::verify_otp`] checks.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum VerifyOtp {
    /// The `token_hash` of an email link (`/auth/confirm?token_hash=...&type=email`).
    TokenHash {
        /// The hash from the link.
        token_hash: String,
        /// `email`, `signup`, `magiclink`, `recovery`, `invite` or `email_change`.
        kind: String,
    },
    /// The code from an email.
    EmailCode {
        /// The address the code was sent to.
        email: String,
        /// The code.
        token: String,
        /// Usually `email`.
        kind: String,
    },
}

/// The start of an OAuth sign-in: send the browser to `url`.
#[derive(Debug, Clone)]
pub struct OAuthStart {
    /// The provider authorization URL on the Auth server.
    pub url: String,
    /// The PKCE flow id; pass it to [`ServerClient::exchange_code_for_session`] if the
    /// callback can carry it, to pick this flow's verifier.
    pub flow_id: String,
}

impl ServerClient {
    /// Signs in with email and password (`POST /token?grant_type=password`) and stores
    /// the session.
    pub async fn sign_in_with_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<UnverifiedSession, AuthError> {
        self.sign_in_with_password_for(Identifier::Email(email.to_owned()), password)
            .await
    }

    /// Signs in with a phone number and password.
    pub async fn sign_in_with_phone_password(
        &self,
        phone: &str,
        password: &str,
    ) -> Result<UnverifiedSession, AuthError> {
        self.sign_in_with_password_for(Identifier::Phone(phone.to_owned()), password)
            .await
    }

    async fn sign_in_with_password_for(
        &self,
        who: Identifier,
        password: &str,
    ) -> Result<UnverifiedSession, AuthError> {
        let body = self
            .auth
            .inner
            .api
            .sign_in_with_password(who, password)
            .await?;
        self.save_response(body, &[])
    }

    /// Signs up with email and password. With email confirmation on, a PKCE flow is
    /// started: the confirmation link comes back with a `code` for
    /// [`Self::exchange_code_for_session`].
    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        options: SignUpOptions,
    ) -> Result<SignUpOutcome, AuthError> {
        let flow = pkce::start_flow(&self.storage, self.key(), false);
        let params = SignUpParams {
            email: email.to_owned(),
            password: password.to_owned(),
            data: options.data,
            redirect_to: options.email_redirect_to,
            code_challenge: Some(flow.challenge),
        };
        match self.auth.inner.api.sign_up(params).await {
            Ok(SignUpResponse::Session(body)) => {
                Ok(SignUpOutcome::SignedIn(self.save_response(body, &[])?))
            }
            Ok(SignUpResponse::User(user)) => {
                Ok(SignUpOutcome::ConfirmationSent(User::from_map(user)))
            }
            Err(e) => {
                self.forget_flow(&flow.flow_id);
                Err(e)
            }
        }
    }

    /// Sends a magic link (PKCE): the link comes back with a `code` for
    /// [`Self::exchange_code_for_session`]. The verifier cookies are written at once.
    pub async fn sign_in_with_otp(
        &self,
        email: &str,
        options: OtpOptions,
    ) -> Result<(), AuthError> {
        let flow = pkce::start_flow(&self.storage, self.key(), false);
        let params = OtpParams {
            email: email.to_owned(),
            create_user: options.should_create_user,
            data: options.data,
            redirect_to: options.email_redirect_to,
            code_challenge: Some(flow.challenge),
        };
        let result = self.auth.inner.api.sign_in_with_otp(params).await;
        if result.is_err() {
            self.forget_flow(&flow.flow_id);
        }
        result
    }

    /// Sends a password-recovery email (PKCE, the verifier marked as recovery).
    pub async fn reset_password_for_email(
        &self,
        email: &str,
        redirect_to: Option<&str>,
    ) -> Result<(), AuthError> {
        let flow = pkce::start_flow(&self.storage, self.key(), true);
        let result = self
            .auth
            .inner
            .api
            .reset_password_for_email(email, redirect_to, Some(&flow.challenge))
            .await;
        if result.is_err() {
            self.forget_flow(&flow.flow_id);
        }
        result
    }

    /// A failed flow start removes its own slot (and index entry) at once, as auth-js.
    fn forget_flow(&self, flow_id: &str) {
        pkce::remove_flow(&self.storage, self.key(), flow_id);
    }

    /// Verifies an email link's `token_hash` or an emailed code and stores the session.
    /// `Ok(None)` when the server accepted the token without a session (the first half
    /// of a secure email change).
    pub async fn verify_otp(
        &self,
        params: VerifyOtp,
    ) -> Result<Option<UnverifiedSession>, AuthError> {
        let mut body = Map::new();
        match params {
            VerifyOtp::TokenHash { token_hash, kind } => {
                body.insert("token_hash".into(), token_hash.into());
                body.insert("type".into(), kind.into());
            }
            VerifyOtp::EmailCode { email, token, kind } => {
                body.insert("email".into(), email.into());
                body.insert("token".into(), token.into());
                body.insert("type".into(), kind.into());
            }
        }
        match self.auth.inner.api.verify_otp(body).await? {
            VerifyResponse::Session(session) => Ok(Some(self.save_response(session, &[])?)),
            VerifyResponse::Other(_) => Ok(None),
        }
    }

    /// Exchanges the `code` of a PKCE callback for a session and stores it. Without a
    /// `flow_id` the newest flow's verifier (the legacy cookie) is used.
    pub async fn exchange_code_for_session(
        &self,
        code: &str,
        flow_id: Option<&str>,
    ) -> Result<UnverifiedSession, AuthError> {
        if flow_id.is_some_and(|id| !pkce::is_valid_flow_id(id)) {
            return Err(AuthError::invalid_input("invalid PKCE flow id"));
        }
        let verifier = pkce::read_verifier(&self.storage, self.key(), flow_id)
            .ok_or_else(AuthError::pkce_verifier_missing)?;
        let result = self
            .auth
            .inner
            .api
            .exchange_code(code, &verifier.verifier)
            .await;
        let legacy = pkce::legacy_key(self.key());
        // auth-js removes the verifier whatever the outcome; without a flow id the
        // legacy removal only reaches the cookies together with the new session.
        let remove_legacy = match flow_id {
            Some(id) => pkce::remove_flow(&self.storage, self.key(), id),
            None => true,
        };
        let body = result?;
        let also_remove: &[&str] = if remove_legacy { &[&legacy] } else { &[] };
        self.save_response(body, also_remove)
    }

    /// Starts an OAuth sign-in with `provider`: the verifier cookies are written and the
    /// authorization URL is returned.
    pub fn sign_in_with_oauth(
        &self,
        provider: &str,
        redirect_to: Option<&str>,
        scopes: Option<&str>,
        query_params: &[(String, String)],
    ) -> OAuthStart {
        let flow = pkce::start_flow(&self.storage, self.key(), false);
        let url = self.auth.inner.api.authorize_url(
            provider,
            redirect_to,
            scopes,
            &flow.challenge,
            query_params,
        );
        OAuthStart {
            url,
            flow_id: flow.flow_id,
        }
    }

    /// Updates the signed-in user (`PUT /user`): `data` for metadata, `email`,
    /// `password`, ... as Supabase Auth accepts them. The stored session gets the
    /// updated user.
    pub async fn update_user(&self, attributes: Map<String, Value>) -> Result<User, AuthError> {
        let session = self
            .get_session()
            .await?
            .ok_or_else(AuthError::session_missing)?;
        let user = self
            .auth
            .inner
            .api
            .update_user(session.access_token(), attributes, None, None)
            .await?;
        // auth-js stores `{...session, user}`: the user replaced in place.
        let mut stored: Map<String, Value> = serde_json::from_str(session.as_json())
            .map_err(|_| AuthError::invalid_response("the stored session is not an object"))?;
        stored.insert("user".into(), Value::Object(user.clone()));
        if let Some(updated) = self.auth.session_from_response(stored) {
            self.save_session(&updated, &[]);
        }
        Ok(User::from_map(user))
    }

    /// Signs out, as auth-js 2.119.1's `signOut` does under `@supabase/ssr`.
    ///
    /// `Local` deletes this browser's session cookies (with any PKCE verifier) first,
    /// then asks the server to end that session: signing out of this browser never
    /// depends on the network. `Global` asks the server to end every session of the
    /// user, then deletes the cookies. `Others` asks it to end the user's other sessions
    /// and never touches the cookies.
    ///
    /// How the answer to `POST /logout?scope=...` ends it:
    ///
    /// | Answer | Returns | `Local` cookies | `Global` cookies | `Others` cookies |
    /// |---|---|---|---|---|
    /// | 2xx | `Ok` | deleted | deleted | kept |
    /// | 401, 403, 404 (in JSON), or `session_not_found` | `Ok` | deleted | deleted | kept |
    /// | any other, or none | `Err` | deleted | kept | kept |
    ///
    /// The error is [transient] for a 5xx, a 429, a network failure or a timeout, and
    /// retryable for all of them but 429, as auth-js's `AuthRetryableFetchError` is.
    ///
    /// A 401, 403 or 404 says the server no longer knows the session, the user or the
    /// token, so auth-js counts it as signed out, and so does this. That includes a
    /// token the server refused, or a gateway's 401, after which nothing was ended on
    /// the server. As in auth-js, a `weak_password` code makes it an error, and so does
    /// an answer whose body is not JSON (a wrong URL's 404 page: auth-js's
    /// `AuthUnknownError`; unlike auth-js, the error keeps the HTTP status).
    ///
    /// An expired session is refreshed first, as [`get_session`](Self::get_session)
    /// does. When that fails the error is returned without asking the server to sign
    /// out (the expired token could not do it), and `Local` deletes the cookies if the
    /// failure was transient (a rejected refresh has deleted them already). Without a
    /// session nothing is sent: `Ok`, and `Local` and `Global` delete what is left.
    ///
    /// [transient]: AuthError::is_transient
    pub async fn sign_out(&self, scope: SignOutScope) -> Result<(), AuthError> {
        let session = match self.get_session().await {
            Ok(session) => session,
            Err(e) if e.is_session_missing() => None,
            Err(e) => {
                if scope == SignOutScope::Local && e.is_transient() {
                    self.remove_session();
                }
                return Err(e);
            }
        };
        if scope == SignOutScope::Local {
            self.remove_session();
        }
        let ended = match session {
            Some(session) => match self
                .auth
                .inner
                .api
                .logout(session.access_token(), scope)
                .await
            {
                // auth-js (`_signOut`): an `AuthApiError` with status 401, 403 or 404, or
                // an `AuthSessionMissingError`. A `weak_password` answer is neither.
                Err(e)
                    if e.is_session_missing()
                        || (matches!(e.status(), Some(401 | 403 | 404))
                            && e.code() != Some("weak_password")
                            && !e.is_unreadable_answer()) =>
                {
                    Ok(())
                }
                other => other,
            },
            None => Ok(()),
        };
        if scope == SignOutScope::Global && ended.is_ok() {
            self.remove_session();
        }
        ended
    }
}
