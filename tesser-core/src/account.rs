//! What a venue account holds: one [`AccountBalance`] per asset.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One asset's balance in a venue account, as the venue reports it.
///
/// `free` can be spent by a new order; `locked` is held by open orders (or
/// by the venue for another reason). Both are absolute amounts, never
/// deltas.
///
/// ```
/// use rust_decimal_macros::dec;
/// use tesser_core::AccountBalance;
/// let usdt = AccountBalance::new("USDT", dec!(900), dec!(100));
/// assert_eq!(usdt.total(), dec!(1000));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountBalance {
    /// The asset, e.g. `USDT`.
    pub asset: String,
    /// Spendable now.
    pub free: Decimal,
    /// Held by open orders or the venue.
    pub locked: Decimal,
}

impl AccountBalance {
    /// A balance of `asset`.
    #[must_use]
    pub fn new(asset: &str, free: Decimal, locked: Decimal) -> Self {
        Self {
            asset: asset.to_owned(),
            free,
            locked,
        }
    }

    /// Free plus locked.
    #[must_use]
    pub fn total(&self) -> Decimal {
        self.free + self.locked
    }
}
