//! Why a plugin could not be loaded or instantiated.

use std::io;
use std::path::PathBuf;

use tesser_wasm::AbiVersion;

use super::cache::CacheError;

/// Why a plugin could not be loaded or instantiated.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The plugin name is not a plain file stem.
    #[error(
        "invalid plugin name '{name}': {reason}; use the file stem of a .wasm file in the plugins directory (letters, digits, '_' and '-')"
    )]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No `<name>.wasm` in the plugins directory.
    #[error("plugin '{name}' not found: no {} (available plugins: {})", .path.display(), list(.available))]
    NotFound {
        /// The name given.
        name: String,
        /// Where the file was looked for.
        path: PathBuf,
        /// The plugins that do exist.
        available: Vec<String>,
    },
    /// The plugins directory or file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not WebAssembly.
    #[error(
        "{} is not a WebAssembly plugin: {reason}; build one with `tesser plugin build` (Rust, Python or JavaScript)",
        .path.display()
    )]
    NotWasm {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is WebAssembly but does not compile (or a core module could
    /// not be turned into a component).
    #[error("plugin {} failed to compile: {reason}", .path.display())]
    Compile {
        /// The file.
        path: PathBuf,
        /// The compiler's message.
        reason: String,
    },
    /// The component does not implement the plugin ABI.
    #[error(
        "plugin {} does not implement the Tesser plugin ABI: {reason}; a plugin must export the WIT world `execution-plugin` (Rust: `tesser_wasm::export_plugin!`; Python: `Guest = export(...)`; JavaScript: `export const guest = exportPlugin(...)`)",
        .path.display()
    )]
    MissingExports {
        /// The file.
        path: PathBuf,
        /// What is missing or mistyped.
        reason: String,
    },
    /// The plugin was built for another major ABI version.
    #[error(
        "plugin {} was built for plugin ABI {plugin_abi} but this host speaks ABI {host_abi}; rebuild it against the ABI {}.x SDK (Rust: tesser-wasm; Python and JavaScript: the wit/plugin.wit and helper module `tesser plugin new` writes)",
        .path.display(), .host_abi.major
    )]
    AbiMismatch {
        /// The file.
        path: PathBuf,
        /// The ABI version the plugin declares.
        plugin_abi: String,
        /// The ABI version of this host.
        host_abi: AbiVersion,
    },
    /// The component imports an interface the sandbox refuses on purpose
    /// (such as `wasi:http`: plugins have no network).
    #[error(
        "plugin {} imports `{import}`, which the sandbox does not provide: plugins have no network; {fix}",
        .path.display()
    )]
    ForbiddenImport {
        /// The file.
        path: PathBuf,
        /// The refused import.
        import: String,
        /// How to build the plugin without it.
        fix: &'static str,
    },
    /// The component imports something the sandbox does not provide.
    #[error("plugin {} cannot be linked: {reason}", .path.display())]
    Link {
        /// The file.
        path: PathBuf,
        /// The linker's message.
        reason: String,
    },
    /// The plugin declares a params schema that is not a valid JSON Schema.
    #[error(
        "plugin {} declares a params schema that is not a valid JSON Schema: {reason}; fix the schema its ExecutionPlugin::metadata returns",
        .path.display()
    )]
    InvalidParamsSchema {
        /// The file.
        path: PathBuf,
        /// The schema compiler's message.
        reason: String,
    },
    /// Instantiation failed (e.g. its start-up code trapped).
    #[error("plugin '{name}' could not be instantiated: {reason}")]
    Instantiate {
        /// The plugin's name.
        name: String,
        /// Why.
        reason: String,
    },
    /// The wasmtime engine could not be created.
    #[error("cannot create the WebAssembly engine: {0}")]
    Engine(String),
    /// The compiled-plugin cache directory cannot be used (see
    /// [`WasmPluginEngine::with_compiled_cache`](super::WasmPluginEngine::with_compiled_cache)).
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// `a, b, c`, or `none`.
pub(super) fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}
