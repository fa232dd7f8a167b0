//! Why a strategy configuration was refused.

use std::path::PathBuf;

use crate::BUILT_IN_STRATEGIES;

/// Why a strategy configuration could not be loaded or a strategy built.
///
/// Every message is one line that names the file (with the line when it is
/// known), the key, and what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StrategyError {
    /// The configuration file could not be read.
    #[error("cannot read strategy config {}: {source}; check the path and its permissions", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, has a key the strategy does not know,
    /// lacks a required key, or a value has the wrong type.
    #[error("{}: {message}", location(.file, .line, .column))]
    Parse {
        /// The file (or source name) the configuration came from.
        file: String,
        /// 1-based line of the offending text, when known.
        line: Option<usize>,
        /// 1-based column of the offending text, when known.
        column: Option<usize>,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// `strategy_name` names no built-in strategy.
    #[error(
        "{}: unknown strategy_name \"{name}\"; set `strategy_name` to one of the built-in strategies: {}",
        location(.file, .line, &None),
        BUILT_IN_STRATEGIES.join(", ")
    )]
    UnknownStrategy {
        /// The file (or source name) the configuration came from.
        file: String,
        /// 1-based line of `strategy_name`, when known.
        line: Option<usize>,
        /// The name given.
        name: String,
    },
    /// A value is out of range or contradicts another one.
    #[error("{}: `{key}` {problem}", location(.file, .line, &None))]
    InvalidValue {
        /// The file (or source name) the configuration came from.
        file: String,
        /// 1-based line of the value, when known.
        line: Option<usize>,
        /// The key, with its table: `params.fast`,
        /// `params.signals[2].quantity` (entries counted from 1).
        key: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// Parameters given in code rather than in a file are invalid.
    #[error("{strategy} parameters: `{key}` {problem}")]
    InvalidParams {
        /// The strategy.
        strategy: &'static str,
        /// The parameter.
        key: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
}

fn location(file: &str, line: &Option<usize>, column: &Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("{file}:{line}:{column}"),
        (Some(line), None) => format!("{file}:{line}"),
        (None, _) => file.to_owned(),
    }
}
