//! Functional tests of every public method of `Queue` and `Ring`, one behaviour per test.

mod common;

use common::{join_within, Failing, Tracker, PROMPT};
use lfq::{PopError, PushError, Queue, Ring};
use std::error::Error;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Time given to a spawned thread to reach its blocking call before the test acts. If it is not
/// blocked yet the test still passes, it merely checks the non-blocking path instead.
const SETTLE: Duration = Duration::from_millis(100);

const CAPACITIES: [usize; 5] = [1, 2, 3, 7, 1024];

// ---------------------------------------------------------------------------------------------
// Static properties

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn send_and_sync() {
    assert_send_sync::<Queue<u64>>();
    assert_send_sync::<Ring<u64>>();
    assert_send_sync::<Queue<Box<[u8]>>>();
    assert_send_sync::<Ring<String>>();
    // Send alone is enough for T: the structure hands each item to exactly one thread.
    assert_send_sync::<Queue<std::cell::Cell<u8>>>();
    assert_send_sync::<Ring<std::cell::Cell<u8>>>();
    assert_send_sync::<PushError<u64>>();
    assert_send_sync::<PopError>();
}

#[test]
fn errors_implement_display_and_error() {
    let pops = [PopError::Empty, PopError::Closed, PopError::Timeout];
    let pop_texts: Vec<String> = pops.iter().map(|e| e.to_string()).collect();
    for (e, text) in pops.iter().zip(&pop_texts) {
        assert!(!text.is_empty(), "{e:?} displays as nothing");
        let boxed: Box<dyn Error + Send + Sync> = Box::new(*e);
        assert_eq!(boxed.to_string(), *text);
    }
    assert_ne!(pop_texts[0], pop_texts[1]);
    assert_ne!(pop_texts[1], pop_texts[2]);
    assert_ne!(pop_texts[0], pop_texts[2]);

    let pushes = [
        PushError::Full(1u64),
        PushError::Closed(2),
        PushError::Timeout(3),
    ];
    let push_texts: Vec<String> = pushes.iter().map(|e| e.to_string()).collect();
    for text in &push_texts {
        assert!(!text.is_empty());
    }
    assert_ne!(push_texts[0], push_texts[1]);
    assert_ne!(push_texts[1], push_texts[2]);
    assert_ne!(push_texts[0], push_texts[2]);
    let boxed: Box<dyn Error> = Box::new(PushError::Closed(7u64));
    assert!(!boxed.to_string().is_empty());
    // Debug must work for use in unwrap() messages.
    assert!(!format!("{:?}", PushError::Full(5u64)).is_empty());
}

#[test]
fn push_error_into_inner_returns_the_item() {
    assert_eq!(PushError::Full(String::from("a")).into_inner(), "a");
    assert_eq!(PushError::Closed(String::from("b")).into_inner(), "b");
    assert_eq!(PushError::Timeout(String::from("c")).into_inner(), "c");
    assert_eq!(PushError::Full(4u8), PushError::Full(4u8));
    assert_ne!(PushError::Full(4u8), PushError::Closed(4u8));
}

// ---------------------------------------------------------------------------------------------
// Queue basics

#[test]
fn queue_new_and_default_are_empty_and_open() {
    for q in [Queue::<u32>::new(), Queue::default()] {
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
        assert_eq!(q.capacity(), None);
        assert!(!q.is_closed());
        assert_eq!(q.pop(), Err(PopError::Empty));
    }
}

#[test]
fn queue_is_fifo_and_counts() {
    let q = Queue::new();
    for i in 0..10_000u32 {
        q.push(i).unwrap();
        assert_eq!(q.len(), i as usize + 1);
        assert!(!q.is_empty());
    }
    for i in 0..10_000u32 {
        assert_eq!(q.pop(), Ok(i));
        assert_eq!(q.len(), 9_999 - i as usize);
    }
    assert!(q.is_empty());
    assert_eq!(q.pop(), Err(PopError::Empty));
}

