//! What only the PostgreSQL store can show: an application's tables and triggers on
//! `auth.users`, rows a `seed.sql` writes, data that outlives the emulator, emulators
//! sharing one database, a connection the server ends, and the errors of a database
//! that is not the emulator's.
//!
//! Always on PostgreSQL (a database of its own per test, whatever `EMULATOR_TEST_STORE`
//! says), over HTTP. SQL runs on the `postgres` crate's sync client, on a thread of its
//! own: that client must not run on an async runtime's thread.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use supabase_auth_emulator::{EmulatorConfig, ErrorKind};
use support::{Api, Res, fresh_database, socket_dir_and_database};

/// An application's profile table, filled by a trigger on `auth.users`, as in
/// Supabase's user-management guide.
const PROFILES: &str = r"
create table public.profiles (
    id uuid primary key references auth.users (id) on delete cascade,
    full_name text,
    email text
);
create function public.handle_new_user() returns trigger
language plpgsql
security definer set search_path = ''
as $$
begin
    insert into public.profiles (id, full_name, email)
    values (new.id, new.raw_user_meta_data ->> 'full_name', new.email);
    return new;
end
$$;
create trigger on_auth_user_created
    after insert on auth.users
    for each row execute function public.handle_new_user();
";

/// A trigger that refuses every new user.
const REFUSING_TRIGGER: &str = r"
create function public.refuse_user() returns trigger
language plpgsql
as $$
begin
    raise exception 'no profile for you';
end
$$;
create trigger refuse_user
    after insert on auth.users
    for each row execute function public.refuse_user();
";

/// GoTrue's body for `invalid_credentials` (API version before 2024-01-01).
fn invalid_credentials() -> Value {
    json!({ "code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials" })
}

/// The settings of these tests: the library's defaults, on `url`.
fn on(url: &str) -> EmulatorConfig {
    EmulatorConfig::default().database_url(Some(url))
}

/// An emulator on a fresh database, and that database's URL.
async fn start() -> (Api, String) {
    let url = fresh_database();
    (Api::with(on(&url)).await, url)
}

/// Runs `f` on a thread of its own (the sync client's runtime must not nest in tokio's).
fn off_runtime<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f)
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Runs `statements` (`;`-separated) on `url`'s database.
fn try_sql(url: &str, statements: &str) -> Result<(), postgres::Error> {
    let (url, statements) = (url.to_owned(), statements.to_owned());
    off_runtime(move || {
        let mut client = support::connect(&url)?;
        client.batch_execute(&statements)
    })
}

/// [`try_sql`], failing the test with the statements and PostgreSQL's message.
fn sql(url: &str, statements: &str) {
    if let Err(e) = try_sql(url, statements) {
        panic!("{statements}\nfailed: {e:?}");
    }
}

/// Every row of `query` in PostgreSQL's text output (time zone UTC); `None` is NULL.
fn rows(url: &str, query: &str) -> Vec<Vec<Option<String>>> {
    let (url, query) = (url.to_owned(), query.to_owned());
    off_runtime(move || {
        let mut client = support::connect(&url).unwrap();
        client.batch_execute("SET TIME ZONE 'UTC'").unwrap();
        let messages = client
            .simple_query(&query)
            .unwrap_or_else(|e| panic!("{query}\nfailed: {e:?}"));
        messages
            .iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_owned))
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    })
}

/// The single value of a one-row, one-column query.
fn value(url: &str, query: &str) -> Option<String> {
    let rows = rows(url, query);
    assert_eq!(rows.len(), 1, "{query}: {rows:?}");
    assert_eq!(rows[0].len(), 1, "{query}: {rows:?}");
    rows[0][0].clone()
}

/// `count(*)` of `from_where` (`auth.users where ...`).
fn count(url: &str, from_where: &str) -> i64 {
    value(url, &format!("select count(*) from {from_where}"))
        .unwrap()
        .parse()
        .unwrap()
}

/// SQL writing a `timestamptz` column as Go's `time.Time` JSON does (and the emulator):
/// RFC 3339 in UTC, fractional seconds without trailing zeros.
fn go_time(column: &str) -> String {
    format!(
        "rtrim(rtrim(to_char({column} at time zone 'UTC', \
         'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '0'), '.') || 'Z'"
    )
}

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// A JSON string of the API's answer as the text a row holds; absent or null is `None`.
fn api_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

