//! Safe redirects: a `next` parameter may only name a path on this site.

/// Where to go when `next` is absent or refused.
pub(crate) const DEFAULT_NEXT: &str = "/dashboard";

/// `next` if it is a local path, else [`DEFAULT_NEXT`].
///
/// Accepted: `/` followed by anything but a second `/` or `\`, printable ASCII only
/// and no backslash anywhere (browsers read `\` as `/` and drop tabs and newlines,
/// so `/\evil.example` or `/\t/evil.example` would leave the site; non-ASCII must
/// come percent-encoded). Absolute URLs, scheme-relative `//host` and relative paths
/// are refused.
pub(crate) fn safe_next(next: Option<&str>) -> &str {
    safe_next_or(next, DEFAULT_NEXT)
}

/// `next` if it is a local path (as [`safe_next`] decides), else `default`.
pub(crate) fn safe_next_or<'a>(next: Option<&'a str>, default: &'a str) -> &'a str {
    match next {
        Some(n) if is_local_path(n) => n,
        _ => default,
    }
}

/// See [`safe_next`].
pub(crate) fn is_local_path(next: &str) -> bool {
    let bytes = next.as_bytes();
    bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && next.len() <= 2048
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_pass() {
        for ok in [
            "/",
            "/dashboard",
            "/account?saved=1",
            "/a/b#c",
            "/%2F%2Fevil",
        ] {
            assert_eq!(safe_next(Some(ok)), ok, "{ok}");
        }
    }

    #[test]
    fn everything_else_falls_back() {
        for bad in [
            "",
            "dashboard",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            " /dashboard",
            "/dash board",
            "javascript:alert(1)",
            "http:/evil.example",
            "/a\\b",
            "/caf\u{e9}",
        ] {
            assert_eq!(safe_next(Some(bad)), DEFAULT_NEXT, "{bad:?}");
        }
        assert_eq!(safe_next(None), DEFAULT_NEXT);
        assert_eq!(safe_next_or(None, "/security"), "/security");
        assert_eq!(
            safe_next_or(Some("//evil.example"), "/security"),
            "/security"
        );
        assert_eq!(safe_next_or(Some("/notes"), "/security"), "/notes");
        assert_eq!(
            safe_next(Some(&format!("/{}", "a".repeat(3000)))),
            DEFAULT_NEXT
        );
    }
}
