//! The bounded queue: a ring of slots with per-slot stamps (after Dmitry Vyukov's bounded MPMC
//! queue), with blocking, timeouts, close and overwrite.
//!
//! # Algorithm
//!
//! Items take positions encoded as `lap * one_lap + offset`, where `offset < capacity` picks the
//! slot and `one_lap` is a power of two no smaller than `capacity` (larger when needed to keep
//! the stamp states apart), so any capacity works and exactly `capacity` items fit. Each slot carries a stamp that says whose turn it is:
//!
//! * `stamp == p`: empty, waiting for the push at position `p`;
//! * `stamp == p + 1`: full, holding the item pushed at `p`, waiting for the pop at `p`;
//!   the pop then sets `stamp = p + one_lap`, the next lap's push position for this slot;
//! * `stamp == p + 1 + ABANDONED`: claimed by a batch push whose iterator panicked before
//!   yielding the item for `p`. It holds nothing; the pop at `p` skips it, releasing the slot
//!   as it would after a pop. (`ABANDONED` is the top bit, far above any position.)
//!
//! A push reads the tail position and that slot's stamp; if the slot awaits this position it
//! claims it with a CAS on the tail, writes the item and publishes it by storing the stamp. A pop
//! does the mirror image on the head. The closed mark lives in bit 0 of the tail word, so one
//! atomic OR stops every later push.
//!
//! # Which index each call reads
//!
//! A push or pop that succeeds reads its own index and the slot, never the other side's index.
//! When the slot at the tail still holds last lap's item, a push reports `Full` from the stamp
//! alone, so a producer polling a full ring does not pull the consumers' index cache line away
//! from them. crossbeam's `ArrayQueue` does, with a full fence, and that is what costs it most
//! of its speed in producer/consumer benchmarks: reading the head before `Full` made lfq's spsc
//! about five times slower. The price is a window of a few instructions: while a pop has
//! claimed the oldest item but not yet released its slot, a push may report `Full` though the
//! pop has begun. Nothing is lost; the next try sees the room.
//!
//! A pop that finds the slot at the head not yet written this lap loads the tail before it
//! reports `Empty`: a push may have claimed the position and not written it yet, with finished
//! pushes behind it, and reporting `Empty` then would not be linearizable (a thread that pushed
//! and then popped could find the ring empty; crossbeam's own `linearizable` test, ported to
//! the ring, failed 19 of 40 runs without this load). It waits for that write instead, as
//! `ArrayQueue` does, unless a batch push's item iterator is running (iterating.rs). That load
//! costs a consumer polling an empty ring with `pop` what it costs `ArrayQueue`'s: each push
//! must take the tail's cache line back first, about doubling a ping-pong's round trip. Pops
//! poll an empty ring far less often than pushes poll a full one in producer/consumer traffic,
//! and the blocking and timed forms spin on the slot alone (below): a consumer that waits in
//! `pop_blocking` keeps the round trip close to that of a bare atomic word.
//!
//! The blocking forms spin with the slot-only check, then, before each sleep, decide with the
//! other side's index (loaded with `SeqCst`, see wait.rs), spinning through those short windows
//! and napping through long ones, so a sleeper never misses the change it waits for.
//!
//! # Published protocol
//!
//! The C layer publishes this protocol and the ring's memory to bindings that run it themselves
//! (`lfq_ring_map`, src/ffi/ring_map.rs; the Go binding does). A change to the stamps, the
//! position encoding or the slot layout must bump `LFQ_RING_MAP_VERSION` there. Abandoned slots
//! are not part of it: only a panicking item constructor leaves them, and the C layer's
//! constructors copy plain data and cannot panic.

use crate::error::Missed;
use crate::iterating::Iterating;
use crate::scan;
use crate::sync::Backoff;
use crate::sync::{AtomicBool, AtomicUsize, Ordering, UnsafeCell};
use crate::wait::{spin_then_wait, Waiters};
use crate::{PopError, PushError};
use crossbeam_utils::CachePadded;
use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::ControlFlow;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::time::{Duration, Instant};

/// Bit 0 of the tail word is the closed mark; the tail position sits above it.
pub(crate) const CLOSED: usize = 1;
pub(crate) const SHIFT: usize = 1;
/// Added to a stamp to say that the slot was abandoned (module comment).
const ABANDONED: usize = 1 << (usize::BITS - 1);

/// The stamp of the slot of `position` once the push at `position` abandoned it.
fn abandoned_stamp(position: usize) -> usize {
    position.wrapping_add(1).wrapping_add(ABANDONED)
}

