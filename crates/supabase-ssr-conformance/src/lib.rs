//! One conformance suite for every framework adapter of `supabase-ssr`.
//!
//! The proxy's scenarios (the session check and refresh, what handlers see, what the
//! response carries, static files, hostile cookies, Auth outages, the extractors and the
//! API auth modes) are written once here, against a small "app under test": an adapter
//! implements [`AppUnderTest`] by serving the routes of the [contract](AppUnderTest) with
//! its own middleware and extractors, and runs the whole suite with
//! [`conformance_suite!`]. Every scenario drives the app over real HTTP on 127.0.0.1,
//! against the Auth emulator, and asserts exact statuses, bodies and `Set-Cookie` bytes,
//! so two adapters that pass answer alike, byte for byte.
//!
//! A new adapter proves itself by passing it:
//!
//! ```no_run
//! // tests/conformance.rs of an adapter crate
//! use supabase_ssr_conformance::{AppConfig, AppUnderTest, RunningApp};
//!
//! struct MyApp;
//!
//! impl AppUnderTest for MyApp {
//!     fn serve(config: AppConfig) -> RunningApp {
//!         // Serve the contract's routes on this listener, behind the adapter's middleware
//!         // built from `config.auth` (and `config.login_path`); stop when dropped.
//!         let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//!         let addr = listener.local_addr().unwrap();
//!         # let _ = config;
//!         RunningApp::new(addr, move || drop(listener))
//!     }
//! }
//!
//! supabase_ssr_conformance::conformance_suite!(MyApp);
//! # fn main() {}
//! ```
//!
//! `tests/conformance.rs` in `supabase-ssr-axum` and `supabase-ssr-actix` are complete
//! examples.

mod app;
mod client;
pub mod scenarios;
mod support;

pub use app::{AppConfig, AppUnderTest, RunningApp, caller_body, echo_body, unlayered};
pub use support::{EMAIL, PASSWORD};

/// Runs one scenario to completion on a fresh multi-thread tokio runtime (the test
/// functions [`conformance_suite!`] writes are plain `#[test]`s).
pub fn run<F: std::future::Future<Output = ()>>(scenario: F) {
    #[allow(clippy::unwrap_used, reason = "a test that cannot start fails")]
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(scenario);
}

/// Writes one `#[test]` per scenario of [`scenarios`] for the app under test `$app`.
#[macro_export]
macro_rules! conformance_suite {
    ($app:ty) => {
        $crate::conformance_suite!(@each $app;
            a_fresh_session_is_verified_and_nothing_is_written,
            an_expiring_session_is_refreshed_for_the_handler_and_the_browser,
            two_cookie_fields_are_read_together_and_merged_into_one,
            without_writes_the_cookie_fields_are_left_alone,
            static_files_are_skipped_entirely,
            set_cookie_reaches_error_and_redirect_responses,
            cache_headers_replace_the_handlers_only_when_cookies_are_written,
            a_rejected_session_is_deleted_and_the_request_goes_on_signed_out,
            an_auth_outage_keeps_the_cookies_and_the_request_goes_on_signed_out,
            verified_rejects_with_401_without_a_session,
            verified_redirects_to_the_login_path_with_next,
            verified_hands_over_the_claims_of_a_session,
            extractors_on_a_skipped_path_fail_closed,
            a_handler_that_signs_in_writes_the_session_to_the_response,
            a_handler_that_signs_out_deletes_the_session_cookie,
            set_cookie_lines_the_handler_already_added_are_not_repeated,
            forged_sessions_never_reach_a_verified_handler,
            a_session_that_is_not_base64_is_ignored,
            a_session_that_is_json_but_not_a_session_is_deleted,
            cookie_bytes_that_are_not_utf8_survive_the_rewrite,
            a_refresh_storm_makes_one_refresh_and_every_response_carries_the_same_session,
            api_a_valid_bearer_token_is_the_user_and_writes_no_cookie,
            api_bad_bearer_tokens_are_401_invalid_token,
            api_missing_credentials_and_anonymous_callers,
            api_keys_match_by_kind,
            api_the_cookie_session_mode_reads_the_proxys_client,
            api_signing_keys_unreachable_is_503
        );
    };
    (@each $app:ty; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::run($crate::scenarios::$name::<$app>());
            }
        )*
    };
}
