//! Bytes payload: messages copied in on send and out on receive (POSIX mq style).
//!
//! A message of up to [`LFQ_INLINE_MESSAGE_SIZE`] bytes is stored inside the queue slot and
//! handed out inside the caller's `lfq_message`, so small messages never touch the allocator.
//! Larger ones live in one heap block that travels from sender to receiver untouched and is
//! handed to the receiver, who frees it with lfq_message_release().

use std::mem::MaybeUninit;
use std::ptr;

use super::engine::{self, Backend, BatchError, Timeout};
use super::lfq_status::{self, *};
use super::pointer::{input_array, output_array};
use super::{handle, lfq_queue, run, run_counted, Engine, LFQ_INLINE_MESSAGE_SIZE};
use std::ffi::c_void;

/// A received byte message. Its `size` bytes are at `heap` when `heap` is not NULL, otherwise
/// in `inline_bytes`; lfq_message_data() picks the right one. Release it with
/// lfq_message_release() once done (a no-op for inline messages, but always correct to call).
/// Do not change `size` or `heap` of a received message before releasing it.
#[repr(C)]
pub struct lfq_message {
    /// Length of the message in bytes.
    pub size: usize,
    /// The message bytes when it is longer than LFQ_INLINE_MESSAGE_SIZE, else NULL.
    pub heap: *mut u8,
    /// The message bytes when it is at most LFQ_INLINE_MESSAGE_SIZE long.
    pub inline_bytes: [u8; LFQ_INLINE_MESSAGE_SIZE],
}

/// An owned message inside the queue.
///
/// It has exactly the layout of [`lfq_message`], so that handing a message to C is one copy of
/// the whole struct. Copies of whole, equally laid out structs keep every load lined up with an
/// earlier store of the same bytes; an enum with a byte-aligned payload made the receive path
/// reload bytes across two earlier stores, a store-forwarding stall per message that cost more
/// than the rest of a batched receive.
#[repr(C)]
pub(crate) struct Message {
    size: usize,
    /// A block of exactly `size` bytes from `Box<[u8]>`, owned by this message, when `size` is
    /// over LFQ_INLINE_MESSAGE_SIZE; NULL otherwise.
    heap: *mut u8,
    /// The bytes of an inline message, zero-filled past `size` (always initialised).
    inline: [u8; LFQ_INLINE_MESSAGE_SIZE],
}

// SAFETY: the heap block is owned by the message alone (no other pointer to it exists), so the
// message may move to another thread like the Box<[u8]> it was made from.
unsafe impl Send for Message {}

impl Drop for Message {
    fn drop(&mut self) {
        if !self.heap.is_null() {
            // SAFETY: `heap` and `size` come from Box::into_raw of a Box<[u8]> of `size` bytes
            // (copy_from) and are owned by this message, which `store` never drops.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(self.heap, self.size)) });
        }
    }
}

impl Message {
    /// Copies a message of at most LFQ_INLINE_MESSAGE_SIZE bytes; never allocates.
    #[inline]
    fn inline(data: &[u8]) -> Message {
        let inline = if data.len() == LFQ_INLINE_MESSAGE_SIZE {
            // A full-size message is loaded straight into vector registers. A memcpy into the
            // array would have its bytes reloaded at once in other widths when the message moves
            // into the queue, a store-forwarding stall.
            // SAFETY: `data` is exactly LFQ_INLINE_MESSAGE_SIZE readable bytes, and a byte
            // array has no alignment requirement beyond read_unaligned's.
            unsafe { ptr::read_unaligned(data.as_ptr().cast::<[u8; LFQ_INLINE_MESSAGE_SIZE]>()) }
        } else {
            let mut inline = [0u8; LFQ_INLINE_MESSAGE_SIZE];
            inline[..data.len()].copy_from_slice(data);
            inline
        };
        Message {
            size: data.len(),
            heap: ptr::null_mut(),
            inline,
        }
    }

    /// Copies any message, reporting allocation failure instead of aborting.
    #[inline]
    fn copy_from(data: &[u8]) -> Result<Message, lfq_status> {
        if data.len() <= LFQ_INLINE_MESSAGE_SIZE {
            return Ok(Message::inline(data));
        }
        let mut heap = Vec::new();
        heap.try_reserve_exact(data.len())
            .map_err(|_| LFQ_ERR_NO_MEMORY)?;
        heap.extend_from_slice(data);
        Ok(Message {
            size: data.len(),
            heap: Box::into_raw(heap.into_boxed_slice()).cast::<u8>(),
            inline: [0; LFQ_INLINE_MESSAGE_SIZE],
        })
    }

