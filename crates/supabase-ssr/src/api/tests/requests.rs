//! The exact request of every method, and how successful answers are read.
//!
//! Expected bodies and query strings were captured from auth-js 2.119.1 driving a mock
//! server (`interop/js`).

use super::support::{Reply, TestServer};
use super::*;
use crate::api::{
    Identifier, OtpParams, SignOutScope, SignUpParams, SignUpResponse, VerifyResponse,
};

/// A redirect URL with every character class `URLSearchParams` treats specially.
const REDIRECT: &str = "http://localhost:3000/auth/confirm?next=/a b~!*'()";
/// `REDIRECT` as `URLSearchParams` encodes it (auth-js's `redirect_to` query).
const REDIRECT_QUERY: &str =
    "redirect_to=http%3A%2F%2Flocalhost%3A3000%2Fauth%2Fconfirm%3Fnext%3D%2Fa+b%7E%21*%27%28%29";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[tokio::test]
async fn sign_in_with_password_email_sends_exact_request() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, SESSION));
    let answer = api(&server)
        .sign_in_with_password(Identifier::Email("a@example.com".into()), PASSWORD)
        .await
        .unwrap();
    assert_eq!(answer, object(SESSION));
    let keys: Vec<&str> = answer.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "token_type",
            "expires_in",
            "expires_at",
            "refresh_token",
            "user"
        ]
    );

    let request = server.single_request();
    assert_request(
        &request,
        "POST",
        "/auth/v1/token?grant_type=password",
        r#"{"email":"a@example.com","password":"hunter2-password-SECRET","gotrue_meta_security":{}}"#,
    );
    assert_headers(&request, KEY);
}

#[tokio::test]
async fn sign_in_with_password_phone_sends_phone() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, SESSION));
    api(&server)
        .sign_in_with_password(Identifier::Phone("+15555550100".into()), "pw")
        .await
        .unwrap();
    assert_eq!(
        server.single_request().body_text(),
        r#"{"phone":"+15555550100","password":"pw","gotrue_meta_security":{}}"#
    );
}

#[tokio::test]
async fn sign_in_with_password_requires_session_and_user() {
    for body in [
        r#"{"access_token":"at","refresh_token":"rt","expires_in":3600}"#,
        r#"{"access_token":"at","refresh_token":"rt","expires_in":0,"user":{"id":"u1"}}"#,
        r#"{"access_token":"","refresh_token":"rt","expires_in":3600,"user":{"id":"u1"}}"#,
        r#"{"id":"u1"}"#,
    ] {
        let server = TestServer::start().await;
        server.push(Reply::json(200, body));
        let err = api(&server)
            .sign_in_with_password(Identifier::Email("a@example.com".into()), PASSWORD)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid response from the auth server: auth session or user missing",
            "{body}"
        );
        assert!(!err.is_transient() && err.status().is_none());
    }
}

#[tokio::test]
async fn sign_up_sends_exact_request_and_reads_a_user() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, USER));
    let answer = api(&server)
        .sign_up(SignUpParams {
            email: "a@example.com".into(),
            password: PASSWORD.into(),
            data: Some(object(r#"{"name":"A"}"#)),
            redirect_to: Some(REDIRECT.into()),
            code_challenge: Some(CHALLENGE.into()),
        })
        .await
        .unwrap();
    assert_eq!(answer, SignUpResponse::User(object(USER)));

    let request = server.single_request();
    assert_request(
        &request,
        "POST",
        &format!("/auth/v1/signup?{REDIRECT_QUERY}"),
        &format!(
            r#"{{"email":"a@example.com","password":"{PASSWORD}","data":{{"name":"A"}},"gotrue_meta_security":{{}},"code_challenge":"{CHALLENGE}","code_challenge_method":"s256"}}"#
        ),
    );
    assert_headers(&request, KEY);
}

#[tokio::test]
async fn sign_up_without_challenge_sends_nulls_and_reads_a_session() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, SESSION));
    let answer = api(&server)
        .sign_up(SignUpParams {
            email: "a@example.com".into(),
            password: "pw".into(),
            ..SignUpParams::default()
        })
        .await
        .unwrap();
    assert_eq!(answer, SignUpResponse::Session(object(SESSION)));
    assert_request(
        &server.single_request(),
        "POST",
        "/auth/v1/signup",
        r#"{"email":"a@example.com","password":"pw","data":{},"gotrue_meta_security":{},"code_challenge":null,"code_challenge_method":null}"#,
    );
}

