//! Server commands: INFO, COMMAND, CONFIG, TIME, LASTSAVE, SHUTDOWN, DEBUG,
//! SLOWLOG, MEMORY.

use super::flags::*;
use super::{Keys, Spec};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::args::{self, is};
use super::{docs, flags, table, Ctx};
use crate::client::Close;
use crate::config::{Config, LogLevel};
use crate::db::SHARDS;
use crate::error::{CmdError, CmdResult};
use crate::server::unix_ms;
use crate::util::glob::glob_match;
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
            let uptime = s.started.elapsed().as_secs();
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
            line!("run_id:{}", s.run_id);
            line!("tcp_port:{}", s.tcp_port.load(Ordering::Relaxed));
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
                s.config_file
                    .as_ref()
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
            let (input, output) = s.client_peaks.max();
            line!("client_recent_max_input_buffer:{input}");
            line!("client_recent_max_output_buffer:{output}");
            line!("blocked_clients:{}", s.blocking.count());
            line!("tracking_clients:0");
            line!("clients_in_timeout_table:0");
        }
        "memory" => {
            let rss = proc::rss_bytes();
            let peak = s.memory_peak.fetch_max(rss, Ordering::Relaxed).max(rss);
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
            line!("mem_allocator:{}", crate::server::allocator_name());
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
            line!("rdb_last_save_time:{}", s.start_ms / 1000);
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
            line!("tracking_total_keys:0");
            line!("tracking_total_items:0");
            line!("tracking_total_prefixes:0");
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
            line!("master_replid:{}", s.run_id);
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

/// ACL categories a command belongs to, derived from its group and flags as
/// Redis derives them.
fn categories(s: &Spec, parent: Option<&Spec>) -> Vec<&'static str> {
    let mut v = Vec::new();
    let group = parent.map_or(s.group, |p| p.group);
    if s.has(flags::WRITE) {
        v.push("@write");
    }
    if s.has(flags::READONLY) && group != "scripting" {
        v.push("@read");
    }
    if s.has(flags::ADMIN) {
        v.push("@admin");
        v.push("@dangerous");
    }
    if s.has(flags::PUBSUB) {
        v.push("@pubsub");
    }
    if s.has(flags::FAST) {
        v.push("@fast");
    }
    if s.has(flags::BLOCKING) {
        v.push("@blocking");
    }
    if !s.has(flags::FAST) {
        v.push("@slow");
    }
    match group {
        "generic" => v.push("@keyspace"),
        "string" => v.push("@string"),
        "list" => v.push("@list"),
        "hash" => v.push("@hash"),
        "set" => v.push("@set"),
        "sorted-set" => v.push("@sortedset"),
        "connection" => v.push("@connection"),
        "transactions" => v.push("@transaction"),
        "server" if !s.has(flags::ADMIN) => {}
        _ => {}
    }
    v
}

fn key_positions(s: &Spec) -> (i64, i64, i64) {
    match s.keys {
        Keys::None => (0, 0, 0),
        Keys::Range(f, l, st) => (f as i64, l as i64, st as i64),
        Keys::Custom(_, (f, l, st)) => (f as i64, l as i64, st as i64),
    }
}

fn command_info(c: &mut Ctx<'_>, s: &Spec, parent: Option<&Spec>) {
    let name = match parent {
        Some(p) => format!("{}|{}", p.name, s.name),
        None => s.name.to_string(),
    };
    c.out.array(10);
    c.out.bulk(name.as_bytes());
    c.out.int(s.arity as i64);
    let fl: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(bit, _)| s.flags & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    c.out.set(fl.len());
    for f in fl {
        c.out.simple(f);
    }
    let (first, last, step) = key_positions(s);
    c.out.int(first);
    c.out.int(last);
    c.out.int(step);
    let cats = categories(s, parent);
    c.out.set(cats.len());
    for cat in cats {
        c.out.simple(cat);
    }
    c.out.set(0); // tips
    c.out.array(0); // key specs
    c.out.array(s.subcommands.len());
    for sub in s.subcommands {
        command_info(c, sub, Some(s));
    }
}

