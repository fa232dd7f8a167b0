//! Tesser's domain types.
//!
//! One concept per module: [`Symbol`], [`Side`], [`Signal`] with its
//! [`ExecutionHint`], market data ([`Tick`]), [`Instrument`] rules, orders
//! ([`OrderRequest`], [`Order`], [`OrderUpdate`]), [`Fill`]s, the
//! [`ExchangeClient`] trait every venue implements and the [`Portfolio`] that
//! fills update, with the venue account's [`AccountBalance`]s when there is one. Money and quantities are [`Decimal`], never floats.
//!
//! ```
//! use serde_json::json;
//! use tesser_core::{ExecutionHint, Signal, SignalKind};
//!
//! let signal = Signal::new("BTCUSDT", SignalKind::EnterLong, 0.8).with_hint(
//!     ExecutionHint::Plugin {
//!         name: "chase_execution".into(),
//!         params: json!({ "clip_size": "0.25" }),
//!     },
//! );
//! assert_eq!(signal.symbol.as_str(), "BTCUSDT");
//! ```
#![deny(missing_docs)]

mod account;
mod exchange;
mod feed;
mod fill;
mod instrument;
mod market;
mod order;
mod portfolio;
mod side;
mod signal;
mod symbol;

pub use account::AccountBalance;
pub use exchange::{ExchangeClient, ExchangeError, ExchangeEvent};
pub use feed::{FeedError, FeedEvent, MarketFeed};
pub use fill::{FeeAsset, Fill, Liquidity};
pub use instrument::Instrument;
pub use market::{BookLevel, Quote, Tick};
pub use order::{
    AmendRequest, ClientOrderId, Order, OrderRequest, OrderStatus, OrderType, OrderUpdate,
    TimeInForce,
};
pub use portfolio::{Portfolio, Position};
pub use rust_decimal::Decimal;
pub use side::Side;
pub use signal::{ExecutionHint, Signal, SignalId, SignalKind};
pub use symbol::Symbol;