// repr(C): the C layer publishes the stamp and value offsets (lfq_ring_map), so they must not
// depend on the compiler's field order.
#[repr(C)]
struct Slot<T> {
    /// Whose turn it is (module comment).
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// A bounded multi-producer multi-consumer FIFO queue holding at most `capacity` items.
///
/// Besides the non-blocking [`push`](Self::push) and [`pop`](Self::pop), it can wait for room or
/// for an item (with or without a timeout; waiting threads sleep in the operating system), and
/// [`force_push`](Self::force_push) overwrites the oldest item when full.
///
/// # Examples
///
/// ```
/// use lfq::{PushError, Ring};
///
/// let ring = Ring::new(2);
/// ring.push('a').unwrap();
/// ring.push('b').unwrap();
/// assert!(matches!(ring.push('c'), Err(PushError::Full('c'))));
/// assert_eq!(ring.force_push('c'), Ok(Some('a')));
/// assert_eq!(ring.pop(), Ok('b'));
/// assert_eq!(ring.pop(), Ok('c'));
/// ```
pub struct Ring<T> {
    /// Position of the next pop.
    head: CachePadded<AtomicUsize>,
    /// `position << SHIFT | CLOSED` of the next push.
    tail: CachePadded<AtomicUsize>,
    /// Set by `close`, read by pops that find the ring empty: read-mostly, on its own line.
    closed: CachePadded<AtomicBool>,
    /// Consumers sleeping until an item arrives.
    readers: CachePadded<Waiters>,
    /// Producers sleeping until room appears.
    writers: CachePadded<Waiters>,
    /// `push_many` calls inside their item iterator (see iterating.rs).
    iterating: CachePadded<Iterating>,
    slots: Box<[Slot<T>]>,
    one_lap: usize,
    _owns: PhantomData<T>,
}

// SAFETY: items move between threads, which needs `T: Send`; each slot's value is accessed by one
// claimer at a time, handed over by the stamp's release/acquire pairs.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// Creates an empty ring that holds exactly `capacity` items.
    ///
    /// # Panics
    ///
    /// If `capacity` is zero, or so large that positions could not be encoded.
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "ring capacity must be non-zero");
        Self::try_new(capacity).expect("ring capacity too large")
    }

    /// `new` for the C layer: `None` when `capacity` cannot be encoded or allocated, instead of
    /// a panic or an abort. `capacity` must be non-zero.
    pub(crate) fn try_new(capacity: usize) -> Option<Self> {
        // A power-of-two capacity of at least 2 needs no gap between laps: positions are plain
        // counters and the three stamp states (empty p, full p + 1, last lap's p + 1 - one_lap)
        // stay distinct. Capacity 1 and other sizes round the lap up past the capacity.
        let one_lap = if capacity >= 2 && capacity.is_power_of_two() {
            capacity
        } else {
            capacity.checked_add(1)?.checked_next_power_of_two()?
        };
        if one_lap > usize::MAX >> (SHIFT + 1) {
            return None;
        }
        let mut slots = Vec::new();
        slots.try_reserve_exact(capacity).ok()?;
        slots.extend((0..capacity).map(|offset| Slot {
            stamp: AtomicUsize::new(offset),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }));
        Some(Ring {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            closed: CachePadded::new(AtomicBool::new(false)),
            readers: CachePadded::new(Waiters::new()),
            writers: CachePadded::new(Waiters::new()),
            iterating: CachePadded::new(Iterating::new()),
            slots: slots.into_boxed_slice(),
            one_lap,
            _owns: PhantomData,
        })
    }

    /// The number of items the ring holds when full.
    fn cap(&self) -> usize {
        self.slots.len()
    }

    fn slot(&self, position: usize) -> &Slot<T> {
        // `& (one_lap - 1)` strips the lap, leaving an offset below capacity.
        &self.slots[position & (self.one_lap - 1)]
    }

    /// The `count` (≤ capacity) consecutive positions from `first` as two runs of adjacent slots,
    /// each with the position of its first slot; the second run, often empty, starts the next
    /// lap at slot 0. Batches walk them as plain slice loops, with no per-item index math.
    #[inline(always)]
    fn runs(&self, first: usize, count: usize) -> [(usize, &[Slot<T>]); 2] {
        let offset = first & (self.one_lap - 1);
        let before_wrap = count.min(self.cap() - offset);
        let next_lap = (first - offset).wrapping_add(self.one_lap);
        [
            (first, &self.slots[offset..offset + before_wrap]),
            (next_lap, &self.slots[..count - before_wrap]),
        ]
    }

    /// Counts the slots from position `first` on, at most `max` (≤ capacity), whose stamps are
    /// `ahead` past their positions, up to the first that is not: 0 finds slots empty for this
    /// lap's push, 1 slots holding this lap's item. With the count comes, if a slot stopped it,
    /// how far that slot's stamp is from its position (wrapping), read again.
    #[inline(always)]
    fn count_stamps(&self, first: usize, max: usize, ahead: usize) -> (usize, Option<usize>) {
        // Acquire, in every stamp load here: pairs with the Release store that wrote the stamp
        // (`fill` or `take`), so the access to the slot's value that preceded it is visible to,
        // or finished before, what the caller does with the slot.
        let stamp = |slot: &Slot<T>| slot.stamp.load(Ordering::Acquire);
        let mut counted = 0;
        for (start, run) in self.runs(first, max) {
            let wanted = |index: usize| start.wrapping_add(index).wrapping_add(ahead);
            let here = scan::count_ready(run, |index, slot| stamp(slot) == wanted(index));
            counted += here;
            if here < run.len() {
                // The stamp may have moved on since; callers only use it to choose between
                // retrying and reporting full or empty, and a newer stamp makes them retry.
                let lag = stamp(&run[here]).wrapping_sub(start.wrapping_add(here));
                return (counted, Some(lag));
            }
        }
        (counted, None)
    }

    /// The position `steps` after `position` (steps ≤ capacity).
    fn advance(&self, position: usize, steps: usize) -> usize {
        let offset = position & (self.one_lap - 1);
        if offset + steps < self.cap() {
            position + steps
        } else {
            let lap = position & !(self.one_lap - 1);
            lap.wrapping_add(self.one_lap) + (offset + steps - self.cap())
        }
    }

    /// How many positions lie from `head` up to `tail`, at most the capacity. More can: a
    /// `force_push` moves the tail onto the next lap before it moves the head past the item it
    /// evicts. A tail read before the head may lie behind it; that counts 0 within one lap and
    /// the capacity beyond (either is a snapshot that was never exact).
    fn distance(&self, head: usize, tail: usize) -> usize {
        let offsets = self.one_lap - 1;
        let laps = (tail & !offsets).wrapping_sub(head & !offsets) >> offsets.count_ones();
        let (head_offset, tail_offset) = (head & offsets, tail & offsets);
        match laps {
            0 => tail_offset.saturating_sub(head_offset),
            1 => (self.cap() - head_offset + tail_offset).min(self.cap()),
            _ => self.cap(),
        }
    }

    /// Pushes an item at the back, or hands it back in [`PushError::Full`] /
    /// [`PushError::Closed`].
    #[inline(always)]
    pub fn push(&self, item: T) -> Result<(), PushError<T>> {
        match self.push_fast(item) {
            Ok(()) => Ok(()),
            Err((item, Missed::FullOrEmpty)) => Err(PushError::Full(item)),
            Err((item, Missed::Undecided)) => self.push_once(item, false),
        }
    }

    /// The common cases of a push: the slot at the tail awaits this position and the first claim
    /// succeeds, or it still holds last lap's item and the head says the ring is full. Otherwise
    /// the item comes back with [`Missed::Undecided`] and nothing changed. No panic path (the C
    /// layer calls this outside `catch_unwind`).
    #[inline(always)]
    pub(crate) fn push_fast(&self, item: T) -> Result<(), (T, Missed)> {
        // Relaxed: the stamp, read with Acquire, carries the synchronisation; the CAS validates.
        let tail = self.tail.load(Ordering::Relaxed);
        let position = tail >> SHIFT;
        let Some(slot) = self.slots.get(position & (self.one_lap - 1)) else {
            return Err((item, Missed::Undecided));
        };
        if tail & CLOSED != 0 {
            return Err((item, Missed::Undecided));
        }
        // Acquire: pairs with the consumer's Release stamp store (its read of the old value is
        // done). SeqCst CAS: the index update waiters are ordered against (wait.rs).
        let stamp = slot.stamp.load(Ordering::Acquire);
        if stamp != position {
            // Still last lap's, and no pop has claimed it: full (module comment).
            let full = self.holds_last_lap(stamp.wrapping_sub(position));
            return Err((item, Missed::full_or_empty_if(full)));
        }
        // SeqCst: as for every tail update (wait.rs). Relaxed on failure: we change nothing.
        if self
            .tail
            .compare_exchange(
                tail,
                self.advance(position, 1) << SHIFT,
                Ordering::SeqCst,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return Err((item, Missed::Undecided));
        }
        // SAFETY: the CAS made `position` ours and its stamp said the slot is empty for it.
        unsafe { Self::fill(slot, position, || item) };
        self.readers.notify(1);
        Ok(())
    }

    /// Builds the item `make` returns in `slot`, the slot of `position`, and publishes it to the
    /// pop at `position`. Taking a constructor lets batches build large items in place.
    ///
    /// # Safety
    /// The caller claimed `position`, and its slot is empty for it.
    #[inline(always)]
    unsafe fn fill(slot: &Slot<T>, position: usize, make: impl FnOnce() -> T) {
        slot.value.with_mut(|value| {
            // SAFETY: per the contract, nobody else touches this slot until the stamp store.
            unsafe { value.write(MaybeUninit::new(make())) }
        });
        // Release: pairs with the consumer's Acquire stamp load, publishing the value.
        slot.stamp
            .store(position.wrapping_add(1), Ordering::Release);
    }

    /// Hands the item in `slot`, the slot of `position`, straight to `sink` (no copy in between,
    /// which matters for large items), then gives the slot to the next lap's push. `one_lap` is
    /// the ring's, passed in so that batch loops read it once.
    ///
    /// # Safety
    /// The caller claimed `position`, and its slot holds the item pushed at it.
    #[inline(always)]
    unsafe fn take<R>(
        slot: &Slot<T>,
        position: usize,
        one_lap: usize,
        sink: impl FnOnce(T) -> R,
    ) -> R {
        // SAFETY: per the contract, the value is initialised and ours until the stamp store.
        let taken = sink(
            slot.value
                .with(|value| unsafe { ptr::read(value).assume_init() }),
        );
        // Release: pairs with the producer's Acquire stamp load, so our read is done before the
        // next lap's push overwrites the slot.
        slot.stamp
            .store(position.wrapping_add(one_lap), Ordering::Release);
        taken
    }

    /// One push attempt. `exact` decides `Full` by the head index (for waiters) rather than by
    /// the slot alone (module comment).
    #[inline(never)]
    fn push_once(&self, item: T, exact: bool) -> Result<(), PushError<T>> {
        let mut item = Some(item);
        match self.push_batch_with(1, 1, exact, |_| item.take().expect("one item")) {
            Ok(_) => Ok(()),
            Err(PushError::Full(())) => Err(PushError::Full(item.expect("not pushed"))),
            Err(_) => Err(PushError::Closed(item.expect("not pushed"))),
        }
    }

    /// Pushes items from the front of `items`, in order, as many as fit, with one claim for the
    /// batch; the items not pushed stay in the iterator.
    ///
    /// Returns how many were pushed, or [`PushError::Full`] / [`PushError::Closed`] if none was;
    /// an empty iterator pushes nothing and returns `Ok(0)`, full, closed or not.
    ///
    /// The iterator runs after the batch's positions are claimed. While it runs, a pop that
    /// reaches a position claimed but not yet written (this batch's or another push's) waits
    /// briefly and then reports `Empty` if it is [`pop`](Self::pop) or
    /// [`pop_many`](Self::pop_many), or naps if it blocks. The iterator should not block, and
    /// must not wait on this ring (a `pop_blocking` inside it never returns).
    ///
    /// # Panics
    ///
    /// If the iterator panics, or yields fewer items than its `len` said (then with a message
    /// saying so). The items it yielded before stay pushed, in order; the positions claimed for
    /// the rest hold nothing, and pops skip them. Until pops have passed them they take room:
    /// they count in [`len`](Self::len) and can make the ring full, and
    /// [`wait_nonempty`](Self::wait_nonempty) may return for them.
    ///
    /// ```
    /// let ring = lfq::Ring::new(2);
    /// let mut items = vec![1, 2, 3].into_iter();
    /// assert_eq!(ring.push_many(&mut items), Ok(2));
    /// assert_eq!(items.next(), Some(3));
    /// ```
    pub fn push_many<I: ExactSizeIterator<Item = T>>(
        &self,
        items: &mut I,
    ) -> Result<usize, PushError<()>> {
        let _running = self.iterating.enter();
        self.push_from(1, items.len(), |_| {
            items
                .next()
                .expect("ExactSizeIterator reported a wrong len")
        })
    }

    /// Pushes between `min` and `count` items, or none; `make(i)` builds the `i`th, and is
    /// called for `0, 1, …` in order, once for each item pushed.
    pub(crate) fn push_from(
        &self,
        min: usize,
        count: usize,
        make: impl FnMut(usize) -> T,
    ) -> Result<usize, PushError<()>> {
        if count == 0 {
            return Ok(0);
        }
        self.push_batch_with(min.clamp(1, count), count, false, make)
    }

    /// Claims between `min` and `max` consecutive positions (≤ capacity) with one CAS on the
    /// tail, fills them with `next_item`, and wakes sleeping consumers.
    fn push_batch_with(
        &self,
        min: usize,
        max: usize,
        exact: bool,
        mut next_item: impl FnMut(usize) -> T,
    ) -> Result<usize, PushError<()>> {
        let max = max.min(self.cap());
        let min = min.min(max);
        let backoff = Backoff::new();
        // Relaxed: the stamps, read with Acquire, carry the synchronisation; the CAS validates.
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & CLOSED != 0 {
                return Err(PushError::Closed(()));
            }
            let first = tail >> SHIFT;
            // Acquire stamp loads: the consumers' reads of the old values are finished.
            let (free, lag) = self.count_stamps(first, max, 0);
            if free < min {
                // The first busy slot is still last lap's (ring full here), or our tail is stale
                // because another producer already filled it.
                if !lag.is_some_and(|lag| self.holds_last_lap(lag)) {
                    // Another thread holds this position and is mid-operation: let it run.
                    backoff.snooze();
                    tail = self.tail.load(Ordering::Relaxed);
                    continue;
                }
                if !exact || self.is_full_at(first, min) {
                    return Err(PushError::Full(()));
                }
                // A consumer has claimed the oldest item and is about to release its slot.
                backoff.snooze();
                tail = self.tail.load(Ordering::Relaxed);
                continue;
            }
            let new_tail = self.advance(first, free) << SHIFT;
            // SeqCst: the index update that `Waiters::notify` and consumers' emptiness checks are
            // ordered against (wait.rs). Relaxed on failure: we re-read the stamps.
            match self.tail.compare_exchange_weak(
                tail,
                new_tail,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let filled = panic::catch_unwind(AssertUnwindSafe(|| {
                        let mut index = 0;
                        for (start, run) in self.runs(first, free) {
                            for (offset, slot) in run.iter().enumerate() {
                                let position = start.wrapping_add(offset);
                                // SAFETY: the CAS made this position ours, and its stamp said
                                // the slot was empty for it.
                                unsafe { Self::fill(slot, position, || next_item(index)) };
                                index += 1;
                            }
                        }
                    }));
                    if let Err(panic) = filled {
                        self.abandon_unwritten(first, free);
                        self.readers.notify(free);
                        panic::resume_unwind(panic);
                    }
                    self.readers.notify(free);
                    return Ok(free);
                }
                Err(current) => {
                    tail = current;
                    backoff.spin();
                }
            }
        }
    }

    /// Marks the positions still unwritten among the `claimed` from `first`, which this thread
    /// claimed, abandoned: a batch push's item constructor panicked before building their items.
    /// Consumers skip them instead of waiting for items that will never come, and the ring's
    /// drop does not read them.
    #[cold]
    fn abandon_unwritten(&self, first: usize, claimed: usize) {
        for index in 0..claimed {
            let position = self.advance(first, index);
            let stamp = &self.slot(position).stamp;
            // Relaxed: until we publish a claimed slot, only we write its stamp. A published one
            // may move on (popped, pushed a lap later) but never back to `position`.
            if stamp.load(Ordering::Relaxed) == position {
                // Release: as the stamp store in `fill`, which this stands in for.
                stamp.store(abandoned_stamp(position), Ordering::Release);
            }
        }
    }

    /// Whether a slot whose stamp is `lag` past the position a push wants still belongs to the
    /// previous lap: it holds that lap's item, or that lap's push abandoned it.
    fn holds_last_lap(&self, lag: usize) -> bool {
        let item = 1usize.wrapping_sub(self.one_lap);
        lag == item || lag == item.wrapping_add(ABANDONED)
    }

    /// Whether fewer than `room` positions are free at `tail`, judged by the head index (for
    /// waiters: `SeqCst`, see wait.rs).
    fn is_full_at(&self, tail: usize, room: usize) -> bool {
        let head = self.head.load(Ordering::SeqCst);
        self.cap() - self.distance(head, tail) < room
    }

    /// Pops the oldest item, or reports [`PopError::Empty`] / [`PopError::Closed`] (closed and
    /// empty).
    ///
    /// `Empty` means the ring was empty: a pop that finds the oldest position claimed by another
    /// thread's push that has not written it yet waits for that write (module comment), so a
    /// thread that pushed and then pops always gets an item.
    #[inline(always)]
    pub fn pop(&self) -> Result<T, PopError> {
        match self.pop_fast(true) {
            Ok(item) => Ok(item),
            Err(Missed::FullOrEmpty) => Err(PopError::Empty),
            Err(Missed::Undecided) => self.pop_once(true),
        }
    }

    /// The common cases of a pop: the slot at the head holds this position's item and the first
    /// claim succeeds, or it awaits this lap's push and the ring is open (empty). `exact` also
    /// asks the tail whether a push has claimed that position (module comment); without it, the
    /// slot alone decides, for the spin of the waiting calls. Otherwise [`Missed::Undecided`],
    /// having changed nothing. No panic path, as `push_fast`.
    #[inline(always)]
    pub(crate) fn pop_fast(&self, exact: bool) -> Result<T, Missed> {
        // Acquire stamp load: as in `push_fast`, mirrored. Acquire head load: it stays before
        // the tail load of the emptiness check below, so no newer head can make that check wrong.
        let head = self.head.load(Ordering::Acquire);
        let Some(slot) = self.slots.get(head & (self.one_lap - 1)) else {
            return Err(Missed::Undecided);
        };
        let stamp = slot.stamp.load(Ordering::Acquire);
        if stamp != head.wrapping_add(1) {
            // Unwritten this lap, open, and (if exact) no push has claimed it: empty.
            // Acquire: pairs with the SeqCst store in `close`, as in `pop_batch_with`. SeqCst
            // tail load: the emptiness check waiters rely on (wait.rs).
            let empty = stamp == head
                && !self.closed.load(Ordering::Acquire)
                && (!exact || self.tail.load(Ordering::SeqCst) >> SHIFT == head);
            return Err(Missed::full_or_empty_if(empty));
        }
        if !self.claim_head(head) {
            return Err(Missed::Undecided);
        }
        // SAFETY: the CAS made `head` ours and its stamp said the slot holds its item.
        let item = unsafe { Self::take(slot, head, self.one_lap, |item| item) };
        self.writers.notify(1);
        Ok(item)
    }

    /// Claims the position `head` alone: moves the head one position on if it is still there.
    #[inline(always)]
    fn claim_head(&self, head: usize) -> bool {
        // SeqCst: the index update that waiting producers' fullness checks and `Waiters::notify`
        // are ordered against (wait.rs). Relaxed on failure: callers reload what they need.
        self.head
            .compare_exchange(
                head,
                self.advance(head, 1),
                Ordering::SeqCst,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    #[inline(never)]
    fn pop_once(&self, exact: bool) -> Result<T, PopError> {
        let mut popped = None;
        self.pop_batch_with(1, 1, exact, |_, item| popped = Some(item))?;
        Ok(popped.expect("a successful pop yields one item"))
    }

    /// Pops up to `max` items into `out`, in order, with one claim for the batch.
    ///
    /// Returns how many were popped (at least one, or zero when `max` is zero), or
    /// [`PopError::Empty`] / [`PopError::Closed`] as [`pop`](Self::pop) does.
    pub fn pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, PopError> {
        self.pop_batch(1, max, |_, item| out.push(item))
    }

    /// Pops between `min` and `max` items, or none (then `Empty`, or `Closed` once the ring is
    /// closed with fewer than `min` items left). `sink(i, item)` receives the `i`th item popped.
    pub(crate) fn pop_batch(
        &self,
        min: usize,
        max: usize,
        sink: impl FnMut(usize, T),
    ) -> Result<usize, PopError> {
        if max == 0 {
            return Ok(0);
        }
        self.pop_batch_with(min.clamp(1, max), max, true, sink)
    }

    fn pop_batch_with(
        &self,
        min: usize,
        max: usize,
        exact: bool,
        mut sink: impl FnMut(usize, T),
    ) -> Result<usize, PopError> {
        let max = max.min(self.cap());
        let min = min.min(max);
        let backoff = Backoff::new();
        // Relaxed: the stamps carry the synchronisation; the CAS validates.
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // Acquire stamp loads: the producers' values are published to us.
            let (ready, lag) = self.count_stamps(head, max, 1);
            if ready < min && lag == Some(ABANDONED.wrapping_add(1)) {
                if ready > 0 {
                    // Fewer than `min` items lie before the gap, so there is no batch to take.
                    // SeqCst: as the emptiness check below.
                    let tail = self.tail.load(Ordering::SeqCst);
                    return Err(PopError::empty_or_closed(tail & CLOSED != 0));
                }
                self.skip_abandoned(head);
                head = self.head.load(Ordering::Relaxed);
                continue;
            }
            if ready < min {
                // The first slot not ready is unwritten for this lap (empty here), or our head
                // is stale.
                if lag != Some(0) {
                    // Another thread holds this position and is mid-operation: let it run.
                    backoff.snooze();
                    head = self.head.load(Ordering::Relaxed);
                    continue;
                }
                // Acquire: pairs with the SeqCst store in `close`; the fast path reads no index.
                if !exact && !self.closed.load(Ordering::Acquire) {
                    return Err(PopError::Empty);
                }
                // SeqCst: the emptiness check waiters rely on (wait.rs).
                let tail = self.tail.load(Ordering::SeqCst);
                if self.distance(head, tail >> SHIFT) >= min {
                    // Producers have claimed those positions and are writing them: wait, unless
                    // a batch's item iterator may be what is running (iterating.rs); then, after
                    // a short wait, report empty (waiting callers then nap; see
                    // `spin_then_wait`).
                    if backoff.is_completed() && self.iterating.any() {
                        return Err(PopError::Empty);
                    }
                    backoff.snooze();
                    head = self.head.load(Ordering::Relaxed);
                    continue;
                }
                // SeqCst: the head has not moved since our tail load, so the count of queued items
                // computed from both held at one point in the total order.
                if head != self.head.load(Ordering::SeqCst) {
                    head = self.head.load(Ordering::Relaxed);
                    continue;
                }
                return Err(PopError::empty_or_closed(tail & CLOSED != 0));
            }
            let new_head = self.advance(head, ready);
            // SeqCst: the index update that waiting producers' fullness checks and
            // `Waiters::notify` are ordered against. Relaxed on failure: we re-read the stamps.
            match self.head.compare_exchange_weak(
                head,
                new_head,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let one_lap = self.one_lap;
                    let mut index = 0;
                    for (start, run) in self.runs(head, ready) {
                        for (offset, slot) in run.iter().enumerate() {
                            let position = start.wrapping_add(offset);
                            // SAFETY: the CAS made this position ours and its stamp said the
                            // slot holds the item pushed at it.
                            unsafe {
                                Self::take(slot, position, one_lap, |item| sink(index, item))
                            };
                            index += 1;
                        }
                    }
                    self.writers.notify(ready);
                    return Ok(ready);
                }
                Err(current) => {
                    head = current;
                    backoff.spin();
                }
            }
        }
    }

    /// Moves the head past `head`, whose slot was abandoned, unless another thread moved it
    /// first, and releases the slot to the next lap's push.
    #[cold]
    fn skip_abandoned(&self, head: usize) {
        if self.claim_head(head) {
            // Release: as in `take`, handing the slot to the next lap's push.
            self.slot(head)
                .stamp
                .store(head.wrapping_add(self.one_lap), Ordering::Release);
            self.writers.notify(1);
        }
    }

    /// Pushes an item, overwriting the oldest one when the ring is full.
    ///
    /// Returns `Ok(None)` if there was room, `Ok(Some(oldest))` with the item it evicted, or
    /// [`PushError::Closed`] with the item if the ring is closed.
    pub fn force_push(&self, item: T) -> Result<Option<T>, PushError<T>> {
        let backoff = Backoff::new();
        // Relaxed, here and in the retry below: the stamp load carries the synchronisation and
        // the CAS validates the tail, as in `push`.
        let mut tail = self.tail.load(Ordering::Relaxed);
        let position = loop {
            if tail & CLOSED != 0 {
                return Err(PushError::Closed(item));
            }
            let position = tail >> SHIFT;
            // Acquire: as in `push_batch_with`.
            let stamp = self.slot(position).stamp.load(Ordering::Acquire);
            if stamp == position || self.holds_last_lap(stamp.wrapping_sub(position)) {
                // SeqCst: as for every tail update (wait.rs); this also orders us with `close`.
                // Relaxed on failure: the stamp is read again for the new tail.
                match self.tail.compare_exchange_weak(
                    tail,
                    self.advance(position, 1) << SHIFT,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => break position,
                    Err(current) => tail = current,
                }
            } else {
                tail = self.tail.load(Ordering::Relaxed);
            }
            backoff.spin();
        };
        // The tail position is ours. If the slot still holds the item pushed one lap earlier (or
        // was abandoned then), evict it by moving the head past it — unless a consumer claims it
        // first, in which case we wait for that consumer to release the slot.
        let slot = self.slot(position);
        let oldest = position.wrapping_sub(self.one_lap);
        let backoff = Backoff::new();
        let evicted = loop {
            // Acquire: pairs with a consumer's Release stamp store.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == position {
                break None;
            }
            // SeqCst: a head update, like a pop's. Relaxed on failure: the stamp is read again.
            if self
                .head
                .compare_exchange_weak(
                    oldest,
                    self.advance(oldest, 1),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                // Only the pop at `oldest`, which we just made impossible, changes that stamp.
                if stamp == abandoned_stamp(oldest) {
                    break None;
                }
                // SAFETY: moving the head past `oldest` made its item ours, and the slot holds
                // it (its stamp was not released).
                break Some(
                    slot.value
                        .with(|value| unsafe { ptr::read(value).assume_init() }),
                );
            }
            backoff.snooze();
        };
        // SAFETY: the slot is ours: its old item was moved out above or by a consumer.
        unsafe { Self::fill(slot, position, || item) };
        self.readers.notify(1);
        Ok(evicted)
    }

    /// Pushes an item, waiting up to `timeout` for room. A zero timeout tries once, and reports
    /// `Timeout` if that fails.
    ///
    /// Returns [`PushError::Timeout`] if no room appeared in time and [`PushError::Closed`] if
    /// the ring is closed, with the item either way.
    pub fn push_timeout(&self, item: T, timeout: Duration) -> Result<(), PushError<T>> {
        self.push_until(item, Instant::now().checked_add(timeout))
    }

    /// Pushes an item, sleeping until there is room. Fails only with [`PushError::Closed`].
    pub fn push_blocking(&self, item: T) -> Result<(), PushError<T>> {
        self.push_until(item, None)
    }

    fn push_until(&self, item: T, deadline: Option<Instant>) -> Result<(), PushError<T>> {
        let mut pending = Some(item);
        // A spinning try starts with the inlined fast path, as in `pop_until`.
        let attempt = |exact: bool| {
            let mut item = pending.take().expect("item pending");
            if !exact {
                match self.push_fast(item) {
                    Ok(()) => return Some(Ok(())),
                    Err((full, Missed::FullOrEmpty)) => {
                        pending = Some(full);
                        return None;
                    }
                    Err((undecided, Missed::Undecided)) => item = undecided,
                }
            }
            match self.push_once(item, exact) {
                Err(PushError::Full(item)) => {
                    pending = Some(item);
                    None
                }
                other => Some(other),
            }
        };
        // A full ring gains room through pops, which release their claimed slots without
        // running user code, so a waiting push sleeps until woken.
        match spin_then_wait(&self.writers, deadline, attempt, || false) {
            Some(outcome) => outcome,
            None => Err(PushError::Timeout(pending.expect("item pending"))),
        }
    }

    /// Pops an item, waiting up to `timeout` for one. A zero timeout tries once, and reports
    /// `Timeout` if that fails.
    ///
    /// Returns [`PopError::Timeout`] if none arrived in time, [`PopError::Closed`] if the ring
    /// is closed and empty.
    pub fn pop_timeout(&self, timeout: Duration) -> Result<T, PopError> {
        self.pop_until(Instant::now().checked_add(timeout))
    }

    /// Pops an item, sleeping until one arrives. Fails only with [`PopError::Closed`].
    pub fn pop_blocking(&self) -> Result<T, PopError> {
        self.pop_until(None)
    }

    fn pop_until(&self, deadline: Option<Instant>) -> Result<T, PopError> {
        // A spinning try starts with the inlined fast path, deciding from the slot alone: a
        // spinning consumer notices an item sooner than through `pop_once` (BENCHMARKS.md, run R).
        // The try before each sleep is the exact `pop_once`.
        let attempt = |exact: bool| {
            if !exact {
                match self.pop_fast(false) {
                    Ok(item) => return Some(Ok(item)),
                    Err(Missed::FullOrEmpty) => return None,
                    Err(Missed::Undecided) => {}
                }
            }
            match self.pop_once(exact) {
                Err(PopError::Empty) => None,
                other => Some(other),
            }
        };
        let claimed = || self.claimed_and_closed().0;
        spin_then_wait(&self.readers, deadline, attempt, claimed).unwrap_or(Err(PopError::Timeout))
    }

    /// Blocks until an item is queued, without taking it (another consumer may take it first).
    ///
    /// Returns [`PopError::Closed`] once the ring is closed and empty, [`PopError::Timeout`] if
    /// `timeout` passes first; `None` waits without limit.
    pub fn wait_nonempty(&self, timeout: Option<Duration>) -> Result<(), PopError> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let attempt = || match self.claimed_and_closed() {
            (true, _) => Some(Ok(())),
            (false, true) => Some(Err(PopError::Closed)),
            (false, false) => None,
        };
        crate::wait::watch(&self.readers, deadline, attempt).unwrap_or(Err(PopError::Timeout))
    }

    /// Whether the indexes show positions claimed and not yet popped (items, or claims still
    /// being filled), and whether the ring is closed.
    fn claimed_and_closed(&self) -> (bool, bool) {
        // SeqCst: the emptiness check `Waiters` relies on.
        let tail = self.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        (tail >> SHIFT != head, tail & CLOSED != 0)
    }

    /// Blocks until there is room for a push, without pushing (another producer may fill it
    /// first).
    ///
    /// Returns [`PushError::Closed`] once the ring is closed, [`PushError::Timeout`] if
    /// `timeout` passes first; `None` waits without limit.
    pub fn wait_not_full(&self, timeout: Option<Duration>) -> Result<(), PushError<()>> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let attempt = || {
            // The fullness check `Waiters` relies on, at one moment (a head read after a tail
            // can make a full ring look as if it had room).
            let (tail, head) = self.indexes();
            if tail & CLOSED != 0 {
                Some(Err(PushError::Closed(())))
            } else if self.distance(head, tail >> SHIFT) < self.cap() {
                Some(Ok(()))
            } else {
                None
            }
        };
        crate::wait::watch(&self.writers, deadline, attempt).unwrap_or(Err(PushError::Timeout(())))
    }

    /// Closes the ring: pushes fail from now on, pops drain what is left and then report
    /// [`PopError::Closed`], and every waiting thread wakes. Returns `true` if this call closed
    /// it.
    pub fn close(&self) -> bool {
        // SeqCst: orders the close with every claim on the tail, and with waiters (wait.rs).
        let previous = self.tail.fetch_or(CLOSED, Ordering::SeqCst);
        // SeqCst: pairs with the Acquire load in pops that find the ring empty.
        self.closed.store(true, Ordering::SeqCst);
        self.readers.notify_all();
        self.writers.notify_all();
        previous & CLOSED == 0
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        // SeqCst: a caller that sees the mark also sees everything ordered before the close.
        self.tail.load(Ordering::SeqCst) & CLOSED != 0
    }

    /// Shows each item in the ring to `visit`, oldest first, until it breaks. For the C layer's
    /// lfq_visit, which a garbage collector uses to see what a ring references.
    ///
    /// # Safety
    /// No push or pop runs during the call: the items are read where they lie.
    pub(crate) unsafe fn visit(&self, mut visit: impl FnMut(&T) -> ControlFlow<()>) {
        self.for_each_item(|slot| {
            // SAFETY: the slot holds an item, and per the contract no pop moves it out while
            // we look.
            visit(
                slot.value
                    .with(|value| unsafe { (*value).assume_init_ref() }),
            )
        });
    }

    /// Walks the slots that hold items, oldest first, until `each` breaks. Only meaningful
    /// while no push or pop runs.
    fn for_each_item(&self, mut each: impl FnMut(&Slot<T>) -> ControlFlow<()>) {
        // Acquire index loads: the stamps read below are at least as new as the indexes.
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire) >> SHIFT;
        for (start, run) in self.runs(head, self.distance(head, tail)) {
            for (offset, slot) in run.iter().enumerate() {
                // Acquire: pairs with the Release stamp store in `fill`. A slot a batch push
                // abandoned has another stamp, and holds nothing.
                let holds_item = slot.stamp.load(Ordering::Acquire)
                    == start.wrapping_add(offset).wrapping_add(1);
                if holds_item && each(slot).is_break() {
                    return;
                }
            }
        }
    }

    /// The number of items in the ring: a snapshot under concurrency.
    pub fn len(&self) -> usize {
        let (tail, head) = self.indexes();
        self.distance(head, tail >> SHIFT)
    }

    /// The tail index (with its closed mark) and the head as they were at one moment: the tail
    /// is read on both sides of the head, and only ever grows.
    fn indexes(&self) -> (usize, usize) {
        loop {
            // SeqCst loads: the order that `Waiters` relies on for the fullness and emptiness
            // checks made through this (wait.rs).
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            if self.tail.load(Ordering::SeqCst) == tail {
                return (tail, head);
            }
        }
    }

    /// Whether the ring holds no item (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the ring holds `capacity` items (a snapshot).
    pub fn is_full(&self) -> bool {
        self.len() == self.cap()
    }

    /// `Some(capacity)`: the most items the ring holds.
    pub fn capacity(&self) -> Option<usize> {
        Some(self.cap())
    }
}

