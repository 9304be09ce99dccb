//! `/factors`: TOTP enrolment, challenge, verification and unenrolment, with the
//! checks, order and errors of GoTrue's `mfa.go` (phone and WebAuthn factors are off,
//! as they are by default).

use crate::store::Db;
use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::St;
use super::auth::{Authed, require_user};
use super::error::{ApiError, ApiResult};
use super::extract::{Caller, LimitedBody, parse_json};
use crate::mfa::{self, qr, totp};
use crate::session;
use crate::store::factors::{self, FactorRecord};
use crate::store::sessions::{self, SessionRecord};
use crate::store::user_json::user_json;
use crate::store::users;

const MICROS: i64 = 1_000_000;

/// `loadFactor`: the path's factor if it belongs to `user_id`.
pub(super) fn load_factor(
    c: &Db<'_>,
    user_id: &str,
    raw_id: Option<&str>,
) -> ApiResult<FactorRecord> {
    let id = raw_id
        .and_then(crate::util::canonical_uuid)
        .ok_or_else(|| ApiError::not_found("validation_failed", "factor_id must be an UUID"))?;
    factors::find_owned(c, user_id, &id)?
        .ok_or_else(|| ApiError::not_found("mfa_factor_not_found", "Factor not found"))
}

/// `requireAuthentication`, `requireNotAnonymous` and `loadFactor`, in that order.
fn authed_factor(
    st: &crate::state::AppState,
    c: &Db<'_>,
    caller: &Caller,
    path: &Result<Path<String>, PathRejection>,
) -> ApiResult<(Authed, FactorRecord)> {
    let authed = require_user(st, c, caller)?;
    authed.require_not_anonymous()?;
    let raw = path.as_ref().ok().map(|Path(id)| id.as_str());
    let factor = load_factor(c, &authed.user.id, raw)?;
    Ok((authed, factor))
}

#[derive(Debug, Default, Deserialize)]
struct EnrollParams {
    #[serde(default)]
    friendly_name: Option<String>,
    #[serde(default)]
    factor_type: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
}

/// The host (with port) of the site URL, as Go's `url.ParseRequestURI(..).Host`.
fn site_host(site_url: &str) -> Option<String> {
    let (_, rest) = site_url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(host.to_string())
}

/// `validateFactors`: a free friendly name (an empty one included), room for another
/// factor, and aal2 once the user has a verified factor.
fn validate_factors(
    c: &Db<'_>,
    user_id: &str,
    name: &str,
    session: &SessionRecord,
) -> ApiResult<()> {
    let existing = factors::for_user(c, user_id)?;
    let mut verified = 0;
    for f in &existing {
        if f.friendly_name == name {
            return Err(ApiError::unprocessable(
                "mfa_factor_name_conflict",
                format!("A factor with the friendly name {name:?} for this user already exists"),
            ));
        }
        if f.is_verified() {
            verified += 1;
        }
    }
    if existing.len() >= mfa::MAX_ENROLLED_FACTORS || verified >= mfa::MAX_VERIFIED_FACTORS {
        return Err(ApiError::unprocessable(
            "too_many_enrolled_mfa_factors",
            "Maximum number of verified factors reached, unenroll to continue",
        ));
    }
    if verified > 0 && !session.is_aal2() {
        return Err(ApiError::forbidden(
            "insufficient_aal",
            "AAL2 required to enroll a new factor",
        ));
    }
    Ok(())
}

