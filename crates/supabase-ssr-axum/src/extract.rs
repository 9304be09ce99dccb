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
use supabase_ssr::adapter::login_location;
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
    /// Where [`Verified`] sends a signed-out request, when a login path is configured.
    pub(crate) login: Option<LoginRedirect>,
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
            Some(output) => Err(match &output.login {
                Some(login) => VerifiedRejection::LoginRedirect {
                    location: login.location(),
                },
                None => VerifiedRejection::Unauthorized,
            }),
            None => Err(VerifiedRejection::MissingLayer(MissingLayer {
                extractor: "Verified",
            })),
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

/// Where [`Verified`] sends a signed-out request, when a login path is configured.
#[derive(Clone)]
pub(crate) struct LoginRedirect {
    pub(crate) login_path: Arc<str>,
    /// The request URI as the layer saw it (before any `nest` stripped a prefix).
    pub(crate) original: Uri,
}

impl LoginRedirect {
    fn location(&self) -> String {
        let original = self.original.path_and_query().map_or("/", |pq| pq.as_str());
        login_location(&self.login_path, original)
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
