//! Property tests of everything the host decodes from plugins: the ABI's
//! decimal encoding, the JSON of results, contexts, metadata, events and
//! snapshots, and whatever a plugin returns, run through the real
//! orchestrator, paper exchange and state store.
//!
//! The checks themselves live in `fuzz/src/` and are shared with the
//! cargo-fuzz targets (`abi_decimal`, `plugin_json`, `plugin_result`; see the
//! README's "Fuzzing" section): libFuzzer explores them for as long as it is
//! given, these tests run a bounded number of cases on every `cargo test`.

#[path = "../../fuzz/src/abi.rs"]
mod abi;
#[path = "../../fuzz/src/json.rs"]
mod json;
#[path = "../../fuzz/src/orchestrator.rs"]
mod orchestrator;

use arbitrary::{Arbitrary, Unstructured};
use proptest::prelude::*;
use rust_decimal::Decimal;
use tesser_wasm::{
    PluginAlgorithmState, PluginCancelRequest, PluginChildOrderAction, PluginEvent, PluginFill,
    PluginInitContext, PluginLog, PluginLogLevel, PluginOrderRequest, PluginOrderStatus,
    PluginOrderType, PluginOrderUpdate, PluginOrderUpdateRequest, PluginResult, PluginSide,
    PluginSignal, PluginTick, PluginTimeInForce, PluginTimer,
};

/// Bounded so the whole file stays fast in a debug build.
fn config() -> ProptestConfig {
    ProptestConfig::with_cases(64)
}

/// A scenario takes about 4 ms in a debug build: more of them.
fn orchestrator_config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// Any representable decimal, including zero, negative and the extremes.
fn decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<bool>(),
            0_u32..=28
        )
            .prop_map(|(lo, mid, hi, negative, scale)| Decimal::from_parts(
                lo, mid, hi, negative, scale
            )),
        (any::<i64>(), 0_u32..=28).prop_map(|(n, scale)| Decimal::new(n, scale)),
        Just(Decimal::ZERO),
        Just(Decimal::MAX),
        Just(Decimal::MIN),
    ]
}

/// Mantissa halves around the edges of the representable range (±2^96)
/// as often as anywhere else.
fn mantissa_hi() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -(1_i64 << 33)..=(1_i64 << 33),
        Just(0xFFFF_FFFF_i64),
        Just(0x1_0000_0000_i64),
        Just(-0x1_0000_0000_i64),
        Just(-0x1_0000_0001_i64),
        Just(-1_i64),
    ]
}

fn mantissa_lo() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), Just(0_u64), Just(1_u64), Just(u64::MAX)]
}

fn scale() -> impl Strategy<Value = u8> {
    prop_oneof![0_u8..=28, 27_u8..=30, any::<u8>()]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,12}", "[a-z0-9_-]{1,8}", Just(String::new())]
}

fn side() -> impl Strategy<Value = PluginSide> {
    prop_oneof![Just(PluginSide::Buy), Just(PluginSide::Sell)]
}

fn place() -> impl Strategy<Value = PluginChildOrderAction> {
    (
        (
            text(),
            side(),
            prop_oneof![
                Just(PluginOrderType::Market),
                Just(PluginOrderType::Limit),
                Just(PluginOrderType::StopMarket),
                Just(PluginOrderType::StopLimit),
            ],
            decimal(),
            prop::option::of(decimal()),
            prop::option::of(decimal()),
        ),
        (
            prop::option::of(prop_oneof![
                Just(PluginTimeInForce::GoodTilCancelled),
                Just(PluginTimeInForce::ImmediateOrCancel),
                Just(PluginTimeInForce::FillOrKill),
                Just(PluginTimeInForce::PostOnly),
            ]),
            prop::option::of(text()),
            prop::option::of(decimal()),
            prop::option::of(decimal()),
            prop::option::of(decimal()),
        ),
    )
        .prop_map(
            |(
                (symbol, side, order_type, quantity, price, trigger_price),
                (time_in_force, client_order_id, take_profit, stop_loss, display_quantity),
            )| {
                PluginChildOrderAction::Place(PluginOrderRequest {
                    symbol,
                    side,
                    order_type,
                    quantity,
                    price,
                    trigger_price,
                    time_in_force,
                    client_order_id,
                    take_profit,
                    stop_loss,
                    display_quantity,
                })
            },
        )
}

