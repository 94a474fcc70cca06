//! MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, and the memory
//! figures INFO's `# Memory` section shares with them.
//!
//! `used_memory` is the allocator's own count of allocated bytes
//! (jemalloc's `stats.allocated`, as Redis's zmalloc counts what it
//! allocated), refreshed on every read; without jemalloc (the library in
//! tests) it is the resident set size.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::cmd::args::{self, is};
use crate::cmd::flags::*;
use crate::cmd::ks;
use crate::cmd::Ctx;
use crate::cmd::{Keys, Spec};
use crate::error::{CmdError, CmdResult};
use crate::shared::{allocator_name, Shared};
use crate::util::proc;

/// `used_memory` when the server started serving (`used_memory_startup`).
static STARTUP: AtomicU64 = AtomicU64::new(0);

/// Notes the memory in use once start-up is done (`used_memory_startup`);
/// the first call wins.
pub fn note_startup() {
    let used = allocator().allocated;
    let _ = STARTUP.compare_exchange(0, used, Ordering::Relaxed, Ordering::Relaxed);
}

/// What the allocator reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allocator {
    /// Bytes handed out (`allocator_allocated`, and `used_memory`).
    pub allocated: u64,
    /// Bytes in active pages (`allocator_active`).
    pub active: u64,
    /// Bytes in resident pages (`allocator_resident`).
    pub resident: u64,
    /// The process's resident set size (`used_memory_rss`).
    pub rss: u64,
}

/// Reads the allocator's statistics now.
pub fn allocator() -> Allocator {
    let rss = proc::rss_bytes();
    if allocator_name().starts_with("jemalloc") && tikv_jemalloc_ctl::epoch::advance().is_ok() {
        let read = |r: tikv_jemalloc_ctl::Result<usize>| r.map_or(0, |v| v as u64);
        let a = Allocator {
            allocated: read(tikv_jemalloc_ctl::stats::allocated::read()),
            active: read(tikv_jemalloc_ctl::stats::active::read()),
            resident: read(tikv_jemalloc_ctl::stats::resident::read()),
            rss,
        };
        if a.allocated > 0 {
            return a;
        }
    }
    Allocator {
        allocated: rss,
        active: rss,
        resident: rss,
        rss,
    }
}

/// Redis's `redisMemOverhead`: where the memory goes.
#[derive(Debug, Clone, Default)]
pub struct Overhead {
    /// The allocator's figures.
    pub alloc: Allocator,
    /// `used_memory_peak`.
    pub peak: u64,
    /// `used_memory_startup`.
    pub startup: u64,
    /// Client buffers (`mem_clients_normal`).
    pub clients_normal: u64,
    /// Per non-empty database: (index, main table overhead, expires
    /// overhead).
    pub dbs: Vec<(usize, u64, u64)>,
    /// Keys in all databases.
    pub total_keys: u64,
    /// `used_memory_overhead`.
    pub overhead_total: u64,
    /// `used_memory_dataset`.
    pub dataset: u64,
    /// `used_memory_peak_perc`.
    pub peak_perc: f32,
    /// `used_memory_dataset_perc`.
    pub dataset_perc: f32,
    /// `keys.bytes-per-key`.
    pub bytes_per_key: u64,
}

impl Overhead {
    /// Gathers the figures now (Redis's `getMemoryOverheadData`).
    pub fn now(shared: &Shared, ks: &mut crate::db::Locked<'_>) -> Overhead {
        let alloc = allocator();
        let used = alloc.allocated;
        let peak = shared.note_memory(used);
        let startup = STARTUP.load(Ordering::Relaxed).min(used);
        let clients_normal: u64 = shared.client_list().iter().map(|m| m.memory()).sum();
        let mut total = startup + clients_normal;
        let mut dbs = Vec::new();
        let mut total_keys = 0;
        // The table overhead, as Redis estimates it for its dict: a table
        // node and a slot per key (our entries hold the value inline).
        let node = std::mem::size_of::<crate::dict::Node<crate::db::Entry>>() as u64;
        for db in 0..shared.keyspace.databases() {
            let (keys, expires) = ks.db_sizes(db);
            if keys == 0 {
                continue;
            }
            total_keys += keys;
            let main = keys * (node + 8);
            let exp = expires * 16;
            total += main + exp;
            dbs.push((db, main, exp));
        }
        let dataset = used.saturating_sub(total);
        let net = if used > startup { used - startup } else { 1 };
        Overhead {
            alloc,
            peak,
            startup,
            clients_normal,
            dbs,
            total_keys,
            overhead_total: total,
            dataset,
            peak_perc: used as f32 * 100.0 / peak.max(1) as f32,
            dataset_perc: dataset as f32 * 100.0 / net as f32,
            bytes_per_key: net.checked_div(total_keys).unwrap_or(0),
        }
    }

