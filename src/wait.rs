//! Sleeping until a queue changes: an event count over one futex word.
//!
//! A thread that must wait announces itself in `sleepers`, reads `events`, tries its operation
//! once more, and only then sleeps on `events` — the kernel puts it to sleep only if `events`
//! still holds the value it read. The side that makes progress (a push for waiting poppers, a pop
//! for waiting pushers) changes the queue with a `SeqCst` read-modify-write of an index first and
//! then loads `sleepers` with `SeqCst`; when that load sees a sleeper it bumps `events` and wakes.
//!
//! Why no wakeup is lost: the waiter's `sleepers` increment and the waker's index update are both
//! `SeqCst`, so one of them comes first in the single total order. If the index update comes first,
//! the waiter's retry (whose emptiness or fullness check loads that index with `SeqCst`) sees the
//! change and does not sleep. If the increment comes first, the waker's load sees the sleeper and
//! bumps `events`, which either makes the futex wait return at once or wakes the sleeper.
//!
//! The cost when nobody waits is the waker's one `SeqCst` load of `sleepers` (a plain load on
//! x86-64), from a cache line that stays shared while nobody registers.

use crate::sync::{AtomicU32, Backoff, Ordering};
use std::time::{Duration, Instant};

/// The longest a waiting thread sleeps at a time while what it waits for is claimed by another
/// thread and not yet filled (see `spin_then_wait`).
const CLAIM_NAP: Duration = Duration::from_millis(1);

/// How many tries `spin_then_wait` makes, one spin hint apart, before its backoff: a wait that
/// ends within them (a producer already on its way) sees the change within nanoseconds, where
/// the backoff's growing spins added a few hundred to a round trip (BENCHMARKS.md, run R).
#[cfg(not(loom))]
const POLLS: u32 = 64;
/// Under loom the backoff yields to the model checker from the first step; so does every try.
#[cfg(loom)]
const POLLS: u32 = 0;

/// Tries `attempt` through a short, bounded spin (most waits end within it, and spinning is
/// far cheaper than a sleep and a wake), then sleeps on `waiters` between tries until `deadline`.
///
/// `attempt(exact)`: with `exact` false (the spin) it may report "not yet" from its own side of
/// the queue alone, as the non-blocking calls do, so a spinning thread does not keep pulling the
/// other side's index cache line away from the thread that is about to make progress; with
/// `exact` true (before each sleep) it must decide as `Waiters::wait_until` requires.
///
/// `claimed()`, asked after an exact try failed, says whether what the thread waits for has been
/// claimed by another thread that has not filled it yet: a batch push whose item iterator is
/// still running, or a producer preempted between its claim and its write. That thread wakes
/// sleepers after filling, but orders only its claim, not the fill, before it looks for them, so
/// its wake can miss a thread that decided to sleep from the unfilled slot. Such a thread naps
/// for at most `CLAIM_NAP` and tries again, instead of sleeping until woken.
pub(crate) fn spin_then_wait<R>(
    waiters: &Waiters,
    deadline: Option<Instant>,
    mut attempt: impl FnMut(bool) -> Option<R>,
    claimed: impl Fn() -> bool,
) -> Option<R> {
    let backoff = Backoff::new();
    let mut polls = POLLS;
    loop {
        if let Some(outcome) = attempt(false) {
            return Some(outcome);
        }
        if backoff.is_completed() || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        if polls > 0 {
            polls -= 1;
            std::hint::spin_loop();
        } else {
            backoff.snooze();
        }
    }
    waiters.wait_until(deadline, || attempt(true), claimed)
}

/// `spin_then_wait` for waits that only watch the queue (`wait_nonempty`, `wait_not_full`):
/// such a wait may take the wakeup meant for a thread that would have popped or pushed, without
/// doing so itself, so on success it passes one wakeup on. Otherwise a thread sleeping in a pop
/// could sleep beside a queued item (or in a push beside free room).
pub(crate) fn watch<E>(
    waiters: &Waiters,
    deadline: Option<Instant>,
    mut attempt: impl FnMut() -> Option<Result<(), E>>,
) -> Option<Result<(), E>> {
    // Nothing is claimed by a watch: it waits for the index alone.
    let outcome = spin_then_wait(waiters, deadline, |_| attempt(), || false);
    if matches!(outcome, Some(Ok(()))) {
        waiters.notify(1);
    }
    outcome
}

pub(crate) struct Waiters {
    /// Threads between announcing themselves and leaving `wait_until`.
    sleepers: AtomicU32,
    /// The futex word: bumped by every wake, so a stale sleeper never blocks.
    events: AtomicU32,
    #[cfg(any(loom, not(target_os = "linux")))]
    fallback: fallback::Sleeper,
}

impl Waiters {
    pub(crate) fn new() -> Self {
        Waiters {
            sleepers: AtomicU32::new(0),
            events: AtomicU32::new(0),
            #[cfg(any(loom, not(target_os = "linux")))]
            fallback: fallback::Sleeper::new(),
        }
    }

    /// Wakes up to `count` sleepers, if there are any. Call after the `SeqCst` index update that
    /// made progress (see the module comment).
    #[inline]
    pub(crate) fn notify(&self, count: usize) {
        crate::sync::seqcst_fence_for_loom();
        // SeqCst: ordered after the caller's SeqCst index update; pairs with the `SeqCst`
        // increment in `wait_until`.
        if self.sleepers.load(Ordering::SeqCst) != 0 {
            self.wake(count);
        }
    }

