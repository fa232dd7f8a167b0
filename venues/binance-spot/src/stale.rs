//! Silence detection for WebSocket connections.
//!
//! A half-open TCP connection (the peer vanished without a FIN) delivers no
//! frame and no error, so a task that waits only for the next frame waits
//! for ever. Binance pings every 20 seconds on both the WebSocket API and the
//! market streams (`web-socket-api.md`, `web-socket-streams.md`), so a live
//! connection is never silent for long: a [`Watchdog`] that sees no frame at
//! all (data, ping or pong) for [`BinanceConfig::stale_after`] declares the
//! connection dropped.
//!
//! [`BinanceConfig::stale_after`]: crate::config::BinanceConfig::stale_after

use std::time::Duration;

use tokio::time::Instant;

/// The deadline by which a connection must deliver its next frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Watchdog {
    after: Duration,
    deadline: Instant,
}

impl Watchdog {
    /// A watchdog that expires `after` from now unless a frame is seen.
    pub(crate) fn new(after: Duration) -> Self {
        Self {
            after,
            deadline: Instant::now() + after,
        }
    }

    /// A frame arrived: the connection is alive for another `after`.
    pub(crate) fn saw_frame(&mut self) {
        self.deadline = Instant::now() + self.after;
    }

    /// Completes when the deadline passes without a frame.
    pub(crate) async fn expired(&self) {
        tokio::time::sleep_until(self.deadline).await;
    }

    /// Why the connection is being dropped, for the log.
    pub(crate) fn reason(&self) -> String {
        format!(
            "no frame (data, ping or pong) for {} ms (stale_after_ms); treating the connection as dropped",
            self.after.as_millis()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_frame_moves_the_deadline() {
        let mut watchdog = Watchdog::new(Duration::from_secs(60));
        tokio::time::advance(Duration::from_secs(59)).await;
        watchdog.saw_frame();
        tokio::time::advance(Duration::from_secs(59)).await;
        // 118 s after the start, but 59 s after the last frame: not expired.
        let expired = tokio::time::timeout(Duration::from_millis(1), watchdog.expired()).await;
        assert!(expired.is_err());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(
            tokio::time::timeout(Duration::from_millis(1), watchdog.expired())
                .await
                .is_ok()
        );
        assert!(watchdog.reason().contains("60000 ms"));
    }
}
