//! The local OAuth provider as an OpenID Connect issuer: its own signing key, the
//! id_tokens it issues for tests, and their verification by the `id_token` grant.
//!
//! Real Google or Apple id_tokens cannot be checked offline, so the grant accepts only
//! tokens of this issuer (`<base>/oauth-provider`, audience [`CLIENT_ID`]). The key is
//! not the one that signs access tokens: an id_token is the provider's word, not
//! GoTrue's. It lives in the `meta` table, so tokens stay verifiable across restarts
//! of a file database. Verification takes `now` so tests of expiry are exact.

use crate::store::Db;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::SigningAlg;
use crate::error::{EmulatorError, ErrorKind};
use crate::keys::generate::{self, SigningKey};
use crate::store::keys as stored;

/// The client id of the local provider: `/authorize` sends it, and an id_token must
/// name it in `aud` (GoTrue's `[auth.external.<provider>] client_id`).
pub(crate) const CLIENT_ID: &str = "supabase-auth-emulator";

/// `meta` key holding `<kid> <base64 PKCS#8>` of the provider's ES256 key.
const KEY_META: &str = "oauth_provider_key";

/// The issuer (`iss`) of the local provider's id_tokens.
pub(crate) fn issuer(base_url: &str) -> String {
    format!("{base_url}/oauth-provider")
}

/// The provider's signing key, created on first use. Emulators sharing a PostgreSQL
/// database agree on it: the first to store one wins, and the others read it.
pub(crate) fn provider_key(c: &Db<'_>, now: i64) -> Result<SigningKey, EmulatorError> {
    let stored = stored::get_meta(c, KEY_META)?;
    if let Some(key) = stored.as_deref().and_then(|s| parse_stored(s, now)) {
        return Ok(key);
    }
    let der = generate::generate_pkcs8(SigningAlg::Es256)?;
    let kid = crate::util::new_uuid();
    let value = format!("{kid} {}", STANDARD.encode(&der));
    if stored.is_some() {
        // Unreadable: replace it.
        stored::set_meta(c, KEY_META, &value)?;
    } else if !stored::add_meta(c, KEY_META, &value)? {
        // Another emulator on this database stored one since we looked.
        let theirs = stored::get_meta(c, KEY_META)?;
        if let Some(key) = theirs.as_deref().and_then(|s| parse_stored(s, now)) {
            return Ok(key);
        }
        stored::set_meta(c, KEY_META, &value)?;
    }
    generate::load(&kid, SigningAlg::Es256, &der, now)
}

/// `<kid> <base64 PKCS#8>` as a key, if it reads as one.
fn parse_stored(stored: &str, now: i64) -> Option<SigningKey> {
    let (kid, der) = stored.split_once(' ')?;
    let der = STANDARD.decode(der).ok()?;
    generate::load(kid, SigningAlg::Es256, &der, now).ok()
}

/// `{"keys": [...]}` of the provider.
pub(crate) fn jwks(key: &SigningKey) -> Value {
    serde_json::json!({ "keys": [key.jwk] })
}

/// Signs `claims` as the provider.
pub(crate) fn sign(key: &SigningKey, claims: &Map<String, Value>) -> Result<String, EmulatorError> {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding)
        .map_err(|e| EmulatorError::with_source(ErrorKind::Keys, "cannot sign an id_token", e))
}

/// GoTrue's nonce check compares the token's `nonce` with `hex(SHA-256(nonce))` of the
/// nonce the app passes (`token_oidc.go`).
pub(crate) fn hash_nonce(raw: &str) -> String {
    crate::util::hex(&Sha256::digest(raw.as_bytes()))
}

/// Why an id_token was refused; GoTrue answers every one of these "Bad ID token", the
/// detail is for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadIdToken(pub(crate) String);

/// Verifies an id_token as go-oidc's verifier does for GoTrue: an ES256 signature by
/// the provider's key, `iss` equal to `issuer`, `exp` after `now_secs` (required, no
/// leeway), `nbf` (if any) at most five minutes ahead. `aud` and `nonce` are checked
/// by the grant, as in GoTrue.
pub(crate) fn verify(
    key: &SigningKey,
    issuer: &str,
    token: &str,
    now_secs: i64,
) -> Result<Map<String, Value>, BadIdToken> {
    let bad = |s: &str| BadIdToken(s.to_string());
    let header = jsonwebtoken::decode_header(token).map_err(|_| bad("malformed jwt"))?;
    if header.alg != Algorithm::ES256 {
        return Err(bad("unexpected signing algorithm"));
    }
    if header.kid.as_deref().is_some_and(|kid| kid != key.kid) {
        return Err(bad("unknown kid"));
    }
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, &validation)
        .map_err(|_| bad("failed to verify signature"))?;
    let claims = data.claims;
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(bad("id token issued by a different provider"));
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_f64)
        .ok_or_else(|| bad("missing exp"))?;
    // `as` saturates; the claims are Unix times in seconds.
    if now_secs as f64 >= exp {
        return Err(bad("token is expired"));
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_f64)
        && nbf > (now_secs + 300) as f64
    {
        return Err(bad("token is not valid yet"));
    }
    Ok(claims)
}

/// The audiences of a token: `aud` as a string or an array of strings.
pub(crate) fn audiences(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn key() -> SigningKey {
        let store = crate::store::Store::open(None).unwrap();
        let first = store.tx(|c| provider_key(c, 0)).unwrap();
        let again = store.tx(|c| provider_key(c, 0)).unwrap();
        assert_eq!(first.kid, again.kid);
        first
    }

    #[test]
    fn an_unreadable_stored_key_is_replaced_and_a_readable_one_kept() {
        let store = crate::store::Store::open(None).unwrap();
        store.tx(|c| stored::set_meta(c, KEY_META, "junk")).unwrap();
        let made = store.tx(|c| provider_key(c, 0)).unwrap();
        let kept = store
            .tx(|c| stored::get_meta(c, KEY_META))
            .unwrap()
            .unwrap();
        assert!(kept.starts_with(&format!("{} ", made.kid)), "{kept}");
        // What another emulator storing its own afterwards gets: nothing stored.
        assert!(
            !store
                .tx(|c| stored::add_meta(c, KEY_META, "theirs"))
                .unwrap()
        );
        assert_eq!(store.tx(|c| provider_key(c, 0)).unwrap().kid, made.kid);
    }

    fn claims(exp: i64) -> Map<String, Value> {
        json!({ "iss": "http://x/oauth-provider", "sub": "s", "aud": "a", "exp": exp })
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn verify_checks_signature_issuer_and_expiry() {
        let k = key();
        let t = sign(&k, &claims(100)).unwrap();
        assert_eq!(
            verify(&k, "http://x/oauth-provider", &t, 99).unwrap()["sub"],
            "s"
        );
        assert_eq!(
            verify(&k, "http://x/oauth-provider", &t, 100),
            Err(BadIdToken("token is expired".into()))
        );
        assert_eq!(
            verify(&k, "http://y/oauth-provider", &t, 99),
            Err(BadIdToken("id token issued by a different provider".into()))
        );
        let other = key();
        assert!(verify(&other, "http://x/oauth-provider", &t, 99).is_err());
    }

    #[test]
    fn nonce_hash_is_hex_sha256() {
        assert_eq!(
            hash_nonce("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn audiences_accepts_string_or_array() {
        let mut c = claims(1);
        assert_eq!(audiences(&c), vec!["a".to_string()]);
        c.insert("aud".into(), json!(["a", "b", 3]));
        assert_eq!(audiences(&c), vec!["a".to_string(), "b".to_string()]);
    }
}
