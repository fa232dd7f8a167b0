//! Errors a plugin reports.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Category of a [`PluginError`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginErrorKind {
    /// The signal's params are missing, malformed or out of range.
    InvalidParams,
    /// The call is not valid in the plugin's current state (e.g. an event
    /// before `init`, or a snapshot that cannot be restored).
    InvalidState,
    /// Data handed to the plugin could not be decoded.
    InvalidInput,
    /// Anything else.
    #[default]
    Internal,
}

impl fmt::Display for PluginErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidParams => "invalid params",
            Self::InvalidState => "invalid state",
            Self::InvalidInput => "invalid input",
            Self::Internal => "internal error",
        })
    }
}

/// An error a plugin returns instead of a result. The host fails the
/// algorithm with it and cancels its open child orders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct PluginError {
    /// Category.
    pub kind: PluginErrorKind,
    /// What went wrong, for the operator.
    pub message: String,
}

impl PluginError {
    /// Creates an error of `kind`.
    #[must_use]
    pub fn new(kind: PluginErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The signal's params are wrong.
    ///
    /// ```
    /// use tesser_wasm::PluginError;
    /// let error = PluginError::invalid_params("clip_size must be positive");
    /// assert_eq!(error.to_string(), "invalid params: clip_size must be positive");
    /// ```
    #[must_use]
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(PluginErrorKind::InvalidParams, message)
    }

    /// The call is not valid in the plugin's current state.
    #[must_use]
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(PluginErrorKind::InvalidState, message)
    }

    /// Data handed to the plugin could not be decoded.
    #[must_use]
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(PluginErrorKind::InvalidInput, message)
    }

    /// Anything else.
    #[must_use]
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(PluginErrorKind::Internal, message)
    }
}
