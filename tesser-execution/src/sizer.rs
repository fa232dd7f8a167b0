//! How much a signal trades.

use rust_decimal::Decimal;
use tesser_core::{Signal, SignalKind};

/// Decides a signal's target quantity from the signal and the current
/// signed position.
pub trait Sizer {
    /// The quantity to execute; zero means there is nothing to do.
    fn target_quantity(&self, signal: &Signal, position: Decimal) -> Decimal;
}

/// Trades the signal's own quantity, or a default quantity when it has none.
/// Exits never trade more than the position they close, and `Flatten`
/// always trades exactly the position.
///
/// ```
/// use rust_decimal_macros::dec;
/// use tesser_core::{Signal, SignalKind};
/// use tesser_execution::{FixedQuantitySizer, Sizer};
/// let sizer = FixedQuantitySizer::new(dec!(1));
/// let buy = Signal::new("BTCUSD", SignalKind::EnterLong, 1.0);
/// assert_eq!(sizer.target_quantity(&buy, dec!(0)), dec!(1));
/// let exit = Signal::new("BTCUSD", SignalKind::ExitLong, 1.0).with_quantity(dec!(5));
/// assert_eq!(sizer.target_quantity(&exit, dec!(2)), dec!(2));
/// let flatten = Signal::new("BTCUSD", SignalKind::Flatten, 1.0);
/// assert_eq!(sizer.target_quantity(&flatten, dec!(-3)), dec!(3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedQuantitySizer {
    default_quantity: Decimal,
}

impl FixedQuantitySizer {
    /// Sizes signals without a quantity at `default_quantity`.
    #[must_use]
    pub const fn new(default_quantity: Decimal) -> Self {
        Self { default_quantity }
    }
}

impl Sizer for FixedQuantitySizer {
    fn target_quantity(&self, signal: &Signal, position: Decimal) -> Decimal {
        let wanted = signal
            .quantity
            .unwrap_or(self.default_quantity)
            .max(Decimal::ZERO);
        match signal.kind {
            SignalKind::EnterLong | SignalKind::EnterShort => wanted,
            SignalKind::ExitLong => wanted.min(position.max(Decimal::ZERO)),
            SignalKind::ExitShort => wanted.min((-position).max(Decimal::ZERO)),
            SignalKind::Flatten => position.abs(),
        }
    }
}
