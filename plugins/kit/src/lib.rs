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
use tesser_wasm::{PluginError, PluginInitContext};

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
