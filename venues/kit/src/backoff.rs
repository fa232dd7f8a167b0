//! Reconnect delays.

use std::time::Duration;

use rand::Rng as _;

/// The delay before reconnect attempt `attempt` (0-based): exponential from
/// `min`, capped at `max`, with 50–100 % jitter.
#[must_use]
pub fn backoff(attempt: u32, min: Duration, max: Duration) -> Duration {
    let exp = min.saturating_mul(1u32 << attempt.min(16));
    let capped = exp.min(max);
    let factor = rand::thread_rng().gen_range(0.5..=1.0);
    capped.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_minimum_up_to_the_maximum_with_jitter() {
        let min = Duration::from_millis(100);
        let max = Duration::from_secs(3);
        for attempt in 0..40 {
            let full = min.saturating_mul(1u32 << attempt.min(16)).min(max);
            for _ in 0..20 {
                let delay = backoff(attempt, min, max);
                assert!(
                    delay >= full / 2 && delay <= full,
                    "attempt {attempt}: {delay:?} outside {:?}..={full:?}",
                    full / 2
                );
            }
        }
        assert!(backoff(u32::MAX, min, max) <= max, "no overflow");
    }
}
