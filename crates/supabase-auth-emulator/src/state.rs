//! State shared by every request of one emulator.

use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::clock::Clock;
use crate::keys::KeyRing;
use crate::store::Store;
use crate::{EmulatorConfig, RecordedRequest};

/// Everything a handler needs.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) config: EmulatorConfig,
    pub(crate) store: Store,
    pub(crate) keys: RwLock<KeyRing>,
    pub(crate) clock: Clock,
    /// `http://127.0.0.1:PORT`, the project URL.
    pub(crate) base_url: String,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    /// Fault mode settings (all off by default).
    pub(crate) faults: crate::fault::FaultState,
}

impl AppState {
    /// `<base>/auth/v1`: the API root and the JWT issuer.
    pub(crate) fn auth_url(&self) -> String {
        format!("{}/auth/v1", self.base_url)
    }

    /// Microseconds since the epoch, per the emulator clock.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now_micros()
    }

    /// Read access to the key ring; a poisoned lock is still usable (keys are replaced atomically).
    pub(crate) fn keys(&self) -> RwLockReadGuard<'_, KeyRing> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Write access to the key ring.
    pub(crate) fn keys_mut(&self) -> RwLockWriteGuard<'_, KeyRing> {
        self.keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Rotates to a new key for `alg`: generate and persist unlocked, then swap in.
    pub(crate) fn rotate_key(
        &self,
        alg: crate::SigningAlg,
    ) -> Result<String, crate::EmulatorError> {
        let prepared = KeyRing::prepare(alg, self.now())?;
        KeyRing::persist(&self.store, &prepared)?;
        Ok(self.keys_mut().install(prepared))
    }

    /// Drops a previous key from the store, then from the ring.
    pub(crate) fn drop_key(&self, kid: &str) -> Result<(), crate::EmulatorError> {
        self.keys().check_droppable(kid)?;
        self.store.tx(|c| crate::store::keys::delete(c, kid))?;
        self.keys_mut().remove(kid);
        Ok(())
    }

    /// The request log.
    pub(crate) fn request_log(&self) -> std::sync::MutexGuard<'_, Vec<RecordedRequest>> {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
