//! Helpers shared by the binary's integration tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// `plugin_chase.wasm`, built once for `wasm32-wasip2` in a target dir of its
/// own (so the nested build never waits on the outer `cargo test`).
#[allow(dead_code)] // not every test crate runs the chase
pub fn chase_wasm() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| built_wasm("plugin-chase"))
}

/// `test-plugins/chase-execution`, the SDK quick start kept verbatim (it
/// keeps no state: its snapshot is `null`), built once.
#[allow(dead_code)] // not every test crate runs the quick start
pub fn quick_start_wasm() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| built_wasm("chase-execution"))
}

/// Builds one plugin package of the workspace for `wasm32-wasip2` in
/// `target/test-plugins` and returns its `.wasm`.
fn built_wasm(package: &str) -> PathBuf {
    let target_dir = workspace_root().join("target").join("test-plugins");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--release",
            "--quiet",
            "--target",
            "wasm32-wasip2",
            "-p",
            package,
            "--target-dir",
        ])
        .arg(&target_dir)
        .status()
        .expect("run cargo");
    assert!(
        status.success(),
        "building {package} failed (rustup target add wasm32-wasip2)"
    );
    target_dir.join(format!(
        "wasm32-wasip2/release/{}.wasm",
        package.replace('-', "_")
    ))
}

/// The `tesser` binary, with no `TESSER_*` variables from the outside.
#[allow(dead_code)] // not every test crate runs the binary this way
pub fn tesser() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tesser"));
    for (key, _) in std::env::vars() {
        if key.starts_with("TESSER_") {
            command.env_remove(key);
        }
    }
    command
}

/// A run's standard output as text.
#[allow(dead_code)] // not every test crate reads standard output
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A run's standard output, checking it succeeded (its stderr otherwise).
#[allow(dead_code)] // not every test crate runs the lab
pub fn ok(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "tesser failed: {}\n{}",
        stderr(output),
        stdout(output)
    );
    stdout(output)
}

/// The Kraken sample trades, read in place.
#[allow(dead_code)] // not every test crate replays real trades
pub fn kraken_trades() -> PathBuf {
    let path = workspace_root().join("../shared/data/kraken-btcusd-2019-07-01T00.csv");
    assert!(
        path.is_file(),
        "{} is missing: these tests read the shared sample trades in place (../shared/data next to the workspace)",
        path.display()
    );
    path
}

/// A run's standard error as text.
#[allow(dead_code)] // not every test crate checks error output
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The one `error:` line of a failed run, checking the run failed cleanly.
#[allow(dead_code)] // not every test crate checks error output
pub fn error_line(output: &std::process::Output) -> String {
    let text = stderr(output);
    assert!(
        !output.status.success(),
        "expected failure, got success: {text}"
    );
    assert!(!text.contains("panicked"), "no panic: {text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "exactly one error line: {text}");
    errors[0].to_owned()
}

/// A small deterministic generator (SplitMix64), so the kill points are the
/// same on every run of a test.
#[allow(dead_code)] // not every test crate draws kill points
pub struct SplitMix(pub u64);

#[allow(dead_code)] // not every test crate draws kill points
impl SplitMix {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration in `[low, high)` milliseconds.
    pub fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(low + self.next() % (high - low))
    }
}
