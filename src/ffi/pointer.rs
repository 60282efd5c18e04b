//! Pointer payload: `void *` items moved through the queue without copying.

use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::ops::ControlFlow;

use super::engine::{self, Backend, BatchError, Timeout};
use super::lfq_status::{self, *};
use super::{handle, lfq_queue, lfq_visit_fn, run, run_counted, Engine};
use crate::error::Missed;

/// A C pointer travelling through the queue. lfq never dereferences it; what it points to is
/// owned by the C program, which decides how threads share it.
#[derive(Clone, Copy)]
pub(crate) struct Item(pub(crate) *mut c_void);

// SAFETY: an Item is only an address handed from one C thread to another; lfq never reads
// through it, and synchronising access to the pointee is the C program's job, exactly as when
// it passes pointers through any other queue.
unsafe impl Send for Item {}

/// Dispatches `$body` over the pointer engine of `$q`, or fails with LFQ_ERR_WRONG_KIND.
macro_rules! with_pointer_engine {
    ($q:expr, $e:ident => $body:expr) => {
        match &$q.engine {
            Engine::PointerQueue($e) => $body,
            Engine::PointerRing($e) => $body,
            Engine::BytesQueue(_) | Engine::BytesRing(_) => Err(LFQ_ERR_WRONG_KIND.into()),
        }
    };
}

/// Largest element count whose array of pointers or messages fits in the address space.
pub(crate) fn max_elements<T>() -> usize {
    isize::MAX as usize / std::mem::size_of::<T>().max(1)
}

/// Borrows a caller's input array of `n > 0` elements.
///
/// # Safety
/// `ptr` must be NULL or valid for reading `n` elements for the returned lifetime.
pub(crate) unsafe fn input_array<'a, T>(ptr: *const T, n: usize) -> Result<&'a [T], lfq_status> {
    if ptr.is_null() || n > max_elements::<T>() {
        return Err(LFQ_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL, size checked above, readable per the contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, n) })
}

/// Borrows a caller's output array of `n > 0` elements, which may be uninitialised.
///
/// # Safety
/// `ptr` must be NULL or valid for writing `n` elements for the returned lifetime, and not
/// aliased by any other reference during it.
pub(crate) unsafe fn output_array<'a, T>(
    ptr: *mut T,
    n: usize,
) -> Result<&'a mut [MaybeUninit<T>], lfq_status> {
    if ptr.is_null() || n > max_elements::<T>() {
        return Err(LFQ_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL, size checked above, writable and unaliased per the contract;
    // MaybeUninit makes no claim about the current contents.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr.cast::<MaybeUninit<T>>(), n) })
}

/// Pushes one pointer item.
///
/// - Thread-safety: thread-safe (any number of producers and consumers).
/// - Ownership: on LFQ_OK the queue holds `item` until a pop hands it out (or lfq_destroy
///   passes it to item_free); on any other status the caller keeps it. `item` may be NULL.
/// - Blocking: only on a full ring with timeout_ns != 0: < 0 sleeps until there is room or the
///   queue closes, > 0 sleeps at most that many nanoseconds. An unbounded queue never waits.
/// - Returns LFQ_OK, LFQ_FULL (full ring, timeout 0), LFQ_TIMEOUT, LFQ_CLOSED,
///   LFQ_ERR_INVALID_ARGUMENT (NULL handle), LFQ_ERR_NO_MEMORY (an unbounded queue could not
///   grow), LFQ_ERR_WRONG_KIND (bytes queue).
///
/// # Safety
/// `q` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn lfq_push(
    q: *mut lfq_queue,
    item: *mut c_void,
    timeout_ns: i64,
) -> lfq_status {
    // The fast path: the engine's first-try push, which has no panic path and so runs outside
    // `catch_unwind`; it also answers a try-once push on a ring whose slot shows it full. A call
    // that needs more (an error status, a wait, a lost race) starts over in `push_slow`. With
    // everything else out of line, the common call needs no stack frame and almost no register
    // saves (BENCHMARKS.md, run I).
    // SAFETY: forwarded caller contract.
    match unsafe { handle(q) }.map(|q| &q.engine) {
        Ok(Engine::PointerQueue(e)) if e.push_fast(Item(item)).is_ok() => return LFQ_OK,
        Ok(Engine::PointerRing(e)) => match e.push_fast(Item(item)) {
            Ok(()) => return LFQ_OK,
            Err((_, Missed::FullOrEmpty)) if timeout_ns == 0 => return LFQ_FULL,
            Err(_) => {}
        },
        _ => {}
    }
    // SAFETY: forwarded caller contract.
    unsafe { push_slow(q, item, timeout_ns) }
}

