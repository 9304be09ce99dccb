//! Multi-factor authentication: TOTP factors and the step-up to `aal2`, as auth-js
//! 2.119.1's `supabase.auth.mfa` API does it, through [`ServerClient::mfa`].
//!
//! The flow of an app that asks for a second factor:
//!
//! 1. A signed-in user enrolls: [`Mfa::enroll_totp`] gives the secret, the `otpauth://`
//!    URI and a QR code to show; the factor stays `unverified` until a first code is
//!    verified with [`Mfa::challenge_and_verify`].
//! 2. At each later sign-in the session is `aal1`; [`Mfa::assurance_level`] says the
//!    next level is `aal2`, so the app asks for a code: [`Mfa::challenge`] then
//!    [`Mfa::verify`]. The upgraded session is written to the cookies through `set_all`,
//!    byte for byte what auth-js and `@supabase/ssr` write (`MFA_CHALLENGE_VERIFIED`).
//! 3. Pages that need the second factor check the verified token's `aal` claim
//!    ([`VerifiedClaims`](crate::VerifiedClaims)), never the cookie's.

use std::fmt;

use serde_json::{Map, Value};

use crate::jwt::AmrEntry;
use crate::{AuthError, ServerClient, UnverifiedSession};

/// An authenticator assurance level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Aal {
    /// One factor (a password, a magic link, OAuth, ...).
    Aal1,
    /// A second factor was verified in this session.
    Aal2,
}

impl Aal {
    /// The level as the `aal` claim spells it: `aal1` or `aal2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aal1 => "aal1",
            Self::Aal2 => "aal2",
        }
    }

    /// The level of an `aal` claim; `None` for anything but `aal1` and `aal2`.
    pub fn parse(claim: &str) -> Option<Self> {
        match claim {
            "aal1" => Some(Self::Aal1),
            "aal2" => Some(Self::Aal2),
            _ => None,
        }
    }
}

impl fmt::Display for Aal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// auth-js's `getAuthenticatorAssuranceLevel` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AssuranceLevel {
    /// The level of the session now: the verified access token's `aal` claim. `None`
    /// without a session.
    pub current: Option<Aal>,
    /// The level the user can reach: `aal2` when the user has a verified factor, else
    /// the current level.
    pub next: Option<Aal>,
    /// How the user authenticated in this session: the token's `amr` claim.
    pub current_methods: Vec<AmrEntry>,
}

impl AssuranceLevel {
    /// `true` when the user has a verified factor the session has not used yet: the
    /// moment to ask for a code.
    pub fn needs_step_up(&self) -> bool {
        self.current == Some(Aal::Aal1) && self.next == Some(Aal::Aal2)
    }
}

/// One of the user's factors, as the Auth server lists them in the user's `factors`.
#[derive(Clone, PartialEq)]
pub struct Factor {
    map: Map<String, Value>,
}

impl Factor {
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        Self { map }
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.map.get(key).and_then(Value::as_str)
    }

    /// The factor id (a UUID).
    pub fn id(&self) -> &str {
        self.str_field("id").unwrap_or_default()
    }

    /// `totp`, `phone` or `webauthn`.
    pub fn factor_type(&self) -> &str {
        self.str_field("factor_type").unwrap_or_default()
    }

    /// `verified` or `unverified`.
    pub fn status(&self) -> &str {
        self.str_field("status").unwrap_or_default()
    }

    /// `true` once a first code was verified.
    pub fn is_verified(&self) -> bool {
        self.status() == "verified"
    }

    /// The name the user gave it, if any.
    pub fn friendly_name(&self) -> Option<&str> {
        self.str_field("friendly_name").filter(|n| !n.is_empty())
    }

    /// When it was enrolled (RFC 3339).
    pub fn created_at(&self) -> Option<&str> {
        self.str_field("created_at")
    }

    /// The factor object as the server sent it.
    pub fn as_json(&self) -> &Map<String, Value> {
        &self.map
    }
}

impl fmt::Debug for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Factor")
            .field("id", &self.id())
            .field("factor_type", &self.factor_type())
            .field("status", &self.status())
            .field("friendly_name", &self.friendly_name())
            .finish()
    }
}

