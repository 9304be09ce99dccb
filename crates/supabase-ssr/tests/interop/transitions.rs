//! Cookie transitions (sign in, grow, shrink, stale chunks, sign out, PKCE) as harness
//! scenarios, each with the `setAll` calls the crate's write plan gives for it: the
//! table `interop_cookies` checks against @supabase/ssr, reusable against the Rust
//! `ServerClient`.

use serde_json::{Value, json};
use supabase_ssr::adapter::codec::{plan_writes, to_base64_value};
use supabase_ssr::cookies::{Cookie, CookieConfig, CookieEncoding, SameSite};

use super::sessions::{body_for_chunks, config, encoding_name, jar_for, stored};
use super::{
    STORAGE_KEY as K, SetAllCall, apply_plan, client_scenario, jar_of, ok, rust_call, sign_in_step,
    status_only,
};

/// A cookie configuration on both sides.
pub(crate) struct Config {
    pub(crate) label: &'static str,
    pub(crate) rust: CookieConfig,
    pub(crate) js_options: Option<Value>,
    pub(crate) encoding: CookieEncoding,
}

/// Default attributes; a parent domain with `Secure` (host-only deletions first);
/// `SameSite=Strict`, `HttpOnly` and a path (with a `maxAge` that must be ignored); raw
/// (unencoded JSON) values.
pub(crate) fn configs() -> Vec<Config> {
    let mut domain = CookieConfig::default();
    domain.domain = Some(".example.com".into());
    domain.secure = true;
    let mut strict = CookieConfig::default();
    strict.same_site = SameSite::Strict;
    strict.http_only = true;
    strict.path = "/app".into();
    vec![
        Config {
            label: "default",
            rust: CookieConfig::default(),
            js_options: None,
            encoding: CookieEncoding::Base64Url,
        },
        Config {
            label: "domain",
            rust: domain,
            js_options: Some(json!({ "domain": ".example.com", "secure": true })),
            encoding: CookieEncoding::Base64Url,
        },
        Config {
            label: "strict",
            rust: strict,
            // A configured maxAge is ignored by @supabase/ssr, as by the crate.
            js_options: Some(
                json!({ "sameSite": "strict", "httpOnly": true, "path": "/app", "maxAge": 10 }),
            ),
            encoding: CookieEncoding::Base64Url,
        },
        Config {
            label: "raw",
            rust: config(CookieEncoding::Raw),
            js_options: None,
            encoding: CookieEncoding::Raw,
        },
    ]
}

/// Computes the expected `setAll` calls of each step from the harness result.
pub(crate) type Expect = Box<dyn Fn(&Value) -> Vec<Vec<SetAllCall>>>;

/// Items set (storage key, stored value) and removed (storage keys) in one write.
pub(crate) type Write<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>);

/// One transition: a scenario and a function computing the Rust calls from the JS
/// step records (only their `jarAfter`, i.e. the jar before the next step, is used).
pub(crate) struct Transition {
    pub(crate) label: String,
    pub(crate) scenario: Value,
    pub(crate) expect: Expect,
}

/// `scenario` with the JS side of a configuration.
pub(crate) fn with_config(mut scenario: Value, c: &Config) -> Value {
    if let Some(o) = &c.js_options {
        scenario["cookieOptions"] = o.clone();
    }
    scenario["cookieEncoding"] = json!(encoding_name(c.encoding));
    scenario
}

/// The jar as step `step` of a harness result found it.
pub(crate) fn jar_before(result: &Value, step: usize, initial: &[Cookie]) -> Vec<Cookie> {
    if step == 0 {
        initial.to_vec()
    } else {
        jar_of(&result["steps"][step - 1]["jarAfter"])
    }
}

