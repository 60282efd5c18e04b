//! A batch push whose iterator panics part way: the positions it claimed for the items it never
//! got are skipped, and the queue keeps every promise for the rest: the items pushed before the
//! panic come out once, in order; later pushes and pops work; capacity comes back; blocked
//! consumers wake; dropping the queue drops only real items. And an item whose drop panics
//! while the queue is dropped: the other items are dropped all the same.

mod common;

use common::{join_within, quiet_provoked_panics, Failing, Tracked, Tracker, PROMPT, PROVOKED};
use lfq::{PopError, PushError, Queue, Ring};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;

/// Tracked items `first..first + len`, failing at the `fail_at`th.
fn tracked(
    tracker: &Arc<Tracker>,
    first: usize,
    len: usize,
    fail_at: usize,
) -> Failing<impl FnMut(usize) -> Tracked + '_> {
    Failing::new(first..first + len, Some(first + fail_at), |id| {
        tracker.item(id)
    })
}

/// Runs `push_many`, which must panic.
fn push_many_panics<R>(push_many: impl FnOnce() -> R) {
    quiet_provoked_panics();
    let outcome = catch_unwind(AssertUnwindSafe(push_many));
    assert!(
        outcome.is_err(),
        "push_many should have passed the panic on"
    );
}

/// Pops until empty, in a thread so that a pop stuck on a skipped position fails the test.
fn drain<Q: Send + Sync + 'static, I: Send + 'static>(
    q: &Arc<Q>,
    pop: fn(&Q) -> Result<I, PopError>,
) -> Vec<I> {
    let q = Arc::clone(q);
    let consumer = thread::spawn(move || std::iter::from_fn(|| pop(&q).ok()).collect::<Vec<I>>());
    join_within(consumer, PROMPT, "draining past abandoned positions")
}

/// The ids of `items`, checked alive.
fn ids(items: Vec<Tracked>) -> Vec<usize> {
    items
        .iter()
        .map(|item| {
            item.check();
            item.id
        })
        .collect()
}

#[test]
fn queue_skips_what_a_panicking_push_many_claimed() {
    // Failing before the first item, inside a segment, at a segment's last slot and across
    // segments (a segment holds 127 slots; the batch spans three).
    for fail_at in [0, 5, 126, 127, 200, 252, 253, 299] {
        let tracker = Tracker::new(1000);
        let q = Arc::new(Queue::new());
        q.push(tracker.item(0)).unwrap();
        push_many_panics(|| q.push_many(&mut tracked(&tracker, 1, 300, fail_at)));
        q.push(tracker.item(500)).unwrap();

        let mut expected: Vec<usize> = (0..=fail_at).collect();
        expected.push(500);
        assert_eq!(ids(drain(&q, Queue::pop)), expected, "failing at {fail_at}");
        assert_eq!(q.pop().map(|item| item.id), Err(PopError::Empty));

        // The queue still works across segments, and nothing was dropped twice or leaked.
        let mut more = (600..900).map(|id| tracker.item(id));
        assert_eq!(q.push_many(&mut more), Ok(300));
        assert_eq!(ids(drain(&q, Queue::pop)), (600..900).collect::<Vec<_>>());
        drop(q);
        tracker.assert_all_dropped();
    }
}

#[test]
fn ring_skips_what_a_panicking_push_many_claimed() {
    for capacity in [1, 2, 3, 7, 16] {
        for fail_at in [0, 1, capacity / 2, capacity - 1].map(|at| at.min(capacity - 1)) {
            let tracker = Tracker::new(1000);
            let ring = Arc::new(Ring::new(capacity));
            // Start part way round, so that claims wrap past the end of the slots.
            for id in 0..capacity / 2 {
                ring.push(tracker.item(id)).unwrap();
                drop(ring.pop().unwrap());
            }
            push_many_panics(|| ring.push_many(&mut tracked(&tracker, 100, 50, fail_at)));
            let what = format!("capacity {capacity}, failing at {fail_at}");
            assert_eq!(
                ids(drain(&ring, Ring::pop)),
                (100..100 + fail_at).collect::<Vec<_>>(),
                "{what}"
            );

            // Every slot is free again, and the ring is FIFO across them.
            for id in 200..200 + capacity {
                ring.push(tracker.item(id)).unwrap();
            }
            assert!(
                matches!(ring.push(tracker.item(300)), Err(PushError::Full(_))),
                "{what}"
            );
            assert_eq!(
                ids(drain(&ring, Ring::pop)),
                (200..200 + capacity).collect::<Vec<_>>(),
                "{what}"
            );
            drop(ring);
            tracker.assert_all_dropped();
        }
    }
}

