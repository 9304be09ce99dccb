//! Magic links, OTP codes, token hashes, confirmation and recovery emails, the inbox.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{Api, jwt_part, pairs, pkce_pair};

fn location(res: &support::Res) -> url::Url {
    url::Url::parse(res.header("location").unwrap()).unwrap()
}

#[tokio::test]
async fn magic_link_implicit_flow_redirects_with_the_session_in_the_fragment() {
    let api = Api::start().await;
    api.emu
        .create_user("ml@example.com", "secret123")
        .await
        .unwrap();
    let res = api
        .post(
            "/otp?redirect_to=http://127.0.0.1:3000/welcome",
            json!({ "email": "ml@example.com" }),
        )
        .await;
    assert_eq!((res.status, &res.body), (200, &json!({})));
    let mail = api.emu.inbox().pop().unwrap();
    assert_eq!(mail.to, "ml@example.com");
    assert_eq!(mail.kind, "magiclink");
    assert_eq!(mail.otp.len(), 6);
    assert!(mail.otp.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(mail.token_hash.len(), 56);
    assert!(mail.html.contains(&mail.otp));
    assert_eq!(
        mail.link,
        format!(
            "{}/verify?token={}&type=magiclink&redirect_to=http%3A%2F%2F127.0.0.1%3A3000%2Fwelcome",
            api.emu.auth_url(),
            mail.token_hash
        )
    );

    let followed = api.call(api.http.get(&mail.link)).await;
    assert_eq!(followed.status, 303);
    let loc = location(&followed);
    assert_eq!(loc.path(), "/welcome");
    let frag = pairs(loc.fragment().unwrap());
    let names: Vec<&str> = frag.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "access_token",
            "expires_at",
            "expires_in",
            "refresh_token",
            "sb",
            "token_type",
            "type"
        ]
    );
    assert_eq!(frag[6].1, "magiclink");
    assert_eq!(jwt_part(&frag[0].1, 1)["amr"][0]["method"], "otp");

    // The link is single use.
    let again = api.call(api.http.get(&mail.link)).await;
    let frag = pairs(location(&again).fragment().unwrap());
    assert_eq!(
        frag,
        [
            ("error".into(), "access_denied".into()),
            ("error_code".into(), "otp_expired".into()),
            (
                "error_description".into(),
                "Email link is invalid or has expired".into()
            ),
            ("sb".into(), String::new())
        ]
    );
}

#[tokio::test]
async fn magic_link_with_pkce_yields_a_code_to_exchange() {
    let api = Api::start().await;
    api.emu
        .create_user("pk@example.com", "secret123")
        .await
        .unwrap();
    let (verifier, challenge) = pkce_pair();
    let res = api
        .post(
            "/otp?redirect_to=http://127.0.0.1:3000/auth/callback",
            json!({ "email": "pk@example.com", "create_user": true, "code_challenge": challenge, "code_challenge_method": "s256" }),
        )
        .await;
    assert_eq!(res.status, 200);
    let mail = api.emu.inbox().pop().unwrap();
    assert!(mail.token_hash.starts_with("pkce_"));
    let followed = api.call(api.http.get(&mail.link)).await;
    assert_eq!(followed.status, 303);
    let loc = location(&followed);
    assert_eq!(loc.path(), "/auth/callback");
    let code = pairs(loc.query().unwrap())
        .into_iter()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1;
    assert!(uuid::Uuid::parse_str(&code).is_ok());

    let wrong = api
        .post(
            "/token?grant_type=pkce",
            json!({ "auth_code": code, "code_verifier": "x".repeat(50) }),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.body["error_code"].as_str()),
        (400, Some("bad_code_verifier"))
    );
    let ok = api
        .post(
            "/token?grant_type=pkce",
            json!({ "auth_code": code, "code_verifier": verifier }),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["user"]["email"], "pk@example.com");
    assert_eq!(
        jwt_part(ok.body["access_token"].as_str().unwrap(), 1)["amr"][0]["method"],
        "magiclink"
    );
    let reused = api
        .post(
            "/token?grant_type=pkce",
            json!({ "auth_code": code, "code_verifier": verifier }),
        )
        .await;
    assert_eq!(reused.status, 404);
    assert_eq!(reused.body["error_code"], "flow_state_not_found");
    let empty = api
        .post("/token?grant_type=pkce", json!({ "auth_code": "" }))
        .await;
    assert_eq!(
        empty.body["msg"],
        "invalid request: both auth code and code verifier should be non-empty"
    );
}

