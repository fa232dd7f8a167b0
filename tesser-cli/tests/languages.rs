//! Plugins in Python and JavaScript through the real `tesser` binary and the
//! pinned component tools (componentize-py 0.25.1, componentize-js 0.23.0):
//! the scaffolds pass their own unit tests (pytest, `node --test`), build and
//! complete a replay; the TWAP in Rust, Python and JavaScript gives identical
//! fills and figures on the Kraken hour (the cross-language conformance
//! test); a guest's error reaches the user in the guest's own words, with
//! file and line, at build time and at run time; a missing tool is named
//! with the command that installs it.
//!
//! Each component is built once per test process (a build takes 10–25 s).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

use common::{error_line, kraken_trades, ok, stderr, tesser, workspace_root};

/// Per-plugin limits for the interpreted guests: a CPU deadline that a
/// loaded CI machine does not hit by accident (CPython and StarlingMonkey
/// pause for garbage collection now and then).
const CONFIG: &str = "\
[plugins.limits.twap_py]
callback_deadline_ms = 5000
[plugins.limits.twap_js]
callback_deadline_ms = 5000
[plugins.limits.algo_py]
callback_deadline_ms = 5000
[plugins.limits.algo_js]
callback_deadline_ms = 5000
[plugins.limits.broken_py]
callback_deadline_ms = 5000
[plugins.limits.broken_js]
callback_deadline_ms = 5000
";

/// `PATH` with the pinned tools first: `scripts/plugin-tools` installs them
/// into `target/plugin-tools` (once; later runs find them there).
fn tools_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        let output = Command::new("bash")
            .arg(workspace_root().join("scripts/plugin-tools"))
            .output()
            .expect("run scripts/plugin-tools");
        assert!(
            output.status.success(),
            "scripts/plugin-tools failed (it needs python3 with venv, and npm):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let tools = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        format!("{tools}:{}", std::env::var("PATH").unwrap_or_default())
    })
}

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        tesser()
            .current_dir(self.dir.path())
            .env(
                "CARGO_TARGET_DIR",
                workspace_root().join("target/lab-plugins"),
            )
            .env("PATH", tools_path())
            .args(args)
            .output()
            .expect("run tesser")
    }

    fn ok(&self, args: &[&str]) -> String {
        ok(&self.run(args))
    }

    /// `plugin build DIR --out plugins --config lab.toml`.
    fn build(&self, dir: &str) -> String {
        self.ok(&[
            "plugin", "build", dir, "--out", "plugins", "--config", "lab.toml",
        ])
    }

    /// A replay of `plugins` on the Kraken hour; the JSON runs.
    fn replay(&self, plugins: &[&str], side_qty: (&str, &str), extra: &[&str]) -> Vec<Value> {
        let data = kraken_trades();
        let json = format!("replay-{}.json", plugins.join("-"));
        let mut args = vec!["plugin", "replay", plugins[0]];
        if plugins.len() > 1 {
            args.push("--compare");
            args.extend_from_slice(&plugins[1..]);
        }
        args.extend_from_slice(&["--plugins-dir", "plugins", "--config", "lab.toml"]);
        args.extend_from_slice(&["--data", data.to_str().expect("utf-8")]);
        args.extend_from_slice(&["--side", side_qty.0, "--qty", side_qty.1]);
        args.extend_from_slice(&["--no-progress", "--json", &json]);
        args.extend_from_slice(extra);
        self.ok(&args);
        let text = std::fs::read_to_string(self.path(&json)).expect("json");
        match serde_json::from_str(&text).expect("parse") {
            Value::Array(runs) => runs,
            other => panic!("expected a list of runs: {other}"),
        }
    }
}

/// Copies a plugin project (without build output or installed tools).
fn copy_project(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("wit")).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_file() {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy");
        }
    }
    std::fs::copy(from.join("wit/plugin.wit"), to.join("wit/plugin.wit")).expect("copy wit");
}

