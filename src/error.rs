//! Error types shared by [`Queue`](crate::Queue) and [`Ring`](crate::Ring).

use std::error::Error;
use std::fmt;

/// Why a push did not happen. The item always comes back to the caller.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PushError<T> {
    /// The ring holds `capacity` items (never returned by [`Queue`](crate::Queue)).
    Full(T),
    /// The queue was closed; nothing more can be pushed.
    Closed(T),
    /// A timed push ran out of time while the ring stayed full.
    Timeout(T),
}

impl<T> PushError<T> {
    /// Returns the item that was not pushed.
    pub fn into_inner(self) -> T {
        match self {
            PushError::Full(item) | PushError::Closed(item) | PushError::Timeout(item) => item,
        }
    }

    /// True for [`PushError::Full`].
    pub fn is_full(&self) -> bool {
        matches!(self, PushError::Full(_))
    }

    /// True for [`PushError::Closed`].
    pub fn is_closed(&self) -> bool {
        matches!(self, PushError::Closed(_))
    }

    /// True for [`PushError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, PushError::Timeout(_))
    }
}

impl<T> fmt::Debug for PushError<T> {
    // The item is left out so that any `T` can be debug-printed inside `unwrap()` messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Full(_) => f.write_str("Full(..)"),
            PushError::Closed(_) => f.write_str("Closed(..)"),
            PushError::Timeout(_) => f.write_str("Timeout(..)"),
        }
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PushError::Full(_) => "pushing into a full queue",
            PushError::Closed(_) => "pushing into a closed queue",
            PushError::Timeout(_) => "timed out waiting for room in the queue",
        })
    }
}

impl<T> Error for PushError<T> {}

/// Why a pop returned no item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PopError {
    /// Nothing was queued.
    Empty,
    /// The queue is closed and every item has been taken.
    Closed,
    /// A timed pop ran out of time while the queue stayed empty.
    Timeout,
}

impl PopError {
    /// What a pop that found nothing reports: `Closed` once the queue is closed, else `Empty`.
    pub(crate) fn empty_or_closed(closed: bool) -> PopError {
        if closed {
            PopError::Closed
        } else {
            PopError::Empty
        }
    }
}

impl fmt::Display for PopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PopError::Empty => "popping from an empty queue",
            PopError::Closed => "popping from a closed and empty queue",
            PopError::Timeout => "timed out waiting for an item",
        })
    }
}

impl Error for PopError {}

/// Why the first try of a push or pop (`push_fast`, `pop_fast`) did not go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Missed {
    /// The ring is full (push) or the queue empty (pop), and not closed, judged as the full
    /// non-blocking call judges it: what that call reports.
    FullOrEmpty,
    /// Anything else (a lost race, a slot mid-operation, a closed queue): the full path decides.
    Undecided,
}

impl Missed {
    /// [`FullOrEmpty`](Missed::FullOrEmpty) when the slot showed it, else
    /// [`Undecided`](Missed::Undecided).
    #[inline(always)]
    pub(crate) fn full_or_empty_if(shown: bool) -> Missed {
        if shown {
            Missed::FullOrEmpty
        } else {
            Missed::Undecided
        }
    }
}
