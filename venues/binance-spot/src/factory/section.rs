//! `[venues.binance-spot]`: how to reach Binance Spot and how patient to
//! be. Keys never live here: they come from the environment or a key file
//! (see [`crate::sign`]).

use std::time::Duration;

use serde::Deserialize;
use tesser_venue_kit::section::{self, Section, SectionError};

use crate::config::{BinanceConfig, Endpoints};

/// The name of the venue and of its table.
pub(crate) const NAME: &str = "binance-spot";

/// `[venues.binance-spot]`, merged from every layer; a key no layer sets
/// keeps its default.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct BinanceSpotSection {
    /// REST base URL; unset: production, or the testnet with `--testnet`.
    pub rest_url: Option<String>,
    /// WebSocket API URL (user data); unset as above.
    pub ws_api_url: Option<String>,
    /// Market stream base URL; unset as above.
    pub stream_url: Option<String>,
    /// `recvWindow` of signed requests, milliseconds.
    pub recv_window_ms: u64,
    /// Longest one REST request may take, milliseconds.
    pub request_timeout_ms: u64,
    /// A WebSocket connection silent this long (no data, no ping, no pong)
    /// is treated as dropped, milliseconds ([`BinanceConfig::stale_after`]).
    pub stale_after_ms: u64,
}

impl Default for BinanceSpotSection {
    fn default() -> Self {
        Self {
            rest_url: None,
            ws_api_url: None,
            stream_url: None,
            recv_window_ms: 5000,
            request_timeout_ms: 10_000,
            stale_after_ms: 60_000,
        }
    }
}

/// One layer of the table: every key optional. Integers are signed, so that
/// a negative value gets the range error rather than a type error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BinanceSpotLayer {
    rest_url: Option<String>,
    ws_api_url: Option<String>,
    stream_url: Option<String>,
    recv_window_ms: Option<i64>,
    request_timeout_ms: Option<i64>,
    stale_after_ms: Option<i64>,
}

/// Checks the keys one layer sets.
pub(crate) fn check_layer(layer: &Section) -> Result<(), SectionError> {
    let layer: BinanceSpotLayer = section::parse(NAME, layer)?;
    // `recvWindow` is at most 60000 (Binance's rest-api.md, timing security).
    section::check_range(
        NAME,
        "recv_window_ms",
        layer.recv_window_ms,
        1..=60_000,
        "milliseconds; Binance allows at most 60000",
    )?;
    section::check_range(
        NAME,
        "request_timeout_ms",
        layer.request_timeout_ms,
        1..=600_000,
        "milliseconds",
    )?;
    // Binance pings every 20 s and drops a client silent for a minute
    // (web-socket-api.md, web-socket-streams.md): a live connection is
    // never silent for 20 s; below a second even a busy one would be.
    section::check_range(
        NAME,
        "stale_after_ms",
        layer.stale_after_ms,
        1_000..=600_000,
        "milliseconds; Binance pings every 20 s, so keep it above 20000 on a real venue",
    )?;
    for (key, value) in [
        ("rest_url", &layer.rest_url),
        ("ws_api_url", &layer.ws_api_url),
        ("stream_url", &layer.stream_url),
    ] {
        section::check_url_key(NAME, key, value.as_deref())?;
    }
    Ok(())
}

impl BinanceSpotSection {
    /// The merged table as settings: checked as a layer, then the keys it
    /// lacks defaulted.
    ///
    /// # Errors
    /// An unknown key, a value of the wrong type or out of range, one line
    /// naming the key.
    pub fn from_section(table: &Section) -> Result<Self, SectionError> {
        check_layer(table)?;
        section::parse(NAME, table)
    }

