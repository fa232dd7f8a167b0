//! Instance recycling and per-plugin limits, with a real plugin that leaks
//! memory on every event and traps when one instance has taken too many
//! events (as StarlingMonkey, the JavaScript runtime, does): the host moves
//! the algorithm to a fresh instance (snapshot → new instance → restore)
//! between two events, and the algorithm never notices. Also: a component
//! importing `wasi:http` is refused, naming the import.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{WasmTarget, plugins_dir};
use rust_decimal::Decimal;
use tesser_execution::wasm::{
    EngineError, PluginCallErrorKind, PluginLimits, PluginOverrides, RecyclePolicy,
    WasmPluginEngine,
};
use tesser_wasm::{PluginInitContext, PluginResult, PluginSignal, PluginTick};

fn engine(limits: PluginLimits) -> (tempfile::TempDir, WasmPluginEngine) {
    let dir = plugins_dir(&[(WasmTarget::P2, "leaky", "leaky")]);
    let engine = WasmPluginEngine::with_limits(dir.path(), limits).expect("engine");
    (dir, engine)
}

fn init_context(params: serde_json::Value) -> PluginInitContext {
    PluginInitContext {
        algorithm_id: "algo-1".to_owned(),
        signal: PluginSignal {
            symbol: "BTCUSDT".to_owned(),
            ..PluginSignal::default()
        },
        params,
        ..PluginInitContext::default()
    }
}

fn tick(n: i64) -> PluginTick {
    PluginTick {
        symbol: "BTCUSDT".to_owned(),
        price: Decimal::from(100),
        size: Decimal::ONE,
        timestamp_ms: n,
        ..PluginTick::default()
    }
}

/// Drives `ticks` ticks and returns the completing result.
fn run(engine: &WasmPluginEngine, params: serde_json::Value, ticks: i64) -> (PluginResult, u64) {
    let mut instance = engine.instantiate("leaky").expect("instance");
    instance.init(&init_context(params)).expect("init");
    for n in 1..ticks {
        let result = instance.on_tick(&tick(n)).expect("tick");
        assert!(!result.is_completed(), "completed early at tick {n}");
    }
    let last = instance.on_tick(&tick(ticks)).expect("last tick");
    (last, instance.recycle_count())
}

fn limits(recycle: RecyclePolicy) -> PluginLimits {
    PluginLimits {
        max_memory_bytes: 16 << 20,
        callback_deadline: Duration::from_secs(2),
        max_instances: 8,
        recycle,
        ..PluginLimits::default()
    }
}

#[test]
fn an_instance_worn_out_by_calls_is_recycled_and_the_algorithm_goes_on() {
    let params = serde_json::json!({ "trap_after": 250, "complete_after": 1000 });
    // Without recycling the plugin traps on its 251st event.
    let (_dir, never) = engine(limits(RecyclePolicy::NEVER));
    let mut instance = never.instantiate("leaky").expect("instance");
    instance.init(&init_context(params.clone())).expect("init");
    let error = (1..=1000)
        .find_map(|n| instance.on_tick(&tick(n)).err())
        .expect("the worn-out instance traps");
    assert!(
        matches!(&error.kind, PluginCallErrorKind::Trap(reason) if reason.contains("worn out")),
        "{error}"
    );
    // Recycled every 200 events, it completes with its count intact.
    let (_dir, recycling) = engine(limits(RecyclePolicy {
        after_calls: Some(200),
        above_memory_percent: None,
    }));
    let (last, recycles) = run(&recycling, params, 1000);
    assert!(last.is_completed());
    let log = &last.logs[0].message;
    // 1000 ticks in all; the last instance took ticks 801..=1000.
    assert_eq!(log, "ticks=1000 instance_events=200", "{log}");
    assert_eq!(recycles, 4);
}

#[test]
fn an_instance_that_leaks_is_recycled_before_its_memory_limit() {
    // 64 KiB per tick: 2,000 ticks leak 125 MiB, far above the 16 MiB limit.
    let params = serde_json::json!({ "leak_bytes": 65_536, "complete_after": 2000 });
    let (_dir, never) = engine(limits(RecyclePolicy::NEVER));
    let mut instance = never.instantiate("leaky").expect("instance");
    instance.init(&init_context(params.clone())).expect("init");
    let error = (1..=2000)
        .find_map(|n| instance.on_tick(&tick(n)).err())
        .expect("the leak reaches the limit");
    let message = error.to_string();
    assert!(
        message.contains("memory limit exceeded") && message.contains("the limit is 16 MiB"),
        "{message}"
    );
    assert!(message.contains("[plugins.limits.leaky]"), "{message}");
    let (_dir, recycling) = engine(limits(RecyclePolicy {
        after_calls: None,
        above_memory_percent: Some(50),
    }));
    let (last, recycles) = run(&recycling, params, 2000);
    assert!(last.is_completed());
    assert!(last.logs[0].message.starts_with("ticks=2000 "), "{last:?}");
    // Each instance reaches 8 MiB after a little under 128 ticks.
    assert!((10..=40).contains(&recycles), "{recycles} recycles");
}

#[test]
fn a_per_plugin_memory_limit_applies_to_that_plugin_alone() {
    let params = serde_json::json!({ "leak_bytes": 65_536, "complete_after": 100 });
    let mut per_plugin = BTreeMap::new();
    per_plugin.insert(
        "leaky".to_owned(),
        PluginOverrides {
            max_memory_bytes: Some(4 << 20),
            ..PluginOverrides::default()
        },
    );
    let (_dir, engine) = engine(PluginLimits {
        per_plugin,
        ..limits(RecyclePolicy::NEVER)
    });
    let mut instance = engine.instantiate("leaky").expect("instance");
    instance.init(&init_context(params)).expect("init");
    let error = (1..=100)
        .find_map(|n| instance.on_tick(&tick(n)).err())
        .expect("6 MiB of leaks break a 4 MiB limit");
    assert!(error.to_string().contains("the limit is 4 MiB"), "{error}");
}

#[test]
fn a_component_importing_wasi_http_is_refused_naming_the_import() {
    let dir = tempfile::tempdir().expect("temp dir");
    let component =
        wat::parse_str(r#"(component (import "wasi:http/outgoing-handler@0.2.0" (instance)))"#)
            .expect("wat");
    std::fs::write(dir.path().join("fetcher.wasm"), component).expect("write");
    let engine =
        WasmPluginEngine::with_limits(dir.path(), PluginLimits::default()).expect("engine");
    let error = engine.load("fetcher").expect_err("refused");
    assert!(
        matches!(error, EngineError::ForbiddenImport { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("imports `wasi:http/outgoing-handler@0.2.0`")
            && message.contains("-d http fetch-event"),
        "{message}"
    );
}
