//! The orchestrator: turns signals into algorithms, routes market data and
//! exchange events to them, checks and sends their child orders, and keeps
//! the crash-safe state.
//!
//! Everything runs on the caller's thread, driven by the data clock (tick
//! timestamps), so a replay of the same data gives the same child orders and
//! fills every time.
//!
//! Life cycle of an algorithm (see [`AlgorithmStatus`]):
//! * it is `working` from `init` until its plugin returns `completed()`, or
//!   its target has filled with no child order open (it then completes
//!   whether the plugin said so or not);
//! * when the plugin completes, the actions of that same result are checked
//!   and sent like any other; if child orders are still open, the algorithm
//!   is `finishing`: the plugin gets no more events, the runtime books those
//!   orders' fills until each ends, and cancels what is still open when
//!   [`OrchestratorConfig::completion_grace_ms`] of data time have passed;
//! * it ends `completed` when the whole target filled, `partial` when it
//!   ended with less (the reason says how much and why), or `cancelled` /
//!   `failed`;
//! * after a restart, a plugin whose snapshot is `null` (it keeps no state)
//!   is started again from what is left: its open child orders are settled
//!   (cancelled, final fills booked) and `init` is called with the remaining
//!   quantity.
//!
//! Event protocol towards a plugin:
//! * every accepted `Place` is acknowledged with an `Accepted` order update
//!   carrying its client order id, in the order the actions were returned;
//! * a refused `Place` comes back as `Rejected` with the reason;
//! * a refused `Amend` or `Cancel` comes back as an update with the order's
//!   current status and the reason; a successful amend is silent, a
//!   successful cancel is reported as `Cancelled`;
//! * fills come as `on_fill`, followed by the order's new status
//!   (`PartiallyFilled`, `Filled`), and expiries as `Expired`;
//! * an action the venue's rate-limit window cannot take yet waits (see
//!   `waiting.rs`): a delayed amend or cancel comes back as an update with
//!   the order's current status and why; a delayed placement is heard when
//!   it is sent or dropped.

use std::collections::VecDeque;

// FxHash: the per-tick lookups (symbol → algorithms, symbol → tick) hash
// short keys the runtime itself chose; SipHash's DoS resistance buys nothing.
use rustc_hash::FxHashMap as HashMap;

use rust_decimal::Decimal;
use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent, ExecutionHint, Fill,
    Order, OrderRequest, OrderStatus, OrderUpdate, Portfolio, Quote, Side, Signal, Symbol, Tick,
};
use tesser_wasm::{
    PluginAlgorithmState, PluginBalance, PluginChildOrderAction, PluginInitContext,
    PluginInstrument, PluginLogLevel, PluginOrderRequest, PluginOrderUpdateRequest,
    PluginRestoreContext, PluginResult, PluginRiskContext, PluginSignal, PluginTick, PluginTimer,
};

use self::persist::SnapshotWanted;
use self::state::{Algorithm, Child};
use crate::algorithm::{GuestStream, PluginCallError};
use crate::convert::{
    fill_to_plugin, kind_to_plugin, order_type_from_plugin, side_from_plugin, side_to_plugin,
    tif_from_plugin, update_to_plugin,
};
use crate::risk::{AlgorithmExposure, Funds, ProposedAmend, ProposedOrder, RiskGuard};
use crate::store::{AlgorithmRow, ChildState, StateStore, StoreError};
use crate::wasm::EngineError;
use crate::{AlgorithmProvider, AlgorithmStatus, ExecutionAlgorithm, ImmediateAlgorithm, Sizer};

mod admission;
mod dispatch;
mod funds;
mod lifecycle;
mod market;
mod persist;
mod recovery;
mod results;
mod routing;
mod state;
mod waiting;

/// How long (clock ms) a closed child may stay reported filled beyond the
/// fills delivered for it before the orchestrator asks the exchange for its
/// fills ([`ExchangeClient::order_fills`]).
const AWAITED_FILLS_RECOVERY_MS: i64 = 5_000;

