//! What the C layer needs from an engine instance, uniformly over [`Queue`] and [`Ring`], and
//! the timeout logic shared by every blocking entry point.

use std::time::{Duration, Instant};

use super::lfq_status::{self, *};
use crate::queue::Refused;
use crate::{PopError, PushError, Queue, Ring};

/// A C timeout argument, decoded once per call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timeout {
    /// `0`: try once; failure is EMPTY / FULL.
    Poll,
    /// `< 0`: wait until success or close.
    Forever,
    /// `> 0`: wait at most this long; failure is TIMEOUT.
    For(Duration),
}

impl Timeout {
    #[inline]
    pub(crate) fn from_ns(ns: i64) -> Timeout {
        match ns {
            0 => Timeout::Poll,
            n if n < 0 => Timeout::Forever,
            // A positive i64 always fits in u64.
            n => Timeout::For(Duration::from_nanos(n as u64)),
        }
    }

    /// The status for running out of time on a pop: EMPTY for a poll, TIMEOUT otherwise.
    fn pop_expired(self) -> lfq_status {
        if self == Timeout::Poll {
            LFQ_EMPTY
        } else {
            LFQ_TIMEOUT
        }
    }

    /// The status for running out of time on a push: FULL for a poll, TIMEOUT otherwise.
    fn push_expired(self) -> lfq_status {
        if self == Timeout::Poll {
            LFQ_FULL
        } else {
            LFQ_TIMEOUT
        }
    }
}

/// A failed batch call: its status, and how many items it moved before failing. Only a bulk
/// push into an unbounded queue that a concurrent close or a failed allocation cuts short has
/// moved any (`push_until`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BatchError {
    pub(crate) status: lfq_status,
    pub(crate) moved: usize,
}

impl From<lfq_status> for BatchError {
    fn from(status: lfq_status) -> BatchError {
        BatchError { status, moved: 0 }
    }
}

/// When a retrying call gives up. Started only after a first attempt failed, so that the
/// successful fast path never reads the clock.
enum Deadline {
    Now,
    Never,
    At(Instant),
}

impl Deadline {
    fn start(timeout: Timeout) -> Deadline {
        match timeout {
            Timeout::Poll => Deadline::Now,
            Timeout::Forever => Deadline::Never,
            // Beyond what Instant can represent is as good as forever.
            Timeout::For(d) => Instant::now()
                .checked_add(d)
                .map_or(Deadline::Never, Deadline::At),
        }
    }

    /// `None` once expired; otherwise the time left to wait (`Some(None)` = no limit).
    fn remaining(&self) -> Option<Option<Duration>> {
        match self {
            Deadline::Now => None,
            Deadline::Never => Some(None),
            Deadline::At(at) => at
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .map(Some),
        }
    }
}

/// Waiting between retries of an all-or-nothing batch of more than one item.
///
/// The engine can put a thread to sleep only until "at least one item / one free slot", and
/// each push or pop wakes as many sleepers as items it moved. A batch waiter that slept there
/// and woke for fewer items than it needs would have used up a wakeup meant for a thread that
/// one item satisfies, leaving that thread asleep beside an item. So such batches never register
/// as sleepers: they poll, yielding the CPU at first (the common case is a busy peer about to
/// supply the rest), then napping in the OS from 10 µs doubling up to 1 ms.
struct Backoff {
    step: u32,
}

impl Backoff {
    const YIELDS: u32 = 64;
    const FIRST_NAP: Duration = Duration::from_micros(10);
    const MAX_NAP: Duration = Duration::from_millis(1);

    fn new() -> Backoff {
        Backoff { step: 0 }
    }

    fn snooze(&mut self, remaining: Option<Duration>) {
        if self.step < Self::YIELDS {
            std::thread::yield_now();
        } else {
            let doublings = (self.step - Self::YIELDS).min(7);
            let mut nap = (Self::FIRST_NAP * (1 << doublings)).min(Self::MAX_NAP);
            if let Some(left) = remaining {
                nap = nap.min(left);
            }
            std::thread::sleep(nap);
        }
        self.step = self.step.saturating_add(1);
    }
}

