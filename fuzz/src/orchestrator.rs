//! The host's handling of what a plugin returns, end to end: a native
//! [`ExecutionAlgorithm`] answers every callback with the next
//! [`PluginResult`] of a script (orders with arbitrary place, amend and
//! cancel actions, symbols, sides and decimals including zero, negative and
//! extreme ones; log lines; completion; errors) and every snapshot with an
//! arbitrary string. The real [`Orchestrator`] runs it against the real
//! [`PaperExchange`] and an in-memory [`StateStore`], driven by ticks, clock
//! steps, signals, operator cancels and restarts, and [`check_invariants`]
//! runs after every step.
//!
//! Shared by the `plugin_result` fuzz target, which builds a [`Scenario`]
//! with `arbitrary`, and `tesser-execution/tests/properties.rs` (which
//! includes this file with `#[path]` and feeds it random bytes).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use arbitrary::{Arbitrary, Unstructured};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tesser_core::{ExchangeClient, ExecutionHint, Instrument, Signal, SignalKind, Symbol, Tick};
use tesser_execution::wasm::{EngineError, PluginCallError, PluginCallErrorKind, PluginCallback};
use tesser_execution::{
    AlgorithmProvider, ExecutionAlgorithm, FixedQuantitySizer, ImmediateAlgorithm, Orchestrator,
    OrchestratorConfig, OrchestratorError, OrchestratorParts, RiskGuard, RiskLimits, StateStore,
};
use tesser_paper::{PaperConfig, PaperExchange};
use tesser_wasm::{
    PluginCancelRequest, PluginChildOrderAction, PluginError, PluginFill, PluginInitContext,
    PluginLogLevel, PluginOrderRequest, PluginOrderType, PluginOrderUpdate,
    PluginOrderUpdateRequest, PluginResult, PluginSide, PluginTick, PluginTimeInForce, PluginTimer,
};

/// The two symbols signals trade.
const SYMBOLS: [&str; 2] = ["BTCUSD", "ETHUSD"];

/// Name the scripted algorithm runs under.
const SCRIPTED: &str = "scripted";

/// Data clock at the first step.
const START_MS: i64 = 1_700_000_000_000;

/// Most ids of child orders the scripted algorithm remembers.
const MAX_KNOWN_IDS: usize = 64;

/// Longest lists a scenario holds, so one input stays fast.
const MAX_REPLIES: usize = 96;
const MAX_STEPS: usize = 64;
const MAX_ACTIONS: usize = 8;
const MAX_LOGS: usize = 4;

fn tick_size(symbol: usize) -> Decimal {
    if symbol == 0 {
        Decimal::new(1, 1)
    } else {
        Decimal::new(1, 2)
    }
}

fn start_price(symbol: usize) -> Decimal {
    if symbol == 0 {
        Decimal::new(10_000, 0)
    } else {
        Decimal::new(2_000, 0)
    }
}

/// A small positive decimal: 1 to 2000 units at scale 0 to 4, mostly 3
/// (0.001 to 2, around the usual targets of 1 to 5).
fn small(u: &mut Unstructured<'_>) -> arbitrary::Result<Decimal> {
    let units = i64::from(u.int_in_range(1_u32..=2_000)?);
    let scale = *u.choose(&[3, 0, 1, 2, 3, 3, 4])?;
    Ok(Decimal::new(units, scale))
}

/// True once in `n` draws (false when the input is exhausted, so an
/// exhausted input gives the common case).
fn one_in(u: &mut Unstructured<'_>, n: u8) -> arbitrary::Result<bool> {
    Ok(u.int_in_range(1..=n)? == n)
}

/// `Some` three times in four.
fn mostly<'a, T: Arbitrary<'a>>(u: &mut Unstructured<'a>) -> arbitrary::Result<Option<T>> {
    if one_in(u, 4)? {
        Ok(None)
    } else {
        T::arbitrary(u).map(Some)
    }
}

fn mostly_price(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<FuzzPrice>> {
    mostly(u)
}

fn rarely(u: &mut Unstructured<'_>) -> arbitrary::Result<bool> {
    one_in(u, 5)
}

fn seldom(u: &mut Unstructured<'_>) -> arbitrary::Result<bool> {
    one_in(u, 10)
}

/// A decimal a plugin might return: mostly small and positive (so orders
/// get through the risk guard and trade), but also zero, negative, the
/// smallest positive value, the extremes and any representable value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FuzzDecimal(pub Decimal);

impl<'a> Arbitrary<'a> for FuzzDecimal {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(match u.int_in_range(0_u8..=11)? {
            0 => Decimal::ZERO,
            1 => -small(u)?,
            2 => Decimal::MAX,
            3 => Decimal::MIN,
            4 => Decimal::new(1, 28),
            5 => {
                let (lo, mid, hi, negative) = <(u32, u32, u32, bool)>::arbitrary(u)?;
                let scale = u.int_in_range(0_u32..=28)?;
                Decimal::from_parts(lo, mid, hi, negative, scale)
            }
            _ => small(u)?,
        }))
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(21))
    }
}

