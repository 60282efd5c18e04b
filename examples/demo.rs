//! The Rust rows of `make demo`: lfq's queues against crossbeam's, a few short self-timed runs each.
//!
//! Prints only table rows (the Makefile prints the header), in the format every front end shares:
//! language, scenario, lfq ns per item, peer, peer ns per item, speedup (peer / lfq, > 1 = lfq faster).
//! Each figure is the median of a few runs, lfq and its peer taking turns. Finishes in a few seconds.
//!
//! Run: `cargo run --release --example demo`.

#[path = "../benches/common/mod.rs"]
mod common;

use common::{
    median, ns_per_item, percentile, ping_pong_bounded, run_seq, run_seq_batched, BenchQueue,
    Scenario, WaitingRing, BATCH, ITEMS,
};
use crossbeam_queue::{ArrayQueue, SegQueue};

/// Measured runs per figure (after one warm-up run each).
const RUNS: usize = 9;
const RING_CAPACITY: usize = 1024;
/// Recorded round trips per ping-pong run.
const ROUNDS: usize = 10_000;

/// Runs lfq and its peer in turns, then prints one table row of their medians.
fn row(
    scenario: &str,
    peer: &str,
    mut lfq_run: impl FnMut() -> f64,
    mut peer_run: impl FnMut() -> f64,
) {
    lfq_run();
    peer_run();
    let (mut lfq, mut other) = (Vec::with_capacity(RUNS), Vec::with_capacity(RUNS));
    for _ in 0..RUNS {
        lfq.push(lfq_run());
        other.push(peer_run());
    }
    let (lfq, other) = (median(&mut lfq), median(&mut other));
    println!(
        "{:<7} {:<30} {:>12.1}  {:<26} {:>12.1}  {:>6.2}x",
        "rust",
        scenario,
        lfq,
        peer,
        other,
        other / lfq
    );
}

/// Nanoseconds per item of one run of `scenario` through `q`.
fn per_item<Q: BenchQueue>(q: &Q, scenario: Scenario, capacity: Option<u64>) -> f64 {
    ns_per_item(scenario.run(q, ITEMS, capacity), ITEMS)
}

fn main() {
    let queue = lfq::Queue::<u64>::new();
    let seg = SegQueue::<u64>::new();
    for scenario in [
        Scenario::SEQ,
        Scenario::SPSC,
        Scenario::MPMC2,
        Scenario::MPMC4,
    ] {
        row(
            &format!("Queue {}", scenario.label()),
            "crossbeam SegQueue",
            || per_item(&queue, scenario, None),
            || per_item(&seg, scenario, None),
        );
    }

    let ring = lfq::Ring::<u64>::new(RING_CAPACITY);
    let array = ArrayQueue::<u64>::new(RING_CAPACITY);
    let capacity = Some(RING_CAPACITY as u64);
    let peer = format!("crossbeam ArrayQueue({RING_CAPACITY})");
    for scenario in [Scenario::SEQ, Scenario::SPSC, Scenario::MPMC2] {
        row(
            &format!("Ring({RING_CAPACITY}) {}", scenario.label()),
            &peer,
            || per_item(&ring, scenario, capacity),
            || per_item(&array, scenario, capacity),
        );
    }

    // ns per round trip here, not per item: first with both sides polling `pop`, then with lfq's
    // consumers waiting in `pop_blocking`.
    let round_trip = |ping_pong: fn(usize, usize) -> Vec<u64>| {
        percentile(&mut ping_pong(RING_CAPACITY, ROUNDS), 0.5) as f64
    };
    row(
        &format!("Ring({RING_CAPACITY}) ping-pong RTT p50"),
        &peer,
        || round_trip(ping_pong_bounded::<lfq::Ring<u64>>),
        || round_trip(ping_pong_bounded::<ArrayQueue<u64>>),
    );
    row(
        &format!("Ring({RING_CAPACITY}) RTT p50, pop_blocking"),
        &peer,
        || round_trip(ping_pong_bounded::<WaitingRing>),
        || round_trip(ping_pong_bounded::<ArrayQueue<u64>>),
    );

    row(
        &format!("Queue seq batch-{BATCH}"),
        "crossbeam SegQueue single",
        || ns_per_item(run_seq_batched(&queue, ITEMS, ITEMS, BATCH), ITEMS),
        || ns_per_item(run_seq(&seg, ITEMS, ITEMS), ITEMS),
    );
}
