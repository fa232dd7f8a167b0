//! # tesser-plugin-twap
//!
//! Time-weighted average price: executes the parent quantity in `slices`
//! equal child orders spread evenly over `duration_ms`, then sends whatever
//! has not filled at market once the duration is over, so it always
//! completes on a liquid market.
//!
//! The clock is the host's: `init`'s `now_ms` starts the schedule, and trade
//! prints (`timestamp_ms`) and timer heartbeats (`PluginTimer::now_ms`)
//! advance it. At the start of slice *k* (of *n*) the schedule releases
//! orders until `k × ⌈target / n⌉` (rounded up to the lot, capped at the
//! target) is working or filled; with `order_type = "limit"` (the default)
//! each slice is a limit order at the last trade price, and resting slices are
//! re-priced to the last price at every slice boundary. No child order is
//! ever larger than `⌈target / n⌉` rounded up to the lot, and the algorithm
//! never gets ahead of its schedule.
//!
//! Params: see the crate's `README.md` and [`Twap::metadata`]'s schema:
//! `{"duration_ms": 1800000, "slices": 10, "order_type": "limit"}`.

use rust_decimal::Decimal;
use serde_json::json;
use tesser_plugin_kit::params::{Params, object_schema};
use tesser_plugin_kit::schedule::{Schedule, round_up_to_lot};
#[cfg(feature = "export")]
use tesser_wasm::export_plugin;
use tesser_wasm::{
    ExecutionPlugin, PluginError, PluginFill, PluginInitContext, PluginMetadata, PluginOrderType,
    PluginOrderUpdate, PluginResult, PluginTick, PluginTimer,
};

/// Number of slices when the params name none.
pub const DEFAULT_SLICES: i64 = 10;

/// Most slices a TWAP may have.
pub const MAX_SLICES: i64 = 1_000;

/// Longest duration accepted: seven days, ms.
pub const MAX_DURATION_MS: i64 = 7 * 24 * 60 * 60 * 1_000;

/// The names of the params, for the unknown-param check.
const PARAMS: &[&str] = &["duration_ms", "slices", "order_type"];

/// Schedule length when the params name none: 30 minutes.
pub const DEFAULT_DURATION_MS: i64 = 1_800_000;

/// The TWAP algorithm; its whole state is the scheduled slicer, which is
/// also its snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Twap {
    /// The slicer: schedule, child orders, fills.
    pub schedule: Schedule,
}

/// The checked params.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwapParams {
    /// Length of the schedule, ms.
    pub duration_ms: i64,
    /// Number of equal slices.
    pub slices: i64,
    /// Order type of the slices.
    pub order_type: PluginOrderType,
}

impl TwapParams {
    /// Reads and checks the params.
    ///
    /// # Errors
    /// [`PluginError::invalid_params`] naming the param at fault.
    pub fn parse(value: &serde_json::Value) -> Result<Self, PluginError> {
        let params = Params::new(value, PARAMS)?;
        let duration_ms = params
            .integer_in("duration_ms", 1, MAX_DURATION_MS)?
            .unwrap_or(DEFAULT_DURATION_MS);
        let slices = params
            .integer_in("slices", 1, MAX_SLICES)?
            .unwrap_or(DEFAULT_SLICES);
        if slices > duration_ms {
            return Err(PluginError::invalid_params(format!(
                "slices ({slices}) must not exceed duration_ms ({duration_ms}): each slice lasts at least 1 ms"
            )));
        }
        let order_type = match params.choice("order_type", &["limit", "market"])? {
            Some("market") => PluginOrderType::Market,
            _ => PluginOrderType::Limit,
        };
        Ok(Self {
            duration_ms,
            slices,
            order_type,
        })
    }
}

/// Size of each slice: `target / slices` rounded up to the lot.
#[must_use]
pub fn slice_quantity(target: Decimal, slices: i64, lot: Decimal) -> Decimal {
    round_up_to_lot(target / Decimal::from(slices.max(1)), lot).min(target)
}

/// Cumulative quantity due by the end of each slice.
#[must_use]
pub fn schedule_due(target: Decimal, slices: i64, lot: Decimal) -> Vec<Decimal> {
    let slice = slice_quantity(target, slices, lot);
    let count = usize::try_from(slices.max(1)).unwrap_or(1);
    (1..=count)
        .map(|k| {
            if k == count {
                target
            } else {
                (slice * Decimal::from(k)).min(target)
            }
        })
        .collect()
}

impl ExecutionPlugin for Twap {
    fn metadata(crate_defaults: PluginMetadata) -> PluginMetadata {
        PluginMetadata {
            params_schema: Some(object_schema(
                json!({
                    "duration_ms": {
                        "description": "Length of the schedule in milliseconds of the host's clock (default 1800000: 30 minutes); the rest is sent at market once it is over.",
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_DURATION_MS,
                        "default": DEFAULT_DURATION_MS
                    },
                    "slices": {
                        "description": "Number of equal child orders, one at the start of each equal part of the duration (default 10; at most duration_ms).",
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_SLICES,
                        "default": DEFAULT_SLICES
                    },
                    "order_type": {
                        "description": "\"limit\": each slice is a limit order at the last trade price, re-priced at every slice boundary (default); \"market\": each slice is a market order.",
                        "enum": ["limit", "market"],
                        "default": "limit"
                    }
                }),
                &[],
            )),
            ..crate_defaults
        }
    }

    fn init(&mut self, ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        let params = TwapParams::parse(&ctx.params)?;
        tesser_plugin_kit::check_target(&ctx)?;
        let target = ctx.signal.target_quantity;
        let lot = ctx.risk.instrument.lot_size;
        let slice = slice_quantity(target, params.slices, lot);
        let due = schedule_due(target, params.slices, lot);
        self.schedule = Schedule::new(
            "twap",
            &ctx,
            params.duration_ms,
            due,
            slice,
            params.order_type,
        );
        Ok(self.schedule.start())
    }

    fn on_tick(&mut self, tick: PluginTick) -> Result<PluginResult, PluginError> {
        Ok(self.schedule.on_tick(&tick))
    }

    fn on_fill(&mut self, fill: PluginFill) -> Result<PluginResult, PluginError> {
        Ok(self.schedule.on_fill(&fill))
    }

    fn on_order_update(&mut self, update: PluginOrderUpdate) -> Result<PluginResult, PluginError> {
        Ok(self.schedule.on_order_update(&update))
    }

    fn on_timer_at(&mut self, timer: PluginTimer) -> Result<PluginResult, PluginError> {
        Ok(self.schedule.on_timer(timer.now_ms))
    }

    fn snapshot(&self) -> Result<serde_json::Value, PluginError> {
        self.schedule.snapshot()
    }

    fn write_snapshot(&self, out: &mut Vec<u8>) -> Result<(), PluginError> {
        self.schedule.write_snapshot(out)
    }

    fn restore(&mut self, snapshot: serde_json::Value) -> Result<(), PluginError> {
        self.schedule = Schedule::restore(snapshot, "twap")?;
        Ok(())
    }
}

#[cfg(feature = "export")]
export_plugin!(Twap);
