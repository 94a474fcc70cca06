//! State every event loop shares: the keyspace and the other subsystems,
//! the configuration, the client registry, counters, SLOWLOG, and the
//! clock every command reads.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::client::ClientMeta;
use crate::config::Config;
use crate::db::Keyspace;
use crate::inbox::{LoopHandle, LoopMsg};
/// Wall-clock time in Unix milliseconds.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Counters kept by one event loop (summed by INFO). Each loop has its own,
/// on its own cache line, so counting never contends.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct LoopStats {
    /// Commands processed.
    pub commands: AtomicU64,
    /// Reads that found their key.
    pub hits: AtomicU64,
    /// Reads that missed.
    pub misses: AtomicU64,
    /// Error replies sent.
    pub errors: AtomicU64,
    /// Keys removed by expiry (active or lazy).
    pub expired: AtomicU64,
    /// Bytes read from clients.
    pub net_in: AtomicU64,
    /// Bytes written to clients.
    pub net_out: AtomicU64,
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections refused (maxclients).
    pub rejected: AtomicU64,
    /// Reads from client sockets (`total_reads_processed`).
    pub reads: AtomicU64,
    /// Writes to client sockets (`total_writes_processed`).
    pub writes: AtomicU64,
    /// The error count when the running command started (Redis's
    /// `prev_err_count`): whether a command failed is whether errors were
    /// written since.
    pub prev_errors: AtomicU64,
    /// Changes to the keyspace (Redis's `server.dirty`, summed over
    /// loops by `persist::dirty_total`).
    pub dirty: AtomicU64,
    /// The memory this loop's clients hold, as of its last cron
    /// (`client_eviction`).
    pub client_memory: AtomicU64,
    /// Per-command counters.
    pub cmds: crate::stats::CmdTable,
    /// Error replies by code word.
    pub error_codes: crate::stats::ErrorTable,
}

