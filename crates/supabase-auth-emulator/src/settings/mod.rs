//! The Supabase CLI's `supabase/config.toml`, `[auth]` part: its defaults and what
//! each key means for the emulator.
//!
//! Read from the CLI's own code (`supabase/cli`, `apps/cli-go/pkg/config/`): the
//! defaults are the values of `templates/config.toml`, which the CLI merges under the
//! project's file; the types and the decoding (`env(NAME)`, weak typing, Go durations)
//! are those of `auth.go` and `config.go`; `internal/start/start.go` says which GoTrue
//! variable each key becomes, and GoTrue's `internal/conf/configuration.go` how it
//! reads zero and out-of-range values. Pure: no file or process environment access.

mod value;

#[cfg(test)]
mod tests;

use std::time::Duration;

use toml::Table;

use crate::EmulatorConfig;
use crate::error::{EmulatorError, ErrorKind};
pub(crate) use value::EnvLookup;
use value::{Section, config_error};

/// OAuth providers GoTrue knows (`internal/api/external.go`, `Provider`); only these
/// can be turned on from `[auth.external.<name>]`.
const GOTRUE_PROVIDERS: &[&str] = &[
    "apple",
    "azure",
    "bitbucket",
    "discord",
    "facebook",
    "figma",
    "fly",
    "github",
    "gitlab",
    "google",
    "kakao",
    "keycloak",
    "linkedin_oidc",
    "notion",
    "slack_oidc",
    "snapchat",
    "spotify",
    "twitch",
    "twitter",
    "vercel_marketplace",
    "workos",
    "x",
    "zoom",
];

/// Providers the CLI drops with a warning (`external.validate` in `config.go`).
const DEPRECATED_PROVIDERS: &[&str] = &["linkedin", "slack"];

/// SMS providers; without one enabled the CLI turns phone sign-ups off.
const SMS_PROVIDERS: &[&str] = &[
    "twilio",
    "twilio_verify",
    "messagebird",
    "textlocal",
    "vonage",
];

/// `base` with the template's values of every key the emulator supports.
pub(crate) fn cli_defaults(base: EmulatorConfig) -> EmulatorConfig {
    let mut c = base;
    // [auth]
    c.site_url = "http://127.0.0.1:3000".into();
    c.redirect_allow_list = vec!["https://127.0.0.1:3000".into()];
    c.jwt_exp = Duration::from_secs(3600);
    c.refresh_token_reuse_interval = Duration::from_secs(10);
    c.disable_signup = false; // enable_signup = true
    c.anonymous_sign_ins = false; // enable_anonymous_sign_ins = false
    c.manual_linking = false; // enable_manual_linking = false
    // [auth.email]
    c.email_provider = true; // enable_signup = true
    c.secure_email_change = true; // double_confirm_changes = true
    c.autoconfirm = true; // enable_confirmations = false
    c.secure_password_change = false;
    c.email_max_frequency = Duration::from_secs(1); // max_frequency = "1s"
    c.otp_length = 6;
    c.otp_exp = Duration::from_secs(3600); // otp_expiry = 3600
    // [auth.sms]
    c.phone_provider = false; // enable_signup = false
    c.phone_autoconfirm = true; // enable_confirmations = false
    c.sms_max_frequency = Duration::from_secs(5); // max_frequency = "5s"
    // [auth.external.apple] enabled = false, and no other provider.
    c.external_providers.clear();
    // [auth.mfa.totp]
    c.mfa_totp_enroll = false;
    c.mfa_totp_verify = false;
    c
}

/// `base` with the `[auth]` settings of `toml_text` applied; keys the file does not
/// name keep `base`'s value.
pub(crate) fn apply(
    base: EmulatorConfig,
    toml_text: &str,
    env: EnvLookup<'_>,
) -> Result<EmulatorConfig, EmulatorError> {
    let root: Table = toml::from_str(toml_text)
        .map_err(|e| EmulatorError::with_source(ErrorKind::Config, "not a valid TOML file", e))?;
    let root = Section {
        path: String::new(),
        table: &root,
        env,
    };
    let Some(auth) = root.table("auth")? else {
        return Ok(base);
    };
    let mut c = apply_auth(base, &auth)?;
    if let Some(email) = auth.table("email")? {
        c = apply_email(c, &email)?;
    }
    if let Some(sms) = auth.table("sms")? {
        c = apply_sms(c, &sms)?;
    }
    if let Some(external) = auth.table("external")? {
        c = apply_external(c, &external)?;
    }
    if let Some(mfa) = auth.table("mfa")?
        && let Some(totp) = mfa.table("totp")?
    {
        if let Some(on) = totp.bool("enroll_enabled")? {
            c.mfa_totp_enroll = on;
        }
        if let Some(on) = totp.bool("verify_enabled")? {
            c.mfa_totp_verify = on;
        }
    }
    if c.mfa_totp_enroll && !c.mfa_totp_verify {
        return Err(config_error(
            "auth.mfa.totp.enroll_enabled requires verify_enabled (as in the Supabase CLI)".into(),
        ));
    }
    Ok(c)
}

