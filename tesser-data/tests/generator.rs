//! The sample-data generator.

use std::collections::HashSet;
use std::io::ErrorKind;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{Side, Tick};
use tesser_data::{
    Generator, GeneratorConfig, MarketDataSource, TradeFileReader, TradeFormat, generate, write_csv,
};

fn config(trades: u64, seed: u64) -> GeneratorConfig {
    GeneratorConfig {
        trades,
        seed,
        ..GeneratorConfig::default()
    }
}

fn csv(config: &GeneratorConfig) -> Vec<u8> {
    let mut out = Vec::new();
    let written = write_csv(config, &mut out).unwrap();
    assert_eq!(written, config.trades);
    out
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let a = csv(&config(5_000, 42));
    let b = csv(&config(5_000, 42));
    let c = csv(&config(5_000, 43));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(
        generate(&config(100, 9)).unwrap().collect::<Vec<_>>(),
        generate(&config(100, 9)).unwrap().collect::<Vec<_>>()
    );
}

#[test]
fn output_is_pinned_for_a_seed() {
    // The generator uses no platform maths, so these bytes are the same
    // everywhere. Changing the model changes them: update deliberately.
    let text = String::from_utf8(csv(&config(5, 2024))).unwrap();
    assert_eq!(text, GOLDEN, "{text}");
}

const GOLDEN: &str = "\
timestamp_ms,symbol,price,size,side
1704067200000,BTCUSD,30000,0.00446526,sell
1704067200905,BTCUSD,30000.8,0.04705198,buy
1704067200925,BTCUSD,30000.8,0.35711967,buy
1704067202652,BTCUSD,30001.4,0.36896965,buy
1704067202652,BTCUSD,30001.4,0.01993052,buy
";

#[test]
fn generated_csv_reads_back_identically() {
    let config = config(20_000, 7);
    let bytes = csv(&config);
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.starts_with("timestamp_ms,symbol,price,size,side\n1704067200000,BTCUSD,30000,"));
    let read: Vec<Tick> =
        TradeFileReader::from_reader(bytes.as_slice(), TradeFormat::Auto, "gen".into())
            .collect::<Result<_, _>>()
            .unwrap();
    let generated: Vec<Tick> = generate(&config).unwrap().collect();
    assert_eq!(read, generated);
}

#[test]
fn prices_sizes_and_times_are_well_formed() {
    for seed in [1, 2, 3, 99, u64::MAX] {
        let config = config(20_000, seed);
        let ticks: Vec<Tick> = generate(&config).unwrap().collect();
        assert_eq!(ticks.len(), 20_000);
        assert_eq!(ticks[0].timestamp_ms, config.start_ms);
        assert_eq!(ticks[0].price, config.start_price);
        for tick in &ticks {
            assert!(tick.price > Decimal::ZERO);
            assert!((tick.price % config.tick_size).is_zero(), "{}", tick.price);
            assert!(tick.size > Decimal::ZERO);
            assert!(tick.size <= config.max_size);
            assert!(tick.size.scale() <= 8, "{}", tick.size);
            assert!(tick.aggressor.is_some());
            assert_eq!(tick.symbol, config.symbol);
        }
        assert!(
            ticks
                .windows(2)
                .all(|w| w[0].timestamp_ms <= w[1].timestamp_ms)
        );
    }
}

#[test]
fn trades_look_like_a_market() {
    let config = config(100_000, 5);
    let ticks: Vec<Tick> = generate(&config).unwrap().collect();

    // Many prints at an unchanged price, many moves.
    let unchanged = ticks
        .windows(2)
        .filter(|w| w[0].price == w[1].price)
        .count();
    assert!((40_000..80_000).contains(&unchanged), "{unchanged}");

    // The aggressor is mostly the side that moved the price.
    let (mut agree, mut moves) = (0, 0);
    for w in ticks.windows(2) {
        if w[1].price != w[0].price {
            moves += 1;
            let up = w[1].price > w[0].price;
            if (w[1].aggressor == Some(Side::Buy)) == up {
                agree += 1;
            }
        }
    }
    let agreement = f64::from(agree) / f64::from(moves);
    assert!(agreement > 0.8, "{agreement}");
    let buys = ticks
        .iter()
        .filter(|t| t.aggressor == Some(Side::Buy))
        .count();
    assert!((30_000..70_000).contains(&buys), "{buys}");

    // Heavy-tailed sizes: the mean is well above the median, a few are big.
    let mut sizes: Vec<Decimal> = ticks.iter().map(|t| t.size).collect();
    sizes.sort();
    let median = sizes[sizes.len() / 2];
    let mean = sizes.iter().sum::<Decimal>() / Decimal::from(sizes.len());
    assert!(mean > median * dec!(2), "mean {mean} median {median}");
    assert!(sizes.iter().filter(|s| **s >= dec!(1)).count() > 100);
    let distinct: HashSet<_> = sizes.iter().collect();
    assert!(distinct.len() > 10_000, "{}", distinct.len());

    // Bursts: some stretches trade much faster than the calm mean of 1 s.
    let gaps: Vec<i64> = ticks
        .windows(2)
        .map(|w| w[1].timestamp_ms - w[0].timestamp_ms)
        .collect();
    let fast_windows = gaps
        .chunks(100)
        .filter(|c| c.iter().sum::<i64>() < 100 * 1_000 / 4)
        .count();
    let calm_windows = gaps
        .chunks(100)
        .filter(|c| c.iter().sum::<i64>() > 100 * 1_000 * 3 / 4)
        .count();
    assert!(fast_windows >= 5, "{fast_windows}");
    assert!(calm_windows >= 300, "{calm_windows}");
    assert!(gaps.contains(&0), "several trades in one millisecond");
}

