//! Drives one plugin through its lifecycle, inside a component or natively.

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::{Deserialize, Serialize};

use crate::{
    ExecutionPlugin, PluginError, PluginFill, PluginInitContext, PluginMetadata, PluginOrderUpdate,
    PluginResult, PluginTick, PluginTimer,
};

/// One event for a plugin, as a JSON fixture line:
/// `{"event": "tick", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum PluginEvent {
    /// Start the algorithm (boxed: the context is large and rare).
    Init(Box<PluginInitContext>),
    /// A trade print.
    Tick(PluginTick),
    /// A fill of a child order.
    Fill(PluginFill),
    /// A status change of a child order.
    OrderUpdate(PluginOrderUpdate),
    /// A timer heartbeat.
    Timer(PluginTimer),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Waiting for `init` or `restore`.
    Created,
    /// Taking events.
    Running,
    /// Reported completion; takes no more events.
    Completed,
    /// A callback panicked; the plugin's state can no longer be trusted.
    Poisoned(String),
}

/// Drives one [`ExecutionPlugin`] through its lifecycle: `init` (or
/// `restore`) first, then events until the plugin reports completion.
///
/// [`export_plugin!`](crate::export_plugin) runs every ABI call through one
/// of these inside the component; host-side tests can use the same type
/// natively to drive a plugin with JSON fixtures:
///
/// ```
/// use tesser_wasm::{ExecutionPlugin, PluginError, PluginInitContext, PluginResult, PluginRuntime};
///
/// #[derive(Default)]
/// struct Counter { ticks: u32 }
///
/// impl ExecutionPlugin for Counter {
///     fn init(&mut self, _ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
///         Ok(PluginResult::new())
///     }
///     fn on_tick(&mut self, _tick: tesser_wasm::PluginTick) -> Result<PluginResult, PluginError> {
///         self.ticks += 1;
///         Ok(PluginResult::new().log(format!("tick {}", self.ticks)))
///     }
/// }
///
/// let mut runtime = PluginRuntime::<Counter>::new();
/// // Events before init are refused.
/// assert!(runtime.handle_json(r#"{"event":"tick","data":{"symbol":"BTCUSD","price":"1","size":"1","aggressor":null,"timestamp_ms":0}}"#).is_err());
/// runtime.init(PluginInitContext::default())?;
/// let result = runtime.handle_json(
///     r#"{"event":"tick","data":{"symbol":"BTCUSD","price":"10749.4","size":"0.004","aggressor":"sell","timestamp_ms":1561939203172}}"#,
/// )?;
/// assert_eq!(result.logs[0].message, "tick 1");
/// # Ok::<(), PluginError>(())
/// ```
#[derive(Debug)]
pub struct PluginRuntime<P> {
    plugin: P,
    phase: Phase,
    /// The last snapshot's length: the next one's buffer starts this big.
    snapshot_capacity: usize,
}

impl<P: ExecutionPlugin + Default> Default for PluginRuntime<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: ExecutionPlugin + Default> PluginRuntime<P> {
    /// A runtime around `P::default()`, waiting for `init` or `restore`.
    #[must_use]
    pub fn new() -> Self {
        Self::from_plugin(P::default())
    }
}

impl<P: ExecutionPlugin> PluginRuntime<P> {
    /// A runtime around an existing plugin value, waiting for `init` or `restore`.
    #[must_use]
    pub const fn from_plugin(plugin: P) -> Self {
        Self {
            plugin,
            phase: Phase::Created,
            snapshot_capacity: 0,
        }
    }

    /// The plugin.
    #[must_use]
    pub const fn plugin(&self) -> &P {
        &self.plugin
    }

    /// Whether the plugin has reported completion.
    #[must_use]
    pub fn is_completed(&self) -> bool {
        self.phase == Phase::Completed
    }

    /// The plugin's metadata, given the defaults from its crate.
    #[must_use]
    pub fn metadata(crate_defaults: PluginMetadata) -> PluginMetadata {
        P::metadata(crate_defaults)
    }

    /// Starts the algorithm.
    ///
    /// # Errors
    /// The plugin's own error; [`PluginError::invalid_state`] when the
    /// runtime was already started; an internal error when the plugin panics.
    pub fn init(&mut self, ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        if self.phase != Phase::Created {
            return Err(PluginError::invalid_state(
                "init called twice: an instance runs one algorithm",
            ));
        }
        self.phase = Phase::Running;
        self.call("init", |plugin| plugin.init(ctx))
    }

    /// Forwards a trade print.
    ///
    /// # Errors
    /// As [`init`](Self::init); also when the algorithm is not running.
    pub fn on_tick(&mut self, tick: PluginTick) -> Result<PluginResult, PluginError> {
        self.running("on_tick")?;
        self.call("on_tick", |plugin| plugin.on_tick(tick))
    }

    /// Forwards a fill.
    ///
    /// # Errors
    /// As [`on_tick`](Self::on_tick).
    pub fn on_fill(&mut self, fill: PluginFill) -> Result<PluginResult, PluginError> {
        self.running("on_fill")?;
        self.call("on_fill", |plugin| plugin.on_fill(fill))
    }

    /// Forwards an order update.
    ///
    /// # Errors
    /// As [`on_tick`](Self::on_tick).
    pub fn on_order_update(
        &mut self,
        update: PluginOrderUpdate,
    ) -> Result<PluginResult, PluginError> {
        self.running("on_order_update")?;
        self.call("on_order_update", |plugin| plugin.on_order_update(update))
    }

