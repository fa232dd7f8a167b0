//! # tesser-plugin-iceberg
//!
//! An iceberg: shows only `display_quantity` of the parent order at a time,
//! as one limit order, and replenishes it each time that visible clip has
//! filled, until the whole parent quantity is done.
//!
//! The clip's price is `limit_price` when the params give one (the algorithm
//! then never pays more, for a buy, or receives less, for a sell, and waits
//! for the market as long as it takes). Without it, the clip is pegged to the
//! market: placed at the last trade price, and every new clip at the last
//! price of its time; with `repeg_after_ms`, a clip that has rested that long
//! without filling completely is moved to the last price too, so the iceberg
//! follows a market that runs away from it.
//!
//! No working order is ever larger than `display_quantity` (rounded down to
//! the lot). A refused clip is retried after a one-second back-off.
//!
//! Params: see the crate's `README.md` and [`Iceberg::metadata`]'s schema:
//! `{"display_quantity": "0.5", "repeg_after_ms": 30000}`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tesser_plugin_kit::orders::ChildOrders;
use tesser_plugin_kit::params::{Params, object_schema, positive_decimal_schema};
#[cfg(feature = "export")]
use tesser_wasm::export_plugin;
use tesser_wasm::{
    ExecutionPlugin, PluginError, PluginFill, PluginInitContext, PluginLogLevel, PluginMetadata,
    PluginOrderType, PluginOrderUpdate, PluginResult, PluginTick, PluginTimer,
};

pub use tesser_plugin_kit::orders::REJECTION_BACKOFF_MS;

/// Longest `repeg_after_ms` accepted: one day.
pub const MAX_REPEG_MS: i64 = 24 * 60 * 60 * 1_000;

/// The names of the params, for the unknown-param check.
const PARAMS: &[&str] = &["display_quantity", "limit_price", "repeg_after_ms"];

/// Re-peg interval of a pegged clip when the params name none: 30 s.
pub const DEFAULT_REPEG_MS: i64 = 30_000;

/// The checked params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcebergParams {
    /// Visible quantity, on the lot grid.
    pub display_quantity: Decimal,
    /// Fixed limit price, on the tick grid; pegged to the market when absent.
    pub limit_price: Option<Decimal>,
    /// Re-peg a resting clip after this long, ms (pegged mode only).
    pub repeg_after_ms: Option<i64>,
}

impl IcebergParams {
    /// Reads and checks the params against the signal's instrument.
    ///
    /// # Errors
    /// [`PluginError::invalid_params`] naming the param at fault.
    pub fn parse(ctx: &PluginInitContext) -> Result<Self, PluginError> {
        let params = Params::new(&ctx.params, PARAMS)?;
        let rules = &ctx.risk.instrument;
        let display = match params.positive_decimal("display_quantity")? {
            Some(display) => display,
            // A tenth of the target, but never below the smallest order.
            None => (ctx.signal.target_quantity / Decimal::TEN)
                .max(rules.min_quantity)
                .max(rules.lot_size),
        };
        let display_quantity = rules.round_quantity_down(display);
        if display_quantity <= Decimal::ZERO || display_quantity < rules.min_quantity {
            return Err(PluginError::invalid_params(format!(
                "display_quantity {display} is below the instrument's smallest order (lot {}, min quantity {})",
                rules.lot_size, rules.min_quantity
            )));
        }
        let limit_price = params.positive_decimal("limit_price")?;
        let limit_price = limit_price.map(|price| {
            let down = rules.round_price_down(price);
            match ctx.signal.side {
                tesser_wasm::PluginSide::Sell if down < price => down + rules.tick_size,
                _ => down,
            }
        });
        if let Some(price) = limit_price
            && price <= Decimal::ZERO
        {
            return Err(PluginError::invalid_params(format!(
                "limit_price rounds to {price} on the tick grid of {}",
                rules.tick_size
            )));
        }
        let repeg_after_ms = params.integer_in("repeg_after_ms", 1, MAX_REPEG_MS)?;
        if repeg_after_ms.is_some() && limit_price.is_some() {
            return Err(PluginError::invalid_params(
                "repeg_after_ms only applies without limit_price (a fixed price is never re-pegged)",
            ));
        }
        // A pegged clip follows the market by default.
        let repeg_after_ms = match limit_price {
            Some(_) => None,
            None => Some(repeg_after_ms.unwrap_or(DEFAULT_REPEG_MS)),
        };
        let price = limit_price.unwrap_or(ctx.risk.last_price);
        if price > Decimal::ZERO && display_quantity * price < rules.min_notional {
            return Err(PluginError::invalid_params(format!(
                "display_quantity {display_quantity} at {price} is below the instrument's min notional {}",
                rules.min_notional
            )));
        }
        Ok(Self {
            display_quantity,
            limit_price,
            repeg_after_ms,
        })
    }
}

/// The iceberg's whole state; also its snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Iceberg {
    /// The params.
    pub params: IcebergParams,
    /// Total quantity to execute.
    pub target: Decimal,
    /// Latest host clock seen, ms.
    pub now_ms: i64,
    /// Last trade price seen.
    pub last_price: Decimal,
    /// Clips placed so far.
    pub clips: u64,
    /// No new clip before this time (after a rejection), ms.
    pub hold_until_ms: i64,
    /// Child orders and fills (at most one open: the visible clip).
    pub orders: ChildOrders,
}

impl Iceberg {
    /// Quantity still to fill.
    #[must_use]
    pub fn remaining(&self) -> Decimal {
        self.target - self.orders.filled
    }