#[test]
fn queue_interleaved_push_pop_keeps_order() {
    // Keeps the queue short while head and tail travel far, so node/segment reuse is exercised.
    let q = Queue::new();
    let mut next_in = 0u64;
    let mut next_out = 0u64;
    for round in 0..2_000u64 {
        for _ in 0..(round % 7 + 1) {
            q.push(next_in).unwrap();
            next_in += 1;
        }
        for _ in 0..(round % 5 + 1) {
            match q.pop() {
                Ok(v) => {
                    assert_eq!(v, next_out);
                    next_out += 1;
                }
                Err(e) => {
                    assert_eq!(e, PopError::Empty);
                    assert_eq!(next_out, next_in);
                }
            }
        }
        assert_eq!(q.len() as u64, next_in - next_out);
    }
    while let Ok(v) = q.pop() {
        assert_eq!(v, next_out);
        next_out += 1;
    }
    assert_eq!(next_out, next_in);
}

// ---------------------------------------------------------------------------------------------
// Ring basics

#[test]
#[should_panic]
fn ring_new_zero_panics() {
    let _ = Ring::<u8>::new(0);
}

#[test]
fn ring_full_at_exactly_capacity() {
    for cap in CAPACITIES {
        let r = Ring::new(cap);
        assert_eq!(r.capacity(), Some(cap));
        assert!(r.is_empty());
        assert!(!r.is_full());
        for i in 0..cap {
            assert!(!r.is_full(), "cap {cap}: full after {i} items");
            r.push(i).unwrap();
            assert_eq!(r.len(), i + 1);
        }
        assert!(r.is_full());
        assert_eq!(r.push(cap), Err(PushError::Full(cap)));
        assert_eq!(r.len(), cap);
        for i in 0..cap {
            assert_eq!(r.pop(), Ok(i));
            assert!(!r.is_full());
        }
        assert!(r.is_empty());
        assert_eq!(r.pop(), Err(PopError::Empty));
    }
}

#[test]
fn ring_wraps_around_many_laps() {
    for cap in CAPACITIES {
        let r = Ring::new(cap);
        let mut next_in = 0u64;
        let mut next_out = 0u64;
        // Varying fill levels make the indices cross the end of the buffer at every offset.
        let laps = if cap > 64 { 20 } else { 300 };
        for step in 0..(laps * cap as u64 + 13) {
            let fill = (step % (cap as u64 + 1)) as usize;
            while r.len() < fill {
                r.push(next_in).unwrap();
                next_in += 1;
            }
            if r.len() == cap {
                assert!(r.is_full());
                assert!(r.push(u64::MAX).unwrap_err().is_full());
            }
            let take = (step % 3 + 1) as usize;
            for _ in 0..take {
                match r.pop() {
                    Ok(v) => {
                        assert_eq!(v, next_out, "cap {cap}");
                        next_out += 1;
                    }
                    Err(e) => {
                        assert_eq!(e, PopError::Empty);
                        assert_eq!(next_in, next_out);
                    }
                }
            }
        }
        while let Ok(v) = r.pop() {
            assert_eq!(v, next_out);
            next_out += 1;
        }
        assert_eq!(next_in, next_out);
        assert!(next_in > 10 * cap as u64, "cap {cap}: too few laps");
    }
}

#[test]
fn ring_full_push_hands_the_item_back() {
    let t = Tracker::new(2);
    let r = Ring::new(1);
    r.push(t.item(0)).unwrap();
    let back = r.push(t.item(1)).unwrap_err().into_inner();
    assert_eq!(back.id, 1);
    back.check();
    drop(back);
    assert_eq!(t.dropped(), 1);
    drop(r);
    t.assert_all_dropped();
}

#[test]
fn force_push_evicts_the_oldest() {
    for cap in CAPACITIES {
        let r = Ring::new(cap);
        for i in 0..cap {
            assert_eq!(r.force_push(i), Ok(None), "cap {cap}: evicted before full");
        }
        // Each further force_push hands back the oldest item and keeps the ring full.
        for i in cap..cap * 3 + 5 {
            assert_eq!(r.force_push(i), Ok(Some(i - cap)));
            assert!(r.is_full());
            assert_eq!(r.len(), cap);
        }
        let last = cap * 3 + 5;
        for i in last - cap..last {
            assert_eq!(r.pop(), Ok(i));
        }
        assert_eq!(r.pop(), Err(PopError::Empty));
        // Not full: no eviction.
        r.push(1).unwrap();
        if cap > 1 {
            assert_eq!(r.force_push(2), Ok(None));
            assert_eq!(r.pop(), Ok(1));
            assert_eq!(r.pop(), Ok(2));
        } else {
            assert_eq!(r.force_push(2), Ok(Some(1)));
            assert_eq!(r.pop(), Ok(2));
        }
    }
}

