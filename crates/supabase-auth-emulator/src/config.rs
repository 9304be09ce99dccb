//! [`EmulatorConfig`]: every knob of the emulator, with defaults suited to tests.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
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
    /// Ed25519. Not for apps using supabase-js: auth-js (2.119.1) `getClaims()` rejects
    /// these tokens with `Invalid alg claim`, and hosted Supabase does not offer EdDSA
    /// signing keys. Meant for testing other JWT verifiers.
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

/// OAuth providers the built-in consent page answers to in [`EmulatorConfig::default`].
const DEFAULT_PROVIDERS: &[&str] = &[
    "apple",
    "azure",
    "bitbucket",
    "discord",
    "facebook",
    "figma",
    "github",
    "gitlab",
    "google",
    "keycloak",
    "linkedin_oidc",
    "notion",
    "slack_oidc",
    "spotify",
    "twitch",
    "twitter",
    "workos",
    "zoom",
];

/// Configuration of an [`Emulator`]; build it with the chained setters and call
/// [`EmulatorConfig::start`].
///
/// Defaults ([`EmulatorConfig::default`], made for tests): in-memory SQLite,
/// `127.0.0.1:0`, ES256, email autoconfirm on, 3600 s access tokens, 10 s
/// refresh-token reuse interval, bcrypt cost 4, site URL `http://127.0.0.1:3000`,
/// an `apikey` required on `/auth/v1`, anonymous sign-ins enabled, a 1 s per-user
/// email send frequency limit (as the Supabase CLI), 6-digit OTPs valid 3600 s,
/// every built-in OAuth provider enabled, TOTP MFA on, manual identity linking on,
/// phone sign-ups on and confirmed at once (SMS codes land in the inbox).
///
/// [`EmulatorConfig::supabase_cli_defaults`] has the Supabase CLI's defaults instead
/// (what `supabase start` does with the `config.toml` of `supabase init`): anonymous
/// sign-ins off, no OAuth provider, TOTP MFA off, manual linking off, and
/// `https://127.0.0.1:3000` in the redirect allow list.
/// [`EmulatorConfig::from_supabase_config`] reads a project's
/// `supabase/config.toml` on top of those; the `supabase-auth-emulator` binary starts
/// from them too.
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
    pub(crate) database_url: Option<String>,
    pub(crate) host: std::net::IpAddr,
    pub(crate) port: u16,
    pub(crate) require_api_key: bool,
    pub(crate) anonymous_sign_ins: bool,
    pub(crate) disable_signup: bool,
    pub(crate) email_max_frequency: Duration,
    pub(crate) otp_exp: Duration,
    pub(crate) otp_length: usize,
    pub(crate) secure_email_change: bool,
    pub(crate) secure_password_change: bool,
    pub(crate) email_provider: bool,
    pub(crate) phone_provider: bool,
    pub(crate) phone_autoconfirm: bool,
    pub(crate) external_providers: BTreeSet<String>,
    pub(crate) mfa_totp_enroll: bool,
    pub(crate) mfa_totp_verify: bool,
    pub(crate) sms_max_frequency: Duration,
    pub(crate) sms_otp_exp: Duration,
    pub(crate) manual_linking: bool,
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
            database_url: None,
            host: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            port: 0,
            require_api_key: true,
            anonymous_sign_ins: true,
            disable_signup: false,
            email_max_frequency: Duration::from_secs(1),
            otp_exp: Duration::from_secs(3600),
            otp_length: 6,
            secure_email_change: true,
            secure_password_change: false,
            email_provider: true,
            phone_provider: true,
            phone_autoconfirm: true,
            external_providers: DEFAULT_PROVIDERS.iter().map(|p| (*p).to_string()).collect(),
            mfa_totp_enroll: true,
            mfa_totp_verify: true,
            sms_max_frequency: Duration::from_secs(5),
            sms_otp_exp: Duration::from_secs(6000),
            manual_linking: true,
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
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("host", &self.host)
            .field("port", &self.port)
            .field("require_api_key", &self.require_api_key)
            .field("anonymous_sign_ins", &self.anonymous_sign_ins)
            .field("disable_signup", &self.disable_signup)
            .field("email_max_frequency", &self.email_max_frequency)
            .field("otp_exp", &self.otp_exp)
            .field("otp_length", &self.otp_length)
            .field("secure_email_change", &self.secure_email_change)
            .field("secure_password_change", &self.secure_password_change)
            .field("email_provider", &self.email_provider)
            .field("phone_provider", &self.phone_provider)
            .field("phone_autoconfirm", &self.phone_autoconfirm)
            .field("external_providers", &self.external_providers)
            .field("mfa_totp_enroll", &self.mfa_totp_enroll)
            .field("mfa_totp_verify", &self.mfa_totp_verify)
            .field("sms_max_frequency", &self.sms_max_frequency)
            .field("sms_otp_exp", &self.sms_otp_exp)
            .field("manual_linking", &self.manual_linking)
            .finish_non_exhaustive()
    }
}

