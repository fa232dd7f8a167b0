//! Rate-limit windows, and the blocks a venue imposes.
//!
//! A venue publishes its limits as windows: so much request weight, or so
//! many new orders, per interval (10 seconds, a minute, a day). Each
//! [`Window`] counts per interval of the venue's clock, aligned to the
//! epoch, so a day window resets at 00:00 UTC and a limit reached today no
//! longer holds tomorrow. The venue's answers say how much of each window
//! is used ([`Limits::record`]); a "too many requests" answer blocks either
//! everything or new orders only ([`Block`]); a ban stops every request.
//!
//! [`Limits::wait`] says how long a request must wait. It never sleeps:
//! the caller decides with [`Waits`] whether to wait or to refuse at once
//! (order entry must never hold up a run loop that reads market data).
//! Which requests count toward the order windows ([`OrderCount`]) and how
//! the venue names its windows and headers are the venue's.

use std::time::{Duration, Instant};

/// What a window counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Request weight: every request costs its weight.
    Weight,
    /// New orders: each counted request ([`OrderCount::Counted`]) costs one.
    Orders,
}

/// Whether a request counts toward the order windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderCount {
    /// It does not (queries, cancels, and whatever else the venue exempts).
    Uncounted,
    /// It does (new orders, and whatever else places one).
    Counted,
}

/// Whether a request may wait for its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waits {
    /// Up to the connector's longest wait (reads: lookups, reconciles).
    UpToMax,
    /// Not at all (order entry, called from the run loop): refuse unsent
    /// and let the runtime keep the action waiting.
    Never,
}

impl Waits {
    /// The longest this request may wait, `max` being the connector's.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tesser_venue_kit::rate_limit::Waits;
    ///
    /// let max = Duration::from_secs(5);
    /// assert_eq!(Waits::UpToMax.longest(max), max);
    /// assert_eq!(Waits::Never.longest(max), Duration::ZERO);
    /// ```
    #[must_use]
    pub const fn longest(self, max: Duration) -> Duration {
        match self {
            Self::UpToMax => max,
            Self::Never => Duration::ZERO,
        }
    }
}

/// What a "too many requests" answer holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// Every request (the weight is exhausted).
    Everything,
    /// Counted requests only (the order count is exhausted): cancels and
    /// queries still go.
    NewOrders,
}

/// The venue banned this client; nothing may be sent for `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("banned by the venue for another {retry_after:?}")]
pub struct Banned {
    /// How long the ban still holds.
    pub retry_after: Duration,
}

/// One rate limit and what the venue says is used of it.
///
/// ```
/// use std::time::Duration;
/// use tesser_venue_kit::rate_limit::{Measure, Window};
///
/// const DAY: i64 = 86_400_000;
/// let mut orders = Window::new(Measure::Orders, "1D", DAY, 3);
/// let before_midnight = 20 * DAY - 2_000;
/// orders.record(3, before_midnight);
/// // Full until the day ends at 00:00 UTC, empty after.
/// assert_eq!(orders.wait(1, before_midnight), Duration::from_millis(2_000));
/// assert_eq!(orders.wait(1, 20 * DAY), Duration::ZERO);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    measure: Measure,
    name: String,
    interval_ms: i64,
    limit: u64,
    /// Used in interval `index`.
    used: u64,
    /// Which interval (`server ms / interval_ms`) `used` belongs to.
    index: i64,
}

impl Window {
    /// A window of `limit` per `interval_ms` of the venue's clock, named
    /// `name` as the venue names it in its answers (such as `1M`, `10S`).
    #[must_use]
    pub fn new(measure: Measure, name: &str, interval_ms: i64, limit: u64) -> Self {
        Self {
            measure,
            name: name.to_owned(),
            interval_ms: interval_ms.max(1),
            limit,
            used: 0,
            index: i64::MIN,
        }
    }

    /// What the window counts.
    #[must_use]
    pub const fn measure(&self) -> Measure {
        self.measure
    }

    /// Its name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The venue says `used` of the window is used at `server_now` (ms).
    pub fn record(&mut self, used: u64, server_now: i64) {
        self.used = used;
        self.index = server_now.div_euclid(self.interval_ms);
    }

    /// How long a request costing `cost` must wait at `server_now`: zero
    /// when the window has room; otherwise until the window resets.
    #[must_use]
    pub fn wait(&self, cost: u64, server_now: i64) -> Duration {
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

/// The rate-limit state of one client: its windows and the blocks in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    windows: Vec<Window>,
    blocked_until: Option<Instant>,
    orders_blocked_until: Option<Instant>,
    banned_until: Option<Instant>,
}

impl Limits {
    /// `windows`, nothing used, nothing blocked.
    #[must_use]
    pub const fn new(windows: Vec<Window>) -> Self {
        Self {
            windows,
            blocked_until: None,
            orders_blocked_until: None,
            banned_until: None,
        }
    }

