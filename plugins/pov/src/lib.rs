//! # tesser-plugin-pov
//!
//! Percentage of volume: trades `participation` (e.g. `0.1` = 10 %) of the
//! market volume printed since the algorithm started. Every trade print adds
//! its size to the market volume; whenever `participation × volume` exceeds
//! what is already filled or working by at least `min_clip` (or by all that
//! is left), the algorithm sends a market order for the difference (at most
//! `max_clip`). What it has executed therefore never exceeds `participation ×
//! market volume` at the time of the order: it follows the market, never
//! leads it.
//!
//! With `max_duration_ms`, whatever is still unfilled when that time has
//! passed since the start is sent at market, so the algorithm completes even
//! on a quiet market; without it, it trades as long as the market does.
//!
//! Params: see the crate's `README.md` and [`Pov::metadata`]'s schema:
//! `{"participation": "0.1", "min_clip": "0.05", "max_duration_ms": 3600000}`.

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

/// Longest `max_duration_ms` accepted: seven days.
pub const MAX_DURATION_MS: i64 = 7 * 24 * 60 * 60 * 1_000;

/// Most orders one callback places (a guard against a runaway loop).
const MAX_ORDERS_PER_STEP: usize = 100;

/// The names of the params, for the unknown-param check.
const PARAMS: &[&str] = &["participation", "min_clip", "max_clip", "max_duration_ms"];

/// Participation when the params name none: 10 % of the market volume.
pub const DEFAULT_PARTICIPATION: Decimal = Decimal::from_parts(1, 0, 0, false, 1);

/// The checked params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PovParams {
    /// Share of the market volume to trade, in (0, 1].
    pub participation: Decimal,
    /// Smallest child order, unless less is left (default: the instrument's
    /// smallest order).
    pub min_clip: Option<Decimal>,
    /// Largest child order, if limited.
    pub max_clip: Option<Decimal>,
    /// Time after which the rest goes at market, ms.
    pub max_duration_ms: Option<i64>,
}

impl PovParams {
    /// Reads and checks the params.
    ///
    /// # Errors
    /// [`PluginError::invalid_params`] naming the param at fault.
    pub fn parse(value: &serde_json::Value) -> Result<Self, PluginError> {
        let params = Params::new(value, PARAMS)?;
        let participation = params
            .positive_decimal("participation")?
            .unwrap_or(DEFAULT_PARTICIPATION);
        if participation > Decimal::ONE {
            return Err(PluginError::invalid_params(format!(
                "participation must be at most 1 (100% of the market volume), got {participation}"
            )));
        }
        let min_clip = params.positive_decimal("min_clip")?;
        let max_clip = params.positive_decimal("max_clip")?;
        if let (Some(min), Some(max)) = (min_clip, max_clip)
            && min > max
        {
            return Err(PluginError::invalid_params(format!(
                "min_clip ({min}) must not exceed max_clip ({max})"
            )));
        }
        let max_duration_ms = params.integer_in("max_duration_ms", 1, MAX_DURATION_MS)?;
        Ok(Self {
            participation,
            min_clip,
            max_clip,
            max_duration_ms,
        })
    }
}

/// The POV algorithm's whole state; also its snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pov {
    /// The params.
    pub params: PovParams,
    /// Total quantity to execute.
    pub target: Decimal,
    /// Host clock at `init`, ms.
    pub start_ms: i64,
    /// Latest host clock seen, ms.
    pub now_ms: i64,
    /// Last trade price seen.
    pub last_price: Decimal,
    /// Market volume printed since the start.
    pub market_volume: Decimal,
    /// Whether `max_duration_ms` has passed and the rest goes at market.
    pub timed_out: bool,
    /// No new orders before this time (after a rejection), ms.
    pub hold_until_ms: i64,
    /// Child orders and fills.
    pub orders: ChildOrders,
}

impl Pov {
    /// Quantity still to fill.
    #[must_use]
    pub fn remaining(&self) -> Decimal {
        self.target - self.orders.filled
    }

    /// What the algorithm may have executed by now: `participation × market
    /// volume`, capped at the target.
    #[must_use]
    pub fn allowed(&self) -> Decimal {
        (self.params.participation * self.market_volume).min(self.target)
    }

