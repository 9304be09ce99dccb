//! One method per Auth endpoint, each sending what auth-js 2.119.1 sends.
//!
//! Bodies are built as `serde_json` objects whose insertion order is auth-js's
//! property order; members auth-js leaves `undefined` are left out, `null` ones kept.

use serde_json::{Map, Value, json};

use super::AuthApi;
use super::request::Call;
use super::response::parse_error;
use super::types::{
    Identifier, JsonObject, OtpParams, SignOutScope, SignUpParams, SignUpResponse, VerifyResponse,
    has_session, has_user, user_of,
};
use crate::AuthError;
use crate::cookies::encode_uri_component;

/// `gotrue_meta_security` without a captcha token: `{}` once `undefined` is dropped.
fn meta_security() -> Value {
    Value::Object(Map::new())
}

/// auth-js sends the lowercase method name whenever it sends a challenge.
fn challenge_pair(code_challenge: Option<&str>) -> (Value, Value) {
    match code_challenge {
        Some(challenge) => (json!(challenge), json!("s256")),
        None => (Value::Null, Value::Null),
    }
}

/// auth-js `AuthInvalidTokenResponseError`: the answer must hold a session and a user.
fn require_session_and_user(body: JsonObject) -> Result<JsonObject, AuthError> {
    if has_session(&body) && has_user(&body) {
        Ok(body)
    } else {
        Err(AuthError::invalid_response("auth session or user missing"))
    }
}

impl AuthApi {
    /// `POST /token?grant_type=password`. Returns the token answer (with `user`, and
    /// `weak_password` when the server flags the password).
    pub(crate) async fn sign_in_with_password(
        &self,
        identifier: Identifier,
        password: &str,
    ) -> Result<JsonObject, AuthError> {
        let mut body = Map::new();
        match identifier {
            Identifier::Email(email) => body.insert("email".into(), json!(email)),
            Identifier::Phone(phone) => body.insert("phone".into(), json!(phone)),
        };
        body.insert("password".into(), json!(password));
        body.insert("gotrue_meta_security".into(), meta_security());
        let call = Call::post("/token?grant_type=password").json(Value::Object(body));
        let answer = self.send(&call, self.inner.request_timeout).await?;
        require_session_and_user(answer.json_object()?)
    }

    /// `POST /signup[?redirect_to=]` with an email address.
    pub(crate) async fn sign_up(&self, params: SignUpParams) -> Result<SignUpResponse, AuthError> {
        let (challenge, method) = challenge_pair(params.code_challenge.as_deref());
        let body = json!({
            "email": params.email,
            "password": params.password,
            "data": params.data.unwrap_or_default(),
            "gotrue_meta_security": meta_security(),
            "code_challenge": challenge,
            "code_challenge_method": method,
        });
        let call = Call::post("/signup")
            .redirect_to(params.redirect_to.as_deref())
            .json(body);
        let answer = self.send(&call, self.inner.request_timeout).await?;
        let body = answer.json_object()?;
        if has_session(&body) {
            return Ok(SignUpResponse::Session(body));
        }
        // auth-js: `data.user ?? (typeof data.id === 'string' ? data : null)`.
        let is_user = matches!(body.get("user"), Some(Value::Object(_)))
            || matches!(body.get("id"), Some(Value::String(_)));
        if is_user {
            Ok(SignUpResponse::User(user_of(body)?))
        } else {
            Err(AuthError::invalid_response(
                "sign-up answer has neither a session nor a user",
            ))
        }
    }

    /// `POST /otp[?redirect_to=]`: sends an email magic link or code.
    pub(crate) async fn sign_in_with_otp(&self, params: OtpParams) -> Result<(), AuthError> {
        let (challenge, method) = challenge_pair(params.code_challenge.as_deref());
        let body = json!({
            "email": params.email,
            "data": params.data.unwrap_or_default(),
            "create_user": params.create_user,
            "gotrue_meta_security": meta_security(),
            "code_challenge": challenge,
            "code_challenge_method": method,
        });
        let call = Call::post("/otp")
            .redirect_to(params.redirect_to.as_deref())
            .json(body);
        // auth-js ignores the body of an email OTP answer, but it must be JSON.
        self.send(&call, self.inner.request_timeout).await?.json()?;
        Ok(())
    }

