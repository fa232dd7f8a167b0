//! `tesser_wasm::ExecutionPlugin::write_snapshot` in the native runtime the
//! host runs: the runtime stores what it writes, the default writes
//! `snapshot()`'s value, and a debug runtime refuses an override that
//! writes another document.

use serde::Serialize;
use tesser_wasm::{ExecutionPlugin, PluginError, PluginInitContext, PluginResult, PluginRuntime};

/// State with a decimal, a string that needs escaping and a nested list.
#[derive(Default, Serialize)]
struct Clips {
    done: Vec<rust_decimal::Decimal>,
    note: String,
}

impl Clips {
    fn sample() -> Self {
        Self {
            done: vec![
                rust_decimal::Decimal::new(25, 2),
                rust_decimal::Decimal::new(5, 1),
            ],
            note: "a \"quoted\" note\n".to_owned(),
        }
    }
}

/// Only `snapshot`: the runtime's default `write_snapshot` serializes it.
#[derive(Default)]
struct ValueOnly(Clips);

impl ExecutionPlugin for ValueOnly {
    fn init(&mut self, _ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        Ok(PluginResult::new())
    }
    fn snapshot(&self) -> Result<serde_json::Value, PluginError> {
        serde_json::to_value(&self.0).map_err(|e| PluginError::internal(e.to_string()))
    }
}

/// Both, agreeing: the direct writer.
#[derive(Default)]
struct Direct(Clips);

impl ExecutionPlugin for Direct {
    fn init(&mut self, _ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        Ok(PluginResult::new())
    }
    fn snapshot(&self) -> Result<serde_json::Value, PluginError> {
        serde_json::to_value(&self.0).map_err(|e| PluginError::internal(e.to_string()))
    }
    fn write_snapshot(&self, out: &mut Vec<u8>) -> Result<(), PluginError> {
        serde_json::to_writer(out, &self.0).map_err(|e| PluginError::internal(e.to_string()))
    }
}

/// Both, disagreeing: `write_snapshot` forgets a field.
#[derive(Default)]
struct Disagreeing(Clips);

impl ExecutionPlugin for Disagreeing {
    fn init(&mut self, _ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        Ok(PluginResult::new())
    }
    fn snapshot(&self) -> Result<serde_json::Value, PluginError> {
        serde_json::to_value(&self.0).map_err(|e| PluginError::internal(e.to_string()))
    }
    fn write_snapshot(&self, out: &mut Vec<u8>) -> Result<(), PluginError> {
        serde_json::to_writer(out, &serde_json::json!({ "done": self.0.done }))
            .map_err(|e| PluginError::internal(e.to_string()))
    }
}

#[test]
fn the_default_writer_and_a_direct_one_store_the_same_document() {
    let by_value = PluginRuntime::from_plugin(ValueOnly(Clips::sample()))
        .snapshot()
        .expect("snapshot by value");
    let direct = PluginRuntime::from_plugin(Direct(Clips::sample()))
        .snapshot()
        .expect("direct snapshot");
    assert_eq!(by_value, direct);
    let parsed: serde_json::Value = serde_json::from_str(&direct).expect("JSON");
    assert_eq!(
        parsed,
        serde_json::json!({"done": ["0.25", "0.5"], "note": "a \"quoted\" note\n"})
    );
}

#[test]
fn a_plugin_without_state_snapshots_null() {
    #[derive(Default)]
    struct Stateless;
    impl ExecutionPlugin for Stateless {
        fn init(&mut self, _ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
            Ok(PluginResult::new())
        }
    }
    let snapshot = PluginRuntime::from_plugin(Stateless)
        .snapshot()
        .expect("snapshot");
    assert_eq!(snapshot, "null");
}

#[cfg(debug_assertions)]
#[test]
fn a_debug_runtime_refuses_a_writer_that_disagrees_with_snapshot() {
    let error = PluginRuntime::from_plugin(Disagreeing(Clips::sample()))
        .snapshot()
        .expect_err("the documents differ");
    let text = error.to_string();
    assert!(
        text.contains("write_snapshot wrote") && text.contains("must give the same document"),
        "{text}"
    );
}
