//! # plugin-chase
//!
//! The reference chase algorithm from the `tesser-wasm` quick start, made
//! complete: it works the parent order in clips of `clip_size`, one limit
//! order at a time at the last trade price, and moves (amends) that order
//! whenever the market trades at another price.
//!
//! Params (JSON): `{"clip_size": "0.25"}` — a positive decimal, as a string
//! or a number; default `0.1`. Quantities are rounded down to the
//! instrument's lot size and prices to its tick size.
//!
//! Lifecycle:
//! * `init` places the first clip at the last price;
//! * `on_order_update` learns the client order id of the working clip from
//!   the host's acknowledgement, and places the next clip when one closes. A
//!   late update about a clip that already closed (an amend the venue's
//!   window delayed, refused once the clip had filled) is never taken for
//!   the next clip's acknowledgement;
//! * `on_tick` reprices the working clip to the new last price;
//! * `on_fill` shrinks `remaining`; the algorithm completes once it reaches zero;
//! * `on_timer` re-places a clip if none is working (e.g. after a rejection);
//! * `snapshot` / `restore` round-trip the whole state as JSON.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
#[cfg(feature = "export")]
use tesser_wasm::export_plugin;
use tesser_wasm::{
    ExecutionPlugin, PluginChildOrderAction, PluginError, PluginFill, PluginInitContext,
    PluginInstrument, PluginLogLevel, PluginMetadata, PluginOrderRequest, PluginOrderStatus,
    PluginOrderType, PluginOrderUpdate, PluginOrderUpdateRequest, PluginResult, PluginSide,
    PluginTick,
};

/// Clip size used when the params name none.
const DEFAULT_CLIP_SIZE: Decimal = Decimal::from_parts(1, 0, 0, false, 1);

/// How many closed clips' ids the chase remembers. Only a clip's own late
/// updates (a delayed amend refused once it had filled) can arrive after
/// the next clip is placed, and the host sends waiting actions in order,
/// so a handful is ample.
pub const RECENTLY_CLOSED: usize = 8;

/// The child order currently working.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingClip {
    /// Client order id, once the host has acknowledged the order.
    pub client_order_id: Option<String>,
    /// Limit price.
    pub price: Decimal,
    /// Order quantity.
    pub quantity: Decimal,
    /// Quantity filled so far.
    pub filled: Decimal,
}

/// The chase algorithm's whole state; also its snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChasePlugin {
    /// Instrument symbol.
    pub symbol: String,
    /// Side of every child order.
    pub side: PluginSide,
    /// Total quantity to execute.
    pub target: Decimal,
    /// Quantity still to fill.
    pub remaining: Decimal,
    /// Size of each clip.
    pub clip_size: Decimal,
    /// Price of the last trade seen.
    pub last_price: Decimal,
    /// The instrument's trading rules.
    pub instrument: PluginInstrument,
    /// The clip working now, if any.
    pub working: Option<WorkingClip>,
    /// Number of clips placed.
    pub clips_placed: u32,
    /// Client order ids of the last clips that closed (at most
    /// [`RECENTLY_CLOSED`], oldest first): a late update about one of them
    /// is not the next clip's acknowledgement. Bounded, so the snapshot
    /// stays the same size however many clips the chase places.
    #[serde(default)]
    pub recently_closed: Vec<String>,
}

fn parse_decimal(value: &serde_json::Value, field: &str) -> Result<Decimal, PluginError> {
    let text = match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Number(number) => number.to_string(),
        other => {
            return Err(PluginError::invalid_params(format!(
                "{field} must be a decimal string like \"0.25\", got {other}"
            )));
        }
    };
    Decimal::from_str(&text).map_err(|error| {
        PluginError::invalid_params(format!("{field} '{text}' is not a decimal: {error}"))
    })
}

impl ChasePlugin {
    /// Quantity of the next clip, on the lot grid; zero when nothing is left
    /// or the rest is below the instrument's minimum.
    fn next_clip_quantity(&self) -> Decimal {
        let open = self
            .working
            .as_ref()
            .map_or(Decimal::ZERO, |clip| clip.quantity - clip.filled);
        let left = self.remaining - open;
        let quantity = self
            .instrument
            .round_quantity_down(self.clip_size.min(left));
        if quantity <= Decimal::ZERO || quantity < self.instrument.min_quantity {
            Decimal::ZERO
        } else {
            quantity
        }
    }

    fn limit_price(&self) -> Decimal {
        self.instrument.round_price_down(self.last_price)
    }

    /// Places the next clip if none is working and something is left.
    fn place_clip(&mut self, result: PluginResult) -> PluginResult {
        if self.working.is_some() || self.last_price <= Decimal::ZERO {
            return result;
        }
        let quantity = self.next_clip_quantity();
        if quantity.is_zero() {
            return result;
        }
        let price = self.limit_price();
        self.working = Some(WorkingClip {
            client_order_id: None,
            price,
            quantity,
            filled: Decimal::ZERO,
        });
        self.clips_placed += 1;
        result.with_order(PluginChildOrderAction::Place(PluginOrderRequest {
            symbol: self.symbol.clone(),
            side: self.side,
            order_type: PluginOrderType::Limit,
            quantity,
            price: Some(price),
            trigger_price: None,
            time_in_force: None,
            client_order_id: None,
            take_profit: None,
            stop_loss: None,
            display_quantity: None,
        }))
    }

