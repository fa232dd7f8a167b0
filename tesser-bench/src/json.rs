//! J: the upstream design's plugin ABI, for comparison. Every callback is one
//! JSON string in and one out (`wit/json-plugin.wit`), and the plugin is
//! snapshotted after every callback. The guest is `test-plugins/json-chase`:
//! the same chase code as `plugin_chase.wasm`, on the same engine `Config`.
//!
//! The snapshot is taken (the guest serializes its state and the host
//! receives the string) but not written to the state store, so J counts
//! only the ABI's cost, not the database's.

use std::path::Path;

use tesser_execution::wasm::{
    EngineError, PluginCallError, PluginCallErrorKind, PluginCallback, PluginLimits, engine_config,
};
use tesser_execution::{AlgorithmProvider, ExecutionAlgorithm};
use tesser_wasm::{
    PluginError, PluginEvent, PluginFill, PluginInitContext, PluginOrderUpdate, PluginResult,
    PluginTick, PluginTimer,
};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    path: "wit/json-plugin.wit",
    world: "json-plugin",
});

/// Store data of one JSON-ABI instance.
pub struct JsonHost {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for JsonHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// What the guest answers: `{"ok": …}` or `{"err": PluginError}`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer<T> {
    Ok(T),
    Err(PluginError),
}

/// Compiles the JSON-ABI component once and instantiates it per algorithm.
pub struct JsonChaseProvider {
    engine: Engine,
    pre: JsonPluginPre<JsonHost>,
}

impl JsonChaseProvider {
    /// Loads `wasm` on an engine configured like the plugin engine.
    ///
    /// # Errors
    /// The component does not compile or link.
    pub fn new(wasm: &Path, limits: &PluginLimits) -> anyhow::Result<Self> {
        let engine = Engine::new(&engine_config(limits))?;
        let component = Component::from_file(&engine, wasm)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        let pre = JsonPluginPre::new(linker.instantiate_pre(&component)?)?;
        Ok(Self { engine, pre })
    }
}

impl AlgorithmProvider for JsonChaseProvider {
    fn create(&self, name: &str) -> Result<Box<dyn ExecutionAlgorithm>, EngineError> {
        let instantiate = || -> anyhow::Result<JsonAlgorithm> {
            let host = JsonHost {
                wasi: WasiCtxBuilder::new().build(),
                table: ResourceTable::new(),
            };
            let mut store = Store::new(&self.engine, host);
            store.set_epoch_deadline(u64::MAX / 2);
            let bindings = self.pre.instantiate(&mut store)?;
            Ok(JsonAlgorithm {
                name: name.to_owned(),
                store,
                bindings,
                last_snapshot: String::new(),
            })
        };
        instantiate()
            .map(|algorithm| Box::new(algorithm) as Box<dyn ExecutionAlgorithm>)
            .map_err(|error| EngineError::Instantiate {
                name: name.to_owned(),
                reason: format!("{error:#}"),
            })
    }
}

/// One JSON-ABI chase instance.
pub struct JsonAlgorithm {
    name: String,
    store: Store<JsonHost>,
    bindings: JsonPlugin,
    last_snapshot: String,
}

impl JsonAlgorithm {
    fn error(&self, callback: PluginCallback, kind: PluginCallErrorKind) -> PluginCallError {
        PluginCallError {
            plugin: self.name.clone(),
            callback,
            kind,
        }
    }

    /// Calls `handle-json` with `event`, decodes the answer, then takes a
    /// snapshot, as the upstream design does after every callback.
    fn handle(
        &mut self,
        callback: PluginCallback,
        event: &PluginEvent,
    ) -> Result<PluginResult, PluginCallError> {
        let event_json = serde_json::to_string(event)
            .map_err(|e| self.error(callback, PluginCallErrorKind::InvalidOutput(e.to_string())))?;
        let answer = self
            .bindings
            .call_handle_json(&mut self.store, &event_json)
            .map_err(|e| self.error(callback, PluginCallErrorKind::Trap(format!("{e:#}"))))?;
        let result = self.decode::<PluginResult>(callback, &answer)?;
        self.last_snapshot = self.snapshot()?;
        Ok(result)
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        callback: PluginCallback,
        answer: &str,
    ) -> Result<T, PluginCallError> {
        match serde_json::from_str::<Answer<T>>(answer) {
            Ok(Answer::Ok(value)) => Ok(value),
            Ok(Answer::Err(error)) => Err(self.error(callback, PluginCallErrorKind::Plugin(error))),
            Err(error) => Err(self.error(
                callback,
                PluginCallErrorKind::InvalidOutput(error.to_string()),
            )),
        }
    }
}

impl ExecutionAlgorithm for JsonAlgorithm {
    fn name(&self) -> &str {
        &self.name
    }

    fn init(&mut self, ctx: &PluginInitContext) -> Result<PluginResult, PluginCallError> {
        self.handle(
            PluginCallback::Init,
            &PluginEvent::Init(Box::new(ctx.clone())),
        )
    }

    fn on_tick(&mut self, tick: &PluginTick) -> Result<PluginResult, PluginCallError> {
        self.handle(PluginCallback::OnTick, &PluginEvent::Tick(tick.clone()))
    }

    fn on_fill(&mut self, fill: &PluginFill) -> Result<PluginResult, PluginCallError> {
        self.handle(PluginCallback::OnFill, &PluginEvent::Fill(fill.clone()))
    }

    fn on_order_update(
        &mut self,
        update: &PluginOrderUpdate,
    ) -> Result<PluginResult, PluginCallError> {
        self.handle(
            PluginCallback::OnOrderUpdate,
            &PluginEvent::OrderUpdate(update.clone()),
        )
    }

    fn on_timer(&mut self, timer: PluginTimer) -> Result<PluginResult, PluginCallError> {
        self.handle(PluginCallback::OnTimer, &PluginEvent::Timer(timer))
    }

    fn snapshot(&mut self) -> Result<String, PluginCallError> {
        let answer = self.bindings.call_snapshot(&mut self.store).map_err(|e| {
            self.error(
                PluginCallback::Snapshot,
                PluginCallErrorKind::Trap(format!("{e:#}")),
            )
        })?;
        self.decode::<String>(PluginCallback::Snapshot, &answer)
    }

    fn restore(&mut self, _ctx: &tesser_wasm::PluginRestoreContext) -> Result<(), PluginCallError> {
        Err(self.error(
            PluginCallback::Restore,
            PluginCallErrorKind::InvalidOutput(
                "the benchmark's JSON-ABI plugin does not restore".to_owned(),
            ),
        ))
    }
}
