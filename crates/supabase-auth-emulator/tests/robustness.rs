//! Hostile input never yields a 5xx; concurrent use is safe.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::Method;
use supabase_auth_emulator::Emulator;
use support::Api;

#[test]
fn emulator_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
    assert_send_sync_clone::<Emulator>();
}

#[tokio::test]
async fn junk_on_every_endpoint_gets_4xx() {
    let api = Api::start().await;
    let user = api.signup("junk@example.com", "secret123").await;
    let token = user["access_token"].as_str().unwrap().to_string();
    let id = user["user"]["id"].as_str().unwrap().to_string();
    let bodies = [
        String::new(),
        "null".into(),
        "[]".into(),
        "\"str\"".into(),
        "{\"email\": []}".into(),
        "{\"email\": \"\\u0000@x.y\", \"password\": \"\\ud800\"}".into(),
        "{\"type\": 7, \"token_hash\": {}}".into(),
        "{\"refresh_token\": \"aaaaaaaaaaaa\", \"auth_code\": \"../../etc\", \"code_verifier\": 1}"
            .into(),
        "{\"data\": \"not an object\", \"email\": \"a@b.co\", \"password\": \"secret123\"}".into(),
        "{\"ban_duration\": \"99999999999999h\", \"user_metadata\": [1]}".into(),
        "\u{feff}{}".into(),
        "{".repeat(10_000),
    ];
    let routes = [
        (Method::POST, "/signup".to_string()),
        (Method::POST, "/token?grant_type=password".into()),
        (Method::POST, "/token?grant_type=refresh_token".into()),
        (Method::POST, "/token?grant_type=pkce".into()),
        (Method::POST, "/token?grant_type=id_token".into()),
        (Method::POST, "/otp".into()),
        (Method::POST, "/magiclink".into()),
        (Method::POST, "/recover".into()),
        (Method::POST, "/resend".into()),
        (Method::POST, "/verify".into()),
        (Method::PUT, "/user".into()),
        (Method::POST, "/logout?scope=%00".into()),
        (Method::POST, "/admin/users".into()),
        (Method::PUT, format!("/admin/users/{id}")),
        (
            Method::DELETE,
            format!("/admin/users/{}", uuid::Uuid::new_v4()),
        ),
        (Method::POST, "/admin/generate_link".into()),
        (Method::POST, "/invite".into()),
    ];
    for (method, path) in &routes {
        for body in &bodies {
            for bearer in [token.as_str(), api.emu.secret_key()] {
                let req = api
                    .http
                    .request(method.clone(), api.url(path))
                    .header("apikey", api.emu.publishable_key())
                    .header("authorization", format!("Bearer {bearer}"))
                    .body(body.clone());
                let res = api.call(req).await;
                assert!(
                    (400..500).contains(&res.status) || res.status == 200,
                    "{method} {path} {body:.40}: {res:?}"
                );
            }
        }
    }
    let gets = [
        "/verify",
        "/verify?type=signup&token=x&redirect_to=javascript:alert(1)",
        "/verify?type=zzz&token=pkce_x",
        "/authorize?provider=github&code_challenge=x&code_challenge_method=s256",
        "/authorize?provider=github&redirect_to=%ZZ",
        "/callback?state=not-a-uuid&code=x",
        "/callback",
        "/admin/users?page=-1&per_page=abc",
        "/admin/users/%00",
        "/user",
    ];
    for path in gets {
        let res = api.call(api.admin(Method::GET, path)).await;
        assert!(res.status < 500, "GET {path}: {res:?}");
    }
    let inbox = api
        .call(
            api.http
                .get(format!("{}/inbox/%3Cscript%3E", api.emu.url())),
        )
        .await;
    assert_eq!(inbox.status, 404);
    let consent = api
        .call(support::form_post(
            &api.http,
            format!("{}/oauth-provider/authorize", api.emu.url()),
            &[("state", "<x>")],
        ))
        .await;
    assert_eq!(consent.status, 400);
    // Still serving after all that.
    assert_eq!(api.login("junk@example.com", "secret123").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_of_one_token_all_succeed_inside_the_interval() {
    let api = std::sync::Arc::new(Api::start().await);
    let s = api.signup("conc@example.com", "secret123").await;
    let rt = s["refresh_token"].as_str().unwrap().to_string();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (api, rt) = (api.clone(), rt.clone());
        tasks.push(tokio::spawn(async move { api.refresh(&rt).await }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().status);
    }
    assert_eq!(statuses, vec![200; 8]);
    let refreshes = api
        .emu
        .requests()
        .iter()
        .filter(|r| r.path == "/auth/v1/token" && r.query == "grant_type=refresh_token")
        .count();
    assert_eq!(refreshes, 8);
}
