//! INFO: every section Redis 7.0 reports, with soquete's own values.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use crate::cmd::Ctx;
use crate::db::SHARDS;
use crate::error::CmdResult;
use crate::shared::unix_ms;
use crate::util::proc;
use crate::REDIS_VERSION;

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", b / (1024.0 * 1024.0 * 1024.0))
    }
}

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "cluster",
    "keyspace",
];

/// INFO [section ...]
pub fn info(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut wanted: Vec<String> = a[1..]
        .iter()
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
        .collect();
    if wanted.is_empty()
        || wanted
            .iter()
            .any(|w| w == "default" || w == "all" || w == "everything")
    {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    let mut text = String::new();
    for section in DEFAULT_SECTIONS {
        if !wanted.iter().any(|w| w == section) {
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
            let rss = proc::rss_bytes();
            let peak = s.note_memory(rss);
            line!("# Memory");
            line!("used_memory:{rss}");
            line!("used_memory_human:{}", human(rss));
            line!("used_memory_rss:{rss}");
            line!("used_memory_rss_human:{}", human(rss));
            line!("used_memory_peak:{peak}");
            line!("used_memory_peak_human:{}", human(peak));
            line!("maxmemory:{}", cfg.maxmemory);
            line!("maxmemory_human:{}", human(cfg.maxmemory));
            line!("maxmemory_policy:{}", cfg.maxmemory_policy);
            line!("mem_fragmentation_ratio:1.00");
            line!("mem_allocator:{}", crate::shared::allocator_name());
            line!("lazyfree_pending_objects:0");
        }
        "persistence" => {
            line!("# Persistence");
            line!("loading:0");
            line!("async_loading:0");
            line!("current_cow_peak:0");
            line!("current_cow_size:0");
            line!("current_fork_perc:0.00");
            line!("current_save_keys_processed:0");
            line!("current_save_keys_total:0");
            line!("rdb_changes_since_last_save:0");
            line!("rdb_bgsave_in_progress:0");
            line!("rdb_last_save_time:{}", s.start_ms() / 1000);
            line!("rdb_last_bgsave_status:ok");
            line!("rdb_last_bgsave_time_sec:-1");
            line!("rdb_current_bgsave_time_sec:-1");
            line!("aof_enabled:0");
            line!("aof_rewrite_in_progress:0");
            line!("aof_rewrite_scheduled:0");
            line!("aof_last_rewrite_time_sec:-1");
            line!("aof_current_rewrite_time_sec:-1");
            line!("aof_last_bgrewrite_status:ok");
            line!("aof_last_write_status:ok");
        }
        "stats" => {
            line!("# Stats");
            line!("total_connections_received:{}", s.total(|x| &x.connections));
            line!("total_commands_processed:{}", s.total(|x| &x.commands));
            line!("instantaneous_ops_per_sec:{}", s.ops_per_sec());
            line!("total_net_input_bytes:{}", s.total(|x| &x.net_in));
            line!("total_net_output_bytes:{}", s.total(|x| &x.net_out));
            line!("instantaneous_input_kbps:0.00");
            line!("instantaneous_output_kbps:0.00");
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
            line!("evicted_keys:0");
            line!("evicted_clients:0");
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
            line!("latest_fork_usec:0");
            line!("total_forks:0");
            line!("migrate_cached_sockets:0");
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
            line!("unexpected_error_replies:0");
            line!("total_error_replies:{}", s.total(|x| &x.errors));
            line!("dump_payload_sanitizations:0");
            line!("total_reads_processed:0");
            line!("total_writes_processed:0");
            line!("io_threaded_reads_processed:0");
            line!("io_threaded_writes_processed:0");
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
        }
        // No modules can be loaded: the section is there, empty, as in a
        // Redis without modules.
        "modules" => line!("# Modules"),
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
