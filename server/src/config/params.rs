//! The table of every configuration parameter Redis 7.0.15 has, and how
//! soquete treats each one.
//!
//! One row per parameter: its name, its alias (Redis 7 keeps the old names
//! such as `slaveof` and `hash-max-ziplist-entries` as aliases), the kind of
//! value it takes (which decides how a value is checked, shown, and written
//! back by CONFIG REWRITE, with Redis's error texts), its default as CONFIG
//! GET shows it, flags, and what soquete does with it:
//!
//! * [`Support::Native`]: soquete implements it; the value lives in a typed
//!   field of [`Config`](super::Config) (accessors in `super::OPTIONS`).
//! * [`Support::Stored`]: the value is checked and kept, CONFIG GET shows it;
//!   it tunes encodings (the listpack thresholds), is read where it is used
//!   (the `tls-*` parameters, by [`crate::tls`]), or describes something
//!   whose absence changes no reply.
//! * [`Support::Unsupported`]: a Redis feature soquete does not have. CONFIG
//!   GET shows Redis's default; setting it to that default is accepted (a
//!   redis.conf that spells defaults out still loads), any other value is
//!   refused with a message that says soquete does not support it.
//!
//! The rows were taken from `static_configs` in Redis 7.0.15's `config.c`,
//! and the defaults from `CONFIG GET *` on a real redis-server 7.0.15. Where
//! soquete's own default differs for a parameter it implements (`bind`,
//! `save`), the row has soquete's.

/// The parameter cannot be changed by CONFIG SET (Redis's
/// `IMMUTABLE_CONFIG`): `can't set immutable config`.
pub const IMMUTABLE: u8 = 1;
/// Only an exact name finds it in CONFIG GET, never a pattern (Redis's
/// `HIDDEN_CONFIG`; soquete's own parameters are hidden too, so that
/// `CONFIG GET *` lists what Redis lists).
pub const HIDDEN: u8 = 2;
/// The value is several words (`save 3600 1`, `bind a b`).
pub const MULTI_ARG: u8 = 4;
/// A secret (`requirepass`).
pub const SENSITIVE: u8 = 8;
/// Redis refuses CONFIG SET unless `enable-protected-configs` allows it.
pub const PROTECTED: u8 = 16;
/// Redis can change it at runtime but soquete cannot yet: CONFIG SET to
/// another value is refused (`port`, `bind`).
pub const FIXED: u8 = 32;

/// What soquete does with a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Implemented: a typed field of the config.
    Native,
    /// Checked and kept verbatim; see the module docs.
    Stored,
    /// Not implemented: only Redis's default is accepted.
    Unsupported,
}

/// How a number is written (Redis's numeric config flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumForm {
    /// Decimal digits.
    Plain,
    /// A memory size: digits with an optional unit (`1gb`, `512k`).
    Memory,
    /// Octal digits (`unixsocketperm`).
    Octal,
    /// A memory size, or a percentage (`10%`, kept as -10).
    MemoryOrPercent,
}

/// The kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `yes` or `no`.
    Bool,
    /// A string; `null_if_empty` when an empty value means "unset" (such a
    /// parameter is left out of a rewritten file).
    Str {
        /// Empty means unset.
        null_if_empty: bool,
    },
    /// One of a fixed set of names (several, for a `MULTI_ARG` one).
    Enum(&'static [&'static str]),
    /// An integer within bounds.
    Num {
        /// Smallest accepted.
        min: i128,
        /// Largest accepted.
        max: i128,
        /// Checked as an unsigned type in Redis (negative values are out of
        /// range, and the message says so).
        unsigned: bool,
        /// How it is written.
        form: NumForm,
    },
    /// Parsed by its own code (`save`, `bind`, `client-output-buffer-limit`...).
    Special,
}

/// One configuration parameter.
#[derive(Debug)]
pub struct Param {
    /// Its name.
    pub name: &'static str,
    /// Its other name, if any.
    pub alias: Option<&'static str>,
    /// What values it takes.
    pub kind: Kind,
    /// Its default, as CONFIG GET shows it.
    pub default: &'static str,
    /// [`IMMUTABLE`], [`HIDDEN`]...
    pub flags: u8,
    /// What soquete does with it.
    pub support: Support,
}

