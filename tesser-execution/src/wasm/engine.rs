//! Finds, compiles, caches and instantiates plugins.
//!
//! One [`wasmtime::Engine`] and one [`Linker`] serve every plugin. Each
//! plugin file is compiled, linked and type-checked once into a
//! [`LoadedPlugin`] (a pre-instantiated component), cached by name and
//! recompiled when the file changes; every instantiation then gets a fresh,
//! isolated store.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use rand::SeedableRng;
use rand::rngs::StdRng;
use tesser_wasm::{ABI_VERSION, AbiVersion, PluginMetadata};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::clocks::{HostMonotonicClock, HostWallClock};

use super::bindings::ExecutionPluginPre;
use super::cache::{CacheError, CompiledCache};
use super::exports::ExportIndices;
use super::instance::{HostState, MemoryLimiter, PluginInstance};
use super::limits::PluginLimits;
use super::output::BoundedOutput;

/// How often the engine's epoch advances; the CPU deadline of a callback is
/// counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Imports no plugin may have: the sandbox has no network.
const FORBIDDEN_IMPORT_PREFIX: &str = "wasi:http/";

/// The prefix of the interface a plugin exports, before its version.
const GUEST_INTERFACE: &str = "tesser:plugin/guest@";

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
    /// [`WasmPluginEngine::with_compiled_cache`]).
    #[error(transparent)]
    Cache(#[from] CacheError),
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// How the plugin file was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginSource {
    /// A component (`wasm32-wasip2`).
    Component,
    /// A core module (`wasm32-wasip1`), turned into a component at load time
    /// with the WASI preview1 reactor adapter.
    CoreModule,
}

/// What every loaded plugin shares with the engine.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) limits: PluginLimits,
    /// Plugin instances alive on this engine, of every plugin: the pool
    /// holds `limits.max_instances`.
    live_instances: AtomicU32,
}

/// One instance's place in the engine's count of live instances, given
/// back when the instance (and so its store and pool slot) is dropped.
#[derive(Debug)]
pub(crate) struct LiveInstance(Arc<Shared>);

impl LiveInstance {
    /// Takes a place, or says how many instances the limit allows.
    fn take(shared: &Arc<Shared>) -> Result<Self, u32> {
        let max = shared.limits.max_instances;
        shared
            .live_instances
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |live| {
                (live < max).then_some(live + 1)
            })
            .map(|_| Self(Arc::clone(shared)))
            .map_err(|_| max)
    }
}

impl Drop for LiveInstance {
    fn drop(&mut self) {
        self.0.live_instances.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Identity of a plugin file's contents, as far as the file system tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Fingerprint {
    fn of(metadata: &fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(metadata);
        #[cfg(not(unix))]
        let inode = 0;
        Self {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            inode,
        }
    }
}

/// A compiled, linked and type-checked plugin, ready to instantiate.
pub struct LoadedPlugin {
    name: String,
    path: PathBuf,
    fingerprint: Fingerprint,
    source: PluginSource,
    abi_version: AbiVersion,
    metadata: PluginMetadata,
    params_validator: Option<jsonschema::Validator>,
    size_bytes: usize,
    from_cache: bool,
    pre: ExecutionPluginPre<HostState>,
    exports: ExportIndices,
    /// Whether the exports have the types the calls use: checked on the
    /// first instance (see [`super::exports`]), holds for every instance.
    export_types: OnceLock<Result<(), String>>,
    engine: Engine,
    shared: Arc<Shared>,
    /// The CPU deadline of one callback, in epoch ticks.
    deadline_ticks: u64,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("source", &self.source)
            .field("abi_version", &self.abi_version)
            .finish_non_exhaustive()
    }
}

impl LoadedPlugin {
    /// The plugin's name (its file stem).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file it was loaded from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether it was a component or an adapted core module.
    #[must_use]
    pub const fn source(&self) -> PluginSource {
        self.source
    }

    /// The ABI version the plugin reports.
    #[must_use]
    pub const fn abi_version(&self) -> AbiVersion {
        self.abi_version
    }

