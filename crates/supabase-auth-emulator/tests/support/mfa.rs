//! MFA helpers: a signed-in user, TOTP codes from the same crate the emulator uses,
//! and the `/factors` calls.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use totp_rs::{Builder, Secret};

use super::{Api, Res, jwt_part};

pub(crate) const PASSWORD: &str = "secret123";

/// A user signed in once, and the emulator clock offset the test has applied.
pub(crate) struct User {
    pub(crate) email: String,
    pub(crate) session: Value,
    pub(crate) offset: i64,
}

impl User {
    pub(crate) fn token(&self) -> &str {
        self.session["access_token"].as_str().unwrap()
    }
}

pub(crate) async fn user(api: &Api, email: &str) -> User {
    User {
        email: email.into(),
        session: api.signup(email, PASSWORD).await,
        offset: 0,
    }
}

pub(crate) fn wall_secs() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// The emulator's "now" in seconds, at least 5 s before the end of a 30 s step, so a
/// code computed now is checked within the same step.
pub(crate) async fn step_safe_now(offset: i64) -> u64 {
    loop {
        let t = wall_secs() + offset;
        if t.rem_euclid(30) < 25 {
            return u64::try_from(t).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The TOTP code of `secret` at `t` (the same crate the emulator uses).
pub(crate) fn code(secret: &str, t: u64) -> String {
    Builder::new()
        .with_secret(Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(t)
        .to_string()
}

/// A six-digit code that is none of the codes accepted at `t`.
pub(crate) fn wrong_code(secret: &str, t: u64) -> String {
    let valid = [code(secret, t - 30), code(secret, t), code(secret, t + 30)];
    (0..)
        .map(|n| format!("{n:06}"))
        .find(|c| !valid.contains(c))
        .unwrap()
}

pub(crate) async fn enroll(api: &Api, token: &str, name: &str) -> Res {
    api.post_as(
        "/factors",
        token,
        json!({ "factor_type": "totp", "friendly_name": name }),
    )
    .await
}

/// Enrols a TOTP factor; returns `(factor_id, secret)`.
pub(crate) async fn enrolled(api: &Api, token: &str, name: &str) -> (String, String) {
    let res = enroll(api, token, name).await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    (
        res.body["id"].as_str().unwrap().into(),
        res.body["totp"]["secret"].as_str().unwrap().into(),
    )
}

pub(crate) async fn challenge(api: &Api, token: &str, factor: &str) -> String {
    let res = api
        .post_as(&format!("/factors/{factor}/challenge"), token, json!({}))
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    res.body["id"].as_str().unwrap().into()
}

pub(crate) async fn verify(
    api: &Api,
    token: &str,
    factor: &str,
    challenge_id: &str,
    code: &str,
) -> Res {
    api.post_as(
        &format!("/factors/{factor}/verify"),
        token,
        json!({ "challenge_id": challenge_id, "code": code }),
    )
    .await
}

/// Enrols, challenges and verifies with the right code; returns `(factor_id, secret, session)`.
pub(crate) async fn verified(api: &Api, u: &User, name: &str) -> (String, String, Value) {
    let (factor, secret) = enrolled(api, u.token(), name).await;
    let ch = challenge(api, u.token(), &factor).await;
    let t = step_safe_now(u.offset).await;
    let res = verify(api, u.token(), &factor, &ch, &code(&secret, t)).await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    (factor, secret, res.body)
}

pub(crate) fn error(res: &Res) -> (u16, &str, &str) {
    (
        res.status,
        res.body["error_code"].as_str().unwrap_or(""),
        res.body["msg"].as_str().unwrap_or(""),
    )
}

pub(crate) fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

pub(crate) fn claims(session: &Value) -> Value {
    jwt_part(session["access_token"].as_str().unwrap(), 1)
}
