//! A runtime kit for integration tests: an orchestrator over real `.wasm`
//! plugins and the paper exchange, deterministic tick streams, and the real
//! trades of `../shared/data`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{
    AccountBalance, AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent,
    Fill, Instrument, Order, OrderRequest, Side, Tick,
};
use tesser_execution::wasm::{PluginLimits, WasmPluginEngine};
use tesser_execution::{
    FixedQuantitySizer, Orchestrator, OrchestratorConfig, OrchestratorParts, RiskGuard, RiskLimits,
    StateStore,
};
use tesser_paper::{PaperConfig, PaperExchange};

use super::{WasmTarget, plugins_dir};

/// The plugins every runtime test can use, by name.
pub fn runtime_plugins() -> tempfile::TempDir {
    plugins_dir(&[
        (WasmTarget::P2, "plugin-chase", "plugin_chase"),
        (WasmTarget::P2, "scripted", "scripted"),
        (WasmTarget::P2, "raw-snapshot", "raw_snapshot"),
        (WasmTarget::P2, "chase-execution", "chase_execution"),
    ])
}

pub fn btc() -> Instrument {
    Instrument::new("BTCUSD", "BTC", "USD")
        .with_tick_size(dec!(0.1))
        .with_lot_size(dec!(0.0001))
        .with_min_quantity(dec!(0.001))
        .with_min_notional(dec!(50))
}

pub fn eth() -> Instrument {
    Instrument::new("ETHUSD", "ETH", "USD")
        .with_tick_size(dec!(0.01))
        .with_lot_size(dec!(0.001))
        .with_min_quantity(dec!(0.001))
        .with_min_notional(dec!(1))
}

pub fn default_limits() -> RiskLimits {
    RiskLimits {
        max_order_quantity: Some(dec!(10)),
        price_band_bps: Some(dec!(500)),
        max_actions_per_second: Some(1_000),
    }
}

pub fn orchestrator<E: ExchangeClient>(
    plugins: &Path,
    store: StateStore,
    exchange: E,
    limits: RiskLimits,
) -> Orchestrator<E> {
    orchestrator_with(
        plugins,
        store,
        exchange,
        limits,
        OrchestratorConfig::default(),
    )
}

/// [`orchestrator`] with settings of its own.
pub fn orchestrator_with<E: ExchangeClient>(
    plugins: &Path,
    store: StateStore,
    exchange: E,
    limits: RiskLimits,
    config: OrchestratorConfig,
) -> Orchestrator<E> {
    let engine = WasmPluginEngine::with_limits(plugins, test_limits()).expect("engine");
    Orchestrator::open(OrchestratorParts {
        provider: Box::new(engine),
        exchange,
        store,
        risk: RiskGuard::new(limits, [btc(), eth()]),
        sizer: Box::new(FixedQuantitySizer::new(dec!(1))),
        config,
    })
    .expect("orchestrator")
}

/// [`orchestrator`] with an in-memory store and [`default_limits`]: the
/// setup most runtime tests share.
pub fn paper_orchestrator<E: ExchangeClient>(plugins: &Path, exchange: E) -> Orchestrator<E> {
    orchestrator(
        plugins,
        StateStore::open_in_memory().expect("store"),
        exchange,
        default_limits(),
    )
}

/// The default plugin limits, but a CPU deadline that a debug build on a
/// loaded two-core machine never hits by accident (the deadline is measured
/// in wall-clock time); the infinite-loop tests still hit it.
pub fn test_limits() -> PluginLimits {
    PluginLimits {
        callback_deadline: std::time::Duration::from_secs(2),
        ..PluginLimits::default()
    }
}

pub fn paper() -> PaperExchange {
    PaperExchange::new(PaperConfig::default())
}

/// Where the real trades live (outside the repository).
pub fn real_trades_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/kraken-btcusd-2019-07-01T00.csv")
}

/// The real Kraken trades, or `None` when `../shared/data` is absent.
pub fn real_trades() -> Option<Vec<Tick>> {
    let text = std::fs::read_to_string(real_trades_path()).ok()?;
    let mut ticks = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        assert_eq!(cols.len(), 5, "line {}: {line}", n + 1);
        ticks.push(Tick {
            symbol: cols[1].into(),
            price: Decimal::from_str(cols[2]).expect("price"),
            size: Decimal::from_str(cols[3]).expect("size"),
            aggressor: Some(if cols[4] == "buy" {
                Side::Buy
            } else {
                Side::Sell
            }),
            timestamp_ms: cols[0].parse().expect("timestamp"),
        });
    }
    Some(ticks)
}

