//! The unbounded queue: a Michael–Scott list of segments, reclaimed through epochs.
//!
//! # Algorithm
//!
//! The queue is a singly linked list of segments, as in the Michael–Scott queue, except that each
//! list node holds `SEGMENT_LEN` slots instead of one item (the layout LCRQ and LSCQ use to link
//! their ring segments). Items take consecutive *positions* 0, 1, 2, …; position `p` lives in
//! slot `p % SEGMENT_LEN` of the segment that starts at `p - p % SEGMENT_LEN`. A slot is written
//! once and read once: a segment is recycled only after reclamation (below), so while reachable a
//! slot's state only goes from empty to ready (or to abandoned, see `ABANDONED`) and then to
//! taken, and a stale pointer can never see a slot of a different position.
//!
//! Producers claim slots by compare-and-swap on the tail index, which counts positions in laps of
//! `LAP = SEGMENT_LEN + 1`: offsets `0..SEGMENT_LEN` are slots, and the extra offset
//! `SEGMENT_LEN` means "this segment is full and the next one is being linked". The producer whose
//! claim takes the last slot of a segment links the next segment (allocated before its CAS, so
//! nothing slow happens while others wait) and moves the tail past that marker. A batch claims
//! all its positions at once, across up to `MAX_LINKED` new segments: its CAS moves the tail
//! onto the marker of the last segment it fills, and the step past that marker, after the links,
//! takes the batch's positions in the new tail segment, so no other producer's item can land
//! inside the batch (`Queue::claim`). Because the CAS
//! on the index succeeds only if the index has not moved since the tail segment pointer was read,
//! a producer never dereferences a segment it has not claimed a slot in — so producers need no
//! epoch pin at all. The lowest bit of the tail index is the closed mark: `close` sets it with one
//! atomic OR, after which every claim fails, so no item can slip in after the close.
//!
//! Consumers pop in one of two ways. The common way pins nothing and reads no segment before
//! it claims: the consumer reads the head position, the head segment's start and the head
//! segment pointer, checks that the position lies below `tail_seen` (a tail position consumers
//! have seen, so a producer has claimed it) and in that segment but not in its last slot, and
//! claims the position with one CAS. A successful CAS proves the position did not move while the
//! start and pointer were read, which pins down the segment as the producers' CAS does for
//! theirs; the consumer then waits for the producer's write, takes the item and marks the slot
//! taken. Everything else (the last slot of a segment, a lagging head segment pointer, a queue
//! that looks empty, a running batch iterator, a lost race) goes to the pinned way: pin the
//! epoch, read the head segment and check the states of the slots wanted *before* claiming them
//! with one CAS on the head position. Checking before claiming is what the pin buys there: the
//! consumer reads the tail index only when the next slot is not ready, to tell "empty" from "a
//! producer is writing it right now" (which it waits for, except while a batch's item iterator
//! runs: see iterating.rs), and a claim may span segments, which gives batch pops one CAS for
//! the whole batch and lets all-or-nothing batches be exact.
//!
//! # Reclamation
//!
//! A segment is retired once the head has passed all of its slots: the consumer that moves the
//! head segment pointer past it (one CAS, so exactly one consumer does), always on the pinned
//! way, raises the head's start to the next segment's and hands the old one to crossbeam-epoch.
//! Once every thread that was pinned at that moment has unpinned, and every slot is marked taken
//! (checked at the retiring, and if a consumer that did not pin was still between its claim and
//! its take, again after each grace period), the segment goes back to the queue's small pool of
//! spare segments (reused by the next link, so steady traffic stops calling the allocator) or,
//! when the pool is full, to the allocator. Pinned consumers dereference segments only while
//! pinned; unpinned consumers only the segment they hold an untaken claim in; producers only the
//! segment they hold an unwritten claim in, and a segment cannot be retired before all its slots
//! have been written and claimed. Memory is therefore given back as the queue drains (a segment
//! at a time, once the epoch moves on), and a steady stream of pushes and pops recycles a
//! bounded number of segments.
//!
//! # Why this shape
//!
//! A Michael–Scott queue with one heap node per item pays an allocation, a free and an epoch pin
//! per item and runs at a quarter of `SegQueue`'s speed. Segments amortise the allocation over
//! `SEGMENT_LEN` items; pushes skip the pin, and so do most pops, which pay one plain store per
//! item (the taken mark) in place of the pin's fence, or of the read-marking read-modify-write
//! that `SegQueue` needs to know when a block may be freed.

use crate::error::Missed;
use crate::iterating::Iterating;
use crate::scan;
use crate::sync::Backoff;
use crate::sync::{pin, AtomicPtr, AtomicU8, AtomicUsize, Ordering, UnsafeCell};
use crate::wait::Waiters;
use crate::{PopError, PushError};
use crossbeam_epoch::Guard;
use crossbeam_utils::CachePadded;
use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::ControlFlow;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::time::{Duration, Instant};

/// Slots per segment.
#[cfg(not(loom))]
const SEGMENT_LEN: usize = 127;
/// Slots per segment under loom: few enough that the models' two or three pushes fill a segment,
/// so linking, retiring and recycling through the pool are model-checked too. Two, not one, so
/// that `push_fast` (which never takes a segment's last slot) still runs in the models.
#[cfg(loom)]
const SEGMENT_LEN: usize = 2;
/// Tail-index offsets per segment: the slots plus the "linking the next segment" marker.
const LAP: usize = SEGMENT_LEN + 1;
/// The tail index keeps the closed mark in bit 0 and the position count above it.
const CLOSED: usize = 1;
const SHIFT: usize = 1;

/// `Slot::state` of a slot not written yet (all-zero, as fresh segments are).
const EMPTY: u8 = 0;
/// `Slot::state` of a slot that holds its item.
const READY: u8 = 1;
/// `Slot::state` of a slot claimed by a batch push whose iterator panicked before yielding its
/// item: it holds nothing, and the consumer that reaches it skips it.
const ABANDONED: u8 = 2;
/// `Slot::state` once the consumer that claimed the slot is done with it: the item moved out, or
/// the abandoned slot skipped. A retired segment is reused or freed only when every slot says so.
const TAKEN: u8 = 3;

struct Slot<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    /// `EMPTY` until the producer stores (Release) `READY` or `ABANDONED`, then `TAKEN` once the
    /// consumer stores it (Release); changed again only when a recycled segment is reset.
    state: AtomicU8,
}

impl<T> Slot<T> {
    /// Stores the item `make` returns in this slot and marks it ready. Taking a constructor lets
    /// batch pushes build large items in place.
    ///
    /// # Safety
    /// The caller claimed the slot's position and has not written it; its segment is alive.
    #[inline(always)]
    unsafe fn write(&self, make: impl FnOnce() -> T) {
        self.value.with_mut(|value| {
            // SAFETY: per the contract, nobody else touches this slot until its state is set.
            unsafe { value.write(MaybeUninit::new(make())) }
        });
        // Release: pairs with the consumer's Acquire load of `state`, publishing the value.
        self.state.store(READY, Ordering::Release);
    }

    /// Moves the item out of this ready slot and marks it taken.
    ///
    /// # Safety
    /// The caller claimed the slot's position and saw its state `READY` (Acquire); nobody else
    /// reads it.
    #[inline(always)]
    unsafe fn take(&self) -> T {
        // SAFETY: per the contract the value is initialised and ours alone.
        let item = self
            .value
            .with(|value| unsafe { ptr::read(value).assume_init() });
        // Release: pairs with the Acquire loads in `all_taken`, so our read of the value
        // happens before the segment is reused or freed.
        self.state.store(TAKEN, Ordering::Release);
        item
    }

    /// Marks this abandoned slot taken (it holds nothing).
    ///
    /// # Safety
    /// The caller claimed the slot's position and saw its state `ABANDONED`.
    unsafe fn skip(&self) {
        // Release: as in `take`.
        self.state.store(TAKEN, Ordering::Release);
    }
}

/// The claimed slots a batch pop has not taken yet. If the batch's sink panics, dropping this
/// takes and drops their items, so that nothing leaks and their segment can be recycled.
struct Untaken<T> {
    segment: *const Segment<T>,
    offset: usize,
    left: usize,
}

impl<T> Untaken<T> {
    /// Moves on to the segment after the current one, which is linked because the claimed
    /// positions continue there.
    fn next_segment(&mut self) {
        // SAFETY: the claimer is pinned, so the segment is alive; linked, because slots past
        // its end were seen ready. Acquire: pairs with the Release link store in `claim`.
        self.segment = unsafe { (*self.segment).next.load(Ordering::Acquire) };
        self.offset = 0;
    }
}

