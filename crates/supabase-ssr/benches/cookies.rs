//! The cookie contract on the request path: reading a session out of the request's
//! cookies (one and three chunks), and what a refresh writes back (the write plan and
//! its `Set-Cookie` values).
//!
//! `cargo bench -p supabase-ssr --bench cookies`
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use supabase_ssr::adapter::codec::{create_chunks, plan_writes};
use supabase_ssr::cookies::{CookieConfig, CookieJar};
use supabase_ssr::{SupabaseAuth, UnverifiedSession};

const PROJECT: &str = "https://abcdefghijklmnop.supabase.co";

/// A session shaped like the ones Supabase Auth issues; `metadata_bytes` of user
/// metadata make it spill over several cookie chunks. Sessions of different seeds differ
/// in every chunk.
fn session(metadata_bytes: usize, seed: u32) -> UnverifiedSession {
    let bio = if seed.is_multiple_of(2) { "x" } else { "y" };
    // A real access token is ~800 bytes of base64url; its contents do not matter here.
    let access_token = format!(
        "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtpZC0xIiwidHlwIjoiSldUIn0.{}.{}",
        "eyJpc3MiOiJodHRwczovL2FiY2RlZmdoaWprbG1ub3Auc3VwYWJhc2UuY28vYXV0aC92MSJ9".repeat(8),
        format!("sig{seed:08}").repeat(8)
    );
    let user = json!({
        "id": "8d4e3a6c-2b1f-4f0e-9a7d-5c6b4a3e2d1f",
        "aud": "authenticated",
        "role": "authenticated",
        "email": "someone@example.com",
        "email_confirmed_at": "2025-10-09T08:53:20.000000Z",
        "phone": "",
        "confirmed_at": "2025-10-09T08:53:20.000000Z",
        "last_sign_in_at": "2025-10-09T08:53:20.000000Z",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {"bio": bio.repeat(metadata_bytes), "email_verified": true},
        "identities": [{
            "identity_id": "0b9f3c1e-7a2d-4c5b-8e6f-1a2b3c4d5e6f",
            "id": "8d4e3a6c-2b1f-4f0e-9a7d-5c6b4a3e2d1f",
            "user_id": "8d4e3a6c-2b1f-4f0e-9a7d-5c6b4a3e2d1f",
            "identity_data": {"email": "someone@example.com", "email_verified": false,
                              "phone_verified": false, "sub": "8d4e3a6c-2b1f-4f0e-9a7d-5c6b4a3e2d1f"},
            "provider": "email",
            "last_sign_in_at": "2025-10-09T08:53:20.000000Z",
            "created_at": "2025-10-09T08:53:20.000000Z",
            "updated_at": "2025-10-09T08:53:20.000000Z",
            "email": "someone@example.com"
        }],
        "created_at": "2025-10-09T08:53:20.000000Z",
        "updated_at": "2025-10-09T08:53:20.000000Z",
        "is_anonymous": false
    });
    let body: Map<String, Value> = serde_json::from_value(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": 3600,
        // Far in the future: reading never triggers a refresh.
        "expires_at": 4_102_444_800_i64,
        "refresh_token": format!("rt{seed:010}"),
        "user": user,
    }))
    .unwrap();
    UnverifiedSession::from_auth_response(body, 1_760_000_000_000).unwrap()
}

/// The session's cookies as `(name, value)` pairs, and as a `Cookie` header.
fn cookies_of(auth: &SupabaseAuth, s: &UnverifiedSession) -> Vec<(String, String)> {
    let encoded = auth.cookie_config().encode_value(s.as_json());
    create_chunks(auth.storage_key(), &encoded)
}

fn header_of(cookies: &[(String, String)]) -> String {
    let mut parts = vec!["theme=dark".to_owned()];
    parts.extend(cookies.iter().map(|(n, v)| format!("{n}={v}")));
    parts.push("_ga=GA1.1.123456789.1760000000".to_owned());
    parts.join("; ")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn session_read(c: &mut Criterion) {
    let auth = SupabaseAuth::builder(PROJECT, "sb_publishable_bench")
        .build()
        .unwrap();
    let rt = runtime();
    let mut group = c.benchmark_group("session_read");
    for (label, metadata, chunks) in [("1_chunk", 0, 1), ("3_chunks", 5_000, 3)] {
        let s = session(metadata, 1);
        let cookies = cookies_of(&auth, &s);
        assert_eq!(cookies.len(), chunks, "{label}: wrong number of chunks");
        let header = header_of(&cookies);
        // Check once that the bench reads what it should.
        let read = rt.block_on(
            auth.server_client(CookieJar::from_cookie_header(&header))
                .get_session(),
        );
        assert_eq!(read.unwrap().unwrap().access_token(), s.access_token());
        // The whole request-side read: parse the Cookie header, make the per-request
        // client, combine and decode the chunks, read tokens and expires_at.
        group.bench_function(label, |b| {
            b.to_async(&rt).iter(|| async {
                let jar = CookieJar::from_cookie_header(black_box(&header));
                let client = auth.server_client(jar);
                black_box(client.get_session().await.unwrap());
            });
        });
    }
    group.finish();
}

fn write_plan(c: &mut Criterion) {
    let auth = SupabaseAuth::builder(PROJECT, "sb_publishable_bench")
        .build()
        .unwrap();
    let config = CookieConfig::default();
    let key = auth.storage_key().to_owned();
    let mut group = c.benchmark_group("write_plan");
    for (label, metadata, chunks) in [("1_chunk", 0, 1), ("3_chunks", 5_000, 3)] {
        // A refresh: the request held the old session, the new one replaces it.
        let old = session(metadata, 1);
        let new = session(metadata, 2);
        let current: Vec<_> = cookies_of(&auth, &old)
            .into_iter()
            .map(|(n, v)| supabase_ssr::cookies::Cookie::new(n, v))
            .collect();
        let plan = plan_writes(&current, &[(&key, new.as_json())], &[], &config);
        assert_eq!(plan.len(), chunks, "{label}: one write per chunk");
        group.bench_function(format!("{label}/plan"), |b| {
            b.iter(|| {
                black_box(plan_writes(
                    black_box(&current),
                    &[(&key, new.as_json())],
                    &[],
                    &config,
                ))
            });
        });
        group.bench_function(format!("{label}/plan_and_set_cookie"), |b| {
            b.iter(|| {
                let plan = plan_writes(black_box(&current), &[(&key, new.as_json())], &[], &config);
                let headers: Vec<String> = plan.iter().map(|c| c.to_header_value()).collect();
                black_box(headers)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, session_read, write_plan);
criterion_main!(benches);
