//! Builds the workspace's plugin crates to real `.wasm` files for tests.

#![allow(dead_code)] // reason: each test binary uses a different part of this module.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// A wasm target the plugins are built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmTarget {
    /// Emits a component.
    P2,
    /// Emits a core module the host adapts at load time.
    P1,
}

impl WasmTarget {
    pub fn triple(self) -> &'static str {
        match self {
            Self::P2 => "wasm32-wasip2",
            Self::P1 => "wasm32-wasip1",
        }
    }
}

/// Every plugin crate the tests use.
pub const TEST_PLUGINS: &[&str] = &[
    "plugin-chase",
    "chase-execution",
    "abi-v1",
    "panicky",
    "scripted",
    "raw-snapshot",
    "leaky",
];

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crate inside the workspace")
        .to_path_buf()
}

/// Builds every test plugin for `target` (once per test process; cargo's own
/// lock serializes test binaries) in a target dir of its own, so the nested
/// build never waits on the outer `cargo test`.
pub fn built_plugins(target: WasmTarget) -> PathBuf {
    static BUILT: Mutex<Vec<WasmTarget>> = Mutex::new(Vec::new());
    let target_dir = workspace_root().join("target").join("test-plugins");
    let out = target_dir.join(target.triple()).join("release");
    let mut built = BUILT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !built.contains(&target) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut command = Command::new(cargo);
        command
            .current_dir(workspace_root())
            .args(["build", "--release", "--quiet", "--target", target.triple()])
            .arg("--target-dir")
            .arg(&target_dir);
        for package in TEST_PLUGINS {
            command.args(["-p", package]);
        }
        let status = command.status().expect("run cargo");
        assert!(
            status.success(),
            "building the test plugins for {} failed (is the target installed? `rustup target add {}`)",
            target.triple(),
            target.triple()
        );
        built.push(target);
    }
    out
}

/// Path of the built `.wasm` for crate `package` (hyphens become underscores).
pub fn plugin_wasm(target: WasmTarget, package: &str) -> PathBuf {
    built_plugins(target).join(format!("{}.wasm", package.replace('-', "_")))
}

/// A fresh plugins directory holding copies of the given built plugins under
/// the given names.
pub fn plugins_dir(plugins: &[(WasmTarget, &str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (target, package, name) in plugins {
        std::fs::copy(
            plugin_wasm(*target, package),
            dir.path().join(format!("{name}.wasm")),
        )
        .expect("copy plugin");
    }
    dir
}

pub mod runtime;
