//! Execution-quality figures of one replayed order, all in exact decimals.
//!
//! Sign convention: a positive number of basis points is a *cost*. For a
//! buy, paying more than the reference costs; for a sell, receiving less.

use rust_decimal::Decimal;
use serde::Serialize;
use tesser_core::Side;

/// Basis points in one.
const BPS: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// Decimal places of reported basis points.
pub const BPS_DP: u32 = 4;
/// Decimal places of reported prices.
pub const PRICE_DP: u32 = 8;
/// Decimal places of the reported fill ratio.
pub const RATIO_DP: u32 = 8;

/// One execution of a child order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FillPoint {
    /// Execution time, ms since the Unix epoch (data time).
    pub time: i64,
    /// Execution price.
    pub price: Decimal,
    /// Executed quantity.
    pub quantity: Decimal,
    /// `buy` or `sell`.
    pub side: &'static str,
}

/// Quantity-weighted average of `(price, quantity)` pairs; `None` when the
/// quantities sum to zero.
#[must_use]
pub fn weighted_average(points: impl IntoIterator<Item = (Decimal, Decimal)>) -> Option<Decimal> {
    let (notional, quantity) = points
        .into_iter()
        .fold((Decimal::ZERO, Decimal::ZERO), |(n, q), (price, qty)| {
            (n + price * qty, q + qty)
        });
    (quantity > Decimal::ZERO).then(|| notional / quantity)
}

/// Cost of trading at `price` against `reference`, in basis points: for a
/// buy `(price − reference) / reference × 10 000`, negated for a sell.
/// `None` when the reference is not positive.
#[must_use]
pub fn cost_bps(side: Side, price: Decimal, reference: Decimal) -> Option<Decimal> {
    if reference <= Decimal::ZERO {
        return None;
    }
    let bps = (price - reference) / reference * BPS;
    Some(match side {
        Side::Buy => bps,
        Side::Sell => -bps,
    })
}

/// Filled over target; `None` for a target that is not positive.
#[must_use]
pub fn fill_ratio(filled: Decimal, target: Decimal) -> Option<Decimal> {
    (target > Decimal::ZERO).then(|| filled / target)
}

/// The figures of one execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Last trade price when the order was submitted.
    pub arrival_price: Decimal,
    /// Average fill price (none without fills).
    pub avg_price: Option<Decimal>,
    /// Implementation shortfall vs arrival, bps (positive = cost).
    pub shortfall_bps: Option<Decimal>,
    /// Market VWAP over the execution window.
    pub market_vwap: Option<Decimal>,
    /// Slippage of the average fill vs the market VWAP, bps (positive = cost).
    pub vwap_slippage_bps: Option<Decimal>,
    /// Quantity filled.
    pub filled: Decimal,
    /// Filled / target.
    pub fill_ratio: Option<Decimal>,
}

