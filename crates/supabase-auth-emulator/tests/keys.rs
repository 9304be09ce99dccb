//! JWKS, signing algorithms and key rotation.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use supabase_auth_emulator::{EmulatorConfig, SigningAlg};
use support::{Api, jwt_part};

async fn jwks(api: &Api) -> serde_json::Value {
    api.call(api.http.get(api.url("/.well-known/jwks.json")))
        .await
        .body
}

#[tokio::test]
async fn es256_jwks_matches_the_signing_key() {
    let api = Api::start().await;
    let kid = api.emu.signing_kid().unwrap();
    let set = jwks(&api).await;
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(k["kid"], kid);
    assert_eq!(k["alg"], "ES256");
    assert_eq!(k["kty"], "EC");
    assert_eq!(k["crv"], "P-256");
    assert_eq!(k["use"], "sig");
    assert_eq!(k["key_ops"], json!(["verify"]));
    assert_eq!(k["ext"], true);
    assert!(k.get("d").is_none(), "never publish the private part");
    assert_eq!(k["x"].as_str().unwrap().len(), 43);

    // Verify a real access token against the published JWK.
    let s = api.signup("k@example.com", "secret123").await;
    let token = s["access_token"].as_str().unwrap();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(k.clone()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&["authenticated"]);
    v.set_issuer(&[api.emu.auth_url()]);
    let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &v).unwrap();
    assert_eq!(data.claims["email"], "k@example.com");
}

#[tokio::test]
async fn other_algorithms() {
    for (alg, name, kty) in [
        (SigningAlg::Rs256, "RS256", "RSA"),
        (SigningAlg::EdDsa, "EdDSA", "OKP"),
    ] {
        let api = Api::with(support::config().signing_alg(alg)).await;
        let s = api.signup("alg@example.com", "secret123").await;
        let token = s["access_token"].as_str().unwrap();
        assert_eq!(jwt_part(token, 0)["alg"], name);
        assert_eq!(jwks(&api).await["keys"][0]["kty"], kty);
        assert_eq!(api.get_as("/user", token).await.status, 200);
    }
    let hs = Api::with(support::config().signing_alg(SigningAlg::Hs256)).await;
    assert_eq!(hs.emu.signing_kid(), None);
    assert_eq!(jwks(&hs).await, json!({ "keys": [] }));
    let s = hs.signup("hs@example.com", "secret123").await;
    let token = s["access_token"].as_str().unwrap();
    assert_eq!(jwt_part(token, 0), json!({ "typ": "JWT", "alg": "HS256" }));
    let key = jsonwebtoken::DecodingKey::from_secret(hs.emu.jwt_secret().as_bytes());
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.set_audience(&["authenticated"]);
    assert!(jsonwebtoken::decode::<serde_json::Value>(token, &key, &v).is_ok());
    assert_eq!(hs.get_as("/user", token).await.status, 200);
}

#[tokio::test]
async fn rotation_keeps_old_keys_until_dropped() {
    let api = Api::start().await;
    let old_kid = api.emu.signing_kid().unwrap();
    let old = api.signup("rot@example.com", "secret123").await;
    let old_token = old["access_token"].as_str().unwrap();

    let new_kid = api.emu.rotate_signing_key(SigningAlg::Rs256).unwrap();
    assert_ne!(new_kid, old_kid);
    assert_eq!(api.emu.signing_kid().as_deref(), Some(new_kid.as_str()));
    let kids: Vec<String> = jwks(&api).await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kids, [old_kid.clone(), new_kid.clone()]);
    let fresh = api.login("rot@example.com", "secret123").await.body;
    assert_eq!(
        jwt_part(fresh["access_token"].as_str().unwrap(), 0)["kid"],
        new_kid
    );
    assert_eq!(
        api.get_as("/user", old_token).await.status,
        200,
        "old tokens still verify"
    );

    assert!(
        api.emu.drop_key(&new_kid).is_err(),
        "the current key cannot be dropped"
    );
    api.emu.drop_key(&old_kid).unwrap();
    assert_eq!(jwks(&api).await["keys"].as_array().unwrap().len(), 1);
    let rejected = api.get_as("/user", old_token).await;
    assert_eq!(rejected.status, 403);
    assert_eq!(rejected.body["error_code"], "bad_jwt");
}

#[tokio::test]
async fn rotation_over_http_needs_the_secret_key() {
    let api = Api::start().await;
    let url = format!("{}/emulator/v1/keys/rotate", api.emu.url());
    let denied = api
        .call(
            api.http
                .post(&url)
                .header("apikey", api.emu.publishable_key())
                .json(&json!({})),
        )
        .await;
    assert_eq!(denied.status, 403);
    let ok = api
        .call(
            api.http
                .post(&url)
                .header("apikey", api.emu.secret_key())
                .json(&json!({ "alg": "EdDSA" })),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["signing_alg"], "EdDSA");
    assert_eq!(ok.body["current_kid"], ok.body["kid"]);
    assert_eq!(ok.body["keys"].as_array().unwrap().len(), 2);
    let old = ok.body["keys"][0]["kid"].as_str().unwrap();
    let dropped = api
        .call(
            api.http
                .delete(format!("{}/emulator/v1/keys/{old}", api.emu.url()))
                .header("apikey", api.emu.secret_key()),
        )
        .await;
    assert_eq!(dropped.status, 200);
    assert_eq!(dropped.body["keys"].as_array().unwrap().len(), 1);
    let listed = api
        .call(
            api.http
                .get(format!("{}/emulator/v1/keys", api.emu.url()))
                .header("apikey", api.emu.secret_key()),
        )
        .await;
    assert_eq!(listed.body["keys"][0]["status"], "current");
}

#[tokio::test]
async fn file_database_keeps_users_and_the_key_across_restarts() {
    let dir = std::env::temp_dir().join(format!("sae-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("auth.db");
    let first = Api::with(EmulatorConfig::default().db_path(Some(&db))).await;
    let kid = first.emu.signing_kid().unwrap();
    let s = first.signup("persist@example.com", "secret123").await;
    first.emu.shutdown().await;

    let second = Api::with(EmulatorConfig::default().db_path(Some(&db))).await;
    assert_eq!(second.emu.signing_kid(), Some(kid));
    assert_eq!(
        second
            .login("persist@example.com", "secret123")
            .await
            .status,
        200
    );
    assert_eq!(
        second
            .refresh(s["refresh_token"].as_str().unwrap())
            .await
            .status,
        200
    );
    second.emu.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sign_jwt_signs_any_claims_with_the_current_key() {
    let emu = supabase_auth_emulator::EmulatorConfig::default()
        .start()
        .await
        .unwrap();
    let claims = serde_json::json!({ "sub": "x", "role": "editor", "custom": "é\"'" });
    let token = emu.sign_jwt(&claims).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    use base64::Engine as _;
    let decode = |part: &str| -> serde_json::Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(decode(parts[1]), claims);
    assert_eq!(decode(parts[0])["kid"], emu.signing_kid().unwrap().as_str());
    assert!(emu.sign_jwt(&serde_json::json!([1])).is_err());
}
