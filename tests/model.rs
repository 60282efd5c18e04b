//! Model test: random single-threaded operation sequences on `Queue` and `Ring`, each result
//! checked against a `VecDeque` plus a closed flag.

use lfq::{PopError, PushError, Queue, Ring};
use proptest::prelude::*;
use std::collections::VecDeque;
use std::time::Duration;

#[derive(Clone, Debug)]
enum Op {
    Push,
    Pop,
    /// Push this many items (from a fresh iterator) with `push_many`.
    PushMany(usize),
    /// `pop_many` with this `max`.
    PopMany(usize),
    /// `force_push`; on a `Queue`, a plain push.
    ForcePush,
    PopTimeoutZero,
    /// `push_timeout` with a zero timeout; on a `Queue`, a plain push.
    PushTimeoutZero,
    WaitNonemptyZero,
    WaitNotFullZero,
    Close,
    Len,
    IsEmpty,
    IsFull,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        24 => Just(Op::Push),
        20 => Just(Op::Pop),
        12 => (0usize..12).prop_map(Op::PushMany),
        12 => (0usize..12).prop_map(Op::PopMany),
        8 => Just(Op::ForcePush),
        3 => Just(Op::PopTimeoutZero),
        3 => Just(Op::PushTimeoutZero),
        3 => Just(Op::WaitNonemptyZero),
        3 => Just(Op::WaitNotFullZero),
        3 => Just(Op::Len),
        3 => Just(Op::IsEmpty),
        3 => Just(Op::IsFull),
        // Rare (about once per 100 ops), so that most sequences run a long while open.
        1 => Just(Op::Close),
    ]
}

/// The reference: a deque, an optional capacity and a closed flag.
struct Model {
    items: VecDeque<u64>,
    capacity: Option<usize>,
    closed: bool,
}

impl Model {
    fn room(&self) -> usize {
        self.capacity.map_or(usize::MAX, |c| c - self.items.len())
    }

    fn pop_result(&mut self) -> Result<u64, PopError> {
        match self.items.pop_front() {
            Some(v) => Ok(v),
            None if self.closed => Err(PopError::Closed),
            None => Err(PopError::Empty),
        }
    }
}

/// The calls under test, so that one checker drives both structures.
trait Subject {
    fn push(&self, v: u64) -> Result<(), PushError<u64>>;
    fn pop(&self) -> Result<u64, PopError>;
    fn push_many(&self, items: &mut std::vec::IntoIter<u64>) -> Result<usize, PushError<()>>;
    fn pop_many(&self, out: &mut Vec<u64>, max: usize) -> Result<usize, PopError>;
    fn force_push(&self, v: u64) -> Option<Result<Option<u64>, PushError<u64>>>;
    fn pop_timeout(&self, t: Duration) -> Result<u64, PopError>;
    fn push_timeout(&self, v: u64, t: Duration) -> Option<Result<(), PushError<u64>>>;
    fn wait_nonempty(&self, t: Option<Duration>) -> Result<(), PopError>;
    fn wait_not_full(&self, t: Option<Duration>) -> Option<Result<(), PushError<()>>>;
    fn close(&self) -> bool;
    fn is_closed(&self) -> bool;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool;
    fn is_full(&self) -> Option<bool>;
    fn capacity(&self) -> Option<usize>;
}

impl Subject for Queue<u64> {
    fn push(&self, v: u64) -> Result<(), PushError<u64>> {
        Queue::push(self, v)
    }
    fn pop(&self) -> Result<u64, PopError> {
        Queue::pop(self)
    }
    fn push_many(&self, items: &mut std::vec::IntoIter<u64>) -> Result<usize, PushError<()>> {
        Queue::push_many(self, items)
    }
    fn pop_many(&self, out: &mut Vec<u64>, max: usize) -> Result<usize, PopError> {
        Queue::pop_many(self, out, max)
    }
    fn force_push(&self, _: u64) -> Option<Result<Option<u64>, PushError<u64>>> {
        None
    }
    fn pop_timeout(&self, t: Duration) -> Result<u64, PopError> {
        Queue::pop_timeout(self, t)
    }
    fn push_timeout(&self, _: u64, _: Duration) -> Option<Result<(), PushError<u64>>> {
        None
    }
    fn wait_nonempty(&self, t: Option<Duration>) -> Result<(), PopError> {
        Queue::wait_nonempty(self, t)
    }
    fn wait_not_full(&self, _: Option<Duration>) -> Option<Result<(), PushError<()>>> {
        None
    }
    fn close(&self) -> bool {
        Queue::close(self)
    }
    fn is_closed(&self) -> bool {
        Queue::is_closed(self)
    }
    fn len(&self) -> usize {
        Queue::len(self)
    }
    fn is_empty(&self) -> bool {
        Queue::is_empty(self)
    }
    fn is_full(&self) -> Option<bool> {
        None
    }
    fn capacity(&self) -> Option<usize> {
        Queue::capacity(self)
    }
}

