//! OAuth sign-in through a built-in local provider: `GET /auth/v1/authorize`
//! redirects to a consent page served by the emulator itself, which sends the
//! browser back to `/auth/v1/callback`, which redirects to the app with a PKCE
//! code (or, in the implicit flow, the session in the fragment).

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::St;
use super::error::{ApiError, ApiResult};
use super::external::{ProviderUser, link_to_user, sign_in_or_up};
use super::extract::{LimitedBody, QueryMap};
use super::verify::redirect_with;
use crate::session::{self, Extras};
use crate::state::AppState;
use crate::store::links;
use crate::store::tokens::{self, FlowState, OAuthCode};
use crate::store::users;
use crate::util::{html_escape, random_alnum, sha224_hex};

/// Query parameters GoTrue consumes itself (the rest go to the provider).
const RESERVED: &[&str] = &[
    "provider",
    "redirect_to",
    "scopes",
    "code_challenge",
    "code_challenge_method",
    "skip_http_redirect",
    "invite_token",
    "client_id",
    "client_secret",
    "redirect_uri",
    "response_type",
    "state",
    "code_verifier",
    "apikey",
];

fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

pub(crate) async fn authorize(st: St, query: QueryMap) -> ApiResult<Response> {
    start_flow(&st, &query, None)
}

/// `GetExternalProviderRedirectURL`: saves the flow state (with the user to link the
/// identity to, for manual linking) and answers with the consent page's URL.
pub(crate) fn start_flow(
    st: &AppState,
    query: &QueryMap,
    link_target: Option<&str>,
) -> ApiResult<Response> {
    let provider = query.get("provider").unwrap_or("").to_string();
    if !st.config.external_providers.contains(&provider) {
        return Err(ApiError::validation(
            "Unsupported provider: provider is not enabled",
        ));
    }
    let challenge = crate::pkce::validate(
        query.get("code_challenge"),
        query.get("code_challenge_method"),
    )?;
    let redirect_to = crate::redirect::or_site_url(&st.config, query.get("redirect_to"));
    let now = st.now();
    let (method, code_challenge) = challenge
        .map(|c| (c.method, c.challenge))
        .unwrap_or_default();
    let mut flow = FlowState::new(None, &method, &code_challenge, &provider, "oauth", now);
    flow.redirect_to = redirect_to;
    st.store.tx(|c| {
        tokens::save_flow_state(c, &flow, now)?;
        if let Some(user_id) = link_target {
            links::put(c, &flow.id, user_id)?;
        }
        Ok::<_, ApiError>(())
    })?;

    let mut provider_url = url::form_urlencoded::Serializer::new(String::new());
    provider_url
        .append_pair("client_id", crate::oidc::CLIENT_ID)
        .append_pair("redirect_uri", &format!("{}/callback", st.auth_url()))
        .append_pair("response_type", "code")
        .append_pair("scope", query.get("scopes").unwrap_or(""))
        .append_pair("state", &flow.id)
        .append_pair("provider", &provider);
    let mut extra: Vec<(&String, &String)> = query
        .0
        .iter()
        .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
        .collect();
    extra.sort();
    for (k, v) in extra {
        provider_url.append_pair(k, v);
    }
    let url = format!(
        "{}/oauth-provider/authorize?{}",
        st.base_url,
        provider_url.finish()
    );
    if query.get("skip_http_redirect") == Some("true") {
        return Ok(Json(json!({ "url": url })).into_response());
    }
    Ok(found(&url))
}

