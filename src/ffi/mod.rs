//! The C ABI (generated into `include/lfq.h` by build.rs through cbindgen).
//!
//! This layer is deliberately thin: it checks arguments, picks the engine instance behind the
//! handle, maps engine results to [`lfq_status`] codes and hands ownership across the boundary.
//! Every entry point runs its body under `catch_unwind`, so a Rust panic (a bug in lfq) turns
//! into `LFQ_ERR_INTERNAL` instead of unwinding into C. The one exception is the fast path of
//! lfq_push and lfq_pop (pointer.rs), which calls only engine code written to have no panic path
//! and hands everything else to a body under `catch_unwind`.
//!
//! The doc comments on the `pub` items here are copied into the header, so they are written for
//! C programmers.

#![deny(unsafe_op_in_unsafe_fn)]
// The C names (lfq_queue, LFQ_OK, ...) are the contract; Rust naming rules do not apply here.
#![allow(non_camel_case_types, clippy::enum_variant_names)]

mod engine;
mod message;
mod pointer;
#[cfg(not(loom))]
mod ring_map;

use std::alloc::Layout;
use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::{Queue, Ring};
use engine::{Backend, BatchError, Timeout};
use message::Message;
use pointer::Item;

/// Major version of the library (the SONAME is liblfq.so.<major>).
pub const LFQ_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const LFQ_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const LFQ_VERSION_PATCH: u32 = 0;

/// Messages up to this many bytes travel inside the queue slot and inside `lfq_message`
/// without any heap allocation.
pub const LFQ_INLINE_MESSAGE_SIZE: usize = 64;
/// The maximum message size of a bytes queue whose options leave `max_message_size` at 0.
pub const LFQ_DEFAULT_MAX_MESSAGE_SIZE: usize = 65536;
/// The largest `max_message_size` a bytes queue accepts (1 GiB).
pub const LFQ_MAX_MESSAGE_SIZE_LIMIT: usize = 1073741824;
/// The largest capacity `lfq_ring_new` accepts (2^40); larger ones are LFQ_ERR_INVALID_ARGUMENT.
pub const LFQ_MAX_CAPACITY: usize = 1099511627776;

// The version macros are written out as literals for cbindgen; fail the build if they ever
// disagree with Cargo.toml.
const _: () = {
    assert!(LFQ_VERSION_MAJOR == parse_version(env!("CARGO_PKG_VERSION_MAJOR")));
    assert!(LFQ_VERSION_MINOR == parse_version(env!("CARGO_PKG_VERSION_MINOR")));
    assert!(LFQ_VERSION_PATCH == parse_version(env!("CARGO_PKG_VERSION_PATCH")));
};

const fn parse_version(s: &str) -> u32 {
    let bytes = s.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

/// Result of every fallible lfq call. Values >= 0 are outcomes of a valid call; values < 0
/// are errors in the call itself (or in lfq, for LFQ_ERR_INTERNAL).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum lfq_status {
    /// Success.
    LFQ_OK = 0,
    /// Nothing to pop or receive (timeout 0).
    LFQ_EMPTY = 1,
    /// No room to push or send (timeout 0).
    LFQ_FULL = 2,
    /// The queue is closed: a push was refused, or a pop found it closed and drained.
    LFQ_CLOSED = 3,
    /// A positive timeout expired.
    LFQ_TIMEOUT = 4,
    /// NULL handle or out-pointer, capacity 0 or absurd, bad buffer or option, ...
    LFQ_ERR_INVALID_ARGUMENT = -1,
    /// A pointer call on a bytes queue, or a bytes call on a pointer queue.
    LFQ_ERR_WRONG_KIND = -2,
    /// A message larger than the queue's max_message_size.
    LFQ_ERR_TOO_LARGE = -3,
    /// Memory could not be allocated.
    LFQ_ERR_NO_MEMORY = -4,
    /// A panic was caught inside lfq: a bug in lfq, please report it.
    LFQ_ERR_INTERNAL = -5,
}

use lfq_status::*;

