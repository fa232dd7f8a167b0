//! Instrument trading rules.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Symbol;

/// An instrument and the rules its orders must follow. Zero means "no rule".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// Instrument symbol, e.g. `BTCUSD`.
    pub symbol: Symbol,
    /// Asset bought and sold, e.g. `BTC`.
    pub base_asset: String,
    /// Asset prices are quoted in, e.g. `USD`.
    pub quote_asset: String,
    /// Smallest price increment.
    pub tick_size: Decimal,
    /// Smallest quantity increment.
    pub lot_size: Decimal,
    /// Smallest order quantity.
    pub min_quantity: Decimal,
    /// Smallest order value (price × quantity).
    pub min_notional: Decimal,
}

impl Instrument {
    /// An instrument with no trading rules; set them with the `with_*` methods.
    #[must_use]
    pub fn new(symbol: impl Into<Symbol>, base_asset: &str, quote_asset: &str) -> Self {
        Self {
            symbol: symbol.into(),
            base_asset: base_asset.to_owned(),
            quote_asset: quote_asset.to_owned(),
            tick_size: Decimal::ZERO,
            lot_size: Decimal::ZERO,
            min_quantity: Decimal::ZERO,
            min_notional: Decimal::ZERO,
        }
    }

    /// Sets the tick size.
    #[must_use]
    pub const fn with_tick_size(mut self, tick_size: Decimal) -> Self {
        self.tick_size = tick_size;
        self
    }

    /// Sets the lot size.
    #[must_use]
    pub const fn with_lot_size(mut self, lot_size: Decimal) -> Self {
        self.lot_size = lot_size;
        self
    }

    /// Sets the minimum quantity.
    #[must_use]
    pub const fn with_min_quantity(mut self, min_quantity: Decimal) -> Self {
        self.min_quantity = min_quantity;
        self
    }

    /// Sets the minimum notional.
    #[must_use]
    pub const fn with_min_notional(mut self, min_notional: Decimal) -> Self {
        self.min_notional = min_notional;
        self
    }

    /// Whether `price` lies on the tick grid.
    ///
    /// ```
    /// use rust_decimal_macros::dec;
    /// use tesser_core::Instrument;
    /// let btc = Instrument::new("BTCUSD", "BTC", "USD").with_tick_size(dec!(0.1));
    /// assert!(btc.is_on_tick_grid(dec!(10749.4)));
    /// assert!(!btc.is_on_tick_grid(dec!(10749.45)));
    /// ```
    #[must_use]
    pub fn is_on_tick_grid(&self, price: Decimal) -> bool {
        on_grid(price, self.tick_size)
    }

    /// Whether `quantity` lies on the lot grid.
    #[must_use]
    pub fn is_on_lot_grid(&self, quantity: Decimal) -> bool {
        on_grid(quantity, self.lot_size)
    }
}

fn on_grid(value: Decimal, step: Decimal) -> bool {
    step <= Decimal::ZERO || value.checked_rem(step).is_some_and(|rem| rem.is_zero())
}