    fn as_bytes(&self) -> &[u8] {
        if self.heap.is_null() {
            &self.inline[..self.size]
        } else {
            // SAFETY: an owned block of `size` initialised bytes, alive as long as `self`.
            unsafe { std::slice::from_raw_parts(self.heap, self.size) }
        }
    }

    /// Hands the message to C: the whole struct is copied into `out`, which takes over the
    /// heap block, if any.
    #[inline]
    fn store(self, out: &mut MaybeUninit<lfq_message>) {
        // The heap block now belongs to `out` and comes back through lfq_message_release with
        // the same `size`, so this message must not free it.
        let msg = std::mem::ManuallyDrop::new(self);
        out.write(lfq_message {
            size: msg.size,
            heap: msg.heap,
            inline_bytes: msg.inline,
        });
    }
}

/// Dispatches `$body` over the bytes engine of `$q`, or fails with LFQ_ERR_WRONG_KIND.
macro_rules! with_bytes_engine {
    ($q:expr, $e:ident => $body:expr) => {
        match &$q.engine {
            Engine::BytesQueue($e) => $body,
            Engine::BytesRing($e) => $body,
            Engine::PointerQueue(_) | Engine::PointerRing(_) => Err(LFQ_ERR_WRONG_KIND.into()),
        }
    };
}

/// Borrows `size` bytes at `data`, which may be NULL only when `size` is 0.
///
/// # Safety
/// `data` must be NULL or valid for reading `size` bytes.
unsafe fn input_bytes<'a>(data: *const c_void, size: usize) -> Result<&'a [u8], lfq_status> {
    if size == 0 {
        return Ok(&[]);
    }
    // SAFETY: forwarded contract.
    unsafe { input_array(data.cast::<u8>(), size) }
}

/// Sends one message: copies `size` bytes from `data` into the queue.
///
/// - Thread-safety: thread-safe.
/// - Ownership: the bytes are copied; `data` stays the caller's and is not retained.
///   Messages up to LFQ_INLINE_MESSAGE_SIZE bytes are stored without any allocation.
/// - Blocking: only on a full ring with timeout_ns != 0: < 0 sleeps until there is room or the
///   queue closes, > 0 sleeps at most that many nanoseconds.
/// - `data` may be NULL only when `size` is 0 (an empty message is a valid message).
/// - Returns LFQ_OK, LFQ_FULL (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED, LFQ_ERR_INVALID_ARGUMENT
///   (NULL handle, NULL data with size > 0), LFQ_ERR_TOO_LARGE (size > lfq_max_message_size),
///   LFQ_ERR_NO_MEMORY, LFQ_ERR_WRONG_KIND (pointer queue).
///
/// # Safety
/// `q` must be NULL or a live handle; `data` must be readable for `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn lfq_send(
    q: *mut lfq_queue,
    data: *const c_void,
    size: usize,
    timeout_ns: i64,
) -> lfq_status {
    run(|| {
        // SAFETY: forwarded caller contract.
        let q = unsafe { handle(q) }?;
        let timeout = Timeout::from_ns(timeout_ns);
        with_bytes_engine!(q, e => {
            // The size first: one too large for any buffer is still TOO_LARGE, not invalid.
            if size > q.max_message_size {
                return Err(LFQ_ERR_TOO_LARGE);
            }
            // SAFETY: forwarded caller contract.
            let bytes = unsafe { input_bytes(data, size) }?;
            e.push_one(Message::copy_from(bytes)?, timeout)
        })
    })
}

