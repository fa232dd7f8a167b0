//! `tesser plugin new`: scaffolds a plugin crate that builds and tests as is.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Args;

use super::lang::Language;

const CARGO_TOML: &str = include_str!("template/Cargo.toml.tmpl");
const LIB_RS: &str = include_str!("template/lib.rs.tmpl");
const README: &str = include_str!("template/README.md.tmpl");

/// The files of a Python plugin: (path in the project, template).
pub const PYTHON_FILES: [(&str, &str); 6] = [
    (
        "pyproject.toml",
        include_str!("template/python/pyproject.toml.tmpl"),
    ),
    ("app.py", include_str!("template/python/app.py.tmpl")),
    // The helper's one copy lives beside the WIT, in tesser-wasm.
    ("tesser_plugin.py", tesser_wasm::PYTHON_HELPER),
    (
        "test_app.py",
        include_str!("template/python/test_app.py.tmpl"),
    ),
    ("README.md", include_str!("template/python/README.md.tmpl")),
    (".gitignore", include_str!("template/python/gitignore.tmpl")),
];

/// The files of a JavaScript plugin: (path in the project, template).
pub const JS_FILES: [(&str, &str); 6] = [
    (
        "package.json",
        include_str!("template/js/package.json.tmpl"),
    ),
    ("plugin.js", include_str!("template/js/plugin.js.tmpl")),
    ("tesser_plugin.js", tesser_wasm::JS_HELPER),
    (
        "plugin.test.js",
        include_str!("template/js/plugin.test.js.tmpl"),
    ),
    ("README.md", include_str!("template/js/README.md.tmpl")),
    (".gitignore", include_str!("template/js/gitignore.tmpl")),
];

/// `tesser plugin new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Crate name: letters, digits, `-` and `_`, starting with a letter
    /// (the `.wasm` is named after it with `-` as `_`).
    pub name: String,
    /// Directory to create [default: ./NAME]; it must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// The `tesser-wasm` SDK crate the plugin depends on [default: the
    /// tesser-wasm of the workspace this binary was built from].
    #[arg(long, value_name = "DIR")]
    pub sdk_path: Option<PathBuf>,
    /// The plugin's language: a Rust crate, a Python project
    /// (componentize-py) or a JavaScript package (componentize-js).
    #[arg(long, value_enum, default_value_t = Language::Rust)]
    pub lang: Language,
}

/// Checks a crate name the way Cargo does (a conservative subset).
fn check_name(name: &str) -> anyhow::Result<()> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.len() <= 64;
    const RESERVED: [&str; 8] = [
        "test",
        "core",
        "std",
        "alloc",
        "proc_macro",
        "self",
        "crate",
        "super",
    ];
    if !valid || RESERVED.contains(&name) {
        bail!(
            "invalid crate name '{name}': use letters, digits, '-' and '_', starting with a letter (e.g. my-twap)"
        );
    }
    Ok(())
}

fn default_sdk_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(
        || PathBuf::from("tesser-wasm"),
        |root| root.join("tesser-wasm"),
    )
}

/// Scaffolds the crate.
///
/// # Errors
/// Invalid name, an existing non-empty directory, no SDK, or a write failed.
pub fn run(args: &NewArgs) -> anyhow::Result<()> {
    check_name(&args.name)?;
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() {
        let non_empty = !dir.is_dir()
            || std::fs::read_dir(&dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .next()
                .is_some();
        if non_empty {
            bail!(
                "{} already exists and is not empty: choose another --path or remove it",
                dir.display()
            );
        }
    }
    if args.lang != Language::Rust {
        return write_guest_project(args, &dir);
    }
    let sdk = args.sdk_path.clone().unwrap_or_else(default_sdk_path);
    let sdk = sdk.canonicalize().map_err(|_| {
        anyhow::anyhow!(
            "tesser-wasm SDK not found at {}: pass --sdk-path to the tesser-wasm crate",
            sdk.display()
        )
    })?;
    if !sdk.join("Cargo.toml").is_file() {
        bail!(
            "{} is not the tesser-wasm crate (no Cargo.toml): pass --sdk-path to the tesser-wasm crate",
            sdk.display()
        );
    }
    let sdk_text = sdk.display().to_string().replace('\\', "/");
    let lib_name = args.name.replace('-', "_");
    let fill = |template: &str| {
        template
            .replace("{{name}}", &args.name)
            .replace("{{lib_name}}", &lib_name)
            .replace("{{sdk_path}}", &sdk_text)
    };
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let write = |relative: &str, text: String| {
        let path = dir.join(relative);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    write("Cargo.toml", fill(CARGO_TOML))?;
    write("src/lib.rs", fill(LIB_RS))?;
    write("README.md", fill(README))?;
    write(".gitignore", "/target\n".to_owned())?;
    // The workspace's lock file pins the SDK's dependencies to versions known
    // to work (and already in the local registry cache); Cargo drops the
    // entries the plugin does not use.
    if let Some(lock) = sdk.parent().map(|root| root.join("Cargo.lock"))
        && lock.is_file()
    {
        std::fs::copy(&lock, dir.join("Cargo.lock"))
            .with_context(|| format!("copying {}", lock.display()))?;
    }
    println!(
        "created plugin crate '{}' in {} (lib {lib_name}, SDK {})",
        args.name,
        dir.display(),
        sdk.display()
    );
    println!(
        "next: cd {} && cargo test && tesser plugin build",
        dir.display()
    );
    Ok(())
}

/// `{{name}}` and `{{module}}` (the name with `-` as `_`, the `.wasm`'s
/// stem) filled in.
#[must_use]
pub fn fill_template(template: &str, name: &str) -> String {
    template
        .replace("{{name}}", name)
        .replace("{{module}}", &name.replace('-', "_"))
}

/// Writes a Python or JavaScript project: the language's files, and the WIT
/// world its component tool builds against.
fn write_guest_project(args: &NewArgs, dir: &Path) -> anyhow::Result<()> {
    let files: &[(&str, &str)] = match args.lang {
        Language::Python => &PYTHON_FILES,
        Language::Js => &JS_FILES,
        Language::Rust => unreachable!("Rust crates are written by run()"),
    };
    std::fs::create_dir_all(dir.join("wit"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let write = |relative: &str, text: &str| {
        let path = dir.join(relative);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    write("wit/plugin.wit", tesser_wasm::WIT_SOURCE)?;
    for (relative, template) in files {
        write(relative, &fill_template(template, &args.name))?;
    }
    let test = match args.lang {
        Language::Python => "python3 -m pytest",
        _ => "node --test",
    };
    println!(
        "created {} plugin '{}' in {}",
        args.lang.display_name(),
        args.name,
        dir.display()
    );
    println!(
        "next: cd {} && {test} && tesser plugin build .",
        dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn crate_names() {
        for good in ["my-twap", "a", "clip_2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "2fast", "has space", "dot.name", "test", "-x", "ü"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
