//! Market data: `<symbol>@trade` and `<symbol>@bookTicker` on the combined
//! market stream (`web-socket-streams.md`: `/stream?streams=a/b`, events
//! wrapped as `{"stream":"<name>","data":<payload>}`, symbols lower case,
//! connections closed at 24 hours).
//!
//! The task reconnects and resubscribes (the stream list is in the URL) after
//! a drop, a silence of [`stale_after`](crate::config::BinanceConfig::stale_after)
//! (no frame, not even a ping), a `serverShutdown`, or the planned reconnect
//! interval; it logs the
//! gap between the last trade before and the first after, and never crashes.

use std::time::Duration;

use futures_util::StreamExt as _;
use tesser_venue_kit::backoff;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::config::BinanceConfig;
use crate::model::{BookTicker, TradeEvent};
use crate::stale::Watchdog;

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

async fn run(
    url: String,
    config: BinanceConfig,
    sender: mpsc::UnboundedSender<MarketEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut attempt = 0u32;
    let mut connection = 0u64;
    let mut last_event_ms: Option<i64> = None;
    loop {
        if *shutdown.borrow() || sender.is_closed() {
            return;
        }
        let connect = tokio::time::timeout(
            config.connect_timeout,
            tokio_tungstenite::connect_async(url.as_str()),
        );
        let mut socket = match connect.await {
            Ok(Ok((socket, _))) => socket,
            Ok(Err(error)) => {
                let delay = backoff(attempt, config.reconnect_min, config.reconnect_max);
                attempt = attempt.saturating_add(1);
                tracing::warn!(%error, ?delay, "market stream connect failed");
                tokio::select! { () = tokio::time::sleep(delay) => continue, _ = shutdown.changed() => return }
            }
            Err(_) => {
                let delay = backoff(attempt, config.reconnect_min, config.reconnect_max);
                attempt = attempt.saturating_add(1);
                tokio::select! { () = tokio::time::sleep(delay) => continue, _ = shutdown.changed() => return }
            }
        };
        attempt = 0;
        connection += 1;
        let gap_ms = last_event_ms.map(|last| crate::rest::local_now_ms() - last);
        if let Some(gap) = gap_ms {
            tracing::warn!(
                gap_ms = gap,
                connection,
                "market stream reconnected after a gap"
            );
        }
        if sender
            .send(MarketEvent::Connected { connection, gap_ms })
            .is_err()
        {
            return;
        }
        let planned = tokio::time::sleep(config.market_reconnect_after);
        tokio::pin!(planned);
        let mut watchdog = Watchdog::new(config.stale_after);
        let reason = loop {
            tokio::select! {
                _ = shutdown.changed() => { let _ = socket.close(None).await; return; }
                () = &mut planned => { let _ = socket.close(None).await; break "planned reconnect".to_owned(); }
                // Half-open: a close would wait on a peer that is gone.
                () = watchdog.expired() => break watchdog.reason(),
                message = socket.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        watchdog.saw_frame();
                        if text.as_str().contains("\"serverShutdown\"") {
                            break "serverShutdown".to_owned();
                        }
                        match parse_message(text.as_str()) {
                            Ok(Some(event)) => {
                                last_event_ms = Some(crate::rest::local_now_ms());
                                if sender.send(event).is_err() { return; }
                            }
                            Ok(None) => {}
                            Err(error) => tracing::warn!(error, "unreadable market message"),
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => break "connection closed".to_owned(),
                    Some(Err(error)) => break format!("connection error: {error}"),
                    // Pings, pongs and binary frames show the connection lives.
                    Some(Ok(_)) => watchdog.saw_frame(),
                }
            }
        };
        tracing::warn!(reason, "market stream ended; reconnecting");
        let delay = if reason == "planned reconnect" {
            Duration::ZERO
        } else {
            backoff(0, config.reconnect_min, config.reconnect_max)
        };
        tokio::select! { () = tokio::time::sleep(delay) => {}, _ = shutdown.changed() => return }
    }
}
