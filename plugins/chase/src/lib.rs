//! # tesser-plugin-chase
//!
//! A chase: works the parent order in clips of `clip_size`, one limit order
//! at a time at the last trade price, and moves (amends) that order whenever
//! the market trades at another price — the seed `examples/plugin-chase`,
//! made production-grade:
//!
//! * `max_chase_bps` bounds the chase: a buy is never priced above the
//!   arrival price (the last price at `init`) plus that many basis points, a
//!   sell never below it minus them. Beyond the band the clip rests at the
//!   band's edge and waits for the market to come back.
//! * `post_only` sends clips post-only, one tick behind the last price (a buy
//!   at the last price minus a tick), so they only ever add liquidity.
//! * Partial fills: a partly filled clip keeps working (re-priced, never
//!   re-sized); the next clip is sized on what is left once it closes.
//! * Rejections: a refused clip is retried after a one-second back-off;
//!   after `max_rejections` refusals in a row the algorithm fails with the
//!   last reason instead of looping. A refused amend (e.g. the price band of
//!   the host's risk guard) cancels the clip, and a fresh one replaces it.
//!
//! Params: see the crate's `README.md` and [`Chase::metadata`]'s schema:
//! `{"clip_size": "0.5", "max_chase_bps": 50, "post_only": true}`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tesser_plugin_kit::orders::{ChildOrders, UpdateOutcome};
use tesser_plugin_kit::params::{Params, object_schema, positive_decimal_schema};
#[cfg(feature = "export")]
use tesser_wasm::export_plugin;
use tesser_wasm::{
    ExecutionPlugin, PluginError, PluginFill, PluginInitContext, PluginLogLevel, PluginMetadata,
    PluginOrderStatus, PluginOrderType, PluginOrderUpdate, PluginResult, PluginSide, PluginTick,
    PluginTimeInForce, PluginTimer,
};

/// Clip size when the params name none: 0.1.
pub const DEFAULT_CLIP_SIZE: Decimal = Decimal::from_parts(1, 0, 0, false, 1);

/// Refusals in a row tolerated when the params name no limit.
pub const DEFAULT_MAX_REJECTIONS: i64 = 10;

pub use tesser_plugin_kit::orders::REJECTION_BACKOFF_MS;

/// Basis points in one.
const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// The names of the params, for the unknown-param check.
const PARAMS: &[&str] = &["clip_size", "max_chase_bps", "post_only", "max_rejections"];

/// The checked params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChaseParams {
    /// Quantity of each clip.
    pub clip_size: Decimal,
    /// Band around the arrival price beyond which the chase stops, bps.
    pub max_chase_bps: Option<Decimal>,
    /// Whether clips are post-only, one tick behind the last price.
    pub post_only: bool,
    /// Refusals in a row before the algorithm fails.
    pub max_rejections: u32,
}

impl ChaseParams {
    /// Reads and checks the params.
    ///
    /// # Errors
    /// [`PluginError::invalid_params`] naming the param at fault.
    pub fn parse(value: &serde_json::Value) -> Result<Self, PluginError> {
        let params = Params::new(value, PARAMS)?;
        let clip_size = params
            .positive_decimal("clip_size")?
            .unwrap_or(DEFAULT_CLIP_SIZE);
        let max_chase_bps = params.positive_decimal("max_chase_bps")?;
        if let Some(bps) = max_chase_bps
            && bps >= BPS
        {
            return Err(PluginError::invalid_params(format!(
                "max_chase_bps must be below 10000 (100%), got {bps}"
            )));
        }
        let post_only = params.boolean("post_only")?.unwrap_or(false);
        let max_rejections = params
            .integer_in("max_rejections", 1, 1_000)?
            .unwrap_or(DEFAULT_MAX_REJECTIONS);
        Ok(Self {
            clip_size,
            max_chase_bps,
            post_only,
            max_rejections: u32::try_from(max_rejections).unwrap_or(u32::MAX),
        })
    }
}

/// The chase's whole state; also its snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chase {
    /// The params.
    pub params: ChaseParams,
    /// Total quantity to execute.
    pub target: Decimal,
    /// Last price at `init`: the centre of the chase band.
    pub arrival_price: Decimal,
    /// The band's edge (highest buy / lowest sell price), with `max_chase_bps`.
    pub band_price: Option<Decimal>,
    /// Last trade price seen.
    pub last_price: Decimal,
    /// Latest host clock seen, ms.
    pub now_ms: i64,
    /// Clips refused in a row.
    pub consecutive_rejections: u32,
    /// No new clip before this time (after a rejection), ms.
    pub hold_until_ms: i64,
    /// Clips placed so far.
    pub clips: u64,
    /// Whether the band is holding the clip back (logged once per episode).
    pub at_band: bool,
    /// Child orders and fills (at most one open: the working clip).
    pub orders: ChildOrders,
}