#[tokio::test]
async fn sign_up_reads_a_wrapped_user_and_rejects_an_empty_answer() {
    let server = TestServer::start().await;
    server.push(Reply::json(
        200,
        &format!(r#"{{"user":{USER},"session":null}}"#),
    ));
    server.push(Reply::json(200, "{}"));
    let api = api(&server);
    let params = SignUpParams {
        email: "a@example.com".into(),
        password: "pw".into(),
        ..SignUpParams::default()
    };
    assert_eq!(
        api.sign_up(params.clone()).await.unwrap(),
        SignUpResponse::User(object(USER))
    );
    let err = api.sign_up(params).await.unwrap_err();
    assert!(
        err.message().contains("neither a session nor a user"),
        "{err}"
    );
}

#[tokio::test]
async fn sign_in_with_otp_sends_exact_request() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, "{}"));
    api(&server)
        .sign_in_with_otp(OtpParams {
            email: "a@example.com".into(),
            redirect_to: Some(REDIRECT.into()),
            code_challenge: Some(CHALLENGE.into()),
            ..OtpParams::default()
        })
        .await
        .unwrap();
    let request = server.single_request();
    assert_request(
        &request,
        "POST",
        &format!("/auth/v1/otp?{REDIRECT_QUERY}"),
        &format!(
            r#"{{"email":"a@example.com","data":{{}},"create_user":true,"gotrue_meta_security":{{}},"code_challenge":"{CHALLENGE}","code_challenge_method":"s256"}}"#
        ),
    );
    assert_headers(&request, KEY);
}

#[tokio::test]
async fn sign_in_with_otp_can_refuse_to_create_users() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, "{}"));
    api(&server)
        .sign_in_with_otp(OtpParams {
            email: "a@example.com".into(),
            create_user: false,
            data: Some(object(r#"{"plan":"pro"}"#)),
            ..OtpParams::default()
        })
        .await
        .unwrap();
    assert_request(
        &server.single_request(),
        "POST",
        "/auth/v1/otp",
        r#"{"email":"a@example.com","data":{"plan":"pro"},"create_user":false,"gotrue_meta_security":{},"code_challenge":null,"code_challenge_method":null}"#,
    );
}

#[tokio::test]
async fn verify_otp_sends_params_as_given() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, SESSION));
    server.push(Reply::json(
        200,
        r#"{"msg":"Confirmation link accepted","code":"200"}"#,
    ));
    let api = api(&server);

    let answer = api
        .verify_otp(object(&format!(
            r#"{{"email":"a@example.com","token":"123456","type":"email","options":{{"redirectTo":"{REDIRECT}"}}}}"#
        )))
        .await
        .unwrap();
    assert_eq!(answer, VerifyResponse::Session(object(SESSION)));

    let answer = api
        .verify_otp(object(
            r#"{"gotrue_meta_security":null,"token_hash":"th","type":"email_change"}"#,
        ))
        .await
        .unwrap();
    assert_eq!(
        answer,
        VerifyResponse::Other(object(
            r#"{"msg":"Confirmation link accepted","code":"200"}"#
        ))
    );

    let requests = server.requests();
    assert_request(
        &requests[0],
        "POST",
        &format!("/auth/v1/verify?{REDIRECT_QUERY}"),
        &format!(
            r#"{{"email":"a@example.com","token":"123456","type":"email","options":{{"redirectTo":"{REDIRECT}"}},"gotrue_meta_security":{{}}}}"#
        ),
    );
    assert_headers(&requests[0], KEY);
    // An existing key keeps its place, as with `{...params, gotrue_meta_security}`.
    assert_request(
        &requests[1],
        "POST",
        "/auth/v1/verify",
        r#"{"gotrue_meta_security":{},"token_hash":"th","type":"email_change"}"#,
    );
}

#[tokio::test]
async fn exchange_code_sends_exact_request() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, SESSION));
    server.push(Reply::json(
        200,
        r#"{"access_token":"at","refresh_token":"rt","expires_in":3600}"#,
    ));
    let api = api(&server);
    let verifier = "a".repeat(112);
    assert_eq!(
        api.exchange_code("code-uuid", &verifier).await.unwrap(),
        object(SESSION)
    );
    let request = &server.requests()[0];
    assert_request(
        request,
        "POST",
        "/auth/v1/token?grant_type=pkce",
        &format!(r#"{{"auth_code":"code-uuid","code_verifier":"{verifier}"}}"#),
    );
    assert_headers(request, KEY);
    // No user in the answer: auth-js's AuthInvalidTokenResponseError.
    let err = api.exchange_code("code-uuid", &verifier).await.unwrap_err();
    assert!(err.message().contains("session or user missing"), "{err}");
}

