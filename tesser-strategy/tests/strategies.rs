//! The strategy context and the built-in strategies, driven tick by tick.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;
use tesser_core::{ExecutionHint, Signal, SignalKind, Symbol, Tick};
use tesser_strategy::{
    NoPositions, PositionView, Scripted, ScriptedSignal, SmaCross, SmaCrossParams, Strategy,
    StrategyConfig, StrategyContext, Trigger,
};

fn chase_hint() -> ExecutionHint {
    ExecutionHint::Plugin {
        name: "plugin_chase".into(),
        params: json!({ "clip_size": "0.5" }),
    }
}

fn tick(symbol: &str, price: Decimal, timestamp_ms: i64) -> Tick {
    Tick {
        symbol: symbol.into(),
        price,
        size: dec!(1),
        aggressor: None,
        timestamp_ms,
    }
}

/// A published signal and the index of the tick that produced it.
#[derive(Debug, Clone, PartialEq)]
struct Published {
    index: usize,
    kind: SignalKind,
    quantity: Option<Decimal>,
}

/// How positions respond to signals while a strategy runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fills {
    /// Every signal fills completely before the next tick.
    Instant,
    /// Nothing ever fills.
    Never,
}

/// Feeds `prices` of BTCUSD (one tick per second) to `strategy`.
fn run(strategy: &mut dyn Strategy, prices: &[Decimal], fills: Fills) -> Vec<Published> {
    let btc = Symbol::from("BTCUSD");
    let mut positions: BTreeMap<Symbol, Decimal> = BTreeMap::new();
    let mut published = Vec::new();
    for (index, price) in prices.iter().enumerate() {
        let now = i64::try_from(index).expect("small index") * 1_000;
        let mut ctx = StrategyContext::new(now, &positions, chase_hint());
        strategy.on_tick(&mut ctx, &tick("BTCUSD", *price, now));
        let signals = ctx.take_signals();
        for signal in signals {
            assert_eq!(signal.execution_hint, Some(chase_hint()));
            assert_eq!(signal.symbol, btc);
            if fills == Fills::Instant {
                let position = positions.position(&btc);
                let traded = signal.quantity.unwrap_or(position.abs());
                let new = match signal.kind {
                    SignalKind::EnterLong | SignalKind::ExitShort => position + traded,
                    SignalKind::ExitLong | SignalKind::EnterShort => position - traded,
                    SignalKind::Flatten => Decimal::ZERO,
                };
                positions.insert(btc.clone(), new);
            }
            published.push(Published {
                index,
                kind: signal.kind,
                quantity: signal.quantity,
            });
        }
    }
    published
}

fn sma(fast: usize, slow: usize, allow_short: bool) -> SmaCross {
    SmaCross::new(
        "BTCUSD",
        SmaCrossParams {
            fast,
            slow,
            quantity: dec!(0.5),
            allow_short,
        },
    )
    .expect("valid params")
}

/// Flat at 100 for `flat` ticks, then each step of `steps` added in turn.
fn series(flat: usize, steps: &[(i64, usize)]) -> Vec<Decimal> {
    let mut prices = vec![dec!(100); flat];
    let mut price = dec!(100);
    for &(step, count) in steps {
        for _ in 0..count {
            price += Decimal::from(step);
            prices.push(price);
        }
    }
    prices
}

/// Independently computed crossings: the plain average of each window at
/// every tick, and the ticks where fast goes from at-or-below to above
/// (`Greater`) or from at-or-above to below (`Less`).
fn expected_crossings(
    prices: &[Decimal],
    fast: usize,
    slow: usize,
) -> Vec<(usize, std::cmp::Ordering)> {
    let average =
        |window: &[Decimal]| window.iter().copied().sum::<Decimal>() / Decimal::from(window.len());
    let relation = |index: usize| {
        let fast_avg = average(&prices[index + 1 - fast..=index]);
        let slow_avg = average(&prices[index + 1 - slow..=index]);
        fast_avg.cmp(&slow_avg)
    };
    let mut crossings = Vec::new();
    for index in slow..prices.len() {
        let (before, now) = (relation(index - 1), relation(index));
        if before != std::cmp::Ordering::Greater && now == std::cmp::Ordering::Greater {
            crossings.push((index, now));
        }
        if before != std::cmp::Ordering::Less && now == std::cmp::Ordering::Less {
            crossings.push((index, now));
        }
    }
    crossings
}

