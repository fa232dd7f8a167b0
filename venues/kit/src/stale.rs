//! Silence detection for WebSocket connections.
//!
//! A half-open TCP connection (the peer vanished without a FIN) delivers no
//! frame and no error, so a task that waits only for the next frame waits
//! for ever. Venues ping their WebSocket clients regularly (Binance every 20
//! seconds), so a live connection is never silent for long: a [`Watchdog`]
//! that sees no frame at all (data, ping or pong) for its `after` declares
//! the connection dropped. [`crate::ws::run`] keeps one per connection.

use std::time::Duration;

use tokio::time::Instant;

/// The deadline by which a connection must deliver its next frame.
///
/// ```
/// use std::time::Duration;
/// use tesser_venue_kit::stale::Watchdog;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let mut watchdog = Watchdog::new(Duration::from_secs(60));
/// tokio::time::sleep(Duration::from_secs(30)).await;
/// watchdog.saw_frame(); // alive for another 60 s
/// watchdog.expired().await; // completes 60 s after the frame
/// assert!(watchdog.reason().contains("60000 ms"));
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Watchdog {
    after: Duration,
    deadline: Instant,
}

impl Watchdog {
    /// A watchdog that expires `after` from now unless a frame is seen.
    #[must_use]
    pub fn new(after: Duration) -> Self {
        Self {
            after,
            deadline: Instant::now() + after,
        }
    }

    /// A frame arrived: the connection is alive for another `after`.
    pub fn saw_frame(&mut self) {
        self.deadline = Instant::now() + self.after;
    }

    /// Completes when the deadline passes without a frame.
    pub async fn expired(&self) {
        tokio::time::sleep_until(self.deadline).await;
    }

    /// Why the connection is being dropped, for the log.
    #[must_use]
    pub fn reason(&self) -> String {
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
