//! The key ring: the current signing key, older keys still trusted and published,
//! and the shared HS256 secret (legacy API keys and HS256 mode).

pub(crate) mod generate;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::SigningAlg;
use crate::error::{EmulatorError, ErrorKind};
use crate::store::Store;
use crate::store::keys as stored;
use generate::SigningKey;

/// The local Supabase stack's well-known JWT secret; the legacy anon and
/// service_role keys are signed with it.
pub(crate) const JWT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

const CURRENT_KID: &str = "current_kid";

/// Signing and verification keys.
pub(crate) struct KeyRing {
    keys: Vec<SigningKey>,
    /// `None`: HS256 with the shared secret signs new tokens.
    current: Option<String>,
    secret_enc: EncodingKey,
    secret_dec: DecodingKey,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("keys", &self.keys)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

/// A key as listed by the emulator's key routes.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct KeyInfo {
    pub(crate) kid: String,
    pub(crate) alg: String,
    pub(crate) status: &'static str,
}

fn parse_alg(s: &str) -> Option<SigningAlg> {
    SigningAlg::parse(s)
}

impl KeyRing {
    /// Loads stored keys; makes sure the current key signs with `alg`, creating one if needed.
    pub(crate) fn load(store: &Store, alg: SigningAlg, now: i64) -> Result<Self, EmulatorError> {
        let mut ring = Self {
            keys: Vec::new(),
            current: None,
            secret_enc: EncodingKey::from_secret(JWT_SECRET.as_bytes()),
            secret_dec: DecodingKey::from_secret(JWT_SECRET.as_bytes()),
        };
        let (rows, current) = store
            .tx(|c| Ok::<_, EmulatorError>((stored::all(c)?, stored::get_meta(c, CURRENT_KID)?)))?;
        for row in rows {
            let key_alg = parse_alg(&row.alg).ok_or_else(|| {
                EmulatorError::new(ErrorKind::Keys, "stored key has an unknown alg")
            })?;
            ring.keys.push(generate::load(
                &row.kid,
                key_alg,
                &row.private_der,
                row.created_at,
            )?);
        }
        let current_alg = current
            .as_deref()
            .and_then(|kid| ring.keys.iter().find(|k| k.kid == kid))
            .map(|k| k.alg);
        match (alg, current_alg) {
            (SigningAlg::Hs256, _) => {
                store.tx(|c| stored::set_meta(c, CURRENT_KID, ""))?;
            }
            (wanted, Some(have)) if wanted == have => ring.current = current,
            (wanted, _) => {
                ring.rotate(store, wanted, now)?;
            }
        }
        Ok(ring)
    }

    /// Generates a key for `alg` without touching the ring (slow for RSA; call it unlocked).
    pub(crate) fn prepare(
        alg: SigningAlg,
        now: i64,
    ) -> Result<(SigningKey, Vec<u8>), EmulatorError> {
        let der = generate::generate_pkcs8(alg)?;
        let kid = crate::util::new_uuid();
        let key = generate::load(&kid, alg, &der, now)?;
        Ok((key, der))
    }

    /// Stores a prepared key as the signing key. Call it without holding the ring's
    /// lock: requests hold the database lock while they read the ring, so taking
    /// them in the other order could deadlock.
    pub(crate) fn persist(
        store: &Store,
        prepared: &(SigningKey, Vec<u8>),
    ) -> Result<(), EmulatorError> {
        let (key, der) = prepared;
        store.tx(|c| {
            stored::insert(
                c,
                &stored::StoredKey {
                    kid: key.kid.clone(),
                    alg: key.alg.as_str().into(),
                    private_der: der.clone(),
                    created_at: key.created_at,
                },
            )?;
            stored::set_meta(c, CURRENT_KID, &key.kid)
        })?;
        Ok(())
    }

    /// Makes a persisted key the signing key in memory; older keys stay trusted.
    pub(crate) fn install(&mut self, prepared: (SigningKey, Vec<u8>)) -> String {
        let kid = prepared.0.kid.clone();
        self.keys.push(prepared.0);
        self.current = Some(kid.clone());
        kid
    }