impl EmulatorConfig {
    /// Lifetime of access tokens (`exp - iat`); whole seconds, at least 1 s.
    pub fn jwt_exp(mut self, exp: Duration) -> Self {
        self.jwt_exp = exp.max(Duration::from_secs(1));
        self
    }

    /// Algorithm for new access tokens. ES256 (the default) and RS256 are what hosted
    /// Supabase offers. [`SigningAlg::EdDsa`] tokens cannot be verified by auth-js
    /// (2.119.1) `getClaims()`, which throws `Invalid alg claim`.
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

    /// `Some(path)`: keep everything in that SQLite file; `None`: in memory (unless
    /// [`database_url`](Self::database_url) is set).
    pub fn db_path(mut self, path: Option<impl Into<PathBuf>>) -> Self {
        self.db_path = path.map(Into::into);
        self
    }

    /// `Some(url)`: keep users, identities, sessions and tokens in that PostgreSQL
    /// database (`postgres://user:password@host/db`, or `?host=/socket/dir`), in an
    /// `auth` schema with GoTrue's tables and columns, so `references auth.users(id)` and
    /// triggers on `auth.users` work as on Supabase. The emulator's own tables (the
    /// inbox, signing keys) go in `auth_emulator`. Missing tables are created at start;
    /// existing rows are kept. Exclusive with [`db_path`](Self::db_path).
    pub fn database_url(mut self, url: Option<impl Into<String>>) -> Self {
        self.database_url = url.map(Into::into);
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

    /// Whether changing the password from a session older than 24 h needs the nonce
    /// from `GET /reauthenticate` (`GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION`,
    /// the CLI's `[auth.email] secure_password_change`). Default false.
    pub fn secure_password_change(mut self, on: bool) -> Self {
        self.secure_password_change = on;
        self
    }

    /// Length of email OTPs (`[auth.email] otp_length`, `GOTRUE_MAILER_OTP_LENGTH`).
    /// GoTrue takes 6 to 10 digits and replaces any other length with 6; so does this.
    /// Default 6.
    pub fn otp_length(mut self, digits: usize) -> Self {
        self.otp_length = if (6..=10).contains(&digits) {
            digits
        } else {
            6
        };
        self
    }

    /// Whether the email provider is on (`[auth.email] enable_signup`,
    /// `GOTRUE_EXTERNAL_EMAIL_ENABLED`). Off, GoTrue refuses more than sign-ups: email
    /// sign-up is 400 `email_provider_disabled`, the password grant and magic links
    /// 422 `email_provider_disabled`, `/recover` and `/resend` 400. Default true.
    pub fn email_provider(mut self, on: bool) -> Self {
        self.email_provider = on;
        self
    }

    /// Whether the phone provider is on (`[auth.sms] enable_signup`,
    /// `GOTRUE_EXTERNAL_PHONE_ENABLED`): phone sign-ups and sign-ins, their SMS codes
    /// delivered to the inbox. Default true here, false in
    /// [`EmulatorConfig::supabase_cli_defaults`].
    pub fn phone_provider(mut self, on: bool) -> Self {
        self.phone_provider = on;
        self
    }

    /// Whether phone sign-ups are confirmed at once (`GOTRUE_SMS_AUTOCONFIRM`, the
    /// opposite of `[auth.sms] enable_confirmations`). Default true, as in
    /// [`EmulatorConfig::supabase_cli_defaults`].
    pub fn phone_autoconfirm(mut self, on: bool) -> Self {
        self.phone_autoconfirm = on;
        self
    }

    /// Turns one OAuth provider of the built-in consent page on or off
    /// (`[auth.external.<name>] enabled`). `/authorize` with a provider that is off
    /// answers GoTrue's 400 `validation_failed` "Unsupported provider: provider is not
    /// enabled". Default: all of `apple, azure, bitbucket, discord, facebook, figma,
    /// github, gitlab, google, keycloak, linkedin_oidc, notion, slack_oidc, spotify,
    /// twitch, twitter, workos, zoom`; none in [`EmulatorConfig::supabase_cli_defaults`].
    pub fn external_provider(mut self, name: &str, on: bool) -> Self {
        let name = name.to_ascii_lowercase();
        if on {
            self.external_providers.insert(name);
        } else {
            self.external_providers.remove(&name);
        }
        self
    }

    /// Exactly these OAuth providers on, every other one off (see
    /// [`EmulatorConfig::external_provider`]).
    pub fn external_providers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.external_providers = names
            .into_iter()
            .map(|n| n.as_ref().to_ascii_lowercase())
            .collect();
        self
    }

    /// Whether users may enrol TOTP factors (`[auth.mfa.totp] enroll_enabled`); off,
    /// `POST /factors` answers 422 `mfa_totp_enroll_not_enabled`. Default true here,
    /// false in [`EmulatorConfig::supabase_cli_defaults`].
    pub fn mfa_totp_enroll(mut self, on: bool) -> Self {
        self.mfa_totp_enroll = on;
        self
    }