/// A price: some ticks away from the last trade the algorithm saw (on the
/// tick grid and inside the risk guard's band when the offset is small;
/// three times in four), or any decimal.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub enum FuzzPrice {
    /// `last + ticks × tick size`.
    Near(i8),
    /// Exactly this.
    Exact(FuzzDecimal),
}

impl<'a> Arbitrary<'a> for FuzzPrice {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(if one_in(u, 4)? {
            Self::Exact(FuzzDecimal::arbitrary(u)?)
        } else {
            Self::Near(i8::arbitrary(u)?)
        })
    }
}

/// The symbol of a child order: mostly the parent signal's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FuzzSymbol {
    /// The parent signal's.
    Own,
    /// The other traded symbol.
    Other,
    /// Any text.
    Text(String),
}

impl<'a> Arbitrary<'a> for FuzzSymbol {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0_u8..=9)? {
            8 => Self::Other,
            9 => Self::Text(String::arbitrary(u)?),
            _ => Self::Own,
        })
    }
}

/// The client-order-id suffix of a new child order.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub enum FuzzSuffix {
    /// A fresh valid suffix.
    Fresh,
    /// The suffix used last (a duplicate when there was one).
    Repeat,
    /// Any text.
    Text(String),
}

/// The child order an amend or cancel names.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub enum FuzzOrderRef {
    /// One of the ids the host acknowledged or reported, by index.
    Known(u8),
    /// Any text.
    Text(String),
}

fn order_type(u: &mut Unstructured<'_>) -> arbitrary::Result<PluginOrderType> {
    Ok(*u.choose(&[
        PluginOrderType::Market,
        PluginOrderType::Limit,
        PluginOrderType::StopMarket,
        PluginOrderType::StopLimit,
    ])?)
}

fn time_in_force(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<PluginTimeInForce>> {
    Ok(*u.choose(&[
        None,
        Some(PluginTimeInForce::GoodTilCancelled),
        Some(PluginTimeInForce::ImmediateOrCancel),
        Some(PluginTimeInForce::FillOrKill),
        Some(PluginTimeInForce::PostOnly),
    ])?)
}

fn log_level(u: &mut Unstructured<'_>) -> arbitrary::Result<PluginLogLevel> {
    Ok(*u.choose(&[
        PluginLogLevel::Trace,
        PluginLogLevel::Debug,
        PluginLogLevel::Info,
        PluginLogLevel::Warn,
        PluginLogLevel::Error,
    ])?)
}

fn signal_kind(u: &mut Unstructured<'_>) -> arbitrary::Result<SignalKind> {
    Ok(*u.choose(&[
        SignalKind::EnterLong,
        SignalKind::ExitLong,
        SignalKind::EnterShort,
        SignalKind::ExitShort,
        SignalKind::Flatten,
    ])?)
}

/// Up to `max` arbitrary values, fewer when the input runs out.
fn list<'a, T: Arbitrary<'a>>(u: &mut Unstructured<'a>, max: usize) -> arbitrary::Result<Vec<T>> {
    let wanted = u.int_in_range(0..=max)?;
    let mut items = Vec::with_capacity(wanted);
    while items.len() < wanted && !u.is_empty() {
        items.push(T::arbitrary(u)?);
    }
    Ok(items)
}

fn actions(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<FuzzAction>> {
    list(u, MAX_ACTIONS)
}

fn logs(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<FuzzLog>> {
    list(u, MAX_LOGS)
}

/// A new child order.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub struct FuzzPlace {
    /// Its symbol.
    pub symbol: FuzzSymbol,
    /// Whether it is on the other side than the parent signal.
    #[arbitrary(with = rarely)]
    pub opposite_side: bool,
    /// Its type.
    #[arbitrary(with = order_type)]
    pub order_type: PluginOrderType,
    /// Its quantity.
    pub quantity: FuzzDecimal,
    /// Its limit price.
    #[arbitrary(with = mostly_price)]
    pub price: Option<FuzzPrice>,
    /// Its trigger price.
    pub trigger_price: Option<FuzzPrice>,
    /// Its time in force.
    #[arbitrary(with = time_in_force)]
    pub time_in_force: Option<PluginTimeInForce>,
    /// Its id suffix; the host numbers it when absent.
    pub suffix: Option<FuzzSuffix>,
    /// Attached profit target.
    pub take_profit: Option<FuzzPrice>,
    /// Attached stop.
    pub stop_loss: Option<FuzzPrice>,
    /// Iceberg display quantity.
    pub display_quantity: Option<FuzzDecimal>,
}

/// One child-order action.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub enum FuzzAction {
    /// Send a new order.
    Place(Box<FuzzPlace>),
    /// Change an order.
    Amend {
        /// The order.
        order: FuzzOrderRef,
        /// New limit price.
        new_price: Option<FuzzPrice>,
        /// New total quantity.
        new_quantity: Option<FuzzDecimal>,
    },
    /// Cancel an order.
    Cancel(FuzzOrderRef),
}

/// One log line.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub struct FuzzLog {
    /// Severity.
    #[arbitrary(with = log_level)]
    pub level: PluginLogLevel,
    /// Text.
    pub message: String,
}

