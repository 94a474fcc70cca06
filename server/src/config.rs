//! Configuration: the same option names, file format and command line as
//! `redis-server`, for what soquete supports.
//!
//! Every option is one row of [`OPTIONS`]: its name, how to parse it, how
//! CONFIG GET shows it, and whether CONFIG SET may change it at runtime. An
//! unknown option or a bad value is an error naming it; nothing is silently
//! ignored. Options Redis has for features soquete does not implement are
//! rejected, except persistence settings that describe what we do anyway
//! (`save ""`, `appendonly no`) and settings that only tune Redis's own
//! encodings: those are accepted, reported by CONFIG GET, and logged.

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
    /// Memory limit (0 = none; soquete does not evict, see README).
    pub maxmemory: u64,
    /// Eviction policy (only `noeviction` is implemented).
    pub maxmemory_policy: String,
    /// FLUSHALL/FLUSHDB without a mode frees memory in the background.
    pub lazyfree_lazy_user_flush: bool,
    /// SLOWLOG threshold in microseconds (negative disables).
    pub slowlog_log_slower_than: i64,
    /// SLOWLOG length.
    pub slowlog_max_len: u64,
    /// `client-output-buffer-limit` for the normal, replica and pubsub
    /// classes.
    pub output_limits: [OutputLimit; 3],
    /// `notify-keyspace-events` flags (see [`crate::notify`]).
    pub notify_keyspace_events: u32,
    /// DEBUG allowed: `yes`, `no` or `local` (loopback/Unix clients only).
    pub enable_debug_command: String,
    /// Options accepted for compatibility that only tune Redis internals,
    /// kept verbatim for CONFIG GET.
    pub passthrough: Vec<(&'static str, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into(), "-::1".into()],
            unixsocket: None,
            unixsocketperm: 0,
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
            save: String::new(),
            dbfilename: "dump.rdb".into(),
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            lazyfree_lazy_user_flush: false,
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            enable_debug_command: "no".into(),
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
            passthrough: PASSTHROUGH
                .iter()
                .map(|(n, v)| (*n, v.to_string()))
                .collect(),
        }
    }
}

/// Redis 7's old names for the encoding thresholds: the same option under
/// two names (setting one changes both, CONFIG GET answers to both).
const ALIASES: &[(&str, &str)] = &[
    ("hash-max-ziplist-entries", "hash-max-listpack-entries"),
    ("hash-max-ziplist-value", "hash-max-listpack-value"),
    ("list-max-ziplist-size", "list-max-listpack-size"),
    ("zset-max-ziplist-entries", "zset-max-listpack-entries"),
    ("zset-max-ziplist-value", "zset-max-listpack-value"),
];

/// The canonical name of an option given by either of its names.
fn canonical(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    ALIASES
        .iter()
        .find(|(old, _)| *old == lower)
        .map_or(lower, |(_, new)| new.to_string())
}

/// Options that tune Redis's internal encodings or features whose absence
/// changes no reply: accepted and reported with their Redis defaults.
const PASSTHROUGH: &[(&str, &str)] = &[
    ("hash-max-listpack-entries", "512"),
    ("hash-max-listpack-value", "64"),
    ("list-max-listpack-size", "-2"),
    ("list-compress-depth", "0"),
    ("set-max-intset-entries", "512"),
    ("zset-max-listpack-entries", "128"),
    ("zset-max-listpack-value", "64"),
    ("activerehashing", "yes"),
    ("dynamic-hz", "yes"),
    ("lazyfree-lazy-eviction", "no"),
    ("lazyfree-lazy-expire", "no"),
    ("lazyfree-lazy-server-del", "no"),
    ("replica-lazy-flush", "no"),
    ("lazyfree-lazy-user-del", "no"),
    ("appendfsync", "everysec"),
    ("appendfilename", "appendonly.aof"),
    ("rdbcompression", "yes"),
    ("rdbchecksum", "yes"),
    ("stop-writes-on-bgsave-error", "yes"),
    ("always-show-logo", "no"),
    ("set-proc-title", "yes"),
    ("supervised", "no"),
    ("latency-monitor-threshold", "0"),
    ("jemalloc-bg-thread", "yes"),
    ("maxmemory-samples", "5"),
    ("maxmemory-eviction-tenacity", "10"),
];

