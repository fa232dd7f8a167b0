//! `tesser plugin inspect` and `tesser plugin list`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;
use tesser_execution::wasm::{PluginSource, WasmPluginEngine};
use tesser_wasm::AbiVersion;

/// `tesser plugin inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A `.wasm` file, or the name of a plugin in the plugins directory.
    #[arg(value_name = "FILE|NAME")]
    pub plugin: String,
    /// Directory holding `<name>.wasm` plugins [config: live.plugins_dir].
    #[arg(long, value_name = "DIR")]
    pub plugins_dir: Option<PathBuf>,
    /// Configuration file layered over config/default.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `tesser plugin list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Directory to list [config: live.plugins_dir].
    #[arg(long, value_name = "DIR")]
    pub plugins_dir: Option<PathBuf>,
    /// Configuration file layered over config/default.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What `inspect` reports about one `.wasm` file.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    /// The file.
    pub file: PathBuf,
    /// File size in bytes.
    pub size_bytes: u64,
    /// `component` or `core module`.
    pub kind: Option<String>,
    /// The ABI version the plugin reports.
    pub abi_version: Option<String>,
    /// Exported interfaces with their functions (`iface: f, g`), or core exports.
    pub exports: Vec<String>,
    /// Metadata: name.
    pub name: Option<String>,
    /// Metadata: version.
    pub version: Option<String>,
    /// Metadata: description.
    pub description: Option<String>,
    /// Metadata: the params JSON Schema.
    pub params_schema: Option<serde_json::Value>,
    /// Why the file is not a usable plugin.
    pub error: Option<String>,
}

/// `major.minor.patch`.
pub fn describe_abi(version: AbiVersion) -> String {
    version.to_string()
}

