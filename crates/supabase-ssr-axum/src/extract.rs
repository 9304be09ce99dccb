//! Extractors over what the layer put in the request extensions, and their rejections.
//!
//! The layer inserts one value per request, [`LayerOutput`]: a single insert costs
//! less than one per extractor type.

use std::convert::Infallible;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::header::LOCATION;
use http::request::Parts;
use http::{Extensions, HeaderValue, StatusCode, Uri};
use supabase_ssr::adapter::{RedirectPages, SecondFactor};
use supabase_ssr::{ServerClient, VerifiedClaims};

use crate::outcome::AuthOutcome;

/// The per-request [`ServerClient`]: the same one the layer used, over the same cookies.
///
/// Sign in, sign out, exchange a code, update the user: every cookie it writes reaches
/// the response, whatever the handler returns (a redirect, an error page). It dereferences
/// to [`ServerClient`].
///
/// ```no_run
/// use axum::{Form, response::Redirect};
/// use supabase_ssr_axum::Supabase;
///
/// #[derive(serde::Deserialize)]
/// struct Credentials { email: String, password: String }
///
/// async fn sign_in(supabase: Supabase, Form(c): Form<Credentials>) -> Redirect {
///     match supabase.sign_in_with_password(&c.email, &c.password).await {
///         Ok(_) => Redirect::to("/dashboard"),
///         Err(_) => Redirect::to("/sign-in?error=1"),
///     }
/// }
/// ```
///
/// Rejects with `500` ([`MissingLayer`]) only when the layer did not run on the request.
/// Writes made after the response left the layer (from a spawned task, say) are lost.
#[derive(Clone, Debug)]
pub struct Supabase(ServerClient);

/// What the layer learned about a request, as one request extension.
#[derive(Clone)]
pub(crate) struct LayerOutput {
    pub(crate) outcome: AuthOutcome,
    pub(crate) client: Supabase,
    /// Where [`Verified`] and [`VerifiedAal2`] send what they reject, when the layer
    /// has any such page.
    pub(crate) pages: Option<Redirects>,
}

impl LayerOutput {
    pub(crate) fn of(extensions: &Extensions) -> Option<&Self> {
        extensions.get::<Self>()
    }
}

impl Supabase {
    pub(crate) fn new(client: ServerClient) -> Self {
        Self(client)
    }

    /// The client the layer put in these request extensions, for code that sees the
    /// request but is not an extractor (a tower middleware below the layer).
    pub fn from_extensions(extensions: &Extensions) -> Option<&Self> {
        LayerOutput::of(extensions).map(|o| &o.client)
    }

    /// The client.
    pub fn client(&self) -> &ServerClient {
        &self.0
    }

    /// The client, by value.
    pub fn into_inner(self) -> ServerClient {
        self.0
    }
}

impl Deref for Supabase {
    type Target = ServerClient;

