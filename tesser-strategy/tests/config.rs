//! Strategy configuration files: the samples, the execution hint, and one
//! test per kind of mistake (each message names the file and the key).

use std::path::{Path, PathBuf};

use rust_decimal_macros::dec;
use serde_json::json;
use tesser_core::{ExecutionHint, SignalKind};
use tesser_strategy::{
    ScriptedSignal, SmaCrossParams, StrategyConfig, StrategyError, StrategyParams, Trigger,
};

const FILE: &str = "bad_strategy.toml";

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples-config")
        .join(name)
}

fn parse(text: &str) -> StrategyConfig {
    StrategyConfig::from_toml_str(text, FILE).expect("config should parse")
}

/// The error message, checked to name the file and every one of `keys`.
fn error_naming(text: &str, keys: &[&str]) -> String {
    let error = StrategyConfig::from_toml_str(text, FILE).expect_err("config should be refused");
    let message = error.to_string();
    assert!(message.contains(FILE), "no file name in: {message}");
    for key in keys {
        assert!(message.contains(key), "no `{key}` in: {message}");
    }
    assert!(!message.contains('\n'), "not one line: {message}");
    message
}

const SMA: &str = r#"
strategy_name = "sma_cross"
symbol = "BTCUSD"

[params]
fast = 20
slow = 100
quantity = "0.5"
"#;

#[test]
fn sample_sma_cross_config_loads_and_builds() {
    let config = StrategyConfig::load(&sample("sma_cross.toml")).expect("sample loads");
    assert_eq!(config.strategy_name(), "sma_cross");
    assert_eq!(config.symbol().as_str(), "BTCUSD");
    assert_eq!(
        config.params(),
        &StrategyParams::SmaCross(SmaCrossParams {
            fast: 20,
            slow: 100,
            quantity: dec!(0.5),
            allow_short: false,
        })
    );
    assert_eq!(
        config.execution_hint(),
        ExecutionHint::Plugin {
            name: "plugin_chase".into(),
            params: json!({ "clip_size": "0.25" }),
        }
    );
    assert!(config.source().ends_with("sma_cross.toml"));
    assert_eq!(config.build().expect("builds").name(), "sma_cross");
}

#[test]
fn sample_scripted_config_loads_and_builds() {
    let config = StrategyConfig::load(&sample("scripted.toml")).expect("sample loads");
    assert_eq!(config.strategy_name(), "scripted");
    let StrategyParams::Scripted(entries) = config.params() else {
        panic!("not scripted: {:?}", config.params());
    };
    assert_eq!(
        entries,
        &[
            ScriptedSignal {
                kind: SignalKind::EnterLong,
                quantity: Some(dec!(5)),
                trigger: Trigger::AfterTicks(20),
                note: Some("demo entry".into()),
            },
            ScriptedSignal {
                kind: SignalKind::EnterLong,
                quantity: Some(dec!(1)),
                trigger: Trigger::PriceAbove(dec!(10800)),
                note: Some("breakout add".into()),
            },
            ScriptedSignal {
                kind: SignalKind::Flatten,
                quantity: None,
                trigger: Trigger::AtMs(1_700_000_600_000),
                note: Some("end of session".into()),
            },
        ]
    );
    assert_eq!(
        config.execution_hint(),
        ExecutionHint::Plugin {
            name: "plugin_chase".into(),
            params: json!({ "clip_size": "0.25" }),
        }
    );
    assert_eq!(config.build().expect("builds").name(), "scripted");
}

#[test]
fn execution_params_become_json_and_strings_stay_strings() {
    let config = parse(&format!(
        r#"{SMA}
[execution]
plugin = "plugin_chase"
params = {{ clip_size = "0.25", max_clips = 4, urgency = 0.5, post_only = true, levels = ["1", 2], nested = {{ a = "x" }}, start = 2024-01-02T03:04:05Z }}
"#
    ));
    let ExecutionHint::Plugin { name, params } = config.execution_hint() else {
        panic!("not a plugin hint");
    };
    assert_eq!(name, "plugin_chase");
    assert_eq!(
        params,
        json!({
            "clip_size": "0.25",
            "max_clips": 4,
            "urgency": 0.5,
            "post_only": true,
            "levels": ["1", 2],
            "nested": { "a": "x" },
            "start": "2024-01-02T03:04:05Z",
        })
    );
}