    /// Whether TOTP factors may be challenged and verified (`[auth.mfa.totp]
    /// verify_enabled`); off, those answer 422 `mfa_totp_verify_not_enabled`. Default
    /// true here, false in [`EmulatorConfig::supabase_cli_defaults`].
    pub fn mfa_totp_verify(mut self, on: bool) -> Self {
        self.mfa_totp_verify = on;
        self
    }

    /// The Supabase CLI's defaults: what `supabase start` runs with the `config.toml`
    /// that `supabase init` writes (`pkg/config/templates/config.toml` of
    /// `supabase/cli`), otherwise [`EmulatorConfig::default`].
    ///
    /// They differ from [`EmulatorConfig::default`] in: anonymous sign-ins off
    /// (`enable_anonymous_sign_ins = false`), no OAuth provider on, TOTP MFA off
    /// (`[auth.mfa.totp] enroll_enabled = verify_enabled = false`), manual linking off
    /// (`enable_manual_linking = false`), the redirect allow
    /// list `["https://127.0.0.1:3000"]` (`additional_redirect_urls`), and the phone
    /// provider off (`[auth.sms] enable_signup = false`). The rest is the same:
    /// sign-ups on, email autoconfirm on, secure email change on, secure password
    /// change off, 1 s email frequency, 6-digit OTPs valid 3600 s, 3600 s access
    /// tokens, a 10 s refresh-token reuse interval, site URL `http://127.0.0.1:3000`.
    /// The port stays 0 (any free one) and the bcrypt cost 4; the binary uses 54321
    /// and 10.
    pub fn supabase_cli_defaults() -> Self {
        crate::settings::cli_defaults(Self::default())
    }

    /// [`EmulatorConfig::supabase_cli_defaults`] with the `[auth]` settings of a
    /// Supabase CLI `supabase/config.toml` (its text) applied.
    ///
    /// Other sections (`[api]`, `[db]`, `[studio]`, ...) and unsupported keys are
    /// ignored; `"env(NAME)"` values are read from the environment as the CLI does.
    /// The supported keys are listed in the crate's README ("Settings").
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for text that is not TOML, or a
    /// supported key with a value of the wrong type; the message names the key.
    ///
    /// ```
    /// use supabase_auth_emulator::EmulatorConfig;
    ///
    /// let config = EmulatorConfig::from_supabase_config(
    ///     "[auth]\nenable_anonymous_sign_ins = true\n[auth.email]\notp_length = 8\n",
    /// )?;
    /// # let _ = config;
    /// # Ok::<(), supabase_auth_emulator::EmulatorError>(())
    /// ```
    pub fn from_supabase_config(toml_text: &str) -> Result<Self, EmulatorError> {
        crate::settings::apply(Self::supabase_cli_defaults(), toml_text, &|name| {
            std::env::var(name).ok()
        })
    }

    /// Reads `path` (usually `supabase/config.toml`) with
    /// [`EmulatorConfig::from_supabase_config`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the file cannot be read or
    /// has a wrong value; the message starts with the path.
    pub fn from_config_file(path: impl AsRef<Path>) -> Result<Self, EmulatorError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            EmulatorError::with_source(
                crate::ErrorKind::Config,
                format!("cannot read {}", path.display()),
                e,
            )
        })?;
        Self::from_supabase_config(&text).map_err(|e| e.in_file(path))
    }

    /// Least time between two SMS codes of a kind to one user (`[auth.sms]
    /// max_frequency`, `GOTRUE_SMS_MAX_FREQUENCY`); a sooner one is 429
    /// `over_sms_send_rate_limit`. Zero turns the check off. Default 5 s, as the CLI.
    pub fn sms_max_frequency(mut self, every: Duration) -> Self {
        self.sms_max_frequency = every;
        self
    }

    /// Lifetime of SMS codes (`GOTRUE_SMS_OTP_EXP`). Default 6000 s, what the Supabase
    /// CLI sets.
    pub fn sms_otp_exp(mut self, exp: Duration) -> Self {
        self.sms_otp_exp = exp;
        self
    }

    /// Whether signed-in users may link and unlink identities themselves
    /// (`GOTRUE_SECURITY_MANUAL_LINKING_ENABLED`, the CLI's `[auth] enable_manual_linking`):
    /// `GET /user/identities/authorize` (auth-js `linkIdentity`) and
    /// `DELETE /user/identities/{id}` (`unlinkIdentity`); off, both answer 404
    /// `manual_linking_disabled`. Default true here, false in
    /// [`EmulatorConfig::supabase_cli_defaults`].
    pub fn manual_linking(mut self, on: bool) -> Self {
        self.manual_linking = on;
        self
    }
}

/// A connection URL without its password, for `Debug` output and banners.
pub(crate) fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            // `?password=` is another place a libpq URL can hold it.
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "password" {
                        "***".into()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            if !pairs.is_empty() {
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        Err(_) => "(not a URL)".into(),
    }
}
