//! The JSON the host and the SDK decode: arbitrary bytes as a `PluginResult`,
//! `PluginError`, `PluginInitContext`, `PluginMetadata` and `PluginEvent`;
//! as event fixture lines for `PluginRuntime::handle_json`; as a snapshot for
//! `PluginRuntime::restore` and for the host's `ImmediateAlgorithm`. Never
//! panics, and every decoder keeps the promises checked in
//! `tesser_fuzz::json`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tesser_fuzz::json::check_plugin_json;

fuzz_target!(|data: &[u8]| check_plugin_json(data));
