//! The orchestrator: turns signals into algorithms, routes market data and
//! exchange events to them, checks and sends their child orders, and keeps
//! the crash-safe state.
//!
//! Everything runs on the caller's thread, driven by the data clock (tick
//! timestamps), so a replay of the same data gives the same child orders and
//! fills every time.
//!
//! Event protocol towards a plugin:
//! * every accepted `Place` is acknowledged with an `Accepted` order update
//!   carrying its client order id, in the order the actions were returned;
//! * a refused `Place` comes back as `Rejected` with the reason;
//! * a refused `Amend` or `Cancel` comes back as an update with the order's
//!   current status and the reason; a successful amend is silent, a
//!   successful cancel is reported as `Cancelled`;
//! * fills come as `on_fill`, followed by the order's new status
//!   (`PartiallyFilled`, `Filled`), and expiries as `Expired`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

// FxHash: the per-tick lookups (symbol → algorithms, symbol → tick) hash
// short keys the runtime itself chose; SipHash's DoS resistance buys nothing.
use rustc_hash::FxHashMap as HashMap;

use rust_decimal::Decimal;
use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent, ExecutionHint, Fill,
    OrderRequest, OrderStatus, OrderUpdate, Portfolio, Side, Signal, Symbol, Tick,
};
use tesser_wasm::{
    PluginAlgorithmState, PluginBalance, PluginChildOrderAction, PluginInitContext,
    PluginInstrument, PluginLogLevel, PluginOrderRequest, PluginOrderUpdateRequest,
    PluginRestoreContext, PluginResult, PluginRiskContext, PluginSignal, PluginTick, PluginTimer,
};

use crate::convert::{
    fill_to_plugin, kind_to_plugin, order_type_from_plugin, side_from_plugin, side_to_plugin,
    tif_from_plugin, update_to_plugin,
};
use crate::risk::{ActionRate, AlgorithmExposure, ProposedAmend, ProposedOrder, RiskGuard};
use crate::store::{
    AlgorithmRow, ChildOrderRow, ChildState, StateStore, StoreError, child_order_id,
};
use crate::wasm::{EngineError, GuestStream, PluginCallError};
use crate::{AlgorithmProvider, AlgorithmStatus, ExecutionAlgorithm, ImmediateAlgorithm, Sizer};

/// Settings of the orchestrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrchestratorConfig {
    /// Interval of timer heartbeats, in milliseconds of the data clock.
    pub timer_interval_ms: i64,
    /// Longest time a plugin's state may go unsnapshotted while it only sees
    /// ticks and timers (callbacks with actions, fills or order updates are
    /// always snapshotted).
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
    /// Average fill price, once anything filled.
    pub avg_price: Option<Decimal>,
    /// Number of child orders it sent (or tried to send).
    pub child_orders: usize,
    /// Status.
    pub status: AlgorithmStatus,
    /// Why it ended, when it failed or was cancelled.
    pub reason: Option<String>,
}

/// A child order as the orchestrator tracks it.
#[derive(Debug, Clone)]
struct Child {
    row: ChildOrderRow,
    /// Quantity the exchange has filled (may run ahead of what the plugin
    /// has been told).
    exchange_filled: Decimal,
    /// Whether the exchange may still fill it.
    open: bool,
}

impl Child {
    /// The quantity the risk guard counts for this order: the larger of the
    /// quantity the exchange has and a pending amend's, so that actions
    /// checked before the amend is acknowledged cannot overfill together.
    fn counted_quantity(&self) -> Decimal {
        self.row
            .pending_amend
            .as_ref()
            .and_then(|amend| amend.new_quantity)
            .map_or(self.row.request.quantity, |pending| {
                pending.max(self.row.request.quantity)
            })
    }

    /// What is still open at the exchange.
    fn working(&self) -> Decimal {
        self.open_beyond_filled(self.row.request.quantity)
    }

    /// What the risk guard counts as working: [`Self::working`] with any
    /// pending amend's raise included.
    fn counted_working(&self) -> Decimal {
        self.open_beyond_filled(self.counted_quantity())
    }

    fn open_beyond_filled(&self, quantity: Decimal) -> Decimal {
        if self.open {
            (quantity - self.exchange_filled).max(Decimal::ZERO)
        } else {
            Decimal::ZERO
        }
    }
}

/// One algorithm at run time.
struct Algorithm {
    row: AlgorithmRow,
    instance: Option<Box<dyn ExecutionAlgorithm>>,
    children: BTreeMap<ClientOrderId, Child>,
    open_children: BTreeSet<ClientOrderId>,
    filled: Decimal,
    notional: Decimal,
    rate: ActionRate,
    next_timer_ms: i64,
    last_snapshot_ms: i64,
    unsnapshotted: bool,
    risk_rejections: u32,
}

impl Algorithm {
    fn exposure(&self) -> (Decimal, Decimal) {
        let working = self
            .open_children
            .iter()
            .filter_map(|id| self.children.get(id))
            .map(Child::counted_working)
            .sum();
        (self.filled, working)
    }

    fn summary(&self) -> AlgorithmSummary {
        AlgorithmSummary {
            id: self.row.id.clone(),
            plugin: self.row.plugin.clone(),
            symbol: self.row.symbol.clone(),
            side: self.row.side,
            target: self.row.target,
            filled: self.filled,
            avg_price: (!self.filled.is_zero()).then(|| self.notional / self.filled),
            child_orders: self.children.len(),
            status: self.row.status,
            reason: self.row.reason.clone(),
        }
    }
}

/// A callback to make.
#[derive(Debug, Clone)]
enum Call {
    Init(Box<PluginInitContext>),
    Tick,
    Fill(Fill),
    Update(OrderUpdate),
    Timer(i64),
}

