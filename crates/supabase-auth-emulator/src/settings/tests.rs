//! The `config.toml` reader against the CLI template, `env()`, wrong types and GoTrue's
//! reading of zero values.

use std::collections::BTreeSet;
use std::time::Duration;

use super::value::parse_go_duration;
use super::{apply, cli_defaults};
use crate::{EmulatorConfig, ErrorKind};

const TEMPLATE: &str = include_str!("../../tests/fixtures/supabase_config.toml");

fn no_env(_: &str) -> Option<String> {
    None
}

fn read(text: &str) -> EmulatorConfig {
    match apply(cli_defaults(EmulatorConfig::default()), text, &no_env) {
        Ok(c) => c,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn error(text: &str) -> String {
    match apply(cli_defaults(EmulatorConfig::default()), text, &no_env) {
        Ok(c) => panic!("{text}: accepted as {c:?}"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Config);
            e.to_string()
        }
    }
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_string()).collect()
}

/// Every supported setting the other way round from the CLI's defaults.
fn contrary() -> EmulatorConfig {
    EmulatorConfig {
        site_url: "https://elsewhere.example".into(),
        redirect_allow_list: vec!["https://x.example/**".into()],
        jwt_exp: Duration::from_secs(60),
        refresh_token_reuse_interval: Duration::from_secs(1),
        disable_signup: true,
        anonymous_sign_ins: true,
        email_provider: false,
        secure_email_change: false,
        autoconfirm: false,
        secure_password_change: true,
        email_max_frequency: Duration::from_secs(30),
        otp_length: 8,
        otp_exp: Duration::from_secs(60),
        phone_provider: true,
        phone_autoconfirm: false,
        external_providers: BTreeSet::new(),
        mfa_totp_enroll: true,
        mfa_totp_verify: true,
        manual_linking: true,
        ..EmulatorConfig::default()
    }
}

#[test]
fn the_cli_template_gives_the_cli_defaults() {
    let defaults = EmulatorConfig::supabase_cli_defaults();
    // From settings that are all different, the template's keys alone lead back.
    let from_template = match apply(contrary(), TEMPLATE, &no_env) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(format!("{from_template:?}"), format!("{defaults:?}"));
    assert_eq!(
        format!("{:?}", read(TEMPLATE)),
        format!("{:?}", EmulatorConfig::supabase_cli_defaults())
    );
    // An empty file, or an empty [auth], is the defaults too.
    assert_eq!(format!("{:?}", read("")), format!("{defaults:?}"));
    assert_eq!(format!("{:?}", read("[auth]\n")), format!("{defaults:?}"));
}

#[test]
fn cli_defaults_differ_from_the_test_defaults_where_documented() {
    let cli = EmulatorConfig::supabase_cli_defaults();
    let test = EmulatorConfig::default();
    assert!(!cli.anonymous_sign_ins && test.anonymous_sign_ins);
    assert!(cli.external_providers.is_empty());
    assert_eq!(test.external_providers.len(), 18);
    assert!(test.external_providers.contains("github"));
    assert!(!cli.mfa_totp_enroll && !cli.mfa_totp_verify);
    assert!(test.mfa_totp_enroll && test.mfa_totp_verify);
    assert_eq!(cli.redirect_allow_list, vec!["https://127.0.0.1:3000"]);
    assert!(test.redirect_allow_list.is_empty());
    assert!(!cli.phone_provider && test.phone_provider);
    assert!(!cli.manual_linking && test.manual_linking);
    // The rest is the same.
    let mut cli_like = cli;
    cli_like.anonymous_sign_ins = true;
    cli_like.external_providers = test.external_providers.clone();
    cli_like.mfa_totp_enroll = true;
    cli_like.mfa_totp_verify = true;
    cli_like.redirect_allow_list = Vec::new();
    cli_like.phone_provider = true;
    cli_like.manual_linking = true;
    assert_eq!(format!("{cli_like:?}"), format!("{test:?}"));
}

#[test]
fn every_key_changes_its_setting() {
    let c = read(
        r#"
[auth]
site_url = "http://localhost:5173"
additional_redirect_urls = ["http://localhost:5173/**", "myapp://callback"]
jwt_expiry = 120
refresh_token_reuse_interval = 3
enable_signup = false
enable_anonymous_sign_ins = true

[auth.email]
enable_signup = false
double_confirm_changes = false
enable_confirmations = true
secure_password_change = true
max_frequency = "1m30s"
otp_length = 8
otp_expiry = 600

[auth.sms]
enable_signup = true
enable_confirmations = true
max_frequency = "10s"

[auth.sms.twilio]
enabled = true

[auth.external.github]
enabled = true

[auth.external.x]
enabled = true

[auth.mfa.totp]
enroll_enabled = true
verify_enabled = true
"#,
    );
    assert_eq!(c.site_url, "http://localhost:5173");
    assert_eq!(
        c.redirect_allow_list,
        vec!["http://localhost:5173/**", "myapp://callback"]
    );
    assert_eq!(c.jwt_exp, Duration::from_secs(120));
    assert_eq!(c.refresh_token_reuse_interval, Duration::from_secs(3));
    assert!(c.disable_signup);
    assert!(c.anonymous_sign_ins);
    assert!(!c.email_provider);
    assert!(!c.secure_email_change);
    assert!(!c.autoconfirm);
    assert!(c.secure_password_change);
    assert_eq!(c.email_max_frequency, Duration::from_secs(90));
    assert_eq!(c.otp_length, 8);
    assert_eq!(c.otp_exp, Duration::from_secs(600));
    assert!(c.phone_provider);
    assert!(!c.phone_autoconfirm);
    assert_eq!(c.sms_max_frequency, Duration::from_secs(10));
    assert_eq!(c.external_providers, set(&["github", "x"]));
    assert!(c.mfa_totp_enroll && c.mfa_totp_verify);
    // Settings the file does not touch keep their value.
    assert_eq!(c.port, 0);
    assert_eq!(c.bcrypt_cost, 4);
}