#[tokio::test]
async fn authorize_url_matches_auth_js() {
    let server = TestServer::start().await;
    let url = api(&server).authorize_url(
        "google",
        Some(REDIRECT),
        Some("email profile"),
        CHALLENGE,
        &[
            ("access_type".into(), "offline".into()),
            ("prompt".into(), "consent x~!*'()".into()),
        ],
    );
    assert_eq!(
        url,
        format!(
            "{}/auth/v1/authorize?provider=google\
             &redirect_to=http%3A%2F%2Flocalhost%3A3000%2Fauth%2Fconfirm%3Fnext%3D%2Fa%20b~!*'()\
             &scopes=email%20profile&code_challenge={CHALLENGE}&code_challenge_method=s256\
             &access_type=offline&prompt=consent+x%7E%21*%27%28%29",
            server.url()
        )
    );
    let url = api(&server).authorize_url("github", None, Some(""), CHALLENGE, &[]);
    assert_eq!(
        url,
        format!(
            "{}/auth/v1/authorize?provider=github&code_challenge={CHALLENGE}&code_challenge_method=s256",
            server.url()
        )
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn reset_password_for_email_sends_exact_request() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, "{}"));
    api(&server)
        .reset_password_for_email("a@example.com", Some(REDIRECT), Some(CHALLENGE))
        .await
        .unwrap();
    let request = server.single_request();
    assert_request(
        &request,
        "POST",
        &format!("/auth/v1/recover?{REDIRECT_QUERY}"),
        &format!(
            r#"{{"email":"a@example.com","code_challenge":"{CHALLENGE}","code_challenge_method":"s256","gotrue_meta_security":{{}}}}"#
        ),
    );
    assert_headers(&request, KEY);
}

#[tokio::test]
async fn refresh_sends_exact_request() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, SESSION));
    assert_eq!(
        api(&server).refresh(REFRESH_TOKEN, true).await.unwrap(),
        object(SESSION)
    );
    let request = server.single_request();
    assert_request(
        &request,
        "POST",
        "/auth/v1/token?grant_type=refresh_token",
        &format!(r#"{{"refresh_token":"{REFRESH_TOKEN}"}}"#),
    );
    assert_headers(&request, KEY);
}

#[tokio::test]
async fn get_user_sends_bearer_token_without_content_type() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, USER));
    server.push(Reply::json(200, &format!(r#"{{"user":{USER}}}"#)));
    let api = api(&server);
    assert_eq!(api.get_user(JWT).await.unwrap(), object(USER));
    assert_eq!(api.get_user(JWT).await.unwrap(), object(USER));
    for request in server.requests() {
        assert_request(&request, "GET", "/auth/v1/user", "");
        assert_headers(&request, JWT);
        assert_eq!(request.header("content-length"), None);
    }
}

#[tokio::test]
async fn update_user_sends_attributes_then_pkce_pair() {
    let server = TestServer::start().await;
    server.push(Reply::json(200, USER));
    server.push(Reply::json(200, USER));
    let api = api(&server);
    let updated = api
        .update_user(
            JWT,
            object(r#"{"email":"b@example.com","data":{"x":1}}"#),
            Some(REDIRECT),
            Some(CHALLENGE),
        )
        .await
        .unwrap();
    assert_eq!(updated, object(USER));
    api.update_user(
        JWT,
        object(r#"{"code_challenge":"x","password":"pw"}"#),
        None,
        None,
    )
    .await
    .unwrap();

    let requests = server.requests();
    assert_request(
        &requests[0],
        "PUT",
        &format!("/auth/v1/user?{REDIRECT_QUERY}"),
        &format!(
            r#"{{"email":"b@example.com","data":{{"x":1}},"code_challenge":"{CHALLENGE}","code_challenge_method":"s256"}}"#
        ),
    );
    assert_headers(&requests[0], JWT);
    assert_request(
        &requests[1],
        "PUT",
        "/auth/v1/user",
        r#"{"code_challenge":null,"password":"pw","code_challenge_method":null}"#,
    );
}

#[tokio::test]
async fn logout_sends_scope_and_accepts_any_2xx() {
    let server = TestServer::start().await;
    server.push(Reply::empty(204));
    server.push(Reply::text(200, "not json"));
    server.push(Reply::empty(204));
    let api = api(&server);
    for scope in [
        SignOutScope::Global,
        SignOutScope::Local,
        SignOutScope::Others,
    ] {
        api.logout(JWT, scope).await.unwrap();
    }
    let requests = server.requests();
    for (request, scope) in requests.iter().zip(["global", "local", "others"]) {
        assert_request(
            request,
            "POST",
            &format!("/auth/v1/logout?scope={scope}"),
            "",
        );
        assert_headers(request, JWT);
        assert_eq!(request.header("content-length"), Some("0"));
    }
}

#[tokio::test]
async fn fetch_jwks_returns_the_body_of_a_200() {
    let jwks = r#"{"keys":[{"kty":"EC","kid":"k1","crv":"P-256","x":"x","y":"y"}]}"#;
    let server = TestServer::start().await;
    server.push(Reply::json(200, jwks));
    server.push(Reply::empty(204));
    server.push(Reply::text(404, "404 page not found"));
    let api = api(&server);
    assert_eq!(api.fetch_jwks().await.unwrap(), jwks.as_bytes());
    let err = api.fetch_jwks().await.unwrap_err();
    assert!(err.message().contains("204"), "{err}");
    let err = api.fetch_jwks().await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(!err.is_transient());
    for request in server.requests() {
        assert_request(&request, "GET", "/auth/v1/.well-known/jwks.json", "");
        assert_headers(&request, KEY);
    }
}