/// Runs a language's own test runner in `dir`.
fn own_tests(dir: &Path, program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PATH", tools_path())
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed in {}:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The scaffolds (tested with their own runners), the TWAP ports and the
/// Rust TWAP, built and installed into `plugins/` once.
fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let lab = Lab {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        std::fs::write(lab.path("lab.toml"), CONFIG).expect("config");
        lab.ok(&["plugin", "new", "algo-py", "--lang", "python"]);
        lab.ok(&["plugin", "new", "algo-js", "--lang", "js"]);
        for dir in ["algo-py", "algo-js"] {
            let wit = std::fs::read_to_string(lab.path(dir).join("wit/plugin.wit")).expect("wit");
            assert_eq!(wit, tesser_wasm::WIT_SOURCE, "{dir}/wit/plugin.wit");
        }
        own_tests(&lab.path("algo-py"), "python3", &["-m", "pytest", "-q"]);
        own_tests(&lab.path("algo-js"), "node", &["--test"]);
        let plugins = workspace_root().join("plugins");
        // The ports link to the ABI and the helper modules beside it in
        // tesser-wasm/wit; the scaffolds write the same bytes.
        for (port, helper, scaffold) in [
            ("twap-py", "tesser_plugin.py", "algo-py"),
            ("twap-js", "tesser_plugin.js", "algo-js"),
        ] {
            let read = |path: PathBuf| std::fs::read_to_string(&path).expect("read");
            assert_eq!(
                read(plugins.join(port).join("wit/plugin.wit")),
                tesser_wasm::WIT_SOURCE,
                "plugins/{port}/wit/plugin.wit differs from tesser-wasm/wit/plugin.wit"
            );
            assert!(
                read(plugins.join(port).join(helper)) == read(lab.path(scaffold).join(helper)),
                "plugins/{port}/{helper} differs from the one `tesser plugin new` writes"
            );
        }
        copy_project(&plugins.join("twap-py"), &lab.path("twap-py"));
        copy_project(&plugins.join("twap-js"), &lab.path("twap-js"));
        own_tests(&lab.path("twap-py"), "python3", &["-m", "pytest", "-q"]);
        own_tests(&lab.path("twap-js"), "node", &["--test"]);
        for dir in ["algo-py", "algo-js", "twap-py", "twap-js"] {
            let built = lab.build(dir);
            assert!(built.contains("installed plugins/"), "{built}");
        }
        lab.build(plugins.join("twap").to_str().expect("utf-8"));
        lab
    })
}

/// The fenced block of `language` that follows `heading` in the guide.
fn guide_block(guide: &str, heading: &str, language: &str) -> String {
    let from = guide
        .find(heading)
        .unwrap_or_else(|| panic!("{heading} in the guide"));
    let fence = format!("```{language}\n");
    let start = guide[from..].find(&fence).expect("a code block") + from + fence.len();
    let end = guide[start..].find("```\n").expect("its end") + start;
    guide[start..end].to_owned()
}

#[test]
fn the_author_guide_shows_exactly_the_files_the_tests_build() {
    let lab = lab();
    let guide = std::fs::read_to_string(workspace_root().join("docs/plugin-author-guide.md"))
        .expect("guide");
    for (heading, language, file) in [
        ("### The Python example", "python", "algo-py/app.py"),
        (
            "### The JavaScript example",
            "javascript",
            "algo-js/plugin.js",
        ),
    ] {
        let scaffold = std::fs::read_to_string(lab.path(file)).expect("scaffold file");
        assert!(
            guide_block(&guide, heading, language) == scaffold,
            "the guide's {heading} is not {file} as `tesser plugin new` writes it"
        );
    }
}

#[test]
fn python_and_js_scaffolds_build_and_complete_a_replay() {
    let lab = lab();
    let runs = lab.replay(&["algo_py", "algo_js"], ("buy", "2"), &[]);
    for run in &runs {
        assert_eq!(run["status"], "completed", "{run}");
        assert_eq!(run["filled"], "2", "{run}");
    }
    let inspected = lab.ok(&["plugin", "inspect", "algo_py", "--plugins-dir", "plugins"]);
    assert!(inspected.contains("slices"), "{inspected}");
}

/// Everything but the plugin's name.
fn figures(run: &Value) -> Value {
    let mut run = run.clone();
    run.as_object_mut().expect("object").remove("plugin");
    run
}

