//! Rate-limit bookkeeping: every interval that `exchangeInfo.rateLimits`
//! names (`REQUEST_WEIGHT` 1 minute; `ORDERS` 10 seconds and 1 day), each
//! with its own window and reset, kept current from the
//! `X-MBX-USED-WEIGHT-<interval>` and `X-MBX-ORDER-COUNT-<interval>` headers;
//! and the blocks a 429 or 418 imposes.
//!
//! A window is counted per interval of the venue's clock (a day window
//! resets at 00:00 UTC), so a limit reached today no longer holds tomorrow.
//! A 429 for the order count (`-1015`) holds back new orders only: cancels
//! do not count toward the order limits (`rest-api.md`, "Unfilled Order
//! Count") and still go out.

use std::time::{Duration, Instant};

use crate::error::BinanceError;
use crate::model::RateLimit;

use super::RestClient;

/// Whether a request counts toward the `ORDERS` rate limits
/// (`X-MBX-ORDER-COUNT-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderCount {
    /// It does not (queries, cancels, quantity-down amends).
    Uncounted,
    /// It does (new orders, cancel-replace).
    Counted,
}

/// Whether a request may wait for its rate-limit window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waits {
    /// Up to `max_rate_limit_wait` (reads: lookups, reconciles, start-up).
    UpToMax,
    /// Not at all: order entry (new order, cancel, amend, cancel-replace)
    /// is called from the run loop, which must keep reading market data and
    /// events; the runtime keeps the action waiting instead.
    Never,
}

impl Waits {
    /// The policy of a request: order entry never waits.
    pub(crate) fn of(method: &reqwest::Method, path: &str) -> Self {
        let order_entry = matches!(
            (method.as_str(), path),
            ("POST" | "DELETE", "/api/v3/order")
                | ("PUT", "/api/v3/order/amend/keepPriority")
                | ("POST", "/api/v3/order/cancelReplace")
        );
        if order_entry {
            Self::Never
        } else {
            Self::UpToMax
        }
    }
}

/// What a window counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counts {
    /// Request weight (`REQUEST_WEIGHT`, `X-MBX-USED-WEIGHT-*`).
    Weight,
    /// New orders (`ORDERS`, `X-MBX-ORDER-COUNT-*`).
    Orders,
}

/// One rate limit and what the venue says is used of it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Window {
    counts: Counts,
    /// The header suffix, e.g. `1M`, `10S`, `1D`.
    suffix: String,
    /// The interval's length on the venue's clock.
    interval_ms: i64,
    limit: u64,
    /// Used in window `index`.
    used: u64,
    /// Which interval (`server ms / interval_ms`) `used` belongs to.
    index: i64,
}

impl Window {
    fn new(counts: Counts, suffix: &str, interval_ms: i64, limit: u64) -> Self {
        Self {
            counts,
            suffix: suffix.to_owned(),
            interval_ms: interval_ms.max(1),
            limit,
            used: 0,
            index: i64::MIN,
        }
    }

    /// How long a request costing `cost` must wait at `server_now`: zero
    /// when the window has room; otherwise until the window resets.
    fn wait(&self, cost: u64, server_now: i64) -> Duration {
        let used = if self.index == server_now.div_euclid(self.interval_ms) {
            self.used
        } else {
            0
        };
        if used.saturating_add(cost) <= self.limit {
            return Duration::ZERO;
        }
        let rest = self.interval_ms - server_now.rem_euclid(self.interval_ms);
        Duration::from_millis(u64::try_from(rest).unwrap_or(0))
    }
}

/// The rate-limit state of one REST client.
#[derive(Debug)]
pub(super) struct Limits {
    windows: Vec<Window>,
    /// A 429 for the request weight: nothing is sent before this.
    blocked_until: Option<Instant>,
    /// A 429 for the order count (`-1015`): no new order before this.
    orders_blocked_until: Option<Instant>,
    /// A 418: nothing is sent before this.
    banned_until: Option<Instant>,
}

/// The `-1015` code of a 429 for the order count (`errors.md`,
/// `TOO_MANY_ORDERS`).
pub(super) const TOO_MANY_ORDERS: i64 = -1015;

/// The length of `interval_num` × `interval` (`SECOND`, `MINUTE`, `HOUR`,
/// `DAY`), milliseconds.
fn interval_ms(limit: &RateLimit) -> i64 {
    let unit: i64 = match limit.interval.as_str() {
        "SECOND" => 1_000,
        "MINUTE" => 60_000,
        "HOUR" => 3_600_000,
        _ => 86_400_000,
    };
    unit.saturating_mul(i64::from(limit.interval_num))
}

impl Limits {
    /// Binance's default weight limit until `exchangeInfo` says otherwise.
    pub(super) fn new() -> Self {
        Self {
            windows: vec![Window::new(Counts::Weight, "1M", 60_000, 6000)],
            blocked_until: None,
            orders_blocked_until: None,
            banned_until: None,
        }
    }

    /// A 429: the weight's block, or with `-1015` the order count's.
    pub(super) fn block(&mut self, code: Option<i64>, until: Instant) {
        if code == Some(TOO_MANY_ORDERS) {
            self.orders_blocked_until = Some(until);
        } else {
            self.blocked_until = Some(until);
        }
    }

    /// A 418: every request stops until `until`.
    pub(super) fn ban(&mut self, until: Instant) {
        self.banned_until = Some(until);
    }

