//! # tesser-plugin-testkit
//!
//! The one test harness of the reference plugins (dev-dependency only):
//!
//! * [`run_on_real_trades`]: runs a plugin in-process
//!   ([`tesser_execution::native`]) through the real [`Orchestrator`] on the
//!   real [`PaperExchange`] with an in-memory [`StateStore`], replaying the
//!   real Kraken BTC/USD trades of `../shared/data`, and returns what
//!   happened ([`Run`]: every child order placed or amended, every fill,
//!   the market volume seen);
//! * [`init_context`]: a realistic `init` context for unit tests through
//!   [`tesser_wasm::PluginRuntime`], and [`init_error`]: the message a
//!   plugin refuses bad params with;
//! * [`dec`]: a decimal from its text;
//! * [`instrument`]: the instrument both use (tick 0.1, lot 0.0001,
//!   min quantity 0.0001, min notional 10 USD).
//!
//! The trades are read from `$TESSER_DATA_DIR` (default: the `shared/data`
//! directory next to the workspace). When the file is missing the tests fail
//! with a message saying where it was looked for.
#![deny(missing_docs)]

use std::path::PathBuf;

use rust_decimal::Decimal;
use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent, ExecutionHint, Fill,
    Instrument, Order, OrderRequest, Side, Signal, SignalKind, Tick,
};
pub use tesser_core::{OrderType, TimeInForce};
use tesser_data::TradeFileReader;
pub use tesser_execution::native::NativeProvider;
use tesser_execution::{
    AlgorithmStatus, AlgorithmSummary, FixedQuantitySizer, Orchestrator, OrchestratorConfig,
    OrchestratorParts, RiskGuard, RiskLimits, StateStore,
};
use tesser_paper::{PaperConfig, PaperExchange};
use tesser_wasm::{
    ExecutionPlugin, PluginErrorKind, PluginInitContext, PluginInstrument, PluginRiskContext,
    PluginRuntime, PluginSide, PluginSignal,
};

/// The symbol of the real trades.
pub const SYMBOL: &str = "BTCUSD";

/// The real trades' file name.
pub const DATA_FILE: &str = "kraken-btcusd-2019-07-01T00.csv";

/// Time of the first real trade, ms (2019-07-01T00:00:03.172Z).
pub const FIRST_TRADE_MS: i64 = 1_561_939_203_172;

/// Price of the first real trade.
#[must_use]
pub fn first_price() -> Decimal {
    Decimal::new(107_494, 1)
}

/// The instrument of the tests: tick 0.1, lot 0.0001, min quantity 0.0001,
/// min notional 10.
#[must_use]
pub fn instrument() -> Instrument {
    Instrument::new(SYMBOL, "BTC", "USD")
        .with_tick_size(Decimal::new(1, 1))
        .with_lot_size(Decimal::new(1, 4))
        .with_min_quantity(Decimal::new(1, 4))
        .with_min_notional(Decimal::TEN)
}

/// [`instrument`]'s rules as a plugin sees them.
#[must_use]
pub fn plugin_instrument() -> PluginInstrument {
    let rules = instrument();
    PluginInstrument {
        tick_size: rules.tick_size,
        lot_size: rules.lot_size,
        min_quantity: rules.min_quantity,
        min_notional: rules.min_notional,
    }
}

/// An `init` context as the orchestrator builds it: algorithm `algo-1`
/// buying `target` BTCUSD at the first real trade's price and time.
#[must_use]
pub fn init_context(params: serde_json::Value, target: Decimal) -> PluginInitContext {
    PluginInitContext {
        algorithm_id: "algo-1".into(),
        signal: PluginSignal {
            id: "signal-1".into(),
            symbol: SYMBOL.into(),
            side: PluginSide::Buy,
            target_quantity: target,
            confidence: 1.0,
            ..PluginSignal::default()
        },
        risk: PluginRiskContext {
            last_price: first_price(),
            equity: Decimal::from(1_000_000),
            instrument: plugin_instrument(),
            max_order_quantity: Some(Decimal::from(100)),
            ..PluginRiskContext::default()
        },
        params,
        now_ms: FIRST_TRADE_MS,
    }
}

/// A decimal from its text.
///
/// # Panics
/// When `text` is not a decimal.
#[must_use]
pub fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

/// The message plugin `P` refuses `params` with at `init` (target 10).
///
/// # Panics
/// When `init` succeeds, or fails with another kind than `invalid_params`.
#[must_use]
pub fn init_error<P: ExecutionPlugin + Default>(params: serde_json::Value) -> String {
    let mut runtime = PluginRuntime::<P>::new();
    let error = runtime
        .init(init_context(params, Decimal::TEN))
        .expect_err("params must be refused");
    assert_eq!(error.kind, PluginErrorKind::InvalidParams, "{error}");
    error.message
}

