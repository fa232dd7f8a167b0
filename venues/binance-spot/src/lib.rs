//! A live Binance Spot venue for Tesser.
//!
//! * [`sign`]: HMAC-SHA256 and Ed25519 request signing; key loading from the
//!   environment.
//! * [`client_id`]: runtime client order ids ↔ Binance `newClientOrderId`
//!   (the venue kit's scheme with Binance's length and alphabet).
//! * [`rest`]: the signed REST client with clock sync, rate limits (Binance's
//!   limits on the venue kit's windows) and outcome classification.
//! * [`ws_user`]: user data over the WebSocket API, with reconnect and
//!   reconcile (Binance's hooks on the venue kit's WebSocket session).
//! * [`ws_market`]: trade and book ticker streams (the same session).
//! * [`exchange`]: [`BinanceSpot`], the synchronous
//!   [`tesser_core::ExchangeClient`].
//! * [`feed`]: [`BinanceFeed`], the trade streams as a
//!   [`tesser_core::MarketFeed`].
//! * [`public`]: [`BinancePublic`], rules and market data without keys (paper
//!   trading on live data).
//! * [`mod@check`]: [`check()`], a read-only look at the venue and the key.
//! * [`model`]: the documented JSON payloads.
//! * [`wire`]: the wire enums (side, order status, execution type), parsed
//!   at the edge.
//! * [`config`]: endpoints and settings.
//! * [`factory`]: [`BinanceSpotFactory`], the venue as the runtime's
//!   registry lists it (`--venue binance-spot`, `[venues.binance-spot]`).
//!
//! Facts about the protocol come from Binance's `binance-spot-api-docs`
//! (`rest-api.md`, `web-socket-api.md`, `web-socket-streams.md`,
//! `user-data-stream.md`, `errors.md`, `filters.md`, `enums.md`).
#![deny(missing_docs)]

pub mod book;
pub mod check;
pub mod client_id;
pub mod config;
pub mod error;
pub mod exchange;
pub mod factory;
pub mod feed;
pub mod model;
pub mod public;
pub mod rest;
pub mod sign;
mod startup;
pub mod wire;
pub mod ws_market;
pub mod ws_user;

pub use check::{AccountCheck, SymbolCheck, VenueCheck, check};
pub use config::{BinanceConfig, Endpoints};
pub use error::{BinanceError, StartupError};
pub use exchange::BinanceSpot;
pub use factory::{BinanceSpotFactory, BinanceSpotSection};
pub use feed::BinanceFeed;
pub use public::BinancePublic;
pub use sign::{Credentials, KeyError};
