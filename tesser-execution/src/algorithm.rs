//! The algorithm seam: what the orchestrator drives, and who creates it.
//!
//! [`ExecutionAlgorithm`] is one running algorithm. The WebAssembly
//! [`PluginInstance`] implements it, and so does any algorithm compiled into
//! the host (such as [`ImmediateAlgorithm`], which executes signals without a
//! plugin hint). An [`AlgorithmProvider`] creates algorithms by name; the
//! [`WasmPluginEngine`] is the provider for `<plugins_dir>/<name>.wasm`.
//!
//! The seam's own types live here, not in an engine: how a callback failed
//! ([`PluginCallError`]) and what an algorithm printed ([`GuestOutputLine`]).

use std::fmt;

use rust_decimal::Decimal;
use tesser_wasm::{
    PluginChildOrderAction, PluginError, PluginFill, PluginInitContext, PluginOrderRequest,
    PluginOrderType, PluginOrderUpdate, PluginRestoreContext, PluginResult, PluginTick,
    PluginTimer,
};

use crate::wasm::{EngineError, PluginInstance, WasmPluginEngine};

/// A plugin callback, for error messages and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginCallback {
    /// `abi-version`.
    AbiVersion,
    /// `metadata`.
    Metadata,
    /// `init`.
    Init,
    /// `take-result`, after a callback answered `ready`.
    TakeResult,
    /// `on-tick`.
    OnTick,
    /// `on-fill`.
    OnFill,
    /// `on-order-update`.
    OnOrderUpdate,
    /// `on-timer`.
    OnTimer,
    /// `snapshot`.
    Snapshot,
    /// `restore`.
    Restore,
}

impl fmt::Display for PluginCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AbiVersion => "abi_version",
            Self::Metadata => "metadata",
            Self::Init => "init",
            Self::TakeResult => "take_result",
            Self::OnTick => "on_tick",
            Self::OnFill => "on_fill",
            Self::OnOrderUpdate => "on_order_update",
            Self::OnTimer => "on_timer",
            Self::Snapshot => "snapshot",
            Self::Restore => "restore",
        })
    }
}

/// What went wrong in a plugin call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginCallErrorKind {
    /// The guest trapped (panic, limit, bad memory access…); the instance is
    /// unusable afterwards.
    Trap(String),
    /// The plugin returned an error.
    Plugin(PluginError),
    /// The plugin returned data the host refuses (e.g. an out-of-range decimal).
    InvalidOutput(String),
    /// The instance trapped earlier and takes no more calls.
    Unusable(String),
}

/// An error from a plugin call, naming the plugin and the callback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin '{plugin}' failed in {callback}: {}", describe(.kind))]
pub struct PluginCallError {
    /// The plugin's name.
    pub plugin: String,
    /// The callback that failed.
    pub callback: PluginCallback,
    /// What happened.
    pub kind: PluginCallErrorKind,
}

fn describe(kind: &PluginCallErrorKind) -> String {
    match kind {
        PluginCallErrorKind::Trap(reason) => format!("trap: {reason}"),
        PluginCallErrorKind::Plugin(error) => format!("plugin error: {error}"),
        PluginCallErrorKind::InvalidOutput(reason) => format!("invalid output: {reason}"),
        PluginCallErrorKind::Unusable(reason) => {
            format!("instance unusable after an earlier trap ({reason})")
        }
    }
}

/// Which stream a guest wrote to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuestStream {
    /// Standard output.
    Stdout,
    /// Standard error (where a Rust guest's panic message goes).
    Stderr,
}

/// One line a guest printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestOutputLine {
    /// Where it was written.
    pub stream: GuestStream,
    /// The line, without its newline, lossily decoded as UTF-8.
    pub line: String,
}

/// One running execution algorithm, driven callback by callback.
///
/// Each method returns what the algorithm wants done; an error fails the
/// algorithm (the orchestrator cancels its child orders and records why).
pub trait ExecutionAlgorithm {
    /// The algorithm's name, e.g. the plugin's file stem.
    fn name(&self) -> &str;

