//! The PostgreSQL store when the server ends its connection (a restart, an
//! administrator's `pg_terminate_backend`): the next request reconnects and succeeds.
#![allow(clippy::unwrap_used)]

mod support;

use supabase_auth_emulator::EmulatorConfig;
use support::Api;

/// Ends every other connection to the database at `url`; how many it ended.
fn end_other_connections(url: &str) -> i64 {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0)
    })
    .join()
    .unwrap()
}

#[tokio::test]
async fn a_connection_ended_by_the_server_is_replaced_without_a_failed_request() {
    let url = support::fresh_database();
    let api = Api::with(EmulatorConfig::default().database_url(Some(url.clone()))).await;
    let before = api.signup("before@example.com", "secret123").await;

    assert_eq!(end_other_connections(&url), 1, "the emulator's one connection");
    // The first statement after the loss is `BEGIN`: the store reconnects and runs the
    // request on the new connection.
    let login = api.login("before@example.com", "secret123").await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    assert_eq!(login.body["user"]["id"], before["user"]["id"]);

    // Twice in a row, and a write after it.
    assert_eq!(end_other_connections(&url), 1);
    api.signup("after@example.com", "secret123").await;
    assert_eq!(end_other_connections(&url), 1);
    let refreshed = api
        .post(
            "/token?grant_type=refresh_token",
            serde_json::json!({ "refresh_token": login.body["refresh_token"] }),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
}
