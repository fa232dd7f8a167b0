//! Live venues: the one place that knows their names.
//!
//! `--venue NAME` picks a venue here; everything past this module sees only
//! `tesser_core`'s seams: an [`ExchangeClient`] for orders, a [`MarketFeed`]
//! for trades, and the [`Instrument`] rules the venue publishes. Adding a
//! venue means a crate under `venues/`, a variant of [`VenueName`], a file
//! here that connects it, and a `[venues.NAME]` config table; the
//! orchestrator does not change (see `docs/venues.md`).

mod binance_spot;
pub mod command;

use clap::ValueEnum;
use tesser_core::{ExchangeClient, Instrument, MarketFeed};

use crate::config::Config;

/// The venues `--venue` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VenueName {
    /// Binance Spot (`[venues.binance-spot]`; keys from
    /// `TESSER_BINANCE_API_KEY` with `TESSER_BINANCE_API_SECRET` or
    /// `TESSER_BINANCE_PRIVATE_KEY_FILE`).
    #[value(name = "binance-spot")]
    BinanceSpot,
}

impl VenueName {
    /// The name as `--venue` spells it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BinanceSpot => "binance-spot",
        }
    }
}

impl std::fmt::Display for VenueName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which of a venue's networks to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// The real market.
    Production,
    /// The venue's test network (Binance: the spot testnet).
    Testnet,
}

/// Where to reach a venue, from flags over `[venues.NAME]`.
#[derive(Debug, Clone)]
pub struct VenueTarget {
    /// The venue.
    pub name: VenueName,
    /// Production or testnet.
    pub network: Network,
    /// `--endpoint`: one base URL serving every endpoint of the venue.
    pub endpoint: Option<String>,
}

/// A venue to trade on.
pub struct TradingVenue {
    /// Where child orders go.
    pub exchange: Box<dyn ExchangeClient + Send>,
    /// The venue's trades.
    pub feed: Box<dyn MarketFeed>,
    /// The rules the venue publishes for the symbols traded.
    pub instruments: Vec<Instrument>,
    /// The venue's clock minus ours, milliseconds.
    pub clock_offset_ms: i64,
}

/// A venue whose market data alone is used (`--paper`): no keys, no order
/// endpoint.
pub struct MarketVenue {
    /// The venue's trades.
    pub feed: Box<dyn MarketFeed>,
    /// The rules the venue publishes for the symbols traded.
    pub instruments: Vec<Instrument>,
    /// The venue's clock minus ours, milliseconds.
    pub clock_offset_ms: i64,
}

/// Connects to trade `symbols`: keys from the environment, the venue's
/// rules, its trade stream, and its user data (fills and order updates).
///
/// # Errors
/// One line naming what failed and how to fix it: missing or refused keys,
/// an unreachable endpoint, a symbol the venue does not list.
pub fn connect_trading(
    target: &VenueTarget,
    config: &Config,
    symbols: &[String],
) -> anyhow::Result<TradingVenue> {
    match target.name {
        VenueName::BinanceSpot => binance_spot::connect_trading(target, config, symbols),
    }
}

/// Connects to `symbols`' market data only.
///
/// # Errors
/// As [`connect_trading`], without the key errors.
pub fn connect_market(
    target: &VenueTarget,
    config: &Config,
    symbols: &[String],
) -> anyhow::Result<MarketVenue> {
    match target.name {
        VenueName::BinanceSpot => binance_spot::connect_market(target, config, symbols),
    }
}

/// What `tesser venue check` found.
#[derive(Debug)]
pub struct CheckReport {
    /// The report, one fact per line.
    pub lines: Vec<String>,
    /// Why the venue cannot be traded with these keys, if it cannot.
    pub problem: Option<String>,
}

/// Read-only checks: the key and its permissions, the clock offset, the
/// account's balances, the symbol's rules.
///
/// # Errors
/// When the venue cannot be reached or does not list `symbol`.
pub fn check(target: &VenueTarget, config: &Config, symbol: &str) -> anyhow::Result<CheckReport> {
    match target.name {
        VenueName::BinanceSpot => binance_spot::check(target, config, symbol),
    }
}
