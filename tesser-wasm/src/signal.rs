//! The parent signal an execution algorithm works on.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Side of an order or signal. Defaults to [`PluginSide::Buy`] so plugin
/// state structs can derive `Default`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginSide {
    /// Buy.
    #[default]
    Buy,
    /// Sell.
    Sell,
}

impl PluginSide {
    /// The other side.
    #[must_use]
    pub const fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }
}

/// What the strategy asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginSignalKind {
    /// Open or add to a long position.
    #[default]
    EnterLong,
    /// Reduce or close a long position.
    ExitLong,
    /// Open or add to a short position.
    EnterShort,
    /// Reduce or close a short position.
    ExitShort,
    /// Close whatever position there is.
    Flatten,
}

/// The signal an algorithm executes, with the quantity the host sized for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PluginSignal {
    /// The signal's id.
    pub id: String,
    /// Instrument symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Side of the child orders the algorithm may send.
    pub side: PluginSide,
    /// What the strategy asked for.
    pub kind: PluginSignalKind,
    /// Total quantity to execute; child orders may never add up to more.
    pub target_quantity: Decimal,
    /// The strategy's confidence, from 0 to 1.
    pub confidence: f64,
    /// A free-form note from the strategy.
    pub note: Option<String>,
    /// Groups signals that belong together.
    pub group_id: Option<String>,
    /// Protective stop price the strategy suggested.
    pub stop_loss: Option<Decimal>,
    /// Profit target price the strategy suggested.
    pub take_profit: Option<Decimal>,
}
