//! The twin against Binance's official Python connector (binance-connector
//! 3.13.0, installed by `scripts/venue-clients`): its requests, signatures
//! and parsing are Binance's, not ours. `tests/official/
//! binance_connector_check.py` drives time, exchangeInfo, account, new /
//! query / cancel order (resting, crossing, MARKET, IOC, FOK), open orders,
//! myTrades, the account's balances after the trades, `-2010` for orders
//! beyond the free balance, and cancelReplace (both modes), and checks every
//! answer against the docs. Every wait is bounded.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rust_decimal_macros::dec;
use tesser_venue_binance_twin::{TwinConfig, TwinVenue};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's python, from `scripts/venue-clients` (it installs the pinned
/// connector once; later runs find it).
fn python() -> PathBuf {
    let script = workspace_root().join("scripts/venue-clients");
    let output = Command::new("bash")
        .arg(&script)
        .output()
        .expect("run scripts/venue-clients");
    assert!(
        output.status.success(),
        "scripts/venue-clients failed (it needs python3 3.11+ with venv and pip access); run `bash scripts/venue-clients` to see why:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

#[test]
fn binance_connector_gets_the_documented_answers() {
    let python = python();
    let mut config = TwinConfig::hmac("official-key", "official-secret");
    let symbol = &mut config.symbols[0];
    symbol.market_lot = (dec!(0), dec!(100), dec!(0));
    symbol.max_num_orders = 5;
    let twin = TwinVenue::start(config).expect("start the twin");
    twin.quote("BTCUSDT", dec!(100), dec!(5), dec!(101), dec!(5));
    let check =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/official/binance_connector_check.py");
    // -B: no __pycache__ next to the script.
    let mut child = Command::new(&python)
        .arg("-B")
        .arg(&check)
        .args([twin.rest_base(), "official-key", "official-secret"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", python.display()));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the check") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} did not finish within 120 s", check.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    assert!(
        status.success(),
        "the official connector's check failed ({status}):\n{stdout}{stderr}"
    );
    assert!(stdout.contains("every answer matches the docs"), "{stdout}");
    // The twin saw the connector's requests, signed, on the documented paths.
    assert!(twin.count("POST", "/api/v3/order/cancelReplace") >= 6);
    assert!(twin.trades().iter().all(|trade| !trade.is_maker));
    // The trades moved the account (4.6 BTC bought, 0.4 sold, less fees).
    let (free, locked) = twin.balance("BTC");
    assert!(free + locked > dec!(14), "BTC {free} + {locked}");
}
