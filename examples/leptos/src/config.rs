//! [`Config`]: where the app listens and which Supabase Auth server it talks to.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use supabase_ssr::clock::Clock;

/// The user seeded into the embedded emulator.
pub const DEMO_EMAIL: &str = "leptos@example.com";
/// Its password (the emulator keeps everything in memory).
pub const DEMO_PASSWORD: &str = "leptos-password-1";

/// Which Supabase Auth server the app uses.
#[derive(Clone)]
#[non_exhaustive]
pub enum Backend {
    /// `supabase-auth-emulator` in this process, in memory, on a free port, with
    /// [`DEMO_EMAIL`] seeded.
    Emulator {
        /// Access-token lifetime: short, so a refresh is easy to watch.
        jwt_exp: Duration,
    },
    /// A real Supabase project.
    Project {
        /// `https://<ref>.supabase.co`.
        url: String,
        /// The publishable (`sb_publishable_...`) or legacy anon key.
        key: String,
    },
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Emulator { jwt_exp } => f
                .debug_struct("Emulator")
                .field("jwt_exp", jwt_exp)
                .finish(),
            Self::Project { url, .. } => f
                .debug_struct("Project")
                .field("url", url)
                .field("key", &"[redacted]")
                .finish(),
        }
    }
}

/// Everything [`crate::run`] needs. Start from [`Config::emulator`] or
/// [`Config::project`] and adjust with the setters.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Where the app listens (default `127.0.0.1:3000`; port 0 picks a free one).
    pub addr: SocketAddr,
    /// The Auth server.
    pub backend: Backend,
    /// Refresh a session expiring within this margin; `None` keeps the library's 90 s.
    pub refresh_margin: Option<Duration>,
    /// The clock of every expiry decision; `None` is the system clock.
    pub clock: Option<SharedClock>,
}

impl Config {
    /// The local setup: the embedded emulator with 60 s access tokens, refreshed when
    /// fewer than 20 s remain.
    pub fn emulator() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 3000)),
            backend: Backend::Emulator {
                jwt_exp: Duration::from_secs(60),
            },
            refresh_margin: Some(Duration::from_secs(20)),
            clock: None,
        }
    }

    /// A real project, with the library's defaults.
    pub fn project(url: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            backend: Backend::Project {
                url: url.into(),
                key: key.into(),
            },
            refresh_margin: None,
            ..Self::emulator()
        }
    }

    /// Listen on `127.0.0.1:port`.
    pub fn port(mut self, port: u16) -> Self {
        self.addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        self
    }

    /// Access-token lifetime of the embedded emulator (no effect on a real project).
    pub fn jwt_exp(mut self, exp: Duration) -> Self {
        if let Backend::Emulator { jwt_exp } = &mut self.backend {
            *jwt_exp = exp;
        }
        self
    }

    /// Refresh sessions expiring within this margin.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// Reads time from `clock` instead of the system clock (tests move it by hand, with
    /// the emulator's `advance_clock`).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(SharedClock(Arc::new(clock)));
        self
    }
}

/// A [`Clock`] shared between the configuration and the `SupabaseAuth` built from it.
#[derive(Clone)]
pub struct SharedClock(Arc<dyn Clock>);

impl Clock for SharedClock {
    fn now_millis(&self) -> i64 {
        self.0.now_millis()
    }
}

impl fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedClock")
            .field("now_millis", &self.now_millis())
            .finish()
    }
}
