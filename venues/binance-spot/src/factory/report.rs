//! `tesser venue check --venue binance-spot`: the read-only
//! [`check()`](crate::check::check) as report lines.

use tesser_venue_kit::{CheckReport, VenueError};

use super::section::NAME;
use crate::config::BinanceConfig;
use crate::sign::{self, Credentials, KeyError};

/// Whether a key that could not be loaded makes the check fail.
enum Severity {
    /// No key at all: only the public checks run.
    Note,
    /// A key was meant to be given but is unusable.
    Problem,
}

/// Runs the checks on `settings` and words what they found.
pub(super) fn check(settings: BinanceConfig, symbol: &str) -> Result<CheckReport, VenueError> {
    let recv_window_ms = settings.recv_window_ms;
    let (credentials, key_problem) = match Credentials::from_env() {
        Ok(credentials) => (Some(credentials), None),
        Err(error @ KeyError::MissingApiKey { .. }) => (None, Some((error, Severity::Note))),
        Err(error) => (None, Some((error, Severity::Problem))),
    };
    let found = crate::check::check(settings, credentials, symbol)
        .map_err(|e| VenueError::connect(NAME, e))?;
    let mut lines = vec![
        format!("venue         {} at {}", found.venue, found.rest_url),
        format!(
            "clock offset  {:+} ms (venue minus this machine; signed requests allow recvWindow {recv_window_ms} ms)",
            found.clock_offset_ms
        ),
    ];
    let mut problem = None;
    match &found.symbol {
        Ok(rules) => lines.push(format!(
            "symbol        {} ({}): {}/{}, tick size {}, step size {}, min qty {}, min notional {}; order types {}",
            rules.symbol,
            rules.status,
            rules.base_asset,
            rules.quote_asset,
            rules.tick_size.normalize(),
            rules.step_size.normalize(),
            rules.min_qty.normalize(),
            rules.min_notional.normalize(),
            rules.order_types.join(", ")
        )),
        Err(error) => {
            lines.push(format!("symbol        NOT AVAILABLE: {error}"));
            problem = Some(error.to_string());
        }
    }
    match (&found.account, key_problem) {
        (Some(Ok(account)), _) => {
            let yes_no = |flag: bool| if flag { "yes" } else { "no" };
            lines.push(format!(
                "key           works: can trade {}, can withdraw {}, can deposit {}; account {} with permissions {}",
                yes_no(account.can_trade),
                yes_no(account.can_withdraw),
                yes_no(account.can_deposit),
                account.account_type.as_deref().unwrap_or("?"),
                if account.permissions.is_empty() {
                    "none listed".to_owned()
                } else {
                    account.permissions.join(", ")
                }
            ));
            if !account.can_trade {
                problem.get_or_insert_with(|| {
                    format!("{NAME}: the account behind this key may not trade (canTrade is false); enable Spot trading for the key")
                });
            }
            if account.balances.is_empty() {
                lines.push("balances      none".to_owned());
            }
            for balance in &account.balances {
                lines.push(format!(
                    "balance       {} free {} locked {}",
                    balance.asset,
                    balance.free.normalize(),
                    balance.locked.normalize()
                ));
            }
        }
        (Some(Err(error)), _) => {
            lines.push(format!("key           REFUSED: {error}"));
            problem.get_or_insert_with(|| error.to_string());
        }
        (None, Some((error, Severity::Note))) => lines.push(format!(
            "key           not checked: {error} (with {} or {}); only the public checks ran",
            sign::ENV_API_SECRET,
            sign::ENV_PRIVATE_KEY_FILE
        )),
        (None, Some((error, Severity::Problem))) => {
            lines.push(format!("key           CANNOT BE LOADED: {error}"));
            problem.get_or_insert_with(|| format!("{NAME} keys: {error}"));
        }
        (None, None) => {}
    }
    Ok(CheckReport { lines, problem })
}
