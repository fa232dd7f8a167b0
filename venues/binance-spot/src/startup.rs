//! The start-up requests shared by [`BinanceSpot`](crate::BinanceSpot),
//! [`BinancePublic`](crate::BinancePublic) and [`check`](crate::check()):
//! measuring the server clock, loading the symbols' rules, verifying the key.
//!
//! Their failures become [`StartupError`]s: one line naming the cause and the
//! fix, for the user to read as is.

use std::collections::HashMap;

use tesser_core::Instrument;

use crate::error::{BAD_SYMBOL, BinanceError, INVALID_TIMESTAMP, KEY_REFUSED_CODES, StartupError};
use crate::model::{AccountInfo, AmendRules, SymbolInfo};
use crate::rest::{HTTP_401_NO_BODY, RestClient};

/// `GET /api/v3/time`.
const TIME: &str = "GET /api/v3/time";
/// `GET /api/v3/exchangeInfo`.
const EXCHANGE_INFO: &str = "GET /api/v3/exchangeInfo";
/// `GET /api/v3/account`.
const ACCOUNT: &str = "GET /api/v3/account";

/// Measures the server-time offset (server minus local, milliseconds).
pub(crate) async fn sync_clock(venue: &str, rest: &RestClient) -> Result<i64, BinanceError> {
    rest.sync_time()
        .await
        .map_err(|error| classify(venue, rest.base_url(), TIME, error))
}

/// Loads `symbol`'s `exchangeInfo` entry and adopts the answer's rate limits.
pub(crate) async fn load_symbol(
    venue: &str,
    rest: &RestClient,
    symbol: &str,
) -> Result<SymbolInfo, BinanceError> {
    let unknown = |detail: String| {
        BinanceError::Startup(StartupError::UnknownSymbol {
            venue: venue.to_owned(),
            symbol: symbol.to_owned(),
            detail,
        })
    };
    match rest.exchange_info(symbol).await {
        Ok(info) => {
            rest.set_rate_limits(&info.rate_limits);
            info.symbols
                .into_iter()
                .find(|listed| listed.symbol == symbol)
                .ok_or_else(|| unknown("not in the answer".into()))
        }
        Err(BinanceError::Rejected(body)) if body.code == BAD_SYMBOL => {
            Err(unknown(format!("{} {}", body.code, body.msg)))
        }
        Err(error) => Err(classify(venue, rest.base_url(), EXCHANGE_INFO, error)),
    }
}

/// Loads the rules of every symbol: instruments, and how their orders may
/// be changed, by symbol.
pub(crate) async fn load_instruments(
    venue: &str,
    rest: &RestClient,
    symbols: &[String],
) -> Result<HashMap<String, (Instrument, AmendRules)>, BinanceError> {
    let mut instruments = HashMap::new();
    for symbol in symbols {
        let info = load_symbol(venue, rest, symbol).await?;
        if info.status != "TRADING" {
            tracing::warn!(
                symbol,
                status = info.status,
                "symbol is not TRADING: orders will be refused until it is"
            );
        }
        instruments.insert(
            info.symbol.clone(),
            (info.to_instrument(), info.amend_rules()),
        );
    }
    Ok(instruments)
}

/// Verifies the key with one signed read-only request
/// (`GET /api/v3/account`).
pub(crate) async fn verify_key(
    venue: &str,
    rest: &RestClient,
) -> Result<AccountInfo, BinanceError> {
    rest.account()
        .await
        .map_err(|error| classify(venue, rest.base_url(), ACCOUNT, error))
}