/// The kind of items a queue carries, fixed when it is created.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum lfq_payload {
    /// `void *` items, moved without copying; the caller owns what they point to.
    LFQ_PAYLOAD_POINTER = 0,
    /// Byte messages, copied in on send and out on receive.
    LFQ_PAYLOAD_BYTES = 1,
    /// Returned by lfq_payload_of() for a NULL handle; not valid in lfq_options.
    LFQ_PAYLOAD_NONE = -1,
}

/// An `lfq_status` value as it arrives from C. The header spells it `lfq_status`; Rust reads
/// it as a plain integer because C may pass any value, and an out-of-range enum is undefined
/// behaviour in Rust.
pub type StatusCode = i32;
/// An `lfq_payload` value as it arrives from C (see [`StatusCode`] for why it is an integer).
pub type PayloadCode = i32;

/// Called by lfq_destroy() once for each pointer item still queued, with the context from
/// lfq_options, so that the caller can release what the items point to.
pub type lfq_item_free_fn = Option<unsafe extern "C" fn(item: *mut c_void, context: *mut c_void)>;

/// Called by lfq_visit() with each pointer item still queued, oldest first, and the caller's
/// context. Returning non-zero stops the walk.
pub type lfq_visit_fn =
    Option<unsafe extern "C" fn(item: *mut c_void, context: *mut c_void) -> c_int>;

/// Options for lfq_queue_new() and lfq_ring_new(). Zero-initialise it and set what you need;
/// passing NULL instead of options gives a pointer queue with no item_free callback.
#[repr(C)]
pub struct lfq_options {
    /// LFQ_PAYLOAD_POINTER (the zero value) or LFQ_PAYLOAD_BYTES.
    pub payload: PayloadCode,
    /// Bytes queues only (must be 0 for pointer queues): the largest message accepted, at most
    /// LFQ_MAX_MESSAGE_SIZE_LIMIT; 0 means LFQ_DEFAULT_MAX_MESSAGE_SIZE.
    pub max_message_size: usize,
    /// Pointer queues only (must be NULL for bytes queues): called by lfq_destroy() once per
    /// item still queued. May be NULL, in which case leftover items are simply forgotten.
    pub item_free: lfq_item_free_fn,
    /// Passed unchanged as the second argument of item_free.
    pub item_free_context: *mut c_void,
}

/// One engine instance: the handle's payload kind and boundedness decide which.
enum Engine {
    PointerQueue(Queue<Item>),
    PointerRing(Ring<Item>),
    BytesQueue(Queue<Message>),
    BytesRing(Ring<Message>),
}

/// An lfq queue: unbounded (lfq_queue_new) or a bounded ring (lfq_ring_new), carrying pointer
/// items or byte messages. Opaque; always used through a pointer.
pub struct lfq_queue {
    /// [`LIVE`] while the handle is usable; overwritten when it is destroyed so that a second
    /// lfq_destroy (or a later call) on the same pointer is usually refused rather than freeing
    /// twice. Best effort only: using a destroyed handle stays undefined behaviour in C.
    magic: u64,
    engine: Engine,
    max_message_size: usize,
    item_free: lfq_item_free_fn,
    item_free_context: *mut c_void,
}

const LIVE: u64 = 0x6c66_715f_6c69_7665; // "lfq_live"
const DEAD: u64 = 0x6c66_715f_6465_6164; // "lfq_dead"

/// Turns a handle pointer from C into a reference, refusing NULL and destroyed handles.
///
/// # Safety
/// `q` must be NULL or a pointer returned by lfq_queue_new / lfq_ring_new that has not been
/// passed to lfq_destroy, and no lfq_destroy may run concurrently.
unsafe fn handle<'a>(q: *const lfq_queue) -> Result<&'a lfq_queue, lfq_status> {
    // SAFETY: per this function's contract `q` is NULL or points to a live lfq_queue that
    // outlives the current call (lfq_destroy is not allowed to race with other calls).
    match unsafe { q.as_ref() } {
        Some(h) if h.magic == LIVE => Ok(h),
        _ => Err(LFQ_ERR_INVALID_ARGUMENT),
    }
}

/// Runs an entry point's body, turning a panic into LFQ_ERR_INTERNAL.
#[inline(always)]
fn run(body: impl FnOnce() -> Result<(), lfq_status>) -> lfq_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => LFQ_OK,
        Ok(Err(status)) => status,
        Err(_) => LFQ_ERR_INTERNAL,
    }
}

