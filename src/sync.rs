//! The atomics and cells the engine uses: `std`'s normally, loom's when model checking
//! (`RUSTFLAGS="--cfg loom --cfg crossbeam_loom"`), so one source serves both.

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU8, AtomicUsize, Ordering,
};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU8, AtomicUsize, Ordering,
};

/// `std::cell::UnsafeCell` with loom's closure-based interface, so that loom can check every access.
#[cfg(not(loom))]
#[derive(Debug)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Backoff for retry loops. Under loom every step is a loom-visible yield, so the model checker
/// can schedule the thread being waited for, and there is no spin phase: `is_completed` holds at
/// once, so blocking paths go straight to the sleep/wake handshake, which is what the models are
/// for.
#[cfg(not(loom))]
pub(crate) use crossbeam_utils::Backoff;

#[cfg(loom)]
pub(crate) struct Backoff;

#[cfg(loom)]
impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff
    }

    pub(crate) fn spin(&self) {
        loom::thread::yield_now();
    }

    pub(crate) fn snooze(&self) {
        loom::thread::yield_now();
    }

    pub(crate) fn is_completed(&self) -> bool {
        true
    }
}

/// loom models `SeqCst` loads and read-modify-writes as acquire/release, which is weaker than
/// what the sleep/wake handshake in wait.rs relies on; loom does model `SeqCst` fences. Under
/// loom this fence stands in for the total order that the real `SeqCst` accesses provide; in
/// normal builds it is nothing.
///
/// The fence is stronger than what it stands in for: it also orders the slot stamps and ready
/// flags around it. So the loom models cannot catch a sleeping thread's last try that decides
/// from its own slot alone instead of the other side's index; on x86-64 such a try can miss a
/// push whose stamp store is still in the store buffer. That the try before each sleep is exact
/// (`spin_then_wait`) rests on review, not on loom.
#[inline(always)]
pub(crate) fn seqcst_fence_for_loom() {
    #[cfg(loom)]
    loom::sync::atomic::fence(Ordering::SeqCst);
}

/// Pins the current thread in crossbeam-epoch's default collector, as `epoch::pin` does, through
/// a participant handle of this crate's own per thread. `epoch::pin` reaches its handle through a
/// function that stays out of line in liblfq.so; this one inlines, which saves every C-layer pop
/// a call and the register saves around it. Under loom, and while this thread's thread-locals are
/// being destroyed, it is `epoch::pin` itself.
#[inline(always)]
pub(crate) fn pin() -> crossbeam_epoch::Guard {
    #[cfg(not(loom))]
    {
        std::thread_local! {
            static HANDLE: crossbeam_epoch::LocalHandle =
                crossbeam_epoch::default_collector().register();
        }
        HANDLE
            .try_with(|handle| handle.pin())
            .unwrap_or_else(|_| crossbeam_epoch::pin())
    }
    #[cfg(loom)]
    crossbeam_epoch::pin()
}