fn action() -> impl Strategy<Value = PluginChildOrderAction> {
    prop_oneof![
        place(),
        (
            text(),
            prop::option::of(decimal()),
            prop::option::of(decimal())
        )
            .prop_map(|(client_order_id, new_price, new_quantity)| {
                PluginChildOrderAction::Amend(PluginOrderUpdateRequest {
                    client_order_id,
                    new_price,
                    new_quantity,
                })
            }),
        text().prop_map(|id| PluginChildOrderAction::Cancel(PluginCancelRequest::new(id))),
    ]
}

fn plugin_result() -> impl Strategy<Value = PluginResult> {
    (
        prop::collection::vec(action(), 0..6),
        prop::collection::vec(
            (
                prop_oneof![
                    Just(PluginLogLevel::Trace),
                    Just(PluginLogLevel::Debug),
                    Just(PluginLogLevel::Info),
                    Just(PluginLogLevel::Warn),
                    Just(PluginLogLevel::Error),
                ],
                text(),
            )
                .prop_map(|(level, message)| PluginLog { level, message }),
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(|(orders, logs, completed)| PluginResult {
            orders,
            logs,
            state: if completed {
                PluginAlgorithmState::Completed
            } else {
                PluginAlgorithmState::Running
            },
        })
}

/// Event fixtures a plugin could be driven with, valid JSON of every kind.
fn event() -> impl Strategy<Value = PluginEvent> {
    let status = prop_oneof![
        Just(PluginOrderStatus::Accepted),
        Just(PluginOrderStatus::Rejected),
        Just(PluginOrderStatus::PartiallyFilled),
        Just(PluginOrderStatus::Filled),
        Just(PluginOrderStatus::Cancelled),
        Just(PluginOrderStatus::Expired),
    ];
    prop_oneof![
        (decimal(), any::<bool>(), text()).prop_map(|(target_quantity, complete, algorithm_id)| {
            PluginEvent::Init(Box::new(PluginInitContext {
                algorithm_id,
                signal: PluginSignal {
                    target_quantity,
                    ..PluginSignal::default()
                },
                params: serde_json::json!({ "complete": complete }),
                ..PluginInitContext::default()
            }))
        }),
        (decimal(), decimal(), any::<i64>()).prop_map(|(price, size, timestamp_ms)| {
            PluginEvent::Tick(PluginTick {
                symbol: "BTCUSD".into(),
                price,
                size,
                aggressor: None,
                timestamp_ms,
            })
        }),
        (text(), decimal()).prop_map(|(client_order_id, quantity)| {
            PluginEvent::Fill(PluginFill {
                client_order_id,
                quantity,
                ..PluginFill::default()
            })
        }),
        (text(), status).prop_map(|(client_order_id, status)| {
            PluginEvent::OrderUpdate(PluginOrderUpdate {
                client_order_id,
                status,
                ..PluginOrderUpdate::default()
            })
        }),
        any::<i64>().prop_map(|now_ms| PluginEvent::Timer(PluginTimer { now_ms })),
    ]
}

/// Byte edits: (position, byte, what to do).
fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec(
        (
            any::<usize>(),
            prop_oneof![
                Just(b'"'),
                Just(b'{'),
                Just(b'}'),
                Just(b','),
                Just(b':'),
                Just(b'-'),
                Just(b'e'),
                Just(b'\n'),
                Just(b'\\'),
                any::<u8>()
            ],
            0_u8..3,
        ),
        1..6,
    )
}

/// Applies `edits` to `bytes`: insert, replace or delete at a position.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(position, byte, kind) in edits {
        let at = position % (bytes.len() + 1);
        match kind {
            0 => bytes.insert(at, byte),
            1 if at < bytes.len() => bytes[at] = byte,
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => bytes.push(byte),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(config())]

    /// `DecimalParts::to_decimal` succeeds exactly for representable parts,
    /// keeps mantissa and scale, and `from_decimal` gives the parts back.
    #[test]
    fn decimal_parts_decode_exactly_the_representable(
        hi in mantissa_hi(),
        lo in mantissa_lo(),
        scale in scale(),
    ) {
        abi::check_decimal_parts(hi, lo, scale);
    }

    /// Every decimal survives the ABI encoding with its digits and scale.
    #[test]
    fn decimals_round_trip_through_the_abi(value in decimal()) {
        abi::check_decimal_round_trip(value);
    }

    /// A result encodes to JSON that decodes to the same result, and that
    /// JSON passes every decoder's checks.
    #[test]
    fn plugin_results_round_trip_through_json(result in plugin_result()) {
        let text = serde_json::to_string(&result).expect("a result encodes");
        let back: tesser_wasm::PluginResult = serde_json::from_str(&text).expect("decodes");
        prop_assert_eq!(&back, &result);
        json::check_plugin_json(text.as_bytes());
    }

    /// Broken JSON never panics a decoder, and what still decodes keeps the
    /// decoders' promises.
    #[test]
    fn damaged_plugin_json_is_refused_or_kept_consistent(
        result in plugin_result(),
        edits in edits(),
    ) {
        let text = serde_json::to_vec(&result).expect("a result encodes");
        json::check_plugin_json(&mutate(text, &edits));
    }

    /// A sequence of event fixture lines through `PluginRuntime::handle_json`
    /// follows the runtime's lifecycle and passes on the plugin's answers,
    /// also with a damaged line among them.
    #[test]
    fn event_fixtures_follow_the_runtime_lifecycle(
        events in prop::collection::vec(event(), 0..10),
        damaged in any::<prop::sample::Index>(),
        edits in edits(),
    ) {
        let lines: Vec<String> = events
            .iter()
            .map(|e| serde_json::to_string(e).expect("an event encodes"))
            .collect();
        json::check_plugin_json(lines.join("\n").as_bytes());
        if !lines.is_empty() {
            let mut lines = lines;
            let index = damaged.index(lines.len());
            let bytes = mutate(std::mem::take(&mut lines[index]).into_bytes(), &edits);
            lines[index] = String::from_utf8_lossy(&bytes).replace('\n', " ");
            json::check_plugin_json(lines.join("\n").as_bytes());
        }
    }
}

