//! Extractors over what the middleware put in the request extensions, and their
//! rejections.
//!
//! The middleware inserts one value per request, [`LayerOutput`]: a single insert costs
//! less than one per extractor type.

use std::fmt;
use std::future::{Ready, ready};
use std::ops::Deref;
use std::sync::Arc;

use actix_web::dev::{Extensions, Payload};
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use actix_web::http::{StatusCode, Uri};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use supabase_ssr::adapter::{RedirectPages, SecondFactor};
use supabase_ssr::{ServerClient, VerifiedClaims};

use crate::middleware::LocalBoxFuture;
use crate::outcome::AuthOutcome;

/// The per-request [`ServerClient`]: the same one the middleware used, over the same
/// cookies.
///
/// Sign in, sign out, exchange a code, update the user: every cookie it writes reaches
/// the response, whatever the handler returns (a redirect, an error). It dereferences to
/// [`ServerClient`].
///
/// ```no_run
/// use actix_web::{HttpResponse, web};
/// use supabase_ssr_actix::Supabase;
///
/// #[derive(serde::Deserialize)]
/// struct Credentials { email: String, password: String }
///
/// async fn sign_in(supabase: Supabase, form: web::Form<Credentials>) -> HttpResponse {
///     let to = match supabase.sign_in_with_password(&form.email, &form.password).await {
///         Ok(_) => "/dashboard",
///         Err(_) => "/sign-in?error=1",
///     };
///     HttpResponse::SeeOther().insert_header(("Location", to)).finish()
/// }
/// ```
///
/// Rejects with `500` ([`MissingLayer`]) only when the middleware did not run on the
/// request. Writes made after the response left the middleware (from a spawned task,
/// say) are lost.
#[derive(Clone, Debug)]
pub struct Supabase(ServerClient);

/// What the middleware learned about a request, as one request extension.
#[derive(Clone)]
pub(crate) struct LayerOutput {
    pub(crate) outcome: AuthOutcome,
    pub(crate) client: Supabase,
    /// Where [`Verified`] and [`VerifiedAal2`] send what they reject, when the
    /// middleware has any such page.
    pub(crate) pages: Option<Redirects>,
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

impl Supabase {
    pub(crate) fn new(client: ServerClient) -> Self {
        Self(client)
    }

