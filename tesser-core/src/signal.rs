//! Strategy signals and how they should be executed.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Side, Symbol};

/// A signal's unique id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignalId(pub Uuid);

impl SignalId {
    /// A fresh random id.
    #[must_use]
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }

    /// The id derived from `key`: the same key always gives the same id (a
    /// name-based UUID, version 5), so a signal made again from the same
    /// input, after a restart say, is recognised as the same signal.
    ///
    /// ```
    /// use tesser_core::SignalId;
    /// assert_eq!(SignalId::derived("trades.csv#42#0"), SignalId::derived("trades.csv#42#0"));
    /// assert_ne!(SignalId::derived("trades.csv#42#0"), SignalId::derived("trades.csv#42#1"));
    /// ```
    #[must_use]
    pub fn derived(key: &str) -> Self {
        /// Tesser's namespace for name-based signal ids.
        const NAMESPACE: Uuid = Uuid::from_u128(0x7e55_e125_1a2b_4c3d_9e8f_0a1b_2c3d_4e5f);
        Self(Uuid::new_v5(&NAMESPACE, key.as_bytes()))
    }
}

impl fmt::Display for SignalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// What a strategy wants done with its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// Open or add to a long position.
    EnterLong,
    /// Reduce or close a long position.
    ExitLong,
    /// Open or add to a short position.
    EnterShort,
    /// Reduce or close a short position.
    ExitShort,
    /// Close whatever position there is, cancelling work in progress.
    Flatten,
}

impl SignalKind {
    /// The side of the orders that carry out this signal given the signed
    /// `position`, or `None` when there is nothing to do (flattening a flat
    /// position).
    ///
    /// ```
    /// use rust_decimal_macros::dec;
    /// use tesser_core::{Side, SignalKind};
    /// assert_eq!(SignalKind::EnterLong.side(dec!(0)), Some(Side::Buy));
    /// assert_eq!(SignalKind::Flatten.side(dec!(-2)), Some(Side::Buy));
    /// assert_eq!(SignalKind::Flatten.side(dec!(0)), None);
    /// ```
    #[must_use]
    pub fn side(self, position: Decimal) -> Option<Side> {
        match self {
            Self::EnterLong | Self::ExitShort => Some(Side::Buy),
            Self::ExitLong | Self::EnterShort => Some(Side::Sell),
            Self::Flatten if position > Decimal::ZERO => Some(Side::Sell),
            Self::Flatten if position < Decimal::ZERO => Some(Side::Buy),
            Self::Flatten => None,
        }
    }
}

/// How the runtime should execute a signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExecutionHint {
    /// Send one market order for the whole quantity.
    Immediate,
    /// Hand the signal to the execution plugin `<plugins_dir>/<name>.wasm`.
    Plugin {
        /// Plugin name: the `.wasm` file's stem.
        name: String,
        /// Parameters for the plugin's `init`, as the plugin documents them.
        params: serde_json::Value,
    },
}

/// A strategy's decision about one symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Unique id.
    pub id: SignalId,
    /// Instrument symbol.
    pub symbol: Symbol,
    /// What to do.
    pub kind: SignalKind,
    /// The strategy's confidence, from 0 to 1.
    pub confidence: f64,
    /// Quantity to trade, when the strategy decides it; otherwise the
    /// runtime's sizer does.
    pub quantity: Option<Decimal>,
    /// A free-form note.
    pub note: Option<String>,
    /// Groups signals that belong together.
    pub group_id: Option<String>,
    /// Suggested protective stop price.
    pub stop_loss: Option<Decimal>,
    /// Suggested profit target price.
    pub take_profit: Option<Decimal>,
    /// How to execute it; immediate when absent.
    pub execution_hint: Option<ExecutionHint>,
}

impl Signal {
    /// A signal with a fresh id and nothing optional set.
    #[must_use]
    pub fn new(symbol: impl Into<Symbol>, kind: SignalKind, confidence: f64) -> Self {
        Self {
            id: SignalId::random(),
            symbol: symbol.into(),
            kind,
            confidence,
            quantity: None,
            note: None,
            group_id: None,
            stop_loss: None,
            take_profit: None,
            execution_hint: None,
        }
    }

    /// Attaches an execution hint.
    #[must_use]
    pub fn with_hint(mut self, hint: ExecutionHint) -> Self {
        self.execution_hint = Some(hint);
        self
    }

    /// Sets the quantity to trade.
    #[must_use]
    pub const fn with_quantity(mut self, quantity: Decimal) -> Self {
        self.quantity = Some(quantity);
        self
    }

    /// Sets the note.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Sets the group id.
    #[must_use]
    pub fn with_group_id(mut self, group_id: impl Into<String>) -> Self {
        self.group_id = Some(group_id.into());
        self
    }

    /// Sets the suggested stop-loss price.
    #[must_use]
    pub const fn with_stop_loss(mut self, price: Decimal) -> Self {
        self.stop_loss = Some(price);
        self
    }

    /// Sets the suggested take-profit price.
    #[must_use]
    pub const fn with_take_profit(mut self, price: Decimal) -> Self {
        self.take_profit = Some(price);
        self
    }

    /// Sets the id (for replays that need stable ids).
    #[must_use]
    pub const fn with_id(mut self, id: SignalId) -> Self {
        self.id = id;
        self
    }
}
