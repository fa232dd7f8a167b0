//! Rate-limit bookkeeping: the `X-MBX-USED-WEIGHT-1M` and
//! `X-MBX-ORDER-COUNT-10S/1D` headers against `exchangeInfo.rateLimits`,
//! and the blocks a 429 or 418 imposes.

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

#[derive(Debug)]
pub(super) struct Limits {
    pub(super) weight_per_minute: u64,
    pub(super) orders_per_10s: Option<u64>,
    pub(super) orders_per_day: Option<u64>,
    pub(super) used_weight: u64,
    /// Server minute (ms / 60000) of `used_weight`.
    pub(super) weight_minute: i64,
    pub(super) orders_10s: u64,
    /// Server 10 s window of `orders_10s`.
    pub(super) orders_window: i64,
    pub(super) orders_day: u64,
    pub(super) blocked_until: Option<Instant>,
    pub(super) banned_until: Option<Instant>,
}

impl Limits {
    /// Binance's default weight limit until `exchangeInfo` says otherwise.
    pub(super) const fn new() -> Self {
        Self {
            weight_per_minute: 6000,
            orders_per_10s: None,
            orders_per_day: None,
            used_weight: 0,
            weight_minute: 0,
            orders_10s: 0,
            orders_window: 0,
            orders_day: 0,
            blocked_until: None,
            banned_until: None,
        }
    }
}

impl RestClient {
    /// Adopts the rate limits of `exchangeInfo`.
    pub fn set_rate_limits(&self, limits: &[RateLimit]) {
        let mut state = self.lock_limits();
        for limit in limits {
            match (
                limit.rate_limit_type.as_str(),
                limit.header_suffix().as_str(),
            ) {
                ("REQUEST_WEIGHT", "1M") => state.weight_per_minute = limit.limit,
                ("ORDERS", "10S") => state.orders_per_10s = Some(limit.limit),
                ("ORDERS", "1D") => state.orders_per_day = Some(limit.limit),
                _ => {}
            }
        }
    }

    pub(super) fn lock_limits(&self) -> std::sync::MutexGuard<'_, Limits> {
        self.limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for the rate-limit windows, or fails unsent.
    pub(super) async fn admit(&self, weight: u64, orders: OrderCount) -> Result<(), BinanceError> {
        let wait = {
            let state = self.lock_limits();
            let now = Instant::now();
            if let Some(until) = state.banned_until
                && until > now
            {
                let retry_after = until - now;
                tracing::error!(?retry_after, "Binance IP ban in force: refusing to send");
                return Err(BinanceError::Banned { retry_after });
            }
            let mut wait = Duration::ZERO;
            if let Some(until) = state.blocked_until
                && until > now
            {
                wait = until - now;
            }
            let server_now = self.server_now_ms();
            if state.weight_minute == server_now.div_euclid(60_000)
                && state.used_weight + weight > state.weight_per_minute
            {
                let rest = 60_000 - server_now.rem_euclid(60_000);
                wait = wait.max(Duration::from_millis(u64::try_from(rest).unwrap_or(0)));
            }
            if orders == OrderCount::Counted {
                if let Some(limit) = state.orders_per_10s
                    && state.orders_window == server_now.div_euclid(10_000)
                    && state.orders_10s >= limit
                {
                    let rest = 10_000 - server_now.rem_euclid(10_000);
                    wait = wait.max(Duration::from_millis(u64::try_from(rest).unwrap_or(0)));
                }
                if let Some(limit) = state.orders_per_day
                    && state.orders_day >= limit
                {
                    return Err(BinanceError::NotSent(format!(
                        "daily order limit {limit} reached"
                    )));
                }
            }
            wait
        };
        if wait.is_zero() {
            return Ok(());
        }
        if wait > self.max_wait {
            return Err(BinanceError::RateLimited { retry_after: wait });
        }
        tracing::info!(?wait, "waiting for the rate-limit window");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    pub(super) fn record_headers(&self, headers: &reqwest::header::HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .and_then(|text| text.trim().parse::<u64>().ok())
        };
        let server_now = self.server_now_ms();
        let mut state = self.lock_limits();
        if let Some(used) = number("x-mbx-used-weight-1m") {
            state.used_weight = used;
            state.weight_minute = server_now.div_euclid(60_000);
        }
        if let Some(count) = number("x-mbx-order-count-10s") {
            state.orders_10s = count;
            state.orders_window = server_now.div_euclid(10_000);
        }
        if let Some(count) = number("x-mbx-order-count-1d") {
            state.orders_day = count;
        }
    }
}
