//! loom models of the engine's concurrent paths: every interleaving (up to the preemption bound
//! in LOOM_MAX_PREEMPTIONS, which `make loom` sets) of a few small scenarios.
//!
//! Run with `make loom` (RUSTFLAGS="--cfg loom --cfg crossbeam_loom", release). loom reports a
//! deadlock when every thread is parked, so a lost wakeup fails the model instead of hanging.
//!
//! Each model keeps to 2–3 threads and 1–3 operations per thread: the epoch machinery under each
//! queue operation already contributes many atomic steps, and the state space grows
//! exponentially with both.

#![cfg(loom)]

mod common;

use common::{quiet_provoked_panics, Failing};
use lfq::{PopError, PushError, Queue, Ring};
use loom::sync::Arc;
use loom::thread;

/// Pops whatever is left, from a single thread after all others joined.
fn drain_queue(q: &Queue<u32>) -> Vec<u32> {
    let mut out = Vec::new();
    while let Ok(v) = q.pop() {
        out.push(v);
    }
    out
}

fn drain_ring(r: &Ring<u32>) -> Vec<u32> {
    let mut out = Vec::new();
    while let Ok(v) = r.pop() {
        out.push(v);
    }
    out
}

/// Moves a ring's indices `laps` items forward so the model runs across the wrap point.
fn advance(r: &Ring<u32>, laps: usize) {
    for i in 0..laps {
        r.push(1000 + i as u32).unwrap();
        assert_eq!(r.pop(), Ok(1000 + i as u32));
    }
}

// ---------------------------------------------------------------------------------------------
// Queue: push/pop

#[test]
fn queue_spsc_two_items() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                q.push(1).unwrap();
                q.push(2).unwrap();
            })
        };
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || [q.pop(), q.pop()])
        };
        producer.join().unwrap();
        let popped = consumer.join().unwrap();
        // A pop may only find nothing before the producer's push, so once it found the second
        // item it cannot have missed the first.
        let mut all: Vec<u32> = popped.iter().filter_map(|r| r.ok()).collect();
        for r in &popped {
            assert!(matches!(r, Ok(_) | Err(PopError::Empty)), "{r:?}");
        }
        all.extend(drain_queue(&q));
        assert_eq!(all, [1, 2]);
    });
}

#[test]
fn queue_two_producers_one_consumer() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let producers: Vec<_> = [1u32, 2]
            .into_iter()
            .map(|v| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.push(v).unwrap())
            })
            .collect();
        let first = q.pop();
        for p in producers {
            p.join().unwrap();
        }
        let mut all: Vec<u32> = first.ok().into_iter().collect();
        all.extend(drain_queue(&q));
        all.sort_unstable();
        assert_eq!(all, [1, 2]);
    });
}

#[test]
fn queue_two_consumers_race_for_one_item() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        q.push(7).unwrap();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.pop())
            })
            .collect();
        let results: Vec<_> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        assert_eq!(
            results.iter().filter(|r| **r == Ok(7)).count(),
            1,
            "{results:?}"
        );
        assert!(results.contains(&Err(PopError::Empty)), "{results:?}");
        assert!(q.is_empty());
    });
}

// ---------------------------------------------------------------------------------------------
// Ring: push/pop, across the wrap point

/// One producer pushing 1, 2 and one consumer popping twice on a ring of `cap` whose indices
/// start `laps` items in. Every item accepted comes out once, in order.
fn ring_spsc(cap: usize, laps: usize) {
    loom::model(move || {
        let r = Arc::new(Ring::new(cap));
        advance(&r, laps);
        let producer = {
            let r = Arc::clone(&r);
            thread::spawn(move || {
                let mut pushed = Vec::new();
                for v in [1u32, 2] {
                    match r.push(v) {
                        Ok(()) => pushed.push(v),
                        Err(PushError::Full(back)) => assert_eq!(back, v),
                        Err(e) => panic!("{e:?}"),
                    }
                }
                pushed
            })
        };
        let consumer = {
            let r = Arc::clone(&r);
            thread::spawn(move || [r.pop(), r.pop()])
        };
        let pushed = producer.join().unwrap();
        assert!(
            !pushed.is_empty(),
            "the first push into an empty ring failed"
        );
        let mut all: Vec<u32> = consumer
            .join()
            .unwrap()
            .into_iter()
            .filter_map(|r| r.ok())
            .collect();
        all.extend(drain_ring(&r));
        assert_eq!(all, pushed);
    });
}

