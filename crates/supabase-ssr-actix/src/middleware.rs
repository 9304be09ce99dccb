//! [`SupabaseMiddleware`]: the proxy as actix-web middleware.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::error::InternalError;
use actix_web::http::header::{COOKIE, HeaderMap, HeaderName, HeaderValue, SET_COOKIE};
use actix_web::{Error, HttpMessage};
use supabase_ssr::SupabaseAuth;
use supabase_ssr::adapter::{
    CookieHeaderEdit, ProxyRequest, ProxyResponse, RedirectPages, is_static_path,
};

use crate::extract::{LayerOutput, Redirects, Supabase};
use crate::outcome::AuthOutcome;

type SkipFn = dyn Fn(&ServiceRequest) -> bool + Send + Sync;

/// The proxy as actix-web middleware: on every request it does not skip, it refreshes
/// and verifies the Supabase session in the cookies, hands the result to handlers, and
/// writes the changed cookies to the response, whatever the handler returned.
///
/// ```no_run
/// use actix_web::{App, HttpServer, web};
/// use supabase_ssr_actix::{SupabaseMiddleware, Verified};
///
/// async fn dashboard(Verified(claims): Verified) -> String {
///     format!("hello {}", claims.email.as_deref().unwrap_or_default())
/// }
///
/// # async fn run(auth: supabase_ssr::SupabaseAuth) -> std::io::Result<()> {
/// HttpServer::new(move || {
///     App::new()
///         .route("/dashboard", web::get().to(dashboard))
///         .wrap(SupabaseMiddleware::new(auth.clone()).login_path("/sign-in"))
/// })
/// .bind(("127.0.0.1", 3000))?
/// .run()
/// .await
/// # }
/// ```
///
/// Cloning is cheap. See the [crate documentation](crate) for what happens on a request.
#[derive(Clone)]
pub struct SupabaseMiddleware {
    auth: SupabaseAuth,
    skip: Arc<SkipFn>,
    /// Where extractors send a request they reject, when any such page is configured.
    pages: Option<Arc<RedirectPages>>,
}

impl SupabaseMiddleware {
    /// Middleware over the process-wide [`SupabaseAuth`], skipping static files with
    /// [`is_static_asset`] and answering [`Verified`](crate::Verified) rejections with
    /// `401 Unauthorized`.
    pub fn new(auth: SupabaseAuth) -> Self {
        Self {
            auth,
            skip: Arc::new(is_static_asset),
            pages: None,
        }
    }

    /// Replaces the default matcher: requests for which `skip` returns `true` pass
    /// through untouched, with no client, no extensions and no cookies written.
    /// Combine with [`is_static_asset`] to extend the default instead.
    pub fn skip_if<F>(mut self, skip: F) -> Self
    where
        F: Fn(&ServiceRequest) -> bool + Send + Sync + 'static,
    {
        self.skip = Arc::new(skip);
        self
    }

    /// Makes [`Verified`](crate::Verified) answer a signed-out request with
    /// `303 See Other` to `path`, plus `next=<the original path and query,
    /// URI-encoded>` (`/sign-in?next=%2Fdashboard%3Fa%3D1`), instead of `401`.
    ///
    /// `next` comes from the browser: check that it is a local path before redirecting
    /// to it after sign-in.
    pub fn login_path(mut self, path: impl Into<String>) -> Self {
        self.pages_mut().login = Some(path.into());
        self
    }

    /// Makes [`VerifiedAal2`](crate::VerifiedAal2) send a user at `aal1` who has a
    /// verified factor to `path` with `next=<the original path and query>`
    /// (`/mfa/challenge?next=%2Fsecurity`), with `303 See Other`, instead of `403`: the
    /// page that asks for a code and calls
    /// [`Mfa::challenge`](supabase_ssr::mfa::Mfa::challenge) and
    /// [`Mfa::verify`](supabase_ssr::mfa::Mfa::verify).
    pub fn mfa_challenge_path(mut self, path: impl Into<String>) -> Self {
        self.pages_mut().mfa_challenge = Some(path.into());
        self
    }

    /// Makes [`VerifiedAal2`](crate::VerifiedAal2) send a signed-in user who has no
    /// verified factor to `path` (with `next`), instead of `403`: the page that enrolls
    /// one.
    pub fn mfa_enroll_path(mut self, path: impl Into<String>) -> Self {
        self.pages_mut().mfa_enroll = Some(path.into());
        self
    }

    fn pages_mut(&mut self) -> &mut RedirectPages {
        Arc::make_mut(self.pages.get_or_insert_with(Default::default))
    }

    /// The [`SupabaseAuth`] the middleware uses.
    pub fn auth(&self) -> &SupabaseAuth {
        &self.auth
    }
}