impl LoopStats {
    /// Counts a keyspace hit.
    pub fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a keyspace miss.
    pub fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an error reply, given its line (`-CODE message\r\n`):
    /// `total_error_replies` and errorstats. [`Reply::error`] calls it, the
    /// one place error replies are written.
    ///
    /// [`Reply::error`]: crate::reply::Reply::error
    pub fn count_error(&self, line: &[u8]) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.error_codes.count(line);
    }

    /// Notes the error count before a command runs (Redis's
    /// `incrCommandStatsOnError(NULL, 0)`).
    #[inline]
    pub fn mark_errors(&self) {
        self.prev_errors
            .store(self.errors.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// Whether errors were written since the last mark, and marks again
    /// (so an EXEC is not failed by the errors its queued commands had).
    #[inline]
    pub fn errors_since_mark(&self) -> bool {
        let now = self.errors.load(Ordering::Relaxed);
        let before = self.prev_errors.load(Ordering::Relaxed);
        self.prev_errors.store(now, Ordering::Relaxed);
        now != before
    }

    /// Makes the running command count as failed without counting an error
    /// reply: a script's reply that repeats an error its command already
    /// counted (Redis's `ERR_REPLY_FLAG_NO_STATS_UPDATE`, which still
    /// bumps the command's `failed_calls`).
    pub fn fail_without_error(&self) {
        self.prev_errors.store(
            self.errors.load(Ordering::Relaxed).wrapping_sub(1),
            Ordering::Relaxed,
        );
    }

    /// Counts a command refused before it ran (Redis's `rejectCommand`).
    pub fn cmd_rejected(&self, id: u16) {
        if let Some(c) = self.cmds.get(id) {
            crate::stats::bump(&c.rejected, 1);
        }
        self.mark_errors();
    }

    /// Records a blocked command being served, as Redis's
    /// updateStatsOnUnblock: its latency (the time to reply, under a
    /// microsecond here: the call itself was timed when it blocked), and a
    /// failure if its reply was an error. (A timeout records nothing, as
    /// in Redis 7.0.)
    pub fn cmd_unblocked(&self, id: u16, failed: bool, shared: &Shared) {
        if let Some(c) = self.cmds.get(id) {
            if failed {
                crate::stats::bump(&c.failed, 1);
            }
            if shared.hot.latency_tracking.load(Ordering::Relaxed) {
                c.record_latency(0);
            }
        }
    }

    /// Counts a command that ran for `us` microseconds, `failed` if it
    /// wrote an error (see [`LoopStats::errors_since_mark`]), its latency
    /// recorded when `latency` (Redis's `call`).
    #[inline]
    pub fn cmd_called(&self, id: u16, us: u64, latency: bool, failed: bool) {
        crate::stats::bump(&self.commands, 1);
        if let Some(c) = self.cmds.get(id) {
            crate::stats::bump(&c.calls, 1);
            crate::stats::bump(&c.usec, us);
            if failed {
                crate::stats::bump(&c.failed, 1);
            }
            if latency {
                c.record_latency(us);
            }
        }
    }

    fn reset(&self) {
        for c in [
            &self.commands,
            &self.hits,
            &self.misses,
            &self.errors,
            &self.expired,
            &self.net_in,
            &self.net_out,
            &self.connections,
            &self.rejected,
            &self.reads,
            &self.writes,
            &self.prev_errors,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.cmds.clear();
        self.error_codes.clear();
    }
}

/// Configuration values read on hot paths, mirrored from [`Config`] as
/// atomics so that reading them never touches the config lock (whose reader
/// count would bounce between cores on every command).
#[derive(Debug, Default)]
pub struct Hot {
    /// `slowlog-log-slower-than`.
    pub slowlog_threshold: AtomicI64,
    /// `client-query-buffer-limit`.
    pub query_buffer_limit: AtomicU64,
    /// `hz`.
    pub hz: AtomicU32,
    /// `busy-poll`, in microseconds (read once per loop iteration).
    pub busy_poll: AtomicU64,
    /// `notify-keyspace-events` flags.
    pub notify: AtomicU32,
    /// `client-output-buffer-limit` (hard, soft, seconds) for normal and
    /// pubsub clients.
    pub output_limits: [[AtomicU64; 3]; 2],
    /// `list-max-listpack-size` (read on every list push).
    pub list_max_listpack_size: AtomicI64,
    /// `zset-max-listpack-entries` and `zset-max-listpack-value` (read on
    /// every ZADD).
    pub zset_max_listpack: [AtomicU64; 2],
    /// `hash-max-listpack-entries` and `hash-max-listpack-value` (read on
    /// every hash write).
    pub hash_max_listpack: [AtomicU64; 2],
    /// `set-max-intset-entries` (read on every set write).
    pub set_max_intset_entries: AtomicU64,
    /// `stream-node-max-entries` and `stream-node-max-bytes` (read on
    /// every XADD).
    pub stream_node_max: [AtomicU64; 2],
    /// `hll-sparse-max-bytes` (read on every sparse HyperLogLog write).
    pub hll_sparse_max_bytes: AtomicU64,
    /// `latency-tracking` (read after every command).
    pub latency_tracking: AtomicBool,
    /// `proto-max-bulk-len` (read by every SETBIT/GETBIT/BITFIELD offset).
    pub proto_max_bulk_len: AtomicU64,
}

impl Hot {
    /// The pub/sub class's hard output limit, in bytes (0: none).
    pub fn pubsub_hard_limit(&self) -> usize {
        self.output_limits[1][0].load(Ordering::Relaxed) as usize
    }

    fn load(&self, c: &Config) {
        let threshold = if c.slowlog_max_len == 0 {
            -1
        } else {
            c.slowlog_log_slower_than
        };
        self.slowlog_threshold.store(threshold, Ordering::Relaxed);
        self.query_buffer_limit
            .store(c.client_query_buffer_limit, Ordering::Relaxed);
        self.hz.store(c.hz.max(1), Ordering::Relaxed);
        self.busy_poll.store(c.busy_poll, Ordering::Relaxed);
        self.latency_tracking
            .store(c.latency_tracking, Ordering::Relaxed);
        self.proto_max_bulk_len
            .store(c.proto_max_bulk_len, Ordering::Relaxed);
        self.notify
            .store(c.notify_keyspace_events, Ordering::Relaxed);
        let logged = crate::notify::NEW | crate::notify::EXPIRED;
        let on = c.notify_keyspace_events & logged != 0
            && c.notify_keyspace_events & (crate::notify::KEYSPACE | crate::notify::KEYEVENT) != 0;
        crate::db::set_log_for_notify(on);
        crate::evict::configure(c);
        crate::script::busy::configure(c.busy_reply_threshold);
        for (slot, class) in self.output_limits.iter().zip([0, 2]) {
            let l = c.output_limits[class];
            slot[0].store(l.hard, Ordering::Relaxed);
            slot[1].store(l.soft, Ordering::Relaxed);
            slot[2].store(l.soft_seconds, Ordering::Relaxed);
        }
        let list_fill = c.int_option("list-max-listpack-size").unwrap_or(-2);
        self.list_max_listpack_size
            .store(list_fill, Ordering::Relaxed);
        for (slot, (name, default)) in self.zset_max_listpack.iter().zip([
            ("zset-max-listpack-entries", 128),
            ("zset-max-listpack-value", 64),
        ]) {
            let v = c
                .int_option(name)
                .map_or(default, |v| u64::try_from(v).unwrap_or(0));
            slot.store(v, Ordering::Relaxed);
        }
        for (slot, (name, default)) in [
            (
                &self.hash_max_listpack[0],
                ("hash-max-listpack-entries", 512),
            ),
            (&self.hash_max_listpack[1], ("hash-max-listpack-value", 64)),
            (
                &self.set_max_intset_entries,
                ("set-max-intset-entries", 512),
            ),
            (&self.stream_node_max[0], ("stream-node-max-entries", 100)),
            (&self.stream_node_max[1], ("stream-node-max-bytes", 4096)),
            (&self.hll_sparse_max_bytes, ("hll-sparse-max-bytes", 3000)),
        ] {
            let v = c
                .int_option(name)
                .map_or(default, |v| u64::try_from(v).unwrap_or(0));
            slot.store(v, Ordering::Relaxed);
        }
    }
}

/// State every event loop shares. The subsystems with their own APIs
/// (keyspace, pub/sub registry, blocked clients, counters, hot config) are
/// public fields; the rest is reached through methods.
pub struct Shared {
    /// Hot-path copies of some config values.
    pub hot: Hot,
    /// All databases.
    pub keyspace: Keyspace,
    /// Pub/sub subscriptions.
    pub pubsub: crate::pubsub::PubSub,
    /// The ACL users (AUTH, HELLO AUTH, the ACL command).
    pub acl: crate::acl::Acl,
    /// Clients blocked on keys.
    pub blocking: crate::blocking::Blocking,
    /// Clients in MONITOR mode.
    pub monitors: crate::monitor::Monitors,
    /// The latency monitor (LATENCY).
    pub latency: crate::latency::Latency,
    /// CLIENT PAUSE.
    pub pause: crate::pause::Pause,
    /// Client-side caching: the tracking table and tracking clients.
    pub tracking: crate::tracking::Tracking,
    /// Snapshots: save state, the running child, loading.
    pub persist: Arc<crate::persist::Persistence>,
    /// MIGRATE's cached connections to other servers.
    pub migrate: crate::migrate::Sockets,
    /// The EVAL script cache.
    pub scripts: crate::script::Scripts,
    /// The function libraries (FUNCTION LOAD, FCALL).
    pub functions: crate::script::function::Functions,
    config: RwLock<Config>,
    /// The `Arc` this state lives in (see [`Shared::new_arc`]).
    me: OnceLock<std::sync::Weak<Shared>>,
    /// Connected clients by id.
    clients: Mutex<BTreeMap<u64, Arc<ClientMeta>>>,
    next_client_id: AtomicU64,
    /// One counter block per event loop.
    pub loop_stats: Box<[LoopStats]>,
    /// The `/proc` stat file of the thread running event loop 0, which
    /// INFO reports as Redis's main thread (`used_cpu_*_main_thread`).
    pub main_thread_stat: OnceLock<PathBuf>,
    /// How to reach each event loop.
    loops: OnceLock<Vec<LoopHandle>>,
    shutting_down: AtomicBool,
    /// Process start.
    started: Instant,
    /// Process start, Unix ms (LASTSAVE reports it: nothing was ever saved).
    start_ms: u64,
    /// Random 40-hex-digit id of this run (INFO run_id).
    run_id: String,
    /// The replication id (INFO `master_replid`): random at start, renewed
    /// by DEBUG CHANGE-REPL-ID.
    repl_id: Mutex<String>,
    /// The TCP port actually bound (0 when TCP is off).
    tcp_port: AtomicU16,
    /// The TLS setup new connections on the `tls-port` listener get (None
    /// until TLS is configured); CONFIG SET of a `tls-*` parameter
    /// replaces it, and connections already open keep theirs.
    tls: RwLock<Option<Arc<crate::tls::TlsContext>>>,
    /// The config file given at start, if any.
    config_file: Option<PathBuf>,
    /// Largest RSS seen by INFO.
    memory_peak: AtomicU64,
    /// DEBUG SET-ACTIVE-EXPIRE: whether the active expiry cycle runs.
    active_expire: AtomicBool,
    /// The largest client buffers of the last seconds (INFO clients).
    client_peaks: RecentPeaks,
    slowlog: Mutex<Slowlog>,
    ops: Mutex<OpsSampler>,
}

/// The largest input and output buffers any client had in the last
/// [`RecentPeaks::SECONDS`] seconds (INFO `client_recent_max_input_buffer`
/// and `client_recent_max_output_buffer`), kept as Redis keeps them: one
/// slot per second, filled by the event loops' periodic visit of their
/// clients, the slot of the coming second cleared ahead of it.
#[derive(Debug, Default)]
pub struct RecentPeaks {
    /// Per second slot: (input, output) bytes.
    slots: [[AtomicU64; 2]; RecentPeaks::SECONDS],
}

impl RecentPeaks {
    /// How many seconds back the peaks reach.
    pub const SECONDS: usize = 8;

    /// Records one client's current buffers at `now_ms`.
    pub fn note(&self, now_ms: u64, input: u64, output: u64) {
        let [i, o] = &self.slots[(now_ms / 1000) as usize % Self::SECONDS];
        i.fetch_max(input, Ordering::Relaxed);
        o.fetch_max(output, Ordering::Relaxed);
    }

    /// Clears the slot of the second after `now_ms` (called with every
    /// visit, so the slot starts empty whoever fills it first).
    pub fn clear_next(&self, now_ms: u64) {
        let next = (now_ms / 1000 + 1) as usize % Self::SECONDS;
        for a in &self.slots[next] {
            a.store(0, Ordering::Relaxed);
        }
    }

    /// The largest (input, output) over the recent seconds.
    pub fn max(&self) -> (u64, u64) {
        self.slots.iter().fold((0, 0), |(i, o), [si, so]| {
            (
                i.max(si.load(Ordering::Relaxed)),
                o.max(so.load(Ordering::Relaxed)),
            )
        })
    }
}

/// The allocator's name for INFO's `mem_allocator`: the process's global
/// allocator is the binary's choice, which it names with
/// [`set_allocator_name`]; the system's (`libc`) until then.
static ALLOCATOR: OnceLock<String> = OnceLock::new();

/// Names the process's global allocator for INFO (`jemalloc-5.3.0`, as
/// Redis names it). The first name set stays.
pub fn set_allocator_name(name: String) {
    let _ = ALLOCATOR.set(name);
}

/// The allocator INFO reports.
pub fn allocator_name() -> &'static str {
    ALLOCATOR.get().map_or("libc", String::as_str)
}

/// One SLOWLOG entry.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    /// Increasing id.
    pub id: u64,
    /// Unix seconds when the command ran.
    pub time: u64,
    /// How long it ran.
    pub micros: u64,
    /// Its arguments, shortened as Redis shortens them.
    pub args: Vec<Vec<u8>>,
    /// Client address.
    pub addr: String,
    /// Client name.
    pub name: Vec<u8>,
}