/// The factors of a user, as auth-js's `mfa.listFactors` sorts them: every factor in
/// `all`, and the verified ones by type.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Factors {
    /// Every factor, verified or not, in the server's order.
    pub all: Vec<Factor>,
    /// The verified TOTP factors.
    pub totp: Vec<Factor>,
    /// The verified phone factors.
    pub phone: Vec<Factor>,
    /// The verified WebAuthn factors.
    pub webauthn: Vec<Factor>,
}

impl Factors {
    /// Sorts `factors` as auth-js does: types it does not know go to `all` only.
    pub fn from_list(factors: Vec<Factor>) -> Self {
        let mut sorted = Self::default();
        for factor in factors {
            if factor.is_verified() {
                let list = match factor.factor_type() {
                    "totp" => Some(&mut sorted.totp),
                    "phone" => Some(&mut sorted.phone),
                    "webauthn" => Some(&mut sorted.webauthn),
                    _ => None,
                };
                if let Some(list) = list {
                    list.push(factor.clone());
                }
            }
            sorted.all.push(factor);
        }
        sorted
    }
}

/// What to enroll: auth-js's `mfa.enroll({ factorType: 'totp', friendlyName, issuer })`.
#[derive(Debug, Clone, Default)]
pub struct EnrollTotp {
    friendly_name: Option<String>,
    issuer: Option<String>,
}

impl EnrollTotp {
    /// A name for the factor, unique among the user's factors ("my phone").
    pub fn friendly_name(mut self, name: impl Into<String>) -> Self {
        self.friendly_name = Some(name.into());
        self
    }

    /// The issuer the authenticator app shows (the server's site URL host when not
    /// given).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }
}

/// A new, unverified TOTP factor: what to show the user so their authenticator app
/// learns the secret. Its `Debug` output hides the secret, the URI and the QR code.
#[derive(Clone)]
pub struct TotpEnrollment {
    id: String,
    friendly_name: Option<String>,
    qr_code: String,
    secret: String,
    uri: String,
}

impl TotpEnrollment {
    fn from_answer(answer: &Map<String, Value>) -> Result<Self, AuthError> {
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
        let totp = answer.get("totp").and_then(Value::as_object);
        let field = |name: &str| text(totp.and_then(|t| t.get(name)));
        let (Some(id), Some("totp"), Some(svg), Some(secret), Some(uri)) = (
            text(answer.get("id")),
            answer.get("type").and_then(Value::as_str),
            field("qr_code"),
            field("secret"),
            field("uri"),
        ) else {
            return Err(AuthError::invalid_response(
                "the enrollment answer is not a TOTP factor with its secret",
            ));
        };
        Ok(Self {
            id,
            friendly_name: text(answer.get("friendly_name")).filter(|n| !n.is_empty()),
            // auth-js makes the SVG a data URL, ready for an `<img src>`.
            qr_code: format!("data:image/svg+xml;utf-8,{svg}"),
            secret,
            uri,
        })
    }

    /// The factor id, for [`Mfa::challenge`] and [`Mfa::challenge_and_verify`].
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The factor's name, if one was given.
    pub fn friendly_name(&self) -> Option<&str> {
        self.friendly_name.as_deref()
    }

    /// The QR code as auth-js gives it: `data:image/svg+xml;utf-8,<svg ...>`, for an
    /// `<img src>` (escape it for the HTML attribute). It encodes the secret.
    pub fn qr_code(&self) -> &str {
        &self.qr_code
    }

    /// The shared secret (base32), for users who type it into their app.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The `otpauth://totp/...` URI the QR code encodes. It holds the secret.
    pub fn uri(&self) -> &str {
        &self.uri
    }
}

impl fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("id", &self.id)
            .field("friendly_name", &self.friendly_name)
            .finish_non_exhaustive()
    }
}

/// A challenge of a factor: verify a code against it before it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The challenge id, for [`Mfa::verify`].
    pub id: String,
    /// The factor's type (`totp`).
    pub factor_type: String,
    /// When it expires, in seconds since the Unix epoch, when the server says.
    pub expires_at: Option<i64>,
}

/// The MFA calls of one request's client: [`ServerClient::mfa`].
#[derive(Debug, Clone, Copy)]
pub struct Mfa<'a> {
    client: &'a ServerClient,
}

