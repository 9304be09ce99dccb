//! Cross-site form posts are refused. `SameSite=Lax` already keeps the session cookie
//! off cross-site POSTs, but a forged sign-in form ("login CSRF") needs no cookie, so
//! unsafe methods must come from this origin: `Sec-Fetch-Site` when the browser sends
//! it, else `Origin` compared with `Host`. Requests with neither (curl) pass.
//!
//! `/api/` is left out: it authenticates with a bearer token only, which a browser never
//! attaches on its own, so a forged request has no credential to ride on (a cookie-only
//! post there is a `401`).

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub(crate) async fn same_origin_posts(req: Request, next: Next) -> Response {
    if is_safe_method(req.method())
        || is_bearer_api(req.uri().path())
        || is_same_origin(req.headers())
    {
        next.run(req).await
    } else {
        (
            StatusCode::FORBIDDEN,
            crate::views::message_page(
                "Cross-site request refused",
                "This form was posted from another site. Open the page on this site and try again.",
            ),
        )
            .into_response()
    }
}

fn is_bearer_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn is_safe_method(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_same_origin(headers: &HeaderMap) -> bool {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match get(header::ORIGIN.as_str()) {
        None => true,
        Some(origin) => {
            let authority = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            authority.is_some() && authority == get(header::HOST.as_str())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_is_recognised() {
        assert!(is_same_origin(&headers(&[])));
        assert!(is_same_origin(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(is_same_origin(&headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000"),
        ])));
    }

    #[test]
    fn only_the_bearer_api_is_left_out() {
        assert!(is_bearer_api("/api/notes"));
        assert!(!is_bearer_api("/api"));
        assert!(!is_bearer_api("/notes"));
        assert!(!is_bearer_api("/sign-in"));
    }

    #[test]
    fn cross_site_is_refused() {
        assert!(!is_same_origin(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(!is_same_origin(&headers(&[(
            "sec-fetch-site",
            "same-site"
        )])));
        assert!(!is_same_origin(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:3000"),
        ])));
        assert!(!is_same_origin(&headers(&[
            ("origin", "null"),
            ("host", "127.0.0.1:3000"),
        ])));
    }
}