impl<T> Drop for Untaken<T> {
    fn drop(&mut self) {
        while self.left > 0 {
            if self.offset == SEGMENT_LEN {
                self.next_segment();
            }
            // SAFETY: as in `Queue::take`, whose claim this is.
            drop(unsafe { (*self.segment).slots[self.offset].take() });
            self.offset += 1;
            self.left -= 1;
        }
    }
}

// `repr(C)`: `start`, which pinned pops read, shares a cache line with the first slots.
#[repr(C)]
struct Segment<T> {
    /// Position of `slots[0]`. Written before the segment is published.
    start: usize,
    /// Set (Release) by the producer that claims this segment's last slot, before it writes that
    /// slot, so whoever sees the last slot ready also sees the link.
    next: AtomicPtr<Segment<T>>,
    slots: [Slot<T>; SEGMENT_LEN],
}

impl<T> Segment<T> {
    /// Allocates an unlinked segment starting at position `start`, or returns null when the
    /// allocator has no memory for it.
    fn alloc(start: usize) -> *mut Segment<T> {
        #[cfg(not(loom))]
        {
            let layout = std::alloc::Layout::new::<Segment<T>>();
            // SAFETY: the layout is non-zero-sized (it holds atomics). All-zero bytes are a valid
            // empty segment: every state `EMPTY`, `next` null, values uninitialised; `start` is set
            // before the pointer is returned.
            unsafe {
                let segment = std::alloc::alloc_zeroed(layout).cast::<Segment<T>>();
                if segment.is_null() {
                    return segment;
                }
                ptr::addr_of_mut!((*segment).start).write(start);
                give_back::allocated(layout.size());
                segment
            }
        }
        #[cfg(loom)]
        {
            Box::into_raw(Box::new(Segment {
                slots: std::array::from_fn(|_| Slot {
                    value: UnsafeCell::new(MaybeUninit::uninit()),
                    state: AtomicU8::new(EMPTY),
                }),
                next: AtomicPtr::new(ptr::null_mut()),
                start,
            }))
        }
    }

    /// Ends the process as std's collections do when the allocator fails them; for the Rust API,
    /// whose pushes report only `Closed`. The C layer reports `LFQ_ERR_NO_MEMORY` instead.
    #[cold]
    fn out_of_memory() -> ! {
        std::alloc::handle_alloc_error(std::alloc::Layout::new::<Segment<T>>())
    }

    /// Frees a segment without dropping any value in it (values are moved out by consumers or by
    /// `Queue::drop`).
    ///
    /// # Safety
    /// `segment` came from `Segment::alloc` and nobody can reach it any more.
    unsafe fn free(segment: *mut Segment<T>) {
        #[cfg(not(loom))]
        {
            let layout = std::alloc::Layout::new::<Segment<T>>();
            // SAFETY: allocated in `alloc` with this very layout; the caller guarantees
            // exclusivity.
            unsafe { std::alloc::dealloc(segment.cast(), layout) };
            give_back::freed(layout.size());
        }
        #[cfg(loom)]
        // SAFETY: allocated by `Box::new` in `alloc`; `MaybeUninit` values are not dropped.
        drop(unsafe { Box::from_raw(segment) });
    }

    /// Makes a recycled segment empty again: no slot ready, no link. `start` is set when it is
    /// linked.
    ///
    /// # Safety
    /// The caller owns `segment` exclusively.
    unsafe fn reset(segment: *mut Segment<T>) {
        // SAFETY: per the contract. Relaxed: the segment is published later by Release stores.
        unsafe {
            for slot in &(*segment).slots {
                slot.state.store(EMPTY, Ordering::Relaxed);
            }
            (*segment).next.store(ptr::null_mut(), Ordering::Relaxed);
        }
    }

    /// The slot of `position`, which must lie in this segment.
    fn slot(&self, position: usize) -> &Slot<T> {
        &self.slots[position - self.start]
    }
}

/// Accounts for segment memory and hands it back to the operating system after a drain.
///
/// glibc's `free` keeps freed small blocks in the process and returns memory only from the top of
/// the heap; a drained queue frees its segments oldest first while the live head segment sits
/// above them, so without help the resident size would stay at the queue's peak. `malloc_trim`
/// hands every free page in every arena back to the kernel. It runs only when the live segment
/// memory of all queues has fallen `GIVE_BACK_AFTER` below its high-water mark since the last
/// trim, i.e. after a real drain: steady traffic, which frees as much as it allocates, never
/// triggers it (trimming there would only make the next allocations fault the pages back in).
#[cfg(not(loom))]
mod give_back {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    mod glibc {
        use std::sync::atomic::{AtomicUsize, Ordering};

        const GIVE_BACK_AFTER: usize = 4 << 20;
        static LIVE: AtomicUsize = AtomicUsize::new(0);
        static HIGH: AtomicUsize = AtomicUsize::new(0);

        // Relaxed throughout: these are statistics; a trim that runs a little early or late is
        // harmless, and the allocator synchronises its own state.
        pub(crate) fn allocated(bytes: usize) {
            let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
            HIGH.fetch_max(live, Ordering::Relaxed);
        }

        pub(crate) fn freed(bytes: usize) {
            let live = LIVE.fetch_sub(bytes, Ordering::Relaxed) - bytes;
            let high = HIGH.load(Ordering::Relaxed);
            if high >= live + GIVE_BACK_AFTER
                && HIGH
                    .compare_exchange(high, live, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                // SAFETY: malloc_trim only releases free memory the allocator owns; it is
                // thread-safe and touches no live allocation.
                unsafe { libc::malloc_trim(0) };
            }
        }
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub(super) use glibc::{allocated, freed};

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub(super) fn allocated(_bytes: usize) {}
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub(super) fn freed(_bytes: usize) {}
}

/// The position just past the tail, from a tail index: the marker offset counts as a full segment.
fn tail_position(index: usize) -> usize {
    let count = index >> SHIFT;
    (count / LAP) * SEGMENT_LEN + (count % LAP).min(SEGMENT_LEN)
}

/// Positions one push claimed: `count` slots from slot `offset` of `segment` on, running on
/// into the segments linked after it (see `Queue::claim`).
struct Claim<T> {
    segment: *const Segment<T>,
    offset: usize,
    count: usize,
}

impl<T> Claim<T> {
    /// The segment after the current one, read before the current one's last slot is written:
    /// from then on consumers may empty it and give it back.
    ///
    /// # Safety
    /// The claim goes on past the current segment, so this thread linked the next one.
    unsafe fn next_segment(&self) -> *const Segment<T> {
        // SAFETY: the current segment holds unwritten claimed slots, so it is alive. Relaxed:
        // this thread stored the link, in `Queue::link` or `Spares`.
        unsafe { (*self.segment).next.load(Ordering::Relaxed) }
    }

    /// Writes the claimed slots in order, with the items `make` returns. The claim moves on a
    /// segment at a time, once that segment's slots are written: if `make` panics, the claim
    /// starts in the segment of the slot whose item failed, whose earlier slots may be written.
    ///
    /// # Safety
    /// The claim is this thread's and none of its slots is written.
    #[inline(always)]
    unsafe fn fill(&mut self, mut make: impl FnMut() -> T) {
        while self.count > 0 {
            let run = self.count.min(SEGMENT_LEN - self.offset);
            // SAFETY: the claim goes on past this segment when this run does not end it.
            let next = (run < self.count).then(|| unsafe { self.next_segment() });
            // SAFETY: the segment holds unwritten slots of ours, so it is alive.
            let slots = unsafe { &(&(*self.segment).slots)[self.offset..self.offset + run] };
            for slot in slots {
                // SAFETY: per the contract, the slot is claimed by us and unwritten.
                unsafe { slot.write(&mut make) };
            }
            self.count -= run;
            if let Some(next) = next {
                (self.segment, self.offset) = (next, 0);
            }
        }
    }

    /// Marks the claimed slots still unwritten abandoned: a batch push's item constructor
    /// panicked before building their items. Consumers skip them instead of waiting for items
    /// that will never come, and the queue's drop does not read them.
    ///
    /// # Safety
    /// The claim is this thread's, and `fill` stopped in its first segment: the slots there up
    /// to the failed one may be written, none after it.
    #[cold]
    unsafe fn abandon_rest(&mut self) {
        while self.count > 0 {
            let run = self.count.min(SEGMENT_LEN - self.offset);
            // SAFETY: as in `fill`.
            let next = (run < self.count).then(|| unsafe { self.next_segment() });
            for offset in self.offset..self.offset + run {
                // SAFETY: the segment holds the unwritten slot at which `fill` stopped, or is
                // past it, so it is alive until we mark the last of them.
                let state = &unsafe { &(*self.segment).slots[offset] }.state;
                // Relaxed: only we write the state of a slot we claimed and did not write.
                if state.load(Ordering::Relaxed) == EMPTY {
                    // Release: as the store of `READY` in `Slot::write`, which this stands in
                    // for.
                    state.store(ABANDONED, Ordering::Release);
                }
            }
            self.count -= run;
            if let Some(next) = next {
                (self.segment, self.offset) = (next, 0);
            }
        }
    }
}

/// Segments allocated for a claim before it is made, chained through their `next` links. Those
/// the claim does not link go back to the pool.
struct Spares<'a, T> {
    pool: &'a Pool<T>,
    first: *mut Segment<T>,
    len: usize,
}

