//! `notes-api` checked from outside: the binary started as a newcomer starts it (no
//! arguments, `PORT=0`), driven over real HTTP, stopped with SIGTERM.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const PASSWORD: &str = "notes-password-1";

/// The running binary and what it printed.
struct Api {
    child: Child,
    lines: HashMap<String, String>,
    http: Client,
}

impl Api {
    async fn start() -> Self {
        let mut child = command().spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout).lines();
        let mut lines = HashMap::new();
        let read = async {
            while let Some(line) = reader.next_line().await.unwrap() {
                if let Some((label, value)) = line.trim().split_once(':')
                    && !value.is_empty()
                {
                    lines.insert(label.to_owned(), value.trim().to_owned());
                }
                if line.trim_start().starts_with("Database:") {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .unwrap();
        Self {
            child,
            lines,
            http: Client::new(),
        }
    }

    fn line(&self, label: &str) -> &str {
        self.lines.get(label).map(String::as_str).unwrap()
    }

    fn app(&self) -> &str {
        self.line("App")
    }

    /// The database URL, without the annotation after it.
    fn database_url(&self) -> &str {
        self.line("Database").split(' ').next().unwrap()
    }

    /// The Auth URL, without the annotation after it.
    fn auth(&self) -> &str {
        self.line("Auth").split(' ').next().unwrap()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, String) {
        let mut req = self.http.request(method, format!("{}{path}", self.app()));
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let res = req.send().await.unwrap();
        assert_eq!(
            res.headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap()),
            Some("application/json"),
            "{path}"
        );
        (res.status(), res.text().await.unwrap())
    }

    async fn json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let (status, text) = self.call(method, path, token, body).await;
        (status, serde_json::from_str(&text).unwrap())
    }