/// Receives one message into `*msg_out`.
///
/// - Thread-safety: thread-safe.
/// - Ownership: on LFQ_OK `*msg_out` holds the message and the caller must release it with
///   lfq_message_release(msg_out, 1). `*msg_out` is treated as uninitialised output (a message
///   still held in it is not released first) and is unchanged on any other status.
/// - Blocking: only when empty with timeout_ns != 0: < 0 sleeps until a message arrives or the
///   queue is closed, > 0 sleeps at most that many nanoseconds. With timeout 0 it never sleeps.
///   It waits out another thread's push that has claimed the oldest position and not yet
///   written it, so LFQ_EMPTY means the queue was empty.
/// - Returns LFQ_OK, LFQ_EMPTY (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED (closed and drained),
///   LFQ_ERR_INVALID_ARGUMENT (NULL handle or `msg_out`), LFQ_ERR_WRONG_KIND.
///
/// # Safety
/// `q` must be NULL or a live handle; `msg_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lfq_recv(
    q: *mut lfq_queue,
    msg_out: *mut lfq_message,
    timeout_ns: i64,
) -> lfq_status {
    run(|| {
        // SAFETY: forwarded caller contract.
        let q = unsafe { handle(q) }?;
        let timeout = Timeout::from_ns(timeout_ns);
        with_bytes_engine!(q, e => {
            // SAFETY: forwarded caller contract: room for one lfq_message.
            let out = unsafe { output_array(msg_out, 1) }?;
            e.pop_one(timeout).map_err(engine::pop_error)?.store(&mut out[0]);
            Ok(())
        })
    })
}

/// Receives one message by copying it into the caller's buffer (POSIX mq_receive style).
///
/// - Thread-safety: thread-safe.
/// - Ownership: `buf` stays the caller's; nothing needs releasing.
/// - `buf_size` must be at least lfq_max_message_size(q). This is checked before anything is
///   dequeued, so a too-small buffer never loses a message.
/// - Blocking: only when empty with timeout_ns != 0: < 0 sleeps until a message arrives or the
///   queue is closed, > 0 sleeps at most that many nanoseconds. With timeout 0 it never sleeps.
///   It waits out another thread's push that has claimed the oldest position and not yet
///   written it, so LFQ_EMPTY means the queue was empty.
/// - On LFQ_OK `*size_out` is the message length; it is unchanged otherwise.
/// - Returns LFQ_OK, LFQ_EMPTY (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED (closed and drained),
///   LFQ_ERR_INVALID_ARGUMENT (NULL handle, `buf` or `size_out`; `buf_size` too small),
///   LFQ_ERR_WRONG_KIND.
///
/// # Safety
/// `q` must be NULL or a live handle; `buf` writable for `buf_size` bytes; `size_out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn lfq_recv_into(
    q: *mut lfq_queue,
    buf: *mut c_void,
    buf_size: usize,
    size_out: *mut usize,
    timeout_ns: i64,
) -> lfq_status {
    run(|| {
        // SAFETY: forwarded caller contract.
        let q = unsafe { handle(q) }?;
        let timeout = Timeout::from_ns(timeout_ns);
        with_bytes_engine!(q, e => {
            if size_out.is_null() || buf_size < q.max_message_size {
                return Err(LFQ_ERR_INVALID_ARGUMENT);
            }
            // SAFETY: forwarded caller contract: `buf` is writable for `buf_size` bytes.
            let out = unsafe { output_array(buf.cast::<u8>(), buf_size) }?;
            let msg = e.pop_one(timeout).map_err(engine::pop_error)?;
            let bytes = msg.as_bytes();
            // Cannot fail: every queued message is at most max_message_size <= buf_size.
            let dest = &mut out[..bytes.len()];
            // SAFETY: `dest` is exactly `bytes.len()` writable bytes of the caller's buffer;
            // it cannot overlap the message, which Rust owns.
            unsafe {
                ptr::copy_nonoverlapping(bytes.as_ptr(), dest.as_mut_ptr().cast::<u8>(), bytes.len())
            };
            // SAFETY: non-NULL and writable per the contract.
            unsafe { size_out.write(bytes.len()) };
            Ok(())
        })
    })
}