impl<'a, T> Spares<'a, T> {
    fn new(pool: &'a Pool<T>) -> Self {
        Spares {
            pool,
            first: ptr::null_mut(),
            len: 0,
        }
    }

    /// Adds segments until the chain holds `wanted`; returns how many it holds, fewer when the
    /// allocator has no more.
    fn reserve(&mut self, wanted: usize) -> usize {
        while self.len < wanted {
            let segment = self.pool.get();
            if segment.is_null() {
                break;
            }
            // SAFETY: `get` made the segment ours alone. Relaxed: it stays private until a
            // Release store links it into the queue.
            unsafe { (*segment).next.store(self.first, Ordering::Relaxed) };
            self.first = segment;
            self.len += 1;
        }
        self.len
    }

    /// Gives the first `count` (1 ≤ count ≤ len) segments of the chain the starts `start`,
    /// `start + SEGMENT_LEN`, …, and returns the last of them. They stay in the chain.
    fn number(&mut self, count: usize, start: usize) -> *mut Segment<T> {
        debug_assert!((1..=self.len).contains(&count));
        let mut last = self.first;
        // SAFETY: the chain is ours and holds at least `count` segments. Relaxed: links we
        // stored, read by this thread alone.
        unsafe {
            (*last).start = start;
            for index in 1..count {
                last = (*last).next.load(Ordering::Relaxed);
                (*last).start = start + index * SEGMENT_LEN;
            }
        }
        last
    }

    /// Detaches the `count` segments from the first to `last` (as `number` returned it), as a
    /// chain whose last link is null.
    fn detach(&mut self, count: usize, last: *mut Segment<T>) -> *mut Segment<T> {
        let chain = self.first;
        // SAFETY: `last` is in our chain. Relaxed: as in `number`.
        unsafe {
            self.first = (*last).next.load(Ordering::Relaxed);
            (*last).next.store(ptr::null_mut(), Ordering::Relaxed);
        }
        self.len -= count;
        chain
    }
}

impl<T> Drop for Spares<'_, T> {
    fn drop(&mut self) {
        while !self.first.is_null() {
            let segment = self.first;
            // SAFETY: the chain is ours. Relaxed: as in `take`.
            self.first = unsafe { (*segment).next.load(Ordering::Relaxed) };
            // SAFETY: never linked into the queue, so nobody else can reach it.
            unsafe { self.pool.put(segment) };
        }
    }
}

/// The most segments one claim links: a batch of up to `MAX_LINKED * SEGMENT_LEN` (8,128) items
/// always lands in one run of positions, and a longer one allocates no more than this ahead of
/// the items it pushes.
const MAX_LINKED: usize = 64;

/// Every how many retired segments the retiring consumer hands its deferred functions over and
/// runs those due (`Guard::flush`), so that reclamation keeps up with retirement.
const FLUSH_EVERY: usize = 64;

/// How many retired segments a queue keeps for reuse.
const POOL_LEN: usize = 4;

/// Retired segments kept for reuse, so that steady traffic recycles a few segments instead of
/// freeing them in epoch-sized bursts (which lets the allocator hand pages back to the kernel,
/// only for the next segments to fault them in again). A fixed array of slots, each empty or
/// owning one segment; a swap or a CAS moves ownership, so there is no ABA.
///
/// Shared through a `SharedPool` by the queue and by the deferred functions that return segments
/// once their grace period is over, which may run after the queue is gone.
struct Pool<T> {
    slots: [AtomicPtr<Segment<T>>; POOL_LEN],
}

impl<T> Pool<T> {
    fn new() -> Self {
        Pool {
            slots: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
        }
    }

    /// A segment with no ready slot and no link: a pooled one if any, else a new one, or null
    /// when there is no memory for one.
    fn get(&self) -> *mut Segment<T> {
        for slot in &self.slots {
            // Relaxed load: a cheap filter. Acquire swap: takes ownership, pairing with the
            // Release CAS in `put`, so the last users' accesses happen before our reset.
            if !slot.load(Ordering::Relaxed).is_null() {
                let segment = slot.swap(ptr::null_mut(), Ordering::Acquire);
                if !segment.is_null() {
                    // SAFETY: the swap made the pooled segment ours alone.
                    unsafe { Segment::reset(segment) };
                    return segment;
                }
            }
        }
        Segment::alloc(0)
    }

    /// Keeps `segment` for reuse, or frees it when the pool is full.
    ///
    /// # Safety
    /// `segment` came from `Segment::alloc` and nobody else can reach it.
    unsafe fn put(&self, segment: *mut Segment<T>) {
        for slot in &self.slots {
            // Relaxed load: a cheap filter, as in `get`. Release CAS: publishes every earlier
            // access to the segment to the taker's swap; Relaxed on failure: we move on.
            if slot.load(Ordering::Relaxed).is_null()
                && slot
                    .compare_exchange(
                        ptr::null_mut(),
                        segment,
                        Ordering::Release,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                return;
            }
        }
        // SAFETY: per the contract.
        unsafe { Segment::free(segment) };
    }
}

/// An owner of a queue's pool: the queue holds one, and so does each deferred return of a retired
/// segment, which may run after the queue is gone. What `Arc` does, except that creating one
/// reports a failed allocation instead of ending the process, so that `Queue::try_new` (and the
/// C layer's `lfq_queue_new` through it) can report it.
struct SharedPool<T>(ptr::NonNull<Owned<T>>);

struct Owned<T> {
    owners: AtomicUsize,
    pool: Pool<T>,
}

impl<T> SharedPool<T> {
    /// A new, empty pool with one owner, or `None` when the allocator has no memory for it.
    fn try_new() -> Option<Self> {
        let layout = std::alloc::Layout::new::<Owned<T>>();
        // SAFETY: the layout is not zero-sized (it holds atomics).
        let raw = ptr::NonNull::new(unsafe { std::alloc::alloc(layout) }.cast::<Owned<T>>())?;
        // SAFETY: a fresh allocation with this type's layout; writing initialises it.
        unsafe {
            raw.as_ptr().write(Owned {
                owners: AtomicUsize::new(1),
                pool: Pool::new(),
            })
        };
        Some(SharedPool(raw))
    }

    fn owned(&self) -> &Owned<T> {
        // SAFETY: this owner keeps the allocation alive.
        unsafe { self.0.as_ref() }
    }
}

impl<T> Clone for SharedPool<T> {
    fn clone(&self) -> Self {
        // Relaxed: the new owner comes from this one, which keeps the pool alive meanwhile.
        self.owned().owners.fetch_add(1, Ordering::Relaxed);
        SharedPool(self.0)
    }
}

impl<T> std::ops::Deref for SharedPool<T> {
    type Target = Pool<T>;

    fn deref(&self) -> &Pool<T> {
        &self.owned().pool
    }
}

impl<T> Drop for SharedPool<T> {
    fn drop(&mut self) {
        // AcqRel: every owner's use of the pool happens before the last owner frees it.
        if self.owned().owners.fetch_sub(1, Ordering::AcqRel) == 1 {
            // SAFETY: no other owner is left; `try_new` allocated it with this layout.
            unsafe {
                ptr::drop_in_place(self.0.as_ptr());
                std::alloc::dealloc(
                    self.0.as_ptr().cast(),
                    std::alloc::Layout::new::<Owned<T>>(),
                );
            }
        }
    }
}

impl<T> Drop for Pool<T> {
    fn drop(&mut self) {
        for slot in &self.slots {
            // Relaxed: the last owner drops the pool, after `SharedPool`'s AcqRel count ordered
            // every other owner's accesses before this.
            let segment = slot.swap(ptr::null_mut(), Ordering::Relaxed);
            if !segment.is_null() {
                // SAFETY: pooled segments belong to the pool, which nobody else can reach now.
                unsafe { Segment::free(segment) };
            }
        }
    }
}

