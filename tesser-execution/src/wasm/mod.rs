//! The WebAssembly plugin host: loads `<plugins_dir>/<name>.wasm`, checks its
//! ABI, and runs each algorithm in its own sandboxed instance.

mod bindings;
mod cache;
mod config;
mod convert;
pub mod engine;
mod error;
mod exports;
mod instance;
mod limits;
mod loaded;
mod output;
mod sandbox;

pub use cache::{CacheError, CompiledCache};
pub use config::{PERF_MAP_ENV, engine_config};
pub use engine::WasmPluginEngine;
pub use error::EngineError;
pub use instance::PluginInstance;
pub use limits::{PluginLimits, PluginOverrides, RecyclePolicy};
pub use loaded::{LoadedPlugin, PluginSource};
// The algorithm seam's types, where the engine's users have always found them.
pub use crate::algorithm::{
    GuestOutputLine, GuestStream, PluginCallError, PluginCallErrorKind, PluginCallback,
};
