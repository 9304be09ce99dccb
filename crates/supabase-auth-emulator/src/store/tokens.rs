//! One-time tokens (email links and codes), PKCE flow state, local OAuth codes.

use crate::store::{Db, DbResult, OptionalExt as _, db, params};

use super::Ts;

/// Kinds of one-time token, named as GoTrue's `one_time_tokens.token_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OttType {
    Confirmation,
    Recovery,
    EmailChangeNew,
    EmailChangeCurrent,
    Reauthentication,
    PhoneChange,
}

impl OttType {
    fn as_str(self) -> &'static str {
        match self {
            OttType::Confirmation => "confirmation_token",
            OttType::Recovery => "recovery_token",
            OttType::EmailChangeNew => "email_change_token_new",
            OttType::EmailChangeCurrent => "email_change_token_current",
            OttType::Reauthentication => "reauthentication_token",
            OttType::PhoneChange => "phone_change_token",
        }
    }
}

/// Stores (replacing any previous token of that kind) a token hash for a user.
pub(crate) fn put_ott(
    c: &Db<'_>,
    user_id: &str,
    kind: OttType,
    token_hash: &str,
    relates_to: &str,
    now: i64,
) -> DbResult<()> {
    c.execute(
        "INSERT INTO one_time_tokens (user_id, token_type, token_hash, relates_to, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, token_type) DO UPDATE SET \
         token_hash = excluded.token_hash, relates_to = excluded.relates_to, \
         created_at = excluded.created_at",
        params![user_id, kind.as_str(), token_hash, relates_to, now],
    )?;
    Ok(())
}

/// A stored one-time token.
#[derive(Debug, Clone)]
pub(crate) struct Ott {
    pub(crate) user_id: String,
    pub(crate) created_at: i64,
}

/// Finds a token of `kind` whose hash is one of `hashes`.
pub(crate) fn find_ott(c: &Db<'_>, kind: OttType, hashes: &[&str]) -> DbResult<Option<Ott>> {
    for h in hashes {
        let found = c
            .query_row(
                "SELECT user_id, created_at FROM one_time_tokens \
                 WHERE token_type = ?1 AND token_hash = ?2",
                params![kind.as_str(), h],
                |r| {
                    Ok(Ott {
                        user_id: r.get(0)?,
                        created_at: r.get(1)?,
                    })
                },
            )
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Deletes every one-time token of a user.
pub(crate) fn clear_otts(c: &Db<'_>, user_id: &str) -> DbResult<()> {
    c.execute(
        "DELETE FROM one_time_tokens WHERE user_id = ?1",
        params![user_id],
    )?;
    Ok(())
}

/// Deletes one kind of one-time token of a user.
pub(crate) fn clear_ott(c: &Db<'_>, user_id: &str, kind: OttType) -> DbResult<()> {
    c.execute(
        "DELETE FROM one_time_tokens WHERE user_id = ?1 AND token_type = ?2",
        params![user_id, kind.as_str()],
    )?;
    Ok(())
}

/// A row of `flow_state`.
#[derive(Clone)]
pub(crate) struct FlowState {
    pub(crate) id: String,
    pub(crate) user_id: Option<String>,
    pub(crate) auth_code: String,
    pub(crate) code_challenge_method: String,
    pub(crate) code_challenge: String,
    pub(crate) provider_type: String,
    pub(crate) provider_access_token: String,
    pub(crate) provider_refresh_token: String,
    pub(crate) authentication_method: String,
    pub(crate) auth_code_issued_at: Ts,
    pub(crate) redirect_to: String,
    pub(crate) created_at: i64,
}

impl std::fmt::Debug for FlowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowState")
            .field("id", &self.id)
            .field("authentication_method", &self.authentication_method)
            .finish_non_exhaustive()
    }
}

impl FlowState {
    /// A new flow state with a fresh UUID `auth_code`.
    pub(crate) fn new(
        user_id: Option<&str>,
        method: &str,
        challenge: &str,
        provider_type: &str,
        auth_method: &str,
        now: i64,
    ) -> Self {
        Self {
            id: crate::util::new_uuid(),
            user_id: user_id.map(Into::into),
            auth_code: crate::util::new_uuid(),
            code_challenge_method: method.into(),
            code_challenge: challenge.into(),
            provider_type: provider_type.into(),
            provider_access_token: String::new(),
            provider_refresh_token: String::new(),
            authentication_method: auth_method.into(),
            auth_code_issued_at: None,
            redirect_to: String::new(),
            created_at: now,
        }
    }
}

const FS_COLUMNS: &str = "id, user_id, auth_code, code_challenge_method, code_challenge, \
    provider_type, provider_access_token, provider_refresh_token, authentication_method, \
    auth_code_issued_at, redirect_to, created_at";

