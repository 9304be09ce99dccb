//! Property tests of the cookie contract: any session round-trips through the write plan,
//! the Set-Cookie bytes a browser stores and the Cookie header it sends back; and no
//! input from a browser makes the reader panic.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Value, json};
use supabase_ssr::adapter::codec::{
    MAX_CHUNK_SIZE, combine_chunks, cookie_header_value, decode_value, encode_uri_component,
    parse_cookie_header, plan_writes,
};
use supabase_ssr::cookies::{Cookie, CookieConfig, CookieEncoding};
use supabase_ssr::session::UnverifiedSession;

const K: &str = "sb-abcdefghijklmnop-auth-token";

/// Text of every kind: ASCII, accents, CJK, emoji, controls, quotes and backslashes.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<char>(),
            2 => prop::sample::select(vec!['é', 'ß', '日', '本', '😀', '👩', '\u{200d}', '"', '\\', '/', ';', '=', '%', ' ', '\n', '\u{0}']),
            4 => prop::char::range('a', 'z'),
        ],
        0..max,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn session_json(meta: &str, name: &str, number: f64) -> String {
    let body = json!({
        "access_token": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln",
        "token_type": "bearer",
        "expires_in": 3600,
        "expires_at": 1_800_003_600,
        "refresh_token": "abcdefghijkl",
        "user": {"id": "u", "user_metadata": {"bio": meta, "name": name, "n": number}},
    });
    UnverifiedSession::from_auth_response(body.as_object().unwrap().clone(), 0)
        .unwrap()
        .as_json()
        .to_owned()
}

/// What a browser stores from a Set-Cookie value and sends back: the URI-encoded value.
fn browser_round_trip(plan_jar: &[Cookie]) -> Vec<Cookie> {
    let header = cookie_header_value(
        &plan_jar
            .iter()
            .map(|c| Cookie::new(c.name.clone(), encode_uri_component(&c.value)))
            .collect::<Vec<_>>(),
    );
    parse_cookie_header(&header)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Sessions from empty metadata up to five chunks, in both encodings.
    #[test]
    fn any_session_round_trips(
        meta in text(4000),
        repeat in 0usize..4,
        name in text(40),
        number in any::<f64>().prop_filter("finite", |f| f.is_finite()),
        raw in any::<bool>(),
    ) {
        let meta = meta.repeat(repeat + 1);
        let json = session_json(&meta, &name, number);
        let mut config = CookieConfig::default();
        config.encoding = if raw { CookieEncoding::Raw } else { CookieEncoding::Base64Url };
        let plan = plan_writes(&[], &[(K, &json)], &[], &config);
        prop_assume!(plan.len() <= 5);
        for c in &plan {
            prop_assert!(encode_uri_component(&c.value).len() <= MAX_CHUNK_SIZE);
            let chunk_prefix = format!("{K}.");
            prop_assert!(c.name == K || c.name.starts_with(&chunk_prefix));
        }
        if plan.len() > 1 {
            let names: Vec<String> = (0..plan.len()).map(|i| format!("{K}.{i}")).collect();
            prop_assert_eq!(plan.iter().map(|c| c.name.clone()).collect::<Vec<_>>(), names);
        }
        let jar: Vec<Cookie> = plan.iter().map(|c| Cookie::new(c.name.clone(), c.value.clone())).collect();
        for cookies in [jar.clone(), browser_round_trip(&jar)] {
            let combined = combine_chunks(K, cookies.iter().map(|c| (c.name.as_str(), c.value.as_str())), 5).unwrap();
            let decoded = decode_value(&combined).unwrap();
            prop_assert_eq!(&decoded, &json);
            let back: Value = serde_json::from_str(&decoded).unwrap();
            prop_assert_eq!(back["user"]["user_metadata"]["bio"].as_str(), Some(meta.as_str()));
        }
        // Writing the same session again changes nothing.
        prop_assert!(plan_writes(&jar, &[(K, &json)], &[], &config).is_empty());
        // Deleting it removes exactly its cookies.
        let removal = plan_writes(&jar, &[], &[K], &config);
        prop_assert_eq!(removal.len(), jar.len());
        prop_assert!(removal.iter().all(|c| c.options.max_age == Some(0) && c.value.is_empty()));
    }

    /// Whatever a browser sends, reading never panics and never reads garbage as a session.
    #[test]
    fn any_cookie_input_is_read_without_panicking(
        pairs in prop::collection::vec((
            prop_oneof![Just(K.to_owned()), (0u8..8).prop_map(|i| format!("{K}.{i}")), text(12)],
            prop_oneof![text(64), Just("base64-".to_owned()), text(20).prop_map(|t| format!("base64-{t}"))],
        ), 0..24),
        header in text(300),
    ) {
        let cookies: Vec<Cookie> = pairs.into_iter().map(|(n, v)| Cookie::new(n, v)).collect();
        for list in [cookies.clone(), parse_cookie_header(&header), parse_cookie_header(&cookie_header_value(&cookies))] {
            let combined = combine_chunks(K, list.iter().map(|c| (c.name.as_str(), c.value.as_str())), 5);
            let decoded = combined.as_deref().and_then(decode_value);
            if let (Some(combined), Some(decoded)) = (&combined, &decoded)
                && combined.starts_with("base64-")
            {
                prop_assert!(serde_json::from_str::<Value>(decoded).is_ok());
            }
        }
    }
}