#[test]
fn twap_in_rust_python_and_js_gives_identical_fills_and_figures() {
    let lab = lab();
    for (side_qty, params) in [
        (("buy", "10"), None),
        (
            ("sell", "3.3"),
            Some(r#"{"slices": 7, "duration_ms": 900000}"#),
        ),
        (("buy", "10"), Some(r#"{"order_type": "market"}"#)),
    ] {
        let mut extra = Vec::new();
        if let Some(params) = params {
            extra.extend_from_slice(&["--params", params]);
        }
        let runs = lab.replay(&["twap", "twap_py", "twap_js"], side_qty, &extra);
        assert_eq!(runs.len(), 3);
        let fills = runs[0]["fills"].as_array().expect("fills");
        assert!(fills.len() > 10, "a real execution: {fills:?}");
        assert_eq!(runs[0]["status"], "completed", "{}", runs[0]);
        for run in &runs[1..] {
            assert_eq!(
                figures(run),
                figures(&runs[0]),
                "{} differs from the Rust twap with {params:?}",
                run["plugin"]
            );
        }
    }
}

/// A copy of a scaffold with `edit` applied to its entry file.
fn broken_copy(lab: &Lab, from: &str, to: &str, file: &str, edit: impl Fn(&str) -> String) {
    copy_project(&lab.path(from), &lab.path(to));
    let manifest = if file.ends_with(".py") {
        "pyproject.toml"
    } else {
        "package.json"
    };
    let text = std::fs::read_to_string(lab.path(to).join(manifest)).expect("manifest");
    std::fs::write(lab.path(to).join(manifest), text.replace(from, to)).expect("manifest");
    let source = std::fs::read_to_string(lab.path(to).join(file)).expect("source");
    let edited = edit(&source);
    assert_ne!(edited, source, "the edit applies");
    std::fs::write(lab.path(to).join(file), edited).expect("source");
}

#[test]
fn a_syntax_error_reaches_the_user_in_the_tools_words_with_file_and_line() {
    let lab = lab();
    broken_copy(lab, "algo-py", "syntax-py", "app.py", |s| {
        s.replace(
            "def on_tick(self, tick: Tick) -> Result:",
            "def on_tick(self, tick: Tick) -> Result",
        )
    });
    let output = lab.run(&["plugin", "build", "syntax-py", "--out", "plugins"]);
    let line = error_line(&output);
    assert!(
        line.contains("componentize-py could not build app.py"),
        "{line}"
    );
    let text = stderr(&output);
    assert!(
        text.contains("SyntaxError") && text.contains("app.py") && text.contains("line 79"),
        "the tool's own message with file and line: {text}"
    );
    broken_copy(lab, "algo-js", "syntax-js", "plugin.js", |s| {
        s.replace("  onTick(tick) {", "  onTick(tick) {{")
    });
    let output = lab.run(&["plugin", "build", "syntax-js", "--out", "plugins"]);
    let line = error_line(&output);
    assert!(line.contains("plugin.js has a syntax error"), "{line}");
    let text = stderr(&output);
    // Node's own message: `…/syntax-js/plugin.js:80` (the line after the
    // stray brace, where the parser gives up) and the SyntaxError.
    assert!(
        text.contains("syntax-js/plugin.js:") && text.contains("SyntaxError: Unexpected token"),
        "the tool's own message with file and line: {text}"
    );
    assert!(!lab.path("plugins/syntax_py.wasm").exists());
}

#[test]
fn an_exception_at_run_time_fails_that_algorithm_alone_with_the_guests_traceback() {
    let lab = lab();
    broken_copy(lab, "algo-py", "broken-py", "app.py", |s| {
        s.replace(
            "        self.last_price = tick.price\n",
            "        self.last_price = tick.price\n        raise ValueError(f\"no price feed for {tick.price}\")\n",
        )
    });
    broken_copy(lab, "algo-js", "broken-js", "plugin.js", |s| {
        s.replace(
            "  onTick(tick) {\n",
            "  onTick(tick) {\n    throw new RangeError(`no price feed for ${tick.price}`);\n",
        )
    });
    lab.build("broken-py");
    lab.build("broken-js");
    let runs = lab.replay(&["algo_py", "broken_py", "broken_js"], ("buy", "2"), &[]);
    assert_eq!(
        runs[0]["status"], "completed",
        "the others go on: {}",
        runs[0]
    );
    let python = runs[1]["reason"].as_str().expect("a reason");
    assert_eq!(runs[1]["status"], "failed", "{}", runs[1]);
    assert!(
        python.contains("Traceback")
            && python.contains("app.py\", line 81, in on_tick")
            && python.contains("ValueError: no price feed for"),
        "{python}"
    );
    let js = runs[2]["reason"].as_str().expect("a reason");
    assert_eq!(runs[2]["status"], "failed", "{}", runs[2]);
    assert!(
        js.contains("RangeError: no price feed for") && js.contains("plugin.js:75"),
        "{js}"
    );
}

#[test]
fn a_missing_tool_is_named_with_the_command_that_installs_it() {
    let lab = lab();
    let empty = tempfile::tempdir().expect("temp dir");
    for (lang, dir, says) in [
        (
            "python",
            "bare-py",
            "python3 -m venv .venv && .venv/bin/pip install componentize-py==0.25.1",
        ),
        (
            "js",
            "bare-js",
            "npm install --no-save @bytecodealliance/componentize-js@0.23.0",
        ),
    ] {
        lab.ok(&["plugin", "new", dir, "--lang", lang]);
        let output = tesser()
            .current_dir(lab.dir.path())
            .env("PATH", empty.path())
            .args(["plugin", "build", dir, "--no-install", "--out", "plugins"])
            .output()
            .expect("run tesser");
        let line = error_line(&output);
        assert!(line.contains(says), "{line}");
    }
}