/// A fresh runtime restored from `snapshot`, checked to hold exactly the
/// state of `original`, the runtime that took it.
///
/// # Panics
/// When the restore fails or the states differ.
#[must_use]
pub fn restored<P>(original: &PluginRuntime<P>, snapshot: &str) -> PluginRuntime<P>
where
    P: ExecutionPlugin + Default + PartialEq + std::fmt::Debug,
{
    let mut restored = PluginRuntime::<P>::new();
    restored.restore(snapshot).expect("restore");
    assert_eq!(restored.plugin(), original.plugin());
    restored
}

/// Asserts that a fresh runtime of `P` refuses `snapshot` as invalid state.
///
/// # Panics
/// When the snapshot is accepted or refused for another reason.
pub fn assert_snapshot_refused<P: ExecutionPlugin + Default>(snapshot: &str) {
    let error = PluginRuntime::<P>::new()
        .restore(snapshot)
        .expect_err("not a snapshot");
    assert_eq!(error.kind, PluginErrorKind::InvalidState, "{error}");
}

/// Where the real trades are: `$TESSER_DATA_DIR/<file>`, by default the
/// `shared/data` directory beside the workspace.
#[must_use]
pub fn data_path() -> PathBuf {
    let dir = std::env::var_os("TESSER_DATA_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    dir.join(DATA_FILE)
}

/// Every real trade, in file order.
///
/// # Panics
/// The file is missing or unreadable: the message says where it was looked
/// for and how to point the tests at it.
#[must_use]
pub fn real_trades() -> Vec<Tick> {
    let path = data_path();
    assert!(
        path.is_file(),
        "real trade data missing: {} does not exist. The plugin tests replay the Kraken \
         BTC/USD trades of 2019-07-01 00:00-01:00; put {DATA_FILE} there or set \
         TESSER_DATA_DIR to the directory holding it",
        path.display()
    );
    let mut reader = TradeFileReader::open(&path)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()));
    let mut ticks = Vec::new();
    while let Some(tick) = reader.next_tick() {
        ticks.push(tick.unwrap_or_else(|error| panic!("bad trade in {}: {error}", path.display())));
    }
    assert!(!ticks.is_empty(), "{} holds no trades", path.display());
    ticks
}

/// A child order as the exchange saw it: placed, or its state after an amend.
#[derive(Debug, Clone, PartialEq)]
pub struct SentOrder {
    /// Data clock when it was sent, ms.
    pub at_ms: i64,
    /// The request (after an amend: with the new price and quantity).
    pub request: OrderRequest,
    /// Whether this is an amend of an existing order.
    pub amend: bool,
}

/// An [`ExchangeClient`] that records every order placed or amended through
/// it, then forwards to the wrapped exchange.
#[derive(Debug)]
pub struct Recorder<E> {
    /// The wrapped exchange.
    pub inner: E,
    /// What was sent, in order (accepted by the exchange only).
    pub sent: Vec<SentOrder>,
}

impl<E: ExchangeClient> ExchangeClient for Recorder<E> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn place_order(&mut self, request: OrderRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        let order = self.inner.place_order(request, now_ms)?;
        self.sent.push(SentOrder {
            at_ms: now_ms,
            request: order.request.clone(),
            amend: false,
        });
        Ok(order)
    }

    fn amend_order(&mut self, amend: &AmendRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        let order = self.inner.amend_order(amend, now_ms)?;
        self.sent.push(SentOrder {
            at_ms: now_ms,
            request: order.request.clone(),
            amend: true,
        });
        Ok(order)
    }

    fn cancel_order(
        &mut self,
        client_order_id: &ClientOrderId,
        now_ms: i64,
    ) -> Result<Order, ExchangeError> {
        self.inner.cancel_order(client_order_id, now_ms)
    }

    fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<Order>, ExchangeError> {
        self.inner.order(client_order_id)
    }

    fn open_orders(&self) -> Result<Vec<Order>, ExchangeError> {
        self.inner.open_orders()
    }

    fn order_fills(&self, client_order_id: &ClientOrderId) -> Result<Vec<Fill>, ExchangeError> {
        self.inner.order_fills(client_order_id)
    }

    fn on_market_tick(&mut self, tick: &Tick) {
        self.inner.on_market_tick(tick);
    }

    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>) {
        self.inner.poll_events(out);
    }
}

/// What one replay did.
#[derive(Debug, Clone)]
pub struct Run {
    /// The algorithm at the end.
    pub summary: AlgorithmSummary,
    /// Data clock when the signal was submitted, ms (the plugin's start).
    pub start_ms: i64,
    /// Data clock of the last tick fed (the algorithm ended on it), ms.
    pub end_ms: i64,
    /// Every fill, oldest first.
    pub fills: Vec<Fill>,
    /// Every child order placed or amended, in order.
    pub sent: Vec<SentOrder>,
    /// The trades fed after the signal, in order.
    pub ticks: Vec<Tick>,
}

