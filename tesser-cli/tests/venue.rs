//! `tesser live run --venue binance-spot` and `tesser venue check` against
//! the local Binance Spot twin (`venues/binance-spot-twin`) on 127.0.0.1:
//! the README demo's chase (buy 5 BTC in 0.25 clips) completes with the
//! journal equal to the venue's trades, with each of the twin's fault
//! switches on in turn, through SIGKILLs, and on paper with no order endpoint
//! called; the account's own balances pay for the orders; bad input gets one
//! clear line.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{Side, Tick};
use tesser_execution::{AlgorithmStatus, StateStore};
use tesser_venue_binance_twin::{TwinConfig, TwinHandle, TwinVenue};

use common::{SplitMix, chase_wasm, error_line};

const API_KEY: &str = "twin-key";
const API_SECRET: &str = "twin-secret";
const TARGET: Decimal = dec!(5);
/// Time between two prints: 100 prints a second.
const PACE: Duration = Duration::from_millis(10);
/// How long one run may take before the test calls it stuck. A run alone
/// takes 7 to 50 s: the chase amends on most price changes and spends the
/// twin's order limit (100 per 10 s), so the adapter waits out windows. Two
/// runs side by side on a loaded 2-core CI machine once needed over 90 s.
const RUN_LIMIT: Duration = Duration::from_secs(240);

/// Sample BTCUSDT prints (`tesser data generate`'s model, seed 7), made once.
fn prints() -> &'static [Tick] {
    static PRINTS: OnceLock<Vec<Tick>> = OnceLock::new();
    PRINTS.get_or_init(|| {
        // A file of this process's own: test processes run side by side.
        let dir = tempfile::tempdir().expect("data dir");
        let path = dir.path().join("btcusdt-seed7.csv");
        let config = tesser_data::GeneratorConfig {
            symbol: tesser_core::Symbol::new("BTCUSDT"),
            trades: 40_000,
            seed: 7,
            tick_size: dec!(0.01),
            // Binance executes in multiples of the symbol's step size.
            lot_size: dec!(0.001),
            ..tesser_data::GeneratorConfig::default()
        };
        let file = std::fs::File::create(&path).expect("create data");
        tesser_data::write_csv(&config, std::io::BufWriter::new(file)).expect("write data");
        let mut reader = tesser_data::TradeFileReader::open(&path).expect("open data");
        let mut ticks = Vec::new();
        while let Some(tick) = reader.next_tick() {
            let mut tick = tick.expect("generated line");
            // Whole dollars: the price changes about 2.5 times in 100
            // prints, so at 100 prints a second the chase amends a few times
            // a second, under the venue's order rate limit (100 per 10 s).
            tick.price = tick.price.round();
            ticks.push(tick);
        }
        ticks
    })
}

/// A twin listing BTCUSDT that accepts the test key, and pings every
/// connection often enough that a live one is never silent for the runs'
/// `stale_after_ms` (3 s; Binance pings every 20 s against 60 s).
fn twin() -> TwinHandle {
    let mut config = TwinConfig::hmac(API_KEY, API_SECRET);
    config.ping_interval = Duration::from_millis(500);
    TwinVenue::start(config).expect("start the twin")
}

/// Plays the sample prints into the twin, one every `pace`, until stopped;
/// `on_print` runs after each (fault switches, kills).
struct Market<'a> {
    twin: &'a TwinHandle,
    stop: Arc<AtomicBool>,
}

impl<'a> Market<'a> {
    fn new(twin: &'a TwinHandle) -> Self {
        Self {
            twin,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Runs `body` while prints flow on another thread.
    fn run<R>(&self, pace: Duration, body: impl FnOnce() -> R) -> R {
        std::thread::scope(|scope| {
            let stop = Arc::clone(&self.stop);
            let twin = self.twin;
            scope.spawn(move || {
                for tick in prints().iter().cycle() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    twin.print(
                        "BTCUSDT",
                        tick.price,
                        tick.size,
                        tick.aggressor == Some(Side::Sell),
                    );
                    std::thread::sleep(pace);
                }
            });
            // Stops the prints even when `body` panics.
            let _stop = StopOnDrop(&self.stop);
            body()
        })
    }
}

/// Sets its flag when dropped, also by a panic, so helper threads stop.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// One `tesser live run --venue binance-spot` set-up: the chase plugin, a
/// scripted strategy buying `TARGET` BTCUSDT after 20 prints in 0.25 clips,
/// a config pointing at the twin, and a state file every run resumes.
struct VenueRun {
    dir: tempfile::TempDir,
    endpoint: String,
}

impl VenueRun {
    fn new(twin: &TwinHandle) -> Self {
        Self::with_symbol(twin, "BTCUSDT")
    }

