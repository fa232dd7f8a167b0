//! Glue between the WIT bindings and [`PluginRuntime`]. Used by
//! [`export_plugin!`](crate::export_plugin); not a public API.

mod convert;

use std::marker::PhantomData;

pub use core::cell::RefCell;
pub use std::thread_local;

pub use wit_bindgen;

use crate::{ABI_VERSION, ExecutionPlugin, PluginMetadata, PluginRuntime};

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

/// Where a plugin crate keeps its one [`PluginRuntime`]. Implemented by
/// [`export_plugin!`](crate::export_plugin) on a type of the plugin crate,
/// because the storage must be a static of that crate.
pub trait PluginSlot: 'static {
    /// The plugin type.
    type Plugin: ExecutionPlugin + Default + 'static;

    /// Runs `f` on the instance's runtime.
    fn with_runtime<R>(f: impl FnOnce(&mut PluginRuntime<Self::Plugin>) -> R) -> R;

    /// Name, version and description from the plugin crate's `Cargo.toml`.
    fn crate_metadata() -> PluginMetadata;
}

/// Implements the generated `Guest` trait for the plugin in slot `S`.
pub struct Exports<S>(PhantomData<S>);

type WitResult = Result<wit::PluginResult, wit::PluginError>;

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

    fn init(ctx: wit::InitContext) -> WitResult {
        let ctx = convert::init_context_in(ctx).map_err(convert::error_out)?;
        convert::result_out(S::with_runtime(|runtime| runtime.init(ctx)))
    }

    fn on_tick(tick: wit::Tick) -> WitResult {
        let tick = convert::tick_in(tick).map_err(convert::error_out)?;
        convert::result_out(S::with_runtime(|runtime| runtime.on_tick(tick)))
    }

    fn on_fill(fill: wit::Fill) -> WitResult {
        let fill = convert::fill_in(fill).map_err(convert::error_out)?;
        convert::result_out(S::with_runtime(|runtime| runtime.on_fill(fill)))
    }

    fn on_order_update(update: wit::OrderUpdate) -> WitResult {
        let update = convert::order_update_in(update).map_err(convert::error_out)?;
        convert::result_out(S::with_runtime(|runtime| runtime.on_order_update(update)))
    }

    fn on_timer(timer: wit::Timer) -> WitResult {
        let timer = crate::PluginTimer {
            now_ms: timer.now_ms,
        };
        convert::result_out(S::with_runtime(|runtime| runtime.on_timer(timer)))
    }

    fn snapshot() -> Result<String, wit::PluginError> {
        S::with_runtime(PluginRuntime::snapshot).map_err(convert::error_out)
    }

    fn restore(snapshot_json: String) -> Result<(), wit::PluginError> {
        S::with_runtime(|runtime| runtime.restore(&snapshot_json)).map_err(convert::error_out)
    }
}
