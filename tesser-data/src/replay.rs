//! Paced replay of recorded data.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use tesser_core::Tick;

use crate::{DataError, MarketDataSource};

/// How fast recorded data is replayed, relative to the time in the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// As fast as the data was recorded: one second of data per second.
    RealTime,
    /// A multiple of real time: `10.0` plays an hour of data in six minutes,
    /// `0.5` at half speed. Always finite and positive; never exactly `1.0`
    /// when parsed (that is [`Speed::RealTime`]).
    Multiple(f64),
    /// No pacing at all: every tick as soon as it is asked for.
    Max,
}

impl Speed {
    /// How long after the first tick a tick `data_elapsed_ms` later (in data
    /// time) is due, in wall-clock time. `None` for [`Speed::Max`] (and for a
    /// [`Speed::Multiple`] that is not positive, which also means no pacing);
    /// zero for a negative gap.
    #[must_use]
    pub fn wall_offset(self, data_elapsed_ms: i64) -> Option<Duration> {
        let data_elapsed_ms = u64::try_from(data_elapsed_ms).unwrap_or(0);
        match self {
            Self::Max => None,
            Self::RealTime => Some(Duration::from_millis(data_elapsed_ms)),
            Self::Multiple(factor) if factor.is_nan() || factor <= 0.0 => None,
            Self::Multiple(factor) => {
                // Lossy above 2^53 ms (285,000 years); fine for a speed factor.
                #[allow(clippy::cast_precision_loss)]
                let seconds = data_elapsed_ms as f64 / 1000.0 / factor;
                Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
            }
        }
    }
}

impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RealTime => f.write_str("1x"),
            Self::Multiple(factor) => write!(f, "{factor}x"),
            Self::Max => f.write_str("max"),
        }
    }
}

/// Why a speed could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "speed {text:?} is not valid; expected a positive multiple of real time such as 1, 10 or 0.5 (an \"x\" suffix is allowed), or max"
)]
pub struct ParseSpeedError {
    /// The text that was given.
    pub text: String,
}

impl FromStr for Speed {
    type Err = ParseSpeedError;

    /// `max`, or a positive number with an optional `x` suffix: `1`
    /// ([`Speed::RealTime`]), `10`, `0.5x`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseSpeedError {
            text: text.to_owned(),
        };
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("max") {
            return Ok(Self::Max);
        }
        let number = trimmed
            .strip_suffix(['x', 'X'])
            .unwrap_or(trimmed)
            .trim_end();
        // Only plain numbers: `f64`'s parser also takes "inf", "NaN", "1e3".
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(error());
        }
        let factor: f64 = number.parse().map_err(|_| error())?;
        if !factor.is_finite() || factor <= 0.0 {
            return Err(error());
        }
        #[allow(clippy::float_cmp)]
        if factor == 1.0 {
            Ok(Self::RealTime)
        } else {
            Ok(Self::Multiple(factor))
        }
    }
}

/// Monotonic time and sleeping, injectable so replay can be tested without
/// waiting.
pub trait Clock {
    /// Time since an arbitrary fixed origin; never decreases.
    fn now(&self) -> Duration;
    /// Blocks for `duration`.
    fn sleep(&mut self, duration: Duration);
}

/// The real clock: [`Instant`] and [`std::thread::sleep`].
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    #[must_use]
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A virtual clock for tests and simulations: sleeping returns at once and
/// advances the clock; every requested sleep is recorded.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Duration,
    sleeps: Vec<Duration>,
}

impl ManualClock {
    /// A clock at time zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward, as if work took `duration`.
    pub fn advance(&mut self, duration: Duration) {
        self.now += duration;
    }

    /// Every sleep requested so far, in order.
    #[must_use]
    pub fn sleeps(&self) -> &[Duration] {
        &self.sleeps
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        self.now
    }

    fn sleep(&mut self, duration: Duration) {
        self.sleeps.push(duration);
        self.now += duration;
    }
}