#[test]
fn force_push_on_closed_ring_returns_the_item() {
    let r = Ring::new(2);
    r.push(1).unwrap();
    r.close();
    assert_eq!(r.force_push(2), Err(PushError::Closed(2)));
    r.push(3).unwrap_err();
    assert_eq!(r.pop(), Ok(1));
    assert_eq!(r.pop(), Err(PopError::Closed));
}

// ---------------------------------------------------------------------------------------------
// Timeouts

fn assert_waited(elapsed: Duration, asked: Duration) {
    assert!(
        elapsed >= asked.mul_f64(0.9),
        "returned after {elapsed:?}, asked to wait {asked:?}"
    );
    assert!(
        elapsed < PROMPT,
        "took {elapsed:?}, asked to wait {asked:?}"
    );
}

#[test]
fn pop_timeout_waits_about_as_long_as_asked() {
    let asked = Duration::from_millis(200);
    let q = Queue::<u8>::new();
    let start = Instant::now();
    assert_eq!(q.pop_timeout(asked), Err(PopError::Timeout));
    assert_waited(start.elapsed(), asked);

    let r = Ring::<u8>::new(4);
    let start = Instant::now();
    assert_eq!(r.pop_timeout(asked), Err(PopError::Timeout));
    assert_waited(start.elapsed(), asked);
}

#[test]
fn pop_timeout_returns_available_items_at_once() {
    let q = Queue::new();
    q.push(5).unwrap();
    assert_eq!(q.pop_timeout(Duration::from_secs(60)), Ok(5));
    let r = Ring::new(1);
    r.push(6).unwrap();
    assert_eq!(r.pop_timeout(Duration::from_secs(60)), Ok(6));
}

#[test]
fn pop_timeout_zero_tries_once() {
    let q = Queue::new();
    assert_eq!(q.pop_timeout(Duration::ZERO), Err(PopError::Timeout));
    q.push(1).unwrap();
    assert_eq!(q.pop_timeout(Duration::ZERO), Ok(1));
    let r = Ring::new(1);
    assert_eq!(r.pop_timeout(Duration::ZERO), Err(PopError::Timeout));
    r.push(2).unwrap();
    assert_eq!(r.pop_timeout(Duration::ZERO), Ok(2));
    r.close();
    assert_eq!(r.pop_timeout(Duration::ZERO), Err(PopError::Closed));
}

#[test]
fn push_timeout_waits_about_as_long_as_asked() {
    let asked = Duration::from_millis(200);
    let r = Ring::new(1);
    r.push(1).unwrap();
    let start = Instant::now();
    assert_eq!(r.push_timeout(2, asked), Err(PushError::Timeout(2)));
    assert_waited(start.elapsed(), asked);
    assert_eq!(r.pop(), Ok(1));
    assert_eq!(r.push_timeout(3, Duration::from_secs(60)), Ok(()));
    assert_eq!(r.pop(), Ok(3));
}

#[test]
fn push_timeout_zero_on_full_ring_fails_at_once_with_the_item() {
    let r = Ring::new(1);
    r.push(1).unwrap();
    let start = Instant::now();
    // The contract lists Timeout; a zero wait is also reasonably reported as Full.
    match r.push_timeout(2, Duration::ZERO) {
        Err(PushError::Timeout(2)) | Err(PushError::Full(2)) => {}
        other => panic!("unexpected {other:?}"),
    }
    assert!(start.elapsed() < PROMPT);
    assert_eq!(r.len(), 1);
}

#[test]
fn wait_nonempty_times_out_and_does_not_take() {
    let asked = Duration::from_millis(150);
    let q = Queue::new();
    let start = Instant::now();
    assert_eq!(q.wait_nonempty(Some(asked)), Err(PopError::Timeout));
    assert_waited(start.elapsed(), asked);
    q.push(9).unwrap();
    assert_eq!(q.wait_nonempty(Some(asked)), Ok(()));
    assert_eq!(q.wait_nonempty(None), Ok(()));
    assert_eq!(q.len(), 1, "wait_nonempty must not take the item");
    assert_eq!(q.pop(), Ok(9));

    let r = Ring::new(2);
    let start = Instant::now();
    assert_eq!(r.wait_nonempty(Some(asked)), Err(PopError::Timeout));
    assert_waited(start.elapsed(), asked);
    r.push(8).unwrap();
    assert_eq!(r.wait_nonempty(None), Ok(()));
    assert_eq!(r.pop(), Ok(8));
}

