//! Configuration: the same parameter names, file format and command line
//! as `redis-server`.
//!
//! [`params::PARAMS`] is the one table of every parameter Redis 7.0.15 has
//! (and soquete's own two): name, alias, kind of value, default, flags, and
//! whether soquete implements it. The ones soquete implements have typed
//! fields here, read and written through [`OPTIONS`]. An unknown name or a
//! bad value is an error naming it; a parameter soquete does not implement
//! accepts only Redis's default. CONFIG REWRITE is in [`rewrite`].

pub mod params;
pub mod rewrite;

pub use params::{lookup, parse_memory, Kind, Param, Support};

use std::path::PathBuf;

/// Log verbosity, as Redis's `loglevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything.
    Debug,
    /// Many rarely useful lines.
    Verbose,
    /// Production default.
    Notice,
    /// Only important lines.
    Warning,
}

impl LogLevel {
    fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Verbose => "verbose",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
        }
    }
}

/// One class of `client-output-buffer-limit`: a client whose pending output
/// exceeds `hard`, or stays above `soft` for `soft_seconds`, is closed
/// (0 disables a limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutputLimit {
    /// Close at once above this many bytes.
    pub hard: u64,
    /// Close when above this for `soft_seconds`.
    pub soft: u64,
    /// See `soft`.
    pub soft_seconds: u64,
}

/// Class names of `client-output-buffer-limit`, in [`Config::output_limits`]
/// order.
pub const OUTPUT_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// Who may use a protected feature (`enable-debug-command`,
/// `enable-module-command`, `enable-protected-configs`): Redis's
/// `PROTECTED_ACTION_ALLOWED_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    /// Nobody.
    No,
    /// Every client.
    Yes,
    /// Clients on a Unix socket or from 127.0.0.1 or ::1 (see [`is_local`]).
    Local,
}

impl Allow {
    /// `no`, `yes` or `local`, in any case.
    pub fn parse(v: &str) -> Result<Allow, String> {
        match v.to_ascii_lowercase().as_str() {
            "no" => Ok(Allow::No),
            "yes" => Ok(Allow::Yes),
            "local" => Ok(Allow::Local),
            _ => Err("argument(s) must be one of the following: no, yes, local".into()),
        }
    }

    /// The value as CONFIG GET shows it.
    pub fn name(self) -> &'static str {
        match self {
            Allow::No => "no",
            Allow::Yes => "yes",
            Allow::Local => "local",
        }
    }

    /// Redis's `allowProtectedAction`, for a client that is local or not.
    pub fn permits(self, local: bool) -> bool {
        self == Allow::Yes || (self == Allow::Local && local)
    }
}