#[tokio::test]
async fn verify_post_with_email_code_and_with_token_hash() {
    let api = Api::start().await;
    api.emu
        .create_user("code@example.com", "secret123")
        .await
        .unwrap();
    api.post("/otp", json!({ "email": "code@example.com" }))
        .await;
    let mail = api.emu.inbox().pop().unwrap();
    let wrong_code = if mail.otp == "000000" {
        "111111"
    } else {
        "000000"
    };
    let wrong = api
        .post(
            "/verify",
            json!({ "type": "email", "email": "code@example.com", "token": wrong_code }),
        )
        .await;
    assert_eq!(
        wrong.body,
        json!({ "code": 403, "error_code": "otp_expired", "msg": "Token has expired or is invalid" })
    );
    let ok = api
        .post(
            "/verify",
            json!({ "type": "email", "email": "Code@Example.com", "token": mail.otp }),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["user"]["email"], "code@example.com");
    assert_eq!(
        jwt_part(ok.body["access_token"].as_str().unwrap(), 1)["amr"][0]["method"],
        "otp"
    );

    api.emu.advance_clock(std::time::Duration::from_secs(2));
    api.post("/magiclink", json!({ "email": "code@example.com" }))
        .await;
    let mail = api.emu.inbox().pop().unwrap();
    let bad = api
        .post(
            "/verify",
            json!({ "type": "magiclink", "token_hash": mail.token_hash, "email": "x@y.z" }),
        )
        .await;
    assert_eq!(
        bad.body["msg"],
        "Only the token_hash and type should be provided"
    );
    let ok = api
        .post(
            "/verify",
            json!({ "type": "magiclink", "token_hash": mail.token_hash }),
        )
        .await;
    assert_eq!(ok.status, 200);
    let again = api
        .post(
            "/verify",
            json!({ "type": "magiclink", "token_hash": mail.token_hash }),
        )
        .await;
    assert_eq!(again.body["msg"], "Email link is invalid or has expired");

    let none = api.post("/verify", json!({ "type": "email" })).await;
    assert_eq!(
        none.body["msg"],
        "Verify requires either a token or a token hash"
    );
    let no_type = api.post("/verify", json!({ "token_hash": "x" })).await;
    assert_eq!(no_type.body["msg"], "Verify requires a verification type");
}

#[tokio::test]
async fn signup_confirmation_when_autoconfirm_is_off() {
    let api = Api::with(support::config().autoconfirm(false)).await;
    let res = api
        .post(
            "/signup",
            json!({ "email": "conf@example.com", "password": "secret123" }),
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(
        res.body.get("access_token").is_none(),
        "a bare user, no session"
    );
    assert!(res.body["confirmation_sent_at"].is_string());
    assert!(res.body.get("email_confirmed_at").is_none());
    let login = api.login("conf@example.com", "secret123").await;
    assert_eq!(
        login.body,
        json!({ "code": 400, "error_code": "email_not_confirmed", "msg": "Email not confirmed" })
    );

    let mail = api.emu.inbox().pop().unwrap();
    assert_eq!(
        (mail.kind.as_str(), mail.subject.as_str()),
        ("signup", "Confirm Your Signup")
    );
    let ok = api
        .post(
            "/verify",
            json!({ "type": "email", "token_hash": mail.token_hash }),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["user"]["user_metadata"]["email_verified"], true);
    assert_eq!(
        ok.body["user"]["identities"][0]["identity_data"]["email_verified"],
        true
    );
    assert_eq!(api.login("conf@example.com", "secret123").await.status, 200);
}

#[tokio::test]
async fn recovery_email_and_rate_limit() {
    let api = Api::start().await;
    api.emu
        .create_user("rec@example.com", "secret123")
        .await
        .unwrap();
    let unknown = api
        .post("/recover", json!({ "email": "ghost@example.com" }))
        .await;
    assert_eq!((unknown.status, &unknown.body), (200, &json!({})));
    assert!(api.emu.inbox().is_empty());
    assert_eq!(
        api.post("/recover", json!({ "email": "rec@example.com" }))
            .await
            .status,
        200
    );
    let limited = api
        .post("/recover", json!({ "email": "rec@example.com" }))
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["error_code"], "over_email_send_rate_limit");
    assert_eq!(
        limited.body["msg"],
        "For security purposes, you can only request this after 1 seconds."
    );
    let mail = api.emu.inbox().pop().unwrap();
    assert_eq!(mail.kind, "recovery");
    let ok = api
        .post(
            "/verify",
            json!({ "type": "recovery", "token_hash": mail.token_hash }),
        )
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn otp_without_create_user_and_the_inbox_api() {
    let api = Api::start().await;
    let res = api
        .post(
            "/otp",
            json!({ "email": "new@example.com", "create_user": false }),
        )
        .await;
    assert_eq!(
        (res.status, res.body["error_code"].as_str()),
        (422, Some("otp_disabled"))
    );
    assert_eq!(
        api.post("/otp", json!({ "email": "new@example.com" }))
            .await
            .status,
        200
    );

    let inbox = format!("{}/inbox/api/messages?to=new@example.com", api.emu.url());
    let list = api.call(api.http.get(&inbox)).await;
    assert_eq!(list.status, 200);
    let messages = list.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["kind"], "magiclink");
    assert_eq!(messages[0]["to"], "new@example.com");
    let latest = api
        .call(api.http.get(format!(
            "{}/inbox/api/messages/latest?to=new@example.com",
            api.emu.url()
        )))
        .await;
    assert_eq!(latest.body["id"], messages[0]["id"]);
    let page = api
        .http
        .get(api.emu.inbox_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("new@example.com") && page.contains(messages[0]["otp"].as_str().unwrap())
    );
    let cleared = api
        .call(
            api.http
                .delete(format!("{}/inbox/api/messages", api.emu.url())),
        )
        .await;
    assert_eq!(cleared.status, 204);
    assert!(api.emu.inbox().is_empty());
}
