//! Error answers, parsed as auth-js's `handleError` does, and transport failures.

use std::time::Duration;

use super::support::{Reply, TestServer};
use super::*;
use crate::AuthError;
use crate::api::{Identifier, SignUpParams};

/// Marks a 2024-01-01 error answer, as GoTrue does.
const VERSION_HEADER: (&str, &str) = ("x-supabase-api-version", "2024-01-01");

/// Answers one `get_user` call with `reply` and returns the error.
async fn get_user_error(reply: Reply) -> AuthError {
    let server = TestServer::start().await;
    server.push(reply);
    let err = api(&server).get_user(JWT).await.unwrap_err();
    assert_eq!(server.requests().len(), 1, "get_user never retries");
    err
}

/// Answers one `refresh` call with `reply` and returns the error and the attempts.
async fn refresh_error(reply: Reply) -> (AuthError, usize) {
    let server = TestServer::start().await;
    server.set_fallback(reply);
    let err = api(&server).refresh(REFRESH_TOKEN, true).await.unwrap_err();
    assert_no_secrets(&err);
    (err, server.requests().len())
}

fn new_shape(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &format!(r#"{{"code":"{code}","message":"{message}"}}"#),
    )
    .with_header(VERSION_HEADER.0, VERSION_HEADER.1)
}

fn old_shape(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &format!(r#"{{"code":{status},"error_code":"{code}","msg":"{message}"}}"#),
    )
}

#[tokio::test]
async fn refresh_token_already_used_in_both_shapes() {
    for reply in [
        new_shape(
            400,
            "refresh_token_already_used",
            "Invalid Refresh Token: Already Used",
        ),
        old_shape(
            400,
            "refresh_token_already_used",
            "Invalid Refresh Token: Already Used",
        ),
    ] {
        let (err, attempts) = refresh_error(reply).await;
        assert_eq!(attempts, 1);
        assert_eq!(err.status(), Some(400));
        assert_eq!(err.code(), Some("refresh_token_already_used"));
        assert_eq!(err.message(), "Invalid Refresh Token: Already Used");
        assert!(!err.is_retryable() && !err.is_transient() && !err.is_session_missing());
        assert_eq!(
            err.to_string(),
            "auth server error (HTTP 400, code refresh_token_already_used): \
             Invalid Refresh Token: Already Used"
        );
    }
}

#[tokio::test]
async fn refresh_token_not_found_in_both_shapes() {
    for reply in [
        new_shape(
            400,
            "refresh_token_not_found",
            "Invalid Refresh Token: Refresh Token Not Found",
        ),
        old_shape(
            400,
            "refresh_token_not_found",
            "Invalid Refresh Token: Refresh Token Not Found",
        ),
    ] {
        let (err, attempts) = refresh_error(reply).await;
        assert_eq!(attempts, 1);
        assert_eq!(
            (err.status(), err.code()),
            (Some(400), Some("refresh_token_not_found"))
        );
        assert!(!err.is_transient());
    }
}

