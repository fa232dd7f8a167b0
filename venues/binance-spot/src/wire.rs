//! Binance's wire enums (`enums.md`), parsed at the edge: an
//! `executionReport`'s side (`S`), execution type (`x`) and order status
//! (`X`), and the same fields of the REST order answers. Each has an
//! `Unknown` variant, so a value the venue adds later parses (and is
//! ignored where it matters) instead of failing the whole message.

use serde::{Deserialize, Serialize};
use tesser_core::{OrderStatus, Side};

/// An order's side (`enums.md`, "Order side").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WireSide {
    /// `BUY`.
    Buy,
    /// `SELL`.
    Sell,
    /// A side this connector does not know.
    #[serde(other)]
    Unknown,
}

impl WireSide {
    /// Tesser's side, if the venue's is known.
    #[must_use]
    pub const fn to_side(self) -> Option<Side> {
        match self {
            Self::Buy => Some(Side::Buy),
            Self::Sell => Some(Side::Sell),
            Self::Unknown => None,
        }
    }
}

/// An order's status (`enums.md`, "Order status").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WireStatus {
    /// `NEW`.
    New,
    /// `PENDING_NEW` (an order list's pending order).
    PendingNew,
    /// `PARTIALLY_FILLED`.
    PartiallyFilled,
    /// `FILLED`.
    Filled,
    /// `CANCELED`.
    Canceled,
    /// `PENDING_CANCEL` (unused, per the docs).
    PendingCancel,
    /// `REJECTED`.
    Rejected,
    /// `EXPIRED`.
    Expired,
    /// `EXPIRED_IN_MATCH` (self-trade prevention).
    ExpiredInMatch,
    /// A status this connector does not know.
    #[serde(other)]
    Unknown,
}

impl WireStatus {
    /// Tesser's status: `PENDING_NEW` and `PENDING_CANCEL` count as
    /// accepted, `EXPIRED_IN_MATCH` as expired; an unknown status as none.
    #[must_use]
    pub const fn to_status(self) -> Option<OrderStatus> {
        Some(match self {
            Self::New | Self::PendingNew | Self::PendingCancel => OrderStatus::Accepted,
            Self::PartiallyFilled => OrderStatus::PartiallyFilled,
            Self::Filled => OrderStatus::Filled,
            Self::Canceled => OrderStatus::Cancelled,
            Self::Rejected => OrderStatus::Rejected,
            Self::Expired | Self::ExpiredInMatch => OrderStatus::Expired,
            Self::Unknown => return None,
        })
    }
}

/// What an `executionReport` reports (`enums.md`, "Execution types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionType {
    /// `NEW`: the order was accepted.
    New,
    /// `CANCELED`.
    Canceled,
    /// `REPLACED`: the order was amended (keep priority).
    Replaced,
    /// `REJECTED`: the new order was refused.
    Rejected,
    /// `TRADE`: part or all of the order filled.
    Trade,
    /// `EXPIRED`.
    Expired,
    /// `TRADE_PREVENTION`: expired by self-trade prevention.
    TradePrevention,
    /// An execution type this connector does not know.
    #[serde(other)]
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: serde::de::DeserializeOwned>(text: &str) -> T {
        serde_json::from_str(&format!("\"{text}\"")).expect("a string parses")
    }

    #[test]
    fn known_values_map_and_new_ones_parse_as_unknown() {
        assert_eq!(parse::<WireSide>("SELL").to_side(), Some(Side::Sell));
        assert_eq!(parse::<WireSide>("SHORT"), WireSide::Unknown);
        assert_eq!(
            parse::<WireStatus>("EXPIRED_IN_MATCH").to_status(),
            Some(OrderStatus::Expired)
        );
        assert_eq!(
            parse::<WireStatus>("PENDING_NEW").to_status(),
            Some(OrderStatus::Accepted)
        );
        assert_eq!(parse::<WireStatus>("bogus").to_status(), None);
        assert_eq!(parse::<ExecutionType>("TRADE"), ExecutionType::Trade);
        assert_eq!(
            parse::<ExecutionType>("TRADE_PREVENTION"),
            ExecutionType::TradePrevention
        );
        assert_eq!(
            parse::<ExecutionType>("SOMETHING_NEW"),
            ExecutionType::Unknown
        );
        assert_eq!(
            serde_json::to_string(&ExecutionType::Replaced).unwrap(),
            "\"REPLACED\""
        );
    }
}