/// Like [`run`] for calls that report a count: the count is stored through `count_out` (when
/// not NULL) on every return; a failure stores what it moved, which is 0 but for the case
/// `BatchError` describes.
///
/// # Safety
/// `count_out` must be NULL or valid for writing a `size_t`.
#[inline(always)]
unsafe fn run_counted<E: Into<BatchError>>(
    count_out: *mut usize,
    body: impl FnOnce() -> Result<usize, E>,
) -> lfq_status {
    let (status, count) = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(n)) => (LFQ_OK, n),
        Ok(Err(e)) => {
            let BatchError { status, moved } = e.into();
            (status, moved)
        }
        Err(_) => (LFQ_ERR_INTERNAL, 0),
    };
    if !count_out.is_null() {
        // SAFETY: non-NULL and, per the caller's contract, valid for writes.
        unsafe { count_out.write(count) };
    }
    status
}

/// Like [`run`] for queries that cannot fail: a panic gives `fallback`.
#[inline(always)]
fn run_query<R>(fallback: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Reads the options struct field by field through raw pointers, so that an out-of-range
/// payload value from C is rejected rather than being read as a Rust enum.
///
/// # Safety
/// `options` must be NULL or valid for reading an `lfq_options`.
unsafe fn read_options(options: *const lfq_options) -> Result<Settings, lfq_status> {
    if options.is_null() {
        return Ok(Settings {
            bytes: false,
            max_message_size: 0,
            item_free: None,
            item_free_context: std::ptr::null_mut(),
        });
    }
    // SAFETY: non-NULL and valid for reads per the contract; every field type accepts any bit
    // pattern except `item_free`, whose NULL/non-NULL function pointer is what C stores there.
    let (payload, max, item_free, context) = unsafe {
        (
            std::ptr::addr_of!((*options).payload).read(),
            std::ptr::addr_of!((*options).max_message_size).read(),
            std::ptr::addr_of!((*options).item_free).read(),
            std::ptr::addr_of!((*options).item_free_context).read(),
        )
    };
    match payload {
        p if p == lfq_payload::LFQ_PAYLOAD_POINTER as i32 => {
            if max != 0 {
                return Err(LFQ_ERR_INVALID_ARGUMENT);
            }
            Ok(Settings {
                bytes: false,
                max_message_size: 0,
                item_free,
                item_free_context: context,
            })
        }
        p if p == lfq_payload::LFQ_PAYLOAD_BYTES as i32 => {
            if item_free.is_some() || max > LFQ_MAX_MESSAGE_SIZE_LIMIT {
                return Err(LFQ_ERR_INVALID_ARGUMENT);
            }
            let max_message_size = if max == 0 {
                LFQ_DEFAULT_MAX_MESSAGE_SIZE
            } else {
                max
            };
            Ok(Settings {
                bytes: true,
                max_message_size,
                item_free: None,
                item_free_context: std::ptr::null_mut(),
            })
        }
        _ => Err(LFQ_ERR_INVALID_ARGUMENT),
    }
}

/// Validated options.
struct Settings {
    bytes: bool,
    max_message_size: usize,
    item_free: lfq_item_free_fn,
    item_free_context: *mut c_void,
}

impl Settings {
    /// The handle for `engine`, or LFQ_ERR_NO_MEMORY (dropping the engine) when the allocator
    /// has no memory for it, where `Box::new` would end the process.
    fn into_handle(self, engine: Engine) -> Result<Box<lfq_queue>, lfq_status> {
        let handle = lfq_queue {
            magic: LIVE,
            engine,
            max_message_size: self.max_message_size,
            item_free: self.item_free,
            item_free_context: self.item_free_context,
        };
        // SAFETY: the layout is not zero-sized (the handle holds the engine's atomics).
        let raw = unsafe { std::alloc::alloc(Layout::new::<lfq_queue>()) }.cast::<lfq_queue>();
        if raw.is_null() {
            return Err(LFQ_ERR_NO_MEMORY);
        }
        // SAFETY: `raw` is a fresh allocation from the global allocator with lfq_queue's layout,
        // which is what `Box::from_raw` requires; writing initialises it.
        unsafe {
            raw.write(handle);
            Ok(Box::from_raw(raw))
        }
    }
}

/// Refuses ring capacities that are zero or absurd, and rings larger than the machine's RAM.
/// The engine's `try_new` reports a failed allocation too, but with overcommit an allocation
/// beyond RAM can succeed and then get the process killed when the ring initialises its slots.
fn check_capacity<T>(capacity: usize) -> Result<(), lfq_status> {
    if capacity == 0 || capacity > LFQ_MAX_CAPACITY {
        return Err(LFQ_ERR_INVALID_ARGUMENT);
    }
    // The ring's footprint: one slot per item, each an item plus a sequence word.
    let slot = std::mem::size_of::<T>() + std::mem::size_of::<usize>();
    let bytes = capacity
        .checked_mul(slot)
        .filter(|&b| b <= isize::MAX as usize)
        .ok_or(LFQ_ERR_INVALID_ARGUMENT)?;
    if bytes > physical_memory() {
        return Err(LFQ_ERR_NO_MEMORY);
    }
    Ok(())
}

/// Total RAM in bytes, or usize::MAX when the system does not say.
fn physical_memory() -> usize {
    // SAFETY: sysconf only reads system configuration; it has no memory-safety preconditions.
    let (pages, page_size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages <= 0 || page_size <= 0 {
        return usize::MAX;
    }
    (pages as usize).saturating_mul(page_size as usize)
}

/// Stores a new handle through `out`.
///
/// # Safety
/// `out` must be valid for writing a pointer (NULL was rejected by the caller).
unsafe fn publish(out: *mut *mut lfq_queue, handle: Box<lfq_queue>) {
    // SAFETY: valid for writes per the contract.
    unsafe { out.write(Box::into_raw(handle)) };
}

/// Creates an unbounded queue (a linked MPMC queue; a push never reports FULL).
///
/// - Thread-safety: may be called from any thread.
/// - Ownership: on LFQ_OK `*out` receives a new handle owned by the caller, to be released with
///   lfq_destroy(); on any other status `*out` is left unchanged.
/// - Blocking: never blocks.
/// - `options` may be NULL (pointer items, no item_free callback).
/// - Returns LFQ_OK, LFQ_ERR_INVALID_ARGUMENT (`out` NULL, or bad options: unknown payload,
///   max_message_size over LFQ_MAX_MESSAGE_SIZE_LIMIT or set on a pointer queue, item_free set
///   on a bytes queue), or LFQ_ERR_NO_MEMORY.
///
/// # Safety
/// `options` must be NULL or point to an `lfq_options`; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lfq_queue_new(
    options: *const lfq_options,
    out: *mut *mut lfq_queue,
) -> lfq_status {
    run(|| {
        if out.is_null() {
            return Err(LFQ_ERR_INVALID_ARGUMENT);
        }
        // SAFETY: forwarded caller contract on `options`.
        let settings = unsafe { read_options(options) }?;
        let engine = if settings.bytes {
            Engine::BytesQueue(Queue::try_new().ok_or(LFQ_ERR_NO_MEMORY)?)
        } else {
            Engine::PointerQueue(Queue::try_new().ok_or(LFQ_ERR_NO_MEMORY)?)
        };
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { publish(out, settings.into_handle(engine)?) };
        Ok(())
    })
}

/// Creates a bounded ring holding at most exactly `capacity` items (a push on a full ring
/// reports FULL, or waits with a timeout).
///
/// - Thread-safety: may be called from any thread.
/// - Ownership: on LFQ_OK `*out` receives a new handle owned by the caller, to be released with
///   lfq_destroy(); on any other status `*out` is left unchanged.
/// - Blocking: never blocks.
/// - `options` may be NULL (pointer items, no item_free callback).
/// - Returns LFQ_OK; LFQ_ERR_INVALID_ARGUMENT (`out` NULL, `capacity` 0 or over
///   LFQ_MAX_CAPACITY, bad options as for lfq_queue_new); LFQ_ERR_NO_MEMORY (the ring would
///   need more memory than the machine has, or the allocator failed).
///
/// # Safety
/// `options` must be NULL or point to an `lfq_options`; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lfq_ring_new(
    capacity: usize,
    options: *const lfq_options,
    out: *mut *mut lfq_queue,
) -> lfq_status {
    run(|| {
        if out.is_null() {
            return Err(LFQ_ERR_INVALID_ARGUMENT);
        }
        // SAFETY: forwarded caller contract on `options`.
        let settings = unsafe { read_options(options) }?;
        let engine = if settings.bytes {
            check_capacity::<Message>(capacity)?;
            Engine::BytesRing(Ring::try_new(capacity).ok_or(LFQ_ERR_NO_MEMORY)?)
        } else {
            check_capacity::<Item>(capacity)?;
            Engine::PointerRing(Ring::try_new(capacity).ok_or(LFQ_ERR_NO_MEMORY)?)
        };
        // SAFETY: `out` is non-NULL and writable per the contract.
        unsafe { publish(out, settings.into_handle(engine)?) };
        Ok(())
    })
}

