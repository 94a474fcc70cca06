//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: Lua scripts (the engine
//! is [`crate::script`]).

use std::cell::RefCell;
use std::sync::Arc;

use super::flags::*;
use super::{cat, ks, Ctx, Keys, Spec};
use crate::client::{Client, ClientMeta};
use crate::db::ShardId;
use crate::error::{CmdError, CmdResult};
use crate::script::{self, bridge::Run, convert::Written, engine, flags as sflags, Script, Sha};

thread_local! {
    /// The client a thread's scripts run their commands as (Redis's lua
    /// client), made once.
    static SCRIPT_CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
}

fn take_script_client(c: &Ctx<'_>) -> Client {
    SCRIPT_CLIENT
        .with(|s| s.borrow_mut().take())
        .unwrap_or_else(|| {
            let meta = Arc::new(ClientMeta::new(
                c.shared.next_client_id(),
                "lua".into(),
                String::new(),
                -1,
                false,
                crate::shared::unix_ms(),
                0,
            ));
            let mut client = Client::new(meta, true);
            // A script's commands never block (Redis's CLIENT_DENY_BLOCKING).
            client.in_exec = true;
            client
        })
}

fn give_back_script_client(client: Client) {
    SCRIPT_CLIENT.with(|s| *s.borrow_mut() = Some(client));
}

const NOSCRIPT_ERR: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// EVAL script numkeys [key ...] [arg ...]
pub fn eval(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    eval_generic(c, a, false, false)
}

/// EVAL_RO script numkeys [key ...] [arg ...]
pub fn eval_ro(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    eval_generic(c, a, false, true)
}

/// EVALSHA sha1 numkeys [key ...] [arg ...]
pub fn evalsha(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    eval_generic(c, a, true, false)
}

/// EVALSHA_RO sha1 numkeys [key ...] [arg ...]
pub fn evalsha_ro(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    eval_generic(c, a, true, true)
}

/// Caches a script body after compiling it (Redis's `luaCreateFunction`:
/// a body that does not compile is not cached).
fn create(c: &Ctx<'_>, body: &[u8]) -> Result<(Sha, Arc<Script>), CmdError> {
    let sha = script::sha1hex(body);
    if let Some(s) = c.shared.scripts.get(&sha) {
        return Ok((sha, s));
    }
    let (flags, shebang_len) =
        script::shebang(body).map_err(|e| CmdError::msg(format!("ERR {e}")))?;
    let candidate = Script {
        body: body.into(),
        flags,
        shebang_len,
    };
    engine::with(|e| e.function(&sha, &candidate))
        .map_err(|e| CmdError::msg(format!("ERR {e}")))?;
    c.shared
        .scripts
        .add(body)
        .map_err(|e| CmdError::msg(format!("ERR {e}")))
}

/// The MONITOR line of the command running a script, fed before the
/// script's own commands' (EVAL's and FCALL's rows skip the line after the
/// call).
pub(crate) fn monitor_before_script(c: &mut Ctx<'_>, a: &[&[u8]]) {
    if c.shared.monitors.any() {
        c.shared
            .monitors
            .feed(c.outbox, c.client.db, &c.client.meta, a, &c.client.redacted);
    }
}

