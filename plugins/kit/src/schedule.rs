//! A scheduled slicer: releases the parent quantity bucket by bucket over a
//! duration, then finishes whatever is left at market. TWAP (equal buckets)
//! and VWAP (buckets weighted by a volume profile) are both this engine with
//! a different schedule.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tesser_wasm::{
    PluginError, PluginFill, PluginInitContext, PluginLogLevel, PluginOrderType, PluginOrderUpdate,
    PluginResult, PluginTick,
};

use crate::orders::ChildOrders;
pub use crate::orders::REJECTION_BACKOFF_MS;

/// Most orders one callback places (a guard against a runaway loop).
const MAX_ORDERS_PER_STEP: usize = 100;

/// The cumulative quantity due by the end of each bucket, for buckets of
/// weights `weights`: `target × (w₀ + … + wᵢ) / Σw`, rounded down to `lot`,
/// the last exactly `target`.
///
/// ```
/// use rust_decimal::Decimal;
/// use tesser_plugin_kit::schedule::cumulative_due;
/// let due = cumulative_due(Decimal::TEN, &[Decimal::ONE; 3], Decimal::new(1, 4));
/// assert_eq!(due, [Decimal::new(3_3333, 4), Decimal::new(6_6666, 4), Decimal::TEN]);
/// ```
#[must_use]
pub fn cumulative_due(target: Decimal, weights: &[Decimal], lot: Decimal) -> Vec<Decimal> {
    let total: Decimal = weights.iter().sum();
    let rules = tesser_wasm::PluginInstrument {
        lot_size: lot,
        ..Default::default()
    };
    let mut running = Decimal::ZERO;
    let mut due = Vec::with_capacity(weights.len());
    for (i, weight) in weights.iter().enumerate() {
        running += weight;
        if i + 1 == weights.len() || total <= Decimal::ZERO {
            due.push(target);
        } else {
            due.push(
                rules
                    .round_quantity_down(target * running / total)
                    .min(target),
            );
        }
    }
    due
}

/// `value` rounded up to the `lot` grid (unchanged when the lot is zero).
#[must_use]
pub fn round_up_to_lot(value: Decimal, lot: Decimal) -> Decimal {
    let rules = tesser_wasm::PluginInstrument {
        lot_size: lot,
        ..Default::default()
    };
    let down = rules.round_quantity_down(value);
    if down < value { down + lot } else { down }
}

/// The slicer's whole state; the plugins built on it snapshot it as is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Algorithm name for log lines (`twap`, `vwap`).
    pub name: String,
    /// Total quantity to execute.
    pub target: Decimal,
    /// Host clock at `init`, ms: the start of the first bucket.
    pub start_ms: i64,
    /// Length of the schedule, ms.
    pub duration_ms: i64,
    /// Cumulative quantity due by the end of each bucket (last = target).
    pub due: Vec<Decimal>,
    /// Largest child order.
    pub max_child: Decimal,
    /// Order type of the scheduled orders (the catch-up is always market).
    pub order_type: PluginOrderType,
    /// Last trade price seen.
    pub last_price: Decimal,
    /// Latest host clock seen (init, ticks, timers), ms.
    pub now_ms: i64,
    /// The bucket the slicer last worked in.
    pub bucket: Option<usize>,
    /// Whether the duration is over and the rest goes at market.
    pub catching_up: bool,
    /// No new orders before this time (after a rejection), ms.
    pub hold_until_ms: i64,
    /// Child orders and fills.
    pub orders: ChildOrders,
}

impl Schedule {
    /// A slicer for the signal in `ctx`, of `due.len()` equal buckets over
    /// `duration_ms` (the caller checked the params).
    #[must_use]
    pub fn new(
        name: &str,
        ctx: &PluginInitContext,
        duration_ms: i64,
        due: Vec<Decimal>,
        max_child: Decimal,
        order_type: PluginOrderType,
    ) -> Self {
        Self {
            name: name.to_owned(),
            target: ctx.signal.target_quantity,
            start_ms: ctx.now_ms,
            duration_ms,
            due,
            max_child,
            order_type,
            last_price: ctx.risk.last_price,
            now_ms: ctx.now_ms,
            bucket: None,
            catching_up: false,
            hold_until_ms: i64::MIN,
            orders: ChildOrders::new(
                &ctx.algorithm_id,
                &ctx.signal.symbol,
                ctx.signal.side,
                ctx.risk.instrument.clone(),
                ctx.risk.max_order_quantity,
            ),
        }
    }

