//! [`SecondFactor`]: what a page that needs `aal2` decides for a verified user, shared by
//! the adapters' `VerifiedAal2` extractors.

use crate::mfa::Aal;
use crate::{Claims, ServerClient};

/// What a guard that requires a second factor decides for a verified user. Adapters turn
/// each answer into their framework's response: let through, a redirect to the challenge
/// or enroll page (or `403`), or `503`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecondFactor {
    /// The verified access token says `aal2`.
    Passed,
    /// The session is `aal1` and the user has a verified factor: ask for a code.
    StepUp,
    /// The user has no verified factor: one must be enrolled first.
    NoFactor,
    /// The Auth server did not answer which factors the user has.
    Unavailable,
}

impl SecondFactor {
    /// The answer when it needs no request: [`Self::Passed`] for claims that say `aal2`
    /// (verified claims only: a cookie's copy of the token proves nothing).
    pub fn at_hand(claims: &Claims) -> Option<Self> {
        (claims.aal.as_deref().and_then(Aal::parse) == Some(Aal::Aal2)).then_some(Self::Passed)
    }

    /// The answer for a verified user whose claims are not `aal2`: the user's factors as
    /// the Auth server lists them ([`Mfa::list_factors`](crate::mfa::Mfa::list_factors),
    /// one `GET /user`), since the token does not say which the user has and the cookie's
    /// copy of the user cannot be trusted. A failure is logged at `warn`, without
    /// secrets, and is [`Self::Unavailable`].
    pub async fn ask(client: &ServerClient) -> Self {
        match client.mfa().list_factors().await {
            Ok(factors) if factors.all.iter().any(|f| f.is_verified()) => Self::StepUp,
            Ok(_) => Self::NoFactor,
            Err(error) => {
                tracing::warn!(
                    %error,
                    "supabase-ssr: the user's factors could not be listed; the page that \
                     needs a second factor answers 503"
                );
                Self::Unavailable
            }
        }
    }

    /// The text of a rejection: what the response body says when no page is configured.
    pub fn message(self) -> &'static str {
        match self {
            Self::Passed => "a second factor was passed",
            Self::StepUp => "a second factor is required",
            Self::NoFactor => "a second factor must be enrolled first",
            Self::Unavailable => "the second factor could not be checked; try again",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_aal2_claims_pass_without_a_request() {
        let claims = |aal: &str| Claims::from_payload_json(format!(r#"{{"aal":{aal}}}"#)).unwrap();
        assert_eq!(
            SecondFactor::at_hand(&claims(r#""aal2""#)),
            Some(SecondFactor::Passed)
        );
        for other in [r#""aal1""#, r#""AAL2""#, r#""aal3""#, "null"] {
            assert_eq!(SecondFactor::at_hand(&claims(other)), None, "{other}");
        }
        assert_eq!(
            SecondFactor::StepUp.message(),
            "a second factor is required"
        );
    }
}
