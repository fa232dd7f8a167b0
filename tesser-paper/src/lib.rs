//! A deterministic paper exchange: [`PaperExchange`] implements
//! [`tesser_core::ExchangeClient`] against a stream of trade prints.
//!
//! # Fill model
//!
//! The only market data is trade prints ([`tesser_core::Tick`]): there are no
//! quotes and no order book, so the exchange infers what would have filled
//! from the trades alone.
//!
//! * **Nothing fills on placement.** `place_order` only accepts (or refuses)
//!   an order; it can fill from the next print of its symbol on.
//! * **Limit orders fill on a trade-through.** A resting limit buy fills when
//!   a print trades strictly *below* its price, a sell when a print trades
//!   strictly *above* it. A print *at* the limit fills nothing, since the
//!   order might have been at the back of the queue at that level. The fill
//!   is at the limit price, as maker.
//! * **Market orders** fill at the print's price, as taker, and keep sweeping
//!   later prints until they are complete.
//! * **Print size bounds fills.** A print of size 3 fills at most 3 in total,
//!   shared among all open orders of its symbol (both sides) in price-time
//!   priority: market orders (and triggered stop-market orders) first, in
//!   time order; then limit orders, best price first — the one the print
//!   trades furthest through, which means highest price first for buys and
//!   lowest first for sells — and, at the same distance, earliest first.
//!   What an order cannot get from one print it may get from later ones.
//!   (A real trade has one aggressor side; the model ignores
//!   [`Tick::aggressor`](tesser_core::Tick::aggressor) and lets buys and
//!   sells share a print.) A print with a size of zero or less fills nothing
//!   but still counts as a print: it sets the last price, triggers stops and
//!   ends IOC/FOK orders.
//!   Time priority is the order of acceptance; re-pricing an order or
//!   raising its quantity sends it to the back, lowering its quantity does
//!   not.
//! * **IOC / FOK** orders are takers: they decide on the first print after
//!   they are accepted (for stop orders: the print that triggers them). A
//!   market IOC/FOK trades at that print; a limit IOC/FOK trades at that print
//!   when it is at or better than the limit (at the limit counts, unlike
//!   resting orders). IOC fills what the print allows and expires the rest;
//!   FOK fills completely or expires with nothing filled. IOC/FOK orders the
//!   print cannot trade at all expire after the print's fills, earliest first.
//! * **Post-only** limit orders are refused when their price would cross the
//!   symbol's last trade (a buy at or above it, a sell at or below it); once
//!   accepted they rest like any limit order.
//! * **Stop orders** trigger on the first print at or beyond the trigger
//!   price (at or above for buys, at or below for sells) and from that same
//!   print act as a market order (stop-market) or a limit order at their
//!   price (stop-limit). A triggered order stays triggered.
//! * **Fees** are `price × quantity × bps / 10000`, with the maker or taker
//!   rate of [`PaperConfig`].
//! * **Latency** ([`PaperConfig::latency_ms`], 0 by default): an order placed
//!   at `t` reaches the book at `t + latency_ms` and can fill from the first
//!   print of its symbol at or after then; until then it is open (and
//!   listed) but nothing fills it. Amends and cancels act at once.
//!
//! Every fill is reported by `poll_events` as an
//! [`ExchangeEvent::Fill`](tesser_core::ExchangeEvent::Fill) followed by an
//! [`ExchangeEvent::OrderUpdate`](tesser_core::ExchangeEvent::OrderUpdate)
//! with the order's new state; IOC/FOK expiries are reported as order
//! updates. Synchronous requests (place, amend, cancel) answer with the order
//! and queue no event.
//!
//! # Determinism
//!
//! The same requests and prints give the same fills, fill ids and events on
//! every run: there is no clock (times come from the caller and the prints),
//! no randomness, and only ordered containers. The whole state, including
//! queued events and counters, serializes with serde, and a restored exchange
//! continues exactly as the original would have.
//!
//! ```
//! use rust_decimal_macros::dec;
//! use tesser_core::{ExchangeClient, ExchangeEvent, OrderRequest, Side, Tick};
//! use tesser_paper::{PaperConfig, PaperExchange};
//!
//! let mut exchange = PaperExchange::new(PaperConfig::default());
//! exchange
//!     .place_order(OrderRequest::limit("a-1", "BTCUSD", Side::Buy, dec!(2), dec!(100)), 0)
//!     .unwrap();
//! // Trades through the limit: fills 1.5 (the print's size) at the limit price.
//! exchange.on_market_tick(&Tick {
//!     symbol: "BTCUSD".into(),
//!     price: dec!(99.5),
//!     size: dec!(1.5),
//!     aggressor: None,
//!     timestamp_ms: 1,
//! });
//! let mut events = Vec::new();
//! exchange.poll_events(&mut events);
//! let ExchangeEvent::Fill(fill) = &events[0] else { panic!("expected a fill") };
//! assert_eq!((fill.price, fill.quantity), (dec!(100), dec!(1.5)));
//! ```
#![deny(missing_docs)]

mod config;
mod exchange;
mod matching;
mod state;

pub use config::PaperConfig;
pub use exchange::PaperExchange;
