//! Positions and cash, updated from fills.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{AccountBalance, Fill, Symbol};

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
/// A fill moves the position by its net base quantity: a commission charged
/// in the base asset comes out of it (a buy of 2 paying 0.002 BTC holds
/// 1.998). A commission in the quote asset comes out of cash; one in a
/// third asset (BNB) moves neither and is only recorded. Every commission is
/// recorded per asset ([`Portfolio::fees_by_asset`]).
///
/// On a live venue the portfolio also holds the account's own balances
/// ([`Portfolio::set_account`], kept current by
/// [`Portfolio::update_account`]). The venue's word is authoritative: cash
/// becomes the account's quote balance (free plus locked) each time the
/// venue reports it, fills move it in between, and what can be spent is the
/// account's free balance ([`Portfolio::account_balance`]). Positions stay
/// this run's own trades.
///
/// ```
/// use rust_decimal_macros::dec;
/// use tesser_core::{ClientOrderId, FeeAsset, Fill, Liquidity, Portfolio, Side};
/// let mut book = Portfolio::new("USD", dec!(100000));
/// book.apply_fill(&Fill {
///     fill_id: "1".into(),
///     client_order_id: ClientOrderId::new("a-0001"),
///     symbol: "BTCUSD".into(),
///     side: Side::Buy,
///     price: dec!(10000),
///     quantity: dec!(2),
///     fee: dec!(5),
///     fee_asset: FeeAsset::Quote,
///     liquidity: Liquidity::Taker,
///     timestamp_ms: 0,
/// });
/// book.mark_price(&"BTCUSD".into(), dec!(10100));
/// assert_eq!(book.position(&"BTCUSD".into()), dec!(2));
/// assert_eq!(book.cash(), dec!(79995));
/// assert_eq!(book.equity(), dec!(100195));
/// assert_eq!(book.fees_by_asset().get("USD"), Some(&dec!(5)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portfolio {
    quote_asset: String,
    cash: Decimal,
    fees_paid: BTreeMap<String, Decimal>,
    positions: BTreeMap<Symbol, Position>,
    last_prices: BTreeMap<Symbol, Decimal>,
    /// The venue account's balances by asset; `None` without an account
    /// (a simulated venue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<BTreeMap<String, AccountBalance>>,
}

impl Portfolio {
    /// A portfolio holding `initial_cash` of `quote_asset` and no positions.
    #[must_use]
    pub fn new(quote_asset: &str, initial_cash: Decimal) -> Self {
        Self {
            quote_asset: quote_asset.to_owned(),
            cash: initial_cash,
            fees_paid: BTreeMap::new(),
            positions: BTreeMap::new(),
            last_prices: BTreeMap::new(),
            account: None,
        }
    }

    /// Takes every balance of the venue account, as the venue reported it
    /// (at start, or after a reconnect): the account replaces whatever was
    /// known of it, and cash becomes its quote balance.
    ///
    /// ```
    /// use rust_decimal_macros::dec;
    /// use tesser_core::{AccountBalance, Portfolio};
    /// let mut book = Portfolio::new("USDT", dec!(1000000));
    /// book.set_account(&[
    ///     AccountBalance::new("USDT", dec!(900), dec!(100)),
    ///     AccountBalance::new("BTC", dec!(2), dec!(0)),
    /// ]);
    /// assert_eq!(book.cash(), dec!(1000));
    /// assert_eq!(book.account_balance("BTC").map(|b| b.free), Some(dec!(2)));
    /// book.update_account(&[AccountBalance::new("USDT", dec!(800), dec!(100))]);
    /// assert_eq!(book.cash(), dec!(900));
    /// assert_eq!(book.account_balance("BTC").map(|b| b.free), Some(dec!(2)));
    /// ```
    pub fn set_account(&mut self, balances: &[AccountBalance]) {
        self.account = Some(BTreeMap::new());
        self.update_account(balances);
    }

    /// Takes the balances the venue reported changed (absolute values, not
    /// deltas); other assets keep theirs. Without an account yet, this
    /// starts one holding just these.
    pub fn update_account(&mut self, balances: &[AccountBalance]) {
        let account = self.account.get_or_insert_with(BTreeMap::new);
        for balance in balances {
            if balance.asset == self.quote_asset {
                self.cash = balance.total();
            }
            match account.get_mut(&balance.asset) {
                Some(known) => {
                    known.free = balance.free;
                    known.locked = balance.locked;
                }
                None => {
                    account.insert(balance.asset.clone(), balance.clone());
                }
            }
        }
    }

    /// Whether the portfolio follows a venue account.
    #[must_use]
    pub const fn has_account(&self) -> bool {
        self.account.is_some()
    }