    fn deref(&self) -> &ServerClient {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Supabase {
    type Rejection = MissingLayer;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Self::from_extensions(&parts.extensions)
            .cloned()
            .ok_or(MissingLayer {
                extractor: "Supabase",
            })
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Supabase {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
        Ok(Self::from_extensions(&parts.extensions).cloned())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthOutcome {
    type Rejection = MissingLayer;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Self::from_extensions(&parts.extensions)
            .cloned()
            .ok_or(MissingLayer {
                extractor: "AuthOutcome",
            })
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AuthOutcome {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
        Ok(Self::from_extensions(&parts.extensions).cloned())
    }
}

/// The verified claims of a signed-in user; the handler does not run otherwise.
///
/// Rejects with [`VerifiedRejection`]: `401 Unauthorized`, or `303 See Other` to the
/// layer's [`login_path`](crate::SupabaseLayer::login_path), whenever the layer found no
/// verified user (no session, or a session that could not be refreshed or verified,
/// including during an Auth outage; look at [`AuthOutcome`] to tell these apart).
///
/// ```no_run
/// use supabase_ssr_axum::Verified;
///
/// async fn dashboard(Verified(claims): Verified) -> String {
///     format!("signed in as {}", claims.email.as_deref().unwrap_or_default())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Verified(pub VerifiedClaims);

impl<S: Send + Sync> FromRequestParts<S> for Verified {
    type Rejection = VerifiedRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match LayerOutput::of(&parts.extensions) {
            Some(LayerOutput {
                outcome: AuthOutcome::Verified(claims),
                ..
            }) => Ok(Self(claims.clone())),
            Some(output) => Err(output.signed_out()),
            None => Err(VerifiedRejection::MissingLayer(MissingLayer {
                extractor: "Verified",
            })),
        }
    }
}

impl LayerOutput {
    /// [`Verified`]'s rejection of a request nobody is verified on.
    fn signed_out(&self) -> VerifiedRejection {
        match self.pages.as_ref().and_then(Redirects::login) {
            Some(location) => VerifiedRejection::LoginRedirect { location },
            None => VerifiedRejection::Unauthorized,
        }
    }
}

/// The verified claims of a user who passed a second factor in this session (the
/// verified access token says `aal2`); the handler does not run otherwise.
///
/// Rejects with [`Aal2Rejection`]:
/// - nobody verified: as [`Verified`] does (`401`, or the login page);
/// - a user at `aal1` who has a verified factor: `303 See Other` to the layer's
///   [`mfa_challenge_path`](crate::SupabaseLayer::mfa_challenge_path) with `next`, or
///   `403`;
/// - a user with no verified factor: the
///   [`mfa_enroll_path`](crate::SupabaseLayer::mfa_enroll_path), or `403`;
/// - the Auth server could not say which factors the user has: `503`.
///
/// An `aal2` token costs nothing more than [`Verified`]. An `aal1` one costs one
/// `GET /user` ([`Mfa::list_factors`](supabase_ssr::mfa::Mfa::list_factors)): which
/// factors a user has is not in the token, and the cookie's copy of the user cannot
/// be trusted.
///
/// ```no_run
/// use supabase_ssr_axum::VerifiedAal2;
///
/// async fn security(VerifiedAal2(claims): VerifiedAal2) -> String {
///     format!("second factor passed for {}", claims.email.as_deref().unwrap_or_default())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedAal2(pub VerifiedClaims);

impl<S: Send + Sync> FromRequestParts<S> for VerifiedAal2 {
    type Rejection = Aal2Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(output) = LayerOutput::of(&parts.extensions) else {
            return Err(Aal2Rejection::NotVerified(VerifiedRejection::MissingLayer(
                MissingLayer {
                    extractor: "VerifiedAal2",
                },
            )));
        };
        let AuthOutcome::Verified(claims) = &output.outcome else {
            return Err(Aal2Rejection::NotVerified(output.signed_out()));
        };
        if let Some(SecondFactor::Passed) = SecondFactor::at_hand(claims) {
            return Ok(Self(claims.clone()));
        }
        let pages = output.pages.clone();
        let client = output.client.clone();
        let decision = SecondFactor::ask(&client).await;
        let location = pages.and_then(|p| p.second_factor(decision));
        // `ask` answers `StepUp`, `NoFactor` or `Unavailable`.
        Err(match decision {
            SecondFactor::StepUp => Aal2Rejection::StepUp { location },
            SecondFactor::NoFactor => Aal2Rejection::NoFactor { location },
            _ => Aal2Rejection::Unavailable,
        })
    }
}

/// Why [`VerifiedAal2`] rejected a request. Each variant is also the response sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Aal2Rejection {
    /// Nobody is verified: [`Verified`]'s rejection.
    NotVerified(VerifiedRejection),
    /// The user is at `aal1` and has a verified factor: `303 See Other` to `location`
    /// (the challenge page with `next`), or `403 Forbidden` without one.
    StepUp {
        /// The `Location` header value, when a challenge page is configured.
        location: Option<String>,
    },
    /// The user has no verified factor: `303 See Other` to `location` (the enroll page
    /// with `next`), or `403 Forbidden` without one.
    NoFactor {
        /// The `Location` header value, when an enroll page is configured.
        location: Option<String>,
    },
    /// The Auth server did not answer which factors the user has: `503`.
    Unavailable,
}

impl Aal2Rejection {
    /// The decision behind the rejection, for its text (`None` when nobody is verified).
    fn second_factor(&self) -> Option<SecondFactor> {
        match self {
            Self::NotVerified(_) => None,
            Self::StepUp { .. } => Some(SecondFactor::StepUp),
            Self::NoFactor { .. } => Some(SecondFactor::NoFactor),
            Self::Unavailable => Some(SecondFactor::Unavailable),
        }
    }
}

impl fmt::Display for Aal2Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotVerified(rejection) => fmt::Display::fmt(rejection, f),
            other => f.write_str(other.second_factor().map_or("", SecondFactor::message)),
        }
    }
}

impl std::error::Error for Aal2Rejection {}