fn parse_json(text: &Option<String>) -> Value {
    serde_json::from_str(text.as_deref().unwrap()).unwrap()
}

/// The body of a 500 without its random `error_id`, after checking that it is a UUID.
fn without_error_id(res: &Res) -> Value {
    let mut body = res.body.clone();
    let id = body
        .as_object_mut()
        .and_then(|m| m.remove("error_id"))
        .unwrap_or_else(|| panic!("no error_id in {:?}", res.body));
    assert!(
        id.as_str()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()),
        "error_id {id} is not a UUID"
    );
    body
}

async fn signup_phone(api: &Api, phone: &str) -> Value {
    let res = api
        .post(
            "/signup",
            json!({ "phone": phone, "password": "secret123" }),
        )
        .await;
    assert_eq!(res.status, 200, "phone signup failed: {:?}", res.body);
    res.body
}

#[tokio::test]
async fn a_profile_trigger_sees_each_new_user() {
    let (api, url) = start().await;
    sql(&url, PROFILES);
    let res = api
        .post(
            "/signup",
            json!({
                "email": "ada@example.com", "password": "secret123",
                "data": { "full_name": "Ada Lovelace" }
            }),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let id = res.body["user"]["id"].as_str().unwrap();
    // The user as loaded: the sign-up's answer, like GoTrue's, lacks the generated
    // `confirmed_at` of the row it has just confirmed.
    let loaded = api
        .get_as("/user", res.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(loaded.status, 200, "{:?}", loaded.body);
    let user = &loaded.body;
    assert_eq!(user["id"], id);

    assert_eq!(
        rows(&url, "select id, full_name, email from public.profiles"),
        [[s(id), s("Ada Lovelace"), s("ada@example.com")]]
    );

    let columns = [
        "id".to_owned(),
        "aud".into(),
        "role".into(),
        "email".into(),
        "phone".into(),
        "raw_user_meta_data ->> 'full_name'".into(),
        "raw_app_meta_data ->> 'provider'".into(),
        "(raw_app_meta_data -> 'providers')::text".into(),
        go_time("email_confirmed_at"),
        go_time("confirmed_at"),
        go_time("last_sign_in_at"),
        go_time("created_at"),
        go_time("updated_at"),
        "is_anonymous::text".into(),
    ];
    let in_database = rows(
        &url,
        &format!("select {} from auth.users", columns.join(", ")),
    );
    // GoTrue's JSON has "" for the missing phone; the row has NULL.
    assert_eq!(user["phone"], "");
    let from_api = vec![
        api_text(&user["id"]),
        api_text(&user["aud"]),
        api_text(&user["role"]),
        api_text(&user["email"]),
        None,
        api_text(&user["user_metadata"]["full_name"]),
        api_text(&user["app_metadata"]["provider"]),
        api_text(&user["app_metadata"]["providers"]),
        api_text(&user["email_confirmed_at"]),
        api_text(&user["confirmed_at"]),
        api_text(&user["last_sign_in_at"]),
        api_text(&user["created_at"]),
        api_text(&user["updated_at"]),
        api_text(&user["is_anonymous"]),
    ];
    assert_eq!(in_database, [from_api]);
    assert_eq!(
        (
            in_database[0][3].as_deref(),
            in_database[0][5].as_deref(),
            in_database[0][7].as_deref(),
            in_database[0][13].as_deref()
        ),
        (
            Some("ada@example.com"),
            Some("Ada Lovelace"),
            Some(r#"["email"]"#),
            Some("false")
        )
    );
    assert!(in_database[0][8].is_some(), "email autoconfirm is on");
    assert_eq!(
        in_database[0][11],
        api_text(&res.body["user"]["created_at"])
    );

    let identities = rows(
        &url,
        &format!(
            "select id, provider, provider_id, user_id, identity_data::text, email, {}, {}, {} \
             from auth.identities",
            go_time("last_sign_in_at"),
            go_time("created_at"),
            go_time("updated_at"),
        ),
    );
    assert_eq!(identities.len(), 1, "{identities:?}");
    let row = &identities[0];
    let identity = &user["identities"][0];
    assert_eq!(
        row[..4],
        [api_text(&identity["identity_id"]), s("email"), s(id), s(id)]
    );
    assert_eq!(parse_json(&row[4]), identity["identity_data"]);
    assert_eq!(parse_json(&row[4])["email"], "ada@example.com");
    assert_eq!(row[5], s("ada@example.com"));
    assert_eq!(
        row[6..],
        [
            api_text(&identity["last_sign_in_at"]),
            api_text(&identity["created_at"]),
            api_text(&identity["updated_at"]),
        ]
    );
}

#[tokio::test]
async fn users_without_an_email_or_a_phone_hold_null() {
    let (api, url) = start().await;
    // Two of each: with '' in place of NULL, the second would break a unique index.
    let phone_1 = signup_phone(&api, "+15555550101").await;
    let phone_2 = signup_phone(&api, "+15555550102").await;
    let email_1 = api.signup("mail1@example.com", "secret123").await;
    let email_2 = api.signup("mail2@example.com", "secret123").await;
    let anonymous = api.post("/signup", json!({})).await;
    assert_eq!(anonymous.status, 200, "{:?}", anonymous.body);
    let anonymous = anonymous.body;
    // GoTrue's JSON has "" where the row has NULL.
    for (body, field) in [
        (&phone_1, "email"),
        (&phone_2, "email"),
        (&email_1, "phone"),
        (&email_2, "phone"),
        (&anonymous, "email"),
        (&anonymous, "phone"),
    ] {
        assert_eq!(body["user"][field], "", "{field} of {body:?}");
    }
    let id = |body: &Value| s(body["user"]["id"].as_str().unwrap());
    let mut expected = vec![
        vec![id(&phone_1), None, s("15555550101"), s("false")],
        vec![id(&phone_2), None, s("15555550102"), s("false")],
        vec![id(&email_1), s("mail1@example.com"), None, s("false")],
        vec![id(&email_2), s("mail2@example.com"), None, s("false")],
        vec![id(&anonymous), None, None, s("true")],
    ];
    expected.sort();
    assert_eq!(
        rows(
            &url,
            "select id, email, phone, is_anonymous::text from auth.users order by id"
        ),
        expected
    );
}

#[tokio::test]
async fn a_failing_trigger_fails_the_new_user_and_leaves_no_row() {
    let (api, url) = start().await;
    sql(&url, REFUSING_TRIGGER);

    let signup = api
        .post(
            "/signup",
            json!({ "email": "refused@example.com", "password": "secret123" }),
        )
        .await;
    let admin = api
        .call(api.admin(Method::POST, "/admin/users").json(&json!({
            "email": "refused-admin@example.com", "password": "secret123"
        })))
        .await;
    let anonymous = api.post("/signup", json!({})).await;
    let phone = api
        .post(
            "/signup",
            json!({ "phone": "+15555550103", "password": "secret123" }),
        )
        .await;
    for (res, msg) in [
        (&signup, "Database error saving new user"),
        (&admin, "Database error creating new user"),
        (&anonymous, "Database error creating anonymous user"),
        (&phone, "Database error saving new user"),
    ] {
        assert_eq!(res.status, 500, "{msg}: {:?}", res.body);
        assert_eq!(
            without_error_id(res),
            json!({ "code": 500, "error_code": "unexpected_failure", "msg": msg })
        );
        assert_eq!(res.header("x-sb-error-code"), Some("unexpected_failure"));
    }
    for table in [
        "auth.users",
        "auth.identities",
        "auth.sessions",
        "auth.refresh_tokens",
    ] {
        assert_eq!(count(&url, table), 0, "rows left in {table}");
    }

    // The failed transactions left the emulator's connection usable.
    sql(&url, "drop trigger refuse_user on auth.users");
    let accepted = api.signup("refused@example.com", "secret123").await;
    assert_eq!(
        value(&url, "select id from auth.users"),
        api_text(&accepted["user"]["id"])
    );
}

#[tokio::test]
async fn a_user_seeded_by_sql_signs_in() {
    let (api, url) = start().await;
    let id = "5e6f3d1c-8a4b-4c2d-9e0f-1a2b3c4d5e6f";
    if let Err(e) = try_sql(&url, "create extension if not exists pgcrypto") {
        panic!(
            "seed.sql's crypt() needs the pgcrypto extension, which this PostgreSQL \
             lacks (Debian: postgresql-contrib): {e:?}"
        );
    }
    sql(
        &url,
        &format!(
            r#"
insert into auth.users (
    instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
    raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
    confirmation_token, email_change, email_change_token_new, recovery_token
) values (
    '00000000-0000-0000-0000-000000000000', '{id}', 'authenticated', 'authenticated',
    'seed@example.com', crypt('password123', gen_salt('bf')), now(),
    '{{"provider":"email","providers":["email"]}}', '{{}}', now(), now(), '', '', '', ''
);
insert into auth.identities (
    id, user_id, provider_id, identity_data, provider, last_sign_in_at, created_at, updated_at
) values (
    gen_random_uuid(), '{id}', '{id}',
    format('{{"sub":"%s","email":"%s"}}', '{id}', 'Seed@Example.com')::jsonb,
    'email', now(), now(), now()
);
"#
        ),
    );
    // The generated column lower-cases the identity's email.
    assert_eq!(
        value(&url, "select email from auth.identities"),
        s("seed@example.com")
    );

    let login = api.login("seed@example.com", "password123").await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    let user = &login.body["user"];
    assert_eq!(
        (&user["id"], &user["email"], &user["aud"], &user["role"]),
        (
            &json!(id),
            &json!("seed@example.com"),
            &json!("authenticated"),
            &json!("authenticated")
        )
    );
    assert_eq!(
        user["app_metadata"],
        json!({ "provider": "email", "providers": ["email"] })
    );
    assert_eq!(user["user_metadata"], json!({}));
    assert_eq!(
        user["identities"][0]["identity_data"],
        json!({ "sub": id, "email": "Seed@Example.com" })
    );
    assert_eq!(
        support::jwt_part(login.body["access_token"].as_str().unwrap(), 1)["sub"],
        id
    );

    let wrong = api.login("seed@example.com", "password124").await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.body, invalid_credentials());
}

#[tokio::test]
async fn deleting_a_user_cascades_into_the_application_and_auth_tables() {
    let (api, url) = start().await;
    sql(&url, PROFILES);
    let gone = api.signup("gone@example.com", "secret123").await;
    let kept = api.signup("kept@example.com", "secret123").await;
    assert_eq!(api.login("gone@example.com", "secret123").await.status, 200);
    let gone_id = gone["user"]["id"].as_str().unwrap();
    let kept_id = kept["user"]["id"].as_str().unwrap();

    let counts = |id: &str| {
        [
            count(&url, &format!("auth.users where id = '{id}'")),
            count(&url, &format!("public.profiles where id = '{id}'")),
            count(&url, &format!("auth.identities where user_id = '{id}'")),
            count(&url, &format!("auth.sessions where user_id = '{id}'")),
            count(&url, &format!("auth.refresh_tokens where user_id = '{id}'")),
        ]
    };
    assert_eq!(counts(gone_id), [1, 1, 1, 2, 2]);
    assert_eq!(counts(kept_id), [1, 1, 1, 1, 1]);

    let deleted = api
        .call(api.admin(Method::DELETE, &format!("/admin/users/{gone_id}")))
        .await;
    assert_eq!((deleted.status, &deleted.body), (200, &json!({})));
    assert_eq!(counts(gone_id), [0, 0, 0, 0, 0]);
    assert_eq!(counts(kept_id), [1, 1, 1, 1, 1]);
}

#[tokio::test]
async fn users_sessions_and_keys_outlive_a_restart() {
    let url = fresh_database();
    let first = Api::with(on(&url)).await;
    let session = first.signup("stays@example.com", "secret123").await;
    let refresh_token = session["refresh_token"].as_str().unwrap().to_owned();
    let kid = first.emu.signing_kid().unwrap();
    first.emu.shutdown().await;
    drop(first);

    let second = Api::with(on(&url)).await;
    assert_eq!(second.emu.signing_kid(), Some(kid.clone()));
    // The access token of the first run is still good.
    let access = session["access_token"].as_str().unwrap();
    assert_eq!(support::jwt_part(access, 0)["kid"], kid.as_str());
    let me = second.get_as("/user", access).await;
    assert_eq!((me.status, &me.body["id"]), (200, &session["user"]["id"]));

    let login = second.login("stays@example.com", "secret123").await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    assert_eq!(login.body["user"]["id"], session["user"]["id"]);
    let refreshed = second.refresh(&refresh_token).await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    assert_eq!(refreshed.body["user"]["id"], session["user"]["id"]);
    assert_ne!(refreshed.body["refresh_token"], json!(refresh_token));
}

#[tokio::test]
async fn an_auth_schema_of_another_auth_server_is_refused() {
    let url = fresh_database();
    sql(
        &url,
        "create schema auth; create table auth.sessions (id uuid primary key);",
    );
    let err = on(&url).start().await.unwrap_err();
    let (dir, database) = socket_dir_and_database(&url);
    assert_eq!(err.kind(), ErrorKind::Database);
    // The emulator creates the tables missing here (users, flow_state...), so of the
    // columns it checks only the one of the table it found is missing.
    assert_eq!(
        err.to_string(),
        format!(
            "PostgreSQL at {dir}, database {database} already has an `auth` schema made by \
             another Auth server: it lacks auth.sessions.amr. Use a database without one \
             (the emulator creates its own)."
        ),
        "{:?}",
        std::error::Error::source(&err)
    );
}

#[tokio::test]
async fn a_url_that_is_not_one_is_a_config_error() {
    let err = on("not a url").start().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let source = std::error::Error::source(&err)
        .expect("the parser's error is kept")
        .to_string();
    assert_eq!(
        err.to_string(),
        format!("the database URL is not a PostgreSQL connection string: {source}")
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_database_error_without_the_password() {
    for url in [
        "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2",
        "postgres://u@127.0.0.1:1/db?password=hunter2&connect_timeout=2",
    ] {
        let cfg = on(url);
        assert!(!format!("{cfg:?}").contains("hunter2"), "{cfg:?}");
        let err = cfg.start().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Database, "{err}");
        let (display, debug) = (err.to_string(), format!("{err:?}"));
        assert!(
            display.starts_with("cannot connect to PostgreSQL at 127.0.0.1, database db: "),
            "{display}"
        );
        assert!(!display.contains("hunter2"), "{display}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    let missing = "postgres://postgres@localhost:5432/db?host=/nonexistent/emulator-socket";
    let err = on(missing).start().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Database, "{err}");
    let display = err.to_string();
    assert!(
        display.starts_with(
            "cannot connect to PostgreSQL at /nonexistent/emulator-socket, database db: "
        ),
        "{display}"
    );
}

#[tokio::test]
async fn the_database_is_named_by_socket_directory_and_name() {
    let (api, url) = start().await;
    let (dir, database) = socket_dir_and_database(&url);
    assert_eq!(
        api.emu.database(),
        format!("PostgreSQL at {dir}, database {database}")
    );
}

/// On two worker threads, so that the two start-ups run in parallel as two processes
/// would (on one thread, each start's synchronous steps run one after the other).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_emulators_started_together_share_one_database() {
    let url = fresh_database();
    // Tasks of their own: `join!` would poll both in one task, one start-up at a time.
    let (a, b) = (
        tokio::spawn(Api::with(on(&url))),
        tokio::spawn(Api::with(on(&url))),
    );
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let session = a.signup("shared@example.com", "secret123").await;
    let id = &session["user"]["id"];

    let login = b.login("shared@example.com", "secret123").await;
    assert_eq!((login.status, &login.body["user"]["id"]), (200, id));
    let refreshed = a
        .refresh(login.body["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!((refreshed.status, &refreshed.body["user"]["id"]), (200, id));
    assert_eq!(count(&url, "auth.users"), 1);

    // An access token from one is good at the other, both ways: they sign with the key
    // the first of them stored.
    for (from, at, token) in [
        ("a", &b, &session["access_token"]),
        ("b", &a, &login.body["access_token"]),
    ] {
        let me = at.get_as("/user", token.as_str().unwrap()).await;
        assert_eq!(
            (me.status, &me.body["id"]),
            (200, id),
            "a token of {from}: {:?}",
            me.body
        );
    }
    assert_eq!(a.emu.signing_kid(), b.emu.signing_kid());
}

/// What the emulator answers to ids that are not UUIDs in paths, random ids removed.
async fn answers_to_junk_ids(api: &Api) -> Vec<(String, u16, Value)> {
    let session = api.signup("junk-ids@example.com", "secret123").await;
    let token = session["access_token"].as_str().unwrap();
    let user_id = session["user"]["id"].as_str().unwrap();
    let junk = "not-a-uuid";
    let admin = [
        (Method::GET, format!("/admin/users/{junk}")),
        (Method::PUT, format!("/admin/users/{junk}")),
        (Method::DELETE, format!("/admin/users/{junk}")),
        (Method::GET, format!("/admin/users/{junk}/factors")),
        (
            Method::PUT,
            format!("/admin/users/{user_id}/factors/{junk}"),
        ),
        (
            Method::DELETE,
            format!("/admin/users/{user_id}/factors/{junk}"),
        ),
    ];
    let as_user = [
        (Method::DELETE, format!("/factors/{junk}")),
        (Method::POST, format!("/factors/{junk}/challenge")),
        (Method::POST, format!("/factors/{junk}/verify")),
        (Method::DELETE, format!("/user/identities/{junk}")),
    ];
    let body = json!({ "challenge_id": junk, "code": "123456", "user_metadata": {} });
    let mut out = Vec::new();
    let requests = admin
        .into_iter()
        .map(|(method, path)| (api.admin(method.clone(), &path), method, path))
        .chain(
            as_user
                .into_iter()
                .map(|(method, path)| (api.req_as(method.clone(), &path, token), method, path)),
        );
    for (req, method, path) in requests {
        let req = if method == Method::GET {
            req
        } else {
            req.json(&body)
        };
        let res = api.call(req).await;
        let body = if res.status >= 500 {
            without_error_id(&res)
        } else {
            res.body
        };
        out.push((
            format!("{method} {path}").replace(user_id, "USER"),
            res.status,
            body,
        ));
    }
    out
}

#[tokio::test]
async fn ids_that_are_not_uuids_are_not_found_as_on_sqlite() {
    let sqlite = Api::with(EmulatorConfig::default()).await;
    assert_eq!(sqlite.emu.database(), "in memory");
    let (postgres, _) = start().await;
    let on_sqlite = answers_to_junk_ids(&sqlite).await;
    let on_postgres = answers_to_junk_ids(&postgres).await;
    assert_eq!(on_postgres, on_sqlite);
    for (request, status, body) in &on_postgres {
        assert!(*status < 500, "{request}: {status} {body}");
    }
    assert_eq!(
        on_postgres[0],
        (
            "GET /admin/users/not-a-uuid".to_owned(),
            404,
            json!({ "code": 404, "error_code": "validation_failed", "msg": "user_id must be an UUID" })
        )
    );
}

/// GoTrue reads path ids with gofrs' `uuid.FromString`, which takes upper case, no
/// hyphens, braces and `urn:uuid:`; so does the emulator's UUID check. Both stores must
/// then find the user, not only the one that compares ids as UUIDs.
#[tokio::test]
async fn other_spellings_of_a_uuid_find_the_user_on_both_stores() {
    for api in [Api::with(EmulatorConfig::default()).await, start().await.0] {
        let session = api.signup("spelled@example.com", "secret123").await;
        let id = session["user"]["id"].as_str().unwrap().to_owned();
        for spelled in [
            id.to_uppercase(),
            id.replace('-', ""),
            format!("{{{id}}}"),
            format!("urn:uuid:{id}"),
        ] {
            let res = api
                .call(api.admin(Method::GET, &format!("/admin/users/{spelled}")))
                .await;
            assert_eq!(
                (res.status, &res.body["id"]),
                (200, &json!(id)),
                "{} {spelled}: {:?}",
                api.emu.database(),
                res.body
            );
        }
    }
}

/// Ends every other connection to the database at `url`; how many it ended.
fn end_other_connections(url: &str) -> i64 {
    let url = url.to_owned();
    off_runtime(move || {
        let mut client = support::connect(&url).unwrap();
        client
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0)
    })
}

#[tokio::test]
async fn a_connection_ended_by_the_server_is_replaced_without_a_failed_request() {
    let url = support::fresh_database();
    let api = Api::with(on(&url)).await;
    let before = api.signup("before@example.com", "secret123").await;

    assert_eq!(
        end_other_connections(&url),
        1,
        "the emulator's one connection"
    );
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
            json!({ "refresh_token": login.body["refresh_token"] }),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
}
