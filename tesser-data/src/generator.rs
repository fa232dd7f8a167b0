//! Deterministic, realistic-looking sample trade data.

use std::io::{self, BufWriter, Write};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use tesser_core::{Side, Symbol, Tick};

use crate::rng::{self, Rng};
use crate::{DataError, MarketDataSource, TradeCsvWriter};

/// Largest tick- or lot-size mantissa accepted, so prices and sizes always
/// fit a [`Decimal`].
const MAX_STEP_MANTISSA: i128 = 10_000_000_000;
/// Chance that a sweep's next print is one tick further.
const SWEEP_LEVEL_PROBABILITY: f64 = 0.5;
/// Largest price or size, in ticks or lots.
const MAX_STEPS: i64 = 1_000_000_000_000_000_000;

/// Parameters of the sample-data generator.
///
/// The model: aggressive orders arrive at random (exponential gaps) and each
/// prints one or more trades; the extra prints of a sweep follow within
/// milliseconds on the same side, sometimes taking the next price level
/// (one tick in that side's direction). A new order moves the price on some trades and not others (a
/// random walk on the tick grid), and its aggressor is usually the side
/// that moved the price; on an unchanged price it tends to repeat the last
/// side. Trading alternates between a calm regime and bursts: a burst has
/// faster arrivals, bigger moves, bigger trades and a direction that moves
/// tend to follow (a rally or a sell-off). Trade sizes are log-normal
/// (heavy-tailed), often rounded to a human-looking amount, then clipped
/// and rounded to the lot size.
///
/// The defaults look like BTC/USD around 30,000 in 2024.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    /// Symbol on every trade; must not be empty or contain `,`, `"` or line
    /// breaks.
    pub symbol: Symbol,
    /// Starting price, rounded to the tick grid.
    pub start_price: Decimal,
    /// Price increment; every price is a positive multiple of it.
    pub tick_size: Decimal,
    /// Size increment; every size is a positive multiple of it.
    pub lot_size: Decimal,
    /// Timestamp of the first trade, milliseconds since the epoch.
    pub start_ms: i64,
    /// Number of trades to generate.
    pub trades: u64,
    /// Random seed: the same seed and configuration give the same trades.
    pub seed: u64,
    /// Mean time between trades in the calm regime, in milliseconds,
    /// counting the quick prints of sweeps.
    pub mean_interval_ms: f64,
    /// Chance that a trade is followed by another print of the same
    /// aggressive order (a sweep).
    pub sweep_probability: f64,
    /// Mean time between the prints of a sweep, in milliseconds.
    pub sweep_interval_ms: f64,
    /// Standard deviation of the price change per trade in the calm regime,
    /// in basis points of the price.
    pub volatility_bps: f64,
    /// Fraction of trades that move the price (the rest print at the same
    /// price as the previous trade).
    pub move_probability: f64,
    /// Chance, per calm trade, that a burst starts.
    pub burst_probability: f64,
    /// Mean length of a burst, in trades.
    pub burst_mean_trades: f64,
    /// How many times faster trades arrive in a burst.
    pub burst_speedup: f64,
    /// How many times larger price moves are in a burst.
    pub burst_volatility: f64,
    /// Chance that a move in a burst follows the burst's direction.
    pub burst_trend: f64,
    /// Median trade size in the calm regime.
    pub median_size: Decimal,
    /// Dispersion of the log-normal size distribution (σ of the log).
    pub size_sigma: f64,
    /// Chance that a size is rounded to one significant digit (0.03, 2, ...).
    pub round_size_probability: f64,
    /// Largest trade size; bigger draws are clipped to it.
    pub max_size: Decimal,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            symbol: Symbol::new("BTCUSD"),
            start_price: Decimal::new(30_000, 0),
            tick_size: Decimal::new(1, 1),
            lot_size: Decimal::new(1, 8),
            // 2024-01-01T00:00:00Z
            start_ms: 1_704_067_200_000,
            trades: 10_000,
            seed: 1,
            mean_interval_ms: 1_000.0,
            sweep_probability: 0.55,
            sweep_interval_ms: 15.0,
            volatility_bps: 0.4,
            move_probability: 0.6,
            burst_probability: 0.001,
            burst_mean_trades: 200.0,
            burst_speedup: 8.0,
            burst_volatility: 1.5,
            burst_trend: 0.55,
            median_size: Decimal::new(5, 2),
            size_sigma: 1.6,
            round_size_probability: 0.3,
            max_size: Decimal::new(50, 0),
        }
    }
}

