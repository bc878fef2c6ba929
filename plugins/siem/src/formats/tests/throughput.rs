//! A quick throughput figure per format (printed, not asserted): run with `--nocapture`,
//! in release for the real number over 100,000 events (the target is 100,000 events/s or
//! more); debug builds render a tenth as many to keep the suite quick.

use std::hint::black_box;
use std::time::Instant;

use super::{origin, samples};
use crate::formats::{Format, render};

const EVENTS: usize = 100_000;

#[test]
fn events_per_second() {
    let base = samples();
    let count = if cfg!(debug_assertions) {
        EVENTS / 10
    } else {
        EVENTS
    };
    let events: Vec<_> = (0..count)
        .map(|i| {
            let mut e = base[i % base.len()].clone();
            e.seq = i64::try_from(i).unwrap_or(i64::MAX);
            e.id = format!("evt_{i}");
            e
        })
        .collect();
    let o = origin();
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    for f in Format::ALL {
        let start = Instant::now();
        let mut bytes = 0usize;
        for e in &events {
            bytes += black_box(render(e, f, &o)).len();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{build}: {f:>6}: {:>9.0} events/s ({count} events, {:.1} MB, {secs:.3} s)",
            count as f64 / secs,
            bytes as f64 / 1e6,
        );
    }
}