/// lfq_push past its fast path: every check and status, the waiting, and `catch_unwind`.
/// `extern "C"`, which cannot unwind, so that the entry points reach it by a plain jump: with a
/// Rust callee they would keep a frame for the abort-on-unwind guard around the call.
///
/// # Safety
/// As for lfq_push.
#[inline(never)]
unsafe extern "C" fn push_slow(
    q: *mut lfq_queue,
    item: *mut c_void,
    timeout_ns: i64,
) -> lfq_status {
    run(|| {
        // SAFETY: forwarded caller contract.
        let q = unsafe { handle(q) }?;
        let timeout = Timeout::from_ns(timeout_ns);
        with_pointer_engine!(q, e => e.push_one(Item(item), timeout))
    })
}

/// Pops one pointer item into `*item_out`.
///
/// - Thread-safety: thread-safe.
/// - Ownership: on LFQ_OK the caller owns the item; `*item_out` is unchanged otherwise.
/// - Blocking: only when empty with timeout_ns != 0: < 0 sleeps until an item arrives or the
///   queue is closed, > 0 sleeps at most that many nanoseconds. With timeout 0 it never sleeps.
///   It waits out another thread's push that has claimed the oldest position and not yet
///   written it, so LFQ_EMPTY means the queue was empty.
/// - Returns LFQ_OK, LFQ_EMPTY (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED (closed and drained),
///   LFQ_ERR_INVALID_ARGUMENT (NULL handle or `item_out`), LFQ_ERR_WRONG_KIND (bytes queue).
///
/// # Safety
/// `q` must be NULL or a live handle; `item_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lfq_pop(
    q: *mut lfq_queue,
    item_out: *mut *mut c_void,
    timeout_ns: i64,
) -> lfq_status {
    // The fast path, as in lfq_push.
    // SAFETY: forwarded caller contract.
    let popped = match unsafe { handle(q) }.map(|q| &q.engine) {
        _ if item_out.is_null() => None,
        // SAFETY: forwarded caller contract; `item_out` is not NULL.
        Ok(Engine::PointerQueue(e)) => match e.pop_fast() {
            Ok(item) => Some(item),
            Err(Missed::FullOrEmpty) if timeout_ns == 0 => return LFQ_EMPTY,
            Err(Missed::Undecided | Missed::FullOrEmpty) => None,
        },
        Ok(Engine::PointerRing(e)) => match e.pop_fast(true) {
            Ok(item) => Some(item),
            Err(Missed::FullOrEmpty) if timeout_ns == 0 => return LFQ_EMPTY,
            Err(Missed::Undecided | Missed::FullOrEmpty) => None,
        },
        _ => None,
    };
    if let Some(Item(item)) = popped {
        // SAFETY: non-NULL and writable per the contract.
        unsafe { item_out.write(item) };
        return LFQ_OK;
    }
    // SAFETY: forwarded caller contract.
    unsafe { pop_slow(q, item_out, timeout_ns) }
}

/// lfq_pop past its fast path, as `push_slow`.
///
/// # Safety
/// As for lfq_pop.
#[inline(never)]
unsafe extern "C" fn pop_slow(
    q: *mut lfq_queue,
    item_out: *mut *mut c_void,
    timeout_ns: i64,
) -> lfq_status {
    run(|| {
        // SAFETY: forwarded caller contract.
        let q = unsafe { handle(q) }?;
        let timeout = Timeout::from_ns(timeout_ns);
        with_pointer_engine!(q, e => {
            if item_out.is_null() {
                return Err(LFQ_ERR_INVALID_ARGUMENT);
            }
            let Item(item) = e.pop_one(timeout).map_err(engine::pop_error)?;
            // SAFETY: non-NULL and writable per the contract.
            unsafe { item_out.write(item) };
            Ok(())
        })
    })
}

/// Shared body of lfq_push_bulk / lfq_push_burst.
///
/// # Safety
/// As for those functions.
// Inlined into each entry point, as is push_until's first attempt: a batch that goes through at
// once makes one call, into the engine.
#[inline(always)]
unsafe fn push_array(
    q: *mut lfq_queue,
    items: *const *mut c_void,
    n: usize,
    all: bool,
    timeout_ns: i64,
) -> Result<usize, BatchError> {
    // SAFETY: forwarded caller contract.
    let q = unsafe { handle(q) }?;
    with_pointer_engine!(q, e => {
        if n == 0 {
            return Ok(0);
        }
        // SAFETY: forwarded caller contract: `items` holds `n` readable pointers.
        let items = unsafe { input_array(items, n) }?;
        let min = if all { n } else { 1 };
        // Unchecked indexing: a bounds check per item costs batches a tenth of their speed.
        let make = |i: usize| {
            debug_assert!(i < items.len());
            // SAFETY: push_until asks only for items numbered below `n`, the length of `items`.
            Item(*unsafe { items.get_unchecked(i) })
        };
        engine::push_until(e, n, min, Timeout::from_ns(timeout_ns), make)
    })
}