/// A deterministic random walk of trade prints for `symbol`.
pub fn synthetic_ticks(
    symbol: &str,
    start: Decimal,
    tick_size: Decimal,
    count: usize,
    seed: u64,
) -> Vec<Tick> {
    let mut state = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    let mut price = start;
    let mut ticks = Vec::with_capacity(count);
    for i in 0..count {
        let step = Decimal::from(i64::try_from(next() % 5).expect("small")) - dec!(2);
        price = (price + step * tick_size).max(tick_size);
        let size = Decimal::new(i64::try_from(next() % 500 + 1).expect("small"), 3);
        ticks.push(Tick {
            symbol: symbol.into(),
            price,
            size,
            aggressor: Some(if next() % 2 == 0 {
                Side::Buy
            } else {
                Side::Sell
            }),
            timestamp_ms: 1_700_000_000_000 + i64::try_from(i).expect("small") * 250,
        });
    }
    ticks
}

/// Merges tick streams by timestamp (stable: ties keep stream order).
pub fn merge(streams: Vec<Vec<Tick>>) -> Vec<Tick> {
    let mut all: Vec<Tick> = streams.into_iter().flatten().collect();
    all.sort_by_key(|t| t.timestamp_ms);
    all
}

/// The order-entry methods of [`ExchangeClient`] a test wrapper that only
/// watches or adds events passes to its `inner` exchange unchanged.
macro_rules! delegate_order_entry {
    () => {
        fn place_order(
            &mut self,
            request: OrderRequest,
            now_ms: i64,
        ) -> Result<Order, ExchangeError> {
            self.inner.place_order(request, now_ms)
        }
        fn amend_order(
            &mut self,
            amend: &AmendRequest,
            now_ms: i64,
        ) -> Result<Order, ExchangeError> {
            self.inner.amend_order(amend, now_ms)
        }
        fn cancel_order(
            &mut self,
            id: &ClientOrderId,
            now_ms: i64,
        ) -> Result<Order, ExchangeError> {
            self.inner.cancel_order(id, now_ms)
        }
    };
}

/// The [`ExchangeClient`] methods a test wrapper passes to its `inner`
/// exchange unchanged: the reads and the market ticks.
macro_rules! delegate_reads {
    () => {
        fn order(&self, id: &ClientOrderId) -> Result<Option<Order>, ExchangeError> {
            self.inner.order(id)
        }
        fn open_orders(&self) -> Result<Vec<Order>, ExchangeError> {
            self.inner.open_orders()
        }
        fn order_fills(&self, id: &ClientOrderId) -> Result<Vec<Fill>, ExchangeError> {
            self.inner.order_fills(id)
        }
        fn on_market_tick(&mut self, tick: &Tick) {
            self.inner.on_market_tick(tick);
        }
    };
}

/// An exchange wrapper that records every client order id sent to
/// `place_order`, and can crash (panic) around the n-th place to simulate a
/// process dying mid-callback.
pub struct Recording<'a> {
    pub inner: &'a mut PaperExchange,
    pub placed: &'a mut Vec<ClientOrderId>,
    pub crash: Option<Crash>,
}

#[derive(Debug, Clone, Copy)]
pub enum Crash {
    /// Die after the state was committed, before the order reaches the exchange.
    BeforePlace(usize),
    /// Die after the exchange accepted the order, before the plugin hears of it.
    AfterPlace(usize),
}

impl ExchangeClient for Recording<'_> {
    fn name(&self) -> &str {
        "recording-paper"
    }
    fn place_order(&mut self, request: OrderRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        let n = self.placed.len() + 1;
        if let Some(Crash::BeforePlace(k)) = self.crash
            && k == n
        {
            panic!("simulated crash before place #{n}");
        }
        self.placed.push(request.client_order_id.clone());
        let result = self.inner.place_order(request, now_ms);
        if let Some(Crash::AfterPlace(k)) = self.crash
            && k == n
        {
            panic!("simulated crash after place #{n}");
        }
        result
    }
    fn amend_order(&mut self, amend: &AmendRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        self.inner.amend_order(amend, now_ms)
    }
    fn cancel_order(&mut self, id: &ClientOrderId, now_ms: i64) -> Result<Order, ExchangeError> {
        self.inner.cancel_order(id, now_ms)
    }
    delegate_reads!();
    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>) {
        self.inner.poll_events(out);
    }
}

/// Sum of fill quantities.
pub fn filled(fills: &[Fill]) -> Decimal {
    fills.iter().map(|f| f.quantity).sum()
}

/// An exchange wrapper whose order updates overtake their fills: each poll
/// delivers the updates at once and the fills one poll later, as a venue's
/// closing report can arrive before the trades it counts; and which can
/// lose fill reports outright (as a dropped stream does), though
/// `order_fills` still answers them.
pub struct FillsLate<'a> {
    pub inner: &'a mut PaperExchange,
    /// Fills held back until the next poll.
    pub held: Vec<ExchangeEvent>,
    /// Updates that overtook a fill of their order.
    pub overtaken: usize,
    /// Fill reports still to lose.
    pub lose: usize,
    /// Fill reports lost.
    pub lost: usize,
}