struct Head<T> {
    /// Position of the next item to pop. Moved forward only by a consumer's CAS.
    position: AtomicUsize,
    /// The segment holding `position`, or an earlier one that is about to be retired.
    segment: AtomicPtr<Segment<T>>,
    /// The `start` of `segment`, or of an earlier segment: raised (never lowered) after each move
    /// of `segment`, so that a pop that does not pin can tell, without reading the segment, that
    /// the segment it loaded holds its position.
    start: AtomicUsize,
    /// A tail position that consumers have seen: every position below it has been claimed by a
    /// producer. A pop whose position lies below it knows there is an item to wait for without
    /// reading the producers' side.
    tail_seen: AtomicUsize,
}

struct Tail<T> {
    /// `(lap * LAP + offset) << SHIFT | CLOSED`; see the module comment.
    index: AtomicUsize,
    /// The segment that index's lap refers to.
    segment: AtomicPtr<Segment<T>>,
}

/// Why a push claimed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The queue is closed.
    Closed,
    /// The claim had to link a new segment, and the allocator could not supply one.
    NoMemory,
}

/// An unbounded multi-producer multi-consumer FIFO queue.
///
/// Pushes never block and never fail unless the queue is closed. Pops can wait for an item,
/// with or without a timeout; waiting threads sleep in the operating system.
///
/// # Examples
///
/// ```
/// use lfq::{PopError, Queue};
///
/// let q = Queue::new();
/// q.push(1).unwrap();
/// q.push(2).unwrap();
/// assert_eq!(q.pop(), Ok(1));
/// q.close();
/// assert!(q.push(3).is_err());
/// assert_eq!(q.pop(), Ok(2));
/// assert_eq!(q.pop(), Err(PopError::Closed));
/// ```
pub struct Queue<T> {
    head: CachePadded<Head<T>>,
    tail: CachePadded<Tail<T>>,
    /// Consumers sleeping until an item arrives.
    readers: CachePadded<Waiters>,
    /// `push_many` calls inside their item iterator (see iterating.rs).
    iterating: CachePadded<Iterating>,
    pool: SharedPool<T>,
    _owns: PhantomData<T>,
}

// SAFETY: items move between threads through the queue, which needs `T: Send`; all shared state
// is atomics, and each slot's value is accessed by exactly one producer, then one consumer, with
// the slot state's release/acquire pair ordering the two.
unsafe impl<T: Send> Send for Queue<T> {}
// SAFETY: as above; `&Queue` only allows pushes and pops, which are synchronised as described.
unsafe impl<T: Send> Sync for Queue<T> {}

impl<T> Queue<T> {
    /// Creates an empty queue.
    pub fn new() -> Self {
        Self::try_new().unwrap_or_else(|| Segment::<T>::out_of_memory())
    }

    /// Creates an empty queue, or returns `None` when there is no memory for its first segment.
    pub(crate) fn try_new() -> Option<Self> {
        let pool = SharedPool::try_new()?;
        let first = Segment::alloc(0);
        if first.is_null() {
            return None;
        }
        Some(Queue {
            head: CachePadded::new(Head {
                position: AtomicUsize::new(0),
                segment: AtomicPtr::new(first),
                start: AtomicUsize::new(0),
                tail_seen: AtomicUsize::new(0),
            }),
            tail: CachePadded::new(Tail {
                index: AtomicUsize::new(0),
                segment: AtomicPtr::new(first),
            }),
            readers: CachePadded::new(Waiters::new()),
            iterating: CachePadded::new(Iterating::new()),
            pool,
            _owns: PhantomData,
        })
    }

    /// Pushes an item at the back of the queue.
    ///
    /// Fails only with [`PushError::Closed`], handing the item back.
    #[inline(always)]
    pub fn push(&self, item: T) -> Result<(), PushError<T>> {
        match self.try_push(item) {
            Ok(()) => Ok(()),
            Err((item, Refused::Closed)) => Err(PushError::Closed(item)),
            Err((_, Refused::NoMemory)) => Segment::<T>::out_of_memory(),
        }
    }

    /// `push`, reporting a segment the allocator could not supply instead of ending the process.
    #[inline(always)]
    pub(crate) fn try_push(&self, item: T) -> Result<(), (T, Refused)> {
        let Err(item) = self.push_fast(item) else {
            return Ok(());
        };
        match self.claim(1) {
            Ok(claim) => {
                // SAFETY: `claim` gave this thread one unwritten slot; its segment stays
                // allocated until that slot has been written and read.
                unsafe { (*claim.segment).slots[claim.offset].write(|| item) };
                self.readers.notify(1);
                Ok(())
            }
            Err(why) => Err((item, why)),
        }
    }

    /// The common case of a push: a slot that is not its segment's last, claimed at the first
    /// try. Otherwise the item comes back and nothing changed. No panic path: the C layer calls
    /// this outside `catch_unwind`.
    #[inline(always)]
    pub(crate) fn push_fast(&self, item: T) -> Result<(), T> {
        // Acquire: pairs with the Release index updates in `claim`, so the segment pointer read
        // next is at least as new as this index.
        let index = self.tail.index.load(Ordering::Acquire);
        let offset = (index >> SHIFT) % LAP;
        if index & CLOSED == 0 && offset + 1 < SEGMENT_LEN {
            // Acquire: as in `claim`; dereferenced only once the CAS below succeeds.
            let segment = self.tail.segment.load(Ordering::Acquire);
            // SeqCst: the index update `Waiters::notify` is ordered against (wait.rs). Relaxed
            // on failure: the item goes back to the caller, which reads everything again.
            if self
                .tail
                .index
                .compare_exchange(
                    index,
                    index + (1 << SHIFT),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                // SAFETY: the CAS succeeded on the index read before the segment pointer, so
                // `segment` is the tail segment and slot `offset` in it is ours, unwritten.
                unsafe { (*segment).slots[offset].write(|| item) };
                self.readers.notify(1);
                return Ok(());
            }
        }
        Err(item)
    }

    /// Pushes items from the front of `items`, in order, with one claim for up to 8,128 of them:
    /// a batch of at most that many lands in one run, whatever other producers push meanwhile
    /// (a longer one, in runs of at least that many). The items not pushed stay in the iterator.
    ///
    /// Returns how many were pushed (all of them, unless a close comes while the batch links
    /// the segments it spans), or [`PushError::Closed`] if none was; an empty iterator pushes
    /// nothing and returns `Ok(0)`, closed or not.
    ///
    /// The iterator runs after the batch's positions are claimed. While it runs, a pop that
    /// reaches a position claimed but not yet written (this batch's or another push's) waits
    /// briefly, then reports `Empty` if non-blocking, or naps if blocking. It should
    /// not block, and must not wait on this queue (a `pop_blocking` inside it never returns).
    ///
    /// # Panics
    ///
    /// If the iterator panics, or yields fewer items than its `len` said (then with a message
    /// saying so). The items it yielded before stay pushed, in order; the positions claimed for
    /// the rest hold nothing, and pops skip them. Until pops have passed them they count in
    /// [`len`](Self::len), and [`wait_nonempty`](Self::wait_nonempty) may return for them.
    ///
    /// ```
    /// let q = lfq::Queue::new();
    /// let mut items = vec![1, 2, 3].into_iter();
    /// assert_eq!(q.push_many(&mut items), Ok(3));
    /// let mut out = Vec::new();
    /// assert_eq!(q.pop_many(&mut out, 10), Ok(3));
    /// assert_eq!(out, [1, 2, 3]);
    /// ```
    pub fn push_many<I: ExactSizeIterator<Item = T>>(
        &self,
        items: &mut I,
    ) -> Result<usize, PushError<()>> {
        let _running = self.iterating.enter();
        let made = self.push_from(items.len(), |_| {
            items
                .next()
                .expect("ExactSizeIterator reported a wrong len")
        });
        match made {
            (_, Some(Refused::NoMemory)) => Segment::<T>::out_of_memory(),
            (0, Some(Refused::Closed)) => Err(PushError::Closed(())),
            (pushed, _) => Ok(pushed),
        }
    }

    /// Pushes `count` items; `make(i)` builds the `i`th, and is called for `0, 1, …` in order,
    /// once for each item pushed. An unbounded queue always has room: the batch takes one claim,
    /// which stops short only if the queue is closed meanwhile or the allocator cannot supply
    /// its segments; then the rest of the batch tries again. Returns how many were pushed and,
    /// if that is fewer than `count`, why.
    pub(crate) fn push_from(
        &self,
        count: usize,
        mut make: impl FnMut(usize) -> T,
    ) -> (usize, Option<Refused>) {
        let mut pushed = 0;
        while pushed < count {
            let mut claim = match self.claim(count - pushed) {
                Ok(claim) => claim,
                Err(why) => return (pushed, Some(why)),
            };
            let claimed = claim.count;
            let mut index = pushed;
            let filled = panic::catch_unwind(AssertUnwindSafe(|| {
                let make = || {
                    index += 1;
                    make(index - 1)
                };
                // SAFETY: the claim is ours and unwritten.
                unsafe { claim.fill(make) }
            }));
            if let Err(panic) = filled {
                // SAFETY: the claim is ours; `fill` stopped at the slot whose item failed.
                unsafe { claim.abandon_rest() };
                self.readers.notify(claimed);
                panic::resume_unwind(panic);
            }
            self.readers.notify(claimed);
            pushed += claimed;
        }
        (pushed, None)
    }