/// Shared body of lfq_send_bulk / lfq_send_burst.
///
/// # Safety
/// As for those functions.
unsafe fn send_array(
    q: *mut lfq_queue,
    data: *const c_void,
    sizes: *const usize,
    n: usize,
    all: bool,
    timeout_ns: i64,
) -> Result<usize, BatchError> {
    // SAFETY: forwarded caller contract.
    let q = unsafe { handle(q) }?;
    with_bytes_engine!(q, e => {
        if n == 0 {
            return Ok(0);
        }
        // SAFETY: forwarded caller contract: `sizes` holds `n` lengths.
        let sizes = unsafe { input_array(sizes, n) }?;
        let mut total: usize = 0;
        let mut largest = 0;
        for &size in sizes {
            // Each size against the maximum before the sum, as lfq_send checks it first.
            if size > q.max_message_size {
                return Err(LFQ_ERR_TOO_LARGE.into());
            }
            total = total.checked_add(size).ok_or(LFQ_ERR_INVALID_ARGUMENT)?;
            largest = largest.max(size);
        }
        // SAFETY: forwarded caller contract: `data` holds the messages back to back.
        let data = unsafe { input_bytes(data, total) }?;
        let min = if all { n } else { 1 };
        let timeout = Timeout::from_ns(timeout_ns);
        if largest <= LFQ_INLINE_MESSAGE_SIZE {
            // Copying small messages cannot fail, so build them lazily as the engine takes
            // them: no allocation at all.
            let mut offset = 0;
            engine::push_until(e, n, min, timeout, |i| {
                let msg = Message::inline(&data[offset..offset + sizes[i]]);
                offset += sizes[i];
                msg
            })
        } else {
            // Heap copies can fail, and the engine cannot take back a half-made batch, so the
            // messages are made before any is pushed; those left over are freed on return.
            let count = if all { n } else { burst_copies(e, n, timeout) };
            let mut messages = Vec::new();
            messages.try_reserve_exact(count).map_err(|_| LFQ_ERR_NO_MEMORY)?;
            let mut offset = 0;
            for &size in &sizes[..count] {
                messages.push(Message::copy_from(&data[offset..offset + size])?);
                offset += size;
            }
            let mut messages = messages.into_iter();
            engine::push_until(e, count, min, timeout, |_| {
                messages.next().expect("one message made per item")
            })
        }
    })
}

/// How many of `n` heap messages a burst copies before pushing: as many as fit now, at least
/// one. Copying all `n` on every call would make a caller that feeds a long list into a small
/// ring burst by burst pay for the whole rest of the list each time: quadratic. A burst that
/// will wait for room copies up to the ring's capacity, to fill what the wait frees.
fn burst_copies<B: Backend<Message>>(e: &B, n: usize, timeout: Timeout) -> usize {
    match e.room() {
        0 if timeout != Timeout::Poll => n.min(e.batch_limit()),
        room => n.min(room.max(1)),
    }
}

/// Shared body of lfq_recv_bulk / lfq_recv_burst.
///
/// # Safety
/// As for those functions.
unsafe fn recv_array(
    q: *mut lfq_queue,
    msgs: *mut lfq_message,
    n: usize,
    all: bool,
    timeout_ns: i64,
) -> Result<usize, lfq_status> {
    // SAFETY: forwarded caller contract.
    let q = unsafe { handle(q) }?;
    with_bytes_engine!(q, e => {
        if n == 0 {
            return Ok(0);
        }
        // SAFETY: forwarded caller contract: `msgs` has room for `n` messages.
        let out = unsafe { output_array(msgs, n) }?;
        let sink = |i, msg: Message| msg.store(&mut out[i]);
        engine::pop_until(e, if all { n } else { 1 }, n, Timeout::from_ns(timeout_ns), sink)
    })
}

/// Sends all `n` messages or none. The messages are packed back to back in `data`: message i
/// is the next `sizes[i]` bytes.
///
/// - Thread-safety: thread-safe; the `n` messages land contiguously in queue order (on an unbounded
///   queue, up to 8,128 of them: a longer bulk lands in runs of at least that many).
/// - Ownership: the bytes are copied; `data` and `sizes` stay the caller's.
/// - Blocking: with timeout_ns != 0 on a ring without room for all `n`, waits (< 0 until room
///   or close, > 0 at most that many nanoseconds). The wait polls, yielding and then sleeping in
///   naps of up to 1 ms, so it may notice room or close that late.
/// - `*sent` (if `sent` is not NULL) is set on every return: `n` on LFQ_OK, else 0, with one
///   exception: on an unbounded queue that another thread closes during the call, or that
///   cannot grow, the send may stop part way with LFQ_CLOSED or LFQ_ERR_NO_MEMORY, and then the
///   first `*sent` messages are queued.
/// - Returns LFQ_OK (also for n == 0), LFQ_FULL (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED,
///   LFQ_ERR_INVALID_ARGUMENT (NULL handle, NULL `sizes` with n > 0, NULL `data` with a
///   non-zero total, n larger than the ring's capacity), LFQ_ERR_TOO_LARGE (any message over
///   the maximum; nothing is sent), LFQ_ERR_NO_MEMORY, LFQ_ERR_WRONG_KIND.
///
/// # Safety
/// `q` must be NULL or a live handle; `sizes` must hold `n` lengths and `data` their sum in
/// bytes; `sent` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lfq_send_bulk(
    q: *mut lfq_queue,
    data: *const c_void,
    sizes: *const usize,
    n: usize,
    sent: *mut usize,
    timeout_ns: i64,
) -> lfq_status {
    // SAFETY: forwarded caller contract.
    unsafe { run_counted(sent, || send_array(q, data, sizes, n, true, timeout_ns)) }
}

