//! The emulator's notion of "now".
//!
//! Every timestamp the emulator writes or compares goes through [`Clock`], so a
//! test (or a later fault mode) can shift time without touching the system clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Wall-clock time plus an adjustable offset, in microseconds since the Unix epoch.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_micros: AtomicI64,
    /// Set by the fault mode; kept apart so clearing faults leaves `advance` alone.
    fault_offset_micros: AtomicI64,
}

impl Clock {
    /// Microseconds since the Unix epoch, offset applied.
    pub(crate) fn now_micros(&self) -> i64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            // A system clock before 1970 is not worth supporting; treat it as the epoch.
            .unwrap_or(0);
        system
            .saturating_add(self.offset_micros.load(Ordering::Relaxed))
            .saturating_add(self.fault_offset_micros.load(Ordering::Relaxed))
    }

    /// Whole seconds since the Unix epoch, offset applied.
    pub(crate) fn now_secs(&self) -> i64 {
        self.now_micros().div_euclid(1_000_000)
    }

    /// Sets the fault mode's skew (replacing the previous one).
    pub(crate) fn set_fault_offset_micros(&self, micros: i64) {
        self.fault_offset_micros.store(micros, Ordering::Relaxed);
    }

    /// The fault mode's skew.
    pub(crate) fn fault_offset_micros(&self) -> i64 {
        self.fault_offset_micros.load(Ordering::Relaxed)
    }

    /// Moves the clock forward by `by`.
    pub(crate) fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.offset_micros.fetch_add(micros, Ordering::Relaxed);
    }
}
