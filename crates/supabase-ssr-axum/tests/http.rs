//! The layer behind a real HTTP server (`axum::serve` on 127.0.0.1:0) driven by reqwest:
//! a refresh storm, and large and split cookie headers as hyper delivers them.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;

use axum::Router;
use supabase_ssr_axum::SupabaseLayer;
use support::*;
use tokio::net::TcpListener;

async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_storm_makes_one_refresh_and_every_response_carries_the_same_session() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let old = value_of(&cookies, SESSION).to_owned();
    let header = header_of(&cookies);
    let addr = serve(app(SupabaseLayer::new(auth_ahead(&emu, 3550)))).await;
    emu.clear_requests();

    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..100 {
        let (client, header) = (client.clone(), header.clone());
        tasks.push(tokio::spawn(async move {
            let res = client
                .get(format!("http://{addr}/page/{i}"))
                .header("cookie", header)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let set_cookies: Vec<String> = res
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect();
            let body: serde_json::Value = res.json().await.unwrap();
            (status, set_cookies, body)
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }

    assert_eq!(refreshes(&emu), 1, "{:?}", emu.requests());
    let (_, first_lines, _) = &answers[0];
    assert_eq!(first_lines.len(), 1);
    let value = first_lines[0]
        .strip_prefix("sb-127-auth-token=")
        .and_then(|rest| rest.strip_suffix(ATTRIBUTES))
        .unwrap();
    assert!(value.starts_with("base64-") && value != old);
    for (status, lines, body) in &answers {
        assert_eq!(*status, 200);
        assert_eq!(
            lines, first_lines,
            "every response carries the same new session"
        );
        assert_eq!(body["outcome"], "verified");
        assert_eq!(body["email"], EMAIL);
        assert_eq!(
            body["cookie"],
            serde_json::json!([format!("{SESSION}={value}")])
        );
    }
}

#[tokio::test]
async fn large_and_split_cookie_headers_over_http() {
    let emu = emulator().await;
    let cookies = signed_in_cookies(&auth(&emu)).await;
    let addr = serve(app(SupabaseLayer::new(auth(&emu)))).await;
    let client = reqwest::Client::new();

    // 64 KiB of unrelated cookies in one field, the session in another.
    let junk: String = (0..1024)
        .map(|i| format!("junk{i:04}={}; ", "x".repeat(52)))
        .collect();
    let res = client
        .get(format!("http://{addr}/page"))
        .header("cookie", &junk)
        .header("cookie", header_of(&cookies))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("set-cookie").is_none());
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["outcome"], "verified");
    assert_eq!(body["cookie"].as_array().unwrap().len(), 2);

    // Garbage in place of the session: the handler still runs.
    let res = client
        .get(format!("http://{addr}/page"))
        .header(
            "cookie",
            format!("{junk}{SESSION}=base64-{}", "%".repeat(8000)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["outcome"], "no_session");
}