/// Computes the figures of an order of `target` on `side` submitted at
/// `arrival_price`, from its fills and the market trades `(price, size)` of
/// its execution window. Results are rounded for reporting (prices to
/// [`PRICE_DP`], bps to [`BPS_DP`], the ratio to [`RATIO_DP`] places).
#[must_use]
pub fn figures(
    side: Side,
    target: Decimal,
    arrival_price: Decimal,
    fills: &[FillPoint],
    window_trades: impl IntoIterator<Item = (Decimal, Decimal)>,
) -> Figures {
    let avg = weighted_average(fills.iter().map(|f| (f.price, f.quantity)));
    let vwap = weighted_average(window_trades);
    let filled: Decimal = fills.iter().map(|f| f.quantity).sum();
    let shortfall = avg.and_then(|avg| cost_bps(side, avg, arrival_price));
    let slippage = avg
        .zip(vwap)
        .and_then(|(avg, vwap)| cost_bps(side, avg, vwap));
    Figures {
        arrival_price,
        avg_price: avg.map(|p| p.round_dp(PRICE_DP).normalize()),
        shortfall_bps: shortfall.map(|b| b.round_dp(BPS_DP).normalize()),
        market_vwap: vwap.map(|p| p.round_dp(PRICE_DP).normalize()),
        vwap_slippage_bps: slippage.map(|b| b.round_dp(BPS_DP).normalize()),
        filled: filled.normalize(),
        fill_ratio: fill_ratio(filled, target).map(|r| r.round_dp(RATIO_DP).normalize()),
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn fill(price: Decimal, quantity: Decimal) -> FillPoint {
        FillPoint {
            time: 0,
            price,
            quantity,
            side: "buy",
        }
    }

    #[test]
    fn weighted_average_by_hand() {
        // (100×1 + 103×3) / 4 = 409 / 4 = 102.25
        assert_eq!(
            weighted_average([(dec!(100), dec!(1)), (dec!(103), dec!(3))]),
            Some(dec!(102.25))
        );
        assert_eq!(weighted_average([]), None);
        assert_eq!(weighted_average([(dec!(5), dec!(0))]), None);
    }

    #[test]
    fn cost_is_positive_when_a_buy_pays_up_or_a_sell_sells_down() {
        // (100.5 − 100) / 100 × 1e4 = 50 bps
        assert_eq!(cost_bps(Side::Buy, dec!(100.5), dec!(100)), Some(dec!(50)));
        assert_eq!(
            cost_bps(Side::Sell, dec!(100.5), dec!(100)),
            Some(dec!(-50))
        );
        assert_eq!(cost_bps(Side::Sell, dec!(99), dec!(100)), Some(dec!(100)));
        assert_eq!(cost_bps(Side::Buy, dec!(1), dec!(0)), None);
    }

    #[test]
    fn buy_figures_by_hand() {
        // Fills 1 @ 10 000 and 1 @ 10 010: average 10 005.
        // Arrival 10 000: shortfall 5 / 10 000 × 1e4 = 5 bps.
        // Window trades 2 @ 10 000, 1 @ 10 030: VWAP 30 030 / 3 = 10 010;
        // slippage (10 005 − 10 010) / 10 010 × 1e4 = −4.99500499... bps.
        let fills = [fill(dec!(10000), dec!(1)), fill(dec!(10010), dec!(1))];
        let f = figures(
            Side::Buy,
            dec!(4),
            dec!(10000),
            &fills,
            [(dec!(10000), dec!(2)), (dec!(10030), dec!(1))],
        );
        assert_eq!(f.avg_price, Some(dec!(10005)));
        assert_eq!(f.shortfall_bps, Some(dec!(5)));
        assert_eq!(f.market_vwap, Some(dec!(10010)));
        assert_eq!(f.vwap_slippage_bps, Some(dec!(-4.995)));
        assert_eq!(f.filled, dec!(2));
        assert_eq!(f.fill_ratio, Some(dec!(0.5)));
    }

    #[test]
    fn sell_figures_by_hand() {
        // Sold 3 @ 99: shortfall vs 100 is −(99 − 100)/100 × 1e4 = 100 bps.
        // VWAP 1 @ 98 → slippage −(99 − 98)/98 × 1e4 = −102.0408163... bps.
        let fills = [fill(dec!(99), dec!(3))];
        let f = figures(
            Side::Sell,
            dec!(3),
            dec!(100),
            &fills,
            [(dec!(98), dec!(1))],
        );
        assert_eq!(f.shortfall_bps, Some(dec!(100)));
        assert_eq!(f.vwap_slippage_bps, Some(dec!(-102.0408)));
        assert_eq!(f.fill_ratio, Some(dec!(1)));
    }

    #[test]
    fn no_fills_gives_no_prices() {
        let f = figures(Side::Buy, dec!(1), dec!(100), &[], [(dec!(100), dec!(1))]);
        assert_eq!(f.avg_price, None);
        assert_eq!(f.shortfall_bps, None);
        assert_eq!(f.vwap_slippage_bps, None);
        assert_eq!(f.market_vwap, Some(dec!(100)));
        assert_eq!(f.fill_ratio, Some(dec!(0)));
    }
}