/// What the algorithm's next `snapshot` returns: mostly its state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub enum FuzzSnapshot {
    /// Its real state as JSON.
    #[default]
    State,
    /// `null`.
    Null,
    /// Any text, JSON or not.
    Text(String),
    /// A JSON string one byte longer than the host's limit.
    Oversized,
    /// An error.
    Fail,
}

impl<'a> Arbitrary<'a> for FuzzSnapshot {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0_u8..=15)? {
            12 => Self::Null,
            13 => Self::Text(String::arbitrary(u)?),
            14 => Self::Oversized,
            15 => Self::Fail,
            _ => Self::State,
        })
    }
}

/// A successful callback's answer.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub struct FuzzResult {
    /// Child-order actions.
    #[arbitrary(with = actions)]
    pub actions: Vec<FuzzAction>,
    /// Log lines.
    #[arbitrary(with = logs)]
    pub logs: Vec<FuzzLog>,
    /// Whether the algorithm reports it is done (one time in ten).
    #[arbitrary(with = seldom)]
    pub completed: bool,
    /// What the snapshot after this callback returns.
    pub snapshot: FuzzSnapshot,
}

/// How a callback fails.
#[derive(Debug, Clone, Copy, Arbitrary, Serialize, Deserialize)]
pub enum FuzzFailure {
    /// The plugin returned an error.
    Plugin,
    /// The guest trapped.
    Trap,
    /// The host refused the plugin's output.
    InvalidOutput,
    /// The instance was unusable.
    Unusable,
}

/// The algorithm's answer to one callback (or to a restore): a failure one
/// time in ten.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Reply {
    /// A result.
    Return(FuzzResult),
    /// A failure.
    Fail(FuzzFailure),
}

impl<'a> Arbitrary<'a> for Reply {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(if one_in(u, 10)? {
            Self::Fail(FuzzFailure::arbitrary(u)?)
        } else {
            Self::Return(FuzzResult::arbitrary(u)?)
        })
    }
}

/// A signal from the strategy.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub struct FuzzSignal {
    /// `ETHUSD` rather than `BTCUSD`.
    pub eth: bool,
    /// What to do.
    #[arbitrary(with = signal_kind)]
    pub kind: SignalKind,
    /// Quantity in hundredths (the sizer's default of 1 when absent;
    /// zero or negative means nothing to trade).
    pub quantity: Option<i16>,
    /// Run the host's built-in immediate algorithm instead of the script.
    pub immediate: bool,
}

/// One step of the scenario: mostly prints, then signals, clock steps,
/// restarts and, rarely, operator cancels.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Step {
    /// A trade print, `move_ticks` ticks from the symbol's last price.
    Tick {
        /// `ETHUSD` rather than `BTCUSD`.
        eth: bool,
        /// Price change in ticks.
        move_ticks: i8,
        /// Size in thousandths (zero is a print that fills nothing).
        size: u16,
        /// Milliseconds since the previous step.
        dt_ms: u16,
    },
    /// The data clock moves on (timers fire).
    Clock {
        /// Milliseconds since the previous step.
        dt_ms: u16,
    },
    /// A signal.
    Signal(FuzzSignal),
    /// The operator cancels an algorithm, by index.
    Cancel(u8),
    /// The process restarts and recovers from the store.
    Restart,
}

