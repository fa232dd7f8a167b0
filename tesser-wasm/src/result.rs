//! What every plugin callback returns.

use serde::{Deserialize, Serialize};

use crate::PluginChildOrderAction;

/// Severity of a plugin log line.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum PluginLogLevel {
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    #[default]
    Info,
    /// Something unexpected the plugin handled.
    Warn,
    /// Something the plugin could not handle.
    Error,
}

/// A structured log line; the host writes it to `tracing` under target
/// `plugin`, with the plugin name and algorithm id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginLog {
    /// Severity.
    pub level: PluginLogLevel,
    /// The message.
    pub message: String,
}

/// Whether the algorithm has more to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginAlgorithmState {
    /// Still working.
    #[default]
    Running,
    /// Done: the host cancels any child order still open and stops calling.
    Completed,
}

/// What a callback returns: child-order actions, log lines and whether the
/// algorithm is done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginResult {
    /// Child-order actions, applied in order.
    #[serde(default)]
    pub orders: Vec<PluginChildOrderAction>,
    /// Log lines.
    #[serde(default)]
    pub logs: Vec<PluginLog>,
    /// Whether the algorithm is done.
    #[serde(default)]
    pub state: PluginAlgorithmState,
}

impl PluginResult {
    /// An empty result: no actions, no logs, still running. Allocates nothing.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            orders: Vec::new(),
            logs: Vec::new(),
            state: PluginAlgorithmState::Running,
        }
    }

    /// Adds a child-order action.
    #[must_use]
    pub fn with_order(mut self, action: PluginChildOrderAction) -> Self {
        self.orders.push(action);
        self
    }

    /// Adds several child-order actions.
    #[must_use]
    pub fn with_orders(
        mut self,
        actions: impl IntoIterator<Item = PluginChildOrderAction>,
    ) -> Self {
        self.orders.extend(actions);
        self
    }

    /// Adds a log line.
    ///
    /// ```
    /// use tesser_wasm::{PluginLogLevel, PluginResult};
    /// let result = PluginResult::new().with_log(PluginLogLevel::Warn, "price band hit");
    /// assert_eq!(result.logs[0].message, "price band hit");
    /// ```
    #[must_use]
    pub fn with_log(mut self, level: PluginLogLevel, message: impl Into<String>) -> Self {
        self.logs.push(PluginLog {
            level,
            message: message.into(),
        });
        self
    }

    /// Adds an info-level log line.
    #[must_use]
    pub fn log(self, message: impl Into<String>) -> Self {
        self.with_log(PluginLogLevel::Info, message)
    }

    /// Marks the algorithm as done.
    #[must_use]
    pub fn completed(mut self) -> Self {
        self.state = PluginAlgorithmState::Completed;
        self
    }

    /// Whether the algorithm reported it is done.
    #[must_use]
    pub fn is_completed(&self) -> bool {
        self.state == PluginAlgorithmState::Completed
    }

    /// Whether the result carries nothing: no actions, no logs, still running.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty() && self.logs.is_empty() && !self.is_completed()
    }
}
