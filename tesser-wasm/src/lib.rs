//! # tesser-wasm
//!
//! The SDK for Tesser execution plugins.
//!
//! * By default this crate holds the types shared by the runtime (host) and
//!   plugins (guests): [`PluginSignal`], [`PluginRiskContext`],
//!   [`PluginInitContext`], the event types, [`PluginResult`] and
//!   [`PluginError`]. Their JSON shape is part of the public contract.
//! * With the `guest` feature it also provides the [`ExecutionPlugin`] trait,
//!   the [`PluginRuntime`] that drives a plugin (inside a WASI component or
//!   natively in tests) and the [`export_plugin!`] macro that turns a plugin
//!   type into a component implementing the ABI in `wit/plugin.wit`.
//!
//! ```
//! use rust_decimal::Decimal;
//! use tesser_wasm::{PluginChildOrderAction, PluginCancelRequest, PluginResult};
//!
//! let result = PluginResult::new()
//!     .with_order(PluginChildOrderAction::Cancel(PluginCancelRequest::new("algo-1-0001")))
//!     .completed();
//! assert!(result.is_completed());
//! assert_eq!(result.orders.len(), 1);
//! # let _ = Decimal::ZERO;
//! ```
#![deny(missing_docs)]

// Lets generated code and the export macro name this crate as `::tesser_wasm` from inside it too.
extern crate self as tesser_wasm;

mod abi;
mod context;
mod error;
mod event;
mod metadata;
mod order;
mod result;
mod signal;

#[cfg(feature = "guest")]
mod export;
#[cfg(feature = "guest")]
mod plugin;
#[cfg(feature = "guest")]
mod runtime;

#[cfg(feature = "guest")]
#[doc(hidden)]
pub mod __private;

/// The plugin author guide, `docs/plugin-author-guide.md`, included here only
/// when doctests are collected, so that every code block in it compiles and
/// runs in the test suite.
#[cfg(all(doctest, feature = "guest"))]
#[doc = include_str!("../../docs/plugin-author-guide.md")]
pub struct PluginAuthorGuide;

pub use abi::{
    ABI_VERSION, AbiVersion, DecimalParts, DecimalPartsError, JS_HELPER, PYTHON_HELPER,
    WIT_PACKAGE, WIT_SOURCE,
};
pub use context::{
    PluginBalance, PluginInitContext, PluginInstrument, PluginRestoreContext, PluginRiskContext,
};
pub use error::{PluginError, PluginErrorKind};
pub use event::{PluginFill, PluginOrderStatus, PluginOrderUpdate, PluginTick, PluginTimer};
pub use metadata::PluginMetadata;
pub use order::{
    PluginCancelRequest, PluginChildOrderAction, PluginOrderRequest, PluginOrderType,
    PluginOrderUpdateRequest, PluginTimeInForce,
};
pub use result::{PluginAlgorithmState, PluginLog, PluginLogLevel, PluginResult};
pub use rust_decimal::Decimal;
pub use signal::{PluginSide, PluginSignal, PluginSignalKind};

#[cfg(feature = "guest")]
pub use plugin::ExecutionPlugin;
#[cfg(feature = "guest")]
pub use runtime::{PluginEvent, PluginRuntime};
