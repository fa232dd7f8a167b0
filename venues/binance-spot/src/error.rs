//! The connector's errors.

use std::time::Duration;

use crate::model::ApiErrorBody;

/// Why a request to Binance did not give a definite answer we can use.
///
/// The split that matters is between [`BinanceError::Rejected`] (the venue
/// answered no: nothing changed) and [`BinanceError::Ambiguous`] (the request
/// may or may not have taken effect). Messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinanceError {
    /// The venue refused the request with an error code; nothing changed.
    #[error("venue rejected the request: {} {}", .0.code, .0.msg)]
    Rejected(ApiErrorBody),
    /// The request may have taken effect: a timeout after sending, a 5xx,
    /// `-1006`, `-1007`, or a success whose body could not be read.
    #[error("outcome unknown: {0}")]
    Ambiguous(String),
    /// The request was not sent, or the venue refused it before processing
    /// (connection refused, 429); it may be sent again.
    #[error("not sent: {0}")]
    NotSent(String),
    /// The venue answered 429: too many requests. Nothing was processed.
    #[error("rate limited by the venue; retry after {retry_after:?}")]
    RateLimited {
        /// How long to wait.
        retry_after: Duration,
    },
    /// The venue answered 418: the IP is banned. Nothing more is sent until
    /// the ban ends.
    #[error("IP BANNED by Binance (HTTP 418); no request is sent for {retry_after:?}")]
    Banned {
        /// How long the ban lasts.
        retry_after: Duration,
    },
    /// A success body or stream message did not match the documented format.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// The connector is misconfigured.
    #[error("configuration: {0}")]
    Config(String),
}

impl BinanceError {
    /// Whether the request certainly had no effect.
    #[must_use]
    pub const fn is_definite_failure(&self) -> bool {
        matches!(
            self,
            Self::Rejected(_) | Self::NotSent(_) | Self::RateLimited { .. } | Self::Banned { .. }
        )
    }

    /// The venue's error code, for a rejection.
    #[must_use]
    pub const fn code(&self) -> Option<i64> {
        match self {
            Self::Rejected(body) => Some(body.code),
            _ => None,
        }
    }
}

/// Error codes whose outcome is unknown (`errors.md`: `-1006
/// UNEXPECTED_RESP` and `-1007 TIMEOUT` say "execution status unknown").
pub const AMBIGUOUS_CODES: [i64; 2] = [-1006, -1007];
/// `-1021 INVALID_TIMESTAMP`.
pub const INVALID_TIMESTAMP: i64 = -1021;
/// `-2013 NO_SUCH_ORDER`.
pub const NO_SUCH_ORDER: i64 = -2013;
/// `-2011 CANCEL_REJECTED`.
pub const CANCEL_REJECTED: i64 = -2011;
/// `-2010 NEW_ORDER_REJECTED`.
pub const NEW_ORDER_REJECTED: i64 = -2010;
/// `-2021`: cancel-replace partially failed.
pub const CANCEL_REPLACE_PARTIAL: i64 = -2021;
/// `-2022`: cancel-replace failed.
pub const CANCEL_REPLACE_FAILED: i64 = -2022;