/// The exports of a component (interfaces and their functions, decoded with
/// `wit-component`) or of a core module.
fn exports(bytes: &[u8]) -> anyhow::Result<Vec<String>> {
    if wasmparser::Parser::is_component(bytes) {
        let decoded = wit_component::decode(bytes).context("decoding the component's WIT")?;
        let wit_component::DecodedWasm::Component(resolve, world) = decoded else {
            anyhow::bail!("a WIT package, not a plugin component");
        };
        let mut out = Vec::new();
        for (key, item) in &resolve.worlds[world].exports {
            let name = resolve.name_world_key(key);
            match item {
                wit_parser::WorldItem::Interface { id, .. } => {
                    let functions: Vec<&str> = resolve.interfaces[*id]
                        .functions
                        .keys()
                        .map(String::as_str)
                        .collect();
                    out.push(format!("{name}: {}", functions.join(", ")));
                }
                wit_parser::WorldItem::Function(_) => out.push(format!("{name} (function)")),
                wit_parser::WorldItem::Type { .. } => out.push(format!("{name} (type)")),
            }
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::ExportSection(reader) = payload.context("parsing the module")? {
            for export in reader {
                let export = export.context("reading an export")?;
                out.push(format!("{} ({:?})", export.name, export.kind).to_lowercase());
            }
        }
    }
    Ok(out)
}

/// Inspects one file; a broken file gives an info with `error` set.
pub fn inspect_file(engine: &WasmPluginEngine, path: &Path) -> PluginInfo {
    let mut info = PluginInfo {
        file: path.to_path_buf(),
        size_bytes: std::fs::metadata(path).map_or(0, |m| m.len()),
        kind: None,
        abi_version: None,
        exports: Vec::new(),
        name: None,
        version: None,
        description: None,
        params_schema: None,
        error: None,
    };
    match std::fs::read(path) {
        Ok(bytes) => match exports(&bytes) {
            Ok(exports) => info.exports = exports,
            Err(error) => info.error = Some(format!("{error:#}")),
        },
        Err(error) => info.error = Some(format!("cannot read {}: {error}", path.display())),
    }
    match engine.load_file(path) {
        Ok(plugin) => {
            info.kind = Some(
                match plugin.source() {
                    PluginSource::Component => "component",
                    PluginSource::CoreModule => "core module (wasip1, adapted)",
                }
                .to_owned(),
            );
            info.abi_version = Some(describe_abi(plugin.abi_version()));
            let metadata = plugin.metadata();
            info.name = Some(metadata.name.clone());
            info.version = Some(metadata.version.clone());
            info.description = Some(metadata.description.clone());
            info.params_schema.clone_from(&metadata.params_schema);
        }
        Err(error) => info.error = Some(error.to_string()),
    }
    info
}

fn text(info: &PluginInfo) -> String {
    use std::fmt::Write as _;
    let dash = || "-".to_owned();
    let mut out = String::new();
    let _ = writeln!(out, "file:         {}", info.file.display());
    let _ = writeln!(out, "size:         {} bytes", info.size_bytes);
    let _ = writeln!(
        out,
        "kind:         {}",
        info.kind.clone().unwrap_or_else(dash)
    );
    let _ = writeln!(
        out,
        "abi version:  {}",
        info.abi_version.clone().unwrap_or_else(dash)
    );
    let _ = writeln!(
        out,
        "name:         {}",
        info.name.clone().unwrap_or_else(dash)
    );
    let _ = writeln!(
        out,
        "version:      {}",
        info.version.clone().unwrap_or_else(dash)
    );
    let _ = writeln!(
        out,
        "description:  {}",
        info.description.clone().unwrap_or_else(dash)
    );
    let _ = writeln!(out, "exports:");
    for export in &info.exports {
        let _ = writeln!(out, "  {export}");
    }
    match &info.params_schema {
        Some(schema) => {
            let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ = writeln!(out, "params schema:");
            for line in pretty.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        None => {
            let _ = writeln!(out, "params schema: none declared");
        }
    }
    if let Some(error) = &info.error {
        let _ = writeln!(out, "error:        {error}");
    }
    out
}

/// `tesser plugin inspect`.
///
/// # Errors
/// The plugin is not found or is not a valid plugin.
pub fn run_inspect(args: &InspectArgs) -> anyhow::Result<()> {
    let config = super::load_config(args.config.as_deref(), args.plugins_dir.as_deref())?;
    let dir = &config.live.plugins_dir;
    let path = super::resolve_plugin(&args.plugin, dir)?;
    let engine = super::engine(&config, dir)?;
    let info = inspect_file(&engine, &path);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        print!("{}", text(&info));
    }
    std::io::stdout().flush().ok();
    if let Some(error) = info.error {
        anyhow::bail!("{error}");
    }
    Ok(())
}

/// `tesser plugin list`.
///
/// # Errors
/// The directory cannot be read.
pub fn run_list(args: &ListArgs) -> anyhow::Result<()> {
    let config = super::load_config(args.config.as_deref(), args.plugins_dir.as_deref())?;
    let dir = &config.live.plugins_dir;
    let files = super::wasm_files(dir)?;
    let engine = super::engine(&config, dir)?;
    let infos: Vec<PluginInfo> = files.iter().map(|f| inspect_file(&engine, f)).collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&infos)?);
        return Ok(());
    }
    let rows: Vec<[String; 6]> = infos
        .iter()
        .map(|info| {
            let file = info
                .file
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
            let last = match &info.error {
                Some(error) => format!("ERROR: {error}"),
                None => or_dash(&info.description),
            };
            [
                file,
                or_dash(&info.name),
                or_dash(&info.version),
                or_dash(&info.abi_version),
                info.size_bytes.to_string(),
                last,
            ]
        })
        .collect();
    let header = ["FILE", "NAME", "VERSION", "ABI", "BYTES", "DESCRIPTION"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == 5 {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        text.trim_end().to_owned()
    };
    println!("{}", line(header));
    for row in &rows {
        println!("{}", line(row.each_ref().map(String::as_str)));
    }
    if rows.is_empty() {
        println!("(no .wasm plugins in {})", dir.display());
    }
    Ok(())
}
