//! TEMPORARY: stand-in until the lock-free Ring lands.
use crate::standin::{common_methods, Locked};
use crate::{PopError, PushError};
use std::time::Duration;

pub struct Ring<T>(Locked<T>);
impl<T> Ring<T> {
    pub fn new(capacity: usize) -> Self { assert!(capacity > 0, "capacity must be non-zero"); Ring(Locked::new(Some(capacity))) }
    common_methods!();
    pub fn is_full(&self) -> bool { self.0.len() == self.0.cap().unwrap() }
    pub fn push_timeout(&self, item: T, timeout: Duration) -> Result<(), PushError<T>> {
        match self.0.push_wait(item, Some(timeout)) { Err(PushError::Full(x)) => Err(PushError::Timeout(x)), r => r }
    }
    pub fn push_blocking(&self, item: T) -> Result<(), PushError<T>> { self.0.push_wait(item, None) }
    pub fn force_push(&self, item: T) -> Result<Option<T>, PushError<T>> { self.0.force_push(item) }
    pub fn wait_not_full(&self, timeout: Option<Duration>) -> Result<(), PushError<()>> { self.0.wait_not_full(timeout) }
}
