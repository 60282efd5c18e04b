//! Direct access to a bytes ring's memory, for language bindings whose calls into C cost more
//! than the queue operation itself (a cgo call is several times a push). Such a binding runs the
//! ring's slot protocol on the published memory with its own atomics and calls into the library
//! only for the rare cases: a wakeup, a close, a full or empty ring, a message that needs the
//! heap. io_uring publishes its rings to user space the same way.
//!
//! The doc comment of [`lfq_ring_map`] is the protocol's specification (it goes into lfq.h); it
//! restates what `Ring::push` and `Ring::pop` do, which are the reference implementation.

use super::lfq_status::{self, *};
use super::{handle, lfq_queue, run, Engine, Message};
use crate::ring::{CLOSED, SHIFT};
use crate::Ring;

/// Version of the lfq_ring_map protocol below. A binding checks lfq_ring_map.version and falls
/// back to the ordinary calls if it differs from the one it was written for.
pub const LFQ_RING_MAP_VERSION: u32 = 1;

/// The shared memory of a bytes ring, for bindings that move small messages without calling
/// into the library (filled by lfq_map_ring). All words are naturally aligned and must be
/// accessed with sequentially consistent atomic operations where this says "atomic".
///
/// Positions. `one_lap` is a power of two >= `capacity`. A position p names the slot
/// `p & (one_lap - 1)` (always < capacity). The position after p is p + 1, unless
/// `(p & (one_lap - 1)) + 1 == capacity`, in which case it is `(p & ~(one_lap - 1)) + one_lap`.
/// Position arithmetic wraps modulo 2^64 (2^32 on 32-bit targets).
///
/// Slot i starts at `slots + i * slot_size`. Its stamp is the size_t at `stamp_offset`, its
/// message the lfq_message at `message_offset`.
///
/// To send a message of at most LFQ_INLINE_MESSAGE_SIZE bytes (and at most
/// lfq_max_message_size):
/// 1. t = atomic load of *tail. If `t & LFQ_RING_MAP_CLOSED`, use lfq_send instead.
///    Otherwise p = t >> LFQ_RING_MAP_SHIFT.
/// 2. If the atomic load of slot(p)'s stamp is not p, the ring is full or t is stale: use
///    lfq_send instead.
/// 3. Atomic compare-and-swap *tail from t to (position after p) << LFQ_RING_MAP_SHIFT. If it
///    fails, start again at 1 (or use lfq_send).
/// 4. Write the slot's message: size, heap = NULL, the bytes in inline_bytes and zeros in the
///    rest of inline_bytes.
/// 5. Atomic store p + 1 into the stamp: the message is published.
/// 6. If the atomic load of *readers_waiting is not 0, call lfq_notify_readable.
///
/// To receive:
/// 1. h = atomic load of *head.
/// 2. If the atomic load of slot(h)'s stamp is not h + 1, the ring is empty (or closed and
///    empty, or h is stale): use lfq_recv instead.
/// 3. Atomic compare-and-swap *head from h to the position after h. If it fails, start again.
/// 4. Copy the slot's lfq_message out. If its heap is not NULL, the block is now the receiver's:
///    release the copy with lfq_message_release once its bytes are read.
/// 5. Atomic store h + one_lap into the stamp: the slot is free for the next lap.
/// 6. If the atomic load of *writers_waiting is not 0, call lfq_notify_writable.
///
/// Batches claim k consecutive positions with one compare-and-swap in step 3 after checking the
/// k stamps in step 2, then do steps 4 and 5 for each and step 6 once. Stamps may be stored in
/// any order; a sender that stores the first one last lets receivers take the whole batch at once,
/// where they would otherwise trail it a slot or two at a time.
///
/// Between steps 3 and 5 the claimed slot is the caller's alone, and other threads wait for it;
/// keep that stretch short. Ordinary lfq calls may run on the same ring at the same time; the
/// mapped protocol and the library's own calls interoperate fully, per-producer order included.
/// The addresses are valid until lfq_destroy.
#[repr(C)]
pub struct lfq_ring_map {
    /// LFQ_RING_MAP_VERSION of the library that filled this in.
    pub version: u32,
    /// The position of the next receive (atomic).
    pub head: *mut usize,
    /// The position of the next send, shifted left by LFQ_RING_MAP_SHIFT, with the
    /// LFQ_RING_MAP_CLOSED bit set once the ring is closed (atomic).
    pub tail: *mut usize,
    /// How many threads sleep until a message arrives (atomic; read it, never write it).
    pub readers_waiting: *mut u32,
    /// How many threads sleep until room appears (atomic; read it, never write it).
    pub writers_waiting: *mut u32,
    /// The first slot.
    pub slots: *mut u8,
    /// Bytes from one slot to the next.
    pub slot_size: usize,
    /// Where a slot's stamp (a size_t) sits within the slot.
    pub stamp_offset: usize,
    /// Where a slot's lfq_message sits within the slot.
    pub message_offset: usize,
    /// How many slots there are (the ring's capacity).
    pub capacity: usize,
    /// A power of two >= capacity: positions advance by one_lap per lap.
    pub one_lap: usize,
}

