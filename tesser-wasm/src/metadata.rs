//! What a plugin says about itself.

use serde::{Deserialize, Serialize};

/// A plugin's name, version, description and params schema, as exported
/// through the ABI. The `export_plugin!` macro fills name, version and
/// description from the plugin crate's `Cargo.toml` unless the plugin
/// overrides `ExecutionPlugin::metadata` (both in the `guest` feature).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginMetadata {
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// One-line description.
    pub description: String,
    /// A JSON Schema of the params the plugin accepts.
    pub params_schema: Option<serde_json::Value>,
}