/// Turns the failure of start-up request `request` into the error the user
/// reads. Rate limits, bans and configuration errors keep their own (already
/// clear) messages.
pub(crate) fn classify(
    venue: &str,
    base: &str,
    request: &str,
    error: BinanceError,
) -> BinanceError {
    let path = request.split_once(' ').map_or(request, |(_, path)| path);
    let unreachable = |reason: String| {
        BinanceError::Startup(StartupError::Unreachable {
            venue: venue.to_owned(),
            url: base.to_owned(),
            request: request.to_owned(),
            reason,
        })
    };
    match error {
        BinanceError::Rejected(body) if KEY_REFUSED_CODES.contains(&body.code) => {
            BinanceError::Startup(StartupError::KeyRefused {
                venue: venue.to_owned(),
                code: Some(body.code),
                detail: format!("{} {}", body.code, body.msg),
            })
        }
        BinanceError::NotSent(text) if text == HTTP_401_NO_BODY => {
            BinanceError::Startup(StartupError::KeyRefused {
                venue: venue.to_owned(),
                code: None,
                detail: text,
            })
        }
        BinanceError::Rejected(body) if body.code == INVALID_TIMESTAMP => {
            BinanceError::Startup(StartupError::Clock {
                venue: venue.to_owned(),
                detail: format!("{} {}", body.code, body.msg),
            })
        }
        BinanceError::Rejected(body) => BinanceError::Startup(StartupError::Refused {
            venue: venue.to_owned(),
            request: request.to_owned(),
            detail: format!("{} {}", body.code, body.msg),
        }),
        BinanceError::Unreachable { reason, .. } => unreachable(reason),
        BinanceError::NotSent(text) | BinanceError::Ambiguous(text) => {
            let prefix = format!("{path}: ");
            unreachable(text.strip_prefix(&prefix).unwrap_or(&text).to_owned())
        }
        BinanceError::Malformed(text) => {
            unreachable(format!("the answer is not Binance's ({text})"))
        }
        other @ (BinanceError::RateLimited { .. }
        | BinanceError::Banned { .. }
        | BinanceError::Config(_)
        | BinanceError::Startup(_)) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ApiErrorBody;

    const BASE: &str = "http://127.0.0.1:1";

    fn rejected(code: i64, msg: &str) -> BinanceError {
        BinanceError::Rejected(ApiErrorBody {
            code,
            msg: msg.into(),
        })
    }

    fn one_line(error: &BinanceError) -> String {
        let text = error.to_string();
        assert!(!text.contains('\n'), "{text}");
        text
    }

    #[test]
    fn unreachable_names_the_url_the_request_and_the_fix() {
        let error = classify(
            "binance-spot",
            BASE,
            TIME,
            BinanceError::Unreachable {
                url: format!("{BASE}/api/v3/time"),
                reason: "connection refused".into(),
            },
        );
        assert_eq!(
            one_line(&error),
            "cannot reach binance-spot at http://127.0.0.1:1 (GET /api/v3/time): connection refused; check the endpoint (--endpoint or [venues.binance-spot] rest_url) and your network"
        );
        let timeout = classify(
            "binance-spot",
            BASE,
            TIME,
            BinanceError::Ambiguous("/api/v3/time: request timed out".into()),
        );
        assert!(
            one_line(&timeout)
                .contains("(GET /api/v3/time): request timed out; check the endpoint"),
            "{timeout}"
        );
        let not_binance = classify(
            "binance-spot",
            BASE,
            TIME,
            BinanceError::Malformed("success body did not parse: expected value".into()),
        );
        assert!(one_line(&not_binance).contains("the answer is not Binance's"));
    }

    #[test]
    fn key_refusals_name_the_variables() {
        for code in KEY_REFUSED_CODES {
            let error = classify("binance-spot", BASE, ACCOUNT, rejected(code, "No."));
            assert!(
                matches!(&error, BinanceError::Startup(StartupError::KeyRefused { code: Some(c), .. }) if *c == code),
                "{error:?}"
            );
        }
        let error = classify(
            "binance-spot",
            BASE,
            ACCOUNT,
            rejected(-2015, "Invalid API-key, IP, or permissions for action."),
        );
        assert_eq!(
            one_line(&error),
            "binance-spot refused the API key (-2015 Invalid API-key, IP, or permissions for action.); check TESSER_BINANCE_API_KEY and TESSER_BINANCE_API_SECRET (or TESSER_BINANCE_PRIVATE_KEY_FILE), the key's IP whitelist, and that it is a key for this endpoint (testnet keys only work with --testnet)"
        );
        let bare = classify(
            "binance-spot",
            BASE,
            ACCOUNT,
            BinanceError::NotSent(HTTP_401_NO_BODY.into()),
        );
        assert!(
            matches!(
                &bare,
                BinanceError::Startup(StartupError::KeyRefused { code: None, .. })
            ),
            "{bare:?}"
        );
    }

    #[test]
    fn unknown_symbol_message() {
        let error = BinanceError::Startup(StartupError::UnknownSymbol {
            venue: "binance-spot".into(),
            symbol: "FOOBAR".into(),
            detail: "-1121 Invalid symbol.".into(),
        });
        assert_eq!(
            one_line(&error),
            "binance-spot does not list symbol FOOBAR (exchangeInfo: -1121 Invalid symbol.); check the symbol in the strategy config"
        );
    }

    #[test]
    fn clock_and_other_refusals() {
        let error = classify(
            "binance-spot",
            BASE,
            ACCOUNT,
            rejected(
                -1021,
                "Timestamp for this request is outside of the recvWindow.",
            ),
        );
        assert!(
            one_line(&error).contains("check this machine's clock"),
            "{error}"
        );
        let error = classify(
            "binance-spot",
            BASE,
            ACCOUNT,
            rejected(-1100, "Illegal characters."),
        );
        assert_eq!(
            one_line(&error),
            "binance-spot refused GET /api/v3/account (-1100 Illegal characters.); see Binance's errors.md for the code"
        );
        let banned = BinanceError::Banned {
            retry_after: std::time::Duration::from_secs(60),
        };
        assert_eq!(classify("binance-spot", BASE, TIME, banned.clone()), banned);
    }
}
