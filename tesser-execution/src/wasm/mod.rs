//! The WebAssembly plugin host: loads `<plugins_dir>/<name>.wasm`, checks its
//! ABI, and runs each algorithm in its own sandboxed instance.

mod bindings;
mod cache;
mod convert;
pub mod engine;
mod exports;
mod instance;
mod limits;
mod output;

pub use cache::{CacheError, CompiledCache};
pub use engine::{EngineError, LoadedPlugin, PluginSource, WasmPluginEngine, engine_config};
pub use instance::PluginInstance;
pub use limits::{PluginLimits, PluginOverrides, RecyclePolicy};
// The algorithm seam's types, where the engine's users have always found them.
pub use crate::algorithm::{
    GuestOutputLine, GuestStream, PluginCallError, PluginCallErrorKind, PluginCallback,
};