    /// The bucket `now_ms` falls in, or `None` once the duration is over.
    #[must_use]
    pub fn bucket_at(&self, now_ms: i64) -> Option<usize> {
        let elapsed = now_ms.saturating_sub(self.start_ms).max(0);
        if elapsed >= self.duration_ms || self.due.is_empty() {
            return None;
        }
        let buckets = i128::try_from(self.due.len()).unwrap_or(i128::MAX);
        let index = i128::from(elapsed) * buckets / i128::from(self.duration_ms.max(1));
        usize::try_from(index).ok()
    }

    /// Quantity still to fill.
    #[must_use]
    pub fn remaining(&self) -> Decimal {
        self.target - self.orders.filled
    }

    /// Starts the schedule: places the first bucket's orders.
    pub fn start(&mut self) -> PluginResult {
        let result = PluginResult::new().log(format!(
            "{} {:?} {} {} over {} ms in {} buckets, child orders up to {}",
            self.name,
            self.orders.side,
            self.target,
            self.orders.symbol,
            self.duration_ms,
            self.due.len(),
            self.max_child
        ));
        self.step(result)
    }

    /// A trade print: new last price and clock.
    pub fn on_tick(&mut self, tick: &PluginTick) -> PluginResult {
        if tick.price > Decimal::ZERO {
            self.last_price = tick.price;
        }
        self.now_ms = self.now_ms.max(tick.timestamp_ms);
        self.step(PluginResult::new())
    }

    /// A timer heartbeat with the host's clock.
    pub fn on_timer(&mut self, now_ms: i64) -> PluginResult {
        self.now_ms = self.now_ms.max(now_ms);
        self.step(PluginResult::new())
    }

    /// A fill: completes the algorithm once the target is filled.
    pub fn on_fill(&mut self, fill: &PluginFill) -> PluginResult {
        self.orders.on_fill(fill);
        self.now_ms = self.now_ms.max(fill.timestamp_ms);
        self.finish_if_done(PluginResult::new())
    }

    /// An order update: a closed order frees its quantity for the schedule;
    /// a refused one holds new orders back for [`REJECTION_BACKOFF_MS`].
    pub fn on_order_update(&mut self, update: &PluginOrderUpdate) -> PluginResult {
        self.now_ms = self.now_ms.max(update.timestamp_ms);
        self.orders
            .on_update_with_backoff(update, self.now_ms, &mut self.hold_until_ms)
            .unwrap_or_else(|| self.step(PluginResult::new()))
    }

    /// The state as JSON.
    ///
    /// # Errors
    /// It cannot be serialized (it always can).
    pub fn snapshot(&self) -> Result<serde_json::Value, PluginError> {
        crate::snapshot_of(self)
    }

    /// Writes the [`snapshot`](Self::snapshot) as JSON text.
    ///
    /// # Errors
    /// [`PluginError::internal`] when the state cannot be serialized.
    pub fn write_snapshot(&self, out: &mut Vec<u8>) -> Result<(), PluginError> {
        crate::write_snapshot_of(self, out)
    }

    /// A slicer rebuilt from a [`snapshot`](Self::snapshot).
    ///
    /// # Errors
    /// [`PluginError::invalid_state`] when the JSON is not one.
    pub fn restore(snapshot: serde_json::Value, name: &str) -> Result<Self, PluginError> {
        let state: Self = crate::restore_from(snapshot, name)?;
        if state.name != name {
            return Err(PluginError::invalid_state(format!(
                "not a {name} snapshot: it is a '{}' snapshot",
                state.name
            )));
        }
        Ok(state)
    }

    fn finish_if_done(&self, result: PluginResult) -> PluginResult {
        if self.remaining() > Decimal::ZERO {
            return result;
        }
        let average = self
            .orders
            .average_price()
            .map_or_else(String::new, |price| format!(" at an average {price}"));
        result
            .log(format!(
                "{} done: {} filled{average}",
                self.name, self.orders.filled
            ))
            .completed()
    }