fn provider_label(provider: &str) -> String {
    let mut chars = provider.chars();
    chars
        .next()
        .map(|f| f.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn consent_html(q: &QueryMap, error: Option<&str>) -> String {
    let provider = q.get("provider").unwrap_or("oauth");
    let hint = q.get("login_hint").unwrap_or("");
    let field = |name: &str| html_escape(q.get(name).unwrap_or(""));
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in with {label} (emulated)</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}}\
label,input,button{{display:block;width:100%;margin:.4rem 0}}input{{padding:.5rem}}\
button{{padding:.6rem;cursor:pointer}}.err{{color:#b00}}</style></head><body>\
<h1>Sign in with {label}</h1><p>This is the local test provider of supabase-auth-emulator. \
No real {label} account is involved: choose the identity to sign in as.</p>{err}\
<form method=\"post\" action=\"/oauth-provider/authorize\">\
<input type=\"hidden\" name=\"state\" value=\"{state}\">\
<input type=\"hidden\" name=\"redirect_uri\" value=\"{redirect_uri}\">\
<input type=\"hidden\" name=\"provider\" value=\"{provider_attr}\">\
<label>Email <input type=\"email\" name=\"email\" required value=\"{hint}\"></label>\
<label>Name <input type=\"text\" name=\"name\" value=\"\"></label>\
<button type=\"submit\" name=\"action\" value=\"approve\">Authorize</button>\
<button type=\"submit\" name=\"action\" value=\"deny\">Cancel</button></form></body></html>",
        label = html_escape(&provider_label(provider)),
        err = error
            .map(|e| format!("<p class=\"err\">{}</p>", html_escape(e)))
            .unwrap_or_default(),
        state = field("state"),
        redirect_uri = field("redirect_uri"),
        provider_attr = html_escape(provider),
        hint = html_escape(hint),
    )
}

pub(crate) async fn consent_page(query: QueryMap) -> Html<String> {
    Html(consent_html(&query, None))
}

pub(crate) async fn consent_submit(st: St, LimitedBody(body): LimitedBody) -> Response {
    let form = QueryMap(url::form_urlencoded::parse(&body).into_owned().collect());
    let callback = format!("{}/callback", st.auth_url());
    let redirect_uri = form.get("redirect_uri").unwrap_or("");
    let state = form.get("state").unwrap_or("").to_string();
    if redirect_uri != callback || state.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Html(consent_html(&form, Some("Invalid authorization request."))),
        )
            .into_response();
    }
    if form.get("action") == Some("deny") {
        let url = redirect_with(
            &callback,
            &[
                ("error", "access_denied"),
                ("error_description", "The user denied the request"),
                ("state", &state),
            ],
            &[],
        );
        return found(&url);
    }
    let email = form.get("email").unwrap_or("").trim().to_lowercase();
    if crate::util::validate_email(&email).is_err() {
        return (
            StatusCode::BAD_REQUEST,
            Html(consent_html(&form, Some("Enter a valid email address."))),
        )
            .into_response();
    }
    let code = random_alnum(32);
    let entry = OAuthCode {
        flow_state_id: state.clone(),
        email,
        name: form.get("name").unwrap_or("").to_string(),
        created_at: st.now(),
    };
    if let Err(e) = st.store.tx(|c| tokens::put_oauth_code(c, &code, &entry)) {
        return ApiError::from(e).into_response();
    }
    found(&redirect_with(
        &callback,
        &[("code", &code), ("state", &state)],
        &[],
    ))
}

fn oauth_error_redirect(
    base: &str,
    pkce: bool,
    error: &str,
    code: &str,
    description: &str,
) -> Response {
    let params = [
        ("error", error),
        ("error_code", code),
        ("error_description", description),
    ];
    let mut fragment = params.to_vec();
    fragment.push(("sb", ""));
    found(&redirect_with(
        base,
        if pkce { &params } else { &[] },
        &fragment,
    ))
}

/// The provider's user behind a consent-page answer (always a verified email).
fn consent_user(st: &AppState, provider: &str, code: &OAuthCode) -> ProviderUser {
    let provider_id = sha224_hex(&format!("{provider}:{}", code.email))[..20].to_string();
    let name = if code.name.is_empty() {
        code.email.split('@').next().unwrap_or("").to_string()
    } else {
        code.name.clone()
    };
    let mut data = Map::new();
    data.insert("avatar_url".into(), json!(""));
    data.insert("email".into(), json!(code.email));
    data.insert("email_verified".into(), json!(true));
    data.insert("full_name".into(), json!(name));
    data.insert("iss".into(), json!(crate::oidc::issuer(&st.base_url)));
    data.insert("name".into(), json!(name));
    data.insert("phone_verified".into(), json!(false));
    data.insert("provider_id".into(), json!(provider_id));
    data.insert("sub".into(), json!(provider_id));
    ProviderUser {
        subject: provider_id,
        email: code.email.clone(),
        email_verified: true,
        data,
    }
}

