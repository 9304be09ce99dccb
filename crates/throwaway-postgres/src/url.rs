//! Connection URLs that both libpq (`psql`) and sqlx read as "this socket directory".

use std::fmt::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::server::PORT;

/// `postgres://postgres@localhost:5432/<database>?host=<socket dir>`.
///
/// libpq and sqlx both take a `host` query parameter starting with `/` as the directory of
/// the socket, overriding `localhost`. The port is explicit so that a `PGPORT` in the
/// environment cannot send sqlx to another socket file name.
pub(crate) fn connection_url(socket_dir: &Path, database: &str) -> String {
    let mut url = String::from("postgres://postgres@localhost:");
    let _ = write!(url, "{PORT}/");
    encode(&mut url, database.as_bytes(), b"");
    url.push_str("?host=");
    encode(&mut url, socket_dir.as_os_str().as_bytes(), b"/");
    url
}

/// Appends `bytes`, percent-encoding all but unreserved characters and those in `keep`.
fn encode(out: &mut String, bytes: &[u8], keep: &[u8]) {
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || keep.contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_left_alone() {
        assert_eq!(
            connection_url(Path::new("/tmp/pg-abc123"), "postgres"),
            "postgres://postgres@localhost:5432/postgres?host=/tmp/pg-abc123"
        );
    }

    #[test]
    fn anything_else_is_percent_encoded() {
        assert_eq!(
            connection_url(Path::new("/tmp/a b&c"), "my db/é?"),
            "postgres://postgres@localhost:5432/my%20db%2F%C3%A9%3F?host=/tmp/a%20b%26c"
        );
    }
}
