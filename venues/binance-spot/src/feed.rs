//! [`BinanceFeed`]: the trade and book-ticker streams as a
//! [`tesser_core::MarketFeed`].

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use tesser_core::{BookLevel, FeedError, FeedEvent, MarketFeed, Quote};
use tokio::runtime::Runtime;

use crate::config::BinanceConfig;
use crate::model::BookTicker;
use crate::rest::local_now_ms;
use crate::ws_market::{MarketEvent, MarketStream, Streams};

/// The configured symbols' `<symbol>@trade` and `<symbol>@bookTicker`
/// streams as a [`MarketFeed`].
///
/// A [`MarketStream`] runs on the connector's runtime; a forwarding task
/// turns each [`MarketEvent::Trade`] into [`FeedEvent::Trade`], each
/// [`MarketEvent::BookTicker`] into [`FeedEvent::Quote`] (Binance Spot's book
/// ticker carries no time: the quote is stamped on arrival, on the venue's
/// clock), and each reconnect (connection 2 and later) into
/// [`FeedEvent::Reconnected`], and hands them over on a standard channel, so
/// [`MarketFeed::next_event`] blocks the calling thread (it must not be a
/// tokio worker) without spinning. The feed keeps the runtime alive; dropping
/// it stops the stream task. Drop it outside async code, like the connector.
pub struct BinanceFeed {
    name: String,
    receiver: mpsc::Receiver<FeedEvent>,
    /// Dropping it stops the stream task, which ends the forwarding task.
    /// (Fields drop in declaration order: the stream before the runtime.)
    _stream: MarketStream,
    /// The runtime the tasks run on.
    _runtime: Arc<Runtime>,
}

impl std::fmt::Debug for BinanceFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceFeed")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl BinanceFeed {
    /// Starts the trade and book-ticker streams of `config.symbols` on
    /// `runtime`; `clock_offset_ms` (venue minus local) stamps the quotes.
    pub(crate) fn start(
        runtime: &Arc<Runtime>,
        config: &BinanceConfig,
        clock_offset_ms: i64,
    ) -> Self {
        let (stream, mut events) = MarketStream::spawn(
            runtime.handle(),
            config,
            &config.symbols,
            Streams::TradesAndBookTicker,
        );
        let (sender, receiver) = mpsc::channel();
        runtime.spawn(async move {
            while let Some(event) = events.recv().await {
                let arrived_ms = local_now_ms().saturating_add(clock_offset_ms);
                let Some(event) = feed_event(event, arrived_ms) else {
                    continue;
                };
                if sender.send(event).is_err() {
                    return;
                }
            }
        });
        Self {
            name: feed_name(&config.name, &config.symbols),
            receiver,
            _stream: stream,
            _runtime: Arc::clone(runtime),
        }
    }
}

/// `binance-spot BTCUSDT@trade+bookTicker,ETHUSDT@trade+bookTicker`.
fn feed_name(venue: &str, symbols: &[String]) -> String {
    let streams: Vec<String> = symbols
        .iter()
        .map(|symbol| format!("{}@trade+bookTicker", symbol.to_ascii_uppercase()))
        .collect();
    format!("{venue} {}", streams.join(","))
}

/// The feed's view of a market event (the first connection is no news);
/// `arrived_ms` stamps a quote.
fn feed_event(event: MarketEvent, arrived_ms: i64) -> Option<FeedEvent> {
    match event {
        MarketEvent::Trade { tick, .. } => Some(FeedEvent::Trade(tick)),
        MarketEvent::BookTicker(ticker) => Some(FeedEvent::Quote(quote(ticker, arrived_ms))),
        MarketEvent::Connected { connection, gap_ms } if connection > 1 => {
            Some(FeedEvent::Reconnected { connection, gap_ms })
        }
        MarketEvent::Connected { .. } => None,
    }
}

/// A book ticker as a quote; a side Binance sends as zero is empty.
fn quote(ticker: BookTicker, timestamp_ms: i64) -> Quote {
    Quote {
        symbol: ticker.symbol.as_str().into(),
        bid: BookLevel::new(ticker.bid_price, ticker.bid_quantity),
        ask: BookLevel::new(ticker.ask_price, ticker.ask_quantity),
        timestamp_ms,
    }
}

impl MarketFeed for BinanceFeed {
    fn name(&self) -> &str {
        &self.name
    }

    fn next_event(&mut self, timeout: Duration) -> Result<Option<FeedEvent>, FeedError> {
        match self.receiver.recv_timeout(timeout) {
            Ok(event) => Ok(Some(event)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(FeedError::Closed {
                feed: self.name.clone(),
                reason: "the market stream task ended".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn names_list_every_stream() {
        assert_eq!(
            feed_name("binance-spot", &["BTCUSDT".into()]),
            "binance-spot BTCUSDT@trade+bookTicker"
        );
        assert_eq!(
            feed_name("binance-spot", &["BTCUSDT".into(), "ethusdt".into()]),
            "binance-spot BTCUSDT@trade+bookTicker,ETHUSDT@trade+bookTicker"
        );
    }

    #[test]
    fn trades_quotes_and_reconnects_pass() {
        let tick = tesser_core::Tick {
            symbol: "BTCUSDT".into(),
            price: dec!(1),
            size: dec!(2),
            aggressor: None,
            timestamp_ms: 3,
        };
        assert_eq!(
            feed_event(
                MarketEvent::Trade {
                    tick: tick.clone(),
                    trade_id: 1
                },
                9
            ),
            Some(FeedEvent::Trade(tick))
        );
        assert_eq!(
            feed_event(
                MarketEvent::Connected {
                    connection: 1,
                    gap_ms: None
                },
                9
            ),
            None
        );
        assert_eq!(
            feed_event(
                MarketEvent::Connected {
                    connection: 2,
                    gap_ms: Some(40)
                },
                9
            ),
            Some(FeedEvent::Reconnected {
                connection: 2,
                gap_ms: Some(40)
            })
        );
    }

    #[test]
    fn a_book_ticker_is_a_quote_stamped_on_arrival_and_a_zero_side_is_empty() {
        let ticker = BookTicker {
            update_id: 7,
            symbol: "BTCUSDT".into(),
            bid_price: dec!(100.25),
            bid_quantity: dec!(1.5),
            ask_price: dec!(0),
            ask_quantity: dec!(0),
        };
        assert_eq!(
            feed_event(MarketEvent::BookTicker(ticker), 1_700),
            Some(FeedEvent::Quote(Quote {
                symbol: "BTCUSDT".into(),
                bid: BookLevel::new(dec!(100.25), dec!(1.5)),
                ask: None,
                timestamp_ms: 1_700,
            }))
        );
    }
}