#[test]
fn published_signal_keeps_its_own_hint() {
    let mut ctx = StrategyContext::new(0, &NoPositions, ExecutionHint::Immediate);
    let signal =
        Signal::new("BTCUSDT", SignalKind::EnterLong, 0.8).with_hint(ExecutionHint::Plugin {
            name: "chase_execution".into(),
            params: json!({ "clip_size": "0.25" }),
        });
    ctx.publish(signal.clone());
    let signals = ctx.take_signals();
    assert_eq!(signals, vec![signal]);
    assert_eq!(
        signals[0].execution_hint,
        Some(ExecutionHint::Plugin {
            name: "chase_execution".into(),
            params: json!({ "clip_size": "0.25" }),
        })
    );
}

#[test]
fn context_attaches_its_hint_and_drains() {
    let mut ctx = StrategyContext::new(0, &NoPositions, chase_hint());
    assert_eq!(ctx.execution_hint(), &chase_hint());
    ctx.publish(Signal::new("BTCUSD", SignalKind::EnterLong, 1.0).with_quantity(dec!(2)));
    ctx.publish(Signal::new("BTCUSD", SignalKind::Flatten, 1.0));
    assert_eq!(ctx.signals().len(), 2);
    let signals = ctx.take_signals();
    assert_eq!(
        signals.iter().map(|s| s.kind).collect::<Vec<_>>(),
        [SignalKind::EnterLong, SignalKind::Flatten]
    );
    assert!(
        signals
            .iter()
            .all(|s| s.execution_hint == Some(chase_hint()))
    );
    assert_eq!(signals[0].quantity, Some(dec!(2)));
    assert!(ctx.take_signals().is_empty());
}

#[test]
fn context_lends_time_and_positions() {
    let mut book: BTreeMap<Symbol, Decimal> = BTreeMap::new();
    book.insert("BTCUSD".into(), dec!(-1.5));
    let ctx = StrategyContext::new(1_700_000_000_123, &book, ExecutionHint::Immediate);
    assert_eq!(ctx.now_ms(), 1_700_000_000_123);
    assert_eq!(ctx.position(&"BTCUSD".into()), dec!(-1.5));
    assert_eq!(ctx.position(&"ETHUSD".into()), Decimal::ZERO);

    let portfolio = tesser_core::Portfolio::new("USD", dec!(1000));
    let ctx = StrategyContext::new(0, &portfolio, ExecutionHint::Immediate);
    assert_eq!(ctx.position(&"BTCUSD".into()), Decimal::ZERO);
}

#[test]
fn sma_cross_enters_then_exits_at_the_crossings() {
    let (fast, slow) = (5, 20);
    // Flat warm-up, a rise, then a fall.
    let prices = series(30, &[(1, 40), (-1, 60)]);
    let crossings = expected_crossings(&prices, fast, slow);
    assert_eq!(crossings.len(), 2, "{crossings:?}");
    let (up, down) = (crossings[0], crossings[1]);
    assert_eq!(
        up,
        (30, std::cmp::Ordering::Greater),
        "the first rising tick"
    );
    assert_eq!(down.1, std::cmp::Ordering::Less);
    assert!(down.0 > 70, "after the top: {down:?}");

    let published = run(&mut sma(fast, slow, false), &prices, Fills::Instant);
    assert_eq!(
        published,
        [
            Published {
                index: up.0,
                kind: SignalKind::EnterLong,
                quantity: Some(dec!(0.5)),
            },
            Published {
                index: down.0,
                kind: SignalKind::ExitLong,
                quantity: Some(dec!(0.5)),
            },
        ]
    );
}

#[test]
fn sma_cross_waits_for_slow_prices() {
    let (fast, slow) = (3, 10);
    // Zigzags that make the averages cross again and again, from the start.
    let mut prices = Vec::new();
    for index in 0..200_i64 {
        let phase = index % 14;
        let price = if phase < 7 {
            100 + phase * 3
        } else {
            121 - (phase - 7) * 3
        };
        prices.push(Decimal::from(price));
    }
    let published = run(&mut sma(fast, slow, true), &prices, Fills::Instant);
    assert!(!published.is_empty());
    assert!(
        published.iter().all(|p| p.index >= slow),
        "signal before {slow} prices: {published:?}"
    );
    // Every signal is on an independently computed crossing.
    let crossings = expected_crossings(&prices, fast, slow);
    for p in &published {
        assert!(
            crossings.iter().any(|(index, _)| *index == p.index),
            "{p:?} not on a crossing"
        );
    }
    // And nothing at all from a series shorter than `slow`.
    let published = run(&mut sma(fast, slow, true), &prices[..slow], Fills::Instant);
    assert!(published.is_empty(), "{published:?}");
}