    /// Forwards a timer heartbeat.
    ///
    /// # Errors
    /// As [`on_tick`](Self::on_tick).
    pub fn on_timer(&mut self, timer: PluginTimer) -> Result<PluginResult, PluginError> {
        self.running("on_timer")?;
        self.call("on_timer", |plugin| plugin.on_timer_at(timer))
    }

    /// Forwards any event.
    ///
    /// # Errors
    /// As the callback the event goes to.
    pub fn handle(&mut self, event: PluginEvent) -> Result<PluginResult, PluginError> {
        match event {
            PluginEvent::Init(ctx) => self.init(*ctx),
            PluginEvent::Tick(tick) => self.on_tick(tick),
            PluginEvent::Fill(fill) => self.on_fill(fill),
            PluginEvent::OrderUpdate(update) => self.on_order_update(update),
            PluginEvent::Timer(timer) => self.on_timer(timer),
        }
    }

    /// Forwards one event given as a JSON fixture line (see [`PluginEvent`]).
    ///
    /// # Errors
    /// [`PluginError::invalid_input`] when the line is not a valid event;
    /// otherwise as [`handle`](Self::handle).
    pub fn handle_json(&mut self, event_json: &str) -> Result<PluginResult, PluginError> {
        let event: PluginEvent = serde_json::from_str(event_json)
            .map_err(|error| PluginError::invalid_input(format!("event fixture: {error}")))?;
        self.handle(event)
    }

    /// The plugin's state as a JSON document.
    ///
    /// # Errors
    /// The plugin's own error, or an internal error when it panics or its
    /// snapshot cannot be serialized.
    pub fn snapshot(&mut self) -> Result<String, PluginError> {
        if let Phase::Poisoned(reason) = &self.phase {
            return Err(PluginError::invalid_state(format!(
                "plugin unusable after a panic: {reason}"
            )));
        }
        let plugin = &mut self.plugin;
        let mut out = Vec::with_capacity(self.snapshot_capacity);
        guard("snapshot", || plugin.write_snapshot(&mut out))
            .map_err(|reason| self.poison(reason))??;
        self.snapshot_capacity = out.len();
        #[cfg(debug_assertions)]
        self.check_written_snapshot(&out)?;
        String::from_utf8(out)
            .map_err(|error| PluginError::internal(format!("snapshot is not UTF-8: {error}")))
    }

    /// Debug builds: `write_snapshot` wrote what `snapshot` returns.
    #[cfg(debug_assertions)]
    fn check_written_snapshot(&mut self, written: &[u8]) -> Result<(), PluginError> {
        let plugin = &mut self.plugin;
        let value =
            guard("snapshot", || plugin.snapshot()).map_err(|reason| self.poison(reason))??;
        let parsed: serde_json::Value = serde_json::from_slice(written).map_err(|error| {
            PluginError::internal(format!("write_snapshot wrote invalid JSON: {error}"))
        })?;
        if parsed != value {
            return Err(PluginError::internal(format!(
                "write_snapshot wrote {parsed} but snapshot returns {value}: they must give the same document"
            )));
        }
        Ok(())
    }

    /// Rebuilds the algorithm from a snapshot in a fresh runtime, in place of
    /// `init`.
    ///
    /// # Errors
    /// [`PluginError::invalid_input`] when `snapshot_json` is not JSON;
    /// [`PluginError::invalid_state`] when the runtime was already started;
    /// the plugin's own error.
    pub fn restore(&mut self, snapshot_json: &str) -> Result<(), PluginError> {
        if self.phase != Phase::Created {
            return Err(PluginError::invalid_state(
                "restore must be the first call of a fresh instance",
            ));
        }
        let value: serde_json::Value = serde_json::from_str(snapshot_json).map_err(|error| {
            PluginError::invalid_input(format!("snapshot is not JSON: {error}"))
        })?;
        self.phase = Phase::Running;
        let plugin = &mut self.plugin;
        guard("restore", || plugin.restore(value)).map_err(|reason| self.poison(reason))?
    }

    fn running(&self, callback: &str) -> Result<(), PluginError> {
        match &self.phase {
            Phase::Running => Ok(()),
            Phase::Created => Err(PluginError::invalid_state(format!(
                "{callback} before init: call init (or restore) first"
            ))),
            Phase::Completed => Err(PluginError::invalid_state(format!(
                "{callback} after the algorithm completed"
            ))),
            Phase::Poisoned(reason) => Err(PluginError::invalid_state(format!(
                "plugin unusable after a panic: {reason}"
            ))),
        }
    }

    fn call(
        &mut self,
        callback: &str,
        f: impl FnOnce(&mut P) -> Result<PluginResult, PluginError>,
    ) -> Result<PluginResult, PluginError> {
        let plugin = &mut self.plugin;
        let result = guard(callback, || f(plugin)).map_err(|reason| self.poison(reason))??;
        if result.is_completed() {
            self.phase = Phase::Completed;
        }
        Ok(result)
    }

    fn poison(&mut self, reason: String) -> PluginError {
        self.phase = Phase::Poisoned(reason.clone());
        PluginError::internal(reason)
    }
}

/// Runs `f`, turning a panic into a message naming the callback.
fn guard<R>(callback: &str, f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_owned());
        format!("plugin panicked in {callback}: {message}")
    })
}
