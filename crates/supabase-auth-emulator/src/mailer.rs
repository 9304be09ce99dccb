//! "Sending" email and SMS: rendering the message and putting it in the inbox.

use crate::store::Db;
use axum::http::StatusCode;

use crate::Email;
use crate::routes::error::ApiError;
use crate::state::AppState;
use crate::util::{html_escape, otp_code, sha224_hex};

/// Kinds of email, named as the verification `type` their link carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MailKind {
    Signup,
    Magiclink,
    Recovery,
    EmailChange,
    Invite,
    /// The nonce of `GET /reauthenticate`: a code, no link.
    Reauthentication,
}

impl MailKind {
    /// The `type` in the link and in [`Email::kind`].
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MailKind::Signup => "signup",
            MailKind::Magiclink => "magiclink",
            MailKind::Recovery => "recovery",
            MailKind::EmailChange => "email_change",
            MailKind::Invite => "invite",
            MailKind::Reauthentication => "reauthentication",
        }
    }

    /// The hosted project's default subjects (what `supabase link` shows), which the
    /// emulator uses for every kind.
    fn subject(self) -> &'static str {
        match self {
            MailKind::Signup => "Confirm Your Signup",
            MailKind::Magiclink => "Your Magic Link",
            MailKind::Recovery => "Reset Your Password",
            MailKind::EmailChange => "Confirm Email Change",
            MailKind::Invite => "You have been invited",
            MailKind::Reauthentication => "Confirm Reauthentication",
        }
    }

    fn intro(self) -> &'static str {
        match self {
            MailKind::Signup => "Follow this link to confirm your email address:",
            MailKind::Magiclink => "Follow this link to sign in:",
            MailKind::Recovery => "Follow this link to reset the password for your account:",
            MailKind::EmailChange => {
                "Follow this link to confirm the change of your email address:"
            }
            MailKind::Invite => {
                "You have been invited to create an account. Follow this link to accept:"
            }
            MailKind::Reauthentication => "Enter the code:",
        }
    }
}

/// A fresh OTP and its hash for `address`; the stored/sent hash gets `pkce_` in PKCE flows.
pub(crate) fn new_token(st: &AppState, address: &str, pkce: bool) -> (String, String) {
    let otp = otp_code(st.config.otp_length);
    let hash = sha224_hex(&format!("{}{otp}", address.to_lowercase()));
    let hash = if pkce { format!("pkce_{hash}") } else { hash };
    (otp, hash)
}

/// 429 when the previous email of this kind went out less than `email_max_frequency` ago.
pub(crate) fn check_frequency(st: &AppState, last_sent: Option<i64>) -> Result<(), ApiError> {
    check_window(
        st,
        last_sent,
        st.config.email_max_frequency,
        "over_email_send_rate_limit",
    )
}

/// 429 `code` when `last_sent` is less than `every` ago (GoTrue's
/// `generateFrequencyLimitErrorMessage`); a zero `every` never limits.
pub(crate) fn check_window(
    st: &AppState,
    last_sent: Option<i64>,
    every: std::time::Duration,
    code: &'static str,
) -> Result<(), ApiError> {
    let window = i64::try_from(every.as_micros()).unwrap_or(i64::MAX);
    let Some(last) = last_sent else { return Ok(()) };
    let next_allowed = last.saturating_add(window);
    let now = st.now();
    if window > 0 && now < next_allowed {
        let wait = (next_allowed - now + 999_999) / 1_000_000;
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            code,
            format!("For security purposes, you can only request this after {wait} seconds."),
        ));
    }
    Ok(())
}

/// The email action link: `<auth>/verify?token=<hash>&type=<kind>&redirect_to=<url>`.
pub(crate) fn action_link(
    st: &AppState,
    kind: MailKind,
    token_hash: &str,
    redirect_to: &str,
) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token_hash)
        .append_pair("type", kind.as_str())
        .append_pair("redirect_to", redirect_to)
        .finish();
    format!("{}/verify?{query}", st.auth_url())
}

/// Renders an email with its action link and stores it in the inbox.
pub(crate) fn send(
    st: &AppState,
    c: &Db<'_>,
    kind: MailKind,
    to: &str,
    otp: &str,
    token_hash: &str,
    redirect_to: &str,
) -> Result<Email, ApiError> {
    let link = action_link(st, kind, token_hash, redirect_to);
    let html = format!(
        "<h2>{subject}</h2>\n<p>{intro}</p>\n<p><a href=\"{link}\">{subject}</a></p>\n\
         <p>Or enter this code: <strong>{otp}</strong></p>\n",
        subject = html_escape(kind.subject()),
        intro = html_escape(kind.intro()),
        link = html_escape(&link),
        otp = html_escape(otp),
    );
    store(
        st,
        c,
        Email {
            token_hash: token_hash.into(),
            link,
            redirect_to: redirect_to.into(),
            ..email(kind, to, otp, html)
        },
    )
}

/// An email of `kind` to `to` with its code and markup, without a link.
fn email(kind: MailKind, to: &str, otp: &str, html: String) -> Email {
    Email {
        id: crate::util::new_uuid(),
        to: to.to_lowercase(),
        subject: kind.subject().into(),
        kind: kind.as_str().into(),
        otp: otp.into(),
        token_hash: String::new(),
        link: String::new(),
        redirect_to: String::new(),
        html,
        sent_at: String::new(),
        channel: "email".into(),
        body: String::new(),
    }
}

/// The reauthentication email: only the code (GoTrue's template has no link, and no
/// `/verify` type takes its hash, so neither is stored).
pub(crate) fn send_reauthentication(
    st: &AppState,
    c: &Db<'_>,
    to: &str,
    otp: &str,
) -> Result<Email, ApiError> {
    let kind = MailKind::Reauthentication;
    let html = format!(
        "<h2>{subject}</h2>\n<p>{intro} <strong>{otp}</strong></p>\n",
        subject = html_escape(kind.subject()),
        intro = html_escape(kind.intro()),
        otp = html_escape(otp),
    );
    store(st, c, email(kind, to, otp, html))
}

/// GoTrue's default SMS template (`GOTRUE_SMS_TEMPLATE` unset, and the CLI's).
pub(crate) fn sms_text(otp: &str) -> String {
    format!("Your code is {otp}")
}

/// "Sends" an SMS: the inbox gets a message to `+<phone>` whose `kind` is the
/// verification type its code is for (`sms`, `phone_change`), `channel` the channel
/// asked for and `body` the text.
pub(crate) fn send_sms(
    st: &AppState,
    c: &Db<'_>,
    kind: &str,
    phone: &str,
    otp: &str,
    channel: &str,
) -> Result<Email, ApiError> {
    let body = sms_text(otp);
    store(
        st,
        c,
        Email {
            id: crate::util::new_uuid(),
            to: format!("+{phone}"),
            subject: String::new(),
            kind: kind.into(),
            otp: otp.into(),
            token_hash: String::new(),
            link: String::new(),
            redirect_to: String::new(),
            html: format!("<p>{}</p>\n", html_escape(&body)),
            sent_at: String::new(),
            channel: channel.into(),
            body,
        },
    )
}

/// Stamps the email with the emulator clock and puts it in the inbox.
fn store(st: &AppState, c: &Db<'_>, mut email: Email) -> Result<Email, ApiError> {
    let now = st.now();
    email.sent_at = crate::util::format_time(now);
    crate::store::mail::insert(c, &email, now)?;
    tracing::info!(to = %email.to, kind = %email.kind, channel = %email.channel, "message added to the inbox");
    Ok(email)
}
