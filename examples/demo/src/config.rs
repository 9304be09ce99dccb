//! [`DemoConfig`]: where the demo listens, which Auth server it talks to, and where the
//! notes live.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The demo user seeded into the embedded emulator.
pub const DEMO_EMAIL: &str = "demo@example.com";
/// The demo user's password.
pub const DEMO_PASSWORD: &str = "demo-password-1";

/// Which Supabase Auth server the demo uses.
#[derive(Clone)]
#[non_exhaustive]
pub enum Backend {
    /// Start `supabase-auth-emulator` in-process, on any free port, with its users in
    /// the demo's database (in memory without one).
    Emulator {
        /// Access-token lifetime: short, so a refresh is easy to watch.
        jwt_exp: Duration,
        /// Confirm sign-ups at once instead of emailing a confirmation link.
        autoconfirm: bool,
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
            Backend::Emulator {
                jwt_exp,
                autoconfirm,
            } => f
                .debug_struct("Emulator")
                .field("jwt_exp", jwt_exp)
                .field("autoconfirm", autoconfirm)
                .finish(),
            Backend::Project { url, .. } => f
                .debug_struct("Project")
                .field("url", url)
                .field("key", &"[redacted]")
                .finish(),
        }
    }
}

/// Where the notes live (one `notes` table under row-level security) and, with the
/// embedded emulator, its users (`auth.users`) and their profiles (`public.profiles`,
/// filled by a trigger on `auth.users`).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Database {
    /// A PostgreSQL server of the demo's own (`throwaway-postgres`), removed when the
    /// demo stops. When PostgreSQL is not installed, the demo runs without notes or
    /// profiles, and the emulator keeps its users in memory.
    Throwaway,
    /// An existing server (`DATABASE_URL`). The Supabase roles and `auth` functions and
    /// the `notes` table are created when missing; start-up fails when it cannot be
    /// reached. The embedded emulator keeps its users there, so they outlive the demo
    /// (and it refuses an `auth` schema made by a real Supabase); a real project's
    /// `auth` schema is left alone.
    Url(String),
    /// No database: the notes pages and the account page say how to get one, and the
    /// emulator keeps its users in memory.
    Off,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Throwaway => f.write_str("Throwaway"),
            Database::Url(url) => f
                .debug_tuple("Url")
                .field(&crate::database::redact(url))
                .finish(),
            Database::Off => f.write_str("Off"),
        }
    }
}

/// Everything [`crate::run`] needs. Start from [`DemoConfig::emulator`] or
/// [`DemoConfig::project`] and adjust with the setters.
#[derive(Clone)]
#[non_exhaustive]
pub struct DemoConfig {
    /// Where the app listens (default `127.0.0.1:3000`; port 0 picks a free one).
    pub addr: SocketAddr,
    /// The Auth server.
    pub backend: Backend,
    /// Refresh a session expiring within this margin; `None` keeps the library's 90 s.
    pub refresh_margin: Option<Duration>,
    /// The app's public origin (`http://127.0.0.1:3000`), used in email and OAuth
    /// redirects; `None` derives it from the bound address.
    pub public_url: Option<String>,
    /// OAuth providers offered on the sign-in page.
    pub oauth_providers: Vec<String>,
    /// Where the notes, users and profiles live (default: a throwaway PostgreSQL).
    pub database: Database,
}

impl fmt::Debug for DemoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoConfig")
            .field("addr", &self.addr)
            .field("backend", &self.backend)
            .field("refresh_margin", &self.refresh_margin)
            .field("public_url", &self.public_url)
            .field("oauth_providers", &self.oauth_providers)
            .field("database", &self.database)
            .finish()
    }
}

impl DemoConfig {
    /// The local setup: the embedded emulator with 60 s access tokens refreshed when
    /// fewer than 20 s remain, email confirmation on, the local GitHub stand-in, and
    /// the notes on a throwaway PostgreSQL.
    pub fn emulator() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 3000)),
            backend: Backend::Emulator {
                jwt_exp: Duration::from_secs(60),
                autoconfirm: false,
            },
            refresh_margin: Some(Duration::from_secs(20)),
            public_url: None,
            oauth_providers: vec!["github".into()],
            database: Database::Throwaway,
        }
    }

    /// A real project, with the library's defaults (the notes still on a throwaway
    /// PostgreSQL unless [`DemoConfig::database`] says otherwise).
    pub fn project(url: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            backend: Backend::Project {
                url: url.into(),
                key: key.into(),
            },
            refresh_margin: None,
            oauth_providers: Vec::new(),
            ..Self::emulator()
        }
    }

    /// Listen on this address.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Listen on `127.0.0.1:port`.
    pub fn port(mut self, port: u16) -> Self {
        self.addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        self
    }

    /// Access-token lifetime of the embedded emulator (no effect on a real project).
    pub fn jwt_exp(mut self, exp: Duration) -> Self {
        if let Backend::Emulator { jwt_exp, .. } = &mut self.backend {
            *jwt_exp = exp;
        }
        self
    }

    /// Whether the embedded emulator confirms sign-ups at once.
    pub fn autoconfirm(mut self, on: bool) -> Self {
        if let Backend::Emulator { autoconfirm, .. } = &mut self.backend {
            *autoconfirm = on;
        }
        self
    }

    /// Refresh sessions expiring within this margin.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// The app's public origin, for redirects from emails and OAuth.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// OAuth providers offered on the sign-in page.
    pub fn oauth_providers(mut self, providers: Vec<String>) -> Self {
        self.oauth_providers = providers;
        self
    }

    /// Where the notes, users and profiles live.
    pub fn database(mut self, database: Database) -> Self {
        self.database = database;
        self
    }
}