/// The engine operations the C layer uses, implemented by [`Queue`] and [`Ring`].
pub(crate) trait Backend<T> {
    /// One push with the C timeout semantics. An item not pushed is dropped: the caller still
    /// has what it was made from.
    fn push_one(&self, item: T, timeout: Timeout) -> Result<(), lfq_status>;
    /// One pop with the C timeout semantics.
    fn pop_one(&self, timeout: Timeout) -> Result<T, PopError>;
    /// Pushes between `min` and `count` items built by `make(0)`, `make(1)`, … in order. LFQ_FULL
    /// when there is no room for `min`; an unbounded queue stopped part way reports how many it
    /// pushed with its status (see `push_until`).
    fn push_from(
        &self,
        min: usize,
        count: usize,
        make: impl FnMut(usize) -> T,
    ) -> Result<usize, BatchError>;
    /// Pops between `min` and `max` items into `sink(index in the batch, item)`.
    fn pop_batch(
        &self,
        min: usize,
        max: usize,
        sink: impl FnMut(usize, T),
    ) -> Result<usize, PopError>;
    fn wait_readable(&self, timeout: Option<Duration>) -> Result<(), PopError>;
    fn wait_writable(&self, timeout: Option<Duration>) -> Result<(), PushError<()>>;
    fn closed(&self) -> bool;
    /// The largest all-or-nothing batch that can ever succeed.
    fn batch_limit(&self) -> usize;
    /// How many more items fit now, as a snapshot (`usize::MAX` when unbounded).
    fn room(&self) -> usize;
    /// Pops everything left, for lfq_destroy.
    fn drain(&self, mut each: impl FnMut(T)) {
        while self.pop_batch(1, usize::MAX, |_, item| each(item)).is_ok() {}
    }
}

impl<T> Backend<T> for Queue<T> {
    #[inline]
    fn push_one(&self, item: T, _timeout: Timeout) -> Result<(), lfq_status> {
        // Never full, so there is nothing to wait for.
        self.try_push(item).map_err(|(_, why)| refused_status(why))
    }

    #[inline]
    fn pop_one(&self, timeout: Timeout) -> Result<T, PopError> {
        match timeout {
            Timeout::Poll => self.pop(),
            Timeout::Forever => self.pop_blocking(),
            Timeout::For(d) => self.pop_timeout(d),
        }
    }

    #[inline]
    fn push_from(
        &self,
        min: usize,
        count: usize,
        make: impl FnMut(usize) -> T,
    ) -> Result<usize, BatchError> {
        // Never full. A close or a failed allocation can stop it part way; once `min` are in, the
        // batch has still done what it was asked.
        match Queue::push_from(self, count, make) {
            (pushed, Some(why)) if pushed < min => Err(BatchError {
                status: refused_status(why),
                moved: pushed,
            }),
            (pushed, _) => Ok(pushed),
        }
    }

    #[inline]
    fn pop_batch(
        &self,
        min: usize,
        max: usize,
        sink: impl FnMut(usize, T),
    ) -> Result<usize, PopError> {
        Queue::pop_batch(self, min, max, sink)
    }

    fn wait_readable(&self, timeout: Option<Duration>) -> Result<(), PopError> {
        self.wait_nonempty(timeout)
    }

    fn wait_writable(&self, _timeout: Option<Duration>) -> Result<(), PushError<()>> {
        if self.is_closed() {
            Err(PushError::Closed(()))
        } else {
            Ok(())
        }
    }

    fn closed(&self) -> bool {
        self.is_closed()
    }

    fn batch_limit(&self) -> usize {
        usize::MAX
    }

    fn room(&self) -> usize {
        usize::MAX
    }
}

impl<T> Backend<T> for Ring<T> {
    #[inline]
    fn push_one(&self, item: T, timeout: Timeout) -> Result<(), lfq_status> {
        match timeout {
            Timeout::Poll => self.push(item),
            Timeout::Forever => self.push_blocking(item),
            Timeout::For(d) => self.push_timeout(item, d),
        }
        .map_err(push_error)
    }