/// Sends as many of the `n` messages as fit, at least one, in order from the first (burst).
/// Layout of `data` / `sizes` as for lfq_send_bulk.
///
/// - Thread-safety: thread-safe.
/// - Ownership: the bytes are copied; `data` and `sizes` stay the caller's.
/// - Blocking: with timeout_ns != 0 on a full ring, waits for room for at least one message
///   (< 0 until room or close, > 0 at most that many nanoseconds).
/// - `*sent` (if `sent` is not NULL) is set on every return: the count sent (the first
///   `*sent` messages), 0 on failure.
/// - Returns LFQ_OK (also for n == 0), LFQ_FULL (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED,
///   LFQ_ERR_INVALID_ARGUMENT (NULL handle, NULL `sizes` with n > 0, NULL `data` with a
///   non-zero total), LFQ_ERR_TOO_LARGE (any message over the maximum; nothing is sent),
///   LFQ_ERR_NO_MEMORY, LFQ_ERR_WRONG_KIND.
///
/// # Safety
/// As for lfq_send_bulk.
#[no_mangle]
pub unsafe extern "C" fn lfq_send_burst(
    q: *mut lfq_queue,
    data: *const c_void,
    sizes: *const usize,
    n: usize,
    sent: *mut usize,
    timeout_ns: i64,
) -> lfq_status {
    // SAFETY: forwarded caller contract.
    unsafe { run_counted(sent, || send_array(q, data, sizes, n, false, timeout_ns)) }
}

/// Receives exactly `n` messages into `msgs[0..n]`, in queue order, or none.
///
/// - Thread-safety: thread-safe; the `n` messages are contiguous in queue order.
/// - Ownership: on LFQ_OK the caller owns the `n` messages and must release them with
///   lfq_message_release(msgs, n); `msgs` is untouched on any other status.
/// - Blocking: with timeout_ns != 0, waits until `n` messages are there (< 0 until then or
///   close, > 0 at most that many nanoseconds). The wait polls, yielding and then sleeping in
///   naps of up to 1 ms, so it may notice the messages or close that late.
/// - `*received` (if not NULL) is set on every return: `n` on LFQ_OK, else 0.
/// - Returns LFQ_OK (also for n == 0), LFQ_EMPTY (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED (closed
///   with fewer than n left: drain them with lfq_recv_burst), LFQ_ERR_INVALID_ARGUMENT (NULL
///   handle, `msgs` NULL with n > 0, n larger than the ring's capacity), LFQ_ERR_WRONG_KIND.
///
/// # Safety
/// `q` must be NULL or a live handle; `msgs` must have room for `n` messages; `received` NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn lfq_recv_bulk(
    q: *mut lfq_queue,
    msgs: *mut lfq_message,
    n: usize,
    received: *mut usize,
    timeout_ns: i64,
) -> lfq_status {
    // SAFETY: forwarded caller contract.
    unsafe { run_counted(received, || recv_array(q, msgs, n, true, timeout_ns)) }
}