    /// `allocator_frag_ratio`.
    pub fn allocator_frag(&self) -> f32 {
        self.alloc.active as f32 / self.alloc.allocated.max(1) as f32
    }

    /// `allocator_frag_bytes`.
    pub fn allocator_frag_bytes(&self) -> i64 {
        self.alloc.active as i64 - self.alloc.allocated as i64
    }

    /// `allocator_rss_ratio`.
    pub fn allocator_rss(&self) -> f32 {
        self.alloc.resident as f32 / self.alloc.active.max(1) as f32
    }

    /// `allocator_rss_bytes`.
    pub fn allocator_rss_bytes(&self) -> i64 {
        self.alloc.resident as i64 - self.alloc.active as i64
    }

    /// `rss_overhead_ratio`.
    pub fn rss_extra(&self) -> f32 {
        self.alloc.rss as f32 / self.alloc.resident.max(1) as f32
    }

    /// `rss_overhead_bytes`.
    pub fn rss_extra_bytes(&self) -> i64 {
        self.alloc.rss as i64 - self.alloc.resident as i64
    }

    /// `mem_fragmentation_ratio`: RSS over the bytes allocated.
    pub fn total_frag(&self) -> f32 {
        self.alloc.rss as f32 / self.alloc.allocated.max(1) as f32
    }

    /// `mem_fragmentation_bytes`.
    pub fn total_frag_bytes(&self) -> i64 {
        self.alloc.rss as i64 - self.alloc.allocated as i64
    }
}

/// MEMORY STATS
pub fn memory_stats(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let m = Overhead::now(c.shared, &mut c.ks);
    let out = &mut *c.out;
    out.map(27 + m.dbs.len());
    let int = |out: &mut crate::reply::Reply, k: &str, v: i64| {
        out.bulk(k.as_bytes());
        out.int(v);
    };
    let dbl = |out: &mut crate::reply::Reply, k: &str, v: f32| {
        out.bulk(k.as_bytes());
        out.double(v as f64);
    };
    int(out, "peak.allocated", m.peak as i64);
    int(out, "total.allocated", m.alloc.allocated as i64);
    int(out, "startup.allocated", m.startup as i64);
    int(out, "replication.backlog", 0);
    int(out, "clients.slaves", 0);
    int(out, "clients.normal", m.clients_normal as i64);
    int(out, "cluster.links", 0);
    int(out, "aof.buffer", 0);
    int(out, "lua.caches", 0);
    // Redis's figure for its empty function engine.
    int(out, "functions.caches", 200);
    for (db, main, exp) in &m.dbs {
        out.bulk(format!("db.{db}").as_bytes());
        out.map(3);
        int(out, "overhead.hashtable.main", *main as i64);
        int(out, "overhead.hashtable.expires", *exp as i64);
        int(out, "overhead.hashtable.slot-to-keys", 0);
    }
    int(out, "overhead.total", m.overhead_total as i64);
    int(out, "keys.count", m.total_keys as i64);
    int(out, "keys.bytes-per-key", m.bytes_per_key as i64);
    int(out, "dataset.bytes", m.dataset as i64);
    dbl(out, "dataset.percentage", m.dataset_perc);
    dbl(out, "peak.percentage", m.peak_perc);
    int(out, "allocator.allocated", m.alloc.allocated as i64);
    int(out, "allocator.active", m.alloc.active as i64);
    int(out, "allocator.resident", m.alloc.resident as i64);
    dbl(out, "allocator-fragmentation.ratio", m.allocator_frag());
    int(
        out,
        "allocator-fragmentation.bytes",
        m.allocator_frag_bytes(),
    );
    dbl(out, "allocator-rss.ratio", m.allocator_rss());
    int(out, "allocator-rss.bytes", m.allocator_rss_bytes());
    dbl(out, "rss-overhead.ratio", m.rss_extra());
    int(out, "rss-overhead.bytes", m.rss_extra_bytes());
    dbl(out, "fragmentation", m.total_frag());
    int(out, "fragmentation.bytes", m.total_frag_bytes());
    Ok(())
}

