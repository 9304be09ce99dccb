//! What GoTrue does with an identity a provider vouched for, shared by the OAuth
//! callback and the `id_token` grant: sign in or sign up (`createAccountFromExternalIdentity`
//! in `external.go`), link to a signed-in user (`linkIdentityToUser` in `identity.go`),
//! and pick the user's email from the identities left (`UpdateUserEmailFromIdentities`
//! in `models/user.go`).

use crate::store::{Db, DbResult};
use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::tokens;
use crate::store::users::{self, IdentityRecord, UserRecord};

/// A provider's user, as GoTrue's `UserProvidedData` after the email pick.
#[derive(Debug, Clone)]
pub(crate) struct ProviderUser {
    /// `sub`: the identity's `provider_id`.
    pub(crate) subject: String,
    /// Lower-cased; empty when the provider gave none.
    pub(crate) email: String,
    pub(crate) email_verified: bool,
    /// `identity_data` (and what is merged into `user_metadata`).
    pub(crate) data: Map<String, Value>,
}

/// The email of an identity (GoTrue's generated `identities.email` column).
pub(crate) fn identity_email(i: &IdentityRecord) -> String {
    i.identity_data
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase()
}

fn identity_email_verified(i: &IdentityRecord) -> bool {
    i.identity_data
        .get("email_verified")
        .and_then(Value::as_bool)
        == Some(true)
}

fn new_identity(user_id: &str, provider: &str, pu: &ProviderUser, now: i64) -> IdentityRecord {
    let mut data = pu.data.clone();
    // `Identity.BeforeCreate` lower-cases the email.
    if let Some(Value::String(e)) = data.get_mut("email") {
        *e = e.to_lowercase();
    }
    IdentityRecord::new(user_id, provider, &pu.subject, data, now)
}

/// Signs the provider's user in, linking by email or creating the user as needed.
pub(crate) fn sign_in_or_up(
    st: &AppState,
    c: &Db<'_>,
    provider: &str,
    pu: &ProviderUser,
) -> ApiResult<UserRecord> {
    let now = st.now();
    let mut user = match users::find_identity(c, provider, &pu.subject)? {
        Some(mut identity) => {
            identity.identity_data = new_identity("", provider, pu, now).identity_data;
            identity.last_sign_in_at = Some(now);
            identity.updated_at = now;
            users::upsert_identity(c, &identity)?;
            users::get(c, &identity.user_id)?.ok_or_else(ApiError::internal)?
        }
        None => {
            let existing = if pu.email.is_empty() {
                None
            } else {
                users::find_by_email(c, &pu.email)?
            };
            let user = match existing {
                Some(u) => u,
                None => {
                    if st.config.disable_signup {
                        return Err(ApiError::unprocessable(
                            "signup_disabled",
                            "Signups not allowed for this instance",
                        ));
                    }
                    let mut u = UserRecord::new(now);
                    u.email = pu.email.clone();
                    u.user_metadata = pu.data.clone();
                    users::insert(c, &u)
                        .map_err(ApiError::database(super::signup::SAVING_NEW_USER))?;
                    u
                }
            };
            users::upsert_identity(c, &new_identity(&user.id, provider, pu, now))?;
            user
        }
    };
    for (k, v) in &pu.data {
        user.user_metadata.insert(k.clone(), v.clone());
    }
    users::refresh_providers(c, &mut user)?;
    if user.is_banned(now) {
        return Err(ApiError::forbidden("user_banned", "User is banned"));
    }
    if !pu.email.is_empty() && !user.email_confirmed() {
        if !pu.email_verified && !st.config.autoconfirm {
            // GoTrue also mails a confirmation link here; the emulator does not.
            return Err(ApiError::unprocessable(
                "provider_email_needs_verification",
                format!(
                    "Unverified email with {provider}. Verify the email with {provider} in order to sign in"
                ),
            ));
        }
        user.confirm_email(now);
    }
    users::save(c, &mut user, now)?;
    Ok(user)
}

/// Links the provider's identity to `target` (manual linking); returns the user as saved.
pub(crate) fn link_to_user(
    st: &AppState,
    c: &Db<'_>,
    target: &UserRecord,
    provider: &str,
    pu: &ProviderUser,
) -> ApiResult<UserRecord> {
    let now = st.now();
    if let Some(existing) = users::find_identity(c, provider, &pu.subject)? {
        let msg = if existing.user_id == target.id {
            "Identity is already linked"
        } else {
            "Identity is already linked to another user"
        };
        return Err(ApiError::unprocessable("identity_already_exists", msg));
    }
    users::upsert_identity(c, &new_identity(&target.id, provider, pu, now))?;
    let mut user = target.clone();
    if user.email.is_empty() {
        if !update_email_from_identities(c, &mut user, st.config.autoconfirm)? {
            return Err(ApiError::bad_request(
                "email_exists",
                "A user with this email address has already been registered",
            ));
        }
        if !pu.email_verified {
            // GoTrue commits the identity and mails a confirmation link; the emulator
            // refuses without linking.
            return Err(ApiError::unprocessable(
                "email_not_confirmed",
                format!(
                    "Unverified email with {provider}. A confirmation email has been sent to your {provider} email"
                ),
            ));
        }
        user.confirm_email(now);
        // The anonymous → permanent upgrade.
        user.is_anonymous = false;
    }
    users::refresh_providers(c, &mut user)?;
    users::save(c, &mut user, now)?;
    Ok(user)
}

/// GoTrue's `UpdateUserEmailFromIdentities`: keeps the email if an identity still
/// carries it, else takes the first identity (verified emails first, then unverified,
/// then none; oldest first) whose email no other user has. `false` when every
/// candidate is taken (GoTrue's `UserEmailUniqueConflictError`). Does not save `u`.
pub(crate) fn update_email_from_identities(
    c: &Db<'_>,
    u: &mut UserRecord,
    autoconfirm: bool,
) -> DbResult<bool> {
    let mut ids = users::identities(c, &u.id)?;
    if ids.iter().any(|i| identity_email(i) == u.email) {
        return Ok(true);
    }
    let rank = |i: &IdentityRecord| match (identity_email(i).is_empty(), identity_email_verified(i))
    {
        (true, _) => 2,
        (false, false) => 1,
        (false, true) => 0,
    };
    ids.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(a.created_at.cmp(&b.created_at))
            .then(a.id.cmp(&b.id))
    });
    let mut primary = None;
    for i in &ids {
        let email = identity_email(i);
        if email.is_empty() || users::find_by_email(c, &email)?.is_none() {
            primary = Some(i);
            break;
        }
    }
    let Some(primary) = primary else {
        return Ok(false);
    };
    let email = identity_email(primary);
    u.email = email.clone();
    // `ClearAllPendingTokens`: links and codes sent before the switch are void.
    u.confirmation_sent_at = None;
    u.recovery_sent_at = None;
    u.new_email = String::new();
    u.email_change_sent_at = None;
    u.email_change_confirm_status = 0;
    u.new_phone = String::new();
    u.phone_change_sent_at = None;
    u.reauthentication_sent_at = None;
    tokens::clear_otts(c, &u.id)?;
    if email.is_empty() || (!identity_email_verified(primary) && !autoconfirm) {
        u.email_confirmed_at = None;
        u.user_metadata
            .insert("email_verified".into(), Value::Bool(false));
    }
    Ok(true)
}