impl Run {
    /// Total quantity filled.
    #[must_use]
    pub fn filled(&self) -> Decimal {
        self.fills.iter().map(|fill| fill.quantity).sum()
    }

    /// Market volume of the trades fed after the signal up to and including
    /// time `at_ms`.
    #[must_use]
    pub fn market_volume_until(&self, at_ms: i64) -> Decimal {
        self.ticks
            .iter()
            .take_while(|tick| tick.timestamp_ms <= at_ms)
            .map(|tick| tick.size)
            .sum()
    }

    /// Quantities of the child orders placed (not amends).
    #[must_use]
    pub fn placed_quantities(&self) -> Vec<Decimal> {
        self.sent
            .iter()
            .filter(|sent| !sent.amend)
            .map(|sent| sent.request.quantity)
            .collect()
    }

    /// Checks the run completed and filled exactly `target`, every child
    /// order on the instrument's grids.
    ///
    /// # Panics
    /// When it did not.
    pub fn assert_completed_exactly(&self, target: Decimal) {
        assert_eq!(
            self.summary.status,
            AlgorithmStatus::Completed,
            "the algorithm did not complete: {:?}",
            self.summary
        );
        assert_eq!(self.filled(), target, "filled quantity");
        assert_eq!(
            self.summary.filled, target,
            "filled quantity the orchestrator saw"
        );
        let rules = instrument();
        for sent in &self.sent {
            assert!(
                rules.is_on_lot_grid(sent.request.quantity),
                "off the lot grid: {sent:?}"
            );
            if let Some(price) = sent.request.price {
                assert!(rules.is_on_tick_grid(price), "off the tick grid: {sent:?}");
            }
        }
        assert!(
            self.fills.iter().all(|fill| fill.side == Side::Buy),
            "every fill is a buy"
        );
    }
}

/// Runs plugin `plugin` of `provider` on the real trades: the first trade
/// sets the price, a buy signal of `quantity` with `params` is submitted,
/// then trades are fed until the algorithm ends or the data does.
///
/// The orchestrator is the real one with the risk guard on (max order 100,
/// price band 500 bps, [`instrument`]'s rules) on the paper exchange and an
/// in-memory store, with a timer heartbeat every second of data time.
///
/// # Panics
/// The data is missing (see [`real_trades`]), or the orchestrator fails.
#[must_use]
pub fn run_on_real_trades(
    provider: NativeProvider,
    plugin: &str,
    params: serde_json::Value,
    quantity: Decimal,
) -> Run {
    let trades = real_trades();
    let limits = RiskLimits {
        max_order_quantity: Some(Decimal::from(100)),
        price_band_bps: Some(Decimal::from(500)),
        max_actions_per_second: None,
    };
    let mut orchestrator = Orchestrator::open(OrchestratorParts {
        provider: Box::new(provider),
        exchange: Recorder {
            inner: PaperExchange::new(PaperConfig::default()),
            sent: Vec::new(),
        },
        store: StateStore::open_in_memory().expect("in-memory store"),
        risk: RiskGuard::new(limits, [instrument()]),
        sizer: Box::new(FixedQuantitySizer::new(Decimal::ONE)),
        config: OrchestratorConfig::default(),
    })
    .expect("orchestrator");
    let mut trades = trades.into_iter();
    let first = trades.next().expect("at least one trade");
    orchestrator.on_tick(&first).expect("first tick");
    let mut signal =
        Signal::new(SYMBOL, SignalKind::EnterLong, 1.0).with_hint(ExecutionHint::Plugin {
            name: plugin.to_owned(),
            params,
        });
    signal.quantity = Some(quantity);
    let id = orchestrator
        .submit_signal(&signal)
        .expect("submit the signal")
        .expect("the signal starts an algorithm");
    let mut fed = Vec::new();
    let mut end_ms = first.timestamp_ms;
    for tick in trades {
        if orchestrator
            .algorithm(&id)
            .is_none_or(|summary| summary.status.is_terminal())
        {
            break;
        }
        orchestrator.on_tick(&tick).expect("tick");
        end_ms = tick.timestamp_ms;
        fed.push(tick);
    }
    let summary = orchestrator.algorithm(&id).expect("the algorithm");
    let (exchange, _store) = orchestrator.into_parts();
    Run {
        summary,
        start_ms: first.timestamp_ms,
        end_ms,
        fills: exchange.inner.fills().to_vec(),
        sent: exchange.sent,
        ticks: fed,
    }
}
