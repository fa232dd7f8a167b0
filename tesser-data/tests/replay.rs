//! Speed parsing and paced replay.

use std::time::{Duration, Instant};

use tesser_core::{Side, Tick};
use tesser_data::{
    Clock, DataError, IterSource, ManualClock, MarketDataSource, Replay, Speed, TradeFileReader,
    TradeFormat,
};

fn tick(timestamp_ms: i64) -> Tick {
    Tick {
        symbol: "BTCUSD".into(),
        price: 100.into(),
        size: 1.into(),
        aggressor: Some(Side::Buy),
        timestamp_ms,
    }
}

fn source(times: &[i64]) -> IterSource<std::vec::IntoIter<Tick>> {
    IterSource::new(
        times.iter().copied().map(tick).collect::<Vec<_>>(),
        "test ticks",
    )
}

fn sleeps_for(times: &[i64], speed: Speed) -> Vec<Duration> {
    let mut replay = Replay::with_clock(source(times), speed, ManualClock::new());
    let delivered = replay.by_ref().map(Result::unwrap).count();
    assert_eq!(delivered, times.len());
    replay.clock().sleeps().to_vec()
}

#[test]
fn parses_speeds() {
    assert_eq!("1".parse(), Ok(Speed::RealTime));
    assert_eq!("1.0".parse(), Ok(Speed::RealTime));
    assert_eq!("10".parse(), Ok(Speed::Multiple(10.0)));
    assert_eq!("0.5".parse(), Ok(Speed::Multiple(0.5)));
    assert_eq!("2.5x".parse(), Ok(Speed::Multiple(2.5)));
    assert_eq!("max".parse(), Ok(Speed::Max));
    assert_eq!("MAX".parse(), Ok(Speed::Max));
    for bad in [
        "", "0", "-1", "fast", "inf", "NaN", "1e3", "x", "0.0", "1..2",
    ] {
        let error = bad.parse::<Speed>().unwrap_err();
        let message = error.to_string();
        assert!(message.contains("1, 10 or 0.5"), "{message}");
        assert!(message.contains("max"), "{message}");
        assert_eq!(error.text, bad);
    }
    assert_eq!(Speed::RealTime.to_string(), "1x");
    assert_eq!(Speed::Multiple(0.5).to_string(), "0.5x");
    assert_eq!(Speed::Max.to_string(), "max");
}

#[test]
fn wall_offsets_scale_data_time() {
    assert_eq!(
        Speed::RealTime.wall_offset(1_500),
        Some(Duration::from_millis(1_500))
    );
    assert_eq!(
        Speed::Multiple(10.0).wall_offset(1_500),
        Some(Duration::from_millis(150))
    );
    assert_eq!(
        Speed::Multiple(0.5).wall_offset(1_500),
        Some(Duration::from_secs(3))
    );
    assert_eq!(Speed::Max.wall_offset(1_500), None);
    assert_eq!(Speed::RealTime.wall_offset(-5), Some(Duration::ZERO));
    assert_eq!(Speed::Multiple(-2.0).wall_offset(1_000), None);
    assert_eq!(Speed::Multiple(f64::NAN).wall_offset(1_000), None);
}

#[test]
fn replay_sleeps_until_each_tick_is_due() {
    let times = [1_000, 1_000, 1_250, 2_000, 5_000];
    let ms = Duration::from_millis;
    assert_eq!(
        sleeps_for(&times, Speed::RealTime),
        [ms(250), ms(750), ms(3_000)]
    );
    assert_eq!(
        sleeps_for(&times, Speed::Multiple(10.0)),
        [ms(25), ms(75), ms(300)]
    );
    assert_eq!(
        sleeps_for(&times, Speed::Multiple(0.5)),
        [ms(500), ms(1_500), ms(6_000)]
    );
    assert!(sleeps_for(&times, Speed::Max).is_empty());
}

#[test]
fn time_spent_by_the_consumer_counts() {
    let mut replay = Replay::with_clock(
        source(&[0, 1_000, 2_000, 3_000]),
        Speed::RealTime,
        ManualClock::new(),
    );
    replay.next_tick().unwrap().unwrap();
    replay.clock_mut().advance(Duration::from_millis(400));
    replay.next_tick().unwrap().unwrap(); // due at 1000, now 400: sleeps 600
    replay.clock_mut().advance(Duration::from_millis(1_500));
    replay.next_tick().unwrap().unwrap(); // due at 2000, now 2500: late, no sleep
    replay.next_tick().unwrap().unwrap(); // due at 3000, now 2500: sleeps 500
    assert_eq!(
        replay.clock().sleeps(),
        [Duration::from_millis(600), Duration::from_millis(500)]
    );
    assert_eq!(replay.clock().now(), Duration::from_millis(3_000));
    assert!(replay.next_tick().is_none());
}

#[test]
fn errors_pass_through_unpaced() {
    let text = "timestamp_ms,symbol,price,size,side\n0,B,1,1,buy\n9000,B,x,1,buy\n";
    let reader = TradeFileReader::from_reader(text.as_bytes(), TradeFormat::Csv, "t.csv".into());
    let mut replay = Replay::with_clock(reader, Speed::RealTime, ManualClock::new());
    assert!(replay.next_tick().unwrap().is_ok());
    assert!(matches!(
        replay.next_tick(),
        Some(Err(DataError::Malformed { line: 3, .. }))
    ));
    assert!(replay.next_tick().is_none());
    assert!(replay.clock().sleeps().is_empty());
    assert_eq!(replay.describe(), "t.csv (csv) at 1x");
}

#[test]
fn replay_with_the_system_clock_really_waits() {
    let mut replay = Replay::new(source(&[0, 30, 60]), Speed::Multiple(2.0));
    let start = Instant::now();
    assert_eq!(replay.by_ref().count(), 3);
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(30), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(replay.speed(), Speed::Multiple(2.0));
    assert_eq!(replay.into_inner().into_inner().count(), 0);
}