    /// How long a request must wait, or why it cannot be sent.
    fn wait(
        &self,
        weight: u64,
        orders: OrderCount,
        server_now: i64,
    ) -> Result<Duration, BinanceError> {
        let now = Instant::now();
        if let Some(until) = self.banned_until
            && until > now
        {
            let retry_after = until - now;
            tracing::error!(?retry_after, "Binance IP ban in force: refusing to send");
            return Err(BinanceError::Banned { retry_after });
        }
        let remaining = |until: Option<Instant>| {
            until
                .filter(|until| *until > now)
                .map_or(Duration::ZERO, |until| until - now)
        };
        let mut wait = remaining(self.blocked_until);
        if orders == OrderCount::Counted {
            wait = wait.max(remaining(self.orders_blocked_until));
        }
        for window in &self.windows {
            let cost = match (window.counts, orders) {
                (Counts::Weight, _) => weight,
                (Counts::Orders, OrderCount::Counted) => 1,
                (Counts::Orders, OrderCount::Uncounted) => continue,
            };
            wait = wait.max(window.wait(cost, server_now));
        }
        Ok(wait)
    }
}

impl RestClient {
    /// Adopts the rate limits of `exchangeInfo`: every `REQUEST_WEIGHT` and
    /// `ORDERS` interval, each with its own window.
    pub fn set_rate_limits(&self, limits: &[RateLimit]) {
        let windows: Vec<Window> = limits
            .iter()
            .filter_map(|limit| {
                let counts = match limit.rate_limit_type.as_str() {
                    "REQUEST_WEIGHT" => Counts::Weight,
                    "ORDERS" => Counts::Orders,
                    _ => return None,
                };
                Some(Window::new(
                    counts,
                    &limit.header_suffix(),
                    interval_ms(limit),
                    limit.limit,
                ))
            })
            .collect();
        if windows.is_empty() {
            return;
        }
        self.lock_limits().windows = windows;
    }

    pub(super) fn lock_limits(&self) -> std::sync::MutexGuard<'_, Limits> {
        self.limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long a new order would wait for its windows now (zero when it
    /// could go at once): an amend that replaces its order checks this
    /// before it cancels anything, so a full order window never leaves an
    /// order cancelled without its replacement.
    ///
    /// # Errors
    /// [`BinanceError::Banned`] during an IP ban.
    pub(crate) fn new_order_wait(&self) -> Result<Duration, BinanceError> {
        self.lock_limits()
            .wait(1, OrderCount::Counted, self.server_now_ms())
    }

    /// Waits for the rate-limit windows (never, for `Waits::Never`), or
    /// fails unsent with [`BinanceError::RateLimited`].
    pub(super) async fn admit(
        &self,
        weight: u64,
        orders: OrderCount,
        waits: Waits,
    ) -> Result<(), BinanceError> {
        let wait = self
            .lock_limits()
            .wait(weight, orders, self.server_now_ms())?;
        if wait.is_zero() {
            return Ok(());
        }
        let longest = match waits {
            Waits::UpToMax => self.max_wait,
            Waits::Never => Duration::ZERO,
        };
        if wait > longest {
            return Err(BinanceError::RateLimited { retry_after: wait });
        }
        tracing::info!(?wait, "waiting for the rate-limit window");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// Takes what the venue says is used from an answer's headers.
    pub(super) fn record_headers(&self, headers: &reqwest::header::HeaderMap) {
        let server_now = self.server_now_ms();
        let mut state = self.lock_limits();
        for (name, value) in headers {
            let name = name.as_str();
            let (counts, suffix) = if let Some(suffix) = name.strip_prefix("x-mbx-used-weight-") {
                (Counts::Weight, suffix)
            } else if let Some(suffix) = name.strip_prefix("x-mbx-order-count-") {
                (Counts::Orders, suffix)
            } else {
                continue;
            };
            let Some(used) = value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
            else {
                continue;
            };
            if let Some(window) = state
                .windows
                .iter_mut()
                .find(|w| w.counts == counts && w.suffix.eq_ignore_ascii_case(suffix))
            {
                window.used = used;
                window.index = server_now.div_euclid(window.interval_ms);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn orders(limit: u64) -> Limits {
        Limits {
            windows: vec![
                Window::new(Counts::Weight, "1M", 60_000, 6000),
                Window::new(Counts::Orders, "10S", 10_000, 100),
                Window::new(Counts::Orders, "1D", DAY, limit),
            ],
            ..Limits::new()
        }
    }

    #[test]
    fn a_full_day_window_holds_until_midnight_then_resets() {
        let mut limits = orders(3);
        let before_midnight = 20 * DAY - 2_000;
        limits.windows[2].used = 3;
        limits.windows[2].index = before_midnight.div_euclid(DAY);
        let wait = limits
            .wait(1, OrderCount::Counted, before_midnight)
            .unwrap();
        assert_eq!(wait, Duration::from_millis(2_000));
        // Queries and cancels do not count toward the order limits.
        assert_eq!(
            limits
                .wait(1, OrderCount::Uncounted, before_midnight)
                .unwrap(),
            Duration::ZERO
        );
        // The next day the count starts again.
        assert_eq!(
            limits.wait(1, OrderCount::Counted, 20 * DAY + 1).unwrap(),
            Duration::ZERO
        );
    }

    #[test]
    fn a_429_for_the_order_count_does_not_hold_back_cancels() {
        let mut limits = orders(200_000);
        let until = Instant::now() + Duration::from_secs(30);
        limits.block(Some(TOO_MANY_ORDERS), until);
        assert!(limits.wait(1, OrderCount::Counted, 0).unwrap() > Duration::from_secs(29));
        assert_eq!(
            limits.wait(1, OrderCount::Uncounted, 0).unwrap(),
            Duration::ZERO
        );
        // A 429 for the weight holds back everything.
        limits.block(Some(-1003), until);
        assert!(limits.wait(1, OrderCount::Uncounted, 0).unwrap() > Duration::from_secs(29));
    }
}
