//! Checks of the JSON the host and the SDK decode from plugins and from
//! fixtures: [`PluginResult`], [`PluginInitContext`], [`PluginMetadata`],
//! [`PluginEvent`], the SDK's [`PluginRuntime`] entry points
//! ([`PluginRuntime::handle_json`], [`PluginRuntime::restore`]) and the
//! host's built-in [`ImmediateAlgorithm`] restoring a snapshot.
//!
//! Shared by the `plugin_json` fuzz target and
//! `tesser-execution/tests/properties.rs` (which includes this file with
//! `#[path]`).

use std::fmt::Debug;

use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tesser_execution::{ExecutionAlgorithm, ImmediateAlgorithm};
use tesser_wasm::{
    ExecutionPlugin, PluginError, PluginErrorKind, PluginEvent, PluginFill, PluginInitContext,
    PluginMetadata, PluginOrderStatus, PluginOrderUpdate, PluginResult, PluginRuntime, PluginTick,
    PluginTimer,
};

/// Feeds `data` to every JSON entry point.
///
/// # Panics
/// When a decoder panics or one of the promises checked below is broken.
pub fn check_plugin_json(data: &[u8]) {
    check_exact_round_trip::<PluginResult>(data);
    check_exact_round_trip::<PluginError>(data);
    // These hold `f64`s or free-form JSON values, whose text serde_json does
    // not promise to reproduce bit for bit: check that they re-encode into
    // something that decodes again.
    check_reencodes::<PluginInitContext>(data);
    check_reencodes::<PluginMetadata>(data);
    check_reencodes::<PluginEvent>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        check_runtime_events(text);
        check_runtime_restore(text);
        check_immediate_restore(text);
    }
}

/// A value decoded from JSON encodes to JSON that decodes to the same value.
fn check_exact_round_trip<T>(data: &[u8])
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let Ok(value) = serde_json::from_slice::<T>(data) else {
        return;
    };
    let text = serde_json::to_string(&value)
        .unwrap_or_else(|error| panic!("decoded {value:?} does not encode: {error}"));
    let again: T = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{value:?} encoded as {text} does not decode: {error}"));
    assert_eq!(
        again, value,
        "JSON round trip through {text} changed the value"
    );
}

/// A value decoded from JSON encodes to JSON that decodes again.
fn check_reencodes<T>(data: &[u8])
where
    T: Serialize + DeserializeOwned + Debug,
{
    let Ok(value) = serde_json::from_slice::<T>(data) else {
        return;
    };
    let text = serde_json::to_string(&value)
        .unwrap_or_else(|error| panic!("decoded {value:?} does not encode: {error}"));
    if let Err(error) = serde_json::from_str::<T>(&text) {
        panic!("{value:?} encoded as {text} does not decode: {error}");
    }
}

/// A small, deterministic plugin whose every answer depends on its input,
/// so the runtime's answers can be compared with the plugin's own.
#[derive(Debug, Default)]
pub struct Probe {
    target: Decimal,
    filled: Decimal,
    events: u64,
}

impl ExecutionPlugin for Probe {
    fn init(&mut self, ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        if ctx.signal.target_quantity <= Decimal::ZERO {
            return Err(PluginError::invalid_params(
                "target quantity must be positive",
            ));
        }
        self.target = ctx.signal.target_quantity;
        let result = PluginResult::new().log(format!("init {}", ctx.algorithm_id));
        Ok(if ctx.params.get("complete") == Some(&Value::Bool(true)) {
            result.completed()
        } else {
            result
        })
    }

    fn on_tick(&mut self, tick: PluginTick) -> Result<PluginResult, PluginError> {
        self.events += 1;
        Ok(PluginResult::new().log(format!("tick {} {}", tick.price, tick.size)))
    }

    fn on_fill(&mut self, fill: PluginFill) -> Result<PluginResult, PluginError> {
        self.events += 1;
        self.filled = self
            .filled
            .checked_add(fill.quantity)
            .ok_or_else(|| PluginError::invalid_input("filled quantity overflows"))?;
        let result = PluginResult::new();
        Ok(if self.filled >= self.target {
            result.completed()
        } else {
            result
        })
    }

    fn on_order_update(&mut self, update: PluginOrderUpdate) -> Result<PluginResult, PluginError> {
        self.events += 1;
        if update.status == PluginOrderStatus::Rejected {
            return Err(PluginError::invalid_state(format!(
                "{} rejected",
                update.client_order_id
            )));
        }
        Ok(PluginResult::new())
    }

    fn on_timer_at(&mut self, timer: PluginTimer) -> Result<PluginResult, PluginError> {
        self.events += 1;
        Ok(PluginResult::new().log(format!("timer {}", timer.now_ms)))
    }

    fn snapshot(&self) -> Result<Value, PluginError> {
        Ok(json!({
            "target": self.target,
            "filled": self.filled,
            "events": self.events,
        }))
    }