#[derive(Default)]
struct Slowlog {
    next_id: u64,
    entries: std::collections::VecDeque<SlowEntry>,
}

/// The instantaneous metrics of INFO stats: commands, bytes in, bytes out.
#[derive(Default)]
struct OpsSampler {
    commands: crate::stats::Instantaneous,
    net_in: crate::stats::Instantaneous,
    net_out: crate::stats::Instantaneous,
    last_ms: u64,
}

/// Redis keeps at most this many arguments of a slow command...
const SLOWLOG_MAX_ARGS: usize = 32;
/// ...and this many bytes of each.
const SLOWLOG_MAX_ARG_LEN: usize = 128;

impl Shared {
    /// Shared state for `config`.
    /// The shared state of a new server, in the `Arc` its threads hold;
    /// it knows that `Arc` ([`Shared::arc`]).
    pub fn new_arc(config: Config, config_file: Option<PathBuf>) -> Arc<Shared> {
        Arc::new_cyclic(|me| {
            let shared = Shared::new(config, config_file);
            let _ = shared.me.set(me.clone());
            shared
        })
    }

    /// The `Arc` this state lives in, when it was made by
    /// [`Shared::new_arc`] (what a command needs to start a client of its
    /// own, as DEBUG LOADAOF's replay).
    pub fn arc(&self) -> Option<Arc<Shared>> {
        self.me.get().and_then(std::sync::Weak::upgrade)
    }