/// Redis's `islocalClient`: a Unix socket, or a peer whose address is
/// exactly 127.0.0.1 or ::1 (not the rest of 127.0.0.0/8, nor an
/// IPv4-mapped address). Protected mode and the `local` settings use it.
pub fn is_local(unix: bool, ip: Option<std::net::IpAddr>) -> bool {
    use std::net::{Ipv4Addr, Ipv6Addr};
    unix || ip == Some(Ipv4Addr::LOCALHOST.into()) || ip == Some(Ipv6Addr::LOCALHOST.into())
}

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// TCP port; 0 disables TCP.
    pub port: u16,
    /// Addresses to listen on; a leading `-` makes an address optional.
    pub bind: Vec<String>,
    /// Unix domain socket path.
    pub unixsocket: Option<PathBuf>,
    /// Permissions of the Unix socket (octal in the config), 0 = default.
    pub unixsocketperm: u32,
    /// `tls-port`: TCP port of the TLS listener (on the `bind`
    /// addresses); 0 = none. The other `tls-*` parameters are stored
    /// values read by [`crate::tls::TlsContext::configure`].
    pub tls_port: u16,
    /// Password clients must AUTH with.
    pub requirepass: Option<Vec<u8>>,
    /// Most simultaneous clients.
    pub maxclients: usize,
    /// Number of databases.
    pub databases: usize,
    /// Close clients idle this many seconds (0 = never).
    pub timeout: u64,
    /// TCP keepalive interval in seconds (0 = off).
    pub tcp_keepalive: u64,
    /// Event loop threads (0 = one per core).
    pub threads: usize,
    /// After an event, keep polling without sleeping for this many
    /// microseconds (0 = off; a soquete option, Redis has none).
    pub busy_poll: u64,
    /// Most unprocessed input per client.
    pub client_query_buffer_limit: u64,
    /// Largest bulk string accepted.
    pub proto_max_bulk_len: u64,
    /// Log verbosity.
    pub loglevel: LogLevel,
    /// Log file; empty = standard output.
    pub logfile: String,
    /// Refuse non-loopback clients when no password is set and the server
    /// listens on all interfaces.
    pub protected_mode: bool,
    /// Background task frequency.
    pub hz: u32,
    /// Listen backlog.
    pub tcp_backlog: u32,
    /// Where to write our pid.
    pub pidfile: Option<PathBuf>,
    /// Working directory.
    pub dir: PathBuf,
    /// RDB snapshot points (accepted for compatibility; soquete keeps no
    /// persistence, and says so at start-up when this is not empty).
    pub save: String,
    /// RDB file name (reported only).
    pub dbfilename: String,
    /// `appendonly`: log every write to the append-only file.
    pub appendonly: bool,
    /// Memory limit (0 = none; soquete does not evict, see README).
    pub maxmemory: u64,
    /// Eviction policy (see [`crate::evict::Policy`]).
    pub maxmemory_policy: String,
    /// FLUSHALL/FLUSHDB without a mode frees memory in the background.
    pub lazyfree_lazy_user_flush: bool,
    /// Most keys the tracking table remembers (0: unlimited).
    pub tracking_table_max_keys: u64,
    /// SLOWLOG threshold in microseconds (negative disables).
    pub slowlog_log_slower_than: i64,
    /// `busy-reply-threshold` (alias `lua-time-limit`), milliseconds: a
    /// script running longer makes other clients' commands fail with
    /// BUSY, and can be killed.
    pub busy_reply_threshold: i64,
    /// SLOWLOG length.
    pub slowlog_max_len: u64,
    /// `latency-tracking`: per-command latency histograms (INFO
    /// latencystats).
    pub latency_tracking: bool,
    /// `latency-tracking-info-percentiles`: the percentiles INFO
    /// latencystats reports.
    pub latency_percentiles: Vec<f64>,
    /// `client-output-buffer-limit` for the normal, replica and pubsub
    /// classes.
    pub output_limits: [OutputLimit; 3],
    /// `notify-keyspace-events` flags (see [`crate::notify`]).
    pub notify_keyspace_events: u32,
    /// Who may run DEBUG.
    pub enable_debug_command: Allow,
    /// Who may run MODULE LOAD, LOADEX and UNLOAD.
    pub enable_module_command: Allow,
    /// Who may CONFIG SET the protected parameters (`dir`, `dbfilename`).
    pub enable_protected_configs: Allow,
    /// `rename-command` lines, `(old, new)`, in file order (see
    /// [`crate::cmd::names`]); checked as they are read, applied at start-up.
    pub rename_commands: Vec<(String, String)>,
    /// `aclfile`: where ACL LOAD and SAVE read and write the users, as
    /// given (relative to `dir`); empty: none.
    pub aclfile: String,
    /// `acl-pubsub-default` is `allchannels`: new users and `reset` get
    /// every channel (else none, `resetchannels`).
    pub acl_pubsub_all: bool,
    /// The file's `user` lines, checked, made into users at start-up
    /// (see [`crate::acl::file`]).
    pub users: Vec<crate::acl::file::Declared>,
    /// The values of the [`Support::Stored`] parameters, as CONFIG GET
    /// shows them.
    pub passthrough: Vec<(&'static str, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into(), "-::1".into()],
            unixsocket: None,
            unixsocketperm: 0,
            tls_port: 0,
            requirepass: None,
            maxclients: 10_000,
            databases: 16,
            timeout: 0,
            tcp_keepalive: 300,
            threads: 0,
            busy_poll: 0,
            client_query_buffer_limit: 1 << 30,
            proto_max_bulk_len: 512 << 20,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            protected_mode: true,
            hz: 10,
            tcp_backlog: 511,
            pidfile: None,
            dir: PathBuf::from("."),
            save: "3600 1 300 100 60 10000".into(),
            dbfilename: "dump.rdb".into(),
            appendonly: false,
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            lazyfree_lazy_user_flush: false,
            tracking_table_max_keys: 1_000_000,
            slowlog_log_slower_than: 10_000,
            busy_reply_threshold: 5000,
            slowlog_max_len: 128,
            latency_tracking: true,
            latency_percentiles: vec![50.0, 99.0, 99.9],
            enable_debug_command: Allow::No,
            enable_module_command: Allow::No,
            enable_protected_configs: Allow::No,
            rename_commands: Vec::new(),
            notify_keyspace_events: 0,
            output_limits: [
                OutputLimit::default(),
                OutputLimit {
                    hard: 256 << 20,
                    soft: 64 << 20,
                    soft_seconds: 60,
                },
                OutputLimit {
                    hard: 32 << 20,
                    soft: 8 << 20,
                    soft_seconds: 60,
                },
            ],
            aclfile: String::new(),
            acl_pubsub_all: false,
            users: Vec::new(),
            passthrough: params::PARAMS
                .iter()
                .filter(|p| p.support == Support::Stored)
                .map(|p| (p.name, p.default.to_string()))
                .collect(),
        }
    }
}

