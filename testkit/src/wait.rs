//! Waiting without sleeping: bounded polling for a condition, and threads
//! that start together.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// How long anything in a test may take before the test fails instead of
/// hanging.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Polls `f` with a short back-off (1 ms doubling to 20 ms) until it returns
/// `Some`, and returns that value. A readiness check, not a sleep.
///
/// # Panics
///
/// When `timeout` passes first; the message names `what` was awaited.
///
/// ```
/// use std::time::Duration;
/// let mut polls = 0;
/// let n = soquete_testkit::wait::eventually("the third poll", Duration::from_secs(1), || {
///     polls += 1;
///     (polls == 3).then_some(polls)
/// });
/// assert_eq!(n, 3);
/// ```
pub fn eventually<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Runs `f(i, barrier)` for `i` in `0..n`, each on its own thread, and
/// returns the results in order of `i`. Each thread calls `barrier.wait()`
/// once it is ready to start, so that all start together.
///
/// # Panics
///
/// When a thread panics (the panic fails the caller's test).
///
/// ```
/// let squares = soquete_testkit::wait::together(4, |i, barrier| {
///     barrier.wait();
///     i * i
/// });
/// assert_eq!(squares, [0, 1, 4, 9]);
/// ```
pub fn together<T: Send + 'static>(
    n: usize,
    f: impl Fn(usize, &Barrier) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = Arc::new(f);
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (f, barrier) = (f.clone(), barrier.clone());
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || f(i, &barrier))
                .expect("spawn a client thread")
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a client thread failed"))
        .collect()
}
