//! Multi-threaded stress tests: exactly-once delivery, per-producer order, and exact drop counts.
//!
//! Run in release by `make test` (`cargo test --release --test stress -- --include-ignored`); the
//! debug run of `cargo test` uses a fraction of the items so that it stays short.

mod common;

use common::{join_consumer, join_producers, join_within, Progress, Tracker};
use lfq::{PopError, PushError, Queue, Ring};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Every `force_push` producer finishes well inside this (it never waits); a hang fails the test
/// instead of stalling the run.
const HANG: Duration = Duration::from_secs(120);

/// Divides release-mode item counts in debug builds, where everything is ~10× slower.
fn scaled(release: usize) -> usize {
    if cfg!(debug_assertions) {
        (release / 8).max(64)
    } else {
        release
    }
}

/// The operations the harness needs, so one harness drives both structures.
trait Chan<T>: Send + Sync + 'static {
    fn push(&self, item: T) -> Result<(), PushError<T>>;
    fn push_blocking(&self, item: T) -> Result<(), PushError<T>>;
    fn push_timeout(&self, item: T, timeout: Duration) -> Result<(), PushError<T>>;
    fn push_many<I: ExactSizeIterator<Item = T>>(
        &self,
        items: &mut I,
    ) -> Result<usize, PushError<()>>;
    fn pop(&self) -> Result<T, PopError>;
    fn pop_blocking(&self) -> Result<T, PopError>;
    fn pop_timeout(&self, timeout: Duration) -> Result<T, PopError>;
    fn pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, PopError>;
    fn close(&self) -> bool;
}

impl<T: Send + 'static> Chan<T> for Queue<T> {
    fn push(&self, item: T) -> Result<(), PushError<T>> {
        Queue::push(self, item)
    }
    fn push_blocking(&self, item: T) -> Result<(), PushError<T>> {
        // An unbounded queue never blocks a push.
        Queue::push(self, item)
    }
    fn push_timeout(&self, item: T, _timeout: Duration) -> Result<(), PushError<T>> {
        Queue::push(self, item)
    }
    fn push_many<I: ExactSizeIterator<Item = T>>(
        &self,
        items: &mut I,
    ) -> Result<usize, PushError<()>> {
        Queue::push_many(self, items)
    }
    fn pop(&self) -> Result<T, PopError> {
        Queue::pop(self)
    }
    fn pop_blocking(&self) -> Result<T, PopError> {
        Queue::pop_blocking(self)
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<T, PopError> {
        Queue::pop_timeout(self, timeout)
    }
    fn pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, PopError> {
        Queue::pop_many(self, out, max)
    }
    fn close(&self) -> bool {
        Queue::close(self)
    }
}

impl<T: Send + 'static> Chan<T> for Ring<T> {
    fn push(&self, item: T) -> Result<(), PushError<T>> {
        Ring::push(self, item)
    }
    fn push_blocking(&self, item: T) -> Result<(), PushError<T>> {
        Ring::push_blocking(self, item)
    }
    fn push_timeout(&self, item: T, timeout: Duration) -> Result<(), PushError<T>> {
        Ring::push_timeout(self, item, timeout)
    }
    fn push_many<I: ExactSizeIterator<Item = T>>(
        &self,
        items: &mut I,
    ) -> Result<usize, PushError<()>> {
        Ring::push_many(self, items)
    }
    fn pop(&self) -> Result<T, PopError> {
        Ring::pop(self)
    }
    fn pop_blocking(&self) -> Result<T, PopError> {
        Ring::pop_blocking(self)
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<T, PopError> {
        Ring::pop_timeout(self, timeout)
    }
    fn pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, PopError> {
        Ring::pop_many(self, out, max)
    }
    fn close(&self) -> bool {
        Ring::close(self)
    }
}

/// Which calls producers and consumers use.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// push/pop, retrying with a yield on Full/Empty.
    Spin,
    /// push_blocking/pop_blocking.
    Blocking,
    /// push_many/pop_many with batch sizes 1..=16.
    Batch,
    /// push_timeout/pop_timeout with a 1 ms timeout, retried.
    Timed,
}

