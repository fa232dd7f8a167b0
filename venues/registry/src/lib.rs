//! The live venues the `tesser` command knows: one factory per venue crate,
//! listed once in [`VENUES`].
//!
//! `--venue NAME`, `[venues.NAME]` (and its `TESSER_VENUES__NAME__KEY`
//! variables), `tesser live run` and `tesser venue check` all look venues up
//! here, so adding a venue is a crate under `venues/` with a
//! [`VenueFactory`](tesser_venue_kit::VenueFactory), a dependency below, and
//! one line in [`VENUES`]. Nothing else names a venue.
#![deny(missing_docs)]

use tesser_venue_binance::BinanceSpotFactory;
pub use tesser_venue_kit::{Registry, VenueFactory};

/// Every live venue, in the order `--help` lists them.
pub static VENUES: Registry = Registry::new(&[
    // One line per venue.
    &BinanceSpotFactory,
]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_spelt_for_flags_and_tables() {
        let names = VENUES.names();
        assert!(!names.is_empty());
        for (i, name) in names.iter().enumerate() {
            assert!(
                !name.is_empty()
                    && !name.starts_with('-')
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{name}: lower case, digits and '-' only"
            );
            assert!(!names[..i].contains(name), "{name} registered twice");
            let factory = VENUES.find(name).expect("found by its name");
            assert_eq!(factory.name(), *name);
            assert!(!factory.description().is_empty());
            let segment = tesser_venue_kit::section::env_segment(name);
            assert_eq!(
                VENUES.find_by_env_segment(&segment).map(|f| f.name()),
                Some(*name)
            );
        }
        assert!(VENUES.find("nope").is_none());
        assert!(VENUES.unknown("nope").contains("binance-spot"));
    }

    #[test]
    fn every_venue_accepts_an_empty_table() {
        for factory in VENUES.factories() {
            factory
                .check_section(&tesser_venue_kit::Section::new())
                .unwrap_or_else(|e| panic!("{}: {e}", factory.name()));
        }
    }
}
