//! # tesser-execution
//!
//! Tesser's execution runtime: the WebAssembly plugin engine that runs
//! execution algorithms in sandboxed instances.
#![deny(missing_docs)]

pub mod wasm;