    /// Places what the schedule wants now.
    fn step(&mut self, mut result: PluginResult) -> PluginResult {
        result = self.finish_if_done(result);
        if result.is_completed()
            || self.now_ms < self.hold_until_ms
            || self.last_price <= Decimal::ZERO
        {
            return result;
        }
        let now = self.now_ms;
        match self.bucket_at(now) {
            Some(bucket) => {
                if self.bucket != Some(bucket) {
                    self.bucket = Some(bucket);
                    // A new bucket: bring resting orders back to the market.
                    let price = self.orders.passive_price(self.last_price);
                    result = result.with_orders(self.orders.reprice_all(price, now));
                }
                let due = self.due.get(bucket).copied().unwrap_or(self.target);
                self.release(result, due, self.order_type)
            }
            None => {
                if !self.catching_up {
                    self.catching_up = true;
                    result = result
                        .log(format!(
                            "{} duration over with {} unfilled: the rest goes at market",
                            self.name,
                            self.remaining()
                        ))
                        .with_orders(self.orders.cancel_all(Some(PluginOrderType::Limit)));
                }
                result = self.release(result, self.target, PluginOrderType::Market);
                let free = self.target - self.orders.committed();
                if self.orders.open.is_empty()
                    && free > Decimal::ZERO
                    && self.orders.tradable(free, self.last_price).is_zero()
                {
                    // What is left cannot be traded (below the lot or the
                    // instrument's minimums): stop here.
                    return result
                        .with_log(
                            PluginLogLevel::Warn,
                            format!(
                                "{} done: {free} left unfilled, below the instrument's minimum order",
                                self.name
                            ),
                        )
                        .completed();
                }
                result
            }
        }
    }

    /// Places orders of up to `max_child` until `due` is committed.
    fn release(
        &mut self,
        mut result: PluginResult,
        due: Decimal,
        order_type: PluginOrderType,
    ) -> PluginResult {
        let mut free = due.min(self.target) - self.orders.committed();
        for _ in 0..MAX_ORDERS_PER_STEP {
            if free <= Decimal::ZERO {
                break;
            }
            let quantity = self
                .orders
                .tradable(free.min(self.max_child), self.last_price);
            if quantity.is_zero() {
                break;
            }
            let price = (order_type == PluginOrderType::Limit)
                .then(|| self.orders.passive_price(self.last_price));
            result = result.with_order(self.orders.place(
                order_type,
                quantity,
                price,
                None,
                self.now_ms,
            ));
            free -= quantity;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_due_is_rounded_down_and_ends_at_the_target() {
        let lot = Decimal::new(1, 4);
        let weights = [Decimal::from(3), Decimal::ONE, Decimal::from(3)];
        let due = cumulative_due(Decimal::TEN, &weights, lot);
        assert_eq!(
            due,
            [
                Decimal::new(4_2857, 4),
                Decimal::new(5_7142, 4),
                Decimal::TEN
            ]
        );
    }

    #[test]
    fn rounding_up_to_the_lot() {
        let lot = Decimal::new(1, 4);
        assert_eq!(
            round_up_to_lot(Decimal::new(3_33333, 5), lot),
            Decimal::new(3_3334, 4)
        );
        assert_eq!(round_up_to_lot(Decimal::ONE, lot), Decimal::ONE);
        assert_eq!(
            round_up_to_lot(Decimal::new(12345, 5), Decimal::ZERO),
            Decimal::new(12345, 5)
        );
    }

    #[test]
    fn buckets_split_the_duration_evenly() {
        let schedule = Schedule {
            start_ms: 1_000,
            duration_ms: 10_000,
            due: vec![Decimal::ONE; 10],
            ..Schedule::default()
        };
        assert_eq!(schedule.bucket_at(0), Some(0));
        assert_eq!(schedule.bucket_at(1_999), Some(0));
        assert_eq!(schedule.bucket_at(2_000), Some(1));
        assert_eq!(schedule.bucket_at(10_999), Some(9));
        assert_eq!(schedule.bucket_at(11_000), None);
    }
}
