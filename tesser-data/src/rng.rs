//! A small deterministic random number generator and the distributions the
//! sample-data generator needs.
//!
//! Everything here uses only IEEE-754 basic arithmetic and `sqrt` (all
//! correctly rounded), never the platform's `ln`/`exp`, so a seed produces the
//! same numbers on every platform and Rust version.

use std::f64::consts::{LN_2, SQRT_2};

/// xoshiro256++ (Blackman and Vigna), seeded through SplitMix64.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: [u64; 4],
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        let mut mix = seed;
        let mut next = || {
            mix = mix.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = mix;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self {
            state: [next(), next(), next(), next()],
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = &mut self.state;
        let result = s0.wrapping_add(*s3).rotate_left(23).wrapping_add(*s0);
        let t = *s1 << 17;
        *s2 ^= *s0;
        *s3 ^= *s1;
        *s1 ^= *s2;
        *s0 ^= *s3;
        *s2 ^= t;
        *s3 = s3.rotate_left(45);
        result
    }

    /// Uniform in `(0, 1]`: never zero, so its logarithm is finite.
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn unit_open(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit_open() <= p
    }

    /// Exponential with mean 1.
    pub(crate) fn exponential(&mut self) -> f64 {
        -ln(self.unit_open())
    }

    /// Standard normal (Marsaglia's polar method).
    pub(crate) fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.unit_open() - 1.0;
            let v = 2.0 * self.unit_open() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * ln(s) / s).sqrt();
            }
        }
    }
}

/// `1 / (2k + 1)` for k = 0, 1, ...
const ATANH_COEFFICIENTS: [f64; 13] = {
    let mut coefficients = [0.0; 13];
    let mut k = 0;
    while k < coefficients.len() {
        coefficients[k] = 1.0 / (2 * k + 1) as f64;
        k += 1;
    }
    coefficients
};

/// `1 / n!` for n = 0, 1, ...
const EXP_COEFFICIENTS: [f64; 16] = {
    let mut coefficients = [1.0; 16];
    let mut n = 1;
    while n < coefficients.len() {
        coefficients[n] = coefficients[n - 1] / n as f64;
        n += 1;
    }
    coefficients
};

/// Natural logarithm of a positive finite `x`, to within a few ulps.
pub(crate) fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    let (mut x, mut exponent) = (x, 0i64);
    if x < f64::MIN_POSITIVE {
        // Subnormal: scale into the normal range first.
        x *= (1u64 << 54) as f64;
        exponent -= 54;
    }
    let bits = x.to_bits();
    #[allow(clippy::cast_possible_wrap)]
    let biased = ((bits >> 52) & 0x7ff) as i64;
    exponent += biased - 1023;
    let mut mantissa = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if mantissa > SQRT_2 {
        mantissa /= 2.0;
        exponent += 1;
    }
    // ln(m) = 2 atanh(t) = 2 (t + t^3/3 + t^5/5 + ...), t = (m - 1) / (m + 1),
    // |t| < 0.172: 13 terms reach full precision.
    let t = (mantissa - 1.0) / (mantissa + 1.0);
    let t2 = t * t;
    let mut sum = 0.0;
    for coefficient in ATANH_COEFFICIENTS.iter().rev() {
        sum = sum * t2 + coefficient;
    }
    let sum = sum * t;
    #[allow(clippy::cast_precision_loss)]
    let exponent = exponent as f64;
    2.0 * sum + exponent * LN_2
}

/// `e^x`, to within a few ulps; saturates to `0` and infinity.
pub(crate) fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    if x < -708.0 {
        return 0.0;
    }
    let k = (x / LN_2).round();
    let r = x - k * LN_2;
    // Taylor series of e^r, |r| <= 0.35: 16 terms reach full precision.
    let mut sum = 0.0;
    for coefficient in EXP_COEFFICIENTS.iter().rev() {
        sum = sum * r + coefficient;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let scale = f64::from_bits(((k as i64 + 1023) as u64) << 52);
    sum * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_and_exp_match_std() {
        let mut rng = Rng::new(7);
        for _ in 0..10_000 {
            let x = rng.unit_open() * 1000.0;
            let relative = (ln(x) - x.ln()).abs() / x.ln().abs().max(1e-300);
            assert!(relative < 1e-14 || (ln(x) - x.ln()).abs() < 1e-15, "ln {x}");
            let y = rng.unit_open() * 80.0 - 40.0;
            let relative = (exp(y) - y.exp()).abs() / y.exp();
            assert!(relative < 1e-14, "exp {y}: {} vs {}", exp(y), y.exp());
        }
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(exp(0.0), 1.0);
        assert!(ln(f64::MIN_POSITIVE / 8.0).is_finite());
    }

    #[test]
    fn same_seed_same_sequence() {
        let mut rng = Rng::new(0);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        let mut again = Rng::new(0);
        assert_eq!(first, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
        assert_ne!(first[0], first[1]);
    }

    #[test]
    fn distributions_have_the_right_moments() {
        let mut rng = Rng::new(42);
        let n = 200_000;
        let (mut sum, mut sum_sq, mut exp_sum) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let z = rng.normal();
            sum += z;
            sum_sq += z * z;
            exp_sum += rng.exponential();
        }
        let n = f64::from(n);
        assert!((sum / n).abs() < 0.01);
        assert!((sum_sq / n - 1.0).abs() < 0.02);
        assert!((exp_sum / n - 1.0).abs() < 0.01);
    }
}