/// `POST /factors`.
pub(crate) async fn enroll(
    st: St,
    caller: Caller,
    LimitedBody(body): LimitedBody,
) -> ApiResult<Json<Value>> {
    let authed = st.store.tx(|c| require_user(&st, c, &caller))?;
    authed.require_not_anonymous()?;
    let Some(session) = authed.session.as_ref() else {
        return Err(ApiError::server_error(
            "A valid session and a registered user are required to enroll a factor",
        ));
    };
    let p: EnrollParams = parse_json(&body)?;
    match p.factor_type.as_deref().unwrap_or("") {
        "totp" if !st.config.mfa_totp_enroll => {
            return Err(ApiError::unprocessable(
                "mfa_totp_enroll_not_enabled",
                "MFA enroll is disabled for TOTP",
            ));
        }
        "totp" => {}
        "phone" => {
            return Err(ApiError::unprocessable(
                "mfa_phone_enroll_not_enabled",
                "MFA enroll is disabled for Phone",
            ));
        }
        "webauthn" => {
            return Err(ApiError::unprocessable(
                "mfa_webauthn_enroll_not_enabled",
                "MFA enroll is disabled for WebAuthn",
            ));
        }
        _ => {
            return Err(ApiError::validation(
                "factor_type needs to be totp, phone, or webauthn",
            ));
        }
    }
    let issuer = match p.issuer.filter(|i| !i.is_empty()) {
        Some(i) => i,
        None => site_host(&st.config.site_url)
            .ok_or_else(|| ApiError::server_error("site url is improperly formatted"))?,
    };
    let name = p.friendly_name.unwrap_or_default();
    // GoTrue deletes expired factors before, and apart from, the checks.
    st.store
        .tx(|c| factors::delete_expired(c, st.now(), mfa::FACTOR_EXPIRY_SECS * MICROS))?;
    let body = st.store.tx(|c| {
        validate_factors(c, &authed.user.id, &name, session)?;
        let qr_error = || ApiError::server_error("Error generating QR Code");
        let key = totp::generate(&issuer, &authed.user.email).map_err(|_| qr_error())?;
        let svg = qr::svg(&key.uri).ok_or_else(qr_error)?;
        let factor =
            FactorRecord::new(&authed.user.id, &name, "totp", key.secret.clone(), st.now());
        factors::insert(c, &factor)?;
        Ok::<_, ApiError>(json!({
            "id": factor.id,
            "type": "totp",
            "friendly_name": factor.friendly_name,
            "totp": { "qr_code": svg, "secret": key.secret, "uri": key.uri },
        }))
    })?;
    Ok(Json(body))
}

/// The factor-type switch of `ChallengeFactor` and `VerifyFactor`: only TOTP can be on
/// (`totp_on`: `[auth.mfa.totp] verify_enabled`).
fn require_totp(
    factor: &FactorRecord,
    totp_on: bool,
    webauthn_code: &'static str,
) -> ApiResult<()> {
    match factor.factor_type.as_str() {
        "totp" if totp_on => Ok(()),
        "totp" => Err(ApiError::unprocessable(
            "mfa_totp_verify_not_enabled",
            "MFA verification is disabled for TOTP",
        )),
        "phone" => Err(ApiError::unprocessable(
            "mfa_phone_verify_not_enabled",
            "MFA verification is disabled for Phone",
        )),
        "webauthn" => Err(ApiError::unprocessable(
            webauthn_code,
            "MFA verification is disabled for WebAuthn",
        )),
        _ => Err(ApiError::validation(
            "factor_type needs to be totp, phone, or webauthn",
        )),
    }
}

/// `POST /factors/{id}/challenge` (a TOTP challenge reads no body).
pub(crate) async fn challenge(
    st: St,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let body = st.store.tx(|c| {
        let (_, factor) = authed_factor(&st, c, &caller, &path)?;
        require_totp(
            &factor,
            st.config.mfa_totp_verify,
            "mfa_webauthn_verify_not_enabled",
        )?;
        let ch = factors::create_challenge(c, &factor, &caller.ip, st.now())?;
        let expires_at = ch.created_at.div_euclid(MICROS) + mfa::CHALLENGE_EXPIRY_SECS;
        Ok::<_, ApiError>(
            json!({ "id": ch.id, "type": factor.factor_type, "expires_at": expires_at }),
        )
    })?;
    Ok(Json(body))
}

