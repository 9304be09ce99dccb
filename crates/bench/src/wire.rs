//! A transparent tap on the PostgreSQL wire: a unix socket that relays every byte between
//! sqlx and the server, and reads the client's side of the protocol to record what each
//! round trip carried.
//!
//! Every round trip of the protocol ends with a client message that the server answers
//! with exactly one `ReadyForQuery`: a simple `Query` (`Q`) or a `Sync` (`S`) of the
//! extended protocol. A statement runs per `Query` and per `Execute` (`E`); an `Execute`
//! runs the statement its portal was `Bind`ed (`B`) to, whose text came with its `Parse`
//! (`P`). So the client's messages alone say how many statements ran, which, and in how
//! many round trips, whatever the driver does inside.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpStream, UnixListener, UnixStream};
use tokio::task::{JoinHandle, JoinSet};

/// What one round trip carried: the SQL of the statements it ran and of those it only
/// parsed (prepared). Neither, for a bare `Sync` (sqlx's liveness check of a pooled
/// connection).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RoundTrip {
    pub(crate) executed: Vec<String>,
    pub(crate) prepared: Vec<String>,
}

type Log = Arc<Mutex<Vec<RoundTrip>>>;

/// The server the tap relays to.
#[derive(Clone)]
enum Upstream {
    Unix(PathBuf),
    Tcp(String, u16),
}

/// A running tap; stops its relays and removes its socket directory on drop.
pub(crate) struct Tap {
    dir: PathBuf,
    log: Log,
    accept: JoinHandle<()>,
}