/// Pushes `item`, by whichever call `mode` names, until it is in.
fn push_one<C: Chan<T>, T>(chan: &C, mode: Mode, mut item: T) {
    loop {
        let result = match mode {
            Mode::Spin | Mode::Batch => chan.push(item),
            Mode::Blocking => chan.push_blocking(item),
            Mode::Timed => chan.push_timeout(item, Duration::from_millis(1)),
        };
        match result {
            Ok(()) => return,
            Err(PushError::Full(back)) => {
                assert!(matches!(mode, Mode::Spin | Mode::Batch), "{mode:?}: Full");
                item = back;
                thread::yield_now();
            }
            Err(PushError::Timeout(back)) => {
                assert!(matches!(mode, Mode::Timed), "{mode:?}: Timeout");
                item = back;
            }
            Err(PushError::Closed(_)) => panic!("closed while producing"),
        }
    }
}

/// Pushes all of `items` in order.
fn push_all<C: Chan<T>, T, I: ExactSizeIterator<Item = T>>(chan: &C, mode: Mode, mut items: I) {
    if !matches!(mode, Mode::Batch) {
        items.for_each(|item| push_one(chan, mode, item));
        return;
    }
    let mut round = 0usize;
    while items.len() > 0 {
        round += 1;
        let want = round % 16 + 1;
        let before = items.len();
        let mut chunk = items.by_ref().take(want).collect::<Vec<_>>().into_iter();
        let in_chunk = chunk.len();
        while chunk.len() > 0 {
            let left = chunk.len();
            match chan.push_many(&mut chunk) {
                Ok(n) => {
                    assert!(n >= 1, "push_many pushed nothing");
                    assert_eq!(chunk.len(), left - n, "push_many count disagrees");
                }
                Err(PushError::Full(())) => {
                    assert_eq!(chunk.len(), left, "a failed push_many consumed items");
                    thread::yield_now();
                }
                Err(e) => panic!("push_many: {e}"),
            }
        }
        assert_eq!(items.len(), before - in_chunk);
    }
}

/// Pops until the structure reports Closed, handing each item to `take` and reporting them to
/// `progress`.
fn pop_until_closed<C: Chan<T>, T>(
    chan: &C,
    mode: Mode,
    progress: &Progress,
    mut take: impl FnMut(T),
) {
    let mut unreported = 0;
    let mut take = |item| {
        take(item);
        unreported += 1;
        if unreported == Progress::STEP {
            progress.add(unreported);
            unreported = 0;
        }
    };
    let mut buf = Vec::new();
    let mut round = 0usize;
    loop {
        match mode {
            Mode::Spin => match chan.pop() {
                Ok(item) => take(item),
                Err(PopError::Empty) => thread::yield_now(),
                Err(PopError::Closed) => return,
                Err(e) => panic!("pop: {e}"),
            },
            Mode::Blocking => match chan.pop_blocking() {
                Ok(item) => take(item),
                Err(PopError::Closed) => return,
                Err(e) => panic!("pop_blocking: {e}"),
            },
            Mode::Timed => match chan.pop_timeout(Duration::from_millis(1)) {
                Ok(item) => take(item),
                Err(PopError::Timeout) => {}
                Err(PopError::Closed) => return,
                Err(e) => panic!("pop_timeout: {e}"),
            },
            Mode::Batch => {
                round += 1;
                let max = round % 16 + 1;
                match chan.pop_many(&mut buf, max) {
                    Ok(n) => {
                        assert!((1..=max).contains(&n), "pop_many returned {n} of {max}");
                        assert_eq!(buf.len(), n);
                        buf.drain(..).for_each(&mut take);
                    }
                    Err(PopError::Empty) => thread::yield_now(),
                    Err(PopError::Closed) => return,
                    Err(e) => panic!("pop_many: {e}"),
                }
                assert!(buf.is_empty());
            }
        }
    }
}

/// Spawns one consumer per mode; each pops until the structure is closed and returns what it
/// got, in the order it got it.
fn spawn_collectors<C: Chan<T>, T: Send + 'static>(
    chan: &Arc<C>,
    modes: &[Mode],
    progress: &Progress,
) -> Vec<JoinHandle<Vec<T>>> {
    modes
        .iter()
        .map(|&mode| {
            let chan = Arc::clone(chan);
            let progress = progress.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                pop_until_closed(&*chan, mode, &progress, |item| got.push(item));
                got
            })
        })
        .collect()
}

fn tag(producer: usize, seq: usize) -> u64 {
    ((producer as u64) << 32) | seq as u64
}