#[test]
fn wait_not_full_times_out_and_does_not_change_the_ring() {
    let asked = Duration::from_millis(150);
    let r = Ring::new(2);
    assert_eq!(r.wait_not_full(None), Ok(()));
    r.push(1).unwrap();
    assert_eq!(r.wait_not_full(Some(asked)), Ok(()));
    r.push(2).unwrap();
    let start = Instant::now();
    assert_eq!(r.wait_not_full(Some(asked)), Err(PushError::Timeout(())));
    assert_waited(start.elapsed(), asked);
    assert_eq!(r.len(), 2);
    assert_eq!(r.pop(), Ok(1));
    assert_eq!(r.wait_not_full(Some(asked)), Ok(()));
    assert_eq!(r.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Blocking calls woken by the other side

#[test]
fn queue_pop_blocking_is_woken_by_push() {
    let q = Arc::new(Queue::new());
    let q2 = Arc::clone(&q);
    let h = thread::spawn(move || q2.pop_blocking());
    thread::sleep(SETTLE);
    q.push(42u32).unwrap();
    assert_eq!(join_within(h, PROMPT, "pop_blocking"), Ok(42));
    assert!(q.is_empty());
}

#[test]
fn ring_pop_blocking_is_woken_by_push() {
    for cap in [1, 2, 1024] {
        let r = Arc::new(Ring::new(cap));
        let r2 = Arc::clone(&r);
        let h = thread::spawn(move || r2.pop_blocking());
        thread::sleep(SETTLE);
        r.push(42u32).unwrap();
        assert_eq!(join_within(h, PROMPT, "pop_blocking"), Ok(42));
    }
}

#[test]
fn pop_timeout_is_woken_by_push_before_the_deadline() {
    let q = Arc::new(Queue::new());
    let q2 = Arc::clone(&q);
    let h = thread::spawn(move || {
        let start = Instant::now();
        (q2.pop_timeout(Duration::from_secs(60)), start.elapsed())
    });
    thread::sleep(SETTLE);
    q.push(7u8).unwrap();
    let (got, waited) = join_within(h, PROMPT, "pop_timeout");
    assert_eq!(got, Ok(7));
    assert!(waited < Duration::from_secs(30));
}

#[test]
fn push_blocking_is_woken_by_pop() {
    for cap in [1, 2, 7] {
        let r = Arc::new(Ring::new(cap));
        for i in 0..cap {
            r.push(i).unwrap();
        }
        let r2 = Arc::clone(&r);
        let h = thread::spawn(move || r2.push_blocking(100));
        thread::sleep(SETTLE);
        assert_eq!(r.pop(), Ok(0));
        assert_eq!(join_within(h, PROMPT, "push_blocking"), Ok(()));
        for i in 1..cap {
            assert_eq!(r.pop(), Ok(i));
        }
        assert_eq!(r.pop(), Ok(100));
    }
}

#[test]
fn push_timeout_is_woken_by_pop() {
    let r = Arc::new(Ring::new(1));
    r.push(1u8).unwrap();
    let r2 = Arc::clone(&r);
    let h = thread::spawn(move || r2.push_timeout(2, Duration::from_secs(60)));
    thread::sleep(SETTLE);
    assert_eq!(r.pop(), Ok(1));
    assert_eq!(join_within(h, PROMPT, "push_timeout"), Ok(()));
    assert_eq!(r.pop(), Ok(2));
}

#[test]
fn wait_nonempty_is_woken_by_push() {
    let r = Arc::new(Ring::new(3));
    let r2 = Arc::clone(&r);
    let h = thread::spawn(move || r2.wait_nonempty(None));
    thread::sleep(SETTLE);
    r.push(1u8).unwrap();
    assert_eq!(join_within(h, PROMPT, "wait_nonempty"), Ok(()));
    assert_eq!(r.pop(), Ok(1));

    let q = Arc::new(Queue::new());
    let q2 = Arc::clone(&q);
    let h = thread::spawn(move || q2.wait_nonempty(Some(Duration::from_secs(60))));
    thread::sleep(SETTLE);
    q.push(1u8).unwrap();
    assert_eq!(join_within(h, PROMPT, "wait_nonempty"), Ok(()));
}

#[test]
fn wait_not_full_is_woken_by_pop() {
    let r = Arc::new(Ring::new(1));
    r.push(1u8).unwrap();
    let r2 = Arc::clone(&r);
    let h = thread::spawn(move || r2.wait_not_full(None));
    thread::sleep(SETTLE);
    assert_eq!(r.pop(), Ok(1));
    assert_eq!(join_within(h, PROMPT, "wait_not_full"), Ok(()));
    assert!(r.is_empty());
}

#[test]
fn every_blocked_popper_gets_one_item() {
    let q = Arc::new(Queue::new());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let q = Arc::clone(&q);
            thread::spawn(move || q.pop_blocking())
        })
        .collect();
    thread::sleep(SETTLE);
    for i in 0..4u32 {
        q.push(i).unwrap();
    }
    let mut got: Vec<u32> = handles
        .into_iter()
        .map(|h| join_within(h, PROMPT, "pop_blocking").unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2, 3]);
}

