//! The trait an execution plugin implements.

use crate::{
    PluginError, PluginFill, PluginInitContext, PluginMetadata, PluginOrderUpdate, PluginResult,
    PluginTick, PluginTimer,
};

/// An execution algorithm: turns a parent signal into child orders.
///
/// Only [`init`](Self::init) is required; every event callback defaults to
/// doing nothing. One value of the type runs one algorithm: the host creates
/// a fresh instance per signal, calls `init` once, then forwards the
/// algorithm's events until it reports [`PluginResult::completed`] or fails.
/// After a restart the host calls [`restore`](Self::restore) with the last
/// [`snapshot`](Self::snapshot) instead of `init`.
///
/// ```
/// use tesser_wasm::{ExecutionPlugin, PluginError, PluginInitContext, PluginResult};
///
/// #[derive(Default)]
/// struct Noop;
///
/// impl ExecutionPlugin for Noop {
///     fn init(&mut self, _ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
///         Ok(PluginResult::new().completed())
///     }
/// }
/// ```
pub trait ExecutionPlugin {
    /// Name, version, description and params schema. The default takes
    /// name, version and description from the plugin crate's `Cargo.toml`
    /// (passed in by `export_plugin!`) and declares no schema.
    fn metadata(crate_defaults: PluginMetadata) -> PluginMetadata
    where
        Self: Sized,
    {
        crate_defaults
    }

    /// Starts the algorithm.
    ///
    /// # Errors
    /// Return an error (typically [`PluginError::invalid_params`]) to refuse
    /// the signal; the host fails the algorithm with it.
    fn init(&mut self, ctx: PluginInitContext) -> Result<PluginResult, PluginError>;

    /// A trade print of the algorithm's symbol.
    ///
    /// # Errors
    /// An error fails the algorithm.
    fn on_tick(&mut self, tick: PluginTick) -> Result<PluginResult, PluginError> {
        let _ = tick;
        Ok(PluginResult::new())
    }

    /// A fill of one of the algorithm's child orders.
    ///
    /// # Errors
    /// An error fails the algorithm.
    fn on_fill(&mut self, fill: PluginFill) -> Result<PluginResult, PluginError> {
        let _ = fill;
        Ok(PluginResult::new())
    }

    /// A status change of one of the algorithm's child orders: accepted (with
    /// the client order id the host gave it), rejected (with the reason),
    /// partially filled, filled, cancelled or expired.
    ///
    /// # Errors
    /// An error fails the algorithm.
    fn on_order_update(&mut self, update: PluginOrderUpdate) -> Result<PluginResult, PluginError> {
        let _ = update;
        Ok(PluginResult::new())
    }

    /// A timer heartbeat. Override [`on_timer_at`](Self::on_timer_at)
    /// instead when the algorithm needs the host's clock.
    ///
    /// # Errors
    /// An error fails the algorithm.
    fn on_timer(&mut self) -> Result<PluginResult, PluginError> {
        Ok(PluginResult::new())
    }

    /// A timer heartbeat with the host's clock. Defaults to calling
    /// [`on_timer`](Self::on_timer).
    ///
    /// # Errors
    /// An error fails the algorithm.
    fn on_timer_at(&mut self, timer: PluginTimer) -> Result<PluginResult, PluginError> {
        let _ = timer;
        self.on_timer()
    }

    /// The algorithm's state as JSON, persisted by the host so a restart
    /// resumes where it stopped. The default, `null`, means the plugin keeps
    /// no state worth restoring.
    ///
    /// # Errors
    /// An error fails the algorithm.
    fn snapshot(&self) -> Result<serde_json::Value, PluginError> {
        Ok(serde_json::Value::Null)
    }

    /// Writes the same document as [`snapshot`](Self::snapshot) as JSON
    /// text into `out`, which is empty. This is what the runtime calls,
    /// before every child order goes out. The default serializes
    /// `snapshot()`'s value. A plugin whose state is one `Serialize` type can
    /// write it directly, without building a `serde_json::Value` tree first;
    /// on the chase that makes a snapshot several times cheaper:
    ///
    /// ```
    /// use serde::Serialize;
    /// use tesser_wasm::{ExecutionPlugin, PluginError, PluginInitContext, PluginResult};
    ///
    /// #[derive(Default, Serialize)]
    /// struct Counter {
    ///     clips: u32,
    /// }
    ///
    /// impl ExecutionPlugin for Counter {
    ///     fn init(&mut self, _ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
    ///         Ok(PluginResult::new())
    ///     }
    ///     fn snapshot(&self) -> Result<serde_json::Value, PluginError> {
    ///         serde_json::to_value(self).map_err(|e| PluginError::internal(e.to_string()))
    ///     }
    ///     fn write_snapshot(&self, out: &mut Vec<u8>) -> Result<(), PluginError> {
    ///         serde_json::to_writer(out, self).map_err(|e| PluginError::internal(e.to_string()))
    ///     }
    /// }
    ///
    /// let mut out = Vec::new();
    /// Counter { clips: 3 }.write_snapshot(&mut out)?;
    /// assert_eq!(out, br#"{"clips":3}"#);
    /// # Ok::<(), PluginError>(())
    /// ```
    ///
    /// Debug builds of [`PluginRuntime`](crate::PluginRuntime) (the test
    /// harness) check that both give the same document.
    ///
    /// # Errors
    /// An error fails the algorithm.
    fn write_snapshot(&self, out: &mut Vec<u8>) -> Result<(), PluginError> {
        let value = self.snapshot()?;
        serde_json::to_writer(out, &value)
            .map_err(|error| PluginError::internal(format!("cannot write the snapshot: {error}")))
    }

    /// Rebuilds the algorithm from a [`snapshot`](Self::snapshot) in a fresh
    /// instance, instead of `init`. The default ignores the snapshot.
    ///
    /// # Errors
    /// Return [`PluginError::invalid_state`] when the snapshot cannot be used.
    fn restore(&mut self, snapshot: serde_json::Value) -> Result<(), PluginError> {
        let _ = snapshot;
        Ok(())
    }
}