/// `producers` threads push `per_producer` tagged items each, `consumers` threads pop until the
/// structure is closed (after every producer finished). Checks that every item arrives exactly
/// once and that each consumer sees each producer's items in push order.
fn run_tagged<C: Chan<u64>>(
    chan: C,
    producers: usize,
    consumers: usize,
    mode: Mode,
    per_producer: usize,
) {
    let chan = Arc::new(chan);
    let progress = Progress::new();
    let mut consumer_handles: Vec<_> = (0..consumers)
        .map(|_| {
            let chan = Arc::clone(&chan);
            let progress = progress.clone();
            thread::spawn(move || {
                let mut last: Vec<Option<usize>> = vec![None; producers];
                let mut got = Vec::new();
                pop_until_closed(&*chan, mode, &progress, |v| {
                    let (p, seq) = ((v >> 32) as usize, (v & 0xFFFF_FFFF) as usize);
                    assert!(p < producers && seq < per_producer, "bogus item {v:#x}");
                    if let Some(prev) = last[p] {
                        assert!(seq > prev, "producer {p}: item {seq} popped after {prev}");
                    }
                    last[p] = Some(seq);
                    got.push(v);
                });
                got
            })
        })
        .collect();
    let producer_handles: Vec<_> = (0..producers)
        .map(|p| {
            let chan = Arc::clone(&chan);
            thread::spawn(move || {
                push_all(&*chan, mode, (0..per_producer).map(|seq| tag(p, seq)));
            })
        })
        .collect();
    join_producers(producer_handles, &mut consumer_handles, &progress);
    assert!(chan.close());
    let mut seen = vec![vec![false; per_producer]; producers];
    let mut total = 0;
    for h in consumer_handles {
        for v in join_consumer(h, &progress) {
            let (p, seq) = ((v >> 32) as usize, (v & 0xFFFF_FFFF) as usize);
            assert!(!seen[p][seq], "producer {p} item {seq} popped twice");
            seen[p][seq] = true;
            total += 1;
        }
    }
    assert_eq!(total, producers * per_producer, "items lost");
    // After close and drain nothing is left.
    assert_eq!(chan.pop(), Err(PopError::Closed));
}

/// Release-mode items per test for the unbounded queue and the large ring; the small rings hand
/// over one or two items at a time and get fewer.
const BIG: usize = 2_000_000;
const SMALL: usize = 250_000;

macro_rules! tagged_tests {
    ($($name:ident: $make:expr, $total:expr, $p:expr, $c:expr, $mode:ident;)*) => {$(
        #[test]
        fn $name() {
            run_tagged($make, $p, $c, Mode::$mode, scaled($total) / $p);
        }
    )*};
}

macro_rules! shapes {
    ($($prefix:ident: $make:expr, $total:expr;)*) => {$(
        mod $prefix {
            use super::*;
            tagged_tests! {
                spin_1x1: $make, $total, 1, 1, Spin;
                spin_2x2: $make, $total, 2, 2, Spin;
                spin_4x4: $make, $total, 4, 4, Spin;
                spin_8x1: $make, $total, 8, 1, Spin;
                spin_1x8: $make, $total, 1, 8, Spin;
                blocking_1x1: $make, $total, 1, 1, Blocking;
                blocking_2x2: $make, $total, 2, 2, Blocking;
                blocking_4x4: $make, $total, 4, 4, Blocking;
                blocking_8x1: $make, $total, 8, 1, Blocking;
                blocking_1x8: $make, $total, 1, 8, Blocking;
                batch_1x1: $make, $total, 1, 1, Batch;
                batch_2x2: $make, $total, 2, 2, Batch;
                batch_4x4: $make, $total, 4, 4, Batch;
                batch_8x1: $make, $total, 8, 1, Batch;
                batch_1x8: $make, $total, 1, 8, Batch;
                timed_2x2: $make, $total / 4, 2, 2, Timed;
                timed_8x1: $make, $total / 4, 8, 1, Timed;
                timed_1x8: $make, $total / 4, 1, 8, Timed;
            }
        }
    )*};
}

shapes! {
    queue: Queue::new(), BIG;
    ring1: Ring::new(1), SMALL;
    ring2: Ring::new(2), SMALL;
    ring1024: Ring::new(1024), BIG;
}