    fn with_symbol(twin: &TwinHandle, symbol: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("plugins")).expect("plugins dir");
        std::fs::copy(chase_wasm(), dir.path().join("plugins/plugin_chase.wasm")).expect("copy");
        std::fs::write(
            dir.path().join("strategy.toml"),
            format!(
                "strategy_name = \"scripted\"\nsymbol = \"{symbol}\"\n\n[[params.signals]]\nkind = \"enter_long\"\nquantity = \"{TARGET}\"\nafter_ticks = 20\n\n[execution]\nplugin = \"plugin_chase\"\nparams = {{ clip_size = \"0.25\" }}\n"
            ),
        )
        .expect("strategy");
        // A short request timeout, so the delayed-ack fault outlasts it; a
        // short silence limit, so a half-open connection is noticed soon.
        std::fs::write(
            dir.path().join("tesser.toml"),
            "[venues.binance-spot]\nrequest_timeout_ms = 1000\nstale_after_ms = 3000\n",
        )
        .expect("config");
        Self {
            dir,
            endpoint: twin.base_url().to_owned(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The command, with no `TESSER_*` variables but the keys given.
    fn command(&self, keys: Keys, extra: &[&str]) -> Command {
        self.command_at(&self.endpoint, keys, extra)
    }

    /// The command with another `--endpoint`.
    fn command_at(&self, endpoint: &str, keys: Keys, extra: &[&str]) -> Command {
        let mut command = common::tesser();
        command
            .current_dir(self.dir.path())
            .args(["live", "run", "--strategy-config", "strategy.toml"])
            .args(["--plugins-dir", "plugins", "--state-path", "state.sqlite"])
            .args([
                "--config",
                "tesser.toml",
                "--timer-ms",
                "200",
                "--no-progress",
            ])
            .args(["--venue", "binance-spot", "--endpoint", endpoint])
            .args(extra);
        if keys == Keys::Twin {
            command
                .env("TESSER_BINANCE_API_KEY", API_KEY)
                .env("TESSER_BINANCE_API_SECRET", API_SECRET);
        }
        command
    }

    fn spawn(&self, keys: Keys, extra: &[&str]) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("tesser.log"))
            .expect("log file");
        self.command(keys, extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn tesser")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("tesser.log")).unwrap_or_default()
    }

    /// Runs until every algorithm ended, and returns the summary's one
    /// algorithm.
    fn run_to_the_end(&self, keys: Keys, extra: &[&str]) -> serde_json::Value {
        let mut args = vec!["--exit-when-done", "--summary-json", "summary.json"];
        args.extend_from_slice(extra);
        let mut child = self.spawn(keys, &args);
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if started.elapsed() > RUN_LIMIT {
                child.kill().ok();
                child.wait().ok();
                panic!(
                    "tesser did not finish in {RUN_LIMIT:?}; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            status.success(),
            "tesser failed ({status}); log:\n{}",
            self.log()
        );
        let summary: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(self.path("summary.json")).expect("summary"),
        )
        .expect("summary JSON");
        let algos = summary["algorithms"].as_array().expect("algorithms");
        assert_eq!(algos.len(), 1, "one signal, one algorithm: {summary}");
        algos[0].clone()
    }

    /// The journal's status and filled quantity, when the state file can be
    /// read.
    fn progress(&self) -> Option<(AlgorithmStatus, Decimal)> {
        let store = StateStore::open(self.path("state.sqlite")).ok()?;
        let status = store.algorithms().ok()?.first()?.status;
        let filled = store.fills().ok()?.iter().map(|e| e.fill.quantity).sum();
        Some((status, filled))
    }

    /// The fill journal as (fill id, price, quantity).
    fn journal(&self) -> Vec<(String, Decimal, Decimal)> {
        let store = StateStore::open(self.path("state.sqlite")).expect("state file");
        store
            .fills()
            .expect("journal")
            .iter()
            .map(|e| (e.fill.fill_id.clone(), e.fill.price, e.fill.quantity))
            .collect()
    }
}

/// Which keys the run gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keys {
    /// The key the twin accepts.
    Twin,
    /// None at all.
    None,
}

/// The end state every run must reach: the target filled exactly, no
/// client order id sent twice, the journal equal to the venue's trades, and
/// no order left open at the venue.
fn assert_venue_agrees(twin: &TwinHandle, run: &VenueRun, algo: &serde_json::Value) {
    let log = run.log();
    let venue_orders = twin.orders();
    assert_eq!(
        algo["status"], "completed",
        "{algo}\nlog:\n{log}\nvenue orders: {venue_orders:#?}"
    );
    assert_eq!(
        algo["filled"], "5",
        "{algo}\nlog:\n{log}\nvenue orders: {venue_orders:#?}"
    );
    assert_eq!(algo["unfilled"], "0", "{algo}\nlog:\n{log}");
    // A refused request (a -1021 retried after the clock re-sync, a
    // cancel-replace refused) may carry an id again; an order may not.
    let orders = twin.orders();
    let ids: BTreeSet<&String> = orders.iter().map(|o| &o.client_order_id).collect();
    assert_eq!(
        ids.len(),
        orders.len(),
        "two orders at the venue share a client order id: {orders:?}"
    );
    let venue: BTreeSet<(String, Decimal, Decimal)> = twin
        .trades()
        .iter()
        .map(|t| {
            let side = if t.is_buyer { Side::Buy } else { Side::Sell };
            (
                tesser_venue_binance::book::fill_id(&t.symbol, t.id, side),
                t.price,
                t.qty,
            )
        })
        .collect();
    let journal = run.journal();
    let journal_set: BTreeSet<_> = journal.iter().cloned().collect();
    assert_eq!(
        journal.len(),
        journal_set.len(),
        "a fill was journaled twice"
    );
    assert_eq!(
        journal_set, venue,
        "journal and venue trades disagree\nlog:\n{log}"
    );
    let filled: Decimal = venue.iter().map(|(_, _, qty)| *qty).sum();
    assert_eq!(filled, TARGET, "the venue filled exactly the target");
    let open: Vec<_> = twin
        .orders()
        .into_iter()
        .filter(|o| o.status == "NEW" || o.status == "PARTIALLY_FILLED")
        .collect();
    assert!(open.is_empty(), "orders left open at the venue: {open:?}");
}

/// Runs the chase against the twin with `fault` applied once the venue has
/// seen `after_orders` orders (0: before the run starts); returns the run's
/// log.
fn chase_with_fault(after_orders: usize, fault: impl Fn(&TwinHandle) + Send + Sync) -> String {
    let twin = twin();
    if after_orders == 0 {
        fault(&twin);
        return chase_on(&twin, |_| false, |_| {});
    }
    chase_on(
        &twin,
        |twin| twin.client_order_ids_sent().len() >= after_orders,
        fault,
    )
}

/// Runs the chase on `twin` with `fault` applied once `when` holds; returns
/// the run's log.
fn chase_on(
    twin: &TwinHandle,
    when: impl Fn(&TwinHandle) -> bool + Send + Sync,
    fault: impl Fn(&TwinHandle) + Send + Sync,
) -> String {
    let run = VenueRun::new(twin);
    let market = Market::new(twin);
    let done = AtomicBool::new(false);
    let algo = market.run(PACE, || {
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    if when(twin) {
                        fault(twin);
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
            let _done = StopOnDrop(&done);
            run.run_to_the_end(Keys::Twin, &[])
        })
    });
    assert_venue_agrees(twin, &run, &algo);
    run.log()
}

