//! `[venues.*]`: how to reach each live venue. Each table belongs to the
//! venue of that name in the `tesser-venues` registry, whose factory checks
//! every layer of it and reads the merged table. Keys never live here: they
//! come from the environment or a key file (see `docs/venues.md`).

use std::collections::BTreeMap;

use serde::Deserialize;
use tesser_venue_kit::Section;
use tesser_venues::VENUES;

use super::{ConfigError, invalid};

/// `[venues]`: one table per venue, named as `--venue` names it, merged
/// from every layer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct VenuesConfig(BTreeMap<String, Section>);

impl VenuesConfig {
    /// The merged `[venues.<name>]` table; empty when no layer has one, so
    /// the venue's defaults apply.
    #[must_use]
    pub fn section(&self, name: &str) -> Section {
        self.0.get(name).cloned().unwrap_or_default()
    }
}

/// `[venues]` of one layer.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(super) struct VenuesLayer(Section);

impl VenuesLayer {
    /// Checks the tables one layer sets, each by its venue's factory.
    pub(super) fn check(&self, source_name: &str) -> Result<(), ConfigError> {
        VENUES
            .check_layer(&self.0)
            .map_err(|error| invalid(source_name, error.to_string()))
    }
}

/// The `[venues.NAME]` table an environment variable's venue segment
/// (`BINANCE_SPOT`, lower-cased `binance_spot`) stands for. Venue names are
/// spelt with `-`, which variable names cannot hold.
pub(super) fn venue_of_env_segment(segment: &str) -> String {
    VENUES.find_by_env_segment(segment).map_or_else(
        || segment.replace('_', "-"),
        |venue| venue.name().to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::load;
    use super::super::tests::write;

    #[test]
    fn binance_spot_settings_layer_from_file_and_environment() {
        let config = load(None, Vec::new()).expect("defaults");
        let binance = config.venues.section("binance-spot");
        assert_eq!(
            binance
                .get("recv_window_ms")
                .and_then(toml::Value::as_integer),
            Some(5000)
        );
        assert_eq!(
            binance
                .get("request_timeout_ms")
                .and_then(toml::Value::as_integer),
            Some(10_000)
        );
        assert!(
            binance.get("rest_url").is_none(),
            "production or testnet unless set"
        );
        let file = write(
            "[venues.binance-spot]\nrest_url = \"http://127.0.0.1:9000\"\nrecv_window_ms = 3000\n",
        );
        let env = vec![
            (
                "TESSER_VENUES__BINANCE_SPOT__RECV_WINDOW_MS".to_owned(),
                "7000".to_owned(),
            ),
            (
                "TESSER_VENUES__BINANCE_SPOT__STALE_AFTER_MS".to_owned(),
                "2000".to_owned(),
            ),
        ];
        let config = load(Some(file.path()), env).expect("config");
        let binance = config.venues.section("binance-spot");
        assert_eq!(
            binance.get("rest_url").and_then(toml::Value::as_str),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(
            binance
                .get("recv_window_ms")
                .and_then(toml::Value::as_integer),
            Some(7000),
            "env beats file"
        );
        assert_eq!(
            binance
                .get("stale_after_ms")
                .and_then(toml::Value::as_integer),
            Some(2000)
        );
        assert!(config.venues.section("nope").is_empty());
    }

    #[test]
    fn bad_venue_values_name_the_key_and_the_file() {
        for (text, key) in [
            (
                "recv_window_ms = 60001",
                "venues.binance-spot.recv_window_ms",
            ),
            ("recv_window_ms = -5", "venues.binance-spot.recv_window_ms"),
            (
                "request_timeout_ms = 0",
                "venues.binance-spot.request_timeout_ms",
            ),
            ("stale_after_ms = 999", "venues.binance-spot.stale_after_ms"),
            (
                "rest_url = \"api.binance.com\"",
                "venues.binance-spot.rest_url",
            ),
            ("api_secret = \"x\"", "api_secret"),
        ] {
            let file = write(&format!("[venues.binance-spot]\n{text}\n"));
            let error = load(Some(file.path()), Vec::new())
                .expect_err(text)
                .to_string();
            let path = file.path().display().to_string();
            assert!(
                error.contains(key) && error.contains(&path),
                "{text}: {error}"
            );
            assert_eq!(error.lines().count(), 1, "{error}");
        }
    }

    #[test]
    fn unknown_venues_are_named_with_the_known_ones() {
        let file = write("[venues.nope]\nrest_url = \"http://127.0.0.1:1\"\n");
        let error = load(Some(file.path()), Vec::new())
            .expect_err("no such venue")
            .to_string();
        assert!(
            error.contains("venues.nope") && error.contains("binance-spot"),
            "{error}"
        );
        let env = vec![(
            "TESSER_VENUES__BINANCE_SPOT__STALE_AFTER_MS".to_owned(),
            "10".to_owned(),
        )];
        let error = load(None, env).expect_err("too short").to_string();
        assert!(
            error.contains("TESSER_VENUES__BINANCE_SPOT__STALE_AFTER_MS")
                && error.contains("venues.binance-spot.stale_after_ms"),
            "{error}"
        );
        assert_eq!(error.lines().count(), 1, "{error}");
    }
}