    #[inline]
    fn pop_one(&self, timeout: Timeout) -> Result<T, PopError> {
        match timeout {
            Timeout::Poll => self.pop(),
            Timeout::Forever => self.pop_blocking(),
            Timeout::For(d) => self.pop_timeout(d),
        }
    }

    #[inline]
    fn push_from(
        &self,
        min: usize,
        count: usize,
        make: impl FnMut(usize) -> T,
    ) -> Result<usize, BatchError> {
        Ring::push_from(self, min, count, make).map_err(|err| push_error(err).into())
    }

    #[inline]
    fn pop_batch(
        &self,
        min: usize,
        max: usize,
        sink: impl FnMut(usize, T),
    ) -> Result<usize, PopError> {
        Ring::pop_batch(self, min, max, sink)
    }

    fn wait_readable(&self, timeout: Option<Duration>) -> Result<(), PopError> {
        self.wait_nonempty(timeout)
    }

    fn wait_writable(&self, timeout: Option<Duration>) -> Result<(), PushError<()>> {
        self.wait_not_full(timeout)
    }

    fn closed(&self) -> bool {
        self.is_closed()
    }

    fn batch_limit(&self) -> usize {
        self.capacity().unwrap_or(usize::MAX)
    }

    fn room(&self) -> usize {
        self.batch_limit().saturating_sub(self.len())
    }
}

/// Maps a failed push to its status.
#[inline]
fn push_error<T>(err: PushError<T>) -> lfq_status {
    match err {
        PushError::Full(_) => LFQ_FULL,
        PushError::Closed(_) => LFQ_CLOSED,
        PushError::Timeout(_) => LFQ_TIMEOUT,
    }
}

/// Maps an unbounded queue's refusal to its status.
fn refused_status(why: Refused) -> lfq_status {
    match why {
        Refused::Closed => LFQ_CLOSED,
        Refused::NoMemory => LFQ_ERR_NO_MEMORY,
    }
}

/// Maps a failed single pop to its status.
#[inline]
pub(crate) fn pop_error(err: PopError) -> lfq_status {
    match err {
        PopError::Empty => LFQ_EMPTY,
        PopError::Closed => LFQ_CLOSED,
        PopError::Timeout => LFQ_TIMEOUT,
    }
}

/// Pushes between `min` and `count` items (`min == count` is the all-or-nothing bulk form,
/// `min == 1` the burst form), retrying until `timeout` passes. `make(i)` builds the `i`th item
/// when it is pushed: once each, in order, and never for items not pushed.
///
/// One case breaks all-or-nothing: an unbounded queue claims a bulk push's positions in one go
/// but links the segments past the first before taking the positions in the last, so a close
/// that lands in between, or an allocation of those segments that fails, stops it part way.
/// The items already queued cannot be taken back, so the failure reports how many there are.
///
/// The first attempt is inlined into the caller, so a batch that goes through at once pays no
/// further call; waiting and retrying is `push_retry`.
#[inline(always)]
pub(crate) fn push_until<T, B>(
    backend: &B,
    count: usize,
    min: usize,
    timeout: Timeout,
    mut make: impl FnMut(usize) -> T,
) -> Result<usize, BatchError>
where
    B: Backend<T>,
{
    if min > backend.batch_limit() {
        // Could never fit, so waiting would never end.
        return Err(LFQ_ERR_INVALID_ARGUMENT.into());
    }
    match push_outcome(backend.push_from(min, count, &mut make)) {
        Some(result) => result,
        None => push_retry(backend, count, min, timeout, make),
    }
}

/// What a push attempt means for `push_until`: its result, or `None` for full (wait and retry).
#[inline(always)]
fn push_outcome(attempt: Result<usize, BatchError>) -> Option<Result<usize, BatchError>> {
    match attempt {
        Err(err) if err.status == LFQ_FULL => None,
        result => Some(result),
    }
}

