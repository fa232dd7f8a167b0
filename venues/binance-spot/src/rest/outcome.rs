//! Classifying answers: rejection, ambiguous, not sent, malformed.

use serde::de::DeserializeOwned;

use crate::error::{AMBIGUOUS_CODES, BinanceError};
use crate::model::ApiErrorBody;

/// The error code of an error body.
pub(super) fn api_code(body: &str) -> Option<i64> {
    serde_json::from_str::<ApiErrorBody>(body)
        .ok()
        .map(|error| error.code)
}

/// The [`BinanceError::NotSent`] text of a 401 without a Binance error body.
pub(crate) const HTTP_401_NO_BODY: &str = "HTTP 401 Unauthorized without an error body";

/// Classifies a non-200, non-429/418, non-5xx answer.
pub(super) fn classify_api(status: u16, body: &str) -> BinanceError {
    match serde_json::from_str::<ApiErrorBody>(body) {
        Ok(error) if AMBIGUOUS_CODES.contains(&error.code) => {
            BinanceError::Ambiguous(format!("{} {}", error.code, error.msg))
        }
        Ok(error) => BinanceError::Rejected(error),
        // A WAF block answers 403 without a Binance body: not processed.
        Err(_) if status == 403 => BinanceError::NotSent("HTTP 403 (WAF block)".into()),
        // Refused before processing: the key was not accepted.
        Err(_) if status == 401 => BinanceError::NotSent(HTTP_401_NO_BODY.into()),
        Err(_) => BinanceError::Ambiguous(format!("HTTP {status} without an error body")),
    }
}

/// Parses a success body. A malformed body of a request that may have changed
/// state is ambiguous; of a read, malformed.
pub(super) fn parse<T: DeserializeOwned>(body: &str, effect: Effect) -> Result<T, BinanceError> {
    serde_json::from_str(body).map_err(|error| {
        let text = format!("success body did not parse: {error}");
        match effect {
            Effect::Changes => BinanceError::Ambiguous(text),
            Effect::ReadOnly => BinanceError::Malformed(text),
        }
    })
}

/// What a request does at the venue, which decides what an unreadable
/// success body means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    /// It only reads: an unreadable body is malformed.
    ReadOnly,
    /// It may have changed something (placed, amended, cancelled): an
    /// unreadable body leaves the outcome unknown.
    Changes,
}

pub(super) fn truncate(body: &str) -> String {
    body.chars().take(200).collect()
}

/// A reqwest error without its URL (which holds the signature).
pub(super) fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

/// Why a connection could not be made, in a few words (`connection
/// refused`, `connection timed out`, or the resolver's or TLS layer's own
/// message), without the URL.
pub(super) fn transport_reason(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    use std::io::ErrorKind;
    let mut kind = None;
    let mut deepest = None;
    let mut source: Option<&dyn std::error::Error> = error.source();
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            kind = Some(io.kind());
        }
        deepest = Some(current.to_string());
        source = current.source();
    }
    match kind {
        Some(ErrorKind::ConnectionRefused) => "connection refused".into(),
        Some(ErrorKind::TimedOut) => "connection timed out".into(),
        Some(ErrorKind::ConnectionReset) => "connection reset".into(),
        Some(ErrorKind::ConnectionAborted) => "connection aborted".into(),
        _ if error.is_timeout() => "connection timed out".into(),
        _ => {
            let text = deepest.unwrap_or_else(|| without_url(error));
            match error.url() {
                Some(url) => text.replace(url.as_str(), "<url>"),
                None => text,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OrderResponse;
    use crate::rest::decimal_param;
    use rust_decimal_macros::dec;

    #[test]
    fn decimals_are_plain() {
        assert_eq!(decimal_param(dec!(1.00000000)), "1");
        assert_eq!(decimal_param(dec!(0.00010)), "0.0001");
        assert_eq!(decimal_param(dec!(12345678.9)), "12345678.9");
    }

    #[test]
    fn outcomes_are_classified() {
        let body =
            r#"{"code":-2010,"msg":"Account has insufficient balance for requested action."}"#;
        assert!(matches!(classify_api(400, body), BinanceError::Rejected(e) if e.code == -2010));
        let body = r#"{"code":-1013,"msg":"Filter failure: LOT_SIZE"}"#;
        assert!(matches!(classify_api(400, body), BinanceError::Rejected(e) if e.code == -1013));
        let body = r#"{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}"#;
        assert!(matches!(
            classify_api(400, body),
            BinanceError::Ambiguous(_)
        ));
        let body = r#"{"code":-1006,"msg":"An unexpected response was received from the message bus. Execution status unknown."}"#;
        assert!(matches!(
            classify_api(400, body),
            BinanceError::Ambiguous(_)
        ));
        assert!(matches!(
            classify_api(400, "<html>"),
            BinanceError::Ambiguous(_)
        ));
        assert!(matches!(classify_api(403, ""), BinanceError::NotSent(_)));
        assert_eq!(
            classify_api(401, ""),
            BinanceError::NotSent(HTTP_401_NO_BODY.into())
        );
        assert!(matches!(
            parse::<OrderResponse>("{\"symbol\":", Effect::Changes),
            Err(BinanceError::Ambiguous(_))
        ));
    }
}
