//! What a plugin knows when it starts.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::PluginSignal;

/// What a fresh instance receives, in place of `init`, to take over an
/// algorithm after a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRestoreContext {
    /// The algorithm's id (the same as in its `init`).
    pub algorithm_id: String,
    /// The symbol every tick of the algorithm is for.
    pub symbol: String,
    /// The last snapshot the plugin returned, a JSON document.
    pub snapshot_json: String,
}

/// Trading rules of an instrument. Child orders off these grids are refused
/// by the host's risk guard, so plugins should size and price on them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInstrument {
    /// Smallest price increment.
    pub tick_size: Decimal,
    /// Smallest quantity increment.
    pub lot_size: Decimal,
    /// Smallest order quantity.
    pub min_quantity: Decimal,
    /// Smallest order value (price × quantity).
    pub min_notional: Decimal,
}

impl PluginInstrument {
    /// Rounds `quantity` down to the lot grid (unchanged when the lot size is zero).
    ///
    /// ```
    /// use rust_decimal_macros::dec;
    /// use tesser_wasm::PluginInstrument;
    /// let rules = PluginInstrument { lot_size: dec!(0.01), ..Default::default() };
    /// assert_eq!(rules.round_quantity_down(dec!(0.2567)), dec!(0.25));
    /// ```
    #[must_use]
    pub fn round_quantity_down(&self, quantity: Decimal) -> Decimal {
        round_down_to(quantity, self.lot_size)
    }

    /// Rounds `price` down to the tick grid (unchanged when the tick size is zero).
    #[must_use]
    pub fn round_price_down(&self, price: Decimal) -> Decimal {
        round_down_to(price, self.tick_size)
    }
}

fn round_down_to(value: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return value;
    }
    // Fast path for the usual grid (0.1, 0.01, 1…): with a step of
    // `10^-s`, a value of at most `s` decimal places is already on it. This
    // skips a 96-bit remainder, which is slow in wasm32, on every tick.
    if step.mantissa() == 1 && value.scale() <= step.scale() {
        return value;
    }
    // `value - value % step` never overflows, where `(value / step).floor()
    // * step` does once `value / step` exceeds `Decimal::MAX`.
    let Some(rem) = value.checked_rem(step) else {
        return value;
    };
    let down = value - rem;
    if rem < Decimal::ZERO {
        down.checked_sub(step).unwrap_or(down)
    } else {
        down
    }
}

/// A balance available to trade.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginBalance {
    /// Asset name, e.g. `USD`.
    pub asset: String,
    /// Amount free to trade.
    pub available: Decimal,
}

/// The portfolio and limits as the host's risk guard sees them at `init`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRiskContext {
    /// Price of the last trade of the symbol.
    pub last_price: Decimal,
    /// Portfolio equity in the quote currency.
    pub equity: Decimal,
    /// Signed position in the symbol: positive when long.
    pub position: Decimal,
    /// Balances available to trade.
    pub balances: Vec<PluginBalance>,
    /// The instrument's trading rules.
    pub instrument: PluginInstrument,
    /// Largest quantity one child order may have, if the host limits it.
    pub max_order_quantity: Option<Decimal>,
}

/// Everything `init` receives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PluginInitContext {
    /// The host's id of this algorithm; child order ids start with it.
    pub algorithm_id: String,
    /// The parent signal.
    pub signal: PluginSignal,
    /// Portfolio and limits.
    pub risk: PluginRiskContext,
    /// The signal's execution params, as the strategy wrote them.
    pub params: serde_json::Value,
    /// The host's clock, milliseconds since the Unix epoch. Plugins have no
    /// clock of their own.
    pub now_ms: i64,
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    /// The remainder-based rounding, without the fast path.
    fn exact(value: Decimal, step: Decimal) -> Decimal {
        let rem = value % step;
        let down = value - rem;
        if rem < Decimal::ZERO {
            down - step
        } else {
            down
        }
    }

    #[test]
    fn rounding_down_to_a_power_of_ten_agrees_with_the_remainder() {
        let values = [
            "0",
            "1",
            "30000",
            "30000.1",
            "30000.12",
            "30000.15",
            "-3.14",
            "-3.1",
            "0.0001",
            "12345.678901",
            "7.000",
            "99999999.99999999",
        ];
        let steps = [
            "1",
            "0.1",
            "0.01",
            "0.0001",
            "0.00000001",
            "0.5",
            "0.25",
            "10",
            "0.10",
        ];
        for value in values {
            for step in steps {
                let (value, step) = (
                    Decimal::from_str(value).unwrap(),
                    Decimal::from_str(step).unwrap(),
                );
                assert_eq!(
                    round_down_to(value, step),
                    exact(value, step),
                    "{value} to {step}"
                );
            }
        }
    }
}