impl<'a> Arbitrary<'a> for Step {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0_u8..=19)? {
            0..=9 => Self::Tick {
                eth: bool::arbitrary(u)?,
                move_ticks: i8::arbitrary(u)?,
                size: u16::arbitrary(u)?,
                dt_ms: u16::arbitrary(u)?,
            },
            10..=12 => Self::Clock {
                dt_ms: u16::arbitrary(u)?,
            },
            13..=16 => Self::Signal(FuzzSignal::arbitrary(u)?),
            17..=18 => Self::Restart,
            _ => Self::Cancel(u8::arbitrary(u)?),
        })
    }
}

/// Orchestrator settings: each limit is mostly the default, and sometimes
/// small enough to be reached (down to zero). Snapshots are capped at 16 KiB
/// or less so an oversized one stays cheap to build.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FuzzConfig {
    /// Timer interval.
    pub timer_interval_ms: i64,
    /// Snapshot interval for quiet algorithms.
    pub snapshot_interval_ms: i64,
    /// Callback cascade limit.
    pub max_callback_cascade: u32,
    /// Actions per result.
    pub max_actions_per_result: usize,
    /// Log lines per result.
    pub max_log_lines: usize,
    /// Log bytes per result.
    pub max_log_bytes: usize,
    /// Snapshot size.
    pub max_snapshot_bytes: usize,
    /// Risk refusals before failing an algorithm.
    pub max_risk_rejections: u32,
}

/// `default`, or one time in four a value from 0 to 255.
fn limit<T: From<u8>>(u: &mut Unstructured<'_>, default: T) -> arbitrary::Result<T> {
    Ok(if one_in(u, 4)? {
        T::from(u8::arbitrary(u)?)
    } else {
        default
    })
}

impl<'a> Arbitrary<'a> for FuzzConfig {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let defaults = OrchestratorConfig::default();
        Ok(Self {
            timer_interval_ms: i64::from(u16::arbitrary(u)?),
            snapshot_interval_ms: i64::from(u16::arbitrary(u)?),
            max_callback_cascade: limit(u, defaults.max_callback_cascade)?,
            max_actions_per_result: limit(u, defaults.max_actions_per_result)?,
            max_log_lines: limit(u, defaults.max_log_lines)?,
            max_log_bytes: limit(u, defaults.max_log_bytes)?,
            max_snapshot_bytes: if one_in(u, 8)? {
                usize::from(u8::arbitrary(u)?)
            } else {
                16 << 10
            },
            max_risk_rejections: limit(u, defaults.max_risk_rejections)?,
        })
    }
}

impl FuzzConfig {
    fn build(&self) -> OrchestratorConfig {
        OrchestratorConfig {
            timer_interval_ms: self.timer_interval_ms,
            snapshot_interval_ms: self.snapshot_interval_ms,
            max_callback_cascade: self.max_callback_cascade,
            max_actions_per_result: self.max_actions_per_result,
            max_log_lines: self.max_log_lines,
            max_log_bytes: self.max_log_bytes,
            max_snapshot_bytes: self.max_snapshot_bytes,
            max_risk_rejections: self.max_risk_rejections,
            ..OrchestratorConfig::default()
        }
    }
}

/// Risk limits, each on or off.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub struct FuzzLimits {
    /// Largest child order.
    pub max_order_quantity: Option<FuzzDecimal>,
    /// Price band around the last trade, in basis points.
    pub price_band_bps: Option<u16>,
    /// Places and amends per second.
    pub max_actions_per_second: Option<u8>,
}

impl FuzzLimits {
    fn build(&self) -> RiskLimits {
        RiskLimits {
            max_order_quantity: self.max_order_quantity.map(|q| q.0),
            price_band_bps: self.price_band_bps.map(Decimal::from),
            max_actions_per_second: self.max_actions_per_second.map(u32::from),
        }
    }
}

/// How every run starts, so that every input drives a scripted algorithm:
/// optionally a print of each symbol (so there is a last price), then a
/// scripted signal that trades.
#[derive(Debug, Clone, Arbitrary, Serialize, Deserialize)]
pub struct Opening {
    /// Print both symbols first.
    pub ticks: bool,
    /// `ETHUSD` rather than `BTCUSD`.
    pub eth: bool,
    /// Sell (enter short) rather than buy.
    pub short: bool,
    /// Target in hundredths (the sizer's default of 1 when absent).
    pub quantity: Option<u16>,
}

/// One run: settings, the algorithms' answers (shared by every scripted
/// algorithm, taken in callback order) and the steps that drive them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    /// Orchestrator settings.
    pub config: FuzzConfig,
    /// Risk limits.
    pub limits: FuzzLimits,
    /// Whether the instruments have tick, lot and minimum rules.
    pub instrument_rules: bool,
    /// The first steps.
    pub opening: Opening,
    /// Answers, in callback order; an exhausted script answers nothing.
    pub replies: Vec<Reply>,
    /// What happens.
    pub steps: Vec<Step>,
}