/// The `error` GoTrue's `getErrorQueryString` puts on a failed callback's redirect.
fn oauth_error_kind(e: &ApiError) -> &'static str {
    match (e.code.as_ref(), e.status.as_u16()) {
        ("signup_disabled" | "user_banned" | "provider_email_needs_verification", _) => {
            "access_denied"
        }
        (_, 400) => "invalid_request",
        (_, 401) => "unauthorized_client",
        (_, 403) => "access_denied",
        (_, 503) => "temporarily_unavailable",
        _ => "server_error",
    }
}

pub(crate) async fn callback(st: St, query: QueryMap) -> ApiResult<Response> {
    let state = query.get("state").unwrap_or("").to_string();
    let flow = st.store.tx(|c| tokens::flow_state_by_id(c, &state))?;
    let Some(mut flow) = flow else {
        return Ok(oauth_error_redirect(
            &st.config.site_url,
            false,
            "invalid_request",
            "bad_oauth_state",
            "OAuth state is invalid",
        ));
    };
    let pkce = !flow.code_challenge.is_empty();
    let base = flow.redirect_to.clone();
    if let Some(error) = query.get("error") {
        let description = query
            .get("error_description")
            .unwrap_or("OAuth provider returned an error");
        st.store.tx(|c| tokens::delete_flow_state(c, &flow.id))?;
        return Ok(oauth_error_redirect(
            &base,
            pkce,
            error,
            "provider_error",
            description,
        ));
    }
    if flow.user_id.is_some() {
        return Ok(oauth_error_redirect(
            &base,
            pkce,
            "invalid_request",
            "flow_state_already_used",
            "Flow state already used",
        ));
    }
    let code = query.get("code").unwrap_or("").to_string();
    let result = st.store.tx(|c| {
        let entry = tokens::take_oauth_code(c, &code)?
            .filter(|e| e.flow_state_id == flow.id)
            .ok_or_else(|| {
                ApiError::bad_request("bad_oauth_callback", "OAuth callback with invalid code")
            })?;
        let provider_user = consent_user(&st, &flow.provider_type, &entry);
        let mut user = match links::get(c, &flow.id)? {
            Some(target_id) => {
                links::delete(c, &flow.id)?;
                let target = users::get(c, &target_id)?.ok_or_else(|| {
                    ApiError::unprocessable("user_not_found", "Linking target user not found")
                })?;
                link_to_user(&st, c, &target, &flow.provider_type, &provider_user)?
            }
            None => sign_in_or_up(&st, c, &flow.provider_type, &provider_user)?,
        };
        let now = st.now();
        let provider_token = format!("emulator-provider-token-{}", random_alnum(24));
        let provider_refresh = format!("emulator-provider-refresh-{}", random_alnum(24));
        if pkce {
            flow.user_id = Some(user.id.clone());
            flow.provider_access_token = provider_token;
            flow.provider_refresh_token = provider_refresh;
            flow.auth_code_issued_at = Some(now);
            tokens::save_flow_state(c, &flow, now)?;
            return Ok(redirect_with(
                &base,
                &[("code", flow.auth_code.as_str())],
                &[],
            ));
        }
        let extras = Extras {
            provider_token: Some(provider_token),
            provider_refresh_token: Some(provider_refresh),
            weak_password: None,
        };
        let m = session::issue(&st, c, &mut user, "oauth", None, extras)?;
        tokens::delete_flow_state(c, &flow.id)?;
        let text = |k: &str| match m.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let values = [
            "access_token",
            "expires_at",
            "expires_in",
            "provider_refresh_token",
            "provider_token",
            "refresh_token",
        ]
        .map(|k| (k, text(k)));
        let mut fragment: Vec<(&str, &str)> =
            values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fragment.push(("sb", ""));
        fragment.push(("token_type", "bearer"));
        Ok::<_, ApiError>(redirect_with(&base, &[], &fragment))
    });
    Ok(match result {
        Ok(location) => found(&location),
        Err(e) if e.status.is_server_error() => return Err(e),
        Err(e) => oauth_error_redirect(&base, pkce, oauth_error_kind(&e), &e.code, &e.msg),
    })
}
