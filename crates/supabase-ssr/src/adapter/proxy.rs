//! [`ProxyRequest`]: one request through a proxy, from its cookies to the response's
//! headers.

use std::fmt;
use std::sync::Arc;

use http::header::{COOKIE, HeaderName, SET_COOKIE};
use http::{HeaderMap, HeaderValue};

use super::headers::{CookieHeaderEdit, ResponseHeaders, edit_cookie_header, response_headers};
use super::request_cookies::RequestCookies;
use crate::storage::CookieStorage;
use crate::{AuthError, ServerClient, SupabaseAuth, VerifiedClaims};

/// One request through a proxy: the per-request [`ServerClient`] over the request's
/// cookies, the session check, and the header edits that follow from what the client
/// wrote. See the [module documentation](super) for the order of the calls.
///
/// `F` is the framework's header value type (any type that gives its bytes); with `http`
/// 1 types use [`ProxyRequest::from_headers`], [`ProxyRequest::rewrite_request_headers`]
/// and [`ProxyResponse::write_response_headers`].
pub struct ProxyRequest<F> {
    /// The cookies, in the client's own storage (one allocation for both).
    cookies: Arc<CookieStorage<RequestCookies<F>>>,
    client: ServerClient,
}

impl<F: AsRef<[u8]> + Send + Sync + 'static> ProxyRequest<F> {
    /// Starts a request whose `Cookie` header fields are `cookie_fields`, in order.
    pub fn new(auth: &SupabaseAuth, cookie_fields: impl IntoIterator<Item = F>) -> Self {
        let cookies = Arc::new(auth.cookie_storage(RequestCookies::new(cookie_fields)));
        let client = ServerClient::new(auth.clone(), cookies.clone());
        Self { cookies, client }
    }

    /// The per-request client. [`Self::into_parts`] hands it to the handlers: every cookie
    /// it writes (a sign-in in a handler) reaches [`ProxyResponse::response_headers`].
    pub fn client(&self) -> &ServerClient {
        &self.client
    }

    /// The request's cookies and the writes recorded so far.
    pub fn cookies(&self) -> &RequestCookies<F> {
        self.cookies.methods()
    }

    /// Checks the session: [`ServerClient::get_claims`], which refreshes an expiring
    /// session (writing the new cookies) and verifies the access token. A failure is
    /// logged at `warn` (without secrets) and returned; the request goes on as signed out.
    pub async fn check_session(&self) -> Result<Option<VerifiedClaims>, AuthError> {
        let result = self.client.get_claims().await;
        if let Err(error) = &result {
            log_failure(error);
        }
        result
    }

    /// [`Self::check_session`]'s answer when it needs no `await` (and so is never an
    /// error): `Some(None)` for no session, `Some(Some(claims))` for a session that needs
    /// no refresh whose access token this process has verified and may still trust (the
    /// common request of a signed-in browser). `None` when the check has work to do:
    /// call [`Self::check_session`]. An adapter can then call the inner service at once,
    /// without a future of its own around the check.
    pub fn session_at_hand(&self) -> Option<Option<VerifiedClaims>> {
        self.client.claims_at_hand()
    }

    /// What to do with the request's `Cookie` header so handlers see the cookies written
    /// so far (a refreshed session): see [`edit_cookie_header`].
    pub fn cookie_header_edit(&self) -> CookieHeaderEdit {
        let writes = self.cookies().writes();
        if writes.is_empty() {
            return CookieHeaderEdit::Keep;
        }
        edit_cookie_header(self.cookies().fields(), &writes)
    }

    /// Hands the client over (for the handlers: put it in the request's extensions) and
    /// keeps what the response needs: the cookies the client writes from now on, the
    /// handlers' sign-ins and sign-outs included.
    pub fn into_parts(self) -> (ServerClient, ProxyResponse<F>) {
        (
            self.client,
            ProxyResponse {
                cookies: self.cookies,
            },
        )
    }
}