/// Settings of the orchestrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrchestratorConfig {
    /// Interval of timer heartbeats, in milliseconds of the data clock.
    pub timer_interval_ms: i64,
    /// Longest data time changes wait in memory before they are stored: the
    /// plugins' snapshots, fills, order updates. Before any child action
    /// goes to the exchange it is stored at once, with the plugin's snapshot
    /// and everything else pending; so is an algorithm's end.
    pub snapshot_interval_ms: i64,
    /// Most callbacks one event may cascade into for one algorithm (an
    /// acknowledgement triggering a new order triggering an acknowledgement…)
    /// before the algorithm is failed as runaway.
    pub max_callback_cascade: u32,
    /// Most child actions one callback may return.
    pub max_actions_per_result: usize,
    /// Most log lines one callback may return.
    pub max_log_lines: usize,
    /// Most bytes of log text one callback may return.
    pub max_log_bytes: usize,
    /// Largest snapshot a plugin may return, in bytes.
    pub max_snapshot_bytes: usize,
    /// Child actions of one algorithm the risk guard may refuse before the
    /// algorithm is failed as misbehaving.
    pub max_risk_rejections: u32,
    /// Cash the portfolio starts with, in its quote asset.
    pub initial_cash: Decimal,
    /// The portfolio's quote asset.
    pub quote_asset: String,
    /// How long, in milliseconds of the data clock, an algorithm whose plugin
    /// completed with child orders open keeps booking their fills before the
    /// rest is cancelled; 0 cancels them at once.
    pub completion_grace_ms: i64,
}

impl Default for OrchestratorConfig {
    fn default() -> Self {
        Self {
            timer_interval_ms: 1_000,
            snapshot_interval_ms: 5_000,
            max_callback_cascade: 256,
            max_actions_per_result: 1_000,
            max_log_lines: 100,
            max_log_bytes: 64 << 10,
            max_snapshot_bytes: 1 << 20,
            max_risk_rejections: 100,
            initial_cash: Decimal::from(1_000_000),
            quote_asset: "USD".to_owned(),
            completion_grace_ms: 60_000,
        }
    }
}

/// Why the orchestrator could not do what was asked. Plugin failures are not
/// errors here: they fail the plugin's algorithm and the orchestrator goes on.
#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    /// The state store failed; the runtime cannot go on safely.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The signal names a plugin that cannot be loaded.
    #[error("signal {signal}: {source}")]
    Plugin {
        /// The signal's id.
        signal: String,
        /// Why the plugin could not be loaded.
        #[source]
        source: EngineError,
    },
    /// The exchange could not be asked about an order during recovery.
    #[error("reconciling order {client_order_id} with the exchange: {source}")]
    Reconcile {
        /// The order.
        client_order_id: ClientOrderId,
        /// The exchange's error.
        #[source]
        source: ExchangeError,
    },
    /// The venue could not be asked for the account's balances at start.
    #[error("asking the venue for the account's balances: {0}")]
    Account(#[source] ExchangeError),
    /// No algorithm has this id.
    #[error("no algorithm '{0}'")]
    UnknownAlgorithm(String),
    /// A stored value could not be used.
    #[error("stored algorithm {id}: {detail}")]
    CorruptState {
        /// The algorithm.
        id: String,
        /// What is wrong.
        detail: String,
    },
}

/// One algorithm as reported to the operator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlgorithmSummary {
    /// Algorithm id.
    pub id: String,
    /// Plugin name.
    pub plugin: String,
    /// Symbol.
    pub symbol: Symbol,
    /// Side.
    pub side: Side,
    /// Target quantity.
    pub target: Decimal,
    /// Filled quantity.
    pub filled: Decimal,
    /// Target less filled: what is still to do while it is live, what was
    /// never filled once it ended.
    pub unfilled: Decimal,
    /// Average fill price, once anything filled.
    pub avg_price: Option<Decimal>,
    /// Number of child orders it sent (or tried to send).
    pub child_orders: usize,
    /// Times the host entered its plugin's guest code in this process
    /// ([`ExecutionAlgorithm::guest_entries`]); none for an algorithm
    /// compiled into the host.
    pub guest_entries: u64,
    /// Child orders still open at the exchange.
    pub open_orders: usize,
    /// Status.
    pub status: AlgorithmStatus,
    /// Why it ended short of its target (or why it is finishing): the plugin
    /// completed short, the grace ran out with orders open, it was cancelled,
    /// or it failed.
    pub reason: Option<String>,
    /// Data time at which it ended (or last changed, while live).
    pub updated_ms: i64,
}