impl Param {
    /// True when `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

const fn row(
    name: &'static str,
    alias: Option<&'static str>,
    kind: Kind,
    default: &'static str,
    flags: u8,
    support: Support,
) -> Param {
    Param {
        name,
        alias,
        kind,
        default,
        flags,
        support,
    }
}

const fn num(min: i128, max: i128, unsigned: bool, form: NumForm) -> Kind {
    Kind::Num {
        min,
        max,
        unsigned,
        form,
    }
}
const fn int(min: i128, max: i128) -> Kind {
    num(min, max, false, NumForm::Plain)
}
const fn uint(min: i128, max: i128) -> Kind {
    num(min, max, true, NumForm::Plain)
}
const fn mem(min: i128, max: i128) -> Kind {
    num(min, max, false, NumForm::Memory)
}
const fn umem(min: i128, max: i128) -> Kind {
    num(min, max, true, NumForm::Memory)
}
const fn octal(min: i128, max: i128) -> Kind {
    num(min, max, true, NumForm::Octal)
}
const fn percent(min: i128, max: i128) -> Kind {
    num(min, max, false, NumForm::MemoryOrPercent)
}
const BOOL: Kind = Kind::Bool;
const STR: Kind = Kind::Str {
    null_if_empty: false,
};
const STR_OR_NULL: Kind = Kind::Str {
    null_if_empty: true,
};
const SPECIAL: Kind = Kind::Special;

use Support::{Native, Stored, Unsupported};

const MAXMEMORY_POLICY: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];
const SYSLOG_FACILITY: &[&str] = &[
    "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];
const LOGLEVEL: &[&str] = &["debug", "verbose", "notice", "warning"];
const SUPERVISED_MODE: &[&str] = &["upstart", "systemd", "auto", "no"];
const AOF_FSYNC: &[&str] = &["everysec", "always", "no"];
const SHUTDOWN_ON_SIG: &[&str] = &["default", "save", "nosave", "now", "force"];
const REPL_DISKLESS_LOAD: &[&str] = &["disabled", "on-empty-db", "swapdb"];
const TLS_AUTH_CLIENTS: &[&str] = &["no", "yes", "optional"];
const OOM_SCORE_ADJ: &[&str] = &["no", "yes", "relative", "absolute"];
const ACL_PUBSUB_DEFAULT: &[&str] = &["allchannels", "resetchannels"];
const SANITIZE_DUMP_PAYLOAD: &[&str] = &["no", "yes", "clients"];
const PROTECTED_ACTION: &[&str] = &["no", "yes", "local"];
const CLUSTER_PREFERRED_ENDPOINT_TYPE: &[&str] = &["ip", "hostname", "unknown-endpoint"];
const PROPAGATION_ERROR_BEHAVIOR: &[&str] = &["ignore", "panic", "panic-on-replicas"];

/// Every parameter, in the order of Redis's `static_configs`, then
/// soquete's own.
pub static PARAMS: &[Param] = &[
    row("rdbchecksum", None, BOOL, "yes", IMMUTABLE, Stored),
    row("daemonize", None, BOOL, "no", IMMUTABLE, Native),
    row(
        "io-threads-do-reads",
        None,
        BOOL,
        "no",
        IMMUTABLE,
        Unsupported,
    ),
    row("always-show-logo", None, BOOL, "no", IMMUTABLE, Stored),
    row("protected-mode", None, BOOL, "yes", 0, Native),
    row("rdbcompression", None, BOOL, "yes", 0, Stored),
    row("rdb-del-sync-files", None, BOOL, "no", 0, Stored),
    row("activerehashing", None, BOOL, "yes", 0, Stored),
    row("stop-writes-on-bgsave-error", None, BOOL, "yes", 0, Stored),
    row("set-proc-title", None, BOOL, "yes", IMMUTABLE, Stored),
    row("dynamic-hz", None, BOOL, "yes", 0, Stored),
    row("lazyfree-lazy-eviction", None, BOOL, "no", 0, Stored),
    row("lazyfree-lazy-expire", None, BOOL, "no", 0, Stored),
    row("lazyfree-lazy-server-del", None, BOOL, "no", 0, Stored),
    row("lazyfree-lazy-user-del", None, BOOL, "no", 0, Stored),
    row("lazyfree-lazy-user-flush", None, BOOL, "no", 0, Native),
    row("repl-disable-tcp-nodelay", None, BOOL, "no", 0, Unsupported),
    row("repl-diskless-sync", None, BOOL, "yes", 0, Unsupported),
    row(
        "aof-rewrite-incremental-fsync",
        None,
        BOOL,
        "yes",
        0,
        Stored,
    ),
    row("no-appendfsync-on-rewrite", None, BOOL, "no", 0, Stored),
    row(
        "cluster-require-full-coverage",
        None,
        BOOL,
        "yes",
        0,
        Unsupported,
    ),
    row(
        "rdb-save-incremental-fsync",
        None,
        BOOL,
        "yes",
        0,
        Unsupported,
    ),
    row("aof-load-truncated", None, BOOL, "yes", 0, Stored),
    row("aof-use-rdb-preamble", None, BOOL, "yes", 0, Stored),
    row("aof-timestamp-enabled", None, BOOL, "no", 0, Stored),
    row(
        "cluster-replica-no-failover",
        Some("cluster-slave-no-failover"),
        BOOL,
        "no",
        0,
        Unsupported,
    ),
    row(
        "replica-lazy-flush",
        Some("slave-lazy-flush"),
        BOOL,
        "no",
        0,
        Stored,
    ),
    row(
        "replica-serve-stale-data",
        Some("slave-serve-stale-data"),
        BOOL,
        "yes",
        0,
        Unsupported,
    ),
    row(
        "replica-read-only",
        Some("slave-read-only"),
        BOOL,
        "yes",
        0,
        Unsupported,
    ),
    row(
        "replica-ignore-maxmemory",
        Some("slave-ignore-maxmemory"),
        BOOL,
        "yes",
        0,
        Unsupported,
    ),
    row("jemalloc-bg-thread", None, BOOL, "yes", 0, Stored),
    row("activedefrag", None, BOOL, "no", 0, Unsupported),
    row("syslog-enabled", None, BOOL, "no", IMMUTABLE, Unsupported),
    row("cluster-enabled", None, BOOL, "no", IMMUTABLE, Unsupported),
    row("appendonly", None, BOOL, "no", 0, Native),
    row(
        "cluster-allow-reads-when-down",
        None,
        BOOL,
        "no",
        0,
        Unsupported,
    ),
    row(
        "cluster-allow-pubsubshard-when-down",
        None,
        BOOL,
        "yes",
        0,
        Unsupported,
    ),
    row("crash-log-enabled", None, BOOL, "yes", 0, Unsupported),
    row("crash-memcheck-enabled", None, BOOL, "yes", 0, Unsupported),
    row("use-exit-on-panic", None, BOOL, "no", HIDDEN, Unsupported),
    row("disable-thp", None, BOOL, "yes", IMMUTABLE, Unsupported),
    row(
        "cluster-allow-replica-migration",
        None,
        BOOL,
        "yes",
        0,
        Unsupported,
    ),
    row("replica-announced", None, BOOL, "yes", 0, Unsupported),
    row("latency-tracking", None, BOOL, "yes", 0, Native),
    row("aof-disable-auto-gc", None, BOOL, "no", 0, Unsupported),
    row(
        "replica-ignore-disk-write-errors",
        None,
        BOOL,
        "no",
        0,
        Unsupported,
    ),
    row("aclfile", None, STR, "", IMMUTABLE, Native),
    row("unixsocket", None, STR_OR_NULL, "", IMMUTABLE, Native),
    row("pidfile", None, STR_OR_NULL, "", IMMUTABLE, Native),
    row(
        "replica-announce-ip",
        Some("slave-announce-ip"),
        STR_OR_NULL,
        "",
        0,
        Unsupported,
    ),
    row("masteruser", None, STR_OR_NULL, "", SENSITIVE, Unsupported),
    row("cluster-announce-ip", None, STR_OR_NULL, "", 0, Unsupported),
    row(
        "cluster-config-file",
        None,
        STR,
        "nodes.conf",
        IMMUTABLE,
        Unsupported,
    ),
    row(
        "cluster-announce-hostname",
        None,
        STR_OR_NULL,
        "",
        0,
        Unsupported,
    ),
    row("syslog-ident", None, STR, "redis", IMMUTABLE, Unsupported),
    row("dbfilename", None, STR, "dump.rdb", PROTECTED, Native),
    row(
        "appendfilename",
        None,
        STR,
        "appendonly.aof",
        IMMUTABLE,
        Stored,
    ),
    row(
        "appenddirname",
        None,
        STR,
        "appendonlydir",
        IMMUTABLE,
        Stored,
    ),
    row(
        "server_cpulist",
        None,
        STR_OR_NULL,
        "",
        IMMUTABLE,
        Unsupported,
    ),
    row("bio_cpulist", None, STR_OR_NULL, "", IMMUTABLE, Unsupported),
    row(
        "aof_rewrite_cpulist",
        None,
        STR_OR_NULL,
        "",
        IMMUTABLE,
        Unsupported,
    ),
    row(
        "bgsave_cpulist",
        None,
        STR_OR_NULL,
        "",
        IMMUTABLE,
        Unsupported,
    ),
    row("ignore-warnings", None, STR, "", 0, Unsupported),
    row(
        "proc-title-template",
        None,
        STR,
        "{title} {listen-addr} {server-mode}",
        0,
        Unsupported,
    ),
    row("bind-source-addr", None, STR_OR_NULL, "", 0, Unsupported),
    row("logfile", None, STR, "", IMMUTABLE, Native),
    row("masterauth", None, STR_OR_NULL, "", SENSITIVE, Unsupported),
    row("requirepass", None, STR_OR_NULL, "", SENSITIVE, Native),
    row(
        "supervised",
        None,
        Kind::Enum(SUPERVISED_MODE),
        "no",
        IMMUTABLE,
        Stored,
    ),
    row(
        "syslog-facility",
        None,
        Kind::Enum(SYSLOG_FACILITY),
        "local0",
        IMMUTABLE,
        Unsupported,
    ),
    row(
        "repl-diskless-load",
        None,
        Kind::Enum(REPL_DISKLESS_LOAD),
        "disabled",
        0,
        Unsupported,
    ),
    row("loglevel", None, Kind::Enum(LOGLEVEL), "notice", 0, Native),
    row(
        "maxmemory-policy",
        None,
        Kind::Enum(MAXMEMORY_POLICY),
        "noeviction",
        0,
        Native,
    ),
    row(
        "appendfsync",
        None,
        Kind::Enum(AOF_FSYNC),
        "everysec",
        0,
        Stored,
    ),
    row(
        "oom-score-adj",
        None,
        Kind::Enum(OOM_SCORE_ADJ),
        "no",
        0,
        Unsupported,
    ),
    row(
        "acl-pubsub-default",
        None,
        Kind::Enum(ACL_PUBSUB_DEFAULT),
        "resetchannels",
        0,
        Native,
    ),
    row(
        "sanitize-dump-payload",
        None,
        Kind::Enum(SANITIZE_DUMP_PAYLOAD),
        "no",
        0,
        Stored,
    ),
    row(
        "enable-protected-configs",
        None,
        Kind::Enum(PROTECTED_ACTION),
        "no",
        IMMUTABLE,
        Native,
    ),
    row(
        "enable-debug-command",
        None,
        Kind::Enum(PROTECTED_ACTION),
        "no",
        IMMUTABLE,
        Native,
    ),
    row(
        "enable-module-command",
        None,
        Kind::Enum(PROTECTED_ACTION),
        "no",
        IMMUTABLE,
        Native,
    ),
    row(
        "cluster-preferred-endpoint-type",
        None,
        Kind::Enum(CLUSTER_PREFERRED_ENDPOINT_TYPE),
        "ip",
        0,
        Unsupported,
    ),
    row(
        "propagation-error-behavior",
        None,
        Kind::Enum(PROPAGATION_ERROR_BEHAVIOR),
        "ignore",
        0,
        Unsupported,
    ),
    row(
        "shutdown-on-sigint",
        None,
        Kind::Enum(SHUTDOWN_ON_SIG),
        "default",
        MULTI_ARG,
        Unsupported,
    ),
    row(
        "shutdown-on-sigterm",
        None,
        Kind::Enum(SHUTDOWN_ON_SIG),
        "default",
        MULTI_ARG,
        Unsupported,
    ),
    row(
        "databases",
        None,
        int(1, 2147483647),
        "16",
        IMMUTABLE,
        Native,
    ),
    row("port", None, int(0, 65535), "6379", FIXED, Native),
    row("io-threads", None, int(1, 128), "1", IMMUTABLE, Native),
    row(
        "auto-aof-rewrite-percentage",
        None,
        int(0, 2147483647),
        "100",
        0,
        Stored,
    ),
    row(
        "cluster-replica-validity-factor",
        Some("cluster-slave-validity-factor"),
        int(0, 2147483647),
        "10",
        0,
        Unsupported,
    ),
    row(
        "list-max-listpack-size",
        Some("list-max-ziplist-size"),
        int(-2147483648, 2147483647),
        "-2",
        0,
        Stored,
    ),
    row("tcp-keepalive", None, int(0, 2147483647), "300", 0, Native),
    row(
        "cluster-migration-barrier",
        None,
        int(0, 2147483647),
        "1",
        0,
        Unsupported,
    ),
    row(
        "active-defrag-cycle-min",
        None,
        int(1, 99),
        "1",
        0,
        Unsupported,
    ),
    row(
        "active-defrag-cycle-max",
        None,
        int(1, 99),
        "25",
        0,
        Unsupported,
    ),
    row(
        "active-defrag-threshold-lower",
        None,
        int(0, 1000),
        "10",
        0,
        Unsupported,
    ),
    row(
        "active-defrag-threshold-upper",
        None,
        int(0, 1000),
        "100",
        0,
        Unsupported,
    ),
    row("lfu-log-factor", None, int(0, 2147483647), "10", 0, Stored),
    row("lfu-decay-time", None, int(0, 2147483647), "1", 0, Stored),
    row(
        "replica-priority",
        Some("slave-priority"),
        int(0, 2147483647),
        "100",
        0,
        Unsupported,
    ),
    row(
        "repl-diskless-sync-delay",
        None,
        int(0, 2147483647),
        "5",
        0,
        Unsupported,
    ),
    row(
        "maxmemory-samples",
        None,
        int(1, 2147483647),
        "5",
        0,
        Stored,
    ),
    row(
        "maxmemory-eviction-tenacity",
        None,
        int(0, 100),
        "10",
        0,
        Stored,
    ),
    row("timeout", None, int(0, 2147483647), "0", 0, Native),
    row(
        "replica-announce-port",
        Some("slave-announce-port"),
        int(0, 65535),
        "0",
        0,
        Unsupported,
    ),
    row(
        "tcp-backlog",
        None,
        int(0, 2147483647),
        "511",
        IMMUTABLE,
        Native,
    ),
    row(
        "cluster-port",
        None,
        int(0, 65535),
        "0",
        IMMUTABLE,
        Unsupported,
    ),
    row(
        "cluster-announce-bus-port",
        None,
        int(0, 65535),
        "0",
        0,
        Unsupported,
    ),
    row(
        "cluster-announce-port",
        None,
        int(0, 65535),
        "0",
        0,
        Unsupported,
    ),
    row(
        "cluster-announce-tls-port",
        None,
        int(0, 65535),
        "0",
        0,
        Unsupported,
    ),
    row(
        "repl-timeout",
        None,
        int(1, 2147483647),
        "60",
        0,
        Unsupported,
    ),
    row(
        "repl-ping-replica-period",
        Some("repl-ping-slave-period"),
        int(1, 2147483647),
        "10",
        0,
        Unsupported,
    ),
    row(
        "list-compress-depth",
        None,
        int(0, 2147483647),
        "0",
        0,
        Stored,
    ),
    row(
        "rdb-key-save-delay",
        None,
        int(-2147483648, 2147483647),
        "0",
        HIDDEN,
        Stored,
    ),
    row(
        "key-load-delay",
        None,
        int(-2147483648, 2147483647),
        "0",
        HIDDEN,
        Stored,
    ),
    row(
        "active-expire-effort",
        None,
        int(1, 10),
        "1",
        0,
        Unsupported,
    ),
    row("hz", None, int(0, 2147483647), "10", 0, Native),
    row(
        "min-replicas-to-write",
        Some("min-slaves-to-write"),
        int(0, 2147483647),
        "0",
        0,
        Unsupported,
    ),
    row(
        "min-replicas-max-lag",
        Some("min-slaves-max-lag"),
        int(0, 2147483647),
        "10",
        0,
        Unsupported,
    ),
    row(
        "watchdog-period",
        None,
        int(0, 2147483647),
        "0",
        HIDDEN,
        Unsupported,
    ),
    row(
        "shutdown-timeout",
        None,
        int(0, 2147483647),
        "10",
        0,
        Unsupported,
    ),
    row(
        "repl-diskless-sync-max-replicas",
        None,
        int(0, 2147483647),
        "0",
        0,
        Unsupported,
    ),
    row("maxclients", None, uint(1, 4294967295), "10000", 0, Native),
    row(
        "unixsocketperm",
        None,
        octal(0, 511),
        "0",
        IMMUTABLE,
        Native,
    ),
    row(
        "socket-mark-id",
        None,
        uint(0, 4294967295),
        "0",
        IMMUTABLE,
        Unsupported,
    ),
    row(
        "active-defrag-max-scan-fields",
        None,
        int(1, 9223372036854775807),
        "1000",
        0,
        Unsupported,
    ),
    row(
        "slowlog-max-len",
        None,
        int(0, 9223372036854775807),
        "128",
        0,
        Native,
    ),
    row(
        "acllog-max-len",
        None,
        int(0, 9223372036854775807),
        "128",
        0,
        Stored,
    ),
    row(
        "busy-reply-threshold",
        Some("lua-time-limit"),
        int(0, 9223372036854775807),
        "5000",
        0,
        Native,
    ),
    row(
        "cluster-node-timeout",
        None,
        int(0, 9223372036854775807),
        "15000",
        0,
        Unsupported,
    ),
    row(
        "slowlog-log-slower-than",
        None,
        int(-1, 9223372036854775807),
        "10000",
        0,
        Native,
    ),
    row(
        "latency-monitor-threshold",
        None,
        int(0, 9223372036854775807),
        "0",
        0,
        Stored,
    ),
    row(
        "proto-max-bulk-len",
        None,
        mem(1048576, 9223372036854775807),
        "536870912",
        0,
        Native,
    ),
    row(
        "stream-node-max-entries",
        None,
        int(0, 9223372036854775807),
        "100",
        0,
        Stored,
    ),
    row(
        "repl-backlog-size",
        None,
        mem(1, 9223372036854775807),
        "1048576",
        0,
        Unsupported,
    ),
    row(
        "maxmemory",
        None,
        umem(0, 18446744073709551615),
        "0",
        0,
        Native,
    ),
    row(
        "cluster-link-sendbuf-limit",
        None,
        umem(0, 18446744073709551615),
        "0",
        0,
        Unsupported,
    ),
    row(
        "hash-max-listpack-entries",
        Some("hash-max-ziplist-entries"),
        uint(0, 9223372036854775807),
        "512",
        0,
        Stored,
    ),
    row(
        "set-max-intset-entries",
        None,
        uint(0, 9223372036854775807),
        "512",
        0,
        Stored,
    ),
    row(
        "zset-max-listpack-entries",
        Some("zset-max-ziplist-entries"),
        uint(0, 9223372036854775807),
        "128",
        0,
        Stored,
    ),
    row(
        "active-defrag-ignore-bytes",
        None,
        umem(1, 9223372036854775807),
        "104857600",
        0,
        Unsupported,
    ),
    row(
        "hash-max-listpack-value",
        Some("hash-max-ziplist-value"),
        umem(0, 9223372036854775807),
        "64",
        0,
        Stored,
    ),
    row(
        "stream-node-max-bytes",
        None,
        umem(0, 9223372036854775807),
        "4096",
        0,
        Stored,
    ),
    row(
        "zset-max-listpack-value",
        Some("zset-max-ziplist-value"),
        umem(0, 9223372036854775807),
        "64",
        0,
        Stored,
    ),
    row(
        "hll-sparse-max-bytes",
        None,
        umem(0, 9223372036854775807),
        "3000",
        0,
        Stored,
    ),
    row(
        "tracking-table-max-keys",
        None,
        uint(0, 9223372036854775807),
        "1000000",
        0,
        Native,
    ),
    row(
        "client-query-buffer-limit",
        None,
        umem(1048576, 9223372036854775807),
        "1073741824",
        0,
        Native,
    ),
    row(
        "maxmemory-clients",
        None,
        percent(-100, 9223372036854775807),
        "0",
        0,
        Stored,
    ),
    row(
        "repl-backlog-ttl",
        None,
        int(0, 9223372036854775807),
        "3600",
        0,
        Unsupported,
    ),
    row(
        "auto-aof-rewrite-min-size",
        None,
        mem(0, 9223372036854775807),
        "67108864",
        0,
        Stored,
    ),
    row(
        "loading-process-events-interval-bytes",
        None,
        int(1024, 2147483647),
        "2097152",
        HIDDEN,
        Unsupported,
    ),
    row("tls-port", None, int(0, 65535), "0", FIXED, Native),
    row(
        "tls-session-cache-size",
        None,
        int(0, 2147483647),
        "20480",
        0,
        Stored,
    ),
    row(
        "tls-session-cache-timeout",
        None,
        int(0, 2147483647),
        "300",
        0,
        Stored,
    ),
    row("tls-cluster", None, BOOL, "no", 0, Stored),
    row("tls-replication", None, BOOL, "no", 0, Stored),
    row(
        "tls-auth-clients",
        None,
        Kind::Enum(TLS_AUTH_CLIENTS),
        "yes",
        0,
        Stored,
    ),
    row("tls-prefer-server-ciphers", None, BOOL, "no", 0, Stored),
    row("tls-session-caching", None, BOOL, "yes", 0, Stored),
    row("tls-cert-file", None, STR_OR_NULL, "", 0, Stored),
    row("tls-key-file", None, STR_OR_NULL, "", 0, Stored),
    row("tls-key-file-pass", None, STR_OR_NULL, "", 0, Stored),
    row("tls-client-cert-file", None, STR_OR_NULL, "", 0, Stored),
    row("tls-client-key-file", None, STR_OR_NULL, "", 0, Stored),
    row("tls-client-key-file-pass", None, STR_OR_NULL, "", 0, Stored),
    row("tls-dh-params-file", None, STR_OR_NULL, "", 0, Stored),
    row("tls-ca-cert-file", None, STR_OR_NULL, "", 0, Stored),
    row("tls-ca-cert-dir", None, STR_OR_NULL, "", 0, Stored),
    row("tls-protocols", None, STR_OR_NULL, "", 0, Stored),
    row("tls-ciphers", None, STR_OR_NULL, "", 0, Stored),
    row("tls-ciphersuites", None, STR_OR_NULL, "", 0, Stored),
    row("dir", None, SPECIAL, "", PROTECTED, Native),
    // soquete saves nothing: its default is `save ""` (Redis: "3600 1 300 100 60 10000").
    row(
        "save",
        None,
        SPECIAL,
        "3600 1 300 100 60 10000",
        MULTI_ARG,
        Native,
    ),
    row(
        "client-output-buffer-limit",
        None,
        SPECIAL,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        MULTI_ARG,
        Native,
    ),
    row(
        "oom-score-adj-values",
        None,
        SPECIAL,
        "0 200 800",
        MULTI_ARG,
        Unsupported,
    ),
    row("notify-keyspace-events", None, SPECIAL, "", 0, Native),
    // soquete listens on loopback by default (Redis: "* -::*").
    row(
        "bind",
        None,
        SPECIAL,
        "127.0.0.1 -::1",
        MULTI_ARG | FIXED,
        Native,
    ),
    row(
        "replicaof",
        Some("slaveof"),
        SPECIAL,
        "",
        IMMUTABLE | MULTI_ARG,
        Unsupported,
    ),
    row(
        "latency-tracking-info-percentiles",
        None,
        SPECIAL,
        "50 99 99.9",
        MULTI_ARG,
        Native,
    ),
    // soquete's own (hidden, so that `CONFIG GET *` lists what Redis lists).
    row(
        "threads",
        None,
        int(0, 1024),
        "0",
        IMMUTABLE | HIDDEN,
        Native,
    ),
    row("busy-poll", None, int(0, 1_000_000), "0", HIDDEN, Native),
];

/// The row of `name` (either of its names, any case), and the name it was
/// found under, in lower case.
pub fn lookup(name: &str) -> Option<(&'static Param, &'static str)> {
    PARAMS.iter().find_map(|p| {
        if p.name.eq_ignore_ascii_case(name) {
            Some((p, p.name))
        } else {
            p.alias
                .filter(|a| a.eq_ignore_ascii_case(name))
                .map(|a| (p, a))
        }
    })
}

/// Every name CONFIG GET knows, with its row: each parameter under its name
/// and then its alias.
pub fn names() -> impl Iterator<Item = (&'static str, &'static Param)> {
    PARAMS
        .iter()
        .flat_map(|p| std::iter::once((p.name, p)).chain(p.alias.map(|a| (a, p))))
}

/// Parses a memory size as Redis's `memtoull`: digits with an optional unit
/// b, k, kb, m, mb, g, gb (k = 1000, kb = 1024), case-insensitive. No
/// digits count as 0, as in Redis (`CONFIG SET maxmemory ""`).
pub fn parse_memory(v: &str) -> Option<u64> {
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let n = if digits.is_empty() {
        0
    } else {
        digits.parse::<u64>().ok()?
    };
    n.checked_mul(mul)
}

/// Parses a decimal integer as Redis's `string2ll`: an optional `-`, digits,
/// no leading zeros, no `+`, no spaces.
fn parse_ll(v: &str) -> Option<i64> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
        || (v.starts_with('-') && digits == "0")
    {
        return None;
    }
    v.parse().ok()
}

