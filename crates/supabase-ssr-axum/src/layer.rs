//! [`SupabaseLayer`]: the proxy's configuration.

use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use supabase_ssr::SupabaseAuth;
use supabase_ssr::adapter::RedirectPages;
use tower_layer::Layer;

use crate::matcher::is_static_asset;
use crate::service::SupabaseService;

type SkipFn = dyn Fn(&Parts) -> bool + Send + Sync;

/// The proxy as a tower [`Layer`]: on every request it does not skip, it refreshes and
/// verifies the Supabase session in the cookies, hands the result to handlers, and
/// writes the changed cookies to the response.
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use supabase_ssr_axum::{SupabaseLayer, Verified};
///
/// # fn app(auth: supabase_ssr::SupabaseAuth) -> Router {
/// async fn dashboard(Verified(claims): Verified) -> String {
///     format!("hello {}", claims.email.as_deref().unwrap_or_default())
/// }
///
/// Router::new()
///     .route("/dashboard", get(dashboard))
///     .layer(SupabaseLayer::new(auth).login_path("/sign-in"))
/// # }
/// ```
///
/// Cloning is cheap. See the [crate documentation](crate) for what happens on a request.
#[derive(Clone)]
pub struct SupabaseLayer {
    pub(crate) auth: SupabaseAuth,
    pub(crate) skip: Arc<SkipFn>,
    /// Where extractors send a request they reject, when any such page is configured.
    pub(crate) pages: Option<Arc<RedirectPages>>,
}

impl SupabaseLayer {
    /// A layer over the process-wide [`SupabaseAuth`], skipping static files with
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
        F: Fn(&Parts) -> bool + Send + Sync + 'static,
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

    /// The [`SupabaseAuth`] the layer uses.
    pub fn auth(&self) -> &SupabaseAuth {
        &self.auth
    }
}

impl fmt::Debug for SupabaseLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupabaseLayer")
            .field("auth", &self.auth)
            .field("pages", &self.pages)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for SupabaseLayer {
    type Service = SupabaseService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SupabaseService::new(inner, self.clone())
    }
}