fn fs_from_row(r: &db::Row<'_>) -> DbResult<FlowState> {
    Ok(FlowState {
        id: r.get(0)?,
        user_id: r.get(1)?,
        auth_code: r.get(2)?,
        code_challenge_method: r.get(3)?,
        code_challenge: r.get(4)?,
        provider_type: r.get(5)?,
        provider_access_token: r.get(6)?,
        provider_refresh_token: r.get(7)?,
        authentication_method: r.get(8)?,
        auth_code_issued_at: r.get(9)?,
        redirect_to: r.get(10)?,
        created_at: r.get(11)?,
    })
}

/// Inserts or replaces a flow state.
pub(crate) fn save_flow_state(c: &Db<'_>, f: &FlowState, now: i64) -> DbResult<()> {
    c.execute(
        &format!(
            "INSERT INTO flow_state ({FS_COLUMNS}, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
             ON CONFLICT (id) DO UPDATE SET {}",
            super::db::excluded(&format!("{FS_COLUMNS}, updated_at"))
        ),
        params![
            f.id,
            f.user_id,
            f.auth_code,
            f.code_challenge_method,
            f.code_challenge,
            f.provider_type,
            f.provider_access_token,
            f.provider_refresh_token,
            f.authentication_method,
            f.auth_code_issued_at,
            f.redirect_to,
            f.created_at,
            now
        ],
    )?;
    Ok(())
}

/// Finds a flow state by its `auth_code`.
pub(crate) fn flow_state_by_code(c: &Db<'_>, code: &str) -> DbResult<Option<FlowState>> {
    c.query_row(
        &format!("SELECT {FS_COLUMNS} FROM flow_state WHERE auth_code = ?1"),
        params![code],
        fs_from_row,
    )
    .optional()
}

/// Finds a flow state by id (the OAuth `state`).
pub(crate) fn flow_state_by_id(c: &Db<'_>, id: &str) -> DbResult<Option<FlowState>> {
    c.query_row(
        &format!("SELECT {FS_COLUMNS} FROM flow_state WHERE id = ?1"),
        params![id],
        fs_from_row,
    )
    .optional()
}

/// The newest flow state of a user for an authentication method.
pub(crate) fn latest_flow_state(
    c: &Db<'_>,
    user_id: &str,
    auth_method: &str,
) -> DbResult<Option<FlowState>> {
    c.query_row(
        &format!(
            "SELECT {FS_COLUMNS} FROM flow_state WHERE user_id = ?1 AND authentication_method = ?2 \
             ORDER BY created_at DESC, rowid DESC LIMIT 1"
        ),
        params![user_id, auth_method],
        fs_from_row,
    )
    .optional()
}

/// Deletes a flow state.
pub(crate) fn delete_flow_state(c: &Db<'_>, id: &str) -> DbResult<()> {
    c.execute("DELETE FROM flow_state WHERE id = ?1", params![id])?;
    Ok(())
}

/// The identity chosen on the local OAuth provider's consent page.
#[derive(Debug, Clone)]
pub(crate) struct OAuthCode {
    pub(crate) flow_state_id: String,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) created_at: i64,
}

/// Stores a provider authorization code.
pub(crate) fn put_oauth_code(c: &Db<'_>, code: &str, v: &OAuthCode) -> DbResult<()> {
    c.execute(
        "INSERT INTO oauth_codes (code, flow_state_id, email, name, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![code, v.flow_state_id, v.email, v.name, v.created_at],
    )?;
    Ok(())
}

/// Takes (reads and deletes) a provider authorization code.
pub(crate) fn take_oauth_code(c: &Db<'_>, code: &str) -> DbResult<Option<OAuthCode>> {
    let found = c
        .query_row(
            "SELECT flow_state_id, email, name, created_at FROM oauth_codes WHERE code = ?1",
            params![code],
            |r| {
                Ok(OAuthCode {
                    flow_state_id: r.get(0)?,
                    email: r.get(1)?,
                    name: r.get(2)?,
                    created_at: r.get(3)?,
                })
            },
        )
        .optional()?;
    c.execute("DELETE FROM oauth_codes WHERE code = ?1", params![code])?;
    Ok(found)
}

/// The stored hash of the user's token of `kind`, if any.
pub(crate) fn ott_hash_for_user(
    c: &Db<'_>,
    user_id: &str,
    kind: OttType,
) -> DbResult<Option<String>> {
    c.query_row(
        "SELECT token_hash FROM one_time_tokens WHERE user_id = ?1 AND token_type = ?2",
        params![user_id, kind.as_str()],
        |r| r.get(0),
    )
    .optional()
}
