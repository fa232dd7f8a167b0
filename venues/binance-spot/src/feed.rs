//! [`BinanceFeed`]: the trade stream as a [`tesser_core::MarketFeed`].

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use tesser_core::{FeedError, FeedEvent, MarketFeed};
use tokio::runtime::Runtime;

use crate::config::BinanceConfig;
use crate::ws_market::{MarketEvent, MarketStream, Streams};

/// The configured symbols' `<symbol>@trade` streams as a
/// [`MarketFeed`].
///
/// A [`MarketStream`] (book ticker off) runs on the connector's runtime; a
/// forwarding task turns each [`MarketEvent::Trade`] into
/// [`FeedEvent::Trade`] and each reconnect (connection 2 and later) into
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
    /// Starts the trade streams of `config.symbols` on `runtime`.
    pub(crate) fn start(runtime: &Arc<Runtime>, config: &BinanceConfig) -> Self {
        let (stream, mut events) =
            MarketStream::spawn(runtime.handle(), config, &config.symbols, Streams::Trades);
        let (sender, receiver) = mpsc::channel();
        runtime.spawn(async move {
            while let Some(event) = events.recv().await {
                let Some(event) = feed_event(event) else {
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

/// `binance-spot BTCUSDT@trade,ETHUSDT@trade`.
fn feed_name(venue: &str, symbols: &[String]) -> String {
    let streams: Vec<String> = symbols
        .iter()
        .map(|symbol| format!("{}@trade", symbol.to_ascii_uppercase()))
        .collect();
    format!("{venue} {}", streams.join(","))
}

/// The feed's view of a market event: trades and reconnects only.
fn feed_event(event: MarketEvent) -> Option<FeedEvent> {
    match event {
        MarketEvent::Trade { tick, .. } => Some(FeedEvent::Trade(tick)),
        MarketEvent::Connected { connection, gap_ms } if connection > 1 => {
            Some(FeedEvent::Reconnected { connection, gap_ms })
        }
        MarketEvent::Connected { .. } | MarketEvent::BookTicker(_) => None,
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
            "binance-spot BTCUSDT@trade"
        );
        assert_eq!(
            feed_name("binance-spot", &["BTCUSDT".into(), "ethusdt".into()]),
            "binance-spot BTCUSDT@trade,ETHUSDT@trade"
        );
    }

    #[test]
    fn only_trades_and_reconnects_pass() {
        let tick = tesser_core::Tick {
            symbol: "BTCUSDT".into(),
            price: dec!(1),
            size: dec!(2),
            aggressor: None,
            timestamp_ms: 3,
        };
        assert_eq!(
            feed_event(MarketEvent::Trade {
                tick: tick.clone(),
                trade_id: 1
            }),
            Some(FeedEvent::Trade(tick))
        );
        assert_eq!(
            feed_event(MarketEvent::Connected {
                connection: 1,
                gap_ms: None
            }),
            None
        );
        assert_eq!(
            feed_event(MarketEvent::Connected {
                connection: 2,
                gap_ms: Some(40)
            }),
            Some(FeedEvent::Reconnected {
                connection: 2,
                gap_ms: Some(40)
            })
        );
    }
}