#[test]
fn ring1_spsc() {
    ring_spsc(1, 0);
}

#[test]
fn ring1_spsc_wrapped() {
    ring_spsc(1, 1);
}

#[test]
fn ring2_spsc_wrapped() {
    ring_spsc(2, 1);
}

#[test]
fn ring2_two_producers_one_consumer_wrapped() {
    loom::model(|| {
        let r = Arc::new(Ring::new(2));
        advance(&r, 3);
        let producers: Vec<_> = [1u32, 2]
            .into_iter()
            .map(|v| {
                let r = Arc::clone(&r);
                thread::spawn(move || r.push(v))
            })
            .collect();
        let first = r.pop();
        for p in producers {
            // Two items always fit in an empty ring of 2.
            p.join().unwrap().unwrap();
        }
        let mut all: Vec<u32> = first.ok().into_iter().collect();
        all.extend(drain_ring(&r));
        all.sort_unstable();
        assert_eq!(all, [1, 2]);
    });
}

#[test]
fn ring1_two_consumers_race_for_one_item() {
    loom::model(|| {
        let r = Arc::new(Ring::new(1));
        advance(&r, 1);
        r.push(5).unwrap();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let r = Arc::clone(&r);
                thread::spawn(move || r.pop())
            })
            .collect();
        let results: Vec<_> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        let got = results.iter().filter(|r| **r == Ok(5)).count();
        assert_eq!(got, 1, "{results:?}");
        assert!(results.contains(&Err(PopError::Empty)));
        assert!(r.is_empty());
    });
}

#[test]
fn ring1_force_push_races_pop() {
    loom::model(|| {
        let r = Arc::new(Ring::new(1));
        r.push(1).unwrap();
        let forcer = {
            let r = Arc::clone(&r);
            thread::spawn(move || r.force_push(2).unwrap())
        };
        let popped = r.pop();
        let evicted = forcer.join().unwrap();
        // Item 1 leaves exactly once (popped or evicted); item 2 is popped now or still inside.
        let mut all: Vec<u32> = popped.ok().into_iter().chain(evicted).collect();
        all.extend(drain_ring(&r));
        all.sort_unstable();
        assert_eq!(all, [1, 2]);
    });
}

// ---------------------------------------------------------------------------------------------
// Linearizable pops: a thread that pushed and then pops finds an item, even when another
// thread's push claimed a position ahead of it and has not written it yet.

#[test]
fn queue_pop_after_own_push_finds_an_item() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let other = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.push(1).unwrap())
        };
        q.push(2).unwrap();
        let popped = q.pop();
        assert!(popped.is_ok(), "{popped:?}");
        other.join().unwrap();
        let mut all: Vec<u32> = popped.ok().into_iter().collect();
        all.extend(drain_queue(&q));
        all.sort_unstable();
        assert_eq!(all, [1, 2]);
    });
}

/// As above on a ring that has wrapped, with the pop `pop_one` makes.
fn ring2_pop_after_own_push(pop_one: fn(&Ring<u32>) -> Result<u32, PopError>) {
    loom::model(move || {
        let r = Arc::new(Ring::new(2));
        advance(&r, 3);
        let other = {
            let r = Arc::clone(&r);
            thread::spawn(move || r.push(1).unwrap())
        };
        r.push(2).unwrap();
        let popped = pop_one(&r);
        assert!(popped.is_ok(), "{popped:?}");
        other.join().unwrap();
        let mut all: Vec<u32> = popped.ok().into_iter().collect();
        all.extend(drain_ring(&r));
        all.sort_unstable();
        assert_eq!(all, [1, 2]);
    });
}

#[test]
fn ring2_pop_after_own_push_finds_an_item_wrapped() {
    ring2_pop_after_own_push(Ring::pop);
}

#[test]
fn ring2_batch_pop_after_own_push_finds_an_item_wrapped() {
    ring2_pop_after_own_push(|r| {
        let mut out = Vec::with_capacity(1);
        r.pop_many(&mut out, 1)?;
        Ok(out[0])
    });
}

// ---------------------------------------------------------------------------------------------
// Sleep/wake handshake: loom fails the model if a wakeup is lost (every thread parked).

#[test]
fn queue_pop_blocking_woken_by_push() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.pop_blocking())
        };
        q.push(7).unwrap();
        assert_eq!(consumer.join().unwrap(), Ok(7));
    });
}