/// A scenario is decoded from JSON when the input is a JSON [`Scenario`]
/// (how the reproducers in `fuzz/regressions/plugin_result/` are written,
/// so they survive changes to the byte layout below), and from the bytes
/// otherwise.
impl<'a> Arbitrary<'a> for Scenario {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let rest = u.peek_bytes(u.len()).unwrap_or_default();
        if rest.first() == Some(&b'{')
            && let Ok(scenario) = serde_json::from_slice::<Self>(rest)
        {
            u.bytes(u.len())?;
            return Ok(scenario);
        }
        Ok(Self {
            config: FuzzConfig::arbitrary(u)?,
            limits: FuzzLimits::arbitrary(u)?,
            instrument_rules: bool::arbitrary(u)?,
            opening: Opening::arbitrary(u)?,
            replies: list(u, MAX_REPLIES)?,
            steps: list(u, MAX_STEPS)?,
        })
    }
}

impl Scenario {
    /// The steps [`Opening`] stands for.
    fn opening(&self) -> Vec<Step> {
        let opening = &self.opening;
        let mut steps = Vec::new();
        if opening.ticks {
            for eth in [false, true] {
                steps.push(Step::Tick {
                    eth,
                    move_ticks: 0,
                    size: 1_000,
                    dt_ms: 0,
                });
            }
        }
        steps.push(Step::Signal(FuzzSignal {
            eth: opening.eth,
            kind: if opening.short {
                SignalKind::EnterShort
            } else {
                SignalKind::EnterLong
            },
            quantity: opening
                .quantity
                .map(|q| i16::try_from(q % 10_000).unwrap_or(i16::MAX)),
            immediate: false,
        }));
        steps
    }
}

/// The answers left, shared by every algorithm of a run.
#[derive(Debug)]
struct Script {
    replies: VecDeque<Reply>,
    max_snapshot_bytes: usize,
}

type SharedScript = Rc<RefCell<Script>>;

/// What the scripted algorithm knows; its snapshot when asked for its state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Memory {
    symbol: String,
    side: PluginSide,
    tick_size: Decimal,
    last_price: Decimal,
    known_ids: Vec<String>,
    suffixes: u32,
}

impl Memory {
    fn learn(&mut self, id: &str) {
        if self.known_ids.len() < MAX_KNOWN_IDS && !self.known_ids.iter().any(|k| k == id) {
            self.known_ids.push(id.to_owned());
        }
    }

    fn price(&self, price: FuzzPrice) -> Decimal {
        match price {
            FuzzPrice::Near(ticks) => self.last_price + Decimal::from(ticks) * self.tick_size,
            FuzzPrice::Exact(value) => value.0,
        }
    }

    fn order_id(&self, order: &FuzzOrderRef) -> String {
        match order {
            FuzzOrderRef::Known(index) if !self.known_ids.is_empty() => {
                self.known_ids[usize::from(*index) % self.known_ids.len()].clone()
            }
            FuzzOrderRef::Known(_) => String::new(),
            FuzzOrderRef::Text(text) => text.clone(),
        }
    }

    fn action(&mut self, action: &FuzzAction) -> PluginChildOrderAction {
        match action {
            FuzzAction::Place(place) => {
                let symbol = match &place.symbol {
                    FuzzSymbol::Own => self.symbol.clone(),
                    FuzzSymbol::Other if self.symbol == SYMBOLS[0] => SYMBOLS[1].to_owned(),
                    FuzzSymbol::Other => SYMBOLS[0].to_owned(),
                    FuzzSymbol::Text(text) => text.clone(),
                };
                let client_order_id = place.suffix.as_ref().map(|suffix| match suffix {
                    FuzzSuffix::Fresh => {
                        self.suffixes += 1;
                        format!("s{}", self.suffixes)
                    }
                    FuzzSuffix::Repeat => format!("s{}", self.suffixes),
                    FuzzSuffix::Text(text) => text.clone(),
                });
                PluginChildOrderAction::Place(PluginOrderRequest {
                    symbol,
                    side: if place.opposite_side {
                        self.side.opposite()
                    } else {
                        self.side
                    },
                    order_type: place.order_type,
                    quantity: place.quantity.0,
                    price: place.price.map(|p| self.price(p)),
                    trigger_price: place.trigger_price.map(|p| self.price(p)),
                    time_in_force: place.time_in_force,
                    client_order_id,
                    take_profit: place.take_profit.map(|p| self.price(p)),
                    stop_loss: place.stop_loss.map(|p| self.price(p)),
                    display_quantity: place.display_quantity.map(|q| q.0),
                })
            }
            FuzzAction::Amend {
                order,
                new_price,
                new_quantity,
            } => PluginChildOrderAction::Amend(PluginOrderUpdateRequest {
                client_order_id: self.order_id(order),
                new_price: new_price.map(|p| self.price(p)),
                new_quantity: new_quantity.map(|q| q.0),
            }),
            FuzzAction::Cancel(order) => {
                PluginChildOrderAction::Cancel(PluginCancelRequest::new(self.order_id(order)))
            }
        }
    }
}

