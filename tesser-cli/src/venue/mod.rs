//! Live venues, as the `tesser-venues` registry lists them.
//!
//! `--venue NAME` looks the venue's factory up in
//! [`tesser_venues::VENUES`]; everything past this module sees only
//! `tesser_core`'s seams: an `ExchangeClient` for orders, a `MarketFeed` for
//! trades, and the `Instrument` rules the venue publishes. Adding a venue
//! means a crate under `venues/` with a factory and one line in the
//! registry; nothing here changes (see `docs/venues.md`).

pub mod command;

use std::fmt;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use tesser_venue_kit::{CheckReport, MarketVenue, TradingVenue, VenueFactory};
use tesser_venues::VENUES;

pub use tesser_venue_kit::{Network, VenueTarget};

use crate::config::Config;

/// A venue `--venue` named: its factory in the registry.
#[derive(Clone, Copy)]
pub struct Venue(&'static dyn VenueFactory);

impl Venue {
    /// The name as `--venue` spells it.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// Connects to trade `symbols`: keys from the environment, the venue's
    /// rules, its trade stream, and its user data (fills and order updates).
    ///
    /// # Errors
    /// One line naming what failed and how to fix it: missing or refused
    /// keys, an unreachable endpoint, a symbol the venue does not list.
    pub fn connect_trading(
        self,
        target: &VenueTarget,
        config: &Config,
        symbols: &[String],
    ) -> anyhow::Result<TradingVenue> {
        let section = config.venues.section(self.name());
        Ok(self.0.connect_trading(target, &section, symbols)?)
    }

    /// Connects to `symbols`' market data only.
    ///
    /// # Errors
    /// As [`Venue::connect_trading`], without the key errors.
    pub fn connect_market(
        self,
        target: &VenueTarget,
        config: &Config,
        symbols: &[String],
    ) -> anyhow::Result<MarketVenue> {
        let section = config.venues.section(self.name());
        Ok(self.0.connect_market(target, &section, symbols)?)
    }

    /// Read-only checks: the key and its permissions, the clock offset, the
    /// account's balances, the symbol's rules.
    ///
    /// # Errors
    /// When the venue cannot be reached or does not list `symbol`.
    pub fn check(
        self,
        target: &VenueTarget,
        config: &Config,
        symbol: &str,
    ) -> anyhow::Result<CheckReport> {
        let section = config.venues.section(self.name());
        Ok(self.0.check(target, &section, symbol)?)
    }
}

impl fmt::Debug for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Venue").field(&self.name()).finish()
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The value parser of `--venue`: the registry's names, each with its
/// description in `--help`; any other name is refused with the list.
#[must_use]
pub fn parser() -> impl TypedValueParser<Value = Venue> {
    PossibleValuesParser::new(
        VENUES
            .factories()
            .iter()
            .map(|factory| PossibleValue::new(factory.name()).help(factory.description())),
    )
    .try_map(|name| {
        VENUES
            .find(&name)
            .map(Venue)
            .ok_or_else(|| VENUES.unknown(&name))
    })
}

/// The names `--venue` takes, for messages: `a|b`.
#[must_use]
pub fn names() -> String {
    VENUES.names().join("|")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Flags {
        #[arg(long, value_parser = parser())]
        venue: Venue,
    }

    #[test]
    fn venue_takes_the_registered_names_and_lists_them_otherwise() {
        for name in VENUES.names() {
            let flags = Flags::try_parse_from(["t", "--venue", name]).expect(name);
            assert_eq!(flags.venue.name(), name);
        }
        let error = Flags::try_parse_from(["t", "--venue", "nope"])
            .expect_err("unknown")
            .to_string();
        assert!(error.contains("nope"), "{error}");
        for name in VENUES.names() {
            assert!(error.contains(name), "lists {name}: {error}");
        }
    }
}