    /// Starts the algorithm on a signal.
    ///
    /// # Errors
    /// The algorithm refused to start or failed.
    fn init(&mut self, ctx: &PluginInitContext) -> Result<PluginResult, PluginCallError>;

    /// A trade print of the algorithm's symbol.
    ///
    /// # Errors
    /// The algorithm failed.
    fn on_tick(&mut self, tick: &PluginTick) -> Result<PluginResult, PluginCallError>;

    /// An execution of one of its child orders.
    ///
    /// # Errors
    /// The algorithm failed.
    fn on_fill(&mut self, fill: &PluginFill) -> Result<PluginResult, PluginCallError>;

    /// A state change of one of its child orders.
    ///
    /// # Errors
    /// The algorithm failed.
    fn on_order_update(
        &mut self,
        update: &PluginOrderUpdate,
    ) -> Result<PluginResult, PluginCallError>;

    /// A timer heartbeat carrying the host's clock.
    ///
    /// # Errors
    /// The algorithm failed.
    fn on_timer(&mut self, timer: PluginTimer) -> Result<PluginResult, PluginCallError>;

    /// The algorithm's state as JSON.
    ///
    /// # Errors
    /// The algorithm failed.
    fn snapshot(&mut self) -> Result<String, PluginCallError>;

    /// Restores state produced by [`ExecutionAlgorithm::snapshot`]
    /// (`ctx.snapshot_json`), in a fresh instance, in place of `init`.
    ///
    /// # Errors
    /// The snapshot was refused or the algorithm failed.
    fn restore(&mut self, ctx: &PluginRestoreContext) -> Result<(), PluginCallError>;

    /// Lines the algorithm printed since the last call (sandboxed plugins
    /// print to bounded stdout/stderr buffers).
    fn take_output(&mut self) -> Vec<GuestOutputLine> {
        Vec::new()
    }

    /// How many times the host entered the algorithm's guest code so far
    /// (every export call: events, `take-result`, `snapshot`, those of
    /// recycled instances too). What a callback costs beyond the
    /// algorithm's own work grows with it; an algorithm compiled into the
    /// host enters none.
    fn guest_entries(&self) -> u64 {
        0
    }
}

impl ExecutionAlgorithm for PluginInstance {
    fn guest_entries(&self) -> u64 {
        PluginInstance::guest_entries(self)
    }

    fn name(&self) -> &str {
        PluginInstance::name(self)
    }
    fn init(&mut self, ctx: &PluginInitContext) -> Result<PluginResult, PluginCallError> {
        PluginInstance::init(self, ctx)
    }
    fn on_tick(&mut self, tick: &PluginTick) -> Result<PluginResult, PluginCallError> {
        PluginInstance::on_tick(self, tick)
    }
    fn on_fill(&mut self, fill: &PluginFill) -> Result<PluginResult, PluginCallError> {
        PluginInstance::on_fill(self, fill)
    }
    fn on_order_update(
        &mut self,
        update: &PluginOrderUpdate,
    ) -> Result<PluginResult, PluginCallError> {
        PluginInstance::on_order_update(self, update)
    }
    fn on_timer(&mut self, timer: PluginTimer) -> Result<PluginResult, PluginCallError> {
        PluginInstance::on_timer(self, timer)
    }
    fn snapshot(&mut self) -> Result<String, PluginCallError> {
        PluginInstance::snapshot(self)
    }
    fn restore(&mut self, ctx: &PluginRestoreContext) -> Result<(), PluginCallError> {
        PluginInstance::restore(self, ctx)
    }
    fn take_output(&mut self) -> Vec<GuestOutputLine> {
        PluginInstance::take_output(self)
    }
}

/// Creates algorithms by name.
pub trait AlgorithmProvider {
    /// A fresh algorithm instance named `name`.
    ///
    /// # Errors
    /// No such algorithm, or it could not be loaded.
    fn create(&self, name: &str) -> Result<Box<dyn ExecutionAlgorithm>, EngineError>;
}