/// The response side of a [`ProxyRequest`], from [`ProxyRequest::into_parts`]: what to add
/// to the response once the handler has run.
pub struct ProxyResponse<F> {
    cookies: Arc<CookieStorage<RequestCookies<F>>>,
}

impl<F: AsRef<[u8]>> ProxyResponse<F> {
    /// What to add to the response, given the `Set-Cookie` lines it already carries: see
    /// [`response_headers`]. Call it once the handler has run, so its writes are included.
    pub fn response_headers<'a>(
        &self,
        existing_set_cookie: impl IntoIterator<Item = &'a [u8]>,
    ) -> ResponseHeaders {
        response_headers(existing_set_cookie, &self.cookies().writes())
    }

    /// Whether the client wrote nothing (the response of nearly every page): then there is
    /// nothing to add, and an adapter can skip even looking at the response's headers.
    pub fn nothing_written(&self) -> bool {
        self.cookies().writes().is_empty()
    }

    /// The request's cookies and every write recorded.
    pub fn cookies(&self) -> &RequestCookies<F> {
        self.cookies.methods()
    }
}

impl ProxyResponse<HeaderValue> {
    /// Adds [`Self::response_headers`] to the response's headers: the `Set-Cookie` lines
    /// appended after the response's own, the cache headers replacing its own.
    pub fn write_response_headers(&self, headers: &mut HeaderMap) {
        // Nearly every response: nothing written, and no header lookup (about 150
        // instructions per request, `bench instr proxy`).
        if self.nothing_written() {
            return;
        }
        let added = self.response_headers(
            headers
                .get_all(SET_COOKIE)
                .iter()
                .map(HeaderValue::as_bytes),
        );
        let cache_headers = added.cache_headers();
        for line in added.into_set_cookie() {
            // Checked by `response_headers`: the conversion cannot fail.
            if let Ok(value) = HeaderValue::try_from(line) {
                headers.append(SET_COOKIE, value);
            }
        }
        for (name, value) in cache_headers {
            if let (Ok(name), Ok(value)) =
                (HeaderName::try_from(*name), HeaderValue::try_from(*value))
            {
                headers.insert(name, value);
            }
        }
    }
}

impl<F> fmt::Debug for ProxyResponse<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyResponse")
            .field("cookies", self.cookies.methods())
            .finish()
    }
}

impl ProxyRequest<HeaderValue> {
    /// Starts a request from its `http` headers (the `Cookie` fields are shared, not
    /// copied).
    pub fn from_headers(auth: &SupabaseAuth, headers: &HeaderMap) -> Self {
        Self::new(auth, headers.get_all(COOKIE).iter().cloned())
    }

    /// Applies [`Self::cookie_header_edit`] to the request's headers.
    pub fn rewrite_request_headers(&self, headers: &mut HeaderMap) {
        match self.cookie_header_edit() {
            CookieHeaderEdit::Keep => {}
            CookieHeaderEdit::Remove => {
                headers.remove(COOKIE);
            }
            CookieHeaderEdit::Replace(value) => {
                // Checked by `edit_cookie_header`: the conversion cannot fail.
                if let Ok(value) = HeaderValue::from_bytes(&value) {
                    headers.insert(COOKIE, value);
                }
            }
        }
    }
}

impl<F> fmt::Debug for ProxyRequest<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyRequest")
            .field("cookies", self.cookies.methods())
            .field("client", &self.client)
            .finish()
    }
}

/// Logs a failed session check. `AuthError` never holds a token, a password or a URL
/// query, so it can be logged whole.
fn log_failure(error: &AuthError) {
    if error.is_transient() {
        tracing::warn!(
            %error,
            transient = true,
            "supabase-ssr: the session could not be checked (Auth unavailable); the \
             request goes on signed out and the cookies are kept"
        );
    } else {
        tracing::warn!(
            %error,
            transient = false,
            "supabase-ssr: the session was rejected; the request goes on signed out"
        );
    }
}
