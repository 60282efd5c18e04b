//! The C ABI (see include/lfq.h).
