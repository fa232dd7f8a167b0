//! One plugin file, compiled, linked and type-checked once: what every
//! instance of it is created from.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tesser_wasm::{AbiVersion, PluginMetadata};
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtxBuilder;

use super::bindings::ExecutionPluginPre;
use super::error::EngineError;
use super::exports::ExportIndices;
use super::instance::{HostState, MemoryLimiter, PluginInstance};
use super::limits::PluginLimits;
use super::output::BoundedOutput;
use super::sandbox::FrozenClock;

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
    pub(super) live_instances: AtomicU32,
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
pub(super) struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Fingerprint {
    pub(super) fn of(metadata: &fs::Metadata) -> Self {
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
    pub(super) name: String,
    pub(super) path: PathBuf,
    pub(super) fingerprint: Fingerprint,
    pub(super) source: PluginSource,
    pub(super) abi_version: AbiVersion,
    pub(super) metadata: PluginMetadata,
    pub(super) params_validator: Option<jsonschema::Validator>,
    pub(super) size_bytes: usize,
    pub(super) from_cache: bool,
    pub(super) pre: ExecutionPluginPre<HostState>,
    pub(super) exports: ExportIndices,
    /// Whether the exports have the types the calls use: checked on the
    /// first instance (see [`super::exports`]), holds for every instance.
    pub(super) export_types: OnceLock<Result<(), String>>,
    pub(super) engine: Engine,
    pub(super) shared: Arc<Shared>,
    /// The CPU deadline of one callback, in epoch ticks.
    pub(super) deadline_ticks: u64,
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
    /// cache ([`WasmPluginEngine::with_compiled_cache`](super::WasmPluginEngine::with_compiled_cache)) instead of being
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