/// The closed bit of lfq_ring_map.tail.
pub const LFQ_RING_MAP_CLOSED: usize = 1;
/// How far lfq_ring_map.tail shifts the send position left.
pub const LFQ_RING_MAP_SHIFT: usize = 1;

// Literals for cbindgen, held to the ring's own encoding.
const _: () = assert!(LFQ_RING_MAP_CLOSED == CLOSED && LFQ_RING_MAP_SHIFT == SHIFT);

/// Fills *map with the shared memory of a bytes ring (lfq_ring_map describes the protocol).
///
/// - Thread-safety: thread-safe.
/// - Ownership: the memory stays the library's; the addresses are valid until lfq_destroy.
/// - Returns LFQ_OK, LFQ_ERR_WRONG_KIND (a pointer-payload queue), LFQ_ERR_INVALID_ARGUMENT
///   (NULL handle or map, or an unbounded queue, which has no ring). Does not block.
///
/// # Safety
/// `q` must be NULL or a live handle; `map` NULL or valid for writing an lfq_ring_map.
#[no_mangle]
pub unsafe extern "C" fn lfq_map_ring(q: *const lfq_queue, map: *mut lfq_ring_map) -> lfq_status {
    run(|| {
        // SAFETY: forwarded caller contract.
        let q = unsafe { handle(q) }?;
        if map.is_null() {
            return Err(LFQ_ERR_INVALID_ARGUMENT);
        }
        let raw = match &q.engine {
            Engine::BytesRing(ring) => ring.raw(),
            Engine::BytesQueue(_) => return Err(LFQ_ERR_INVALID_ARGUMENT),
            Engine::PointerQueue(_) | Engine::PointerRing(_) => return Err(LFQ_ERR_WRONG_KIND),
        };
        // SAFETY: non-NULL and, per the contract, valid for writes.
        unsafe {
            map.write(lfq_ring_map {
                version: LFQ_RING_MAP_VERSION,
                head: raw.head,
                tail: raw.tail,
                readers_waiting: raw.readers_waiting,
                writers_waiting: raw.writers_waiting,
                slots: raw.slots,
                slot_size: raw.slot_size,
                stamp_offset: raw.stamp_offset,
                message_offset: raw.value_offset,
                capacity: raw.capacity,
                one_lap: raw.one_lap,
            })
        };
        Ok(())
    })
}

/// Wakes up to `count` threads sleeping until a message arrives, after a send made through
/// lfq_map_ring's memory found *readers_waiting non-zero. Harmless when nobody sleeps.
///
/// - Thread-safety: thread-safe. Does not block.
/// - Returns LFQ_OK, LFQ_ERR_WRONG_KIND (a pointer-payload queue), LFQ_ERR_INVALID_ARGUMENT
///   (NULL handle, or an unbounded queue).
///
/// # Safety
/// `q` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn lfq_notify_readable(q: *const lfq_queue, count: usize) -> lfq_status {
    // SAFETY: forwarded caller contract.
    unsafe { notify(q, |ring| ring.notify_readers(count)) }
}

/// Wakes up to `count` threads sleeping until room appears, after a receive made through
/// lfq_map_ring's memory found *writers_waiting non-zero. Harmless when nobody sleeps.
///
/// - Thread-safety: thread-safe. Does not block.
/// - Returns LFQ_OK, LFQ_ERR_WRONG_KIND (a pointer-payload queue), LFQ_ERR_INVALID_ARGUMENT
///   (NULL handle, or an unbounded queue).
///
/// # Safety
/// `q` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn lfq_notify_writable(q: *const lfq_queue, count: usize) -> lfq_status {
    // SAFETY: forwarded caller contract.
    unsafe { notify(q, |ring| ring.notify_writers(count)) }
}

/// Runs `wake` on the bytes ring behind `q`.
///
/// # Safety
/// `q` must be NULL or a live handle.
unsafe fn notify(q: *const lfq_queue, wake: impl FnOnce(&Ring<Message>)) -> lfq_status {
    run(|| {
        // SAFETY: forwarded caller contract.
        match &unsafe { handle(q) }?.engine {
            Engine::BytesRing(ring) => {
                wake(ring);
                Ok(())
            }
            // As lfq_map_ring classifies them: only a bytes ring has waiters to wake this way.
            Engine::BytesQueue(_) => Err(LFQ_ERR_INVALID_ARGUMENT),
            Engine::PointerQueue(_) | Engine::PointerRing(_) => Err(LFQ_ERR_WRONG_KIND),
        }
    })
}
