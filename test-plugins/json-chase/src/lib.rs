//! `plugin-chase` behind the upstream design's ABI: every event arrives as a
//! JSON string and every result leaves as one (see
//! `tesser-bench/wit/json-plugin.wit`). The algorithm is the same code as the
//! typed plugin, driven by the SDK's `PluginRuntime::handle_json`.

use std::cell::RefCell;

use plugin_chase::ChasePlugin;
use tesser_wasm::PluginRuntime;

wit_bindgen::generate!({
    path: "../../tesser-bench/wit",
    world: "json-plugin",
});

thread_local! {
    static RUNTIME: RefCell<PluginRuntime<ChasePlugin>> = RefCell::new(PluginRuntime::new());
}

/// `{"ok": value}` or `{"err": error}` as JSON.
fn answer<T: serde::Serialize, E: serde::Serialize>(result: Result<T, E>) -> String {
    let value = match result {
        Ok(value) => serde_json::json!({ "ok": value }),
        Err(error) => serde_json::json!({ "err": error }),
    };
    value.to_string()
}

struct Plugin;

impl Guest for Plugin {
    fn handle_json(event_json: String) -> String {
        answer(RUNTIME.with(|runtime| runtime.borrow_mut().handle_json(&event_json)))
    }

    fn snapshot() -> String {
        answer(RUNTIME.with(|runtime| runtime.borrow_mut().snapshot()))
    }
}

export!(Plugin);