impl AlgorithmProvider for WasmPluginEngine {
    fn create(&self, name: &str) -> Result<Box<dyn ExecutionAlgorithm>, EngineError> {
        if name == ImmediateAlgorithm::NAME {
            return Ok(Box::new(ImmediateAlgorithm::default()));
        }
        Ok(Box::new(self.instantiate(name)?))
    }
}

/// Executes a signal with one market order for the whole target: what the
/// runtime does for a signal with no plugin hint (or
/// [`ExecutionHint::Immediate`](tesser_core::ExecutionHint::Immediate)).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ImmediateAlgorithm {
    remaining: Decimal,
}

impl ImmediateAlgorithm {
    /// The name signals without a plugin hint run under.
    pub const NAME: &'static str = "immediate";

    /// The most market orders one signal is split into when the risk limit
    /// `max_order_quantity` caps the order size.
    pub const MAX_ORDERS: u32 = 1_000;

    fn failed(callback: PluginCallback, message: String) -> PluginCallError {
        PluginCallError {
            plugin: Self::NAME.to_owned(),
            callback,
            kind: PluginCallErrorKind::Plugin(PluginError::internal(message)),
        }
    }
}

impl ExecutionAlgorithm for ImmediateAlgorithm {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn init(&mut self, ctx: &PluginInitContext) -> Result<PluginResult, PluginCallError> {
        self.remaining = ctx.signal.target_quantity;
        // One market order, or several when the host caps the order size.
        let cap = ctx
            .risk
            .max_order_quantity
            .map(|max| ctx.risk.instrument.round_quantity_down(max))
            .filter(|max| *max > Decimal::ZERO);
        let slice = cap.unwrap_or(self.remaining);
        if let Some(slice) = cap {
            let orders = self.remaining.checked_div(slice).map(|n| n.ceil());
            if orders.is_none_or(|n| n > Decimal::from(Self::MAX_ORDERS)) {
                return Err(Self::failed(
                    PluginCallback::Init,
                    format!(
                        "a target of {} in orders of at most {slice} (the risk limit max_order_quantity) needs more than {} market orders; raise max_order_quantity or execute the signal with a plugin",
                        self.remaining,
                        Self::MAX_ORDERS
                    ),
                ));
            }
        }
        let mut result = PluginResult::new();
        let mut left = self.remaining;
        while left > Decimal::ZERO {
            let quantity = left.min(slice);
            left -= quantity;
            result = result.with_order(PluginChildOrderAction::Place(PluginOrderRequest {
                symbol: ctx.signal.symbol.clone(),
                side: ctx.signal.side,
                order_type: PluginOrderType::Market,
                quantity,
                ..PluginOrderRequest::default()
            }));
        }
        Ok(result)
    }

    fn on_tick(&mut self, _tick: &PluginTick) -> Result<PluginResult, PluginCallError> {
        Ok(PluginResult::new())
    }

    fn on_fill(&mut self, fill: &PluginFill) -> Result<PluginResult, PluginCallError> {
        self.remaining -= fill.quantity;
        let result = PluginResult::new();
        Ok(if self.remaining <= Decimal::ZERO {
            result.completed()
        } else {
            result
        })
    }

    fn on_order_update(
        &mut self,
        update: &PluginOrderUpdate,
    ) -> Result<PluginResult, PluginCallError> {
        use tesser_wasm::PluginOrderStatus as S;
        match update.status {
            S::Rejected | S::Cancelled | S::Expired => Err(Self::failed(
                PluginCallback::OnOrderUpdate,
                format!(
                    "market order {} ended {:?}: {}",
                    update.client_order_id,
                    update.status,
                    update.reason.as_deref().unwrap_or("no reason given")
                ),
            )),
            _ => Ok(PluginResult::new()),
        }
    }

    fn on_timer(&mut self, _timer: PluginTimer) -> Result<PluginResult, PluginCallError> {
        Ok(PluginResult::new())
    }