    /// Claims between 1 and `want` consecutive positions at the tail with one CAS.
    ///
    /// A claim that reaches the end of the tail segment also takes the positions past it: its
    /// CAS moves the index onto the "linking" marker of the last segment the claim fills (or of
    /// the tail segment, when it fills only that one), where every other producer waits. The
    /// claimer then links the segments it allocated before the CAS (one per further
    /// `SEGMENT_LEN` positions, the last becoming the tail segment) and moves the index past the
    /// marker, taking the rest of its positions in that same step. A batch therefore lands in
    /// one run of positions whatever other producers do. It gets fewer than `want` only when it
    /// would link more than `MAX_LINKED` segments, when the allocator cannot supply all of them
    /// (it takes what the ones it got hold), or when a close comes while it links (the tail
    /// segment's positions are then not taken).
    #[inline(never)]
    fn claim(&self, want: usize) -> Result<Claim<T>, Refused> {
        let backoff = Backoff::new();
        let mut spares = Spares::new(&self.pool);
        // Acquire: pairs with the Release index updates in `claim` and `link`, so the segment
        // pointer read after this load is at least as new as the index.
        let mut index = self.tail.index.load(Ordering::Acquire);
        loop {
            if index & CLOSED != 0 {
                return Err(Refused::Closed);
            }
            let count = index >> SHIFT;
            let offset = count % LAP;
            if offset == SEGMENT_LEN {
                // Another producer is linking segments; it takes a few instructions a segment.
                backoff.snooze();
                index = self.tail.index.load(Ordering::Acquire);
                continue;
            }
            let here = want.min(SEGMENT_LEN - offset);
            // Positions claimed past this segment, and the segments linked for them.
            let (beyond, linked) = if offset + here < SEGMENT_LEN {
                (0, 0)
            } else {
                // Allocated before the claim, which cannot be taken back once made, so that
                // nothing slow happens while other producers wait at the marker.
                let got = spares.reserve(((want - here) / SEGMENT_LEN + 1).min(MAX_LINKED));
                if got == 0 {
                    return Err(Refused::NoMemory);
                }
                // The last segment linked becomes the tail segment: it cannot be filled too.
                let beyond = (want - here).min(got * SEGMENT_LEN - 1);
                (beyond, beyond / SEGMENT_LEN + 1)
            };
            let claimed_index = match linked {
                0 => index + (here << SHIFT),
                // The marker of the last segment the claim fills.
                _ => index + ((here + (linked - 1) * LAP) << SHIFT),
            };
            // The starts, set now so that others wait at the marker only for the links.
            let last = (linked > 0).then(|| spares.number(linked, (count / LAP + 1) * SEGMENT_LEN));
            // Acquire: pairs with the Release store in `link`, so the segment's `start` is
            // visible. Only dereferenced after the CAS below succeeds.
            let segment = self.tail.segment.load(Ordering::Acquire);
            // SeqCst: the index update that `Waiters::notify` and the pop side's emptiness check
            // are ordered against (see wait.rs); on failure, Acquire as for the first load.
            match self.tail.index.compare_exchange_weak(
                index,
                claimed_index,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    let mut claim = Claim {
                        segment,
                        offset,
                        count: here,
                    };
                    if let Some(last) = last {
                        let chain = spares.detach(linked, last);
                        // SAFETY: the CAS made the rest of `segment` ours (so it stays alive) and
                        // put the index on the marker; the chain is ours until linked.
                        claim.count +=
                            unsafe { self.link(segment, chain, last, claimed_index, beyond) };
                    }
                    return Ok(claim);
                }
                Err(current) => {
                    index = current;
                    backoff.spin();
                }
            }
        }
    }

    /// Links `chain` after `segment`, makes `last`, the chain's last segment, the tail segment,
    /// and moves the index from `marker` past it, claiming that segment's first
    /// `beyond % SEGMENT_LEN` positions. Returns how many positions past `segment` the claim
    /// holds: `beyond`, or fewer if a close came first.
    ///
    /// # Safety
    /// This thread's claim filled `segment` and the chain's segments before `last`, and put the
    /// index on `marker`, the "linking" offset of the one before `last`; `chain` holds the
    /// segments that follow `segment`, their starts set, linked through `next`, and is ours.
    unsafe fn link(
        &self,
        segment: *const Segment<T>,
        chain: *mut Segment<T>,
        last: *mut Segment<T>,
        marker: usize,
        beyond: usize,
    ) -> usize {
        // Release: publishes the `start`s to producers that read the index stored below.
        self.tail.segment.store(last, Ordering::Release);
        let in_last = beyond % SEGMENT_LEN;
        // Only a close can change the index while it is on a marker: everyone else waits there.
        // SeqCst: this update claims positions, like the CAS in `claim` (wait.rs); it also
        // releases the tail segment store to the producers' Acquire index loads. Relaxed on
        // failure: a close came, and the positions past the marker stay unclaimed.
        let claimed = match self.tail.index.compare_exchange(
            marker,
            marker + ((1 + in_last) << SHIFT),
            Ordering::SeqCst,
            Ordering::Relaxed,
        ) {
            Ok(_) => beyond,
            Err(_) => {
                // Release: as the CAS. An add, which keeps the close's mark bit.
                self.tail.index.fetch_add(1 << SHIFT, Ordering::Release);
                beyond - in_last
            }
        };
        // Release: consumers reach the chain through this link only after the Acquire load of
        // our last slot's state in `segment`, which we set later; the chain's own links and
        // starts, written before, come with it.
        // SAFETY: per the contract, `segment` holds our unwritten claim, so it is alive.
        unsafe { (*segment).next.store(chain, Ordering::Release) };
        claimed
    }

    /// Pops the item at the front of the queue.
    ///
    /// Returns [`PopError::Empty`] if there is none, or [`PopError::Closed`] if there is none and
    /// the queue is closed.
    #[inline(always)]
    pub fn pop(&self) -> Result<T, PopError> {
        match self.pop_fast() {
            Ok(item) => Ok(item),
            Err(Missed::FullOrEmpty) => Err(PopError::Empty),
            Err(Missed::Undecided) => self.pop_slow(),
        }
    }

    /// `pop` when [`pop_fast`](Self::pop_fast) could not decide: the same under a pin.
    #[inline(never)]
    fn pop_slow(&self) -> Result<T, PopError> {
        let guard = pin();
        match self.pop_first(&guard) {
            Ok(item) => return Ok(item),
            Err(Missed::FullOrEmpty) => return Err(PopError::Empty),
            Err(Missed::Undecided) => {}
        }
        let mut popped = None;
        self.pop_pinned(1, 1, &guard, |_, item| popped = Some(item))?;
        Ok(popped.expect("a successful pop yields one item"))
    }

    /// The common case of a pop, without an epoch pin: the head position lies below a tail
    /// position consumers have seen (so a producer has claimed it), in the head segment but not
    /// its last slot, and the claim succeeds at the first try. Then it waits for the item to be
    /// written, as a pinned pop would. Reports [`Missed::FullOrEmpty`] when the tail is at the
    /// head of an open queue, as `pop_first` does; otherwise [`Missed::Undecided`], having
    /// changed nothing (but perhaps skipped an abandoned slot, which holds nothing).
    ///
    /// Safe without a pin because it reads no segment before its claim, and a claimed slot keeps
    /// its segment alive until the slot is marked taken (module comment, on reclamation). No
    /// panic path: the C layer calls this outside `catch_unwind`, as `push_fast`.
    #[inline(always)]
    pub(crate) fn pop_fast(&self) -> Result<T, Missed> {
        // Acquire loads, in this order: the start and segment pointer are read after the
        // position, and the segment after the start (pairing with the Release `fetch_max` in
        // `retire`), so a start that holds the position comes with that segment or a newer one.
        let head = self.head.position.load(Ordering::Acquire);
        let start = self.head.start.load(Ordering::Acquire);
        let offset = head.wrapping_sub(start);
        if offset >= SEGMENT_LEN - 1 {
            // Not the head segment's own, or its last slot, whose pop retires the segment.
            return Err(Missed::Undecided);
        }
        let segment = self.head.segment.load(Ordering::Acquire);
        // Relaxed: a hint. Every value stored was a tail position at some point, and the tail
        // only grows, so positions below it are claimed; the wait below synchronises the item.
        if head >= self.head.tail_seen.load(Ordering::Relaxed) {
            // SeqCst: as `pop_first`'s emptiness check, for a head read before the tail.
            let tail = self.tail.index.load(Ordering::SeqCst);
            let end = tail_position(tail);
            if end == head {
                return Err(Missed::full_or_empty_if(tail & CLOSED == 0));
            }
            // Relaxed: see the load above.
            self.head.tail_seen.store(end, Ordering::Relaxed);
        }
        if self.iterating.any() {
            // The claimed position may be one that a running batch's iterator has yet to fill:
            // the pinned path looks before it claims (iterating.rs).
            return Err(Missed::Undecided);
        }
        // SeqCst: as in `pop_pinned`. Relaxed on failure: the pinned path reloads everything.
        if self
            .head
            .position
            .compare_exchange(head, head + 1, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            return Err(Missed::Undecided);
        }
        // SAFETY: the CAS succeeded, so the position stayed `head` from the first load on, and
        // no consumer can have moved the head segment past the segment holding it; the start
        // read said that segment had become the head segment, so `segment` is it. Our claim on
        // its slot `offset` keeps it allocated until we mark the slot taken.
        let slot = unsafe { &(*segment).slots[offset] };
        // Acquire: pairs with the producer's Release store of `state`.
        if slot.state.load(Ordering::Acquire) == READY {
            // SAFETY: claimed by us and seen ready.
            return Ok(unsafe { slot.take() });
        }
        // SAFETY: as above.
        unsafe { Self::wait_written(slot) }
    }

    /// Waits for the producer that claimed `slot` to write it; takes the item, or skips the slot
    /// if the producer abandoned it (then [`Missed::Undecided`]).
    ///
    /// # Safety
    /// The caller claimed the slot's position and holds it alive.
    #[cold]
    unsafe fn wait_written(slot: &Slot<T>) -> Result<T, Missed> {
        let backoff = Backoff::new();
        loop {
            // Acquire: pairs with the producer's Release store of `state`.
            match slot.state.load(Ordering::Acquire) {
                // SAFETY: per the contract, and seen ready.
                READY => return Ok(unsafe { slot.take() }),
                ABANDONED => {
                    // SAFETY: per the contract, and seen abandoned.
                    unsafe { slot.skip() };
                    return Err(Missed::Undecided);
                }
                _ => backoff.snooze(),
            }
        }
    }

    /// The common cases of a pinned pop: [`pop_ready`](Self::pop_ready), or else an open queue
    /// whose tail is at the head (empty). Otherwise [`Missed::Undecided`], having changed
    /// nothing.
    #[inline(always)]
    fn pop_first(&self, guard: &Guard) -> Result<T, Missed> {
        if let Some(item) = self.pop_ready(guard) {
            return Ok(item);
        }
        // Acquire: as in `pop_pinned`. SeqCst: as `pop_pinned`'s emptiness check, which this
        // is, for a head read before the tail (so no newer head can make it wrong).
        let head = self.head.position.load(Ordering::Acquire);
        let tail = self.tail.index.load(Ordering::SeqCst);
        Err(Missed::full_or_empty_if(
            tail & CLOSED == 0 && tail_position(tail) == head,
        ))
    }

    /// Pops the head item if its slot is ready and the first claim succeeds; `None` otherwise,
    /// having read nothing of the producers' side. The first step of `pop_first`, and the whole
    /// attempt of a spinning `pop_until`.
    #[inline(always)]
    fn pop_ready(&self, guard: &Guard) -> Option<T> {
        // Acquire loads: as in `pop_pinned`.
        let head = self.head.position.load(Ordering::Acquire);
        let segment = self.head.segment.load(Ordering::Acquire);
        // SAFETY: we are pinned and `segment` was reachable after we pinned (module comment).
        let offset = head.wrapping_sub(unsafe { (*segment).start });
        if offset >= SEGMENT_LEN {
            return None;
        }
        // SAFETY: as above; `offset` is in bounds.
        let slot = unsafe { &(*segment).slots[offset] };
        // Acquire: pairs with the producer's Release store of `state`. SeqCst CAS: as in
        // `pop_pinned`.
        if slot.state.load(Ordering::Acquire) != READY
            || self
                .head
                .position
                .compare_exchange(head, head + 1, Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
        {
            return None;
        }
        // SAFETY: the position is ours and was seen ready.
        let item = unsafe { slot.take() };
        if offset + 1 == SEGMENT_LEN {
            self.retire(head + 1, guard);
        }
        Some(item)
    }

    /// Pops up to `max` items into `out`, in order, with one epoch pin and one claim for the
    /// whole batch.
    ///
    /// Returns how many were popped (at least one, or zero when `max` is zero), or
    /// [`PopError::Empty`] / [`PopError::Closed`] as [`pop`](Self::pop) does.
    pub fn pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, PopError> {
        self.pop_batch(1, max, |_, item| out.push(item))
    }

    /// Pops between `min` and `max` items (or none), handing each to `sink` in order, with its
    /// index in the batch. When fewer than `min` are queued it pops nothing and reports `Empty`,
    /// or `Closed` if the queue is closed and can never hold `min` items again.
    pub(crate) fn pop_batch(
        &self,
        min: usize,
        max: usize,
        sink: impl FnMut(usize, T),
    ) -> Result<usize, PopError> {
        if max == 0 {
            return Ok(0);
        }
        self.pop_pinned(min.clamp(1, max), max, &pin(), sink)
    }

    /// `pop_batch` for a caller that is already pinned; `1 <= min <= max`.
    #[inline(never)]
    fn pop_pinned(
        &self,
        min: usize,
        max: usize,
        guard: &Guard,
        mut sink: impl FnMut(usize, T),
    ) -> Result<usize, PopError> {
        let backoff = Backoff::new();
        loop {
            // Acquire: pairs with the Release store of `head.segment` in `retire`, so the
            // segment read next is no older than the one retiring consumers left.
            let head = self.head.position.load(Ordering::Acquire);
            let segment = self.head.segment.load(Ordering::Acquire);
            // SAFETY: we are pinned, and `segment` was reachable after we pinned; see the
            // module comment on reclamation.
            let Some(segment) = (unsafe { Self::find(segment, head) }) else {
                backoff.snooze();
                continue;
            };
            // SAFETY: as above; `find` returned the live segment holding `head`.
            let ready = unsafe { Self::count_ready(segment, head, max) };
            // An abandoned slot at the head is claimed like an item, and nothing is taken.
            let mut claimed = ready;
            // SAFETY: as for `count_ready`.
            if ready < min && unsafe { Self::is_abandoned(segment, head + ready) } {
                if ready > 0 {
                    // Fewer than `min` items lie before the gap, so there is no batch to take.
                    // SeqCst: as the emptiness check below.
                    let tail = self.tail.index.load(Ordering::SeqCst);
                    return Err(PopError::empty_or_closed(tail & CLOSED != 0));
                }
                claimed = 1;
            } else if ready < min {
                // SeqCst: the emptiness check that `Waiters` relies on (see wait.rs).
                let tail = self.tail.index.load(Ordering::SeqCst);
                let queued = tail_position(tail).wrapping_sub(head);
                if queued >= min {
                    // Producers have claimed those slots and are writing them: wait, unless a
                    // batch's item iterator may be what is running (iterating.rs); then, after a
                    // short wait, report empty (waiting callers then nap; see `spin_then_wait`).
                    if backoff.is_completed() && self.iterating.any() {
                        return Err(PopError::Empty);
                    }
                    backoff.snooze();
                // SeqCst: the head has not moved since our tail load, so the count of queued
                // items computed from both held at one point in the total order.
                } else if head == self.head.position.load(Ordering::SeqCst) {
                    return Err(PopError::empty_or_closed(tail & CLOSED != 0));
                }
                continue;
            }
            // SeqCst: the index update that `Waiters::notify` on the push side pairs with (a
            // waiting pusher exists only on rings, but keeping both sides alike costs nothing
            // here); Relaxed on failure: we reload everything.
            if self
                .head
                .position
                .compare_exchange_weak(head, head + claimed, Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
            {
                backoff.spin();
                continue;
            }
            // SAFETY: positions `head..head + claimed` are ours, the first `ready` seen ready
            // and otherwise the one seen abandoned; the segments holding them stay allocated
            // while we are pinned. Taking before retiring lets `retire` find our slots taken.
            // (If `sink` panics, the retiring is left to the next consumer that passes the end
            // of a segment, whose `retire` catches up.)
            unsafe {
                if ready == 0 {
                    (*segment).slot(head).skip();
                } else {
                    Self::take(segment, head, ready, &mut sink);
                }
                if head + claimed >= (*segment).start + SEGMENT_LEN {
                    self.retire(head + claimed, guard);
                }
            }
            if ready == 0 {
                // We skipped an abandoned slot; look again.
                continue;
            }
            return Ok(ready);
        }
    }

    /// Walks from `segment` to the segment holding `position`. `None` if `position` is older
    /// than `segment` (a stale head; the caller retries).
    ///
    /// # Safety
    /// The caller is pinned and `segment` was reachable from the queue after it pinned.
    unsafe fn find(mut segment: *const Segment<T>, position: usize) -> Option<*const Segment<T>> {
        loop {
            // SAFETY: see the function's contract; every segment from the head onwards is alive
            // until retired, and retired ones until we unpin.
            let start = unsafe { (*segment).start };
            if position < start {
                return None;
            }
            if position - start < SEGMENT_LEN {
                return Some(segment);
            }
            // Acquire: pairs with the Release link store in `claim`. Non-null: a position past
            // this segment was claimed by a consumer, so all its slots were written (ready or
            // abandoned), so it is linked.
            // SAFETY: as above.
            segment = unsafe { (*segment).next.load(Ordering::Acquire) };
            if segment.is_null() {
                return None;
            }
        }
    }

    /// Whether the slot of `position` was abandoned by a batch push (see `abandon_unwritten`).
    ///
    /// # Safety
    /// As for `find`.
    unsafe fn is_abandoned(segment: *const Segment<T>, position: usize) -> bool {
        // SAFETY: per the contract.
        let Some(segment) = (unsafe { Self::find(segment, position) }) else {
            return false;
        };
        // SAFETY: `find` returned the live segment holding `position`. Acquire: pairs with the
        // Release store in `abandon_unwritten`, which follows the segment's link store.
        unsafe { (*segment).slot(position) }
            .state
            .load(Ordering::Acquire)
            == ABANDONED
    }

    /// Counts consecutive ready slots from `position`, up to `max`, across segment links.
    ///
    /// # Safety
    /// As for `find`, and `segment` holds `position`.
    unsafe fn count_ready(mut segment: *const Segment<T>, position: usize, max: usize) -> usize {
        // SAFETY: per the contract, `segment` is alive and holds `position`.
        let mut offset = position - unsafe { (*segment).start };
        let mut count = 0;
        loop {
            // SAFETY: `segment` is the contract's segment or one reached through its links,
            // alive while the caller is pinned; `offset` lies within it.
            let slots = unsafe { &(&(*segment).slots)[offset..] };
            let slots = &slots[..slots.len().min(max - count)];
            // Acquire: pairs with the producer's Release store of `state`, so the value is ours
            // to read once we claim it.
            let here =
                scan::count_ready(slots, |_, slot| slot.state.load(Ordering::Acquire) == READY);
            count += here;
            if here < slots.len() {
                return count;
            }
            if count == max {
                return count;
            }
            // Acquire: pairs with the Release link store in `claim`.
            // SAFETY: as above; a null link ends the walk.
            segment = unsafe { (*segment).next.load(Ordering::Acquire) };
            if segment.is_null() {
                return count;
            }
            offset = 0;
        }
    }

    /// Moves the values at `position..position + count` out to `sink`, numbered from 0, marking
    /// each slot taken.
    ///
    /// # Safety
    /// The caller claimed those positions, saw them ready, is pinned, and `segment` holds
    /// `position`.
    unsafe fn take(
        segment: *const Segment<T>,
        position: usize,
        count: usize,
        sink: &mut impl FnMut(usize, T),
    ) {
        let mut rest = Untaken {
            segment,
            // SAFETY: per the contract, `segment` is alive and holds `position`.
            offset: position - unsafe { (*segment).start },
            left: count,
        };
        while rest.left > 0 {
            // SAFETY: alive while the caller is pinned; `offset` lies within the segment.
            let slots = unsafe { &(&(*rest.segment).slots)[rest.offset..] };
            let here = rest.left.min(slots.len());
            for slot in &slots[..here] {
                // SAFETY: the caller claimed this slot's position and saw it ready.
                let item = unsafe { slot.take() };
                rest.offset += 1;
                rest.left -= 1;
                sink(count - rest.left - 1, item);
            }
            if rest.left > 0 {
                rest.next_segment();
            }
        }
    }

    /// Retires every segment that lies wholly before `position`, which this thread has just
    /// moved the head to.
    #[cold]
    fn retire(&self, position: usize, guard: &Guard) {
        loop {
            // Acquire: pairs with the Release CAS below of the consumer that moved it last.
            let segment = self.head.segment.load(Ordering::Acquire);
            // SAFETY: pinned, and reachable from the head.
            let (start, next) = unsafe { ((*segment).start, &(*segment).next) };
            if start + SEGMENT_LEN > position {
                return;
            }
            // Acquire: pairs with the Release link store; non-null because every slot of this
            // segment has been claimed by a consumer, hence was written (ready or abandoned),
            // hence linked.
            let next = next.load(Ordering::Acquire);
            debug_assert!(!next.is_null(), "a wholly claimed segment is linked");
            // AcqRel: exactly one consumer wins and retires the segment; Release publishes the
            // move to consumers that load the head segment afterwards. Acquire on failure, as
            // the load above: a loser stops or retries with the winner's segment.
            if self
                .head
                .segment
                .compare_exchange(segment, next, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // Release: pairs with the Acquire start load in `pop_fast`, so a pop that
                // reads this start then loads `next`, or a newer head segment. A max, so that a
                // slower retirer of an earlier segment cannot lower it.
                // SAFETY: `next` is reachable from the head, and we are pinned.
                self.head
                    .start
                    .fetch_max(unsafe { (*next).start }, Ordering::Release);
                // SAFETY: unreachable now for threads that load the head segment from here on,
                // and every slot has been claimed by a consumer.
                unsafe { Self::recycle_when_taken(self.pool.clone(), segment, guard) };
                if (start / SEGMENT_LEN) % FLUSH_EVERY == 0 {
                    // crossbeam-epoch runs deferred functions a few at a time, every so many
                    // pins; batch pops retire several segments per pin, and would leave a drained
                    // queue's memory waiting for pins that may never come.
                    guard.flush();
                }
            }
        }
    }

    /// Returns a retired segment to the pool once every thread pinned now has unpinned (so no
    /// pinned consumer still reads it) and every slot is marked taken (so no unpinned consumer
    /// still reads it). The marks are checked first now, while the retiring consumer's cache
    /// likely still holds them, then again after each grace period until they are all there.
    ///
    /// # Safety
    /// `segment` is unreachable for threads that load the head segment from now on, and every
    /// slot in it has been claimed by a consumer.
    unsafe fn recycle_when_taken(pool: SharedPool<T>, segment: *mut Segment<T>, guard: &Guard) {
        // SAFETY: per the contract, nothing recycles the segment before this function does.
        let taken = unsafe { Self::all_taken(segment) };
        // SAFETY: each deferred function owns its pool reference and touches only this segment,
        // which stays allocated until it is put back; see the contract. It captures the pointer
        // itself, not its address, so the pointer keeps its provenance (Miri checks that);
        // `defer_unchecked` does not ask for `Send`.
        unsafe {
            guard.defer_unchecked(move || {
                if taken || Self::all_taken(segment) {
                    pool.put(segment);
                } else {
                    // An unpinned pop is still between its claim and its take.
                    Self::recycle_when_taken(pool, segment, &pin());
                }
            });
        }
    }

    /// Whether every slot of `segment` is marked taken.
    ///
    /// # Safety
    /// `segment` is alive.
    unsafe fn all_taken(segment: *const Segment<T>) -> bool {
        // Acquire: pairs with the consumers' Release stores of `TAKEN`, so their reads of the
        // values happen before the segment is reset or freed.
        // SAFETY: per the contract.
        let slots = unsafe { &(*segment).slots };
        scan::count_ready(slots, |_, slot| slot.state.load(Ordering::Acquire) == TAKEN)
            == SEGMENT_LEN
    }

    /// Pops an item, waiting up to `timeout` for one to arrive.
    ///
    /// Returns [`PopError::Timeout`] if none arrived in time, [`PopError::Closed`] if the queue is
    /// closed and empty. A zero timeout tries once, and reports
    /// `Timeout` if that fails.
    pub fn pop_timeout(&self, timeout: Duration) -> Result<T, PopError> {
        self.pop_until(Instant::now().checked_add(timeout))
    }

    /// Pops an item, sleeping until one arrives. Fails only with [`PopError::Closed`], once the
    /// queue is closed and empty.
    pub fn pop_blocking(&self) -> Result<T, PopError> {
        self.pop_until(None)
    }

    fn pop_until(&self, deadline: Option<Instant>) -> Result<T, PopError> {
        // Spinning, a try that finds the head slot not ready gives up without reading the tail
        // index (which producers keep writing); the try before each sleep is a full `pop`.
        let attempt = |exact: bool| {
            if !exact {
                return self.pop_ready(&pin()).map(Ok);
            }
            match self.pop() {
                Err(PopError::Empty) => None,
                other => Some(other),
            }
        };
        let claimed = || self.claimed_and_closed().0;
        crate::wait::spin_then_wait(&self.readers, deadline, attempt, claimed)
            .unwrap_or(Err(PopError::Timeout))
    }

    /// Blocks until an item is queued, without taking it (another consumer may take it first).
    ///
    /// Returns [`PopError::Closed`] once the queue is closed and empty, [`PopError::Timeout`] if
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
    /// being filled), and whether the queue is closed.
    fn claimed_and_closed(&self) -> (bool, bool) {
        // SeqCst: the emptiness check `Waiters` relies on.
        let tail = self.tail.index.load(Ordering::SeqCst);
        let head = self.head.position.load(Ordering::SeqCst);
        (tail_position(tail) != head, tail & CLOSED != 0)
    }

    /// Closes the queue: pushes fail from now on, pops drain what is left and then report
    /// [`PopError::Closed`], and every waiting thread wakes. Returns `true` if this call closed
    /// it, `false` if it was closed already.
    pub fn close(&self) -> bool {
        // SeqCst: ordered with the producers' claims, so each push lands either before the close
        // (and is popped) or after it (and fails); and with waiters' checks, as in wait.rs.
        let previous = self.tail.index.fetch_or(CLOSED, Ordering::SeqCst);
        self.readers.notify_all();
        previous & CLOSED == 0
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        // SeqCst: a caller that sees the mark also sees everything ordered before the close.
        self.tail.index.load(Ordering::SeqCst) & CLOSED != 0
    }

    /// Shows each queued item to `visit`, oldest first, until it breaks. For the C layer's
    /// lfq_visit, which a garbage collector uses to see what a queue references.
    ///
    /// # Safety
    /// No push or pop runs during the call: the items are read where they lie.
    pub(crate) unsafe fn visit(&self, mut visit: impl FnMut(&T) -> ControlFlow<()>) {
        let _guard = pin();
        // SAFETY: pinned, and per the contract nothing moves an item out while we look.
        unsafe {
            self.for_each_item(|slot| visit(slot.value.with(|value| (*value).assume_init_ref())))
        };
    }

    /// Walks the slots that hold items, oldest first, until `each` breaks.
    ///
    /// # Safety
    /// No push or pop runs during the call, and the caller is pinned or owns the queue, so the
    /// segments from the head on stay allocated.
    unsafe fn for_each_item(&self, mut each: impl FnMut(&Slot<T>) -> ControlFlow<()>) {
        // Acquire loads: as in `pop_pinned`, so the segment found is at least as new as the
        // position, and the link and slot states read below are those the last pushes wrote.
        let mut position = self.head.position.load(Ordering::Acquire);
        let end = tail_position(self.tail.index.load(Ordering::Acquire));
        // SAFETY: per the contract; the head segment is reachable from the queue.
        let Some(mut segment) =
            (unsafe { Self::find(self.head.segment.load(Ordering::Acquire), position) })
        else {
            return;
        };
        while position < end {
            // SAFETY: `segment` is alive (the contract) and holds `position`.
            let slot = unsafe { (*segment).slot(position) };
            // Acquire: pairs with the producer's Release store of `state`. The other written
            // state, abandoned, holds nothing.
            if slot.state.load(Ordering::Acquire) == READY && each(slot).is_break() {
                return;
            }
            position += 1;
            // SAFETY: as above.
            if position < end && position - unsafe { (*segment).start } == SEGMENT_LEN {
                // Acquire: pairs with the Release link store in `claim`. Linked: a position
                // past this segment was claimed, and no claim is in flight (the contract).
                // SAFETY: as above.
                segment = unsafe { (*segment).next.load(Ordering::Acquire) };
                if segment.is_null() {
                    return;
                }
            }
        }
    }

    /// The number of items in the queue. Under concurrent pushes and pops this is a snapshot
    /// that may already be out of date.
    pub fn len(&self) -> usize {
        loop {
            // SeqCst loads: the tail is read twice around the head so the pair is consistent.
            let tail = self.tail.index.load(Ordering::SeqCst);
            let head = self.head.position.load(Ordering::SeqCst);
            if self.tail.index.load(Ordering::SeqCst) == tail {
                return tail_position(tail).saturating_sub(head);
            }
        }
    }

    /// Whether the queue holds no item (a snapshot, like [`len`](Self::len)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Always `None`: the queue is unbounded.
    pub fn capacity(&self) -> Option<usize> {
        None
    }
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl<T> Drop for Queue<T> {
    fn drop(&mut self) {
        // Frees the segments last, also when an item's drop panics.
        let _segments = FreeSegments(self);
        let walk = |each: &mut dyn FnMut(&UnsafeCell<MaybeUninit<T>>)| {
            // SAFETY: exclusive access: no operation is in flight, so every claimed slot has
            // been written, every position before the head has been read, and the segments from
            // the head segment on are the queue's own and unretired.
            unsafe {
                self.for_each_item(|slot| {
                    each(&slot.value);
                    ControlFlow::Continue(())
                })
            }
        };
        // SAFETY: as above, the walk shows exactly the live items, the same way every time.
        unsafe { crate::teardown::drop_each(&walk) };
    }
}

/// Frees a dropped queue's segments when dropped.
struct FreeSegments<'a, T>(&'a Queue<T>);

impl<T> Drop for FreeSegments<'_, T> {
    fn drop(&mut self) {
        // Relaxed: the queue is being dropped, so every other thread's accesses happened before
        // (the handover of ownership synchronised them).
        let mut segment = self.0.head.segment.load(Ordering::Relaxed);
        while !segment.is_null() {
            // SAFETY: the queue's own segments, from the head on, which nothing reaches any
            // more; each is freed once, after its link is read.
            unsafe {
                let next = (*segment).next.load(Ordering::Relaxed);
                Segment::free(segment);
                segment = next;
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::rc::Rc;

    /// A batch pop whose sink panics part way through a claim that spans two segments: the
    /// items not handed over are dropped, each exactly once, their slots are marked taken (so
    /// the segments can be recycled), and the queue goes on from the end of the claim.
    #[test]
    fn a_panicking_batch_sink_drops_the_rest_and_marks_them_taken() {
        let drops = Rc::new(());
        let q = Queue::new();
        for i in 0..SEGMENT_LEN + 20 {
            q.push((i, Rc::clone(&drops))).unwrap();
        }
        let claim = SEGMENT_LEN + 10;
        let mut handed = 0;
        let panicked = panic::catch_unwind(AssertUnwindSafe(|| {
            let _ = q.pop_batch(claim, claim, |_, item| {
                drop(item);
                handed += 1;
                assert!(handed < 5, "the sink gives up");
            });
        }));
        assert!(panicked.is_err());
        assert_eq!(handed, 5);
        // The panic skipped the retiring of the first segment: it is still the head segment.
        let first = q.head.segment.load(Ordering::Relaxed);
        assert_eq!(
            Rc::strong_count(&drops),
            1 + 10,
            "all but the last 10 dropped"
        );
        let states = |segment: *const Segment<(usize, Rc<()>)>| -> Vec<u8> {
            // SAFETY: single-threaded, and the segments from the head on are the queue's own.
            unsafe { &(*segment).slots }
                .iter()
                .map(|slot| slot.state.load(Ordering::Relaxed))
                .collect()
        };
        assert_eq!(states(first), [TAKEN; SEGMENT_LEN]);
        // SAFETY: as above; the first segment is full, so it is linked.
        let second = states(unsafe { (*first).next.load(Ordering::Relaxed) });
        assert_eq!(second[..10], [TAKEN; 10]);
        assert_eq!(second[10..20], [READY; 10]);
        let rest: Vec<usize> = std::iter::from_fn(|| q.pop().ok().map(|(i, _)| i)).collect();
        assert_eq!(rest, (claim..SEGMENT_LEN + 20).collect::<Vec<_>>());
        assert_eq!(Rc::strong_count(&drops), 1);
        // The last pop passed no segment end; a later one retires both segments.
        for i in 0..SEGMENT_LEN {
            q.push((i, Rc::clone(&drops))).unwrap();
        }
        assert_eq!(std::iter::from_fn(|| q.pop().ok()).count(), SEGMENT_LEN);
        assert_ne!(q.head.segment.load(Ordering::Relaxed), first);
    }
}
