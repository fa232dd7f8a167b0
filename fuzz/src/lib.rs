//! The checks behind Tesser's fuzz targets (`fuzz_targets/*.rs`), one module
//! per input the host decodes. Each module is also included, with `#[path]`,
//! by the property tests of the crate it exercises
//! (`tesser-execution/tests/properties.rs`, `tesser-data/tests/properties.rs`),
//! so libFuzzer and `cargo test` check the very same promises.

pub mod abi;
pub mod json;
pub mod orchestrator;
pub mod trades;
