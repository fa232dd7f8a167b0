//! # tesser-execution
//!
//! Tesser's execution runtime:
//! * [`wasm`]: the WebAssembly plugin engine that runs execution algorithms
//!   in sandboxed instances;
//! * [`Orchestrator`]: turns signals into algorithms, routes ticks, fills,
//!   order updates and timers to them, and sends their child orders;
//! * [`RiskGuard`]: checks every child action before the exchange;
//! * [`StateStore`]: the crash-safe SQLite state that makes restarts resume;
//! * `native` (feature `native`): execution plugins compiled into the host,
//!   for tests, benchmarks and trusted built-in algorithms.
#![deny(missing_docs)]

mod algorithm;
mod convert;
#[cfg(feature = "native")]
pub mod native;
pub mod orchestrator;
pub mod risk;
mod sizer;
pub mod store;
pub mod wasm;

pub use algorithm::{
    AlgorithmProvider, AlgorithmStatus, ExecutionAlgorithm, GuestOutputLine, GuestStream,
    ImmediateAlgorithm, PluginCallError, PluginCallErrorKind, PluginCallback,
};
pub use orchestrator::{
    AlgorithmSummary, Orchestrator, OrchestratorConfig, OrchestratorError, OrchestratorParts,
};
pub use risk::{Funds, RiskGuard, RiskLimits, RiskViolation};
pub use sizer::{FixedQuantitySizer, Sizer};
pub use store::{StateStore, StoreError};
