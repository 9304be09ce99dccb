//! The inbox: JSON for tests (`/inbox/api/messages`) and HTML for people (`/inbox`).

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::St;
use super::error::ApiResult;
use super::extract::QueryMap;
use crate::Email;
use crate::store::mail;
use crate::util::html_escape;

/// The `to` filter: an address as given, or a phone number in the `+<digits>` form SMS
/// messages are stored under (`+1 555…`, `1555…`, and a `+` turned into a space by
/// form decoding all match).
fn recipient(q: &QueryMap) -> Option<String> {
    let to = q.get("to")?;
    if to.contains('@') {
        return Some(to.to_string());
    }
    Some(match crate::phone::normalize(to) {
        Some(digits) => format!("+{digits}"),
        None => to.to_string(),
    })
}

fn matching(all: Vec<Email>, q: &QueryMap) -> Vec<Email> {
    all.into_iter()
        .filter(|e| q.get("kind").is_none_or(|k| e.kind == k))
        .filter(|e| q.get("channel").is_none_or(|ch| e.channel == ch))
        .collect()
}

/// `GET /inbox/api/messages[?to=&kind=]`: `{"messages": [...]}`, oldest first.
pub(crate) async fn list(st: St, q: QueryMap) -> ApiResult<Json<serde_json::Value>> {
    let to = recipient(&q);
    let all = st.store.tx(|c| mail::list(c, to.as_deref()))?;
    Ok(Json(json!({ "messages": matching(all, &q) })))
}

/// `GET /inbox/api/messages/latest[?to=&kind=]`: the newest message, or 404.
pub(crate) async fn latest(st: St, q: QueryMap) -> ApiResult<Response> {
    let to = recipient(&q);
    let all = st.store.tx(|c| mail::list(c, to.as_deref()))?;
    Ok(match matching(all, &q).pop() {
        Some(e) => Json(e).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no matching message" })),
        )
            .into_response(),
    })
}

/// `DELETE /inbox/api/messages[?to=]`: 204.
pub(crate) async fn clear(st: St, q: QueryMap) -> ApiResult<StatusCode> {
    let to = recipient(&q);
    st.store.tx(|c| mail::clear(c, to.as_deref()))?;
    Ok(StatusCode::NO_CONTENT)
}

const STYLE: &str = "<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}\
code{font-size:1.1em;background:#f3f3f3;padding:.1rem .3rem}.mail{border:1px solid #ccc;padding:1rem}</style>";

/// `GET /inbox`: every message, newest first.
pub(crate) async fn page(st: St) -> ApiResult<Html<String>> {
    let mut all = st.store.tx(|c| mail::list(c, None))?;
    all.reverse();
    let rows: String = all
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{sent}</td><td>{to}</td><td><a href=\"/inbox/{id}\">{subject}</a></td><td>{kind}</td>\
                 <td><code>{otp}</code></td><td>{link}</td></tr>",
                sent = html_escape(&e.sent_at),
                to = html_escape(&e.to),
                id = html_escape(&e.id),
                // An SMS has no subject: its text stands in.
                subject = html_escape(if e.subject.is_empty() { &e.body } else { &e.subject }),
                kind = html_escape(&e.kind),
                otp = html_escape(&e.otp),
                link = if e.link.is_empty() {
                    String::new()
                } else {
                    format!("<a href=\"{}\">open link</a>", html_escape(&e.link))
                },
            )
        })
        .collect();
    let body = if all.is_empty() {
        "<p>No message yet. Sign-up confirmations, magic links, password resets and SMS codes show up here.</p>".to_string()
    } else {
        format!(
            "<table><tr><th>Sent</th><th>To</th><th>Subject</th><th>Kind</th><th>Code</th><th>Link</th></tr>{rows}</table>"
        )
    };
    Ok(Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">\
         <title>Inbox · supabase-auth-emulator</title>{STYLE}</head><body><h1>Inbox</h1>{body}</body></html>"
    )))
}

/// `GET /inbox/{id}`: one message with its HTML body.
pub(crate) async fn message_page(st: St, Path(id): Path<String>) -> ApiResult<Response> {
    let all = st.store.tx(|c| mail::list(c, None))?;
    let Some(e) = all.into_iter().find(|e| e.id == id) else {
        return Ok((
            StatusCode::NOT_FOUND,
            Html("<p>No such message. <a href=\"/inbox\">Back to the inbox</a></p>".to_string()),
        )
            .into_response());
    };
    Ok(Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{subject}</title>{STYLE}</head><body>\
         <p><a href=\"/inbox\">&larr; Inbox</a></p><h1>{subject}</h1><p>To: {to}<br>Sent: {sent}<br>Kind: {kind}<br>\
         Code: <code>{otp}</code><br>Token hash: <code>{hash}</code></p><div class=\"mail\">{html}</div></body></html>",
        subject = html_escape(if e.subject.is_empty() { &e.body } else { &e.subject }),
        to = html_escape(&e.to),
        sent = html_escape(&e.sent_at),
        kind = html_escape(&e.kind),
        otp = html_escape(&e.otp),
        hash = html_escape(&e.token_hash),
        // Our own rendering, already escaped where it interpolates data.
        html = e.html,
    ))
    .into_response())
}
