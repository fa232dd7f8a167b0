//! Plugins in other languages than Rust: which language a project is in, and
//! the pinned component tools that build Python (componentize-py) and
//! JavaScript (componentize-js) plugins.
//!
//! A tool's own error output (a Python `SyntaxError` with its file and line,
//! a JavaScript parse error) goes straight to the user's terminal; ours is
//! one line after it saying which tool failed on which file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use clap::ValueEnum;

/// The componentize-py release Python plugins are built with.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";
/// The componentize-js release JavaScript plugins are built with (called
/// directly: jco 1.35.0's `componentize` is broken).
pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";
/// The npm package of componentize-js.
const COMPONENTIZE_JS_PACKAGE: &str = "@bytecodealliance/componentize-js";
/// The WIT world every plugin implements.
const WORLD: &str = "execution-plugin";

/// The language a plugin project is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Language {
    /// A Rust crate built with cargo for `wasm32-wasip2` (the default).
    Rust,
    /// A Python project built with componentize-py.
    Python,
    /// A JavaScript package built with componentize-js.
    Js,
}

impl Language {
    /// The language's name in messages.
    #[must_use]
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::Rust => "Rust",
            Self::Python => "Python",
            Self::Js => "JavaScript",
        }
    }
}

/// A plugin project found at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Its language.
    pub language: Language,
    /// Its directory, canonical.
    pub dir: PathBuf,
    /// The project's name (`[project] name`, package.json's `name`); the
    /// `.wasm` is named after it with `-` as `_`. Empty for Rust (cargo
    /// names the artifact).
    pub name: String,
    /// What the component tool builds: the Python module (`app`) or the
    /// JavaScript entry file (`plugin.js`).
    pub entry: String,
}

/// Finds the plugin project at `path`: `Cargo.toml` makes it Rust,
/// `pyproject.toml` Python and `package.json` JavaScript.
///
/// # Errors
/// None of them is there, or the manifest cannot be read.
pub fn detect(path: &Path) -> anyhow::Result<Project> {
    let dir = path.canonicalize().with_context(|| {
        format!(
            "{}: no such plugin project; pass its directory, e.g. `tesser plugin build my-plugin`",
            path.display()
        )
    })?;
    if dir.join("Cargo.toml").is_file() {
        return Ok(Project {
            language: Language::Rust,
            dir,
            name: String::new(),
            entry: String::new(),
        });
    }
    if dir.join("pyproject.toml").is_file() {
        return python_project(dir);
    }
    if dir.join("package.json").is_file() {
        return js_project(dir);
    }
    bail!(
        "{} is not a plugin project: no Cargo.toml (Rust), pyproject.toml (Python) or package.json (JavaScript); create one with `tesser plugin new NAME [--lang python|js]`",
        path.display()
    )
}

fn python_project(dir: PathBuf) -> anyhow::Result<Project> {
    let manifest = dir.join("pyproject.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{}: not valid TOML", manifest.display()))?;
    let name = table
        .get("project")
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
        .with_context(|| {
            format!(
                "{}: no [project] name; the .wasm is named after it",
                manifest.display()
            )
        })?
        .to_owned();
    let entry = table
        .get("tool")
        .and_then(|t| t.get("tesser"))
        .and_then(|t| t.get("app"))
        .and_then(toml::Value::as_str)
        .unwrap_or("app")
        .to_owned();
    if !dir.join(format!("{entry}.py")).is_file() {
        bail!(
            "{}: no {entry}.py, the module [tool.tesser] app names; it must define the plugin (`Guest = export(...)`)",
            dir.display()
        );
    }
    Ok(Project {
        language: Language::Python,
        dir,
        name,
        entry,
    })
}

fn js_project(dir: PathBuf) -> anyhow::Result<Project> {
    let manifest = dir.join("package.json");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let package: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", manifest.display()))?;
    let name = package["name"]
        .as_str()
        .with_context(|| {
            format!(
                "{}: no \"name\"; the .wasm is named after it",
                manifest.display()
            )
        })?
        .to_owned();
    let entry = package["tesser"]["entry"]
        .as_str()
        .or_else(|| package["main"].as_str())
        .unwrap_or("plugin.js")
        .to_owned();
    if !dir.join(&entry).is_file() {
        bail!(
            "{}: no {entry}, the entry file package.json names (\"tesser\": {{\"entry\": ...}}); it must export `guest`",
            dir.display()
        );
    }
    Ok(Project {
        language: Language::Js,
        dir,
        name,
        entry,
    })
}