impl ServerClient {
    /// The multi-factor calls (TOTP), auth-js's `supabase.auth.mfa`.
    pub fn mfa(&self) -> Mfa<'_> {
        Mfa { client: self }
    }
}

impl Mfa<'_> {
    fn api(&self) -> &crate::api::AuthApi {
        &self.client.auth.inner.api
    }

    /// The session's access token (refreshed first when it expires soon), as auth-js's
    /// `_useSession`; without a session, the session-missing error, before any request.
    async fn access_token(&self) -> Result<String, AuthError> {
        let session = self
            .client
            .get_session()
            .await?
            .ok_or_else(AuthError::session_missing)?;
        Ok(session.access_token().to_owned())
    }

    /// Enrolls a new TOTP factor (`POST /factors`). It stays unverified until a code is
    /// verified with it. A user who already has a verified factor must be at `aal2`.
    pub async fn enroll_totp(&self, params: EnrollTotp) -> Result<TotpEnrollment, AuthError> {
        let token = self.access_token().await?;
        let answer = self
            .api()
            .mfa_enroll_totp(
                &token,
                params.friendly_name.as_deref(),
                params.issuer.as_deref(),
            )
            .await?;
        TotpEnrollment::from_answer(&answer)
    }

    /// Starts a challenge of `factor_id` (`POST /factors/{id}/challenge`).
    pub async fn challenge(&self, factor_id: &str) -> Result<Challenge, AuthError> {
        let token = self.access_token().await?;
        let answer = self.api().mfa_challenge(&token, factor_id).await?;
        let (Some(id), Some(factor_type)) = (
            answer.get("id").and_then(Value::as_str),
            answer.get("type").and_then(Value::as_str),
        ) else {
            return Err(AuthError::invalid_response(
                "the challenge answer has no id or type",
            ));
        };
        Ok(Challenge {
            id: id.to_owned(),
            factor_type: factor_type.to_owned(),
            expires_at: answer.get("expires_at").and_then(Value::as_i64),
        })
    }

    /// Verifies `code` against a challenge (`POST /factors/{id}/verify`). On success
    /// the session is now `aal2`: it is stored, written through `set_all` as auth-js's
    /// `_saveSession` and `@supabase/ssr` write it, and returned. A wrong code is an
    /// error (`mfa_verification_failed`) and leaves the session and the challenge as
    /// they were.
    pub async fn verify(
        &self,
        factor_id: &str,
        challenge_id: &str,
        code: &str,
    ) -> Result<UnverifiedSession, AuthError> {
        let token = self.access_token().await?;
        let answer = self
            .api()
            .mfa_verify(&token, factor_id, challenge_id, code)
            .await?;
        let body = self.verified_session_body(answer);
        self.client.save_response(body, &[])
    }

    /// auth-js's `_saveSession({ expires_at: Math.round(Date.now() / 1000) +
    /// data.expires_in, ...data })`: `expires_at` first, then the answer's members in
    /// order (the answer's own `expires_at` replaces the value, in first place).
    fn verified_session_body(&self, answer: Map<String, Value>) -> Map<String, Value> {
        let mut body = Map::new();
        if let Some(expires_at) =
            crate::session::expires_at_from(&answer, self.client.auth.now_millis())
        {
            body.insert("expires_at".into(), expires_at);
        }
        body.extend(answer);
        body
    }

    /// A challenge and its verification in one call, as auth-js's
    /// `mfa.challengeAndVerify`: what a first code after [`Self::enroll_totp`] needs.
    pub async fn challenge_and_verify(
        &self,
        factor_id: &str,
        code: &str,
    ) -> Result<UnverifiedSession, AuthError> {
        let challenge = self.challenge(factor_id).await?;
        self.verify(factor_id, &challenge.id, code).await
    }

    /// Removes a factor (`DELETE /factors/{id}`); returns its id. Removing a verified
    /// factor needs an `aal2` session. The stored session is left as it is, as auth-js
    /// leaves it (its token keeps its `aal` until the next refresh).
    pub async fn unenroll(&self, factor_id: &str) -> Result<String, AuthError> {
        let token = self.access_token().await?;
        let answer = self.api().mfa_unenroll(&token, factor_id).await?;
        Ok(answer
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or(factor_id)
            .to_owned())
    }

    /// The user's factors as the Auth server knows them now (`GET /user`), sorted as
    /// auth-js's `mfa.listFactors` sorts them. Empty without a session.
    pub async fn list_factors(&self) -> Result<Factors, AuthError> {
        let user = self.client.get_user().await?;
        Ok(Factors::from_list(
            user.map(|u| u.factors()).unwrap_or_default(),
        ))
    }

    /// The session's assurance level, as auth-js's `getAuthenticatorAssuranceLevel`
    /// computes it, from what the server can vouch for: the current level and methods
    /// from the access token once verified ([`ServerClient::get_claims`]), the next
    /// level from the user's verified factors as the Auth server lists them
    /// (`GET /user`; auth-js reads them from the session in storage, which on a server
    /// is the browser's cookie). Without a session: no level and no methods.
    pub async fn assurance_level(&self) -> Result<AssuranceLevel, AuthError> {
        let Some(claims) = self.client.get_claims().await? else {
            return Ok(AssuranceLevel {
                current: None,
                next: None,
                current_methods: Vec::new(),
            });
        };
        let current = claims.aal.as_deref().and_then(Aal::parse);
        let factors = self.list_factors().await?;
        let next = if factors.all.iter().any(Factor::is_verified) {
            Some(Aal::Aal2)
        } else {
            current
        };
        Ok(AssuranceLevel {
            current,
            next,
            current_methods: claims.amr.clone().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn factor(id: &str, factor_type: &str, status: &str) -> Factor {
        Factor::from_map(
            json!({ "id": id, "factor_type": factor_type, "status": status })
                .as_object()
                .unwrap()
                .clone(),
        )
    }

    #[test]
    fn factors_are_sorted_as_auth_js_sorts_them() {
        let factors = Factors::from_list(vec![
            factor("a", "totp", "verified"),
            factor("b", "totp", "unverified"),
            factor("c", "phone", "verified"),
            factor("d", "sms_carrier_pigeon", "verified"),
        ]);
        let ids = |list: &[Factor]| list.iter().map(|f| f.id().to_owned()).collect::<Vec<_>>();
        assert_eq!(ids(&factors.all), ["a", "b", "c", "d"]);
        assert_eq!(ids(&factors.totp), ["a"]);
        assert_eq!(ids(&factors.phone), ["c"]);
        assert!(factors.webauthn.is_empty());
    }

    #[test]
    fn an_enrollment_needs_its_secret_and_hides_it_from_debug() {
        let answer = json!({
            "id": "f1", "type": "totp", "friendly_name": "",
            "totp": { "qr_code": "<svg/>", "secret": "JBSWY3DPEHPK3PXP", "uri": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP" }
        });
        let enrollment = TotpEnrollment::from_answer(answer.as_object().unwrap()).unwrap();
        assert_eq!(enrollment.qr_code(), "data:image/svg+xml;utf-8,<svg/>");
        assert_eq!(enrollment.friendly_name(), None);
        let debug = format!("{enrollment:?}");
        assert_eq!(
            debug,
            "TotpEnrollment { id: \"f1\", friendly_name: None, .. }"
        );
        let mut phone = answer.as_object().unwrap().clone();
        phone.insert("type".into(), json!("phone"));
        assert!(TotpEnrollment::from_answer(&phone).is_err());
    }

    #[test]
    fn levels_parse_as_the_claim_spells_them() {
        assert_eq!(Aal::parse("aal1"), Some(Aal::Aal1));
        assert_eq!(Aal::parse("aal2"), Some(Aal::Aal2));
        assert_eq!(Aal::parse("AAL2"), None);
        assert_eq!(Aal::Aal2.to_string(), "aal2");
        let level = |current, next| AssuranceLevel {
            current,
            next,
            current_methods: Vec::new(),
        };
        assert!(level(Some(Aal::Aal1), Some(Aal::Aal2)).needs_step_up());
        assert!(!level(Some(Aal::Aal2), Some(Aal::Aal2)).needs_step_up());
        assert!(!level(Some(Aal::Aal1), Some(Aal::Aal1)).needs_step_up());
        assert!(!level(None, None).needs_step_up());
    }
}