#[test]
fn execution_defaults() {
    assert_eq!(parse(SMA).execution_hint(), ExecutionHint::Immediate);
    assert_eq!(
        parse(&format!("{SMA}\n[execution]\n")).execution_hint(),
        ExecutionHint::Immediate
    );
    assert_eq!(
        parse(&format!("{SMA}\n[execution]\nplugin = \"plugin_chase\"\n")).execution_hint(),
        ExecutionHint::Plugin {
            name: "plugin_chase".into(),
            params: json!({}),
        }
    );
}

#[test]
fn sma_cross_allow_short_and_integer_quantity() {
    let config = parse(
        r#"
strategy_name = "sma_cross"
symbol = "ETHUSD"
[params]
fast = 2
slow = 3
quantity = 5
allow_short = true
"#,
    );
    assert_eq!(
        config.params(),
        &StrategyParams::SmaCross(SmaCrossParams {
            fast: 2,
            slow: 3,
            quantity: dec!(5),
            allow_short: true,
        })
    );
}

#[test]
fn unknown_top_level_key_is_named() {
    let text = format!("strategy = \"x\"{SMA}");
    let message = error_naming(&text, &["unknown field `strategy`", "strategy_name"]);
    assert!(message.contains(&format!("{FILE}:1:1:")), "{message}");
}

#[test]
fn unknown_params_key_is_named() {
    let text = SMA.replace("slow = 100", "slow = 100\nslo = 3");
    let message = error_naming(&text, &["slo"]);
    assert!(message.contains("unknown field `slo`"), "{message}");

    let scripted = r#"
strategy_name = "scripted"
symbol = "BTCUSD"
[[params.signals]]
kind = "enter_long"
after_ticks = 2
qty = "1"
"#;
    error_naming(scripted, &["unknown field `qty`", ":7:"]);

    error_naming(
        r#"
strategy_name = "scripted"
symbol = "BTCUSD"
[params]
signals = []
fast = 3
"#,
        &["unknown field `fast`"],
    );
}

#[test]
fn unknown_execution_key_is_named() {
    error_naming(
        &format!("{SMA}\n[execution]\nplugn = \"plugin_chase\"\n"),
        &["unknown field `plugn`"],
    );
}

#[test]
fn unknown_strategy_name_lists_the_built_ins() {
    let error =
        StrategyConfig::from_toml_str(&SMA.replace("\"sma_cross\"", "\"sma_crossover\""), FILE)
            .expect_err("refused");
    assert!(matches!(error, StrategyError::UnknownStrategy { .. }));
    let message = error.to_string();
    for part in [
        FILE,
        "strategy_name",
        "sma_crossover",
        "sma_cross, scripted",
    ] {
        assert!(message.contains(part), "no {part} in {message}");
    }
}

#[test]
fn missing_keys_are_named() {
    error_naming("symbol = \"BTCUSD\"\n", &["strategy_name", "sma_cross"]);
    error_naming(
        &SMA.replace("symbol = \"BTCUSD\"", ""),
        &["missing field `symbol`"],
    );
    error_naming(
        &SMA.replace("quantity = \"0.5\"", ""),
        &["missing field `quantity`"],
    );
}

#[test]
fn fast_must_be_less_than_slow() {
    let message = error_naming(&SMA.replace("fast = 20", "fast = 100"), &["params.fast"]);
    assert!(message.contains("slow"), "{message}");
    assert!(message.contains(&format!("{FILE}:6")), "{message}");
    error_naming(&SMA.replace("fast = 20", "fast = 0"), &["params.fast"]);
    error_naming(&SMA.replace("fast = 20", "fast = -3"), &["params.fast"]);
    error_naming(
        &SMA.replace("slow = 100", "slow = 10000000"),
        &["params.slow"],
    );
}

