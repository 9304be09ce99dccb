//! Redirect URL allow-list, as GoTrue's `IsRedirectURLValid`.

use std::net::IpAddr;

use url::Url;

use crate::EmulatorConfig;

fn is_loopback_host(host: &str) -> bool {
    let trimmed = host.trim_start_matches('[').trim_end_matches(']');
    matches!(trimmed, "localhost" | "0.0.0.0" | "::")
        || trimmed.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `candidate` may be redirected to.
pub(crate) fn is_valid(config: &EmulatorConfig, candidate: &str) -> bool {
    let Ok(url) = Url::parse(candidate) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    // Any loopback IP literal is allowed (local development).
    if host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
    {
        return true;
    }
    if let Ok(site) = Url::parse(&config.site_url)
        && site.scheme() == url.scheme()
        && site.host_str() == Some(host)
        && (is_loopback_host(host) || site.port_or_known_default() == url.port_or_known_default())
    {
        return true;
    }
    let mut without_fragment = url.clone();
    without_fragment.set_fragment(None);
    let target = without_fragment.as_str();
    config.redirect_allow_list.iter().any(|pattern| {
        glob_match(pattern.as_bytes(), target.as_bytes())
            || glob_match(pattern.as_bytes(), target.trim_end_matches('/').as_bytes())
    })
}

/// The validated redirect target, or the site URL.
pub(crate) fn or_site_url(config: &EmulatorConfig, candidate: Option<&str>) -> String {
    match candidate {
        Some(c) if !c.is_empty() && is_valid(config, c) => c.to_string(),
        _ => config.site_url.clone(),
    }
}

/// Glob with `.`/`/` as separators: `*` matches within a segment, `**` across them.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative matcher with memoisation to stay linear-ish on hostile patterns.
    let mut memo = vec![None; (pattern.len() + 1) * (text.len() + 1)];
    glob_at(pattern, text, 0, 0, &mut memo)
}

fn glob_at(p: &[u8], t: &[u8], pi: usize, ti: usize, memo: &mut [Option<bool>]) -> bool {
    let idx = pi * (t.len() + 1) + ti;
    if let Some(Some(v)) = memo.get(idx) {
        return *v;
    }
    let result = match p.get(pi) {
        None => ti == t.len(),
        Some(b'*') if p.get(pi + 1) == Some(&b'*') => {
            (ti..=t.len()).any(|k| glob_at(p, t, pi + 2, k, memo))
        }
        Some(b'*') => {
            let mut k = ti;
            loop {
                if glob_at(p, t, pi + 1, k, memo) {
                    break true;
                }
                match t.get(k) {
                    Some(b'.') | Some(b'/') | None => break false,
                    Some(_) => k += 1,
                }
            }
        }
        Some(b'?') => {
            t.get(ti).is_some_and(|c| *c != b'.' && *c != b'/')
                && glob_at(p, t, pi + 1, ti + 1, memo)
        }
        Some(c) => t.get(ti) == Some(c) && glob_at(p, t, pi + 1, ti + 1, memo),
    };
    if let Some(slot) = memo.get_mut(idx) {
        *slot = Some(result);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(list: &[&str]) -> EmulatorConfig {
        EmulatorConfig::default()
            .site_url("https://app.example.com")
            .redirect_allow_list(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn allow_list_rules() {
        let c = cfg(&["https://*.example.org/**", "https://exact.example.net/cb"]);
        assert!(is_valid(&c, "http://127.0.0.1:3000/anything"));
        assert!(is_valid(&c, "https://app.example.com/auth/callback"));
        assert!(!is_valid(&c, "https://app.example.com:8443/x"));
        assert!(is_valid(&c, "https://a.example.org/deep/path?q=1#frag"));
        assert!(!is_valid(&c, "https://a.b.example.org/x"));
        assert!(is_valid(&c, "https://exact.example.net/cb"));
        assert!(!is_valid(&c, "https://evil.com/"));
        assert!(!is_valid(&c, "not a url"));
        assert_eq!(
            or_site_url(&c, Some("https://evil.com/")),
            "https://app.example.com"
        );
    }
}