/// Consumers of different kinds on one structure at once.
#[test]
fn mixed_modes_on_one_ring() {
    let per_producer = scaled(40_000);
    let ring = Arc::new(Ring::new(4));
    let progress = Progress::new();
    let modes = [Mode::Spin, Mode::Blocking, Mode::Batch, Mode::Timed];
    let mut consumers = spawn_collectors(&ring, &modes, &progress);
    let producers: Vec<_> = modes
        .iter()
        .enumerate()
        .map(|(p, &mode)| {
            let ring = Arc::clone(&ring);
            thread::spawn(move || push_all(&*ring, mode, (0..per_producer).map(|s| tag(p, s))))
        })
        .collect();
    join_producers(producers, &mut consumers, &progress);
    ring.close();
    let mut all: Vec<u64> = consumers
        .into_iter()
        .flat_map(|h| join_consumer(h, &progress))
        .collect();
    all.sort_unstable();
    let want: Vec<u64> = (0..modes.len())
        .flat_map(|p| (0..per_producer).map(move |s| tag(p, s)))
        .collect();
    assert_eq!(all.len(), want.len());
    assert!(all == want, "items lost or duplicated");
}

/// `close` while 4 producers and 4 consumers run, with items queued: each item whose push
/// succeeded is popped exactly once and in its producer's order, each push that `close` refused
/// hands back its own item, and every thread ends.
fn close_amid_traffic<C: Chan<u64>>(chan: C, mode: Mode) {
    let chan = Arc::new(chan);
    let progress = Progress::new();
    let mut consumers = spawn_collectors(&chan, &[mode; 4], &progress);
    let producers: Vec<_> = (0..4)
        .map(|p| {
            let chan = Arc::clone(&chan);
            thread::spawn(move || {
                let mut pushed = 0;
                loop {
                    let item = tag(p, pushed);
                    let outcome = match mode {
                        Mode::Blocking => chan.push_blocking(item),
                        _ => chan.push(item),
                    };
                    match outcome {
                        Ok(()) => pushed += 1,
                        Err(PushError::Full(_)) => thread::yield_now(),
                        Err(PushError::Closed(back)) => {
                            assert_eq!(back, item, "a refused push handed back another item");
                            return pushed;
                        }
                        Err(e) => panic!("push: {e}"),
                    }
                }
            })
        })
        .collect();
    progress.wait_for(scaled(200_000));
    // A last burst right before the close, so that items are still queued when it lands (the
    // consumers may otherwise keep the structure empty): as many as go in without waiting.
    let burst = (0..10_000)
        .take_while(|&s| chan.push(tag(4, s)).is_ok())
        .count();
    assert!(chan.close());
    let mut pushed: Vec<usize> = producers
        .into_iter()
        .map(|h| join_within(h, HANG, "producer after close"))
        .collect();
    pushed.push(burst);
    let mut seen_by_consumer: Vec<Vec<u64>> = Vec::new();
    while let Some(h) = consumers.pop() {
        seen_by_consumer.push(join_consumer(h, &progress));
    }
    for seen in &seen_by_consumer {
        let mut last = [None::<u64>; 5];
        for &v in seen {
            let p = (v >> 32) as usize;
            assert!(
                last[p] < Some(v),
                "producer {p}: {v:#x} popped after {:?}",
                last[p]
            );
            last[p] = Some(v);
        }
    }
    let mut all: Vec<u64> = seen_by_consumer.into_iter().flatten().collect();
    all.sort_unstable();
    let want: Vec<u64> = (0..pushed.len())
        .flat_map(|p| (0..pushed[p]).map(move |s| tag(p, s)))
        .collect();
    assert!(all == want, "items lost or duplicated across the close");
}

#[test]
fn close_amid_traffic_loses_nothing() {
    for mode in [Mode::Spin, Mode::Blocking] {
        close_amid_traffic(Queue::new(), mode);
        close_amid_traffic(Ring::new(1), mode);
        close_amid_traffic(Ring::new(1024), mode);
    }
}

// ---------------------------------------------------------------------------------------------
// Drop accounting

/// Tracked items through a structure with 2 producers and 2 consumers: every item dropped once.
fn tracked_through<C: Chan<common::Tracked>>(chan: C, mode: Mode) {
    let per_producer = scaled(30_000);
    let tracker = Tracker::new(2 * per_producer);
    let chan = Arc::new(chan);
    let progress = Progress::new();
    let mut consumers: Vec<_> = (0..2)
        .map(|_| {
            let chan = Arc::clone(&chan);
            let progress = progress.clone();
            thread::spawn(move || {
                let mut n = 0usize;
                pop_until_closed(&*chan, mode, &progress, |item| {
                    item.check();
                    n += 1;
                });
                n
            })
        })
        .collect();
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let chan = Arc::clone(&chan);
            let tracker = Arc::clone(&tracker);
            thread::spawn(move || {
                let ids = p * per_producer..(p + 1) * per_producer;
                push_all(&*chan, mode, ids.map(|id| tracker.item(id)));
            })
        })
        .collect();
    join_producers(producers, &mut consumers, &progress);
    chan.close();
    let popped: usize = consumers
        .into_iter()
        .map(|h| join_consumer(h, &progress))
        .sum();
    assert_eq!(popped, 2 * per_producer);
    assert_eq!(tracker.created(), 2 * per_producer);
    drop(chan);
    tracker.assert_all_dropped();
}