    /// Shared state not yet in an `Arc` (prefer [`Shared::new_arc`]).
    pub fn new(config: Config, config_file: Option<PathBuf>) -> Shared {
        let loops = config.loop_count();
        let hot = Hot::default();
        hot.load(&config);
        let latency = crate::latency::Latency::default();
        latency.set_threshold(latency_threshold(&config));
        Shared {
            hot,
            keyspace: Keyspace::new(config.databases),
            pubsub: crate::pubsub::PubSub::default(),
            acl: crate::acl::Acl::new(config.requirepass.as_deref()),
            blocking: crate::blocking::Blocking::default(),
            monitors: crate::monitor::Monitors::default(),
            latency,
            pause: crate::pause::Pause::default(),
            tracking: crate::tracking::Tracking::default(),
            persist: Arc::new(crate::persist::Persistence::new(unix_ms() / 1000)),
            migrate: crate::migrate::Sockets::default(),
            scripts: crate::script::Scripts::default(),
            functions: crate::script::function::Functions::default(),
            config: RwLock::new(config),
            me: OnceLock::new(),
            clients: Mutex::new(BTreeMap::new()),
            next_client_id: AtomicU64::new(1),
            loop_stats: (0..loops).map(|_| LoopStats::default()).collect(),
            main_thread_stat: OnceLock::new(),
            loops: OnceLock::new(),
            shutting_down: AtomicBool::new(false),
            started: Instant::now(),
            start_ms: unix_ms(),
            run_id: random_hex(40),
            repl_id: Mutex::new(random_hex(40)),
            tcp_port: AtomicU16::new(0),
            tls: RwLock::new(None),
            config_file,
            memory_peak: AtomicU64::new(0),
            active_expire: AtomicBool::new(true),
            client_peaks: RecentPeaks::default(),
            slowlog: Mutex::new(Slowlog::default()),
            ops: Mutex::new(OpsSampler::default()),
        }
    }

