//! The plugin round trip: real `.wasm` plugins built from this workspace,
//! loaded and driven through `WasmPluginEngine`.

mod common;

use std::path::Path;

use common::{WasmTarget, plugin_wasm, plugins_dir};
use plugin_chase::ChasePlugin;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_execution::wasm::{
    EngineError, GuestStream, PluginCallErrorKind, PluginCallback, PluginInstance, PluginLimits,
    PluginSource, WasmPluginEngine,
};
use tesser_wasm::{
    ABI_VERSION, PluginChildOrderAction, PluginErrorKind, PluginEvent, PluginInitContext,
    PluginLogLevel, PluginOrderRequest, PluginOrderType, PluginOrderUpdateRequest, PluginResult,
    PluginRuntime, PluginSide, PluginSignal, PluginTick, PluginTimer,
};

const PART1: &str = include_str!("fixtures/chase_part1.jsonl");
const PART2: &str = include_str!("fixtures/chase_part2.jsonl");

fn events(fixture: &str) -> Vec<PluginEvent> {
    fixture
        .lines()
        .map(|line| serde_json::from_str(line).expect("fixture line"))
        .collect()
}

/// Anything that can run the chase scenario: a wasm instance or the native runtime.
trait Driver {
    fn handle(&mut self, event: PluginEvent) -> PluginResult;
    /// Snapshots, throws the instance away and restores a fresh one.
    fn snapshot_and_restore(&mut self) -> String;
}

struct WasmDriver {
    _dir: tempfile::TempDir,
    engine: WasmPluginEngine,
    name: String,
    instance: PluginInstance,
}

impl Driver for WasmDriver {
    fn handle(&mut self, event: PluginEvent) -> PluginResult {
        let result = match event {
            PluginEvent::Init(ctx) => self.instance.init(&ctx),
            PluginEvent::Tick(tick) => self.instance.on_tick(&tick),
            PluginEvent::Fill(fill) => self.instance.on_fill(&fill),
            PluginEvent::OrderUpdate(update) => self.instance.on_order_update(&update),
            PluginEvent::Timer(timer) => self.instance.on_timer(timer),
        };
        result.expect("plugin call")
    }

    fn snapshot_and_restore(&mut self) -> String {
        let snapshot = self.instance.snapshot().expect("snapshot");
        self.instance = self.engine.instantiate(&self.name).expect("fresh instance");
        let ctx = tesser_wasm::PluginRestoreContext {
            algorithm_id: "algo-1".to_owned(),
            symbol: "BTCUSD".to_owned(),
            snapshot_json: snapshot.clone(),
        };
        self.instance.restore(&ctx).expect("restore");
        snapshot
    }
}

struct NativeDriver(PluginRuntime<ChasePlugin>);

impl Driver for NativeDriver {
    fn handle(&mut self, event: PluginEvent) -> PluginResult {
        self.0.handle(event).expect("native call")
    }

    fn snapshot_and_restore(&mut self) -> String {
        let snapshot = self.0.snapshot().expect("snapshot");
        self.0 = PluginRuntime::new();
        self.0.restore(&snapshot).expect("restore");
        snapshot
    }
}

fn run_scenario(driver: &mut dyn Driver) -> (Vec<PluginResult>, String) {
    let mut results: Vec<PluginResult> = events(PART1)
        .into_iter()
        .map(|e| driver.handle(e))
        .collect();
    let snapshot = driver.snapshot_and_restore();
    results.extend(events(PART2).into_iter().map(|e| driver.handle(e)));
    (results, snapshot)
}

fn wasm_driver(target: WasmTarget) -> WasmDriver {
    let dir = plugins_dir(&[(target, "plugin-chase", "plugin_chase")]);
    let engine = WasmPluginEngine::new(dir.path()).expect("engine");
    let instance = engine.instantiate("plugin_chase").expect("instantiate");
    let expected_source = match target {
        WasmTarget::P2 => PluginSource::Component,
        WasmTarget::P1 => PluginSource::CoreModule,
    };
    assert_eq!(instance.plugin().source(), expected_source);
    WasmDriver {
        _dir: dir,
        engine,
        name: "plugin_chase".to_owned(),
        instance,
    }
}

