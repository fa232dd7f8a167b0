//! # tesser-plugin-kit
//!
//! Building blocks shared by Tesser's reference execution plugins
//! (`plugins/twap`, `vwap`, `pov`, `iceberg`, `chase`), so each plugin crate
//! holds only its algorithm:
//!
//! * [`params`]: reading a signal's params (decimals as strings or numbers,
//!   unknown keys refused) with clear `invalid_params` errors, and JSON
//!   Schema fragments for the plugins' params schemas;
//! * [`orders`]: bookkeeping of child orders (working, filled, on the
//!   instrument's lot and tick grids and minimums);
//! * [`schedule`]: a scheduled slicer (bucket by bucket over a duration,
//!   then the rest at market), the engine of TWAP and VWAP.
//!
//! It depends on the SDK's shared types only, so it compiles for the plugins'
//! `wasm32-wasip2` target as well as natively.
#![deny(missing_docs)]

pub mod orders;
pub mod params;
pub mod schedule;

use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tesser_wasm::{PluginError, PluginInitContext};

/// A plugin's snapshot: its whole state as JSON.
///
/// # Errors
/// [`PluginError::internal`] when the state cannot be serialized.
pub fn snapshot_of<T: Serialize>(state: &T) -> Result<serde_json::Value, PluginError> {
    serde_json::to_value(state)
        .map_err(|error| PluginError::internal(format!("cannot snapshot: {error}")))
}

/// Writes a plugin's snapshot, the document [`snapshot_of`] returns, as
/// JSON text: for [`ExecutionPlugin::write_snapshot`](tesser_wasm::ExecutionPlugin::write_snapshot).
///
/// # Errors
/// [`PluginError::internal`] when the state cannot be serialized.
pub fn write_snapshot_of<T: Serialize>(state: &T, out: &mut Vec<u8>) -> Result<(), PluginError> {
    serde_json::to_writer(out, state)
        .map_err(|error| PluginError::internal(format!("cannot snapshot: {error}")))
}

/// A plugin's state rebuilt from a [`snapshot_of`] it took; `name` names the
/// plugin in the error.
///
/// # Errors
/// [`PluginError::invalid_state`] when the JSON is not such a snapshot.
pub fn restore_from<T: DeserializeOwned>(
    snapshot: serde_json::Value,
    name: &str,
) -> Result<T, PluginError> {
    serde_json::from_value(snapshot)
        .map_err(|error| PluginError::invalid_state(format!("not a {name} snapshot: {error}")))
}

/// Checks what every plugin needs from the signal: a positive target.
///
/// # Errors
/// [`PluginError::invalid_params`] when the target is zero or negative.
pub fn check_target(ctx: &PluginInitContext) -> Result<(), PluginError> {
    if ctx.signal.target_quantity <= Decimal::ZERO {
        return Err(PluginError::invalid_params(format!(
            "target quantity must be positive, got {}",
            ctx.signal.target_quantity
        )));
    }
    Ok(())
}