/// An algorithm that answers every callback with the script's next reply.
struct ScriptedAlgorithm {
    script: SharedScript,
    memory: Memory,
    snapshot: FuzzSnapshot,
}

impl ScriptedAlgorithm {
    fn failure(callback: PluginCallback, failure: FuzzFailure) -> PluginCallError {
        let message = "scripted failure".to_owned();
        PluginCallError {
            plugin: SCRIPTED.to_owned(),
            callback,
            kind: match failure {
                FuzzFailure::Plugin => PluginCallErrorKind::Plugin(PluginError::internal(message)),
                FuzzFailure::Trap => PluginCallErrorKind::Trap(message),
                FuzzFailure::InvalidOutput => PluginCallErrorKind::InvalidOutput(message),
                FuzzFailure::Unusable => PluginCallErrorKind::Unusable(message),
            },
        }
    }

    fn answer(&mut self, callback: PluginCallback) -> Result<PluginResult, PluginCallError> {
        let reply = self.script.borrow_mut().replies.pop_front();
        let Some(reply) = reply else {
            self.snapshot = FuzzSnapshot::State;
            return Ok(PluginResult::new());
        };
        let result = match reply {
            Reply::Fail(failure) => return Err(Self::failure(callback, failure)),
            Reply::Return(result) => result,
        };
        let mut out = PluginResult::new();
        for action in &result.actions {
            out = out.with_order(self.memory.action(action));
        }
        for log in result.logs {
            out = out.with_log(log.level, log.message);
        }
        self.snapshot = result.snapshot;
        Ok(if result.completed {
            out.completed()
        } else {
            out
        })
    }
}

impl ExecutionAlgorithm for ScriptedAlgorithm {
    fn name(&self) -> &str {
        SCRIPTED
    }

    fn init(&mut self, ctx: &PluginInitContext) -> Result<PluginResult, PluginCallError> {
        self.memory.symbol.clone_from(&ctx.signal.symbol);
        self.memory.side = ctx.signal.side;
        self.memory.last_price = ctx.risk.last_price;
        self.memory.tick_size = if ctx.risk.instrument.tick_size > Decimal::ZERO {
            ctx.risk.instrument.tick_size
        } else {
            Decimal::new(1, 2)
        };
        self.answer(PluginCallback::Init)
    }

    fn on_tick(&mut self, tick: &PluginTick) -> Result<PluginResult, PluginCallError> {
        self.memory.last_price = tick.price;
        self.answer(PluginCallback::OnTick)
    }

    fn on_fill(&mut self, fill: &PluginFill) -> Result<PluginResult, PluginCallError> {
        self.memory.learn(&fill.client_order_id);
        self.answer(PluginCallback::OnFill)
    }

    fn on_order_update(
        &mut self,
        update: &PluginOrderUpdate,
    ) -> Result<PluginResult, PluginCallError> {
        self.memory.learn(&update.client_order_id);
        self.answer(PluginCallback::OnOrderUpdate)
    }

    fn on_timer(&mut self, _timer: PluginTimer) -> Result<PluginResult, PluginCallError> {
        self.answer(PluginCallback::OnTimer)
    }

    fn snapshot(&mut self) -> Result<String, PluginCallError> {
        Ok(match &self.snapshot {
            FuzzSnapshot::State => serde_json::to_string(&self.memory).unwrap_or_default(),
            FuzzSnapshot::Null => "null".to_owned(),
            FuzzSnapshot::Text(text) => text.clone(),
            FuzzSnapshot::Oversized => {
                let limit = self.script.borrow().max_snapshot_bytes;
                format!("\"{}\"", "x".repeat(limit.saturating_sub(1)))
            }
            FuzzSnapshot::Fail => {
                return Err(Self::failure(PluginCallback::Snapshot, FuzzFailure::Plugin));
            }
        })
    }

