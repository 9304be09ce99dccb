//! Loopback helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

pub(crate) mod mfa;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use supabase_auth_emulator::{Emulator, EmulatorConfig};

/// A response reduced to what the tests assert on.
#[derive(Debug)]
pub(crate) struct Res {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Res {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An emulator plus an HTTP client that does not follow redirects.
pub(crate) struct Api {
    pub(crate) emu: Emulator,
    pub(crate) http: reqwest::Client,
}

/// The settings every test starts from: the library's defaults, on the store the run
/// chose. `EMULATOR_TEST_STORE=postgres` gives each emulator a database of its own in
/// one throwaway PostgreSQL per test process; unset (or `sqlite`), SQLite in memory.
/// The test command runs the suite both ways.
pub(crate) fn config() -> EmulatorConfig {
    let cfg = EmulatorConfig::default();
    match std::env::var("EMULATOR_TEST_STORE").as_deref() {
        Ok("postgres") => cfg.database_url(Some(fresh_database())),
        Ok("sqlite" | "") | Err(_) => cfg,
        Ok(other) => panic!("EMULATOR_TEST_STORE={other}: expected sqlite or postgres"),
    }
}

/// Fails unless `emu` keeps its data where `EMULATOR_TEST_STORE` asked.
pub(crate) fn assert_on_the_chosen_store(emu: &Emulator) {
    let postgres = std::env::var("EMULATOR_TEST_STORE").as_deref() == Ok("postgres");
    let database = emu.database();
    assert_eq!(
        database.starts_with("PostgreSQL at "),
        postgres,
        "the emulator keeps its data in {database}"
    );
}

/// The throwaway server of this test process, started on first use. Never dropped: the
/// server stops by itself when the process exits.
fn postgres() -> &'static throwaway_postgres::ThrowawayPostgres {
    static SERVER: std::sync::OnceLock<throwaway_postgres::ThrowawayPostgres> =
        std::sync::OnceLock::new();
    SERVER.get_or_init(|| {
        throwaway_postgres::ThrowawayPostgres::start()
            .unwrap_or_else(|e| panic!("EMULATOR_TEST_STORE=postgres needs PostgreSQL: {e}"))
    })
}

/// A new, empty database on [`postgres`], for one emulator.
pub(crate) fn fresh_database() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "emulator_{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let server = postgres();
    let admin = server.url().to_owned();
    // The sync client must not run on an async runtime's thread.
    let create = format!("CREATE DATABASE {name}");
    std::thread::spawn(move || {
        let mut client = connect(&admin).unwrap();
        client.batch_execute(&create).unwrap();
    })
    .join()
    .unwrap();
    server.url_for_database(&name)
}

impl Api {
    pub(crate) async fn start() -> Self {
        let api = Self::with(config()).await;
        assert_on_the_chosen_store(&api.emu);
        api
    }

    pub(crate) async fn with(cfg: EmulatorConfig) -> Self {
        let emu = cfg.start().await.unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { emu, http }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.auth_url())
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Res {
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Res {
            status,
            headers,
            body,
        }
    }

    /// A request with the publishable key, as supabase-js sends it (without the version header).
    pub(crate) fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let key = self.emu.publishable_key();
        self.req_as(method, path, key)
    }

    /// A request with the publishable key as `apikey` and `token` as the bearer.
    pub(crate) fn req_as(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("apikey", self.emu.publishable_key())
            .header("authorization", format!("Bearer {token}"))
    }

    pub(crate) async fn call(&self, req: reqwest::RequestBuilder) -> Res {
        self.send(req).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Res {
        self.send(self.req(reqwest::Method::POST, path).json(&body))
            .await
    }

    pub(crate) async fn post_as(&self, path: &str, token: &str, body: Value) -> Res {
        let req = self.req_as(reqwest::Method::POST, path, token).json(&body);
        self.send(req).await
    }

    pub(crate) async fn get(&self, path: &str) -> Res {
        self.send(self.req(reqwest::Method::GET, path)).await
    }

    pub(crate) async fn get_as(&self, path: &str, token: &str) -> Res {
        self.send(self.req_as(reqwest::Method::GET, path, token))
            .await
    }

    pub(crate) async fn put_as(&self, path: &str, token: &str, body: Value) -> Res {
        self.send(self.req_as(reqwest::Method::PUT, path, token).json(&body))
            .await
    }

    /// A request with the secret key (service role).
    pub(crate) fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let key = self.emu.secret_key();
        self.http
            .request(method, self.url(path))
            .header("apikey", key)
            .header("authorization", format!("Bearer {key}"))
    }

    pub(crate) async fn signup(&self, email: &str, password: &str) -> Value {
        let res = self
            .post("/signup", json!({ "email": email, "password": password }))
            .await;
        assert_eq!(res.status, 200, "signup failed: {:?}", res.body);
        res.body
    }

    pub(crate) async fn login(&self, email: &str, password: &str) -> Res {
        self.post(
            "/token?grant_type=password",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    pub(crate) async fn refresh(&self, token: &str) -> Res {
        self.post(
            "/token?grant_type=refresh_token",
            json!({ "refresh_token": token }),
        )
        .await
    }
}

/// Decodes a JWT segment without verifying (for asserting claims).
pub(crate) fn jwt_part(token: &str, index: usize) -> Value {
    use base64::Engine as _;
    let part = token.split('.').nth(index).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// `(verifier, challenge)` for PKCE S256.
pub(crate) fn pkce_pair() -> (String, String) {
    use base64::Engine as _;
    use sha2::Digest as _;
    let verifier = "a".repeat(20) + &uuid::Uuid::new_v4().simple().to_string() + &"b".repeat(20);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Parses `a=1&b=2` (a query or fragment) into pairs.
pub(crate) fn pairs(s: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s.as_bytes())
        .into_owned()
        .collect()
}

/// An `application/x-www-form-urlencoded` POST.
pub(crate) fn form_post<K: AsRef<str>, V: AsRef<str>>(
    http: &reqwest::Client,
    url: String,
    fields: &[(K, V)],
) -> reqwest::RequestBuilder {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
        .finish();
    http.post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
}

/// The socket directory (`?host=`) and database of a [`fresh_database`] URL.
pub(crate) fn socket_dir_and_database(url: &str) -> (String, String) {
    let parsed = url::Url::parse(url).unwrap();
    let dir = parsed
        .query_pairs()
        .find(|(k, _)| k == "host")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let database = parsed.path().trim_start_matches('/').to_owned();
    assert!(dir.starts_with('/') && !database.is_empty(), "{url}");
    (dir, database)
}

/// A sync client on the socket of a [`fresh_database`] URL (call it off the async
/// runtime). Not `Client::connect(url)`: the `postgres` crate adds the URL's `?host=` to
/// its `localhost` and would try TCP first, perhaps another server on this machine.
pub(crate) fn connect(url: &str) -> Result<postgres::Client, postgres::Error> {
    let parsed = url::Url::parse(url).unwrap();
    let (dir, database) = socket_dir_and_database(url);
    postgres::Config::new()
        .host_path(dir)
        .port(parsed.port().unwrap_or(5432))
        .user(parsed.username())
        .dbname(&database)
        .connect(postgres::NoTls)
}