impl fmt::Debug for SupabaseMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let page = |which: fn(&RedirectPages) -> &Option<String>| {
            self.pages.as_deref().and_then(|p| which(p).as_deref())
        };
        f.debug_struct("SupabaseMiddleware")
            .field("auth", &self.auth)
            .field("login_path", &page(|p| &p.login))
            .field("mfa_challenge_path", &page(|p| &p.mfa_challenge))
            .field("mfa_enroll_path", &page(|p| &p.mfa_enroll))
            .finish_non_exhaustive()
    }
}

/// The default matcher of [`SupabaseMiddleware`]: `true` for requests that are static
/// files and so skip the session work. This is
/// [`supabase_ssr::adapter::is_static_path`] on the request's path (`/static/`,
/// `/_static/`, `/assets/`, `/favicon.ico`, and image, style, script, source map and
/// font and `.wasm` extensions in any case), the rule every adapter shares. Extend it rather than
/// replace it:
///
/// ```
/// use supabase_ssr_actix::{SupabaseMiddleware, is_static_asset};
/// # fn middleware(auth: supabase_ssr::SupabaseAuth) -> SupabaseMiddleware {
/// SupabaseMiddleware::new(auth).skip_if(|req| is_static_asset(req) || req.path() == "/healthz")
/// # }
/// ```
pub fn is_static_asset(req: &ServiceRequest) -> bool {
    is_static_path(req.path())
}

impl<S, B> Transform<S, ServiceRequest> for SupabaseMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = SupabaseMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SupabaseMiddlewareService {
            service: Rc::new(service),
            config: self.clone(),
        }))
    }
}

/// The service [`SupabaseMiddleware`] wraps around the app's.
///
/// Its errors are the inner service's, with the cookies written into their responses;
/// a failed session check is never one (the request goes on as signed out, see
/// [`AuthOutcome::Failed`]).
pub struct SupabaseMiddlewareService<S> {
    service: Rc<S>,
    config: SupabaseMiddleware,
}

impl<S> fmt::Debug for SupabaseMiddlewareService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupabaseMiddlewareService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

pub(crate) type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B> Service<ServiceRequest> for SupabaseMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<Result<ServiceResponse<B>, Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        // An outer SupabaseMiddleware already did the work: a second client over the same
        // cookies would only refresh and write twice.
        if (self.config.skip)(&req) || req.extensions().contains::<LayerOutput>() {
            return Box::pin(self.service.call(req));
        }
        let proxy = ProxyRequest::new(&self.config.auth, req.headers().get_all(COOKIE).cloned());
        let pages = self.config.pages.clone().map(|pages| Redirects {
            pages,
            original: req.uri().clone(),
        });
        let service = Rc::clone(&self.service);

        Box::pin(async move {
            let result = proxy.check_session().await;
            match proxy.cookie_header_edit() {
                CookieHeaderEdit::Keep => {}
                CookieHeaderEdit::Remove => {
                    req.headers_mut().remove(COOKIE);
                }
                CookieHeaderEdit::Replace(value) => {
                    // Checked by `cookie_header_edit`: the conversion cannot fail.
                    if let Ok(value) = HeaderValue::from_bytes(&value) {
                        req.headers_mut().insert(COOKIE, value);
                    }
                }
            }
            let (client, response) = proxy.into_parts();
            req.extensions_mut().insert(LayerOutput {
                outcome: AuthOutcome::from_result(result),
                client: Supabase::new(client),
                pages,
            });

            // Handlers write through the same client, so this also carries their sign-ins
            // and sign-outs, whatever the response is.
            match service.call(req).await {
                Ok(mut res) => {
                    write_response_headers(&response, res.headers_mut());
                    Ok(res)
                }
                Err(error) => {
                    // The error becomes a response further out; it carries the cookies.
                    let mut answer = error.error_response();
                    write_response_headers(&response, answer.headers_mut());
                    Err(InternalError::from_response(error, answer).into())
                }
            }
        })
    }
}

/// Adds the proxy's `Set-Cookie` lines (after the response's own) and cache headers
/// (replacing the response's own) to actix's header map.
fn write_response_headers(response: &ProxyResponse<HeaderValue>, headers: &mut HeaderMap) {
    if response.nothing_written() {
        return;
    }
    let added = response.response_headers(headers.get_all(SET_COOKIE).map(HeaderValue::as_bytes));
    let cache_headers = added.cache_headers();
    for line in added.into_set_cookie() {
        // Checked by `response_headers`: the conversion cannot fail.
        if let Ok(value) = HeaderValue::try_from(line) {
            headers.append(SET_COOKIE, value);
        }
    }
    for (name, value) in cache_headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(*name), HeaderValue::from_str(value)) {
            headers.insert(name, value);
        }
    }
}
