//! [`EmulatorConfig`]: every knob of the emulator, with defaults suited to tests.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::{Emulator, EmulatorError};

/// The algorithm used to sign new access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SigningAlg {
    /// ECDSA P-256 with SHA-256 (the Supabase default for new projects).
    #[default]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys.
    Rs256,
    /// Ed25519.
    EdDsa,
    /// Legacy HMAC-SHA256 with the shared JWT secret (no `kid`, not published in the JWKS).
    Hs256,
}

impl SigningAlg {
    /// The JOSE `alg` name: `ES256`, `RS256`, `EdDSA` or `HS256`.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Es256 => "ES256",
            SigningAlg::Rs256 => "RS256",
            SigningAlg::EdDsa => "EdDSA",
            SigningAlg::Hs256 => "HS256",
        }
    }

    /// Parses a JOSE `alg` name, case-insensitively (`es256`, `RS256`, `eddsa`, `hs256`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "ES256" => Some(SigningAlg::Es256),
            "RS256" => Some(SigningAlg::Rs256),
            "EDDSA" | "ED25519" => Some(SigningAlg::EdDsa),
            "HS256" => Some(SigningAlg::Hs256),
            _ => None,
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Configuration of an [`Emulator`]; build it with the chained setters and call
/// [`EmulatorConfig::start`].
///
/// Defaults: in-memory SQLite, `127.0.0.1:0`, ES256, email autoconfirm on,
/// 3600 s access tokens, 10 s refresh-token reuse interval, bcrypt cost 4,
/// site URL `http://127.0.0.1:3000`, an `apikey` required on `/auth/v1`,
/// anonymous sign-ins enabled, a 1 s per-user email send frequency limit
/// (as the Supabase CLI), OTPs valid 3600 s.
#[derive(Clone)]
pub struct EmulatorConfig {
    pub(crate) jwt_exp: Duration,
    pub(crate) signing_alg: SigningAlg,
    pub(crate) autoconfirm: bool,
    pub(crate) site_url: String,
    pub(crate) redirect_allow_list: Vec<String>,
    pub(crate) refresh_token_reuse_interval: Duration,
    pub(crate) bcrypt_cost: u32,
    pub(crate) db_path: Option<PathBuf>,
    pub(crate) host: std::net::IpAddr,
    pub(crate) port: u16,
    pub(crate) require_api_key: bool,
    pub(crate) anonymous_sign_ins: bool,
    pub(crate) disable_signup: bool,
    pub(crate) email_max_frequency: Duration,
    pub(crate) otp_exp: Duration,
    pub(crate) otp_length: usize,
    pub(crate) secure_email_change: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            jwt_exp: Duration::from_secs(3600),
            signing_alg: SigningAlg::Es256,
            autoconfirm: true,
            site_url: "http://127.0.0.1:3000".into(),
            redirect_allow_list: Vec::new(),
            refresh_token_reuse_interval: Duration::from_secs(10),
            bcrypt_cost: 4,
            db_path: None,
            host: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            port: 0,
            require_api_key: true,
            anonymous_sign_ins: true,
            disable_signup: false,
            email_max_frequency: Duration::from_secs(1),
            otp_exp: Duration::from_secs(3600),
            otp_length: 6,
            secure_email_change: true,
        }
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("jwt_exp", &self.jwt_exp)
            .field("signing_alg", &self.signing_alg)
            .field("autoconfirm", &self.autoconfirm)
            .field("site_url", &self.site_url)
            .field("redirect_allow_list", &self.redirect_allow_list)
            .field(
                "refresh_token_reuse_interval",
                &self.refresh_token_reuse_interval,
            )
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("db_path", &self.db_path)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("require_api_key", &self.require_api_key)
            .field("anonymous_sign_ins", &self.anonymous_sign_ins)
            .field("disable_signup", &self.disable_signup)
            .field("email_max_frequency", &self.email_max_frequency)
            .field("otp_exp", &self.otp_exp)
            .finish_non_exhaustive()
    }
}

impl EmulatorConfig {
    /// Lifetime of access tokens (`exp - iat`); whole seconds, at least 1 s.
    pub fn jwt_exp(mut self, exp: Duration) -> Self {
        self.jwt_exp = exp.max(Duration::from_secs(1));
        self
    }

    /// Algorithm for new access tokens.
    pub fn signing_alg(mut self, alg: SigningAlg) -> Self {
        self.signing_alg = alg;
        self
    }

    /// Whether email signups are confirmed at once (`GOTRUE_MAILER_AUTOCONFIRM`).
    pub fn autoconfirm(mut self, on: bool) -> Self {
        self.autoconfirm = on;
        self
    }

    /// The site URL: default redirect target, and the base of the allow-list check.
    pub fn site_url(mut self, url: impl Into<String>) -> Self {
        self.site_url = url.into();
        self
    }

    /// Extra allowed redirect URL globs (`*` stops at `.` and `/`, `**` does not).
    pub fn redirect_allow_list(mut self, list: Vec<String>) -> Self {
        self.redirect_allow_list = list;
        self
    }

    /// Window in which a revoked refresh token may still be exchanged (default 10 s).
    pub fn refresh_token_reuse_interval(mut self, interval: Duration) -> Self {
        self.refresh_token_reuse_interval = interval;
        self
    }

    /// bcrypt cost for password hashes (clamped to 4..=31; 4 is fast, for tests).
    pub fn bcrypt_cost(mut self, cost: u32) -> Self {
        self.bcrypt_cost = cost.clamp(4, 31);
        self
    }

    /// `Some(path)`: keep everything in that SQLite file; `None`: in memory.
    pub fn db_path(mut self, path: Option<impl Into<PathBuf>>) -> Self {
        self.db_path = path.map(Into::into);
        self
    }

    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Whether `/auth/v1` requests without a known `apikey` get the gateway's 401
    /// (the hosted and self-hosted behaviour; the CLI stack does not check). Default true.
    pub fn require_api_key(mut self, on: bool) -> Self {
        self.require_api_key = on;
        self
    }

    /// Whether `POST /signup` without email or phone creates an anonymous user. Default true.
    pub fn anonymous_sign_ins(mut self, on: bool) -> Self {
        self.anonymous_sign_ins = on;
        self
    }

    /// Refuse new signups (`GOTRUE_DISABLE_SIGNUP`). Default false.
    pub fn disable_signup(mut self, on: bool) -> Self {
        self.disable_signup = on;
        self
    }

    /// Minimum time between two emails of one kind to one user (`GOTRUE_SMTP_MAX_FREQUENCY`).
    /// Zero disables the check. Default 1 s, as the Supabase CLI.
    pub fn email_max_frequency(mut self, every: Duration) -> Self {
        self.email_max_frequency = every;
        self
    }

    /// Lifetime of email OTPs and links (`GOTRUE_MAILER_OTP_EXP`). Default 3600 s.
    pub fn otp_exp(mut self, exp: Duration) -> Self {
        self.otp_exp = exp;
        self
    }

    /// Whether an email change needs confirming from both addresses. Default true.
    pub fn secure_email_change(mut self, on: bool) -> Self {
        self.secure_email_change = on;
        self
    }

    /// Opens the database, loads or creates the signing key, binds the port and serves.
    pub async fn start(self) -> Result<Emulator, EmulatorError> {
        Emulator::start(self).await
    }
}