#[test]
fn dropping_a_queue_with_abandoned_positions_drops_only_items() {
    let tracker = Tracker::new(1000);
    let q = Queue::new();
    push_many_panics(|| q.push_many(&mut tracked(&tracker, 0, 300, 150)));
    q.push(tracker.item(999)).unwrap();
    drop(q);
    tracker.assert_all_dropped();

    let ring = Ring::new(8);
    push_many_panics(|| ring.push_many(&mut tracked(&tracker, 400, 6, 3)));
    ring.push(tracker.item(998)).unwrap();
    drop(ring);
    tracker.assert_all_dropped();
    assert_eq!(tracker.created(), 150 + 1 + 3 + 1);
}

#[test]
fn a_full_ring_of_abandoned_slots_reports_full_until_popped_past() {
    let tracker = Tracker::new(100);
    let ring = Ring::new(2);
    push_many_panics(|| ring.push_many(&mut tracked(&tracker, 0, 2, 0)));
    // The positions are taken: a push reports full rather than spinning on them.
    assert!(matches!(
        ring.push(tracker.item(10)),
        Err(PushError::Full(_))
    ));
    assert_eq!(ring.pop().map(|item| item.id), Err(PopError::Empty));
    ring.push(tracker.item(11)).unwrap();
    assert_eq!(ring.pop().map(|item| item.id), Ok(11));
    drop(ring);
    tracker.assert_all_dropped();
}

#[test]
fn force_push_evicts_an_abandoned_slot_without_handing_anything_back() {
    let tracker = Tracker::new(100);
    let ring = Ring::new(2);
    push_many_panics(|| ring.push_many(&mut tracked(&tracker, 0, 2, 1)));
    // Full: item 0 and one abandoned position. The first force_push evicts item 0, the second
    // the abandoned position, which has nothing to give back.
    assert_eq!(
        ring.force_push(tracker.item(20))
            .unwrap()
            .map(|item| item.id),
        Some(0)
    );
    assert!(ring.force_push(tracker.item(21)).unwrap().is_none());
    assert_eq!(ring.pop().map(|item| item.id), Ok(20));
    assert_eq!(ring.pop().map(|item| item.id), Ok(21));
    drop(ring);
    tracker.assert_all_dropped();
}

#[test]
fn a_blocked_consumer_gets_the_items_pushed_before_the_panic() {
    let tracker = Tracker::new(100);
    let q = Arc::new(Queue::<Tracked>::new());
    let ring = Arc::new(Ring::<Tracked>::new(4));
    let waiting = (Arc::clone(&q), Arc::clone(&ring));
    let consumer = thread::spawn(move || {
        let (q, ring) = waiting;
        (
            q.pop_blocking().map(|item| item.id),
            ring.pop_blocking().map(|item| item.id),
        )
    });
    // Let the consumer fall asleep first (this only makes the test harder, not flaky).
    thread::sleep(std::time::Duration::from_millis(50));
    push_many_panics(|| q.push_many(&mut tracked(&tracker, 0, 10, 1)));
    push_many_panics(|| ring.push_many(&mut tracked(&tracker, 50, 3, 1)));
    let popped = join_within(consumer, PROMPT, "a consumer waiting on a failed batch");
    assert_eq!(popped, (Ok(0), Ok(50)));
    drop((q, ring));
    tracker.assert_all_dropped();
}

/// Claims `len` items but yields only `yields`: a broken `ExactSizeIterator`, which safe code may
/// write. `push_many` panics on it and the queue stays sound.
struct Lying {
    len: usize,
    yields: u64,
    next: u64,
}