    /// The metadata the plugin reports.
    #[must_use]
    pub const fn metadata(&self) -> &PluginMetadata {
        &self.metadata
    }

    /// Checks a signal's params against the JSON Schema the plugin declares
    /// (any params pass when it declares none). The host calls this before
    /// `init`, so a plugin never sees params its schema refuses.
    ///
    /// # Errors
    /// The schema's own messages, each with the path of the offending value.
    pub fn check_params(&self, params: &serde_json::Value) -> Result<(), String> {
        let Some(validator) = &self.params_validator else {
            return Ok(());
        };
        let problems: Vec<String> = validator
            .iter_errors(params)
            .take(5)
            .map(|error| {
                let at = error.instance_path().to_string();
                if at.is_empty() {
                    error.to_string()
                } else {
                    format!("{error} (at {at})")
                }
            })
            .collect();
        if problems.is_empty() {
            return Ok(());
        }
        Err(format!(
            "params {params} do not match the plugin's params schema: {}",
            problems.join("; ")
        ))
    }

    /// Size of the plugin file in bytes.
    #[must_use]
    pub const fn size_bytes(&self) -> usize {
        self.size_bytes
    }

    /// Whether the compiled code came from the engine's compiled-plugin
    /// cache ([`WasmPluginEngine::with_compiled_cache`]) instead of being
    /// compiled by this load.
    #[must_use]
    pub const fn loaded_from_cache(&self) -> bool {
        self.from_cache
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The CPU deadline of one callback, in epoch ticks.
    pub(crate) const fn deadline_ticks(&self) -> u64 {
        self.deadline_ticks
    }

    /// Creates a fresh instance with its own store, memory and WASI context:
    /// no preopened directories, no network, no environment, no arguments,
    /// a clock frozen at zero and a fixed random seed, stdout and stderr
    /// captured up to the configured limit.
    ///
    /// # Errors
    /// [`EngineError::Instantiate`] when the component's start-up fails.
    pub fn instantiate(self: &Arc<Self>) -> Result<PluginInstance, EngineError> {
        let limits = &self.shared.limits;
        let live = LiveInstance::take(&self.shared).map_err(|max| EngineError::Instantiate {
            name: self.name.clone(),
            reason: format!(
                "at most {max} plugin instances may be alive at once (plugins.max_instances); \
                 end an algorithm or raise the limit"
            ),
        })?;
        let stdout = BoundedOutput::new(limits.max_output_bytes);
        let stderr = BoundedOutput::new(limits.max_output_bytes);
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .secure_random(StdRng::seed_from_u64(0))
            .insecure_random(StdRng::seed_from_u64(0))
            .insecure_random_seed(0)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let state = HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(limits.max_memory_bytes_for(&self.name)),
            stdout,
            stderr,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(self.deadline_ticks);
        let instance_error = |reason: String| EngineError::Instantiate {
            name: self.name.clone(),
            reason,
        };
        let instance = self
            .pre
            .instance_pre()
            .instantiate(&mut store)
            .map_err(|error| instance_error(format!("{error:#}")))?;
        let exports = self
            .exports
            .load(&mut store, &instance)
            .map_err(instance_error)?;
        self.export_types
            .get_or_init(|| exports.check_types(&store))
            .clone()
            .map_err(|reason| EngineError::MissingExports {
                path: self.path.clone(),
                reason,
            })?;
        Ok(PluginInstance::new(Arc::clone(self), store, exports, live))
    }
}

/// Replaces the monotonic clock's `subscribe-duration` and
/// `subscribe-instant`: the guest's clock is frozen, so a sleep is due at
/// once. WASI's own implementation would block the host thread for real
/// time, where no CPU deadline can interrupt it (epochs only interrupt wasm
/// code), letting a plugin stall the runtime.
fn never_sleep(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance("wasi:clocks/monotonic-clock@0.2.12")?;
    clock.func_wrap("subscribe-duration", |mut store, (_,): (u64,)| {
        let table = &mut store.data_mut().table;
        let due = table.push(AlwaysDue)?;
        Ok((wasmtime_wasi::p2::subscribe(table, due)?,))
    })?;
    clock.func_wrap("subscribe-instant", |mut store, (_,): (u64,)| {
        let table = &mut store.data_mut().table;
        let due = table.push(AlwaysDue)?;
        Ok((wasmtime_wasi::p2::subscribe(table, due)?,))
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

/// A deadline that is always due.
struct AlwaysDue;

impl wasmtime_wasi::p2::Pollable for AlwaysDue {
    // The trait is `#[async_trait]`; this is its expanded signature.
    fn ready<'life0, 'async_trait>(
        &'life0 mut self,
    ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(std::future::ready(()))
    }
}

/// A clock that always reads zero: plugins get the host's time only through
/// callbacks, never from WASI.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

/// Loads plugins from a directory and instantiates them.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tesser_execution::wasm::WasmPluginEngine;
/// let engine = WasmPluginEngine::new("./plugins")?;
/// let mut instance = engine.instantiate("plugin_chase")?;
/// # Ok(()) }
/// ```
pub struct WasmPluginEngine {
    engine: Engine,
    linker: Linker<HostState>,
    plugins_dir: PathBuf,
    shared: Arc<Shared>,
    cache: Mutex<HashMap<String, Arc<LoadedPlugin>>>,
    compiled_cache: Option<CompiledCache>,
}

impl std::fmt::Debug for WasmPluginEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmPluginEngine")
            .field("plugins_dir", &self.plugins_dir)
            .field("limits", &self.shared.limits)
            .field("compiled_cache", &self.compiled_cache)
            .finish_non_exhaustive()
    }
}

impl WasmPluginEngine {
    /// An engine loading plugins from `plugins_dir` with default limits.
    ///
    /// # Errors
    /// [`EngineError::Engine`] when wasmtime cannot be set up.
    pub fn new(plugins_dir: impl Into<PathBuf>) -> Result<Self, EngineError> {
        Self::with_limits(plugins_dir, PluginLimits::default())
    }

    /// An engine loading plugins from `plugins_dir` with `limits`.
    ///
    /// # Errors
    /// [`EngineError::Engine`] when wasmtime cannot be set up.
    pub fn with_limits(
        plugins_dir: impl Into<PathBuf>,
        limits: PluginLimits,
    ) -> Result<Self, EngineError> {
        let engine = Engine::new(&engine_config(&limits))
            .map_err(|error| EngineError::Engine(format!("{error:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .and_then(|()| never_sleep(&mut linker))
            .map_err(|error| EngineError::Engine(format!("{error:#}")))?;
        spawn_epoch_ticker(&engine);
        Ok(Self {
            engine,
            linker,
            plugins_dir: plugins_dir.into(),
            shared: Arc::new(Shared {
                limits,
                live_instances: AtomicU32::new(0),
            }),
            cache: Mutex::new(HashMap::new()),
            compiled_cache: None,
        })
    }

    /// The wasmtime engine every plugin runs on (configured by
    /// [`engine_config`]).
    #[must_use]
    pub const fn wasmtime_engine(&self) -> &Engine {
        &self.engine
    }

    /// Keeps compiled plugins in `dir` (created with mode `0o700` when
    /// missing), so a later engine, in this process or another one, loads
    /// a plugin it has seen before without compiling it: entries are keyed
    /// by the plugin's bytes and this engine's compilation settings. See
    /// [`CompiledCache`] for the conditions that make loading compiled code
    /// from disk safe.
    ///
    /// # Errors
    /// [`EngineError::Cache`] when `dir` cannot be created, is not a
    /// directory, or (unix) is not owned by the effective user or is
    /// writable by group or others; the message names the directory. The
    /// engine is consumed: build another one to run without the cache.
    pub fn with_compiled_cache(mut self, dir: impl Into<PathBuf>) -> Result<Self, EngineError> {
        self.compiled_cache = Some(CompiledCache::open(dir)?);
        Ok(self)
    }

    /// The compiled-plugin cache, when one was set with
    /// [`with_compiled_cache`](Self::with_compiled_cache).
    #[must_use]
    pub const fn compiled_cache(&self) -> Option<&CompiledCache> {
        self.compiled_cache.as_ref()
    }

    /// The directory plugins are loaded from.
    #[must_use]
    pub fn plugins_dir(&self) -> &Path {
        &self.plugins_dir
    }

    /// The limits applied to every instance.
    #[must_use]
    pub fn limits(&self) -> &PluginLimits {
        &self.shared.limits
    }

    /// The names of the plugins in the plugins directory, sorted.
    #[must_use]
    pub fn available_plugins(&self) -> Vec<String> {
        let Ok(entries) = fs::read_dir(&self.plugins_dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
            .filter_map(|path| Some(path.file_stem()?.to_str()?.to_owned()))
            .collect();
        names.sort();
        names
    }

    /// Creates a fresh instance of plugin `name`, loading it first if needed.
    ///
    /// # Errors
    /// As [`load`](Self::load) and [`LoadedPlugin::instantiate`].
    pub fn instantiate(&self, name: &str) -> Result<PluginInstance, EngineError> {
        self.load(name)?.instantiate()
    }

    /// Loads `<plugins_dir>/<name>.wasm`: compiles, links and type-checks it
    /// once and caches the result; when the file has changed since, loads it
    /// anew (instances already running keep the code they started with).
    ///
    /// # Errors
    /// [`EngineError::InvalidName`] for names that could escape the
    /// directory; [`EngineError::NotFound`] (listing the plugins that exist)
    /// when there is no such file; the errors of [`load_file`](Self::load_file).
    pub fn load(&self, name: &str) -> Result<Arc<LoadedPlugin>, EngineError> {
        validate_name(name)?;
        let path = self.plugins_dir.join(format!("{name}.wasm"));
        let metadata = match fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(EngineError::NotFound {
                    name: name.to_owned(),
                    path,
                    available: self.available_plugins(),
                });
            }
            Err(source) => return Err(EngineError::Io { path, source }),
        };
        let fingerprint = Fingerprint::of(&metadata);
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(plugin) = cache.get(name)
            && plugin.fingerprint == fingerprint
        {
            return Ok(Arc::clone(plugin));
        }
        let plugin = Arc::new(self.compile(name, &path, fingerprint)?);
        cache.insert(name.to_owned(), Arc::clone(&plugin));
        Ok(plugin)
    }

    /// Loads a plugin from any path, bypassing the directory and the cache
    /// (for tools that inspect a file).
    ///
    /// # Errors
    /// [`EngineError::Io`], [`EngineError::NotWasm`], [`EngineError::Compile`],
    /// [`EngineError::MissingExports`], [`EngineError::AbiMismatch`],
    /// [`EngineError::Link`] or [`EngineError::Instantiate`].
    pub fn load_file(&self, path: &Path) -> Result<Arc<LoadedPlugin>, EngineError> {
        let metadata = fs::metadata(path).map_err(|source| EngineError::Io {
            path: path.to_owned(),
            source,
        })?;
        let name = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("plugin");
        Ok(Arc::new(self.compile(
            name,
            path,
            Fingerprint::of(&metadata),
        )?))
    }

    fn compile(
        &self,
        name: &str,
        path: &Path,
        fingerprint: Fingerprint,
    ) -> Result<LoadedPlugin, EngineError> {
        let bytes = fs::read(path).map_err(|source| EngineError::Io {
            path: path.to_owned(),
            source,
        })?;
        let (component_bytes, source) = to_component(path, &bytes)?;
        let (component, from_cache) = self.component(path, &component_bytes)?;
        self.check_imports(path, &component)?;
        let (plugin_abi, interface) = self.check_abi(path, &component)?;
        let exports = ExportIndices::new(&component, &interface).map_err(|reason| {
            EngineError::MissingExports {
                path: path.to_owned(),
                reason,
            }
        })?;
        let instance_pre =
            self.linker
                .instantiate_pre(&component)
                .map_err(|error| EngineError::Link {
                    path: path.to_owned(),
                    reason: format!("{error:#}"),
                })?;
        let pre =
            ExecutionPluginPre::new(instance_pre).map_err(|error| EngineError::MissingExports {
                path: path.to_owned(),
                reason: format!("{error:#}"),
            })?;
        let mut plugin = LoadedPlugin {
            name: name.to_owned(),
            path: path.to_owned(),
            fingerprint,
            source,
            abi_version: plugin_abi,
            metadata: PluginMetadata::default(),
            params_validator: None,
            size_bytes: bytes.len(),
            from_cache,
            pre,
            exports,
            export_types: OnceLock::new(),
            engine: self.engine.clone(),
            shared: Arc::clone(&self.shared),
            deadline_ticks: deadline_ticks(self.shared.limits.callback_deadline_for(name)),
        };
        // Ask the plugin itself for its ABI version and metadata, in a
        // throw-away instance.
        let probe = Arc::new(plugin);
        let mut instance = probe.instantiate()?;
        let reported = instance
            .abi_version()
            .map_err(|error| EngineError::Instantiate {
                name: name.to_owned(),
                reason: error.to_string(),
            })?;
        let metadata = instance
            .metadata()
            .map_err(|error| EngineError::Instantiate {
                name: name.to_owned(),
                reason: error.to_string(),
            })?;
        drop(instance);
        plugin = Arc::into_inner(probe).ok_or_else(|| EngineError::Instantiate {
            name: name.to_owned(),
            reason: "probe instance still referenced".to_owned(),
        })?;
        if !ABI_VERSION.is_compatible_with(reported) {
            return Err(EngineError::AbiMismatch {
                path: path.to_owned(),
                plugin_abi: reported.to_string(),
                host_abi: ABI_VERSION,
            });
        }
        plugin.params_validator = metadata
            .params_schema
            .as_ref()
            .map(jsonschema::validator_for)
            .transpose()
            .map_err(|error| EngineError::InvalidParamsSchema {
                path: path.to_owned(),
                reason: error.to_string(),
            })?;
        plugin.abi_version = reported;
        plugin.metadata = metadata;
        Ok(plugin)
    }

    /// Compiles `component_bytes`, or takes them from the compiled-plugin
    /// cache when there is one; the flag tells which.
    fn component(
        &self,
        path: &Path,
        component_bytes: &[u8],
    ) -> Result<(Component, bool), EngineError> {
        let compile = || {
            Component::new(&self.engine, component_bytes).map_err(|error| EngineError::Compile {
                path: path.to_owned(),
                reason: format!("{error:#}"),
            })
        };
        match &self.compiled_cache {
            Some(cache) => cache.load_or_compile(&self.engine, component_bytes, compile),
            None => Ok((compile()?, false)),
        }
    }

    /// Refuses the imports the sandbox withholds on purpose, naming the first
    /// one and how to build without it, before the linker's generic error.
    fn check_imports(&self, path: &Path, component: &Component) -> Result<(), EngineError> {
        let component_type = component.component_type();
        let forbidden = component_type
            .imports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .find(|name| name.starts_with(FORBIDDEN_IMPORT_PREFIX));
        match forbidden {
            Some(import) => Err(EngineError::ForbiddenImport {
                path: path.to_owned(),
                import,
                fix: "a JavaScript plugin must be built with the `http` and `fetch-event` features disabled (`tesser plugin build` does this; by hand: componentize-js ... -d http fetch-event), and a plugin in any other language must not use an HTTP client",
            }),
            None => Ok(()),
        }
    }

    /// Finds the versioned guest interface among the component's exports and
    /// checks its major version before anything is type-checked, so a plugin
    /// built for another ABI gets an error naming both versions.
    fn check_abi(
        &self,
        path: &Path,
        component: &Component,
    ) -> Result<(AbiVersion, String), EngineError> {
        let exports: Vec<String> = component
            .component_type()
            .exports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let Some(version) = exports
            .iter()
            .find_map(|name| name.strip_prefix(GUEST_INTERFACE))
        else {
            return Err(EngineError::MissingExports {
                path: path.to_owned(),
                reason: format!(
                    "no `{GUEST_INTERFACE}{ABI_VERSION}` export (it exports: {})",
                    list(&exports)
                ),
            });
        };
        let plugin_abi = parse_version(version).ok_or_else(|| EngineError::MissingExports {
            path: path.to_owned(),
            reason: format!("unreadable ABI version '{version}'"),
        })?;
        if !ABI_VERSION.is_compatible_with(plugin_abi) {
            return Err(EngineError::AbiMismatch {
                path: path.to_owned(),
                plugin_abi: version.to_owned(),
                host_abi: ABI_VERSION,
            });
        }
        Ok((plugin_abi, format!("{GUEST_INTERFACE}{version}")))
    }
}

/// A CPU deadline in epoch ticks (at least one).
fn deadline_ticks(deadline: Duration) -> u64 {
    let tick_ms = EPOCH_TICK.as_millis().max(1);
    u64::try_from(deadline.as_millis().div_ceil(tick_ms))
        .unwrap_or(u64::MAX)
        .max(1)
}

fn parse_version(text: &str) -> Option<AbiVersion> {
    let core = text.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(str::parse::<u16>);
    let version = AbiVersion::new(
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    parts.next().is_none().then_some(version)
}

fn validate_name(name: &str) -> Result<(), EngineError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > 128 {
        Some("it is longer than 128 characters")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Some(
            "only letters, digits, '_' and '-' are allowed, so a name cannot leave the plugins directory",
        )
    } else {
        None
    };
    match reason {
        Some(reason) => Err(EngineError::InvalidName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Returns component bytes: a component as is, a core module wrapped with
/// the WASI preview1 reactor adapter.
fn to_component<'a>(
    path: &Path,
    bytes: &'a [u8],
) -> Result<(Cow<'a, [u8]>, PluginSource), EngineError> {
    if wasmparser::Parser::is_component(bytes) {
        return Ok((Cow::Borrowed(bytes), PluginSource::Component));
    }
    if !wasmparser::Parser::is_core_wasm(bytes) {
        return Err(EngineError::NotWasm {
            path: path.to_owned(),
            reason: "the file does not start with the WebAssembly magic number".to_owned(),
        });
    }
    // wit-component reports errors as `anyhow::Error`.
    let adapt = |error: anyhow::Error| EngineError::Compile {
        path: path.to_owned(),
        reason: format!(
            "cannot turn the wasm32-wasip1 module into a component: {error:#} (was it built with tesser-wasm's export_plugin!?)"
        ),
    };
    let component = wit_component::ComponentEncoder::default()
        .module(bytes)
        .map_err(adapt)?
        .adapter(
            "wasi_snapshot_preview1",
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .map_err(adapt)?
        .validate(true)
        .encode()
        .map_err(adapt)?;
    Ok((Cow::Owned(component), PluginSource::CoreModule))
}

/// Core wasm instances one plugin component may contain (its module plus
/// the shims `wit-component` adds; a `wasm32-wasip1` plugin also carries the
/// WASI adapter). A Python plugin (componentize-py 0.25.1: CPython, its
/// libraries and their shims) has 14, the most of any toolchain we build.
const CORE_INSTANCES_PER_PLUGIN: u32 = 16;
/// Linear memories one plugin component may contain: a JavaScript plugin
/// built by jco's QuickJS backend has 2 (not supported for other reasons,
/// see the author guide); every other toolchain has 1.
const MEMORIES_PER_PLUGIN: u32 = 2;
/// Tables one plugin component may contain.
const TABLES_PER_PLUGIN: u32 = 8;
/// Guard region after each linear memory slot.
const MEMORY_GUARD_BYTES: u64 = 64 << 10;
/// Bytes at the start of a linear memory (a Rust guest's stack, data and
/// first heap pages) and of a table that a freed slot keeps resident: their
/// touched pages are reset in place for the next instance instead of being
/// unmapped and faulted in again.
const KEEP_RESIDENT_BYTES: usize = 4 << 20;
/// Tables are small: a function table of a few thousand entries.
const TABLE_KEEP_RESIDENT_BYTES: usize = 64 << 10;

/// The wasmtime configuration every plugin runs under; benchmarks use it to
/// measure the floor of a component call under the same settings.
///
/// * No async support: every callback runs to completion on the caller's
///   thread, which keeps a call close to the raw call cost.
/// * Epoch interruption for the CPU deadline of a callback.
/// * The pooling instance allocator: memory slots of `max_memory_bytes`
///   for `max_instances` instances are reserved once, and linear memories
///   are copy-on-write mappings of the module's initial image, so an
///   instantiation maps no new memory and copies no data segment. A slot
///   the size of the memory limit (instead of a 4 GiB reservation) keeps
///   the address space of 10,000 instances small, at the price of explicit
///   bounds checks in compiled code.
/// * Where the kernel has `PAGEMAP_SCAN` (Linux 6.7+), a freed slot keeps
///   the first [`KEEP_RESIDENT_BYTES`] of its memory resident and only the
///   pages the instance actually touched are reset, in place: the next
///   instance takes no page faults on them and the free takes no `madvise`.
///   Wasmtime resets them to the module's initial image (see the test
///   `a_reused_memory_slot_holds_nothing_of_the_previous_instance`).
#[must_use]
pub fn engine_config(limits: &PluginLimits) -> Config {
    let instances = limits.max_instances.max(1);
    let memory_bytes = limits.memory_slot_bytes().max(64 << 10);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(CORE_INSTANCES_PER_PLUGIN))
        .total_memories(instances.saturating_mul(MEMORIES_PER_PLUGIN))
        .total_tables(instances.saturating_mul(TABLES_PER_PLUGIN))
        .max_core_instances_per_component(CORE_INSTANCES_PER_PLUGIN)
        .max_memories_per_component(MEMORIES_PER_PLUGIN)
        .max_tables_per_component(TABLES_PER_PLUGIN)
        .max_memory_size(memory_bytes);
    if kernel_has_pagemap_scan() {
        // Without the scan, keeping pages resident means a `memset` of all
        // of them on every free, far slower than the `madvise` it replaces.
        pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES.min(memory_bytes))
            .table_keep_resident(TABLE_KEEP_RESIDENT_BYTES)
            .pagemap_scan(wasmtime::Enabled::Yes);
    }
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .concurrency_support(false)
        .epoch_interruption(true)
        .max_wasm_stack(limits.max_wasm_stack_bytes)
        .memory_reservation(u64::try_from(memory_bytes).unwrap_or(u64::MAX))
        .memory_guard_size(MEMORY_GUARD_BYTES)
        .memory_reservation_for_growth(0)
        .memory_init_cow(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    if std::env::var_os(PERF_MAP_ENV).is_some() {
        // Names the plugins' compiled functions for `perf report`.
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

/// Whether the kernel has the `PAGEMAP_SCAN` ioctl (Linux 6.7 and later).
fn kernel_has_pagemap_scan() -> bool {
    if !cfg!(target_os = "linux") {
        return false;
    }
    let Ok(release) = fs::read_to_string("/proc/sys/kernel/osrelease") else {
        return false;
    };
    let mut numbers = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let major = numbers.next().unwrap_or(0);
    let minor = numbers.next().unwrap_or(0);
    (major, minor) >= (6, 7)
}

/// Set this environment variable to write `/tmp/perf-<pid>.map`, which lets
/// `perf report` name the functions of plugins.
pub const PERF_MAP_ENV: &str = "TESSER_WASM_PERF_MAP";

/// Advances the engine's epoch every [`EPOCH_TICK`] so callbacks can be
/// interrupted at their deadline. The thread ends when the engine is gone.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("tesser-wasm-epoch".to_owned())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the epoch thread: plugin CPU deadlines will not fire");
    }
}
