//! What the twin's socket-level test files share: the clock and the HMAC
//! signature a signed request carries.
#![allow(dead_code)] // Each test file uses its own part.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// Milliseconds since the Unix epoch, for `timestamp`.
pub fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The hex HMAC-SHA256 of `payload` under `secret`: a request's `signature`.
pub fn sign_with(secret: &str, payload: &str) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Sends one HTTP/1.1 request (`head`: the request line and headers, no
/// blank line) to `address` and returns the whole answer.
pub fn http(address: &str, head: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "{head}\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// A signed REST request to the twin at `rest_base` with `key` and
/// `secret`; returns the HTTP status and the JSON body.
pub fn signed(
    rest_base: &str,
    (key, secret): (&str, &str),
    method: &str,
    path: &str,
    params: &str,
) -> (u16, serde_json::Value) {
    let query = format!("{params}&timestamp={}", now_ms());
    let query = format!("{query}&signature={}", sign_with(secret, &query));
    let address = rest_base.strip_prefix("http://").unwrap();
    let answer = http(
        address,
        &format!("{method} {path}?{query} HTTP/1.1\r\nX-MBX-APIKEY: {key}\r\nContent-Length: 0"),
    );
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}
