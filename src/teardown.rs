//! Dropping the items a structure still holds when it is dropped, as std's collections do when an
//! item's drop panics: the remaining items are dropped anyway (a second panic aborts the
//! process), so one bad item does not leak the others.

use std::cell::Cell;

/// A walk over a structure's items: it calls the function it is given on each, in order.
pub(crate) type Walk<'a, I> = dyn Fn(&mut dyn FnMut(&I)) + 'a;

/// Drops every item `walk` shows: `walk(each)` calls `each` on each item left, in the same order
/// every time it runs, and `drop_one` drops the item it is given. If that panics, the walk runs
/// again while the panic unwinds, skipping the items already handled, and drops the rest.
pub(crate) fn drop_each<I>(walk: &Walk<I>, drop_one: &dyn Fn(&I)) {
    let resume = Resume {
        walk,
        drop_one,
        handled: Cell::new(0),
    };
    resume.run();
    std::mem::forget(resume);
}

/// One walk, and, through its own drop, the walk that resumes after a panicking drop.
struct Resume<'a, I> {
    walk: &'a Walk<'a, I>,
    drop_one: &'a dyn Fn(&I),
    /// Items dropped, or being dropped, by earlier runs; the one whose drop panicked counts.
    handled: Cell<usize>,
}

impl<I> Resume<'_, I> {
    fn run(&self) {
        let mut index = 0;
        (self.walk)(&mut |item| {
            if index == self.handled.get() {
                self.handled.set(index + 1);
                (self.drop_one)(item);
            }
            index += 1;
        });
    }
}

impl<I> Drop for Resume<'_, I> {
    fn drop(&mut self) {
        self.run();
    }
}