    /// The sleeper count's address, for code outside Rust that wakes through the C layer
    /// (lfq_ring_map): it loads the count after its `SeqCst` index update, as `notify` does.
    #[cfg(not(loom))]
    pub(crate) fn sleepers_word(&self) -> *mut u32 {
        self.sleepers.as_ptr()
    }

    /// Wakes every sleeper (used by close).
    pub(crate) fn notify_all(&self) {
        self.wake(usize::MAX);
    }

    #[cold]
    fn wake(&self, count: usize) {
        // SeqCst (release part): a sleeper that reads the new count also sees the queue change
        // made before this call.
        self.events.fetch_add(1, Ordering::SeqCst);
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        #[cfg(all(target_os = "linux", not(loom)))]
        futex::wake(&self.events, count);
        #[cfg(any(loom, not(target_os = "linux")))]
        self.fallback.wake(count);
    }

    /// Calls `attempt` until it returns `Some`, sleeping between tries; gives up with `None` once
    /// `deadline` has passed (never, for `None`). `attempt` must decide emptiness or fullness
    /// with `SeqCst` loads of the index that the waking side updates. A sleep after a try that
    /// failed while `claimed()` holds lasts at most `CLAIM_NAP` (see `spin_then_wait`).
    pub(crate) fn wait_until<R>(
        &self,
        deadline: Option<Instant>,
        mut attempt: impl FnMut() -> Option<R>,
        claimed: impl Fn() -> bool,
    ) -> Option<R> {
        loop {
            // SeqCst: pairs with the waker's SeqCst load in `notify` (module comment).
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            crate::sync::seqcst_fence_for_loom();
            // SeqCst: a wake that happens after this load makes the futex wait return at once.
            let seen = self.events.load(Ordering::SeqCst);
            let outcome = attempt();
            let timeout = match (&outcome, deadline) {
                (Some(_), _) => None,
                (None, None) => Some(None),
                (None, Some(deadline)) => deadline
                    .checked_duration_since(Instant::now())
                    .filter(|left| !left.is_zero())
                    .map(Some),
            };
            // `Some` only after a failed try: a nap then, if the try found an unfilled claim.
            let timeout = timeout.map(|left| {
                if claimed() {
                    Some(left.map_or(CLAIM_NAP, |left| left.min(CLAIM_NAP)))
                } else {
                    left
                }
            });
            if let Some(timeout) = timeout {
                self.sleep(seen, timeout);
            }
            // Relaxed: leaving needs no ordering; a waker that still counts us only wakes in vain.
            self.sleepers.fetch_sub(1, Ordering::Relaxed);
            if outcome.is_some() || timeout.is_none() {
                return outcome;
            }
        }
    }

    fn sleep(&self, seen: u32, timeout: Option<Duration>) {
        #[cfg(all(target_os = "linux", not(loom)))]
        futex::wait(&self.events, seen, timeout);
        #[cfg(any(loom, not(target_os = "linux")))]
        self.fallback.wait(&self.events, seen, timeout);
    }
}

#[cfg(all(target_os = "linux", not(loom)))]
mod futex {
    use std::sync::atomic::AtomicU32;
    use std::time::Duration;

    /// Sleeps while `word` holds `expected`, for at most `timeout`. Returns on a wake, a timeout,
    /// a signal, or at once when the word has changed; callers re-check their condition anyway.
    pub(super) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
        let spec = timeout.map(|t| libc::timespec {
            tv_sec: t.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
            tv_nsec: t.subsec_nanos() as libc::c_long,
        });
        let spec_ptr = spec
            .as_ref()
            .map_or(std::ptr::null(), |s| s as *const libc::timespec);
        // SAFETY: `word` is a live, aligned 32-bit atomic for the whole call and `spec_ptr` is
        // null or points to a timespec on this stack frame; FUTEX_WAIT only reads both.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                expected,
                spec_ptr,
            );
        }
    }

    pub(super) fn wake(word: &AtomicU32, count: u32) {
        let count = count.min(i32::MAX as u32) as libc::c_int;
        // SAFETY: FUTEX_WAKE only uses the address of `word` as a key; it reads no memory.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                count,
            );
        }
    }
}

/// The same contract as the futex, from a mutex and a condition variable: for loom (which
/// cannot see system calls) and for systems without futexes.
#[cfg(any(loom, not(target_os = "linux")))]
mod fallback {
    use crate::sync::{AtomicU32, Ordering};
    #[cfg(loom)]
    use loom::sync::{Condvar, Mutex};
    #[cfg(not(loom))]
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    pub(super) struct Sleeper {
        lock: Mutex<()>,
        changed: Condvar,
    }

    impl Sleeper {
        pub(super) fn new() -> Self {
            Sleeper {
                lock: Mutex::new(()),
                changed: Condvar::new(),
            }
        }

        pub(super) fn wait(&self, word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
            let guard = self.lock.lock().unwrap();
            // Checked under the lock that `wake` takes after bumping the word: no wake slips by.
            if word.load(Ordering::SeqCst) != expected {
                return;
            }
            match timeout {
                None => drop(self.changed.wait(guard).unwrap()),
                #[cfg(not(loom))]
                Some(t) => drop(self.changed.wait_timeout(guard, t).unwrap()),
                // loom has no clock: a timed wait returns at once, as a spurious wakeup may,
                // letting the model run the other threads first.
                #[cfg(loom)]
                Some(_) => {
                    drop(guard);
                    loom::thread::yield_now();
                }
            }
        }

        pub(super) fn wake(&self, _count: u32) {
            drop(self.lock.lock().unwrap());
            self.changed.notify_all();
        }
    }
}