    fn restore(&mut self, ctx: &tesser_wasm::PluginRestoreContext) -> Result<(), PluginCallError> {
        let snapshot_json = ctx.snapshot_json.as_str();
        let mut script = self.script.borrow_mut();
        if let Some(Reply::Fail(failure)) = script.replies.front().cloned() {
            script.replies.pop_front();
            return Err(Self::failure(PluginCallback::Restore, failure));
        }
        // A snapshot that is not the algorithm's state (text, null) leaves
        // it knowing nothing: its orders then go to an empty symbol.
        self.memory = serde_json::from_str(snapshot_json).unwrap_or_default();
        Ok(())
    }
}

/// Creates scripted algorithms, and the host's immediate algorithm by its
/// name, like the WebAssembly engine does.
struct Provider {
    script: SharedScript,
}

impl AlgorithmProvider for Provider {
    fn create(&self, name: &str) -> Result<Box<dyn ExecutionAlgorithm>, EngineError> {
        if name == ImmediateAlgorithm::NAME {
            return Ok(Box::new(ImmediateAlgorithm::default()));
        }
        Ok(Box::new(ScriptedAlgorithm {
            script: Rc::clone(&self.script),
            memory: Memory::default(),
            snapshot: FuzzSnapshot::State,
        }))
    }
}

fn instruments(rules: bool) -> Vec<Instrument> {
    if !rules {
        return Vec::new();
    }
    vec![
        Instrument::new(SYMBOLS[0], "BTC", "USD")
            .with_tick_size(tick_size(0))
            .with_lot_size(Decimal::new(1, 3))
            .with_min_quantity(Decimal::new(1, 3))
            .with_min_notional(Decimal::new(10, 0)),
        Instrument::new(SYMBOLS[1], "ETH", "USD")
            .with_tick_size(tick_size(1))
            .with_lot_size(Decimal::new(1, 3))
            .with_min_quantity(Decimal::new(1, 2))
            .with_min_notional(Decimal::ZERO),
    ]
}

/// Everything needed to (re)open the orchestrator.
struct Rig {
    script: SharedScript,
    risk: RiskGuard,
    config: OrchestratorConfig,
}

impl Rig {
    fn open(
        &self,
        exchange: PaperExchange,
        store: StateStore,
    ) -> Result<Orchestrator<PaperExchange>, OrchestratorError> {
        Orchestrator::open(OrchestratorParts {
            provider: Box::new(Provider {
                script: Rc::clone(&self.script),
            }),
            exchange,
            store,
            risk: self.risk.clone(),
            sizer: Box::new(FixedQuantitySizer::new(Decimal::ONE)),
            config: self.config.clone(),
        })
    }
}

/// Whether a step's outcome lets the run go on. A store error is the one
/// error the orchestrator documents for these calls (plugin misbehaviour
/// fails the algorithm, never the orchestrator); it ends the run. Anything
/// else is a bug.
fn go_on(step: &Step, outcome: Result<(), OrchestratorError>) -> bool {
    match outcome {
        Ok(()) => true,
        Err(OrchestratorError::Store(_)) => false,
        Err(error) => panic!("the orchestrator failed on {step:?}: {error}"),
    }
}

/// Runs a scenario, checking [`check_invariants`] after every step.
///
/// # Panics
/// When the orchestrator, the exchange or the store panics, the orchestrator
/// returns an error other than a store error, or an invariant breaks.
pub fn run(scenario: &Scenario) {
    let script = Rc::new(RefCell::new(Script {
        replies: scenario.replies.iter().cloned().collect(),
        max_snapshot_bytes: scenario.config.max_snapshot_bytes,
    }));
    let rig = Rig {
        script,
        risk: RiskGuard::new(
            scenario.limits.build(),
            instruments(scenario.instrument_rules),
        ),
        config: scenario.config.build(),
    };
    let store = StateStore::open_in_memory().expect("in-memory store");
    let mut orchestrator = rig
        .open(PaperExchange::new(PaperConfig::default()), store)
        .expect("opening an empty store");
    let mut now = START_MS;
    let mut prices = [start_price(0), start_price(1)];
    for step in scenario.opening().iter().chain(&scenario.steps) {
        let outcome = match step {
            Step::Tick {
                eth,
                move_ticks,
                size,
                dt_ms,
            } => {
                let s = usize::from(*eth);
                let tick = tick_size(s);
                prices[s] = (prices[s] + Decimal::from(*move_ticks) * tick).max(tick);
                now += i64::from(*dt_ms);
                orchestrator.on_tick(&Tick {
                    symbol: Symbol::from(SYMBOLS[s]),
                    price: prices[s],
                    size: Decimal::new(i64::from(*size), 3),
                    aggressor: None,
                    timestamp_ms: now,
                })
            }
            Step::Clock { dt_ms } => {
                now += i64::from(*dt_ms);
                orchestrator.advance_clock(now)
            }
            Step::Signal(signal) => {
                let mut built = Signal::new(SYMBOLS[usize::from(signal.eth)], signal.kind, 1.0);
                if let Some(hundredths) = signal.quantity {
                    built = built.with_quantity(Decimal::new(i64::from(hundredths), 2));
                }
                if !signal.immediate {
                    built = built.with_hint(ExecutionHint::Plugin {
                        name: SCRIPTED.to_owned(),
                        params: serde_json::Value::Null,
                    });
                }
                orchestrator.submit_signal(&built).map(|_| ())
            }
            Step::Cancel(index) => {
                let ids: Vec<String> = orchestrator
                    .algorithms()
                    .into_iter()
                    .map(|a| a.id)
                    .collect();
                if ids.is_empty() {
                    Ok(())
                } else {
                    let id = &ids[usize::from(*index) % ids.len()];
                    orchestrator.cancel_algorithm(id, "cancelled by the operator")
                }
            }
            Step::Restart => {
                let (exchange, store) = orchestrator.into_parts();
                match rig.open(exchange, store) {
                    Ok(reopened) => {
                        orchestrator = reopened;
                        Ok(())
                    }
                    Err(OrchestratorError::Store(_)) => return,
                    Err(error) => panic!("recovery failed: {error}"),
                }
            }
        };
        if !go_on(step, outcome) {
            return;
        }
        check_invariants(&orchestrator);
    }
}