    /// The client the middleware put in these request extensions (`req.extensions()`),
    /// for code that is not an extractor.
    pub fn from_extensions(extensions: &Extensions) -> Option<&Self> {
        extensions.get::<LayerOutput>().map(|o| &o.client)
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

/// `Ok(value)`, or the [`MissingLayer`] rejection of `extractor`.
pub(crate) fn ready_from<T>(
    value: Option<T>,
    extractor: &'static str,
) -> Ready<Result<T, MissingLayer>> {
    ready(value.ok_or(MissingLayer { extractor }))
}

impl FromRequest for Supabase {
    type Error = MissingLayer;
    type Future = Ready<Result<Self, MissingLayer>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready_from(
            Self::from_extensions(&req.extensions()).cloned(),
            "Supabase",
        )
    }
}

/// The verified claims of a signed-in user; the handler does not run otherwise.
///
/// Rejects with [`VerifiedRejection`]: `401 Unauthorized`, or `303 See Other` to the
/// middleware's [`login_path`](crate::SupabaseMiddleware::login_path), whenever the
/// middleware found no verified user (no session, or a session that could not be
/// refreshed or verified, including during an Auth outage; look at [`AuthOutcome`] to
/// tell these apart).
///
/// ```no_run
/// use supabase_ssr_actix::Verified;
///
/// async fn dashboard(Verified(claims): Verified) -> String {
///     format!("signed in as {}", claims.email.as_deref().unwrap_or_default())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Verified(pub VerifiedClaims);

impl FromRequest for Verified {
    type Error = VerifiedRejection;
    type Future = Ready<Result<Self, VerifiedRejection>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let extensions = req.extensions();
        ready(match extensions.get::<LayerOutput>() {
            Some(LayerOutput {
                outcome: AuthOutcome::Verified(claims),
                ..
            }) => Ok(Self(claims.clone())),
            Some(output) => Err(output.signed_out()),
            None => Err(VerifiedRejection::MissingLayer(MissingLayer {
                extractor: "Verified",
            })),
        })
    }
}

/// The verified claims of a user who passed a second factor in this session (the
/// verified access token says `aal2`); the handler does not run otherwise.
///
/// Rejects with [`Aal2Rejection`]:
/// - nobody verified: as [`Verified`] does (`401`, or the login page);
/// - a user at `aal1` who has a verified factor: `303 See Other` to the middleware's
///   [`mfa_challenge_path`](crate::SupabaseMiddleware::mfa_challenge_path) with `next`,
///   or `403`;
/// - a user with no verified factor: the
///   [`mfa_enroll_path`](crate::SupabaseMiddleware::mfa_enroll_path), or `403`;
/// - the Auth server could not say which factors the user has: `503`.
///
/// An `aal2` token costs nothing more than [`Verified`]. An `aal1` one costs one
/// `GET /user` ([`Mfa::list_factors`](supabase_ssr::mfa::Mfa::list_factors)): which
/// factors a user has is not in the token, and the cookie's copy of the user cannot
/// be trusted.
///
/// ```no_run
/// use supabase_ssr_actix::VerifiedAal2;
///
/// async fn security(VerifiedAal2(claims): VerifiedAal2) -> String {
///     format!("second factor passed for {}", claims.email.as_deref().unwrap_or_default())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedAal2(pub VerifiedClaims);

impl FromRequest for VerifiedAal2 {
    type Error = Aal2Rejection;
    type Future = LocalBoxFuture<Result<Self, Aal2Rejection>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let extensions = req.extensions();
        let Some(output) = extensions.get::<LayerOutput>() else {
            return Box::pin(ready(Err(Aal2Rejection::NotVerified(
                VerifiedRejection::MissingLayer(MissingLayer {
                    extractor: "VerifiedAal2",
                }),
            ))));
        };
        let AuthOutcome::Verified(claims) = &output.outcome else {
            return Box::pin(ready(Err(Aal2Rejection::NotVerified(output.signed_out()))));
        };
        if let Some(SecondFactor::Passed) = SecondFactor::at_hand(claims) {
            return Box::pin(ready(Ok(Self(claims.clone()))));
        }
        let pages = output.pages.clone();
        let client = output.client.clone();
        Box::pin(async move {
            let decision = SecondFactor::ask(&client).await;
            let location = pages.and_then(|p| p.second_factor(decision));
            // `ask` answers `StepUp`, `NoFactor` or `Unavailable`.
            Err(match decision {
                SecondFactor::StepUp => Aal2Rejection::StepUp { location },
                SecondFactor::NoFactor => Aal2Rejection::NoFactor { location },
                _ => Aal2Rejection::Unavailable,
            })
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

    /// The `Location` of a redirecting rejection, when it makes a valid header.
    fn location(&self) -> Option<HeaderValue> {
        match self {
            Self::StepUp { location } | Self::NoFactor { location } => location
                .as_deref()
                .and_then(|l| HeaderValue::from_str(l).ok()),
            _ => None,
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

impl ResponseError for Aal2Rejection {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotVerified(rejection) => rejection.status_code(),
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ if self.location().is_some() => StatusCode::SEE_OTHER,
            _ => StatusCode::FORBIDDEN,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::NotVerified(rejection) = self {
            return rejection.error_response();
        }
        match self.location() {
            Some(location) => HttpResponse::SeeOther()
                .insert_header((LOCATION, location))
                .finish(),
            None => text(
                self.status_code(),
                self.second_factor()
                    .map_or("", SecondFactor::message)
                    .to_owned(),
            ),
        }
    }
}

/// The verified claims of the user, or `None` when nobody is verified. Never rejects.
///
/// `None` also when the middleware did not run on the request (logged at `debug`).
///
/// ```no_run
/// use supabase_ssr_actix::MaybeVerified;
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

impl FromRequest for MaybeVerified {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let extensions = req.extensions();
        let outcome = AuthOutcome::from_extensions(&extensions);
        if outcome.is_none() {
            tracing::debug!(
                path = req.path(),
                "supabase-ssr-actix: MaybeVerified on a request the SupabaseMiddleware did \
                 not run on"
            );
        }
        ready(Ok(Self(outcome.and_then(|o| o.claims().cloned()))))
    }
}

/// The middleware's pages and the request they would send back to.
#[derive(Clone)]
pub(crate) struct Redirects {
    pub(crate) pages: Arc<RedirectPages>,
    /// The request URI as the middleware saw it.
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
    /// The middleware did not run on this request: `500`.
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

impl ResponseError for VerifiedRejection {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::LoginRedirect { .. } => StatusCode::SEE_OTHER,
            Self::MissingLayer(missing) => missing.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Unauthorized => unauthorized(),
            Self::LoginRedirect { location } => match HeaderValue::from_str(location) {
                Ok(location) => HttpResponse::SeeOther()
                    .insert_header((LOCATION, location))
                    .finish(),
                Err(_) => {
                    tracing::warn!(
                        "supabase-ssr-actix: the login path does not make a valid Location \
                         header; answering 401 instead"
                    );
                    unauthorized()
                }
            },
            Self::MissingLayer(missing) => missing.error_response(),
        }
    }
}

fn text(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body(body)
}

fn unauthorized() -> HttpResponse {
    text(StatusCode::UNAUTHORIZED, "sign-in required".to_owned())
}

/// The rejection of an extractor used on a request the [`SupabaseMiddleware`] did not
/// run on: the middleware does not wrap the route, or its matcher skipped the request. A
/// programming error, answered with `500 Internal Server Error` and logged.
///
/// [`SupabaseMiddleware`]: crate::SupabaseMiddleware
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingLayer {
    pub(crate) extractor: &'static str,
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
            "the `{}` extractor found nothing from SupabaseMiddleware: add \
             `.wrap(SupabaseMiddleware::new(auth))` to the app, and make sure its matcher \
             does not skip this path",
            self.extractor
        )
    }
}

impl std::error::Error for MissingLayer {}

impl ResponseError for MissingLayer {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!("supabase-ssr-actix: {self}");
        text(StatusCode::INTERNAL_SERVER_ERROR, self.to_string())
    }
}
