//! Counting the batch pushes that are running their caller's item iterator.
//!
//! A push claims its positions first and writes them after. A pop that reaches a claimed position
//! not yet written has two choices: wait for the write, as crossbeam's queues do, or report the
//! queue empty. Only waiting keeps the queue linearizable: items whose pushes have returned may
//! lie behind the claim, so "empty" would be wrong. A single push, or a batch from an array (the
//! C layer's), writes right after its claim, so that wait is short. `push_many` is different: it
//! takes each item from the caller's iterator inside its claim, and the iterator may take any
//! time, or even pop from the same queue. So pops wait for unwritten claims unless such an
//! iterator is running somewhere on the structure; then, after a short wait, they report empty.

use crate::sync::{AtomicUsize, Ordering};

/// How many `push_many` calls on one structure are inside their item iterator.
pub(crate) struct Iterating(AtomicUsize);

/// One running iterator, counted until this guard drops (also when the iterator panics).
pub(crate) struct Running<'a>(&'a Iterating);

impl Iterating {
    pub(crate) fn new() -> Self {
        Iterating(AtomicUsize::new(0))
    }

    /// Counts a batch push from before its claim until the guard drops, after its writes.
    pub(crate) fn enter(&self) -> Running<'_> {
        // SeqCst: ordered before the batch's claim (a SeqCst CAS of the tail), so a pop that has
        // seen the claim through its SeqCst tail load reads this count, or a later one, in `any`.
        self.0.fetch_add(1, Ordering::SeqCst);
        Running(self)
    }

    /// Whether a batch push may be running its iterator; asked by a pop that found a claimed
    /// position unwritten, after its SeqCst load of the tail showed the claim, and by the queue's
    /// unpinned pop before it claims (it cannot look at the slot first).
    #[inline]
    pub(crate) fn any(&self) -> bool {
        // SeqCst: see `enter`. If this reads zero, the claiming batch's decrement (Release) came
        // first, so its writes are visible to the pop's next look at the slot.
        self.0.load(Ordering::SeqCst) != 0
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        // Release: the batch's writes (or its marks on abandoned slots) happen before any pop
        // that reads the lower count in `any`.
        self.0 .0.fetch_sub(1, Ordering::Release);
    }
}