/// Docs for a command `docs.resp` lacks (see [`docs::NEWER`]).
fn command_docs(c: &mut Ctx<'_>, s: &Spec, parent: Option<&Spec>) {
    let group = parent.map_or(s.group, |p| p.group);
    let full = match parent {
        Some(p) => format!("{}|{}", p.name, s.name),
        None => s.name.to_string(),
    };
    let (_, summary, since, complexity) = docs::NEWER
        .iter()
        .find(|d| d.0 == full)
        .copied()
        .unwrap_or_default();
    let n = 4 + usize::from(!s.subcommands.is_empty());
    c.out.map(n);
    c.out.bulk(b"summary");
    c.out.bulk(summary.as_bytes());
    c.out.bulk(b"since");
    c.out.bulk(since.as_bytes());
    c.out.bulk(b"group");
    c.out.bulk(group.as_bytes());
    c.out.bulk(b"complexity");
    c.out.bulk(complexity.as_bytes());
    if !s.subcommands.is_empty() {
        c.out.bulk(b"subcommands");
        c.out.map(s.subcommands.len());
        for sub in s.subcommands {
            c.out.bulk(format!("{}|{}", s.name, sub.name).as_bytes());
            command_docs(c, sub, Some(s));
        }
    }
}

/// COMMAND (all commands' info)
pub fn command(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.array(table::commands().len());
    for s in table::commands() {
        command_info(c, s, None);
    }
    Ok(())
}

/// COMMAND COUNT
pub fn command_count(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.int(table::commands().len() as i64);
    Ok(())
}

/// Finds `name` or `parent|sub`.
fn find_spec(name: &[u8]) -> Option<(&'static Spec, Option<&'static Spec>)> {
    if let Some(p) = name.iter().position(|&b| b == b'|') {
        let parent = super::lookup(&name[..p])?;
        let sub = super::lookup_sub(parent, &name[p + 1..])?;
        return Some((sub, Some(parent)));
    }
    super::lookup(name).map(|s| (s, None))
}

/// COMMAND INFO [name ...]
pub fn command_info_cmd(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() == 2 {
        return command(c, a);
    }
    c.out.array(a.len() - 2);
    for name in &a[2..] {
        match find_spec(name) {
            Some((s, p)) => command_info(c, s, p),
            None => c.out.null(),
        }
    }
    Ok(())
}

/// COMMAND DOCS [name ...]
pub fn command_docs_cmd(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let specs: Vec<(&Spec, Option<&Spec>)> = if a.len() == 2 {
        table::commands().iter().map(|s| (*s, None)).collect()
    } else {
        a[2..].iter().filter_map(|n| find_spec(n)).collect()
    };
    c.out.map(specs.len());
    for (s, p) in specs {
        let name = match p {
            Some(p) => format!("{}|{}", p.name, s.name),
            None => s.name.to_string(),
        };
        c.out.bulk(name.as_bytes());
        match super::docs::find(&name) {
            Some(doc) => super::docs::write_frame(c.out, doc),
            None => command_docs(c, s, p),
        }
    }
    Ok(())
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
pub fn command_list(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut names: Vec<String> = Vec::new();
    for s in table::commands() {
        names.push(s.name.to_string());
        for sub in s.subcommands {
            names.push(format!("{}|{}", s.name, sub.name));
        }
    }
    match a.len() {
        2 => {}
        5 if is(a[2], "FILTERBY") => {
            let v = a[4];
            if is(a[3], "PATTERN") {
                names.retain(|n| glob_match(v, n.as_bytes(), true));
            } else if is(a[3], "MODULE") {
                names.clear();
            } else if is(a[3], "ACLCAT") {
                let cat = format!("@{}", String::from_utf8_lossy(v).to_ascii_lowercase());
                names.retain(|n| {
                    find_spec(n.as_bytes())
                        .is_some_and(|(s, p)| categories(s, p).contains(&cat.as_str()))
                });
            } else {
                return Err(CmdError::Syntax);
            }
        }
        _ => return Err(CmdError::Syntax),
    }
    c.out.array(names.len());
    for n in names {
        c.out.bulk(n.as_bytes());
    }
    Ok(())
}

/// COMMAND GETKEYS command [arg ...]
pub fn command_getkeys(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let argv = &a[2..];
    let Some((spec, _)) = super::resolve(argv).ok().map(|r| (r.spec, r.parent)) else {
        return Err(match super::lookup(argv[0]) {
            None => CmdError::msg("ERR Invalid command specified"),
            Some(_) => CmdError::msg("ERR Invalid number of arguments specified for command"),
        });
    };
    let mut keys = Vec::new();
    spec.keys_of(argv, 0, &mut keys);
    if keys.is_empty() {
        return Err(CmdError::msg("ERR The command has no key arguments"));
    }
    c.out.array(keys.len());
    for (_, k) in keys {
        c.out.bulk(k);
    }
    Ok(())
}

const COMMAND_HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// COMMAND HELP
pub fn command_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(COMMAND_HELP);
    Ok(())
}

