#![allow(clippy::unwrap_used)]

use super::*;
use crate::cookies::CookieOptions;

fn set(name: &str, value: &str) -> SetCookie {
    SetCookie {
        name: name.into(),
        value: value.into(),
        options: CookieOptions::default_set(),
    }
}

fn remove(name: &str) -> SetCookie {
    let mut options = CookieOptions::default_set();
    options.max_age = Some(0);
    SetCookie {
        name: name.into(),
        value: String::new(),
        options,
    }
}

fn edit(fields: &[&str], writes: &[SetCookie]) -> CookieHeaderEdit {
    edit_cookie_header(fields.iter().map(|f| f.as_bytes()), writes)
}

fn replaced(text: &str) -> CookieHeaderEdit {
    CookieHeaderEdit::Replace(text.as_bytes().to_vec())
}

#[test]
fn rewrite_merges_fields_and_keeps_other_cookies_byte_for_byte() {
    assert_eq!(
        edit(
            &["a=x%3By; sb-k-auth-token=base64-old", " b=2 ;;junk"],
            &[set("sb-k-auth-token", "base64-new")]
        ),
        replaced("a=x%3By; sb-k-auth-token=base64-new; b=2; junk")
    );
}

#[test]
fn rewrite_applies_writes_in_order_and_encodes_new_values() {
    assert_eq!(
        edit(
            &["sb-k-auth-token.0=p0; sb-k-auth-token.1=p1; t=1"],
            &[
                remove("sb-k-auth-token.0"),
                remove("sb-k-auth-token.1"),
                set("sb-k-auth-token", "{\"a\": 1}"),
            ],
        ),
        replaced("t=1; sb-k-auth-token=%7B%22a%22%3A%201%7D")
    );
}

#[test]
fn rewrite_removes_the_header_when_nothing_is_left() {
    assert_eq!(
        edit(
            &["sb-k-auth-token=x", "sb-k-auth-token=y"],
            &[remove("sb-k-auth-token")]
        ),
        CookieHeaderEdit::Remove
    );
}

#[test]
fn rewrite_keeps_the_original_without_writes_or_when_the_result_is_not_a_header_value() {
    assert_eq!(edit(&["a=1"], &[]), CookieHeaderEdit::Keep);
    assert_eq!(
        edit(&["a=1"], &[set("bad\nname", "v")]),
        CookieHeaderEdit::Keep
    );
}

#[test]
fn bytes_that_are_not_utf8_are_kept_as_they_came() {
    assert_eq!(
        edit_cookie_header([&b"x=\xff\xfe; s=old"[..]], &[set("s", "new")]),
        CookieHeaderEdit::Replace(b"x=\xff\xfe; s=new".to_vec())
    );
}

fn add(theirs: &[&str], writes: &[SetCookie]) -> ResponseHeaders {
    response_headers(theirs.iter().map(|l| l.as_bytes()), writes)
}

fn with_domain(mut write: SetCookie, domain: &str) -> SetCookie {
    write.options.domain = Some(domain.into());
    write
}

#[test]
fn set_cookie_lines_follow_the_handlers() {
    let added = add(&["theme=dark; Path=/"], &[set("a", "1"), remove("b")]);
    assert_eq!(
        added.set_cookie(),
        [
            "a=1; Max-Age=34560000; Path=/; SameSite=Lax",
            "b=; Max-Age=0; Path=/; SameSite=Lax"
        ]
    );
}

#[test]
fn lines_already_in_the_response_are_not_repeated() {
    let added = add(
        &["a=1; Max-Age=34560000; Path=/; SameSite=Lax"],
        &[set("a", "1"), set("b", "2")],
    );
    assert_eq!(
        added.set_cookie(),
        ["b=2; Max-Age=34560000; Path=/; SameSite=Lax"]
    );
}

#[test]
fn a_group_is_repeated_when_leaving_it_out_would_change_the_final_cookie() {
    // The handler set `a=1` first; the client then deleted and set it again. Leaving out
    // its `a=1` would end the response on the deletion.
    let added = add(
        &["a=1; Max-Age=34560000; Path=/; SameSite=Lax"],
        &[remove("a"), set("a", "1")],
    );
    assert_eq!(
        added.set_cookie(),
        [
            "a=; Max-Age=0; Path=/; SameSite=Lax",
            "a=1; Max-Age=34560000; Path=/; SameSite=Lax"
        ]
    );
    // Same name, another domain: a different cookie, so it is written.
    let added = add(
        &["a=; Max-Age=0; Path=/; SameSite=Lax"],
        &[remove("a"), with_domain(remove("a"), ".Example.com")],
    );
    assert_eq!(
        added.set_cookie(),
        ["a=; Max-Age=0; Domain=.Example.com; Path=/; SameSite=Lax"]
    );
    // The handler's line for the same cookie, written with another case and a dot.
    let added = add(
        &["a=; Max-Age=0; Domain=example.COM; Path=/; SameSite=Lax"],
        &[with_domain(remove("a"), "example.COM")],
    );
    assert_eq!(added.set_cookie(), [] as [&str; 0]);
}

#[test]
fn invalid_lines_are_skipped() {
    let added = add(
        &[],
        &[with_domain(set("a", "1"), "bad\ndomain"), set("b", "2")],
    );
    assert_eq!(
        added.set_cookie(),
        ["b=2; Max-Age=34560000; Path=/; SameSite=Lax"]
    );
}

#[test]
fn cache_headers_only_after_writes() {
    assert!(add(&[], &[]).is_empty());
    assert_eq!(add(&[], &[]).cache_headers(), []);
    let added = add(&[], &[set("a", "1")]);
    assert!(!added.is_empty());
    assert_eq!(
        added.cache_headers(),
        [
            (
                "Cache-Control",
                "private, no-cache, no-store, must-revalidate, max-age=0"
            ),
            ("Expires", "0"),
            ("Pragma", "no-cache"),
        ]
    );
}
