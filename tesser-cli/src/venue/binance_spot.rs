//! `--venue binance-spot`: the Binance Spot connector of
//! `venues/binance-spot`, configured from `[venues.binance-spot]` and flags.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use tesser_venue_binance::{
    BinanceConfig, BinancePublic, BinanceSpot, Credentials, Endpoints, KeyError,
};

use super::{CheckReport, MarketVenue, Network, TradingVenue, VenueTarget};
use crate::config::{Config, check_url};

/// The connector's settings: endpoints from `--endpoint`, else the config's
/// URLs, else the network's; timing from `[venues.binance-spot]`.
fn settings(
    target: &VenueTarget,
    config: &Config,
    symbols: &[String],
) -> anyhow::Result<BinanceConfig> {
    let section = &config.venues.binance_spot;
    let mut endpoints = match target.network {
        Network::Production => Endpoints::production(),
        Network::Testnet => Endpoints::testnet(),
    };
    if let Some(url) = &section.rest_url {
        endpoints.rest_base.clone_from(url);
    }
    if let Some(url) = &section.ws_api_url {
        endpoints.ws_api_url.clone_from(url);
    }
    if let Some(url) = &section.stream_url {
        endpoints.market_stream_base.clone_from(url);
    }
    if let Some(base) = &target.endpoint {
        endpoints = one_base(base)?;
    }
    let mut settings = BinanceConfig::new(
        endpoints,
        symbols.iter().map(|s| s.to_ascii_uppercase()).collect(),
    );
    settings.recv_window_ms = section.recv_window_ms;
    settings.request_timeout = Duration::from_millis(section.request_timeout_ms);
    Ok(settings)
}

/// Every endpoint from one base URL: REST at the base, the WebSocket API at
/// `/ws-api/v3` and the streams at the root of the same host, over `ws` for
/// `http` and `wss` for `https`.
fn one_base(base: &str) -> anyhow::Result<Endpoints> {
    check_url(base).map_err(|why| anyhow!("--endpoint: {why}"))?;
    let base = base.trim_end_matches('/');
    let ws_base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    };
    let rest_base = if let Some(rest) = base.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = base.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        base.to_owned()
    };
    Ok(Endpoints {
        rest_base,
        ws_api_url: format!("{ws_base}/ws-api/v3"),
        market_stream_base: ws_base,
    })
}

fn credentials() -> anyhow::Result<Credentials> {
    Credentials::from_env().map_err(|error| {
        anyhow!("binance-spot keys: {error} (or pass --paper to trade on paper with the venue's market data, no keys needed)")
    })
}

fn instruments_of(
    symbols: &[String],
    rules: impl Fn(&str) -> Option<tesser_core::Instrument>,
) -> anyhow::Result<Vec<tesser_core::Instrument>> {
    symbols
        .iter()
        .map(|symbol| {
            let symbol = symbol.to_ascii_uppercase();
            rules(&symbol).ok_or_else(|| {
                anyhow!("binance-spot does not list symbol {symbol}; check the symbol in the strategy config")
            })
        })
        .collect()
}

pub(super) fn connect_trading(
    target: &VenueTarget,
    config: &Config,
    symbols: &[String],
) -> anyhow::Result<TradingVenue> {
    let settings = settings(target, config, symbols)?;
    let credentials = credentials()?;
    let venue = BinanceSpot::connect(settings, credentials).context("binance-spot")?;
    let instruments = instruments_of(symbols, |s| venue.instrument(s))?;
    let feed = venue.market_feed();
    Ok(TradingVenue {
        clock_offset_ms: venue.clock_offset_ms(),
        feed: Box::new(feed),
        instruments,
        exchange: Box::new(venue),
    })
}

pub(super) fn connect_market(
    target: &VenueTarget,
    config: &Config,
    symbols: &[String],
) -> anyhow::Result<MarketVenue> {
    let settings = settings(target, config, symbols)?;
    let venue = BinancePublic::connect(settings).context("binance-spot")?;
    let instruments = instruments_of(symbols, |s| venue.instrument(s))?;
    Ok(MarketVenue {
        feed: Box::new(venue.market_feed()),
        instruments,
        clock_offset_ms: venue.clock_offset_ms(),
    })
}

pub(super) fn check(
    target: &VenueTarget,
    config: &Config,
    symbol: &str,
) -> anyhow::Result<CheckReport> {
    let symbol = symbol.to_ascii_uppercase();
    let settings = settings(target, config, std::slice::from_ref(&symbol))?;
    let recv_window_ms = settings.recv_window_ms;
    let (credentials, key_problem) = match Credentials::from_env() {
        Ok(credentials) => (Some(credentials), None),
        Err(error @ KeyError::MissingApiKey { .. }) => (None, Some((error, Severity::Note))),
        Err(error) => (None, Some((error, Severity::Problem))),
    };
    let found =
        tesser_venue_binance::check(settings, credentials, &symbol).context("binance-spot")?;
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
                    "binance-spot: the account behind this key may not trade (canTrade is false); enable Spot trading for the key".to_owned()
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
            tesser_venue_binance::sign::ENV_API_SECRET,
            tesser_venue_binance::sign::ENV_PRIVATE_KEY_FILE
        )),
        (None, Some((error, Severity::Problem))) => {
            lines.push(format!("key           CANNOT BE LOADED: {error}"));
            problem.get_or_insert_with(|| format!("binance-spot keys: {error}"));
        }
        (None, None) => {}
    }
    Ok(CheckReport { lines, problem })
}

/// Whether a key that could not be loaded makes the check fail.
enum Severity {
    /// No key at all: only the public checks run.
    Note,
    /// A key was meant to be given but is unusable.
    Problem,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_base_gives_every_endpoint_on_the_same_host() {
        let endpoints = one_base("http://127.0.0.1:4567/").expect("a URL");
        assert_eq!(endpoints.rest_base, "http://127.0.0.1:4567");
        assert_eq!(endpoints.ws_api_url, "ws://127.0.0.1:4567/ws-api/v3");
        assert_eq!(endpoints.market_stream_base, "ws://127.0.0.1:4567");
        let secure = one_base("https://venue.example").expect("a URL");
        assert_eq!(secure.ws_api_url, "wss://venue.example/ws-api/v3");
        let error = one_base("127.0.0.1:4567").expect_err("no scheme");
        assert!(error.to_string().starts_with("--endpoint: "), "{error}");
    }
}
