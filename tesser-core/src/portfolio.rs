//! Positions and cash, updated from fills.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Fill, Symbol};

/// A signed position in one instrument.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Signed quantity: positive when long.
    pub quantity: Decimal,
    /// Average entry price of the open quantity.
    pub avg_entry_price: Decimal,
    /// Profit realised by reducing the position, before fees.
    pub realized_pnl: Decimal,
}

/// Cash in one quote asset plus a position per instrument.
///
/// ```
/// use rust_decimal_macros::dec;
/// use tesser_core::{ClientOrderId, Fill, Liquidity, Portfolio, Side};
/// let mut book = Portfolio::new("USD", dec!(100000));
/// book.apply_fill(&Fill {
///     fill_id: "1".into(),
///     client_order_id: ClientOrderId::new("a-0001"),
///     symbol: "BTCUSD".into(),
///     side: Side::Buy,
///     price: dec!(10000),
///     quantity: dec!(2),
///     fee: dec!(5),
///     liquidity: Liquidity::Taker,
///     timestamp_ms: 0,
/// });
/// book.mark_price(&"BTCUSD".into(), dec!(10100));
/// assert_eq!(book.position(&"BTCUSD".into()), dec!(2));
/// assert_eq!(book.cash(), dec!(79995));
/// assert_eq!(book.equity(), dec!(100195));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portfolio {
    quote_asset: String,
    cash: Decimal,
    fees_paid: Decimal,
    positions: BTreeMap<Symbol, Position>,
    last_prices: BTreeMap<Symbol, Decimal>,
}

impl Portfolio {
    /// A portfolio holding `initial_cash` of `quote_asset` and no positions.
    #[must_use]
    pub fn new(quote_asset: &str, initial_cash: Decimal) -> Self {
        Self {
            quote_asset: quote_asset.to_owned(),
            cash: initial_cash,
            fees_paid: Decimal::ZERO,
            positions: BTreeMap::new(),
            last_prices: BTreeMap::new(),
        }
    }

    /// The asset cash is held in.
    #[must_use]
    pub fn quote_asset(&self) -> &str {
        &self.quote_asset
    }

    /// Cash on hand.
    #[must_use]
    pub const fn cash(&self) -> Decimal {
        self.cash
    }

    /// Fees paid so far.
    #[must_use]
    pub const fn fees_paid(&self) -> Decimal {
        self.fees_paid
    }

    /// Books a fill: moves cash, changes the position, realises profit on the
    /// part that reduces it.
    pub fn apply_fill(&mut self, fill: &Fill) {
        let signed = fill.side.sign() * fill.quantity;
        self.cash -= signed * fill.price + fill.fee;
        self.fees_paid += fill.fee;
        let position = self.positions.entry(fill.symbol.clone()).or_default();
        let old = position.quantity;
        let new = old + signed;
        if old.is_zero() || old.is_sign_positive() == signed.is_sign_positive() {
            // Opening or adding: the entry price becomes the weighted average.
            let cost = position.avg_entry_price * old.abs() + fill.price * fill.quantity;
            position.avg_entry_price = if new.is_zero() {
                Decimal::ZERO
            } else {
                cost / new.abs()
            };
        } else {
            // Reducing, closing, or flipping through zero.
            let closed = fill.quantity.min(old.abs());
            position.realized_pnl += (fill.price - position.avg_entry_price)
                * closed
                * if old.is_sign_positive() {
                    Decimal::ONE
                } else {
                    Decimal::NEGATIVE_ONE
                };
            if new.is_zero() {
                position.avg_entry_price = Decimal::ZERO;
            } else if new.is_sign_positive() != old.is_sign_positive() {
                position.avg_entry_price = fill.price;
            }
        }
        position.quantity = new;
        self.last_prices.insert(fill.symbol.clone(), fill.price);
    }

    /// Records the latest trade price of `symbol`, used to value its position.
    pub fn mark_price(&mut self, symbol: &Symbol, price: Decimal) {
        if let Some(last) = self.last_prices.get_mut(symbol) {
            *last = price;
        } else {
            self.last_prices.insert(symbol.clone(), price);
        }
    }

    /// The last known trade price of `symbol`.
    #[must_use]
    pub fn last_price(&self, symbol: &Symbol) -> Option<Decimal> {
        self.last_prices.get(symbol).copied()
    }

    /// Signed position in `symbol`: positive when long, zero when flat.
    #[must_use]
    pub fn position(&self, symbol: &Symbol) -> Decimal {
        self.positions
            .get(symbol)
            .map_or(Decimal::ZERO, |p| p.quantity)
    }

    /// Every position ever held, flat ones included.
    pub fn positions(&self) -> impl Iterator<Item = (&Symbol, &Position)> {
        self.positions.iter()
    }

    /// Cash plus every position valued at its last price.
    #[must_use]
    pub fn equity(&self) -> Decimal {
        self.cash
            + self
                .positions
                .iter()
                .map(|(symbol, p)| {
                    p.quantity
                        * self
                            .last_prices
                            .get(symbol)
                            .copied()
                            .unwrap_or(p.avg_entry_price)
                })
                .sum::<Decimal>()
    }

    /// Profit realised so far, before fees.
    #[must_use]
    pub fn realized_pnl(&self) -> Decimal {
        self.positions.values().map(|p| p.realized_pnl).sum()
    }

    /// Profit of open positions at their last prices.
    #[must_use]
    pub fn unrealized_pnl(&self) -> Decimal {
        self.positions
            .iter()
            .map(|(symbol, p)| {
                let last = self
                    .last_prices
                    .get(symbol)
                    .copied()
                    .unwrap_or(p.avg_entry_price);
                (last - p.avg_entry_price) * p.quantity
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::{ClientOrderId, Liquidity, Side};

    fn fill(side: Side, price: Decimal, quantity: Decimal) -> Fill {
        Fill {
            fill_id: "f".into(),
            client_order_id: ClientOrderId::new("a-0001"),
            symbol: "BTCUSD".into(),
            side,
            price,
            quantity,
            fee: Decimal::ZERO,
            liquidity: Liquidity::Maker,
            timestamp_ms: 0,
        }
    }

    #[test]
    fn round_trip_realises_the_price_difference() {
        let mut book = Portfolio::new("USD", dec!(0));
        let btc = Symbol::from("BTCUSD");
        book.apply_fill(&fill(Side::Buy, dec!(100), dec!(1)));
        book.apply_fill(&fill(Side::Buy, dec!(110), dec!(1)));
        assert_eq!(book.positions.get(&btc).unwrap().avg_entry_price, dec!(105));
        book.apply_fill(&fill(Side::Sell, dec!(120), dec!(3)));
        assert_eq!(book.position(&btc), dec!(-1));
        assert_eq!(book.realized_pnl(), dec!(30));
        assert_eq!(book.positions.get(&btc).unwrap().avg_entry_price, dec!(120));
        book.mark_price(&btc, dec!(100));
        assert_eq!(book.unrealized_pnl(), dec!(20));
        assert_eq!(book.equity(), book.cash() - dec!(100));
    }
}
