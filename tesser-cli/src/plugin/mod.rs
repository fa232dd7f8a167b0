//! `tesser plugin …`: the plugin lab. Scaffold a plugin crate, build and
//! install it, inspect `.wasm` files, and replay recorded trades through one
//! or more plugins side by side.

pub mod build;
pub mod chart;
pub mod inspect;
pub mod lang;
pub mod metrics;
pub mod replay;
pub mod report;
pub mod scaffold;
pub mod sweep;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use tesser_execution::wasm::WasmPluginEngine;

use crate::config;

/// The `tesser plugin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Scaffold a ready-to-build plugin: a Rust crate (Cargo.toml, a
    /// commented src/lib.rs with a params JSON Schema, a native unit test, a
    /// README), or with --lang python|js a project with the WIT, a helper
    /// module, a commented TWAP-like example, unit tests for pytest or
    /// `node --test`, and a README.
    New(scaffold::NewArgs),
    /// Build a plugin (Rust: cargo for wasm32-wasip2; Python:
    /// componentize-py 0.25.1; JavaScript: componentize-js 0.23.0), check
    /// the `.wasm` loads as a plugin, and install it into the plugins
    /// directory.
    Build(build::BuildArgs),
    /// Show a plugin's ABI version, exports, size and metadata (name,
    /// version, description, params JSON Schema).
    Inspect(inspect::InspectArgs),
    /// List the `.wasm` plugins of a directory with their metadata; a broken
    /// file shows its error in its row.
    List(inspect::ListArgs),
    /// Execute one order through one or more plugins on recorded trades
    /// (paper exchange, risk guard) and compare their execution quality:
    /// shortfall vs arrival, slippage vs market VWAP, fill ratio, child
    /// orders, duration. Optional JSON and self-contained HTML report.
    Replay(replay::ReplayArgs),
    /// Score one plugin across a grid of params (every combination of the
    /// values given per key), in parallel, with replay's metrics: a table
    /// sorted by shortfall, optional JSON and HTML report. Ctrl-C prints
    /// what finished.
    Sweep(sweep::SweepArgs),
}

/// Runs a `tesser plugin` subcommand.
///
/// # Errors
/// The subcommand failed; the message names what, where and how to fix it.
pub fn run(command: &PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::New(args) => scaffold::run(args),
        PluginCommand::Build(args) => build::run(args),
        PluginCommand::Inspect(args) => inspect::run_inspect(args),
        PluginCommand::List(args) => inspect::run_list(args),
        PluginCommand::Replay(args) => replay::run(args),
        PluginCommand::Sweep(args) => sweep::run(args),
    }
}

/// The configuration (default.toml → `--config` → `TESSER_*`), with
/// `plugins_dir` overriding `live.plugins_dir` when given.
fn load_config(
    config_file: Option<&Path>,
    plugins_dir: Option<&Path>,
) -> anyhow::Result<config::Config> {
    let mut config = config::load(config_file, std::env::vars())?;
    if let Some(dir) = plugins_dir {
        config.live.plugins_dir = dir.to_path_buf();
    }
    Ok(config)
}

/// The plugin engine over `plugins_dir` with the `[plugins]` limits and,
/// unless switched off, the compiled-plugin cache (`[plugins] cache_dir`), so
/// a plugin is compiled once per file content: `plugin build` warms the
/// cache that `plugin replay` and `live run` then load from. A cache
/// directory that cannot be used costs only the cache: a warning names it
/// and plugins are compiled on every load.
///
/// # Errors
/// The wasmtime engine cannot be created.
pub fn engine(config: &config::Config, plugins_dir: &Path) -> anyhow::Result<WasmPluginEngine> {
    let engine = || {
        WasmPluginEngine::with_limits(plugins_dir, config.plugin_limits())
            .with_context(|| format!("plugins directory {}", plugins_dir.display()))
    };
    let Some(cache_dir) = config.plugin_cache_dir() else {
        return engine();
    };
    match engine()?.with_compiled_cache(&cache_dir) {
        Ok(engine) => {
            tracing::debug!(cache_dir = %cache_dir.display(), "compiled-plugin cache");
            Ok(engine)
        }
        Err(error) => {
            tracing::warn!(%error, "running without the compiled-plugin cache ([plugins] cache_dir); plugins are compiled on every load");
            engine()
        }
    }
}

/// Resolves `FILE|NAME`: an existing path (or one ending in `.wasm`) is a
/// file; anything else is `<plugins_dir>/<NAME>.wasm`.
fn resolve_plugin(spec: &str, plugins_dir: &Path) -> anyhow::Result<PathBuf> {
    let as_path = Path::new(spec);
    let path =
        if as_path.is_file() || spec.ends_with(".wasm") || spec.contains(std::path::MAIN_SEPARATOR)
        {
            as_path.to_path_buf()
        } else {
            plugins_dir.join(format!("{spec}.wasm"))
        };
    if !path.is_file() {
        let available = wasm_files(plugins_dir)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect::<Vec<_>>();
        let available = if available.is_empty() {
            "none".to_owned()
        } else {
            available.join(", ")
        };
        anyhow::bail!(
            "plugin '{spec}' not found: no {} (plugins in {}: {available}); build one with `tesser plugin build` or pass --plugins-dir",
            path.display(),
            plugins_dir.display()
        );
    }
    Ok(path)
}

/// The `.wasm` files of a directory, sorted by name.
fn wasm_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "plugins directory {}: cannot read it; pass --plugins-dir DIR",
            dir.display()
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm") && path.is_file())
        .collect();
    files.sort();
    Ok(files)
}