fn place(quantity: Decimal, price: Decimal) -> PluginChildOrderAction {
    PluginChildOrderAction::Place(PluginOrderRequest {
        symbol: "BTCUSD".to_owned(),
        side: PluginSide::Buy,
        order_type: PluginOrderType::Limit,
        quantity,
        price: Some(price),
        ..PluginOrderRequest::default()
    })
}

fn amend(client_order_id: &str, price: Decimal) -> PluginChildOrderAction {
    PluginChildOrderAction::Amend(PluginOrderUpdateRequest {
        client_order_id: client_order_id.to_owned(),
        new_price: Some(price),
        new_quantity: None,
    })
}

/// The exact behaviour the chase scenario must show, event by event.
fn assert_chase_scenario(results: &[PluginResult]) {
    assert_eq!(results.len(), 14);
    // init: first clip at the last price, and a log line.
    assert_eq!(results[0].orders, vec![place(dec!(0.2), dec!(10749.4))]);
    assert_eq!(results[0].logs.len(), 1);
    assert_eq!(results[0].logs[0].level, PluginLogLevel::Info);
    assert_eq!(
        results[0].logs[0].message,
        "chase Buy 0.5 BTCUSD in clips of 0.2"
    );
    // ack: nothing to do.
    assert!(results[1].is_empty());
    // A new price: the working clip follows it; the same price again: nothing.
    assert_eq!(results[2].orders, vec![amend("algo-1-0001", dec!(10759.1))]);
    assert!(results[3].is_empty());
    // The fill leaves 0.3; the clip's close places the next one.
    assert!(results[4].is_empty());
    assert_eq!(results[5].orders, vec![place(dec!(0.2), dec!(10759.1))]);
    // -- snapshot, fresh instance, restore --
    assert!(results[6].is_empty(), "ack after restore");
    assert!(results[7].is_empty(), "timer while a clip works");
    assert_eq!(results[8].orders, vec![amend("algo-1-0002", dec!(10750.0))]);
    assert!(results[9].is_empty());
    assert!(
        results[10].is_empty(),
        "partial fill keeps the clip working"
    );
    // Cancelled with 0.15 filled: 0.15 left, placed as one clip, with a warning.
    assert_eq!(results[11].orders, vec![place(dec!(0.15), dec!(10750.0))]);
    assert_eq!(results[11].logs[0].level, PluginLogLevel::Warn);
    assert!(
        results[11].logs[0]
            .message
            .contains("cancelled by operator")
    );
    assert!(results[12].is_empty());
    // Last fill: completed.
    assert!(results[13].is_completed());
    assert_eq!(results[13].logs[0].message, "chase done: 0.5 filled");
    assert!(results[..13].iter().all(|result| !result.is_completed()));
}

#[test]
fn plugin_chase_round_trip_matches_native_on_both_targets() {
    let (native, native_snapshot) = run_scenario(&mut NativeDriver(PluginRuntime::new()));
    assert_chase_scenario(&native);

    for target in [WasmTarget::P2, WasmTarget::P1] {
        let (results, snapshot) = run_scenario(&mut wasm_driver(target));
        assert_chase_scenario(&results);
        assert_eq!(results, native, "{target:?} differs from the native run");
        assert_eq!(snapshot, native_snapshot, "{target:?} snapshot differs");
    }
    // The snapshot carries the state the second half needed.
    let state: ChasePlugin = serde_json::from_str(&native_snapshot).expect("snapshot JSON");
    assert_eq!(state.remaining, dec!(0.3));
    assert_eq!(state.working.expect("a clip works").quantity, dec!(0.2));
}

