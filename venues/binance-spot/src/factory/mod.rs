//! [`BinanceSpotFactory`]: `--venue binance-spot`, configured from
//! `[venues.binance-spot]` ([`BinanceSpotSection`]) and the flags, as a
//! [`VenueFactory`].

mod report;
mod section;

use tesser_venue_kit::endpoint::{check_url, http_base, websocket_base};
use tesser_venue_kit::{
    CheckReport, MarketVenue, Network, Section, SectionError, TradingVenue, VenueError,
    VenueFactory, VenueTarget, instruments_of,
};

pub use self::section::BinanceSpotSection;
use self::section::NAME;
use crate::config::{BinanceConfig, Endpoints};
use crate::exchange::BinanceSpot;
use crate::public::BinancePublic;
use crate::sign::Credentials;

/// The Binance Spot venue, as the runtime's registry lists it.
#[derive(Debug, Clone, Copy, Default)]
pub struct BinanceSpotFactory;

impl BinanceSpotFactory {
    /// Every endpoint from one base URL (`--endpoint`): REST at the base,
    /// the WebSocket API at `/ws-api/v3` and the streams at the root of the
    /// same host, over `ws` for `http` and `wss` for `https`. This is how the
    /// twin serves them.
    ///
    /// # Errors
    /// [`VenueError::Input`] naming `--endpoint` when `base` is not a URL.
    pub fn one_base(&self, base: &str) -> Result<Endpoints, VenueError> {
        check_url(base).map_err(|why| VenueError::Input(format!("--endpoint: {why}")))?;
        let ws_base = websocket_base(base);
        Ok(Endpoints {
            rest_base: http_base(base),
            ws_api_url: format!("{ws_base}/ws-api/v3"),
            market_stream_base: ws_base,
        })
    }

    /// The connector's settings: endpoints from `--endpoint`, else the
    /// table's URLs, else the network's; timing from the table.
    ///
    /// # Errors
    /// A bad table or `--endpoint`.
    pub fn settings(
        &self,
        target: &VenueTarget,
        table: &Section,
        symbols: &[String],
    ) -> Result<BinanceConfig, VenueError> {
        let section = BinanceSpotSection::from_section(table)?;
        let network = match target.network {
            Network::Production => Endpoints::production(),
            Network::Testnet => Endpoints::testnet(),
        };
        let mut settings = section.connector_settings(network, symbols);
        if let Some(base) = &target.endpoint {
            settings.endpoints = self.one_base(base)?;
        }
        Ok(settings)
    }
}

fn credentials() -> Result<Credentials, VenueError> {
    Credentials::from_env().map_err(|error| {
        VenueError::Keys(format!(
            "{NAME} keys: {error} (or pass --paper to trade on paper with the venue's market data, no keys needed)"
        ))
    })
}

impl VenueFactory for BinanceSpotFactory {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Binance Spot ([venues.binance-spot]; keys from TESSER_BINANCE_API_KEY with \
         TESSER_BINANCE_API_SECRET or TESSER_BINANCE_PRIVATE_KEY_FILE)"
    }

    fn check_section(&self, layer: &Section) -> Result<(), SectionError> {
        section::check_layer(layer)
    }

    fn connect_trading(
        &self,
        target: &VenueTarget,
        section: &Section,
        symbols: &[String],
    ) -> Result<TradingVenue, VenueError> {
        let settings = self.settings(target, section, symbols)?;
        let credentials = credentials()?;
        let venue = BinanceSpot::connect(settings, credentials)
            .map_err(|e| VenueError::connect(NAME, e))?;
        let instruments = instruments_of(NAME, symbols, |s| venue.instrument(s))?;
        let feed = venue.market_feed();
        Ok(TradingVenue {
            clock_offset_ms: venue.clock_offset_ms(),
            feed: Box::new(feed),
            instruments,
            exchange: Box::new(venue),
        })
    }

    fn connect_market(
        &self,
        target: &VenueTarget,
        section: &Section,
        symbols: &[String],
    ) -> Result<MarketVenue, VenueError> {
        let settings = self.settings(target, section, symbols)?;
        let venue = BinancePublic::connect(settings).map_err(|e| VenueError::connect(NAME, e))?;
        let instruments = instruments_of(NAME, symbols, |s| venue.instrument(s))?;
        Ok(MarketVenue {
            feed: Box::new(venue.market_feed()),
            instruments,
            clock_offset_ms: venue.clock_offset_ms(),
        })
    }

    fn check(
        &self,
        target: &VenueTarget,
        section: &Section,
        symbol: &str,
    ) -> Result<CheckReport, VenueError> {
        let symbol = symbol.to_ascii_uppercase();
        let settings = self.settings(target, section, std::slice::from_ref(&symbol))?;
        report::check(settings, &symbol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_base_gives_every_endpoint_on_the_same_host() {
        let factory = BinanceSpotFactory;
        let endpoints = factory.one_base("http://127.0.0.1:4567/").expect("a URL");
        assert_eq!(endpoints.rest_base, "http://127.0.0.1:4567");
        assert_eq!(endpoints.ws_api_url, "ws://127.0.0.1:4567/ws-api/v3");
        assert_eq!(endpoints.market_stream_base, "ws://127.0.0.1:4567");
        let secure = factory.one_base("https://venue.example").expect("a URL");
        assert_eq!(secure.ws_api_url, "wss://venue.example/ws-api/v3");
        let error = factory.one_base("127.0.0.1:4567").expect_err("no scheme");
        assert!(error.to_string().starts_with("--endpoint: "), "{error}");
    }

    #[test]
    fn the_endpoint_flag_wins_over_the_table_and_the_network() {
        let table: Section = "rest_url = \"http://127.0.0.1:9000\"\nrecv_window_ms = 7000"
            .parse()
            .expect("TOML");
        let mut target = VenueTarget::new(Network::Testnet);
        let settings = BinanceSpotFactory
            .settings(&target, &table, &["btcusdt".into()])
            .expect("settings");
        assert_eq!(settings.endpoints.rest_base, "http://127.0.0.1:9000");
        assert_eq!(
            settings.endpoints.market_stream_base,
            Endpoints::testnet().market_stream_base
        );
        target.endpoint = Some("http://127.0.0.1:4567".into());
        let settings = BinanceSpotFactory
            .settings(&target, &table, &["btcusdt".into()])
            .expect("settings");
        assert_eq!(settings.endpoints.rest_base, "http://127.0.0.1:4567");
        assert_eq!(settings.recv_window_ms, 7000, "timing still from the table");
    }
}
