//! Helpers shared by the integration tests.
//!
//! Each test binary compiles this module separately and uses only part of it.
#![allow(dead_code)]

use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Generous bound for "promptly": long enough for an overloaded 2-core CI box, short enough that
/// a lost wakeup shows up as a failure instead of a hung test run.
pub const PROMPT: Duration = Duration::from_secs(5);

/// Joins `handle`, failing the test if the thread has not finished within `limit`.
///
/// A lost wakeup would otherwise hang the whole test binary; polling `is_finished` turns it into a
/// named failure.
pub fn join_within<T>(handle: JoinHandle<T>, limit: Duration, what: &str) -> T {
    let start = Instant::now();
    while !handle.is_finished() {
        assert!(
            start.elapsed() < limit,
            "{what}: thread still blocked after {limit:?} (lost wakeup?)"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    join_now(handle)
}

/// How long a stress test may go without moving a single item before it counts as hung.
///
/// The watchdogs below time stalls, not whole runs: on an overloaded machine a hand-over through a
/// one-slot ring can take a scheduler tick, so a healthy run may be slow, but it never stops.
pub const STALL: Duration = Duration::from_secs(60);

/// Items popped so far by one test's consumers: what the watchdogs watch.
#[derive(Clone, Default)]
pub struct Progress(Arc<CachePadded<AtomicUsize>>);

impl Progress {
    /// Items a consumer pops between two reports, so that consumers do not all write the shared
    /// counter on every pop (which would change the interleavings the test is after).
    pub const STEP: usize = 64;

    pub fn new() -> Self {
        Self::default()
    }

    /// Reports `items` more popped.
    pub fn add(&self, items: usize) {
        // Relaxed: a watchdog only needs to see the count move eventually.
        self.0.fetch_add(items, Ordering::Relaxed);
    }

    /// Returns once at least `items` have been reported, failing the test on a stall.
    pub fn wait_for(&self, items: usize) {
        self.watch("waiting for traffic", || {
            self.0.load(Ordering::Relaxed) >= items
        });
    }

    /// Returns once `done()` holds, failing the test if no item moved for `STALL` first.
    fn watch(&self, what: &str, mut done: impl FnMut() -> bool) {
        let (mut seen, mut since) = (self.0.load(Ordering::Relaxed), Instant::now());
        while !done() {
            let now = self.0.load(Ordering::Relaxed);
            if now != seen {
                (seen, since) = (now, Instant::now());
            }
            assert!(
                since.elapsed() < STALL,
                "{what}: no item moved for {STALL:?} (lost wakeup?)"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Joins every producer while watching the consumers, which are expected to run until the
/// structure is closed after this returns.
///
/// A consumer that ends early has panicked; producers waiting for room it will never make would
/// then spin or sleep forever, so this fails at once with the consumer's panic instead.
pub fn join_producers<P, C>(
    producers: Vec<JoinHandle<P>>,
    consumers: &mut Vec<JoinHandle<C>>,
    progress: &Progress,
) -> Vec<P> {
    progress.watch("producers", || {
        if let Some(i) = consumers.iter().position(|c| c.is_finished()) {
            let early = consumers.swap_remove(i);
            match early.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(_) => panic!("a consumer finished before the producers"),
            }
        }
        producers.iter().all(|p| p.is_finished())
    });
    producers.into_iter().map(join_now).collect()
}

/// Joins a consumer that is draining a closed structure, failing the test if it stalls.
pub fn join_consumer<T>(handle: JoinHandle<T>, progress: &Progress) -> T {
    progress.watch("consumer", || handle.is_finished());
    join_now(handle)
}

/// Joins a finished thread, passing its panic on.
fn join_now<T>(handle: JoinHandle<T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Records which tracked items were created and dropped.
///
/// One flag per id catches an item dropped twice (a slot read twice, or a bitwise copy that the
/// queue dropped as well as handed out); the counters catch leaks.
pub struct Tracker {
    created: AtomicUsize,
    dropped: AtomicUsize,
    flags: Vec<AtomicBool>,
}

impl Tracker {
    /// A tracker for items with ids `0..capacity`.
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Tracker {
            created: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            flags: (0..capacity).map(|_| AtomicBool::new(false)).collect(),
        })
    }

    /// Creates the item with `id`; each id may be created once.
    pub fn item(self: &Arc<Self>, id: usize) -> Tracked {
        self.created.fetch_add(1, Ordering::Relaxed);
        Tracked {
            id,
            canary: CANARY_ALIVE,
            tracker: Arc::clone(self),
        }
    }

    pub fn created(&self) -> usize {
        self.created.load(Ordering::SeqCst)
    }

    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }

    pub fn is_dropped(&self, id: usize) -> bool {
        self.flags[id].load(Ordering::SeqCst)
    }

    /// Asserts that every item created so far was dropped exactly once.
    pub fn assert_all_dropped(&self) {
        let created = self.created();
        assert_eq!(self.dropped(), created, "items leaked");
        let flagged = self
            .flags
            .iter()
            .filter(|f| f.load(Ordering::SeqCst))
            .count();
        assert_eq!(flagged, created, "drop flags disagree with the drop count");
    }
}

const CANARY_ALIVE: u64 = 0x5AFE_17E0_A11C_E5ED;
const CANARY_DEAD: u64 = 0xDEAD_DEAD_DEAD_DEAD;

/// An item whose drop is counted and checked.
pub struct Tracked {
    pub id: usize,
    /// Overwritten on drop, so dropping a stale copy or garbage is detected.
    canary: u64,
    tracker: Arc<Tracker>,
}

impl Tracked {
    /// Panics if this item was already dropped or is not a real item.
    pub fn check(&self) {
        assert_eq!(self.canary, CANARY_ALIVE, "item {} is corrupt", self.id);
        assert!(
            !self.tracker.is_dropped(self.id),
            "item {} used after drop",
            self.id
        );
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        assert_eq!(self.canary, CANARY_ALIVE, "dropping a corrupt item");
        self.canary = CANARY_DEAD;
        let already = self.tracker.flags[self.id].swap(true, Ordering::SeqCst);
        assert!(!already, "item {} dropped twice", self.id);
        self.tracker.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for Tracked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tracked({})", self.id)
    }
}

/// The message of the panics these tests provoke.
pub const PROVOKED: &str = "the iterator fails";

/// Keeps the provoked panics out of the test output; any other
/// panic is reported as usual.
pub fn quiet_provoked_panics() {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = (payload.downcast_ref::<&str>().copied())
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if message != Some(PROVOKED) {
                report(info);
            }
        }));
    });
}

/// An exact-size iterator over `make(i)` for `i` in a range that panics with [`PROVOKED`]
/// instead of yielding the item at `fail_at`, if any.
pub struct Failing<F> {
    next: usize,
    end: usize,
    fail_at: Option<usize>,
    make: F,
}

impl<F> Failing<F> {
    pub fn new(range: std::ops::Range<usize>, fail_at: Option<usize>, make: F) -> Self {
        Failing {
            next: range.start,
            end: range.end,
            fail_at,
            make,
        }
    }
}

impl<T, F: FnMut(usize) -> T> Iterator for Failing<F> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.next == self.end {
            return None;
        }
        assert!(Some(self.next) != self.fail_at, "{PROVOKED}");
        self.next += 1;
        Some((self.make)(self.next - 1))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.end - self.next, Some(self.end - self.next))
    }
}

impl<T, F: FnMut(usize) -> T> ExactSizeIterator for Failing<F> {}