/// Shared body of lfq_pop_bulk / lfq_pop_burst.
///
/// # Safety
/// As for those functions.
// Inlined, as push_array.
#[inline(always)]
unsafe fn pop_array(
    q: *mut lfq_queue,
    items: *mut *mut c_void,
    n: usize,
    all: bool,
    timeout_ns: i64,
) -> Result<usize, lfq_status> {
    // SAFETY: forwarded caller contract.
    let q = unsafe { handle(q) }?;
    with_pointer_engine!(q, e => {
        if n == 0 {
            return Ok(0);
        }
        // SAFETY: forwarded caller contract: `items` has room for `n` pointers.
        let out = unsafe { output_array(items, n) }?;
        // Unchecked indexing, as in push_array.
        let sink = |i: usize, Item(p)| {
            debug_assert!(i < out.len());
            // SAFETY: pop_until numbers the items it hands out below its `max`, which is `n`,
            // the length of `out`.
            unsafe { out.get_unchecked_mut(i) }.write(p);
        };
        engine::pop_until(e, if all { n } else { 1 }, n, Timeout::from_ns(timeout_ns), sink)
    })
}

/// Pushes all `n` pointers of `items`, in order, or none (DPDK "bulk").
///
/// - Thread-safety: thread-safe; the `n` items land contiguously in queue order (on an unbounded
///   queue, up to 8,128 of them: a longer bulk lands in runs of at least that many).
/// - Ownership: on LFQ_OK the queue holds all `n` items; otherwise the caller keeps all of them,
///   with one exception: on an unbounded queue that another thread closes during the call, or
///   that cannot grow, the push may stop part way with LFQ_CLOSED or LFQ_ERR_NO_MEMORY. The
///   queue then holds the first `*pushed` items (they will be popped like any other), and the
///   caller keeps the rest. The `items` array
///   itself stays the caller's and is not retained.
/// - Blocking: with timeout_ns != 0 on a ring without room for all `n`, waits (< 0 until room or
///   close, > 0 at most that many nanoseconds); an unbounded queue never waits. The wait polls,
///   yielding and then sleeping in naps of up to 1 ms, so it may notice room or close that late.
/// - `*pushed` (if `pushed` is not NULL) is set on every return: `n` on LFQ_OK, else 0 but for
///   the exception above.
/// - Returns LFQ_OK (also for n == 0), LFQ_FULL (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED,
///   LFQ_ERR_INVALID_ARGUMENT (NULL handle, `items` NULL with n > 0, or n larger than the ring's
///   capacity), LFQ_ERR_NO_MEMORY, LFQ_ERR_WRONG_KIND.
///
/// # Safety
/// `q` must be NULL or a live handle; `items` must hold `n` pointers; `pushed` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lfq_push_bulk(
    q: *mut lfq_queue,
    items: *const *mut c_void,
    n: usize,
    pushed: *mut usize,
    timeout_ns: i64,
) -> lfq_status {
    // SAFETY: forwarded caller contract.
    unsafe { run_counted(pushed, || push_array(q, items, n, true, timeout_ns)) }
}

/// Pushes as many of the `n` pointers of `items` as fit, at least one, in order, from the
/// front of the array (DPDK "burst").
///
/// - Thread-safety: thread-safe.
/// - Ownership: the queue holds the first `*pushed` items; the caller keeps the rest.
/// - Blocking: with timeout_ns != 0 on a full ring, waits for room for at least one item
///   (< 0 until room or close, > 0 at most that many nanoseconds).
/// - `*pushed` (if `pushed` is not NULL) is set on every return: the count pushed, 0 on failure.
/// - Returns LFQ_OK (1..n pushed; also for n == 0, and when an unbounded queue could grow only
///   part of the way), LFQ_FULL (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED,
///   LFQ_ERR_INVALID_ARGUMENT (NULL handle, `items` NULL with n > 0), LFQ_ERR_NO_MEMORY (not
///   even one pushed), LFQ_ERR_WRONG_KIND.
///
/// # Safety
/// `q` must be NULL or a live handle; `items` must hold `n` pointers; `pushed` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lfq_push_burst(
    q: *mut lfq_queue,
    items: *const *mut c_void,
    n: usize,
    pushed: *mut usize,
    timeout_ns: i64,
) -> lfq_status {
    // SAFETY: forwarded caller contract.
    unsafe { run_counted(pushed, || push_array(q, items, n, false, timeout_ns)) }
}