fn eval_generic(c: &mut Ctx<'_>, a: &[&[u8]], by_sha: bool, ro: bool) -> CmdResult {
    monitor_before_script(c, a);
    if by_sha && a[1].len() != 40 {
        return Err(CmdError::msg(NOSCRIPT_ERR));
    }
    let numkeys = super::args::int(a[2])?;
    if numkeys > (a.len() - 3) as i64 {
        return Err(CmdError::msg(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if numkeys < 0 {
        return Err(CmdError::msg("ERR Number of keys can't be negative"));
    }
    let (sha, script) = if by_sha {
        let Some(sha) = script::sha_arg(a[1]) else {
            return Err(CmdError::msg(NOSCRIPT_ERR));
        };
        match c.shared.scripts.get(&sha) {
            Some(s) => (sha, s),
            None => return Err(CmdError::msg(NOSCRIPT_ERR)),
        }
    } else {
        create(c, a[1])?
    };
    let function = engine::with(|e| e.function(&sha, &script))
        .map_err(|e| CmdError::msg(format!("ERR {e}")))?;
    let sflags = script.flags;
    let oom = prepare_for_run(c, sflags, ro)?;
    let n = numkeys as usize;
    let (keys, args) = (&a[3..3 + n], &a[3 + n..]);
    let name = std::str::from_utf8(&sha).unwrap_or_default();
    let compat = sflags & sflags::EVAL_COMPAT != 0;
    let read_only = ro || (!compat && sflags & sflags::NO_WRITES != 0);
    let allow_oom = !compat && sflags & sflags::ALLOW_OOM != 0;
    script::busy::note_command(a);
    run_script(
        c,
        |run| engine::with(|e| e.run(&function, name, keys, args, run)),
        |run| {
            run.read_only = read_only;
            run.allow_oom = allow_oom;
            run.oom_at_start = oom;
        },
    );
    Ok(())
}

/// The checks Redis's `scriptPrepareForRun` makes of a script's flags
/// before it runs (EVAL with a shebang, FCALL): whether writes may
/// persist, `*_RO`, `allow-oom`. Returns whether memory was over
/// `maxmemory` when it started. (`no-cluster`, `allow-stale` and
/// `allow-cross-slot-keys` have nothing to refuse without cluster mode
/// or replication.)
pub fn prepare_for_run(c: &Ctx<'_>, sflags: u32, ro: bool) -> Result<bool, CmdError> {
    let compat = sflags & sflags::EVAL_COMPAT != 0;
    let oom = crate::evict::maxmemory() != 0 && crate::evict::over_limit(c.shared, c.ks.now);
    if !compat {
        if sflags & sflags::NO_WRITES == 0 {
            if !c.client.replaying && crate::cmd::dispatch::disk_error(c.shared).is_some() {
                return Err(CmdError::msg(if c.shared.persist.aof.write_failed() {
                    format!(
                        "MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: {}",
                        c.shared.persist.aof.last_error()
                    )
                } else {
                    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.".to_string()
                }));
            }
            if ro {
                return Err(CmdError::msg(
                    "ERR Can not execute a script with write flag using *_ro command.",
                ));
            }
        }
        if oom && sflags & (sflags::ALLOW_OOM | sflags::NO_WRITES) == 0 && !c.client.replaying {
            return Err(CmdError::msg(
                "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'",
            ));
        }
    }
    Ok(oom)
}

/// Runs a script (`invoke` runs one attempt) for the caller in `c`, starting again (holding
/// one more shard) each time an attempt meets a key it did not declare
/// held by someone else before writing anything (see
/// [`crate::script::bridge`]).
pub fn run_script(
    c: &mut Ctx<'_>,
    invoke: impl Fn(&mut Run<'_, '_>) -> Written,
    setup: impl Fn(&mut Run<'_, '_>),
) {
    let reply_start = c.out.buf.len();
    let mut script_client = take_script_client(c);
    loop {
        script_client.select(c.client.db);
        let mut run = Run::new(c, script_client);
        setup(&mut run);
        let written = invoke(&mut run);
        let restart = run.restart;
        script_client = run.script_client;
        if let Some(id) = restart {
            // Again, holding from the start what the attempt held (its
            // declared keys and those it took on the way) and the shard
            // it could not take.
            c.out.buf.truncate(reply_start);
            let mut ids: Vec<ShardId> = c.ks.held_ids();
            ids.push(id);
            let (db, now) = (c.ks.db, c.ks.now);
            c.ks = c.shared.keyspace.unlocked(db, now);
            c.ks = c.shared.keyspace.lock(&mut ids, db, now);
            continue;
        }
        match written {
            Written::Error => c.stats.count_error(&c.out.buf[reply_start..]),
            Written::ErrorCounted => c.stats.fail_without_error(),
            Written::Value => {}
        }
        if script::busy::take_stopped_for_shutdown() {
            super::propagate::discard();
        }
        break;
    }
    give_back_script_client(script_client);
}

/// The keys of an EVAL-like call: `numkeys` keys after `numkeys`.
pub fn eval_keys<'x>(a: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    super::list::mpop_keys_at(a, 2, db, out);
}

/// SCRIPT LOAD script
pub fn script_load(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (sha, _) = create(c, a[2])?;
    c.out.bulk(&sha);
    Ok(())
}

/// SCRIPT EXISTS sha1 [sha1 ...]
pub fn script_exists(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    c.out.array(a.len() - 2);
    for sha in &a[2..] {
        let found = script::sha_arg(sha).is_some_and(|s| c.shared.scripts.contains(&s));
        c.out.int(found as i64);
    }
    Ok(())
}

/// SCRIPT FLUSH [ASYNC|SYNC]
pub fn script_flush(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let ok = match a.len() {
        2 => true,
        3 => a[2].eq_ignore_ascii_case(b"sync") || a[2].eq_ignore_ascii_case(b"async"),
        _ => false,
    };
    if !ok {
        return Err(CmdError::msg(
            "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
        ));
    }
    c.shared.scripts.flush();
    c.out.ok();
    Ok(())
}

/// SCRIPT KILL
pub fn script_kill(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    script::busy::kill(true)?;
    c.out.ok();
    Ok(())
}

/// SCRIPT DEBUG YES|SYNC|NO
pub fn script_debug(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a[2].eq_ignore_ascii_case(b"no") {
        c.out.ok();
        return Ok(());
    }
    if a[2].eq_ignore_ascii_case(b"yes") || a[2].eq_ignore_ascii_case(b"sync") {
        return Err(CmdError::msg(
            "ERR SCRIPT DEBUG (the Lua debugger) is not supported by soquete",
        ));
    }
    Err(CmdError::msg("ERR Use SCRIPT DEBUG YES/SYNC/NO"))
}

const SCRIPT_HELP: &[&str] = &[
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
];

/// SCRIPT HELP
pub fn script_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(SCRIPT_HELP);
    Ok(())
}

// ---- command table rows ----

/// EVAL's and FCALL's key specification (Redis's, with its note).
pub(crate) const EVAL_KEYS_RW: &[ks::KeySpec] = &[ks::KeySpec {
    notes: Some("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"),
    flags: ks::RW | ks::ACCESS | ks::UPDATE,
    begin: ks::Index(2),
    find: ks::Keynum(0, 1, 1),
}];
const EVALSHA_KEYS_RW: &[ks::KeySpec] = &[ks::spec(
    ks::RW | ks::ACCESS | ks::UPDATE,
    ks::Index(2),
    ks::Keynum(0, 1, 1),
)];
/// EVAL_RO's and FCALL_RO's key specification.
pub(crate) const EVAL_KEYS_RO: &[ks::KeySpec] = &[ks::KeySpec {
    notes: Some("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"),
    flags: ks::RO | ks::ACCESS,
    begin: ks::Index(2),
    find: ks::Keynum(0, 1, 1),
}];
const EVALSHA_KEYS_RO: &[ks::KeySpec] = &[ks::spec(
    ks::RO | ks::ACCESS,
    ks::Index(2),
    ks::Keynum(0, 1, 1),
)];

const EVAL_FLAGS: u32 =
    NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE | MOVABLE_KEYS;
const EVAL_RO_FLAGS: u32 =
    READONLY | NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | MOVABLE_KEYS;

/// A keyless subcommand row of the scripting group (SCRIPT's, FUNCTION's).
pub(crate) const fn script_sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: super::Handler,
    tips: &'static [&'static str],
) -> Spec {
    Spec {
        name,
        arity,
        flags,
        keys: Keys::None,
        group: "scripting",
        handler,
        acl: cat::SCRIPTING,
        key_specs: &[],
        tips,
        subcommands: &[],
    }
}

