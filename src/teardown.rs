//! Dropping the items a structure still holds when it is dropped, as std's collections do when an
//! item's drop panics: the remaining items are dropped anyway (a second panic aborts the
//! process), so one bad item does not leak the others.

use crate::sync::UnsafeCell;
use std::cell::Cell;
use std::mem::MaybeUninit;

/// A walk over the cells of a structure's live items: it calls the function it is given on each,
/// in order.
pub(crate) type Walk<'a, T> = dyn Fn(&mut dyn FnMut(&UnsafeCell<MaybeUninit<T>>)) + 'a;

/// Drops every item `walk` shows. If an item's drop panics, the walk runs again while the panic
/// unwinds, skipping the items already handled, and drops the rest.
///
/// # Safety
/// Every cell `walk` shows holds a live item that nothing else can reach, and `walk` shows the
/// same cells in the same order each time it runs.
pub(crate) unsafe fn drop_each<T>(walk: &Walk<T>) {
    let resume = Resume {
        walk,
        handled: Cell::new(0),
    };
    resume.run();
    std::mem::forget(resume);
}

/// One walk, and, through its own drop, the walk that resumes after a panicking drop.
struct Resume<'a, T> {
    walk: &'a Walk<'a, T>,
    /// Items dropped, or being dropped, by earlier runs; the one whose drop panicked counts.
    handled: Cell<usize>,
}

impl<T> Resume<'_, T> {
    fn run(&self) {
        let mut index = 0;
        (self.walk)(&mut |cell| {
            if index == self.handled.get() {
                self.handled.set(index + 1);
                // SAFETY: a live item nothing else reaches (`drop_each`'s contract), dropped
                // once: counted as handled before its drop starts.
                cell.with_mut(|value| unsafe { (*value).assume_init_drop() });
            }
            index += 1;
        });
    }
}

impl<T> Drop for Resume<'_, T> {
    fn drop(&mut self) {
        self.run();
    }
}