impl Chase {
    /// Quantity still to fill.
    #[must_use]
    pub fn remaining(&self) -> Decimal {
        self.target - self.orders.filled
    }

    /// The band's edge for an arrival price: `arrival × (1 ± bps / 10000)`,
    /// rounded to the tick towards the arrival price.
    #[must_use]
    pub fn band_edge(&self, arrival: Decimal) -> Option<Decimal> {
        let bps = self.params.max_chase_bps?;
        let rules = &self.orders.instrument;
        Some(match self.orders.side {
            PluginSide::Buy => rules.round_price_down(arrival * (Decimal::ONE + bps / BPS)),
            PluginSide::Sell => {
                let raw = arrival * (Decimal::ONE - bps / BPS);
                let down = rules.round_price_down(raw);
                if down < raw {
                    down + rules.tick_size
                } else {
                    down
                }
            }
        })
    }

    /// The price the clip should be at now: the last price (a tick behind
    /// it when post-only), on the tick grid, held inside the band. The flag
    /// says whether the band holds it back.
    #[must_use]
    pub fn chase_price(&self) -> (Decimal, bool) {
        let tick = self.orders.instrument.tick_size;
        let last = self.orders.passive_price(self.last_price);
        let price = match (self.params.post_only, self.orders.side) {
            (false, _) => last,
            (true, PluginSide::Buy) => last - tick,
            (true, PluginSide::Sell) => last + tick,
        };
        match (self.band_price, self.orders.side) {
            (Some(edge), PluginSide::Buy) if price > edge => (edge, true),
            (Some(edge), PluginSide::Sell) if price < edge => (edge, true),
            _ => (price, false),
        }
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
                "chase done: {} filled in {} clips{average} (arrival {})",
                self.orders.filled, self.clips, self.arrival_price
            ))
            .completed()
    }

    /// Re-prices the working clip, or places the next one.
    fn step(&mut self, mut result: PluginResult) -> PluginResult {
        result = self.finish_if_done(result);
        if result.is_completed() || self.last_price <= Decimal::ZERO {
            return result;
        }
        let (price, at_band) = self.chase_price();
        if price <= Decimal::ZERO {
            return result;
        }
        if at_band != self.at_band {
            self.at_band = at_band;
            if at_band {
                result = result.with_log(
                    PluginLogLevel::Warn,
                    format!(
                        "market at {} is beyond the chase band: the clip waits at {price}",
                        self.last_price
                    ),
                );
            }
        }
        if let Some(id) = self.orders.open.keys().next().cloned() {
            if let Some(amend) = self.orders.reprice(&id, price, self.now_ms) {
                result = result.with_order(amend);
            }
            return result;
        }
        if self.now_ms < self.hold_until_ms {
            return result;
        }
        let left = self.target - self.orders.committed();
        let quantity = self.orders.tradable(left.min(self.params.clip_size), price);
        if quantity.is_zero() {
            if left > Decimal::ZERO {
                return result
                    .with_log(
                        PluginLogLevel::Warn,
                        format!(
                            "chase done: {left} left unfilled, below the instrument's minimum order"
                        ),
                    )
                    .completed();
            }
            return result;
        }
        self.clips += 1;
        let time_in_force = self.params.post_only.then_some(PluginTimeInForce::PostOnly);
        result.with_order(self.orders.place(
            PluginOrderType::Limit,
            quantity,
            Some(price),
            time_in_force,
            self.now_ms,
        ))
    }
}

impl ExecutionPlugin for Chase {
    fn metadata(crate_defaults: PluginMetadata) -> PluginMetadata {
        let mut clip_size = positive_decimal_schema(
            "Quantity of each clip (rounded down to the lot); one clip works at a time. Default 0.1.",
        );
        clip_size["default"] = json!("0.1");
        let mut band = positive_decimal_schema(
            "Chase band in basis points around the arrival price (the last price at start): a buy is never priced above arrival × (1 + bps/10000), a sell never below arrival × (1 − bps/10000). Below 10000. Default: no band.",
        );
        band["anyOf"][1]["exclusiveMaximum"] = json!(10_000);
        PluginMetadata {
            params_schema: Some(object_schema(
                json!({
                    "clip_size": clip_size,
                    "max_chase_bps": band,
                    "post_only": {
                        "description": "Send clips post-only, one tick behind the last price, so they never take liquidity (default false).",
                        "type": "boolean",
                        "default": false
                    },
                    "max_rejections": {
                        "description": "Clips refused in a row (risk guard or venue) before the algorithm fails with the last reason (default 10).",
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 1000,
                        "default": DEFAULT_MAX_REJECTIONS
                    }
                }),
                &[],
            )),
            ..crate_defaults
        }
    }