/// Writes a memory size as CONFIG REWRITE does: in gb, mb or kb when exact.
pub fn format_memory(bytes: i128) -> String {
    const KB: i128 = 1024;
    if bytes != 0 && bytes % (KB * KB * KB) == 0 {
        format!("{}gb", bytes / (KB * KB * KB))
    } else if bytes != 0 && bytes % (KB * KB) == 0 {
        format!("{}mb", bytes / (KB * KB))
    } else if bytes != 0 && bytes % KB == 0 {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

impl Kind {
    /// Checks a value as Redis does and returns it as CONFIG GET shows it;
    /// the error is Redis's text. A `Special` value comes back as its words
    /// joined by single spaces (its own parser checks it).
    pub fn normalize(&self, args: &[String], multi_arg: bool) -> Result<String, String> {
        match *self {
            Kind::Special if args.is_empty() => Err("wrong number of arguments".into()),
            Kind::Special => Ok(args.join(" ")),
            Kind::Enum(names) if multi_arg => {
                // One or more names (several words, or one word with spaces).
                let mut out = Vec::new();
                for w in args.iter().flat_map(|a| a.split_whitespace()) {
                    let n = names.iter().find(|n| n.eq_ignore_ascii_case(w));
                    out.push(*n.ok_or_else(|| enum_error(names))?);
                }
                if out.is_empty() {
                    return Err(enum_error(names));
                }
                Ok(out.join(" "))
            }
            _ => match args {
                [v] => self.normalize_one(v),
                _ => Err("wrong number of arguments".into()),
            },
        }
    }

    fn normalize_one(&self, v: &str) -> Result<String, String> {
        match *self {
            Kind::Bool => match v.to_ascii_lowercase().as_str() {
                "yes" => Ok("yes".into()),
                "no" => Ok("no".into()),
                _ => Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Str { .. } | Kind::Special => Ok(v.to_string()),
            Kind::Enum(names) => names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(v))
                .map(|n| n.to_string())
                .ok_or_else(|| enum_error(names)),
            Kind::Num {
                min,
                max,
                unsigned,
                form,
            } => {
                let n = parse_number(v, form)?;
                if form == NumForm::MemoryOrPercent && n < 0 {
                    if n < min {
                        return Err(format!(
                            "percentage argument must be less or equal to {}",
                            -min
                        ));
                    }
                    return Ok(format!("{}%", -n));
                }
                // Redis parses into a long long, then checks unsigned types
                // as unsigned: a negative number is a huge one.
                let n = if unsigned && n < 0 {
                    n + (1i128 << 64)
                } else {
                    n
                };
                if n < min || n > max {
                    return Err(if form == NumForm::Octal {
                        format!("argument must be between {min:o} and {max:o} inclusive")
                    } else {
                        format!("argument must be between {min} and {max} inclusive")
                    });
                }
                Ok(if form == NumForm::Octal {
                    format!("{n:o}")
                } else {
                    n.to_string()
                })
            }
        }
    }
}

fn enum_error(names: &[&str]) -> String {
    format!(
        "argument(s) must be one of the following: {}",
        names.join(", ")
    )
}

/// A number as Redis's `numericParseString` reads it (a percentage is
/// negative).
fn parse_number(v: &str, form: NumForm) -> Result<i128, String> {
    match form {
        NumForm::Plain => parse_ll(v)
            .map(i128::from)
            .ok_or_else(|| "argument couldn't be parsed into an integer".into()),
        NumForm::Octal => {
            let digits = v.strip_prefix('-').unwrap_or(v);
            match i64::from_str_radix(digits, 8) {
                Ok(n) if !digits.starts_with(['+', '-']) => {
                    Ok(if v.starts_with('-') { -n } else { n }.into())
                }
                _ => Err("argument couldn't be parsed as an octal number".into()),
            }
        }
        NumForm::Memory | NumForm::MemoryOrPercent => {
            // memtoull's result is stored in a long long.
            if let Some(n) = parse_memory(v) {
                return Ok(i128::from(n as i64));
            }
            if form == NumForm::MemoryOrPercent {
                if let Some(p) = v.strip_suffix('%').and_then(parse_ll) {
                    if v.len() > 1 && p >= 0 {
                        return Ok(-i128::from(p));
                    }
                }
                return Err("argument must be a memory or percent value".into());
            }
            Err("argument must be a memory value".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(name: &str, v: &str) -> Result<String, String> {
        let (p, _) = lookup(name).expect("known");
        p.kind.normalize(&[v.to_string()], p.has(MULTI_ARG))
    }

    #[test]
    fn every_name_is_unique_and_lower_case() {
        let mut seen = std::collections::HashSet::new();
        for (name, _) in names() {
            assert_eq!(name, name.to_ascii_lowercase());
            assert!(seen.insert(name), "{name} twice");
        }
        // Redis 7.0.15 lists 192 names for `CONFIG GET *` (with TLS), and
        // has 5 hidden ones; soquete adds 2 hidden ones.
        let visible = names().filter(|(_, p)| !p.has(HIDDEN)).count();
        assert_eq!(visible, 192);
    }

    #[test]
    fn defaults_pass_their_own_check() {
        for p in PARAMS {
            if matches!(p.kind, Kind::Special) || p.name == "io-threads" {
                continue;
            }
            let got = p.kind.normalize(&[p.default.to_string()], p.has(MULTI_ARG));
            assert_eq!(got.as_deref(), Ok(p.default), "{}", p.name);
        }
    }

    #[test]
    fn values_are_checked_with_redis_messages() {
        assert_eq!(norm("maxmemory", "1GB").as_deref(), Ok("1073741824"));
        assert_eq!(norm("maxmemory", "").as_deref(), Ok("0"));
        assert_eq!(
            norm("maxmemory", "-1").unwrap_err(),
            "argument must be a memory value"
        );
        assert_eq!(
            norm("timeout", "-1").unwrap_err(),
            "argument must be between 0 and 2147483647 inclusive"
        );
        assert_eq!(
            norm("timeout", "01").unwrap_err(),
            "argument couldn't be parsed into an integer"
        );
        assert_eq!(
            norm("maxclients", "-1").unwrap_err(),
            "argument must be between 1 and 4294967295 inclusive"
        );
        assert_eq!(norm("appendonly", "YES").as_deref(), Ok("yes"));
        assert_eq!(
            norm("appendonly", "true").unwrap_err(),
            "argument must be 'yes' or 'no'"
        );
        assert_eq!(norm("loglevel", "WARNING").as_deref(), Ok("warning"));
        assert_eq!(norm("unixsocketperm", "777").as_deref(), Ok("777"));
        assert_eq!(
            norm("unixsocketperm", "1000").unwrap_err(),
            "argument must be between 0 and 777 inclusive"
        );
        assert_eq!(norm("maxmemory-clients", "10%").as_deref(), Ok("10%"));
        assert_eq!(
            norm("maxmemory-clients", "200%").unwrap_err(),
            "percentage argument must be less or equal to 100"
        );
        assert_eq!(
            norm("maxmemory-clients", "x").unwrap_err(),
            "argument must be a memory or percent value"
        );
        assert_eq!(
            norm("shutdown-on-sigint", "nosave now").as_deref(),
            Ok("nosave now")
        );
    }

    #[test]
    fn memory_is_rewritten_with_units_when_exact() {
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(1 << 30), "1gb");
        assert_eq!(format_memory(3 << 20), "3mb");
        assert_eq!(format_memory(1536), "1536");
        assert_eq!(format_memory(2048), "2kb");
        assert_eq!(format_memory(1000), "1000");
    }

    proptest::proptest! {
        #[test]
        fn any_value_for_any_parameter_is_checked_without_panicking(
            i in 0..PARAMS.len(),
            v in "[-+0-9a-zA-Z%. ]{0,24}",
        ) {
            let p = &PARAMS[i];
            let _ = p.kind.normalize(std::slice::from_ref(&v), p.has(MULTI_ARG));
            let mut c = super::super::Config::default();
            let _ = c.set(p.name, &[v]);
            let _ = c.get(p);
        }
    }

    #[test]
    fn octal_takes_one_sign_at_most() {
        assert!(norm("unixsocketperm", "--5").is_err());
        assert!(norm("unixsocketperm", "+5").is_err());
        assert_eq!(norm("unixsocketperm", "0755").as_deref(), Ok("755"));
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("1G"), Some(1_000_000_000));
        assert_eq!(parse_memory("512mb"), Some(512 << 20));
        assert_eq!(parse_memory("12"), Some(12));
        assert_eq!(parse_memory("1xb"), None);
        assert_eq!(parse_memory(""), Some(0));
    }
}