/// A callback to make.
#[derive(Debug, Clone)]
enum Call {
    Init(Box<PluginInitContext>),
    Tick,
    Fill(Fill),
    /// The venue's word on a child order: booked, then delivered.
    Update(OrderUpdate),
    /// The runtime's own word on one of the plugin's actions (a refusal, a
    /// delay): delivered as an order update, never booked. Its id may name
    /// a live order (a placement refused for reusing a suffix), so whatever
    /// it changed the runtime has already written into the books.
    Notice(OrderUpdate),
    Timer(i64),
}

/// A child action that passed the risk guard and goes to the exchange once
/// committed.
#[derive(Debug)]
enum Outgoing {
    Place(OrderRequest),
    Amend(AmendRequest),
    Cancel(ClientOrderId),
}

/// Runs execution algorithms against one exchange.
pub struct Orchestrator<E: ExchangeClient> {
    provider: Box<dyn AlgorithmProvider>,
    exchange: E,
    store: StateStore,
    risk: RiskGuard,
    sizer: Box<dyn Sizer>,
    config: OrchestratorConfig,
    portfolio: Portfolio,
    algorithms: Vec<Algorithm>,
    by_id: HashMap<String, usize>,
    /// Working algorithms by symbol: who sees the ticks.
    by_symbol: HashMap<Symbol, Vec<usize>>,
    /// Indices of the algorithms not yet ended (working or finishing),
    /// ascending: the clock visits only these, however many algorithms have
    /// ended before.
    working: Vec<usize>,
    by_child: HashMap<ClientOrderId, usize>,
    /// Algorithm index by the id of the signal that started it, so a signal
    /// submitted again (a restart re-reading its data) is not executed twice.
    by_signal: HashMap<String, usize>,
    next_algorithm_seq: u64,
    now_ms: i64,
    events: Vec<ExchangeEvent>,
    ticks: HashMap<Symbol, PluginTick>,
    /// The last quote of each symbol (see `market.rs`).
    quotes: HashMap<Symbol, Quote>,
    queue: VecDeque<Call>,
    /// Algorithms with changes not stored yet (see `persist.rs`).
    unstored: Vec<usize>,
    /// Data time of the last store transaction of batched changes (`None`
    /// before the first data time).
    last_store_ms: Option<i64>,
    /// Actions the venue's rate-limit window could not take yet.
    waiting: waiting::WaitingActions,
}

impl<E: ExchangeClient> std::fmt::Debug for Orchestrator<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orchestrator")
            .field("exchange", &self.exchange.name())
            .field("store", &self.store)
            .field("algorithms", &self.algorithms.len())
            .field("now_ms", &self.now_ms)
            .finish_non_exhaustive()
    }
}

/// What an [`Orchestrator`] is built from.
pub struct OrchestratorParts<E> {
    /// Creates algorithms by plugin name (usually the
    /// [`WasmPluginEngine`](crate::wasm::WasmPluginEngine)).
    pub provider: Box<dyn AlgorithmProvider>,
    /// The venue.
    pub exchange: E,
    /// The state store; an existing one is recovered from.
    pub store: StateStore,
    /// The risk guard.
    pub risk: RiskGuard,
    /// Decides target quantities.
    pub sizer: Box<dyn Sizer>,
    /// Settings.
    pub config: OrchestratorConfig,
}