#[test]
fn tracked_items_through_queue() {
    tracked_through(Queue::new(), Mode::Spin);
    tracked_through(Queue::new(), Mode::Batch);
}

#[test]
fn tracked_items_through_rings() {
    for cap in [1, 3, 64] {
        tracked_through(Ring::new(cap), Mode::Blocking);
        tracked_through(Ring::new(cap), Mode::Batch);
    }
}

#[test]
fn dropping_a_queue_drops_what_it_holds() {
    // Enough items to span many internal nodes or segments, with some taken from the front.
    for (n, taken) in [(0, 0), (1, 0), (1, 1), (33, 5), (scaled(100_000), 777)] {
        let tracker = Tracker::new(n);
        let q = Queue::new();
        for id in 0..n {
            q.push(tracker.item(id)).unwrap();
        }
        for _ in 0..taken {
            q.pop().unwrap().check();
        }
        assert_eq!(tracker.dropped(), taken);
        drop(q);
        tracker.assert_all_dropped();
    }
}

#[test]
fn dropping_a_closed_queue_drops_what_it_holds() {
    let tracker = Tracker::new(50);
    let q = Queue::new();
    let r = Ring::new(30);
    for id in 0..20 {
        q.push(tracker.item(id)).unwrap();
    }
    for id in 20..50 {
        r.push(tracker.item(id)).unwrap();
    }
    q.close();
    r.close();
    q.pop().unwrap().check();
    r.pop().unwrap().check();
    drop((q, r));
    tracker.assert_all_dropped();
}

#[test]
fn dropping_a_ring_drops_what_it_holds_after_wrapping() {
    for cap in [1usize, 2, 3, 7, 1024] {
        for leave in [0, 1, cap / 2, cap] {
            // The head is at several offsets into the buffer when the ring is dropped.
            for shift in [0, 1, cap - 1, 3 * cap + 1] {
                let n = shift + leave;
                let tracker = Tracker::new(n);
                let r = Ring::new(cap);
                for id in 0..shift {
                    r.push(tracker.item(id)).unwrap();
                    r.pop().unwrap().check();
                }
                for id in shift..n {
                    r.push(tracker.item(id)).unwrap();
                }
                assert_eq!(r.len(), leave);
                assert_eq!(tracker.dropped(), shift);
                drop(r);
                tracker.assert_all_dropped();
            }
        }
    }
}

#[test]
fn force_push_evictions_are_handed_back_exactly_once() {
    for cap in [1usize, 2, 5] {
        let n = 200;
        let tracker = Tracker::new(n);
        let r = Ring::new(cap);
        let mut evicted = 0;
        for id in 0..n {
            if let Some(old) = r.force_push(tracker.item(id)).unwrap() {
                assert_eq!(old.id, id - cap, "evicted the wrong item");
                old.check();
                evicted += 1;
            }
        }
        assert_eq!(evicted, n - cap);
        assert_eq!(tracker.dropped(), n - cap);
        drop(r);
        tracker.assert_all_dropped();
    }
}

