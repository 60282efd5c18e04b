//! TEMPORARY: stand-in until the lock-free Queue lands.
use crate::standin::{common_methods, Locked};
use crate::{PopError, PushError};
use std::time::Duration;

pub struct Queue<T>(Locked<T>);
impl<T> Default for Queue<T> { fn default() -> Self { Self::new() } }
impl<T> Queue<T> {
    pub fn new() -> Self { Queue(Locked::new(None)) }
    common_methods!();
}
