//! Binance's rate limits on the venue kit's windows
//! ([`tesser_venue_kit::rate_limit`]): every interval that
//! `exchangeInfo.rateLimits` names (`REQUEST_WEIGHT` 1 minute; `ORDERS` 10
//! seconds and 1 day) becomes a window of its own, kept current from the
//! `X-MBX-USED-WEIGHT-<interval>` and `X-MBX-ORDER-COUNT-<interval>` headers;
//! a 429 blocks for its `Retry-After`, a 418 bans.
//!
//! A window is counted per interval of the venue's clock (a day window
//! resets at 00:00 UTC), so a limit reached today no longer holds tomorrow.
//! A 429 for the order count (`-1015`) holds back new orders only: cancels
//! do not count toward the order limits (`rest-api.md`, "Unfilled Order
//! Count") and still go out.

use std::time::Duration;

pub(crate) use tesser_venue_kit::rate_limit::OrderCount;
use tesser_venue_kit::rate_limit::Waits;
use tesser_venue_kit::rate_limit::{Banned, Block, Limits, Measure, Window};

use crate::error::BinanceError;
use crate::model::RateLimit;

use super::RestClient;

/// The policy of a request: order entry (new order, cancel, amend,
/// cancel-replace) never waits, since it is called from the run loop, which
/// must keep reading market data and events; reads may.
pub(super) fn waits_of(method: &reqwest::Method, path: &str) -> Waits {
    let order_entry = matches!(
        (method.as_str(), path),
        ("POST" | "DELETE", "/api/v3/order")
            | ("PUT", "/api/v3/order/amend/keepPriority")
            | ("POST", "/api/v3/order/cancelReplace")
    );
    if order_entry {
        Waits::Never
    } else {
        Waits::UpToMax
    }
}

/// The `-1015` code of a 429 for the order count (`errors.md`,
/// `TOO_MANY_ORDERS`).
pub(super) const TOO_MANY_ORDERS: i64 = -1015;

/// What a 429 with the venue's `code` holds back: with `-1015` new orders
/// only, else everything.
pub(super) const fn block_of(code: Option<i64>) -> Block {
    match code {
        Some(TOO_MANY_ORDERS) => Block::NewOrders,
        _ => Block::Everything,
    }
}

/// Binance's default weight limit until `exchangeInfo` says otherwise.
pub(super) fn default_limits() -> Limits {
    Limits::new(vec![Window::new(Measure::Weight, "1M", 60_000, 6000)])
}

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

/// The window of one `exchangeInfo.rateLimits` entry, if it is one this
/// client tracks.
fn window_of(limit: &RateLimit) -> Option<Window> {
    let measure = match limit.rate_limit_type.as_str() {
        "REQUEST_WEIGHT" => Measure::Weight,
        "ORDERS" => Measure::Orders,
        _ => return None,
    };
    Some(Window::new(
        measure,
        &limit.header_suffix(),
        interval_ms(limit),
        limit.limit,
    ))
}

/// The window a rate-limit header reports on, and its name.
fn header_window(name: &str) -> Option<(Measure, &str)> {
    if let Some(suffix) = name.strip_prefix("x-mbx-used-weight-") {
        Some((Measure::Weight, suffix))
    } else {
        name.strip_prefix("x-mbx-order-count-")
            .map(|suffix| (Measure::Orders, suffix))
    }
}

fn banned(banned: Banned) -> BinanceError {
    let retry_after = banned.retry_after;
    tracing::error!(?retry_after, "Binance IP ban in force: refusing to send");
    BinanceError::Banned { retry_after }
}

impl RestClient {
    /// Adopts the rate limits of `exchangeInfo`: every `REQUEST_WEIGHT` and
    /// `ORDERS` interval, each with its own window.
    pub fn set_rate_limits(&self, limits: &[RateLimit]) {
        let windows: Vec<Window> = limits.iter().filter_map(window_of).collect();
        self.lock_limits().set_windows(windows);
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
            .map_err(banned)
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
            .wait(weight, orders, self.server_now_ms())
            .map_err(banned)?;
        if wait.is_zero() {
            return Ok(());
        }
        if wait > waits.longest(self.max_wait) {
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
            let Some((measure, suffix)) = header_window(name.as_str()) else {
                continue;
            };
            let Some(used) = value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
            else {
                continue;
            };
            state.record(measure, suffix, used, server_now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binance_names_map_onto_the_kits_windows() {
        let limit: RateLimit = serde_json::from_str(
            r#"{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":160000}"#,
        )
        .unwrap();
        let window = window_of(&limit).unwrap();
        assert_eq!(
            (window.measure(), window.name()),
            (Measure::Orders, limit.header_suffix().as_str())
        );
        assert_eq!(
            header_window("x-mbx-order-count-10s"),
            Some((Measure::Orders, "10s"))
        );
        assert_eq!(
            header_window("x-mbx-used-weight-1m"),
            Some((Measure::Weight, "1m"))
        );
        assert_eq!(header_window("retry-after"), None);
        assert_eq!(block_of(Some(TOO_MANY_ORDERS)), Block::NewOrders);
        assert_eq!(block_of(Some(-1003)), Block::Everything);
        assert_eq!(block_of(None), Block::Everything);
        let post = reqwest::Method::POST;
        assert_eq!(waits_of(&post, "/api/v3/order"), Waits::Never);
        assert_eq!(
            waits_of(&reqwest::Method::GET, "/api/v3/order"),
            Waits::UpToMax
        );
    }
}