/// Why a [`GeneratorConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid generator configuration: {0}")]
pub struct InvalidConfig(pub String);

impl GeneratorConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`InvalidConfig`] naming the first bad field.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let bad = |message: String| Err(InvalidConfig(message));
        let symbol = self.symbol.as_str();
        if symbol.is_empty() || symbol.contains([',', '"', '\n', '\r']) {
            return bad(format!(
                "symbol {symbol:?} must be non-empty without commas, quotes or line breaks"
            ));
        }
        for (name, step) in [("tick_size", self.tick_size), ("lot_size", self.lot_size)] {
            if step <= Decimal::ZERO || step.mantissa() > MAX_STEP_MANTISSA {
                return bad(format!(
                    "{name} {step} must be positive with at most 10 significant digits"
                ));
            }
        }
        if self.start_price < self.tick_size {
            return bad(format!(
                "start_price {} must be at least tick_size {}",
                self.start_price, self.tick_size
            ));
        }
        if self.median_size < self.lot_size || self.max_size < self.median_size {
            return bad(format!(
                "sizes must satisfy lot_size <= median_size <= max_size (got {} <= {} <= {})",
                self.lot_size, self.median_size, self.max_size
            ));
        }
        if self.start_ms < 0 {
            return bad(format!("start_ms {} must not be negative", self.start_ms));
        }
        let non_negative = [
            ("mean_interval_ms", self.mean_interval_ms),
            ("sweep_interval_ms", self.sweep_interval_ms),
            ("volatility_bps", self.volatility_bps),
            ("size_sigma", self.size_sigma),
        ];
        for (name, value) in non_negative {
            if !(value.is_finite() && value >= 0.0) {
                return bad(format!("{name} {value} must be finite and not negative"));
            }
        }
        let probabilities = [
            ("move_probability", self.move_probability),
            ("sweep_probability", self.sweep_probability),
            ("burst_probability", self.burst_probability),
            ("burst_trend", self.burst_trend),
            ("round_size_probability", self.round_size_probability),
        ];
        for (name, value) in probabilities {
            if !(0.0..=1.0).contains(&value) {
                return bad(format!("{name} {value} must be between 0 and 1"));
            }
        }
        let at_least_one = [
            ("burst_mean_trades", self.burst_mean_trades),
            ("burst_speedup", self.burst_speedup),
            ("burst_volatility", self.burst_volatility),
        ];
        for (name, value) in at_least_one {
            if !(value.is_finite() && value >= 1.0) {
                return bad(format!("{name} {value} must be finite and at least 1"));
            }
        }
        Ok(())
    }
}

/// An iterator of generated trades; see [`GeneratorConfig`] for the model.
///
/// Also a [`MarketDataSource`] that never fails.
#[derive(Debug, Clone)]
pub struct Generator {
    config: GeneratorConfig,
    rng: Rng,
    remaining: u64,
    tick_mantissa: i128,
    tick_scale: u32,
    lot_mantissa: i128,
    lot_scale: u32,
    lot_f64: f64,
    median_size: f64,
    order_interval_ms: f64,
    max_lots: i64,
    price_ticks: i64,
    elapsed_ms: f64,
    burst: Option<Burst>,
    last_side: Side,
}

/// An ongoing burst and the direction its moves favour.
#[derive(Debug, Clone, Copy)]
struct Burst {
    up: bool,
}