/// `push_until` after a first attempt found no room.
#[inline(never)]
fn push_retry<T, B>(
    backend: &B,
    count: usize,
    min: usize,
    timeout: Timeout,
    mut make: impl FnMut(usize) -> T,
) -> Result<usize, BatchError>
where
    B: Backend<T>,
{
    let deadline = Deadline::start(timeout);
    let mut backoff = Backoff::new();
    loop {
        let remaining = deadline.remaining().ok_or(timeout.push_expired())?;
        if min > 1 {
            // A closed queue fails the next attempt with Closed.
            backoff.snooze(remaining);
        } else {
            match backend.wait_writable(remaining) {
                Ok(()) => {}
                Err(PushError::Closed(())) => return Err(LFQ_CLOSED.into()),
                Err(PushError::Full(()) | PushError::Timeout(())) => return Err(LFQ_TIMEOUT.into()),
            }
        }
        if let Some(result) = push_outcome(backend.push_from(min, count, &mut make)) {
            return result;
        }
    }
}

/// Pops between `min` and `max` items into `sink(index in the batch, item)`, retrying until
/// `timeout` passes. A closed queue holding fewer than `min` items gives LFQ_CLOSED: no more
/// can arrive, and the rest can be drained with `min == 1`.
///
/// The first attempt is inlined, as in `push_until`; waiting and retrying is `pop_retry`.
#[inline(always)]
pub(crate) fn pop_until<T, B>(
    backend: &B,
    min: usize,
    max: usize,
    timeout: Timeout,
    mut sink: impl FnMut(usize, T),
) -> Result<usize, lfq_status>
where
    B: Backend<T>,
{
    if min > backend.batch_limit() {
        return Err(LFQ_ERR_INVALID_ARGUMENT);
    }
    match pop_outcome(backend.pop_batch(min, max, &mut sink)) {
        Some(result) => result,
        None => pop_retry(backend, min, max, timeout, sink),
    }
}

/// What a pop attempt means for `pop_until`: its result, or `None` for empty (wait and retry).
#[inline(always)]
fn pop_outcome(attempt: Result<usize, PopError>) -> Option<Result<usize, lfq_status>> {
    match attempt {
        Ok(n) => Some(Ok(n)),
        Err(PopError::Closed) => Some(Err(LFQ_CLOSED)),
        Err(PopError::Empty | PopError::Timeout) => None,
    }
}

/// `pop_until` after a first attempt found too few items.
#[inline(never)]
fn pop_retry<T, B>(
    backend: &B,
    min: usize,
    max: usize,
    timeout: Timeout,
    mut sink: impl FnMut(usize, T),
) -> Result<usize, lfq_status>
where
    B: Backend<T>,
{
    let deadline = Deadline::start(timeout);
    let mut backoff = Backoff::new();
    loop {
        if backend.closed() {
            // Pushes that finished before the close may have landed after the failed attempt;
            // one more attempt after seeing the close is conclusive, since the queue can only
            // shrink from here.
            return backend
                .pop_batch(min, max, &mut sink)
                .map_err(|_| LFQ_CLOSED);
        }
        let remaining = deadline.remaining().ok_or(timeout.pop_expired())?;
        if min > 1 {
            backoff.snooze(remaining);
        } else {
            match backend.wait_readable(remaining) {
                // Closed: the next round sees it and makes the final attempt.
                Ok(()) | Err(PopError::Closed) => {}
                Err(PopError::Empty | PopError::Timeout) => return Err(LFQ_TIMEOUT),
            }
        }
        if let Some(result) = pop_outcome(backend.pop_batch(min, max, &mut sink)) {
            return result;
        }
    }
}

/// lfq_wait_readable for one engine.
pub(crate) fn wait_readable<T>(
    backend: &impl Backend<T>,
    timeout: Timeout,
) -> Result<(), lfq_status> {
    let limit = match timeout {
        Timeout::Poll => Some(Duration::ZERO),
        Timeout::Forever => None,
        Timeout::For(d) => Some(d),
    };
    match backend.wait_readable(limit) {
        Ok(()) => Ok(()),
        Err(PopError::Closed) => Err(LFQ_CLOSED),
        Err(PopError::Empty | PopError::Timeout) => Err(timeout.pop_expired()),
    }
}

