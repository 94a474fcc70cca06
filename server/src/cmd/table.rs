//! The command table: one row per command, the single source of truth for
//! names, arities, flags, key positions and handlers. Rows were first taken
//! from Redis 7.0's own COMMAND INFO / COMMAND DOCS so that what clients see
//! matches; keep them in sync with Redis when adding commands.

use super::flags::*;
use super::{connection, keys, server, string, transaction, Keys, Spec};
use crate::error::CmdResult;

/// Container commands dispatch to their subcommands; reaching this is
/// prevented by `resolve` (a container's own arity needs a subcommand).
fn container(_c: &mut super::Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let name = String::from_utf8_lossy(a[0]).to_ascii_lowercase();
    Err(crate::error::CmdError::unknown_subcommand(
        &name,
        a.get(1).copied().unwrap_or_default(),
    ))
}

static CLIENT_SUBCOMMANDS: &[Spec] = &[
    Spec { name: "id", arity: 2, flags: NOSCRIPT | LOADING | STALE, keys: Keys::None, group: "connection", since: "5.0.0", summary: "Returns the client ID for the current connection", complexity: "O(1)", handler: connection::client_id, subcommands: &[] },
    Spec { name: "setname", arity: 3, flags: NOSCRIPT | LOADING | STALE, keys: Keys::None, group: "connection", since: "2.6.9", summary: "Set the current connection name", complexity: "O(1)", handler: connection::client_setname, subcommands: &[] },
    Spec { name: "getname", arity: 2, flags: NOSCRIPT | LOADING | STALE, keys: Keys::None, group: "connection", since: "2.6.9", summary: "Get the current connection name", complexity: "O(1)", handler: connection::client_getname, subcommands: &[] },
    Spec { name: "list", arity: -2, flags: ADMIN | NOSCRIPT | LOADING | STALE, keys: Keys::None, group: "connection", since: "2.4.0", summary: "Get the list of client connections", complexity: "O(N) where N is the number of client connections", handler: connection::client_list, subcommands: &[] },
    Spec { name: "info", arity: 2, flags: NOSCRIPT | LOADING | STALE, keys: Keys::None, group: "connection", since: "6.2.0", summary: "Returns information about the current client connection.", complexity: "O(1)", handler: connection::client_info, subcommands: &[] },
    Spec { name: "kill", arity: -3, flags: ADMIN | NOSCRIPT | LOADING | STALE, keys: Keys::None, group: "connection", since: "2.4.0", summary: "Kill the connection of a client", complexity: "O(N) where N is the number of client connections", handler: connection::client_kill, subcommands: &[] },
    Spec { name: "no-evict", arity: 3, flags: ADMIN | NOSCRIPT | LOADING | STALE, keys: Keys::None, group: "connection", since: "7.0.0", summary: "Set client eviction mode for the current connection", complexity: "O(1)", handler: connection::client_no_evict, subcommands: &[] },
    Spec { name: "no-touch", arity: 3, flags: NOSCRIPT | LOADING | STALE, keys: Keys::None, group: "connection", since: "7.2.0", summary: "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.", complexity: "O(1)", handler: connection::client_no_touch, subcommands: &[] },
    Spec { name: "setinfo", arity: 4, flags: NOSCRIPT | LOADING | STALE, keys: Keys::None, group: "connection", since: "7.2.0", summary: "Set client or connection specific info", complexity: "O(1)", handler: connection::client_setinfo, subcommands: &[] },
    Spec { name: "help", arity: 2, flags: LOADING | STALE, keys: Keys::None, group: "connection", since: "5.0.0", summary: "Show helpful text about the different subcommands", complexity: "O(1)", handler: connection::client_help, subcommands: &[] },
];

