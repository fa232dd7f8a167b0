//! N: the chase compiled into the host, behind the same algorithm trait the
//! orchestrator drives a `.wasm` plugin through. What is left is the
//! runtime's own work: the physical limit of a tick's cost.

use tesser_execution::wasm::{EngineError, PluginCallError, PluginCallErrorKind, PluginCallback};
use tesser_execution::{AlgorithmProvider, ExecutionAlgorithm};
use tesser_wasm::{
    ExecutionPlugin, PluginError, PluginFill, PluginInitContext, PluginOrderUpdate, PluginResult,
    PluginRestoreContext, PluginRuntime, PluginTick, PluginTimer,
};

/// An [`ExecutionPlugin`] run in-process by the SDK's own [`PluginRuntime`].
pub struct NativeAlgorithm<P: ExecutionPlugin> {
    name: String,
    runtime: PluginRuntime<P>,
}

impl<P: ExecutionPlugin + Default> NativeAlgorithm<P> {
    /// A fresh algorithm called `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            runtime: PluginRuntime::new(),
        }
    }
}

impl<P: ExecutionPlugin> NativeAlgorithm<P> {
    fn answer<T>(
        &self,
        callback: PluginCallback,
        result: Result<T, PluginError>,
    ) -> Result<T, PluginCallError> {
        result.map_err(|error| PluginCallError {
            plugin: self.name.clone(),
            callback,
            kind: PluginCallErrorKind::Plugin(error),
        })
    }
}

impl<P: ExecutionPlugin> ExecutionAlgorithm for NativeAlgorithm<P> {
    fn name(&self) -> &str {
        &self.name
    }

    fn init(&mut self, ctx: &PluginInitContext) -> Result<PluginResult, PluginCallError> {
        let result = self.runtime.init(ctx.clone());
        self.answer(PluginCallback::Init, result)
    }

    fn on_tick(&mut self, tick: &PluginTick) -> Result<PluginResult, PluginCallError> {
        let result = self.runtime.on_tick(tick.clone());
        self.answer(PluginCallback::OnTick, result)
    }

    fn on_fill(&mut self, fill: &PluginFill) -> Result<PluginResult, PluginCallError> {
        let result = self.runtime.on_fill(fill.clone());
        self.answer(PluginCallback::OnFill, result)
    }

    fn on_order_update(
        &mut self,
        update: &PluginOrderUpdate,
    ) -> Result<PluginResult, PluginCallError> {
        let result = self.runtime.on_order_update(update.clone());
        self.answer(PluginCallback::OnOrderUpdate, result)
    }

    fn on_timer(&mut self, timer: PluginTimer) -> Result<PluginResult, PluginCallError> {
        let result = self.runtime.on_timer(timer);
        self.answer(PluginCallback::OnTimer, result)
    }

    fn snapshot(&mut self) -> Result<String, PluginCallError> {
        let result = self.runtime.snapshot();
        self.answer(PluginCallback::Snapshot, result)
    }

    fn restore(&mut self, ctx: &PluginRestoreContext) -> Result<(), PluginCallError> {
        let result = self.runtime.restore(&ctx.snapshot_json);
        self.answer(PluginCallback::Restore, result)
    }
}

/// Creates native chase algorithms under any name.
pub struct NativeChaseProvider;

impl AlgorithmProvider for NativeChaseProvider {
    fn create(&self, name: &str) -> Result<Box<dyn ExecutionAlgorithm>, EngineError> {
        Ok(Box::new(NativeAlgorithm::<plugin_chase::ChasePlugin>::new(
            name,
        )))
    }
}