    /// Adds a new key for `alg` and makes it the signing key (used while loading).
    fn rotate(
        &mut self,
        store: &Store,
        alg: SigningAlg,
        now: i64,
    ) -> Result<String, EmulatorError> {
        let prepared = Self::prepare(alg, now)?;
        Self::persist(store, &prepared)?;
        Ok(self.install(prepared))
    }

    /// Checks that `kid` names a previous (not current) key.
    pub(crate) fn check_droppable(&self, kid: &str) -> Result<(), EmulatorError> {
        if self.current.as_deref() == Some(kid) {
            return Err(EmulatorError::new(
                ErrorKind::InvalidInput,
                "cannot drop the current signing key; rotate first",
            ));
        }
        if !self.keys.iter().any(|k| k.kid == kid) {
            return Err(EmulatorError::new(
                ErrorKind::InvalidInput,
                "no key with that kid",
            ));
        }
        Ok(())
    }

    /// Removes a key from memory (after it was deleted from the store).
    pub(crate) fn remove(&mut self, kid: &str) {
        self.keys.retain(|k| k.kid != kid);
    }

    /// The kid of the signing key (`None` in HS256 mode).
    pub(crate) fn current_kid(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// The algorithm that signs new tokens.
    pub(crate) fn current_alg(&self) -> SigningAlg {
        self.current_key().map_or(SigningAlg::Hs256, |k| k.alg)
    }

    fn current_key(&self) -> Option<&SigningKey> {
        let kid = self.current.as_deref()?;
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// All asymmetric keys with their status.
    pub(crate) fn list(&self) -> Vec<KeyInfo> {
        self.keys
            .iter()
            .map(|k| KeyInfo {
                kid: k.kid.clone(),
                alg: k.alg.as_str().into(),
                status: if self.current.as_deref() == Some(k.kid.as_str()) {
                    "current"
                } else {
                    "previous"
                },
            })
            .collect()
    }

    /// Signs claims with the current key (or the HS256 secret).
    pub(crate) fn sign(
        &self,
        claims: &impl Serialize,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        match self.current_key() {
            Some(key) => {
                let mut header = Header::new(key.algorithm());
                header.kid = Some(key.kid.clone());
                jsonwebtoken::encode(&header, claims, &key.encoding)
            }
            None => jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.secret_enc),
        }
    }

    /// `{"keys": [...]}` with every asymmetric key's public JWK.
    pub(crate) fn jwks(&self) -> Value {
        json!({ "keys": self.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
    }

    /// Verifies a JWT the way GoTrue's `parseJWTClaims` does: key by `kid`, else the
    /// HS256 secret; `exp` checked against `now_micros` without leeway; `aud`/`iss` not checked.
    /// The error text follows "invalid JWT: unable to parse or verify signature, ".
    pub(crate) fn verify(
        &self,
        token: &str,
        now_micros: i64,
    ) -> Result<Map<String, Value>, String> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| format!("token is malformed: {e}"))?;
        let allowed = [
            Algorithm::HS256,
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
        ];
        if !allowed.contains(&header.alg) {
            return Err(format!(
                "token signature is invalid: signing method {:?} is invalid",
                header.alg
            ));
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.iter().find(|k| k.kid == kid));
        let decoding = match (key, header.alg) {
            (Some(k), alg) if k.algorithm() == alg => &k.decoding,
            (Some(_), _) => return Err("token signature is invalid: key algorithm mismatch".into()),
            (None, Algorithm::HS256) => &self.secret_dec,
            (None, alg) => {
                return Err(format!(
                    "token is unverifiable: unrecognized JWT kid {} for algorithm {alg:?}",
                    header.kid.as_deref().unwrap_or("<none>")
                ));
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, decoding, &validation)
            .map_err(|e| format!("token signature is invalid: {e}"))?;
        if let Some(exp) = data.claims.get("exp") {
            let Some(exp) = exp.as_f64() else {
                return Err("token is malformed: invalid type for claim exp".into());
            };
            // Float-to-int `as` saturates; exp is a Unix time in seconds.
            if now_micros > (exp * 1_000_000.0) as i64 {
                return Err("token has invalid claims: token is expired".into());
            }
        }
        Ok(data.claims)
    }
}