/// lfq_wait_writable for one engine.
pub(crate) fn wait_writable<T>(
    backend: &impl Backend<T>,
    timeout: Timeout,
) -> Result<(), lfq_status> {
    let limit = match timeout {
        Timeout::Poll => Some(Duration::ZERO),
        Timeout::Forever => None,
        Timeout::For(d) => Some(d),
    };
    match backend.wait_writable(limit) {
        Ok(()) => Ok(()),
        Err(PushError::Closed(())) => Err(LFQ_CLOSED),
        Err(PushError::Full(()) | PushError::Timeout(())) => Err(timeout.push_expired()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_decoding() {
        assert_eq!(Timeout::from_ns(0), Timeout::Poll);
        assert_eq!(Timeout::from_ns(-1), Timeout::Forever);
        assert_eq!(Timeout::from_ns(i64::MIN), Timeout::Forever);
        assert_eq!(
            Timeout::from_ns(1500),
            Timeout::For(Duration::from_nanos(1500))
        );
    }

    #[test]
    fn bulk_pop_on_closed_short_queue_is_closed_and_keeps_items() {
        let q: Queue<u32> = Queue::new();
        q.push(1).unwrap();
        q.push(2).unwrap();
        q.close();
        let mut got = Vec::new();
        assert_eq!(
            pop_until(&q, 3, 3, Timeout::Forever, |_, x| got.push(x)),
            Err(LFQ_CLOSED)
        );
        assert!(got.is_empty());
        assert_eq!(q.len(), 2);
        assert_eq!(
            pop_until(&q, 1, 3, Timeout::Forever, |_, x| got.push(x)),
            Ok(2)
        );
        assert_eq!(got, [1, 2]);
    }

    #[test]
    fn bulk_larger_than_ring_is_refused() {
        let r: Ring<usize> = Ring::new(4);
        let mut made = 0;
        let make = |i| {
            made += 1;
            i
        };
        assert_eq!(
            push_until(&r, 5, 5, Timeout::Forever, make),
            Err(LFQ_ERR_INVALID_ARGUMENT.into())
        );
        assert_eq!(made, 0);
        assert!(r.is_empty());
    }

    #[test]
    fn bulk_push_times_out_without_partial_push() {
        let r: Ring<usize> = Ring::new(4);
        r.push(0).unwrap();
        let mut made = Vec::new();
        let mut make = |i| {
            made.push(i);
            i + 1
        };
        let t = Timeout::For(Duration::from_millis(20));
        assert_eq!(push_until(&r, 4, 4, t, &mut make), Err(LFQ_TIMEOUT.into()));
        assert_eq!(r.len(), 1);
        assert_eq!(
            push_until(&r, 4, 4, Timeout::Poll, &mut make),
            Err(LFQ_FULL.into())
        );
        assert_eq!(push_until(&r, 4, 1, Timeout::Poll, &mut make), Ok(3));
        assert_eq!(made, [0, 1, 2]);
        let mut out = Vec::new();
        assert_eq!(r.pop_many(&mut out, 4), Ok(4));
        assert_eq!(out, [0, 1, 2, 3]);
    }

    #[test]
    fn bulk_push_claimed_before_a_close_goes_in_whole() {
        // An unbounded queue claims a whole bulk at once, here across a segment boundary (the
        // first segment is full but for 7 slots); a close while its items are made comes after
        // the claim, so all of them are queued, and the close still stops the next push.
        let q: Queue<usize> = Queue::new();
        let queued_before = 120;
        for i in 0..queued_before {
            q.push(i).unwrap();
        }
        let make = |i| {
            if i == 0 {
                q.close();
            }
            1000 + i
        };
        assert_eq!(push_until(&q, 20, 20, Timeout::Poll, make), Ok(20));
        assert_eq!(
            push_until(&q, 1, 1, Timeout::Poll, |i| i)
                .unwrap_err()
                .status,
            LFQ_CLOSED
        );
        let mut out = Vec::new();
        while q.pop_many(&mut out, 64).is_ok() {}
        assert_eq!(&out[queued_before..], &(1000..1020).collect::<Vec<_>>()[..]);
    }
}
