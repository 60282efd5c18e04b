//! Bounded queues side by side: `lfq::Ring` against crossbeam's `ArrayQueue`, `ConcurrentQueue::bounded`,
//! `crossbeam_channel::bounded` and a capped `Mutex<VecDeque>`, at capacities 1024 and 65536, on u64 items,
//! in one criterion group per capacity and scenario.
//!
//! Run: `cargo bench --bench bounded` (add a filter such as `-- bounded_1024/spsc` to run one group).

mod common;

use common::{Bounded, Channel, ConcurrentQ, MutexDeque, Scenario, ITEMS};
use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use crossbeam_queue::ArrayQueue;

/// One peer in a group; the queue is built once and reused by every iteration.
fn add<Q: Bounded>(group: &mut BenchmarkGroup<'_, WallTime>, scenario: Scenario, capacity: u64) {
    group.bench_function(Q::NAME, |b| {
        let q = Q::bounded(usize::try_from(capacity).expect("capacity fits in usize"));
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| scenario.run(&q, ITEMS, Some(capacity)))
                .sum()
        });
    });
}

fn bounded(c: &mut Criterion) {
    for capacity in [1024, 65536] {
        for scenario in [Scenario::SEQ, Scenario::SPSC, Scenario::MPMC2] {
            let mut group = c.benchmark_group(format!("bounded_{capacity}/{}", scenario.label()));
            group.throughput(Throughput::Elements(ITEMS));
            // An iteration moves ITEMS items (half a millisecond or more): flat sampling suits such long
            // iterations and keeps a slow peer from stretching the run far past measurement_time.
            group.sampling_mode(SamplingMode::Flat);
            add::<lfq::Ring<u64>>(&mut group, scenario, capacity);
            add::<ArrayQueue<u64>>(&mut group, scenario, capacity);
            add::<ConcurrentQ>(&mut group, scenario, capacity);
            add::<Channel>(&mut group, scenario, capacity);
            add::<MutexDeque>(&mut group, scenario, capacity);
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = bounded
}
criterion_main!(benches);
