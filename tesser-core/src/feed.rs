//! The interface every live market-data source implements.

use std::time::Duration;

use crate::{Quote, Tick};

/// Something a live market-data feed delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    /// A trade print.
    Trade(Tick),
    /// The top of the book changed.
    Quote(Quote),
    /// The feed connected again after a drop (or a planned reconnect); the
    /// prints of the gap were not delivered.
    Reconnected {
        /// Connections so far, this one included.
        connection: u64,
        /// Milliseconds between the last print before the drop and the
        /// reconnect, when there was a print before.
        gap_ms: Option<i64>,
    },
}

/// Why a feed stopped for good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// The feed cannot go on (its task ended, the venue banned the client,
    /// …). A dropped connection is not this: feeds reconnect on their own.
    #[error("market data feed {feed} closed: {reason}")]
    Closed {
        /// The feed's name.
        feed: String,
        /// Why.
        reason: String,
    },
}

/// A live source of market data: a venue's trade stream.
///
/// Unlike a file, a live feed never ends on its own; the caller waits on it
/// with a timeout, so it can poll the exchange and fire timers between
/// prints.
///
/// ```
/// use std::time::Duration;
/// use tesser_core::{FeedError, FeedEvent, MarketFeed, Tick};
///
/// /// A feed that has nothing to say.
/// struct Quiet;
///
/// impl MarketFeed for Quiet {
///     fn name(&self) -> &str {
///         "quiet"
///     }
///     fn next_event(&mut self, _timeout: Duration) -> Result<Option<FeedEvent>, FeedError> {
///         Ok(None)
///     }
/// }
///
/// let mut feed = Quiet;
/// assert_eq!(feed.next_event(Duration::ZERO), Ok(None));
/// ```
pub trait MarketFeed: Send {
    /// A description for logs, e.g. `binance-spot BTCUSDT@trade`.
    fn name(&self) -> &str;

    /// Waits up to `timeout` for the next event; `Ok(None)` when none came.
    ///
    /// # Errors
    /// [`FeedError::Closed`] when the feed cannot deliver anything any more.
    fn next_event(&mut self, timeout: Duration) -> Result<Option<FeedEvent>, FeedError>;
}

impl<F: MarketFeed + ?Sized> MarketFeed for Box<F> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn next_event(&mut self, timeout: Duration) -> Result<Option<FeedEvent>, FeedError> {
        (**self).next_event(timeout)
    }
}