impl ExchangeClient for FillsLate<'_> {
    fn name(&self) -> &str {
        "fills-late-paper"
    }
    delegate_order_entry!();
    delegate_reads!();
    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>) {
        let mut fresh = Vec::new();
        self.inner.poll_events(&mut fresh);
        out.append(&mut self.held);
        for event in fresh {
            match event {
                ExchangeEvent::Fill(_) if self.lose > 0 => {
                    self.lose -= 1;
                    self.lost += 1;
                }
                ExchangeEvent::Fill(_) => self.held.push(event),
                ExchangeEvent::OrderUpdate(ref update) => {
                    if self.held.iter().any(|held| {
                        matches!(held, ExchangeEvent::Fill(fill) if fill.client_order_id == update.client_order_id)
                    }) {
                        self.overtaken += 1;
                    }
                    out.push(event);
                }
                ExchangeEvent::Settled(_) | ExchangeEvent::Balances(_) => out.push(event),
            }
        }
    }
}

/// The paper exchange behind a venue's order-count window: at most `limit`
/// new orders and amends per `window_ms` of data time. Past it, the request
/// is answered `Throttled` (not sent) with the time until the window
/// reopens, as a live venue's connector does.
pub struct Windowed<'a> {
    pub inner: &'a mut PaperExchange,
    pub limit: usize,
    pub window_ms: i64,
    /// Start of the current window and what was sent in it.
    pub window: (i64, usize),
    /// Requests answered `Throttled`.
    pub throttled: usize,
    /// The most requests sent in one window.
    pub most_in_a_window: usize,
}

impl<'a> Windowed<'a> {
    /// `limit` order-entry requests per `window_ms` in front of `inner`.
    pub fn new(inner: &'a mut PaperExchange, limit: usize, window_ms: i64) -> Self {
        Self {
            inner,
            limit,
            window_ms,
            window: (0, 0),
            throttled: 0,
            most_in_a_window: 0,
        }
    }

    /// Counts one request at `now_ms`, or refuses it.
    fn admit(&mut self, id: &ClientOrderId, now_ms: i64) -> Result<(), ExchangeError> {
        let start = now_ms - now_ms.rem_euclid(self.window_ms);
        if self.window.0 != start {
            self.window = (start, 0);
        }
        if self.window.1 >= self.limit {
            self.throttled += 1;
            return Err(ExchangeError::Throttled {
                client_order_id: id.clone(),
                retry_after_ms: u64::try_from(start + self.window_ms - now_ms).unwrap_or(1),
                reason: "the test's order window is full".into(),
            });
        }
        self.window.1 += 1;
        self.most_in_a_window = self.most_in_a_window.max(self.window.1);
        Ok(())
    }
}

impl ExchangeClient for Windowed<'_> {
    fn name(&self) -> &str {
        "windowed-paper"
    }
    fn place_order(&mut self, request: OrderRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        self.admit(&request.client_order_id, now_ms)?;
        self.inner.place_order(request, now_ms)
    }
    fn amend_order(&mut self, amend: &AmendRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        self.admit(&amend.client_order_id, now_ms)?;
        self.inner.amend_order(amend, now_ms)
    }
    fn cancel_order(&mut self, id: &ClientOrderId, now_ms: i64) -> Result<Order, ExchangeError> {
        // Cancels do not count toward order windows.
        self.inner.cancel_order(id, now_ms)
    }
    delegate_reads!();
    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>) {
        self.inner.poll_events(out);
    }
}

/// The paper exchange with a venue account, as a live venue has: the
/// runtime asks it for the account's balances at start, and hears each
/// [`ExchangeEvent::Balances`] a test queues with [`Accounted::report`].
pub struct Accounted<'a> {
    pub inner: &'a mut PaperExchange,
    /// What `account_balances` answers.
    pub balances: Vec<AccountBalance>,
    /// Balance reports not polled yet.
    pub reports: Vec<Vec<AccountBalance>>,
}

impl<'a> Accounted<'a> {
    /// `inner` with an account holding `balances`.
    pub fn new(inner: &'a mut PaperExchange, balances: Vec<AccountBalance>) -> Self {
        Self {
            inner,
            balances,
            reports: Vec::new(),
        }
    }

    /// Queues the venue's report that these balances changed.
    pub fn report(&mut self, balances: Vec<AccountBalance>) {
        self.reports.push(balances);
    }
}

impl ExchangeClient for Accounted<'_> {
    fn name(&self) -> &str {
        "accounted-paper"
    }
    delegate_order_entry!();
    delegate_reads!();
    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>) {
        self.inner.poll_events(out);
        out.extend(self.reports.drain(..).map(ExchangeEvent::Balances));
    }
    fn account_balances(&self) -> Result<Option<Vec<AccountBalance>>, ExchangeError> {
        Ok(Some(self.balances.clone()))
    }
}
