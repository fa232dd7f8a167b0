//! What a plugin returns, through the real orchestrator: libFuzzer's bytes
//! become a `Scenario` (orchestrator settings, risk limits, a script of
//! plugin results and failures, snapshot strings, and the ticks, timers,
//! signals, cancels and restarts that make the algorithms call back), which
//! runs against the paper exchange and an in-memory state store.
//!
//! Fails on a panic anywhere in the host, an orchestrator error other than
//! a store error, or a broken invariant (see
//! `tesser_fuzz::orchestrator::check_invariants`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tesser_fuzz::orchestrator::{Scenario, run};

fuzz_target!(|scenario: Scenario| run(&scenario));