static OBJECT_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "encoding",
        arity: 3,
        flags: READONLY,
        keys: Keys::Range(2, 2, 1),
        group: "generic",
        since: "2.2.3",
        summary: "Inspect the internal encoding of a Redis object",
        complexity: "O(1)",
        handler: keys::object_encoding,
        subcommands: &[],
    },
    Spec {
        name: "refcount",
        arity: 3,
        flags: READONLY,
        keys: Keys::Range(2, 2, 1),
        group: "generic",
        since: "2.2.3",
        summary: "Get the number of references to the value of the key",
        complexity: "O(1)",
        handler: keys::object_refcount,
        subcommands: &[],
    },
    Spec {
        name: "idletime",
        arity: 3,
        flags: READONLY,
        keys: Keys::Range(2, 2, 1),
        group: "generic",
        since: "2.2.3",
        summary: "Get the time since a Redis object was last accessed",
        complexity: "O(1)",
        handler: keys::object_idletime,
        subcommands: &[],
    },
    Spec {
        name: "freq",
        arity: 3,
        flags: READONLY,
        keys: Keys::Range(2, 2, 1),
        group: "generic",
        since: "4.0.0",
        summary: "Get the logarithmic access frequency counter of a Redis object",
        complexity: "O(1)",
        handler: keys::object_freq,
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "generic",
        since: "6.2.0",
        summary: "Show helpful text about the different subcommands",
        complexity: "O(1)",
        handler: keys::object_help,
        subcommands: &[],
    },
];

static COMMAND_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "count",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "2.8.13",
        summary: "Get total number of Redis commands",
        complexity: "O(1)",
        handler: server::command_count,
        subcommands: &[],
    },
    Spec {
        name: "info",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "2.8.13",
        summary: "Get array of specific Redis command details, or all when no argument is given.",
        complexity: "O(N) where N is the number of commands to look up",
        handler: server::command_info_cmd,
        subcommands: &[],
    },
    Spec {
        name: "docs",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "7.0.0",
        summary: "Get array of specific Redis command documentation",
        complexity: "O(N) where N is the number of commands to look up",
        handler: server::command_docs_cmd,
        subcommands: &[],
    },
    Spec {
        name: "list",
        arity: -2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "7.0.0",
        summary: "Get an array of Redis command names",
        complexity: "O(N) where N is the total number of Redis commands",
        handler: server::command_list,
        subcommands: &[],
    },
    Spec {
        name: "getkeys",
        arity: -4,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "2.8.13",
        summary: "Extract keys given a full Redis command",
        complexity: "O(N) where N is the number of arguments to the command",
        handler: server::command_getkeys,
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "5.0.0",
        summary: "Show helpful text about the different subcommands",
        complexity: "O(1)",
        handler: server::command_help,
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
        since: "2.0.0",
        summary: "Get the values of configuration parameters",
        complexity: "O(N) when N is the number of configuration parameters provided",
        handler: server::config_get,
        subcommands: &[],
    },
    Spec {
        name: "set",
        arity: -4,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "2.0.0",
        summary: "Set configuration parameters to the given values",
        complexity: "O(N) when N is the number of configuration parameters provided",
        handler: server::config_set,
        subcommands: &[],
    },
    Spec {
        name: "resetstat",
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "2.0.0",
        summary: "Reset the stats returned by INFO",
        complexity: "O(1)",
        handler: server::config_resetstat,
        subcommands: &[],
    },
    Spec {
        name: "rewrite",
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "2.8.0",
        summary: "Rewrite the configuration file with the in memory configuration",
        complexity: "O(1)",
        handler: server::config_rewrite,
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "5.0.0",
        summary: "Show helpful text about the different subcommands",
        complexity: "O(1)",
        handler: server::config_help,
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
        since: "2.2.12",
        summary: "Get the slow log's entries",
        complexity: "O(N) where N is the number of entries returned",
        handler: server::slowlog_get,
        subcommands: &[],
    },
    Spec {
        name: "len",
        arity: 2,
        flags: ADMIN | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "2.2.12",
        summary: "Get the slow log's length",
        complexity: "O(1)",
        handler: server::slowlog_len,
        subcommands: &[],
    },
    Spec {
        name: "reset",
        arity: 2,
        flags: ADMIN | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "2.2.12",
        summary: "Clear all entries from the slow log",
        complexity: "O(N) where N is the number of entries in the slowlog",
        handler: server::slowlog_reset,
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "6.2.0",
        summary: "Show helpful text about the different subcommands",
        complexity: "O(1)",
        handler: server::slowlog_help,
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
        since: "4.0.0",
        summary: "Estimate the memory usage of a key",
        complexity: "O(N) where N is the number of samples.",
        handler: server::memory_usage,
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        since: "4.0.0",
        summary: "Show helpful text about the different subcommands",
        complexity: "O(1)",
        handler: server::memory_help,
        subcommands: &[],
    },
];