/// Whether `build` may install a missing tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Install {
    /// Into the project (`.venv`, `node_modules`).
    Allowed,
    /// Fail, saying how to install it.
    Refused,
}

/// Builds a Python or JavaScript project into `<dir>/build/<stem>.wasm` and
/// returns that path.
///
/// # Errors
/// The tool is missing (and may not be installed), or it failed: its own
/// message is already on the terminal, ours names the tool and the file.
pub fn build(project: &Project, install: Install) -> anyhow::Result<PathBuf> {
    let out_dir = project.dir.join("build");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let out = out_dir.join(format!("{}.wasm", project.name.replace('-', "_")));
    let (tool, mut command) = match project.language {
        Language::Python => {
            let tool = componentize_py(&project.dir, install)?;
            let mut command = Command::new(&tool);
            command
                .args(["-d", "wit", "-w", WORLD, "componentize"])
                .arg(&project.entry)
                .arg("-o")
                .arg(&out);
            ("componentize-py", command)
        }
        Language::Js => {
            check_js_syntax(&project.dir)?;
            let tool = componentize_js(&project.dir, install)?;
            let mut command = Command::new(&tool);
            command
                .arg(&project.entry)
                .args(["--wit", "wit", "--world-name", WORLD])
                // Plugins have no network: without these the component
                // imports wasi:http, which the host refuses.
                .args(["-d", "http", "fetch-event"])
                .arg("-o")
                .arg(&out);
            ("componentize-js", command)
        }
        Language::Rust => bail!("Rust crates are built with cargo"),
    };
    let status = command
        .current_dir(&project.dir)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("running {tool}"))?;
    let source = match project.language {
        Language::Python => format!("{}.py", project.entry),
        _ => project.entry.clone(),
    };
    if !status.success() {
        bail!(
            "{tool} could not build {} in {} (its message is above)",
            source,
            project.dir.display()
        );
    }
    if !out.is_file() {
        bail!("{tool} reported success but wrote no {}", out.display());
    }
    Ok(out)
}

/// Runs `node --check` on the project's own `.js`/`.mjs` files, so a syntax
/// error reaches the user as Node's message with file, line and column:
/// componentize-js only says "failed to parse JS source". Without `node` the
/// check is left to componentize-js.
fn check_js_syntax(dir: &Path) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && path
                    .extension()
                    .is_some_and(|ext| ext == "js" || ext == "mjs")
        })
        .collect();
    files.sort();
    for file in files {
        let Ok(status) = Command::new("node")
            .arg("--check")
            .arg(&file)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
        else {
            return Ok(());
        };
        if !status.success() {
            bail!(
                "{} has a syntax error (Node's message, with the line, is above); fix it and build again",
                file.display()
            );
        }
    }
    Ok(())
}

/// The first line a command prints for `--version`, if it runs.
fn version_of(program: &Path) -> Option<String> {
    let output = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output.status.success().then(|| {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_owned()
    })
}

/// A tool whose `--version` ends with `version`.
fn pinned(program: &Path, version: &str) -> bool {
    version_of(program).is_some_and(|v| v.ends_with(version))
}