    fn init(&mut self, ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        let params = ChaseParams::parse(&ctx.params)?;
        tesser_plugin_kit::check_target(&ctx)?;
        let rules = &ctx.risk.instrument;
        if rules.round_quantity_down(params.clip_size) < rules.min_quantity.max(rules.lot_size)
            || rules.round_quantity_down(params.clip_size).is_zero()
        {
            return Err(PluginError::invalid_params(format!(
                "clip_size {} is below the instrument's smallest order (lot {}, min quantity {})",
                params.clip_size, rules.lot_size, rules.min_quantity
            )));
        }
        *self = Self {
            target: ctx.signal.target_quantity,
            arrival_price: ctx.risk.last_price,
            band_price: None,
            last_price: ctx.risk.last_price,
            now_ms: ctx.now_ms,
            consecutive_rejections: 0,
            hold_until_ms: i64::MIN,
            clips: 0,
            at_band: false,
            orders: ChildOrders::new(
                &ctx.algorithm_id,
                &ctx.signal.symbol,
                ctx.signal.side,
                ctx.risk.instrument.clone(),
                ctx.risk.max_order_quantity,
            ),
            params,
        };
        if self.arrival_price > Decimal::ZERO {
            self.band_price = self.band_edge(self.arrival_price);
        }
        let band = self
            .band_price
            .map_or_else(String::new, |edge| format!(", band edge {edge}"));
        let result = PluginResult::new().log(format!(
            "chase {:?} {} {} in clips of {}{}{band}",
            self.orders.side,
            self.target,
            self.orders.symbol,
            self.params.clip_size,
            if self.params.post_only {
                ", post-only"
            } else {
                ""
            }
        ));
        Ok(self.step(result))
    }

    fn on_tick(&mut self, tick: PluginTick) -> Result<PluginResult, PluginError> {
        if tick.price > Decimal::ZERO {
            self.last_price = tick.price;
            if self.arrival_price <= Decimal::ZERO {
                // No price at init: the first print is the arrival price.
                self.arrival_price = tick.price;
                self.band_price = self.band_edge(tick.price);
            }
        }
        self.now_ms = self.now_ms.max(tick.timestamp_ms);
        Ok(self.step(PluginResult::new()))
    }

    fn on_fill(&mut self, fill: PluginFill) -> Result<PluginResult, PluginError> {
        self.orders.on_fill(&fill);
        self.now_ms = self.now_ms.max(fill.timestamp_ms);
        self.consecutive_rejections = 0;
        Ok(self.finish_if_done(PluginResult::new()))
    }

    fn on_order_update(&mut self, update: PluginOrderUpdate) -> Result<PluginResult, PluginError> {
        self.now_ms = self.now_ms.max(update.timestamp_ms);
        match self.orders.on_update(&update) {
            UpdateOutcome::Closed {
                status: PluginOrderStatus::Rejected,
                reason,
            } => {
                let reason = reason.unwrap_or_else(|| "no reason given".to_owned());
                self.consecutive_rejections += 1;
                if self.consecutive_rejections >= self.params.max_rejections {
                    return Err(PluginError::internal(format!(
                        "{} clips refused in a row (max_rejections); last: {reason}",
                        self.consecutive_rejections
                    )));
                }
                self.hold_until_ms = self.now_ms + REJECTION_BACKOFF_MS;
                Ok(PluginResult::new().with_log(
                    PluginLogLevel::Warn,
                    format!(
                        "clip {} refused ({} in a row): {reason}; retrying in {REJECTION_BACKOFF_MS} ms",
                        update.client_order_id, self.consecutive_rejections
                    ),
                ))
            }
            // Filled, or ended by the venue: the next clip, on what is left.
            UpdateOutcome::Closed { .. } => Ok(self.step(PluginResult::new())),
            UpdateOutcome::Open {
                reason: Some(reason),
            } => {
                // An amend was refused: replace the clip instead.
                let result = PluginResult::new().with_log(
                    PluginLogLevel::Warn,
                    format!(
                        "clip {}: {reason}; cancelling it for a fresh one",
                        update.client_order_id
                    ),
                );
                Ok(match self.orders.cancel(&update.client_order_id) {
                    Some(cancel) => result.with_order(cancel),
                    None => result,
                })
            }
            UpdateOutcome::Open { reason: None } => {
                self.consecutive_rejections = 0;
                Ok(PluginResult::new())
            }
            UpdateOutcome::Unknown => Ok(PluginResult::new()),
        }
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
        *self = tesser_plugin_kit::restore_from(snapshot, "chase")?;
        Ok(())
    }
}

#[cfg(feature = "export")]
export_plugin!(Chase);