    /// Replaces the windows (the venue published its limits); blocks stay.
    /// An empty list leaves the windows as they are.
    pub fn set_windows(&mut self, windows: Vec<Window>) {
        if !windows.is_empty() {
            self.windows = windows;
        }
    }

    /// The venue says `used` of the window named `name` measuring `measure`
    /// is used (names compare ignoring ASCII case); unknown windows are
    /// ignored.
    pub fn record(&mut self, measure: Measure, name: &str, used: u64, server_now: i64) {
        if let Some(window) = self
            .windows
            .iter_mut()
            .find(|w| w.measure == measure && w.name.eq_ignore_ascii_case(name))
        {
            window.record(used, server_now);
        }
    }

    /// A "too many requests" answer: hold back what `block` says until
    /// `until`.
    pub fn block(&mut self, block: Block, until: Instant) {
        match block {
            Block::Everything => self.blocked_until = Some(until),
            Block::NewOrders => self.orders_blocked_until = Some(until),
        }
    }

    /// A ban: every request stops until `until`.
    pub fn ban(&mut self, until: Instant) {
        self.banned_until = Some(until);
    }

    /// How long a request of `weight` that `orders` must wait at
    /// `server_now` (the venue's clock, ms): the longest of the blocks in
    /// force and of every window it counts toward.
    ///
    /// # Errors
    /// [`Banned`] during a ban: the request must not be sent.
    pub fn wait(
        &self,
        weight: u64,
        orders: OrderCount,
        server_now: i64,
    ) -> Result<Duration, Banned> {
        let now = Instant::now();
        let remaining = |until: Option<Instant>| {
            until
                .filter(|until| *until > now)
                .map_or(Duration::ZERO, |until| until - now)
        };
        let banned = remaining(self.banned_until);
        if !banned.is_zero() {
            return Err(Banned {
                retry_after: banned,
            });
        }
        let mut wait = remaining(self.blocked_until);
        if orders == OrderCount::Counted {
            wait = wait.max(remaining(self.orders_blocked_until));
        }
        for window in &self.windows {
            let cost = match (window.measure, orders) {
                (Measure::Weight, _) => weight,
                (Measure::Orders, OrderCount::Counted) => 1,
                (Measure::Orders, OrderCount::Uncounted) => continue,
            };
            wait = wait.max(window.wait(cost, server_now));
        }
        Ok(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn orders(limit: u64) -> Limits {
        Limits::new(vec![
            Window::new(Measure::Weight, "1M", 60_000, 6000),
            Window::new(Measure::Orders, "10S", 10_000, 100),
            Window::new(Measure::Orders, "1D", DAY, limit),
        ])
    }

    #[test]
    fn a_full_day_window_holds_until_midnight_then_resets() {
        let mut limits = orders(3);
        let before_midnight = 20 * DAY - 2_000;
        limits.record(Measure::Orders, "1d", 3, before_midnight);
        let wait = limits
            .wait(1, OrderCount::Counted, before_midnight)
            .unwrap();
        assert_eq!(wait, Duration::from_millis(2_000));
        // Uncounted requests do not count toward the order limits.
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
    fn a_block_for_new_orders_does_not_hold_back_the_others() {
        let mut limits = orders(200_000);
        let until = Instant::now() + Duration::from_secs(30);
        limits.block(Block::NewOrders, until);
        assert!(limits.wait(1, OrderCount::Counted, 0).unwrap() > Duration::from_secs(29));
        assert_eq!(
            limits.wait(1, OrderCount::Uncounted, 0).unwrap(),
            Duration::ZERO
        );
        limits.block(Block::Everything, until);
        assert!(limits.wait(1, OrderCount::Uncounted, 0).unwrap() > Duration::from_secs(29));
    }

    #[test]
    fn the_weight_counts_for_every_request_and_a_ban_refuses() {
        let mut limits = orders(10);
        limits.record(Measure::Weight, "1M", 5_990, 30_000);
        assert_eq!(
            limits.wait(20, OrderCount::Uncounted, 30_000).unwrap(),
            Duration::from_millis(30_000)
        );
        assert_eq!(
            limits.wait(10, OrderCount::Uncounted, 30_000).unwrap(),
            Duration::ZERO
        );
        // Unknown windows and an empty list change nothing.
        limits.record(Measure::Orders, "1H", 10, 0);
        limits.set_windows(Vec::new());
        assert_eq!(limits, {
            let mut same = orders(10);
            same.record(Measure::Weight, "1M", 5_990, 30_000);
            same
        });
        limits.ban(Instant::now() + Duration::from_secs(60));
        assert!(limits.wait(0, OrderCount::Uncounted, 0).is_err());
    }
}