#[test]
fn concurrent_force_push_and_pop_lose_and_duplicate_nothing() {
    let per_producer = scaled(40_000);
    for cap in [1usize, 2, 8] {
        let tracker = Tracker::new(2 * per_producer);
        let ring = Arc::new(Ring::new(cap));
        let progress = Progress::new();
        let popped = Arc::new(AtomicUsize::new(0));
        let consumer = {
            let ring = Arc::clone(&ring);
            let popped = Arc::clone(&popped);
            let progress = progress.clone();
            thread::spawn(move || {
                let mut last = [None::<usize>; 2];
                pop_until_closed(&*ring, Mode::Spin, &progress, |item: common::Tracked| {
                    item.check();
                    let p = item.id / per_producer;
                    assert!(last[p] < Some(item.id), "producer {p} out of order");
                    last[p] = Some(item.id);
                    popped.fetch_add(1, Ordering::Relaxed);
                });
            })
        };
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let ring = Arc::clone(&ring);
                let tracker = Arc::clone(&tracker);
                thread::spawn(move || {
                    let mut evicted = 0usize;
                    for id in p * per_producer..(p + 1) * per_producer {
                        if let Some(old) = ring.force_push(tracker.item(id)).unwrap() {
                            old.check();
                            evicted += 1;
                        }
                    }
                    evicted
                })
            })
            .collect();
        let evicted: usize = producers
            .into_iter()
            .map(|h| join_within(h, HANG, "force_push"))
            .sum();
        let left = ring.len();
        assert!(left <= cap);
        ring.close();
        join_consumer(consumer, &progress);
        // Every item was either evicted, popped, or still inside at close (then popped too).
        assert_eq!(
            evicted + popped.load(Ordering::Relaxed),
            2 * per_producer,
            "cap {cap}"
        );
        drop(ring);
        tracker.assert_all_dropped();
    }
}

#[test]
fn a_ring_kept_full_by_force_push_always_reads_full() {
    // A force_push moves the tail onto the next lap before it moves the head past the item it
    // evicts; `len` once counted only the positions past the head's offset then (down to 1).
    let checks = scaled(200_000);
    for cap in [2usize, 3, 1000] {
        let ring = Arc::new(Ring::new(cap));
        for i in 0..cap {
            ring.push(i).unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let pusher = {
            let (ring, stop) = (Arc::clone(&ring), Arc::clone(&stop));
            thread::spawn(move || {
                let mut i = cap;
                while !stop.load(Ordering::Relaxed) {
                    assert!(
                        ring.force_push(i).unwrap().is_some(),
                        "cap {cap}: room appeared"
                    );
                    i += 1;
                }
            })
        };
        for _ in 0..checks {
            assert_eq!(ring.len(), cap, "cap {cap}");
            assert!(ring.is_full(), "cap {cap}");
            assert_eq!(
                ring.wait_not_full(Some(Duration::ZERO)),
                Err(PushError::Timeout(())),
                "cap {cap}"
            );
        }
        stop.store(true, Ordering::Relaxed);
        join_within(pusher, HANG, "force_push");
    }
}

// ---------------------------------------------------------------------------------------------
// Batches stay together: the items one `push_many` call pushes are adjacent in queue order, also
// when the batch spans several of the unbounded queue's segments and other producers push at the
// same time.

/// Batch sizes that start and end at every offset of a segment and span up to five of them.
const BATCH_SIZES: [usize; 6] = [2, 3, 64, 126, 255, 600];

/// The item of producer `producer`'s call number `call`, `index`th in that call.
fn batch_tag(producer: usize, call: usize, index: usize) -> u64 {
    (producer as u64) << 48 | (call as u64) << 16 | index as u64
}

/// Three producers push batches of [`BATCH_SIZES`] while one consumer pops in batches; every
/// item must follow the one pushed before it in the same `push_many` call.
fn batches_land_together<C: Chan<u64>>(chan: C) {
    const PRODUCERS: usize = 3;
    let rounds = scaled(500);
    let total_items = rounds * BATCH_SIZES.iter().sum::<usize>() * PRODUCERS;
    let chan = Arc::new(chan);
    let consumer = {
        let chan = Arc::clone(&chan);
        thread::spawn(move || {
            let mut seen = Vec::with_capacity(total_items);
            while seen.len() < total_items {
                if chan.pop_many(&mut seen, 64).is_err() {
                    thread::yield_now();
                }
            }
            seen
        })
    };
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let chan = Arc::clone(&chan);
            thread::spawn(move || {
                let mut call = 0;
                for size in (0..rounds).flat_map(|_| BATCH_SIZES) {
                    let mut left = size;
                    while left > 0 {
                        // A ring takes what fits; the rest goes in the next call, tagged anew.
                        let mut items = (0..left).map(|index| batch_tag(producer, call, index));
                        match chan.push_many(&mut items) {
                            Ok(pushed) => left -= pushed,
                            Err(PushError::Full(())) => thread::yield_now(),
                            Err(e) => panic!("push_many failed: {e}"),
                        }
                        call += 1;
                    }
                }
            })
        })
        .collect();
    for producer in producers {
        producer.join().unwrap();
    }
    let seen = consumer.join().unwrap();
    assert_eq!(seen.len(), total_items);
    for (at, pair) in seen.windows(2).enumerate() {
        if pair[1] & 0xffff != 0 {
            assert_eq!(
                pair[1],
                pair[0] + 1,
                "position {}: {:#x} follows {:#x}, not the item before it in its batch",
                at + 1,
                pair[1],
                pair[0]
            );
        }
    }
}