/// One configuration option.
pub struct OptSpec {
    /// Its name (lower case).
    pub name: &'static str,
    /// CONFIG SET may change it at runtime.
    pub mutable: bool,
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

/// Parses a memory size as Redis's `memtoull`: digits with an optional unit
/// k/kb/m/mb/g/gb (k = 1000, kb = 1024), case-insensitive.
pub fn parse_memory(v: &str) -> Option<u64> {
    let lower = v.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mul)
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

fn show_bool(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

macro_rules! opt {
    ($name:literal, $mutable:literal, |$c:ident, $a:ident| $set:expr, |$g:ident| $get:expr) => {
        OptSpec {
            name: $name,
            mutable: $mutable,
            set: |$c: &mut Config, $a: &[String]| -> Result<(), String> {
                $set;
                Ok(())
            },
            get: |$g: &Config| -> String { $get },
        }
    };
}

/// Every option soquete understands.
pub static OPTIONS: &[OptSpec] = &[
    opt!("port", false, |c, a| c.port = int(a, 0, 65535)?, |c| c
        .port
        .to_string()),
    opt!(
        "bind",
        false,
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
        false,
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
        false,
        |c, a| {
            c.unixsocketperm = u32::from_str_radix(one(a)?, 8)
                .ok()
                .filter(|p| *p <= 0o777)
                .ok_or("argument must be an octal number between 0 and 777")?
        },
        |c| format!("{:o}", c.unixsocketperm)
    ),
    opt!(
        "requirepass",
        true,
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
        true,
        |c, a| c.maxclients = int(a, 1, i32::MAX as i64)?,
        |c| c.maxclients.to_string()
    ),
    opt!(
        "databases",
        false,
        |c, a| c.databases = int(a, 1, i32::MAX as i64)?,
        |c| c.databases.to_string()
    ),
    opt!(
        "timeout",
        true,
        |c, a| c.timeout = int(a, 0, i32::MAX as i64)?,
        |c| c.timeout.to_string()
    ),
    opt!(
        "tcp-keepalive",
        true,
        |c, a| c.tcp_keepalive = int(a, 0, i32::MAX as i64)?,
        |c| c.tcp_keepalive.to_string()
    ),
    opt!("threads", false, |c, a| c.threads = int(a, 0, 1024)?, |c| c
        .threads
        .to_string()),
    opt!(
        "busy-poll",
        true,
        |c, a| c.busy_poll = int(a, 0, 1_000_000)?,
        |c| c.busy_poll.to_string()
    ),
    opt!(
        "io-threads",
        false,
        |c, a| c.threads = int(a, 1, 128)?,
        |c| c.threads.to_string()
    ),
    opt!(
        "client-query-buffer-limit",
        true,
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
        true,
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
        true,
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
    opt!(
        "logfile",
        false,
        |c, a| c.logfile = one(a)?.to_string(),
        |c| c.logfile.clone()
    ),
    opt!(
        "protected-mode",
        true,
        |c, a| c.protected_mode = yes_no(a)?,
        |c| show_bool(c.protected_mode)
    ),
    opt!(
        "hz",
        true,
        |c, a| c.hz = int::<i64>(a, i64::MIN, i64::MAX)?.clamp(1, 500) as u32,
        |c| c.hz.to_string()
    ),
    opt!(
        "tcp-backlog",
        false,
        |c, a| c.tcp_backlog = int(a, 0, i32::MAX as i64)?,
        |c| c.tcp_backlog.to_string()
    ),
    opt!(
        "pidfile",
        false,
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
    opt!("dir", true, |c, a| c.dir = PathBuf::from(one(a)?), |c| {
        std::fs::canonicalize(&c.dir)
            .unwrap_or_else(|_| c.dir.clone())
            .display()
            .to_string()
    }),
    opt!(
        "save",
        true,
        |c, a| {
            // `save ""` or `save "3600 1 300 100"` or `save 3600 1 300 100`.
            let words: Vec<&str> = a.iter().flat_map(|w| w.split_whitespace()).collect();
            if words.len() % 2 != 0 || words.iter().any(|w| w.parse::<u64>().is_err()) {
                return Err("Invalid save parameters".into());
            }
            c.save = words.join(" ")
        },
        |c| c.save.clone()
    ),
    opt!(
        "appendonly",
        true,
        |_c, a| {
            if yes_no(a)? {
                return Err(
                    "soquete keeps no append-only file: only 'appendonly no' is supported".into(),
                );
            }
        },
        |_c| "no".into()
    ),
    opt!(
        "daemonize",
        false,
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
        true,
        |c, a| c.dbfilename = one(a)?.to_string(),
        |c| c.dbfilename.clone()
    ),
    opt!("maxmemory", true, |c, a| c.maxmemory = memory(a)?, |c| c
        .maxmemory
        .to_string()),
    opt!(
        "maxmemory-policy",
        true,
        |c, a| {
            let v = one(a)?.to_ascii_lowercase();
            match v.as_str() {
            "noeviction" => {}
            "volatile-lru" | "volatile-lfu" | "volatile-random" | "volatile-ttl" | "allkeys-lru"
            | "allkeys-lfu" | "allkeys-random" => {
                return Err("soquete does not evict keys: only 'noeviction' is supported".into())
            }
            _ => return Err("argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction".into()),
        }
            c.maxmemory_policy = v
        },
        |c| c.maxmemory_policy.clone()
    ),
    opt!(
        "lazyfree-lazy-user-flush",
        true,
        |c, a| c.lazyfree_lazy_user_flush = yes_no(a)?,
        |c| show_bool(c.lazyfree_lazy_user_flush)
    ),
    opt!(
        "slowlog-log-slower-than",
        true,
        |c, a| c.slowlog_log_slower_than = int(a, i64::MIN, i64::MAX)?,
        |c| c.slowlog_log_slower_than.to_string()
    ),
    opt!(
        "enable-debug-command",
        false,
        |c, a| {
            let v = one(a)?.to_ascii_lowercase();
            if !matches!(v.as_str(), "yes" | "no" | "local") {
                return Err("argument(s) must be one of the following: no, yes, local".into());
            }
            c.enable_debug_command = v
        },
        |c| c.enable_debug_command.clone()
    ),
    opt!(
        "notify-keyspace-events",
        true,
        |c, a| {
            c.notify_keyspace_events = crate::notify::parse(one(a)?)
                .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?
        },
        |c| crate::notify::show(c.notify_keyspace_events)
    ),
    opt!(
        "client-output-buffer-limit",
        true,
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
        "slowlog-max-len",
        true,
        |c, a| c.slowlog_max_len = int(a, 0, i64::MAX)?,
        |c| c.slowlog_max_len.to_string()
    ),
];

/// Looks up an option by name (case-insensitive), including the accepted
/// pass-through ones, which are handled by [`Config::set`].
pub fn find(name: &str) -> Option<&'static OptSpec> {
    OPTIONS.iter().find(|o| o.name.eq_ignore_ascii_case(name))
}

impl Config {
    /// Applies one option; the error text is Redis's where Redis has one.
    pub fn set(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        if let Some(o) = find(name) {
            return (o.set)(self, args);
        }
        let lower = canonical(name);
        if let Some(slot) = self.passthrough.iter_mut().find(|(n, _)| *n == lower) {
            slot.1 = args.join(" ");
            return Ok(());
        }
        Err("Bad directive or wrong number of arguments".into())
    }

    /// Every option name and its current value, for CONFIG GET.
    pub fn all(&self) -> Vec<(&'static str, String)> {
        let mut v: Vec<_> = OPTIONS.iter().map(|o| (o.name, (o.get)(self))).collect();
        v.extend(self.passthrough.iter().cloned());
        for (old, new) in ALIASES {
            if let Some((_, value)) = self.passthrough.iter().find(|(n, _)| n == new) {
                v.push((old, value.clone()));
            }
        }
        v
    }

    /// The value of a pass-through integer option (the encoding thresholds
    /// `hash-max-listpack-entries`, `set-max-intset-entries`...), if set.
    pub fn int_option(&self, name: &str) -> Option<i64> {
        self.passthrough
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.parse().ok())
    }

    /// True when `name` may be changed by CONFIG SET.
    pub fn is_mutable(name: &str) -> Option<bool> {
        if let Some(o) = find(name) {
            return Some(o.mutable);
        }
        let name = canonical(name);
        PASSTHROUGH.iter().any(|(n, _)| *n == name).then_some(true)
    }

    /// Applies a configuration file's text (redis.conf format). Errors say
    /// the line, as redis-server does.
    pub fn load_str(&mut self, text: &str) -> Result<(), String> {
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
            if name.eq_ignore_ascii_case("include") {
                return Err(fatal(
                    i + 1,
                    trimmed,
                    "include is not supported: put every option in one file",
                ));
            }
            self.set(name, args)
                .map_err(|e| fatal(i + 1, trimmed, &e))?;
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

    /// Number of event loops to run.
    pub fn loop_count(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
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

/// Splits a config line into words with Redis's `sdssplitargs` quoting.
/// `None` for unbalanced quotes.
pub fn split_args(line: &str) -> Option<Vec<String>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == b.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i == b.len() {
                    return None;
                }
                if b[i] == b'\\'
                    && i + 3 < b.len()
                    && b[i + 1] == b'x'
                    && b[i + 2].is_ascii_hexdigit()
                    && b[i + 3].is_ascii_hexdigit()
                {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).ok()?;
                    cur.push(u8::from_str_radix(hex, 16).ok()?);
                    i += 3;
                } else if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    cur.push(match b[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if b[i] == b'"' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    inq = false;
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else if insq {
                if i == b.len() {
                    return None;
                }
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if b[i] == b'\'' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    insq = false;
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else {
                if i == b.len() {
                    break;
                }
                match b[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        let _ = (inq, insq);
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
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
    fn ziplist_names_are_aliases_of_the_listpack_ones() {
        let mut c = Config::default();
        c.set("zset-max-ziplist-entries", &["5".to_string()])
            .unwrap();
        assert_eq!(c.int_option("zset-max-listpack-entries"), Some(5));
        let all = c.all();
        for name in ["zset-max-ziplist-entries", "zset-max-listpack-entries"] {
            assert!(all.iter().any(|(n, v)| *n == name && v == "5"), "{name}");
        }
        assert_eq!(Config::is_mutable("LIST-MAX-ZIPLIST-SIZE"), Some(true));
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("1G"), Some(1_000_000_000));
        assert_eq!(parse_memory("512mb"), Some(512 << 20));
        assert_eq!(parse_memory("12"), Some(12));
        assert_eq!(parse_memory("1xb"), None);
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