    fn finish_if_done(&self, result: PluginResult) -> PluginResult {
        if self.remaining <= Decimal::ZERO {
            result
                .with_log(
                    PluginLogLevel::Info,
                    format!("chase done: {} filled", self.target),
                )
                .completed()
        } else {
            result
        }
    }
}

impl ExecutionPlugin for ChasePlugin {
    fn metadata(crate_defaults: PluginMetadata) -> PluginMetadata {
        PluginMetadata {
            params_schema: Some(serde_json::json!({
                "type": "object",
                "properties": {
                    "clip_size": {
                        "description": "Quantity of each child order (default 0.1)",
                        "type": ["string", "number"],
                        "pattern": "^[0-9]+(\\.[0-9]+)?$"
                    }
                },
                "additionalProperties": false
            })),
            ..crate_defaults
        }
    }

    fn init(&mut self, ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        let clip_size = match ctx.params.get("clip_size") {
            Some(value) => parse_decimal(value, "clip_size")?,
            None => DEFAULT_CLIP_SIZE,
        };
        if clip_size <= Decimal::ZERO {
            return Err(PluginError::invalid_params(format!(
                "clip_size must be positive, got {clip_size}"
            )));
        }
        if ctx.signal.target_quantity <= Decimal::ZERO {
            return Err(PluginError::invalid_params(format!(
                "target quantity must be positive, got {}",
                ctx.signal.target_quantity
            )));
        }
        *self = Self {
            symbol: ctx.signal.symbol,
            side: ctx.signal.side,
            target: ctx.signal.target_quantity,
            remaining: ctx.signal.target_quantity,
            clip_size,
            last_price: ctx.risk.last_price,
            instrument: ctx.risk.instrument,
            working: None,
            clips_placed: 0,
            recently_closed: Vec::new(),
        };
        let result = PluginResult::new().with_log(
            PluginLogLevel::Info,
            format!(
                "chase {:?} {} {} in clips of {}",
                self.side, self.target, self.symbol, self.clip_size
            ),
        );
        Ok(self.place_clip(result))
    }

    fn on_tick(&mut self, tick: PluginTick) -> Result<PluginResult, PluginError> {
        self.last_price = tick.price;
        let price = self.limit_price();
        let Some(clip) = self.working.as_mut() else {
            return Ok(PluginResult::new());
        };
        let Some(client_order_id) = clip.client_order_id.as_ref() else {
            // Not acknowledged yet: nothing to amend.
            return Ok(PluginResult::new());
        };
        if clip.price == price || price <= Decimal::ZERO {
            // Most ticks: nothing to do, and nothing allocated.
            return Ok(PluginResult::new());
        }
        let client_order_id = client_order_id.clone();
        clip.price = price;
        Ok(
            PluginResult::new().with_order(PluginChildOrderAction::Amend(
                PluginOrderUpdateRequest {
                    client_order_id,
                    new_price: Some(price),
                    new_quantity: None,
                },
            )),
        )
    }

    fn on_fill(&mut self, fill: PluginFill) -> Result<PluginResult, PluginError> {
        self.remaining -= fill.quantity;
        if let Some(clip) = self.working.as_mut()
            && clip.client_order_id.as_deref() == Some(fill.client_order_id.as_str())
        {
            clip.filled += fill.quantity;
        }
        Ok(self.finish_if_done(PluginResult::new()))
    }

    fn on_order_update(&mut self, update: PluginOrderUpdate) -> Result<PluginResult, PluginError> {
        let Some(clip) = self.working.as_mut() else {
            return Ok(PluginResult::new());
        };
        if self.recently_closed.contains(&update.client_order_id) {
            // About an earlier clip: the working one's acknowledgement is
            // still to come.
            return Ok(PluginResult::new());
        }
        match &clip.client_order_id {
            None => clip.client_order_id = Some(update.client_order_id.clone()),
            Some(id) if *id != update.client_order_id => return Ok(PluginResult::new()),
            Some(_) => {}
        }
        let mut result = PluginResult::new();
        if let Some(reason) = &update.reason {
            result = result.with_log(
                PluginLogLevel::Warn,
                format!("{} {:?}: {reason}", update.client_order_id, update.status),
            );
        }
        if update.status.is_open() {
            return Ok(result);
        }
        // The clip closed (filled, cancelled, expired or rejected).
        if let Some(id) = self.working.take().and_then(|clip| clip.client_order_id) {
            if self.recently_closed.len() == RECENTLY_CLOSED {
                self.recently_closed.remove(0);
            }
            self.recently_closed.push(id);
        }
        if update.status == PluginOrderStatus::Rejected {
            // Try again on the next timer rather than in a tight loop.
            return Ok(result);
        }
        let result = self.finish_if_done(result);
        if result.is_completed() {
            return Ok(result);
        }
        Ok(self.place_clip(result))
    }