/// componentize-py: the project's `.venv`, then `PATH`; installed into
/// `.venv` when neither is the pinned version.
fn componentize_py(dir: &Path, install: Install) -> anyhow::Result<PathBuf> {
    let venv = dir.join(".venv");
    let local = venv.join("bin").join("componentize-py");
    let on_path = PathBuf::from("componentize-py");
    for candidate in [&local, &on_path] {
        if pinned(candidate, COMPONENTIZE_PY_VERSION) {
            return Ok(candidate.clone());
        }
    }
    let how = format!(
        "python3 -m venv .venv && .venv/bin/pip install componentize-py=={COMPONENTIZE_PY_VERSION}"
    );
    if install == Install::Refused {
        bail!(
            "componentize-py {COMPONENTIZE_PY_VERSION} not found (neither {} nor on PATH): run `{how}` in {}",
            local.display(),
            dir.display()
        );
    }
    eprintln!(
        "installing componentize-py {COMPONENTIZE_PY_VERSION} into {}",
        venv.display()
    );
    let run = |program: &Path, args: &[&str]| -> anyhow::Result<()> {
        let status = Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .status()
            .with_context(|| format!("running {}", program.display()))?;
        if !status.success() {
            bail!(
                "installing componentize-py failed; install it by hand: `{how}` in {}",
                dir.display()
            );
        }
        Ok(())
    };
    if !venv.join("bin").join("pip").is_file() {
        run(Path::new("python3"), &["-m", "venv", ".venv"]).with_context(
            || "Python 3.11 or later is needed to build Python plugins (python3 on PATH)",
        )?;
    }
    let requirement = format!("componentize-py=={COMPONENTIZE_PY_VERSION}");
    run(
        &venv.join("bin").join("pip"),
        &["install", "--quiet", &requirement],
    )?;
    Ok(local)
}

/// componentize-js: the project's `node_modules`, then `PATH`; installed
/// into `node_modules` (without touching package.json) when neither is the
/// pinned version.
fn componentize_js(dir: &Path, install: Install) -> anyhow::Result<PathBuf> {
    let local = dir
        .join("node_modules")
        .join(".bin")
        .join("componentize-js");
    let on_path = PathBuf::from("componentize-js");
    for candidate in [&local, &on_path] {
        if pinned(candidate, COMPONENTIZE_JS_VERSION) {
            return Ok(candidate.clone());
        }
    }
    let spec = format!("{COMPONENTIZE_JS_PACKAGE}@{COMPONENTIZE_JS_VERSION}");
    let how = format!("npm install --no-save {spec}");
    if install == Install::Refused {
        bail!(
            "componentize-js {COMPONENTIZE_JS_VERSION} not found (neither {} nor on PATH): run `{how}` in {}",
            local.display(),
            dir.display()
        );
    }
    eprintln!(
        "installing {spec} into {}",
        dir.join("node_modules").display()
    );
    let status = Command::new("npm")
        .args(["install", "--no-save", "--no-audit", "--no-fund", &spec])
        .current_dir(dir)
        .stdin(Stdio::null())
        .status()
        .context(
            "Node.js 20 or later and npm are needed to build JavaScript plugins (npm on PATH)",
        )?;
    if !status.success() || !pinned(&local, COMPONENTIZE_JS_VERSION) {
        bail!(
            "installing componentize-js failed; install it by hand: `{how}` in {}",
            dir.display()
        );
    }
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scripts/plugin-tools` (CI and the tests) installs the versions
    /// `tesser plugin build` pins.
    #[test]
    fn the_tools_script_installs_the_pinned_versions() {
        let script = include_str!("../../../scripts/plugin-tools");
        assert!(script.contains(&format!("componentize-py=={COMPONENTIZE_PY_VERSION}")));
        assert!(script.contains(&format!("componentize-py {COMPONENTIZE_PY_VERSION}")));
        assert!(script.contains(&format!(
            "{COMPONENTIZE_JS_PACKAGE}@{COMPONENTIZE_JS_VERSION}"
        )));
    }

    #[test]
    fn detects_each_language_and_names_what_is_missing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let error = detect(dir.path()).expect_err("empty").to_string();
        assert!(
            error.contains("pyproject.toml") && error.contains("--lang"),
            "{error}"
        );
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"my-algo\"\n",
        )
        .expect("write");
        let error = detect(dir.path()).expect_err("no app.py").to_string();
        assert!(error.contains("no app.py"), "{error}");
        std::fs::write(dir.path().join("app.py"), "").expect("write");
        let project = detect(dir.path()).expect("python");
        assert_eq!(
            (
                project.language,
                project.name.as_str(),
                project.entry.as_str()
            ),
            (Language::Python, "my-algo", "app")
        );
        let js = tempfile::tempdir().expect("temp dir");
        std::fs::write(js.path().join("package.json"), r#"{"name": "algo-js"}"#).expect("write");
        std::fs::write(js.path().join("plugin.js"), "").expect("write");
        let project = detect(js.path()).expect("js");
        assert_eq!(
            (project.language, project.entry.as_str()),
            (Language::Js, "plugin.js")
        );
    }
}
