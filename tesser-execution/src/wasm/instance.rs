//! One running plugin: its own store, memory and WASI context.

use std::fmt;
use std::sync::Arc;

use tesser_wasm::{
    AbiVersion, PluginError, PluginFill, PluginInitContext, PluginMetadata, PluginOrderUpdate,
    PluginRestoreContext, PluginResult, PluginTick, PluginTimer,
};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::wit;
use super::convert;
use super::exports::GuestExports;
use super::limits::RecyclePolicy;
use super::loaded::{LiveInstance, LoadedPlugin};
use super::output::BoundedOutput;
use crate::algorithm::{
    GuestOutputLine, GuestStream, PluginCallError, PluginCallErrorKind, PluginCallback,
};

/// Store data of one instance.
pub(crate) struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) stdout: BoundedOutput,
    pub(crate) stderr: BoundedOutput,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps linear memory, counts what the instance's memories hold together
/// (for recycling), and remembers when the cap refused a growth, so the
/// resulting trap can name the limit.
pub(crate) struct MemoryLimiter {
    pub(crate) max_memory_bytes: usize,
    pub(crate) refused: Option<usize>,
    /// Bytes of every linear memory of the instance together.
    pub(crate) used_bytes: usize,
}

impl MemoryLimiter {
    pub(crate) const fn new(max_memory_bytes: usize) -> Self {
        Self {
            max_memory_bytes,
            refused: None,
            used_bytes: 0,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory_bytes {
            self.refused = Some(desired);
            return Ok(false);
        }
        // Memory creation counts as growth from 0, so this is the total.
        self.used_bytes = self
            .used_bytes
            .saturating_add(desired.saturating_sub(current));
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// A running plugin instance: one algorithm's sandbox. Each instance has its
/// own store, so instances share no memory and a trap in one leaves the
/// others untouched.
pub struct PluginInstance {
    plugin: Arc<LoadedPlugin>,
    store: Store<HostState>,
    exports: GuestExports,
    trapped: Option<String>,
    output: Vec<GuestOutputLine>,
    /// The algorithm's id and symbol, from `init` or `restore`: what a
    /// fresh instance is restored with when this one is recycled.
    identity: Option<(String, String)>,
    /// When this instance is replaced by a fresh one.
    recycle: RecyclePolicy,
    /// Event callbacks since the instance was created.
    events: u64,
    /// How many times the algorithm moved to a fresh instance.
    recycles: u64,
    /// Calls into the guest, those of the instances this one replaced too.
    entries: u64,
    /// Declared after `store`, so dropped after it: the count of live
    /// instances goes down only once the pool slot is free.
    _live: LiveInstance,
}

impl fmt::Debug for PluginInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginInstance")
            .field("plugin", &self.plugin.name())
            .field("trapped", &self.trapped)
            .finish_non_exhaustive()
    }
}

type CallResult<R> = wasmtime::Result<Result<R, wit::PluginError>>;

impl PluginInstance {
    pub(crate) fn new(
        plugin: Arc<LoadedPlugin>,
        store: Store<HostState>,
        exports: GuestExports,
        live: LiveInstance,
    ) -> Self {
        let recycle = plugin.shared().limits.recycle_for(plugin.name());
        Self {
            plugin,
            store,
            exports,
            trapped: None,
            output: Vec::new(),
            identity: None,
            recycle,
            events: 0,
            recycles: 0,
            entries: 0,
            _live: live,
        }
    }

    /// How many times the algorithm was moved to a fresh instance
    /// ([`RecyclePolicy`]).
    #[must_use]
    pub const fn recycle_count(&self) -> u64 {
        self.recycles
    }

    /// How many times the host entered the guest: every export call
    /// (`take-result` and `snapshot` included), the instances this one
    /// replaced when it was recycled included.
    #[must_use]
    pub const fn guest_entries(&self) -> u64 {
        self.entries
    }

