//! Memory give-back of the unbounded queue, measured as the process's resident set size.
//!
//! One test in its own binary, so no other test allocates while RSS is measured.

#![cfg(target_os = "linux")]

use lfq::Queue;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts the bytes live on the heap, so the test can tell memory the queue still holds from
/// memory it freed but the allocator kept in the process.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to `System` with the caller's layout and pointer unchanged, so
// `System` upholds the `GlobalAlloc` contract; the counter has no effect on the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`, with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` with `layout`; the caller upholds the rest.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_heap() -> usize {
    LIVE.load(Ordering::Relaxed)
}

const MIB: usize = 1 << 20;

/// Items in the burst; debug builds use fewer to stay quick.
const BURST: u64 = if cfg!(debug_assertions) {
    4_000_000
} else {
    10_000_000
};

/// Slack allowed over the baseline for allocator bookkeeping and a few cached nodes or segments:
/// at most a quarter of the 32 MiB (debug) or 80 MiB (release) that the burst's payload needs.
const SLACK: usize = if cfg!(debug_assertions) { 8 } else { 16 } * MIB;

/// Resident set size in bytes, from /proc/self/statm (second field, in pages).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .expect("parse /proc/self/statm");
    // SAFETY: sysconf only reads a configuration value; _SC_PAGESIZE is always supported.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * usize::try_from(page).expect("page size")
}

/// Gives deferred reclamation every chance to run: the queue may free nodes only after an epoch
/// advance, which needs further pins from this thread.
fn settle(q: &Queue<u64>) {
    for _ in 0..8 {
        for _ in 0..1_000 {
            assert!(q.pop().is_err());
        }
        crossbeam_epoch::pin().flush();
    }
}

#[test]
fn queue_gives_memory_back() {
    let burst = BURST;
    let q = Queue::new();
    // Warm up lazily created state (epoch participant, first nodes) before the baseline.
    for i in 0..10_000 {
        q.push(i).unwrap();
    }
    while q.pop().is_ok() {}
    settle(&q);

    // Steady traffic: the queue never holds more than 1,000 items, so memory must stay flat.
    let before_steady = rss();
    let heap_before_steady = live_heap();
    let mut expected = 0u64;
    let mut next = 0u64;
    while next < burst {
        for _ in 0..1_000 {
            q.push(next).unwrap();
            next += 1;
        }
        for _ in 0..1_000 {
            assert_eq!(q.pop(), Ok(expected));
            expected += 1;
        }
    }
    settle(&q);
    let after_steady = rss();
    let heap_after_steady = live_heap();
    eprintln!(
        "steady {} items: RSS {} -> {} KiB, heap {} -> {} KiB",
        burst,
        before_steady / 1024,
        after_steady / 1024,
        heap_before_steady / 1024,
        heap_after_steady / 1024
    );
    assert!(
        heap_after_steady <= heap_before_steady + SLACK,
        "steady push/pop left {} KiB more on the heap",
        (heap_after_steady - heap_before_steady) / 1024
    );
    assert!(
        after_steady <= before_steady + SLACK,
        "steady push/pop grew RSS from {} to {} KiB",
        before_steady / 1024,
        after_steady / 1024
    );

    // Bursts: hold every item at once, then drain, one at a time and in batches (which pin the
    // epoch once per batch, so reclamation must keep up with fewer pins).
    burst_then_drain(&q, "pop", |q| {
        for i in 0..burst {
            assert_eq!(q.pop(), Ok(i));
        }
    });
    burst_then_drain(&q, "pop_many", |q| {
        let mut out = Vec::with_capacity(1_000);
        let mut expected = 0;
        while expected < burst {
            out.clear();
            q.pop_many(&mut out, 1_000).unwrap();
            for item in &out {
                assert_eq!(*item, expected);
                expected += 1;
            }
        }
    });
}

/// Pushes `BURST` items, drains them with `drain`, and checks that the heap and RSS come back.
fn burst_then_drain(q: &Queue<u64>, how: &str, drain: impl FnOnce(&Queue<u64>)) {
    let burst = BURST;
    let before_burst = rss();
    let heap_before_burst = live_heap();
    for i in 0..burst {
        q.push(i).unwrap();
    }
    let peak = rss();
    let heap_peak = live_heap();
    assert_eq!(q.len() as u64, burst);
    drain(q);
    assert!(q.is_empty());
    settle(q);
    let after_burst = rss();
    let heap_after_burst = live_heap();
    eprintln!(
        "burst {} items, drained by {how}: RSS {} -> peak {} -> {} KiB, heap {} -> {} KiB",
        burst,
        before_burst / 1024,
        peak / 1024,
        after_burst / 1024,
        heap_before_burst / 1024,
        heap_after_burst / 1024
    );
    // The burst must really have cost memory, or the give-back check below proves nothing.
    assert!(
        peak >= before_burst + (burst as usize * 8) / 2,
        "burst of {burst} items did not show in RSS"
    );
    assert!(
        heap_peak >= heap_before_burst + burst as usize * 8,
        "burst of {burst} items did not show on the heap"
    );
    // First what the queue itself holds, then what the process holds: if only the second fails,
    // the queue freed its memory and the allocator kept it.
    assert!(
        heap_after_burst <= heap_before_burst + SLACK,
        "queue drained by {how} still holds {} KiB of heap",
        (heap_after_burst.saturating_sub(heap_before_burst)) / 1024
    );
    assert!(
        after_burst <= before_burst + SLACK,
        "queue drained by {how} freed its heap but RSS stayed up: {} KiB before the burst, {} \
         KiB after draining (the allocator kept the freed memory)",
        before_burst / 1024,
        after_burst / 1024
    );
}