/// How to read and write a parameter soquete implements (its row in
/// [`params::PARAMS`] says [`Support::Native`]).
pub struct OptSpec {
    /// Its name (lower case).
    pub name: &'static str,
    /// Parses the option's words into the config.
    pub set: fn(&mut Config, &[String]) -> Result<(), String>,
    /// The value CONFIG GET shows.
    pub get: fn(&Config) -> String,
}

fn one(args: &[String]) -> Result<&str, String> {
    match args {
        [v] => Ok(v),
        _ => Err("wrong number of arguments".into()),
    }
}

fn int<T: std::str::FromStr>(args: &[String], min: i64, max: i64) -> Result<T, String> {
    let v = one(args)?;
    let n: i64 = v
        .parse()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    n.to_string()
        .parse()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())
}

fn memory(args: &[String]) -> Result<u64, String> {
    let v = one(args)?;
    parse_memory(v).ok_or_else(|| "argument must be a memory value".to_string())
}

fn yes_no(args: &[String]) -> Result<bool, String> {
    match one(args)?.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// `latency-tracking-info-percentiles`: numbers between 0 and 100, or one
/// empty word for none (Redis's texts).
fn parse_percentiles(args: &[String]) -> Result<Vec<f64>, String> {
    if let [one] = args {
        if one.is_empty() {
            return Ok(Vec::new());
        }
    }
    let mut v = Vec::new();
    for w in args.iter().flat_map(|a| a.split_ascii_whitespace()) {
        let p: f64 = crate::util::num::parse_f64(w.as_bytes())
            .filter(|p| !p.is_nan())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        v.push(p);
    }
    Ok(v)
}

/// A percentile as Redis prints it: `%f` with trailing zeros (and a
/// trailing dot) trimmed — `50`, `99.9`.
pub fn show_percentile(p: f64) -> String {
    let s = format!("{p:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn show_bool(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

macro_rules! opt {
    ($name:literal, |$c:ident, $a:ident| $set:expr, |$g:ident| $get:expr) => {
        OptSpec {
            name: $name,
            set: |$c: &mut Config, $a: &[String]| -> Result<(), String> {
                $set;
                Ok(())
            },
            get: |$g: &Config| -> String { $get },
        }
    };
}

/// The parameters soquete implements.
pub static OPTIONS: &[OptSpec] = &[
    opt!("port", |c, a| c.port = int(a, 0, 65535)?, |c| c
        .port
        .to_string()),
    opt!(
        "bind",
        |c, a| {
            if a.is_empty() {
                return Err("wrong number of arguments".into());
            }
            c.bind = a.to_vec()
        },
        |c| c.bind.join(" ")
    ),
    opt!(
        "unixsocket",
        |c, a| {
            let v = one(a)?;
            c.unixsocket = (!v.is_empty()).then(|| PathBuf::from(v))
        },
        |c| c
            .unixsocket
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    ),
    opt!(
        "unixsocketperm",
        |c, a| {
            c.unixsocketperm = u32::from_str_radix(one(a)?, 8)
                .ok()
                .filter(|p| *p <= 0o777)
                .ok_or("argument must be an octal number between 0 and 777")?
        },
        |c| format!("{:o}", c.unixsocketperm)
    ),
    opt!("tls-port", |c, a| c.tls_port = int(a, 0, 65535)?, |c| c
        .tls_port
        .to_string()),
    opt!(
        "requirepass",
        |c, a| {
            let v = one(a)?;
            c.requirepass = (!v.is_empty()).then(|| v.as_bytes().to_vec())
        },
        |c| c
            .requirepass
            .as_ref()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default()
    ),
    opt!(
        "maxclients",
        |c, a| c.maxclients = int(a, 1, i32::MAX as i64)?,
        |c| c.maxclients.to_string()
    ),
    opt!(
        "databases",
        |c, a| c.databases = int(a, 1, i32::MAX as i64)?,
        |c| c.databases.to_string()
    ),
    opt!(
        "timeout",
        |c, a| c.timeout = int(a, 0, i32::MAX as i64)?,
        |c| c.timeout.to_string()
    ),
    opt!(
        "tcp-keepalive",
        |c, a| c.tcp_keepalive = int(a, 0, i32::MAX as i64)?,
        |c| c.tcp_keepalive.to_string()
    ),
    opt!("threads", |c, a| c.threads = int(a, 0, 1024)?, |c| c
        .threads
        .to_string()),
    opt!(
        "busy-poll",
        |c, a| c.busy_poll = int(a, 0, 1_000_000)?,
        |c| c.busy_poll.to_string()
    ),
    // Redis's I/O threads; soquete's nearest equivalent is its event loops.
    // CONFIG GET shows how many run (`threads`, which CONFIG REWRITE writes).
    opt!("io-threads", |c, a| c.threads = int(a, 1, 128)?, |c| c
        .loop_count()
        .to_string()),
    opt!(
        "client-query-buffer-limit",
        |c, a| {
            let v = memory(a)?;
            if v < 1024 * 1024 {
                return Err(
                    "argument must be between 1048576 and 9223372036854775807 inclusive".into(),
                );
            }
            c.client_query_buffer_limit = v
        },
        |c| c.client_query_buffer_limit.to_string()
    ),
    opt!(
        "proto-max-bulk-len",
        |c, a| {
            let v = memory(a)?;
            if v < 1024 * 1024 {
                return Err(
                    "argument must be between 1048576 and 9223372036854775807 inclusive".into(),
                );
            }
            c.proto_max_bulk_len = v
        },
        |c| c.proto_max_bulk_len.to_string()
    ),
    opt!(
        "loglevel",
        |c, a| {
            c.loglevel =
                match one(a)?.to_ascii_lowercase().as_str() {
                    "debug" => LogLevel::Debug,
                    "verbose" => LogLevel::Verbose,
                    "notice" => LogLevel::Notice,
                    "warning" => LogLevel::Warning,
                    _ => return Err(
                        "argument(s) must be one of the following: debug, verbose, notice, warning"
                            .into(),
                    ),
                }
        },
        |c| c.loglevel.name().into()
    ),
    opt!("logfile", |c, a| c.logfile = one(a)?.to_string(), |c| c
        .logfile
        .clone()),
    opt!(
        "protected-mode",
        |c, a| c.protected_mode = yes_no(a)?,
        |c| show_bool(c.protected_mode)
    ),
    opt!(
        "hz",
        |c, a| c.hz = int::<i64>(a, i64::MIN, i64::MAX)?.clamp(1, 500) as u32,
        |c| c.hz.to_string()
    ),
    opt!(
        "tcp-backlog",
        |c, a| c.tcp_backlog = int(a, 0, i32::MAX as i64)?,
        |c| c.tcp_backlog.to_string()
    ),
    opt!(
        "pidfile",
        |c, a| {
            let v = one(a)?;
            c.pidfile = (!v.is_empty()).then(|| PathBuf::from(v))
        },
        |c| c
            .pidfile
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    ),
    opt!("dir", |c, a| c.dir = PathBuf::from(one(a)?), |c| {
        std::fs::canonicalize(&c.dir)
            .unwrap_or_else(|_| c.dir.clone())
            .display()
            .to_string()
    }),
    opt!(
        "save",
        |c, a| {
            // `save ""` or `save "3600 1 300 100"` or `save 3600 1 300 100`.
            let words: Vec<&str> = a.iter().flat_map(|w| w.split_whitespace()).collect();
            // Seconds at least 1, changes at least 0, as Redis checks.
            let bad =
                |(i, w): (usize, &&str)| w.parse::<u64>().map_or(true, |n| i % 2 == 0 && n < 1);
            if words.len() % 2 != 0 || words.iter().enumerate().any(bad) {
                return Err("Invalid save parameters".into());
            }
            c.save = words.join(" ")
        },
        |c| c.save.clone()
    ),
    opt!("appendonly", |c, a| c.appendonly = yes_no(a)?, |c| {
        if c.appendonly { "yes" } else { "no" }.into()
    }),
    opt!(
        "daemonize",
        |_c, a| {
            if yes_no(a)? {
                return Err(
                    "soquete does not daemonize: run it under a supervisor, or with '&'".into(),
                );
            }
        },
        |_c| "no".into()
    ),
    opt!(
        "dbfilename",
        |c, a| c.dbfilename = one(a)?.to_string(),
        |c| c.dbfilename.clone()
    ),
    opt!("maxmemory", |c, a| c.maxmemory = memory(a)?, |c| c
        .maxmemory
        .to_string()),
    opt!(
        "maxmemory-policy",
        |c, a| {
            let v = one(a)?.to_ascii_lowercase();
            match v.as_str() {
            "noeviction" | "volatile-lru" | "volatile-lfu" | "volatile-random" | "volatile-ttl"
            | "allkeys-lru" | "allkeys-lfu" | "allkeys-random" => {}
            _ => return Err("argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction".into()),
        }
            c.maxmemory_policy = v
        },
        |c| c.maxmemory_policy.clone()
    ),
    opt!(
        "tracking-table-max-keys",
        |c, a| c.tracking_table_max_keys = int(a, 0, i64::MAX)?,
        |c| c.tracking_table_max_keys.to_string()
    ),
    opt!(
        "lazyfree-lazy-user-flush",
        |c, a| c.lazyfree_lazy_user_flush = yes_no(a)?,
        |c| show_bool(c.lazyfree_lazy_user_flush)
    ),
    opt!(
        "busy-reply-threshold",
        |c, a| c.busy_reply_threshold = int(a, 0, i64::MAX)?,
        |c| c.busy_reply_threshold.to_string()
    ),
    opt!(
        "slowlog-log-slower-than",
        |c, a| c.slowlog_log_slower_than = int(a, i64::MIN, i64::MAX)?,
        |c| c.slowlog_log_slower_than.to_string()
    ),
    opt!(
        "enable-debug-command",
        |c, a| c.enable_debug_command = Allow::parse(one(a)?)?,
        |c| c.enable_debug_command.name().into()
    ),
    opt!(
        "enable-module-command",
        |c, a| c.enable_module_command = Allow::parse(one(a)?)?,
        |c| c.enable_module_command.name().into()
    ),
    opt!(
        "enable-protected-configs",
        |c, a| c.enable_protected_configs = Allow::parse(one(a)?)?,
        |c| c.enable_protected_configs.name().into()
    ),
    opt!(
        "notify-keyspace-events",
        |c, a| {
            c.notify_keyspace_events = crate::notify::parse(one(a)?)
                .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?
        },
        |c| crate::notify::show(c.notify_keyspace_events)
    ),
    opt!(
        "client-output-buffer-limit",
        |c, a| {
            let words: Vec<&str> = a.iter().flat_map(|w| w.split_whitespace()).collect();
            if words.is_empty() || words.len() % 4 != 0 {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut next = c.output_limits;
            for g in words.chunks(4) {
                let class = match g[0].to_ascii_lowercase().as_str() {
                    "normal" => 0,
                    "slave" | "replica" => 1,
                    "pubsub" => 2,
                    _ => {
                        return Err(
                            "Invalid client class specified in buffer limit configuration.".into(),
                        )
                    }
                };
                let (Some(hard), Some(soft), Some(soft_seconds)) = (
                    parse_memory(g[1]),
                    parse_memory(g[2]),
                    g[3].parse::<u64>().ok(),
                ) else {
                    return Err(
                        "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                            .into(),
                    );
                };
                next[class] = OutputLimit {
                    hard,
                    soft,
                    soft_seconds,
                };
            }
            c.output_limits = next
        },
        |c| {
            c.output_limits
                .iter()
                .zip(OUTPUT_CLASSES)
                .map(|(l, n)| format!("{n} {} {} {}", l.hard, l.soft, l.soft_seconds))
                .collect::<Vec<_>>()
                .join(" ")
        }
    ),
    opt!(
        "latency-tracking",
        |c, a| c.latency_tracking = yes_no(a)?,
        |c| show_bool(c.latency_tracking)
    ),
    opt!(
        "latency-tracking-info-percentiles",
        |c, a| c.latency_percentiles = parse_percentiles(a)?,
        |c| c
            .latency_percentiles
            .iter()
            .map(|p| show_percentile(*p))
            .collect::<Vec<_>>()
            .join(" ")
    ),
    opt!("aclfile", |c, a| c.aclfile = one(a)?.to_string(), |c| c
        .aclfile
        .clone()),
    opt!(
        "acl-pubsub-default",
        |c, a| c.acl_pubsub_all = one(a)?.eq_ignore_ascii_case("allchannels"),
        |c| if c.acl_pubsub_all {
            "allchannels"
        } else {
            "resetchannels"
        }
        .into()
    ),
    opt!(
        "slowlog-max-len",
        |c, a| c.slowlog_max_len = int(a, 0, i64::MAX)?,
        |c| c.slowlog_max_len.to_string()
    ),
];

/// The accessors of a parameter soquete implements.
pub fn find(name: &str) -> Option<&'static OptSpec> {
    OPTIONS.iter().find(|o| o.name.eq_ignore_ascii_case(name))
}

impl Config {
    /// Applies one parameter given by either of its names (from the config
    /// file, the command line or CONFIG SET); the error text is Redis's
    /// where Redis has one.
    pub fn set(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        let Some((p, _)) = params::lookup(name) else {
            return Err("Bad directive or wrong number of arguments".into());
        };
        let value = p.kind.normalize(args, p.has(params::MULTI_ARG))?;
        match p.support {
            Support::Native => {
                let o = find(p.name).ok_or("Bad directive or wrong number of arguments")?;
                if matches!(p.kind, Kind::Special) {
                    (o.set)(self, args)
                } else {
                    (o.set)(self, std::slice::from_ref(&value))
                }
            }
            Support::Stored => {
                if let Some(slot) = self.passthrough.iter_mut().find(|(n, _)| *n == p.name) {
                    slot.1 = value;
                }
                Ok(())
            }
            Support::Unsupported if same_value(p, &value) => Ok(()),
            Support::Unsupported => Err(unsupported(p)),
        }
    }

    /// The value of a parameter, as CONFIG GET shows it.
    pub fn get(&self, p: &Param) -> String {
        match p.support {
            Support::Native => {
                find(p.name).map_or_else(|| p.default.to_string(), |o| (o.get)(self))
            }
            Support::Stored => self
                .passthrough
                .iter()
                .find(|(n, _)| *n == p.name)
                .map_or_else(|| p.default.to_string(), |(_, v)| v.clone()),
            Support::Unsupported => p.default.to_string(),
        }
    }

    /// The value of a parameter by either of its names.
    pub fn get_by_name(&self, name: &str) -> Option<String> {
        params::lookup(name).map(|(p, _)| self.get(p))
    }

    /// Every name (aliases too) and its current value.
    pub fn all(&self) -> Vec<(&'static str, String)> {
        params::names().map(|(n, p)| (n, self.get(p))).collect()
    }

    /// The value of a stored integer parameter (the encoding thresholds
    /// `hash-max-listpack-entries`, `set-max-intset-entries`...), if set.
    pub fn int_option(&self, name: &str) -> Option<i64> {
        self.passthrough
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.parse().ok())
    }

    /// Applies a configuration file's text (redis.conf format). Errors say
    /// the line, as redis-server does.
    pub fn load_str(&mut self, text: &str) -> Result<(), String> {
        let mut save_seen = false;
        for (i, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let words = split_args(trimmed)
                .ok_or_else(|| fatal(i + 1, trimmed, "Unbalanced quotes in configuration line"))?;
            let Some((name, args)) = words.split_first() else {
                continue;
            };
            if name.eq_ignore_ascii_case("user") && !args.is_empty() {
                let d = crate::acl::file::declare(&words, &self.users, self.acl_pubsub_all)
                    .map_err(|e| fatal(i + 1, trimmed, &e))?;
                self.users.push(d);
                continue;
            }
            if name.eq_ignore_ascii_case("rename-command") {
                self.rename_command(args)
                    .map_err(|e| fatal(i + 1, trimmed, e))?;
                continue;
            }
            if name.eq_ignore_ascii_case("include") {
                return Err(fatal(
                    i + 1,
                    trimmed,
                    "include is not supported: put every option in one file",
                ));
            }
            // Several `save` lines add up, as in Redis; the first one
            // replaces the default.
            let prior = if name.eq_ignore_ascii_case("save") && save_seen {
                std::mem::take(&mut self.save)
            } else {
                String::new()
            };
            save_seen |= name.eq_ignore_ascii_case("save");
            self.set(name, args)
                .map_err(|e| fatal(i + 1, trimmed, &e))?;
            if !prior.is_empty() && !self.save.is_empty() {
                self.save = format!("{prior} {}", self.save);
            }
        }
        Ok(())
    }

    /// A `rename-command old new` line: checked against the renames before
    /// it (as Redis applies each line as it reads it) and kept.
    fn rename_command(&mut self, args: &[String]) -> Result<(), &'static str> {
        let [from, to] = args else {
            return Err("Bad directive or wrong number of arguments");
        };
        self.rename_commands.push((from.clone(), to.clone()));
        if let Err((_, e)) = crate::cmd::names::Names::with_renames(&self.rename_commands) {
            self.rename_commands.pop();
            return Err(e);
        }
        Ok(())
    }

    /// Parses the command line: `[config-file] [--name value ...]`, as
    /// redis-server does (the options are appended to the file's text).
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        let mut config = Config::default();
        let mut rest = args;
        let mut text = String::new();
        if let Some(first) = rest.first() {
            if !first.starts_with("--") {
                text = if first == "-" {
                    let mut s = String::new();
                    std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                        .map_err(|e| format!("Can't read config from stdin: {e}"))?;
                    s
                } else {
                    std::fs::read_to_string(first).map_err(|e| {
                        format!("Fatal error, can't open config file '{first}': {e}")
                    })?
                };
                text.push('\n');
                rest = &rest[1..];
            }
        }
        // --name v1 v2 --other v  =>  "name v1 v2\nother v"
        let mut line = String::new();
        for a in rest {
            if let Some(name) = a.strip_prefix("--") {
                if !line.is_empty() {
                    text.push_str(&line);
                    text.push('\n');
                }
                line = name.to_string();
            } else {
                if line.is_empty() {
                    return Err(format!(
                        "Invalid option '{a}': options are given as --name value"
                    ));
                }
                line.push(' ');
                line.push_str(&quote(a));
            }
        }
        if !line.is_empty() {
            text.push_str(&line);
            text.push('\n');
        }
        config.load_str(&text)?;
        Ok(config)
    }

    /// Where the ACL file is (`aclfile` under `dir`), if one is set.
    pub fn aclfile_path(&self) -> Option<PathBuf> {
        (!self.aclfile.is_empty()).then(|| self.dir.join(&self.aclfile))
    }

    /// Number of event loops to run.
    pub fn loop_count(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

/// True when `value` (normalized) is the parameter's default; multi-word
/// values compare word by word.
fn same_value(p: &Param, value: &str) -> bool {
    value.split_whitespace().eq(p.default.split_whitespace())
}

/// The refusal of a value for a parameter soquete does not implement.
pub fn unsupported(p: &Param) -> String {
    format!(
        "soquete does not support '{}' yet: only its default value, '{}', is accepted",
        p.name, p.default
    )
}

fn fatal(line: usize, text: &str, why: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (soquete {}) ***\nReading the configuration file, at line {line}\n>>> '{text}'\n{why}",
        env!("CARGO_PKG_VERSION")
    )
}

/// Quotes a command-line value so [`split_args`] reads it back verbatim.
fn quote(a: &str) -> String {
    let mut s = String::with_capacity(a.len() + 2);
    s.push('"');
    for ch in a.chars() {
        match ch {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// Splits a config line into words with Redis's `sdssplitargs` quoting
/// ([`crate::util::split_args`]). `None` for unbalanced quotes.
pub fn split_args(line: &str) -> Option<Vec<String>> {
    let words = crate::util::split_args::split_args(line.as_bytes())?;
    Some(
        words
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn latency_percentiles_parse_and_show_as_redis() {
        let mut c = Config::default();
        assert_eq!(
            c.get_by_name("latency-tracking-info-percentiles").unwrap(),
            "50 99 99.9"
        );
        c.set("latency-tracking-info-percentiles", &args(&["0 12.5 100"]))
            .unwrap();
        assert_eq!(c.latency_percentiles, vec![0.0, 12.5, 100.0]);
        assert_eq!(
            c.get_by_name("latency-tracking-info-percentiles").unwrap(),
            "0 12.5 100"
        );
        c.set("latency-tracking-info-percentiles", &args(&[""]))
            .unwrap();
        assert!(c.latency_percentiles.is_empty());
        assert_eq!(
            c.set("latency-tracking-info-percentiles", &args(&["50 100.1"])),
            Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into()
            )
        );
        assert_eq!(
            c.set("latency-tracking-info-percentiles", &args(&["x"])),
            Err("Invalid latency-tracking-info-percentiles parameters".into())
        );
        c.set("latency-tracking", &args(&["no"])).unwrap();
        assert!(!c.latency_tracking);
    }

    #[test]
    fn defaults_match_redis() {
        let c = Config::default();
        assert_eq!((c.port, c.maxclients, c.databases), (6379, 10_000, 16));
        assert_eq!(c.proto_max_bulk_len, 536_870_912);
        assert_eq!(c.client_query_buffer_limit, 1_073_741_824);
    }

    #[test]
    fn command_line_like_redis_server() {
        let c = Config::from_args(&args(&[
            "--port",
            "7000",
            "--bind",
            "127.0.0.1",
            "::1",
            "--save",
            "",
        ]))
        .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.bind, vec!["127.0.0.1", "::1"]);
        assert_eq!(c.save, "");
    }

    #[test]
    fn unknown_option_is_an_error_naming_it() {
        let e = Config::from_args(&args(&["--frobnicate", "yes"])).unwrap_err();
        assert!(
            e.contains("frobnicate") && e.contains("Bad directive"),
            "{e}"
        );
        let e = Config::from_args(&args(&["--port", "abc"])).unwrap_err();
        assert!(e.contains("port") && e.contains("integer"), "{e}");
    }

    #[test]
    fn output_limits_and_notifications_are_typed_options() {
        let mut c = Config::default();
        c.set(
            "client-output-buffer-limit",
            &["pubsub 1mb 256kb 1".to_string()],
        )
        .unwrap();
        assert_eq!(
            c.output_limits[2],
            OutputLimit {
                hard: 1 << 20,
                soft: 256 << 10,
                soft_seconds: 1
            }
        );
        let shown = c
            .all()
            .into_iter()
            .find(|(n, _)| *n == "client-output-buffer-limit")
            .unwrap()
            .1;
        assert_eq!(
            shown,
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 262144 1"
        );
        assert!(c
            .set("client-output-buffer-limit", &["bogus 1 2 3".to_string()])
            .is_err());
        c.set("notify-keyspace-events", &["KEA".to_string()])
            .unwrap();
        assert_eq!(
            c.notify_keyspace_events,
            crate::notify::parse("AKE").unwrap()
        );
        assert!(c
            .set("notify-keyspace-events", &["xyz".to_string()])
            .is_err());
    }

    #[test]
    fn rename_command_lines_are_kept_in_order_and_checked_as_read() {
        let c = Config::from_args(&args(&[
            "--rename-command",
            "get",
            "fetch",
            "--rename-command",
            "flushall",
            "",
        ]))
        .unwrap();
        assert_eq!(
            c.rename_commands,
            vec![
                ("get".to_string(), "fetch".to_string()),
                ("flushall".to_string(), String::new())
            ]
        );
        let mut c = Config::default();
        let e = c
            .load_str("rename-command get a\nrename-command get b\n")
            .unwrap_err();
        assert!(
            e.contains("at line 2") && e.ends_with("No such command in rename-command"),
            "{e}"
        );
        let e = Config::default()
            .load_str("rename-command get\n")
            .unwrap_err();
        assert!(
            e.ends_with("Bad directive or wrong number of arguments"),
            "{e}"
        );
    }

    #[test]
    fn only_unix_sockets_127_0_0_1_and_ipv6_loopback_are_local() {
        let ip = |s: &str| Some(s.parse().unwrap());
        assert!(is_local(true, None));
        assert!(is_local(false, ip("127.0.0.1")));
        assert!(is_local(false, ip("::1")));
        assert!(!is_local(false, ip("127.0.0.2")));
        assert!(!is_local(false, ip("::ffff:127.0.0.1")));
        assert!(!is_local(false, ip("192.0.2.2")));
        assert!(!is_local(false, None));
        assert!(Allow::Yes.permits(false));
        assert!(Allow::Local.permits(true) && !Allow::Local.permits(false));
        assert!(!Allow::No.permits(true));
        assert_eq!(Allow::parse("LOCAL"), Ok(Allow::Local));
        assert!(Allow::parse("maybe").is_err());
    }

    #[test]
    fn ziplist_names_are_aliases_of_the_listpack_ones() {
        let mut c = Config::default();
        c.set("zset-max-ziplist-entries", &["5".to_string()])
            .unwrap();
        assert_eq!(c.int_option("zset-max-listpack-entries"), Some(5));
        let all = c.all();
        for name in ["zset-max-ziplist-entries", "zset-max-listpack-entries"] {
            assert!(all.iter().any(|(n, v)| *n == name && v == "5"), "{name}");
        }
        assert_eq!(
            c.get_by_name("LIST-MAX-ZIPLIST-SIZE").as_deref(),
            Some("-2")
        );
    }

    #[test]
    fn save_lines_in_a_file_add_up() {
        let mut c = Config::default();
        c.load_str("save 900 1\nsave 300 10\n").unwrap();
        assert_eq!(c.save, "900 1 300 10");
        c.load_str("save \"\"\n").unwrap();
        assert_eq!(c.save, "");
        assert!(c.set("save", &["0 1".to_string()]).is_err());
    }

    #[test]
    fn unsupported_parameters_accept_only_their_default() {
        let mut c = Config::default();
        c.load_str("repl-timeout 60\ncluster-enabled no\nslave-read-only yes\n")
            .unwrap();
        let e = c.set("repl-timeout", &["61".to_string()]).unwrap_err();
        assert!(e.contains("soquete does not support 'repl-timeout'"), "{e}");
        let e = c.set("repl-timeout", &["x".to_string()]).unwrap_err();
        assert_eq!(e, "argument couldn't be parsed into an integer");
        assert_eq!(c.get_by_name("slaveof").as_deref(), Some(""));
        assert_eq!(c.get_by_name("repl-timeout").as_deref(), Some("60"));
    }

    #[test]
    fn a_stock_redis_conf_loads() {
        let text = include_str!("../../testdata/debian-redis-7.0.15.conf");
        let mut c = Config::default();
        c.load_str(text).unwrap();
        assert_eq!(c.dir, PathBuf::from("/var/lib/redis"));
        assert_eq!(c.get_by_name("repl-diskless-sync").as_deref(), Some("yes"));
        assert_eq!(c.output_limits, Config::default().output_limits);
    }

    #[test]
    fn native_defaults_are_the_table_defaults() {
        let c = Config::default();
        for p in params::PARAMS
            .iter()
            .filter(|p| p.support != Support::Unsupported)
        {
            if matches!(p.name, "dir" | "io-threads") {
                continue;
            }
            assert_eq!(c.get(p), p.default, "{}", p.name);
        }
        for o in OPTIONS {
            let (p, _) = params::lookup(o.name).expect("every accessor has a row");
            assert_eq!(p.support, Support::Native, "{}", o.name);
        }
        for p in params::PARAMS
            .iter()
            .filter(|p| p.support == Support::Native)
        {
            assert!(find(p.name).is_some(), "{} has no accessors", p.name);
        }
    }

    #[test]
    fn split_args_quotes() {
        assert_eq!(split_args(r#"save "" "#).unwrap(), vec!["save", ""]);
        assert_eq!(
            split_args(r#"a "b c" 'd e' "\x41\n""#).unwrap(),
            vec!["a", "b c", "d e", "A\n"]
        );
        assert_eq!(split_args(r#"a "b"c"#), None);
        assert_eq!(split_args(r#"a "b"#), None);
    }

    #[test]
    fn config_file_text() {
        let mut c = Config::default();
        c.load_str("# comment\nport 7001\nhash-max-listpack-entries 64\nsave 900 1\n")
            .unwrap();
        assert_eq!(c.port, 7001);
        assert_eq!(c.save, "900 1");
        assert!(c
            .all()
            .iter()
            .any(|(n, v)| *n == "hash-max-listpack-entries" && v == "64"));
    }
}