#[test]
fn seed_quick_start_plugin_emits_its_child_orders() {
    // The seed's step-3 code is in test-plugins/chase-execution unchanged, and
    // so is the copy in tesser-wasm/README.md.
    let ours = std::fs::read_to_string(
        common::workspace_root().join("test-plugins/chase-execution/src/lib.rs"),
    )
    .expect("seed plugin source");
    let indented: String = ours.lines().map(|line| format!("   {line}\n")).collect();
    let normalize = |text: &str| {
        text.lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let seed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seed/tesser-wasm-README.md");
    let sdk_readme = common::workspace_root().join("tesser-wasm/README.md");
    for readme in [seed, sdk_readme] {
        // The seed lives outside the repository; CI has it, a bare clone may not.
        let Ok(text) = std::fs::read_to_string(&readme) else {
            continue;
        };
        assert!(
            normalize(&text).contains(normalize(&indented).trim_end()),
            "test-plugins/chase-execution/src/lib.rs differs from the step-3 code of {}",
            readme.display()
        );
    }

    let dir = plugins_dir(&[(WasmTarget::P2, "chase-execution", "chase_execution")]);
    let engine = WasmPluginEngine::new(dir.path()).expect("engine");
    let mut instance = engine.instantiate("chase_execution").expect("instantiate");
    assert_eq!(instance.abi_version().expect("abi"), ABI_VERSION);
    assert_eq!(
        instance.metadata().expect("metadata").name,
        "chase-execution"
    );

    let ctx = PluginInitContext {
        signal: PluginSignal {
            symbol: "BTCUSDT".to_owned(),
            side: PluginSide::Sell,
            target_quantity: dec!(0.25),
            ..PluginSignal::default()
        },
        risk: tesser_wasm::PluginRiskContext {
            last_price: dec!(64000.5),
            ..Default::default()
        },
        ..PluginInitContext::default()
    };
    assert!(instance.init(&ctx).expect("init").is_empty());
    let tick = PluginTick {
        symbol: "BTCUSDT".to_owned(),
        price: dec!(64001.0),
        size: dec!(1),
        aggressor: None,
        timestamp_ms: 1,
    };
    assert!(instance.on_tick(&tick).expect("tick").is_empty());

    let mut slices = Vec::new();
    for now_ms in 0..4 {
        let result = instance.on_timer(PluginTimer { now_ms }).expect("timer");
        match result.orders.as_slice() {
            [PluginChildOrderAction::Place(order)] => {
                assert_eq!(order.symbol, "BTCUSDT");
                assert_eq!(order.side, PluginSide::Sell);
                assert_eq!(order.order_type, PluginOrderType::Limit);
                assert_eq!(order.price, Some(dec!(64001.0)));
                slices.push(order.quantity);
            }
            [] => {
                assert!(
                    result.is_completed(),
                    "no order and not completed at {now_ms}"
                );
                break;
            }
            other => panic!("unexpected actions {other:?}"),
        }
    }
    assert_eq!(slices, vec![dec!(0.1), dec!(0.1), dec!(0.05)]);
}

#[test]
fn missing_plugin_lists_the_available_ones() {
    let dir = plugins_dir(&[(WasmTarget::P2, "plugin-chase", "plugin_chase")]);
    std::fs::write(dir.path().join("twap.wasm"), b"not yet").expect("write");
    let engine = WasmPluginEngine::new(dir.path()).expect("engine");
    let error = engine.instantiate("vwap").expect_err("no such plugin");
    assert!(matches!(error, EngineError::NotFound { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("plugin 'vwap' not found"), "{message}");
    assert!(
        message.contains("available plugins: plugin_chase, twap"),
        "{message}"
    );
}

/// The pool holds `max_instances` instances: one more fails with an error
/// naming the setting, and a slot freed by a dropped instance is reused.
#[test]
fn instances_beyond_max_instances_are_refused_naming_the_limit() {
    let dir = plugins_dir(&[(WasmTarget::P2, "plugin-chase", "plugin_chase")]);
    let limits = PluginLimits {
        max_instances: 2,
        ..PluginLimits::default()
    };
    let engine = WasmPluginEngine::with_limits(dir.path(), limits).expect("engine");
    let first = engine.instantiate("plugin_chase").expect("first instance");
    let _second = engine.instantiate("plugin_chase").expect("second instance");
    let error = engine
        .instantiate("plugin_chase")
        .expect_err("a third instance exceeds the pool");
    assert!(
        matches!(error, EngineError::Instantiate { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("at most 2 plugin instances may be alive at once (plugins.max_instances)"),
        "{message}"
    );
    drop(first);
    engine
        .instantiate("plugin_chase")
        .expect("a freed slot is reused");
}

/// The pool resets a memory slot between instances by scanning its resident
/// pages (`PAGEMAP_SCAN`) and zeroing those it keeps resident: whatever one
/// instance wrote, the next instance in the same slot must find zeroes.
#[test]
fn a_reused_memory_slot_holds_nothing_of_the_previous_instance() {
    let dir = plugins_dir(&[(WasmTarget::P2, "scripted", "scripted")]);
    let limits = PluginLimits {
        // One slot: every instance reuses the previous one's memory.
        max_instances: 1,
        ..PluginLimits::default()
    };
    let engine = WasmPluginEngine::with_limits(dir.path(), limits).expect("engine");
    for mark in 1..=5_u64 {
        let mut instance = engine.instantiate("scripted").expect("instance");
        let ctx = PluginInitContext {
            params: serde_json::json!({ "steps": [
                { "on": "init", "mark": mark },
                { "on": "timer", "mark": 0 },
            ] }),
            ..PluginInitContext::default()
        };
        let logs = |result: &PluginResult| -> Vec<String> {
            result.logs.iter().map(|l| l.message.clone()).collect()
        };
        let result = instance.init(&ctx).expect("init");
        assert_eq!(logs(&result), ["mark found 0"], "instance {mark}");
        // Within one instance the mark is found: the probe can see one.
        let result = instance.on_timer(PluginTimer { now_ms: 1 }).expect("timer");
        assert_eq!(logs(&result), [format!("mark found {mark}")]);
    }
}

#[test]
fn names_that_escape_the_directory_are_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let engine = WasmPluginEngine::new(dir.path().join("plugins")).expect("engine");
    std::fs::write(dir.path().join("x.wasm"), b"\0asm").expect("write");
    for name in ["../x", "a/b", "..", "", "/etc/passwd", "x.wasm", "C:\\x"] {
        let error = engine.instantiate(name).expect_err(name);
        assert!(
            matches!(error, EngineError::InvalidName { .. }),
            "{name}: {error:?}"
        );
        assert!(error.to_string().contains("invalid plugin name"), "{error}");
    }
}

#[test]
fn garbage_bytes_are_not_a_plugin() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("junk.wasm"),
        b"MZ\x90\0 definitely not wasm",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("truncated.wasm"),
        b"\0asm\x01\0\0\0\x01\x05",
    )
    .expect("write");
    let engine = WasmPluginEngine::new(dir.path()).expect("engine");
    let error = engine.instantiate("junk").expect_err("garbage");
    assert!(matches!(error, EngineError::NotWasm { .. }), "{error:?}");
    assert!(
        error.to_string().contains("not a WebAssembly plugin"),
        "{error}"
    );
    let error = engine.instantiate("truncated").expect_err("truncated");
    assert!(matches!(error, EngineError::Compile { .. }), "{error:?}");
}

#[test]
fn a_component_without_the_exports_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let empty = wat::parse_str("(component)").expect("wat");
    std::fs::write(dir.path().join("empty.wasm"), empty).expect("write");
    let engine = WasmPluginEngine::new(dir.path()).expect("engine");
    let error = engine.instantiate("empty").expect_err("no exports");
    assert!(
        matches!(error, EngineError::MissingExports { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("tesser:plugin/guest@2.0.0"), "{message}");
    assert!(message.contains("export_plugin!"), "{message}");
}

#[test]
fn a_plugin_for_an_older_abi_major_is_refused_naming_both_versions() {
    let dir = plugins_dir(&[(WasmTarget::P2, "abi-v1", "legacy")]);
    let engine = WasmPluginEngine::new(dir.path()).expect("engine");
    let error = engine.instantiate("legacy").expect_err("abi mismatch");
    assert!(
        matches!(error, EngineError::AbiMismatch { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("plugin ABI 1.0.0"), "{message}");
    assert!(
        message.contains(&format!("host speaks ABI {ABI_VERSION}")),
        "{message}"
    );
}

#[test]
fn hot_reload_serves_new_code_to_new_instances_only() {
    let dir = plugins_dir(&[(WasmTarget::P2, "plugin-chase", "algo")]);
    let engine = WasmPluginEngine::new(dir.path()).expect("engine");
    let mut old = engine.instantiate("algo").expect("old");
    assert_eq!(old.metadata().expect("metadata").name, "plugin-chase");
    // The same file again comes from the cache.
    assert!(std::sync::Arc::ptr_eq(
        old.plugin(),
        &engine.load("algo").expect("cached")
    ));

    // Replace the file (write to a temporary name, then rename, as deploys do).
    let staged = dir.path().join("algo.wasm.new");
    std::fs::copy(plugin_wasm(WasmTarget::P2, "chase-execution"), &staged).expect("copy");
    std::fs::rename(&staged, dir.path().join("algo.wasm")).expect("rename");

    let mut new = engine.instantiate("algo").expect("new");
    assert_eq!(new.metadata().expect("metadata").name, "chase-execution");
    assert_eq!(old.metadata().expect("metadata").name, "plugin-chase");
    // The old instance still runs the old code: plugin-chase places a clip on init.
    let ctx: PluginInitContext = match events(PART1).remove(0) {
        PluginEvent::Init(ctx) => *ctx,
        other => panic!("fixture starts with {other:?}"),
    };
    assert_eq!(old.init(&ctx).expect("old init").orders.len(), 1);
    assert_eq!(new.init(&ctx).expect("new init").orders.len(), 0);
}

#[test]
fn params_that_break_the_plugins_schema_are_refused_before_init_with_the_schemas_message() {
    let dir = plugins_dir(&[(WasmTarget::P2, "plugin-chase", "plugin_chase")]);
    let engine = WasmPluginEngine::new(dir.path()).expect("engine");
    let plugin = engine.load("plugin_chase").expect("load");
    let schema = plugin
        .metadata()
        .params_schema
        .as_ref()
        .expect("plugin-chase declares a params schema");
    assert_eq!(schema["additionalProperties"], serde_json::json!(false));

    let mut ctx = PluginInitContext::default();
    ctx.signal.target_quantity = dec!(1);
    ctx.risk.last_price = dec!(100);
    // The chase's own `init` ignores unknown keys and would start: only the
    // schema refuses this, so the refusal proves it came before `init`.
    ctx.params = serde_json::json!({ "clip_size": "0.5", "clip_sise": "0.25" });
    let mut chase = engine.instantiate("plugin_chase").expect("chase");
    let error = chase.init(&ctx).expect_err("schema violation");
    assert_eq!(error.callback, PluginCallback::Init);
    let PluginCallErrorKind::Plugin(plugin_error) = &error.kind else {
        panic!("expected a plugin error, got {error:?}");
    };
    assert_eq!(plugin_error.kind, PluginErrorKind::InvalidParams);
    assert!(
        plugin_error
            .message
            .contains("Additional properties are not allowed ('clip_sise' was unexpected)"),
        "{error}"
    );
    // The refused instance never started: a valid init still works on it.
    ctx.params = serde_json::json!({ "clip_size": true });
    let error = chase.init(&ctx).expect_err("wrong type");
    assert!(error.to_string().contains("(at /clip_size)"), "{error}");
    ctx.params = serde_json::json!({ "clip_size": "0.5" });
    let started = chase.init(&ctx).expect("valid params start the algorithm");
    assert_eq!(started.orders.len(), 1, "{started:?}");
}

#[test]
fn plugin_errors_and_traps_name_the_plugin_and_the_callback() {
    let dir = plugins_dir(&[
        (WasmTarget::P2, "plugin-chase", "plugin_chase"),
        (WasmTarget::P2, "panicky", "panicky"),
    ]);
    let engine = WasmPluginEngine::new(dir.path()).expect("engine");

    // A plugin error: bad params.
    let mut chase = engine.instantiate("plugin_chase").expect("chase");
    let mut ctx = PluginInitContext {
        params: serde_json::json!({ "clip_size": "0" }),
        ..PluginInitContext::default()
    };
    ctx.signal.target_quantity = dec!(1);
    let error = chase.init(&ctx).expect_err("bad params");
    assert_eq!(error.plugin, "plugin_chase");
    assert_eq!(error.callback, PluginCallback::Init);
    match &error.kind {
        PluginCallErrorKind::Plugin(plugin_error) => {
            assert_eq!(plugin_error.kind, PluginErrorKind::InvalidParams);
            assert_eq!(plugin_error.message, "clip_size must be positive, got 0");
        }
        other => panic!("expected a plugin error, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "plugin 'plugin_chase' failed in init: plugin error: invalid params: clip_size must be positive, got 0"
    );

    // Output becomes bounded log lines.
    let mut panicky = engine.instantiate("panicky").expect("panicky");
    panicky.init(&PluginInitContext::default()).expect("init");
    let output = panicky.take_output();
    assert_eq!(output.len(), 2, "{output:?}");
    assert_eq!(output[0].stream, GuestStream::Stdout);
    assert_eq!(output[0].line, "hello from init");
    assert_eq!(output[1].stream, GuestStream::Stderr);
    assert_eq!(output[1].line, "a warning on stderr");

    let flood = panicky.on_timer(PluginTimer { now_ms: 0 }).expect("flood");
    assert_eq!(flood.logs[0].message, "flooded");
    let output = panicky.take_output();
    let kept: usize = output.iter().map(|line| line.line.len() + 1).sum();
    assert!(
        kept <= engine.limits().max_output_bytes + 128,
        "kept {kept} bytes"
    );
    let last = output.last().expect("output");
    assert!(
        last.line
            .contains("more bytes dropped: output limit reached"),
        "{}",
        last.line
    );

    // A panic is a trap: an error naming plugin, callback and the panic message.
    let tick = PluginTick {
        symbol: "BTCUSD".to_owned(),
        price: dec!(10749.4),
        ..PluginTick::default()
    };
    let error = panicky.on_tick(&tick).expect_err("panic");
    assert_eq!(error.callback, PluginCallback::OnTick);
    let message = error.to_string();
    assert!(
        message.starts_with("plugin 'panicky' failed in on_tick: trap:"),
        "{message}"
    );
    assert!(message.contains("boom at price 10749.4"), "{message}");
    // The instance is dead; the engine and other instances are not.
    let error = panicky
        .on_timer(PluginTimer { now_ms: 1 })
        .expect_err("unusable");
    assert!(
        matches!(error.kind, PluginCallErrorKind::Unusable(_)),
        "{error:?}"
    );
    let mut fresh = engine.instantiate("panicky").expect("fresh instance");
    fresh
        .init(&PluginInitContext::default())
        .expect("fresh init");
}