/// Wraps a source and paces its ticks like the recording.
///
/// The first tick is delivered at once and anchors data time to wall time;
/// each later tick is delivered when `(tick time - first tick time) / speed`
/// has passed since then. Time spent by the consumer counts, so pacing does
/// not drift; a consumer that falls behind gets ticks without sleeping until
/// it catches up. Errors pass through unpaced.
///
/// ```
/// use std::time::Duration;
/// use tesser_core::{Side, Tick};
/// use tesser_data::{IterSource, ManualClock, MarketDataSource, Replay, Speed};
///
/// let tick = |ms| Tick {
///     symbol: "BTCUSD".into(),
///     price: 1.into(),
///     size: 1.into(),
///     aggressor: Some(Side::Buy),
///     timestamp_ms: ms,
/// };
/// let source = IterSource::new(vec![tick(1_000), tick(3_000)], "two ticks");
/// let mut replay = Replay::with_clock(source, Speed::Multiple(2.0), ManualClock::new());
/// while let Some(tick) = replay.next_tick() {
///     tick.unwrap();
/// }
/// assert_eq!(replay.clock().sleeps(), [Duration::from_secs(1)]);
/// ```
#[derive(Debug)]
pub struct Replay<S, C = SystemClock> {
    source: S,
    speed: Speed,
    clock: C,
    anchor: Option<Anchor>,
    /// Ticks still to deliver without pacing (see [`Replay::fast_forward`]).
    unpaced: u64,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    timestamp_ms: i64,
    wall: Duration,
}

impl<S: MarketDataSource> Replay<S, SystemClock> {
    /// Paces `source` at `speed` with the real clock.
    pub fn new(source: S, speed: Speed) -> Self {
        Self::with_clock(source, speed, SystemClock::new())
    }
}

impl<S: MarketDataSource, C: Clock> Replay<S, C> {
    /// Paces `source` at `speed` using `clock` to tell time and sleep.
    pub fn with_clock(source: S, speed: Speed, clock: C) -> Self {
        Self {
            source,
            speed,
            clock,
            anchor: None,
            unpaced: 0,
        }
    }

    /// Delivers the next `ticks` ticks at once, unpaced, and anchors pacing
    /// on the tick after them: how a resumed session gets back to where it
    /// stopped without waiting through the part it already replayed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tesser_core::{Side, Tick};
    /// use tesser_data::{IterSource, ManualClock, MarketDataSource, Replay, Speed};
    ///
    /// let tick = |ms| Tick {
    ///     symbol: "BTCUSD".into(),
    ///     price: 1.into(),
    ///     size: 1.into(),
    ///     aggressor: Some(Side::Buy),
    ///     timestamp_ms: ms,
    /// };
    /// let source = IterSource::new(vec![tick(0), tick(60_000), tick(61_000)], "three ticks");
    /// let mut replay = Replay::with_clock(source, Speed::Multiple(1.0), ManualClock::new());
    /// replay.fast_forward(1);
    /// while let Some(tick) = replay.next_tick() {
    ///     tick.unwrap();
    /// }
    /// // No minute-long wait for the second tick: pacing starts there.
    /// assert_eq!(replay.clock().sleeps(), [Duration::from_secs(1)]);
    /// ```
    pub fn fast_forward(&mut self, ticks: u64) {
        self.unpaced = ticks;
    }

    /// The replay speed.
    #[must_use]
    pub fn speed(&self) -> Speed {
        self.speed
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The clock, mutably (for example to advance a [`ManualClock`]).
    pub fn clock_mut(&mut self) -> &mut C {
        &mut self.clock
    }

    /// The wrapped source.
    #[must_use]
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The wrapped source, mutably.
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }

    /// Unwraps the source.
    pub fn into_inner(self) -> S {
        self.source
    }

    /// How long to wait before delivering a tick stamped `timestamp_ms`;
    /// anchors on the first call. Zero when it is already due.
    fn delay_for(&mut self, timestamp_ms: i64) -> Duration {
        if self.speed.wall_offset(0).is_none() {
            return Duration::ZERO;
        }
        let now = self.clock.now();
        let Some(anchor) = self.anchor else {
            self.anchor = Some(Anchor {
                timestamp_ms,
                wall: now,
            });
            return Duration::ZERO;
        };
        let offset = self
            .speed
            .wall_offset(timestamp_ms.saturating_sub(anchor.timestamp_ms))
            .unwrap_or(Duration::ZERO);
        anchor.wall.saturating_add(offset).saturating_sub(now)
    }
}

impl<S: MarketDataSource, C: Clock> MarketDataSource for Replay<S, C> {
    fn next_tick(&mut self) -> Option<Result<Tick, DataError>> {
        let item = self.source.next_tick()?;
        if item.is_ok() && self.unpaced > 0 {
            self.unpaced -= 1;
            return Some(item);
        }
        if let Ok(tick) = &item {
            let delay = self.delay_for(tick.timestamp_ms);
            if !delay.is_zero() {
                self.clock.sleep(delay);
            }
        }
        Some(item)
    }

    fn describe(&self) -> String {
        format!("{} at {}", self.source.describe(), self.speed)
    }
}

impl<S: MarketDataSource, C: Clock> Iterator for Replay<S, C> {
    type Item = Result<Tick, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_tick()
    }
}