impl<E: ExchangeClient> Orchestrator<E> {
    /// Builds the orchestrator and recovers whatever the store holds: the
    /// portfolio is rebuilt from the fill journal, every working algorithm is
    /// re-instantiated from its plugin name and restored from its last
    /// snapshot, and every child order is reconciled with the exchange by
    /// client order id (fills the plugin missed are delivered, orders that
    /// never reached the exchange are sent, cancels of ended algorithms are
    /// completed).
    ///
    /// # Errors
    /// The store failed or holds corrupt data, or the exchange could not be
    /// asked about an order.
    pub fn open(parts: OrchestratorParts<E>) -> Result<Self, OrchestratorError> {
        let OrchestratorParts {
            provider,
            exchange,
            store,
            risk,
            sizer,
            config,
        } = parts;
        let portfolio = Portfolio::new(&config.quote_asset, config.initial_cash);
        let next_algorithm_seq = store.next_algorithm_seq()?;
        let mut this = Self {
            provider,
            exchange,
            store,
            risk,
            sizer,
            config,
            portfolio,
            algorithms: Vec::new(),
            by_id: HashMap::default(),
            by_symbol: HashMap::default(),
            working: Vec::new(),
            by_child: HashMap::default(),
            by_signal: HashMap::default(),
            next_algorithm_seq,
            now_ms: 0,
            events: Vec::new(),
            ticks: HashMap::default(),
            quotes: HashMap::default(),
            queue: VecDeque::new(),
            unstored: Vec::new(),
            last_store_ms: None,
            waiting: waiting::WaitingActions::default(),
        };
        this.recover()?;
        this.refresh_account()?;
        this.store_pending()?;
        Ok(this)
    }

    /// The exchange.
    #[must_use]
    pub const fn exchange(&self) -> &E {
        &self.exchange
    }

    /// The exchange, mutably (e.g. to save a simulated venue's state).
    pub const fn exchange_mut(&mut self) -> &mut E {
        &mut self.exchange
    }

    /// The state store. Changes reach it in batches: call [`Self::flush`]
    /// first to read everything.
    #[must_use]
    pub const fn store(&self) -> &StateStore {
        &self.store
    }

    /// The state store, mutably (e.g. to save extra state next to it).
    pub const fn store_mut(&mut self) -> &mut StateStore {
        &mut self.store
    }

