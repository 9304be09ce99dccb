//! A flood of forged tokens must not be amplified onto the Auth server: tokens with
//! random unknown `kid`s cause at most one JWKS fetch per cooldown, and the `/user`
//! checks they fall back to are bounded by `user_fallback_concurrency`.
#![allow(clippy::unwrap_used)]

mod reliability;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reliability::*;
use serde_json::json;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::clock::{Clock, ManualClock, SystemClock};
use supabase_ssr::cookies::CookieJar;

const CONCURRENCY: usize = 4;
const BUDGET: Duration = Duration::from_millis(500);
const USER_DELAY: Duration = Duration::from_millis(100);
const FLOOD: usize = 300;

struct Outcome {
    rejected_by_server: usize,
    refused_busy: usize,
    took: Duration,
}

/// Sends `FLOOD` concurrent forged tokens made by `forge` through `verify_token`.
async fn flood(auth: &SupabaseAuth, forge: impl Fn() -> String) -> Outcome {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..FLOOD {
        let (auth, token) = (auth.clone(), forge());
        tasks.push(tokio::spawn(async move {
            auth.server_client(CookieJar::default())
                .verify_token(&token)
                .await
        }));
    }
    let (mut rejected_by_server, mut refused_busy) = (0, 0);
    for t in tasks {
        let err = t.await.unwrap().expect_err("a forged token was accepted");
        if err.is_invalid_jwt() {
            assert_eq!((err.status(), err.code()), (Some(403), Some("bad_jwt")));
            rejected_by_server += 1;
        } else {
            assert!(err.is_timeout() && err.is_transient(), "{err}");
            refused_busy += 1;
        }
    }
    Outcome {
        rejected_by_server,
        refused_busy,
        took: started.elapsed(),
    }
}

/// The most `/user` calls `CONCURRENCY` slots can make while the last waiter waits.
fn max_user_calls() -> usize {
    let rounds = (BUDGET.as_millis() / USER_DELAY.as_millis()) as usize + 2;
    CONCURRENCY * rounds
}

async fn setup() -> (EsKey, FakeAuth, SupabaseAuth, ManualClock) {
    let key = EsKey::generate("real");
    let fake = FakeAuth::start(vec![key.jwk.clone()]).await;
    fake.set_user_delay(USER_DELAY);
    let clock = ManualClock::new(SystemClock.now_millis());
    let auth = SupabaseAuth::builder(&fake.url, "k")
        .retry_budget(BUDGET)
        .user_fallback_concurrency(CONCURRENCY)
        .clock(clock.clone())
        .build()
        .unwrap();
    (key, fake, auth, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kids_cost_one_jwks_fetch_per_cooldown_and_bounded_user_checks() {
    let (_key, fake, auth, clock) = setup().await;
    let issuer = fake.issuer();
    let forge = || EsKey::generate(&random_kid()).token(&payload(&issuer));
    // Keys are slow to make one by one inside the flood; make them first.
    let tokens: Vec<String> = (0..FLOOD).map(|_| forge()).collect();
    let next = std::sync::Mutex::new(tokens.into_iter());
    let outcome = flood(&auth, || next.lock().unwrap().next().unwrap()).await;

    assert_eq!(
        fake.counts.jwks(),
        1,
        "one JWKS fetch for {FLOOD} unknown kids"
    );
    assert!(fake.counts.user_max_in_flight() <= CONCURRENCY);
    let user_calls = fake.counts.user();
    assert!(user_calls <= max_user_calls(), "{user_calls} /user calls");
    assert_eq!(outcome.rejected_by_server, user_calls);
    assert_eq!(outcome.rejected_by_server + outcome.refused_busy, FLOOD);
    assert!(outcome.refused_busy > 0);
    assert!(outcome.took < Duration::from_secs(5), "{:?}", outcome.took);
    eprintln!(
        "flood of {FLOOD} unknown kids: 1 JWKS fetch, {user_calls} /user calls \
         (max {} at once), {} refused as busy, in {:?}",
        fake.counts.user_max_in_flight(),
        outcome.refused_busy,
        outcome.took
    );

    // Within the cooldown a second flood fetches nothing more.
    clock.advance_millis(10_000);
    let tokens: Vec<String> = (0..FLOOD).map(|_| forge()).collect();
    let next = std::sync::Mutex::new(tokens.into_iter());
    flood(&auth, || next.lock().unwrap().next().unwrap()).await;
    assert_eq!(fake.counts.jwks(), 1);
    // After it, exactly one more.
    clock.advance_millis(21_000);
    let tokens: Vec<String> = (0..FLOOD).map(|_| forge()).collect();
    let next = std::sync::Mutex::new(tokens.into_iter());
    flood(&auth, || next.lock().unwrap().next().unwrap()).await;
    assert_eq!(fake.counts.jwks(), 2);
    assert!(fake.counts.user_max_in_flight() <= CONCURRENCY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hs256_and_kidless_tokens_are_bounded_the_same_way() {
    let (key, fake, auth, _clock) = setup().await;
    let claims = payload(&fake.issuer());
    let secret = key.jwk.to_string();
    let mut n = 0u32;
    let forged = std::sync::Mutex::new(move || {
        n += 1;
        if n.is_multiple_of(2) {
            hs256(
                secret.as_bytes(),
                &json!({"alg": "HS256", "typ": "JWT"}),
                &claims,
            )
        } else {
            key.sign(&json!({"alg": "ES256", "typ": "JWT"}), &claims)
        }
    });
    let outcome = flood(&auth, || (*forged.lock().unwrap())()).await;
    assert_eq!(fake.counts.jwks(), 0, "no kid, no JWKS fetch");
    assert!(fake.counts.user_max_in_flight() <= CONCURRENCY);
    assert!(
        fake.counts.user() <= max_user_calls(),
        "{}",
        fake.counts.user()
    );
    assert_eq!(outcome.rejected_by_server + outcome.refused_busy, FLOOD);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_token_still_verifies_locally_during_a_flood() {
    let (key, fake, auth, _clock) = setup().await;
    // Every permit stays taken for a second and the waiting room fills at once: a
    // token that needed a permit would be refused as busy.
    fake.set_user_delay(Duration::from_secs(1));
    let issuer = fake.issuer();
    let good = key.token(&payload(&issuer));
    let tokens: Vec<String> = (0..FLOOD)
        .map(|_| EsKey::generate(&random_kid()).token(&payload(&issuer)))
        .collect();
    let flood_auth = auth.clone();
    let background = tokio::spawn(async move {
        let next = std::sync::Mutex::new(tokens.into_iter());
        flood(&flood_auth, || next.lock().unwrap().next().unwrap()).await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Local verification needs no permit: it is neither refused nor slowed.
    let started = Instant::now();
    let jar = Arc::new(CookieJar::default());
    let claims = auth.server_client(jar).verify_token(&good).await.unwrap();
    assert_eq!(claims.email.as_deref(), Some("mallory@example.com"));
    assert!(started.elapsed() < Duration::from_millis(900));
    background.await.unwrap();
}