    fn restore(&mut self, snapshot: Value) -> Result<(), PluginError> {
        let decimal = |name: &str| -> Result<Decimal, PluginError> {
            serde_json::from_value(snapshot.get(name).cloned().unwrap_or(Value::Null))
                .map_err(|error| PluginError::invalid_state(format!("{name}: {error}")))
        };
        self.target = decimal("target")?;
        self.filled = decimal("filled")?;
        self.events = snapshot
            .get("events")
            .and_then(Value::as_u64)
            .ok_or_else(|| PluginError::invalid_state("events: not a count"))?;
        Ok(())
    }
}

/// What the runtime must be doing, by its documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Created,
    Running,
    Completed,
}

/// Runs every line of `text` through [`PluginRuntime::handle_json`] and
/// checks each answer against a model of the runtime's lifecycle and against
/// a second plugin value driven directly:
///
/// * a line that is not an event is refused as invalid input;
/// * an event other than `init` before `init`, a second `init`, and any
///   event after completion are refused as invalid state, and the plugin
///   does not see them;
/// * otherwise the runtime answers exactly what the plugin answers.
fn check_runtime_events(text: &str) {
    let mut runtime = PluginRuntime::<Probe>::new();
    let mut shadow = Probe::default();
    let mut phase = Phase::Created;
    for line in text.lines() {
        let parsed = serde_json::from_str::<PluginEvent>(line);
        let outcome = runtime.handle_json(line);
        let event = match parsed {
            Ok(event) => event,
            Err(_) => {
                let error = outcome.expect_err("a line that is no event was accepted");
                assert_eq!(error.kind, PluginErrorKind::InvalidInput, "{error}");
                continue;
            }
        };
        let is_init = matches!(event, PluginEvent::Init(_));
        let forwarded = match phase {
            Phase::Created => is_init,
            Phase::Running => !is_init,
            Phase::Completed => false,
        };
        if !forwarded {
            let error = outcome.expect_err("an event out of lifecycle order was accepted");
            assert_eq!(error.kind, PluginErrorKind::InvalidState, "{error}");
            continue;
        }
        let expected = match event {
            PluginEvent::Init(ctx) => shadow.init(*ctx),
            PluginEvent::Tick(tick) => shadow.on_tick(tick),
            PluginEvent::Fill(fill) => shadow.on_fill(fill),
            PluginEvent::OrderUpdate(update) => shadow.on_order_update(update),
            PluginEvent::Timer(timer) => shadow.on_timer_at(timer),
        };
        assert_eq!(
            outcome, expected,
            "the runtime did not pass the plugin's answer on"
        );
        if matches!(&outcome, Ok(result) if result.is_completed()) {
            phase = Phase::Completed;
        } else if is_init {
            // `init` starts the algorithm even when the plugin refuses the
            // signal (the host then discards the instance).
            phase = Phase::Running;
        }
        assert_eq!(runtime.is_completed(), phase == Phase::Completed);
    }
    let snapshot = runtime
        .snapshot()
        .unwrap_or_else(|error| panic!("snapshot of a healthy runtime failed: {error}"));
    let value: Value = serde_json::from_str(&snapshot)
        .unwrap_or_else(|error| panic!("snapshot {snapshot} is not JSON: {error}"));
    assert_eq!(Some(value), shadow.snapshot().ok(), "snapshot differs");
}

/// [`PluginRuntime::restore`] with `text` as the snapshot: refused as invalid
/// input unless it is JSON, otherwise whatever the plugin says; only a fresh
/// runtime may be restored.
fn check_runtime_restore(text: &str) {
    let mut runtime = PluginRuntime::<Probe>::new();
    let outcome = runtime.restore(text);
    match serde_json::from_str::<Value>(text) {
        Err(_) => {
            let error = outcome.expect_err("a snapshot that is not JSON was accepted");
            assert_eq!(error.kind, PluginErrorKind::InvalidInput, "{error}");
        }
        Ok(value) => {
            let mut shadow = Probe::default();
            assert_eq!(outcome, shadow.restore(value));
            let again = runtime
                .restore(text)
                .expect_err("a runtime was restored twice");
            assert_eq!(again.kind, PluginErrorKind::InvalidState, "{again}");
        }
    }
}

fn restore_context(snapshot_json: &str) -> tesser_wasm::PluginRestoreContext {
    tesser_wasm::PluginRestoreContext {
        algorithm_id: "fuzz-1".to_owned(),
        symbol: "BTCUSD".to_owned(),
        snapshot_json: snapshot_json.to_owned(),
    }
}

/// The host's built-in algorithm restoring an arbitrary snapshot never
/// panics, and a snapshot it accepted is reproduced by its own `snapshot`.
fn check_immediate_restore(text: &str) {
    let mut algorithm = ImmediateAlgorithm::default();
    if algorithm.restore(&restore_context(text)).is_err() {
        return;
    }
    let snapshot = algorithm
        .snapshot()
        .unwrap_or_else(|error| panic!("snapshot after restoring {text}: {error}"));
    let mut again = ImmediateAlgorithm::default();
    again
        .restore(&restore_context(&snapshot))
        .unwrap_or_else(|error| panic!("own snapshot {snapshot} refused: {error}"));
    assert_eq!(
        again.snapshot().ok().as_deref(),
        Some(snapshot.as_str()),
        "snapshot is not stable"
    );
}