impl Subject for Ring<u64> {
    fn push(&self, v: u64) -> Result<(), PushError<u64>> {
        Ring::push(self, v)
    }
    fn pop(&self) -> Result<u64, PopError> {
        Ring::pop(self)
    }
    fn push_many(&self, items: &mut std::vec::IntoIter<u64>) -> Result<usize, PushError<()>> {
        Ring::push_many(self, items)
    }
    fn pop_many(&self, out: &mut Vec<u64>, max: usize) -> Result<usize, PopError> {
        Ring::pop_many(self, out, max)
    }
    fn force_push(&self, v: u64) -> Option<Result<Option<u64>, PushError<u64>>> {
        Some(Ring::force_push(self, v))
    }
    fn pop_timeout(&self, t: Duration) -> Result<u64, PopError> {
        Ring::pop_timeout(self, t)
    }
    fn push_timeout(&self, v: u64, t: Duration) -> Option<Result<(), PushError<u64>>> {
        Some(Ring::push_timeout(self, v, t))
    }
    fn wait_nonempty(&self, t: Option<Duration>) -> Result<(), PopError> {
        Ring::wait_nonempty(self, t)
    }
    fn wait_not_full(&self, t: Option<Duration>) -> Option<Result<(), PushError<()>>> {
        Some(Ring::wait_not_full(self, t))
    }
    fn close(&self) -> bool {
        Ring::close(self)
    }
    fn is_closed(&self) -> bool {
        Ring::is_closed(self)
    }
    fn len(&self) -> usize {
        Ring::len(self)
    }
    fn is_empty(&self) -> bool {
        Ring::is_empty(self)
    }
    fn is_full(&self) -> Option<bool> {
        Some(Ring::is_full(self))
    }
    fn capacity(&self) -> Option<usize> {
        Ring::capacity(self)
    }
}

