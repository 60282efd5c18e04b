#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![warn(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod error;
mod ffi;
mod iterating;
mod queue;
mod ring;
mod scan;
mod sync;
mod teardown;
mod wait;

pub use error::{PopError, PushError};
pub use queue::Queue;
pub use ring::Ring;
