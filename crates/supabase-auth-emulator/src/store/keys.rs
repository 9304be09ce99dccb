//! Persisted signing keys and small key/value metadata.

use crate::store::{Db, DbResult, OptionalExt as _, params};

/// A stored private signing key (PKCS#8 DER).
pub(crate) struct StoredKey {
    pub(crate) kid: String,
    pub(crate) alg: String,
    pub(crate) private_der: Vec<u8>,
    pub(crate) created_at: i64,
}

/// All stored keys, oldest first.
pub(crate) fn all(c: &Db<'_>) -> DbResult<Vec<StoredKey>> {
    c.query_map(
        "SELECT kid, alg, private_der, created_at FROM signing_keys ORDER BY created_at, rowid",
        params![],
        |r| {
            Ok(StoredKey {
                kid: r.get(0)?,
                alg: r.get(1)?,
                private_der: r.get(2)?,
                created_at: r.get(3)?,
            })
        },
    )
}

/// Stores a key.
pub(crate) fn insert(c: &Db<'_>, k: &StoredKey) -> DbResult<()> {
    c.execute(
        "INSERT INTO signing_keys (kid, alg, private_der, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![k.kid, k.alg, k.private_der, k.created_at],
    )?;
    Ok(())
}

/// Removes a key.
pub(crate) fn delete(c: &Db<'_>, kid: &str) -> DbResult<()> {
    c.execute("DELETE FROM signing_keys WHERE kid = ?1", params![kid])?;
    Ok(())
}

/// Reads a metadata value.
pub(crate) fn get_meta(c: &Db<'_>, key: &str) -> DbResult<Option<String>> {
    c.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
        r.get(0)
    })
    .optional()
}

/// Writes a metadata value.
/// Stores `value` under `key` unless a value is there; whether it was stored.
pub(crate) fn add_meta(c: &Db<'_>, key: &str, value: &str) -> DbResult<bool> {
    let added = c.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        params![key, value],
    )?;
    Ok(added == 1)
}

pub(crate) fn set_meta(c: &Db<'_>, key: &str, value: &str) -> DbResult<()> {
    c.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