#[test]
fn the_demo_chase_completes_on_the_venue_with_the_journal_equal_to_its_trades() {
    chase_with_fault(0, |_| {});
}

#[test]
fn a_dropped_market_data_connection_is_reconnected() {
    chase_with_fault(2, |twin| {
        twin.drop_market_connections();
    });
}

#[test]
fn a_dropped_user_data_connection_is_reconnected_and_reconciled() {
    chase_with_fault(2, |twin| {
        twin.drop_user_connections();
    });
}

#[test]
fn event_stream_terminated_is_resubscribed_and_reconciled() {
    chase_with_fault(2, |twin| {
        twin.terminate_user_streams();
    });
}

#[test]
fn an_order_accepted_then_answered_503_is_settled_not_rejected() {
    // Before the run: the first order-entry request is the first placement.
    chase_with_fault(0, |twin| {
        twin.faults(|f| f.accept_then_503_next = 1);
    });
}

#[test]
fn amends_and_cancels_answered_503_are_settled_not_refused() {
    // Once working, the chase's order-entry requests are mostly amends.
    chase_with_fault(2, |twin| {
        twin.faults(|f| f.accept_then_503_next = 4);
    });
}

#[test]
fn a_silent_user_data_connection_is_noticed_and_reconciled() {
    let log = chase_with_fault(2, |twin| {
        twin.silence_user_connections();
    });
    assert!(
        log.contains("stale_after_ms"),
        "the silence was noticed:\n{log}"
    );
}