impl Generator {
    /// A generator for `config`.
    ///
    /// # Errors
    /// [`InvalidConfig`] when [`GeneratorConfig::validate`] fails.
    pub fn new(config: &GeneratorConfig) -> Result<Self, InvalidConfig> {
        config.validate()?;
        let lot_f64 = config.lot_size.to_f64().ok_or_else(|| {
            InvalidConfig(format!("lot_size {} is out of range", config.lot_size))
        })?;
        let median_size = config.median_size.to_f64().ok_or_else(|| {
            InvalidConfig(format!(
                "median_size {} is out of range",
                config.median_size
            ))
        })?;
        let price_ticks = (config.start_price / config.tick_size)
            .round()
            .to_i64()
            .filter(|ticks| (1..=MAX_STEPS).contains(ticks))
            .ok_or_else(|| {
                InvalidConfig(format!(
                    "start_price {} is too many ticks of {}",
                    config.start_price, config.tick_size
                ))
            })?;
        let max_lots = (config.max_size / config.lot_size)
            .floor()
            .to_i64()
            .unwrap_or(MAX_STEPS)
            .clamp(1, MAX_STEPS);
        // Mean gap between trades = (1 - s) * order gap + s * sweep gap.
        let order_interval_ms = if config.sweep_probability < 1.0 {
            ((config.mean_interval_ms - config.sweep_probability * config.sweep_interval_ms)
                / (1.0 - config.sweep_probability))
                .max(0.0)
        } else {
            0.0
        };
        let mut rng = Rng::new(config.seed);
        let last_side = if rng.chance(0.5) {
            Side::Buy
        } else {
            Side::Sell
        };
        Ok(Self {
            config: config.clone(),
            rng,
            remaining: config.trades,
            tick_mantissa: config.tick_size.mantissa(),
            tick_scale: config.tick_size.scale(),
            lot_mantissa: config.lot_size.mantissa(),
            lot_scale: config.lot_size.scale(),
            lot_f64,
            median_size,
            order_interval_ms,
            max_lots,
            price_ticks,
            elapsed_ms: 0.0,
            burst: None,
            last_side,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    /// Trades still to come.
    #[must_use]
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    fn step_regime(&mut self) {
        let config = &self.config;
        match self.burst {
            Some(_) if self.rng.chance(1.0 / config.burst_mean_trades) => self.burst = None,
            None if self.rng.chance(config.burst_probability) => {
                self.burst = Some(Burst {
                    up: self.rng.chance(0.5),
                });
            }
            _ => {}
        }
    }

    /// A new order's price change, in ticks.
    fn step_price(&mut self) -> i64 {
        if !self.rng.chance(self.config.move_probability) {
            return 0;
        }
        let sigma_ticks = self.sigma_ticks();
        let up = match self.burst {
            Some(burst) if self.rng.chance(self.config.burst_trend) => burst.up,
            _ => self.rng.chance(0.5),
        };
        self.move_price(sigma_ticks, up)
    }

    /// The standard deviation of a price move, in ticks.
    fn sigma_ticks(&self) -> f64 {
        let config = &self.config;
        let volatility = match self.burst {
            Some(_) => config.volatility_bps * config.burst_volatility,
            None => config.volatility_bps,
        };
        // The per-trade variance, carried by the new orders that move.
        let moving = config.move_probability * (1.0 - config.sweep_probability);
        #[allow(clippy::cast_precision_loss)]
        let sigma = self.price_ticks as f64 * volatility * 1e-4 / moving.sqrt();
        sigma
    }

    /// Moves the price by at least a tick, up or down; returns the change.
    fn move_price(&mut self, sigma_ticks: f64, up: bool) -> i64 {
        let magnitude = (self.rng.normal().abs() * sigma_ticks).round().max(1.0);
        #[allow(clippy::cast_possible_truncation)]
        let magnitude = magnitude.min(1e15) as i64;
        let change = if up { magnitude } else { -magnitude };
        let before = self.price_ticks;
        self.price_ticks = before.saturating_add(change).clamp(1, MAX_STEPS);
        self.price_ticks - before
    }

    fn step_side(&mut self, change: i64) -> Side {
        let side = match change.signum() {
            1 if self.rng.chance(0.9) => Side::Buy,
            1 => Side::Sell,
            -1 if self.rng.chance(0.9) => Side::Sell,
            -1 => Side::Buy,
            _ if self.rng.chance(0.7) => self.last_side,
            _ => self.last_side.opposite(),
        };
        self.last_side = side;
        side
    }

    fn step_size_lots(&mut self) -> i64 {
        let config = &self.config;
        let median = match self.burst {
            Some(_) => self.median_size * 1.5,
            None => self.median_size,
        };
        let mut size = median * rng::exp(config.size_sigma * self.rng.normal());
        if self.rng.chance(config.round_size_probability) {
            size = round_to_one_digit(size);
        }
        let lots = (size / self.lot_f64).round();
        #[allow(clippy::cast_possible_truncation)]
        let lots = lots.min(1e18) as i64;
        lots.clamp(1, self.max_lots)
    }
}

/// `value` rounded to one significant digit: 0.0347 → 0.03, 2.6 → 3.
fn round_to_one_digit(value: f64) -> f64 {
    if !(value.is_finite() && value > 0.0) {
        return value;
    }
    let mut unit = 1.0;
    while value >= unit * 10.0 {
        unit *= 10.0;
    }
    while value < unit && unit > 1e-12 {
        unit /= 10.0;
    }
    (value / unit).round() * unit
}

impl Iterator for Generator {
    type Item = Tick;

    fn next(&mut self) -> Option<Tick> {
        if self.remaining == 0 {
            return None;
        }
        let first = self.remaining == self.config.trades;
        self.remaining -= 1;
        let side = if first {
            self.step_side(0)
        } else if self.rng.chance(self.config.sweep_probability) {
            // The same order takes the next price level, or more at this one.
            self.elapsed_ms += self.config.sweep_interval_ms * self.rng.exponential();
            if self.rng.chance(SWEEP_LEVEL_PROBABILITY) {
                self.move_price(0.0, self.last_side == Side::Buy);
            }
            self.last_side
        } else {
            self.step_regime();
            let mean = match self.burst {
                Some(_) => self.order_interval_ms / self.config.burst_speedup,
                None => self.order_interval_ms,
            };
            self.elapsed_ms += mean * self.rng.exponential();
            let change = self.step_price();
            self.step_side(change)
        };
        let lots = self.step_size_lots();
        #[allow(clippy::cast_possible_truncation)]
        let offset_ms = self.elapsed_ms as i64;
        let price = Decimal::from_i128_with_scale(
            i128::from(self.price_ticks) * self.tick_mantissa,
            self.tick_scale,
        );
        let size =
            Decimal::from_i128_with_scale(i128::from(lots) * self.lot_mantissa, self.lot_scale);
        Some(Tick {
            symbol: self.config.symbol.clone(),
            price: price.normalize(),
            size: size.normalize(),
            aggressor: Some(side),
            timestamp_ms: self.config.start_ms.saturating_add(offset_ms),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match usize::try_from(self.remaining) {
            Ok(remaining) => (remaining, Some(remaining)),
            Err(_) => (usize::MAX, None),
        }
    }
}

impl MarketDataSource for Generator {
    fn next_tick(&mut self) -> Option<Result<Tick, DataError>> {
        self.next().map(Ok)
    }

    fn describe(&self) -> String {
        format!(
            "generated {} trades of {} (seed {})",
            self.config.trades, self.config.symbol, self.config.seed
        )
    }
}

/// Trades generated from `config`; see [`GeneratorConfig`] for the model.
///
/// # Errors
/// [`InvalidConfig`] when the configuration is invalid.
///
/// ```
/// use tesser_data::{GeneratorConfig, generate};
///
/// let config = GeneratorConfig { trades: 100, seed: 7, ..GeneratorConfig::default() };
/// let ticks: Vec<_> = generate(&config).unwrap().collect();
/// assert_eq!(ticks.len(), 100);
/// assert!(ticks.windows(2).all(|w| w[0].timestamp_ms <= w[1].timestamp_ms));
/// ```
pub fn generate(config: &GeneratorConfig) -> Result<Generator, InvalidConfig> {
    Generator::new(config)
}

/// Writes the trades generated from `config` as a CSV trade file (header and
/// one line per trade) and returns the number of trades written.
///
/// Buffers internally; `writer` can be a bare file or stdout.
///
/// # Errors
/// Write errors, or [`io::ErrorKind::InvalidInput`] wrapping
/// [`InvalidConfig`] for an invalid configuration.
pub fn write_csv(config: &GeneratorConfig, writer: impl Write) -> io::Result<u64> {
    let generator = Generator::new(config)
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
    let mut csv = TradeCsvWriter::new(BufWriter::with_capacity(256 * 1024, writer))?;
    for tick in generator {
        csv.write_tick(&tick)?;
    }
    let lines = csv.lines_written();
    csv.finish()?;
    Ok(lines)
}
