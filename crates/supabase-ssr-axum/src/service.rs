//! [`SupabaseService`]: the proxy itself.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response};
use pin_project_lite::pin_project;
use supabase_ssr::adapter::{ProxyRequest, ProxyResponse};
use supabase_ssr::{AuthError, VerifiedClaims};
use tower_service::Service;

use crate::extract::{LayerOutput, Redirects, Supabase};
use crate::layer::SupabaseLayer;
use crate::outcome::AuthOutcome;

/// The service [`SupabaseLayer`] wraps around an inner service.
///
/// Its errors are the inner service's: a failed session check is never one (the request
/// goes on as signed out, see [`AuthOutcome::Failed`]).
#[derive(Clone)]
pub struct SupabaseService<S> {
    inner: S,
    layer: SupabaseLayer,
}

impl<S> SupabaseService<S> {
    pub(crate) fn new(inner: S, layer: SupabaseLayer) -> Self {
        Self { inner, layer }
    }
}

impl<S: fmt::Debug> fmt::Debug for SupabaseService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupabaseService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pin_project! {
    /// The future of [`SupabaseService`]: the inner service's response, with the cookies
    /// the client wrote added to it.
    ///
    /// The common request (no session, or a token this process verified before) calls
    /// the inner service at once and needs no allocation for this future; a request whose
    /// session must be refreshed or verified first is a boxed future inside.
    pub struct ResponseFuture<F: Future> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F: Future> {
        Called {
            #[pin]
            inner: F,
            response: Option<ProxyResponse<HeaderValue>>,
        },
        Checking {
            future: BoxFuture<F::Output>,
        },
        Passed {
            #[pin]
            inner: F,
        },
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Called { inner, response } => {
                let mut res = std::task::ready!(inner.poll(cx))?;
                if let Some(response) = response.take() {
                    response.write_response_headers(res.headers_mut());
                }
                Poll::Ready(Ok(res))
            }
            KindProj::Checking { future } => future.as_mut().poll(cx),
            KindProj::Passed { inner } => inner.poll(cx),
        }
    }
}

impl<F: Future> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SupabaseService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let (parts, body) = req.into_parts();
        // An outer SupabaseLayer already did the work: a second client over the same
        // cookies would only refresh and write twice.
        if (self.layer.skip)(&parts) || LayerOutput::of(&parts.extensions).is_some() {
            let inner = self.inner.call(Request::from_parts(parts, body));
            return ResponseFuture {
                kind: Kind::Passed { inner },
            };
        }
        let mut req = Request::from_parts(parts, body);
        let proxy = ProxyRequest::from_headers(&self.layer.auth, req.headers());

        // The common request (no session, or a signed-in browser whose token this
        // process verified before): answered without an `await`, so the inner service,
        // driven to readiness, is called at once and needs no clone.
        if let Some(claims) = proxy.session_at_hand() {
            let response = Self::prepare(&self.layer, &mut req, proxy, Ok(claims));
            let inner = self.inner.call(req);
            return ResponseFuture {
                kind: Kind::Called {
                    inner,
                    response: Some(response),
                },
            };
        }

        // The inner service was driven to readiness, not its clone: keep the ready one
        // for this call and leave the clone for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        ResponseFuture {
            kind: Kind::Checking {
                future: Box::pin(async move {
                    let result = proxy.check_session().await;
                    let response = Self::prepare(&layer, &mut req, proxy, result);
                    let mut res = inner.call(req).await?;
                    // Handlers write through the same client, so this also carries their
                    // sign-ins and sign-outs, whatever the response is.
                    response.write_response_headers(res.headers_mut());
                    Ok(res)
                }),
            },
        }
    }
}

impl<S> SupabaseService<S> {
    /// Once the session is checked: the request's `Cookie` header as the handlers must
    /// see it, and the layer's output in its extensions; returns the response side.
    fn prepare<B>(
        layer: &SupabaseLayer,
        req: &mut Request<B>,
        proxy: ProxyRequest<HeaderValue>,
        result: Result<Option<VerifiedClaims>, AuthError>,
    ) -> ProxyResponse<HeaderValue> {
        proxy.rewrite_request_headers(req.headers_mut());
        let (client, response) = proxy.into_parts();
        let pages = layer.pages.clone().map(|pages| Redirects {
            pages,
            original: req.uri().clone(),
        });
        req.extensions_mut().insert(LayerOutput {
            outcome: AuthOutcome::from_result(result),
            client: Supabase::new(client),
            pages,
        });
        response
    }
}