    /// The connector's settings for `symbols` on `endpoints`, with this
    /// table's URLs over them and its timing.
    #[must_use]
    pub fn connector_settings(&self, endpoints: Endpoints, symbols: &[String]) -> BinanceConfig {
        let mut endpoints = endpoints;
        if let Some(url) = &self.rest_url {
            endpoints.rest_base.clone_from(url);
        }
        if let Some(url) = &self.ws_api_url {
            endpoints.ws_api_url.clone_from(url);
        }
        if let Some(url) = &self.stream_url {
            endpoints.market_stream_base.clone_from(url);
        }
        let mut settings = BinanceConfig::new(
            endpoints,
            symbols.iter().map(|s| s.to_ascii_uppercase()).collect(),
        );
        settings.recv_window_ms = self.recv_window_ms;
        settings.request_timeout = Duration::from_millis(self.request_timeout_ms);
        settings.stale_after = Duration::from_millis(self.stale_after_ms);
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Section {
        text.parse().expect("TOML")
    }

    #[test]
    fn an_empty_table_gives_the_defaults() {
        let section = BinanceSpotSection::from_section(&Section::new()).expect("defaults");
        assert_eq!(section, BinanceSpotSection::default());
        let settings = section.connector_settings(Endpoints::production(), &["btcusdt".into()]);
        assert_eq!(settings.recv_window_ms, 5000);
        assert_eq!(settings.request_timeout, Duration::from_secs(10));
        assert_eq!(settings.stale_after, Duration::from_secs(60));
        assert_eq!(settings.symbols, ["BTCUSDT"]);
        assert_eq!(settings.endpoints, Endpoints::production());
    }

    #[test]
    fn keys_set_the_connector_settings() {
        let section = BinanceSpotSection::from_section(&table(
            "rest_url = \"http://127.0.0.1:9000\"\nstream_url = \"ws://127.0.0.1:9001\"\n\
             recv_window_ms = 3000\nrequest_timeout_ms = 2500\nstale_after_ms = 1500\n",
        ))
        .expect("valid");
        let settings = section.connector_settings(Endpoints::testnet(), &["BTCUSDT".into()]);
        assert_eq!(settings.endpoints.rest_base, "http://127.0.0.1:9000");
        assert_eq!(settings.endpoints.market_stream_base, "ws://127.0.0.1:9001");
        assert_eq!(
            settings.endpoints.ws_api_url,
            Endpoints::testnet().ws_api_url,
            "unset keys keep the network's URL"
        );
        assert_eq!(settings.recv_window_ms, 3000);
        assert_eq!(settings.request_timeout, Duration::from_millis(2500));
        assert_eq!(settings.stale_after, Duration::from_millis(1500));
    }

    #[test]
    fn bad_values_get_one_line_naming_the_key_and_the_bound() {
        for (text, key, says) in [
            (
                "recv_window_ms = 60001",
                "recv_window_ms",
                "from 1 to 60000",
            ),
            ("recv_window_ms = -5", "recv_window_ms", "got -5"),
            (
                "request_timeout_ms = 0",
                "request_timeout_ms",
                "from 1 to 600000",
            ),
            (
                "stale_after_ms = 999",
                "stale_after_ms",
                "from 1000 to 600000",
            ),
            (
                "stale_after_ms = 600001",
                "stale_after_ms",
                "pings every 20 s",
            ),
            ("rest_url = \"api.binance.com\"", "rest_url", "not a URL"),
            ("api_secret = \"x\"", "api_secret", "unknown field"),
            (
                "stale_after_ms = \"soon\"",
                "venues.binance-spot",
                "invalid type",
            ),
        ] {
            let error = BinanceSpotSection::from_section(&table(text))
                .expect_err(text)
                .to_string();
            assert!(
                error.starts_with("venues.binance-spot") && error.contains(key),
                "{text}: {error}"
            );
            assert!(error.contains(says), "{text}: {error}");
            assert_eq!(error.lines().count(), 1, "{error}");
        }
        let error = check_layer(&table("stale_after_ms = 999")).expect_err("too short");
        assert_eq!(error.bad_key(), Some("stale_after_ms"));
    }
}
