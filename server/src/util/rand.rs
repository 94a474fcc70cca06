//! A small, fast, per-thread pseudo-random generator (xorshift64*), for
//! RANDOMKEY, SPOP and friends. Not for secrets.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new({
        // Seed from ahash's per-process random keys, the thread and the clock.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let id = format!("{:?}", std::thread::current().id());
        ahash::RandomState::new().hash_one((t, id)) | 1
    });
}

/// A random 64-bit number.
pub fn rand_u64() -> u64 {
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

/// A random number in `0..n` (`n > 0`).
pub fn rand_below(n: u64) -> u64 {
    // Multiply-shift: unbiased enough for our uses and branch-free.
    ((rand_u64() as u128 * n as u128) >> 64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let r = rand_below(10);
            assert!(r < 10);
            seen[r as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