/// A child action that passed the risk guard and goes to the exchange once
/// committed.
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
    by_symbol: HashMap<Symbol, Vec<usize>>,
    /// Indices of the working algorithms, ascending: the clock visits only
    /// these, however many algorithms have ended before.
    working: Vec<usize>,
    by_child: HashMap<ClientOrderId, usize>,
    /// Algorithm index by the id of the signal that started it, so a signal
    /// submitted again (a restart re-reading its data) is not executed twice.
    by_signal: HashMap<String, usize>,
    next_algorithm_seq: u64,
    now_ms: i64,
    events: Vec<ExchangeEvent>,
    ticks: HashMap<Symbol, PluginTick>,
    queue: VecDeque<Call>,
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
            queue: VecDeque::new(),
        };
        this.recover()?;
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

    /// The state store.
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

    /// Takes the orchestrator apart, returning the exchange and the store.
    pub fn into_parts(self) -> (E, StateStore) {
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

    /// Number of algorithms still working.
    #[must_use]
    pub fn working_algorithms(&self) -> usize {
        self.working.len()
    }

    /// The last snapshot an algorithm's plugin returned.
    #[must_use]
    pub fn last_snapshot(&self, id: &str) -> Option<&str> {
        self.by_id
            .get(id)
            .and_then(|&idx| self.algorithms[idx].row.snapshot.as_deref())
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
            let id = self.algorithms[idx].row.id.clone();
            tracing::info!(signal = %signal.id, algorithm = %id, "signal already executing or executed; not started again");
            return Ok(Some(id));
        }
        if signal.kind == tesser_core::SignalKind::Flatten {
            let working: Vec<usize> = self
                .by_symbol
                .get(&signal.symbol)
                .cloned()
                .unwrap_or_default();
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
        };
        let tx = self.store.begin()?;
        tx.insert_algorithm(&row)?;
        tx.commit()?;
        tracing::info!(algorithm = %id, plugin = %row.plugin, symbol = %row.symbol, side = %side, %target, "algorithm started");
        let idx = self.add_algorithm(row, Some(instance));
        self.deliver(idx, Call::Init(Box::new(ctx)))?;
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
        self.end_algorithm(idx, AlgorithmStatus::Cancelled, Some(reason.to_owned()))
    }

    /// Feeds one trade print: the exchange matches against it, fills and
    /// order changes go to their algorithms, then every working algorithm on
    /// the symbol sees the tick, then due timers fire.
    ///
    /// # Errors
    /// The store failed.
    pub fn on_tick(&mut self, tick: &Tick) -> Result<(), OrchestratorError> {
        self.now_ms = self.now_ms.max(tick.timestamp_ms);
        self.portfolio.mark_price(&tick.symbol, tick.price);
        self.exchange.on_market_tick(tick);
        self.process_exchange_events()?;
        if let Some(plugin_tick) = self.ticks.get_mut(&tick.symbol) {
            plugin_tick.price = tick.price;
            plugin_tick.size = tick.size;
            plugin_tick.aggressor = tick.aggressor.map(side_to_plugin);
            plugin_tick.timestamp_ms = tick.timestamp_ms;
        } else {
            self.ticks.insert(
                tick.symbol.clone(),
                PluginTick {
                    symbol: tick.symbol.to_string(),
                    price: tick.price,
                    size: tick.size,
                    aggressor: tick.aggressor.map(side_to_plugin),
                    timestamp_ms: tick.timestamp_ms,
                },
            );
        }
        let mut i = 0;
        // The list shrinks when an algorithm ends during its callback.
        while let Some(&idx) = self.by_symbol.get(&tick.symbol).and_then(|l| l.get(i)) {
            self.deliver(idx, Call::Tick)?;
            if self.algorithms[idx].row.status == AlgorithmStatus::Working {
                i += 1;
            }
        }
        self.advance_clock(tick.timestamp_ms)
    }

    /// Moves the data clock to `now_ms` and fires due timer heartbeats.
    ///
    /// # Errors
    /// The store failed.
    pub fn advance_clock(&mut self, now_ms: i64) -> Result<(), OrchestratorError> {
        self.now_ms = self.now_ms.max(now_ms);
        let now = self.now_ms;
        let mut i = 0;
        // The list shrinks when an algorithm ends during its heartbeat.
        while let Some(&idx) = self.working.get(i) {
            let algo = &mut self.algorithms[idx];
            if algo.next_timer_ms <= now {
                algo.next_timer_ms = now + self.config.timer_interval_ms.max(1);
                self.deliver(idx, Call::Timer(now))?;
            }
            if self.algorithms[idx].row.status == AlgorithmStatus::Working {
                i += 1;
            }
        }
        Ok(())
    }

    fn risk_context(&self, symbol: &Symbol) -> PluginRiskContext {
        let instrument = self.risk.instrument(symbol);
        let position = self.portfolio.position(symbol);
        let mut balances = vec![PluginBalance {
            asset: self.portfolio.quote_asset().to_owned(),
            available: self.portfolio.cash(),
        }];
        balances.push(PluginBalance {
            asset: instrument.map_or_else(|| symbol.to_string(), |i| i.base_asset.clone()),
            available: position,
        });
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
            self.working.push(idx);
        }
        let next_timer_ms = row.updated_ms.max(self.now_ms) + self.config.timer_interval_ms.max(1);
        let last_snapshot_ms = row.updated_ms;
        self.algorithms.push(Algorithm {
            row,
            instance,
            children: BTreeMap::new(),
            open_children: BTreeSet::new(),
            filled: Decimal::ZERO,
            notional: Decimal::ZERO,
            rate: ActionRate::default(),
            next_timer_ms,
            last_snapshot_ms,
            unsnapshotted: false,
            risk_rejections: 0,
        });
        idx
    }

    /// Runs one callback and everything it cascades into (acknowledgements,
    /// rejections…) for one algorithm.
    fn deliver(&mut self, idx: usize, first: Call) -> Result<(), OrchestratorError> {
        // Reuse the queue's buffer: no allocation per tick.
        let mut queue = std::mem::take(&mut self.queue);
        queue.clear();
        queue.push_back(first);
        let outcome = self.drain_queue(idx, &mut queue);
        self.queue = queue;
        outcome
    }

    fn drain_queue(
        &mut self,
        idx: usize,
        queue: &mut VecDeque<Call>,
    ) -> Result<(), OrchestratorError> {
        let mut rounds = 0_u32;
        while let Some(call) = queue.pop_front() {
            if self.algorithms[idx].row.status != AlgorithmStatus::Working {
                // An ended algorithm still books its fills and order states.
                self.record_without_plugin(idx, &call)?;
                continue;
            }
            rounds += 1;
            if rounds > self.config.max_callback_cascade {
                let reason = format!(
                    "runaway plugin: one event cascaded into more than {} callbacks (max_callback_cascade)",
                    self.config.max_callback_cascade
                );
                self.record_without_plugin(idx, &call)?;
                self.end_algorithm(idx, AlgorithmStatus::Failed, Some(reason))?;
                continue;
            }
            let outcome = self.call_plugin(idx, &call);
            match outcome {
                Ok(result) => self.apply_result(idx, &call, result, queue)?,
                Err(error) => {
                    self.record_without_plugin(idx, &call)?;
                    self.end_algorithm(idx, AlgorithmStatus::Failed, Some(error.to_string()))?;
                }
            }
        }
        Ok(())
    }

    fn call_plugin(&mut self, idx: usize, call: &Call) -> Result<PluginResult, PluginCallError> {
        let algo = &mut self.algorithms[idx];
        let Some(instance) = algo.instance.as_mut() else {
            return Err(PluginCallError {
                plugin: algo.row.plugin.clone(),
                callback: crate::wasm::PluginCallback::Init,
                kind: crate::wasm::PluginCallErrorKind::Unusable("no instance".into()),
            });
        };
        let result = match call {
            Call::Init(ctx) => instance.init(ctx),
            Call::Tick => match self.ticks.get(&algo.row.symbol) {
                Some(tick) => instance.on_tick(tick),
                None => Ok(PluginResult::new()),
            },
            Call::Fill(fill) => instance.on_fill(&fill_to_plugin(fill)),
            Call::Update(update) => instance.on_order_update(&update_to_plugin(update)),
            Call::Timer(now_ms) => instance.on_timer(PluginTimer { now_ms: *now_ms }),
        };
        for line in instance.take_output() {
            let stream = match line.stream {
                GuestStream::Stdout => "stdout",
                GuestStream::Stderr => "stderr",
            };
            tracing::info!(target: "plugin", plugin = %algo.row.plugin, algorithm = %algo.row.id, stream, "{}", line.line);
        }
        result
    }

    /// Books a fill or an order change into the runtime's state when the
    /// plugin does not see it (its algorithm ended or failed on it).
    fn record_without_plugin(&mut self, idx: usize, call: &Call) -> Result<(), OrchestratorError> {
        match call {
            Call::Fill(fill) => {
                let tx = self.store.begin()?;
                tx.insert_fill(&self.algorithms[idx].row.id, fill)?;
                tx.commit()?;
            }
            Call::Update(update) => {
                let algo = &mut self.algorithms[idx];
                if let Some(child) = algo.children.get_mut(&update.client_order_id) {
                    child.row.state = ChildState::Known(update.status);
                    child.row.filled = update.filled_quantity;
                    child.row.updated_ms = update.timestamp_ms;
                    let tx = self.store.begin()?;
                    tx.upsert_child(&child.row)?;
                    tx.commit()?;
                }
            }
            Call::Init(_) | Call::Tick | Call::Timer(_) => {}
        }
        Ok(())
    }

    fn log_plugin(&self, idx: usize, result: &PluginResult) {
        let algo = &self.algorithms[idx];
        for log in &result.logs {
            let (plugin, algorithm, message) = (&algo.row.plugin, &algo.row.id, &log.message);
            match log.level {
                PluginLogLevel::Trace => {
                    tracing::trace!(target: "plugin", plugin = %plugin, algorithm = %algorithm, "{message}")
                }
                PluginLogLevel::Debug => {
                    tracing::debug!(target: "plugin", plugin = %plugin, algorithm = %algorithm, "{message}")
                }
                PluginLogLevel::Info => {
                    tracing::info!(target: "plugin", plugin = %plugin, algorithm = %algorithm, "{message}")
                }
                PluginLogLevel::Warn => {
                    tracing::warn!(target: "plugin", plugin = %plugin, algorithm = %algorithm, "{message}")
                }
                PluginLogLevel::Error => {
                    tracing::error!(target: "plugin", plugin = %plugin, algorithm = %algorithm, "{message}")
                }
            }
        }
    }

    /// Checks a callback's actions, commits them with the plugin's snapshot,
    /// then sends them and queues the plugin's acknowledgements.
    #[allow(clippy::too_many_lines)] // one transaction's worth of steps, kept in order on purpose
    fn apply_result(
        &mut self,
        idx: usize,
        call: &Call,
        result: PluginResult,
        queue: &mut VecDeque<Call>,
    ) -> Result<(), OrchestratorError> {
        if let Some(reason) = self.oversized(&result) {
            self.record_without_plugin(idx, call)?;
            return self.end_algorithm(idx, AlgorithmStatus::Failed, Some(reason));
        }
        if !result.logs.is_empty() {
            self.log_plugin(idx, &result);
        }
        let completed = result.state == PluginAlgorithmState::Completed;
        let now = self.now_ms;
        let mut touched: Vec<ClientOrderId> = Vec::new();
        // What the plugin now knows about the event it just handled.
        if let Call::Update(update) = call {
            let algo = &mut self.algorithms[idx];
            if let Some(child) = algo.children.get_mut(&update.client_order_id) {
                child.row.state = ChildState::Known(update.status);
                child.row.filled = update.filled_quantity;
                child.row.updated_ms = update.timestamp_ms;
                touched.push(update.client_order_id.clone());
            }
        }
        let mut outgoing: Vec<Outgoing> = Vec::new();
        let mut refusals: Vec<OrderUpdate> = Vec::new();
        for action in result.orders {
            match action {
                PluginChildOrderAction::Place(request) => {
                    if completed {
                        self.warn_action(
                            idx,
                            "place ignored: the same result completed the algorithm",
                        );
                        continue;
                    }
                    match self.check_place(idx, request, now) {
                        Ok(order) => {
                            touched.push(order.client_order_id.clone());
                            outgoing.push(Outgoing::Place(order));
                        }
                        Err(refusal) => refusals.push(*refusal),
                    }
                }
                PluginChildOrderAction::Amend(amend) => {
                    if completed {
                        self.warn_action(
                            idx,
                            "amend ignored: the same result completed the algorithm",
                        );
                        continue;
                    }
                    match self.check_amend(idx, &amend, now) {
                        Ok(amend) => {
                            touched.push(amend.client_order_id.clone());
                            outgoing.push(Outgoing::Amend(amend));
                        }
                        Err(refusal) => refusals.push(*refusal),
                    }
                }
                PluginChildOrderAction::Cancel(cancel) => {
                    match self.check_cancel(idx, &cancel.client_order_id, now) {
                        Ok(id) => {
                            touched.push(id.clone());
                            outgoing.push(Outgoing::Cancel(id));
                        }
                        Err(refusal) => refusals.push(*refusal),
                    }
                }
            }
        }

        // Snapshot policy: always after actions, fills, order updates, init
        // and completion; after ticks and timers at most every interval.
        let algo = &mut self.algorithms[idx];
        let must_snapshot = !outgoing.is_empty()
            || !refusals.is_empty()
            || completed
            || matches!(call, Call::Init(_) | Call::Fill(_) | Call::Update(_));
        let due =
            algo.unsnapshotted && now - algo.last_snapshot_ms >= self.config.snapshot_interval_ms;
        let snapshot = if must_snapshot || due {
            let Some(instance) = algo.instance.as_mut() else {
                return Ok(());
            };
            let max_snapshot_bytes = self.config.max_snapshot_bytes;
            match instance
                .snapshot()
                .map_err(|e| e.to_string())
                .and_then(|snapshot| check_snapshot(snapshot, max_snapshot_bytes))
            {
                Ok(snapshot) => Some(snapshot),
                Err(error) => {
                    self.record_without_plugin(idx, call)?;
                    return self.end_algorithm(
                        idx,
                        AlgorithmStatus::Failed,
                        Some(error.to_string()),
                    );
                }
            }
        } else {
            algo.unsnapshotted = true;
            None
        };
        if let Some(snapshot) = snapshot {
            algo.row.snapshot = Some(snapshot);
            algo.last_snapshot_ms = now;
            algo.unsnapshotted = false;
            let tx = self.store.begin()?;
            tx.update_algorithm(
                &algo.row.id,
                algo.row.snapshot.as_deref(),
                algo.row.next_child_seq,
                algo.row.status,
                algo.row.reason.as_deref(),
                now,
            )?;
            for id in &touched {
                if let Some(child) = algo.children.get(id) {
                    tx.upsert_child(&child.row)?;
                }
            }
            if let Call::Fill(fill) = call {
                tx.insert_fill(&algo.row.id, fill)?;
            }
            tx.commit()?;
        }

        let rejections = self.algorithms[idx].risk_rejections;
        if rejections > self.config.max_risk_rejections {
            let last = refusals
                .last()
                .and_then(|r| r.reason.clone())
                .unwrap_or_default();
            let reason = format!(
                "{rejections} child actions refused by the risk guard exceeds max_risk_rejections = {}; last: {last}",
                self.config.max_risk_rejections
            );
            return self.end_algorithm(idx, AlgorithmStatus::Failed, Some(reason));
        }
        for refusal in refusals {
            queue.push_back(Call::Update(refusal));
        }
        for action in outgoing {
            self.send(idx, action, queue);
        }
        if completed {
            self.end_algorithm(idx, AlgorithmStatus::Completed, None)?;
        }
        Ok(())
    }

    /// Why a result breaks a per-result limit, if it does.
    fn oversized(&self, result: &PluginResult) -> Option<String> {
        let config = &self.config;
        if result.orders.len() > config.max_actions_per_result {
            return Some(format!(
                "result with {} child actions exceeds max_actions_per_result = {}",
                result.orders.len(),
                config.max_actions_per_result
            ));
        }
        if result.logs.len() > config.max_log_lines {
            return Some(format!(
                "result with {} log lines exceeds max_log_lines = {}",
                result.logs.len(),
                config.max_log_lines
            ));
        }
        let log_bytes: usize = result.logs.iter().map(|l| l.message.len()).sum();
        if log_bytes > config.max_log_bytes {
            return Some(format!(
                "result with {log_bytes} bytes of logs exceeds max_log_bytes = {}",
                config.max_log_bytes
            ));
        }
        None
    }

    fn warn_action(&self, idx: usize, message: &str) {
        let algo = &self.algorithms[idx];
        tracing::warn!(algorithm = %algo.row.id, plugin = %algo.row.plugin, "{message}");
    }

    fn refusal(
        &self,
        idx: usize,
        client_order_id: ClientOrderId,
        status: OrderStatus,
        filled: Decimal,
        remaining: Decimal,
        reason: String,
    ) -> Box<OrderUpdate> {
        let algo = &self.algorithms[idx];
        tracing::warn!(algorithm = %algo.row.id, plugin = %algo.row.plugin, order = %client_order_id, "child action refused: {reason}");
        Box::new(OrderUpdate {
            client_order_id,
            symbol: algo.row.symbol.clone(),
            status,
            filled_quantity: filled,
            remaining_quantity: remaining,
            reason: Some(reason),
            timestamp_ms: self.now_ms,
        })
    }

    fn check_place(
        &mut self,
        idx: usize,
        request: PluginOrderRequest,
        now: i64,
    ) -> Result<OrderRequest, Box<OrderUpdate>> {
        let algo = &mut self.algorithms[idx];
        let client_order_id = match request.client_order_id.as_deref() {
            None => {
                let id = child_order_id(&algo.row.id, algo.row.next_child_seq);
                algo.row.next_child_seq += 1;
                id
            }
            Some(suffix) => {
                let id = ClientOrderId::new(format!("{}-{suffix}", algo.row.id));
                let valid = !suffix.is_empty()
                    && suffix.len() <= 32
                    && suffix
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !valid || algo.children.contains_key(&id) {
                    let reason = if valid {
                        format!(
                            "client order id suffix '{suffix}' was already used by this algorithm"
                        )
                    } else {
                        format!(
                            "client order id suffix '{suffix}' must be 1-32 letters, digits, '_' or '-'"
                        )
                    };
                    return Err(self.refusal(
                        idx,
                        id,
                        OrderStatus::Rejected,
                        Decimal::ZERO,
                        Decimal::ZERO,
                        reason,
                    ));
                }
                id
            }
        };
        let symbol = if request.symbol == algo.row.symbol.as_str() {
            algo.row.symbol.clone()
        } else {
            Symbol::from(request.symbol.as_str())
        };
        let order = OrderRequest {
            client_order_id,
            symbol,
            side: side_from_plugin(request.side),
            order_type: order_type_from_plugin(request.order_type),
            quantity: request.quantity,
            price: request.price,
            trigger_price: request.trigger_price,
            time_in_force: tif_from_plugin(request.time_in_force),
        };
        let (filled, working) = algo.exposure();
        let exposure = AlgorithmExposure {
            symbol: &algo.row.symbol,
            side: algo.row.side,
            target: algo.row.target,
            filled,
            working,
        };
        let proposed = ProposedOrder {
            symbol: &order.symbol,
            side: order.side,
            order_type: order.order_type,
            quantity: order.quantity,
            price: order.price,
            trigger_price: order.trigger_price,
        };
        let last_price = self.portfolio.last_price(&algo.row.symbol);
        if let Err(violation) =
            self.risk
                .check_place(&exposure, &proposed, last_price, &mut algo.rate, now)
        {
            algo.risk_rejections += 1;
            let id = order.client_order_id.clone();
            // The refused order keeps its id, so the plugin can match the
            // rejection, and the id is never used again.
            algo.children.insert(
                id.clone(),
                Child {
                    row: ChildOrderRow {
                        request: order,
                        algorithm_id: algo.row.id.clone(),
                        state: ChildState::Known(OrderStatus::Rejected),
                        filled: Decimal::ZERO,
                        pending_amend: None,
                        cancel_requested: false,
                        updated_ms: now,
                    },
                    exchange_filled: Decimal::ZERO,
                    open: false,
                },
            );
            return Err(self.refusal(
                idx,
                id,
                OrderStatus::Rejected,
                Decimal::ZERO,
                Decimal::ZERO,
                violation.to_string(),
            ));
        }
        let id = order.client_order_id.clone();
        algo.children.insert(
            id.clone(),
            Child {
                row: ChildOrderRow {
                    request: order.clone(),
                    algorithm_id: algo.row.id.clone(),
                    state: ChildState::PendingNew,
                    filled: Decimal::ZERO,
                    pending_amend: None,
                    cancel_requested: false,
                    updated_ms: now,
                },
                exchange_filled: Decimal::ZERO,
                open: true,
            },
        );
        algo.open_children.insert(id.clone());
        self.by_child.insert(id, idx);
        Ok(order)
    }

    fn check_amend(
        &mut self,
        idx: usize,
        amend: &PluginOrderUpdateRequest,
        now: i64,
    ) -> Result<AmendRequest, Box<OrderUpdate>> {
        let id = ClientOrderId::new(amend.client_order_id.as_str());
        let algo = &mut self.algorithms[idx];
        let Some(child) = algo
            .children
            .get(&id)
            .filter(|c| c.open && !c.row.cancel_requested)
        else {
            let (status, filled) = algo
                .children
                .get(&id)
                .map_or((OrderStatus::Rejected, Decimal::ZERO), |c| {
                    (current_status(c), c.exchange_filled)
                });
            let reason = format!(
                "amend refused: {id} is not an open child order of {}",
                algo.row.id
            );
            return Err(self.refusal(idx, id, status, filled, Decimal::ZERO, reason));
        };
        let (filled, working) = algo.exposure();
        let exposure = AlgorithmExposure {
            symbol: &algo.row.symbol,
            side: algo.row.side,
            target: algo.row.target,
            filled,
            working,
        };
        let proposed = ProposedAmend {
            order_type: child.row.request.order_type,
            quantity: child.counted_quantity(),
            filled: child.exchange_filled,
            price: child.row.request.price,
            new_quantity: amend.new_quantity,
            new_price: amend.new_price,
        };
        let (status, child_filled, remaining) = (
            current_status(child),
            child.exchange_filled,
            child.working(),
        );
        let last_price = self.portfolio.last_price(&algo.row.symbol);
        if let Err(violation) =
            self.risk
                .check_amend(&exposure, &proposed, last_price, &mut algo.rate, now)
        {
            algo.risk_rejections += 1;
            return Err(self.refusal(
                idx,
                id,
                status,
                child_filled,
                remaining,
                format!("amend refused: {violation}"),
            ));
        }
        let request = AmendRequest {
            client_order_id: id.clone(),
            new_price: amend.new_price,
            new_quantity: amend.new_quantity,
        };
        if let Some(child) = algo.children.get_mut(&id) {
            // Two amends in one result both reach the exchange; what is
            // pending is their combination.
            let pending = child.row.pending_amend.take();
            child.row.pending_amend = Some(AmendRequest {
                client_order_id: id.clone(),
                new_price: amend
                    .new_price
                    .or(pending.as_ref().and_then(|p| p.new_price)),
                new_quantity: amend
                    .new_quantity
                    .or(pending.as_ref().and_then(|p| p.new_quantity)),
            });
            child.row.updated_ms = now;
        }
        Ok(request)
    }

    fn check_cancel(
        &mut self,
        idx: usize,
        client_order_id: &str,
        now: i64,
    ) -> Result<ClientOrderId, Box<OrderUpdate>> {
        let id = ClientOrderId::new(client_order_id);
        let algo = &mut self.algorithms[idx];
        match algo.children.get_mut(&id) {
            Some(child) if child.open && !child.row.cancel_requested => {
                child.row.cancel_requested = true;
                child.row.updated_ms = now;
                Ok(id)
            }
            other => {
                let (status, filled) = other.map_or((OrderStatus::Rejected, Decimal::ZERO), |c| {
                    (current_status(c), c.exchange_filled)
                });
                let reason = format!(
                    "cancel refused: {id} is not an open child order of {} (or a cancel is already pending)",
                    algo.row.id
                );
                Err(self.refusal(idx, id, status, filled, Decimal::ZERO, reason))
            }
        }
    }

    /// Sends one committed action and queues what the plugin must learn.
    fn send(&mut self, idx: usize, action: Outgoing, queue: &mut VecDeque<Call>) {
        let now = self.now_ms;
        match action {
            Outgoing::Place(request) => {
                let id = request.client_order_id.clone();
                match self.exchange.place_order(request, now) {
                    Ok(order) => queue.push_back(Call::Update(order.to_update(None))),
                    Err(error) => {
                        self.close_child(idx, &id);
                        let refusal = self.refusal(
                            idx,
                            id,
                            OrderStatus::Rejected,
                            Decimal::ZERO,
                            Decimal::ZERO,
                            error.to_string(),
                        );
                        queue.push_back(Call::Update(*refusal));
                    }
                }
            }
            Outgoing::Amend(amend) => match self.exchange.amend_order(&amend, now) {
                Ok(order) => {
                    if let Some(child) = self.algorithms[idx]
                        .children
                        .get_mut(&amend.client_order_id)
                    {
                        child.row.request = order.request;
                        child.row.pending_amend = None;
                    }
                }
                Err(error) => {
                    let algo = &mut self.algorithms[idx];
                    let Some(child) = algo.children.get_mut(&amend.client_order_id) else {
                        return;
                    };
                    child.row.pending_amend = None;
                    let (status, filled, remaining) = (
                        current_status(child),
                        child.exchange_filled,
                        child.working(),
                    );
                    let refusal = self.refusal(
                        idx,
                        amend.client_order_id,
                        status,
                        filled,
                        remaining,
                        format!("amend refused by the exchange: {error}"),
                    );
                    queue.push_back(Call::Update(*refusal));
                }
            },
            Outgoing::Cancel(id) => match self.exchange.cancel_order(&id, now) {
                Ok(order) => {
                    self.close_child(idx, &id);
                    queue.push_back(Call::Update(order.to_update(None)));
                }
                Err(error) => {
                    let algo = &mut self.algorithms[idx];
                    let Some(child) = algo.children.get_mut(&id) else {
                        return;
                    };
                    child.row.cancel_requested = false;
                    let (status, filled, remaining) = (
                        current_status(child),
                        child.exchange_filled,
                        child.working(),
                    );
                    let refusal = self.refusal(
                        idx,
                        id,
                        status,
                        filled,
                        remaining,
                        format!("cancel refused by the exchange: {error}"),
                    );
                    queue.push_back(Call::Update(*refusal));
                }
            },
        }
    }

    fn close_child(&mut self, idx: usize, id: &ClientOrderId) {
        let algo = &mut self.algorithms[idx];
        if let Some(child) = algo.children.get_mut(id) {
            child.open = false;
        }
        algo.open_children.remove(id);
    }

    /// Routes what the exchange reported since the last poll.
    fn process_exchange_events(&mut self) -> Result<(), OrchestratorError> {
        self.exchange.poll_events(&mut self.events);
        if self.events.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut self.events);
        for event in &events {
            self.route_event(event.clone())?;
        }
        self.events = events;
        self.events.clear();
        Ok(())
    }

    fn route_event(&mut self, event: ExchangeEvent) -> Result<(), OrchestratorError> {
        let id = match &event {
            ExchangeEvent::Fill(fill) => &fill.client_order_id,
            ExchangeEvent::OrderUpdate(update) => &update.client_order_id,
        };
        let Some(&idx) = self.by_child.get(id) else {
            tracing::warn!(order = %id, "exchange event for an order no algorithm owns; ignored");
            return Ok(());
        };
        match event {
            ExchangeEvent::Fill(fill) => {
                // After a restart the exchange may report again a fill that
                // reconciliation already booked.
                if self.store.has_fill(&fill.fill_id)? {
                    tracing::debug!(fill = %fill.fill_id, "fill already booked; ignored");
                    return Ok(());
                }
                self.book_fill(idx, &fill);
                self.deliver(idx, Call::Fill(fill))
            }
            ExchangeEvent::OrderUpdate(update) => {
                if !update.status.is_open() {
                    self.close_child(idx, &update.client_order_id);
                }
                self.deliver(idx, Call::Update(update))
            }
        }
    }

    /// Books a fill into the portfolio and the algorithm's totals.
    fn book_fill(&mut self, idx: usize, fill: &Fill) {
        self.portfolio.apply_fill(fill);
        let algo = &mut self.algorithms[idx];
        algo.filled += fill.quantity;
        algo.notional += fill.notional();
        if let Some(child) = algo.children.get_mut(&fill.client_order_id) {
            child.exchange_filled += fill.quantity;
        }
    }

    /// Ends an algorithm: records the status, cancels every open child order.
    fn end_algorithm(
        &mut self,
        idx: usize,
        status: AlgorithmStatus,
        reason: Option<String>,
    ) -> Result<(), OrchestratorError> {
        let now = self.now_ms;
        let algo = &mut self.algorithms[idx];
        if algo.row.status != AlgorithmStatus::Working {
            return Ok(());
        }
        algo.row.status = status;
        algo.row.reason.clone_from(&reason);
        algo.row.updated_ms = now;
        algo.instance = None;
        if let Some(list) = self.by_symbol.get_mut(&algo.row.symbol) {
            list.retain(|&i| i != idx);
        }
        self.working.retain(|&i| i != idx);
        match status {
            AlgorithmStatus::Failed => tracing::error!(
                alert = true,
                algorithm = %algo.row.id,
                plugin = %algo.row.plugin,
                "ALERT algorithm failed: {}",
                reason.as_deref().unwrap_or("no reason")
            ),
            _ => {
                tracing::info!(algorithm = %algo.row.id, plugin = %algo.row.plugin, %status, filled = %algo.filled, reason = reason.as_deref().unwrap_or(""), "algorithm ended")
            }
        }
        let open: Vec<ClientOrderId> = algo.open_children.iter().cloned().collect();
        let tx = self.store.begin()?;
        tx.update_algorithm(
            &algo.row.id,
            None,
            algo.row.next_child_seq,
            status,
            reason.as_deref(),
            now,
        )?;
        for id in &open {
            if let Some(child) = algo.children.get_mut(id) {
                child.row.cancel_requested = true;
                tx.upsert_child(&child.row)?;
            }
        }
        tx.commit()?;
        self.cancel_children(idx, &open)
    }

    /// Cancels child orders of an ended algorithm and records their state.
    fn cancel_children(
        &mut self,
        idx: usize,
        ids: &[ClientOrderId],
    ) -> Result<(), OrchestratorError> {
        let now = self.now_ms;
        for id in ids {
            let result = self.exchange.cancel_order(id, now);
            let algo = &mut self.algorithms[idx];
            let Some(child) = algo.children.get_mut(id) else {
                continue;
            };
            match result {
                Ok(order) => {
                    child.row.state = ChildState::Known(order.status);
                    child.open = order.status.is_open();
                }
                Err(ExchangeError::UnknownOrder(_)) => {
                    child.row.state = ChildState::Known(OrderStatus::Rejected);
                    child.open = false;
                }
                Err(ExchangeError::OrderClosed(_)) => {
                    // It closed (filled, expired) in the meantime; the
                    // exchange event that says so is on its way.
                }
                Err(error) => {
                    tracing::error!(algorithm = %algo.row.id, order = %id, "cancel of a child order failed: {error}");
                }
            }
            if !child.open {
                algo.open_children.remove(id);
            }
            let tx = self.store.begin()?;
            tx.upsert_child(&child.row)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Rebuilds the runtime from the store and reconciles with the exchange.
    fn recover(&mut self) -> Result<(), OrchestratorError> {
        let rows = self.store.algorithms()?;
        if rows.is_empty() {
            return Ok(());
        }
        let children = self.store.child_orders()?;
        let journal = self.store.fills()?;
        self.now_ms = rows.iter().map(|r| r.updated_ms).max().unwrap_or(0);
        let mut inits = Vec::new();
        let mut failed = Vec::new();
        for row in rows {
            let id = row.id.clone();
            let working = row.status == AlgorithmStatus::Working;
            let idx = self.add_algorithm(row, None);
            if !working {
                continue;
            }
            match self
                .revive(idx)
                .map_err(|detail| OrchestratorError::CorruptState { id, detail })?
            {
                Revival::Restored => {}
                Revival::NeedsInit(ctx) => inits.push((idx, ctx)),
                Revival::Failed(reason) => failed.push((idx, reason)),
            }
        }
        for row in children {
            let Some(&idx) = self.by_id.get(&row.algorithm_id) else {
                continue;
            };
            let id = row.request.client_order_id.clone();
            let open = row.state.may_be_open();
            let algo = &mut self.algorithms[idx];
            if open {
                algo.open_children.insert(id.clone());
            }
            algo.children.insert(
                id.clone(),
                Child {
                    row,
                    exchange_filled: Decimal::ZERO,
                    open,
                },
            );
            self.by_child.insert(id, idx);
        }
        for entry in &journal {
            self.portfolio.apply_fill(&entry.fill);
            if let Some(&idx) = self.by_id.get(&entry.algorithm_id) {
                let algo = &mut self.algorithms[idx];
                algo.filled += entry.fill.quantity;
                algo.notional += entry.fill.notional();
                if let Some(child) = algo.children.get_mut(&entry.fill.client_order_id) {
                    child.exchange_filled += entry.fill.quantity;
                }
            }
        }
        // Ended once its child orders are known, so the failure is stored,
        // alerted and its open orders cancelled like any other.
        for (idx, reason) in failed {
            self.end_algorithm(
                idx,
                AlgorithmStatus::Failed,
                Some(format!("on restart: {reason}")),
            )?;
        }
        for (idx, ctx) in inits {
            self.deliver(idx, Call::Init(ctx))?;
        }
        for idx in 0..self.algorithms.len() {
            self.reconcile(idx)?;
        }
        Ok(())
    }

    /// Brings one algorithm's child orders in line with the exchange after a
    /// restart, delivering to the plugin what it missed.
    fn reconcile(&mut self, idx: usize) -> Result<(), OrchestratorError> {
        let ids: Vec<ClientOrderId> = self.algorithms[idx]
            .children
            .iter()
            .filter(|(_, c)| c.row.state.may_be_open())
            .map(|(id, _)| id.clone())
            .collect();
        let reconcile_error = |id: &ClientOrderId| {
            let client_order_id = id.clone();
            move |source| OrchestratorError::Reconcile {
                client_order_id,
                source,
            }
        };
        for id in ids {
            let order = self.exchange.order(&id).map_err(reconcile_error(&id))?;
            let working = self.algorithms[idx].row.status == AlgorithmStatus::Working;
            let Some(child) = self.algorithms[idx].children.get(&id).cloned() else {
                continue;
            };
            let mut queue = VecDeque::new();
            match order {
                None if child.row.state == ChildState::PendingNew
                    && working
                    && !child.row.cancel_requested =>
                {
                    // Committed but never sent: send it now, under the same id.
                    tracing::info!(algorithm = %child.row.algorithm_id, order = %id, "sending a child order the crash kept from the exchange");
                    self.send(idx, Outgoing::Place(child.row.request.clone()), &mut queue);
                }
                None => {
                    self.close_child(idx, &id);
                    let reason =
                        "the order never reached the exchange before the restart".to_owned();
                    let update = self.refusal(
                        idx,
                        id.clone(),
                        OrderStatus::Rejected,
                        child.exchange_filled,
                        Decimal::ZERO,
                        reason,
                    );
                    queue.push_back(Call::Update(*update));
                }
                Some(order) => {
                    if child.row.state == ChildState::PendingNew {
                        let mut ack = order.to_update(None);
                        ack.status = OrderStatus::Accepted;
                        ack.filled_quantity = Decimal::ZERO;
                        ack.remaining_quantity = order.request.quantity;
                        queue.push_back(Call::Update(ack));
                    }
                    for fill in self
                        .exchange
                        .order_fills(&id)
                        .map_err(reconcile_error(&id))?
                    {
                        if !self.store.has_fill(&fill.fill_id)? {
                            self.book_fill(idx, &fill);
                            queue.push_back(Call::Fill(fill));
                        }
                    }
                    if ChildState::Known(order.status) != child.row.state
                        || child.row.filled != order.filled_quantity
                    {
                        queue.push_back(Call::Update(order.to_update(None)));
                    }
                    if order.status.is_open() {
                        if let Some(amend) = child.row.pending_amend.clone().filter(|a| {
                            a.new_price.is_some_and(|p| Some(p) != order.request.price)
                                || a.new_quantity.is_some_and(|q| q != order.request.quantity)
                        }) && working
                        {
                            self.send(idx, Outgoing::Amend(amend), &mut queue);
                        }
                        if child.row.cancel_requested && working {
                            self.send(idx, Outgoing::Cancel(id.clone()), &mut queue);
                        }
                    } else {
                        self.close_child(idx, &id);
                    }
                }
            }
            for call in queue {
                self.deliver(idx, call)?;
            }
        }
        // An ended algorithm leaves no child order behind.
        if self.algorithms[idx].row.status.is_terminal() {
            let open: Vec<ClientOrderId> =
                self.algorithms[idx].open_children.iter().cloned().collect();
            self.cancel_children(idx, &open)?;
        }
        Ok(())
    }

    /// Re-creates a working algorithm's instance from its stored plugin name
    /// and restores its last snapshot (or re-runs `init` if it never
    /// returned). A failure here fails the algorithm, not the runtime.
    fn revive(&mut self, idx: usize) -> Result<Revival, String> {
        let plugin = self.algorithms[idx].row.plugin.clone();
        let mut instance = match self.provider.create(&plugin) {
            Ok(instance) => instance,
            Err(error) => {
                return Ok(Revival::Failed(format!(
                    "cannot re-create plugin on restart: {error}"
                )));
            }
        };
        let algo = &mut self.algorithms[idx];
        if let Some(snapshot_json) = algo.row.snapshot.clone() {
            let ctx = PluginRestoreContext {
                algorithm_id: algo.row.id.clone(),
                symbol: algo.row.symbol.to_string(),
                snapshot_json,
            };
            if let Err(error) = instance.restore(&ctx) {
                return Ok(Revival::Failed(error.to_string()));
            }
            algo.instance = Some(instance);
            tracing::info!(algorithm = %algo.row.id, plugin = %plugin, "algorithm restored from its snapshot");
            Ok(Revival::Restored)
        } else {
            // It crashed before `init` returned, so nothing was sent: start over.
            let ctx: PluginInitContext = serde_json::from_str(&algo.row.init_context_json)
                .map_err(|e| format!("init context: {e}"))?;
            algo.instance = Some(instance);
            Ok(Revival::NeedsInit(Box::new(ctx)))
        }
    }
}

/// How a working algorithm came back after a restart.
enum Revival {
    /// Its instance restored its snapshot.
    Restored,
    /// It never returned from `init`: run `init` again.
    NeedsInit(Box<PluginInitContext>),
    /// It cannot come back (the plugin is gone or `restore` failed).
    Failed(String),
}

/// Refuses a snapshot that is too large or not JSON.
fn check_snapshot(snapshot: String, max_snapshot_bytes: usize) -> Result<String, String> {
    if snapshot.len() > max_snapshot_bytes {
        return Err(format!(
            "snapshot of {} bytes exceeds max_snapshot_bytes = {max_snapshot_bytes}",
            snapshot.len()
        ));
    }
    if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(&snapshot) {
        return Err(format!("snapshot is not valid JSON: {error}"));
    }
    Ok(snapshot)
}

fn current_status(child: &Child) -> OrderStatus {
    match child.row.state {
        ChildState::Known(status) => status,
        ChildState::PendingNew => OrderStatus::Accepted,
    }
}