    /// The price of a new clip: the fixed limit, or the last price.
    #[must_use]
    pub fn clip_price(&self) -> Decimal {
        self.params
            .limit_price
            .unwrap_or_else(|| self.orders.passive_price(self.last_price))
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
                "iceberg done: {} filled in {} clips{average}",
                self.orders.filled, self.clips
            ))
            .completed()
    }

    /// Shows the next clip if none is working; re-pegs a stale one.
    fn step(&mut self, mut result: PluginResult) -> PluginResult {
        result = self.finish_if_done(result);
        if result.is_completed() || self.now_ms < self.hold_until_ms {
            return result;
        }
        let price = self.clip_price();
        if price <= Decimal::ZERO {
            return result;
        }
        if let Some(clip) = self.orders.open.values().next() {
            if let Some(after) = self.params.repeg_after_ms
                && self.now_ms.saturating_sub(clip.placed_ms) >= after
            {
                let id = clip.id.clone();
                if let Some(amend) = self.orders.reprice(&id, price, self.now_ms) {
                    result = result.with_order(amend);
                }
            }
            return result;
        }
        let left = self.target - self.orders.committed();
        let quantity = self
            .orders
            .tradable(left.min(self.params.display_quantity), price);
        if quantity.is_zero() {
            if left > Decimal::ZERO {
                return result
                    .with_log(
                        PluginLogLevel::Warn,
                        format!("iceberg done: {left} left unfilled, below the instrument's minimum order"),
                    )
                    .completed();
            }
            return result;
        }
        self.clips += 1;
        result.with_order(self.orders.place(
            PluginOrderType::Limit,
            quantity,
            Some(price),
            None,
            self.now_ms,
        ))
    }
}

impl ExecutionPlugin for Iceberg {
    fn metadata(crate_defaults: PluginMetadata) -> PluginMetadata {
        PluginMetadata {
            params_schema: Some(object_schema(
                json!({
                    "display_quantity": positive_decimal_schema(
                        "Quantity shown at a time: one limit order of at most this much (rounded down to the lot), replenished after each fill of it. Default: a tenth of the target."
                    ),
                    "limit_price": positive_decimal_schema(
                        "Fixed limit price of every clip (rounded to the tick, passively). Default: pegged to the last trade price when each clip is placed."
                    ),
                    "repeg_after_ms": {
                        "description": "Without limit_price only: move a clip that has rested this many milliseconds to the last trade price (default 30000: 30 s).",
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_REPEG_MS,
                        "default": DEFAULT_REPEG_MS
                    }
                }),
                &[],
            )),
            ..crate_defaults
        }
    }

    fn init(&mut self, ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        let params = IcebergParams::parse(&ctx)?;
        tesser_plugin_kit::check_target(&ctx)?;
        *self = Self {
            target: ctx.signal.target_quantity,
            now_ms: ctx.now_ms,
            last_price: ctx.risk.last_price,
            clips: 0,
            hold_until_ms: i64::MIN,
            orders: ChildOrders::new(
                &ctx.algorithm_id,
                &ctx.signal.symbol,
                ctx.signal.side,
                ctx.risk.instrument.clone(),
                ctx.risk.max_order_quantity,
            ),
            params,
        };
        let price = self.params.limit_price.map_or_else(
            || "pegged to the last price".to_owned(),
            |p| format!("at {p}"),
        );
        let result = PluginResult::new().log(format!(
            "iceberg {:?} {} {} showing {} {price}",
            self.orders.side, self.target, self.orders.symbol, self.params.display_quantity
        ));
        Ok(self.step(result))
    }

    fn on_tick(&mut self, tick: PluginTick) -> Result<PluginResult, PluginError> {
        if tick.price > Decimal::ZERO {
            self.last_price = tick.price;
        }
        self.now_ms = self.now_ms.max(tick.timestamp_ms);
        Ok(self.step(PluginResult::new()))
    }

    fn on_fill(&mut self, fill: PluginFill) -> Result<PluginResult, PluginError> {
        self.orders.on_fill(&fill);
        self.now_ms = self.now_ms.max(fill.timestamp_ms);
        Ok(self.finish_if_done(PluginResult::new()))
    }

    fn on_order_update(&mut self, update: PluginOrderUpdate) -> Result<PluginResult, PluginError> {
        self.now_ms = self.now_ms.max(update.timestamp_ms);
        Ok(self
            .orders
            .on_update_with_backoff(&update, self.now_ms, &mut self.hold_until_ms)
            // Filled (or ended by the venue): show the next clip.
            .unwrap_or_else(|| self.step(PluginResult::new())))
    }

    fn on_timer_at(&mut self, timer: PluginTimer) -> Result<PluginResult, PluginError> {
        self.now_ms = self.now_ms.max(timer.now_ms);
        Ok(self.step(PluginResult::new()))
    }

    fn snapshot(&self) -> Result<serde_json::Value, PluginError> {
        tesser_plugin_kit::snapshot_of(self)
    }

    fn write_snapshot(&self, out: &mut Vec<u8>) -> Result<(), PluginError> {
        tesser_plugin_kit::write_snapshot_of(self, out)
    }

    fn restore(&mut self, snapshot: serde_json::Value) -> Result<(), PluginError> {
        *self = tesser_plugin_kit::restore_from(snapshot, "iceberg")?;
        Ok(())
    }
}

#[cfg(feature = "export")]
export_plugin!(Iceberg);
