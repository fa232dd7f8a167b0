//! [`VenueFactory`]: how a venue plugs into the runtime, and the
//! venue-neutral types it hands back.

use std::fmt;

use tesser_core::{ExchangeClient, Instrument, MarketFeed};

use crate::section::{Section, SectionError};

/// Which of a venue's networks to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// The real market.
    Production,
    /// The venue's test network (Binance: the spot testnet).
    Testnet,
}

impl Network {
    /// `production` or `testnet`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Testnet => "testnet",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where to reach a venue, from the command's flags. The venue's
/// `[venues.NAME]` table is handed over beside it; the flags win over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueTarget {
    /// Production or testnet.
    pub network: Network,
    /// `--endpoint`: one base URL serving every endpoint of the venue (a
    /// local venue, such as a twin). Which paths hang off it is the venue's
    /// rule, applied by its factory.
    pub endpoint: Option<String>,
}

impl VenueTarget {
    /// `network`, at the venue's own endpoints.
    #[must_use]
    pub const fn new(network: Network) -> Self {
        Self {
            network,
            endpoint: None,
        }
    }

    /// Where the venue is, for logs: the `--endpoint` given, else the
    /// network's name.
    #[must_use]
    pub fn describe(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| self.network.as_str().to_owned())
    }
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

/// A venue whose market data alone is used (paper trading on live data): no
/// keys, no order endpoint.
pub struct MarketVenue {
    /// The venue's trades.
    pub feed: Box<dyn MarketFeed>,
    /// The rules the venue publishes for the symbols traded.
    pub instruments: Vec<Instrument>,
    /// The venue's clock minus ours, milliseconds.
    pub clock_offset_ms: i64,
}

/// What a venue's read-only check found (`tesser venue check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The report, one fact per line.
    pub lines: Vec<String>,
    /// Why the venue cannot be traded with these keys, if it cannot.
    pub problem: Option<String>,
}

