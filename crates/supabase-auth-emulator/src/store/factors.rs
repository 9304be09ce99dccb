//! MFA factors and their challenges (GoTrue's `mfa_factors` and `mfa_challenges`).

use crate::store::{Db, DbResult, OptionalExt as _, db, params};

use super::Ts;

/// `FactorStateVerified`.
pub(crate) const VERIFIED: &str = "verified";
/// `FactorStateUnverified`.
pub(crate) const UNVERIFIED: &str = "unverified";

/// A row of `mfa_factors`.
#[derive(Clone)]
pub(crate) struct FactorRecord {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) friendly_name: String,
    pub(crate) factor_type: String,
    pub(crate) status: String,
    /// The TOTP secret, base32 (GoTrue keeps it encrypted only when configured to).
    pub(crate) secret: String,
    pub(crate) phone: String,
    pub(crate) last_challenged_at: Ts,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

impl std::fmt::Debug for FactorRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FactorRecord")
            .field("id", &self.id)
            .field("factor_type", &self.factor_type)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl FactorRecord {
    /// A new unverified factor (`models.NewFactor`).
    pub(crate) fn new(
        user_id: &str,
        friendly_name: &str,
        factor_type: &str,
        secret: String,
        now: i64,
    ) -> Self {
        Self {
            id: crate::util::new_uuid(),
            user_id: user_id.into(),
            friendly_name: friendly_name.into(),
            factor_type: factor_type.into(),
            status: UNVERIFIED.into(),
            secret,
            phone: String::new(),
            last_challenged_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// `Factor.IsVerified`.
    pub(crate) fn is_verified(&self) -> bool {
        self.status == VERIFIED
    }
}

const FACTOR_COLUMNS: &str = "id, user_id, friendly_name, factor_type, status, secret, phone, \
    last_challenged_at, created_at, updated_at";

fn factor_from_row(r: &db::Row<'_>) -> DbResult<FactorRecord> {
    Ok(FactorRecord {
        id: r.get(0)?,
        user_id: r.get(1)?,
        friendly_name: r.get(2)?,
        factor_type: r.get(3)?,
        status: r.get(4)?,
        secret: r.get(5)?,
        phone: r.get(6)?,
        last_challenged_at: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

/// Inserts a new factor.
pub(crate) fn insert(c: &Db<'_>, f: &FactorRecord) -> DbResult<()> {
    c.execute(
        &format!("INSERT INTO mfa_factors ({FACTOR_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params![
            f.id,
            f.user_id,
            f.friendly_name,
            f.factor_type,
            f.status,
            f.secret,
            f.phone,
            f.last_challenged_at,
            f.created_at,
            f.updated_at
        ],
    )?;
    Ok(())
}

/// The factors of a user, oldest first.
pub(crate) fn for_user(c: &Db<'_>, user_id: &str) -> DbResult<Vec<FactorRecord>> {
    c.query_map(
        &format!(
            "SELECT {FACTOR_COLUMNS} FROM mfa_factors WHERE user_id = ?1 ORDER BY created_at, rowid"
        ),
        params![user_id],
        factor_from_row,
    )
}

/// The factor `id` if it belongs to `user_id` (`User.FindOwnedFactorByID`).
pub(crate) fn find_owned(c: &Db<'_>, user_id: &str, id: &str) -> DbResult<Option<FactorRecord>> {
    c.query_row(
        &format!("SELECT {FACTOR_COLUMNS} FROM mfa_factors WHERE user_id = ?1 AND id = ?2"),
        params![user_id, id],
        factor_from_row,
    )
    .optional()
}

/// Sets the status, touching `updated_at` (`Factor.UpdateStatus`).
pub(crate) fn set_status(c: &Db<'_>, f: &mut FactorRecord, status: &str, now: i64) -> DbResult<()> {
    f.status = status.into();
    f.updated_at = now;
    c.execute(
        "UPDATE mfa_factors SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![f.id, f.status, now],
    )?;
    Ok(())
}

/// Renames, touching `updated_at` (`Factor.UpdateFriendlyName`).
pub(crate) fn set_friendly_name(
    c: &Db<'_>,
    f: &mut FactorRecord,
    name: &str,
    now: i64,
) -> DbResult<()> {
    f.friendly_name = name.into();
    f.updated_at = now;
    c.execute(
        "UPDATE mfa_factors SET friendly_name = ?2, updated_at = ?3 WHERE id = ?1",
        params![f.id, f.friendly_name, now],
    )?;
    Ok(())
}

/// Deletes one factor; its challenges cascade.
pub(crate) fn delete(c: &Db<'_>, id: &str) -> DbResult<()> {
    c.execute("DELETE FROM mfa_factors WHERE id = ?1", params![id])?;
    Ok(())
}

/// Deletes every factor of a user (`DeleteFactorsByUserId`).
pub(crate) fn delete_for_user(c: &Db<'_>, user_id: &str) -> DbResult<()> {
    c.execute(
        "DELETE FROM mfa_factors WHERE user_id = ?1",
        params![user_id],
    )?;
    Ok(())
}

/// Deletes the user's unverified factors of one type (`DeleteUnverifiedFactors`).
pub(crate) fn delete_unverified(c: &Db<'_>, user_id: &str, factor_type: &str) -> DbResult<()> {
    c.execute(
        "DELETE FROM mfa_factors WHERE user_id = ?1 AND status = ?2 AND factor_type = ?3",
        params![user_id, UNVERIFIED, factor_type],
    )?;
    Ok(())
}

/// Deletes, for every user, the unverified factors never challenged and created more
/// than `expiry_micros` ago (`DeleteExpiredFactors`).
pub(crate) fn delete_expired(c: &Db<'_>, now: i64, expiry_micros: i64) -> DbResult<()> {
    c.execute(
        "DELETE FROM mfa_factors WHERE status != ?1 \
         AND NOT EXISTS (SELECT 1 FROM mfa_challenges WHERE mfa_challenges.factor_id = mfa_factors.id) \
         AND created_at < ?2",
        params![VERIFIED, now - expiry_micros],
    )?;
    Ok(())
}

/// A row of `mfa_challenges`.
#[derive(Debug, Clone)]
pub(crate) struct ChallengeRecord {
    pub(crate) id: String,
    pub(crate) created_at: i64,
    pub(crate) verified_at: Ts,
    pub(crate) ip_address: String,
}

/// Creates a challenge of `factor` and records `last_challenged_at`
/// (`CreateChallenge` + `WriteChallengeToDatabase`; `updated_at` is left alone).
pub(crate) fn create_challenge(
    c: &Db<'_>,
    factor: &FactorRecord,
    ip_address: &str,
    now: i64,
) -> DbResult<ChallengeRecord> {
    let ch = ChallengeRecord {
        id: crate::util::new_uuid(),
        created_at: now,
        verified_at: None,
        ip_address: ip_address.into(),
    };
    c.execute(
        "INSERT INTO mfa_challenges (id, factor_id, created_at, verified_at, ip_address) \
         VALUES (?1, ?2, ?3, NULL, ?4)",
        params![ch.id, factor.id, ch.created_at, ch.ip_address],
    )?;
    c.execute(
        "UPDATE mfa_factors SET last_challenged_at = ?2 WHERE id = ?1",
        params![factor.id, now],
    )?;
    Ok(ch)
}

/// The challenge `id` of `factor_id` (`Factor.FindChallengeByID`).
pub(crate) fn find_challenge(
    c: &Db<'_>,
    factor_id: &str,
    id: &str,
) -> DbResult<Option<ChallengeRecord>> {
    c.query_row(
        "SELECT id, created_at, verified_at, ip_address FROM mfa_challenges \
         WHERE id = ?1 AND factor_id = ?2",
        params![id, factor_id],
        |r| {
            Ok(ChallengeRecord {
                id: r.get(0)?,
                created_at: r.get(1)?,
                verified_at: r.get(2)?,
                ip_address: r.get(3)?,
            })
        },
    )
    .optional()
}

/// Marks a challenge used (`Challenge.Verify`).
pub(crate) fn verify_challenge(c: &Db<'_>, id: &str, now: i64) -> DbResult<()> {
    c.execute(
        "UPDATE mfa_challenges SET verified_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Deletes a challenge (an expired one, on its verification attempt).
pub(crate) fn delete_challenge(c: &Db<'_>, id: &str) -> DbResult<()> {
    c.execute("DELETE FROM mfa_challenges WHERE id = ?1", params![id])?;
    Ok(())
}
