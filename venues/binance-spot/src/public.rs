//! [`BinancePublic`]: the venue without keys, for paper trading on live
//! data.

use std::collections::HashMap;
use std::sync::Arc;

use tesser_core::Instrument;
use tokio::runtime::Runtime;

use crate::config::BinanceConfig;
use crate::error::BinanceError;
use crate::feed::BinanceFeed;
use crate::rest::RestClient;
use crate::startup;

/// Public market data and symbol rules, without API keys.
///
/// It calls only public endpoints (`GET /api/v3/time`,
/// `GET /api/v3/exchangeInfo`, the market streams): its REST client has no
/// credentials, so no order or account endpoint can be called through it.
/// It owns a tokio runtime; do not use it from inside another one.
pub struct BinancePublic {
    config: BinanceConfig,
    rest: RestClient,
    instruments: HashMap<String, Instrument>,
    runtime: Arc<Runtime>,
}

impl std::fmt::Debug for BinancePublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinancePublic")
            .field("name", &self.config.name)
            .field("symbols", &self.config.symbols)
            .finish_non_exhaustive()
    }
}

impl BinancePublic {
    /// Connects without keys: measures the server-time offset and loads
    /// `exchangeInfo` for every configured symbol.
    ///
    /// # Errors
    /// [`BinanceError::Config`] without symbols or when the runtime cannot
    /// start; [`BinanceError::Startup`] (one line with the fix) when the
    /// endpoint cannot be reached or a symbol is not listed.
    pub fn connect(config: BinanceConfig) -> Result<Self, BinanceError> {
        if config.symbols.is_empty() {
            return Err(BinanceError::Config("no symbols configured".into()));
        }
        let runtime = Arc::new(crate::exchange::runtime()?);
        let rest = runtime.block_on(async { RestClient::public(&config) })?;
        let instruments = runtime.block_on(async {
            startup::sync_clock(&config.name, &rest).await?;
            startup::load_instruments(&config.name, &rest, &config.symbols).await
        })?;
        let instruments = instruments
            .into_iter()
            .map(|(symbol, (instrument, _))| (symbol, instrument))
            .collect();
        Ok(Self {
            config,
            rest,
            instruments,
            runtime,
        })
    }

    /// The instrument rules loaded from `exchangeInfo`.
    #[must_use]
    pub fn instrument(&self, symbol: &str) -> Option<Instrument> {
        self.instruments.get(symbol).cloned()
    }

    /// The server-time offset measured at connect (server minus local),
    /// milliseconds.
    #[must_use]
    pub fn clock_offset_ms(&self) -> i64 {
        self.rest.offset_ms()
    }

    /// The trade and book-ticker streams of the configured symbols, on this venue's runtime
    /// (which the feed keeps alive).
    #[must_use]
    pub fn market_feed(&self) -> BinanceFeed {
        BinanceFeed::start(&self.runtime, &self.config, self.clock_offset_ms())
    }

    /// The settings.
    #[must_use]
    pub const fn config(&self) -> &BinanceConfig {
        &self.config
    }
}
