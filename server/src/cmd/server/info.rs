//! INFO: every section Redis 7.0 reports, with soquete's own values.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use crate::cmd::server::memory::Overhead;
use crate::cmd::Ctx;
use crate::config::show_percentile;
use crate::db::SHARDS;
use crate::error::CmdResult;
use crate::shared::unix_ms;
use crate::stats::{summarize, value_at_percentile};
use crate::util::proc;
use crate::REDIS_VERSION;

/// Redis's bytesToHuman: `100B`, `1.04M`, `2.00G`...
fn human(bytes: u64) -> String {
    let b = bytes as f64;
    let units = [
        (1u64 << 10, 'K'),
        (1 << 20, 'M'),
        (1 << 30, 'G'),
        (1 << 40, 'T'),
        (1 << 50, 'P'),
    ];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    for (i, (div, unit)) in units.iter().enumerate() {
        if units.get(i + 1).is_none_or(|(next, _)| bytes < *next) {
            return format!("{:.2}{unit}", b / *div as f64);
        }
    }
    format!("{bytes}B")
}

/// Every section, in the order INFO prints them.
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// What plain INFO (and `default`) prints: Redis 7.0's default sections.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// The sections an INFO call asks for (Redis's genInfoSectionDict): names
/// are case-insensitive, `default` adds the default ones, `all` and
/// `everything` every section; unknown names select nothing.
fn wanted_sections(args: &[&[u8]]) -> (Vec<String>, bool) {
    let mut wanted: Vec<String> = Vec::new();
    let mut all = false;
    if args.is_empty() {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    for a in args {
        let name = String::from_utf8_lossy(a).to_ascii_lowercase();
        match name.as_str() {
            "default" => wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
            "all" | "everything" => all = true,
            _ => wanted.push(name),
        }
    }
    (wanted, all)
}

/// INFO [section ...]
pub fn info(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (wanted, all) = wanted_sections(&a[1..]);
    let mut text = String::new();
    for section in SECTIONS {
        let asked = all
            || wanted.iter().any(|w| w == section)
            || (*section == "modules" && wanted.iter().any(|w| w == "module_list"));
        if !asked {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        info_section(c, section, &mut text);
    }
    c.out.verbatim(text.as_bytes());
    Ok(())
}

/// Redis's getSafeInfoString: `#`, `:`, CR and LF become `_`.
fn safe_info_string(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '#' | ':' | '\r' | '\n') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

fn info_section(c: &mut Ctx<'_>, section: &str, t: &mut String) {
    let s = c.shared;
    let now = unix_ms();
    let cfg = s.config().clone();
    macro_rules! line {
        ($($arg:tt)*) => {{ let _ = write!(t, $($arg)*); t.push_str("\r\n"); }};
    }
    match section {
        "server" => {
            let uptime = s.uptime().as_secs();
            line!("# Server");
            line!("redis_version:{REDIS_VERSION}");
            line!("soquete_version:{}", env!("CARGO_PKG_VERSION"));
            line!("redis_git_sha1:00000000");
            line!("redis_git_dirty:0");
            line!("redis_build_id:0");
            line!("redis_mode:standalone");
            line!("os:{}", proc::os_name());
            line!("arch_bits:64");
            line!("monotonic_clock:POSIX clock_gettime");
            line!("multiplexing_api:epoll");
            line!("atomicvar_api:c11-builtin");
            line!("gcc_version:0.0.0");
            line!("process_id:{}", std::process::id());
            line!("process_supervised:no");
            line!("run_id:{}", s.run_id());
            line!("tcp_port:{}", s.tcp_port());
            line!("server_time_usec:{}", now * 1000);
            line!("uptime_in_seconds:{uptime}");
            line!("uptime_in_days:{}", uptime / 86_400);
            line!("hz:{}", cfg.hz);
            line!("configured_hz:{}", cfg.hz);
            line!("lru_clock:{}", (now / 1000) & ((1 << 24) - 1));
            line!(
                "executable:{}",
                std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            line!(
                "config_file:{}",
                s.config_file()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            line!("io_threads_active:0");
            line!("event_loops:{}", s.loop_stats.len());
        }
        "clients" => {
            line!("# Clients");
            line!("connected_clients:{}", s.client_count());
            line!("cluster_connections:0");
            line!("maxclients:{}", cfg.maxclients);
            let (input, output) = s.client_peaks().max();
            line!("client_recent_max_input_buffer:{input}");
            line!("client_recent_max_output_buffer:{output}");
            line!("blocked_clients:{}", s.blocking.count());
            line!("tracking_clients:{}", s.tracking.stats().0);
            line!("clients_in_timeout_table:0");
        }
        "memory" => {
            let m = Overhead::now(s, &mut c.ks);
            let used = m.alloc.allocated;
            let total_system = proc::total_memory();
            line!("# Memory");
            line!("used_memory:{used}");
            line!("used_memory_human:{}", human(used));
            line!("used_memory_rss:{}", m.alloc.rss);
            line!("used_memory_rss_human:{}", human(m.alloc.rss));
            line!("used_memory_peak:{}", m.peak);
            line!("used_memory_peak_human:{}", human(m.peak));
            line!("used_memory_peak_perc:{:.2}%", m.peak_perc);
            line!("used_memory_overhead:{}", m.overhead_total);
            line!("used_memory_startup:{}", m.startup);
            line!("used_memory_dataset:{}", m.dataset);
            line!("used_memory_dataset_perc:{:.2}%", m.dataset_perc);
            line!("allocator_allocated:{}", m.alloc.allocated);
            line!("allocator_active:{}", m.alloc.active);
            line!("allocator_resident:{}", m.alloc.resident);
            line!("total_system_memory:{total_system}");
            line!("total_system_memory_human:{}", human(total_system));
            // Every loop's EVAL Lua state (before the first script,
            // Redis's figure for its empty one).
            let lua = crate::script::engine::memory().unwrap_or(32768);
            line!("used_memory_lua:{lua}");
            line!("used_memory_vm_eval:{lua}");
            line!("used_memory_lua_human:{}", human(lua as u64));
            let eval_bytes = s.scripts.bytes();
            line!("used_memory_scripts_eval:{eval_bytes}");
            line!("number_of_cached_scripts:{}", s.scripts.len());
            // Functions: the libraries are counted; their Lua states are
            // per thread, so the VM figure stays Redis's empty one.
            let (libraries, functions) = s.functions.counts();
            let fn_bytes = 200 + s.functions.bytes();
            let scripts_bytes = fn_bytes + eval_bytes;
            line!("number_of_functions:{functions}");
            line!("number_of_libraries:{libraries}");
            line!("used_memory_vm_functions:33792");
            line!("used_memory_vm_total:{}", lua + 33792);
            line!("used_memory_vm_total_human:{}", human((lua + 33792) as u64));
            line!("used_memory_functions:{fn_bytes}");
            line!("used_memory_scripts:{scripts_bytes}");
            line!("used_memory_scripts_human:{}", human(scripts_bytes as u64));
            line!("maxmemory:{}", cfg.maxmemory);
            line!("maxmemory_human:{}", human(cfg.maxmemory));
            line!("maxmemory_policy:{}", cfg.maxmemory_policy);
            line!("allocator_frag_ratio:{:.2}", m.allocator_frag());
            line!("allocator_frag_bytes:{}", m.allocator_frag_bytes());
            line!("allocator_rss_ratio:{:.2}", m.allocator_rss());
            line!("allocator_rss_bytes:{}", m.allocator_rss_bytes());
            line!("rss_overhead_ratio:{:.2}", m.rss_extra());
            line!("rss_overhead_bytes:{}", m.rss_extra_bytes());
            line!("mem_fragmentation_ratio:{:.2}", m.total_frag());
            line!("mem_fragmentation_bytes:{}", m.total_frag_bytes());
            let not_counted = crate::evict::not_counted(s);
            line!("mem_not_counted_for_evict:{not_counted}");
            line!("mem_replication_backlog:0");
            line!("mem_total_replication_buffers:0");
            line!("mem_clients_slaves:0");
            line!("mem_clients_normal:{}", m.clients_normal);
            line!("mem_cluster_links:0");
            line!("mem_aof_buffer:{not_counted}");
            line!("mem_allocator:{}", crate::shared::allocator_name());
            line!("active_defrag_running:0");
            line!("lazyfree_pending_objects:0");
            line!("lazyfreed_objects:0");
        }
        "persistence" => {
            line!("# Persistence");
            let mut rdb = Vec::new();
            crate::persist::info_rdb(s, &mut rdb);
            for l in rdb {
                line!("{l}");
            }
            let mut aof = Vec::new();
            crate::persist::aof::info(s, &mut aof);
            for l in aof {
                line!("{l}");
            }
        }
        "stats" => {
            let (ops, kbps_in, kbps_out) = s.instantaneous();
            line!("# Stats");
            line!("total_connections_received:{}", s.total(|x| &x.connections));
            line!("total_commands_processed:{}", s.total(|x| &x.commands));
            line!("instantaneous_ops_per_sec:{ops}");
            line!("total_net_input_bytes:{}", s.total(|x| &x.net_in));
            line!("total_net_output_bytes:{}", s.total(|x| &x.net_out));
            line!("total_net_repl_input_bytes:0");
            line!("total_net_repl_output_bytes:0");
            line!("instantaneous_input_kbps:{kbps_in:.2}");
            line!("instantaneous_output_kbps:{kbps_out:.2}");
            line!("instantaneous_input_repl_kbps:0.00");
            line!("instantaneous_output_repl_kbps:0.00");
            line!("rejected_connections:{}", s.total(|x| &x.rejected));
            line!("sync_full:0");
            line!("sync_partial_ok:0");
            line!("sync_partial_err:0");
            line!(
                "expired_keys:{}",
                s.total(|x| &x.expired) + crate::db::LAZY_EXPIRED.load(Ordering::Relaxed)
            );
            line!("expired_stale_perc:0.00");
            line!("expired_time_cap_reached_count:0");
            line!("expire_cycle_cpu_milliseconds:0");
            line!(
                "evicted_keys:{}",
                crate::evict::EVICTED.load(std::sync::atomic::Ordering::Relaxed)
            );
            line!(
                "evicted_clients:{}",
                crate::client_eviction::EVICTED_CLIENTS.load(std::sync::atomic::Ordering::Relaxed)
            );
            line!("total_eviction_exceeded_time:0");
            line!("current_eviction_exceeded_time:0");
            line!("keyspace_hits:{}", s.total(|x| &x.hits));
            line!("keyspace_misses:{}", s.total(|x| &x.misses));
            line!(
                "pubsub_channels:{}",
                s.pubsub.channel_count(crate::pubsub::Space::Channel)
            );
            line!("pubsub_patterns:{}", s.pubsub.pattern_count());
            line!(
                "pubsubshard_channels:{}",
                s.pubsub.channel_count(crate::pubsub::Space::Shard)
            );
            let (fork_usec, forks) = crate::persist::fork_stats(s);
            line!("latest_fork_usec:{fork_usec}");
            line!("total_forks:{forks}");
            line!("migrate_cached_sockets:{}", s.migrate.len());
            line!("slave_expires_tracked_keys:0");
            line!("active_defrag_hits:0");
            line!("active_defrag_misses:0");
            line!("active_defrag_key_hits:0");
            line!("active_defrag_key_misses:0");
            line!("total_active_defrag_time:0");
            line!("current_active_defrag_time:0");
            let (_, keys, items, prefixes) = s.tracking.stats();
            line!("tracking_total_keys:{keys}");
            line!("tracking_total_items:{items}");
            line!("tracking_total_prefixes:{prefixes}");
            // Errors sent to a master, replica or the AOF: none can exist.
            line!("unexpected_error_replies:0");
            line!("total_error_replies:{}", s.total(|x| &x.errors));
            // RESTORE's payload checks (sanitize-dump-payload): none yet.
            line!("dump_payload_sanitizations:0");
            line!("total_reads_processed:{}", s.total(|x| &x.reads));
            line!("total_writes_processed:{}", s.total(|x| &x.writes));
            line!("io_threaded_reads_processed:0");
            line!("io_threaded_writes_processed:0");
            line!("reply_buffer_shrinks:0");
            line!("reply_buffer_expands:0");
        }
        "replication" => {
            line!("# Replication");
            line!("role:master");
            line!("connected_slaves:0");
            line!("master_failover_state:no-failover");
            line!("master_replid:{}", s.repl_id());
            line!("master_replid2:0000000000000000000000000000000000000000");
            line!("master_repl_offset:0");
            line!("second_repl_offset:-1");
            line!("repl_backlog_active:0");
            line!("repl_backlog_size:1048576");
            line!("repl_backlog_first_byte_offset:0");
            line!("repl_backlog_histlen:0");
        }
        "cpu" => {
            let (user, sys) = proc::cpu_seconds();
            line!("# CPU");
            line!("used_cpu_sys:{sys:.6}");
            line!("used_cpu_user:{user:.6}");
            line!("used_cpu_sys_children:0.000000");
            line!("used_cpu_user_children:0.000000");
            // Redis's main thread is the one running every command; here
            // several loops do, and loop 0's thread stands for it (it
            // also accepts connections and handles signals).
            let (user, sys) = s
                .main_thread_stat
                .get()
                .map_or((0.0, 0.0), |p| proc::stat_cpu_seconds(p));
            line!("used_cpu_sys_main_thread:{sys:.6}");
            line!("used_cpu_user_main_thread:{user:.6}");
        }
        // No modules can be loaded: the section is there, empty, as in a
        // Redis without modules.
        "modules" => line!("# Modules"),
        "commandstats" => {
            line!("# Commandstats");
            for (name, st) in summarize(s.loop_stats.iter().map(|l| &l.cmds)) {
                if st.calls == 0 && st.failed == 0 && st.rejected == 0 {
                    continue;
                }
                let per_call = if st.calls == 0 {
                    0.0
                } else {
                    (st.usec as f32 / st.calls as f32) as f64
                };
                line!(
                    "cmdstat_{}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}",
                    safe_info_string(&name),
                    st.calls,
                    st.usec,
                    st.rejected,
                    st.failed
                );
            }
        }
        "errorstats" => {
            line!("# Errorstats");
            let mut codes = std::collections::BTreeMap::new();
            for l in s.loop_stats.iter() {
                l.error_codes.add_to(&mut codes);
            }
            for (code, count) in codes {
                line!(
                    "errorstat_{}:count={count}",
                    safe_info_string(&String::from_utf8_lossy(&code))
                );
            }
        }
        "latencystats" => {
            line!("# Latencystats");
            if cfg.latency_tracking {
                for (name, st) in summarize(s.loop_stats.iter().map(|l| &l.cmds)) {
                    let Some(hist) = st.hist else { continue };
                    let mut l = format!("latency_percentiles_usec_{}:", safe_info_string(&name));
                    for (i, p) in cfg.latency_percentiles.iter().enumerate() {
                        if i > 0 {
                            l.push(',');
                        }
                        let v = value_at_percentile(&hist, *p) as f64 / 1000.0;
                        let _ = write!(l, "p{}={v:.3}", show_percentile(*p));
                    }
                    line!("{l}");
                }
            }
        }
        // Clients and monitoring tools read `cluster_enabled` from plain
        // INFO to decide how to talk to a server.
        "cluster" => {
            line!("# Cluster");
            line!("cluster_enabled:0");
        }
        "keyspace" => {
            line!("# Keyspace");
            for db in 0..s.keyspace.databases() {
                let (mut keys, mut expires) = (0, 0);
                for sh in 0..SHARDS {
                    let g = c.ks.shard_at(db, sh);
                    keys += g.len();
                    expires += g.volatile();
                }
                if keys > 0 {
                    line!("db{db}:keys={keys},expires={expires},avg_ttl=0");
                }
            }
        }
        _ => {}
    }
}
