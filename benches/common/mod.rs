//! Scenario code shared by the criterion benches, the latency bench and `examples/demo.rs`.
//!
//! Every queue under test (lfq's and the peers) is wired to [`BenchQueue`] once, and every scenario is
//! written once, generic over it, so the figures of lfq and of its peers come from the same code path and
//! the same waiting policy ([`Backoff`]).
//!
//! Items are `u64` counters; every scenario checks the sum of what it popped, so a queue that loses or
//! duplicates an item makes the run panic instead of producing a flattering figure.
//!
//! Threads are pinned round robin over the CPUs the process may use, so that every peer gets the same
//! placement (on a busy machine the scheduler otherwise often stacks a producer and its consumer on one
//! core, and the figure measures context switches). `LFQ_BENCH_PIN=0` leaves placement to the scheduler.

// Each target that includes this module (three benches and the demo) uses only part of it.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::hint::spin_loop;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Items per timed run of the throughput scenarios (the brief's N).
pub const ITEMS: u64 = 100_000;
/// Items per `push_many` / `pop_many` call in the batch scenario.
pub const BATCH: usize = 64;

/// The criterion settings of every criterion bench: a short warm-up and measurement and 20
/// samples, enough since each iteration already moves [`ITEMS`] items.
pub fn criterion_config() -> criterion::Criterion {
    criterion::Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

/// The non-blocking surface every queue offers: one try, then the caller decides how to wait.
pub trait BenchQueue: Send + Sync {
    /// Name shown in criterion's output and in the demo table.
    const NAME: &'static str;
    /// Pushes once; gives the item back when there is no room.
    fn try_push(&self, item: u64) -> Result<(), u64>;
    /// Pops once; `None` when empty.
    fn try_pop(&self) -> Option<u64>;
}

/// A queue that can be built without a capacity.
pub trait Unbounded: BenchQueue {
    /// A new, empty, unbounded queue.
    fn unbounded() -> Self;
}

/// A queue that holds at most `capacity` items.
pub trait Bounded: BenchQueue {
    /// A new, empty queue with room for exactly `capacity` items.
    fn bounded(capacity: usize) -> Self;
}

/// lfq's batch calls, measured against single operations.
pub trait BatchQueue: BenchQueue {
    /// Pushes the front of `items`; returns how many went in (0 when there was no room).
    fn push_batch<I: ExactSizeIterator<Item = u64>>(&self, items: &mut I) -> usize;
    /// Appends up to `max` items to `out`; returns how many (0 when empty).
    fn pop_batch(&self, out: &mut Vec<u64>, max: usize) -> usize;
}

// ---------------------------------------------------------------------------------------------------------
// Wiring: each queue once.

impl BenchQueue for lfq::Queue<u64> {
    const NAME: &'static str = "lfq::Queue";
    fn try_push(&self, item: u64) -> Result<(), u64> {
        self.push(item).map_err(lfq::PushError::into_inner)
    }
    fn try_pop(&self) -> Option<u64> {
        self.pop().ok()
    }
}
impl Unbounded for lfq::Queue<u64> {
    fn unbounded() -> Self {
        lfq::Queue::new()
    }
}
impl BatchQueue for lfq::Queue<u64> {
    fn push_batch<I: ExactSizeIterator<Item = u64>>(&self, items: &mut I) -> usize {
        self.push_many(items).unwrap_or(0)
    }
    fn pop_batch(&self, out: &mut Vec<u64>, max: usize) -> usize {
        self.pop_many(out, max).unwrap_or(0)
    }
}

impl BenchQueue for lfq::Ring<u64> {
    const NAME: &'static str = "lfq::Ring";
    fn try_push(&self, item: u64) -> Result<(), u64> {
        self.push(item).map_err(lfq::PushError::into_inner)
    }
    fn try_pop(&self) -> Option<u64> {
        self.pop().ok()
    }
}
impl Bounded for lfq::Ring<u64> {
    fn bounded(capacity: usize) -> Self {
        lfq::Ring::new(capacity)
    }
}
impl BatchQueue for lfq::Ring<u64> {
    fn push_batch<I: ExactSizeIterator<Item = u64>>(&self, items: &mut I) -> usize {
        self.push_many(items).unwrap_or(0)
    }
    fn pop_batch(&self, out: &mut Vec<u64>, max: usize) -> usize {
        self.pop_many(out, max).unwrap_or(0)
    }
}

/// `lfq::Ring` whose consumers wait in `pop_blocking`, for the round-trip scenario: it spins on
/// the slot alone before it sleeps, where polling `pop` reads the producers' index each time it
/// finds the ring empty (ring.rs). Its `try_pop` waits until an item comes.
pub struct WaitingRing(lfq::Ring<u64>);

impl BenchQueue for WaitingRing {
    const NAME: &'static str = "lfq::Ring, pop_blocking";
    fn try_push(&self, item: u64) -> Result<(), u64> {
        self.0.try_push(item)
    }
    fn try_pop(&self) -> Option<u64> {
        self.0.pop_blocking().ok()
    }
}
impl Bounded for WaitingRing {
    fn bounded(capacity: usize) -> Self {
        WaitingRing(lfq::Ring::new(capacity))
    }
}

impl BenchQueue for crossbeam_queue::SegQueue<u64> {
    const NAME: &'static str = "SegQueue";
    fn try_push(&self, item: u64) -> Result<(), u64> {
        self.push(item);
        Ok(())
    }
    fn try_pop(&self) -> Option<u64> {
        self.pop()
    }
}
impl Unbounded for crossbeam_queue::SegQueue<u64> {
    fn unbounded() -> Self {
        crossbeam_queue::SegQueue::new()
    }
}

impl BenchQueue for crossbeam_queue::ArrayQueue<u64> {
    const NAME: &'static str = "ArrayQueue";
    fn try_push(&self, item: u64) -> Result<(), u64> {
        self.push(item)
    }
    fn try_pop(&self) -> Option<u64> {
        self.pop()
    }
}
impl Bounded for crossbeam_queue::ArrayQueue<u64> {
    fn bounded(capacity: usize) -> Self {
        crossbeam_queue::ArrayQueue::new(capacity)
    }
}

/// `concurrent_queue::ConcurrentQueue`, named after the constructor it was built with.
pub struct ConcurrentQ(concurrent_queue::ConcurrentQueue<u64>);
impl BenchQueue for ConcurrentQ {
    const NAME: &'static str = "ConcurrentQueue";
    fn try_push(&self, item: u64) -> Result<(), u64> {
        self.0
            .push(item)
            .map_err(concurrent_queue::PushError::into_inner)
    }
    fn try_pop(&self) -> Option<u64> {
        self.0.pop().ok()
    }
}
impl Unbounded for ConcurrentQ {
    fn unbounded() -> Self {
        ConcurrentQ(concurrent_queue::ConcurrentQueue::unbounded())
    }
}
impl Bounded for ConcurrentQ {
    fn bounded(capacity: usize) -> Self {
        ConcurrentQ(concurrent_queue::ConcurrentQueue::bounded(capacity))
    }
}

/// Both ends of a crossbeam channel, used through `try_send` / `try_recv`.
pub struct Channel {
    tx: crossbeam_channel::Sender<u64>,
    rx: crossbeam_channel::Receiver<u64>,
}
impl BenchQueue for Channel {
    const NAME: &'static str = "crossbeam_channel";
    fn try_push(&self, item: u64) -> Result<(), u64> {
        self.tx.try_send(item).map_err(|e| e.into_inner())
    }
    fn try_pop(&self) -> Option<u64> {
        self.rx.try_recv().ok()
    }
}
impl Unbounded for Channel {
    fn unbounded() -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        Channel { tx, rx }
    }
}
impl Bounded for Channel {
    fn bounded(capacity: usize) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        Channel { tx, rx }
    }
}

