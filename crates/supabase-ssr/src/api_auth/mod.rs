//! API auth modes: accepting a request by a bearer token, an API key, the cookie
//! session, or nobody, as `@supabase/server` does for JS.
//!
//! An endpoint allows a set of [`AuthMode`]s; [`SupabaseAuth::authenticate`] reads the
//! request's [`Credentials`] and answers with the [`Caller`] or an [`ApiAuthError`]
//! (status and code for a JSON answer). Framework adapters wrap this in a layer.
//!
//! ```no_run
//! # async fn f(auth: supabase_ssr::SupabaseAuth, headers: http::HeaderMap) {
//! use supabase_ssr::api_auth::{AuthMode, AuthModes, Caller, Credentials};
//!
//! let modes = AuthModes::new([AuthMode::User, AuthMode::None]);
//! match auth.authenticate(&Credentials::from_headers(&headers), &modes, None).await {
//!     Ok(Caller::User(user)) => println!("user {}", user.id()),
//!     Ok(_) => println!("anonymous"),
//!     // A present but invalid bearer token lands here even though `none` is allowed.
//!     Err(error) => println!("{} {}", error.status(), serde_json::to_string(&error).unwrap()),
//! }
//! # }
//! ```

mod caller;
mod credentials;
mod error;
mod keys;
mod mode;

pub use caller::{Caller, CredentialSource, VerifiedUser};
pub use credentials::Credentials;
pub use error::{ApiAuthError, ApiAuthErrorKind, JsonError};
pub use keys::ApiKeys;
pub use mode::{AuthMode, AuthModes, KeyName, UnknownAuthMode};

use credentials::Authorization;
use keys::KeyKind;

use crate::{ServerClient, SupabaseAuth};

impl SupabaseAuth {
    /// Accepts or refuses a request by its credentials and the endpoint's modes, in the
    /// fixed order of [`AuthMode`]: a bearer token first (a present, invalid one is
    /// refused, never downgraded), then the cookie session (`cookie_client`, the
    /// request's [`ServerClient`], needed for [`AuthMode::Session`]), then the secret
    /// and publishable keys, then nobody.
    ///
    /// A bearer token is verified exactly as [`ServerClient::get_claims`] verifies the
    /// session's; it is never refreshed and no cookie is written for it.
    pub async fn authenticate(
        &self,
        credentials: &Credentials<'_>,
        modes: &AuthModes,
        cookie_client: Option<&ServerClient>,
    ) -> Result<Caller, ApiAuthError> {
        self.check_modes(modes, cookie_client.is_some())?;
        let authorization = credentials.authorization;
        let apikey = credentials.apikey;
        for mode in modes.iter() {
            match mode {
                AuthMode::User => match authorization {
                    Authorization::Bearer(token) => match self.verify_access_token(token).await {
                        Ok(claims) => {
                            let user = VerifiedUser::new(claims, token, CredentialSource::Bearer);
                            return Ok(Caller::User(user));
                        }
                        // supabase-js sends its key as the bearer token when nobody is
                        // signed in. A legacy (JWT) key is not `sb_`-prefixed, and never
                        // verifies as a user (wrong issuer, no audience, no `sub`): only
                        // then is it looked up, so a user's request pays for no hashing.
                        Err(_) if self.inner.api_keys.contains(token) => {}
                        Err(error) => {
                            return Err(ApiAuthError::from_verification(error, "bearer token"));
                        }
                    },
                    Authorization::Unreadable(why) => {
                        return Err(ApiAuthError::new(
                            ApiAuthErrorKind::InvalidToken,
                            format!("the Authorization header cannot be read: {why}"),
                        ));
                    }
                    Authorization::Absent | Authorization::ApiKey => {}
                },
                AuthMode::Session => {
                    if let Some(client) = cookie_client {
                        match client.verified_user().await {
                            Ok(Some(user)) => return Ok(Caller::User(user)),
                            Ok(None) => {}
                            // An outage must not turn a signed-in user into nobody.
                            Err(error) if error.is_transient() => {
                                return Err(ApiAuthError::from_verification(
                                    error,
                                    "cookie session",
                                ));
                            }
                            // A rejected session was deleted: the browser is signed out.
                            Err(_) => {}
                        }
                    }
                }
                AuthMode::Secret(wanted) => {
                    if let Some(key_name) = apikey
                        .and_then(|key| self.inner.api_keys.find(KeyKind::Secret, wanted, key))
                    {
                        return Ok(Caller::Secret { key_name });
                    }
                }
                AuthMode::Publishable(wanted) => {
                    if let Some(key_name) = apikey
                        .and_then(|key| self.inner.api_keys.find(KeyKind::Publishable, wanted, key))
                    {
                        return Ok(Caller::Publishable { key_name });
                    }
                }
                AuthMode::None => return Ok(Caller::Anonymous),
            }
        }
        let apikey_modes = modes
            .iter()
            .any(|m| matches!(m, AuthMode::Secret(_) | AuthMode::Publishable(_)));
        Err(if apikey.is_some() && apikey_modes {
            ApiAuthError::new(
                ApiAuthErrorKind::InvalidApiKey,
                "the apikey header matches none of the keys this endpoint accepts",
            )
        } else {
            ApiAuthError::new(
                ApiAuthErrorKind::MissingCredentials,
                format!(
                    "credentials required: this endpoint accepts {}",
                    describe(modes)
                ),
            )
        })
    }

    /// Every key a mode names must exist, and `session` needs the cookie client: a
    /// mode that can never match is a deployment mistake, answered with a 500.
    fn check_modes(&self, modes: &AuthModes, has_cookies: bool) -> Result<(), ApiAuthError> {
        let keys = &self.inner.api_keys;
        for mode in modes.iter() {
            let missing = match mode {
                AuthMode::Secret(name) => !keys.has(KeyKind::Secret, name),
                AuthMode::Publishable(name) => !keys.has(KeyKind::Publishable, name),
                AuthMode::Session => !has_cookies,
                AuthMode::User | AuthMode::None => false,
            };
            if missing {
                tracing::error!(
                    %mode,
                    "supabase-ssr: an endpoint allows a mode this server cannot check \
                     (configure the key with SupabaseAuthBuilder, or put the cookie proxy \
                     in front for `session`)"
                );
                return Err(ApiAuthError::new(
                    ApiAuthErrorKind::Misconfigured,
                    format!("the server cannot check the auth mode `{mode}`"),
                ));
            }
        }
        Ok(())
    }

    /// The project's API keys by name.
    pub fn api_keys(&self) -> &ApiKeys {
        &self.inner.api_keys
    }
}

/// `user, publishable` for a message.
fn describe(modes: &AuthModes) -> String {
    let names: Vec<String> = modes.iter().map(ToString::to_string).collect();
    names.join(", ")
}