proptest! {
    #![proptest_config(orchestrator_config())]

    /// Whatever the plugins return and whatever the risk limits, through
    /// the real orchestrator, paper exchange and store: no panic, no
    /// orchestrator error but a store error, no order of an ended algorithm
    /// left open, no algorithm with more filled plus working than its
    /// target, fills booked as the exchange made them. What the
    /// `plugin_result` fuzz target checks.
    #[test]
    fn orchestrator_keeps_its_invariants_with_any_risk_limits(
        bytes in prop::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mut input = Unstructured::new(&bytes);
        if let Ok(scenario) = orchestrator::Scenario::arbitrary(&mut input) {
            orchestrator::run(&scenario);
        }
    }
}

/// A scripted `BTCUSD` buy of `target_hundredths` after a print of each
/// symbol, whose callbacks answer `replies` in order, driven by `steps`;
/// limits roomy enough not to matter, a price band of `band` bps.
fn scripted_scenario(
    target_hundredths: u16,
    band: Option<u16>,
    rules: bool,
    replies: Vec<Vec<orchestrator::FuzzAction>>,
    steps: Vec<orchestrator::Step>,
) -> orchestrator::Scenario {
    use orchestrator::{
        FuzzConfig, FuzzLimits, FuzzResult, FuzzSnapshot, Opening, Reply, Scenario,
    };
    Scenario {
        config: FuzzConfig {
            timer_interval_ms: 1_000,
            snapshot_interval_ms: 1_000,
            max_callback_cascade: 64,
            max_actions_per_result: 16,
            max_log_lines: 4,
            max_log_bytes: 1_024,
            max_snapshot_bytes: 4_096,
            max_risk_rejections: 16,
        },
        limits: FuzzLimits {
            max_order_quantity: None,
            price_band_bps: band,
            max_actions_per_second: None,
        },
        instrument_rules: rules,
        opening: Opening {
            ticks: true,
            eth: false,
            short: false,
            quantity: Some(target_hundredths),
        },
        replies: replies
            .into_iter()
            .map(|actions| {
                Reply::Return(FuzzResult {
                    actions,
                    logs: Vec::new(),
                    completed: false,
                    snapshot: FuzzSnapshot::State,
                })
            })
            .collect(),
        steps,
    }
}