    /// `POST /verify[?redirect_to=]`. The body is `params` as given (auth-js sends the
    /// whole params object, `options` included) plus `gotrue_meta_security`; the query
    /// `redirect_to` comes from `params.options.redirectTo`.
    pub(crate) async fn verify_otp(
        &self,
        mut params: JsonObject,
    ) -> Result<VerifyResponse, AuthError> {
        let redirect_to = params
            .get("options")
            .and_then(|o| o.get("redirectTo"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        // Like `{...params, gotrue_meta_security}`: an existing key keeps its place.
        params.insert("gotrue_meta_security".into(), meta_security());
        let call = Call::post("/verify")
            .redirect_to(redirect_to.as_deref())
            .json(Value::Object(params));
        let body = self
            .send(&call, self.inner.request_timeout)
            .await?
            .json_object()?;
        if has_session(&body) {
            Ok(VerifyResponse::Session(body))
        } else {
            Ok(VerifyResponse::Other(body))
        }
    }

    /// `POST /token?grant_type=pkce`: trades an auth code and its verifier for a session.
    pub(crate) async fn exchange_code(
        &self,
        auth_code: &str,
        code_verifier: &str,
    ) -> Result<JsonObject, AuthError> {
        let body = json!({ "auth_code": auth_code, "code_verifier": code_verifier });
        let call = Call::post("/token?grant_type=pkce").json(body);
        let answer = self.send(&call, self.inner.request_timeout).await?;
        require_session_and_user(answer.json_object()?)
    }

    /// The `GET /authorize` URL auth-js's `signInWithOAuth` builds (PKCE flow). No request
    /// is made.
    ///
    /// `provider`, `redirect_to` and `scopes` are encoded with `encodeURIComponent`, the
    /// PKCE pair and `query_params` with `URLSearchParams`, as auth-js does.
    pub(crate) fn authorize_url(
        &self,
        provider: &str,
        redirect_to: Option<&str>,
        scopes: Option<&str>,
        code_challenge: &str,
        query_params: &[(String, String)],
    ) -> String {
        let mut parts = vec![format!("provider={}", encode_uri_component(provider))];
        if let Some(redirect_to) = redirect_to.filter(|r| !r.is_empty()) {
            parts.push(format!("redirect_to={}", encode_uri_component(redirect_to)));
        }
        if let Some(scopes) = scopes.filter(|s| !s.is_empty()) {
            parts.push(format!("scopes={}", encode_uri_component(scopes)));
        }
        // auth-js runs the challenge through encodeURIComponent and then URLSearchParams.
        let mut flow = url::form_urlencoded::Serializer::new(String::new());
        flow.append_pair("code_challenge", &encode_uri_component(code_challenge));
        flow.append_pair("code_challenge_method", "s256");
        parts.push(flow.finish());
        if !query_params.is_empty() {
            let mut extra = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in query_params {
                extra.append_pair(name, value);
            }
            parts.push(extra.finish());
        }
        format!("{}/authorize?{}", self.inner.auth_url, parts.join("&"))
    }

    /// `POST /recover[?redirect_to=]`: sends a password-recovery email.
    pub(crate) async fn reset_password_for_email(
        &self,
        email: &str,
        redirect_to: Option<&str>,
        code_challenge: Option<&str>,
    ) -> Result<(), AuthError> {
        let (challenge, method) = challenge_pair(code_challenge);
        let body = json!({
            "email": email,
            "code_challenge": challenge,
            "code_challenge_method": method,
            "gotrue_meta_security": meta_security(),
        });
        let call = Call::post("/recover").redirect_to(redirect_to).json(body);
        self.send(&call, self.inner.request_timeout).await?.json()?;
        Ok(())
    }

    /// `GET /user` with the user's access token. Returns the user object.
    pub(crate) async fn get_user(&self, jwt: &str) -> Result<JsonObject, AuthError> {
        let call = Call::get("/user").jwt(jwt);
        let body = self
            .send(&call, self.inner.request_timeout)
            .await?
            .json_object()?;
        user_of(body)
    }

    /// `PUT /user[?redirect_to=]`: the body is `attributes` plus the PKCE pair (`null`
    /// without a challenge). Returns the updated user object.
    pub(crate) async fn update_user(
        &self,
        jwt: &str,
        mut attributes: JsonObject,
        redirect_to: Option<&str>,
        code_challenge: Option<&str>,
    ) -> Result<JsonObject, AuthError> {
        let (challenge, method) = challenge_pair(code_challenge);
        attributes.insert("code_challenge".into(), challenge);
        attributes.insert("code_challenge_method".into(), method);
        let call = Call::put("/user")
            .redirect_to(redirect_to)
            .jwt(jwt)
            .json(Value::Object(attributes));
        let body = self
            .send(&call, self.inner.request_timeout)
            .await?
            .json_object()?;
        user_of(body)
    }

    /// `POST /logout?scope=` with the user's access token and no body. Any 2xx is a
    /// success; the body is not read as JSON.
    pub(crate) async fn logout(&self, jwt: &str, scope: SignOutScope) -> Result<(), AuthError> {
        let path = match scope {
            SignOutScope::Global => "/logout?scope=global",
            SignOutScope::Local => "/logout?scope=local",
            SignOutScope::Others => "/logout?scope=others",
        };
        let call = Call::post(path).jwt(jwt);
        self.send(&call, self.inner.request_timeout)
            .await?
            .success()?;
        Ok(())
    }

    /// `POST /factors` with the user's access token: auth-js's `mfa.enroll` body for a
    /// TOTP factor (`friendly_name` and `issuer` left out when not given). Returns the
    /// answer as it came.
    pub(crate) async fn mfa_enroll_totp(
        &self,
        jwt: &str,
        friendly_name: Option<&str>,
        issuer: Option<&str>,
    ) -> Result<JsonObject, AuthError> {
        let mut body = Map::new();
        if let Some(name) = friendly_name {
            body.insert("friendly_name".into(), json!(name));
        }
        body.insert("factor_type".into(), json!("totp"));
        if let Some(issuer) = issuer {
            body.insert("issuer".into(), json!(issuer));
        }
        let call = Call::post("/factors").jwt(jwt).json(Value::Object(body));
        self.send(&call, self.inner.request_timeout)
            .await?
            .json_object()
    }

    /// `POST /factors/{id}/challenge`. auth-js sends its own parameters as the body:
    /// `{"factorId": id}`.
    pub(crate) async fn mfa_challenge(
        &self,
        jwt: &str,
        factor_id: &str,
    ) -> Result<JsonObject, AuthError> {
        let path = format!("/factors/{}/challenge", encode_uri_component(factor_id));
        let call = Call::post(&path)
            .jwt(jwt)
            .json(json!({ "factorId": factor_id }));
        self.send(&call, self.inner.request_timeout)
            .await?
            .json_object()
    }

    /// `POST /factors/{id}/verify` with `{challenge_id, code}`. Returns the session
    /// answer (an `aal2` session when the code is right).
    pub(crate) async fn mfa_verify(
        &self,
        jwt: &str,
        factor_id: &str,
        challenge_id: &str,
        code: &str,
    ) -> Result<JsonObject, AuthError> {
        let path = format!("/factors/{}/verify", encode_uri_component(factor_id));
        let call = Call::post(&path)
            .jwt(jwt)
            .json(json!({ "challenge_id": challenge_id, "code": code }));
        self.send(&call, self.inner.request_timeout)
            .await?
            .json_object()
    }

    /// `DELETE /factors/{id}`, no body. Returns the answer (`{id}`).
    pub(crate) async fn mfa_unenroll(
        &self,
        jwt: &str,
        factor_id: &str,
    ) -> Result<JsonObject, AuthError> {
        let path = format!("/factors/{}", encode_uri_component(factor_id));
        let call = Call::delete(&path).jwt(jwt);
        self.send(&call, self.inner.request_timeout)
            .await?
            .json_object()
    }

    /// `GET /.well-known/jwks.json`: the body bytes of a 200 answer. Caching and parsing
    /// belong to the JWT module.
    pub(crate) async fn fetch_jwks(&self) -> Result<Vec<u8>, AuthError> {
        let call = Call::get("/.well-known/jwks.json");
        let answer = self.send(&call, self.inner.request_timeout).await?;
        match answer.status {
            200 => Ok(answer.body),
            201..=299 => Err(AuthError::invalid_response(format!(
                "JWKS answer has status {} instead of 200",
                answer.status
            ))),
            _ => Err(parse_error(&answer)),
        }
    }
}
