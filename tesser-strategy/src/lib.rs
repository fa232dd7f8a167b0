//! Tesser's strategies.
//!
//! A [`Strategy`] watches trade prints ([`Tick`](tesser_core::Tick)) and
//! fills and publishes [`Signal`](tesser_core::Signal)s through a
//! [`StrategyContext`], which also lends it the time and the current signed
//! positions (a [`PositionView`]). The runtime drains the published signals
//! with [`StrategyContext::take_signals`] and executes each with its
//! [`ExecutionHint`](tesser_core::ExecutionHint); signals published without
//! a hint get the strategy's own (its configuration's `[execution]` table).
//!
//! The built-in strategies, [`SmaCross`] (`sma_cross`) and [`Scripted`]
//! (`scripted`), are configured by a TOML file read with
//! [`StrategyConfig::load`]; see [`StrategyConfig`] for the format.
//!
//! A strategy of your own implements the trait:
//!
//! ```
//! use rust_decimal_macros::dec;
//! use serde_json::json;
//! use tesser_core::{ExecutionHint, Signal, SignalKind, Tick};
//! use tesser_strategy::{NoPositions, Strategy, StrategyContext};
//!
//! struct BuyOnce(bool);
//!
//! impl Strategy for BuyOnce {
//!     fn name(&self) -> &str {
//!         "buy_once"
//!     }
//!     fn on_tick(&mut self, ctx: &mut StrategyContext<'_>, tick: &Tick) {
//!         if !self.0 && ctx.position(&tick.symbol).is_zero() {
//!             self.0 = true;
//!             let signal = Signal::new("BTCUSDT", SignalKind::EnterLong, 0.8).with_hint(
//!                 ExecutionHint::Plugin {
//!                     name: "chase_execution".into(),
//!                     params: json!({ "clip_size": "0.25" }),
//!                 },
//!             );
//!             ctx.publish(signal);
//!         }
//!     }
//! }
//!
//! let tick = Tick {
//!     symbol: "BTCUSDT".into(),
//!     price: dec!(10750),
//!     size: dec!(1),
//!     aggressor: None,
//!     timestamp_ms: 0,
//! };
//! let mut strategy = BuyOnce(false);
//! let mut ctx = StrategyContext::new(tick.timestamp_ms, &NoPositions, ExecutionHint::Immediate);
//! strategy.on_tick(&mut ctx, &tick);
//! assert_eq!(ctx.take_signals().len(), 1);
//! ```
#![deny(missing_docs)]

mod config;
mod context;
mod error;
mod scripted;
mod sma_cross;
mod strategy;

pub use config::{BUILT_IN_STRATEGIES, StrategyConfig, StrategyParams};
pub use context::{NoPositions, PositionView, StrategyContext};
pub use error::StrategyError;
pub use scripted::{Scripted, ScriptedSignal, Trigger};
pub use sma_cross::{MAX_SMA_WINDOW, SmaCross, SmaCrossParams};
pub use strategy::Strategy;
