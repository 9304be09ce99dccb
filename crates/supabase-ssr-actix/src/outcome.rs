//! What the middleware learned about the request's session.

use actix_web::dev::{Extensions, Payload};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use supabase_ssr::{AuthError, VerifiedClaims};

use crate::extract::{LayerOutput, MissingLayer, ready_from};

/// The result of the middleware's session check, kept with every request it did not skip
/// (see [`AuthOutcome::from_extensions`] outside extractors).
///
/// Also an extractor (rejecting with [`MissingLayer`] when the middleware did not run on
/// the request; `Option<AuthOutcome>` never rejects); [`Verified`](crate::Verified) and
/// [`MaybeVerified`](crate::MaybeVerified) are shortcuts over it.
///
/// ```
/// use supabase_ssr_actix::AuthOutcome;
///
/// async fn status(outcome: AuthOutcome) -> String {
///     match &outcome {
///         AuthOutcome::Verified(claims) => format!("user {}", claims.sub.as_deref().unwrap_or("?")),
///         AuthOutcome::Failed(error) if error.is_transient() => "Auth is unreachable".to_owned(),
///         _ => "signed out".to_owned(),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthOutcome {
    /// The access token was verified (after a refresh, if it was expiring).
    Verified(VerifiedClaims),
    /// No session in the cookies (or one that was not a session and has been deleted).
    NoSession,
    /// The session could not be refreshed or verified. The request is treated as
    /// signed out. [`AuthError`] never holds a token; ask it
    /// [`is_transient`](AuthError::is_transient) to tell an Auth outage (cookies kept)
    /// from a rejected session (cookies deleted).
    Failed(AuthError),
}

impl AuthOutcome {
    /// The outcome the middleware put in these request extensions
    /// (`req.extensions()`), for code that is not an extractor (another middleware
    /// inside this one). `None` when the middleware did not run on the request.
    pub fn from_extensions(extensions: &Extensions) -> Option<&Self> {
        extensions.get::<LayerOutput>().map(|o| &o.outcome)
    }

    pub(crate) fn from_result(result: Result<Option<VerifiedClaims>, AuthError>) -> Self {
        match result {
            Ok(Some(claims)) => Self::Verified(claims),
            Ok(None) => Self::NoSession,
            Err(error) => Self::Failed(error),
        }
    }

    /// The verified claims, if any.
    pub fn claims(&self) -> Option<&VerifiedClaims> {
        match self {
            Self::Verified(claims) => Some(claims),
            _ => None,
        }
    }

    /// The verified claims, if any, by value.
    pub fn into_claims(self) -> Option<VerifiedClaims> {
        match self {
            Self::Verified(claims) => Some(claims),
            _ => None,
        }
    }

    /// Whether the user is verified.
    pub fn is_verified(&self) -> bool {
        matches!(self, Self::Verified(_))
    }

    /// Whether there was no session.
    pub fn is_no_session(&self) -> bool {
        matches!(self, Self::NoSession)
    }

    /// The error of a failed check.
    pub fn error(&self) -> Option<&AuthError> {
        match self {
            Self::Failed(error) => Some(error),
            _ => None,
        }
    }

    /// Whether the check failed for a reason that says nothing about the session (the
    /// Auth server unreachable, 5xx, 429): the user may well be signed in.
    pub fn is_transient_failure(&self) -> bool {
        self.error().is_some_and(AuthError::is_transient)
    }
}

impl FromRequest for AuthOutcome {
    type Error = MissingLayer;
    type Future = std::future::Ready<Result<Self, MissingLayer>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready_from(
            AuthOutcome::from_extensions(&req.extensions()).cloned(),
            "AuthOutcome",
        )
    }
}