#[test]
fn sma_cross_is_deterministic() {
    let prices = series(25, &[(2, 30), (-3, 30), (1, 50), (-2, 40)]);
    let first = run(&mut sma(4, 16, true), &prices, Fills::Instant);
    let second = run(&mut sma(4, 16, true), &prices, Fills::Instant);
    assert_eq!(first, second);
    assert!(first.len() >= 4, "{first:?}");
}

#[test]
fn sma_cross_with_shorts_reverses() {
    let (fast, slow) = (5, 20);
    let prices = series(30, &[(1, 40), (-1, 80), (1, 80)]);
    let crossings = expected_crossings(&prices, fast, slow);
    assert_eq!(crossings.len(), 3, "{crossings:?}");
    let published = run(&mut sma(fast, slow, true), &prices, Fills::Instant);
    let q = Some(dec!(0.5));
    assert_eq!(
        published,
        [
            Published {
                index: crossings[0].0,
                kind: SignalKind::EnterLong,
                quantity: q
            },
            Published {
                index: crossings[1].0,
                kind: SignalKind::ExitLong,
                quantity: q
            },
            Published {
                index: crossings[1].0,
                kind: SignalKind::EnterShort,
                quantity: q
            },
            Published {
                index: crossings[2].0,
                kind: SignalKind::ExitShort,
                quantity: q
            },
            Published {
                index: crossings[2].0,
                kind: SignalKind::EnterLong,
                quantity: q
            },
        ]
    );
}

#[test]
fn sma_cross_flattens_an_entry_that_has_not_filled() {
    let prices = series(30, &[(1, 40), (-1, 60)]);
    let published = run(&mut sma(5, 20, false), &prices, Fills::Never);
    assert_eq!(
        published.iter().map(|p| p.kind).collect::<Vec<_>>(),
        [SignalKind::EnterLong, SignalKind::Flatten]
    );
    assert_eq!(published[1].quantity, None);
}

#[test]
fn sma_cross_flattens_a_partly_filled_entry() {
    let mut strategy = sma(5, 20, false);
    let prices = series(30, &[(1, 40), (-1, 60)]);
    let btc = Symbol::from("BTCUSD");
    let mut book: BTreeMap<Symbol, Decimal> = BTreeMap::new();
    let mut kinds = Vec::new();
    for (index, price) in prices.iter().enumerate() {
        let now = i64::try_from(index).expect("small") * 1_000;
        let mut ctx = StrategyContext::new(now, &book, ExecutionHint::Immediate);
        strategy.on_tick(&mut ctx, &tick("BTCUSD", *price, now));
        for signal in ctx.take_signals() {
            if signal.kind == SignalKind::EnterLong {
                // Half of the entry fills; the rest is still being worked.
                book.insert(btc.clone(), dec!(0.25));
            }
            kinds.push(signal.kind);
        }
    }
    assert_eq!(kinds, [SignalKind::EnterLong, SignalKind::Flatten]);
}

#[test]
fn sma_cross_does_not_enter_twice_when_the_averages_touch() {
    // fast = 1, slow = 2: relations Equal, Greater, Equal, Greater.
    let prices = [dec!(100), dec!(100), dec!(101), dec!(101), dec!(102)];
    let published = run(&mut sma(1, 2, false), &prices, Fills::Never);
    assert_eq!(
        published,
        [Published {
            index: 2,
            kind: SignalKind::EnterLong,
            quantity: Some(dec!(0.5))
        }]
    );
}

#[test]
fn sma_cross_ignores_other_symbols() {
    let prices = series(30, &[(1, 40), (-1, 60)]);
    let mut alone = sma(5, 20, false);
    let expected = run(&mut alone, &prices, Fills::Never);

    let mut mixed = sma(5, 20, false);
    let mut kinds = Vec::new();
    for (index, price) in prices.iter().enumerate() {
        let now = i64::try_from(index).expect("small") * 1_000;
        let mut ctx = StrategyContext::new(now, &NoPositions, ExecutionHint::Immediate);
        mixed.on_tick(
            &mut ctx,
            &tick(
                "ETHUSD",
                dec!(1) + Decimal::from(index % 3) * dec!(1000),
                now,
            ),
        );
        mixed.on_tick(&mut ctx, &tick("BTCUSD", *price, now));
        kinds.extend(ctx.take_signals().into_iter().map(|s| (index, s.kind)));
    }
    assert_eq!(
        kinds,
        expected
            .iter()
            .map(|p| (p.index, p.kind))
            .collect::<Vec<_>>()
    );
}