/// This group's rows of the command table.
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "eval",
        arity: -3,
        flags: EVAL_FLAGS,
        keys: Keys::Custom(eval_keys),
        group: "scripting",
        handler: eval,
        acl: cat::SCRIPTING,
        key_specs: EVAL_KEYS_RW,
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "evalsha",
        arity: -3,
        flags: EVAL_FLAGS,
        keys: Keys::Custom(eval_keys),
        group: "scripting",
        handler: evalsha,
        acl: cat::SCRIPTING,
        key_specs: EVALSHA_KEYS_RW,
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "eval_ro",
        arity: -3,
        flags: EVAL_RO_FLAGS,
        keys: Keys::Custom(eval_keys),
        group: "scripting",
        handler: eval_ro,
        acl: cat::SCRIPTING,
        key_specs: EVAL_KEYS_RO,
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "evalsha_ro",
        arity: -3,
        flags: EVAL_RO_FLAGS,
        keys: Keys::Custom(eval_keys),
        group: "scripting",
        handler: evalsha_ro,
        acl: cat::SCRIPTING,
        key_specs: EVALSHA_KEYS_RO,
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "script",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "scripting",
        handler: super::table::container,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[
            script_sub("debug", 3, NOSCRIPT, script_debug, &[]),
            script_sub(
                "exists",
                -3,
                NOSCRIPT,
                script_exists,
                &[
                    "request_policy:all_shards",
                    "response_policy:agg_logical_and",
                ],
            ),
            script_sub(
                "flush",
                -2,
                NOSCRIPT,
                script_flush,
                &["request_policy:all_nodes", "response_policy:all_succeeded"],
            ),
            script_sub("help", 2, LOADING | STALE, script_help, &[]),
            script_sub(
                "kill",
                2,
                NOSCRIPT | ALLOW_BUSY,
                script_kill,
                &["request_policy:all_shards", "response_policy:one_succeeded"],
            ),
            script_sub(
                "load",
                3,
                NOSCRIPT | STALE,
                script_load,
                &["request_policy:all_nodes", "response_policy:all_succeeded"],
            ),
        ],
    },
];