/// A `BTCUSD` print `move_ticks` from the last one.
fn print(move_ticks: i8, size: u16) -> orchestrator::Step {
    orchestrator::Step::Tick {
        eth: false,
        move_ticks,
        size,
        dt_ms: 1,
    }
}

/// A scripted buy of 5 that places a limit order of 0.1 one tick under the
/// market, then returns `action` while that order works, then prints
/// through every price, restarts and fires a timer.
fn extreme_scenario(
    action: orchestrator::FuzzAction,
    band: Option<u16>,
    rules: bool,
) -> orchestrator::Scenario {
    let below = orchestrator::FuzzPrice::Near(-1);
    scripted_scenario(
        500,
        band,
        rules,
        vec![
            // init
            Vec::new(),
            // the first print after init
            vec![limit_place(Decimal::new(1, 1), below, None)],
            // its acknowledgement
            Vec::new(),
            // the next print
            vec![action],
        ],
        vec![
            print(0, 1_000),
            print(0, 1_000),
            print(-50, 60_000),
            print(100, 60_000),
            orchestrator::Step::Restart,
            orchestrator::Step::Clock { dt_ms: 5_000 },
        ],
    )
}

/// A limit order's place action with these values in every decimal field.
fn limit_place(
    quantity: Decimal,
    price: orchestrator::FuzzPrice,
    trigger: Option<orchestrator::FuzzPrice>,
) -> orchestrator::FuzzAction {
    use orchestrator::{FuzzAction, FuzzDecimal, FuzzPlace, FuzzSymbol};
    FuzzAction::Place(Box::new(FuzzPlace {
        symbol: FuzzSymbol::Own,
        opposite_side: false,
        order_type: PluginOrderType::Limit,
        quantity: FuzzDecimal(quantity),
        price: Some(price),
        trigger_price: trigger,
        time_in_force: None,
        suffix: None,
        take_profit: Some(price),
        stop_loss: Some(price),
        display_quantity: Some(FuzzDecimal(quantity)),
    }))
}

/// Every action with extreme decimals, alone, in its own scenario, with and
/// without price band and instrument rules.
fn extreme_actions(extreme: Decimal) -> Vec<orchestrator::FuzzAction> {
    use orchestrator::{FuzzAction, FuzzDecimal, FuzzOrderRef, FuzzPrice};
    let x = FuzzDecimal(extreme);
    vec![
        limit_place(Decimal::ONE, FuzzPrice::Exact(x), None),
        limit_place(Decimal::TWO, FuzzPrice::Exact(x), None),
        limit_place(extreme, FuzzPrice::Near(0), None),
        limit_place(
            Decimal::new(1, 1),
            FuzzPrice::Near(0),
            Some(FuzzPrice::Exact(x)),
        ),
        FuzzAction::Amend {
            order: FuzzOrderRef::Known(0),
            new_price: Some(FuzzPrice::Exact(x)),
            new_quantity: None,
        },
        FuzzAction::Amend {
            order: FuzzOrderRef::Known(0),
            new_price: Some(FuzzPrice::Exact(x)),
            new_quantity: Some(FuzzDecimal(Decimal::new(3, 0))),
        },
        FuzzAction::Amend {
            order: FuzzOrderRef::Known(0),
            new_price: None,
            new_quantity: Some(x),
        },
    ]
}

fn run_extremes(extremes: &[Decimal]) {
    for band in [None, Some(500)] {
        for rules in [false, true] {
            for &extreme in extremes {
                for action in extreme_actions(extreme) {
                    orchestrator::run(&extreme_scenario(action, band, rules));
                }
            }
        }
    }
}

/// Zero, negative, tiny and merely large decimals in every field of every
/// action are refused or handled, never a panic.
#[test]
fn unusual_decimals_in_every_field_are_survived() {
    run_extremes(&[
        Decimal::ZERO,
        Decimal::NEGATIVE_ONE,
        Decimal::new(1, 28),
        -Decimal::new(1, 28),
        Decimal::from(1_000_000_000_000_i64),
        Decimal::MIN,
    ]);
}