/// Why a venue could not be connected or checked. Every message is one line
/// naming what failed and how to fix it, and none holds key material.
#[derive(Debug, thiserror::Error)]
pub enum VenueError {
    /// A flag the venue cannot use (e.g. a malformed `--endpoint`); the
    /// message names the flag.
    #[error("{0}")]
    Input(String),
    /// The venue's `[venues.NAME]` table is unusable.
    #[error(transparent)]
    Section(#[from] SectionError),
    /// The venue's keys are missing or cannot be loaded; the message names
    /// the variables and the keyless way (paper trading on live data).
    #[error("{0}")]
    Keys(String),
    /// The venue does not list a symbol to be traded.
    #[error("{venue} does not list symbol {symbol}; check the symbol in the strategy config")]
    UnknownSymbol {
        /// The venue, as `--venue` names it.
        venue: String,
        /// The symbol, in the venue's spelling.
        symbol: String,
    },
    /// Connecting failed; the cause says why.
    #[error("{venue}")]
    Connect {
        /// The venue, as `--venue` names it.
        venue: String,
        /// Why, one line.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl VenueError {
    /// A connection to `venue` that failed because of `source`.
    pub fn connect(
        venue: &str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Connect {
            venue: venue.to_owned(),
            source: source.into(),
        }
    }
}

/// The rules of each of `symbols` (upper-cased), from `rules`.
///
/// # Errors
/// [`VenueError::UnknownSymbol`] for the first symbol `rules` does not know.
pub fn instruments_of(
    venue: &str,
    symbols: &[String],
    rules: impl Fn(&str) -> Option<Instrument>,
) -> Result<Vec<Instrument>, VenueError> {
    symbols
        .iter()
        .map(|symbol| {
            let symbol = symbol.to_ascii_uppercase();
            rules(&symbol).ok_or(VenueError::UnknownSymbol {
                venue: venue.to_owned(),
                symbol,
            })
        })
        .collect()
}

/// One venue, as the runtime sees it: a name, a config section, and three
/// ways to connect. A venue crate exports one factory; the `tesser-venues`
/// registry lists it once, and `--venue`, `[venues.NAME]`, `tesser live run`
/// and `tesser venue check` all find it there. Nothing else names the venue.
///
/// Each connection reads the venue's merged `[venues.NAME]` table (defaults
/// for the keys it lacks) and the [`VenueTarget`] of the flags, which win.
///
/// # Example
///
/// A toy venue with one key, registered in a registry of its own:
///
/// ```
/// use tesser_venue_kit::section::{self, Section, SectionError};
/// use tesser_venue_kit::{
///     CheckReport, MarketVenue, Network, Registry, TradingVenue, VenueError, VenueFactory,
///     VenueTarget,
/// };
///
/// /// `[venues.toy]`, one layer: every key optional.
/// #[derive(serde::Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct ToyLayer {
///     depth: Option<i64>,
/// }
///
/// /// A venue with nothing behind it.
/// struct Toy;
///
/// impl VenueFactory for Toy {
///     fn name(&self) -> &'static str {
///         "toy"
///     }
///
///     fn description(&self) -> &'static str {
///         "A toy venue ([venues.toy]: depth)"
///     }
///
///     fn check_section(&self, layer: &Section) -> Result<(), SectionError> {
///         let layer: ToyLayer = section::parse(self.name(), layer)?;
///         section::check_range(self.name(), "depth", layer.depth, 1..=20, "levels")
///     }
///
///     fn connect_trading(
///         &self,
///         _target: &VenueTarget,
///         _section: &Section,
///         _symbols: &[String],
///     ) -> Result<TradingVenue, VenueError> {
///         Err(VenueError::Input("toy: nothing to trade on".into()))
///     }
///
///     fn connect_market(
///         &self,
///         _target: &VenueTarget,
///         _section: &Section,
///         _symbols: &[String],
///     ) -> Result<MarketVenue, VenueError> {
///         Err(VenueError::Input("toy: no market data".into()))
///     }
///
///     fn check(
///         &self,
///         target: &VenueTarget,
///         section: &Section,
///         symbol: &str,
///     ) -> Result<CheckReport, VenueError> {
///         self.check_section(section)?;
///         let layer: ToyLayer = section::parse(self.name(), section)?;
///         let depth = layer.depth.unwrap_or(5);
///         Ok(CheckReport {
///             lines: vec![format!("{symbol} on {}, depth {depth}", target.network)],
///             problem: None,
///         })
///     }
/// }
///
/// static VENUES: Registry = Registry::new(&[&Toy]);
///
/// // `[venues]` of one config layer: each table goes to its venue's factory.
/// let layer: Section = "[toy]\ndepth = 0".parse().expect("TOML");
/// let error = VENUES.check_layer(&layer).expect_err("depth 0");
/// assert_eq!(
///     error.to_string(),
///     "venues.toy.depth: must be an integer from 1 to 20 (levels), got 0"
/// );
/// let layer: Section = "[nope]".parse().expect("TOML");
/// let error = VENUES.check_layer(&layer).expect_err("no such venue");
/// assert_eq!(
///     error.to_string(),
///     "venues.nope: unknown venue \"nope\"; known venues: toy"
/// );
///
/// // `--venue toy --testnet`.
/// let toy = VENUES.find("toy").expect("registered");
/// let section: Section = "depth = 3".parse().expect("TOML");
/// let report = toy
///     .check(&VenueTarget::new(Network::Testnet), &section, "BTCUSDT")
///     .expect("a report");
/// assert_eq!(report.lines, ["BTCUSDT on testnet, depth 3"]);
/// ```
pub trait VenueFactory: Send + Sync {
    /// The name, as `--venue` spells it and `[venues.NAME]` keys its table:
    /// lower case, words joined by `-` (`binance-spot`).
    fn name(&self) -> &'static str;

    /// One line for `--help`: what the venue is, and where its keys come
    /// from.
    fn description(&self) -> &'static str;

    /// Checks one layer of `[venues.NAME]` (a file's table, or the one key a
    /// `TESSER_VENUES__NAME__KEY` variable sets): unknown keys, types and
    /// ranges. Every key is optional here; the merged table is what the
    /// connections read.
    ///
    /// # Errors
    /// One line naming the key, e.g. `venues.NAME.KEY: must be …, got …`.
    fn check_section(&self, layer: &Section) -> Result<(), SectionError>;

    /// Connects to trade `symbols`: keys (from the environment, never from
    /// config), the venue's rules for the symbols, its trades, and its user
    /// data (fills and order updates).
    ///
    /// # Errors
    /// Missing or refused keys, an unreachable endpoint, a symbol the venue
    /// does not list, a bad flag or table.
    fn connect_trading(
        &self,
        target: &VenueTarget,
        section: &Section,
        symbols: &[String],
    ) -> Result<TradingVenue, VenueError>;

    /// Connects to `symbols`' market data only (paper trading on live
    /// data): no keys are read and no private endpoint is called.
    ///
    /// # Errors
    /// As [`VenueFactory::connect_trading`], without the key errors.
    fn connect_market(
        &self,
        target: &VenueTarget,
        section: &Section,
        symbols: &[String],
    ) -> Result<MarketVenue, VenueError>;

    /// Read-only checks for `tesser venue check`: the key and what it may
    /// do, the clock offset, the account's balances, `symbol`'s rules. A key
    /// that is absent limits the report to the public checks; one that is
    /// refused is the report's problem.
    ///
    /// # Errors
    /// When the venue cannot be reached at all, or a flag or table is bad.
    fn check(
        &self,
        target: &VenueTarget,
        section: &Section,
        symbol: &str,
    ) -> Result<CheckReport, VenueError>;
}

impl fmt::Debug for dyn VenueFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VenueFactory").field(&self.name()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_symbols_are_named_upper_case() {
        let error =
            instruments_of("toy", &["nopeusdt".to_owned()], |_| None).expect_err("no rules");
        assert_eq!(
            error.to_string(),
            "toy does not list symbol NOPEUSDT; check the symbol in the strategy config"
        );
        let found = instruments_of("toy", &["btcusdt".to_owned()], |symbol| {
            Some(Instrument::new(symbol, "BTC", "USDT"))
        })
        .expect("rules");
        assert_eq!(found[0].symbol.as_str(), "BTCUSDT");
    }

    #[test]
    fn a_target_describes_its_endpoint_or_its_network() {
        let mut target = VenueTarget::new(Network::Testnet);
        assert_eq!(target.describe(), "testnet");
        target.endpoint = Some("http://127.0.0.1:9".to_owned());
        assert_eq!(target.describe(), "http://127.0.0.1:9");
    }
}
