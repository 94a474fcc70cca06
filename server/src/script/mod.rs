//! Lua scripting: the script cache, the Lua state each event loop runs
//! scripts in, the bridge from `redis.call` to the command table, and the
//! libraries Redis gives scripts.
//!
//! * [`Scripts`] is the server's cache of EVAL bodies by SHA1 (what SCRIPT
//!   LOAD, EXISTS and FLUSH see), shared by every loop.
//! * [`engine`] holds one Lua 5.1 state per thread, sandboxed as Redis
//!   7.0's (read-only globals, no `os`/`io`/`print`, no bytecode), and runs
//!   a script in it.
//! * [`bridge`] is `redis.call`/`redis.pcall`: a script is a client without
//!   a socket, and its commands go through the same table, checks and
//!   handlers as a network client's. It also owns the locking around a
//!   script (see [`bridge`] for why it is deadlock-free).
//! * [`convert`] is Redis's Lua ↔ RESP conversion.
//! * [`function`] holds Redis 7.0's function libraries (FUNCTION LOAD,
//!   FCALL): the registry every loop shares and each thread's Lua state
//!   for them.
//! * [`lualib`] holds `cjson`, `cmsgpack`, `bit` and `struct`.

pub mod bridge;
pub mod busy;
pub mod convert;
pub mod engine;
pub mod function;
pub mod lualib;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

/// Script flags from a `#!lua flags=...` shebang (Redis's
/// `SCRIPT_FLAG_*`).
pub mod flags {
    /// `no-writes`
    pub const NO_WRITES: u32 = 1 << 0;
    /// `allow-oom`
    pub const ALLOW_OOM: u32 = 1 << 1;
    /// `allow-stale`
    pub const ALLOW_STALE: u32 = 1 << 2;
    /// `no-cluster`
    pub const NO_CLUSTER: u32 = 1 << 3;
    /// An EVAL script without a shebang: Redis 6 compatible rules.
    pub const EVAL_COMPAT: u32 = 1 << 4;
    /// `allow-cross-slot-keys`
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 5;

    /// The names a shebang or `register_function` may use, in Redis's
    /// order.
    pub const NAMES: &[(u32, &str)] = &[
        (NO_WRITES, "no-writes"),
        (ALLOW_OOM, "allow-oom"),
        (ALLOW_STALE, "allow-stale"),
        (NO_CLUSTER, "no-cluster"),
        (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];
}

/// A script body in the cache.
#[derive(Debug)]
pub struct Script {
    /// The body as sent, shebang included.
    pub body: Box<[u8]>,
    /// [`flags`] bits.
    pub flags: u32,
    /// Bytes of the shebang line (without its `\n`), skipped when
    /// compiling so line numbers stay the user's.
    pub shebang_len: usize,
}

/// The 40 lower-case hex digits of a SHA1.
pub type Sha = [u8; 40];

/// The SHA1 of `data` in lower-case hex (`redis.sha1hex`, script names).
pub fn sha1hex(data: &[u8]) -> Sha {
    let digest = sha1_smol::Sha1::from(data).digest().bytes();
    let mut out = [0u8; 40];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in digest.iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    out
}

/// Lower-cases a 40-byte SHA given by a client; `None` for another length.
pub fn sha_arg(arg: &[u8]) -> Option<Sha> {
    let mut sha: Sha = arg.try_into().ok()?;
    sha.make_ascii_lowercase();
    Some(sha)
}

/// Parses a script's `#!` line, as Redis's `evalExtractShebangFlags`:
/// `(flags, shebang length)`; a body without one gets
/// [`flags::EVAL_COMPAT`].
pub fn shebang(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((flags::EVAL_COMPAT, 0));
    }
    let Some(end) = memchr::memchr(b'\n', body) else {
        return Err("Invalid script shebang".into());
    };
    let line = String::from_utf8_lossy(&body[..end]);
    let parts: Vec<&str> = line.split_ascii_whitespace().collect();
    let Some(engine) = parts.first() else {
        return Err("Invalid engine in script shebang".into());
    };
    if *engine != "#!lua" {
        return Err(format!("Unexpected engine in script shebang: {engine}"));
    }
    let mut bits = 0;
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(format!("Unknown lua shebang option: {part}"));
        };
        for name in list.split(',') {
            // sdssplitlen gives nothing for an empty list.
            if list.is_empty() {
                break;
            }
            match flags::NAMES.iter().find(|(_, n)| *n == name) {
                Some((bit, _)) => bits |= bit,
                None => return Err(format!("Unexpected flag in script shebang: {name}")),
            }
        }
    }
    Ok((bits, end))
}

/// Redis's `scriptFlagsToCmdFlags`: a script that declared flags runs
/// with `write`, `denyoom` and `stale` as they say (`no-writes` implies
/// `allow-oom`), and without `may-replicate`.
pub fn script_flags_to_cmd_flags(cmd: u32, script: u32) -> u32 {
    use crate::cmd::flags::{DENYOOM, MAY_REPLICATE, STALE, WRITE};
    let mut f = cmd & !(STALE | DENYOOM | WRITE);
    if script & (flags::ALLOW_OOM | flags::NO_WRITES) == 0 {
        f |= DENYOOM;
    }
    if script & flags::NO_WRITES == 0 {
        f |= WRITE;
    }
    if script & flags::ALLOW_STALE != 0 {
        f |= STALE;
    }
    f & !MAY_REPLICATE
}