    /// The venue account's balance of `asset`: `None` without an account, or
    /// when the account holds none of it.
    #[must_use]
    pub fn account_balance(&self, asset: &str) -> Option<&AccountBalance> {
        self.account.as_ref()?.get(asset)
    }

    /// Every balance of the venue account, by asset name (empty without an
    /// account).
    pub fn account_balances(&self) -> impl Iterator<Item = &AccountBalance> {
        self.account.iter().flat_map(BTreeMap::values)
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

    /// Fees paid so far in the quote asset (the ones that reduced cash).
    /// Fees in other assets are in [`Portfolio::fees_by_asset`].
    #[must_use]
    pub fn fees_paid(&self) -> Decimal {
        self.fees_paid
            .get(&self.quote_asset)
            .copied()
            .unwrap_or_default()
    }

    /// Fees paid so far per asset name (the quote asset under its name),
    /// zero totals left out.
    #[must_use]
    pub const fn fees_by_asset(&self) -> &BTreeMap<String, Decimal> {
        &self.fees_paid
    }

    /// Books a fill: moves cash, changes the position by the net base
    /// quantity, realises profit on the part that reduces it, records the
    /// fee under its asset.
    ///
    /// Prices and realised profit are computed on the executed (gross)
    /// quantity, before fees; a base-asset fee then comes out of the held
    /// quantity.
    pub fn apply_fill(&mut self, fill: &Fill) {
        let signed = fill.side.sign() * fill.quantity;
        self.cash -= signed * fill.price + fill.quote_fee();
        if !fill.fee.is_zero() {
            // Only an asset's first fee allocates its name (the hot path).
            let asset = fill.fee_asset.name(&self.quote_asset);
            match self.fees_paid.get_mut(asset) {
                Some(total) => {
                    *total += fill.fee;
                    if total.is_zero() {
                        self.fees_paid.remove(asset);
                    }
                }
                None => {
                    self.fees_paid.insert(asset.to_owned(), fill.fee);
                }
            }
        }
        let base_fee = signed - fill.net_base_change();
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
        position.quantity = new - base_fee;
        if position.quantity.is_zero() {
            position.avg_entry_price = Decimal::ZERO;
        }
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
    use crate::{ClientOrderId, FeeAsset, Liquidity, Side};

    fn fill(side: Side, price: Decimal, quantity: Decimal) -> Fill {
        Fill {
            fill_id: "f".into(),
            client_order_id: ClientOrderId::new("a-0001"),
            symbol: "BTCUSD".into(),
            side,
            price,
            quantity,
            fee: Decimal::ZERO,
            fee_asset: FeeAsset::Quote,
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

    fn paying(mut fill: Fill, fee: Decimal, asset: FeeAsset) -> Fill {
        fill.symbol = "BTCUSDT".into();
        fill.fee = fee;
        fill.fee_asset = asset;
        fill
    }

    fn btc() -> FeeAsset {
        FeeAsset::Base("BTC".into())
    }

    /// FAQ: a buy pays its commission in the base asset, out of what it
    /// receives.
    #[test]
    fn a_buy_paying_in_the_base_asset_holds_the_net_quantity() {
        let mut book = Portfolio::new("USDT", dec!(1000));
        let sym = Symbol::from("BTCUSDT");
        book.apply_fill(&paying(
            fill(Side::Buy, dec!(100), dec!(2)),
            dec!(0.002),
            btc(),
        ));
        assert_eq!(book.position(&sym), dec!(1.998));
        assert_eq!(book.cash(), dec!(800));
        assert_eq!(book.fees_paid(), Decimal::ZERO);
        assert_eq!(book.fees_by_asset().get("BTC"), Some(&dec!(0.002)));
        assert_eq!(book.positions.get(&sym).unwrap().avg_entry_price, dec!(100));
        // Selling what is held (paying in USDT) leaves nothing behind.
        book.apply_fill(&paying(
            fill(Side::Sell, dec!(110), dec!(1.998)),
            dec!(0.2),
            FeeAsset::Quote,
        ));
        assert_eq!(book.position(&sym), Decimal::ZERO);
        assert_eq!(
            book.positions.get(&sym).unwrap().avg_entry_price,
            Decimal::ZERO
        );
        assert_eq!(book.realized_pnl(), dec!(19.98));
        assert_eq!(book.cash(), dec!(800) + dec!(219.78) - dec!(0.2));
        assert_eq!(book.fees_paid(), dec!(0.2));
        assert_eq!(book.equity(), book.cash());
    }

    /// FAQ: a sell pays its commission in the quote asset, out of the
    /// notional it receives.
    #[test]
    fn a_sell_paying_in_the_quote_asset_reduces_cash() {
        let mut book = Portfolio::new("USDT", dec!(0));
        let sym = Symbol::from("BTCUSDT");
        book.apply_fill(&paying(
            fill(Side::Buy, dec!(100), dec!(1)),
            Decimal::ZERO,
            FeeAsset::Quote,
        ));
        book.apply_fill(&paying(
            fill(Side::Sell, dec!(100), dec!(0.5)),
            dec!(0.05),
            FeeAsset::Quote,
        ));
        assert_eq!(book.position(&sym), dec!(0.5));
        assert_eq!(book.cash(), dec!(-50.05));
        assert_eq!(book.fees_paid(), dec!(0.05));
        assert_eq!(book.fees_by_asset().len(), 1);
    }

    /// FAQ: with the BNB discount on, the commission is charged in BNB: the
    /// position moves by the whole quantity and the BNB is recorded, not
    /// dropped.
    #[test]
    fn a_commission_in_bnb_is_recorded_under_bnb() {
        let mut book = Portfolio::new("USDT", dec!(1000));
        let sym = Symbol::from("BTCUSDT");
        let bnb = FeeAsset::Other("BNB".into());
        book.apply_fill(&paying(
            fill(Side::Buy, dec!(100), dec!(2)),
            dec!(0.0001),
            bnb.clone(),
        ));
        book.apply_fill(&paying(
            fill(Side::Sell, dec!(100), dec!(1)),
            dec!(0.00005),
            bnb,
        ));
        assert_eq!(book.position(&sym), dec!(1));
        assert_eq!(book.cash(), dec!(900));
        assert_eq!(book.fees_paid(), Decimal::ZERO);
        assert_eq!(book.fees_by_asset().get("BNB"), Some(&dec!(0.00015)));
        assert_eq!(book.fees_by_asset().len(), 1);
    }

    /// A sell charged in the base asset gives up its quantity plus the fee.
    #[test]
    fn a_sell_paying_in_the_base_asset_gives_up_quantity_and_fee() {
        let mut book = Portfolio::new("USDT", dec!(0));
        let sym = Symbol::from("BTCUSDT");
        book.apply_fill(&paying(
            fill(Side::Buy, dec!(100), dec!(1)),
            Decimal::ZERO,
            FeeAsset::Quote,
        ));
        book.apply_fill(&paying(
            fill(Side::Sell, dec!(120), dec!(0.5)),
            dec!(0.001),
            btc(),
        ));
        assert_eq!(book.position(&sym), dec!(0.499));
        assert_eq!(book.cash(), dec!(-40));
        assert_eq!(book.realized_pnl(), dec!(10));
        assert_eq!(book.fees_by_asset().get("BTC"), Some(&dec!(0.001)));
    }

    /// Fees in several assets add up per asset; a rebate offsets a fee.
    #[test]
    fn fees_add_up_per_asset() {
        let mut book = Portfolio::new("USDT", dec!(0));
        book.apply_fill(&paying(
            fill(Side::Buy, dec!(100), dec!(1)),
            dec!(0.001),
            btc(),
        ));
        book.apply_fill(&paying(
            fill(Side::Buy, dec!(100), dec!(1)),
            dec!(0.002),
            btc(),
        ));
        book.apply_fill(&paying(
            fill(Side::Sell, dec!(100), dec!(1)),
            dec!(0.1),
            FeeAsset::Quote,
        ));
        book.apply_fill(&paying(
            fill(Side::Sell, dec!(100), dec!(1)),
            dec!(-0.1),
            FeeAsset::Quote,
        ));
        let fees: Vec<(&str, Decimal)> = book
            .fees_by_asset()
            .iter()
            .map(|(a, f)| (a.as_str(), *f))
            .collect();
        assert_eq!(fees, vec![("BTC", dec!(0.003))]);
        assert_eq!(book.position(&Symbol::from("BTCUSDT")), dec!(-0.003));
    }

    /// A fill journaled before fee assets were recorded reads as a fee in
    /// the quote asset.
    #[test]
    fn a_fill_without_a_fee_asset_reads_as_quote() {
        let json = r#"{"fill_id":"f","client_order_id":"a-0001","symbol":"BTCUSD","side":"buy","price":"100","quantity":"1","fee":"0.1","liquidity":"taker","timestamp_ms":0}"#;
        let old: Fill = serde_json::from_str(json).unwrap();
        assert_eq!(old.fee_asset, FeeAsset::Quote);
        let new = paying(
            fill(Side::Buy, dec!(1), dec!(1)),
            dec!(0.1),
            FeeAsset::Other("BNB".into()),
        );
        let back: Fill = serde_json::from_str(&serde_json::to_string(&new).unwrap()).unwrap();
        assert_eq!(back, new);
    }
}
