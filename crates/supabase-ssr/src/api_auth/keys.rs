//! [`ApiKeys`]: the project's named publishable and secret keys, compared in constant time.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::KeyName;

/// A key kept as its SHA-256 digest: comparing digests with `subtle` takes the same time
/// whatever the presented value's length or content, and the key itself is never held.
#[derive(Clone)]
struct NamedKey {
    name: Arc<str>,
    digest: [u8; 32],
}

fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

/// The project's API keys by name, as `@supabase/server` reads them from
/// `SUPABASE_PUBLISHABLE_KEYS` / `SUPABASE_SECRET_KEYS`: `default`, `web`,
/// `automations`...
///
/// Only SHA-256 digests of the keys are kept; `Debug` shows the names alone.
#[derive(Clone, Default)]
pub struct ApiKeys {
    publishable: Vec<NamedKey>,
    secret: Vec<NamedKey>,
}

/// Publishable or secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Publishable,
    Secret,
}

impl ApiKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the publishable key `name`.
    pub fn publishable(mut self, name: impl AsRef<str>, key: impl AsRef<str>) -> Self {
        Self::put(&mut self.publishable, name.as_ref(), key.as_ref());
        self
    }

    /// Adds (or replaces) the secret key `name`.
    pub fn secret(mut self, name: impl AsRef<str>, key: impl AsRef<str>) -> Self {
        Self::put(&mut self.secret, name.as_ref(), key.as_ref());
        self
    }

    fn put(keys: &mut Vec<NamedKey>, name: &str, key: &str) {
        let name = if name.is_empty() { "default" } else { name };
        keys.retain(|k| &*k.name != name);
        keys.push(NamedKey {
            name: Arc::from(name),
            digest: digest(key.trim()),
        });
    }

    /// The names of the publishable keys.
    pub fn publishable_names(&self) -> impl Iterator<Item = &str> {
        self.publishable.iter().map(|k| &*k.name)
    }

    /// The names of the secret keys.
    pub fn secret_names(&self) -> impl Iterator<Item = &str> {
        self.secret.iter().map(|k| &*k.name)
    }

    fn of(&self, kind: KeyKind) -> &[NamedKey] {
        match kind {
            KeyKind::Publishable => &self.publishable,
            KeyKind::Secret => &self.secret,
        }
    }

    /// Whether `wanted` names a key that exists (always true for [`KeyName::Any`]).
    pub(crate) fn has(&self, kind: KeyKind, wanted: &KeyName) -> bool {
        matches!(wanted, KeyName::Any) || self.of(kind).iter().any(|k| wanted.accepts(&k.name))
    }

    /// The name of the key of `kind` accepted by `wanted` that equals `presented`.
    ///
    /// Every candidate is compared, matched or not, so the time taken does not tell
    /// which one (or whether one) matched.
    pub(crate) fn find(
        &self,
        kind: KeyKind,
        wanted: &KeyName,
        presented: &str,
    ) -> Option<Arc<str>> {
        let presented = digest(presented);
        let mut found = None;
        for key in self.of(kind) {
            let equal = bool::from(key.digest.ct_eq(&presented));
            if equal && wanted.accepts(&key.name) && found.is_none() {
                found = Some(key.name.clone());
            }
        }
        found
    }

    /// Whether `value` is one of the keys, of either kind.
    pub(crate) fn contains(&self, value: &str) -> bool {
        let presented = digest(value);
        let mut any = false;
        for key in self.publishable.iter().chain(&self.secret) {
            any |= bool::from(key.digest.ct_eq(&presented));
        }
        any
    }
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeys")
            .field("publishable", &self.publishable_names().collect::<Vec<_>>())
            .field("secret", &self.secret_names().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> ApiKeys {
        ApiKeys::new()
            .publishable("default", "sb_publishable_one")
            .publishable("web", "sb_publishable_web")
            .secret("default", "sb_secret_one")
            .secret("automations", "sb_secret_auto")
    }

    #[test]
    fn a_key_is_found_only_under_the_names_a_mode_accepts() {
        let keys = keys();
        let find =
            |kind, wanted: KeyName, value| keys.find(kind, &wanted, value).map(|n| n.to_string());
        assert_eq!(
            find(KeyKind::Publishable, KeyName::Default, "sb_publishable_one"),
            Some("default".into())
        );
        assert_eq!(
            find(KeyKind::Publishable, KeyName::Default, "sb_publishable_web"),
            None
        );
        assert_eq!(
            find(
                KeyKind::Publishable,
                KeyName::named("web"),
                "sb_publishable_web"
            ),
            Some("web".into())
        );
        assert_eq!(
            find(KeyKind::Publishable, KeyName::Any, "sb_publishable_web"),
            Some("web".into())
        );
        assert_eq!(
            find(KeyKind::Secret, KeyName::Any, "sb_secret_auto"),
            Some("automations".into())
        );
        // A publishable key is never a secret one, and the reverse.
        assert_eq!(
            find(KeyKind::Secret, KeyName::Any, "sb_publishable_one"),
            None
        );
        assert_eq!(
            find(KeyKind::Publishable, KeyName::Any, "sb_secret_one"),
            None
        );
        // Near misses.
        for value in [
            "",
            "sb_secret_on",
            "sb_secret_one ",
            "SB_SECRET_ONE",
            "sb_secret_one\0",
        ] {
            assert_eq!(
                find(KeyKind::Secret, KeyName::Any, value),
                None,
                "{value:?}"
            );
        }
    }

    #[test]
    fn names_exist_or_not() {
        let keys = keys();
        assert!(keys.has(KeyKind::Secret, &KeyName::Default));
        assert!(keys.has(KeyKind::Secret, &KeyName::named("automations")));
        assert!(!keys.has(KeyKind::Secret, &KeyName::named("web")));
        assert!(keys.has(KeyKind::Secret, &KeyName::Any));
        assert!(!ApiKeys::new().has(KeyKind::Publishable, &KeyName::Default));
        assert!(keys.contains("sb_secret_auto"));
        assert!(!keys.contains("sb_secret_nope"));
    }

    #[test]
    fn debug_shows_names_only() {
        let text = format!("{:?}", keys());
        assert_eq!(
            text,
            r#"ApiKeys { publishable: ["default", "web"], secret: ["default", "automations"] }"#
        );
    }

    #[test]
    fn adding_a_name_again_replaces_it() {
        let keys = ApiKeys::new().secret("default", "old").secret("", "new");
        assert_eq!(keys.secret_names().collect::<Vec<_>>(), ["default"]);
        assert!(keys.contains("new"));
        assert!(!keys.contains("old"));
    }
}