/// Huge prices: `Decimal::MAX` and 10^28 in every field of every action
/// (these overflowed the risk guard's price band and minimum-notional
/// checks, and without a band the paper exchange's fill ledger and the
/// portfolio, before the risk guard refused absurd numbers).
#[test]
fn huge_decimals_in_every_field_are_survived() {
    run_extremes(&[
        Decimal::MAX,
        Decimal::from_i128_with_scale(10_i128.pow(28), 0),
    ]);
}

/// The immediate algorithm under a huge `max_order_quantity` (this
/// overflowed in `PluginInstrument::round_quantity_down` before grid
/// rounding was made overflow-free).
#[test]
fn immediate_algorithm_survives_a_huge_max_order_quantity() {
    use orchestrator::{FuzzDecimal, FuzzSignal, Step};
    let mut scenario = extreme_scenario(
        limit_place(Decimal::ONE, orchestrator::FuzzPrice::Near(0), None),
        None,
        true,
    );
    scenario.limits.max_order_quantity = Some(FuzzDecimal(Decimal::MAX));
    scenario.steps.insert(
        0,
        Step::Signal(FuzzSignal {
            eth: false,
            kind: tesser_core::SignalKind::EnterLong,
            quantity: None,
            immediate: true,
        }),
    );
    orchestrator::run(&scenario);
}

/// A tiny `max_order_quantity` would split an immediate signal into
/// `target / max` market orders (10^30 for 100 in orders of 1e-28); the
/// immediate algorithm fails instead, naming the limit
/// (`fuzz/regressions/plugin_result/immediate-algorithm-unbounded-split-tiny-max-order-quantity.json`).
#[test]
fn immediate_algorithm_refuses_a_split_into_too_many_orders() {
    use orchestrator::{FuzzDecimal, FuzzSignal, Step};
    let mut scenario = extreme_scenario(
        limit_place(Decimal::ONE, orchestrator::FuzzPrice::Near(0), None),
        None,
        true,
    );
    scenario.limits.max_order_quantity = Some(FuzzDecimal(Decimal::new(1, 28)));
    scenario.steps.insert(
        0,
        Step::Signal(FuzzSignal {
            eth: false,
            kind: tesser_core::SignalKind::EnterLong,
            quantity: Some(100),
            immediate: true,
        }),
    );
    orchestrator::run(&scenario);
}

/// A placement refused for reusing a suffix answers with the id of the
/// order that holds it, which is live: the refusal is the runtime's word to
/// the plugin and must not close that order in the books. It did, so a
/// plugin completing in the same result (after a restart) left the live
/// order open at the venue under an ended algorithm
/// (`fuzz/regressions/plugin_result/refused-reused-suffix-closes-the-live-order.json`).
#[test]
fn a_refused_reused_suffix_leaves_the_live_order_in_the_books() {
    let scenario: orchestrator::Scenario = serde_json::from_str(include_str!(
        "../../fuzz/regressions/plugin_result/refused-reused-suffix-closes-the-live-order.json"
    ))
    .expect("the reproducer decodes in the current layout");
    orchestrator::run(&scenario);
}

/// An orchestrator on the paper exchange whose algorithms are all the
/// host's immediate algorithm, for checking the invariant checker itself.
fn immediate_orchestrator() -> tesser_execution::Orchestrator<tesser_paper::PaperExchange> {
    use tesser_execution::wasm::EngineError;
    use tesser_execution::{
        AlgorithmProvider, ExecutionAlgorithm, FixedQuantitySizer, ImmediateAlgorithm,
        Orchestrator, OrchestratorConfig, OrchestratorParts, RiskGuard, RiskLimits, StateStore,
    };
    struct Immediate;
    impl AlgorithmProvider for Immediate {
        fn create(&self, _name: &str) -> Result<Box<dyn ExecutionAlgorithm>, EngineError> {
            Ok(Box::new(ImmediateAlgorithm::default()))
        }
    }
    let mut orchestrator = Orchestrator::open(OrchestratorParts {
        provider: Box::new(Immediate),
        exchange: tesser_paper::PaperExchange::new(tesser_paper::PaperConfig::default()),
        store: StateStore::open_in_memory().expect("in-memory store"),
        risk: RiskGuard::new(RiskLimits::default(), []),
        sizer: Box::new(FixedQuantitySizer::new(Decimal::ONE)),
        config: OrchestratorConfig::default(),
    })
    .expect("orchestrator");
    let signal = tesser_core::Signal::new("BTCUSD", tesser_core::SignalKind::EnterLong, 1.0);
    orchestrator.submit_signal(&signal).expect("signal");
    orchestrator::check_invariants(&orchestrator);
    orchestrator
}