#[test]
fn ring_pop_blocking_woken_by_push() {
    loom::model(|| {
        let r = Arc::new(Ring::new(1));
        let consumer = {
            let r = Arc::clone(&r);
            thread::spawn(move || r.pop_blocking())
        };
        r.push(7).unwrap();
        assert_eq!(consumer.join().unwrap(), Ok(7));
    });
}

#[test]
fn ring_push_blocking_woken_by_pop() {
    loom::model(|| {
        let r = Arc::new(Ring::new(1));
        r.push(1).unwrap();
        let producer = {
            let r = Arc::clone(&r);
            thread::spawn(move || r.push_blocking(2))
        };
        assert_eq!(r.pop(), Ok(1));
        assert_eq!(producer.join().unwrap(), Ok(()));
        assert_eq!(r.pop(), Ok(2));
    });
}

#[test]
fn queue_wait_nonempty_woken_by_push() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let waiter = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.wait_nonempty(None))
        };
        q.push(3).unwrap();
        assert_eq!(waiter.join().unwrap(), Ok(()));
        assert_eq!(q.pop(), Ok(3));
    });
}

#[test]
fn ring_wait_not_full_woken_by_pop() {
    loom::model(|| {
        let r = Arc::new(Ring::new(1));
        r.push(1).unwrap();
        let waiter = {
            let r = Arc::clone(&r);
            thread::spawn(move || r.wait_not_full(None))
        };
        assert_eq!(r.pop(), Ok(1));
        assert_eq!(waiter.join().unwrap(), Ok(()));
    });
}

// ---------------------------------------------------------------------------------------------
// Close racing with blocked calls

#[test]
fn queue_close_wakes_blocked_pop() {
    loom::model(|| {
        let q = Arc::new(Queue::<u32>::new());
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.pop_blocking())
        };
        assert!(q.close());
        assert_eq!(consumer.join().unwrap(), Err(PopError::Closed));
    });
}

#[test]
fn ring_close_wakes_blocked_pop() {
    loom::model(|| {
        let r = Arc::new(Ring::<u32>::new(1));
        let consumer = {
            let r = Arc::clone(&r);
            thread::spawn(move || r.pop_blocking())
        };
        assert!(r.close());
        assert_eq!(consumer.join().unwrap(), Err(PopError::Closed));
    });
}

#[test]
fn ring_close_wakes_blocked_push() {
    loom::model(|| {
        let r = Arc::new(Ring::new(1));
        r.push(1).unwrap();
        let producer = {
            let r = Arc::clone(&r);
            thread::spawn(move || r.push_blocking(2))
        };
        assert!(r.close());
        assert_eq!(producer.join().unwrap(), Err(PushError::Closed(2)));
        assert_eq!(r.pop(), Ok(1));
        assert_eq!(r.pop(), Err(PopError::Closed));
    });
}

#[test]
fn queue_close_races_push_and_blocked_pop() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.pop_blocking())
        };
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.push(9))
        };
        q.close();
        let pushed = producer.join().unwrap();
        let popped = consumer.join().unwrap();
        match pushed {
            // Accepted before close: the item reaches the consumer or is still there to drain.
            Ok(()) => match popped {
                Ok(v) => {
                    assert_eq!(v, 9);
                    assert_eq!(q.pop(), Err(PopError::Closed));
                }
                Err(e) => {
                    assert_eq!(e, PopError::Closed);
                    assert_eq!(q.pop(), Ok(9));
                }
            },
            Err(e) => {
                assert_eq!(e, PushError::Closed(9));
                assert_eq!(popped, Err(PopError::Closed));
            }
        }
        assert_eq!(q.pop(), Err(PopError::Closed));
    });
}

#[test]
fn ring_close_races_pop_and_blocked_push() {
    loom::model(|| {
        let r = Arc::new(Ring::new(1));
        r.push(1).unwrap();
        let producer = {
            let r = Arc::clone(&r);
            thread::spawn(move || r.push_blocking(2))
        };
        let consumer = {
            let r = Arc::clone(&r);
            thread::spawn(move || r.pop())
        };
        r.close();
        let pushed = producer.join().unwrap();
        let popped = consumer.join().unwrap();
        // Item 1 was queued before close and is never lost.
        let mut all: Vec<u32> = popped.ok().into_iter().collect();
        all.extend(drain_ring(&r));
        match pushed {
            Ok(()) => assert_eq!(all, [1, 2]),
            Err(e) => {
                assert_eq!(e, PushError::Closed(2));
                assert_eq!(all, [1]);
            }
        }
        assert_eq!(r.pop(), Err(PopError::Closed));
    });
}