#[test]
fn a_silent_market_data_connection_is_noticed_and_reconnected() {
    // Silenced as soon as the run's market stream is connected, before the
    // strategy has seen the prints it waits for: the run can only go on
    // once the silence is noticed.
    let log = chase_on(
        &twin(),
        |twin| twin.market_connections() >= 1,
        |twin| twin.silence_market_connections(),
    );
    assert!(
        log.contains("stale_after_ms"),
        "the silence was noticed:\n{log}"
    );
}

#[test]
fn an_ack_delayed_past_the_timeout_is_settled_not_rejected() {
    chase_with_fault(1, |twin| {
        twin.faults(|f| f.delay_next_order = Some(Duration::from_millis(2_500)));
    });
}

#[test]
fn duplicated_execution_reports_are_booked_once() {
    chase_with_fault(0, |twin| {
        twin.faults(|f| f.duplicate_reports = true);
    });
}

#[test]
fn execution_reports_out_of_order_are_booked_once() {
    chase_with_fault(2, |twin| {
        twin.faults(|f| f.reorder_reports = true);
        std::thread::sleep(Duration::from_millis(600));
        twin.faults(|f| f.reorder_reports = false);
    });
}

#[test]
fn a_429_with_retry_after_is_waited_out() {
    chase_with_fault(1, |twin| {
        twin.faults(|f| {
            f.rate_limit_next = 2;
            f.retry_after_secs = 1;
        });
    });
}

#[test]
fn a_full_order_window_delays_actions_without_stopping_the_run() {
    // 6 new orders per 10 s: the chase, which amends on most price changes,
    // fills its window within the first seconds.
    let mut config = TwinConfig::hmac(API_KEY, API_SECRET);
    config.ping_interval = Duration::from_millis(500);
    config.orders_per_10s = 6;
    let twin = TwinVenue::start(config).expect("start the twin");
    let log = chase_on(&twin, |_| false, |_| {});
    assert!(
        log.contains("delayed") && log.contains("rate-limit window is full"),
        "actions waited for the window:\n{log}"
    );
    assert!(
        !log.contains("waiting for the rate-limit window"),
        "the run loop waited on the window:\n{log}"
    );
    // The connector held orders back itself; at a window's edge its clock
    // and the venue's may disagree by the offset's error, and the venue's
    // 429 (-1015) then holds back new orders alone. Nothing else was
    // refused.
    let refused: Vec<_> = twin
        .requests()
        .into_iter()
        .filter(|r| r.status == 429 && !(r.method == "POST" && r.path == "/api/v3/order"))
        .filter(|r| !(r.method == "POST" && r.path == "/api/v3/order/cancelReplace"))
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
}

#[test]
fn a_1021_timestamp_error_resyncs_the_clock_once() {
    chase_with_fault(1, |twin| {
        twin.faults(|f| f.timestamp_error_next = 1);
    });
}