/// The Rust calls for a sequence of writes, each applied to the jar before the next;
/// an empty plan makes no call.
pub(crate) fn sequential_calls(
    jar: &[Cookie],
    writes: &[Write<'_>],
    config: &CookieConfig,
    mut first: bool,
) -> Vec<SetAllCall> {
    let mut jar = jar.to_vec();
    let mut calls = Vec::new();
    for (sets, removes) in writes {
        let plan = plan_writes(&jar, sets, removes, config);
        apply_plan(&mut jar, &plan);
        if !plan.is_empty() {
            calls.push(rust_call(&plan, first));
            first = false;
        }
    }
    calls
}

/// Every transition under one configuration. Sessions carry non-ASCII metadata, so raw
/// values are chunked on `encodeURIComponent` lengths. Scenarios are seeded (seed 7) so
/// the PKCE verifier and flow id are known in advance.
pub(crate) fn transitions(c: &Config) -> Vec<Transition> {
    let cfg = c.rust.clone();
    let small_body = body_for_chunks("latin", c.encoding, false, 1, "small");
    let large_body = body_for_chunks("latin", c.encoding, false, 3, "large");
    let (small, large) = (stored(&small_body), stored(&large_body));
    let small_jar = jar_for(&small, &cfg);
    let large_jar = jar_for(&large, &cfg);
    assert_eq!(
        (small_jar.len(), large_jar.len()),
        (1, 3),
        "{}: session sizes",
        c.label
    );
    let (slot, index, legacy, user) = (
        format!("{K}-flow-0123456789abcdef0123456789abcdef-code-verifier"),
        format!("{K}-flows-code-verifier"),
        format!("{K}-code-verifier"),
        format!("{K}-user"),
    );
    let sign_out = || json!({ "op": "signOut", "scope": "local" });
    let mut out = Vec::new();
    let mut add =
        |label: &str, jar: &[Cookie], responses: Vec<Value>, steps: Vec<Value>, expect: Expect| {
            let mut scenario = with_config(client_scenario(jar, responses, steps), c);
            scenario["seed"] = json!(7);
            out.push(Transition {
                label: format!("{} / {label}", c.label),
                scenario,
                expect,
            });
        };
    // A single sign-in step on `jar` that must write `json`.
    let mut sign_in = |label: &str, jar: &[Cookie], body: &str, json: &str| {
        let (cfg, jar_owned, json) = (cfg.clone(), jar.to_vec(), json.to_owned());
        add(
            label,
            jar,
            vec![ok(body)],
            vec![sign_in_step()],
            Box::new(move |_| {
                vec![sequential_calls(
                    &jar_owned,
                    &[(vec![(K, json.as_str())], vec![])],
                    &cfg,
                    true,
                )]
            }),
        );
    };
    sign_in("sign in on an empty jar", &[], &small_body, &small);
    sign_in("grow into 3 chunks", &small_jar, &large_body, &large);
    sign_in("shrink back to 1", &large_jar, &small_body, &small);
    let stale: Vec<Cookie> = ["", ".0", ".1", ".2", ".5"]
        .iter()
        .map(|s| Cookie::new(format!("{K}{s}"), "old"))
        .collect();
    sign_in("stale chunks", &stale, &large_body, &large);
    sign_in("unchanged session", &small_jar, &small_body, &small);
    let mut dup = vec![Cookie::new(K, "stale-duplicate")];
    dup.extend(small_jar.clone());
    sign_in("duplicate cookie names", &dup, &small_body, &small);

    // Sign out deletes the session, the PKCE verifiers and the split-out user.
    let mut jar = large_jar.clone();
    jar.insert(1, Cookie::new("other", "keep-me"));
    jar.push(Cookie::new(&legacy, to_base64_value("\"v\"")));
    jar.push(Cookie::new(&user, to_base64_value("{\"user\":{}}")));
    let (cfg1, jar1, keys) = (
        cfg.clone(),
        jar.clone(),
        [K.to_owned(), index.clone(), legacy.clone(), user.clone()],
    );
    add(
        "sign out (local)",
        &jar,
        vec![status_only(204)],
        vec![sign_out()],
        Box::new(move |_| {
            vec![sequential_calls(
                &jar1,
                &[(vec![], keys.iter().map(String::as_str).collect())],
                &cfg1,
                true,
            )]
        }),
    );

    // With pending flows, the slot and the index go at once, the rest on SIGNED_OUT.
    let mut jar = small_jar.clone();
    jar.push(Cookie::new(&slot, to_base64_value("\"v\"")));
    jar.push(Cookie::new(
        &index,
        to_base64_value("[\"0123456789abcdef0123456789abcdef\"]"),
    ));
    jar.push(Cookie::new(&legacy, to_base64_value("\"v\"")));
    let (cfg1, jar1) = (cfg.clone(), jar.clone());
    let keys = [slot, index.clone(), legacy.clone(), user.clone()];
    add(
        "sign out with pending PKCE flows",
        &jar,
        vec![status_only(204)],
        vec![sign_out()],
        Box::new(move |_| {
            let [slot, index, legacy, user] = keys.each_ref().map(String::as_str);
            let writes = [
                (vec![], vec![slot]),
                (vec![], vec![index]),
                (vec![], vec![K, slot, index, legacy, user]),
            ];
            vec![sequential_calls(&jar1, &writes, &cfg1, true)]
        }),
    );

    // One client through a whole life: cache headers on its first write only.
    let (cfg1, s1, l1, keys) = (
        cfg.clone(),
        small.clone(),
        large.clone(),
        [K.to_owned(), index, legacy, user],
    );
    add(
        "one client: in, grow, shrink, out",
        &[],
        vec![
            ok(small_body.as_str()),
            ok(large_body.as_str()),
            ok(small_body.as_str()),
            status_only(204),
        ],
        vec![sign_in_step(), sign_in_step(), sign_in_step(), sign_out()],
        Box::new(move |result| {
            let removes: Vec<&str> = keys.iter().map(String::as_str).collect();
            let writes = [
                (vec![(K, s1.as_str())], vec![]),
                (vec![(K, l1.as_str())], vec![]),
                (vec![(K, s1.as_str())], vec![]),
                (vec![], removes),
            ];
            let mut first = true;
            writes
                .iter()
                .enumerate()
                .map(|(i, write)| {
                    let calls = sequential_calls(
                        &jar_before(result, i, &[]),
                        std::slice::from_ref(write),
                        &cfg1,
                        first,
                    );
                    first &= calls.is_empty();
                    calls
                })
                .collect()
        }),
    );

    // PKCE: an OTP writes slot, index and legacy key at once (three calls); the code
    // exchange then signs in.
    for with_flow_id in [false, true] {
        let mut exchange = json!({ "op": "exchangeCodeForSession", "code": "auth-code-1" });
        if with_flow_id {
            exchange["flowId"] = json!(SEED_7_FLOW_ID);
        }
        let otp = json!({ "op": "signInWithOtp", "email": "zoë@example.com", "emailRedirectTo": "https://app.example.com/auth/callback?next=/é" });
        let (cfg1, l1, jar1) = (cfg.clone(), large.clone(), small_jar.clone());
        let label = if with_flow_id {
            "PKCE: OTP then exchange with flow id"
        } else {
            "PKCE: OTP then exchange"
        };
        add(
            label,
            &small_jar,
            vec![ok(json!({})), ok(large_body.as_str())],
            vec![otp, exchange],
            Box::new(move |result| {
                // The verifier and flow id come from the seeded generator: read them back.
                let items = &result["steps"][0]["itemsAfter"];
                let (index, legacy) = (
                    format!("{K}-flows-code-verifier"),
                    format!("{K}-code-verifier"),
                );
                let verifier = items[&legacy].as_str().unwrap().to_owned();
                let index_value = items[&index].as_str().unwrap().to_owned();
                let flows: Vec<String> = serde_json::from_str(&index_value).unwrap();
                let slot = format!("{K}-flow-{}-code-verifier", flows[0]);
                let (slot, index, legacy) = (slot.as_str(), index.as_str(), legacy.as_str());
                let otp = sequential_calls(
                    &jar1,
                    &[
                        (vec![(slot, verifier.as_str())], vec![]),
                        (vec![(index, index_value.as_str())], vec![]),
                        (vec![(legacy, verifier.as_str())], vec![]),
                    ],
                    &cfg1,
                    true,
                );
                // Without a flow id only the legacy key is removed, buffered until
                // SIGNED_IN, which applies every buffered item; with one, the slot and
                // the index go at once.
                let writes = if with_flow_id {
                    vec![
                        (vec![], vec![slot]),
                        (vec![], vec![index]),
                        (vec![(K, l1.as_str())], vec![slot, index, legacy]),
                    ]
                } else {
                    vec![(
                        vec![
                            (slot, verifier.as_str()),
                            (index, index_value.as_str()),
                            (K, l1.as_str()),
                        ],
                        vec![legacy],
                    )]
                };
                vec![
                    otp,
                    sequential_calls(&jar_before(result, 1, &[]), &writes, &cfg1, false),
                ]
            }),
        );
    }
    out
}

/// The PKCE flow id the harness's generator gives first for seed 7.
pub(crate) const SEED_7_FLOW_ID: &str = "22508b5a2a5c382f054dbc4518ca8a3d";