/// Destroys a queue. Pointer items still queued are passed, one call each, to the item_free
/// callback from the options (if any); byte messages still queued are freed.
///
/// - Thread-safety: NOT thread-safe with respect to any other call on the same handle: every
///   other thread must be done with `q` (close it and join them first). After this call `q` is
///   invalid.
/// - Ownership: takes ownership of `q` and of every item still queued.
/// - Blocking: never blocks (apart from what item_free does).
/// - item_free runs when `q` is already invalid: a call on `q` from inside it fails with
///   LFQ_ERR_INVALID_ARGUMENT (lfq_destroy does nothing).
/// - `q` may be NULL (nothing happens). A handle that was already destroyed is usually detected
///   and ignored, but that is a best-effort guard, not a guarantee.
///
/// # Safety
/// `q` must be NULL or a handle from lfq_queue_new/lfq_ring_new not used by any other thread.
#[no_mangle]
pub unsafe extern "C" fn lfq_destroy(q: *mut lfq_queue) {
    if q.is_null() {
        return;
    }
    // A panic here (a bug) may leak the queue but must not unwind into C.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: non-NULL and, per the contract, a handle no other thread is using.
        if unsafe { std::ptr::addr_of!((*q).magic).read() } != LIVE {
            return;
        }
        // Marked dead before the item_free callbacks run: a callback that calls back into lfq
        // with this handle gets LFQ_ERR_INVALID_ARGUMENT (or, for lfq_destroy, nothing happens)
        // instead of using a queue that is being torn down.
        // Volatile, so that the store is kept although the memory is freed below with no
        // callback in between (it is what a second lfq_destroy usually finds).
        // SAFETY: non-NULL and live, as just checked.
        unsafe { std::ptr::addr_of_mut!((*q).magic).write_volatile(DEAD) };
        // SAFETY: the handle came from Box::into_raw in `publish` and was live until now.
        let queue = unsafe { Box::from_raw(q) };
        if let Some(free) = queue.item_free {
            let drain = |item: Item| {
                // SAFETY: the callback and context are the caller's, given for exactly this.
                unsafe { free(item.0, queue.item_free_context) }
            };
            match &queue.engine {
                Engine::PointerQueue(e) => e.drain(drain),
                Engine::PointerRing(e) => e.drain(drain),
                Engine::BytesQueue(_) | Engine::BytesRing(_) => {}
            }
        }
        // Dropping frees queued messages.
        drop(queue);
    }));
}

