//! Errors reading market data.

use std::path::PathBuf;

/// Why market data could not be read.
///
/// Messages name the source (a path, or `stdin`) and, for bad content, the
/// 1-based line number, like `trades.csv:17: price "abc" is not a decimal`.
/// They say nothing about command-line flags; front ends add that advice.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The source could not be opened or read.
    #[error("{source_name}: {error}")]
    Io {
        /// Path of the file, or another name for the source such as `stdin`.
        source_name: String,
        /// The underlying error. Its message is part of this error's message,
        /// so it is deliberately not also reported as the error's `source()`.
        error: std::io::Error,
    },
    /// A line is not a valid trade, or the header is wrong.
    #[error("{source_name}:{line}: {reason}")]
    Malformed {
        /// Path of the file, or another name for the source such as `stdin`.
        source_name: String,
        /// 1-based line number, counting the header and blank lines.
        line: u64,
        /// What is wrong with the line.
        reason: String,
    },
    /// The file's extension names no supported format.
    #[error(
        "{}: unsupported trade file extension; expected .csv, .jsonl or .ndjson (each also as .gz or inside a .zip, e.g. .csv.gz), or .parquet",
        path.display()
    )]
    UnsupportedFormat {
        /// The path that was given.
        path: PathBuf,
    },
    /// A `.zip` archive that is unreadable, or does not hold exactly one
    /// file in a supported compression.
    #[error("{source_name}: {reason}")]
    Archive {
        /// Path of the archive (and the entry, as `a.zip!a.csv`, once known).
        source_name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A Parquet file that cannot be read as trades: unreadable, or without
    /// a column the mapping names, or with a column of an unusable type.
    #[error("{source_name}: {reason}")]
    Parquet {
        /// Path of the file.
        source_name: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl DataError {
    /// The line number of a [`DataError::Malformed`] error.
    #[must_use]
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::Malformed { line, .. } => Some(*line),
            _ => None,
        }
    }
}