// ---------------------------------------------------------------------------------------------
// Close

#[test]
fn close_returns_true_only_once() {
    let q = Queue::<u8>::new();
    assert!(!q.is_closed());
    assert!(q.close());
    assert!(q.is_closed());
    assert!(!q.close());
    assert!(q.is_closed());

    let r = Ring::<u8>::new(3);
    assert!(r.close());
    assert!(!r.close());
    assert!(r.is_closed());
}

#[test]
fn close_returns_true_to_exactly_one_racing_thread() {
    for _ in 0..50 {
        let r = Arc::new(Ring::<u8>::new(1));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let r = Arc::clone(&r);
                thread::spawn(move || r.close())
            })
            .collect();
        let winners = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&won| won)
            .count();
        assert_eq!(winners, 1);
    }
}

#[test]
fn push_after_close_hands_the_item_back() {
    let t = Tracker::new(4);
    let q = Queue::new();
    q.close();
    let back = q.push(t.item(0)).unwrap_err();
    assert!(matches!(back, PushError::Closed(_)));
    assert_eq!(back.into_inner().id, 0);

    let r = Ring::new(2);
    r.close();
    match r.push(t.item(1)) {
        Err(PushError::Closed(item)) => assert_eq!(item.id, 1),
        other => panic!("unexpected {other:?}"),
    }
    match r.push_blocking(t.item(2)) {
        Err(PushError::Closed(item)) => assert_eq!(item.id, 2),
        other => panic!("unexpected {other:?}"),
    }
    match r.push_timeout(t.item(3), Duration::from_secs(60)) {
        Err(PushError::Closed(item)) => assert_eq!(item.id, 3),
        other => panic!("unexpected {other:?}"),
    }
    assert!(q.is_empty() && r.is_empty());
    t.assert_all_dropped();
}

#[test]
fn push_to_a_full_closed_ring_reports_closed() {
    let r = Ring::new(1);
    r.push(1).unwrap();
    r.close();
    assert_eq!(r.push(2), Err(PushError::Closed(2)));
    assert_eq!(r.push_timeout(3, Duration::ZERO), Err(PushError::Closed(3)));
    assert_eq!(r.wait_not_full(None), Err(PushError::Closed(())));
}

#[test]
fn pop_drains_then_reports_closed() {
    let q = Queue::new();
    let r = Ring::new(3);
    for i in 0..3 {
        q.push(i).unwrap();
        r.push(i).unwrap();
    }
    q.close();
    r.close();
    assert_eq!(q.len(), 3);
    assert_eq!(q.pop(), Ok(0));
    assert_eq!(q.pop_timeout(Duration::from_secs(60)), Ok(1));
    assert_eq!(q.wait_nonempty(None), Ok(()));
    assert_eq!(q.pop_blocking(), Ok(2));
    assert_eq!(q.pop(), Err(PopError::Closed));
    assert_eq!(q.pop_blocking(), Err(PopError::Closed));
    assert_eq!(
        q.pop_timeout(Duration::from_secs(60)),
        Err(PopError::Closed)
    );
    assert_eq!(q.wait_nonempty(None), Err(PopError::Closed));

    let mut out = Vec::new();
    assert_eq!(r.pop_many(&mut out, 2), Ok(2));
    assert_eq!(r.pop_blocking(), Ok(2));
    assert_eq!(out, [0, 1]);
    assert_eq!(r.pop_many(&mut out, 2), Err(PopError::Closed));
    assert_eq!(r.pop(), Err(PopError::Closed));
    assert_eq!(
        r.wait_nonempty(Some(Duration::from_secs(60))),
        Err(PopError::Closed)
    );
    assert_eq!(out.len(), 2);
}

