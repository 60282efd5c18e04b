//! The Rust side of `make bench-c`: the scenarios of the Rust benches, run on `lfq::Queue<u64>` and
//! `lfq::Ring<u64>` through the Rust API, so that `bindings/c/bench/bench_lfq.c` can set the cost of
//! the same scenarios through the C API beside them, measured in the same run.
//!
//! The sequential scenarios are the benches' own code (`benches/common`). The threaded ones use
//! the benches' waiting policy ([`Backoff`]) with a timing that the C bench mirrors exactly: every
//! worker reads the clock itself after the start barrier and when done, and a run lasts from the
//! first start to the last end. (Timing from the main thread after the barrier under-reports on
//! an oversubscribed machine, where the main thread can lose its core to the workers it woke.)
//!
//! The round trips are the latency bench's ping-pong (`benches/common`): two threads, pinned to
//! two CPUs, pass a counter back and forth through two fresh queues, and each run reports its
//! median round trip.
//!
//! Prints one line per scenario, `name<TAB>ns per item` (ns per round trip for the round trips):
//! the best of `runs` runs after a warm-up (the run least disturbed by other processes; the C side
//! does the same).
//!
//! Run: `cargo run --release --example c_api_baseline -- [runs]` (default 5).

#[path = "../benches/common/mod.rs"]
mod common;

use common::{
    ns_per_item, percentile, ping_pong_bounded, ping_pong_unbounded, pop_wait, push_wait, run_seq,
    run_seq_batched, Backoff, BenchQueue, BATCH, ITEMS,
};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

const RING_CAPACITY: usize = 1024;
const LARGE_RING_CAPACITY: usize = 65536;
/// Round trips per ping-pong run, after the warm-up that `ping_pong` adds.
const ROUND_TRIPS: usize = 20_000;

/// `producers` threads push `n` items in all while `consumers` threads pop them; returns the span
/// from the first worker's start to the last worker's end.
fn run_threads_timed<Q: BenchQueue>(q: &Q, producers: u64, consumers: u64, n: u64) -> Duration {
    let (per_producer, per_consumer) = (n / producers, n / consumers);
    let ready = Barrier::new((producers + consumers + 1) as usize);
    let ready = &ready;
    let (spans, sum) = thread::scope(|s| {
        let pushers: Vec<_> = (0..producers)
            .map(|p| {
                s.spawn(move || {
                    let mut backoff = Backoff::new();
                    ready.wait();
                    let start = Instant::now();
                    for item in p * per_producer..(p + 1) * per_producer {
                        push_wait(q, item, &mut backoff);
                    }
                    (start, Instant::now(), 0)
                })
            })
            .collect();
        let poppers: Vec<_> = (0..consumers)
            .map(|_| {
                s.spawn(move || {
                    let mut backoff = Backoff::new();
                    ready.wait();
                    let start = Instant::now();
                    let sum: u64 = (0..per_consumer).map(|_| pop_wait(q, &mut backoff)).sum();
                    (start, Instant::now(), sum)
                })
            })
            .collect();
        ready.wait();
        let spans: Vec<(Instant, Instant, u64)> = pushers
            .into_iter()
            .chain(poppers)
            .map(|t| t.join().expect("worker panicked"))
            .collect();
        let sum = spans.iter().map(|&(_, _, s)| s).sum::<u64>();
        (spans, sum)
    });
    assert_eq!(sum, n * (n - 1) / 2, "{} returned wrong items", Q::NAME);
    let first = spans
        .iter()
        .map(|&(start, _, _)| start)
        .min()
        .expect("workers ran");
    let last = spans
        .iter()
        .map(|&(_, end, _)| end)
        .max()
        .expect("workers ran");
    last - first
}

/// Best ns per item of `runs` runs of `scenario`, after one warm-up run.
fn measure(runs: usize, mut scenario: impl FnMut() -> Duration) -> f64 {
    scenario();
    (0..runs)
        .map(|_| ns_per_item(scenario(), ITEMS))
        .fold(f64::INFINITY, f64::min)
}

/// Best median round trip in ns of `runs` ping-pong runs after a warm-up run (each run on fresh
/// queues, with the round trips `ping_pong` throws away first); a run returns one duration per
/// round trip.
fn measure_round_trip(runs: usize, ping_pong: impl Fn() -> Vec<u64>) -> f64 {
    ping_pong();
    (0..runs)
        .map(|_| percentile(&mut ping_pong(), 0.5) as f64)
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let runs = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .expect("usage: c_api_baseline [runs > 0]"),
        None => 5,
    };
    let queue = lfq::Queue::<u64>::new();
    let ring = lfq::Ring::<u64>::new(RING_CAPACITY);
    let large_ring = lfq::Ring::<u64>::new(LARGE_RING_CAPACITY);
    let cap = RING_CAPACITY as u64;
    let large_cap = LARGE_RING_CAPACITY as u64;

    let rows: [(&str, &mut dyn FnMut() -> Duration); 12] = [
        ("Queue seq", &mut || run_seq(&queue, ITEMS, ITEMS)),
        ("Queue seq bulk-64", &mut || {
            run_seq_batched(&queue, ITEMS, ITEMS, BATCH)
        }),
        ("Ring(1024) seq", &mut || run_seq(&ring, ITEMS, cap)),
        ("Ring(1024) seq bulk-64", &mut || {
            run_seq_batched(&ring, ITEMS, cap, BATCH)
        }),
        ("Ring(65536) seq", &mut || {
            run_seq(&large_ring, ITEMS, large_cap)
        }),
        ("Queue spsc", &mut || run_threads_timed(&queue, 1, 1, ITEMS)),
        ("Queue 2P2C", &mut || run_threads_timed(&queue, 2, 2, ITEMS)),
        ("Queue 4P4C", &mut || run_threads_timed(&queue, 4, 4, ITEMS)),
        ("Ring(1024) spsc", &mut || {
            run_threads_timed(&ring, 1, 1, ITEMS)
        }),
        ("Ring(1024) 2P2C", &mut || {
            run_threads_timed(&ring, 2, 2, ITEMS)
        }),
        ("Ring(65536) spsc", &mut || {
            run_threads_timed(&large_ring, 1, 1, ITEMS)
        }),
        ("Ring(65536) 2P2C", &mut || {
            run_threads_timed(&large_ring, 2, 2, ITEMS)
        }),
    ];
    for (name, scenario) in rows {
        println!("{name}\t{:.3}", measure(runs, scenario));
    }
    let round_trips: [(&str, &dyn Fn() -> Vec<u64>); 2] = [
        ("Queue round trip p50", &|| {
            ping_pong_unbounded::<lfq::Queue<u64>>(ROUND_TRIPS)
        }),
        ("Ring(1024) round trip p50", &|| {
            ping_pong_bounded::<lfq::Ring<u64>>(RING_CAPACITY, ROUND_TRIPS)
        }),
    ];
    for (name, ping_pong) in round_trips {
        println!("{name}\t{:.3}", measure_round_trip(runs, ping_pong));
    }
}