/// The baseline every queue must beat: a `VecDeque` behind a `Mutex`, optionally with a capacity.
pub struct MutexDeque {
    items: Mutex<VecDeque<u64>>,
    capacity: usize,
}
impl BenchQueue for MutexDeque {
    const NAME: &'static str = "Mutex<VecDeque>";
    fn try_push(&self, item: u64) -> Result<(), u64> {
        let mut items = self.items.lock().expect("a bench thread panicked");
        if items.len() >= self.capacity {
            return Err(item);
        }
        items.push_back(item);
        Ok(())
    }
    fn try_pop(&self) -> Option<u64> {
        self.items
            .lock()
            .expect("a bench thread panicked")
            .pop_front()
    }
}
impl Unbounded for MutexDeque {
    fn unbounded() -> Self {
        MutexDeque {
            items: Mutex::new(VecDeque::new()),
            capacity: usize::MAX,
        }
    }
}
impl Bounded for MutexDeque {
    fn bounded(capacity: usize) -> Self {
        // Allocated up front, like the array-based peers.
        MutexDeque {
            items: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Waiting: the same policy for every queue.

/// How a thread waits for an item or for room: a few tries with a spin hint between them, then it yields
/// on every further try, so oversubscribed runs (4P4C on 2 cores) still make progress.
pub struct Backoff {
    failed: u32,
}

impl Backoff {
    /// Failed tries answered with a spin hint before the thread starts yielding. A spin hint takes tens
    /// of ns on this machine's CPU, so 16 of them outlast a cross-core round trip (~150 ns) while a
    /// thread whose partner is not running gives its core up after about a microsecond.
    const SPIN_TRIES: u32 = 16;

    /// A fresh policy: the next failed try spins.
    pub fn new() -> Self {
        Backoff { failed: 0 }
    }

    /// Called after a failed try.
    #[inline]
    pub fn wait(&mut self) {
        if self.failed < Self::SPIN_TRIES {
            self.failed += 1;
            spin_loop();
        } else {
            thread::yield_now();
        }
    }

    /// Called after a successful try, so the next wait starts spinning again.
    #[inline]
    pub fn reset(&mut self) {
        self.failed = 0;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

/// Pushes `item`, waiting by `backoff` while the queue is full.
#[inline]
pub fn push_wait<Q: BenchQueue>(q: &Q, mut item: u64, backoff: &mut Backoff) {
    loop {
        match q.try_push(item) {
            Ok(()) => break,
            Err(back) => {
                item = back;
                backoff.wait();
            }
        }
    }
    backoff.reset();
}

/// Pops one item, waiting by `backoff` while the queue is empty.
#[inline]
pub fn pop_wait<Q: BenchQueue>(q: &Q, backoff: &mut Backoff) -> u64 {
    loop {
        if let Some(item) = q.try_pop() {
            backoff.reset();
            return item;
        }
        backoff.wait();
    }
}

/// Sum of the items `0..n`, what every throughput scenario must pop.
fn expected_sum(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

// ---------------------------------------------------------------------------------------------------------
// Throughput scenarios. Each returns the time its `n` items took.

/// One thread pushes up to `chunk` items, then pops them all, until `n` items went through. For an
/// unbounded queue `chunk = n` (push N then pop N); for a bounded one `chunk` is its capacity (fill, drain).
pub fn run_seq<Q: BenchQueue>(q: &Q, n: u64, chunk: u64) -> Duration {
    assert!(chunk > 0, "chunk must be non-zero");
    let mut sum = 0u64;
    let start = Instant::now();
    let mut next = 0;
    while next < n {
        let end = (next + chunk).min(n);
        for item in next..end {
            if q.try_push(item).is_err() {
                panic!("{} refused a push below its capacity", Q::NAME);
            }
        }
        for _ in next..end {
            sum += q
                .try_pop()
                .unwrap_or_else(|| panic!("{} lost an item", Q::NAME));
        }
        next = end;
    }
    let elapsed = start.elapsed();
    assert_eq!(sum, expected_sum(n), "{} returned wrong items", Q::NAME);
    elapsed
}

/// [`run_seq`] through the batch calls, `batch` items per call.
pub fn run_seq_batched<Q: BatchQueue>(q: &Q, n: u64, chunk: u64, batch: usize) -> Duration {
    assert!(chunk > 0 && batch > 0, "chunk and batch must be non-zero");
    let n = usize::try_from(n).expect("item count fits in usize");
    let chunk = usize::try_from(chunk).expect("chunk fits in usize");
    let mut out = Vec::with_capacity(batch);
    let mut sum = 0u64;
    let start = Instant::now();
    let mut next = 0;
    while next < n {
        let end = (next + chunk).min(n);
        let mut from = next;
        while from < end {
            let to = (from + batch).min(end);
            // `Range<usize>` is exact-size (`Range<u64>` is not); the cast is lossless on 64-bit targets.
            let mut items = (from..to).map(|i| i as u64);
            while items.len() > 0 {
                if q.push_batch(&mut items) == 0 {
                    panic!("{} refused a batch below its capacity", Q::NAME);
                }
            }
            from = to;
        }
        let mut left = end - next;
        while left > 0 {
            out.clear();
            let got = q.pop_batch(&mut out, batch.min(left));
            assert!(got > 0, "{} lost items", Q::NAME);
            sum += out.iter().sum::<u64>();
            left -= got;
        }
        next = end;
    }
    let elapsed = start.elapsed();
    assert_eq!(
        sum,
        expected_sum(n as u64),
        "{} returned wrong items",
        Q::NAME
    );
    elapsed
}

/// `producers` threads push `n` items in all while `consumers` threads pop them; the clock runs from the
/// first worker's start to the last worker's end, read by the workers themselves (the spawning thread
/// may not get a CPU until they are done). `n` must split evenly between both sides.
/// Threads are pinned round robin over the CPUs (see [`bench_cpus`]), so 1P1C on two CPUs runs the
/// producer and the consumer on different cores.
pub fn run_threads<Q: BenchQueue>(q: &Q, producers: u64, consumers: u64, n: u64) -> Duration {
    assert!(
        producers > 0 && consumers > 0,
        "need at least one producer and one consumer"
    );
    assert!(
        n % producers == 0 && n % consumers == 0,
        "{n} items do not split evenly"
    );
    let (per_producer, per_consumer) = (n / producers, n / consumers);
    let threads = usize::try_from(producers + consumers).expect("thread count fits in usize");
    let ready = Barrier::new(threads + 1);
    let cpus = &bench_cpus();
    let (elapsed, sum) = thread::scope(|s| {
        let ready = &ready;
        let pushers: Vec<_> = (0..producers)
            .map(|p| {
                s.spawn(move || {
                    let _pin = pin_nth(cpus, p as usize);
                    let mut backoff = Backoff::new();
                    ready.wait();
                    let start = Instant::now();
                    for item in p * per_producer..(p + 1) * per_producer {
                        push_wait(q, item, &mut backoff);
                    }
                    (start, Instant::now())
                })
            })
            .collect();
        // Each consumer pops a fixed share: the shares add up to what was pushed, so every consumer
        // eventually gets its share and no shared "items left" counter adds contention.
        let poppers: Vec<_> = (0..consumers)
            .map(|c| {
                s.spawn(move || {
                    let _pin = pin_nth(cpus, (producers + c) as usize);
                    let mut backoff = Backoff::new();
                    ready.wait();
                    let start = Instant::now();
                    let sum = (0..per_consumer)
                        .map(|_| pop_wait(q, &mut backoff))
                        .sum::<u64>();
                    (start, Instant::now(), sum)
                })
            })
            .collect();
        ready.wait();
        let mut spans: Vec<(Instant, Instant)> = pushers
            .into_iter()
            .map(|t| t.join().expect("producer panicked"))
            .collect();
        let mut sum = 0;
        for t in poppers {
            let (start, end, part) = t.join().expect("consumer panicked");
            spans.push((start, end));
            sum += part;
        }
        let first = spans.iter().map(|span| span.0).min().expect("threads ran");
        let last = spans.iter().map(|span| span.1).max().expect("threads ran");
        (last - first, sum)
    });
    assert_eq!(sum, expected_sum(n), "{} returned wrong items", Q::NAME);
    elapsed
}

/// A throughput scenario, as criterion and the demo name it.
#[derive(Clone, Copy, Debug)]
pub enum Scenario {
    /// One thread: push, then pop (see [`run_seq`]).
    Seq,
    /// Producer and consumer threads running at once (see [`run_threads`]).
    Threads { producers: u64, consumers: u64 },
}

impl Scenario {
    /// The scenarios of the brief, in the order they are reported.
    pub const SEQ: Scenario = Scenario::Seq;
    pub const SPSC: Scenario = Scenario::Threads {
        producers: 1,
        consumers: 1,
    };
    pub const MPMC2: Scenario = Scenario::Threads {
        producers: 2,
        consumers: 2,
    };
    pub const MPMC4: Scenario = Scenario::Threads {
        producers: 4,
        consumers: 4,
    };

    /// Short name: `seq`, `spsc`, `2P2C`, ...
    pub fn label(self) -> String {
        match self {
            Scenario::Seq => "seq".to_owned(),
            Scenario::Threads {
                producers: 1,
                consumers: 1,
            } => "spsc".to_owned(),
            Scenario::Threads {
                producers,
                consumers,
            } => format!("{producers}P{consumers}C"),
        }
    }

    /// Runs `n` items through `q`; `capacity` bounds how many the sequential scenario queues at once.
    pub fn run<Q: BenchQueue>(self, q: &Q, n: u64, capacity: Option<u64>) -> Duration {
        match self {
            Scenario::Seq => run_seq(q, n, capacity.unwrap_or(n)),
            Scenario::Threads {
                producers,
                consumers,
            } => run_threads(q, producers, consumers, n),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Latency: ping-pong round trips.

/// Pinning benchmark threads to CPUs. Left to itself, a busy scheduler sometimes puts both ping-pong
/// threads (or a producer and its consumer) on one core, and the run then measures context switches
/// instead of the queue; which peer that hits is chance, so such figures cannot be compared. Pinned, every
/// peer gets the same placement: threads dealt round robin over the CPUs, producers first.
#[cfg(target_os = "linux")]
mod affinity {
    use std::mem::{size_of, zeroed};

    fn current() -> Option<libc::cpu_set_t> {
        // SAFETY: cpu_set_t is a plain bit array, for which all zeroes is a valid (empty) value.
        let mut set: libc::cpu_set_t = unsafe { zeroed() };
        // SAFETY: `set` is a writable cpu_set_t of exactly the size passed; pid 0 is this thread.
        let rc = unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) };
        (rc == 0).then_some(set)
    }

    fn apply(set: &libc::cpu_set_t) -> bool {
        // SAFETY: `set` is a valid cpu_set_t of exactly the size passed; pid 0 is this thread.
        unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), set) == 0 }
    }

    /// The CPUs this thread may run on (empty when the kernel does not say).
    pub fn cpus() -> Vec<usize> {
        let Some(set) = current() else {
            return Vec::new();
        };
        (0..libc::CPU_SETSIZE as usize)
            // SAFETY: `cpu` is below CPU_SETSIZE, the number of bits in a cpu_set_t.
            .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
            .collect()
    }

    /// Keeps the calling thread on one CPU until dropped, then gives it back the CPUs it had.
    pub struct Pin(Option<libc::cpu_set_t>);

    impl Pin {
        pub fn to(cpu: usize) -> Pin {
            let saved = current();
            // SAFETY: as in `current`, all zeroes is an empty set.
            let mut one: libc::cpu_set_t = unsafe { zeroed() };
            // SAFETY: `cpu` came from `cpus`, so it is below CPU_SETSIZE.
            unsafe { libc::CPU_SET(cpu, &mut one) };
            // Pinning is best effort: an unpinned run is still a run, only a noisier one.
            Pin(saved.filter(|_| apply(&one)))
        }
    }

    impl Drop for Pin {
        fn drop(&mut self) {
            if let Some(saved) = &self.0 {
                apply(saved);
            }
        }
    }
}

/// Elsewhere the threads run where the scheduler puts them.
#[cfg(not(target_os = "linux"))]
mod affinity {
    pub fn cpus() -> Vec<usize> {
        Vec::new()
    }
    pub struct Pin;
    impl Pin {
        pub fn to(_cpu: usize) -> Pin {
            Pin
        }
    }
}

/// The CPUs benchmark threads are spread over: every CPU this process may use, or none (threads go
/// where the scheduler puts them) when the environment sets `LFQ_BENCH_PIN=0`.
fn bench_cpus() -> Vec<usize> {
    if std::env::var_os("LFQ_BENCH_PIN").is_some_and(|v| v == "0") {
        Vec::new()
    } else {
        affinity::cpus()
    }
}

/// Pins the calling thread, the `k`-th of a run, to `cpus[k % cpus.len()]` until the guard drops, so a
/// run's threads are dealt round robin over the CPUs; does nothing when `cpus` is empty.
fn pin_nth(cpus: &[usize], k: usize) -> Option<affinity::Pin> {
    (!cpus.is_empty()).then(|| affinity::Pin::to(cpus[k % cpus.len()]))
}

/// Round trips run (and thrown away) before the recorded ones, to settle caches and thread placement.
pub const PING_PONG_WARMUP: usize = 2_000;

/// One thread sends a counter through `there`, a second thread sends it back through `back`; returns the
/// duration of each of `rounds` round trips in nanoseconds (one `Instant::now()` per round trip included).
/// The two threads are pinned to two different CPUs where the platform allows (see [`bench_cpus`]).
pub fn ping_pong<Q: BenchQueue>(there: &Q, back: &Q, rounds: usize) -> Vec<u64> {
    let total = PING_PONG_WARMUP + rounds;
    let cpus = &bench_cpus();
    thread::scope(|s| {
        s.spawn(move || {
            let _pin = pin_nth(cpus, 1);
            let mut backoff = Backoff::new();
            for _ in 0..total {
                let item = pop_wait(there, &mut backoff);
                push_wait(back, item, &mut backoff);
            }
        });
        let _pin = pin_nth(cpus, 0);
        let mut backoff = Backoff::new();
        let mut samples = Vec::with_capacity(rounds);
        let mut before = Instant::now();
        for i in 0..total as u64 {
            push_wait(there, i, &mut backoff);
            let echoed = pop_wait(back, &mut backoff);
            assert_eq!(echoed, i, "{} echoed the wrong item", Q::NAME);
            let after = Instant::now();
            if i as usize >= PING_PONG_WARMUP {
                samples.push(nanos(after - before));
            }
            before = after;
        }
        samples
    })
}

/// [`ping_pong`] through two fresh bounded queues of `capacity` items.
pub fn ping_pong_bounded<Q: Bounded>(capacity: usize, rounds: usize) -> Vec<u64> {
    ping_pong(&Q::bounded(capacity), &Q::bounded(capacity), rounds)
}

/// [`ping_pong`] through two fresh unbounded queues.
pub fn ping_pong_unbounded<Q: Unbounded>(rounds: usize) -> Vec<u64> {
    ping_pong(&Q::unbounded(), &Q::unbounded(), rounds)
}

/// The hardware floor for [`ping_pong`]: the same exchange through one shared atomic word, no queue.
/// The pinger writes an odd value, the echo thread answers with the next even one.
pub fn ping_pong_floor(rounds: usize) -> Vec<u64> {
    let word = &AtomicU64::new(0);
    let total = (PING_PONG_WARMUP + rounds) as u64;
    let wait_for = |value: u64, backoff: &mut Backoff| {
        // Acquire pairs with the other thread's Release store, as a queue's pop pairs with its push.
        while word.load(Ordering::Acquire) != value {
            backoff.wait();
        }
        backoff.reset();
    };
    let cpus = &bench_cpus();
    thread::scope(|s| {
        s.spawn(move || {
            let _pin = pin_nth(cpus, 1);
            let mut backoff = Backoff::new();
            for i in 0..total {
                wait_for(2 * i + 1, &mut backoff);
                word.store(2 * i + 2, Ordering::Release);
            }
        });
        let _pin = pin_nth(cpus, 0);
        let mut backoff = Backoff::new();
        let mut samples = Vec::with_capacity(rounds);
        let mut before = Instant::now();
        for i in 0..total {
            word.store(2 * i + 1, Ordering::Release);
            wait_for(2 * i + 2, &mut backoff);
            let after = Instant::now();
            if i as usize >= PING_PONG_WARMUP {
                samples.push(nanos(after - before));
            }
            before = after;
        }
        samples
    })
}

/// The median cost of one `Instant::now()` (which every round-trip sample includes once), from
/// `samples` back-to-back readings.
pub fn timer_overhead(samples: usize) -> u64 {
    let mut deltas = Vec::with_capacity(samples);
    let mut before = Instant::now();
    for _ in 0..samples {
        let after = Instant::now();
        deltas.push(nanos(after - before));
        before = after;
    }
    percentile(&mut deltas, 0.5)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The `p`-th percentile (0.0..=1.0) of `samples`, which it sorts.
pub fn percentile(samples: &mut [u64], p: f64) -> u64 {
    assert!(!samples.is_empty(), "no samples");
    samples.sort_unstable();
    let rank = (p * (samples.len() - 1) as f64).round() as usize;
    samples[rank.min(samples.len() - 1)]
}

/// The median of a few measurements.
pub fn median(values: &mut [f64]) -> f64 {
    assert!(!values.is_empty(), "no values");
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Nanoseconds per item of a run that moved `items` items.
pub fn ns_per_item(elapsed: Duration, items: u64) -> f64 {
    elapsed.as_secs_f64() * 1e9 / items as f64
}