/// Every command, in no particular order.
pub static COMMANDS: &[Spec] = &[
    Spec { name: "ping", arity: -1, flags: FAST, keys: Keys::None, group: "connection", since: "1.0.0", summary: "Ping the server", complexity: "O(1)", handler: connection::ping, subcommands: &[] },
    Spec { name: "echo", arity: 2, flags: LOADING | STALE | FAST, keys: Keys::None, group: "connection", since: "1.0.0", summary: "Echo the given string", complexity: "O(1)", handler: connection::echo, subcommands: &[] },
    Spec { name: "quit", arity: -1, flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, keys: Keys::None, group: "connection", since: "1.0.0", summary: "Close the connection", complexity: "O(1)", handler: connection::quit, subcommands: &[] },
    Spec { name: "auth", arity: -2, flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, keys: Keys::None, group: "connection", since: "1.0.0", summary: "Authenticate to the server", complexity: "O(N) where N is the number of passwords defined for the user", handler: connection::auth, subcommands: &[] },
    Spec { name: "hello", arity: -1, flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, keys: Keys::None, group: "connection", since: "6.0.0", summary: "Handshake with Redis", complexity: "O(1)", handler: connection::hello, subcommands: &[] },
    Spec { name: "select", arity: 2, flags: LOADING | STALE | FAST, keys: Keys::None, group: "connection", since: "1.0.0", summary: "Change the selected database for the current connection", complexity: "O(1)", handler: connection::select, subcommands: &[] },
    Spec { name: "reset", arity: 1, flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, keys: Keys::None, group: "connection", since: "6.2.0", summary: "Reset the connection", complexity: "O(1)", handler: connection::reset, subcommands: &[] },
    Spec { name: "get", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "string", since: "1.0.0", summary: "Get the value of a key", complexity: "O(1)", handler: string::get, subcommands: &[] },
    Spec { name: "set", arity: -3, flags: WRITE | DENYOOM, keys: Keys::Range(1, 1, 1), group: "string", since: "1.0.0", summary: "Set the string value of a key", complexity: "O(1)", handler: string::set, subcommands: &[] },
    Spec { name: "setnx", arity: 3, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "string", since: "1.0.0", summary: "Set the value of a key, only if the key does not exist", complexity: "O(1)", handler: string::setnx, subcommands: &[] },
    Spec { name: "setex", arity: 4, flags: WRITE | DENYOOM, keys: Keys::Range(1, 1, 1), group: "string", since: "2.0.0", summary: "Set the value and expiration of a key", complexity: "O(1)", handler: string::setex, subcommands: &[] },
    Spec { name: "psetex", arity: 4, flags: WRITE | DENYOOM, keys: Keys::Range(1, 1, 1), group: "string", since: "2.6.0", summary: "Set the value and expiration in milliseconds of a key", complexity: "O(1)", handler: string::psetex, subcommands: &[] },
    Spec { name: "mget", arity: -2, flags: READONLY | FAST, keys: Keys::Range(1, -1, 1), group: "string", since: "1.0.0", summary: "Get the values of all the given keys", complexity: "O(N) where N is the number of keys to retrieve.", handler: string::mget, subcommands: &[] },
    Spec { name: "mset", arity: -3, flags: WRITE | DENYOOM, keys: Keys::Range(1, -1, 2), group: "string", since: "1.0.1", summary: "Set multiple keys to multiple values", complexity: "O(N) where N is the number of keys to set.", handler: string::mset, subcommands: &[] },
    Spec { name: "msetnx", arity: -3, flags: WRITE | DENYOOM, keys: Keys::Range(1, -1, 2), group: "string", since: "1.0.1", summary: "Set multiple keys to multiple values, only if none of the keys exist", complexity: "O(N) where N is the number of keys to set.", handler: string::msetnx, subcommands: &[] },
    Spec { name: "getset", arity: 3, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "string", since: "1.0.0", summary: "Set the string value of a key and return its old value", complexity: "O(1)", handler: string::getset, subcommands: &[] },
    Spec { name: "getdel", arity: 2, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "string", since: "6.2.0", summary: "Get the value of a key and delete the key", complexity: "O(1)", handler: string::getdel, subcommands: &[] },
    Spec { name: "getex", arity: -2, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "string", since: "6.2.0", summary: "Get the value of a key and optionally set its expiration", complexity: "O(1)", handler: string::getex, subcommands: &[] },
    Spec { name: "append", arity: 3, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "string", since: "2.0.0", summary: "Append a value to a key", complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.", handler: string::append, subcommands: &[] },
    Spec { name: "strlen", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "string", since: "2.2.0", summary: "Get the length of the value stored in a key", complexity: "O(1)", handler: string::strlen, subcommands: &[] },
    Spec { name: "incr", arity: 2, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "string", since: "1.0.0", summary: "Increment the integer value of a key by one", complexity: "O(1)", handler: string::incr, subcommands: &[] },
    Spec { name: "decr", arity: 2, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "string", since: "1.0.0", summary: "Decrement the integer value of a key by one", complexity: "O(1)", handler: string::decr, subcommands: &[] },
    Spec { name: "incrby", arity: 3, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "string", since: "1.0.0", summary: "Increment the integer value of a key by the given amount", complexity: "O(1)", handler: string::incrby, subcommands: &[] },
    Spec { name: "decrby", arity: 3, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "string", since: "1.0.0", summary: "Decrement the integer value of a key by the given number", complexity: "O(1)", handler: string::decrby, subcommands: &[] },
    Spec { name: "incrbyfloat", arity: 3, flags: WRITE | DENYOOM | FAST, keys: Keys::Range(1, 1, 1), group: "string", since: "2.6.0", summary: "Increment the float value of a key by the given amount", complexity: "O(1)", handler: string::incrbyfloat, subcommands: &[] },
    Spec { name: "getrange", arity: 4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "string", since: "2.4.0", summary: "Get a substring of the string stored at a key", complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", handler: string::getrange, subcommands: &[] },
    Spec { name: "setrange", arity: 4, flags: WRITE | DENYOOM, keys: Keys::Range(1, 1, 1), group: "string", since: "2.2.0", summary: "Overwrite part of a string at key starting at the specified offset", complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.", handler: string::setrange, subcommands: &[] },
    Spec { name: "substr", arity: 4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "string", since: "1.0.0", summary: "Get a substring of the string stored at a key", complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", handler: string::getrange, subcommands: &[] },
    Spec { name: "lcs", arity: -3, flags: READONLY, keys: Keys::Range(1, 2, 1), group: "string", since: "7.0.0", summary: "Find longest common substring", complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively", handler: string::lcs, subcommands: &[] },
    Spec { name: "del", arity: -2, flags: WRITE, keys: Keys::Range(1, -1, 1), group: "generic", since: "1.0.0", summary: "Delete a key", complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).", handler: keys::del, subcommands: &[] },
    Spec { name: "unlink", arity: -2, flags: WRITE | FAST, keys: Keys::Range(1, -1, 1), group: "generic", since: "4.0.0", summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.", handler: keys::del, subcommands: &[] },
    Spec { name: "exists", arity: -2, flags: READONLY | FAST, keys: Keys::Range(1, -1, 1), group: "generic", since: "1.0.0", summary: "Determine if a key exists", complexity: "O(N) where N is the number of keys to check.", handler: keys::exists, subcommands: &[] },
    Spec { name: "touch", arity: -2, flags: READONLY | FAST, keys: Keys::Range(1, -1, 1), group: "generic", since: "3.2.1", summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.", complexity: "O(N) where N is the number of keys that will be touched.", handler: keys::touch, subcommands: &[] },
    Spec { name: "type", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "generic", since: "1.0.0", summary: "Determine the type stored at key", complexity: "O(1)", handler: keys::type_, subcommands: &[] },
    Spec { name: "rename", arity: 3, flags: WRITE, keys: Keys::Range(1, 2, 1), group: "generic", since: "1.0.0", summary: "Rename a key", complexity: "O(1)", handler: keys::rename, subcommands: &[] },
    Spec { name: "renamenx", arity: 3, flags: WRITE | FAST, keys: Keys::Range(1, 2, 1), group: "generic", since: "1.0.0", summary: "Rename a key, only if the new key does not exist", complexity: "O(1)", handler: keys::renamenx, subcommands: &[] },
    Spec { name: "copy", arity: -3, flags: WRITE | DENYOOM, keys: Keys::Custom(keys::copy_keys, (1, 2, 1)), group: "generic", since: "6.2.0", summary: "Copy a key", complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.", handler: keys::copy, subcommands: &[] },
    Spec { name: "move", arity: 3, flags: WRITE | FAST, keys: Keys::Custom(keys::move_keys, (1, 1, 1)), group: "generic", since: "1.0.0", summary: "Move a key to another database", complexity: "O(1)", handler: keys::move_, subcommands: &[] },
    Spec { name: "swapdb", arity: 3, flags: WRITE | FAST | WHOLE_KEYSPACE, keys: Keys::None, group: "server", since: "4.0.0", summary: "Swaps two Redis databases", complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.", handler: keys::swapdb, subcommands: &[] },
    Spec { name: "randomkey", arity: 1, flags: READONLY | WHOLE_KEYSPACE, keys: Keys::None, group: "generic", since: "1.0.0", summary: "Return a random key from the keyspace", complexity: "O(1)", handler: keys::randomkey, subcommands: &[] },
    Spec { name: "keys", arity: 2, flags: READONLY | WHOLE_KEYSPACE, keys: Keys::None, group: "generic", since: "1.0.0", summary: "Find all keys matching the given pattern", complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.", handler: keys::keys, subcommands: &[] },
    Spec { name: "scan", arity: -2, flags: READONLY | WHOLE_KEYSPACE, keys: Keys::None, group: "generic", since: "2.8.0", summary: "Incrementally iterate the keys space", complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", handler: keys::scan, subcommands: &[] },
    Spec { name: "expire", arity: -3, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "generic", since: "1.0.0", summary: "Set a key's time to live in seconds", complexity: "O(1)", handler: keys::expire, subcommands: &[] },
    Spec { name: "pexpire", arity: -3, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "generic", since: "2.6.0", summary: "Set a key's time to live in milliseconds", complexity: "O(1)", handler: keys::pexpire, subcommands: &[] },
    Spec { name: "expireat", arity: -3, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "generic", since: "1.2.0", summary: "Set the expiration for a key as a UNIX timestamp", complexity: "O(1)", handler: keys::expireat, subcommands: &[] },
    Spec { name: "pexpireat", arity: -3, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "generic", since: "2.6.0", summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds", complexity: "O(1)", handler: keys::pexpireat, subcommands: &[] },
    Spec { name: "ttl", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "generic", since: "1.0.0", summary: "Get the time to live for a key in seconds", complexity: "O(1)", handler: keys::ttl, subcommands: &[] },
    Spec { name: "pttl", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "generic", since: "2.6.0", summary: "Get the time to live for a key in milliseconds", complexity: "O(1)", handler: keys::pttl, subcommands: &[] },
    Spec { name: "expiretime", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "generic", since: "7.0.0", summary: "Get the expiration Unix timestamp for a key", complexity: "O(1)", handler: keys::expiretime, subcommands: &[] },
    Spec { name: "pexpiretime", arity: 2, flags: READONLY | FAST, keys: Keys::Range(1, 1, 1), group: "generic", since: "7.0.0", summary: "Get the expiration Unix timestamp for a key in milliseconds", complexity: "O(1)", handler: keys::pexpiretime, subcommands: &[] },
    Spec { name: "persist", arity: 2, flags: WRITE | FAST, keys: Keys::Range(1, 1, 1), group: "generic", since: "2.2.0", summary: "Remove the expiration from a key", complexity: "O(1)", handler: keys::persist, subcommands: &[] },
    Spec { name: "dbsize", arity: 1, flags: READONLY | FAST | WHOLE_KEYSPACE, keys: Keys::None, group: "server", since: "1.0.0", summary: "Return the number of keys in the selected database", complexity: "O(1)", handler: keys::dbsize, subcommands: &[] },
    Spec { name: "flushdb", arity: -1, flags: WRITE | WHOLE_KEYSPACE, keys: Keys::None, group: "server", since: "1.0.0", summary: "Remove all keys from the current database", complexity: "O(N) where N is the number of keys in the selected database", handler: keys::flushdb, subcommands: &[] },
    Spec { name: "flushall", arity: -1, flags: WRITE | WHOLE_KEYSPACE, keys: Keys::None, group: "server", since: "1.0.0", summary: "Remove all keys from all databases", complexity: "O(N) where N is the total number of keys in all databases", handler: keys::flushall, subcommands: &[] },
    Spec { name: "info", arity: -1, flags: LOADING | STALE | WHOLE_KEYSPACE, keys: Keys::None, group: "server", since: "1.0.0", summary: "Get information and statistics about the server", complexity: "O(1)", handler: server::info, subcommands: &[] },
    Spec { name: "time", arity: 1, flags: LOADING | STALE | FAST, keys: Keys::None, group: "server", since: "2.6.0", summary: "Return the current server time", complexity: "O(1)", handler: server::time, subcommands: &[] },
    Spec { name: "lastsave", arity: 1, flags: LOADING | STALE | FAST, keys: Keys::None, group: "server", since: "1.0.0", summary: "Get the UNIX time stamp of the last successful save to disk", complexity: "O(1)", handler: server::lastsave, subcommands: &[] },
    Spec { name: "shutdown", arity: -1, flags: ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY, keys: Keys::None, group: "server", since: "1.0.0", summary: "Synchronously save the dataset to disk and then shut down the server", complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)", handler: server::shutdown, subcommands: &[] },
    Spec { name: "debug", arity: -2, flags: ADMIN | NOSCRIPT | LOADING | STALE | WHOLE_KEYSPACE, keys: Keys::None, group: "server", since: "1.0.0", summary: "A container for debugging commands", complexity: "Depends on subcommand.", handler: server::debug, subcommands: &[] },
    Spec { name: "multi", arity: 1, flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, keys: Keys::None, group: "transactions", since: "1.2.0", summary: "Mark the start of a transaction block", complexity: "O(1)", handler: transaction::multi, subcommands: &[] },
    Spec { name: "exec", arity: 1, flags: NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG, keys: Keys::None, group: "transactions", since: "1.2.0", summary: "Execute all commands issued after MULTI", complexity: "Depends on commands in the transaction", handler: transaction::exec, subcommands: &[] },
    Spec { name: "discard", arity: 1, flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, keys: Keys::None, group: "transactions", since: "2.0.0", summary: "Discard all commands issued after MULTI", complexity: "O(N), when N is the number of queued commands", handler: transaction::discard, subcommands: &[] },
    Spec { name: "client", arity: -2, flags: 0, keys: Keys::None, group: "connection", since: "2.4.0", summary: "A container for client connection commands", complexity: "Depends on subcommand.", handler: container, subcommands: CLIENT_SUBCOMMANDS },
    Spec { name: "object", arity: -2, flags: 0, keys: Keys::None, group: "generic", since: "2.2.3", summary: "A container for object introspection commands", complexity: "Depends on subcommand.", handler: container, subcommands: OBJECT_SUBCOMMANDS },
    Spec { name: "command", arity: -1, flags: LOADING | STALE, keys: Keys::None, group: "server", since: "2.8.13", summary: "Get array of Redis command details", complexity: "Depends on subcommand.", handler: server::command, subcommands: COMMAND_SUBCOMMANDS },
    Spec { name: "config", arity: -2, flags: 0, keys: Keys::None, group: "server", since: "2.0.0", summary: "A container for server configuration commands", complexity: "Depends on subcommand.", handler: container, subcommands: CONFIG_SUBCOMMANDS },
    Spec { name: "slowlog", arity: -2, flags: 0, keys: Keys::None, group: "server", since: "2.2.12", summary: "A container for slow log commands", complexity: "Depends on subcommand.", handler: container, subcommands: SLOWLOG_SUBCOMMANDS },
    Spec { name: "memory", arity: -2, flags: 0, keys: Keys::None, group: "server", since: "4.0.0", summary: "A container for memory diagnostics commands", complexity: "Depends on subcommand.", handler: container, subcommands: MEMORY_SUBCOMMANDS },
];

/// The compact id of a top-level command (index `i`) or of its subcommand
/// `j`, as stored for CLIENT LIST's `cmd=`.
pub fn command_id(i: usize, sub: Option<usize>) -> u16 {
    match sub {
        None => i as u16,
        Some(j) => (((j + 1) << 9) | i) as u16,
    }
}

/// The full name (`get`, `client|list`) of a command id.
pub fn full_name_by_index(id: usize) -> String {
    let (i, j) = (id & 0x1ff, id >> 9);
    let Some(top) = COMMANDS.get(i) else {
        return "NULL".into();
    };
    match j.checked_sub(1).and_then(|j| top.subcommands.get(j)) {
        Some(sub) => format!("{}|{}", top.name, sub.name),
        None => top.name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_lower_case() {
        let mut seen = HashSet::new();
        for s in COMMANDS {
            assert!(seen.insert(s.name), "duplicate {}", s.name);
            assert_eq!(s.name, s.name.to_ascii_lowercase());
            let mut subs = HashSet::new();
            for sub in s.subcommands {
                assert!(subs.insert(sub.name), "duplicate {}|{}", s.name, sub.name);
            }
        }
        assert!(
            COMMANDS.len() < 512,
            "ids need 9 bits for top-level commands"
        );
        assert!(COMMANDS.iter().all(|s| s.subcommands.len() < 127));
    }

    #[test]
    fn ids_round_trip_to_names() {
        let i = COMMANDS.iter().position(|s| s.name == "client").unwrap();
        let j = COMMANDS[i]
            .subcommands
            .iter()
            .position(|s| s.name == "list")
            .unwrap();
        assert_eq!(
            full_name_by_index(command_id(i, Some(j)) as usize),
            "client|list"
        );
        let g = COMMANDS.iter().position(|s| s.name == "get").unwrap();
        assert_eq!(full_name_by_index(command_id(g, None) as usize), "get");
    }

    #[test]
    fn whole_keyspace_commands_have_no_key_range() {
        for s in COMMANDS.iter().filter(|s| s.has(WHOLE_KEYSPACE)) {
            assert!(matches!(s.keys, Keys::None), "{}", s.name);
        }
    }
}
