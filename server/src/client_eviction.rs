//! Client eviction, as Redis 7.0's `maxmemory-clients`: when the memory
//! all normal and pub/sub clients hold (their buffers: CLIENT LIST
//! `tot-mem`) reaches the limit, the largest clients are disconnected
//! until it is under again; CLIENT NO-EVICT exempts a client.
//!
//! Each event loop sums its own clients' memory in its cron (ten times a
//! second) and publishes it (`LoopStats::client_memory`); whichever loop
//! then sees the total at the limit evicts, one loop at a time. Redis
//! checks before each command and in `beforeSleep`, so a client here can
//! run past the limit for up to a cron tick before it is dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::shared::Shared;

/// Clients evicted (INFO `evicted_clients`).
pub static EVICTED_CLIENTS: AtomicU64 = AtomicU64::new(0);

/// One eviction pass at a time.
static EVICTING: Mutex<()> = Mutex::new(());

/// The limit in bytes that `maxmemory-clients` sets (0: none), as Redis's
/// `getClientEvictionLimit`: an absolute size, or a percentage of
/// `maxmemory` (none without one), and never below 128 KiB.
pub fn limit(maxmemory_clients: &str, maxmemory: u64) -> u64 {
    let value = maxmemory_clients.trim();
    let bytes = match value.strip_suffix('%') {
        Some(pct) => {
            let pct: f64 = pct.parse().unwrap_or(0.0);
            if pct <= 0.0 || maxmemory == 0 {
                return 0;
            }
            (maxmemory as f64 * pct / 100.0) as u64
        }
        None => match crate::config::params::parse_memory(value) {
            Some(0) | None => return 0,
            Some(n) => n,
        },
    };
    bytes.max(128 * 1024)
}

/// The memory of this loop's clients was summed: publish it, and if all
/// clients together reach the limit, disconnect the largest evictable
/// ones until they do not.
pub fn check(shared: &Shared, loop_index: usize, own: u64) {
    shared.loop_stats[loop_index]
        .client_memory
        .store(own, Ordering::Relaxed);
    let limit = {
        let c = shared.config();
        let mc = c.get_by_name("maxmemory-clients").unwrap_or_default();
        limit(&mc, c.maxmemory)
    };
    if limit == 0 {
        return;
    }
    let total = |s: &Shared| -> u64 {
        s.loop_stats
            .iter()
            .map(|l| l.client_memory.load(Ordering::Relaxed))
            .sum()
    };
    if total(shared) < limit {
        return;
    }
    let Ok(_one) = EVICTING.try_lock() else {
        return;
    };
    let mut clients: Vec<_> = shared
        .client_list()
        .into_iter()
        .filter(|m| !m.no_evict.load(Ordering::Relaxed))
        .map(|m| (m.memory(), m))
        .collect();
    clients.sort_by_key(|c| std::cmp::Reverse(c.0));
    let mut now_total = total(shared);
    for (mem, meta) in clients {
        if now_total < limit {
            break;
        }
        let info = meta.info_line(crate::shared::unix_ms(), 0, |id| {
            crate::cmd::table::full_name_by_index(usize::from(id))
        });
        crate::notice!("Evicting client: {info}");
        if shared.kill_client(meta.id) {
            EVICTED_CLIENTS.fetch_add(1, Ordering::Relaxed);
            // Counted out at once: the loop that owns it publishes its
            // new sum only at its next cron.
            let slot = &shared.loop_stats[meta.loop_index].client_memory;
            let _ = slot.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(mem))
            });
            now_total = now_total.saturating_sub(mem);
        }
    }
    if now_total >= limit {
        crate::warning!("Over client maxmemory after evicting all evictable clients");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_follows_redis() {
        assert_eq!(limit("0", 1 << 30), 0);
        assert_eq!(limit("1mb", 0), 1 << 20);
        assert_eq!(limit("1000", 0), 128 * 1024, "at least 128 KiB");
        assert_eq!(limit("10%", 0), 0, "a percentage of no maxmemory");
        assert_eq!(limit("10%", 100 << 20), 10 << 20);
    }
}