fn stray_order(id: &str, quantity: Decimal) -> tesser_core::OrderRequest {
    tesser_core::OrderRequest::limit(id, "BTCUSD", tesser_core::Side::Buy, quantity, Decimal::ONE)
}

/// The checker sees an open order no algorithm owns.
#[test]
#[should_panic(expected = "has no algorithm")]
fn invariant_checker_catches_an_order_without_algorithm() {
    use tesser_core::ExchangeClient;
    let mut orchestrator = immediate_orchestrator();
    let order = stray_order("nobody-1", Decimal::ONE);
    orchestrator
        .exchange_mut()
        .place_order(order, 0)
        .expect("placed");
    orchestrator::check_invariants(&orchestrator);
}

/// The checker sees an open order of an algorithm that ended.
#[test]
#[should_panic(expected = "which is cancelled")]
fn invariant_checker_catches_an_order_of_an_ended_algorithm() {
    use tesser_core::ExchangeClient;
    let mut orchestrator = immediate_orchestrator();
    orchestrator
        .cancel_algorithm("algo-1", "test")
        .expect("cancelled");
    let order = stray_order("algo-1-late", Decimal::new(1, 1));
    orchestrator
        .exchange_mut()
        .place_order(order, 0)
        .expect("placed");
    orchestrator::check_invariants(&orchestrator);
}

/// The checker sees more working than the target allows.
#[test]
#[should_panic(expected = "exceeds the target")]
fn invariant_checker_catches_an_overfill() {
    use tesser_core::ExchangeClient;
    let mut orchestrator = immediate_orchestrator();
    let order = stray_order("algo-1-extra", Decimal::new(1, 1));
    orchestrator
        .exchange_mut()
        .place_order(order, 0)
        .expect("placed");
    orchestrator::check_invariants(&orchestrator);
}

/// An amend of the `known`-th acknowledged order to a new total quantity.
fn raise(known: u8, quantity: Decimal) -> orchestrator::FuzzAction {
    orchestrator::FuzzAction::Amend {
        order: orchestrator::FuzzOrderRef::Known(known),
        new_price: None,
        new_quantity: Some(orchestrator::FuzzDecimal(quantity)),
    }
}

/// Two amends in one result, each within the target on its own, together
/// beyond it: the second must be refused.
#[test]
fn two_amends_in_one_result_cannot_overfill() {
    let below = orchestrator::FuzzPrice::Near(-1);
    let q = |n| Decimal::new(n, 1);
    orchestrator::run(&scripted_scenario(
        100,
        Some(500),
        false,
        vec![
            // init: two orders of 0.4 below the market
            vec![
                limit_place(q(4), below, None),
                limit_place(q(4), below, None),
            ],
            // the first acknowledgement
            Vec::new(),
            // the second: raise both to 0.6 (1.2 in all, over the target of 1)
            vec![raise(0, q(6)), raise(1, q(6))],
        ],
        vec![print(0, 1_000)],
    ));
}

/// An amend and a place in one result, each within the target on its own,
/// together beyond it: the place must be refused.
#[test]
fn an_amend_and_a_place_in_one_result_cannot_overfill() {
    let below = orchestrator::FuzzPrice::Near(-1);
    let q = |n| Decimal::new(n, 1);
    orchestrator::run(&scripted_scenario(
        100,
        Some(500),
        false,
        vec![
            // init: one order of 0.4 below the market
            vec![limit_place(q(4), below, None)],
            // its acknowledgement: raise it to 0.8 and place 0.4 more
            vec![raise(0, q(8)), limit_place(q(4), below, None)],
        ],
        vec![print(0, 1_000)],
    ));
}