/// Closes the queue: later pushes and sends return LFQ_CLOSED, items already queued can still
/// be popped, and once it is drained pops return LFQ_CLOSED. Every thread blocked in this queue
/// wakes up.
///
/// - Thread-safety: thread-safe. Blocking: never blocks.
/// - Returns LFQ_OK if this call closed it, LFQ_CLOSED if it was already closed,
///   LFQ_ERR_INVALID_ARGUMENT for a NULL handle.
///
/// # Safety
/// `q` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn lfq_close(q: *mut lfq_queue) -> lfq_status {
    run(|| {
        // SAFETY: forwarded caller contract.
        let q = unsafe { handle(q) }?;
        let closed_now = match &q.engine {
            Engine::PointerQueue(e) => e.close(),
            Engine::PointerRing(e) => e.close(),
            Engine::BytesQueue(e) => e.close(),
            Engine::BytesRing(e) => e.close(),
        };
        if closed_now {
            Ok(())
        } else {
            Err(LFQ_CLOSED)
        }
    })
}

/// Dispatches `$body` over whichever engine `$q` holds, whatever its payload kind.
macro_rules! with_any_engine {
    ($q:expr, $e:ident => $body:expr) => {
        match &$q.engine {
            Engine::PointerQueue($e) => $body,
            Engine::PointerRing($e) => $body,
            Engine::BytesQueue($e) => $body,
            Engine::BytesRing($e) => $body,
        }
    };
}

