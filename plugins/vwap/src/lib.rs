//! # tesser-plugin-vwap
//!
//! Volume-weighted average price along a volume profile: `duration_ms` is
//! cut into as many equal buckets as the `profile` has weights, and bucket
//! *i* gets `weightᵢ / Σ weights` of the parent quantity — more where the
//! market usually trades more. The default profile is a U shape (heavier at
//! the open and the close of the window).
//!
//! At the start of bucket *i* the schedule releases orders until the
//! cumulative share of buckets `0..=i` (rounded down to the lot; the last
//! bucket exactly the target) is working or filled, so the algorithm never
//! gets ahead of its profile. With `order_type = "limit"` (the default)
//! orders are limits at the last trade price, re-priced at every bucket
//! boundary; once the duration is over whatever has not filled goes at
//! market, so it always completes on a liquid market. No child order is
//! larger than the largest bucket's share.
//!
//! Params: see the crate's `README.md` and [`Vwap::metadata`]'s schema:
//! `{"duration_ms": 1800000, "profile": [3, 2, 1, 1, 2, 3]}`.

use rust_decimal::Decimal;
use serde_json::json;
use tesser_plugin_kit::params::{Params, object_schema};
use tesser_plugin_kit::schedule::{Schedule, cumulative_due};
#[cfg(feature = "export")]
use tesser_wasm::export_plugin;
use tesser_wasm::{
    ExecutionPlugin, PluginError, PluginFill, PluginInitContext, PluginMetadata, PluginOrderType,
    PluginOrderUpdate, PluginResult, PluginTick, PluginTimer,
};

/// Most buckets a profile may have.
pub const MAX_BUCKETS: usize = 1_000;

/// Longest duration accepted: seven days, ms.
pub const MAX_DURATION_MS: i64 = 7 * 24 * 60 * 60 * 1_000;

/// The default profile: ten buckets, a U shape (14, 10, 8, 7, 6, 6, 7, 8,
/// 10, 14).
#[must_use]
pub fn default_profile() -> Vec<Decimal> {
    [14, 10, 8, 7, 6, 6, 7, 8, 10, 14]
        .into_iter()
        .map(Decimal::from)
        .collect()
}

/// The names of the params, for the unknown-param check.
const PARAMS: &[&str] = &["duration_ms", "profile", "order_type"];

/// Schedule length when the params name none: 30 minutes.
pub const DEFAULT_DURATION_MS: i64 = 1_800_000;

/// The VWAP algorithm; its whole state is the scheduled slicer, which is
/// also its snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vwap {
    /// The slicer: schedule, child orders, fills.
    pub schedule: Schedule,
}

/// The checked params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VwapParams {
    /// Length of the schedule, ms.
    pub duration_ms: i64,
    /// Weight of each bucket.
    pub profile: Vec<Decimal>,
    /// Order type of the scheduled orders.
    pub order_type: PluginOrderType,
}

impl VwapParams {
    /// Reads and checks the params.
    ///
    /// # Errors
    /// [`PluginError::invalid_params`] naming the param at fault.
    pub fn parse(value: &serde_json::Value) -> Result<Self, PluginError> {
        let params = Params::new(value, PARAMS)?;
        let duration_ms = params
            .integer_in("duration_ms", 1, MAX_DURATION_MS)?
            .unwrap_or(DEFAULT_DURATION_MS);
        let profile = params
            .decimal_array("profile")?
            .unwrap_or_else(default_profile);
        if profile.is_empty() || profile.len() > MAX_BUCKETS {
            return Err(PluginError::invalid_params(format!(
                "profile must have 1 to {MAX_BUCKETS} weights, got {}",
                profile.len()
            )));
        }
        if let Some((i, weight)) = profile
            .iter()
            .enumerate()
            .find(|(_, w)| **w < Decimal::ZERO)
        {
            return Err(PluginError::invalid_params(format!(
                "profile weights must not be negative, got {weight} at profile[{i}]"
            )));
        }
        if profile.iter().all(|weight| weight.is_zero()) {
            return Err(PluginError::invalid_params(
                "profile weights must not all be zero",
            ));
        }
        let buckets = i64::try_from(profile.len()).unwrap_or(i64::MAX);
        if buckets > duration_ms {
            return Err(PluginError::invalid_params(format!(
                "the profile's {buckets} buckets must not exceed duration_ms ({duration_ms}): each bucket lasts at least 1 ms"
            )));
        }
        let order_type = match params.choice("order_type", &["limit", "market"])? {
            Some("market") => PluginOrderType::Market,
            _ => PluginOrderType::Limit,
        };
        Ok(Self {
            duration_ms,
            profile,
            order_type,
        })
    }
}

/// The largest single bucket's share of a cumulative schedule: the biggest
/// child order the VWAP sends (at least one lot).
#[must_use]
pub fn largest_bucket(due: &[Decimal], lot: Decimal) -> Decimal {
    let mut previous = Decimal::ZERO;
    let mut largest = Decimal::ZERO;
    for cumulative in due {
        largest = largest.max(*cumulative - previous);
        previous = *cumulative;
    }
    largest.max(lot)
}

impl ExecutionPlugin for Vwap {
    fn metadata(crate_defaults: PluginMetadata) -> PluginMetadata {
        PluginMetadata {
            params_schema: Some(object_schema(
                json!({
                    "duration_ms": {
                        "description": "Length of the schedule in milliseconds of the host's clock (default 1800000: 30 minutes), cut into equal buckets, one per profile weight; the rest is sent at market once it is over.",
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_DURATION_MS,
                        "default": DEFAULT_DURATION_MS
                    },
                    "profile": {
                        "description": "Relative volume of each bucket (non-negative decimals, strings or numbers, not all zero); bucket i gets weight_i / sum of weights of the target. Default: a 10-bucket U shape [14, 10, 8, 7, 6, 6, 7, 8, 10, 14].",
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_BUCKETS,
                        "items": {
                            "anyOf": [
                                {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"},
                                {"type": "number", "minimum": 0}
                            ]
                        }
                    },
                    "order_type": {
                        "description": "\"limit\": limit orders at the last trade price, re-priced at every bucket boundary (default); \"market\": market orders.",
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
        let params = VwapParams::parse(&ctx.params)?;
        tesser_plugin_kit::check_target(&ctx)?;
        let lot = ctx.risk.instrument.lot_size;
        let due = cumulative_due(ctx.signal.target_quantity, &params.profile, lot);
        let max_child = largest_bucket(&due, lot);
        self.schedule = Schedule::new(
            "vwap",
            &ctx,
            params.duration_ms,
            due,
            max_child,
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
        self.schedule = Schedule::restore(snapshot, "vwap")?;
        Ok(())
    }
}

#[cfg(feature = "export")]
export_plugin!(Vwap);