/// CONFIG GET parameter [parameter ...]
pub fn config_get(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let all = c.shared.config().all();
    // (name to show, value); an exact name is echoed as the client typed it,
    // as Redis does.
    let mut found: Vec<(Vec<u8>, &str, String)> = Vec::new();
    for pat in &a[2..] {
        let literal = !pat.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
        for (name, value) in &all {
            let hit = if literal {
                pat.eq_ignore_ascii_case(name.as_bytes())
            } else {
                glob_match(pat, name.as_bytes(), true)
            };
            if hit && !found.iter().any(|(_, n, _)| n == name) {
                let shown = if literal {
                    pat.to_vec()
                } else {
                    name.as_bytes().to_vec()
                };
                found.push((shown, name, value.clone()));
            }
        }
    }
    c.out.map(found.len());
    for (shown, _, v) in found {
        c.out.bulk(&shown);
        c.out.bulk(v.as_bytes());
    }
    Ok(())
}

/// CONFIG SET parameter value [parameter value ...] — all or nothing.
pub fn config_set(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() % 2 != 0 {
        return Err(CmdError::arity("config|set"));
    }
    let pairs: Vec<(String, String)> = a[2..]
        .chunks_exact(2)
        .map(|p| {
            (
                String::from_utf8_lossy(p[0]).to_ascii_lowercase(),
                String::from_utf8_lossy(p[1]).into_owned(),
            )
        })
        .collect();
    for (i, (name, _)) in pairs.iter().enumerate() {
        match Config::is_mutable(name) {
            None => {
                return Err(CmdError::msg(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                )))
            }
            Some(false) => {
                return Err(CmdError::msg(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
                )))
            }
            Some(true) => {}
        }
        if pairs[..i].iter().any(|(n, _)| n == name) {
            return Err(CmdError::msg(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter"
            )));
        }
    }
    let mut next = c.shared.config().clone();
    for (name, value) in &pairs {
        next.set(name, std::slice::from_ref(value)).map_err(|e| {
            CmdError::msg(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {e}"
            ))
        })?;
    }
    if next.maxclients != c.shared.config().maxclients {
        let fitted = crate::server::fit_open_files(next.maxclients).unwrap_or(0);
        if fitted < next.maxclients {
            return Err(CmdError::msg(format!(
                "ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with {fitted}"
            )));
        }
    }
    let level: LogLevel = next.loglevel;
    c.shared.update_config(|cfg| *cfg = next);
    crate::log::set_level(level);
    c.out.ok();
    Ok(())
}

/// CONFIG RESETSTAT
pub fn config_resetstat(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.shared.reset_stats();
    c.shared.slowlog_reset();
    c.out.ok();
    Ok(())
}