#[test]
fn bad_quantity_is_named() {
    for bad in ["\"abc\"", "\"0\"", "\"-1\"", "\"\""] {
        let message = error_naming(&SMA.replace("\"0.5\"", bad), &["params.quantity"]);
        assert!(message.contains("\"0.5\""), "no example in {message}");
    }
    // A float is not exact: refused, with the line of the key.
    error_naming(
        &SMA.replace("\"0.5\"", "0.5"),
        &["quantity = 0.5", "decimal in quotes"],
    );
    // A wrong type elsewhere names its line too.
    error_naming(
        &SMA.replace("fast = 20", "fast = \"20\""),
        &["fast = \"20\""],
    );
}

const SCRIPT_HEAD: &str = r#"
strategy_name = "scripted"
symbol = "BTCUSD"

[[params.signals]]
kind = "enter_long"
after_ticks = 1

[[params.signals]]
kind = "exit_long"
"#;

#[test]
fn scripted_entry_needs_a_trigger() {
    let message = error_naming(
        SCRIPT_HEAD,
        &[
            "params.signals[2]",
            "at_ms",
            "after_ticks",
            "price_above",
            "price_below",
        ],
    );
    assert!(message.contains("no trigger"), "{message}");
}

#[test]
fn scripted_entry_takes_only_one_trigger() {
    let message = error_naming(
        &format!("{SCRIPT_HEAD}at_ms = 5\nprice_below = \"100\"\n"),
        &["params.signals[2]", "`at_ms`", "`price_below`"],
    );
    assert!(message.contains("exactly one"), "{message}");
}

#[test]
fn scripted_values_are_checked() {
    error_naming(
        &format!("{SCRIPT_HEAD}after_ticks = 0\n"),
        &["params.signals[2].after_ticks"],
    );
    error_naming(
        &format!("{SCRIPT_HEAD}after_ticks = 3\nquantity = \"-2\"\n"),
        &["params.signals[2].quantity"],
    );
    error_naming(
        &format!("{SCRIPT_HEAD}price_above = \"high\"\n"),
        &["params.signals[2].price_above"],
    );
    error_naming(
        &SCRIPT_HEAD.replace("exit_long", "sell"),
        &["unknown variant `sell`", "exit_long"],
    );
    error_naming(
        "strategy_name = \"scripted\"\nsymbol = \"BTCUSD\"\n[params]\nsignals = []\n",
        &["params.signals", "empty"],
    );
}

#[test]
fn execution_values_are_checked() {
    error_naming(
        &format!("{SMA}\n[execution]\nparams = {{ clip_size = \"0.25\" }}\n"),
        &["execution.params", "execution.plugin"],
    );
    error_naming(
        &format!("{SMA}\n[execution]\nplugin = \"plugin_chase.wasm\"\n"),
        &["execution.plugin", "plugin = \"plugin_chase\""],
    );
    error_naming(
        &format!("{SMA}\n[execution]\nplugin = \"plugin_chase\"\nparams = \"clip\"\n"),
        &["params = \"clip\""],
    );
    error_naming(
        &format!("{SMA}\n[execution]\nplugin = \"plugin_chase\"\nparams = {{ urgency = nan }}\n"),
        &["execution.params.urgency"],
    );
}

#[test]
fn bad_symbol_and_bad_toml_are_reported() {
    error_naming(&SMA.replace("\"BTCUSD\"", "\"\""), &["symbol"]);
    error_naming("strategy_name = \"sma_cross\nsymbol = 1\n", &[":1:"]);
}

#[test]
fn load_names_the_path() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("tesser_strategy_unknown_key.toml");
    std::fs::write(&path, format!("{SMA}\nfoo = 1\n")).expect("write temp file");
    let message = StrategyConfig::load(&path)
        .expect_err("refused")
        .to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("foo"), "{message}");

    let missing = dir.join("tesser_strategy_no_such_file.toml");
    let error = StrategyConfig::load(&missing).expect_err("refused");
    assert!(matches!(error, StrategyError::Read { .. }));
    assert!(
        error
            .to_string()
            .contains("tesser_strategy_no_such_file.toml")
    );
}