// ---------------------------------------------------------------------------------------------
// Batches

#[test]
fn queue_push_many_races_pop_many() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                let mut items = [1u32, 2, 3].into_iter();
                assert_eq!(q.push_many(&mut items), Ok(3));
            })
        };
        let mut all = Vec::new();
        match q.pop_many(&mut all, 2) {
            Ok(n) => assert!((1..=2).contains(&n) && all.len() == n),
            Err(e) => assert_eq!(e, PopError::Empty),
        }
        producer.join().unwrap();
        all.extend(drain_queue(&q));
        assert_eq!(all, [1, 2, 3]);
    });
}

/// A batch that fills a segment claims the positions past it too (`SEGMENT_LEN` is 2 under
/// loom), linking one segment or, after the single push, two: either way the push lands before
/// or after the whole batch.
#[test]
fn queue_push_many_across_segments_stays_together() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let single = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.push(9).unwrap())
        };
        assert_eq!(q.push_many(&mut [1u32, 2, 3].into_iter()), Ok(3));
        single.join().unwrap();
        let all = drain_queue(&q);
        assert!(all == [9, 1, 2, 3] || all == [1, 2, 3, 9], "{all:?}");
    });
}

/// A close while a batch links the segment past its first: the batch keeps what it claimed
/// before the close, and a blocked consumer gets exactly those items, in order, then `Closed`.
#[test]
fn queue_close_races_push_many_across_segments() {
    big_model(|| {
        let q = Arc::new(Queue::new());
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.push_many(&mut [1u32, 2, 3].into_iter()))
        };
        let closer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.close())
        };
        let mut popped = Vec::new();
        let end = loop {
            match q.pop_blocking() {
                Ok(item) => popped.push(item),
                Err(e) => break e,
            }
        };
        assert_eq!(end, PopError::Closed);
        let pushed = match producer.join().unwrap() {
            Ok(n) => n,
            Err(e) => {
                assert_eq!(e, PushError::Closed(()));
                0
            }
        };
        assert!(closer.join().unwrap());
        assert_eq!(popped, [1, 2, 3][..pushed]);
    });
}

#[test]
fn ring2_push_many_races_pop_many_wrapped() {
    loom::model(|| {
        let r = Arc::new(Ring::new(2));
        advance(&r, 1);
        let producer = {
            let r = Arc::clone(&r);
            thread::spawn(move || {
                let mut items = vec![1u32, 2, 3].into_iter();
                let n = r.push_many(&mut items).unwrap();
                // The items not pushed are still in the iterator, in order.
                assert_eq!(items.as_slice(), &[1, 2, 3][n..]);
                n
            })
        };
        let consumer = {
            let r = Arc::clone(&r);
            thread::spawn(move || {
                let mut out = Vec::new();
                match r.pop_many(&mut out, 2) {
                    Ok(n) => assert_eq!(out.len(), n),
                    Err(e) => assert_eq!(e, PopError::Empty),
                }
                out
            })
        };
        let n = producer.join().unwrap();
        assert!(
            (2..=3).contains(&n),
            "only {n} of 3 fitted in an emptying ring of 2"
        );
        let mut all = consumer.join().unwrap();
        all.extend(drain_ring(&r));
        assert_eq!(all, [1, 2, 3][..n]);
    });
}

/// Three threads make executions longer than loom's default branch budget and far more of them:
/// these models run with one preemption, whatever LOOM_MAX_PREEMPTIONS says.
fn big_model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.max_branches = 100_000;
    builder.preemption_bound = Some(1);
    builder.check(f);
}