#[test]
fn rejections_1013_and_2010_fail_the_clip_not_the_run() {
    chase_with_fault(1, |twin| {
        twin.faults(|f| {
            f.reject_next_order = Some((-1013, "Filter failure: LOT_SIZE".into()));
        });
        while twin
            .requests()
            .iter()
            .all(|r| r.status != 400 || !r.path.starts_with("/api/v3/order"))
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        twin.faults(|f| {
            f.reject_next_order = Some((
                -2010,
                "Account has insufficient balance for requested action.".into(),
            ));
        });
    });
}

#[test]
fn sigkill_at_random_points_then_restart_fills_the_target_exactly_once() {
    let twin = twin();
    let run = VenueRun::new(&twin);
    let market = Market::new(&twin);
    let mut rng = SplitMix(14);
    let algo = market.run(PACE, || {
        let mut kills = Vec::new();
        for point in 0..6 {
            let mut child = run.spawn(Keys::Twin, &[]);
            let delay = rng.millis(300, 2_000);
            let started = Instant::now();
            while started.elapsed() < delay {
                if let Some(status) = child.try_wait().expect("wait") {
                    panic!("kill point {point}: tesser ended ({status}) early; log:\n{}", run.log());
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
            let progress = run.progress();
            eprintln!("kill {point} after {delay:?}: {progress:?}");
            kills.push(progress);
        }
        assert!(
            kills
                .iter()
                .any(|p| matches!(p, Some((AlgorithmStatus::Working, filled)) if *filled > Decimal::ZERO && *filled < TARGET)),
            "at least one kill landed mid-execution: {kills:?}"
        );
        run.run_to_the_end(Keys::Twin, &[])
    });
    assert_venue_agrees(&twin, &run, &algo);
}

#[test]
fn paper_on_live_data_needs_no_keys_and_calls_no_order_endpoint() {
    let twin = twin();
    let run = VenueRun::new(&twin);
    let market = Market::new(&twin);
    let algo = market.run(PACE, || run.run_to_the_end(Keys::None, &["--paper"]));
    assert_eq!(algo["status"], "completed", "{algo}\nlog:\n{}", run.log());
    assert_eq!(algo["filled"], "5", "{algo}");
    assert_eq!(
        twin.order_endpoint_calls(),
        0,
        "--paper called an order endpoint"
    );
    assert_eq!(
        twin.signed_requests(),
        0,
        "--paper sent a key or a signed request"
    );
    assert!(twin.orders().is_empty(), "no order reached the venue");
    assert!(
        twin.count("GET", "/api/v3/exchangeInfo") >= 1,
        "rules came from exchangeInfo"
    );
    assert!(!run.journal().is_empty(), "paper fills were journaled");
}

/// The account, not `[paper]`: the run starts from the venue account's
/// balances (100 USDT, not `[paper] initial_cash`), so the guard refuses a
/// clip the account cannot pay for and nothing reaches the venue; a
/// deposit, heard from the user stream (`outboundAccountPosition`), lets
/// the chase go on and complete; and the summary's account is the venue's.
#[test]
fn the_account_not_paper_pays_for_the_orders_and_a_deposit_is_heard() {
    let mut config = TwinConfig::hmac(API_KEY, API_SECRET);
    config.ping_interval = Duration::from_millis(500);
    config.balances = vec![("BTC".into(), dec!(10)), ("USDT".into(), dec!(100))];
    let twin = TwinVenue::start(config).expect("start the twin");
    let run = VenueRun::new(&twin);
    let market = Market::new(&twin);
    let sent_before_deposit = std::sync::atomic::AtomicUsize::new(usize::MAX);
    let done = AtomicBool::new(false);
    let algo = market.run(PACE, || {
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    if run.log().contains("insufficient balance") {
                        sent_before_deposit.store(twin.orders().len(), Ordering::SeqCst);
                        twin.deposit("USDT", dec!(10000000)).expect("deposit");
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
            let _done = StopOnDrop(&done);
            run.run_to_the_end(Keys::Twin, &[])
        })
    });
    let log = run.log();
    assert!(
        log.contains("insufficient balance: the order needs")
            && log.contains("but the account has 100 USDT free"),
        "log:\n{log}"
    );
    assert_eq!(
        sent_before_deposit.load(Ordering::SeqCst),
        0,
        "an order the account could not pay reached the venue\nlog:\n{log}"
    );
    assert_venue_agrees(&twin, &run, &algo);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.path("summary.json")).expect("summary"))
            .expect("summary JSON");
    for asset in ["USDT", "BTC"] {
        let (free, locked) = twin.balance(asset);
        let reported = summary["account"]
            .as_array()
            .and_then(|all| all.iter().find(|b| b["asset"] == asset))
            .unwrap_or_else(|| panic!("no {asset} in the summary's account: {summary}"));
        assert_eq!(
            (
                reported["free"]
                    .as_str()
                    .and_then(|v| v.parse::<Decimal>().ok()),
                reported["locked"]
                    .as_str()
                    .and_then(|v| v.parse::<Decimal>().ok()),
            ),
            (Some(free), Some(locked)),
            "{asset}: the summary's account against the venue's: {summary}"
        );
    }
}