/// Where a ring's shared words and slots are, for code that runs the slot protocol (module
/// comment) on the ring's memory itself instead of calling its methods: the C layer publishes
/// this as lfq_ring_map. The addresses stay valid for as long as the ring lives.
#[cfg(not(loom))]
pub(crate) struct RawRing {
    pub(crate) head: *mut usize,
    pub(crate) tail: *mut usize,
    pub(crate) readers_waiting: *mut u32,
    pub(crate) writers_waiting: *mut u32,
    pub(crate) slots: *mut u8,
    pub(crate) slot_size: usize,
    pub(crate) stamp_offset: usize,
    pub(crate) value_offset: usize,
    pub(crate) capacity: usize,
    pub(crate) one_lap: usize,
}

#[cfg(not(loom))]
impl<T> Ring<T> {
    /// The ring's shared memory. Whoever writes through it must keep to the slot protocol
    /// exactly as `push` and `pop` do, and call [`notify_readers`](Self::notify_readers) or
    /// [`notify_writers`](Self::notify_writers) after each successful claim.
    pub(crate) fn raw(&self) -> RawRing {
        RawRing {
            head: self.head.as_ptr(),
            tail: self.tail.as_ptr(),
            readers_waiting: self.readers.sleepers_word(),
            writers_waiting: self.writers.sleepers_word(),
            slots: self.slots.as_ptr().cast::<u8>().cast_mut(),
            slot_size: std::mem::size_of::<Slot<T>>(),
            stamp_offset: std::mem::offset_of!(Slot<T>, stamp),
            value_offset: std::mem::offset_of!(Slot<T>, value),
            capacity: self.cap(),
            one_lap: self.one_lap,
        }
    }

    /// Wakes up to `count` threads sleeping until an item arrives, after a push made through
    /// [`raw`](Self::raw) saw some waiting.
    pub(crate) fn notify_readers(&self, count: usize) {
        self.readers.notify(count);
    }

    /// Wakes up to `count` threads sleeping until room appears, after a pop made through
    /// [`raw`](Self::raw) saw some waiting.
    pub(crate) fn notify_writers(&self, count: usize) {
        self.writers.notify(count);
    }
}

impl<T> fmt::Debug for Ring<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("len", &self.len())
            .field("capacity", &self.cap())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        let walk = |each: &mut dyn FnMut(&UnsafeCell<MaybeUninit<T>>)| {
            self.for_each_item(|slot| {
                each(&slot.value);
                ControlFlow::Continue(())
            })
        };
        // SAFETY: exclusive access: every claimed position has been written (or abandoned) or
        // read, so the walk shows exactly the live items, the same way every time.
        unsafe { crate::teardown::drop_each(&walk) };
    }
}