#[test]
fn close_wakes_every_blocked_thread() {
    let q = Arc::new(Queue::<u32>::new());
    let empty = Arc::new(Ring::<u32>::new(2));
    let full = Arc::new(Ring::<u32>::new(1));
    full.push(0).unwrap();

    // (name, thread) pairs; each thread returns whether it saw Closed.
    let mut blocked: Vec<(&str, thread::JoinHandle<bool>)> = Vec::new();
    for _ in 0..2 {
        let q2 = Arc::clone(&q);
        blocked.push((
            "Queue::pop_blocking",
            thread::spawn(move || q2.pop_blocking() == Err(PopError::Closed)),
        ));
        let q2 = Arc::clone(&q);
        blocked.push((
            "Queue::pop_timeout",
            thread::spawn(move || {
                q2.pop_timeout(Duration::from_secs(600)) == Err(PopError::Closed)
            }),
        ));
        let q2 = Arc::clone(&q);
        blocked.push((
            "Queue::wait_nonempty",
            thread::spawn(move || q2.wait_nonempty(None) == Err(PopError::Closed)),
        ));
        let r = Arc::clone(&empty);
        blocked.push((
            "Ring::pop_blocking",
            thread::spawn(move || r.pop_blocking() == Err(PopError::Closed)),
        ));
        let r = Arc::clone(&empty);
        blocked.push((
            "Ring::pop_timeout",
            thread::spawn(move || r.pop_timeout(Duration::from_secs(600)) == Err(PopError::Closed)),
        ));
        let r = Arc::clone(&empty);
        blocked.push((
            "Ring::wait_nonempty",
            thread::spawn(move || {
                r.wait_nonempty(Some(Duration::from_secs(600))) == Err(PopError::Closed)
            }),
        ));
        let r = Arc::clone(&full);
        blocked.push((
            "Ring::push_blocking",
            thread::spawn(move || r.push_blocking(1) == Err(PushError::Closed(1))),
        ));
        let r = Arc::clone(&full);
        blocked.push((
            "Ring::push_timeout",
            thread::spawn(move || {
                r.push_timeout(2, Duration::from_secs(600)) == Err(PushError::Closed(2))
            }),
        ));
        let r = Arc::clone(&full);
        blocked.push((
            "Ring::wait_not_full",
            thread::spawn(move || r.wait_not_full(None) == Err(PushError::Closed(()))),
        ));
    }
    thread::sleep(SETTLE * 2);
    for (name, h) in &blocked {
        assert!(!h.is_finished(), "{name} returned before close");
    }
    let start = Instant::now();
    assert!(q.close());
    assert!(empty.close());
    assert!(full.close());
    for (name, h) in blocked {
        assert!(join_within(h, PROMPT, name), "{name} did not report Closed");
    }
    assert!(start.elapsed() < PROMPT);
    // The item queued before close is still there to drain.
    assert_eq!(full.pop(), Ok(0));
    assert_eq!(full.pop(), Err(PopError::Closed));
}

// ---------------------------------------------------------------------------------------------
// Batches

#[test]
fn queue_push_many_pushes_all_in_order() {
    let q = Queue::new();
    let mut it = 0..100u32;
    assert_eq!(q.push_many(&mut it), Ok(100));
    assert_eq!(it.len(), 0);
    assert_eq!(q.len(), 100);
    let mut it = std::iter::empty::<u32>();
    assert_eq!(q.push_many(&mut it), Ok(0));
    let mut it = vec![100u32, 101].into_iter();
    assert_eq!(q.push_many(&mut it), Ok(2));
    for i in 0..102 {
        assert_eq!(q.pop(), Ok(i));
    }
}