fn failed(run: &VenueRun, keys: Keys, extra: &[&str]) -> String {
    let output: Output = run.command(keys, extra).output().expect("run tesser");
    error_line(&output)
}

#[test]
fn bad_input_gets_one_clear_line_and_a_failed_exit() {
    let twin = twin();
    let run = VenueRun::new(&twin);

    let line = failed(&run, Keys::None, &[]);
    assert!(line.contains("TESSER_BINANCE_API_KEY"), "{line}");
    assert!(line.contains("--paper"), "names the keyless way: {line}");

    let mut wrong = run.command(Keys::None, &[]);
    wrong
        .env("TESSER_BINANCE_API_KEY", API_KEY)
        .env("TESSER_BINANCE_API_SECRET", "not-the-secret");
    let line = error_line(&wrong.output().expect("run"));
    assert!(line.contains("refused the API key"), "{line}");
    assert!(
        !line.contains("not-the-secret"),
        "no secret in messages: {line}"
    );

    let unknown = VenueRun::with_symbol(&twin, "NOPEUSDT");
    let line = failed(&unknown, Keys::Twin, &[]);
    assert!(line.contains("NOPEUSDT"), "{line}");
    assert!(line.contains("does not list"), "{line}");

    let unreachable = run
        .command_at("http://127.0.0.1:1", Keys::Twin, &[])
        .output();
    let line = error_line(&unreachable.expect("run"));
    assert!(line.contains("cannot reach"), "{line}");
    assert!(line.contains("127.0.0.1:1"), "{line}");

    let line = error_line(
        &run.command_at("not-a-url", Keys::Twin, &[])
            .output()
            .expect("run"),
    );
    assert!(line.contains("--endpoint"), "{line}");

    let line = failed(&run, Keys::Twin, &["--data", "trades.csv"]);
    assert!(
        line.contains("--data") && line.contains("--venue"),
        "{line}"
    );
}

#[test]
fn venue_check_reports_the_key_the_clock_the_balances_and_the_rules() {
    let twin = twin();
    let check = |keys: Keys, secret: &str| {
        let mut command = common::tesser();
        command.args([
            "venue",
            "check",
            "--venue",
            "binance-spot",
            "--symbol",
            "BTCUSDT",
            "--endpoint",
            twin.base_url(),
        ]);
        if keys == Keys::Twin {
            command
                .env("TESSER_BINANCE_API_KEY", API_KEY)
                .env("TESSER_BINANCE_API_SECRET", secret);
        }
        command.output().expect("run tesser venue check")
    };
    let orders_before = twin.requests().len();
    let output = check(Keys::Twin, API_SECRET);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{text}{}", common::stderr(&output));
    for expected in [
        "key",
        "can trade",
        "clock offset",
        "BTCUSDT",
        "tick size 0.01",
        "step size 0.001",
        "min notional 1",
        "USDT",
    ] {
        assert!(text.contains(expected), "report names {expected}: {text}");
    }
    assert!(
        twin.requests()[orders_before..]
            .iter()
            .all(|r| r.method == "GET"),
        "check is read-only"
    );

    let output = check(Keys::None, "");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "without keys only the public checks run: {text}"
    );
    assert!(
        text.contains("TESSER_BINANCE_API_KEY"),
        "says how to add keys: {text}"
    );

    let output = check(Keys::Twin, "wrong");
    let line = error_line(&output);
    assert!(line.contains("refused the API key"), "{line}");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        text.contains("tick size 0.01"),
        "the rules are still reported: {text}"
    );
}
