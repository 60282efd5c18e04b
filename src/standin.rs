//! TEMPORARY mutex stand-in with the final API, so that the C/Go/Python layers can be built
//! while the lock-free engine is written. Deleted when src/queue.rs and src/ring.rs land.
use crate::{PopError, PushError};
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

pub(crate) struct Locked<T> {
    state: Mutex<(VecDeque<T>, bool)>,
    cap: Option<usize>,
    not_empty: Condvar,
    not_full: Condvar,
}

fn deadline(t: Option<Duration>) -> Option<Instant> {
    t.map(|d| Instant::now() + d)
}

impl<T> Locked<T> {
    pub(crate) fn new(cap: Option<usize>) -> Self {
        Locked { state: Mutex::new((VecDeque::new(), false)), cap, not_empty: Condvar::new(), not_full: Condvar::new() }
    }
    fn room(&self, len: usize) -> usize {
        self.cap.map_or(usize::MAX, |c| c - len)
    }
    pub(crate) fn push_wait(&self, item: T, t: Option<Duration>) -> Result<(), PushError<T>> {
        let dl = deadline(t);
        let mut g = self.state.lock().unwrap();
        loop {
            if g.1 { return Err(PushError::Closed(item)); }
            if self.room(g.0.len()) > 0 { g.0.push_back(item); self.not_empty.notify_one(); return Ok(()); }
            match dl { Some(d) if Instant::now() >= d => return Err(if t == Some(Duration::ZERO) { PushError::Full(item) } else { PushError::Timeout(item) }),
                Some(d) => g = self.not_full.wait_timeout(g, d - Instant::now()).unwrap().0,
                None => g = self.not_full.wait(g).unwrap() }
        }
    }
    pub(crate) fn pop_wait(&self, t: Option<Duration>, zero_is_empty: bool) -> Result<T, PopError> {
        let dl = deadline(t);
        let mut g = self.state.lock().unwrap();
        loop {
            if let Some(x) = g.0.pop_front() { self.not_full.notify_one(); return Ok(x); }
            if g.1 { return Err(PopError::Closed); }
            match dl { Some(d) if Instant::now() >= d => return Err(if zero_is_empty { PopError::Empty } else { PopError::Timeout }),
                Some(d) => g = self.not_empty.wait_timeout(g, d - Instant::now()).unwrap().0,
                None => g = self.not_empty.wait(g).unwrap() }
        }
    }
    pub(crate) fn wait_nonempty(&self, t: Option<Duration>) -> Result<(), PopError> {
        let dl = deadline(t);
        let mut g = self.state.lock().unwrap();
        loop {
            if !g.0.is_empty() { return Ok(()); }
            if g.1 { return Err(PopError::Closed); }
            match dl { Some(d) if Instant::now() >= d => return Err(PopError::Timeout),
                Some(d) => g = self.not_empty.wait_timeout(g, d - Instant::now()).unwrap().0,
                None => g = self.not_empty.wait(g).unwrap() }
        }
    }
    pub(crate) fn wait_not_full(&self, t: Option<Duration>) -> Result<(), PushError<()>> {
        let dl = deadline(t);
        let mut g = self.state.lock().unwrap();
        loop {
            if g.1 { return Err(PushError::Closed(())); }
            if self.room(g.0.len()) > 0 { return Ok(()); }
            match dl { Some(d) if Instant::now() >= d => return Err(PushError::Timeout(())),
                Some(d) => g = self.not_full.wait_timeout(g, d - Instant::now()).unwrap().0,
                None => g = self.not_full.wait(g).unwrap() }
        }
    }
    pub(crate) fn push_batch<I: ExactSizeIterator<Item = T>>(&self, items: &mut I, min: usize) -> Result<usize, PushError<()>> {
        let mut g = self.state.lock().unwrap();
        if g.1 { return Err(PushError::Closed(())); }
        let n = items.len().min(self.room(g.0.len()));
        if items.len() == 0 { return Ok(0); }
        if n == 0 || n < min { return Err(PushError::Full(())); }
        for _ in 0..n { g.0.push_back(items.next().unwrap()); }
        self.not_empty.notify_all();
        Ok(n)
    }
    pub(crate) fn pop_batch(&self, min: usize, max: usize, mut sink: impl FnMut(T)) -> Result<usize, PopError> {
        let mut g = self.state.lock().unwrap();
        if max == 0 { return Ok(0); }
        let n = g.0.len().min(max);
        if n == 0 || n < min { return Err(if g.1 && g.0.is_empty() { PopError::Closed } else { PopError::Empty }); }
        for _ in 0..n { sink(g.0.pop_front().unwrap()); }
        self.not_full.notify_all();
        Ok(n)
    }
    pub(crate) fn force_push(&self, item: T) -> Result<Option<T>, PushError<T>> {
        let mut g = self.state.lock().unwrap();
        if g.1 { return Err(PushError::Closed(item)); }
        let old = if self.room(g.0.len()) == 0 { g.0.pop_front() } else { None };
        g.0.push_back(item);
        self.not_empty.notify_one();
        Ok(old)
    }
    pub(crate) fn close(&self) -> bool {
        let mut g = self.state.lock().unwrap();
        let was = g.1; g.1 = true;
        self.not_empty.notify_all(); self.not_full.notify_all();
        !was
    }
    pub(crate) fn is_closed(&self) -> bool { self.state.lock().unwrap().1 }
    pub(crate) fn len(&self) -> usize { self.state.lock().unwrap().0.len() }
    pub(crate) fn cap(&self) -> Option<usize> { self.cap }
}

macro_rules! common_methods {
    () => {
        pub fn push(&self, item: T) -> Result<(), PushError<T>> { self.0.push_wait(item, Some(Duration::ZERO)) }
        pub fn pop(&self) -> Result<T, PopError> { self.0.pop_wait(Some(Duration::ZERO), true) }
        pub fn pop_timeout(&self, timeout: Duration) -> Result<T, PopError> { self.0.pop_wait(Some(timeout), false) }
        pub fn pop_blocking(&self) -> Result<T, PopError> { self.0.pop_wait(None, false) }
        pub fn push_many<I: ExactSizeIterator<Item = T>>(&self, items: &mut I) -> Result<usize, PushError<()>> { self.0.push_batch(items, 1) }
        pub fn pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, PopError> { self.0.pop_batch(1, max, |x| out.push(x)) }
        pub fn wait_nonempty(&self, timeout: Option<Duration>) -> Result<(), PopError> { self.0.wait_nonempty(timeout) }
        pub fn close(&self) -> bool { self.0.close() }
        pub fn is_closed(&self) -> bool { self.0.is_closed() }
        pub fn len(&self) -> usize { self.0.len() }
        pub fn is_empty(&self) -> bool { self.0.len() == 0 }
        pub fn capacity(&self) -> Option<usize> { self.0.cap() }
        #[allow(dead_code)]
        pub(crate) fn push_batch<I: ExactSizeIterator<Item = T>>(&self, items: &mut I, min: usize) -> Result<usize, PushError<()>> { self.0.push_batch(items, min) }
        #[allow(dead_code)]
        pub(crate) fn pop_batch(&self, min: usize, max: usize, sink: impl FnMut(T)) -> Result<usize, PopError> { self.0.pop_batch(min, max, sink) }
    };
}
pub(crate) use common_methods;