/// CONFIG REWRITE — there is no file we could rewrite faithfully.
pub fn config_rewrite(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    if c.shared.config_file.is_none() {
        return Err(CmdError::msg(
            "ERR The server is running without a config file",
        ));
    }
    Err(CmdError::msg(
        "ERR Rewriting config file: soquete does not rewrite config files; edit it by hand",
    ))
}

const CONFIG_HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

/// CONFIG HELP
pub fn config_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(CONFIG_HELP);
    Ok(())
}

/// TIME
pub fn time(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    c.out.array(2);
    c.out.bulk(d.as_secs().to_string().as_bytes());
    c.out.bulk(d.subsec_micros().to_string().as_bytes());
    Ok(())
}

/// LASTSAVE — nothing is ever saved; Redis reports its start time then.
pub fn lastsave(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.int((c.shared.start_ms / 1000) as i64);
    Ok(())
}

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
pub fn shutdown(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (mut save, mut abort) = (false, false);
    for opt in &a[1..] {
        if is(opt, "SAVE") {
            save = true;
        } else if is(opt, "ABORT") {
            abort = true;
        } else if !(is(opt, "NOSAVE") || is(opt, "NOW") || is(opt, "FORCE")) {
            return Err(CmdError::Syntax);
        }
    }
    if abort {
        if a.len() > 2 {
            return Err(CmdError::Syntax);
        }
        return Err(CmdError::msg("ERR No shutdown in progress."));
    }
    if save {
        return Err(CmdError::msg(
            "ERR Errors trying to SHUTDOWN. Check logs. (soquete keeps no persistence: use SHUTDOWN NOSAVE)",
        ));
    }
    // Like Redis: no reply on success, the connection just closes.
    c.client.close = Close::AfterReply;
    c.shared.request_shutdown();
    Ok(())
}

fn debug_allowed(c: &Ctx<'_>) -> bool {
    match c.shared.config().enable_debug_command.as_str() {
        "yes" => true,
        "local" => {
            c.client.meta.unix
                || c.client.meta.addr.starts_with("127.")
                || c.client.meta.addr.starts_with("[::1]")
        }
        _ => false,
    }
}

const DEBUG_HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "OBJECT <key>",
    "    Show low-level info about the `key` and associated value.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
];

/// DEBUG SLEEP | SET-ACTIVE-EXPIRE | OBJECT | HELP
pub fn debug(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if !debug_allowed(c) {
        return Err(CmdError::msg(
            "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
        ));
    }
    let sub = args::lower(a[1]);
    match (sub.as_str(), a.len()) {
        ("help", 2) => c.out.help(DEBUG_HELP),
        ("sleep", 3) => {
            let secs = crate::util::num::parse_f64(a[2]).unwrap_or(0.0);
            if secs > 0.0 && secs.is_finite() {
                std::thread::sleep(Duration::from_secs_f64(secs.min(3600.0)));
            }
            c.out.ok();
        }
        ("set-active-expire", 3) => {
            let on = args::int(a[2])? != 0;
            c.shared.active_expire.store(on, Ordering::Relaxed);
            c.out.ok();
        }
        ("object", 3) => {
            let now = c.ks.now;
            let Some(e) = c.ks.peek(a[2]) else {
                return Err(CmdError::NoSuchKey);
            };
            let len = e.value.heap_size();
            let text = format!(
                "Value at:0x0 refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                e.value.encoding(),
                len,
                (now / 1000) & ((1 << 24) - 1),
                e.idle_seconds(now)
            );
            c.out.simple(&text);
        }
        _ => {
            return Err(CmdError::quoting(
                "ERR unknown subcommand or wrong number of arguments for '",
                a[1],
                "'. Try DEBUG HELP.",
            ))
        }
    }
    Ok(())
}