#[tokio::test]
async fn code_field_is_used_only_with_a_2024_response_header() {
    // New-shape body without the header: auth-js reads `error_code`, which is absent.
    let err = get_user_error(Reply::json(400, r#"{"code":"bad_jwt","message":"m"}"#)).await;
    assert_eq!(
        (err.status(), err.code(), err.message()),
        (Some(400), None, "m")
    );
    // An older header date: same.
    let reply = Reply::json(
        400,
        r#"{"code":"bad_jwt","error_code":"legacy","message":"m"}"#,
    )
    .with_header("X-Supabase-Api-Version", "2023-12-31");
    assert_eq!(get_user_error(reply).await.code(), Some("legacy"));
    // A malformed header: same.
    let reply = Reply::json(400, r#"{"code":"bad_jwt","error_code":"legacy","msg":"m"}"#)
        .with_header("X-Supabase-Api-Version", "2024-1-1");
    assert_eq!(get_user_error(reply).await.code(), Some("legacy"));
    // Old-shape body with the header: `code` is a number, so `error_code` is used.
    let reply = old_shape(403, "bad_jwt", "invalid JWT")
        .with_header("x-supabase-api-version", "2024-01-01");
    assert_eq!(get_user_error(reply).await.code(), Some("bad_jwt"));
    // A later version still counts as 2024-01-01.
    let reply = Reply::json(
        400,
        r#"{"code":"otp_expired","error_code":"x","message":"m"}"#,
    )
    .with_header("x-supabase-api-version", "2025-02-03");
    assert_eq!(get_user_error(reply).await.code(), Some("otp_expired"));
}

#[tokio::test]
async fn message_is_the_first_string_of_msg_message_error_description_error() {
    let cases = [
        (
            r#"{"error":"e","error_description":"d","message":"m","msg":"g"}"#,
            "g",
        ),
        (
            r#"{"error":"e","error_description":"d","message":"m"}"#,
            "m",
        ),
        (
            r#"{"error":"invalid_grant","error_description":"Nonces mismatch"}"#,
            "Nonces mismatch",
        ),
        (r#"{"error":"e","msg":7}"#, "e"),
        (
            r#"{"unexpected":true}"#,
            "HTTP 400 without an error message",
        ),
        (r#""just a string""#, "HTTP 400 without an error message"),
    ];
    for (body, message) in cases {
        let err = get_user_error(Reply::json(400, body)).await;
        assert_eq!(err.message(), message, "{body}");
        assert_eq!(err.code(), None);
    }
}

#[tokio::test]
async fn session_not_found_is_a_missing_session() {
    for reply in [
        new_shape(
            403,
            "session_not_found",
            "Session from session_id claim in JWT does not exist",
        ),
        old_shape(
            403,
            "session_not_found",
            "Session from session_id claim in JWT does not exist",
        ),
    ] {
        let err = get_user_error(reply).await;
        assert!(err.is_session_missing());
        assert!(!err.is_transient() && !err.is_invalid_jwt());
        assert_eq!(
            (err.status(), err.code()),
            (Some(403), Some("session_not_found"))
        );
        assert_eq!(
            err.to_string(),
            "auth session missing (HTTP 403, code session_not_found): \
             Session from session_id claim in JWT does not exist"
        );
    }
    // On refresh (400 without a session row) it is a missing session as well.
    let (err, attempts) =
        refresh_error(new_shape(400, "session_not_found", "Session not found")).await;
    assert!(err.is_session_missing());
    assert_eq!(attempts, 1);
}

#[tokio::test]
async fn rate_limit_is_transient_but_not_retried() {
    let (err, attempts) = refresh_error(new_shape(
        429,
        "over_request_rate_limit",
        "Request rate limit reached",
    ))
    .await;
    assert_eq!(attempts, 1);
    assert!(!err.is_retryable());
    assert!(err.is_transient());
    assert_eq!(
        (err.status(), err.code()),
        (Some(429), Some("over_request_rate_limit"))
    );
}

#[tokio::test]
async fn bad_jwt_is_an_invalid_jwt() {
    for status in [401, 403] {
        for reply in [
            new_shape(
                status,
                "bad_jwt",
                "invalid JWT: unable to parse or verify signature",
            ),
            old_shape(
                status,
                "bad_jwt",
                "invalid JWT: unable to parse or verify signature",
            ),
        ] {
            let err = get_user_error(reply).await;
            assert!(err.is_invalid_jwt(), "{err}");
            assert!(!err.is_session_missing() && !err.is_transient());
            assert_eq!(err.status(), Some(status));
        }
    }
    let err = get_user_error(new_shape(401, "no_authorization", "no bearer")).await;
    assert!(!err.is_invalid_jwt());
}

#[tokio::test]
async fn weak_password_keeps_its_reasons() {
    let replies = [
        Reply::json(
            422,
            r#"{"code":"weak_password","message":"Password should be at least 6 characters.","weak_password":{"reasons":["length"]}}"#,
        )
        .with_header(VERSION_HEADER.0, VERSION_HEADER.1),
        Reply::json(
            422,
            r#"{"code":422,"error_code":"weak_password","msg":"Password should be at least 6 characters.","weak_password":{"reasons":["length"]}}"#,
        ),
        // Servers before error codes: recognised by the object alone.
        Reply::json(
            422,
            r#"{"msg":"Password should be at least 6 characters.","weak_password":{"reasons":["length"]}}"#,
        ),
    ];
    for reply in replies {
        let server = TestServer::start().await;
        server.push(reply);
        let err = api(&server)
            .sign_up(SignUpParams {
                email: "a@example.com".into(),
                password: PASSWORD.into(),
                ..SignUpParams::default()
            })
            .await
            .unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (Some(422), Some("weak_password"))
        );
        assert_eq!(
            err.weak_password_reasons(),
            Some(&["length".to_owned()][..])
        );
        assert_eq!(err.message(), "Password should be at least 6 characters.");
        assert_no_secrets(&err);
    }
    // An empty reason list without a code is not a weak-password error.
    let err = get_user_error(Reply::json(
        422,
        r#"{"msg":"m","weak_password":{"reasons":[]}}"#,
    ))
    .await;
    assert_eq!((err.code(), err.weak_password_reasons()), (None, None));
}

#[tokio::test]
async fn server_errors_are_retryable_with_or_without_json() {
    for status in [500, 501, 502, 503, 504, 520, 521, 525, 529, 530] {
        let err = get_user_error(Reply::text(status, "<html>bad gateway</html>")).await;
        assert!(err.is_retryable() && err.is_transient(), "{status}");
        assert_eq!((err.status(), err.code()), (Some(status), None));
        let err = get_user_error(new_shape(
            status,
            "unexpected_failure",
            "Unexpected failure",
        ))
        .await;
        assert!(err.is_retryable(), "{status}");
        assert_eq!(err.message(), "Unexpected failure");
    }
    let err = get_user_error(Reply::text(503, "")).await;
    assert_eq!(err.message(), "HTTP 503 Service Unavailable");
    for status in [505, 510, 519, 531, 599] {
        let err = get_user_error(Reply::text(status, "down")).await;
        assert!(!err.is_transient(), "{status}");
    }
}

#[tokio::test]
async fn non_json_error_answer_has_no_code() {
    let err = get_user_error(Reply::text(404, "404 page not found")).await;
    assert_eq!((err.status(), err.code()), (Some(404), None));
    assert_eq!(err.message(), "HTTP 404 Not Found: answer is not JSON");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn non_json_success_is_an_invalid_but_retryable_answer() {
    let err = get_user_error(Reply::text(200, "<html>captive portal</html>")).await;
    assert_eq!(
        err.to_string(),
        "invalid response from the auth server: HTTP 200 answer is not JSON"
    );
    // auth-js turns a JSON parse failure into a status-0 AuthRetryableFetchError.
    assert!(err.is_retryable() && err.is_transient());
    assert_eq!(err.status(), None);

    let err = get_user_error(Reply::json(200, "[1,2]")).await;
    assert!(!err.is_retryable());
    assert_eq!(err.message(), "answer is not a JSON object");
}

#[tokio::test]
async fn connection_closed_without_answer_is_a_network_error() {
    let err = get_user_error(Reply::Close).await;
    assert!(
        err.is_network() && err.is_retryable() && err.is_transient(),
        "{err:?}"
    );
    assert!(!err.is_timeout());
    assert!(
        err.to_string()
            .starts_with("network error talking to the auth server: "),
        "{err}"
    );
}

#[tokio::test]
async fn connection_refused_is_a_network_error() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/auth/v1");
    let api = AuthApi::new(http(), &url, KEY, options()).unwrap();
    let err = api.get_user(JWT).await.unwrap_err();
    assert!(err.is_network() && err.is_retryable(), "{err:?}");
    assert!(err.message().starts_with("connection failed"), "{err}");
    assert_no_secrets(&err);
}

#[tokio::test]
async fn server_that_never_answers_times_out() {
    let server = TestServer::start().await;
    server.set_fallback(Reply::Hang);
    let api = api_with(
        &server,
        ApiOptions {
            request_timeout: Duration::from_millis(200),
            ..options()
        },
    );
    let started = tokio::time::Instant::now();
    let err = api.get_user(JWT).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        err.is_timeout() && err.is_retryable() && err.is_transient(),
        "{err:?}"
    );
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(700), "{elapsed:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn errors_never_show_passwords_tokens_or_redirect_urls() {
    let redirect = "http://app.test/cb?access_token=SECRET-at#refresh_token=SECRET-rt";
    let replies = [
        new_shape(400, "invalid_credentials", "Invalid login credentials"),
        Reply::Close,
        Reply::text(200, "not json"),
        Reply::Delay(Duration::from_secs(5), Box::new(Reply::empty(200))),
    ];
    for reply in replies {
        let server = TestServer::start().await;
        server.set_fallback(reply);
        let api = api_with(
            &server,
            ApiOptions {
                request_timeout: Duration::from_millis(200),
                retry_budget: Duration::from_millis(300),
                ..options()
            },
        );
        let err = api
            .sign_in_with_password(Identifier::Email("a@example.com".into()), PASSWORD)
            .await
            .unwrap_err();
        assert_no_secrets(&err);
        let err = api.refresh(REFRESH_TOKEN, true).await.unwrap_err();
        assert_no_secrets(&err);
        let err = api
            .sign_up(SignUpParams {
                email: "a@example.com".into(),
                password: PASSWORD.into(),
                redirect_to: Some(redirect.into()),
                ..SignUpParams::default()
            })
            .await
            .unwrap_err();
        assert_no_secrets(&err);
        let err = api.get_user(JWT).await.unwrap_err();
        assert_no_secrets(&err);
    }
}
