//! An unbounded queue that cannot grow, seen through the C API: calls report
//! LFQ_ERR_NO_MEMORY, keep every item they accepted, and the queue works again once memory is
//! back. (The Rust API ends the process instead, as std's collections do.)
//!
//! The allocator here refuses blocks to a thread during its `Refusal`: blocks of 1 KiB or more
//! (the queue's segments are that large, and nothing else the pushes under test allocate is), or,
//! for the constructors, blocks of any size. Only that thread is refused, so other tests' threads
//! (and their exit, which frees epoch state) are not. Assertions wait until the refusal ends, as
//! a failing one would need memory to report itself.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::c_void;
use std::ptr;

// Links the library, whose C entry points are declared below.
extern crate lfq;

struct Refusing;

/// The size from which blocks count against a refusal.
const LARGE: usize = 1024;

thread_local! {
    /// The smallest block size refused to this thread, and how many more such blocks to grant
    /// it before refusing them (negative: no refusal). Const-initialised without a destructor,
    /// as the next one, so reading them never allocates.
    static REFUSE: Cell<(usize, isize)> = const { Cell::new((LARGE, -1)) };
    /// Bytes this thread allocated minus bytes it freed.
    static NET_BYTES: Cell<isize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator, or refused with null, which
// `GlobalAlloc` allows.
unsafe impl GlobalAlloc for Refusing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let (smallest, left) = REFUSE.with(Cell::get);
        if layout.size() >= smallest {
            if left == 0 {
                return ptr::null_mut();
            }
            if left > 0 {
                REFUSE.with(|cell| cell.set((smallest, left - 1)));
            }
        }
        // SAFETY: forwarded caller contract.
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            NET_BYTES.with(|net| net.set(net.get() + layout.size() as isize));
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        NET_BYTES.with(|net| net.set(net.get() - layout.size() as isize));
        // SAFETY: forwarded caller contract; every block came from `System`.
        unsafe { System.dealloc(block, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Refusing = Refusing;

/// Grants `granted` more large blocks, then refuses them until dropped.
struct Refusal;

impl Refusal {
    fn after(granted: isize) -> Refusal {
        REFUSE.with(|cell| cell.set((LARGE, granted)));
        Refusal
    }

    /// As `after`, for blocks of any size.
    fn of_any_after(granted: isize) -> Refusal {
        REFUSE.with(|cell| cell.set((1, granted)));
        Refusal
    }
}

impl Drop for Refusal {
    fn drop(&mut self) {
        REFUSE.with(|cell| cell.set((LARGE, -1)));
    }
}

#[repr(C)]
struct Queue {
    _opaque: [u8; 0],
}

#[repr(C)]
struct Options {
    payload: i32,
    max_message_size: usize,
    item_free: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    item_free_context: *mut c_void,
}

const OK: i32 = 0;
const NO_MEMORY: i32 = -4;
const PAYLOAD_BYTES: i32 = 1;

extern "C" {
    fn lfq_queue_new(options: *const Options, out: *mut *mut Queue) -> i32;
    fn lfq_ring_new(capacity: usize, options: *const Options, out: *mut *mut Queue) -> i32;
    fn lfq_destroy(q: *mut Queue);
    fn lfq_len(q: *const Queue) -> usize;
    fn lfq_push(q: *mut Queue, item: *mut c_void, timeout_ns: i64) -> i32;
    fn lfq_pop(q: *mut Queue, item_out: *mut *mut c_void, timeout_ns: i64) -> i32;
    fn lfq_push_bulk(
        q: *mut Queue,
        items: *const *mut c_void,
        n: usize,
        pushed: *mut usize,
        timeout_ns: i64,
    ) -> i32;
    fn lfq_push_burst(
        q: *mut Queue,
        items: *const *mut c_void,
        n: usize,
        pushed: *mut usize,
        timeout_ns: i64,
    ) -> i32;
    fn lfq_send(q: *mut Queue, data: *const c_void, size: usize, timeout_ns: i64) -> i32;
    fn lfq_recv_into(
        q: *mut Queue,
        buf: *mut c_void,
        buf_size: usize,
        size_out: *mut usize,
        timeout_ns: i64,
    ) -> i32;
}

/// Options for a bytes queue with the default maximum message size.
fn bytes_options() -> Options {
    Options {
        payload: PAYLOAD_BYTES,
        max_message_size: 0,
        item_free: None,
        item_free_context: ptr::null_mut(),
    }
}

fn item(n: usize) -> *mut c_void {
    (n + 1) as *mut c_void
}

fn new_queue(options: Option<&Options>) -> *mut Queue {
    let mut q = ptr::null_mut();
    // SAFETY: `options` is NULL or a valid lfq_options; `q` is writable.
    let status = unsafe { lfq_queue_new(options.map_or(ptr::null(), |o| o as *const _), &mut q) };
    assert_eq!(status, OK);
    q
}

/// Pops everything from the pointer queue `q` and checks it is `0..count` in order.
fn drain_pointers(q: *mut Queue, count: usize) {
    for expected in 0..count {
        let mut got = ptr::null_mut();
        // SAFETY: `q` is live; `got` is writable.
        assert_eq!(
            unsafe { lfq_pop(q, &mut got, 0) },
            OK,
            "item {expected} lost"
        );
        assert_eq!(got, item(expected));
    }
    // SAFETY: `q` is live.
    assert_eq!(unsafe { lfq_len(q) }, 0, "more items than were accepted");
}

#[test]
fn single_pushes_report_no_memory_and_keep_what_they_accepted() {
    let q = new_queue(None);
    let refusal = Refusal::after(0);
    let mut accepted = 0;
    // SAFETY (both calls): `q` is live.
    let status = loop {
        match unsafe { lfq_push(q, item(accepted), 0) } {
            OK if accepted < 1_000_000 => accepted += 1,
            status => break status,
        }
    };
    let again = unsafe { lfq_push(q, item(accepted), 0) };
    drop(refusal);
    assert_eq!((status, again), (NO_MEMORY, NO_MEMORY));
    assert!(accepted > 0, "the first segment had room");
    // With memory back, the queue grows again.
    // SAFETY: `q` is live.
    assert_eq!(unsafe { lfq_push(q, item(accepted), 0) }, OK);
    drain_pointers(q, accepted + 1);
    // SAFETY: `q` is live and used no more.
    unsafe { lfq_destroy(q) };
}

#[test]
fn batches_stop_where_the_queue_could_not_grow() {
    let items: Vec<*mut c_void> = (0..1000).map(item).collect();
    let q = new_queue(None);
    // One more segment, then none: a bulk push of 1000 fills the first segment, links the
    // second and takes all of it but its last slot, which only a claim that links a third could
    // take. It reports what it pushed.
    let refusal = Refusal::after(1);
    let mut first = usize::MAX;
    // SAFETY: `q` is live; `items` holds 1000 pointers; `first` is writable.
    let bulk = unsafe { lfq_push_bulk(q, items.as_ptr(), items.len(), &mut first, 0) };
    // Nothing else fits now, one item or many.
    let mut filling = usize::MAX;
    // SAFETY: as above.
    let fills = unsafe { lfq_push_burst(q, items[first..].as_ptr(), 10, &mut filling, 0) };
    // SAFETY: `q` is live.
    let single = unsafe { lfq_push(q, items[first], 0) };
    drop(refusal);
    assert_eq!(bulk, NO_MEMORY);
    assert!(first > 127 && first < items.len(), "bulk pushed {first}");
    assert_eq!((fills, filling, single), (NO_MEMORY, 0, NO_MEMORY));
    // With memory back, the whole burst goes in.
    let mut pushed = 0;
    // SAFETY: as above.
    let status = unsafe { lfq_push_burst(q, items[first..].as_ptr(), 500, &mut pushed, 0) };
    assert_eq!((status, pushed), (OK, 500));
    drain_pointers(q, first + 500);
    // SAFETY: `q` is live and used no more.
    unsafe { lfq_destroy(q) };
}

#[test]
fn sends_and_new_queues_report_no_memory() {
    let options = bytes_options();
    let q = new_queue(Some(&options));
    let refusal = Refusal::after(0);
    let mut sent = 0u32;
    // SAFETY: `q` is live; the message is 4 readable bytes.
    let status = loop {
        let message = sent.to_le_bytes();
        match unsafe { lfq_send(q, message.as_ptr().cast(), message.len(), 0) } {
            OK if sent < 1_000_000 => sent += 1,
            status => break status,
        }
    };
    let mut other = ptr::null_mut();
    // SAFETY: `other` is writable.
    let created = unsafe { lfq_queue_new(&options, &mut other) };
    drop(refusal);
    assert_eq!((status, created), (NO_MEMORY, NO_MEMORY));
    assert!(other.is_null(), "a failed constructor wrote a handle");
    let mut buf = vec![0u8; 65536];
    for expected in 0..sent {
        let mut size = 0;
        // SAFETY: `q` is live; `buf` holds the default maximum message size.
        let status = unsafe { lfq_recv_into(q, buf.as_mut_ptr().cast(), buf.len(), &mut size, 0) };
        assert_eq!(status, OK, "message {expected} lost");
        assert_eq!(&buf[..size], expected.to_le_bytes());
    }
    // SAFETY: `q` is live and used no more.
    unsafe { lfq_destroy(q) };
}

/// Every allocation a constructor makes, refused in turn: each refusal gets LFQ_ERR_NO_MEMORY,
/// leaves `*out` alone and frees what the call had allocated, until enough are granted.
#[test]
fn constructors_report_any_failed_allocation() {
    let bytes = bytes_options();
    type Constructor<'a> = Box<dyn Fn(*mut *mut Queue) -> i32 + 'a>;
    let constructors: [(&str, Constructor); 4] = [
        // SAFETY (all four): NULL or valid options; `out` is writable.
        (
            "queue",
            Box::new(|out| unsafe { lfq_queue_new(ptr::null(), out) }),
        ),
        (
            "bytes queue",
            Box::new(|out| unsafe { lfq_queue_new(&bytes, out) }),
        ),
        (
            "ring",
            Box::new(|out| unsafe { lfq_ring_new(8, ptr::null(), out) }),
        ),
        (
            "bytes ring",
            Box::new(|out| unsafe { lfq_ring_new(8, &bytes, out) }),
        ),
    ];
    for (name, construct) in &constructors {
        let mut refused = 0;
        let q = loop {
            let mut out = ptr::null_mut();
            let before = NET_BYTES.with(Cell::get);
            let refusal = Refusal::of_any_after(refused);
            let status = construct(&mut out);
            drop(refusal);
            if status == OK {
                break out;
            }
            let leaked = NET_BYTES.with(Cell::get) - before;
            assert_eq!(
                (status, out.is_null(), leaked),
                (NO_MEMORY, true, 0),
                "{name}, allocation {refused} refused"
            );
            refused += 1;
            assert!(refused < 16, "{name} kept failing");
        };
        assert!(refused >= 2, "{name} made {refused} allocations");
        // SAFETY: `q` is live, and then used no more.
        unsafe {
            assert_eq!(lfq_len(q), 0, "{name}");
            lfq_destroy(q);
        }
    }
}
