//! Which asset a trade's commission is charged in, and how much, as
//! Binance's commission FAQ (`faqs/commission_faq.md`) describes it.
//!
//! The commission comes out of what the trade receives: the base asset on a
//! `BUY` (the received amount is the quantity), the quote asset on a `SELL`
//! (the received amount is the notional). When the account pays in BNB
//! ([`BnbCommission`]) it is charged in BNB instead: the commission converted
//! at the BNB price, times the discount; without enough BNB left, the full
//! commission is taken from the received asset.

use rust_decimal::Decimal;
use tesser_core::Side;

use crate::{BnbCommission, TwinSymbol};

/// The commission of one trade and its asset.
///
/// `quote_fee` is the commission valued in the quote asset (notional ×
/// rate, as the paper matching computed it) and `price` the trade price; a
/// BNB charge needs `bnb`'s free BNB balance (the account's) to cover it.
/// Amounts are rounded to the 8 decimals the venue reports.
pub(crate) fn charge(
    symbol: &TwinSymbol,
    side: Side,
    price: Decimal,
    quote_fee: Decimal,
    bnb: Option<(&BnbCommission, Decimal)>,
) -> (Decimal, String) {
    if let Some((bnb, bnb_free)) = bnb
        && quote_fee > Decimal::ZERO
        && bnb.price > Decimal::ZERO
    {
        let in_bnb = (quote_fee / bnb.price * bnb.discount).round_dp(8);
        if in_bnb <= bnb_free {
            return (in_bnb, "BNB".to_owned());
        }
    }
    match side {
        Side::Buy if !price.is_zero() => {
            ((quote_fee / price).round_dp(8), symbol.base_asset.clone())
        }
        Side::Buy | Side::Sell => (quote_fee.round_dp(8), symbol.quote_asset.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bnb(balance: Decimal) -> BnbCommission {
        BnbCommission {
            price: Decimal::from(260),
            discount: Decimal::new(25, 2),
            balance,
        }
    }

    #[test]
    fn a_buy_pays_in_the_base_asset_and_a_sell_in_the_quote_asset() {
        let btc = TwinSymbol::btcusdt();
        // 0.5 BTC at 30000, 10 bps: 15 USDT, i.e. 0.0005 BTC.
        let fee = Decimal::from(15);
        let price = Decimal::from(30_000);
        assert_eq!(
            charge(&btc, Side::Buy, price, fee, None),
            (Decimal::new(5, 4), "BTC".to_owned())
        );
        assert_eq!(
            charge(&btc, Side::Sell, price, fee, None),
            (fee, "USDT".to_owned())
        );
    }

    #[test]
    fn bnb_pays_the_discounted_commission_while_the_balance_lasts() {
        let btc = TwinSymbol::btcusdt();
        // The FAQ's example: 0.01049475 USDT at 1 BNB = 260 USDT, discount
        // 0.25: 0.000010091 BNB, reported with 8 decimals.
        let fee = Decimal::new(1_049_475, 8);
        let account = bnb(Decimal::ZERO);
        let price = Decimal::from(35_000);
        let free = Decimal::new(2, 5);
        let first = charge(&btc, Side::Sell, price, fee, Some((&account, free)));
        assert_eq!(first, (Decimal::new(1009, 8), "BNB".to_owned()));
        let left = free - first.0;
        let second = charge(&btc, Side::Sell, price, fee, Some((&account, left)));
        assert_eq!(
            second.1, "USDT",
            "not enough BNB left: the full commission in USDT"
        );
        assert_eq!(second.0, fee);
    }
}