/// MEMORY DOCTOR: Redis's report, from the same figures and thresholds.
pub fn memory_doctor(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let m = Overhead::now(c.shared, &mut c.ks);
    let report = doctor_report(&m, c.shared.client_count() as u64);
    c.out.verbatim(report.as_bytes());
    Ok(())
}

fn doctor_report(m: &Overhead, clients: u64) -> String {
    const MB10: i64 = 10 << 20;
    let used = m.alloc.allocated;
    if used < 5 * 1024 * 1024 {
        return "Hi Sam, this instance is empty or is using very little memory, \
                my issues detector can't be used in these conditions. \
                Please, leave for your mission on Earth and fill it with some data. \
                The new Sam and I will be back to our programming as soon as I \
                finished rebooting.\n"
            .into();
    }
    let mut issues: Vec<String> = Vec::new();
    if m.peak as f32 / used as f32 > 1.5 {
        issues.push(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n".into());
    }
    if m.total_frag() > 1.4 && m.total_frag_bytes() > MB10 {
        issues.push(format!(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"{}\".\n\n", allocator_name()));
    }
    if m.allocator_frag() > 1.1 && m.allocator_frag_bytes() > MB10 {
        issues.push(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n".into());
    }
    if m.allocator_rss() > 1.1 && m.allocator_rss_bytes() > MB10 {
        issues.push(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n".into());
    }
    if m.rss_extra() > 1.1 && m.rss_extra_bytes() > MB10 {
        issues.push(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n".into());
    }
    if m.clients_normal / clients.max(1) > 1024 * 200 {
        issues.push(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n".into());
    }
    if issues.is_empty() {
        return "Hi Sam, I can't find any memory issue in your instance. \
                I can only account for what occurs on this base.\n"
            .into();
    }
    let mut s =
        String::from("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
    for i in issues {
        s.push_str(&i);
    }
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}

/// MEMORY MALLOC-STATS: jemalloc's own report (`malloc_stats_print`).
pub fn memory_malloc_stats(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let mut text = Vec::new();
    if !allocator_name().starts_with("jemalloc")
        || tikv_jemalloc_ctl::stats_print::stats_print(&mut text, Default::default()).is_err()
    {
        c.out.bulk(b"Stats not supported for the current allocator");
        return Ok(());
    }
    c.out.verbatim(&text);
    Ok(())
}

/// MEMORY PURGE: replies OK, as Redis does once jemalloc purged. Freed
/// pages are returned by jemalloc's background threads (on in this
/// build); forcing a purge needs a raw mallctl write, which is `unsafe`.
pub fn memory_purge(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.ok();
    Ok(())
}

/// MEMORY USAGE key [SAMPLES count] — our own accounting: the key, the
/// value's heap bytes and the table node.
pub fn memory_usage(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match a {
        [_, _, _] => {}
        [_, _, _, opt, n] if is(opt, "SAMPLES") => {
            args::int(n)?;
        }
        _ => return Err(CmdError::Syntax),
    }
    let key_len = a[2].len();
    match c.ks.peek(a[2]) {
        None => c.out.null(),
        Some(e) => {
            let node = std::mem::size_of::<crate::dict::Node<crate::db::Entry>>() + 8;
            c.out.int((node + key_len + e.value.heap_size()) as i64)
        }
    }
    Ok(())
}

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

/// MEMORY HELP
pub fn memory_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(MEMORY_HELP);
    Ok(())
}

pub(super) static MEMORY_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "doctor",
        arity: 2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: memory_doctor,
        acl: 0,
        key_specs: &[],
        tips: &[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ],
        subcommands: &[],
    },
    Spec {
        name: "malloc-stats",
        arity: 2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: memory_malloc_stats,
        acl: 0,
        key_specs: &[],
        tips: &[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ],
        subcommands: &[],
    },
    Spec {
        name: "purge",
        arity: 2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: memory_purge,
        acl: 0,
        key_specs: &[],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        subcommands: &[],
    },
    Spec {
        name: "stats",
        arity: 2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: memory_stats,
        acl: 0,
        key_specs: &[],
        tips: &[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ],
        subcommands: &[],
    },
    Spec {
        name: "usage",
        arity: -3,
        flags: READONLY,
        keys: Keys::Range(2, 2, 1),
        group: "server",
        handler: memory_usage,
        acl: 0,
        key_specs: &[ks::key(ks::RO, 2)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: memory_help,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
];
