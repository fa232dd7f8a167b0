//! The end-of-run summary: a table for people, JSON for scripts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::Serialize;
use tesser_core::{AccountBalance, Portfolio};
use tesser_execution::AlgorithmSummary;

/// One algorithm's line of the summary, as `--summary-json` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryRow {
    /// Algorithm id.
    pub id: String,
    /// Plugin name.
    pub plugin: String,
    /// Symbol.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Target quantity.
    pub target: Decimal,
    /// Filled quantity.
    pub filled: Decimal,
    /// Target less filled: still to do while live, never filled once ended.
    pub unfilled: Decimal,
    /// Average fill price.
    pub avg_price: Option<Decimal>,
    /// Child orders sent.
    pub child_orders: usize,
    /// `working`, `finishing`, `completed` (the whole target filled),
    /// `partial`, `cancelled` or `failed`.
    pub status: String,
    /// Why it ended short of its target, or why it is finishing.
    pub reason: Option<String>,
}

/// The whole run's summary.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Trades replayed in this run.
    pub trades: u64,
    /// Fills in the journal.
    pub fills: usize,
    /// Realised plus unrealised profit, before fees.
    pub pnl: Decimal,
    /// Fees paid per asset, in the asset the venue charged them in (a buy's
    /// commission in the base asset, a sell's in the quote asset, BNB when
    /// the account pays in BNB), e.g. `{"BTC": "0.0005", "USDT": "1.2"}`.
    pub fees: BTreeMap<String, Decimal>,
    /// The venue account's balances at the end (a live venue only; left
    /// out of the JSON when empty), as the venue last reported them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub account: Vec<AccountBalance>,
    /// Whether the run stopped early (Ctrl-C).
    pub interrupted: bool,
    /// Per algorithm.
    pub algorithms: Vec<SummaryRow>,
}

impl SummaryRow {
    /// The row for one algorithm.
    #[must_use]
    pub fn from_algorithm(summary: &AlgorithmSummary) -> Self {
        Self {
            id: summary.id.clone(),
            plugin: summary.plugin.clone(),
            symbol: summary.symbol.to_string(),
            side: summary.side.to_string(),
            target: summary.target.normalize(),
            filled: summary.filled.normalize(),
            unfilled: summary.unfilled.normalize(),
            avg_price: summary.avg_price.map(|p| p.round_dp(8).normalize()),
            child_orders: summary.child_orders,
            status: summary.status.to_string(),
            reason: summary.reason.clone(),
        }
    }
}

impl RunSummary {
    /// The portfolio's fees per asset, rounded to 8 decimals.
    #[must_use]
    pub fn fees_of(portfolio: &Portfolio) -> BTreeMap<String, Decimal> {
        portfolio
            .fees_by_asset()
            .iter()
            .map(|(asset, fee)| (asset.clone(), fee.round_dp(8).normalize()))
            .collect()
    }

    /// The account's balances, rounded to 8 decimals, zero ones left out.
    #[must_use]
    pub fn account_of(portfolio: &Portfolio) -> Vec<AccountBalance> {
        portfolio
            .account_balances()
            .filter(|balance| !balance.total().is_zero())
            .map(|balance| {
                AccountBalance::new(
                    &balance.asset,
                    balance.free.round_dp(8).normalize(),
                    balance.locked.round_dp(8).normalize(),
                )
            })
            .collect()
    }

    /// The fees as one phrase: `0.0005 BTC, 1.2 USDT`, or `0` when none.
    #[must_use]
    pub fn fees_text(&self) -> String {
        if self.fees.is_empty() {
            return "0".to_owned();
        }
        self.fees
            .iter()
            .map(|(asset, fee)| format!("{fee} {asset}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A fixed-width table.
    #[must_use]
    pub fn table(&self) -> String {
        let headers = [
            "id",
            "plugin",
            "symbol",
            "side",
            "target",
            "filled",
            "unfilled",
            "avg price",
            "children",
            "status",
            "reason",
        ];
        let rows: Vec<[String; 11]> = self
            .algorithms
            .iter()
            .map(|r| {
                [
                    r.id.clone(),
                    r.plugin.clone(),
                    r.symbol.clone(),
                    r.side.clone(),
                    r.target.to_string(),
                    r.filled.to_string(),
                    r.unfilled.to_string(),
                    r.avg_price
                        .map_or_else(|| "-".to_owned(), |p| p.to_string()),
                    r.child_orders.to_string(),
                    r.status.clone(),
                    r.reason.clone().unwrap_or_default(),
                ]
            })
            .collect();
        let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            let text: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            let _ = writeln!(out, "{}", text.join("  ").trim_end());
        };
        line(&headers.map(str::to_owned), &mut out);
        line(
            &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
            &mut out,
        );
        for row in &rows {
            line(row, &mut out);
        }
        let _ = writeln!(
            out,
            "{} trades replayed, {} fills, PnL {} (fees {}){}",
            self.trades,
            self.fills,
            self.pnl.round_dp(2),
            self.fees_text(),
            if self.interrupted {
                ", interrupted: state saved, run the same command to resume"
            } else {
                ""
            }
        );
        if !self.account.is_empty() {
            let balances: Vec<String> = self
                .account
                .iter()
                .map(|b| format!("{} {} free, {} locked", b.asset, b.free, b.locked))
                .collect();
            let _ = writeln!(out, "account: {}", balances.join("; "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use tesser_core::{ClientOrderId, FeeAsset, Fill, Liquidity, Side};

    use super::*;

    fn fill(side: Side, fee: Decimal, fee_asset: FeeAsset) -> Fill {
        Fill {
            fill_id: "f".into(),
            client_order_id: ClientOrderId::new("algo-1-0001"),
            symbol: "BTCUSDT".into(),
            side,
            price: dec!(100),
            quantity: dec!(0.5),
            fee,
            fee_asset,
            liquidity: Liquidity::Taker,
            timestamp_ms: 0,
        }
    }

    #[test]
    fn the_summary_lists_fees_per_asset() {
        let mut portfolio = Portfolio::new("USDT", dec!(1000));
        portfolio.apply_fill(&fill(Side::Buy, dec!(0.0005), FeeAsset::Base("BTC".into())));
        portfolio.apply_fill(&fill(Side::Sell, dec!(0.05), FeeAsset::Quote));
        portfolio.apply_fill(&fill(
            Side::Buy,
            dec!(0.0000481),
            FeeAsset::Other("BNB".into()),
        ));
        let summary = RunSummary {
            trades: 3,
            fills: 3,
            pnl: Decimal::ZERO,
            fees: RunSummary::fees_of(&portfolio),
            account: Vec::new(),
            interrupted: false,
            algorithms: Vec::new(),
        };
        // Assets in name order.
        assert!(
            summary
                .table()
                .contains("(fees 0.0000481 BNB, 0.0005 BTC, 0.05 USDT)"),
            "{}",
            summary.table()
        );
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(
            json["fees"],
            serde_json::json!({"BTC": "0.0005", "BNB": "0.0000481", "USDT": "0.05"})
        );
        let none = RunSummary {
            fees: BTreeMap::new(),
            account: Vec::new(),
            ..summary
        };
        assert!(none.table().contains("(fees 0)"), "{}", none.table());
    }
}