/// Runs `ops` on `subject` and on the model, failing at the first disagreement.
fn check(subject: &impl Subject, capacity: Option<usize>, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut m = Model {
        items: VecDeque::new(),
        capacity,
        closed: false,
    };
    let mut next = 0u64;
    let mut fresh = || {
        next += 1;
        next
    };
    prop_assert_eq!(subject.capacity(), capacity);
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Push => {
                let v = fresh();
                let want = if m.closed {
                    Err(PushError::Closed(v))
                } else if m.room() == 0 {
                    Err(PushError::Full(v))
                } else {
                    m.items.push_back(v);
                    Ok(())
                };
                prop_assert_eq!(subject.push(v), want, "step {}: {:?}", step, op);
            }
            Op::Pop | Op::PopTimeoutZero => {
                let got = if matches!(op, Op::Pop) {
                    subject.pop()
                } else {
                    subject.pop_timeout(Duration::ZERO)
                };
                let mut want = m.pop_result();
                if matches!(op, Op::PopTimeoutZero) && want == Err(PopError::Empty) {
                    want = Err(PopError::Timeout);
                }
                prop_assert_eq!(got, want, "step {}: {:?}", step, op);
            }
            Op::PushMany(n) => {
                let batch: Vec<u64> = (0..*n).map(|_| fresh()).collect();
                let mut it = batch.clone().into_iter();
                let got = subject.push_many(&mut it);
                if *n == 0 && m.closed {
                    // An empty batch on a closed queue may be reported either way.
                    prop_assert!(
                        got == Ok(0) || got == Err(PushError::Closed(())),
                        "step {}: {:?}",
                        step,
                        got
                    );
                    continue;
                }
                let want = if *n == 0 {
                    Ok(0)
                } else if m.closed {
                    Err(PushError::Closed(()))
                } else if m.room() == 0 {
                    Err(PushError::Full(()))
                } else {
                    let k = m.room().min(*n);
                    m.items.extend(&batch[..k]);
                    Ok(k)
                };
                prop_assert_eq!(got, want, "step {}: {:?}", step, op);
                let pushed = want.unwrap_or(0);
                // The items that were not pushed stay in the iterator, in order.
                prop_assert_eq!(it.as_slice(), &batch[pushed..], "step {}", step);
            }
            Op::PopMany(max) => {
                let mut out = vec![u64::MAX];
                let got = subject.pop_many(&mut out, *max);
                if *max == 0 {
                    prop_assert!(
                        got == Ok(0)
                            || (m.closed && m.items.is_empty() && got == Err(PopError::Closed)),
                        "step {}: {:?}",
                        step,
                        got
                    );
                    prop_assert_eq!(out.len(), 1);
                    continue;
                }
                let k = m.items.len().min(*max);
                let want = if k > 0 {
                    Ok(k)
                } else if m.closed {
                    Err(PopError::Closed)
                } else {
                    Err(PopError::Empty)
                };
                prop_assert_eq!(got, want, "step {}: {:?}", step, op);
                let mut want_out = vec![u64::MAX];
                want_out.extend(m.items.drain(..k));
                prop_assert_eq!(out, want_out, "step {}: pop_many appends in order", step);
            }
            Op::ForcePush => {
                let v = fresh();
                let Some(got) = subject.force_push(v) else {
                    continue;
                };
                let want = if m.closed {
                    Err(PushError::Closed(v))
                } else {
                    let evicted = if m.room() == 0 {
                        m.items.pop_front()
                    } else {
                        None
                    };
                    m.items.push_back(v);
                    Ok(evicted)
                };
                prop_assert_eq!(got, want, "step {}: {:?}", step, op);
            }
            Op::PushTimeoutZero => {
                let v = fresh();
                let Some(got) = subject.push_timeout(v, Duration::ZERO) else {
                    continue;
                };
                if m.closed {
                    prop_assert_eq!(got, Err(PushError::Closed(v)), "step {}", step);
                } else if m.room() == 0 {
                    // Timeout per the contract; Full is an acceptable report of a zero wait.
                    prop_assert!(
                        got == Err(PushError::Timeout(v)) || got == Err(PushError::Full(v)),
                        "step {}: {:?}",
                        step,
                        got
                    );
                } else {
                    prop_assert_eq!(got, Ok(()), "step {}", step);
                    m.items.push_back(v);
                }
            }
            Op::WaitNonemptyZero => {
                let want = if !m.items.is_empty() {
                    Ok(())
                } else if m.closed {
                    Err(PopError::Closed)
                } else {
                    Err(PopError::Timeout)
                };
                prop_assert_eq!(
                    subject.wait_nonempty(Some(Duration::ZERO)),
                    want,
                    "step {}",
                    step
                );
            }
            Op::WaitNotFullZero => {
                let Some(got) = subject.wait_not_full(Some(Duration::ZERO)) else {
                    continue;
                };
                let want = if m.closed {
                    Err(PushError::Closed(()))
                } else if m.room() == 0 {
                    Err(PushError::Timeout(()))
                } else {
                    Ok(())
                };
                prop_assert_eq!(got, want, "step {}", step);
            }
            Op::Close => {
                prop_assert_eq!(subject.close(), !m.closed, "step {}", step);
                m.closed = true;
            }
            Op::Len => prop_assert_eq!(subject.len(), m.items.len(), "step {}", step),
            Op::IsEmpty => prop_assert_eq!(subject.is_empty(), m.items.is_empty(), "step {}", step),
            Op::IsFull => {
                if let Some(full) = subject.is_full() {
                    prop_assert_eq!(full, m.room() == 0, "step {}", step);
                }
            }
        }
        // Cheap invariants after every step.
        prop_assert_eq!(
            subject.len(),
            m.items.len(),
            "step {}: len after {:?}",
            step,
            op
        );
        prop_assert_eq!(subject.is_closed(), m.closed, "step {}", step);
    }
    // Whatever is left drains in model order.
    while let Some(v) = m.items.pop_front() {
        prop_assert_eq!(subject.pop(), Ok(v));
    }
    prop_assert!(subject.is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn queue_matches_model(ops in proptest::collection::vec(op(), 0..200)) {
        check(&Queue::new(), None, &ops)?;
    }

    #[test]
    fn ring_matches_model(capacity in 1usize..=8, ops in proptest::collection::vec(op(), 0..200)) {
        check(&Ring::new(capacity), Some(capacity), &ops)?;
    }
}