fn apply_auth(mut c: EmulatorConfig, auth: &Section<'_>) -> Result<EmulatorConfig, EmulatorError> {
    if let Some(url) = auth.string("site_url")? {
        if url.is_empty() {
            return Err(config_error(
                "auth.site_url: must not be empty (the Supabase CLI requires it)".into(),
            ));
        }
        c.site_url = url;
    }
    if let Some(urls) = auth.strings("additional_redirect_urls")? {
        c.redirect_allow_list = urls;
    }
    if let Some(secs) = auth.uint("jwt_expiry")? {
        // GoTrue reads 0 as its default, 3600.
        c.jwt_exp = Duration::from_secs(if secs == 0 { 3600 } else { secs });
    }
    if let Some(secs) = auth.uint("refresh_token_reuse_interval")? {
        c.refresh_token_reuse_interval = Duration::from_secs(secs);
    }
    if let Some(on) = auth.bool("enable_signup")? {
        c.disable_signup = !on;
    }
    if let Some(on) = auth.bool("enable_anonymous_sign_ins")? {
        c.anonymous_sign_ins = on;
    }
    if let Some(on) = auth.bool("enable_manual_linking")? {
        c.manual_linking = on;
    }
    Ok(c)
}

fn apply_email(
    mut c: EmulatorConfig,
    email: &Section<'_>,
) -> Result<EmulatorConfig, EmulatorError> {
    if let Some(on) = email.bool("enable_signup")? {
        c.email_provider = on;
    }
    if let Some(on) = email.bool("double_confirm_changes")? {
        c.secure_email_change = on;
    }
    if let Some(on) = email.bool("enable_confirmations")? {
        c.autoconfirm = !on;
    }
    if let Some(on) = email.bool("secure_password_change")? {
        c.secure_password_change = on;
    }
    if let Some(every) = email.duration("max_frequency")? {
        // GoTrue reads 0 as its default, one minute.
        c.email_max_frequency = if every.is_zero() {
            Duration::from_secs(60)
        } else {
            every
        };
    }
    if let Some(len) = email.uint("otp_length")? {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        c = c.otp_length(len);
    }
    if let Some(secs) = email.uint("otp_expiry")? {
        // GoTrue reads 0 as its default, one day.
        c.otp_exp = Duration::from_secs(if secs == 0 { 86_400 } else { secs });
    }
    Ok(c)
}

fn apply_sms(mut c: EmulatorConfig, sms: &Section<'_>) -> Result<EmulatorConfig, EmulatorError> {
    if let Some(on) = sms.bool("enable_confirmations")? {
        c.phone_autoconfirm = !on;
    }
    if let Some(every) = sms.duration("max_frequency")? {
        // GoTrue reads 0 as its default, one minute.
        c.sms_max_frequency = if every.is_zero() {
            Duration::from_secs(60)
        } else {
            every
        };
    }
    if let Some(on) = sms.bool("enable_signup")? {
        let mut provider = false;
        for name in SMS_PROVIDERS {
            if let Some(p) = sms.table(name)? {
                provider |= p.bool("enabled")?.unwrap_or(false);
            }
        }
        if on && !provider {
            tracing::warn!(
                "[auth.sms] enable_signup = true but no SMS provider is enabled: phone sign-ups \
                 stay off, as with the Supabase CLI (`--phone-signup` turns them on)"
            );
        }
        c.phone_provider = on && provider;
    }
    Ok(c)
}

fn apply_external(
    mut c: EmulatorConfig,
    external: &Section<'_>,
) -> Result<EmulatorConfig, EmulatorError> {
    for name in external.table.keys() {
        let Some(provider) = external.table(name)? else {
            continue;
        };
        // A provider table without `enabled` is off (the CLI decodes into zero values).
        let on = provider.bool("enabled")?.unwrap_or(false);
        let lower = name.to_ascii_lowercase();
        if DEPRECATED_PROVIDERS.contains(&lower.as_str()) {
            if on {
                tracing::warn!(
                    "[auth.external.{name}] is deprecated and stays off, as with the Supabase \
                     CLI; use [auth.external.{name}_oidc]"
                );
            }
            c.external_providers.remove(&lower);
        } else if GOTRUE_PROVIDERS.contains(&lower.as_str()) {
            c = c.external_provider(&lower, on);
        } else if on {
            tracing::warn!("[auth.external.{name}]: GoTrue has no such provider; ignored");
        }
    }
    Ok(c)
}
