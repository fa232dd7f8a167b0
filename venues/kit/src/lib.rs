//! The venue kit: what every Tesser venue connector shares, so that a new
//! venue plugs in instead of copying.
//!
//! * [`factory`]: [`VenueFactory`], the one thing a venue crate exports to
//!   the runtime (its `[venues.NAME]` section, connect for trading, connect
//!   for market data, the read-only check), and the venue-neutral types it
//!   returns ([`TradingVenue`], [`MarketVenue`], [`CheckReport`]).
//! * [`registry`]: [`Registry`], a list of factories looked up by name; the
//!   `tesser-venues` crate holds the one list the `tesser` command uses.
//! * [`section`]: parsing and checking a `[venues.NAME]` table, every error
//!   one line naming the key.
//! * [`endpoint`]: URL checks and `http`↔`ws` scheme mapping.
//! * [`backoff()`]: reconnect delays with jitter.
//! * [`client_id`]: runtime client order ids ↔ the venue's, reversibly,
//!   within the venue's length and alphabet ([`IdScheme`], [`IdRegistry`]).
//! * [`ws`]: a WebSocket session that stays up ([`ws::run`]): connect,
//!   subscribe, read, reconnect with backoff on a drop, a silence
//!   ([`stale::Watchdog`]) or at a planned age; the venue supplies
//!   [`ws::SessionHooks`].
//! * [`settle`]: the loop that looks an order up until a request whose
//!   outcome was unknown is settled, with pauses, a limit and shutdown.
//! * [`rate_limit`]: rate-limit windows per interval of the venue's clock
//!   (a day window resets at 00:00 UTC), counted and exempt requests,
//!   blocks and bans; [`rate_limit::Limits::wait`] never sleeps.
//! * [`fills`]: each fill booked once ([`FillLedger`]), and the trade id a
//!   reconcile reads the venue's history from ([`TradeMarks`]).
//!
//! The orchestrator never sees any of this: it knows venues only through
//! `tesser_core`'s [`ExchangeClient`](tesser_core::ExchangeClient) and
//! [`MarketFeed`](tesser_core::MarketFeed).
#![deny(missing_docs)]

pub mod backoff;
pub mod client_id;
pub mod endpoint;
pub mod factory;
pub mod fills;
pub mod rate_limit;
pub mod registry;
pub mod section;
pub mod settle;
pub mod stale;
pub mod ws;

pub use backoff::backoff;
pub use client_id::{IdRegistry, IdScheme, VenueIds};
pub use endpoint::check_url;
pub use factory::{
    CheckReport, MarketVenue, Network, TradingVenue, VenueError, VenueFactory, VenueTarget,
    instruments_of,
};
pub use fills::{FillLedger, TradeMarks};
pub use registry::Registry;
pub use section::{Section, SectionError};
