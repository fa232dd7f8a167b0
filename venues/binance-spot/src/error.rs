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
    /// The connector is misconfigured, or a request needs something this
    /// client lacks (e.g. a signed request without credentials). Nothing was
    /// sent.
    #[error("configuration: {0}")]
    Config(String),
    /// The connection to the venue could not be made (refused, DNS, TLS,
    /// connect timeout); nothing was sent.
    #[error("not sent: cannot connect to {url}: {reason}")]
    Unreachable {
        /// Base URL and path (never the query, which holds the signature).
        url: String,
        /// Why, e.g. `connection refused`.
        reason: String,
    },
    /// Start-up failed; the message is one line saying what to fix.
    #[error(transparent)]
    Startup(#[from] StartupError),
}

/// Why connecting to the venue failed at start-up. Every message is one line
/// that names the cause and the fix, for the user to read as is; none holds
/// key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartupError {
    /// The REST endpoint did not answer usefully (refused, DNS, timeout, not
    /// a Binance answer).
    #[error(
        "cannot reach {venue} at {url} ({request}): {reason}; check the endpoint (--endpoint or [venues.binance-spot] rest_url) and your network"
    )]
    Unreachable {
        /// Venue name.
        venue: String,
        /// REST base URL.
        url: String,
        /// The request, e.g. `GET /api/v3/time`.
        request: String,
        /// Why, e.g. `connection refused`.
        reason: String,
    },
    /// `exchangeInfo` does not list the symbol (`-1121 Invalid symbol.`).
    #[error(
        "{venue} does not list symbol {symbol} (exchangeInfo: {detail}); check the symbol in the strategy config"
    )]
    UnknownSymbol {
        /// Venue name.
        venue: String,
        /// The symbol asked for.
        symbol: String,
        /// The venue's answer, e.g. `-1121 Invalid symbol.`.
        detail: String,
    },
    /// The venue refused the API key or its signature (`-2014`, `-2015`,
    /// `-1022`, `-1002`, or HTTP 401).
    #[error(
        "{venue} refused the API key ({detail}); check TESSER_BINANCE_API_KEY and TESSER_BINANCE_API_SECRET (or TESSER_BINANCE_PRIVATE_KEY_FILE), the key's IP whitelist, and that it is a key for this endpoint (testnet keys only work with --testnet)"
    )]
    KeyRefused {
        /// Venue name.
        venue: String,
        /// The venue's error code, when it sent one.
        code: Option<i64>,
        /// The venue's answer, e.g. `-2015 Invalid API-key, IP, or
        /// permissions for action.`.
        detail: String,
    },
    /// Signed requests keep failing the timing rule (`-1021`) after a clock
    /// re-sync.
    #[error(
        "{venue} refused the request's timestamp ({detail}) even after measuring the server clock again; check this machine's clock (e.g. enable NTP)"
    )]
    Clock {
        /// Venue name.
        venue: String,
        /// The venue's answer.
        detail: String,
    },
    /// Any other refusal of a start-up request.
    #[error("{venue} refused {request} ({detail}); see Binance's errors.md for the code")]
    Refused {
        /// Venue name.
        venue: String,
        /// The request, e.g. `GET /api/v3/account`.
        request: String,
        /// The venue's answer.
        detail: String,
    },
}

impl BinanceError {
    /// Whether the request certainly had no effect.
    #[must_use]
    pub const fn is_definite_failure(&self) -> bool {
        matches!(
            self,
            Self::Rejected(_)
                | Self::NotSent(_)
                | Self::RateLimited { .. }
                | Self::Banned { .. }
                | Self::Config(_)
                | Self::Unreachable { .. }
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
/// `ORDER_AMEND_REJECTED`: the matching engine refused a keep-priority amend.
pub const ORDER_AMEND_REJECTED: i64 = -2038;
/// `-1121 BAD_SYMBOL`: invalid symbol.
pub const BAD_SYMBOL: i64 = -1121;
/// Codes that mean the key or its signature was refused (`errors.md`:
/// `-1002 UNAUTHORIZED`, `-1022 INVALID_SIGNATURE`, `-2014
/// BAD_API_KEY_FMT`, `-2015 REJECTED_MBX_KEY`).
pub const KEY_REFUSED_CODES: [i64; 4] = [-1002, -1022, -2014, -2015];