impl Iterator for Lying {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        (self.next < self.yields).then(|| {
            self.next += 1;
            self.next - 1
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

impl ExactSizeIterator for Lying {}

#[test]
fn an_iterator_shorter_than_its_len_cannot_break_the_queue() {
    let lying = |len| Lying {
        len,
        yields: 2,
        next: 0,
    };
    // A len of 2^40 also checks that a batch claims (and allocates segments for) a bounded
    // number of positions at a time: all of them would not fit in memory.
    for len in [5, 1 << 40] {
        let q = Arc::new(Queue::new());
        push_many_panics(|| q.push_many(&mut lying(len)));
        q.push(7).unwrap();
        assert_eq!(drain(&q, Queue::pop), [0, 1, 7], "len {len}");
    }

    let ring = Arc::new(Ring::new(8));
    push_many_panics(|| ring.push_many(&mut lying(5)));
    ring.push(7).unwrap();
    assert_eq!(drain(&ring, Ring::pop), [0, 1, 7]);
}

/// The items of the concurrent tests: `producer << 32 | seq`, made from their own index.
type Tagged = Failing<fn(usize) -> u64>;

const BATCH: u64 = 5;
const BATCHES: u64 = 2000;

/// Where batch `batch` fails, if it does: every third batch, at a varying place.
fn failure(batch: u64) -> Option<u64> {
    (batch % 3 == 0).then_some(batch * BATCH + batch % BATCH)
}

/// Two producers push batches, a third of which panic part way; two consumers pop. Every item
/// yielded before a panic is popped exactly once, each producer's in order.
fn concurrent_failures<Q: Send + Sync + 'static>(
    q: Q,
    push_many: fn(&Q, &mut Tagged) -> Result<usize, PushError<()>>,
    pop: fn(&Q) -> Result<u64, PopError>,
) {
    const PRODUCERS: u64 = 2;
    quiet_provoked_panics();
    let q = Arc::new(q);
    let yielded_per_producer: u64 = (0..BATCHES)
        .map(|batch| failure(batch).map_or(BATCH, |at| at - batch * BATCH))
        .sum();
    let total = (PRODUCERS * yielded_per_producer) as usize;
    let popped = Arc::new(std::sync::atomic::AtomicUsize::new(0));

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for batch in 0..BATCHES {
                    let tag = |seq: u64| (producer << 32 | seq) as usize;
                    let mut items: Tagged = Failing::new(
                        tag(batch * BATCH)..tag((batch + 1) * BATCH),
                        failure(batch).map(tag),
                        |item| item as u64,
                    );
                    while items.len() > 0 {
                        match catch_unwind(AssertUnwindSafe(|| push_many(&q, &mut items))) {
                            Err(_) => break,
                            Ok(Err(PushError::Closed(()))) => panic!("nobody closes the queue"),
                            Ok(_) => thread::yield_now(),
                        }
                    }
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let (q, popped) = (Arc::clone(&q), Arc::clone(&popped));
            thread::spawn(move || {
                let mut got = Vec::new();
                while popped.load(std::sync::atomic::Ordering::SeqCst) < total {
                    match pop(&q) {
                        Ok(item) => {
                            got.push(item);
                            popped.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        Err(_) => thread::yield_now(),
                    }
                }
                got
            })
        })
        .collect();
    for producer in producers {
        join_within(producer, common::STALL, "a producer");
    }
    let mut all = Vec::new();
    for consumer in consumers {
        let got = join_within(consumer, common::STALL, "a consumer");
        for producer in 0..PRODUCERS {
            let mine: Vec<u64> = got
                .iter()
                .filter(|&&i| i >> 32 == producer)
                .copied()
                .collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "producer order broken"
            );
        }
        all.extend(got);
    }
    all.sort_unstable();
    let expected: Vec<u64> = (0..PRODUCERS)
        .flat_map(|producer| {
            (0..BATCHES).flat_map(move |batch| {
                let end = failure(batch).unwrap_or((batch + 1) * BATCH);
                (batch * BATCH..end).map(move |seq| producer << 32 | seq)
            })
        })
        .collect();
    assert_eq!(all, expected, "items lost or popped twice");
    assert_eq!(pop(&q), Err(PopError::Empty));
}

#[test]
fn queue_survives_concurrent_failing_batches() {
    concurrent_failures(Queue::new(), |q, items| q.push_many(items), Queue::pop);
}

#[test]
fn ring_survives_concurrent_failing_batches() {
    for capacity in [1, 3, 8] {
        concurrent_failures(
            Ring::new(capacity),
            |r, items| r.push_many(items),
            Ring::pop,
        );
    }
}

/// A tracked item whose own drop panics if it is the bad one; its `Tracked` is dropped after.
struct Fragile {
    bad: bool,
    _item: Tracked,
}

impl Drop for Fragile {
    fn drop(&mut self) {
        if self.bad {
            panic!("{PROVOKED}");
        }
    }
}

/// Drops a structure holding ten `Fragile` items, the `bad`th of which panics; checks that the
/// panic comes out and that every item was dropped once.
fn drop_with_a_fragile_item<Q>(bad: usize, fill: impl FnOnce(&mut dyn FnMut() -> Fragile) -> Q) {
    quiet_provoked_panics();
    let tracker = Tracker::new(10);
    let q = fill(&mut || {
        let id = tracker.created();
        Fragile {
            bad: id == bad,
            _item: tracker.item(id),
        }
    });
    assert_eq!(tracker.created(), 10);
    assert!(catch_unwind(AssertUnwindSafe(|| drop(q))).is_err());
    assert_eq!(tracker.dropped(), 10, "bad item {bad}");
    tracker.assert_all_dropped();
}

#[test]
fn a_panicking_item_drop_does_not_leak_the_others() {
    for bad in [0, 4, 9] {
        // Spread over three segments of the queue, the first partly drained.
        drop_with_a_fragile_item(bad, |make| {
            let q = Queue::new();
            for _ in 0..100 {
                assert!(q.push(None).is_ok());
                assert!(q.pop().is_ok());
            }
            for _ in 0..10 {
                assert!(q.push(Some(make())).is_ok());
                for _ in 0..30 {
                    assert!(q.push(None).is_ok());
                }
            }
            q
        });
        // Wrapped around the ring.
        drop_with_a_fragile_item(bad, |make| {
            let r = Ring::new(12);
            for _ in 0..7 {
                assert!(r.push(None).is_ok());
                assert!(r.pop().is_ok());
            }
            for _ in 0..10 {
                assert!(r.push(Some(make())).is_ok());
            }
            r
        });
    }
}
