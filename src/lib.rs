//! lfq: lock-free multi-producer multi-consumer queues.

mod error;
mod ffi;
mod queue;
mod ring;
mod sync;
mod wait;

pub use error::{PopError, PushError};
pub use queue::Queue;
pub use ring::Ring;