    /// Positions and cash.
    #[must_use]
    pub const fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }

    /// The data clock: the latest tick or clock time seen.
    #[must_use]
    pub const fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// Takes the orchestrator apart, returning the exchange and the store,
    /// after storing what is pending (a store failure then is logged; call
    /// [`Self::flush`] first to handle it).
    pub fn into_parts(mut self) -> (E, StateStore) {
        if let Err(error) = self.store_pending() {
            tracing::error!("storing the last changes before stopping: {error}");
        }
        (self.exchange, self.store)
    }

    /// Every algorithm, in creation order.
    #[must_use]
    pub fn algorithms(&self) -> Vec<AlgorithmSummary> {
        self.algorithms.iter().map(Algorithm::summary).collect()
    }

    /// One algorithm.
    #[must_use]
    pub fn algorithm(&self, id: &str) -> Option<AlgorithmSummary> {
        self.by_id
            .get(id)
            .map(|&idx| self.algorithms[idx].summary())
    }

    /// An algorithm's status, without building its [`AlgorithmSummary`]: a
    /// loop that watches one algorithm tick by tick allocates nothing.
    #[must_use]
    pub fn algorithm_status(&self, id: &str) -> Option<AlgorithmStatus> {
        self.by_id
            .get(id)
            .map(|&idx| self.algorithms[idx].row().status)
    }

    /// Number of algorithms in the store, ended or not.
    #[must_use]
    pub fn algorithm_count(&self) -> usize {
        self.algorithms.len()
    }

    /// Number of algorithms not yet ended: `working`, or `finishing` with
    /// child orders open.
    #[must_use]
    pub fn working_algorithms(&self) -> usize {
        self.working.len()
    }

    /// The last stored snapshot of an algorithm's plugin ([`Self::flush`]
    /// stores a newer one if its state may have changed since).
    #[must_use]
    pub fn last_snapshot(&self, id: &str) -> Option<&str> {
        self.by_id
            .get(id)
            .and_then(|&idx| self.algorithms[idx].row().snapshot.as_deref())
    }

    /// Starts executing a signal and returns the new algorithm's id, or
    /// `None` when the signal needs no trade (e.g. exiting a flat position).
    ///
    /// A `Flatten` signal first cancels every working algorithm on its
    /// symbol. The target quantity comes from the [`Sizer`]; the algorithm
    /// is the signal's plugin, or a single market order without a hint.
    /// A plugin that fails in `init` leaves a `Failed` algorithm, not an
    /// error. Submitting is idempotent: a signal whose id already started an
    /// algorithm (before a restart, say) returns that algorithm's id and
    /// starts nothing.
    ///
    /// # Errors
    /// The plugin cannot be loaded (nothing is stored), or the store failed.
    pub fn submit_signal(&mut self, signal: &Signal) -> Result<Option<String>, OrchestratorError> {
        if let Some(&idx) = self.by_signal.get(&signal.id.to_string()) {
            let id = self.algorithms[idx].row().id.clone();
            tracing::info!(signal = %signal.id, algorithm = %id, "signal already executing or executed; not started again");
            return Ok(Some(id));
        }
        if signal.kind == tesser_core::SignalKind::Flatten {
            // Finishing algorithms too: their open orders would still trade.
            let working: Vec<usize> = self
                .working
                .iter()
                .copied()
                .filter(|&idx| self.algorithms[idx].row().symbol == signal.symbol)
                .collect();
            for idx in working {
                self.end_algorithm(
                    idx,
                    AlgorithmStatus::Cancelled,
                    Some(format!("cancelled by flatten signal {}", signal.id)),
                )?;
            }
        }
        let position = self.portfolio.position(&signal.symbol);
        let target = self.sizer.target_quantity(signal, position);
        let Some(side) = signal
            .kind
            .side(position)
            .filter(|_| target > Decimal::ZERO)
        else {
            tracing::info!(signal = %signal.id, symbol = %signal.symbol, kind = ?signal.kind, %position, "signal needs no trade");
            return Ok(None);
        };
        let (plugin, params) = match &signal.execution_hint {
            Some(ExecutionHint::Plugin { name, params }) => (name.clone(), params.clone()),
            Some(ExecutionHint::Immediate) | None => {
                (ImmediateAlgorithm::NAME.to_owned(), serde_json::Value::Null)
            }
        };
        let instance =
            self.provider
                .create(&plugin)
                .map_err(|source| OrchestratorError::Plugin {
                    signal: signal.id.to_string(),
                    source,
                })?;
        let seq = self.next_algorithm_seq;
        self.next_algorithm_seq += 1;
        let id = format!("algo-{seq}");
        let ctx = PluginInitContext {
            algorithm_id: id.clone(),
            signal: PluginSignal {
                id: signal.id.to_string(),
                symbol: signal.symbol.to_string(),
                side: side_to_plugin(side),
                kind: kind_to_plugin(signal.kind),
                target_quantity: target,
                confidence: signal.confidence,
                note: signal.note.clone(),
                group_id: signal.group_id.clone(),
                stop_loss: signal.stop_loss,
                take_profit: signal.take_profit,
            },
            risk: self.risk_context(&signal.symbol),
            params,
            now_ms: self.now_ms,
        };
        let row = AlgorithmRow {
            id: id.clone(),
            seq,
            plugin,
            symbol: signal.symbol.clone(),
            side,
            target,
            status: AlgorithmStatus::Working,
            reason: None,
            signal_json: serde_json::to_string(signal).unwrap_or_default(),
            init_context_json: serde_json::to_string(&ctx).unwrap_or_default(),
            snapshot: None,
            next_child_seq: 1,
            created_ms: self.now_ms,
            updated_ms: self.now_ms,
            finish_by_ms: None,
        };
        let tx = self.store.begin()?;
        tx.insert_algorithm(&row)?;
        tx.commit()?;
        tracing::info!(algorithm = %id, plugin = %row.plugin, symbol = %row.symbol, side = %side, %target, "algorithm started");
        let idx = self.add_algorithm(row, Some(instance));
        self.deliver(idx, Call::Init(Box::new(ctx)))?;
        self.store_if_due()?;
        Ok(Some(id))
    }

    /// Cancels a working algorithm: its open child orders are cancelled and
    /// it stops receiving events.
    ///
    /// # Errors
    /// No such algorithm, or the store failed.
    pub fn cancel_algorithm(&mut self, id: &str, reason: &str) -> Result<(), OrchestratorError> {
        let idx = *self
            .by_id
            .get(id)
            .ok_or_else(|| OrchestratorError::UnknownAlgorithm(id.to_owned()))?;
        self.end_algorithm(idx, AlgorithmStatus::Cancelled, Some(reason.to_owned()))?;
        self.store_if_due()
    }

    /// Routes what the exchange reported since the last call (fills, order
    /// updates), then moves the clock to `now_ms` (timers, completion
    /// graces). A live venue reports executions between trade prints: call
    /// this whenever it may have something, not only on ticks.
    ///
    /// # Errors
    /// The store failed.
    pub fn poll_exchange(&mut self, now_ms: i64) -> Result<(), OrchestratorError> {
        self.process_exchange_events()?;
        self.advance_clock(now_ms)
    }

    /// Moves the data clock to `now_ms` and fires due timer heartbeats.
    ///
    /// # Errors
    /// The store failed.
    pub fn advance_clock(&mut self, now_ms: i64) -> Result<(), OrchestratorError> {
        self.now_ms = self.now_ms.max(now_ms);
        self.send_waiting()?;
        let now = self.now_ms;
        let mut i = 0;
        // The list shrinks when an algorithm ends during its heartbeat.
        while let Some(&idx) = self.working.get(i) {
            self.recover_awaited_fills(idx)?;
            let algo = &mut self.algorithms[idx];
            match algo.row().status {
                AlgorithmStatus::Working if algo.next_timer_ms <= now => {
                    algo.next_timer_ms = now + self.config.timer_interval_ms.max(1);
                    self.deliver(idx, Call::Timer(now))?;
                }
                AlgorithmStatus::Finishing if algo.row().finish_by_ms.is_some_and(|t| t <= now) => {
                    self.grace_ended(idx)?;
                }
                _ => {}
            }
            if !self.algorithms[idx].row().status.is_terminal() {
                i += 1;
            }
        }
        self.store_if_due()
    }

    fn risk_context(&self, symbol: &Symbol) -> PluginRiskContext {
        let instrument = self.risk.instrument(symbol);
        let position = self.portfolio.position(symbol);
        let balances = self.plugin_balances(symbol);
        PluginRiskContext {
            last_price: self.portfolio.last_price(symbol).unwrap_or_default(),
            equity: self.portfolio.equity(),
            position,
            balances,
            instrument: instrument.map_or_else(PluginInstrument::default, |i| PluginInstrument {
                tick_size: i.tick_size,
                lot_size: i.lot_size,
                min_quantity: i.min_quantity,
                min_notional: i.min_notional,
            }),
            max_order_quantity: self.risk.limits().max_order_quantity,
        }
    }

    fn add_algorithm(
        &mut self,
        row: AlgorithmRow,
        instance: Option<Box<dyn ExecutionAlgorithm>>,
    ) -> usize {
        let idx = self.algorithms.len();
        self.by_id.insert(row.id.clone(), idx);
        if let Ok(signal) = serde_json::from_str::<Signal>(&row.signal_json) {
            self.by_signal.insert(signal.id.to_string(), idx);
        }
        if row.status == AlgorithmStatus::Working {
            self.by_symbol
                .entry(row.symbol.clone())
                .or_default()
                .push(idx);
        }
        if !row.status.is_terminal() {
            self.working.push(idx);
        }
        let next_timer_ms = row.updated_ms.max(self.now_ms) + self.config.timer_interval_ms.max(1);
        self.algorithms
            .push(Algorithm::new(row, instance, next_timer_ms));
        idx
    }
}