/// Pops exactly `n` items into `items[0..n]`, in queue order, or none (DPDK "bulk").
///
/// - Thread-safety: thread-safe; the `n` items are contiguous in queue order.
/// - Ownership: on LFQ_OK the caller owns the `n` items; otherwise `items` is untouched.
/// - Blocking: with timeout_ns != 0, waits until `n` items are there (timeout_ns < 0: until
///   then or close; > 0: at most that many nanoseconds). The wait polls, yielding and then
///   sleeping in naps of up to 1 ms, so it may notice the items or close that late.
/// - `*popped` (if `popped` is not NULL) is set on every return: `n` on LFQ_OK, else 0.
/// - Returns LFQ_OK (also for n == 0), LFQ_EMPTY (fewer than n, timeout 0), LFQ_TIMEOUT,
///   LFQ_CLOSED (closed with fewer than n items left: drain them with lfq_pop_burst),
///   LFQ_ERR_INVALID_ARGUMENT (NULL handle, `items` NULL with n > 0, or n larger than the ring's
///   capacity), LFQ_ERR_WRONG_KIND.
///
/// # Safety
/// `q` must be NULL or a live handle; `items` must have room for `n` pointers; `popped` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn lfq_pop_bulk(
    q: *mut lfq_queue,
    items: *mut *mut c_void,
    n: usize,
    popped: *mut usize,
    timeout_ns: i64,
) -> lfq_status {
    // SAFETY: forwarded caller contract.
    unsafe { run_counted(popped, || pop_array(q, items, n, true, timeout_ns)) }
}

/// Pops between 1 and `n` items into `items[0..*popped]`, in queue order (DPDK "burst").
///
/// - Thread-safety: thread-safe.
/// - Ownership: the caller owns the `*popped` items returned.
/// - Blocking: with timeout_ns != 0 on an empty queue, waits for at least one item (< 0 until
///   one arrives or the queue is closed, > 0 at most that many nanoseconds).
/// - `*popped` (if `popped` is not NULL) is set on every return: the count, 0 on failure.
/// - Returns LFQ_OK (also for n == 0), LFQ_EMPTY (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED (closed
///   and drained), LFQ_ERR_INVALID_ARGUMENT (NULL handle, `items` NULL with n > 0),
///   LFQ_ERR_WRONG_KIND.
///
/// # Safety
/// `q` must be NULL or a live handle; `items` must have room for `n` pointers; `popped` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn lfq_pop_burst(
    q: *mut lfq_queue,
    items: *mut *mut c_void,
    n: usize,
    popped: *mut usize,
    timeout_ns: i64,
) -> lfq_status {
    // SAFETY: forwarded caller contract.
    unsafe { run_counted(popped, || pop_array(q, items, n, false, timeout_ns)) }
}

/// Calls `visit(item, context)` for each item still queued, oldest first, without taking any,
/// until `visit` returns non-zero. It lets a garbage collector see what a queue of its objects
/// references (the Python binding's cycle collector support uses it).
///
/// - Thread-safety: NOT thread-safe with pushes and pops on `q`: the items are read where they
///   lie, so the caller must make sure that no push or pop on `q` runs during the call (waits
///   such as lfq_wait_readable may). Calls on other queues are unaffected.
/// - Ownership: each item stays the queue's; `visit` must not push to or pop from `q`.
/// - Blocking: never blocks.
/// - Returns LFQ_OK (also when `visit` stopped the walk), LFQ_ERR_INVALID_ARGUMENT (NULL handle
///   or `visit`), LFQ_ERR_WRONG_KIND (bytes queue).
///
/// # Safety
/// `q` must be NULL or a live handle, with no push or pop on it during the call.
#[no_mangle]
pub unsafe extern "C" fn lfq_visit(
    q: *const lfq_queue,
    visit: lfq_visit_fn,
    context: *mut c_void,
) -> lfq_status {
    run(|| {
        // SAFETY: forwarded caller contract.
        let q = unsafe { handle(q) }?;
        let visit = visit.ok_or(LFQ_ERR_INVALID_ARGUMENT)?;
        let each = |Item(item): &Item| {
            // SAFETY: a C function pointer the caller passed for this purpose.
            match unsafe { visit(*item, context) } {
                0 => ControlFlow::Continue(()),
                _ => ControlFlow::Break(()),
            }
        };
        with_pointer_engine!(q, e => {
            // SAFETY: the caller guarantees no push or pop on `q` during the call.
            unsafe { e.visit(each) };
            Ok(())
        })
    })
}
