//! Builds the plugins the benchmark runs, as a user would: `cargo build
//! --release --target wasm32-wasip2`, in a target directory of its own so the
//! nested build never waits on the outer one.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// The built plugins, each in a plugins directory of its own.
#[derive(Debug)]
pub struct Plugins {
    /// Holds `plugin_chase.wasm`.
    pub chase_dir: PathBuf,
    /// The JSON-ABI chase component.
    pub json_chase: PathBuf,
    /// Holds `scripted.wasm` (test-plugins/scripted), for figure R_idle.
    pub scripted_dir: PathBuf,
}

/// The plugin name the chase is loaded under.
pub const CHASE: &str = "plugin_chase";

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Builds `package` for `wasm32-wasip2` and returns its `.wasm`.
///
/// The typed and the JSON chase are built by separate cargo runs: the JSON
/// one embeds plugin-chase without its ABI exports, and one run would unify
/// the features of both.
pub fn build(package: &str, target_dir: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "--release", "--quiet", "--target", "wasm32-wasip2"])
        .args(["-p", package])
        .arg("--target-dir")
        .arg(target_dir)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!(
            "building {package} for wasm32-wasip2 failed (is the target installed? `rustup target add wasm32-wasip2`)"
        );
    }
    Ok(target_dir
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", package.replace('-', "_"))))
}

/// Builds plugin-chase and the JSON-ABI chase.
///
/// # Errors
/// A build failed or its output could not be copied.
pub fn plugins() -> anyhow::Result<Plugins> {
    let root = workspace_root().join("target").join("bench-plugins");
    let chase = build("plugin-chase", &root.join("typed"))?;
    let json_chase = build("json-chase", &root.join("json"))?;
    let scripted = build("scripted", &root.join("scripted"))?;
    let chase_dir = root.join("plugins");
    std::fs::create_dir_all(&chase_dir)?;
    std::fs::copy(&chase, chase_dir.join(format!("{CHASE}.wasm")))
        .with_context(|| format!("copying {}", chase.display()))?;
    let scripted_dir = root.join("scripted-plugins");
    std::fs::create_dir_all(&scripted_dir)?;
    std::fs::copy(&scripted, scripted_dir.join("scripted.wasm"))
        .with_context(|| format!("copying {}", scripted.display()))?;
    Ok(Plugins {
        chase_dir,
        json_chase,
        scripted_dir,
    })
}