/// The algorithm a child order belongs to: its id is `<algorithm id>-…`.
fn owner<'a>(algorithm_ids: &'a [String], client_order_id: &str) -> Option<&'a str> {
    algorithm_ids.iter().map(String::as_str).find(|id| {
        client_order_id
            .strip_prefix(id)
            .is_some_and(|rest| rest.starts_with('-'))
    })
}

/// What must hold whatever the plugins returned:
///
/// * every open order on the exchange is a child of a working algorithm, on
///   its symbol and side;
/// * no algorithm's filled plus working child quantity exceeds its target;
/// * what the orchestrator says an algorithm filled is what the exchange
///   filled for its child orders.
///
/// # Panics
/// When one of those breaks.
pub fn check_invariants(orchestrator: &Orchestrator<PaperExchange>) {
    let algorithms = orchestrator.algorithms();
    let ids: Vec<String> = algorithms.iter().map(|a| a.id.clone()).collect();
    let exchange = orchestrator.exchange();
    let mut working: BTreeMap<&str, Decimal> = BTreeMap::new();
    for order in exchange
        .open_orders()
        .expect("the paper exchange always answers")
    {
        let id = order.request.client_order_id.as_str();
        let owner = owner(&ids, id).unwrap_or_else(|| panic!("open order {id} has no algorithm"));
        let algorithm = algorithms
            .iter()
            .find(|a| a.id == owner)
            .expect("owner exists");
        assert!(
            !algorithm.status.is_terminal(),
            "open order {id} belongs to {owner}, which is {} ({:?})",
            algorithm.status,
            algorithm.reason
        );
        assert_eq!(order.request.symbol, algorithm.symbol, "symbol of {id}");
        assert_eq!(order.request.side, algorithm.side, "side of {id}");
        let total = working.entry(owner).or_default();
        *total = total
            .checked_add(order.remaining_quantity())
            .unwrap_or_else(|| panic!("working quantity of {owner} overflows"));
    }
    let mut filled: BTreeMap<&str, Decimal> = BTreeMap::new();
    for fill in exchange.fills() {
        let id = fill.client_order_id.as_str();
        let owner = owner(&ids, id).unwrap_or_else(|| panic!("fill of {id} has no algorithm"));
        *filled.entry(owner).or_default() += fill.quantity;
    }
    for algorithm in &algorithms {
        let id = algorithm.id.as_str();
        let working = working.get(id).copied().unwrap_or_default();
        let exchange_filled = filled.get(id).copied().unwrap_or_default();
        assert_eq!(
            algorithm.filled, exchange_filled,
            "{id} reports {} filled, the exchange filled {exchange_filled}",
            algorithm.filled
        );
        let exposure = algorithm.filled.checked_add(working);
        assert!(
            exposure.is_some_and(|total| total <= algorithm.target),
            "{id}: filled {} + working {working} exceeds the target {}",
            algorithm.filled,
            algorithm.target
        );
    }
    assert_eq!(
        orchestrator.working_algorithms(),
        algorithms
            .iter()
            .filter(|a| !a.status.is_terminal())
            .count()
    );
}
