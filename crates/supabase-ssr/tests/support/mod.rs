//! A loopback HTTP/1.1 server for tests: it records every request exactly as received
//! and answers from a script.
//!
//! It is written on bare `tokio::net` (no HTTP library) so a script can do what a real
//! server never should: accept a request and close the connection without answering,
//! or never answer at all. Every answer carries `connection: close`, so each request
//! arrives on its own connection.
//!
//! Shared by `tests/*.rs` and, through `#[path]`, by the crate's unit tests.
#![allow(dead_code, reason = "each test crate uses a different part")]

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    /// The request target: path and query, exactly as sent.
    pub(crate) target: String,
    /// Header names lowercased, values as sent, in arrival order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// When the request head was complete.
    pub(crate) at: Instant,
}

impl Recorded {
    /// The value of header `name` (any case); `None` if absent.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// How many times header `name` appears.
    pub(crate) fn header_count(&self, name: &str) -> usize {
        let name = name.to_ascii_lowercase();
        self.headers.iter().filter(|(n, _)| *n == name).count()
    }

    /// The body as text (lossy).
    pub(crate) fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the server does with one request.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// An HTTP answer.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the request, then close the connection without answering.
    Close,
    /// Read the request, then never answer (the connection stays open).
    Hang,
    /// Wait, then do the inner reply.
    Delay(Duration, Box<Reply>),
}

impl Reply {
    /// A JSON answer (`content-type: application/json`).
    pub(crate) fn json(status: u16, body: &str) -> Self {
        Self::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// A plain-text answer.
    pub(crate) fn text(status: u16, body: &str) -> Self {
        Self::Respond {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// An answer with no body (e.g. 204).
    pub(crate) fn empty(status: u16) -> Self {
        Self::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a response header.
    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Self::Respond { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

struct State {
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Reply>>,
    fallback: Mutex<Reply>,
}

/// Locks, ignoring poisoning: a panicking test must not hide the recorded requests.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running server on `127.0.0.1:<random port>`; stops accepting when dropped.
pub(crate) struct TestServer {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Starts a server whose unscripted answer is 404 `{}`.
    pub(crate) async fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            fallback: Mutex::new(Reply::json(404, "{}")),
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&state)));
        Self { addr, state, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues the answer to the next unanswered request.
    pub(crate) fn push(&self, reply: Reply) {
        lock(&self.state.script).push_back(reply);
    }

    /// The answer once the queue is empty.
    pub(crate) fn set_fallback(&self, reply: Reply) {
        *lock(&self.state.fallback) = reply;
    }

    /// Every request received so far, in order.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        lock(&self.state.requests).clone()
    }

    /// The only request received; panics unless there was exactly one.
    pub(crate) fn single_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(
            requests.len(),
            1,
            "expected exactly one request: {requests:#?}"
        );
        requests.into_iter().next().expect("one request")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Connections still open (a `Hang`) end with the test's runtime.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(serve(stream, Arc::clone(&state)));
    }
}

async fn serve(stream: TcpStream, state: Arc<State>) {
    let Ok(Some(request)) = read_request(&stream).await else {
        return;
    };
    lock(&state.requests).push(request);
    let next = lock(&state.script).pop_front();
    let mut reply = next.unwrap_or_else(|| lock(&state.fallback).clone());
    loop {
        match reply {
            Reply::Delay(pause, inner) => {
                tokio::time::sleep(pause).await;
                reply = *inner;
            }
            Reply::Close => return,
            Reply::Hang => {
                std::future::pending::<()>().await;
                return;
            }
            Reply::Respond {
                status,
                headers,
                body,
            } => {
                let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
                for (name, value) in &headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str(&format!(
                    "content-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                ));
                let mut bytes = head.into_bytes();
                bytes.extend_from_slice(&body);
                // The client may have given up already; nothing to do about it.
                let _ = write_all(&stream, &bytes).await;
                return;
            }
        }
    }
}

/// Reads one request (head and a `content-length` body). `None` on a connection closed
/// before a complete head.
async fn read_request(stream: &TcpStream) -> io::Result<Option<Recorded>> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        if read_some(stream, &mut buf).await? == 0 {
            return Ok(None);
        }
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf.split_off(head_end + 4);
    while body.len() < length {
        if read_some(stream, &mut body).await? == 0 {
            return Ok(None);
        }
    }
    body.truncate(length);
    Ok(Some(Recorded {
        method,
        target,
        headers,
        body,
        at,
    }))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Appends what is available to `buf`; 0 at end of stream.
async fn read_some(stream: &TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 8192];
    loop {
        stream.readable().await?;
        match stream.try_read(&mut chunk) {
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

async fn write_all(stream: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        stream.writable().await?;
        match stream.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
