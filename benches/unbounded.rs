//! Unbounded queues side by side: `lfq::Queue` against crossbeam's `SegQueue`, `ConcurrentQueue::unbounded`,
//! `crossbeam_channel::unbounded` and `Mutex<VecDeque>`, on u64 items, in one criterion group per scenario.
//!
//! Run: `cargo bench --bench unbounded` (add a filter such as `-- unbounded/spsc` to run one group).

mod common;

use common::{Channel, ConcurrentQ, MutexDeque, Scenario, Unbounded, ITEMS};
use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use crossbeam_queue::SegQueue;

/// One peer in a scenario's group; the queue is built once and reused by every iteration.
fn add<Q: Unbounded>(group: &mut BenchmarkGroup<'_, WallTime>, scenario: Scenario) {
    group.bench_function(Q::NAME, |b| {
        let q = Q::unbounded();
        b.iter_custom(|iters| (0..iters).map(|_| scenario.run(&q, ITEMS, None)).sum());
    });
}

fn unbounded(c: &mut Criterion) {
    for scenario in [
        Scenario::SEQ,
        Scenario::SPSC,
        Scenario::MPMC2,
        Scenario::MPMC4,
    ] {
        let mut group = c.benchmark_group(format!("unbounded/{}", scenario.label()));
        group.throughput(Throughput::Elements(ITEMS));
        // An iteration moves ITEMS items (half a millisecond or more): flat sampling suits such long
        // iterations and keeps a slow peer from stretching the run far past measurement_time.
        group.sampling_mode(SamplingMode::Flat);
        add::<lfq::Queue<u64>>(&mut group, scenario);
        add::<SegQueue<u64>>(&mut group, scenario);
        add::<ConcurrentQ>(&mut group, scenario);
        add::<Channel>(&mut group, scenario);
        add::<MutexDeque>(&mut group, scenario);
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = unbounded
}
criterion_main!(benches);