#[test]
fn sma_cross_averages_stay_exact() {
    let mut strategy = sma(2, 3, false);
    let prices = [dec!(0.1), dec!(0.2), dec!(0.3), dec!(0.4)];
    assert_eq!(strategy.averages(), None);
    run(&mut strategy, &prices, Fills::Never);
    assert_eq!(strategy.averages(), Some((dec!(0.35), dec!(0.3))));
}

#[test]
fn sma_cross_refuses_bad_params_in_code() {
    let params = SmaCrossParams {
        fast: 10,
        slow: 10,
        quantity: dec!(1),
        allow_short: false,
    };
    let error = SmaCross::new("BTCUSD", params).expect_err("fast == slow");
    assert!(error.to_string().contains("`fast`"), "{error}");
}

fn entry(kind: SignalKind, trigger: Trigger, note: &str) -> ScriptedSignal {
    ScriptedSignal {
        kind,
        quantity: Some(dec!(1)),
        trigger,
        note: Some(note.into()),
    }
}

#[test]
fn scripted_triggers_fire_once_at_their_tick() {
    let mut strategy = Scripted::new(
        "BTCUSD",
        vec![
            entry(SignalKind::Flatten, Trigger::AtMs(5_000), "at 5s"),
            entry(SignalKind::EnterLong, Trigger::AfterTicks(3), "third tick"),
            entry(
                SignalKind::EnterShort,
                Trigger::PriceBelow(dec!(95)),
                "below 95",
            ),
            entry(
                SignalKind::ExitLong,
                Trigger::PriceAbove(dec!(105)),
                "above 105",
            ),
            entry(
                SignalKind::ExitShort,
                Trigger::AfterTicks(3),
                "third tick too",
            ),
        ],
    )
    .expect("valid script");
    // index:            0    1    2    3    4    5    6    7    8
    let prices = [100, 101, 104, 106, 110, 96, 94, 106, 90];
    let mut fired: Vec<(usize, String)> = Vec::new();
    for (index, price) in prices.iter().enumerate() {
        let now = 1_000 * i64::try_from(index).expect("small") + 500;
        let mut ctx = StrategyContext::new(now, &NoPositions, chase_hint());
        // Ticks of another symbol neither count nor trigger.
        strategy.on_tick(&mut ctx, &tick("ETHUSD", dec!(1), now));
        strategy.on_tick(&mut ctx, &tick("BTCUSD", Decimal::from(*price), now));
        for signal in ctx.take_signals() {
            assert_eq!(signal.execution_hint, Some(chase_hint()));
            assert_eq!(signal.quantity, Some(dec!(1)));
            fired.push((index, signal.note.expect("note")));
        }
    }
    let expected: Vec<(usize, String)> = [
        (2, "third tick"),
        (2, "third tick too"),
        (3, "above 105"),
        (5, "at 5s"),
        (6, "below 95"),
    ]
    .into_iter()
    .map(|(index, note)| (index, note.to_owned()))
    .collect();
    assert_eq!(fired, expected);
    assert_eq!(strategy.pending(), 0);
}

#[test]
fn scripted_from_config_publishes_with_the_config_hint() {
    let config = StrategyConfig::from_toml_str(
        r#"
strategy_name = "scripted"
symbol = "BTCUSD"
[[params.signals]]
kind = "enter_long"
quantity = "5"
after_ticks = 2
note = "demo entry"
[execution]
plugin = "plugin_chase"
params = { clip_size = "0.25" }
"#,
        "demo.toml",
    )
    .expect("valid");
    let mut strategy = config.build().expect("builds");
    let mut signals = Vec::new();
    for index in 0..4 {
        let mut ctx = StrategyContext::new(index, &NoPositions, config.execution_hint());
        strategy.on_tick(&mut ctx, &tick("BTCUSD", dec!(100), index));
        signals.extend(ctx.take_signals().into_iter().map(|s| (index, s)));
    }
    assert_eq!(signals.len(), 1);
    let (index, signal) = &signals[0];
    assert_eq!(*index, 1);
    assert_eq!(signal.kind, SignalKind::EnterLong);
    assert_eq!(signal.quantity, Some(dec!(5)));
    assert_eq!(signal.note.as_deref(), Some("demo entry"));
    assert_eq!(
        signal.execution_hint,
        Some(ExecutionHint::Plugin {
            name: "plugin_chase".into(),
            params: json!({ "clip_size": "0.25" }),
        })
    );
}

#[test]
fn scripted_refuses_bad_entries_in_code() {
    let error = Scripted::new(
        "BTCUSD",
        vec![entry(
            SignalKind::EnterLong,
            Trigger::AfterTicks(0),
            "never",
        )],
    )
    .expect_err("tick 0");
    assert!(
        error.to_string().contains("signals[1].after_ticks"),
        "{error}"
    );
}