/// Returns 1 if the queue is closed, 0 if not, -1 (LFQ_ERR_INVALID_ARGUMENT) for a NULL handle.
///
/// - Thread-safety: thread-safe. Blocking: never blocks.
///
/// # Safety
/// `q` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn lfq_is_closed(q: *const lfq_queue) -> c_int {
    run_query(LFQ_ERR_INTERNAL as c_int, || {
        // SAFETY: forwarded caller contract.
        match unsafe { handle(q) } {
            Ok(q) => with_any_engine!(q, e => e.is_closed()) as c_int,
            Err(status) => status as c_int,
        }
    })
}

/// Returns the number of items queued: exact when no other thread is using the queue,
/// approximate otherwise. 0 for a NULL handle.
///
/// - Thread-safety: thread-safe. Blocking: never blocks.
///
/// # Safety
/// `q` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn lfq_len(q: *const lfq_queue) -> usize {
    run_query(0, || {
        // SAFETY: forwarded caller contract.
        unsafe { handle(q) }.map_or(0, |q| with_any_engine!(q, e => e.len()))
    })
}

/// Returns the capacity of a ring, or 0 for an unbounded queue or a NULL handle.
///
/// - Thread-safety: thread-safe. Blocking: never blocks.
///
/// # Safety
/// `q` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn lfq_capacity(q: *const lfq_queue) -> usize {
    run_query(0, || {
        // SAFETY: forwarded caller contract.
        unsafe { handle(q) }.map_or(0, |q| with_any_engine!(q, e => e.capacity().unwrap_or(0)))
    })
}

/// Returns the largest message a bytes queue accepts; 0 for a pointer queue or a NULL handle.
///
/// - Thread-safety: thread-safe. Blocking: never blocks.
///
/// # Safety
/// `q` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn lfq_max_message_size(q: *const lfq_queue) -> usize {
    run_query(0, || {
        // SAFETY: forwarded caller contract.
        unsafe { handle(q) }.map_or(0, |q| q.max_message_size)
    })
}

/// Returns the payload kind of the queue, or LFQ_PAYLOAD_NONE for a NULL handle.
///
/// - Thread-safety: thread-safe. Blocking: never blocks.
///
/// # Safety
/// `q` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn lfq_payload_of(q: *const lfq_queue) -> lfq_payload {
    run_query(lfq_payload::LFQ_PAYLOAD_NONE, || {
        // SAFETY: forwarded caller contract.
        match unsafe { handle(q) } {
            Ok(q) => match q.engine {
                Engine::PointerQueue(_) | Engine::PointerRing(_) => {
                    lfq_payload::LFQ_PAYLOAD_POINTER
                }
                Engine::BytesQueue(_) | Engine::BytesRing(_) => lfq_payload::LFQ_PAYLOAD_BYTES,
            },
            Err(_) => lfq_payload::LFQ_PAYLOAD_NONE,
        }
    })
}

/// Waits until the queue has an item to pop (does not take it), for event loops.
///
/// - Thread-safety: thread-safe; another consumer may still take the item first. A waiter
///   woken by a push takes that push's wakeup, so follow LFQ_OK with a pop or receive (timeout
///   0) rather than abandoning it, or a consumer blocked elsewhere may sleep on until the next
///   push.
/// - Blocking: timeout_ns 0 checks once; a negative one sleeps until an item arrives or the
///   queue closes; a positive one sleeps at most that many nanoseconds.
/// - Returns LFQ_OK (an item is there), LFQ_CLOSED (closed and drained), LFQ_EMPTY (timeout 0),
///   LFQ_TIMEOUT, LFQ_ERR_INVALID_ARGUMENT (NULL handle). Works for both payload kinds.
///
/// # Safety
/// `q` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn lfq_wait_readable(q: *mut lfq_queue, timeout_ns: i64) -> lfq_status {
    run(|| {
        // SAFETY: forwarded caller contract.
        let q = unsafe { handle(q) }?;
        let timeout = Timeout::from_ns(timeout_ns);
        with_any_engine!(q, e => engine::wait_readable(e, timeout))
    })
}

