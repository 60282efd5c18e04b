//! lfq's batch calls (`push_many` / `pop_many`, 64 items per call) against single operations, on one thread:
//! `lfq::Queue` (push N, pop N) next to `SegQueue`, and `lfq::Ring(1024)` (fill, drain) next to `ArrayQueue`.
//!
//! Run: `cargo bench --bench batches`.

mod common;

use common::{run_seq, run_seq_batched, BatchQueue, BenchQueue, BATCH, ITEMS};
use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use crossbeam_queue::{ArrayQueue, SegQueue};

const RING_CAPACITY: u64 = 1024;

/// `q` driven through `push_many` / `pop_many`, `BATCH` items per call.
fn add_batched<Q: BatchQueue>(group: &mut BenchmarkGroup<'_, WallTime>, q: Q, chunk: u64) {
    group.bench_function(format!("{} batch-{BATCH}", Q::NAME), |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| run_seq_batched(&q, ITEMS, chunk, BATCH))
                .sum()
        });
    });
}

/// `q` driven one item per call.
fn add_single<Q: BenchQueue>(group: &mut BenchmarkGroup<'_, WallTime>, q: Q, chunk: u64) {
    group.bench_function(format!("{} single", Q::NAME), |b| {
        b.iter_custom(|iters| (0..iters).map(|_| run_seq(&q, ITEMS, chunk)).sum());
    });
}

fn batches(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch/queue_seq");
    group.throughput(Throughput::Elements(ITEMS));
    // An iteration moves ITEMS items (half a millisecond or more): flat sampling suits such long
    // iterations and keeps a slow peer from stretching the run far past measurement_time.
    group.sampling_mode(SamplingMode::Flat);
    add_batched(&mut group, lfq::Queue::<u64>::new(), ITEMS);
    add_single(&mut group, lfq::Queue::<u64>::new(), ITEMS);
    add_single(&mut group, SegQueue::<u64>::new(), ITEMS);
    group.finish();

    let capacity = usize::try_from(RING_CAPACITY).expect("capacity fits in usize");
    let mut group = c.benchmark_group(format!("batch/ring_{RING_CAPACITY}_seq"));
    group.throughput(Throughput::Elements(ITEMS));
    // An iteration moves ITEMS items (half a millisecond or more): flat sampling suits such long
    // iterations and keeps a slow peer from stretching the run far past measurement_time.
    group.sampling_mode(SamplingMode::Flat);
    add_batched(&mut group, lfq::Ring::<u64>::new(capacity), RING_CAPACITY);
    add_single(&mut group, lfq::Ring::<u64>::new(capacity), RING_CAPACITY);
    add_single(&mut group, ArrayQueue::<u64>::new(capacity), RING_CAPACITY);
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = batches
}
criterion_main!(benches);