impl IntoResponse for Aal2Rejection {
    fn into_response(self) -> Response {
        let message = self.second_factor().map(SecondFactor::message);
        match self {
            Self::NotVerified(rejection) => rejection.into_response(),
            Self::StepUp { location } | Self::NoFactor { location } => {
                match location.and_then(|l| HeaderValue::try_from(l).ok()) {
                    Some(location) => {
                        (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response()
                    }
                    None => (StatusCode::FORBIDDEN, message.unwrap_or_default()).into_response(),
                }
            }
            Self::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, message.unwrap_or_default()).into_response()
            }
        }
    }
}

/// The verified claims of the user, or `None` when nobody is verified. Never rejects.
///
/// `None` also when the layer did not run on the request (logged at `debug`).
///
/// ```no_run
/// use supabase_ssr_axum::MaybeVerified;
///
/// async fn home(MaybeVerified(claims): MaybeVerified) -> String {
///     match claims {
///         Some(claims) => format!("welcome back, {}", claims.email.as_deref().unwrap_or_default()),
///         None => "welcome, stranger".to_owned(),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct MaybeVerified(pub Option<VerifiedClaims>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeVerified {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let outcome = AuthOutcome::from_extensions(&parts.extensions);
        if outcome.is_none() {
            tracing::debug!(
                path = parts.uri.path(),
                "supabase-ssr-axum: MaybeVerified on a request the SupabaseLayer did not run on"
            );
        }
        Ok(Self(outcome.and_then(|o| o.claims().cloned())))
    }
}

/// The layer's pages and the request they would send back to.
#[derive(Clone)]
pub(crate) struct Redirects {
    pub(crate) pages: Arc<RedirectPages>,
    /// The request URI as the layer saw it (before any `nest` stripped a prefix).
    pub(crate) original: Uri,
}

impl Redirects {
    fn original(&self) -> &str {
        self.original.path_and_query().map_or("/", |pq| pq.as_str())
    }

    /// The login page with `next` back to this request.
    fn login(&self) -> Option<String> {
        self.pages.login_location(self.original())
    }

    /// The page `decision` sends the request to, with `next`.
    fn second_factor(&self, decision: SecondFactor) -> Option<String> {
        self.pages.second_factor_location(decision, self.original())
    }
}

/// Why [`Verified`] rejected a request. Each variant is also the response sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifiedRejection {
    /// Nobody is verified and no login path is configured: `401 Unauthorized`.
    Unauthorized,
    /// Nobody is verified: `303 See Other` to `location` (the login path with `next`).
    LoginRedirect {
        /// The `Location` header value.
        location: String,
    },
    /// The layer did not run on this request: `500`.
    MissingLayer(MissingLayer),
}

impl fmt::Display for VerifiedRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unauthorized => f.write_str("sign-in required"),
            Self::LoginRedirect { location } => write!(f, "sign-in required; see {location}"),
            Self::MissingLayer(missing) => fmt::Display::fmt(missing, f),
        }
    }
}

impl std::error::Error for VerifiedRejection {}

impl IntoResponse for VerifiedRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthorized => unauthorized(),
            Self::LoginRedirect { location } => match HeaderValue::try_from(location) {
                Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
                Err(_) => {
                    tracing::warn!(
                        "supabase-ssr-axum: the login path does not make a valid Location \
                         header; answering 401 instead"
                    );
                    unauthorized()
                }
            },
            Self::MissingLayer(missing) => missing.into_response(),
        }
    }
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, "sign-in required").into_response()
}

/// The rejection of an extractor used on a request the [`SupabaseLayer`] did not run on:
/// the layer is not on the route, or its matcher skipped the request. A programming
/// error, answered with `500 Internal Server Error` and logged.
///
/// [`SupabaseLayer`]: crate::SupabaseLayer
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingLayer {
    extractor: &'static str,
}

impl MissingLayer {
    /// The extractor that found nothing (`"Supabase"`, `"Verified"`, `"AuthOutcome"`).
    pub fn extractor(&self) -> &'static str {
        self.extractor
    }
}

impl fmt::Display for MissingLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the `{}` extractor found nothing from SupabaseLayer: add \
             `.layer(SupabaseLayer::new(auth))` to the router, and make sure its matcher \
             does not skip this path",
            self.extractor
        )
    }
}

impl std::error::Error for MissingLayer {}

impl IntoResponse for MissingLayer {
    fn into_response(self) -> Response {
        tracing::error!("supabase-ssr-axum: {self}");
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}