#[test]
fn queue_batches_land_together() {
    batches_land_together(Queue::new());
}

#[test]
fn ring_batches_land_together() {
    for cap in [1000, 1024] {
        batches_land_together(Ring::new(cap));
    }
}

// ---------------------------------------------------------------------------------------------
// Linearizability: a pop never reports `Empty` while the structure holds an item whose push has
// returned, even when other threads' pushes are half done (claimed, not yet written) ahead of it.
// This is crossbeam's `linearizable` test for `ArrayQueue`, run many times.

/// Rounds per thread, and runs, of the push-then-pop tests below: enough that threads are often
/// preempted between a claim and its write (four threads on this machine's two cores).
const LINEARIZABLE_ROUNDS: usize = 25_000;
const LINEARIZABLE_RUNS: usize = 40;

#[test]
fn a_pop_after_a_push_never_finds_the_queue_empty() {
    let rounds = scaled(LINEARIZABLE_ROUNDS);
    for _ in 0..LINEARIZABLE_RUNS {
        let queue = Queue::new();
        thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for round in 0..rounds {
                        queue.push(round).unwrap();
                        // This thread's item is still inside, whoever pops it.
                        assert!(queue.pop().is_ok(), "a pop found the queue empty");
                    }
                });
            }
        });
        assert!(queue.is_empty());
    }
}

