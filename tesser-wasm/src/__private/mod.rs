//! Glue between the WIT bindings and [`PluginRuntime`]. Used by
//! [`export_plugin!`](crate::export_plugin); not a public API.

mod convert;

use std::marker::PhantomData;

pub use core::cell::RefCell;
pub use std::thread_local;

pub use wit_bindgen;

use crate::{
    ABI_VERSION, ExecutionPlugin, PluginError, PluginMetadata, PluginResult, PluginRuntime,
};

/// Bindings generated from `wit/plugin.wit`. Plugin crates never name them.
#[allow(missing_docs)] // reason: generated code; the WIT file documents the ABI.
#[allow(clippy::all)] // reason: generated code.
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "execution-plugin",
        runtime_path: "::tesser_wasm::__private::wit_bindgen::rt",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "::tesser_wasm::__private::bindings",
    });
}

use bindings::exports::tesser::plugin::guest::Guest;
use bindings::tesser::plugin::types as wit;

/// What one plugin instance keeps between ABI calls: the runtime, the
/// symbol its ticks are for, and a result waiting for `take-result`.
pub struct InstanceState<P> {
    runtime: PluginRuntime<P>,
    symbol: String,
    pending: Option<Result<PluginResult, PluginError>>,
}

impl<P: ExecutionPlugin + Default> Default for InstanceState<P> {
    fn default() -> Self {
        Self {
            runtime: PluginRuntime::new(),
            symbol: String::new(),
            pending: None,
        }
    }
}

impl<P: ExecutionPlugin> InstanceState<P> {
    /// Answers an event callback: `idle` for an empty result, which the
    /// host then takes as is; otherwise keeps the result (or error) for
    /// `take-result`.
    fn answer(&mut self, result: Result<PluginResult, PluginError>) -> wit::EventOutcome {
        match result {
            Ok(result) if result.is_empty() => {
                self.pending = None;
                wit::EventOutcome::Idle
            }
            other => {
                self.pending = Some(other);
                wit::EventOutcome::Ready
            }
        }
    }
}

/// Where a plugin crate keeps its one [`InstanceState`]. Implemented by
/// [`export_plugin!`](crate::export_plugin) on a type of the plugin crate,
/// because the storage must be a static of that crate.
pub trait PluginSlot: 'static {
    /// The plugin type.
    type Plugin: ExecutionPlugin + Default + 'static;

    /// Runs `f` on the instance's state.
    fn with_state<R>(f: impl FnOnce(&mut InstanceState<Self::Plugin>) -> R) -> R;

    /// Name, version and description from the plugin crate's `Cargo.toml`.
    fn crate_metadata() -> PluginMetadata;
}

/// Implements the generated `Guest` trait for the plugin in slot `S`.
pub struct Exports<S>(PhantomData<S>);

impl<S: PluginSlot> Guest for Exports<S> {
    fn abi_version() -> wit::Version {
        wit::Version {
            major: ABI_VERSION.major,
            minor: ABI_VERSION.minor,
            patch: ABI_VERSION.patch,
        }
    }

    fn metadata() -> wit::PluginMetadata {
        convert::metadata_out(PluginRuntime::<S::Plugin>::metadata(S::crate_metadata()))
    }

    fn init(ctx: wit::InitContext) -> wit::EventOutcome {
        S::with_state(|state| {
            let result = convert::init_context_in(ctx).and_then(|ctx| {
                state.symbol.clone_from(&ctx.signal.symbol);
                state.runtime.init(ctx)
            });
            state.answer(result)
        })
    }

    fn on_tick(tick: wit::Tick) -> wit::EventOutcome {
        S::with_state(|state| {
            let result =
                convert::tick_in(tick, &state.symbol).and_then(|tick| state.runtime.on_tick(tick));
            state.answer(result)
        })
    }

    fn on_fill(fill: wit::Fill) -> wit::EventOutcome {
        S::with_state(|state| {
            let result = convert::fill_in(fill).and_then(|fill| state.runtime.on_fill(fill));
            state.answer(result)
        })
    }

    fn on_order_update(update: wit::OrderUpdate) -> wit::EventOutcome {
        S::with_state(|state| {
            let result = convert::order_update_in(update)
                .and_then(|update| state.runtime.on_order_update(update));
            state.answer(result)
        })
    }

    fn on_timer(timer: wit::Timer) -> wit::EventOutcome {
        S::with_state(|state| {
            let result = state.runtime.on_timer(crate::PluginTimer {
                now_ms: timer.now_ms,
            });
            state.answer(result)
        })
    }

    fn take_result() -> Result<wit::PluginResult, wit::PluginError> {
        S::with_state(|state| match state.pending.take() {
            Some(result) => convert::result_out(result),
            None => Err(convert::error_out(PluginError::invalid_state(
                "take-result with no result waiting: call it once after a callback answers `ready`",
            ))),
        })
    }

    fn snapshot() -> Result<String, wit::PluginError> {
        S::with_state(|state| state.runtime.snapshot()).map_err(convert::error_out)
    }

    fn restore(ctx: wit::RestoreContext) -> Result<(), wit::PluginError> {
        S::with_state(|state| {
            state.symbol = ctx.symbol;
            state.runtime.restore(&ctx.snapshot_json)
        })
        .map_err(convert::error_out)
    }
}