/// Two sleepers, two items: each push wakes one sleeper, and neither may be left asleep beside
/// an item (a wake-one scheme that lost or doubled up a wakeup deadlocks here).
#[test]
fn ring_two_sleepers_two_pushes() {
    big_model(|| {
        let r = Arc::new(Ring::new(2));
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let r = Arc::clone(&r);
                thread::spawn(move || r.pop_blocking())
            })
            .collect();
        r.push(1u32).unwrap();
        r.push(2).unwrap();
        let mut got: Vec<u32> = consumers
            .into_iter()
            .map(|c| c.join().unwrap().unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

/// As above for the unbounded queue, with both items pushed by one batch call (one notify for
/// two sleepers).
#[test]
fn queue_two_sleepers_one_batch() {
    big_model(|| {
        let q = Arc::new(Queue::new());
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.pop_blocking())
            })
            .collect();
        assert_eq!(q.push_many(&mut vec![1u32, 2].into_iter()), Ok(2));
        let mut got: Vec<u32> = consumers
            .into_iter()
            .map(|c| c.join().unwrap().unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

/// A batch push whose iterator panics after one item; the consumer, asleep or not, gets that
/// item and the next push's, skipping the abandoned position in between.
#[test]
fn queue_pop_skips_an_abandoned_position() {
    loom::model(|| {
        let q = Arc::new(Queue::new());
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || [q.pop_blocking(), q.pop_blocking()])
        };
        let mut items = Failing::new(1..3, Some(2), |i| i as u32);
        quiet_provoked_panics();
        let failed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| q.push_many(&mut items)));
        assert!(failed.is_err());
        q.push(3).unwrap();
        assert_eq!(consumer.join().unwrap(), [Ok(1), Ok(3)]);
    });
}

/// In a ring of 1, the abandoned position holds the only slot: the next push must wait for the
/// consumer to skip it, and both sleepers must be woken.
#[test]
fn ring1_abandoned_slot_is_skipped_then_reused() {
    loom::model(|| {
        let r = Arc::new(Ring::new(1));
        let consumer = {
            let r = Arc::clone(&r);
            thread::spawn(move || r.pop_blocking())
        };
        let mut items = Failing::new(1..2, Some(1), |i| i as u32);
        quiet_provoked_panics();
        let failed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.push_many(&mut items)));
        assert!(failed.is_err());
        assert_eq!(r.push_blocking(2), Ok(()));
        assert_eq!(consumer.join().unwrap(), Ok(2));
    });
}

/// Segments hold two slots under loom. The first segment is retired and, once the epoch has
/// moved on, returned to the pool; a producer then fills the second segment, linking the recycled
/// one, while a consumer pops. The return happens in only some executions: loom lets `join`
/// return before the joined thread's thread-locals (its epoch participant) are dropped, and its
/// five-thread limit leaves no room for more epoch-advancing threads.
#[test]
fn queue_recycled_segment_linked_while_popping() {
    big_model(|| {
        let q = Arc::new(Queue::new());
        // This thread's first pin runs a collection; keep that out of the race below.
        assert_eq!(q.pop(), Err(PopError::Empty));
        q.push(1u32).unwrap();
        q.push(2).unwrap();
        let q1 = Arc::clone(&q);
        assert_eq!(
            thread::spawn(move || [q1.pop(), q1.pop()]).join().unwrap(),
            [Ok(1), Ok(2)]
        );
        // Each fresh thread's first pin tries to advance the epoch; the second may run the
        // deferred return of the first segment to the pool.
        for _ in 0..2 {
            let q2 = Arc::clone(&q);
            assert_eq!(
                thread::spawn(move || q2.pop()).join().unwrap(),
                Err(PopError::Empty)
            );
        }
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                q.push(3).unwrap();
                q.push(4).unwrap();
            })
        };
        let first = q.pop();
        producer.join().unwrap();
        let mut all: Vec<u32> = first.ok().into_iter().collect();
        all.extend(drain_queue(&q));
        assert_eq!(all, [3, 4]);
    });
}

/// A pop that does not pin (the first slot of a two-slot segment) races with one that takes the
/// segment's last slot and retires it. The retiring thread then runs the epoch on until the
/// retired segment's deferred return comes due, and pushes until the queue links a segment from
/// the pool. The segment must not be reused while the unpinned pop has claimed its slot and not
/// yet taken the item: then that pop would read the new item, or race with its write.
#[test]
fn queue_unpinned_pop_keeps_its_segment_from_reuse() {
    big_model(|| {
        let q = Arc::new(Queue::new());
        q.push(1u32).unwrap();
        q.push(2).unwrap();
        let unpinned = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.pop())
        };
        let retiring = q.pop();
        for _ in 0..3 {
            crossbeam_epoch::pin().flush();
        }
        for item in 3..6 {
            q.push(item).unwrap();
        }
        let mut first_two = vec![retiring.unwrap(), unpinned.join().unwrap().unwrap()];
        first_two.sort_unstable();
        assert_eq!(first_two, [1, 2]);
        assert_eq!(drain_queue(&q), [3, 4, 5]);
    });
}
