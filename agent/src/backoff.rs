//! Reconnect delays: exponential with full jitter, so agents that lost the server at the
//! same moment do not all come back at the same moment.

use std::time::Duration;

/// Exponential backoff with full jitter: attempt `n` waits a uniform random time in
/// `[floor, min(cap, base * 2^n)]`.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

/// The shortest wait, so a jitter of zero never makes a hot loop.
const FLOOR: Duration = Duration::from_millis(50);

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            base,
            cap: cap.max(base),
            attempt: 0,
        }
    }

    /// The ceiling of the current attempt's wait.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The next wait; each call doubles the ceiling up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        let floor = u64::try_from(FLOOR.min(ceiling).as_millis()).unwrap_or(0);
        Duration::from_millis(rand::random_range(floor..=ms.max(floor)))
    }

    /// Back to the first delay, after a connection that lasted.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_millis(500), Duration::from_secs(30))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_with_jitter() {
        let mut b = Backoff::default();
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            let ceiling = b.ceiling();
            let d = b.next_delay();
            assert!(d <= ceiling, "{d:?} > {ceiling:?}");
            ceilings.push(ceiling.as_millis());
        }
        assert_eq!(&ceilings[..4], &[500, 1000, 2000, 4000]);
        assert_eq!(*ceilings.last().unwrap_or(&0), 30_000);
        b.reset();
        assert_eq!(b.ceiling(), Duration::from_millis(500));
    }
}