/// SLOWLOG GET [count]
pub fn slowlog_get(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let count = match a.get(2) {
        None => 10,
        Some(x) => {
            let n = args::int_in(
                x,
                -1,
                i64::MAX,
                "ERR count should be greater than or equal to -1",
            )?;
            if n == -1 {
                usize::MAX
            } else {
                n as usize
            }
        }
    };
    let entries = c.shared.slowlog_entries(count);
    c.out.array(entries.len());
    for e in entries {
        c.out.array(6);
        c.out.int(e.id as i64);
        c.out.int(e.time as i64);
        c.out.int(e.micros as i64);
        c.out.array(e.args.len());
        for arg in &e.args {
            c.out.bulk(arg);
        }
        c.out.bulk(e.addr.as_bytes());
        c.out.bulk(&e.name);
    }
    Ok(())
}

/// SLOWLOG LEN
pub fn slowlog_len(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.int(c.shared.slowlog_len() as i64);
    Ok(())
}

/// SLOWLOG RESET
pub fn slowlog_reset(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.shared.slowlog_reset();
    c.out.ok();
    Ok(())
}

const SLOWLOG_HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

/// SLOWLOG HELP
pub fn slowlog_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(SLOWLOG_HELP);
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

// ---- command table rows ----

static COMMAND_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "count",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_count,
        subcommands: &[],
    },
    Spec {
        name: "info",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_info_cmd,
        subcommands: &[],
    },
    Spec {
        name: "docs",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_docs_cmd,
        subcommands: &[],
    },
    Spec {
        name: "list",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_list,
        subcommands: &[],
    },
    Spec {
        name: "getkeys",
        arity: -4,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_getkeys,
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command_help,
        subcommands: &[],
    },
];

static CONFIG_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "get",
        arity: -3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_get,
        subcommands: &[],
    },
    Spec {
        name: "set",
        arity: -4,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_set,
        subcommands: &[],
    },
    Spec {
        name: "resetstat",
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_resetstat,
        subcommands: &[],
    },
    Spec {
        name: "rewrite",
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_rewrite,
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_help,
        subcommands: &[],
    },
];

static SLOWLOG_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "get",
        arity: -2,
        flags: ADMIN | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: slowlog_get,
        subcommands: &[],
    },
    Spec {
        name: "len",
        arity: 2,
        flags: ADMIN | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: slowlog_len,
        subcommands: &[],
    },
    Spec {
        name: "reset",
        arity: 2,
        flags: ADMIN | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: slowlog_reset,
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: slowlog_help,
        subcommands: &[],
    },
];

static MEMORY_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "usage",
        arity: -3,
        flags: READONLY,
        keys: Keys::Range(2, 2, 1),
        group: "server",
        handler: memory_usage,
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: memory_help,
        subcommands: &[],
    },
];

/// This group's rows of the command table.
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "info",
        arity: -1,
        flags: LOADING | STALE | WHOLE_KEYSPACE,
        keys: Keys::None,
        group: "server",
        handler: info,
        subcommands: &[],
    },
    Spec {
        name: "time",
        arity: 1,
        flags: LOADING | STALE | FAST,
        keys: Keys::None,
        group: "server",
        handler: time,
        subcommands: &[],
    },
    Spec {
        name: "lastsave",
        arity: 1,
        flags: LOADING | STALE | FAST,
        keys: Keys::None,
        group: "server",
        handler: lastsave,
        subcommands: &[],
    },
    Spec {
        name: "shutdown",
        arity: -1,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        keys: Keys::None,
        group: "server",
        handler: shutdown,
        subcommands: &[],
    },
    Spec {
        name: "debug",
        arity: -2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE | WHOLE_KEYSPACE,
        keys: Keys::None,
        group: "server",
        handler: debug,
        subcommands: &[],
    },
    Spec {
        name: "command",
        arity: -1,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: command,
        subcommands: COMMAND_SUBCOMMANDS,
    },
    Spec {
        name: "config",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: super::table::container,
        subcommands: CONFIG_SUBCOMMANDS,
    },
    Spec {
        name: "slowlog",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: super::table::container,
        subcommands: SLOWLOG_SUBCOMMANDS,
    },
    Spec {
        name: "memory",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "server",
        handler: super::table::container,
        subcommands: MEMORY_SUBCOMMANDS,
    },
];