#[test]
fn ring_push_many_fills_partially_and_leaves_the_rest() {
    for cap in CAPACITIES {
        let r = Ring::new(cap);
        r.push(u64::MAX).unwrap();
        let room = cap - 1;
        let mut it = (0..cap as u64 + 5).collect::<Vec<_>>().into_iter();
        if room == 0 {
            assert_eq!(r.push_many(&mut it), Err(PushError::Full(())));
            assert_eq!(it.len(), cap + 5, "a failed push_many consumed items");
            continue;
        }
        assert_eq!(r.push_many(&mut it), Ok(room));
        assert!(r.is_full());
        // The items that did not fit stay in the iterator, starting right after the pushed ones.
        assert_eq!(it.len(), cap + 5 - room);
        assert_eq!(it.next(), Some(room as u64));
        assert_eq!(r.push_many(&mut it), Err(PushError::Full(())));
        assert_eq!(it.len(), cap + 5 - room - 1);
        assert_eq!(r.pop(), Ok(u64::MAX));
        for i in 0..room as u64 {
            assert_eq!(r.pop(), Ok(i));
        }
        assert!(r.is_empty());
    }
}

#[test]
fn pop_many_takes_up_to_max_in_order() {
    let q = Queue::new();
    let r = Ring::new(16);
    let mut it = 0..10u32;
    q.push_many(&mut it).unwrap();
    let mut it = 0..10u32;
    r.push_many(&mut it).unwrap();

    check_pop_many("queue", |out, max| q.pop_many(out, max));
    check_pop_many("ring", |out, max| r.pop_many(out, max));
}

fn check_pop_many(name: &str, pop_many: impl Fn(&mut Vec<u32>, usize) -> Result<usize, PopError>) {
    let mut out = vec![999];
    assert_eq!(pop_many(&mut out, 0), Ok(0), "{name}");
    assert_eq!(pop_many(&mut out, 4), Ok(4), "{name}");
    assert_eq!(out, [999, 0, 1, 2, 3], "{name}: appends in order");
    assert_eq!(pop_many(&mut out, 100), Ok(6), "{name}");
    assert_eq!(out[1..], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "{name}");
    assert_eq!(pop_many(&mut out, 100), Err(PopError::Empty), "{name}");
    assert_eq!(out.len(), 11, "{name}");
}

#[test]
fn batches_after_close() {
    let q = Queue::new();
    let mut it = 0..3u8;
    q.push_many(&mut it).unwrap();
    q.close();
    let mut more = 10..12u8;
    assert_eq!(q.push_many(&mut more), Err(PushError::Closed(())));
    assert_eq!(more.len(), 2, "a refused push_many consumed items");
    let mut out = Vec::new();
    assert_eq!(q.pop_many(&mut out, 2), Ok(2));
    assert_eq!(q.pop_many(&mut out, 2), Ok(1));
    assert_eq!(q.pop_many(&mut out, 2), Err(PopError::Closed));
    assert_eq!(out, [0, 1, 2]);

    let r = Ring::new(2);
    r.close();
    let mut more = 10..12u8;
    assert_eq!(r.push_many(&mut more), Err(PushError::Closed(())));
    assert_eq!(more.len(), 2);
    assert_eq!(r.pop_many(&mut out, 5), Err(PopError::Closed));
}

#[test]
fn ring_batches_wrap_around() {
    for cap in [1usize, 2, 3, 7] {
        let r = Ring::new(cap);
        let mut next_in = 0u64;
        let mut next_out = 0u64;
        let mut out = Vec::new();
        for step in 0..500u64 {
            let want = (step % (cap as u64 + 2)) as usize + 1;
            let mut it = (next_in..next_in + want as u64)
                .collect::<Vec<_>>()
                .into_iter();
            let room = cap - r.len();
            match r.push_many(&mut it) {
                Ok(n) => {
                    assert_eq!(n, want.min(room));
                    next_in += n as u64;
                }
                Err(e) => {
                    assert_eq!(e, PushError::Full(()));
                    assert_eq!(room, 0);
                }
            }
            assert_eq!(it.len(), want - want.min(room));
            out.clear();
            let max = (step % 3) as usize + 1;
            match r.pop_many(&mut out, max) {
                Ok(n) => {
                    assert_eq!(n, out.len());
                    for v in &out {
                        assert_eq!(*v, next_out);
                        next_out += 1;
                    }
                }
                Err(e) => {
                    assert_eq!(e, PopError::Empty);
                    assert_eq!(next_in, next_out);
                }
            }
        }
        assert!(next_out > 100);
    }
}

