//! `tesser plugin build`: build a plugin project (cargo for Rust, the pinned
//! component tools for Python and JavaScript, see [`super::lang`]), check
//! the `.wasm` loads as a plugin, install it.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::inspect::describe_abi;
use super::lang::{self, Install, Language};
use anyhow::{Context as _, bail};
use clap::Args;

/// The target plugins are built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// `tesser plugin build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The plugin project: a Rust crate (Cargo.toml), a Python project
    /// (pyproject.toml) or a JavaScript package (package.json).
    #[arg(default_value = ".", value_name = "PATH")]
    pub path: PathBuf,
    /// Fail instead of installing a missing componentize-py (into `.venv`)
    /// or componentize-js (into `node_modules`), saying how to install it.
    #[arg(long)]
    pub no_install: bool,
    /// Where to install the `.wasm` [default: live.plugins_dir of the configuration].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Configuration file layered over config/default.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Fails with the `rustup` command to run when the target is missing. No
/// `rustup` at all (a distribution toolchain) is left to cargo to report.
fn check_target_installed() -> anyhow::Result<()> {
    let Ok(output) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .stderr(Stdio::null())
        .output()
    else {
        return Ok(());
    };
    if !output.status.success() {
        return Ok(());
    }
    let installed = String::from_utf8_lossy(&output.stdout);
    if !installed.lines().any(|line| line.trim() == WASM_TARGET) {
        bail!(
            "the {WASM_TARGET} target is not installed: run `rustup target add {WASM_TARGET}` and build again"
        );
    }
    Ok(())
}

/// Runs cargo and returns the `.wasm` it produced for the crate at `manifest`.
fn cargo_build(dir: &Path, manifest: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    // Cargo runs in the crate's directory, where a relative CARGO_TARGET_DIR
    // would land inside the crate: resolve it against ours, as the user meant.
    if let Some(target_dir) = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from)
        && target_dir.is_relative()
    {
        let cwd = std::env::current_dir().context("the current directory")?;
        command.env("CARGO_TARGET_DIR", cwd.join(target_dir));
    }
    let mut child = command
        .current_dir(dir)
        .args([
            "build",
            "--release",
            "--target",
            WASM_TARGET,
            "--message-format",
            "json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(manifest)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("running {}", Path::new(&cargo).display()))?;
    let stdout = child.stdout.take().context("cargo's standard output")?;
    let mut artifact = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if message["reason"] == "compiler-message" {
            if let Some(rendered) = message["message"]["rendered"].as_str() {
                eprint!("{rendered}");
            }
            continue;
        }
        if message["reason"] != "compiler-artifact"
            || message["manifest_path"].as_str().map(Path::new) != Some(manifest)
        {
            continue;
        }
        let is_cdylib = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
        if !is_cdylib {
            continue;
        }
        if let Some(files) = message["filenames"].as_array() {
            artifact = files
                .iter()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(".wasm"))
                .map(PathBuf::from)
                .or(artifact);
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!(
            "cargo build --release --target {WASM_TARGET} failed in {} (see the errors above)",
            dir.display()
        );
    }
    artifact.with_context(|| {
        format!(
            "cargo built no .wasm for {}: its [lib] needs crate-type = [\"cdylib\", ...]",
            manifest.display()
        )
    })
}

/// Builds, checks and installs the plugin.
///
/// # Errors
/// No project, a missing target or tool, a failed build, or a `.wasm` the
/// engine refuses; the message says what to do.
pub fn run(args: &BuildArgs) -> anyhow::Result<()> {
    let project = lang::detect(&args.path)?;
    let config = super::load_config(args.config.as_deref(), args.out.as_deref())?;
    let out = config.live.plugins_dir.clone();
    let wasm = match project.language {
        Language::Rust => {
            let manifest = project.dir.join("Cargo.toml");
            check_target_installed()?;
            cargo_build(&project.dir, &manifest)?
        }
        Language::Python | Language::Js => {
            let install = if args.no_install {
                Install::Refused
            } else {
                Install::Allowed
            };
            lang::build(&project, install)?
        }
    };
    let hint = match project.language {
        Language::Rust => "does src/lib.rs call export_plugin!?".to_owned(),
        Language::Python => format!("does {}.py end with `Guest = export(...)`?", project.entry),
        Language::Js => format!("does {} export `guest = exportPlugin(...)`?", project.entry),
    };
    // Through the compiled-plugin cache: `plugin replay` and `live run` load
    // the installed copy (same bytes) without compiling it again.
    let engine = super::engine(&config, &out)?;
    let plugin = engine.load_file(&wasm).with_context(|| {
        format!(
            "{} built but is not a valid plugin ({hint})",
            wasm.display()
        )
    })?;
    std::fs::create_dir_all(&out)
        .with_context(|| format!("creating the plugins directory {}", out.display()))?;
    let file_name = wasm.file_name().context("artifact file name")?;
    let installed = out.join(file_name);
    // Copy then rename, so a running `tesser` never sees half a file.
    let partial = out.join(format!(".{}.partial", file_name.to_string_lossy()));
    std::fs::copy(&wasm, &partial)
        .with_context(|| format!("copying {} to {}", wasm.display(), partial.display()))?;
    std::fs::rename(&partial, &installed)
        .with_context(|| format!("installing {}", installed.display()))?;
    let metadata = plugin.metadata();
    println!(
        "installed {} ({} {}, ABI {}, {} bytes)",
        installed.display(),
        metadata.name,
        metadata.version,
        describe_abi(plugin.abi_version()),
        plugin.size_bytes()
    );
    Ok(())
}