/// The flags a call runs with, for the checks before it (OOM, MISCONF,
/// CLIENT PAUSE): its row's, except EVAL/EVALSHA/FCALL and their `_RO`
/// forms, whose script's shebang or function's flags replace them, as
/// Redis's `evalGetCommandFlags` and `fcallGetCommandFlags` do. Only the
/// refusal paths ask, never the common one.
pub fn command_flags(
    spec: &crate::cmd::Spec,
    argv: &[&[u8]],
    shared: &crate::shared::Shared,
) -> u32 {
    let Some(&first) = argv.get(1) else {
        return spec.flags;
    };
    let script = match spec.name {
        "eval" | "eval_ro" => shared
            .scripts
            .get(&sha1hex(first))
            .map(|s| s.flags)
            .or_else(|| shebang(first).ok().map(|(f, _)| f)),
        "evalsha" | "evalsha_ro" => sha_arg(first)
            .and_then(|sha| shared.scripts.get(&sha))
            .map(|s| s.flags),
        "fcall" | "fcall_ro" => shared
            .functions
            .find(first)
            .map(|(lib, i)| lib.functions[i].flags),
        _ => None,
    };
    match script {
        Some(f) if f & flags::EVAL_COMPAT == 0 => script_flags_to_cmd_flags(spec.flags, f),
        _ => spec.flags,
    }
}

/// Bumped by every SCRIPT FLUSH: each thread's Lua state drops its
/// compiled scripts when it sees a new value.
static FLUSHES: AtomicU64 = AtomicU64::new(0);

/// The EVAL script cache, shared by every event loop.
#[derive(Debug, Default)]
pub struct Scripts {
    by_sha: RwLock<HashMap<Sha, Arc<Script>, ahash::RandomState>>,
    /// Bytes of bodies and SHAs held (`used_memory_scripts_eval`).
    bytes: AtomicUsize,
}

impl Scripts {
    /// The script with this SHA.
    pub fn get(&self, sha: &Sha) -> Option<Arc<Script>> {
        self.read().get(sha).cloned()
    }

    /// True when a script with this SHA is cached.
    pub fn contains(&self, sha: &Sha) -> bool {
        self.read().contains_key(sha)
    }

    /// Caches `body` (after checking its shebang) and returns its SHA and
    /// entry; an existing entry is returned as it is.
    pub fn add(&self, body: &[u8]) -> Result<(Sha, Arc<Script>), String> {
        let sha = sha1hex(body);
        if let Some(s) = self.get(&sha) {
            return Ok((sha, s));
        }
        let (flags, shebang_len) = shebang(body)?;
        let script = Arc::new(Script {
            body: body.into(),
            flags,
            shebang_len,
        });
        let mut map = self.by_sha.write().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(sha).or_insert_with(|| {
            self.bytes.fetch_add(body.len() + 40, Ordering::Relaxed);
            script
        });
        Ok((sha, entry.clone()))
    }

    /// SCRIPT FLUSH: forgets every script, here and in every thread's Lua
    /// state.
    pub fn flush(&self) {
        let old = std::mem::take(&mut *self.by_sha.write().unwrap_or_else(|p| p.into_inner()));
        self.bytes.store(0, Ordering::Relaxed);
        FLUSHES.fetch_add(1, Ordering::Relaxed);
        drop(old);
    }

    /// How many scripts are cached (`number_of_cached_scripts`).
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// True when no script is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the cache holds.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    fn read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, HashMap<Sha, Arc<Script>, ahash::RandomState>> {
        self.by_sha.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// How many SCRIPT FLUSHes this process has seen.
pub(crate) fn flushes() -> u64 {
    FLUSHES.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1hex_is_lower_case_hex_of_the_digest() {
        assert_eq!(
            &sha1hex(b"return 1"),
            b"e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
        );
    }

    #[test]
    fn shebang_flags_and_errors_are_redis_s() {
        assert_eq!(shebang(b"return 1"), Ok((flags::EVAL_COMPAT, 0)));
        assert_eq!(shebang(b"#!lua\nreturn 1"), Ok((0, 5)));
        assert_eq!(
            shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1"),
            Ok((flags::NO_WRITES | flags::ALLOW_OOM, 31))
        );
        assert_eq!(shebang(b"#!lua flags=\nx"), Ok((0, 12)));
        assert_eq!(shebang(b"#!lua"), Err("Invalid script shebang".into()));
        assert_eq!(
            shebang(b"#!python\nx"),
            Err("Unexpected engine in script shebang: #!python".into())
        );
        assert_eq!(
            shebang(b"#!lua flags=bad\nx"),
            Err("Unexpected flag in script shebang: bad".into())
        );
        assert_eq!(
            shebang(b"#!lua other=1\nx"),
            Err("Unknown lua shebang option: other=1".into())
        );
    }
}