/// A batch of `0..3` whose iterator runs `first` before the first item: by then `push_many` has
/// claimed the batch's positions, and they hold nothing until the iterator yields.
fn slow_batch(mut first: impl FnMut()) -> Failing<impl FnMut(usize) -> u32> {
    Failing::new(0..3, None, move |i| {
        if i == 0 {
            first();
        }
        i as u32
    })
}

/// CPU time this thread has used.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a writable timespec; CLOCK_THREAD_CPUTIME_ID needs nothing else.
    assert_eq!(
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) },
        0
    );
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Runs `$body` with `$q` bound to an `Arc` of a `Queue<u32>`, then of a `Ring<u32>`.
macro_rules! on_queue_and_ring {
    ($q:ident => $body:block) => {{
        {
            let $q = Arc::new(Queue::<u32>::new());
            $body
        }
        {
            let $q = Arc::new(Ring::<u32>::new(8));
            $body
        }
    }};
}

/// While a batch push's iterator is slow, the positions it claimed hold nothing: pops that reach
/// them report `Empty` soon, keep their timeouts, and sleep rather than spin when blocking.
#[test]
fn pops_do_not_spin_on_a_slow_batch() {
    const DELAY: Duration = Duration::from_millis(500);
    on_queue_and_ring!(q => {
        let (claimed, batch_claimed) = std::sync::mpsc::channel();
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                let mut items = slow_batch(move || {
                    claimed.send(()).unwrap();
                    thread::sleep(DELAY);
                });
                q.push_many(&mut items)
            })
        };
        batch_claimed.recv().unwrap();
        let start = Instant::now();
        assert_eq!(q.pop(), Err(PopError::Empty));
        assert_eq!(q.pop_timeout(Duration::from_millis(20)), Err(PopError::Timeout));
        assert!(start.elapsed() < DELAY / 2, "the pops waited for the batch's iterator");
        let (cpu, wall) = (thread_cpu_time(), Instant::now());
        assert_eq!(q.pop_blocking(), Ok(0));
        let (cpu, wall) = (thread_cpu_time() - cpu, wall.elapsed());
        if wall > DELAY / 4 {
            assert!(cpu < wall / 2, "pop_blocking spun: {cpu:?} of CPU in {wall:?}");
        }
        assert_eq!(join_within(producer, PROMPT, "slow batch"), Ok(3));
        assert_eq!((q.pop(), q.pop(), q.pop()), (Ok(1), Ok(2), Err(PopError::Empty)));
    });
}

/// Pops from inside a batch push's own iterator find its positions unfilled, and return.
#[test]
fn pops_inside_a_batch_iterator_return() {
    on_queue_and_ring!(q => {
        let inner = Arc::clone(&q);
        let batch = thread::spawn(move || {
            let mut items = slow_batch(|| {
                assert_eq!(inner.pop(), Err(PopError::Empty));
                assert_eq!(inner.pop_timeout(Duration::from_millis(10)), Err(PopError::Timeout));
            });
            inner.push_many(&mut items)
        });
        assert_eq!(join_within(batch, PROMPT, "pops inside push_many"), Ok(3));
        assert_eq!((q.pop(), q.pop(), q.pop()), (Ok(0), Ok(1), Ok(2)));
    });
}

// ---------------------------------------------------------------------------------------------
// Ownership

#[test]
fn dropping_holds_no_item_twice_and_leaks_none() {
    let t = Tracker::new(64);
    {
        let q = Queue::new();
        let r = Ring::new(5);
        for i in 0..20 {
            q.push(t.item(i)).unwrap();
        }
        for i in 20..25 {
            r.push(t.item(i)).unwrap();
        }
        for _ in 0..3 {
            let a = q.pop().unwrap();
            a.check();
            let b = r.pop().unwrap();
            b.check();
        }
        assert_eq!(t.dropped(), 6);
    }
    t.assert_all_dropped();
}
