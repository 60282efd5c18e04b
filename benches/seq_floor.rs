//! How far below `ArrayQueue` a bounded MPMC ring can go in the seq scenario (push 1024, pop
//! 1024, on one thread): `lfq::Ring(1024)` and `ArrayQueue(1024)` beside `BareRing`, the stamped
//! ring protocol both follow with everything else taken out.
//!
//! `BareRing` keeps only what any lock-free MPMC ring of this family must do per operation: load
//! its index, check the slot's stamp, claim the position with a compare-and-swap, move the value
//! and publish the slot with a stamp store. It has a power-of-two capacity (a mask instead of wrap
//! arithmetic), no close, no waiters and no full/empty diagnosis. Whatever lfq or `ArrayQueue`
//! spends above it is all that a faster design of the same family could save.
//!
//! Run: `cargo bench --bench seq_floor`.

mod common;

use common::{run_seq, BenchQueue};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

const CAPACITY: usize = 1024;

struct BareSlot {
    /// `position` when free for the push at `position`, `position + 1` once that push published.
    stamp: AtomicUsize,
    value: AtomicU64,
}

/// A Vyukov bounded MPMC ring of `CAPACITY` u64 slots; see the file comment.
struct BareRing {
    head: CachePadded<AtomicUsize>,
    tail: CachePadded<AtomicUsize>,
    slots: Box<[BareSlot]>,
}

impl BareRing {
    fn new() -> Self {
        BareRing {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            slots: (0..CAPACITY)
                .map(|i| BareSlot {
                    stamp: AtomicUsize::new(i),
                    value: AtomicU64::new(0),
                })
                .collect(),
        }
    }

    fn slot(&self, position: usize) -> &BareSlot {
        &self.slots[position & (CAPACITY - 1)]
    }
}

impl BenchQueue for BareRing {
    const NAME: &'static str = "bare stamped ring (floor)";

    fn try_push(&self, item: u64) -> Result<(), u64> {
        loop {
            // Relaxed: the CAS validates the position; the stamp carries the synchronisation.
            let tail = self.tail.load(Ordering::Relaxed);
            let slot = self.slot(tail);
            // Acquire: pairs with the pop's Release stamp store, so its read of the old value is
            // done before we overwrite it.
            if slot.stamp.load(Ordering::Acquire) != tail {
                return Err(item);
            }
            // SeqCst, as lfq and ArrayQueue claim (it compiles to the same locked instruction).
            if self
                .tail
                .compare_exchange(tail, tail + 1, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
            {
                // Relaxed value, Release stamp: the stamp store publishes the value.
                slot.value.store(item, Ordering::Relaxed);
                slot.stamp.store(tail + 1, Ordering::Release);
                return Ok(());
            }
        }
    }

    fn try_pop(&self) -> Option<u64> {
        loop {
            // Relaxed and Acquire: as in `try_push`, mirrored; the Acquire pairs with the push's
            // Release stamp store, so the value is visible.
            let head = self.head.load(Ordering::Relaxed);
            let slot = self.slot(head);
            if slot.stamp.load(Ordering::Acquire) != head + 1 {
                return None;
            }
            if self
                .head
                .compare_exchange(head, head + 1, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
            {
                let item = slot.value.load(Ordering::Relaxed);
                // Release: our read of the value happens before the next lap's push writes it.
                slot.stamp.store(head + CAPACITY, Ordering::Release);
                return Some(item);
            }
        }
    }
}

fn add<Q: BenchQueue>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    q: Q,
) {
    group.bench_function(Q::NAME, |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| run_seq(&q, common::ITEMS, CAPACITY as u64))
                .sum()
        });
    });
}

fn seq_floor(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("seq_floor_{CAPACITY}"));
    group.throughput(Throughput::Elements(common::ITEMS));
    group.sampling_mode(SamplingMode::Flat);
    add(&mut group, lfq::Ring::<u64>::new(CAPACITY));
    add(&mut group, ArrayQueue::<u64>::new(CAPACITY));
    add(&mut group, BareRing::new());
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = seq_floor
}
criterion_main!(benches);