    fn min_clip(&self) -> Decimal {
        self.params.min_clip.unwrap_or_else(|| {
            self.orders
                .instrument
                .min_quantity
                .max(self.orders.instrument.lot_size)
        })
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
                "pov done: {} filled{average}, market volume {}",
                self.orders.filled, self.market_volume
            ))
            .completed()
    }

    /// Sends what participation allows now.
    fn step(&mut self, mut result: PluginResult) -> PluginResult {
        result = self.finish_if_done(result);
        if result.is_completed()
            || self.now_ms < self.hold_until_ms
            || self.last_price <= Decimal::ZERO
        {
            return result;
        }
        let timed_out = self
            .params
            .max_duration_ms
            .is_some_and(|max| self.now_ms.saturating_sub(self.start_ms) >= max);
        if timed_out && !self.timed_out {
            self.timed_out = true;
            result = result.log(format!(
                "pov max_duration_ms over with {} unfilled: the rest goes at market",
                self.remaining()
            ));
        }
        let allowed = if self.timed_out {
            self.target
        } else {
            self.allowed()
        };
        let mut free = allowed - self.orders.committed();
        let uncommitted = self.target - self.orders.committed();
        let threshold = self.min_clip().min(uncommitted);
        if self.timed_out
            && self.orders.open.is_empty()
            && uncommitted > Decimal::ZERO
            && self.orders.tradable(uncommitted, self.last_price).is_zero()
        {
            return result
                .with_log(
                    PluginLogLevel::Warn,
                    format!("pov done: {uncommitted} left unfilled, below the instrument's minimum order"),
                )
                .completed();
        }
        if free <= Decimal::ZERO || free < threshold {
            return result;
        }
        for _ in 0..MAX_ORDERS_PER_STEP {
            let wanted = self.params.max_clip.map_or(free, |max| free.min(max));
            let quantity = self.orders.tradable(wanted, self.last_price);
            if quantity.is_zero() {
                break;
            }
            result = result.with_order(self.orders.place(
                PluginOrderType::Market,
                quantity,
                None,
                None,
                self.now_ms,
            ));
            free -= quantity;
            if free <= Decimal::ZERO {
                break;
            }
        }
        result
    }
}

impl ExecutionPlugin for Pov {
    fn metadata(crate_defaults: PluginMetadata) -> PluginMetadata {
        let mut participation = positive_decimal_schema(
            "Share of the market volume printed since the start to trade, in (0, 1]: \"0.1\" trades 10% of the volume (the default).",
        );
        participation["maximum"] = json!(1);
        PluginMetadata {
            params_schema: Some(object_schema(
                json!({
                    "participation": participation,
                    "min_clip": positive_decimal_schema(
                        "Smallest child order: the algorithm waits until participation allows at least this much (or all that is left). Default: the instrument's minimum quantity."
                    ),
                    "max_clip": positive_decimal_schema(
                        "Largest child order (default: unlimited, up to the host's max order quantity). At least min_clip."
                    ),
                    "max_duration_ms": {
                        "description": "Milliseconds after the start when whatever is unfilled is sent at market (default: none, trade with the market until done).",
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_DURATION_MS
                    }
                }),
                &[],
            )),
            ..crate_defaults
        }
    }

    fn init(&mut self, ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        let params = PovParams::parse(&ctx.params)?;
        tesser_plugin_kit::check_target(&ctx)?;
        *self = Self {
            target: ctx.signal.target_quantity,
            start_ms: ctx.now_ms,
            now_ms: ctx.now_ms,
            last_price: ctx.risk.last_price,
            market_volume: Decimal::ZERO,
            timed_out: false,
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
        let result = PluginResult::new().log(format!(
            "pov {:?} {} {} at {} of the market volume, clips of at least {}",
            self.orders.side,
            self.target,
            self.orders.symbol,
            self.params.participation,
            self.min_clip()
        ));
        Ok(self.step(result))
    }

    fn on_tick(&mut self, tick: PluginTick) -> Result<PluginResult, PluginError> {
        if tick.size > Decimal::ZERO {
            self.market_volume += tick.size;
        }
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
        *self = tesser_plugin_kit::restore_from(snapshot, "pov")?;
        Ok(())
    }
}

#[cfg(feature = "export")]
export_plugin!(Pov);