    fn snapshot(&mut self) -> Result<String, PluginCallError> {
        serde_json::to_string(self)
            .map_err(|error| Self::failed(PluginCallback::Snapshot, error.to_string()))
    }

    fn restore(&mut self, ctx: &PluginRestoreContext) -> Result<(), PluginCallError> {
        *self = serde_json::from_str(&ctx.snapshot_json)
            .map_err(|error| Self::failed(PluginCallback::Restore, error.to_string()))?;
        Ok(())
    }
}

/// Life-cycle state of an algorithm.
///
/// `working` and `finishing` are live; the others are final. `completed`
/// means the whole target filled; an algorithm that ended with less is
/// `partial`, `cancelled` or `failed`, and its reason says how much was left
/// unfilled and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlgorithmStatus {
    /// Working: it receives events and may send child orders.
    Working,
    /// The plugin completed while child orders were still open: it gets no
    /// more events, and the runtime books those orders' fills until each
    /// ends or the completion grace (`completion_grace_ms`) runs out.
    Finishing,
    /// The whole target filled.
    Completed,
    /// It ended with less than the target filled: the plugin completed
    /// short, or the grace ran out with orders open. The reason says how
    /// much is unfilled and why.
    Partial,
    /// Cancelled by the operator or by a later `Flatten` signal.
    Cancelled,
    /// It failed (trap, error, refused output); see the reason.
    Failed,
}

impl AlgorithmStatus {
    /// Lower-case name, as stored and shown.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Working => "working",
            Self::Finishing => "finishing",
            Self::Completed => "completed",
            Self::Partial => "partial",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    /// Parses [`AlgorithmStatus::as_str`]'s output.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "working" => Self::Working,
            "finishing" => Self::Finishing,
            "completed" => Self::Completed,
            "partial" => Self::Partial,
            "cancelled" => Self::Cancelled,
            "failed" => Self::Failed,
            _ => return None,
        })
    }

    /// Whether the algorithm has ended: nothing of it is open any more.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        !matches!(self, Self::Working | Self::Finishing)
    }
}

impl std::fmt::Display for AlgorithmStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use tesser_wasm::{PluginRiskContext, PluginSignal};

    use super::*;

    fn init_context(target: Decimal, max_order_quantity: Decimal) -> PluginInitContext {
        PluginInitContext {
            signal: PluginSignal {
                symbol: "BTCUSD".to_owned(),
                target_quantity: target,
                ..PluginSignal::default()
            },
            risk: PluginRiskContext {
                max_order_quantity: Some(max_order_quantity),
                ..PluginRiskContext::default()
            },
            ..PluginInitContext::default()
        }
    }

    #[test]
    fn immediate_algorithm_splits_at_the_order_size_cap() {
        let result = ImmediateAlgorithm::default()
            .init(&init_context(Decimal::new(25, 1), Decimal::ONE))
            .expect("a split into three orders");
        let quantities: Vec<Decimal> = result
            .orders
            .iter()
            .map(|action| match action {
                PluginChildOrderAction::Place(order) => order.quantity,
                other => panic!("not a place: {other:?}"),
            })
            .collect();
        assert_eq!(quantities, [Decimal::ONE, Decimal::ONE, Decimal::new(5, 1)]);
    }

    #[test]
    fn immediate_algorithm_refuses_more_than_max_orders() {
        for max in [Decimal::new(1, 28), Decimal::new(1, 1)] {
            let error = ImmediateAlgorithm::default()
                .init(&init_context(Decimal::from(1_000), max))
                .expect_err("too many orders");
            let message = error.to_string();
            assert!(
                message.contains("max_order_quantity") && message.contains("1000 market orders"),
                "{message}"
            );
        }
        ImmediateAlgorithm::default()
            .init(&init_context(Decimal::from(1_000), Decimal::ONE))
            .expect("exactly MAX_ORDERS orders are allowed");
    }
}
