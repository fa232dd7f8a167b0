//! Same input, same output; and saving mid-run changes nothing.

mod common;

use common::scenario::{Action, Outcome, apply, scenario};
use common::*;
use rust_decimal_macros::dec;
use tesser_core::{ExchangeClient, Liquidity, Side};
use tesser_paper::{PaperConfig, PaperExchange};

const STEPS: usize = 10_000;

fn config() -> PaperConfig {
    PaperConfig {
        maker_fee_bps: dec!(1),
        taker_fee_bps: dec!(5),
        ..PaperConfig::default()
    }
}

fn run(actions: &[Action]) -> (PaperExchange, Outcome) {
    let mut ex = PaperExchange::new(config());
    let mut outcome = Outcome::default();
    apply(&mut ex, actions, &mut outcome);
    ex.poll_events(&mut outcome.events);
    (ex, outcome)
}

#[test]
fn the_same_input_gives_the_same_fills() {
    let actions = scenario(42, STEPS);
    assert!(
        actions
            .iter()
            .filter(|a| matches!(a, Action::Print(_)))
            .count()
            >= STEPS,
        "at least 10,000 prints"
    );
    let (first, first_outcome) = run(&actions);
    let (second, second_outcome) = run(&scenario(42, STEPS));
    // The scenario exercises the model: many fills of both kinds.
    assert!(first.fills().len() > 500, "{} fills", first.fills().len());
    for liquidity in [Liquidity::Maker, Liquidity::Taker] {
        assert!(first.fills().iter().any(|f| f.liquidity == liquidity));
    }
    assert_eq!(first.fills(), second.fills());
    assert_eq!(first_outcome, second_outcome);
    assert_eq!(first.open_orders().unwrap(), second.open_orders().unwrap());
    assert_eq!(first, second);
    assert_eq!(
        serde_json::to_string(&first).unwrap(),
        serde_json::to_string(&second).unwrap()
    );
    // Fill ids are sequential.
    for (n, fill) in first.fills().iter().enumerate() {
        assert_eq!(fill.fill_id, format!("paper-{:06}", n + 1));
    }
    // Another seed gives another run (the test is not vacuous).
    let (other, _) = run(&scenario(7, STEPS));
    assert_ne!(first.fills(), other.fills());
}

#[test]
fn a_state_saved_mid_run_continues_identically() {
    let actions = scenario(1234, STEPS);
    let (uninterrupted, uninterrupted_outcome) = run(&actions);

    // Save at the first print after the middle that leaves events queued, so
    // they must survive too.
    let mut ex = PaperExchange::new(config());
    let mut outcome = Outcome::default();
    let mut saved_at = None;
    for (i, action) in actions.iter().enumerate() {
        apply(&mut ex, std::slice::from_ref(action), &mut outcome);
        if i >= actions.len() / 2 && saved_at.is_none() {
            let json = serde_json::to_string(&ex).unwrap();
            if !json.contains(r#""pending":[]"#) {
                let restored: PaperExchange = serde_json::from_str(&json).unwrap();
                assert_eq!(restored, ex);
                assert_eq!(serde_json::to_string(&restored).unwrap(), json);
                assert_eq!(restored.open_orders().unwrap(), ex.open_orders().unwrap());
                ex = restored;
                saved_at = Some(i);
            }
        }
    }
    ex.poll_events(&mut outcome.events);
    assert!(saved_at.is_some(), "the state was saved");
    assert_eq!(ex.fills(), uninterrupted.fills());
    assert_eq!(outcome, uninterrupted_outcome);
    assert_eq!(ex, uninterrupted);
}

#[test]
fn a_restored_exchange_keeps_everything() {
    let mut ex = PaperExchange::new(config());
    place(&mut ex, limit("b", Side::Buy, dec!(3), dec!(100)));
    place(&mut ex, stop("st", Side::Sell, dec!(1), dec!(95), None));
    ex.on_market_tick(&print(dec!(99), dec!(1), 1));
    let json = serde_json::to_string(&ex).unwrap();
    let mut restored: PaperExchange = serde_json::from_str(&json).unwrap();
    assert_eq!(restored.config(), &config());
    assert_eq!(restored.last_price(&SYMBOL.into()), Some(dec!(99)));
    assert_eq!(restored.fills(), ex.fills());
    assert_eq!(fills_of(&restored, "b"), vec![(dec!(100), dec!(1))]);
    assert_eq!(events(&mut restored), events(&mut ex));
    // Ids stay used, and matching picks up where it was.
    assert!(
        restored
            .place_order(limit("b", Side::Buy, dec!(1), dec!(1)), 2)
            .is_err()
    );
    restored.on_market_tick(&print(dec!(94), dec!(5), 3));
    assert_eq!(
        all_fills(&restored)[1..],
        [
            ("st".to_owned(), dec!(94), dec!(1)),
            ("b".to_owned(), dec!(100), dec!(2)),
        ]
    );
    assert_eq!(restored.fills()[2].fill_id, "paper-000003");
}

#[test]
fn an_inconsistent_saved_state_is_refused() {
    let mut ex = exchange();
    place(&mut ex, limit("b", Side::Buy, dec!(3), dec!(100)));
    ex.on_market_tick(&print(dec!(99), dec!(1), 1));
    let json = serde_json::to_string(&ex).unwrap();

    let orphan_fill = json.replace(
        r#""client_order_id":"b","symbol":"BTCUSD","side":"buy","price":"100","quantity":"1""#,
        r#""client_order_id":"zz","symbol":"BTCUSD","side":"buy","price":"100","quantity":"1""#,
    );
    assert_ne!(orphan_fill, json);
    let error = serde_json::from_str::<PaperExchange>(&orphan_fill).unwrap_err();
    assert!(error.to_string().contains("unknown order zz"), "{error}");

    let bad_event = json.replace(r#"{"kind":"fill","fill":0}"#, r#"{"kind":"fill","fill":9}"#);
    assert_ne!(bad_event, json);
    let error = serde_json::from_str::<PaperExchange>(&bad_event).unwrap_err();
    assert!(error.to_string().contains("fill #9"), "{error}");

    let unknown_field = json.replacen('{', r#"{"extra":1,"#, 1);
    assert!(serde_json::from_str::<PaperExchange>(&unknown_field).is_err());
}