/// No `Debug`: it holds a one-time code.
#[derive(Default, Deserialize)]
struct VerifyParams {
    #[serde(default)]
    challenge_id: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

/// What the verification transaction decided; an expired challenge is deleted, and
/// that must commit before the 422.
enum Verified {
    Session(Map<String, Value>),
    Expired(String),
}

/// `POST /factors/{id}/verify`.
pub(crate) async fn verify(
    st: St,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    LimitedBody(body): LimitedBody,
) -> ApiResult<Json<Value>> {
    let outcome = st.store.tx(|c| {
        let (authed, mut factor) = authed_factor(&st, c, &caller, &path)?;
        let p: VerifyParams = parse_json(&body)?;
        // `challenge_id` is a uuid.UUID in GoTrue: another string fails to decode.
        let challenge_id = match p.challenge_id {
            None => None,
            Some(raw) => Some(crate::util::canonical_uuid(&raw).ok_or_else(|| {
                ApiError::bad_request(
                    "bad_json",
                    format!(
                        "Could not parse request body as JSON: uuid: incorrect UUID length {} in string {raw:?}",
                        raw.len()
                    ),
                )
            })?),
        };
        let code = p.code.unwrap_or_default();
        if code.is_empty() {
            return Err(ApiError::validation("Code needs to be non-empty"));
        }
        // GoTrue answers a disabled WebAuthn verification with the enrolment code.
        require_totp(
            &factor,
            st.config.mfa_totp_verify,
            "mfa_webauthn_enroll_not_enabled",
        )?;
        let challenge = match &challenge_id {
            Some(id) => factors::find_challenge(c, &factor.id, id)?,
            None => None,
        }
        .ok_or_else(|| {
            ApiError::unprocessable(
                "mfa_factor_not_found",
                "MFA factor with the provided challenge ID not found",
            )
        })?;
        if challenge.verified_at.is_some() || challenge.ip_address != caller.ip {
            return Err(ApiError::unprocessable(
                "mfa_ip_address_mismatch",
                "Challenge and verify IP addresses mismatch.",
            ));
        }
        let now = st.now();
        if now > challenge.created_at + mfa::CHALLENGE_EXPIRY_SECS * MICROS {
            factors::delete_challenge(c, &challenge.id)?;
            return Ok(Verified::Expired(challenge.id));
        }
        if !totp::check(&factor.secret, &code, st.clock.now_secs()) {
            return Err(ApiError::unprocessable(
                "mfa_verification_failed",
                "Invalid TOTP code entered",
            ));
        }
        factors::verify_challenge(c, &challenge.id, now)?;
        if !factor.is_verified() {
            factors::set_status(c, &mut factor, factors::VERIFIED, now)?;
        }
        let user = users::get(c, &authed.user.id)?.ok_or_else(ApiError::internal)?;
        // GoTrue renders the user as loaded here, before the other unverified factors go.
        let user_value = user_json(c, &user)?;
        let session_id = authed
            .claims
            .get("session_id")
            .and_then(Value::as_str)
            .and_then(crate::util::canonical_uuid)
            .ok_or_else(|| ApiError::server_error("Cannot read SessionId claim as UUID"))?;
        let answer = session::upgrade_after_mfa(
            &st,
            c,
            &user,
            user_value,
            &session_id,
            "totp",
            &factor.id,
        )?;
        sessions::delete_below_aal(c, &user.id, "aal2")?;
        factors::delete_unverified(c, &user.id, &factor.factor_type)?;
        Ok(Verified::Session(answer))
    })?;
    match outcome {
        Verified::Session(m) => Ok(Json(Value::Object(m))),
        Verified::Expired(id) => Err(ApiError::unprocessable(
            "mfa_challenge_expired",
            format!(
                "MFA challenge {id} has expired, verify against another challenge or create a new challenge."
            ),
        )),
    }
}

/// Deletes a factor and sends its sessions back to aal1 (unenrolment, admin deletion).
pub(super) fn remove_factor(c: &Db<'_>, factor: &FactorRecord) -> ApiResult<()> {
    factors::delete(c, &factor.id)?;
    let method = mfa::amr_method(&factor.factor_type).ok_or_else(ApiError::internal)?;
    sessions::downgrade_for_factor(c, &factor.user_id, &factor.id, method)?;
    Ok(())
}

/// `DELETE /factors/{id}`.
pub(crate) async fn unenroll(
    st: St,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let body = st.store.tx(|c| {
        let (authed, factor) = authed_factor(&st, c, &caller, &path)?;
        let Some(session) = authed.session.as_ref() else {
            return Err(ApiError::server_error(
                "A valid session and factor are required to unenroll a factor",
            ));
        };
        if factor.is_verified() && !session.is_aal2() {
            return Err(ApiError::unprocessable(
                "insufficient_aal",
                "AAL2 required to unenroll verified factor",
            ));
        }
        remove_factor(c, &factor)?;
        Ok(json!({ "id": factor.id }))
    })?;
    Ok(Json(body))
}

#[cfg(test)]
mod tests {
    use super::site_host;

    #[test]
    fn issuer_is_the_site_url_host_with_port() {
        assert_eq!(
            site_host("http://127.0.0.1:3000").as_deref(),
            Some("127.0.0.1:3000")
        );
        assert_eq!(
            site_host("https://user:pw@example.com:8443/app?x#y").as_deref(),
            Some("example.com:8443")
        );
        assert_eq!(site_host("example.com"), None);
    }
}
