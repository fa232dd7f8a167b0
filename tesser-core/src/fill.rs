//! Executions.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{ClientOrderId, Side, Symbol};

/// Whether a fill added or took liquidity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liquidity {
    /// The order rested on the book and was hit.
    Maker,
    /// The order crossed the spread.
    Taker,
}

/// The asset a fill's commission was charged in, relative to the fill's
/// symbol.
///
/// Binance's commission FAQ (`faqs/commission_faq.md`): the commission is
/// taken from what the trade *receives* — the base asset on a buy, the quote
/// asset on a sell — unless the account pays commissions in BNB, in which
/// case it is charged in BNB. The venue connector that knows the symbol's
/// assets classifies the venue's `commissionAsset` into one of these.
///
/// Serialized as `"quote"`, `{"base": "BTC"}` or `{"other": "BNB"}`; a fill
/// written before fee assets were recorded reads as [`FeeAsset::Quote`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeAsset {
    /// The symbol's quote asset: the fee reduces cash.
    #[default]
    Quote,
    /// The symbol's base asset, by name (e.g. `BTC` for `BTCUSDT`): the fee
    /// reduces the position (a buy receives its quantity less the fee).
    Base(String),
    /// Any other asset, by name (e.g. `BNB`): the fee is recorded per asset;
    /// neither cash nor the position moves.
    Other(String),
}

impl FeeAsset {
    /// The asset's name, with `quote_asset` standing for [`FeeAsset::Quote`].
    #[must_use]
    pub fn name<'a>(&'a self, quote_asset: &'a str) -> &'a str {
        match self {
            Self::Quote => quote_asset,
            Self::Base(name) | Self::Other(name) => name,
        }
    }

    /// Classifies a venue's commission asset name against the symbol's base
    /// and quote assets.
    #[must_use]
    pub fn classify(asset: &str, base_asset: &str, quote_asset: &str) -> Self {
        if asset == quote_asset {
            Self::Quote
        } else if asset == base_asset {
            Self::Base(asset.to_owned())
        } else {
            Self::Other(asset.to_owned())
        }
    }
}

/// An execution of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// The venue's id of this execution, unique per venue.
    pub fill_id: String,
    /// The order that filled.
    pub client_order_id: ClientOrderId,
    /// Instrument symbol.
    pub symbol: Symbol,
    /// Side of the order.
    pub side: Side,
    /// Execution price.
    pub price: Decimal,
    /// Executed (gross) quantity: what the order filled, before any
    /// commission taken from it.
    pub quantity: Decimal,
    /// Commission charged, in [`Fill::fee_asset`] (negative for a rebate).
    pub fee: Decimal,
    /// The asset [`Fill::fee`] is in.
    #[serde(default)]
    pub fee_asset: FeeAsset,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Execution time, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

impl Fill {
    /// Price × quantity.
    #[must_use]
    pub fn notional(&self) -> Decimal {
        self.price * self.quantity
    }

    /// The signed change of the base-asset holding: the executed quantity
    /// (positive on a buy, negative on a sell) less a commission charged in
    /// the base asset.
    #[must_use]
    pub fn net_base_change(&self) -> Decimal {
        let gross = self.side.sign() * self.quantity;
        match self.fee_asset {
            FeeAsset::Base(_) => gross - self.fee,
            FeeAsset::Quote | FeeAsset::Other(_) => gross,
        }
    }

    /// The fee in the quote asset, when it was charged in it (zero otherwise).
    #[must_use]
    pub fn quote_fee(&self) -> Decimal {
        match self.fee_asset {
            FeeAsset::Quote => self.fee,
            FeeAsset::Base(_) | FeeAsset::Other(_) => Decimal::ZERO,
        }
    }
}