    /// Bytes held by the instance's linear memories together.
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        self.store.data().limiter.used_bytes
    }

    /// The plugin this instance runs.
    #[must_use]
    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.plugin
    }

    /// The plugin's name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.plugin.name()
    }

    /// Whether an earlier trap made the instance unusable.
    #[must_use]
    pub fn is_trapped(&self) -> bool {
        self.trapped.is_some()
    }

    /// Takes what the guest printed to stdout/stderr since the last call,
    /// bounded by [`PluginLimits::max_output_bytes`](super::PluginLimits).
    pub fn take_output(&mut self) -> Vec<GuestOutputLine> {
        std::mem::take(&mut self.output)
    }

    /// Asks the plugin which ABI version it was built against.
    ///
    /// # Errors
    /// [`PluginCallError`] when the guest traps.
    pub fn abi_version(&mut self) -> Result<AbiVersion, PluginCallError> {
        let version = self.call(PluginCallback::AbiVersion, |guest, store| {
            guest.call_abi_version(store).map(Ok)
        })?;
        Ok(convert::version_in(version))
    }

    /// Asks the plugin for its metadata.
    ///
    /// # Errors
    /// [`PluginCallError`] when the guest traps or its schema is not JSON.
    pub fn metadata(&mut self) -> Result<PluginMetadata, PluginCallError> {
        let metadata = self.call(PluginCallback::Metadata, |guest, store| {
            guest.call_metadata(store).map(Ok)
        })?;
        convert::metadata_in(metadata).map_err(|reason| {
            self.error(
                PluginCallback::Metadata,
                PluginCallErrorKind::InvalidOutput(reason),
            )
        })
    }

    /// Starts the algorithm, after checking `ctx.params` against the
    /// plugin's params schema ([`LoadedPlugin::check_params`]).
    ///
    /// # Errors
    /// [`PluginCallError`] naming the plugin and callback when the params
    /// break the schema (an `invalid-params` plugin error, with the schema's
    /// message), or the guest traps, returns an error or returns invalid data.
    pub fn init(&mut self, ctx: &PluginInitContext) -> Result<PluginResult, PluginCallError> {
        if let Err(reason) = self.plugin.check_params(&ctx.params) {
            // Refused before the guest runs: its `init` never sees them.
            return Err(self.error(
                PluginCallback::Init,
                PluginCallErrorKind::Plugin(PluginError::invalid_params(reason)),
            ));
        }
        self.identity = Some((ctx.algorithm_id.clone(), ctx.signal.symbol.clone()));
        let ctx = convert::init_context_out(ctx);
        self.event(PluginCallback::Init, |guest, store| {
            guest.call_init(store, &ctx)
        })
    }

    /// Forwards a trade print. Only its price, size, aggressor and time
    /// cross the ABI: the instance's algorithm knows its symbol.
    ///
    /// # Errors
    /// As [`init`](Self::init).
    pub fn on_tick(&mut self, tick: &PluginTick) -> Result<PluginResult, PluginCallError> {
        let tick = convert::tick_out(tick);
        self.event(PluginCallback::OnTick, |guest, store| {
            guest.call_on_tick(store, tick)
        })
    }

    /// Forwards a fill of one of the algorithm's child orders.
    ///
    /// # Errors
    /// As [`init`](Self::init).
    pub fn on_fill(&mut self, fill: &PluginFill) -> Result<PluginResult, PluginCallError> {
        let fill = convert::fill_out(fill);
        self.event(PluginCallback::OnFill, |guest, store| {
            guest.call_on_fill(store, &fill)
        })
    }

    /// Forwards a status change of one of the algorithm's child orders.
    ///
    /// # Errors
    /// As [`init`](Self::init).
    pub fn on_order_update(
        &mut self,
        update: &PluginOrderUpdate,
    ) -> Result<PluginResult, PluginCallError> {
        let update = convert::order_update_out(update);
        self.event(PluginCallback::OnOrderUpdate, |guest, store| {
            guest.call_on_order_update(store, &update)
        })
    }

    /// Forwards a timer heartbeat with the host's clock.
    ///
    /// # Errors
    /// As [`init`](Self::init).
    pub fn on_timer(&mut self, timer: PluginTimer) -> Result<PluginResult, PluginCallError> {
        let timer = wit::Timer {
            now_ms: timer.now_ms,
        };
        self.event(PluginCallback::OnTimer, |guest, store| {
            guest.call_on_timer(store, timer)
        })
    }

    /// The plugin's state as a JSON document.
    ///
    /// # Errors
    /// As [`init`](Self::init).
    pub fn snapshot(&mut self) -> Result<String, PluginCallError> {
        self.call(PluginCallback::Snapshot, |guest, store| {
            guest.call_snapshot(store)
        })
    }

    /// Rebuilds the algorithm from a snapshot, in place of `init`.
    ///
    /// # Errors
    /// As [`init`](Self::init).
    pub fn restore(&mut self, ctx: &PluginRestoreContext) -> Result<(), PluginCallError> {
        self.identity = Some((ctx.algorithm_id.clone(), ctx.symbol.clone()));
        let ctx = convert::restore_context_out(ctx);
        self.call(PluginCallback::Restore, |guest, store| {
            guest.call_restore(store, &ctx)
        })
    }

    /// Runs an event callback. `idle`, the common answer, is an empty
    /// result with nothing more to call; `ready` fetches the result with
    /// `take-result`.
    fn event(
        &mut self,
        callback: PluginCallback,
        f: impl FnOnce(&GuestExports, &mut Store<HostState>) -> wasmtime::Result<wit::EventOutcome>,
    ) -> Result<PluginResult, PluginCallError> {
        if callback != PluginCallback::Init {
            self.recycle_if_due(callback)?;
            self.events += 1;
        }
        let outcome = self.call(callback, |guest, store| f(guest, store).map(Ok))?;
        if outcome == wit::EventOutcome::Idle {
            return Ok(PluginResult::new());
        }
        let result = self
            .call(callback, |guest, store| guest.call_take_result(store))
            .map_err(|mut error| {
                if matches!(error.kind, PluginCallErrorKind::Trap(_)) {
                    error.callback = PluginCallback::TakeResult;
                }
                error
            })?;
        convert::result_in(result)
            .map_err(|reason| self.error(callback, PluginCallErrorKind::InvalidOutput(reason)))
    }

    /// Moves the algorithm to a fresh instance (snapshot → new instance →
    /// restore) when the [`RecyclePolicy`] says so. A plugin whose snapshot
    /// is `null` keeps its instance: it could not be restored.
    ///
    /// # Errors
    /// The snapshot, the new instance or the restore failed; the message
    /// says it happened while recycling.
    fn recycle_if_due(&mut self, callback: PluginCallback) -> Result<(), PluginCallError> {
        let policy = self.recycle;
        let by_calls = policy.after_calls.is_some_and(|n| self.events >= n);
        let limiter = &self.store.data().limiter;
        let by_memory = policy.above_memory_percent.is_some_and(|percent| {
            limiter.used_bytes.saturating_mul(100)
                >= limiter
                    .max_memory_bytes
                    .saturating_mul(usize::from(percent))
        });
        if !(by_calls || by_memory) || self.trapped.is_some() {
            return Ok(());
        }
        let Some((algorithm_id, symbol)) = self.identity.clone() else {
            return Ok(());
        };
        let failed = |this: &Self, step: &str, reason: String| {
            this.error(
                callback,
                PluginCallErrorKind::Trap(format!(
                    "recycling the instance (after {} events, {} MiB of memory) failed at {step}: {reason}",
                    this.events,
                    this.memory_bytes() >> 20
                )),
            )
        };
        let snapshot_json = self.snapshot()?;
        if snapshot_json.trim() == "null" {
            tracing::warn!(
                plugin = self.name(),
                algorithm = algorithm_id,
                "the plugin's snapshot is null, so its instance cannot be recycled; it keeps running in the same instance"
            );
            self.recycle = RecyclePolicy::NEVER;
            return Ok(());
        }
        let mut fresh = self
            .plugin
            .instantiate()
            .map_err(|error| failed(self, "a new instance", error.to_string()))?;
        let restored = fresh.restore(&PluginRestoreContext {
            algorithm_id,
            symbol,
            snapshot_json,
        });
        if let Err(error) = restored {
            return Err(failed(self, "restore", error.to_string()));
        }
        tracing::debug!(
            plugin = self.name(),
            events = self.events,
            memory_mib = self.memory_bytes() >> 20,
            "recycled the plugin instance"
        );
        let mut old = std::mem::replace(self, fresh);
        old.output.append(&mut self.output);
        self.output = std::mem::take(&mut old.output);
        self.recycle = old.recycle;
        self.recycles = old.recycles + 1;
        self.entries += old.entries;
        Ok(())
    }

    fn call<R>(
        &mut self,
        callback: PluginCallback,
        f: impl FnOnce(&GuestExports, &mut Store<HostState>) -> CallResult<R>,
    ) -> Result<R, PluginCallError> {
        if let Some(reason) = &self.trapped {
            return Err(self.error(callback, PluginCallErrorKind::Unusable(reason.clone())));
        }
        self.store.set_epoch_deadline(self.plugin.deadline_ticks());
        self.entries += 1;
        let outcome = f(&self.exports, &mut self.store);
        self.collect_output();
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.error(
                callback,
                PluginCallErrorKind::Plugin(convert::error_in(error)),
            )),
            Err(error) => {
                let reason = self.trap_reason(&error);
                self.trapped = Some(reason.clone());
                Err(self.error(callback, PluginCallErrorKind::Trap(reason)))
            }
        }
    }

    fn collect_output(&mut self) {
        let data = self.store.data();
        data.stdout
            .drain_into(GuestStream::Stdout, &mut self.output);
        data.stderr
            .drain_into(GuestStream::Stderr, &mut self.output);
    }

    fn trap_reason(&self, error: &wasmtime::Error) -> String {
        let limits = &self.plugin.shared().limits;
        let mut reason = match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => format!(
                "CPU deadline exceeded: a callback may run for at most {} ms",
                limits.callback_deadline_for(self.plugin.name()).as_millis()
            ),
            Some(Trap::StackOverflow) => format!(
                "wasm stack overflow: the stack limit is {} KiB",
                limits.max_wasm_stack_bytes >> 10
            ),
            Some(Trap::MemoryOutOfBounds) => "out of bounds memory access: a wild pointer, \
                 or the plugin's own stack in linear memory overflowed (unbounded recursion?)"
                .to_owned(),
            Some(trap) => trap.to_string(),
            None => format!("{error:#}"),
        };
        if let Some(desired) = self.store.data().limiter.refused {
            reason = format!(
                "memory limit exceeded: the plugin asked for {} MiB, the limit is {} MiB ({reason}); \
                 raise [plugins] max_memory_mib, or [plugins.limits.{}] max_memory_mib for this plugin alone",
                desired >> 20,
                self.store.data().limiter.max_memory_bytes >> 20,
                self.plugin.name()
            );
        }
        let stderr: Vec<&str> = self
            .output
            .iter()
            .filter(|line| line.stream == GuestStream::Stderr)
            .map(|line| line.line.as_str())
            .collect();
        if !stderr.is_empty() {
            reason.push_str("; guest stderr: ");
            reason.push_str(&stderr.join(" | "));
        }
        reason
    }

    fn error(&self, callback: PluginCallback, kind: PluginCallErrorKind) -> PluginCallError {
        PluginCallError {
            plugin: self.plugin.name().to_owned(),
            callback,
            kind,
        }
    }
}