/// Pops alternate between `pop` and `pop_many`, which decide emptiness by different paths.
#[test]
fn a_pop_after_a_push_never_finds_the_ring_empty() {
    let rounds = scaled(LINEARIZABLE_ROUNDS);
    for threads in [2usize, 4] {
        for _ in 0..LINEARIZABLE_RUNS {
            // One slot per thread: a push can find the ring full only while another thread's
            // pop is half done, and a force_push that evicts leaves the count unchanged.
            let ring = Ring::new(threads);
            let pop_one = |round: usize| match round % 2 {
                0 => ring.pop().map(|_| 1),
                _ => ring.pop_many(&mut Vec::with_capacity(1), 1),
            };
            thread::scope(|scope| {
                for _ in 0..threads / 2 {
                    scope.spawn(|| {
                        for round in 0..rounds {
                            while ring.push(round).is_err() {}
                            assert_eq!(
                                pop_one(round),
                                Ok(1),
                                "a pop after a push found the ring empty"
                            );
                        }
                    });
                    scope.spawn(|| {
                        for round in 0..rounds {
                            if ring.force_push(round).unwrap().is_none() {
                                assert_eq!(
                                    pop_one(round),
                                    Ok(1),
                                    "a pop after a force_push found the ring empty"
                                );
                            }
                        }
                    });
                }
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Zero-sized and large items

static ZST_DROPS: AtomicUsize = AtomicUsize::new(0);

/// A zero-sized item whose drops are counted; only `zero_sized_items_are_counted` uses it.
struct Zst;

impl Drop for Zst {
    fn drop(&mut self) {
        ZST_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn zero_sized_items_are_counted() {
    let n = scaled(200_000);
    let q = Queue::new();
    for _ in 0..n {
        q.push(Zst).unwrap();
    }
    assert_eq!(q.len(), n);
    for _ in 0..n / 2 {
        q.pop().unwrap();
    }
    assert_eq!(ZST_DROPS.load(Ordering::SeqCst), n / 2);
    drop(q);
    assert_eq!(ZST_DROPS.load(Ordering::SeqCst), n);

    let r = Ring::new(3);
    for _ in 0..10 {
        r.force_push(Zst).unwrap();
    }
    assert_eq!(r.len(), 3);
    // Seven evictions dropped by the caller, three items dropped with the ring.
    assert_eq!(ZST_DROPS.load(Ordering::SeqCst), n + 7);
    r.pop().unwrap();
    drop(r);
    assert_eq!(ZST_DROPS.load(Ordering::SeqCst), n + 10);
}

/// Counts `()` items through a structure with 2 producers and 2 consumers.
fn unit_items_through<C: Chan<()>>(chan: C, mode: Mode) {
    let per_producer = scaled(100_000);
    let chan = Arc::new(chan);
    let progress = Progress::new();
    let mut consumers: Vec<_> = (0..2)
        .map(|_| {
            let chan = Arc::clone(&chan);
            let progress = progress.clone();
            thread::spawn(move || {
                let mut n = 0usize;
                pop_until_closed(&*chan, mode, &progress, |()| n += 1);
                n
            })
        })
        .collect();
    let producers: Vec<_> = (0..2)
        .map(|_| {
            let chan = Arc::clone(&chan);
            thread::spawn(move || push_all(&*chan, mode, std::iter::repeat(()).take(per_producer)))
        })
        .collect();
    join_producers(producers, &mut consumers, &progress);
    chan.close();
    let total: usize = consumers
        .into_iter()
        .map(|h| join_consumer(h, &progress))
        .sum();
    assert_eq!(total, 2 * per_producer);
}

#[test]
fn zero_sized_items_concurrently() {
    unit_items_through(Queue::new(), Mode::Spin);
    unit_items_through(Queue::new(), Mode::Batch);
    unit_items_through(Ring::new(1), Mode::Blocking);
    unit_items_through(Ring::new(16), Mode::Batch);
}

const PAGE: usize = 4096;

/// A 4 KiB item whose every byte is derived from its tag, so torn copies are detected.
fn page(tag: u64) -> [u8; PAGE] {
    let mut bytes = [0u8; PAGE];
    bytes[..8].copy_from_slice(&tag.to_le_bytes());
    for (i, b) in bytes[8..].iter_mut().enumerate() {
        *b = (tag as usize).wrapping_mul(31).wrapping_add(i) as u8;
    }
    bytes
}

fn check_page(bytes: &[u8; PAGE]) -> u64 {
    let tag = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    assert!(*bytes == page(tag), "4 KiB item {tag:#x} is torn");
    tag
}

/// 2 producers × 2 consumers of 4 KiB items, checking content, exactly-once and order.
fn pages_through<C: Chan<[u8; PAGE]>>(chan: C, mode: Mode) {
    let per_producer = scaled(20_000);
    let chan = Arc::new(chan);
    let progress = Progress::new();
    let mut consumers: Vec<_> = (0..2)
        .map(|_| {
            let chan = Arc::clone(&chan);
            let progress = progress.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                let mut last = [None::<u64>; 2];
                pop_until_closed(&*chan, mode, &progress, |bytes: [u8; PAGE]| {
                    let t = check_page(&bytes);
                    let p = (t >> 32) as usize;
                    assert!(last[p] < Some(t), "producer {p} out of order");
                    last[p] = Some(t);
                    got.push(t);
                });
                got
            })
        })
        .collect();
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let chan = Arc::clone(&chan);
            thread::spawn(move || {
                push_all(&*chan, mode, (0..per_producer).map(|s| page(tag(p, s))))
            })
        })
        .collect();
    join_producers(producers, &mut consumers, &progress);
    chan.close();
    let mut all: Vec<u64> = consumers
        .into_iter()
        .flat_map(|h| join_consumer(h, &progress))
        .collect();
    all.sort_unstable();
    let want: Vec<u64> = (0..2)
        .flat_map(|p| (0..per_producer).map(move |s| tag(p, s)))
        .collect();
    assert!(all == want, "4 KiB items lost or duplicated");
}

#[test]
fn four_kib_items_through_queue() {
    pages_through(Queue::new(), Mode::Spin);
    pages_through(Queue::new(), Mode::Batch);
}

#[test]
fn four_kib_items_through_rings() {
    pages_through(Ring::new(1), Mode::Blocking);
    pages_through(Ring::new(8), Mode::Batch);
}

#[test]
fn boxed_four_kib_items_are_freed() {
    let n = scaled(20_000);
    let tracker = Tracker::new(n);
    let q = Arc::new(Queue::new());
    let progress = Progress::new();
    let consumer = {
        let q = Arc::clone(&q);
        let progress = progress.clone();
        thread::spawn(move || {
            let mut next = 0;
            pop_until_closed(
                &*q,
                Mode::Blocking,
                &progress,
                |(bytes, item): (Box<[u8; PAGE]>, _)| {
                    let t = check_page(&bytes);
                    let item: common::Tracked = item;
                    assert_eq!(t as usize, next);
                    assert_eq!(item.id, next);
                    next += 1;
                },
            );
            next
        })
    };
    for id in 0..n {
        q.push((Box::new(page(id as u64)), tracker.item(id)))
            .unwrap();
    }
    q.close();
    assert_eq!(join_consumer(consumer, &progress), n);
    tracker.assert_all_dropped();
}
