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
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tesser_wasm::{ABI_VERSION, AbiVersion, PluginMetadata};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use super::bindings::ExecutionPluginPre;
use super::cache::CompiledCache;
use super::config::{EPOCH_TICK, engine_config, spawn_epoch_ticker};
use super::error::{EngineError, list};
use super::exports::ExportIndices;
use super::instance::{HostState, PluginInstance};
use super::limits::PluginLimits;
use super::loaded::{Fingerprint, LoadedPlugin, PluginSource, Shared};
use super::sandbox::never_sleep;

/// Imports no plugin may have: the sandbox has no network.
const FORBIDDEN_IMPORT_PREFIX: &str = "wasi:http/";

/// The prefix of the interface a plugin exports, before its version.
const GUEST_INTERFACE: &str = "tesser:plugin/guest@";

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
pub(super) fn deadline_ticks(deadline: Duration) -> u64 {
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
