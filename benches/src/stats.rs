//! Latency summaries: p50, p99, mean over a set of samples.

use std::fmt;
use std::time::Duration;

/// Percentiles of a sample set.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub n: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub mean: Duration,
}

impl Summary {
    pub fn of(samples: &[Duration]) -> Summary {
        let mut s = samples.to_vec();
        s.sort();
        let at = |q: f64| {
            s.get(((s.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or_default()
        };
        let total: Duration = s.iter().sum();
        Summary {
            n: s.len(),
            p50: at(0.50),
            p99: at(0.99),
            mean: total / u32::try_from(s.len().max(1)).unwrap_or(1),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n={} p50={:.2}ms p99={:.2}ms mean={:.2}ms",
            self.n,
            ms(self.p50),
            ms(self.p99),
            ms(self.mean)
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
