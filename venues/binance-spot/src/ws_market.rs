//! Market data: `<symbol>@trade` and `<symbol>@bookTicker` on the combined
//! market stream (`web-socket-streams.md`: `/stream?streams=a/b`, events
//! wrapped as `{"stream":"<name>","data":<payload>}`, symbols lower case,
//! connections closed at 24 hours).
//!
//! The task is the venue kit's WebSocket session ([`tesser_venue_kit::ws`]):
//! it reconnects and resubscribes (the stream list is in the URL) after
//! a drop, a silence of [`stale_after`](crate::config::BinanceConfig::stale_after)
//! (no frame, not even a ping), a `serverShutdown`, or the planned reconnect
//! interval; it logs the
//! gap between the last trade before and the first after, and never crashes.

use tesser_venue_kit::ws::{
    self, Ack, End, SessionConfig, SessionHooks, SessionStatus, Subscription,
};
use tokio::sync::{mpsc, watch};

use crate::config::BinanceConfig;
use crate::model::{BookTicker, TradeEvent};

/// Something the market stream delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketEvent {
    /// A trade print.
    Trade {
        /// The print.
        tick: tesser_core::Tick,
        /// Binance's trade id.
        trade_id: i64,
    },
    /// Best bid and ask.
    BookTicker(BookTicker),
    /// The stream (re)connected; `gap_ms` is the time since the last event
    /// before the drop, when there was one.
    Connected {
        /// Connections so far, this one included.
        connection: u64,
        /// Milliseconds without data.
        gap_ms: Option<i64>,
    },
}

/// Which streams of each symbol to subscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streams {
    /// `<symbol>@trade` only.
    Trades,
    /// `<symbol>@trade` and `<symbol>@bookTicker`.
    TradesAndBookTicker,
}

/// A running market stream; dropping it stops the task.
#[derive(Debug)]
pub struct MarketStream {
    shutdown: watch::Sender<bool>,
}

impl MarketStream {
    /// Starts streaming `symbols` on `handle`; events arrive on the returned
    /// receiver.
    #[must_use]
    pub fn spawn(
        handle: &tokio::runtime::Handle,
        config: &BinanceConfig,
        symbols: &[String],
        streams: Streams,
    ) -> (Self, mpsc::UnboundedReceiver<MarketEvent>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let (shutdown, watcher) = watch::channel(false);
        let url = stream_url(&config.endpoints.market_stream_base, symbols, streams);
        handle.spawn(run(url, config.clone(), sender, watcher));
        (Self { shutdown }, receiver)
    }
}

impl Drop for MarketStream {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// The combined stream URL for `symbols`.
#[must_use]
pub fn stream_url(base: &str, symbols: &[String], streams: Streams) -> String {
    let mut names = Vec::new();
    for symbol in symbols {
        let lower = symbol.to_ascii_lowercase();
        names.push(format!("{lower}@trade"));
        if streams == Streams::TradesAndBookTicker {
            names.push(format!("{lower}@bookTicker"));
        }
    }
    format!(
        "{}/stream?streams={}",
        base.trim_end_matches('/'),
        names.join("/")
    )
}

/// Parses one combined-stream message.
///
/// # Errors
/// A description when the message is not a known stream payload.
pub fn parse_message(text: &str) -> Result<Option<MarketEvent>, String> {
    #[derive(serde::Deserialize)]
    struct Combined {
        stream: String,
        data: serde_json::Value,
    }
    let combined: Combined = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if combined.stream.ends_with("@trade") {
        let trade: TradeEvent = serde_json::from_value(combined.data).map_err(|e| e.to_string())?;
        return Ok(Some(MarketEvent::Trade {
            tick: trade.to_tick(),
            trade_id: trade.trade_id,
        }));
    }
    if combined.stream.ends_with("@bookTicker") {
        let ticker: BookTicker =
            serde_json::from_value(combined.data).map_err(|e| e.to_string())?;
        return Ok(Some(MarketEvent::BookTicker(ticker)));
    }
    Ok(None)
}

/// Binance's part of the market session: the streams are named in the URL,
/// so connecting subscribes; every connection is announced with the gap
/// since the last event; a `serverShutdown` reconnects.
struct MarketHooks {
    sender: mpsc::UnboundedSender<MarketEvent>,
    connection: u64,
    last_event_ms: Option<i64>,
}

impl SessionHooks for MarketHooks {
    fn subscribe(&mut self) -> Result<Option<String>, End> {
        Ok(None)
    }

    async fn on_ack_frame(&mut self, _text: &str) -> Ack {
        Ack::Subscribed
    }

    async fn on_subscribed(&mut self, _subscription: Subscription) -> Result<(), End> {
        self.connection += 1;
        let connection = self.connection;
        let gap_ms = self
            .last_event_ms
            .map(|last| crate::rest::local_now_ms() - last);
        if let Some(gap) = gap_ms {
            tracing::warn!(
                gap_ms = gap,
                connection,
                "market stream reconnected after a gap"
            );
        }
        self.sender
            .send(MarketEvent::Connected { connection, gap_ms })
            .map_err(|_| End::Stop)
    }

    fn on_frame(&mut self, text: &str) -> Result<(), End> {
        if text.contains("\"serverShutdown\"") {
            return Err(End::Reconnect("serverShutdown".to_owned()));
        }
        match parse_message(text) {
            Ok(Some(event)) => {
                self.last_event_ms = Some(crate::rest::local_now_ms());
                self.sender.send(event).map_err(|_| End::Stop)
            }
            Ok(None) => Ok(()),
            Err(error) => {
                tracing::warn!(error, "unreadable market message");
                Ok(())
            }
        }
    }

    fn finished(&self) -> bool {
        self.sender.is_closed()
    }
}

async fn run(
    url: String,
    config: BinanceConfig,
    sender: mpsc::UnboundedSender<MarketEvent>,
    shutdown: watch::Receiver<bool>,
) {
    let session = SessionConfig::new("market stream", url)
        .connect_timeout(config.connect_timeout)
        .stale_after(config.stale_after)
        .reconnect_after(config.market_reconnect_after)
        .backoff(config.reconnect_min, config.reconnect_max);
    let mut hooks = MarketHooks {
        sender,
        connection: 0,
        last_event_ms: None,
    };
    ws::run(&session, &SessionStatus::default(), &mut hooks, shutdown).await;
}