/// Waits until there is room to push (does not reserve it), for event loops. An unbounded
/// queue always has room unless closed.
///
/// - Thread-safety: thread-safe; another producer may still take the room first. As with
///   lfq_wait_readable, follow LFQ_OK with a push or send so that no blocked producer misses
///   the wakeup.
/// - Blocking: timeout_ns 0 checks once; a negative one sleeps until there is room or the
///   queue closes; a positive one sleeps at most that many nanoseconds.
/// - Returns LFQ_OK, LFQ_CLOSED, LFQ_FULL (timeout 0), LFQ_TIMEOUT, LFQ_ERR_INVALID_ARGUMENT
///   (NULL handle). Works for both payload kinds.
///
/// # Safety
/// `q` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn lfq_wait_writable(q: *mut lfq_queue, timeout_ns: i64) -> lfq_status {
    run(|| {
        // SAFETY: forwarded caller contract.
        let q = unsafe { handle(q) }?;
        let timeout = Timeout::from_ns(timeout_ns);
        with_any_engine!(q, e => engine::wait_writable(e, timeout))
    })
}

/// Returns a static, NUL-terminated English description of a status code (any value,
/// including unknown ones). Never NULL; do not free it. Thread-safe; never blocks.
#[no_mangle]
pub extern "C" fn lfq_strerror(status: StatusCode) -> *const c_char {
    let text: &'static [u8] = match status {
        0 => b"success\0",
        1 => b"queue is empty\0",
        2 => b"queue is full\0",
        3 => b"queue is closed\0",
        4 => b"timed out\0",
        -1 => b"invalid argument\0",
        -2 => b"wrong payload kind for this queue\0",
        -3 => b"message larger than the queue's maximum message size\0",
        -4 => b"out of memory\0",
        -5 => b"internal error in lfq (a bug)\0",
        _ => b"unknown lfq status\0",
    };
    text.as_ptr().cast()
}

/// Returns the library version as a static string, e.g. "0.1.0". Never NULL; do not free it.
/// Thread-safe; never blocks.
#[no_mangle]
pub extern "C" fn lfq_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn version_string_matches_macros() {
        // SAFETY: lfq_version returns a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(lfq_version()) }.to_str().unwrap();
        let expected = format!("{LFQ_VERSION_MAJOR}.{LFQ_VERSION_MINOR}.{LFQ_VERSION_PATCH}");
        assert_eq!(v, expected);
    }

    #[test]
    fn strerror_covers_every_status() {
        let all = [
            LFQ_OK,
            LFQ_EMPTY,
            LFQ_FULL,
            LFQ_CLOSED,
            LFQ_TIMEOUT,
            LFQ_ERR_INVALID_ARGUMENT,
            LFQ_ERR_WRONG_KIND,
            LFQ_ERR_TOO_LARGE,
            LFQ_ERR_NO_MEMORY,
            LFQ_ERR_INTERNAL,
        ];
        // SAFETY: lfq_strerror returns static NUL-terminated strings.
        let unknown = unsafe { CStr::from_ptr(lfq_strerror(1234)) };
        for s in all {
            // SAFETY: as above.
            let text = unsafe { CStr::from_ptr(lfq_strerror(s as i32)) };
            assert_ne!(text, unknown, "{s:?} has no description");
        }
    }

    #[test]
    fn capacity_checks() {
        assert_eq!(check_capacity::<Item>(0), Err(LFQ_ERR_INVALID_ARGUMENT));
        assert_eq!(
            check_capacity::<Item>(usize::MAX),
            Err(LFQ_ERR_INVALID_ARGUMENT)
        );
        assert_eq!(
            check_capacity::<Item>(LFQ_MAX_CAPACITY + 1),
            Err(LFQ_ERR_INVALID_ARGUMENT)
        );
        assert_eq!(check_capacity::<Item>(1024), Ok(()));
    }
}