    /// The persistence state, shared with the thread that watches a
    /// background save.
    pub fn persist_handle(&self) -> Arc<crate::persist::Persistence> {
        self.persist.clone()
    }

    /// Records a command that ran `micros` if the slowlog wants it.
    /// Arguments at the positions in `redacted` are logged as
    /// `(redacted)`.
    #[inline]
    pub fn slowlog_maybe(
        &self,
        micros: u64,
        argv: &[&[u8]],
        meta: &ClientMeta,
        redacted: &[usize],
    ) {
        let threshold = self.hot.slowlog_threshold.load(Ordering::Relaxed);
        if threshold < 0 || (micros as i64) < threshold {
            return;
        }
        self.slowlog_push(micros, argv, meta, redacted);
    }

    #[cold]
    fn slowlog_push(&self, micros: u64, argv: &[&[u8]], meta: &ClientMeta, redacted: &[usize]) {
        let max_len = self.config().slowlog_max_len as usize;
        let mut args: Vec<Vec<u8>> = Vec::new();
        let shown = argv.len().min(SLOWLOG_MAX_ARGS);
        for (i, a) in argv.iter().take(shown).enumerate() {
            let a: &[u8] = if redacted.contains(&i) {
                crate::monitor::REDACTED
            } else {
                a
            };
            if i == SLOWLOG_MAX_ARGS - 1 && argv.len() > SLOWLOG_MAX_ARGS {
                args.push(
                    format!("... ({} more arguments)", argv.len() - SLOWLOG_MAX_ARGS + 1)
                        .into_bytes(),
                );
                break;
            }
            if a.len() > SLOWLOG_MAX_ARG_LEN {
                let mut v = a[..SLOWLOG_MAX_ARG_LEN].to_vec();
                v.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - SLOWLOG_MAX_ARG_LEN).as_bytes(),
                );
                args.push(v);
            } else {
                args.push(a.to_vec());
            }
        }
        let mut log = self.slowlog.lock().unwrap_or_else(|p| p.into_inner());
        let id = log.next_id;
        log.next_id += 1;
        log.entries.push_front(SlowEntry {
            id,
            time: unix_ms() / 1000,
            micros,
            args,
            addr: meta.addr.clone(),
            name: meta.name(),
        });
        log.entries.truncate(max_len);
    }

    /// The newest `n` slowlog entries.
    pub fn slowlog_entries(&self, n: usize) -> Vec<SlowEntry> {
        let log = self.slowlog.lock().unwrap_or_else(|p| p.into_inner());
        log.entries.iter().take(n).cloned().collect()
    }

    /// Number of slowlog entries.
    pub fn slowlog_len(&self) -> usize {
        self.slowlog
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .len()
    }

    /// Empties the slowlog.
    pub fn slowlog_reset(&self) {
        self.slowlog
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .clear();
    }

    /// Samples the instantaneous metrics (called by loop 0's cron): every
    /// 100 ms, as Redis's serverCron does.
    pub fn sample_ops(&self) {
        let now = unix_ms();
        let mut o = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        if now.saturating_sub(o.last_ms) < 100 {
            return;
        }
        o.last_ms = now;
        o.commands.track(now, self.total(|s| &s.commands));
        o.net_in.track(now, self.total(|s| &s.net_in));
        o.net_out.track(now, self.total(|s| &s.net_out));
    }

    /// `instantaneous_ops_per_sec`, `instantaneous_input_kbps` and
    /// `instantaneous_output_kbps`.
    pub fn instantaneous(&self) -> (u64, f64, f64) {
        let o = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        (
            o.commands.get(),
            o.net_in.get() as f32 as f64 / 1024.0,
            o.net_out.get() as f32 as f64 / 1024.0,
        )
    }

    /// The current configuration.
    pub fn config(&self) -> RwLockReadGuard<'_, Config> {
        self.config.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the configuration (CONFIG SET).
    pub fn update_config<R>(&self, f: impl FnOnce(&mut Config) -> R) -> R {
        let mut c = self.config.write().unwrap_or_else(|p| p.into_inner());
        let r = f(&mut c);
        self.hot.load(&c);
        self.acl.sync_requirepass(c.requirepass.as_deref());
        self.latency.set_threshold(latency_threshold(&c));
        r
    }

    /// A new client id.
    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers an admitted client.
    pub fn register_client(&self, meta: Arc<ClientMeta>) {
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(meta.id, meta);
    }

    /// The connected client `id`, if any.
    pub fn client_meta(&self, id: u64) -> Option<Arc<ClientMeta>> {
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    /// Forgets a client that is gone.
    pub fn forget_client(&self, id: u64) {
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    /// The event loops' inboxes, once the loops run.
    pub fn loops(&self) -> Option<&[LoopHandle]> {
        self.loops.get().map(Vec::as_slice)
    }

    /// Installs the event loops' inboxes (once, when they start); false
    /// when loops already run on this state.
    pub fn install_loops(&self, handles: Vec<LoopHandle>) -> bool {
        self.loops.set(handles).is_ok()
    }

    /// How long the server has been up.
    pub fn uptime(&self) -> std::time::Duration {
        self.started.elapsed()
    }

    /// When the server started, Unix ms.
    pub fn start_ms(&self) -> u64 {
        self.start_ms
    }

    /// This run's random id (INFO `run_id`).
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The replication id (INFO `master_replid`).
    pub fn repl_id(&self) -> String {
        self.repl_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the replication id by a new random one (DEBUG
    /// CHANGE-REPL-ID).
    pub fn change_repl_id(&self) {
        *self.repl_id.lock().unwrap_or_else(|p| p.into_inner()) = random_hex(40);
    }

    /// The TCP port bound (0 when TCP is off).
    pub fn tcp_port(&self) -> u16 {
        self.tcp_port.load(Ordering::Relaxed)
    }

    /// Records the TCP port the listeners bound.
    pub fn set_tcp_port(&self, port: u16) {
        self.tcp_port.store(port, Ordering::Relaxed);
    }

    /// The TLS setup for connections accepted now, if TLS is configured.
    pub fn tls(&self) -> Option<Arc<crate::tls::TlsContext>> {
        self.tls.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Installs the TLS setup for the connections accepted from now on.
    pub fn set_tls(&self, tls: Arc<crate::tls::TlsContext>) {
        *self.tls.write().unwrap_or_else(|p| p.into_inner()) = Some(tls);
    }

    /// The config file the server started from, if any.
    pub fn config_file(&self) -> Option<&std::path::Path> {
        self.config_file.as_deref()
    }

    /// Records a resident-memory reading; returns the largest seen.
    pub fn note_memory(&self, rss: u64) -> u64 {
        self.memory_peak.fetch_max(rss, Ordering::Relaxed).max(rss)
    }

    /// Whether the active expiry cycle runs (DEBUG SET-ACTIVE-EXPIRE).
    pub fn active_expire(&self) -> bool {
        self.active_expire.load(Ordering::Relaxed)
    }

    /// Turns the active expiry cycle on or off.
    pub fn set_active_expire(&self, on: bool) {
        self.active_expire.store(on, Ordering::Relaxed);
    }

    /// The largest client buffers of the last seconds.
    pub fn client_peaks(&self) -> &RecentPeaks {
        &self.client_peaks
    }

    /// Every connected client, in id order (a snapshot).
    pub fn client_list(&self) -> Vec<Arc<ClientMeta>> {
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Number of connected clients.
    pub fn client_count(&self) -> usize {
        self.clients.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Sum of one counter over all loops.
    pub fn total(&self, f: impl Fn(&LoopStats) -> &AtomicU64) -> u64 {
        self.loop_stats
            .iter()
            .map(|s| f(s).load(Ordering::Relaxed))
            .sum()
    }

    /// CONFIG RESETSTAT: Redis's resetServerStats, resetCommandTableStats
    /// and resetErrorTableStats (the memory peak stays).
    pub fn reset_stats(&self) {
        for s in self.loop_stats.iter() {
            s.reset();
        }
        crate::evict::EVICTED.store(0, Ordering::Relaxed);
        crate::client_eviction::EVICTED_CLIENTS.store(0, Ordering::Relaxed);
        let now = unix_ms();
        let mut o = self.ops.lock().unwrap_or_else(|p| p.into_inner());
        o.commands.reset(now, 0);
        o.net_in.reset(now, 0);
        o.net_out.reset(now, 0);
    }

    /// Asks every loop to stop: no new connections, pending replies are
    /// written, then the process exits.
    pub fn request_shutdown(&self) {
        if self.shutting_down.swap(true, Ordering::SeqCst) {
            return;
        }
        self.broadcast(|| LoopMsg::Shutdown);
    }

    /// True once shutdown was requested.
    pub fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Sends a message to every loop.
    pub fn broadcast(&self, msg: impl Fn() -> LoopMsg) {
        if let Some(loops) = self.loops.get() {
            for l in loops {
                l.send(msg());
            }
        }
    }

    /// Asks the loop owning client `id` to close it; false if unknown.
    /// The client leaves the registry at once (CLIENT LIST no longer shows
    /// it, as in Redis, where the kill frees it on the spot); its loop
    /// closes the socket.
    pub fn kill_client(&self, id: u64) -> bool {
        let meta = self
            .clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        let Some(meta) = meta else { return false };
        meta.kill.store(true, Ordering::SeqCst);
        if let Some(loops) = self.loops.get() {
            loops[meta.loop_index].send(LoopMsg::Kill(id));
        }
        true
    }
}

/// `latency-monitor-threshold` in ms (0: the latency monitor is off).
fn latency_threshold(c: &Config) -> u64 {
    c.int_option("latency-monitor-threshold")
        .map_or(0, |v| u64::try_from(v).unwrap_or(0))
}

/// `n` random lowercase hex digits.
pub fn random_hex(n: usize) -> String {
    let mut s = String::with_capacity(n);
    while s.len() < n {
        s.push_str(&format!("{:016x}", crate::util::rand::rand_u64()));
    }
    s.truncate(n);
    s
}
