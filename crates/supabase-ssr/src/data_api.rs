//! What a Data API (PostgREST) request needs to run as the user.
//!
//! Supabase's Data API runs each request as the role of the access token it carries,
//! so row-level security sees the user. This crate does not wrap PostgREST; it gives
//! the URL and the headers, for any HTTP client.

use http::header::{AUTHORIZATION, HeaderValue};
use http::{HeaderMap, HeaderName};

use crate::SupabaseAuth;
use crate::api_auth::VerifiedUser;

impl SupabaseAuth {
    /// The Data API's root, `<project>/rest/v1` (a table is `<rest_url>/<table>`).
    pub fn rest_url(&self) -> &str {
        &self.inner.rest_url
    }

    /// The headers of a Data API request as `user`, or as `anon` when `None`, the way
    /// supabase-js sends them: `apikey: <the project key>` and
    /// `Authorization: Bearer <the user's verified access token>`, or, signed out,
    /// `Authorization: Bearer <the project key>`.
    ///
    /// Both values are marked sensitive (`HeaderValue::is_sensitive`), so HTTP
    /// libraries that honour it keep them out of logs.
    ///
    /// ```no_run
    /// # async fn f(auth: supabase_ssr::SupabaseAuth, user: Option<supabase_ssr::api_auth::VerifiedUser>) -> Result<(), reqwest::Error> {
    /// let notes = reqwest::Client::new()
    ///     .get(format!("{}/notes?select=id,body", auth.rest_url()))
    ///     .headers(auth.data_api_headers(user.as_ref()))
    ///     .send()
    ///     .await?;
    /// # let _ = notes; Ok(()) }
    /// ```
    pub fn data_api_headers(&self, user: Option<&VerifiedUser>) -> HeaderMap {
        let key = &*self.inner.api_key;
        let bearer = user.map_or(key, VerifiedUser::access_token);
        let mut headers = HeaderMap::with_capacity(2);
        // Both values were checked: the key when the builder made its Auth client, the
        // token when it verified (visible ASCII). A value that still fails is left out
        // rather than sent half-formed.
        if let Ok(value) = sensitive(key) {
            headers.insert(HeaderName::from_static("apikey"), value);
        }
        if let Ok(value) = sensitive(&format!("Bearer {bearer}")) {
            headers.insert(AUTHORIZATION, value);
        }
        headers
    }
}

fn sensitive(value: &str) -> Result<HeaderValue, http::header::InvalidHeaderValue> {
    let mut value = HeaderValue::from_str(value)?;
    value.set_sensitive(true);
    Ok(value)
}