impl Tap {
    /// Starts a tap in front of the server of `target` (a unix socket or plain TCP);
    /// returns it and the same connect options pointed at the tap.
    pub(crate) fn start(target: &PgConnectOptions) -> Result<(Tap, PgConnectOptions), String> {
        let port = target.get_port();
        let upstream = match target.get_socket() {
            Some(dir) => Upstream::Unix(dir.join(format!(".s.PGSQL.{port}"))),
            None if target.get_host().starts_with('/') => {
                Upstream::Unix(Path::new(target.get_host()).join(format!(".s.PGSQL.{port}")))
            }
            None => Upstream::Tcp(target.get_host().to_owned(), port),
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("bench-tap-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|e| format!("tap: {}: {e}", dir.display()))?;
        let listener = UnixListener::bind(dir.join(format!(".s.PGSQL.{port}")));
        let listener = match listener {
            Ok(listener) => listener,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(format!("tap: cannot listen in {}: {e}", dir.display()));
            }
        };
        let log = Log::default();
        let accept = tokio::spawn(accept(listener, upstream, log.clone()));
        // sqlx is built without TLS; say so, so that no `SSLRequest` is ever sent.
        let options = target.clone().socket(&dir).ssl_mode(PgSslMode::Disable);
        Ok((Tap { dir, log, accept }, options))
    }

    /// How many round trips have been recorded so far.
    pub(crate) fn len(&self) -> usize {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The round trips recorded since `start` (a `len()` taken before).
    pub(crate) fn since(&self, start: usize) -> Vec<RoundTrip> {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.get(start..)
            .map(<[RoundTrip]>::to_vec)
            .unwrap_or_default()
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        // Dropping the accept task drops its JoinSet, which aborts every relay.
        self.accept.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn accept(listener: UnixListener, upstream: Upstream, log: Log) {
    let mut relays = JoinSet::new();
    while let Ok((client, _)) = listener.accept().await {
        let (upstream, log) = (upstream.clone(), log.clone());
        relays.spawn(async move {
            let relayed = match &upstream {
                Upstream::Unix(path) => match UnixStream::connect(path).await {
                    Ok(server) => relay(client, server, log).await,
                    Err(e) => Err(e),
                },
                Upstream::Tcp(host, port) => match TcpStream::connect((host.as_str(), *port)).await
                {
                    Ok(server) => relay(client, server, log).await,
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = relayed {
                eprintln!("tap: a relayed connection failed: {e}");
            }
        });
        // Reap the finished relays as we go.
        while relays.try_join_next().is_some() {}
    }
}

/// Relays both ways until either side closes; reads the client's side.
async fn relay<S>(client: UnixStream, server: S, log: Log) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = tokio::io::split(server);
    let upward = async {
        let mut reader = Reader::default();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = from_client.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            let bytes = buf.get(..n).unwrap_or_default();
            to_server.write_all(bytes).await?;
            // Recorded before the server can answer what was just relayed.
            reader.feed(bytes, &log);
        }
        to_server.shutdown().await
    };
    let downward = async {
        tokio::io::copy(&mut from_server, &mut to_client).await?;
        to_client.shutdown().await
    };
    let (up, down) = tokio::join!(upward, downward);
    up.and(down)
}

/// `SSLRequest` and `GSSENCRequest`: an untyped request that another untyped message
/// (the `StartupMessage`) follows.
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

/// Reads the client's messages out of the byte stream.
#[derive(Default)]
struct Reader {
    pending: Vec<u8>,
    /// After the `StartupMessage`, every message is typed.
    started: bool,
    /// Not the protocol we know: stop reading (the relay goes on).
    lost: bool,
    /// Prepared statements of this connection, by name (`""` the unnamed one): their SQL.
    statements: HashMap<String, String>,
    /// The SQL of the statement the last `Bind` named.
    bound: Option<String>,
    current: RoundTrip,
}

impl Reader {
    fn feed(&mut self, bytes: &[u8], log: &Mutex<Vec<RoundTrip>>) {
        if self.lost {
            return;
        }
        self.pending.extend_from_slice(bytes);
        let mut used = 0;
        loop {
            let rest = self.pending.get(used..).unwrap_or_default();
            let header = if self.started { 1 } else { 0 };
            let Some(length) = be_u32(rest, header) else {
                break;
            };
            let length = length as usize;
            if length < 4 {
                self.lost = true;
                break;
            }
            let Some(message) = rest.get(..header + length) else {
                break;
            };
            let message = message.to_vec();
            used += message.len();
            if self.started {
                let (kind, body) = (message[0], message.get(5..).unwrap_or_default());
                self.message(kind, body, log);
            } else if !matches!(be_u32(&message, 4), Some(SSL_REQUEST | GSSENC_REQUEST)) {
                self.started = true;
            }
        }
        self.pending.drain(..used);
    }

    fn message(&mut self, kind: u8, body: &[u8], log: &Mutex<Vec<RoundTrip>>) {
        match kind {
            b'Q' => {
                self.current.executed.push(c_str(body, 0).0);
                self.end_round_trip(log);
            }
            b'P' => {
                let (name, next) = c_str(body, 0);
                let (sql, _) = c_str(body, next);
                self.current.prepared.push(sql.clone());
                self.statements.insert(name, sql);
            }
            b'B' => {
                let (_portal, next) = c_str(body, 0);
                let (statement, _) = c_str(body, next);
                self.bound = self.statements.get(&statement).cloned();
            }
            b'E' => {
                let sql = self.bound.clone().unwrap_or_else(|| "?".to_owned());
                self.current.executed.push(sql);
            }
            b'S' => self.end_round_trip(log),
            _ => {}
        }
    }

    fn end_round_trip(&mut self, log: &Mutex<Vec<RoundTrip>>) {
        let done = std::mem::take(&mut self.current);
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(done);
    }
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let four: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(four))
}

/// The NUL-terminated string at `at`, and where the next field starts.
fn c_str(bytes: &[u8], at: usize) -> (String, usize) {
    let rest = bytes.get(at..).unwrap_or_default();
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    (
        String::from_utf8_lossy(rest.get(..end).unwrap_or_default()).into_owned(),
        at + end + 1,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use super::{Reader, RoundTrip};

    fn typed(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend_from_slice(&u32::try_from(body.len() + 4).unwrap().to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn reads_round_trips_from_the_client_side() {
        let mut stream = Vec::new();
        // StartupMessage: length, protocol 3.0, user, end.
        let startup = b"\x00\x03\x00\x00user\x00postgres\x00\x00";
        stream.extend_from_slice(&u32::try_from(startup.len() + 4).unwrap().to_be_bytes());
        stream.extend_from_slice(startup);
        stream.extend(typed(b'Q', b"BEGIN\x00"));
        stream.extend(typed(b'P', b"sqlx_s_1\x00select 1\x00\x00\x00"));
        stream.extend(typed(b'D', b"Ssqlx_s_1\x00"));
        stream.extend(typed(b'S', b""));
        stream.extend(typed(b'B', b"\x00sqlx_s_1\x00\x00\x00\x00\x00\x00\x00"));
        stream.extend(typed(b'E', b"\x00\x00\x00\x00\x00"));
        stream.extend(typed(b'S', b""));
        stream.extend(typed(b'S', b""));
        let log = Mutex::new(Vec::new());
        let mut reader = Reader::default();
        // Fed in awkward pieces, as a socket may deliver them.
        for piece in stream.chunks(3) {
            reader.feed(piece, &log);
        }
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            log.into_inner().unwrap(),
            [
                RoundTrip {
                    executed: strings(&["BEGIN"]),
                    prepared: vec![],
                },
                RoundTrip {
                    executed: vec![],
                    prepared: strings(&["select 1"]),
                },
                RoundTrip {
                    executed: strings(&["select 1"]),
                    prepared: vec![],
                },
                RoundTrip::default(),
            ]
        );
        assert!(reader.pending.is_empty());
    }
}