    fn on_timer(&mut self) -> Result<PluginResult, PluginError> {
        let result = self.finish_if_done(PluginResult::new());
        if result.is_completed() {
            return Ok(result);
        }
        Ok(self.place_clip(result))
    }

    fn snapshot(&self) -> Result<serde_json::Value, PluginError> {
        serde_json::to_value(self)
            .map_err(|error| PluginError::internal(format!("cannot snapshot: {error}")))
    }

    // The same document, written without a `serde_json::Value` in between:
    // the runtime snapshots before every clip goes out.
    fn write_snapshot(&self, out: &mut Vec<u8>) -> Result<(), PluginError> {
        serde_json::to_writer(out, self)
            .map_err(|error| PluginError::internal(format!("cannot snapshot: {error}")))
    }

    fn restore(&mut self, snapshot: serde_json::Value) -> Result<(), PluginError> {
        *self = serde_json::from_value(snapshot).map_err(|error| {
            PluginError::invalid_state(format!("not a plugin-chase snapshot: {error}"))
        })?;
        Ok(())
    }
}

#[cfg(feature = "export")]
export_plugin!(ChasePlugin);

#[cfg(test)]
mod tests {
    use tesser_wasm::{PluginRiskContext, PluginSignal};

    use super::*;

    fn update(id: &str, status: PluginOrderStatus, reason: Option<&str>) -> PluginOrderUpdate {
        PluginOrderUpdate {
            client_order_id: id.into(),
            status,
            filled_quantity: Decimal::ZERO,
            remaining_quantity: Decimal::ZERO,
            reason: reason.map(str::to_owned),
            timestamp_ms: 0,
        }
    }

    fn placements(result: &PluginResult) -> usize {
        result
            .orders
            .iter()
            .filter(|action| matches!(action, PluginChildOrderAction::Place(_)))
            .count()
    }

    /// A clip's placement the venue's window delayed is acknowledged after
    /// a late update about the clip before (its delayed amend, refused
    /// because it had filled): that update must not be taken for the new
    /// clip's acknowledgement, or the new clip is orphaned while it works
    /// and the next one overfills.
    #[test]
    fn a_late_update_of_a_closed_clip_is_not_the_next_clips_acknowledgement() {
        let mut chase = ChasePlugin::default();
        let mut ctx = PluginInitContext {
            algorithm_id: "algo-1".into(),
            signal: PluginSignal::default(),
            risk: PluginRiskContext::default(),
            params: serde_json::json!({ "clip_size": "0.25" }),
            now_ms: 0,
        };
        ctx.signal.target_quantity = Decimal::ONE;
        ctx.risk.last_price = Decimal::from(100);
        let first = chase.init(ctx).expect("init");
        assert_eq!(placements(&first), 1);
        chase
            .on_order_update(update("algo-1-0001", PluginOrderStatus::Accepted, None))
            .expect("ack");
        // The first clip fills; the second is placed, its placement delayed.
        let filled = chase
            .on_order_update(update("algo-1-0001", PluginOrderStatus::Filled, None))
            .expect("filled");
        assert_eq!(placements(&filled), 1);
        // The first clip's delayed amend, refused: it had filled.
        let late = chase
            .on_order_update(update(
                "algo-1-0001",
                PluginOrderStatus::Filled,
                Some("amend refused by the exchange: order algo-1-0001 is closed"),
            ))
            .expect("late update");
        assert_eq!(placements(&late), 0, "no third clip while the second works");
        let working = chase.working.clone().expect("the second clip still works");
        assert_eq!(working.client_order_id, None, "not acknowledged yet");
        chase
            .on_order_update(update("algo-1-0002", PluginOrderStatus::Accepted, None))
            .expect("ack");
        assert_eq!(
            chase
                .working
                .and_then(|clip| clip.client_order_id)
                .as_deref(),
            Some("algo-1-0002")
        );
    }

    /// However many clips close, the chase remembers only the last few
    /// ids: its snapshot does not grow with the clips it placed.
    #[test]
    fn the_closed_clips_remembered_are_bounded() {
        let mut chase = ChasePlugin {
            remaining: Decimal::from(100),
            clip_size: Decimal::ONE,
            last_price: Decimal::from(100),
            ..ChasePlugin::default()
        };
        for n in 1..=20 {
            chase.working = Some(WorkingClip::default());
            let id = format!("algo-1-{n:04}");
            chase
                .on_order_update(update(&id, PluginOrderStatus::Accepted, None))
                .expect("ack");
            chase
                .on_order_update(update(&id, PluginOrderStatus::Cancelled, None))
                .expect("closed");
        }
        assert_eq!(chase.recently_closed.len(), RECENTLY_CLOSED);
        assert_eq!(
            chase.recently_closed.last().map(String::as_str),
            Some("algo-1-0020")
        );
    }
}