#[test]
fn generator_is_a_source_and_a_sized_iterator() {
    let mut generator = Generator::new(&config(3, 1)).unwrap();
    assert_eq!(generator.size_hint(), (3, Some(3)));
    assert_eq!(
        generator.describe(),
        "generated 3 trades of BTCUSD (seed 1)"
    );
    assert!(generator.next_tick().unwrap().is_ok());
    assert_eq!(generator.remaining(), 2);
    assert_eq!(generator.by_ref().count(), 2);
    assert!(generator.next_tick().is_none());
    assert_eq!(generate(&config(0, 1)).unwrap().count(), 0);
}

#[test]
fn other_instruments() {
    let config = GeneratorConfig {
        symbol: "DOGEUSD".into(),
        start_price: dec!(0.0712),
        tick_size: dec!(0.0001),
        lot_size: dec!(1),
        median_size: dec!(500),
        max_size: dec!(1000000),
        volatility_bps: 20.0,
        ..config(10_000, 3)
    };
    let ticks: Vec<Tick> = generate(&config).unwrap().collect();
    assert!(
        ticks
            .iter()
            .all(|t| t.price >= dec!(0.0001) && (t.price % dec!(0.0001)).is_zero())
    );
    assert!(
        ticks
            .iter()
            .all(|t| t.size >= Decimal::ONE && t.size.fract().is_zero())
    );
}

#[test]
fn invalid_configurations_are_refused() {
    let cases = [
        GeneratorConfig {
            tick_size: Decimal::ZERO,
            ..GeneratorConfig::default()
        },
        GeneratorConfig {
            lot_size: dec!(-1),
            ..GeneratorConfig::default()
        },
        GeneratorConfig {
            start_price: dec!(0.01),
            ..GeneratorConfig::default()
        },
        GeneratorConfig {
            symbol: "BTC,USD".into(),
            ..GeneratorConfig::default()
        },
        GeneratorConfig {
            mean_interval_ms: f64::NAN,
            ..GeneratorConfig::default()
        },
        GeneratorConfig {
            move_probability: 1.5,
            ..GeneratorConfig::default()
        },
        GeneratorConfig {
            burst_speedup: 0.5,
            ..GeneratorConfig::default()
        },
        GeneratorConfig {
            max_size: dec!(0.001),
            ..GeneratorConfig::default()
        },
        GeneratorConfig {
            start_ms: -1,
            ..GeneratorConfig::default()
        },
    ];
    for config in cases {
        let error = config.validate().unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid generator configuration: ")
        );
        assert!(generate(&config).is_err());
        let io_error = write_csv(&config, Vec::new()).unwrap_err();
        assert_eq!(io_error.kind(), ErrorKind::InvalidInput);
    }
    assert!(GeneratorConfig::default().validate().is_ok());
}

/// Throughput check: `cargo test --release -p tesser-data -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark; run in release"]
fn writes_millions_of_lines_quickly() {
    let config = config(10_000_000, 1);
    let start = std::time::Instant::now();
    let written = write_csv(&config, std::io::sink()).unwrap();
    let elapsed = start.elapsed();
    let rate = written as f64 / elapsed.as_secs_f64();
    eprintln!("wrote {written} lines in {elapsed:?}: {rate:.0} lines/s");

    let mut bytes = Vec::new();
    write_csv(&config, &mut bytes).unwrap();
    let start = std::time::Instant::now();
    let reader = TradeFileReader::from_reader(bytes.as_slice(), TradeFormat::Csv, "bench".into());
    let read = reader.map(Result::unwrap).count();
    let elapsed = start.elapsed();
    let rate = read as f64 / elapsed.as_secs_f64();
    eprintln!("read {read} lines in {elapsed:?}: {rate:.0} lines/s");
}
