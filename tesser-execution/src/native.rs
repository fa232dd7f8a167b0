//! Execution plugins compiled into the host: an [`ExecutionPlugin`] run
//! in-process by the SDK's own [`PluginRuntime`], behind the same
//! [`ExecutionAlgorithm`] trait the orchestrator drives a `.wasm` plugin
//! through.
//!
//! Uses: tests that run a plugin crate natively through the real
//! [`Orchestrator`](crate::Orchestrator), benchmarks that measure the
//! runtime's own cost, and hosts that ship trusted algorithms without a
//! sandbox. The plugin behaves exactly as inside a component (same runtime,
//! same lifecycle checks, same panic guard); only the ABI and the sandbox's
//! limits are missing.
//!
//! ```
//! use tesser_execution::AlgorithmProvider;
//! use tesser_execution::native::NativeProvider;
//! use tesser_wasm::{ExecutionPlugin, PluginError, PluginInitContext, PluginResult};
//!
//! #[derive(Default)]
//! struct Noop;
//!
//! impl ExecutionPlugin for Noop {
//!     fn init(&mut self, _ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
//!         Ok(PluginResult::new().completed())
//!     }
//! }
//!
//! let provider = NativeProvider::new().with::<Noop>("noop");
//! assert_eq!(provider.create("noop").unwrap().name(), "noop");
//! assert!(provider.create("twap").is_err());
//! ```
//!
//! Available with the `native` feature, which turns on the SDK's `guest`
//! feature (the [`ExecutionPlugin`] trait and [`PluginRuntime`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use tesser_wasm::{
    ExecutionPlugin, PluginError, PluginFill, PluginInitContext, PluginOrderUpdate,
    PluginRestoreContext, PluginResult, PluginRuntime, PluginTick, PluginTimer,
};

use crate::algorithm::{PluginCallError, PluginCallErrorKind, PluginCallback};
use crate::wasm::EngineError;
use crate::{AlgorithmProvider, ExecutionAlgorithm, ImmediateAlgorithm};

/// An [`ExecutionPlugin`] run in-process by the SDK's own [`PluginRuntime`].
///
/// Plugin errors come back as [`PluginCallErrorKind::Plugin`], as they do
/// from a `.wasm` instance; a panic in the plugin is caught by the runtime
/// and reported as an internal plugin error.
pub struct NativeAlgorithm<P: ExecutionPlugin> {
    name: String,
    runtime: PluginRuntime<P>,
}

impl<P: ExecutionPlugin + Default> NativeAlgorithm<P> {
    /// A fresh algorithm called `name`, around `P::default()`, waiting for
    /// `init` or `restore`.
    #[must_use]
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            runtime: PluginRuntime::new(),
        }
    }
}

impl<P: ExecutionPlugin> NativeAlgorithm<P> {
    /// The SDK runtime driving the plugin (e.g. to inspect the plugin's
    /// state in a test).
    #[must_use]
    pub const fn runtime(&self) -> &PluginRuntime<P> {
        &self.runtime
    }

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

/// Builds a fresh native algorithm named by its argument.
type Constructor = fn(&str) -> Box<dyn ExecutionAlgorithm>;

fn construct<P: ExecutionPlugin + Default + 'static>(name: &str) -> Box<dyn ExecutionAlgorithm> {
    Box::new(NativeAlgorithm::<P>::new(name))
}

/// An [`AlgorithmProvider`] of native plugins: maps plugin names (the names
/// signals give in their execution hint) to plugin types.
///
/// Like the `.wasm` engine it also serves the built-in
/// [`ImmediateAlgorithm`] under its name, so signals without a hint work.
/// Unknown names fail with [`EngineError::NotFound`], listing the names it
/// knows.
#[derive(Debug, Clone, Default)]
pub struct NativeProvider {
    plugins: BTreeMap<String, Constructor>,
}

impl NativeProvider {
    /// A provider that knows no plugin yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves plugin type `P` under `name` (replacing any plugin of that
    /// name).
    #[must_use]
    pub fn with<P: ExecutionPlugin + Default + 'static>(mut self, name: &str) -> Self {
        self.plugins.insert(name.to_owned(), construct::<P>);
        self
    }

    /// The plugin names served, sorted.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        self.plugins.keys().cloned().collect()
    }
}

impl AlgorithmProvider for NativeProvider {
    fn create(&self, name: &str) -> Result<Box<dyn ExecutionAlgorithm>, EngineError> {
        if let Some(constructor) = self.plugins.get(name) {
            return Ok(constructor(name));
        }
        if name == ImmediateAlgorithm::NAME {
            return Ok(Box::new(ImmediateAlgorithm::default()));
        }
        Err(EngineError::NotFound {
            name: name.to_owned(),
            path: PathBuf::from(format!("native plugin '{name}'")),
            available: self.names(),
        })
    }
}