/// Receives between 1 and `n` messages into `msgs[0..*received]`, in queue order (burst).
///
/// - Thread-safety: thread-safe.
/// - Ownership: the caller owns the `*received` messages and must release them with
///   lfq_message_release(msgs, *received).
/// - Blocking: with timeout_ns != 0 on an empty queue, waits for at least one message (< 0
///   until one arrives or the queue is closed, > 0 at most that many nanoseconds).
/// - `*received` (if not NULL) is set on every return: the count, 0 on failure.
/// - Returns LFQ_OK (also for n == 0), LFQ_EMPTY (timeout 0), LFQ_TIMEOUT, LFQ_CLOSED (closed
///   and drained), LFQ_ERR_INVALID_ARGUMENT (NULL handle, `msgs` NULL with n > 0),
///   LFQ_ERR_WRONG_KIND.
///
/// # Safety
/// As for lfq_recv_bulk.
#[no_mangle]
pub unsafe extern "C" fn lfq_recv_burst(
    q: *mut lfq_queue,
    msgs: *mut lfq_message,
    n: usize,
    received: *mut usize,
    timeout_ns: i64,
) -> lfq_status {
    // SAFETY: forwarded caller contract.
    unsafe { run_counted(received, || recv_array(q, msgs, n, false, timeout_ns)) }
}

/// Returns a pointer to the `msg->size` bytes of a received message (valid until it is
/// released), or NULL when `msg` is NULL. Thread-safe for distinct messages; never blocks.
///
/// # Safety
/// `msg` must be NULL or point to a message filled by an lfq receive call.
#[no_mangle]
pub unsafe extern "C" fn lfq_message_data(msg: *const lfq_message) -> *const u8 {
    if msg.is_null() {
        return ptr::null();
    }
    // SAFETY: non-NULL and readable per the contract; only field addresses and the pointer
    // field are read, nothing is dereferenced.
    unsafe {
        let heap = ptr::addr_of!((*msg).heap).read();
        if heap.is_null() {
            ptr::addr_of!((*msg).inline_bytes).cast::<u8>()
        } else {
            heap
        }
    }
}

/// Releases `n` received messages: frees heap parts and sets each `heap` to NULL and `size`
/// to 0, so releasing twice is harmless. `msgs` may be NULL (nothing happens).
///
/// - Thread-safety: thread-safe for distinct messages. Blocking: never blocks.
/// - Ownership: the heap parts go back to lfq; the `lfq_message` structs stay the caller's.
///
/// # Safety
/// `msgs` must be NULL or point to `n` messages, each filled by an lfq receive call (or already
/// released, or zero-initialised), with `size` and `heap` unchanged since.
#[no_mangle]
pub unsafe extern "C" fn lfq_message_release(msgs: *mut lfq_message, n: usize) {
    if msgs.is_null() || n > super::pointer::max_elements::<lfq_message>() {
        return;
    }
    for i in 0..n {
        // SAFETY: `i < n`, so this is one of the caller's messages. Fields are reached through
        // raw pointers because `inline_bytes` of a heap message was never initialised.
        let (size, heap) = unsafe {
            let msg = msgs.add(i);
            (
                ptr::addr_of_mut!((*msg).size),
                ptr::addr_of_mut!((*msg).heap),
            )
        };
        // SAFETY: both fields were written by `Message::store` (or zeroed by the caller).
        let (len, block) = unsafe { (size.read(), heap.read()) };
        if !block.is_null() {
            // SAFETY: per the contract `heap`/`size` are unchanged from `Message::store`, which
            // got them from Box::into_raw of a Box<[u8]> of exactly `size` bytes.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(block, len)) });
        }
        // SAFETY: writable per the contract.
        unsafe {
            heap.write(ptr::null_mut());
            size.write(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(msg: Message) -> Vec<u8> {
        let mut slot = MaybeUninit::<lfq_message>::uninit();
        msg.store(&mut slot);
        // SAFETY: `store` initialised size and heap, and inline_bytes[..size] when inline.
        let bytes = unsafe {
            let data = lfq_message_data(slot.as_ptr());
            std::slice::from_raw_parts(data, (*slot.as_ptr()).size).to_vec()
        };
        // SAFETY: a message just filled by `store`.
        unsafe { lfq_message_release(slot.as_mut_ptr(), 1) };
        bytes
    }

    #[test]
    fn messages_round_trip_inline_and_heap() {
        for len in [0, 1, 63, 64, 65, 1000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let msg = Message::copy_from(&data).unwrap();
            assert_eq!(msg.heap.is_null(), len <= LFQ_INLINE_MESSAGE_SIZE);
            assert_eq!(received(msg), data);
        }
    }
}