#[test]
fn env_values_come_from_the_environment() {
    let env = |name: &str| match name {
        "SITE" => Some("http://app.test:8080".to_string()),
        "SIGNUP" => Some("false".to_string()),
        "OTP_LEN" => Some("7".to_string()),
        "URLS" => Some("http://a.test/**,http://b.test".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    let text = r#"
[auth]
site_url = "env(SITE)"
additional_redirect_urls = "env(URLS)"
enable_signup = "env(SIGNUP)"
[auth.email]
otp_length = "env(OTP_LEN)"
[auth.external.github]
enabled = true
secret = "env(GITHUB_SECRET)"
"#;
    let c = match apply(EmulatorConfig::supabase_cli_defaults(), text, &env) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(c.site_url, "http://app.test:8080");
    assert_eq!(
        c.redirect_allow_list,
        vec!["http://a.test/**", "http://b.test"]
    );
    assert!(c.disable_signup);
    assert_eq!(c.otp_length, 7);
    assert_eq!(c.external_providers, set(&["github"]));

    // An unset (or empty) variable leaves the text as written, as in the CLI: fine for
    // a string, an error naming the key and the variable for anything else.
    let literal = match apply(
        EmulatorConfig::supabase_cli_defaults(),
        "[auth]\nsite_url = \"env(EMPTY)\"\n",
        &env,
    ) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(literal.site_url, "env(EMPTY)");
    assert_eq!(
        error("[auth]\nenable_anonymous_sign_ins = \"env(ANON)\"\n"),
        "auth.enable_anonymous_sign_ins: expected a boolean, found string \"env(ANON)\" \
         (the environment variable ANON is not set)"
    );
}

#[test]
fn a_wrong_type_is_an_error_naming_the_key() {
    assert_eq!(
        error("[auth.email]\notp_length = \"six\"\n"),
        "auth.email.otp_length: expected a non-negative integer, found string \"six\""
    );
    assert_eq!(
        error("[auth]\nenable_signup = \"yes\"\n"),
        "auth.enable_signup: expected a boolean, found string \"yes\""
    );
    assert_eq!(
        error("[auth]\njwt_expiry = -1\n"),
        "auth.jwt_expiry: expected a non-negative integer, found integer -1"
    );
    assert_eq!(
        error("[auth]\nsite_url = [\"a\"]\n"),
        "auth.site_url: expected a string, found an array"
    );
    assert_eq!(
        error("[auth]\nadditional_redirect_urls = [\"http://a.test\", [1]]\n"),
        "auth.additional_redirect_urls[1]: expected a string, found an array"
    );
    assert_eq!(
        error("[auth.email]\nmax_frequency = \"10\"\n"),
        "auth.email.max_frequency: expected a duration such as \"1s\" or \"1m30s\", \
         found string \"10\""
    );
    assert_eq!(
        error("auth = 5\n"),
        "auth: expected a table, found integer 5"
    );
    assert_eq!(
        error("[auth]\nemail = \"on\"\n"),
        "auth.email: expected a table, found string \"on\""
    );
    assert_eq!(
        error("[auth.external]\ngithub = true\n"),
        "auth.external.github: expected a table, found boolean true"
    );
    assert_eq!(
        error("[auth.external.github]\nenabled = 1.5\n"),
        "auth.external.github.enabled: expected a boolean, found float 1.5"
    );
}

#[test]
fn malformed_toml_is_an_error_not_a_panic() {
    for text in [
        "[auth",
        "[auth]\nsite_url = \n",
        "[auth]\na = 1\na = 2\n",
        "\u{0}",
    ] {
        let message = error(text);
        assert!(message.starts_with("not a valid TOML file: "), "{message}");
    }
}

#[test]
fn the_cli_rules_hold() {
    assert_eq!(
        error("[auth]\nsite_url = \"\"\n"),
        "auth.site_url: must not be empty (the Supabase CLI requires it)"
    );
    assert_eq!(
        error("[auth.mfa.totp]\nenroll_enabled = true\n"),
        "auth.mfa.totp.enroll_enabled requires verify_enabled (as in the Supabase CLI)"
    );
    let verify_only = read("[auth.mfa.totp]\nverify_enabled = true\n");
    assert!(!verify_only.mfa_totp_enroll && verify_only.mfa_totp_verify);
    // Phone sign-ups need an SMS provider.
    assert!(!read("[auth.sms]\nenable_signup = true\n").phone_provider);
    assert!(
        read("[auth.sms]\nenable_signup = true\n[auth.sms.vonage]\nenabled = true\n")
            .phone_provider
    );
    // Deprecated and unknown providers stay off; a table without `enabled` is off.
    let c = read(
        "[auth.external.slack]\nenabled = true\n[auth.external.myspace]\nenabled = true\n\
         [auth.external.google]\nclient_id = \"x\"\n[auth.external.GitLab]\nenabled = true\n",
    );
    assert_eq!(c.external_providers, set(&["gitlab"]));
    // Over the test defaults, a provider turned off leaves the others on.
    let over_default = match apply(
        EmulatorConfig::default(),
        "[auth.external.github]\nenabled = false\n",
        &no_env,
    ) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert!(!over_default.external_providers.contains("github"));
    assert!(over_default.external_providers.contains("google"));
}

#[test]
fn gotrue_reads_zero_and_out_of_range_values_as_its_defaults() {
    let c = read(
        "[auth]\njwt_expiry = 0\n[auth.email]\notp_expiry = 0\nmax_frequency = \"0s\"\notp_length = 4\n",
    );
    assert_eq!(c.jwt_exp, Duration::from_secs(3600));
    assert_eq!(c.otp_exp, Duration::from_secs(86_400));
    assert_eq!(c.email_max_frequency, Duration::from_secs(60));
    assert_eq!(c.otp_length, 6);
    assert_eq!(read("[auth.email]\notp_length = 11\n").otp_length, 6);
    assert_eq!(read("[auth.email]\notp_length = 10\n").otp_length, 10);
}

#[test]
fn values_are_weakly_typed_as_in_the_cli() {
    let c = read(
        "[auth]\nenable_signup = \"false\"\njwt_expiry = \"90\"\nsite_url = 5\n\
         additional_redirect_urls = \"http://a.test,http://b.test\"\n\
         [auth.email]\nenable_confirmations = 1\nmax_frequency = 2000000000\n",
    );
    assert!(c.disable_signup);
    assert_eq!(c.jwt_exp, Duration::from_secs(90));
    assert_eq!(c.site_url, "5");
    assert_eq!(
        c.redirect_allow_list,
        vec!["http://a.test", "http://b.test"]
    );
    assert!(!c.autoconfirm);
    // A bare integer is nanoseconds, as a Go duration.
    assert_eq!(c.email_max_frequency, Duration::from_secs(2));
    assert!(
        read("[auth]\nadditional_redirect_urls = \"\"\n")
            .redirect_allow_list
            .is_empty()
    );
}

#[test]
fn unknown_sections_and_keys_are_ignored() {
    let c = read(
        r#"
some_top_level = 1
[api]
port = "not a number, but not ours"
[auth]
enable_refresh_token_rotation = "whatever"
jwt_issuer = 7
new_key_from_a_future_cli = { a = 1 }
[auth.hook.send_email]
enabled = true
uri = "http://host.docker.internal:54321/functions/v1/email"
[auth.captcha]
enabled = true
provider = "hcaptcha"
[auth.mfa.web_authn]
enroll_enabled = true
[auth.third_party.clerk]
enabled = true
[studio]
enabled = false
"#,
    );
    assert_eq!(
        format!("{c:?}"),
        format!("{:?}", EmulatorConfig::supabase_cli_defaults())
    );
}

#[test]
fn go_durations() {
    let ms = Duration::from_millis;
    assert_eq!(parse_go_duration("1s"), Some(ms(1000)));
    assert_eq!(parse_go_duration("1m30s"), Some(ms(90_000)));
    assert_eq!(parse_go_duration("500ms"), Some(ms(500)));
    assert_eq!(parse_go_duration("1.5h"), Some(ms(5_400_000)));
    assert_eq!(parse_go_duration(".5s"), Some(ms(500)));
    assert_eq!(parse_go_duration("+2m"), Some(ms(120_000)));
    assert_eq!(parse_go_duration("3us"), Some(Duration::from_micros(3)));
    assert_eq!(parse_go_duration("3µs"), Some(Duration::from_micros(3)));
    assert_eq!(parse_go_duration("7ns"), Some(Duration::from_nanos(7)));
    assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
    assert_eq!(parse_go_duration("-1s"), Some(Duration::ZERO));
    for bad in [
        "",
        "10",
        "s",
        "1x",
        "1.s.",
        "--1s",
        "1s-",
        "99999999999999999999999h",
    ] {
        assert_eq!(parse_go_duration(bad), None, "{bad}");
    }
}