    /// A JSON `POST` to the Auth server, with the key printed as `key_label`.
    async fn auth_post(&self, path: &str, key_label: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/auth/v1{path}", self.auth()))
            .header("apikey", self.line(key_label))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Signs a new user up at the Auth server (email confirmation is off in the
    /// embedded emulator) and returns `(id, access token)`.
    async fn sign_up(&self, email: &str) -> (String, String) {
        let body = json!({ "email": email, "password": PASSWORD });
        let session: Value = self
            .auth_post("/signup", "Publishable key", body)
            .await
            .json()
            .await
            .unwrap();
        (
            session["user"]["id"].as_str().unwrap().to_owned(),
            session["access_token"].as_str().unwrap().to_owned(),
        )
    }

    /// A user whose tokens carry `role`, made with the Auth admin API and the secret
    /// key, as on a real project.
    async fn user_with_role(&self, email: &str, role: &str) -> String {
        let body =
            json!({ "email": email, "password": PASSWORD, "email_confirm": true, "role": role });
        let created = self.auth_post("/admin/users", "Secret key", body).await;
        assert_eq!(created.status(), StatusCode::OK);
        self.sign_in(email).await
    }

    async fn sign_in(&self, email: &str) -> String {
        let body = json!({ "email": email, "password": PASSWORD });
        let session: Value = self
            .auth_post("/token?grant_type=password", "Publishable key", body)
            .await
            .json()
            .await
            .unwrap();
        session["access_token"].as_str().unwrap().to_owned()
    }

    /// Moves the Auth server's clock (its fault mode, secret key only).
    async fn auth_clock_offset(&self, secs: i64) {
        let res = self
            .http
            .post(format!("{}/emulator/v1/faults", self.auth()))
            .header("apikey", self.line("Secret key"))
            .json(&json!({ "clock_offset_secs": secs }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    /// SIGTERM, then the exit status.
    async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .unwrap()
            .unwrap()
    }
}

fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_notes-api"));
    command
        .env("PORT", "0")
        .env_remove("SUPABASE_URL")
        .env_remove("SUPABASE_PUBLISHABLE_KEY")
        .env_remove("SUPABASE_SECRET_KEY")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn error(code: &str, message: &str) -> Value {
    json!({ "code": code, "message": message })
}

fn missing() -> Value {
    error(
        "missing_credentials",
        "credentials required: this endpoint accepts user",
    )
}

/// Tokens that must never get in: garbage, `alg: none`, expired, another project's key.
async fn bad_tokens(api: &Api, valid: &str) -> Vec<(&'static str, String)> {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let alg_none = format!("{header}.{}.", valid.split('.').nth(1).unwrap());
    api.auth_clock_offset(-7200).await;
    let expired = api.sign_in("ada@example.com").await;
    api.auth_clock_offset(0).await;
    assert!(payload(&expired)["exp"].as_i64().unwrap() < payload(valid)["iat"].as_i64().unwrap());
    let other = supabase_auth_emulator::EmulatorConfig::default()
        .start()
        .await
        .unwrap();
    let wrong_key = other.sign_jwt(&payload(valid)).unwrap();
    vec![
        ("garbage", "garbage".to_owned()),
        ("alg none", alg_none),
        ("expired", expired),
        ("wrong key", wrong_key),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_routes_from_outside() {
    let api = Api::start().await;
    assert!(api.line("Publishable key").starts_with("sb_publishable_"));
    assert!(api.line("Secret key").starts_with("sb_secret_"));

    // /health: exactly this body.
    assert_eq!(
        api.call(Method::GET, "/health", None, None).await,
        (StatusCode::OK, r#"{"status":"ok"}"#.to_owned())
    );

    let (ada_id, ada) = api.sign_up("ada@example.com").await;
    let (bob_id, bob) = api.sign_up("bob@example.com").await;
    let ada_claims = json!({ "userClaims": { "id": ada_id, "email": "ada@example.com", "role": "authenticated" } });

    // /me and /me-optional.
    assert_eq!(
        api.json(Method::GET, "/me", None, None).await,
        (StatusCode::UNAUTHORIZED, missing())
    );
    assert_eq!(
        api.json(Method::GET, "/me", Some(&ada), None).await,
        (StatusCode::OK, ada_claims.clone())
    );
    assert_eq!(
        api.call(Method::GET, "/me-optional", None, None).await,
        (StatusCode::OK, r#"{"userClaims":null}"#.to_owned())
    );
    assert_eq!(
        api.json(Method::GET, "/me-optional", Some(&ada), None)
            .await,
        (StatusCode::OK, ada_claims)
    );
    for (what, token) in bad_tokens(&api, &ada).await {
        for path in ["/me", "/me-optional", "/notes", "/all-notes", "/profile"] {
            let (status, body) = api.json(Method::GET, path, Some(&token), None).await;
            assert_eq!(
                (status, &body["code"]),
                (StatusCode::UNAUTHORIZED, &json!("invalid_token")),
                "{what} {path}"
            );
        }
        let (status, _) = api
            .json(
                Method::POST,
                "/notes",
                Some(&token),
                Some(r#"{"body":"x"}"#),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
    }

    // POST /notes: the row, the body byte for byte.
    let text = "héllo ✓ \"quoted\" \\ <b>bold</b> 🦀\n'); drop table notes; --";
    let (status, note) = api
        .json(
            Method::POST,
            "/notes",
            Some(&ada),
            Some(&json!({ "body": text }).to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let ada_note = json!({ "id": note["id"], "user_id": ada_id, "body": text });
    assert_eq!(note, ada_note);
    assert!(note["id"].is_i64());
    let (status, bob_note) = api
        .json(
            Method::POST,
            "/notes",
            Some(&bob),
            Some(r#"{"body":"bob's"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(bob_note["user_id"], json!(bob_id));

    // 400, never 422.
    for (body, message) in [
        ("{}", "`body` is missing"),
        (r#"{"body":""}"#, "`body` must not be empty"),
        (r#"{"body":42}"#, "`body` must be a string"),
        (r#"{"body":null}"#, "`body` must be a string"),
        ("not json", "the body must be a JSON object"),
        ("", "the body must be a JSON object"),
    ] {
        assert_eq!(
            api.json(Method::POST, "/notes", Some(&ada), Some(body))
                .await,
            (StatusCode::BAD_REQUEST, error("invalid_body", message)),
            "{body}"
        );
    }
    assert_eq!(
        api.json(Method::POST, "/notes", None, Some(r#"{"body":"x"}"#))
            .await,
        (StatusCode::UNAUTHORIZED, missing())
    );

    // GET /notes: each sees their own; /all-notes: everyone's.
    assert_eq!(
        api.json(Method::GET, "/notes", Some(&ada), None).await,
        (StatusCode::OK, json!([ada_note]))
    );
    assert_eq!(
        api.json(Method::GET, "/notes", Some(&bob), None).await,
        (StatusCode::OK, json!([bob_note]))
    );
    assert_eq!(
        api.json(Method::GET, "/notes", None, None).await,
        (StatusCode::UNAUTHORIZED, missing())
    );
    assert_eq!(
        api.json(Method::GET, "/all-notes", Some(&bob), None).await,
        (StatusCode::OK, json!([ada_note, bob_note]))
    );
    assert_eq!(
        api.json(Method::GET, "/all-notes", None, None).await,
        (StatusCode::UNAUTHORIZED, missing())
    );

    // Roles other than authenticated: verified, but refused wherever the database is.
    for (email, role) in [
        ("svc@example.com", "service_role"),
        ("ed@example.com", "editor"),
    ] {
        let token = api.user_with_role(email, role).await;
        let (status, me) = api.json(Method::GET, "/me", Some(&token), None).await;
        assert_eq!(
            (status, &me["userClaims"]["role"]),
            (StatusCode::OK, &json!(role))
        );
        for (method, path, body) in [
            (Method::GET, "/notes", None),
            (Method::POST, "/notes", Some(r#"{"body":"sneaky"}"#)),
            (Method::GET, "/all-notes", None),
            (Method::GET, "/profile", None),
        ] {
            let (status, body) = api.json(method, path, Some(&token), body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} {path}");
            assert_eq!(body["code"], "unsupported_role", "{role} {path}");
        }
    }
    assert_eq!(
        api.json(Method::GET, "/all-notes", Some(&ada), None)
            .await
            .1,
        json!([ada_note, bob_note])
    );

    profiles(&api, (&ada_id, &ada), &bob_id).await;

    // Everything else is JSON too.
    assert_eq!(
        api.json(Method::GET, "/nope", None, None).await,
        (StatusCode::NOT_FOUND, error("not_found", "no such route"))
    );
    assert_eq!(
        api.json(Method::DELETE, "/notes", Some(&ada), None).await,
        (
            StatusCode::METHOD_NOT_ALLOWED,
            error(
                "method_not_allowed",
                "this route does not answer that method"
            )
        )
    );

    // SIGTERM: a clean exit, and the throwaway cluster is gone.
    let database = api.line("Database").to_owned();
    let dir = database
        .split("host=")
        .nth(1)
        .unwrap()
        .split([' ', '&'])
        .next()
        .unwrap()
        .to_owned();
    assert!(Path::new(&dir).is_dir(), "{database}");
    let status = api.terminate().await;
    assert!(status.success(), "{status:?}");
    assert!(!Path::new(&dir).exists(), "{dir} is still there");
}

/// `(id, display_name, created_at as /profile writes it)` of every profile, read as the
/// superuser (RLS does not apply to it), by email.
async fn all_profiles(api: &Api) -> Vec<(String, Option<String>, String)> {
    let mut conn = sqlx::PgConnection::connect(api.database_url())
        .await
        .unwrap();
    let rows = sqlx::query_as(
        "select p.id::text, p.display_name, \
         to_char(p.created_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
         from public.profiles p join auth.users u on u.id = p.id order by u.email",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    rows
}

/// The emulator keeps its users in the API's database: each sign-up's trigger made a
/// profile, `/profile` shows the caller's own, and deleting a user deletes it.
async fn profiles(api: &Api, (ada_id, ada): (&str, &str), bob_id: &str) {
    // Cy signs up with a name, as OAuth providers send it.
    let body = json!({ "email": "cy@example.com", "password": PASSWORD, "data": { "full_name": "Cy Young" } });
    let session: Value = api
        .auth_post("/signup", "Publishable key", body)
        .await
        .json()
        .await
        .unwrap();
    let cy_id = session["user"]["id"].as_str().unwrap().to_owned();
    let cy = session["access_token"].as_str().unwrap().to_owned();

    // Everyone the Auth server added, with their names: the email's local part, or the
    // one given.
    let rows = all_profiles(api).await;
    let names: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|(id, name, _)| (id.as_str(), name.as_deref()))
        .collect();
    let (ed, svc) = (&rows[3].0, &rows[4].0);
    assert_eq!(
        names,
        [
            (ada_id, Some("ada")),
            (bob_id, Some("bob")),
            (cy_id.as_str(), Some("Cy Young")),
            (ed.as_str(), Some("ed")),
            (svc.as_str(), Some("svc")),
        ]
    );
    let profile = |i: usize| {
        let (id, name, created_at) = &rows[i];
        json!({ "id": id, "display_name": name, "created_at": created_at })
    };
    assert_eq!(
        api.json(Method::GET, "/profile", Some(ada), None).await,
        (StatusCode::OK, profile(0))
    );
    assert_eq!(
        api.json(Method::GET, "/profile", Some(&cy), None).await,
        (StatusCode::OK, profile(2))
    );
    assert_eq!(
        api.json(Method::GET, "/profile", None, None).await,
        (StatusCode::UNAUTHORIZED, missing())
    );

    // Deleted with the Auth admin API: the profile goes with the user. Cy's token still
    // verifies, and finds nothing.
    let res = api
        .http
        .delete(format!("{}/auth/v1/admin/users/{cy_id}", api.auth()))
        .header("apikey", api.line("Secret key"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        api.json(Method::GET, "/profile", Some(&cy), None).await,
        (
            StatusCode::NOT_FOUND,
            error("profile_not_found", "there is no profile for this user")
        )
    );
    let left: Vec<String> = all_profiles(api)
        .await
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(left, [ada_id, bob_id, ed.as_str(), svc.as_str()]);
}

#[tokio::test]
async fn without_postgresql_it_exits_saying_how_to_get_one() {
    let empty = std::env::temp_dir().join(format!("notes-api-no-pg-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let output = command()
        .env(throwaway_postgres_bindir(), &empty)
        .output()
        .await
        .unwrap();
    std::fs::remove_dir_all(&empty).unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PostgreSQL is not installed"), "{stderr}");
    assert!(stderr.contains("apt-get install postgresql"), "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

fn throwaway_postgres_bindir() -> &'static str {
    "THROWAWAY_POSTGRES_BINDIR"
}

/// `node` with the flag supabase-js needs on Node 20 (no global WebSocket before 22).
fn node() -> std::process::Command {
    let version = std::process::Command::new("node")
        .arg("--version")
        .output()
        .expect("the interop test needs Node.js >= 20 on PATH");
    let version = String::from_utf8_lossy(&version.stdout);
    let major: u32 = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut node = std::process::Command::new("node");
    if major < 22 {
        node.arg("--experimental-websocket");
    }
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_supabase_js_calls_the_api_as_its_user() {
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/js");
    assert!(
        js.join("node_modules/@supabase/supabase-js").is_dir(),
        "interop/js/node_modules is missing: run `npm ci` in interop/js (the test command does)"
    );
    let api = Api::start().await;
    let email = "js@example.com";
    let (id, _) = api.sign_up(email).await;
    let output = node()
        .current_dir(&js)
        .arg("api/supabase-js-calls.mjs")
        .args([
            api.auth(),
            api.line("Publishable key"),
            api.app(),
            email,
            PASSWORD,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    let token = out["token"].as_str().unwrap();
    assert_eq!(out["userId"], json!(id));

    assert_eq!(
        out["signedOutOptional"],
        json!({ "status": 200, "body": { "userClaims": null } })
    );
    assert_eq!(
        out["signedOutMe"],
        json!({ "status": 401, "body": missing() })
    );
    assert_eq!(
        out["me"],
        json!({ "status": 200, "body": { "userClaims": { "id": id, "email": email, "role": "authenticated" } } })
    );
    let note =
        json!({ "id": out["created"]["body"]["id"], "user_id": id, "body": "from supabase-js ✓" });
    assert_eq!(out["created"], json!({ "status": 201, "body": note }));
    assert_eq!(out["notes"], json!({ "status": 200, "body": [note] }));
    // What supabase-js sent: its key in `apikey` always, the user's token once signed in,
    // and no key in the bearer slot for an `sb_publishable_` key.
    let key = api.line("Publishable key");
    let seen = |path: &str, authorization: Value| json!({ "path": path, "apikey": key, "authorization": authorization });
    let bearer = json!(format!("Bearer {token}"));
    assert_eq!(
        out["seen"],
        json!([
            seen("/me-optional", Value::Null),
            seen("/me", Value::Null),
            seen("/me", bearer.clone()),
            seen("/notes", bearer.clone()),
            seen("/notes", bearer),
        ])
    );
    assert!(api.terminate().await.success());
}
