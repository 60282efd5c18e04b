//! Ping-pong round-trip latency: one thread sends a u64 through a queue, a second thread sends it back
//! through another, and every round trip is timed. Criterion cannot report percentiles, so this is a plain
//! `harness = false` main that prints p50 and p99 per queue, next to a bare shared-atomic ping-pong (the
//! hardware floor) and next to lfq's peer.
//!
//! Run: `cargo bench --bench latency`. Without `--bench` (as under `cargo test --benches`) it does a short
//! smoke run.

mod common;

use common::{
    percentile, ping_pong_bounded, ping_pong_floor, ping_pong_unbounded, timer_overhead, Bounded,
    Unbounded, WaitingRing,
};
use crossbeam_queue::{ArrayQueue, SegQueue};

const CAPACITY: usize = 1024;
/// Indexes into the cases of `main`: each of lfq's queues and its peer.
const PEERS: [(usize, usize); 3] = [(1, 3), (2, 3), (4, 5)];
/// Passes over all cases; interleaving them spreads slow phases of a shared machine over every case.
const PASSES: usize = 3;

/// One measured exchange: its label and how to run `rounds` round trips.
struct Case {
    label: String,
    run: fn(usize) -> Vec<u64>,
    samples: Vec<u64>,
}

impl Case {
    fn new(label: String, run: fn(usize) -> Vec<u64>) -> Self {
        Case {
            label,
            run,
            samples: Vec::new(),
        }
    }
    fn bounded<Q: Bounded>() -> Self {
        Case::new(format!("{}({CAPACITY})", Q::NAME), |rounds| {
            ping_pong_bounded::<Q>(CAPACITY, rounds)
        })
    }
    fn unbounded<Q: Unbounded>() -> Self {
        Case::new(Q::NAME.to_owned(), ping_pong_unbounded::<Q>)
    }
    fn p50_p99(&mut self) -> (u64, u64) {
        (
            percentile(&mut self.samples, 0.50),
            percentile(&mut self.samples, 0.99),
        )
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 20_000 } else { 1_000 };

    // Index 0 is the floor; then lfq's queues and their peers, paired in `PEERS`.
    let mut cases = vec![
        Case::new("atomic word (floor)".to_owned(), ping_pong_floor),
        Case::bounded::<lfq::Ring<u64>>(),
        Case::bounded::<WaitingRing>(),
        Case::bounded::<ArrayQueue<u64>>(),
        Case::unbounded::<lfq::Queue<u64>>(),
        Case::unbounded::<SegQueue<u64>>(),
    ];
    for _ in 0..PASSES {
        for case in &mut cases {
            let samples = (case.run)(rounds);
            case.samples.extend(samples);
        }
    }

    println!(
        "ping-pong round trip in ns: {} round trips per queue in {PASSES} passes; \
         each includes one Instant::now() (~{} ns here)",
        rounds * PASSES,
        timer_overhead(10_000)
    );
    println!(
        "{:<24} {:>8} {:>8} {:>12} {:>12}",
        "queue", "p50", "p99", "p50/floor", "p99/floor"
    );
    let (floor50, floor99) = cases[0].p50_p99();
    let mut figures = Vec::new();
    for case in &mut cases {
        let (p50, p99) = case.p50_p99();
        println!(
            "{:<24} {:>8} {:>8} {:>11.2}x {:>11.2}x",
            case.label,
            p50,
            p99,
            p50 as f64 / floor50.max(1) as f64,
            p99 as f64 / floor99.max(1) as f64
        );
        figures.push((case.label.clone(), p50, p99));
    }
    println!("speedup of lfq over its peer (peer time / lfq time, > 1 = lfq faster):");
    for (lfq, peer) in PEERS {
        let ((lfq, l50, l99), (peer, p50, p99)) = (&figures[lfq], &figures[peer]);
        println!(
            "  {lfq} vs {peer}: p50 {:.2}x, p99 {:.2}x",
            *p50 as f64 / (*l50).max(1) as f64,
            *p99 as f64 / (*l99).max(1) as f64
        );
    }
}
