//! The user object as GoTrue serializes it: field order and `omitempty` rules.

use crate::store::{Db, DbResult};
use serde_json::{Map, Value};

use super::factors::{self, FactorRecord};
use super::users::{self, IdentityRecord, UserRecord};
use crate::util::format_time;

/// Go serializes `map[string]interface{}` with sorted keys; metadata maps follow suit.
pub(crate) fn sorted(m: &Map<String, Value>) -> Map<String, Value> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let v = match &m[k] {
                Value::Object(inner) => Value::Object(sorted(inner)),
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

fn put_time(m: &mut Map<String, Value>, key: &str, ts: Option<i64>) {
    if let Some(t) = ts {
        m.insert(key.into(), Value::String(format_time(t)));
    }
}

fn put_nonempty(m: &mut Map<String, Value>, key: &str, s: &str) {
    if !s.is_empty() {
        m.insert(key.into(), Value::String(s.into()));
    }
}

/// One identity object.
pub(crate) fn identity_json(i: &IdentityRecord) -> Value {
    let mut m = Map::new();
    m.insert("identity_id".into(), Value::String(i.id.clone()));
    m.insert("id".into(), Value::String(i.provider_id.clone()));
    m.insert("user_id".into(), Value::String(i.user_id.clone()));
    if !i.identity_data.is_empty() {
        m.insert(
            "identity_data".into(),
            Value::Object(sorted(&i.identity_data)),
        );
    }
    m.insert("provider".into(), Value::String(i.provider.clone()));
    put_time(&mut m, "last_sign_in_at", i.last_sign_in_at);
    m.insert(
        "created_at".into(),
        Value::String(format_time(i.created_at)),
    );
    m.insert(
        "updated_at".into(),
        Value::String(format_time(i.updated_at)),
    );
    if let Some(Value::String(email)) = i.identity_data.get("email") {
        put_nonempty(&mut m, "email", &email.to_lowercase());
    }
    Value::Object(m)
}

/// One MFA factor (`models.Factor`): `friendly_name` omitted when empty, `phone` always
/// a string, `last_challenged_at` `null` until the first challenge. The secret never.
pub(crate) fn factor_json(f: &FactorRecord) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), Value::String(f.id.clone()));
    m.insert(
        "created_at".into(),
        Value::String(format_time(f.created_at)),
    );
    m.insert(
        "updated_at".into(),
        Value::String(format_time(f.updated_at)),
    );
    m.insert("status".into(), Value::String(f.status.clone()));
    put_nonempty(&mut m, "friendly_name", &f.friendly_name);
    m.insert("factor_type".into(), Value::String(f.factor_type.clone()));
    m.insert("phone".into(), Value::String(f.phone.clone()));
    m.insert(
        "last_challenged_at".into(),
        f.last_challenged_at
            .map_or(Value::Null, |t| Value::String(format_time(t))),
    );
    Value::Object(m)
}

/// The user object with the given identities and factors, as a JSON map (callers may
/// flatten it).
pub(crate) fn user_map(
    u: &UserRecord,
    identities: &[IdentityRecord],
    factors: &[FactorRecord],
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), Value::String(u.id.clone()));
    m.insert("aud".into(), Value::String(u.aud.clone()));
    m.insert("role".into(), Value::String(u.role.clone()));
    m.insert("email".into(), Value::String(u.email.clone()));
    put_time(&mut m, "email_confirmed_at", u.email_confirmed_at);
    put_time(&mut m, "invited_at", u.invited_at);
    m.insert("phone".into(), Value::String(u.phone.clone()));
    put_time(&mut m, "phone_confirmed_at", u.phone_confirmed_at);
    put_time(&mut m, "confirmation_sent_at", u.confirmation_sent_at);
    put_time(&mut m, "confirmed_at", u.confirmed_at);
    put_time(&mut m, "recovery_sent_at", u.recovery_sent_at);
    put_nonempty(&mut m, "new_email", &u.new_email);
    put_time(&mut m, "email_change_sent_at", u.email_change_sent_at);
    put_nonempty(&mut m, "new_phone", &u.new_phone);
    put_time(&mut m, "phone_change_sent_at", u.phone_change_sent_at);
    put_time(
        &mut m,
        "reauthentication_sent_at",
        u.reauthentication_sent_at,
    );
    put_time(&mut m, "last_sign_in_at", u.last_sign_in_at);
    m.insert(
        "app_metadata".into(),
        Value::Object(sorted(&u.app_metadata)),
    );
    m.insert(
        "user_metadata".into(),
        Value::Object(sorted(&u.user_metadata)),
    );
    if !factors.is_empty() {
        m.insert(
            "factors".into(),
            Value::Array(factors.iter().map(factor_json).collect()),
        );
    }
    m.insert(
        "identities".into(),
        Value::Array(identities.iter().map(identity_json).collect()),
    );
    m.insert(
        "created_at".into(),
        Value::String(format_time(u.created_at)),
    );
    m.insert(
        "updated_at".into(),
        Value::String(format_time(u.updated_at)),
    );
    put_time(&mut m, "banned_until", u.banned_until);
    put_time(&mut m, "deleted_at", u.deleted_at);
    m.insert("is_anonymous".into(), Value::Bool(u.is_anonymous));
    m
}

/// The user object, loading the identities and factors from the database (GoTrue
/// loads the user with `Eager()`).
pub(crate) fn user_json(c: &Db<'_>, u: &UserRecord) -> DbResult<Value> {
    let ids = users::identities(c, &u.id)?;
    let factors = factors::for_user(c, &u.id)?;
    Ok(Value::Object(user_map(u, &ids, &factors)))
}
