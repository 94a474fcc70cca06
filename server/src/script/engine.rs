//! One Lua 5.1 state per thread, set up as Redis 7.0 sets up its own, and
//! the running of one script in it.
//!
//! Lua states are not thread-safe, so each event loop has its own (made on
//! its first script). What a script can see is the same in all of them:
//! the global table is read-only (a script can neither add nor change a
//! global, and reading one that does not exist is an error), the library
//! tables are read-only, there is no `os`, `io`, `print`, `dofile` or
//! `loadfile`, and `loadstring` refuses bytecode. So a script cannot leave
//! state behind for the next, and which loop runs it cannot be observed.
//!
//! The globals live in one table (`G`); scripts run with an environment
//! (`P`) that is an empty table reading through to `G` and refusing
//! writes, and each library table is replaced by such a proxy. Redis
//! marks its tables read-only inside its patched Lua; this gets the same
//! behaviour from an unpatched one.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};

use super::convert::{self, ReplyRules, Written};
use super::{Script, Sha};
use crate::reply::Reply;

/// What the engine needs from whoever runs a script: running commands for
/// `redis.call`, and the reply being written.
pub trait Host {
    /// Runs one command for the script; `Ok` with its reply (in the
    /// protocol the script chose), or `Err` with the error a check
    /// refused it with before it ran (Redis's `scriptCall` errors).
    fn call(&mut self, argv: &[&[u8]], resp3: bool) -> Result<Vec<u8>, String>;

    /// The caller's reply.
    fn out(&mut self) -> &mut Reply;

    /// True for EVAL scripts, false for functions (which KILL command
    /// stops them, and how BUSY errors name it).
    fn eval_mode(&self) -> bool {
        true
    }
}

/// The state of the running script that Lua functions read.
struct RunState {
    running: Cell<bool>,
    resp3: Cell<bool>,
    /// `redis.set_repl` flags (`REPL_AOF` = 1, `REPL_REPLICA` = 2).
    repl: Cell<u8>,
}

thread_local! {
    static RUN: RunState = const {
        RunState {
            running: Cell::new(false),
            resp3: Cell::new(false),
            repl: Cell::new(3),
        }
    };
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

/// True while this thread runs a script: the commands it calls see it
/// (Redis's `CLIENT_SCRIPT` flag on the script's client).
pub fn running() -> bool {
    RUN.with(|r| r.running.get())
}

/// `redis.set_repl` flags of the running script (1: AOF, 2: replicas).
pub fn repl_flags() -> u8 {
    RUN.with(|r| r.repl.get())
}

/// The state of Redis's `redisLrand48`: one sequence for the whole
/// process, seeded as `srand48` leaves it, which `math.random` draws from
/// and `math.randomseed` reseeds.
static RAND48: AtomicU64 = AtomicU64::new(0x1234_ABCD_330E);

fn lrand48() -> i32 {
    const A: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;
    let mut cur = RAND48.load(Ordering::Relaxed);
    loop {
        let next = (cur.wrapping_mul(A).wrapping_add(0xB)) & MASK;
        match RAND48.compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return (next >> 17) as i32,
            Err(now) => cur = now,
        }
    }
}

fn srand48(seed: i32) {
    let seed = seed as u32 as u64;
    RAND48.store((seed << 16) | 0x330E, Ordering::Relaxed);
}

/// The sandbox, in Lua: read-only proxies, Redis's `pcall`, and the
/// `loadstring`/`load`/`rawset`/`getfenv`/`setfenv` that keep a script
/// inside its environment.
const SANDBOX: &str = r#"
local G, P, chunkid, unwrap = ...
local error, type, select, rawset, setmetatable, getfenv, setfenv, loadstring, pcall, tostring =
      error, type, select, rawset, setmetatable, getfenv, setfenv, loadstring, pcall, tostring
local protected = setmetatable({}, {__mode = 'k'})
local function readonly() error('Attempt to modify a readonly table', 2) end
local function proxy(t)
  local p = setmetatable({}, {__index = t, __newindex = readonly, __metatable = false})
  protected[p] = true
  return p
end
for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'cjson', 'bit', 'struct', 'cmsgpack'}) do
  if G[name] ~= nil then rawset(G, name, proxy(G[name])) end
end
getmetatable('').__index = G.string
getmetatable('').__metatable = false

local redis = rawget(G, 'redis')
rawset(G, 'redis', proxy(redis))

local function finish(ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == 'userdata' then e = unwrap(e) end
  if type(e) == 'table' then
    local m = e.err
    if type(m) == 'string' or type(m) == 'number' then e = m end
  end
  return false, e
end
rawset(G, 'pcall', function(f, ...) return finish(pcall(f, ...)) end)

local function guarded_loadstring(s, name)
  if type(s) == 'string' and s:byte(1) == 27 then
    return nil, chunkid(name or s) .. ":1: unexpected symbol near 'char(27)'"
  end
  local f, e = loadstring(s, name)
  if f then setfenv(f, P) end
  return f, e
end
rawset(G, 'loadstring', guarded_loadstring)
rawset(G, 'load', function(reader, name)
  if type(reader) ~= 'function' then error("bad argument #1 to 'load' (function expected, got " .. type(reader) .. ")", 2) end
  local parts = {}
  while true do
    local piece = reader()
    if piece == nil or piece == '' then break end
    if type(piece) ~= 'string' then return nil, 'reader function must return a string' end
    parts[#parts + 1] = piece
  end
  return guarded_loadstring(table.concat(parts), name or '=(load)')
end)
rawset(G, 'rawset', function(t, k, v)
  if protected[t] or t == G then error('Attempt to modify a readonly table', 0) end
  return rawset(t, k, v)
end)
-- Redis 7.0.15 as Debian builds it has none of these.
rawset(G, 'getfenv', nil)
rawset(G, 'setfenv', nil)
rawset(G, 'newproxy', nil)
rawset(G, 'setmetatable', function(t, mt)
  if protected[t] or t == G then error('Attempt to modify a readonly table', 0) end
  return setmetatable(t, mt)
end)
rawset(G, '_G', P)
setmetatable(G, {__index = function(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end, __metatable = false})
setmetatable(P, {__index = G, __newindex = readonly, __metatable = false})
protected[P] = true
"#;

/// Lua 5.1's `luaO_chunkid` for a string source: how an error names a
/// chunk loaded by `loadstring`.
fn chunkid(source: &[u8]) -> String {
    match source.first() {
        Some(b'=') => String::from_utf8_lossy(&source[1..source.len().min(60)]).into_owned(),
        Some(b'@') => {
            let rest = &source[1..];
            if rest.len() > 59 - 3 {
                format!("...{}", String::from_utf8_lossy(&rest[rest.len() - 56..]))
            } else {
                String::from_utf8_lossy(rest).into_owned()
            }
        }
        _ => {
            // A C string: it ends at the first NUL.
            let source = &source[..source.iter().position(|&b| b == 0).unwrap_or(source.len())];
            let line_end = source
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
                .unwrap_or(source.len());
            let max = 60 - 15;
            let len = line_end.min(max);
            let mut s = String::from("[string \"");
            s.push_str(&String::from_utf8_lossy(&source[..len]));
            if len < source.len() {
                s.push_str("...");
            }
            s.push_str("\"]");
            s
        }
    }
}

/// An EVAL script's `KEYS` and `ARGV`.
type KeysArgs<'x> = (&'x [&'x [u8]], &'x [&'x [u8]]);

/// A thread's Lua state.
pub struct Engine {
    lua: Lua,
    globals: Table,
    env: Table,
    xpcall: Function,
    handler: Function,
    compiled: HashMap<Sha, Function, ahash::RandomState>,
    flushes_seen: u64,
    runs: u32,
    /// This state's entry in [`STATE_BYTES`] (EVAL states only).
    bytes: Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
}

/// Runs `f` with this thread's engine, made on first use.
pub fn with<R>(f: impl FnOnce(&mut Engine) -> R) -> R {
    ENGINE.with(|e| {
        let mut e = e.borrow_mut();
        let engine = e.get_or_insert_with(|| {
            let mut engine = Engine::new().expect("the Lua state sets up");
            let bytes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(
                engine.lua.used_memory(),
            ));
            STATE_BYTES
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(bytes.clone());
            engine.bytes = Some(bytes);
            engine
        });
        if engine.flushes_seen != super::flushes() {
            engine.compiled.clear();
            engine.flushes_seen = super::flushes();
            let _ = engine.lua.gc_collect();
        }
        f(engine)
    })
}

/// What each thread's EVAL Lua state uses, as of its last script.
static STATE_BYTES: std::sync::Mutex<Vec<std::sync::Arc<std::sync::atomic::AtomicUsize>>> =
    std::sync::Mutex::new(Vec::new());

/// Bytes the EVAL Lua states of every thread use, as of their last
/// script (INFO `used_memory_lua`); `None` before any thread made one.
pub fn memory() -> Option<usize> {
    let all = STATE_BYTES.lock().unwrap_or_else(|p| p.into_inner());
    if all.is_empty() {
        return None;
    }
    Some(all.iter().map(|b| b.load(Ordering::Relaxed)).sum())
}

impl Engine {
    /// A new state, sandboxed (each thread's EVAL state, and each
    /// thread's function state in [`super::function`]).
    pub(super) fn new() -> mlua::Result<Engine> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )?;
        let globals = lua.globals();
        for name in [
            "dofile", "loadfile", "print", "require", "module", "package",
        ] {
            globals.raw_set(name, Value::Nil)?;
        }
        super::lualib::open(&lua)?;
        let redis = lua.create_table()?;
        Self::register_api(&lua, &redis)?;
        globals.raw_set("redis", redis)?;
        let math: Table = globals.raw_get("math")?;
        math.raw_set(
            "random",
            lua.create_function(|_, args: MultiValue| math_random(args))?,
        )?;
        math.raw_set(
            "randomseed",
            lua.create_function(|_, seed: Value| {
                srand48(check_int(&seed, 1, "randomseed")?);
                Ok(())
            })?,
        )?;
        let env = lua.create_table()?;
        let redis: Table = globals.raw_get("redis")?;
        let call = lua.create_function(|lua, args: MultiValue| {
            match with_host(|host| bridge(lua, args, host)) {
                Some(Ok(Ok(v))) => Ok(v),
                Some(Ok(Err(t))) => Err(mlua::Error::external(RaisedTable(t))),
                Some(Err(e)) => Err(e),
                None => Err(outside_script(lua)),
            }
        })?;
        let pcall = lua.create_function(|lua, args: MultiValue| {
            match with_host(|host| bridge(lua, args, host)) {
                Some(Ok(Ok(v))) => Ok(v),
                Some(Ok(Err(t))) => Ok(Value::Table(t)),
                Some(Err(e)) => Err(e),
                None => Err(outside_script(lua)),
            }
        })?;
        redis.raw_set("call", call)?;
        redis.raw_set("pcall", pcall)?;
        let chunkid_fn =
            lua.create_function(|lua, s: mlua::String| lua.create_string(chunkid(&s.as_bytes())))?;
        let unwrap = lua.create_function(|lua, e: Value| -> mlua::Result<Value> {
            Ok(match &e {
                Value::Error(err) => match raised_table(err) {
                    Some(t) => Value::Table(t),
                    None => Value::String(lua.create_string(lua_message(err))?),
                },
                _ => e,
            })
        })?;
        lua.load(SANDBOX).set_name("=sandbox").call::<()>((
            globals.clone(),
            env.clone(),
            chunkid_fn,
            unwrap,
        ))?;
        let xpcall: Function = globals.raw_get("xpcall")?;
        let handler = lua.create_function(error_handler)?;
        // The busy check, every 100,000 instructions as in Redis.
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(100_000),
            |lua, _| {
                if super::busy::interrupted() {
                    return Err(lua_error_table(
                        lua,
                        b"Script killed by user with SCRIPT KILL...",
                    ));
                }
                Ok(VmState::Continue)
            },
        )?;
        globals.raw_set("__redis__err__handler", handler.clone())?;
        Ok(Engine {
            lua,
            globals,
            env,
            xpcall,
            handler,
            compiled: HashMap::default(),
            flushes_seen: super::flushes(),
            runs: 0,
            bytes: None,
        })
    }

    fn register_api(lua: &Lua, redis: &Table) -> mlua::Result<()> {
        redis.raw_set(
            "sha1hex",
            lua.create_function(|lua, args: MultiValue| {
                if args.len() != 1 {
                    return Err(lua_error_table(lua, b"wrong number of arguments"));
                }
                let bytes = match &args[0] {
                    Value::String(s) => s.as_bytes().to_vec(),
                    Value::Number(n) => lua_number_text(*n).into_bytes(),
                    Value::Integer(n) => n.to_string().into_bytes(),
                    _ => Vec::new(),
                };
                lua.create_string(super::sha1hex(&bytes))
            })?,
        )?;
        let single = |field: &'static str| {
            lua.create_function(move |lua, args: MultiValue| {
                if args.len() != 1 || !matches!(args.back(), Some(Value::String(_))) {
                    return Ok(Value::Table(convert::error_table(
                        lua,
                        b"wrong number or type of arguments",
                    )?));
                }
                let t = lua.create_table()?;
                t.raw_set(field, args[0].clone())?;
                Ok(Value::Table(t))
            })
        };
        redis.raw_set("status_reply", single("ok")?)?;
        redis.raw_set(
            "error_reply",
            lua.create_function(|lua, args: MultiValue| {
                let Some(Value::String(s)) = args.back().filter(|_| args.len() == 1) else {
                    return convert::error_table(lua, b"wrong number or type of arguments");
                };
                let s = s.as_bytes();
                let mut text = Vec::with_capacity(s.len() + 1);
                if s.first() != Some(&b'-') {
                    text.push(b'-');
                }
                text.extend_from_slice(&s);
                convert::error_table(lua, &text)
            })?,
        )?;
        redis.raw_set(
            "log",
            lua.create_function(|lua, args: MultiValue| {
                if args.len() < 2 {
                    return Err(lua_error_table(
                        lua,
                        b"redis.log() requires two arguments or more.",
                    ));
                }
                let Some(level) = lua_number(&args[0]) else {
                    return Err(lua_error_table(
                        lua,
                        b"First argument must be a number (log level).",
                    ));
                };
                let level = level as i32;
                if !(0..=3).contains(&level) {
                    return Err(lua_error_table(lua, b"Invalid debug level."));
                }
                let mut line = Vec::new();
                for (i, a) in args.iter().skip(1).enumerate() {
                    let piece = match a {
                        Value::String(s) => s.as_bytes().to_vec(),
                        Value::Number(n) => lua_number_text(*n).into_bytes(),
                        Value::Integer(n) => n.to_string().into_bytes(),
                        _ => continue,
                    };
                    if i != 0 {
                        line.push(b' ');
                    }
                    line.extend_from_slice(&piece);
                }
                use crate::config::LogLevel;
                let level = match level {
                    3 => LogLevel::Warning,
                    2 => LogLevel::Notice,
                    1 => LogLevel::Verbose,
                    _ => LogLevel::Debug,
                };
                crate::log::log(level, &String::from_utf8_lossy(&line));
                Ok(())
            })?,
        )?;
        for (name, level) in [
            ("LOG_DEBUG", 0),
            ("LOG_VERBOSE", 1),
            ("LOG_NOTICE", 2),
            ("LOG_WARNING", 3),
        ] {
            redis.raw_set(name, level)?;
        }
        redis.raw_set("REDIS_VERSION_NUM", crate::REDIS_VERSION_NUM)?;
        redis.raw_set("REDIS_VERSION", crate::REDIS_VERSION)?;
        redis.raw_set(
            "setresp",
            lua.create_function(|lua, args: MultiValue| {
                running_or_error(lua, "redis.setresp")?;
                if args.len() != 1 {
                    return Err(lua_error_table(
                        lua,
                        b"redis.setresp() requires one argument.",
                    ));
                }
                let resp = lua_number(&args[0]).unwrap_or(0.0) as i32;
                if resp != 2 && resp != 3 {
                    return Err(lua_error_table(lua, b"RESP version must be 2 or 3."));
                }
                RUN.with(|r| r.resp3.set(resp == 3));
                Ok(())
            })?,
        )?;
        redis.raw_set(
            "set_repl",
            lua.create_function(|lua, args: MultiValue| {
                running_or_error(lua, "redis.set_repl")?;
                if args.len() != 1 {
                    return Err(lua_error_table(lua, b"redis.set_repl() requires two arguments."));
                }
                let flags = lua_number(&args[0]).unwrap_or(0.0) as i64;
                if flags & !3 != 0 {
                    return Err(lua_error_table(
                        lua,
                        b"Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                    ));
                }
                RUN.with(|r| r.repl.set(flags as u8));
                Ok(())
            })?,
        )?;
        for (name, v) in [
            ("REPL_NONE", 0),
            ("REPL_AOF", 1),
            ("REPL_SLAVE", 2),
            ("REPL_REPLICA", 2),
            ("REPL_ALL", 3),
        ] {
            redis.raw_set(name, v)?;
        }
        // Redis 7.0's no-ops: effects replication is the only mode, and
        // the debugger (SCRIPT DEBUG) is not offered.
        redis.raw_set(
            "replicate_commands",
            lua.create_function(|_, _: MultiValue| Ok(true))?,
        )?;
        redis.raw_set(
            "breakpoint",
            lua.create_function(|_, _: MultiValue| Ok(false))?,
        )?;
        redis.raw_set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
        redis.raw_set(
            "acl_check_cmd",
            lua.create_function(|lua, args: MultiValue| {
                let argv = match lua_args_to_argv(&args) {
                    Ok(a) => a,
                    Err(msg) => return Err(lua_error_table(lua, msg.as_bytes())),
                };
                let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                if crate::cmd::resolve(&refs).is_err() {
                    return Err(lua_error_table(
                        lua,
                        b"Invalid command passed to redis.acl_check_cmd()",
                    ));
                }
                // Without ACL users, the default user may run everything.
                Ok(true)
            })?,
        )?;
        Ok(())
    }

    /// The compiled function of a cached script (compiling it on first
    /// use in this thread), or Redis's compile error text.
    pub fn function(&mut self, sha: &Sha, script: &Script) -> Result<Function, String> {
        if let Some(f) = self.compiled.get(sha) {
            return Ok(f.clone());
        }
        let code = &script.body[script.shebang_len..];
        if code.first() == Some(&27) {
            return Err(
                "Error compiling script (new function): user_script:1: unexpected symbol near 'char(27)'"
                    .into(),
            );
        }
        let f = self
            .lua
            .load(code)
            .set_name("@user_script")
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| format!("Error compiling script (new function): {}", lua_message(&e)))?;
        self.compiled.insert(*sha, f.clone());
        Ok(f)
    }

    /// Runs script `f` with `KEYS` and `ARGV`, writing its reply (or
    /// error) through `host`. `name` is what errors call the script (its
    /// SHA, or a function's name).
    pub fn run(
        &mut self,
        f: &Function,
        name: &str,
        keys: &[&[u8]],
        args: &[&[u8]],
        host: &mut dyn Host,
    ) -> Written {
        self.run_with(f, name, Some((keys, args)), host)
    }

    // ---- functions (FCALL): see `super::function` ----

    /// The Lua state (the function engine builds its tables in it).
    pub(super) fn lua(&self) -> &Lua {
        &self.lua
    }

    /// The real global table (not the scripts' read-only view).
    pub(super) fn globals(&self) -> &Table {
        &self.globals
    }

    /// Runs a function (its arguments already bound, see
    /// `super::function`): as [`Engine::run`], without setting `KEYS`
    /// and `ARGV`, which functions do not have.
    pub(super) fn run_function(
        &mut self,
        f: &Function,
        name: &str,
        host: &mut dyn Host,
    ) -> Written {
        self.run_with(f, name, None, host)
    }

    // ---- end of functions ----

    fn run_with(
        &mut self,
        f: &Function,
        name: &str,
        keys_args: Option<KeysArgs<'_>>,
        host: &mut dyn Host,
    ) -> Written {
        RUN.with(|r| {
            r.running.set(true);
            r.resp3.set(false);
            r.repl.set(3);
        });
        super::busy::start(host.eval_mode(), name);
        let written = self.run_inner(f, name, keys_args, host);
        super::busy::end();
        RUN.with(|r| r.running.set(false));
        self.runs += 1;
        if self.runs >= 50 {
            // Redis steps its collector every 50 scripts, so that a full
            // cycle does not land on one script.
            self.runs = 0;
            let _ = self.lua.gc_step();
        }
        if let Some(b) = &self.bytes {
            b.store(self.lua.used_memory(), Ordering::Relaxed);
        }
        written
    }

    fn run_inner(
        &mut self,
        f: &Function,
        name: &str,
        keys_args: Option<KeysArgs<'_>>,
        host: &mut dyn Host,
    ) -> Written {
        let lua = &self.lua;
        let set = || -> mlua::Result<()> {
            if let Some((keys, args)) = keys_args {
                self.globals.raw_set("KEYS", string_array(lua, keys)?)?;
                self.globals.raw_set("ARGV", string_array(lua, args)?)?;
            }
            Ok(())
        };
        if let Err(e) = set() {
            convert::write_error_line(host.out(), format!("ERR {}", lua_message(&e)).as_bytes());
            return Written::Error;
        }
        let result = {
            let _installed = install(&mut *host);
            self.xpcall
                .call::<MultiValue>((f.clone(), self.handler.clone()))
        };
        let values = match result {
            Ok(v) => v,
            Err(e) => {
                convert::write_error_line(
                    host.out(),
                    format!("ERR Error running script {name}, {:.100}", lua_message(&e)).as_bytes(),
                );
                return Written::Error;
            }
        };
        let mut it = values.into_iter();
        let ok = matches!(it.next(), Some(Value::Boolean(true)));
        let value = it.next().unwrap_or(Value::Nil);
        let rules = ReplyRules {
            script_resp3: RUN.with(|r| r.resp3.get()),
        };
        if ok {
            return convert::lua_to_reply(&value, host.out(), &rules, 0);
        }
        write_script_error(host.out(), name, &value)
    }
}

thread_local! {
    /// The host of the script running on this thread, while it runs.
    static HOST: Cell<Option<NonNull<dyn Host + 'static>>> = const { Cell::new(None) };
}

/// Clears [`HOST`] when the script's call ends, however it ends.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        HOST.with(|h| h.set(None));
    }
}

/// Makes `host` the one `redis.call` reaches until the guard is dropped.
///
/// `redis.call` and `redis.pcall` are made once per Lua state, so they
/// cannot capture the running script's host; mlua's scoped functions
/// could, but building two per script cost about a fifth of a small
/// EVALSHA (measured with callgrind). The host is reached through this
/// thread-local pointer instead.
fn install(host: &mut dyn Host) -> Installed {
    let ptr: NonNull<dyn Host + '_> = NonNull::from(host);
    // SAFETY: this only erases the trait object's lifetime. The pointer
    // is dereferenced only by `with_host`, on this thread, while the
    // returned guard lives; the caller keeps `host` mutably borrowed and
    // unused for all that time (the guard lives in a block that ends
    // before `host` is used again), and the guard clears the pointer when
    // dropped, unwinding included.
    let ptr: NonNull<dyn Host + 'static> = unsafe { std::mem::transmute(ptr) };
    HOST.with(|h| h.set(Some(ptr)));
    Installed
}

/// Runs `f` with the running script's host; `None` outside a script.
fn with_host<R>(f: impl FnOnce(&mut dyn Host) -> R) -> Option<R> {
    // Taken out while `f` runs, so that a nested call (which no command
    // makes: EVAL and FCALL may not run inside a script) finds none
    // instead of a second reference.
    let ptr = HOST.with(|h| h.take())?;
    // SAFETY: `ptr` was made by `install` from a `&mut dyn Host` that is
    // still borrowed and unused by its owner (the guard that clears it is
    // alive, or the pointer would be gone), and taking it out of `HOST`
    // makes this the only reference made from it until it is put back.
    let r = f(unsafe { &mut *ptr.as_ptr() });
    HOST.with(|h| h.set(Some(ptr)));
    Some(r)
}

fn outside_script(lua: &Lua) -> mlua::Error {
    lua_error_table(
        lua,
        b"redis.call/pcall can only be called inside a script invocation",
    )
}

/// `redis.call`/`redis.pcall`: runs the command through `host` and gives
/// its reply as a Lua value, or `Err` with the error table (an error
/// reply, or a refusal before the command ran).
fn bridge(lua: &Lua, args: MultiValue, host: &mut dyn Host) -> mlua::Result<Result<Value, Table>> {
    // The arguments, copied into one buffer reused from call to call.
    let reply = ARGS.with(|scratch| {
        let Ok(mut scratch) = scratch.try_borrow_mut() else {
            return Err("redis.call cannot run inside another redis.call".to_string());
        };
        let (buf, spans) = &mut *scratch;
        if let Err(msg) = lua_args_into(&args, buf, spans) {
            return Err(msg.to_string());
        }
        let mut refs: Vec<&[u8]> = Vec::with_capacity(spans.len());
        refs.extend(spans.iter().map(|&(a, b)| &buf[a..b]));
        let resp3 = RUN.with(|r| r.resp3.get());
        Ok(host.call(&refs, resp3))
    });
    let reply = match reply {
        Ok(r) => r,
        Err(msg) => return Ok(Err(convert::error_table(lua, msg.as_bytes())?)),
    };
    drop(args);
    match reply {
        Err(text) => {
            let t = convert::error_table(lua, text.as_bytes())?;
            t.raw_set("ignore_error_stats_update", true)?;
            Ok(Err(t))
        }
        Ok(bytes) => match convert::reply_to_lua(lua, &bytes)? {
            (Value::Table(t), true) => Ok(Err(t)),
            (v, _) => Ok(Ok(v)),
        },
    }
}

/// A command's arguments in one buffer, and where each one is.
type ArgBuffer = (Vec<u8>, Vec<(usize, usize)>);

thread_local! {
    /// `redis.call`'s arguments, the buffer reused from call to call.
    static ARGS: RefCell<ArgBuffer> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Redis's `luaArgsToRedisArgv` into `buf`: strings as they are, numbers
/// as `%.17g`; anything else refuses the call.
fn lua_args_into(
    args: &MultiValue,
    buf: &mut Vec<u8>,
    spans: &mut Vec<(usize, usize)>,
) -> Result<(), &'static str> {
    buf.clear();
    spans.clear();
    if args.is_empty() {
        return Err("Please specify at least one argument for this redis lib call");
    }
    for a in args {
        let start = buf.len();
        match a {
            Value::String(s) => buf.extend_from_slice(&s.as_bytes()),
            Value::Number(n) => crate::util::num::fmt_double(buf, *n),
            Value::Integer(n) => {
                let mut b = itoa::Buffer::new();
                buf.extend_from_slice(b.format(*n).as_bytes());
            }
            _ => return Err("Lua redis lib command arguments must be strings or integers"),
        }
        spans.push((start, buf.len()));
    }
    Ok(())
}

/// The reply to a script that raised an error (Redis's
/// `luaCallFunction`): the error's message, then where it was raised.
fn write_script_error(out: &mut Reply, name: &str, err: &Value) -> Written {
    let Value::Table(t) = err else {
        let msg = match err {
            Value::String(s) => s.to_string_lossy(),
            _ => "execution failure".to_string(),
        };
        let msg: String = msg.chars().take(100).collect();
        convert::write_error_line(
            out,
            format!("ERR Error running script {name}, {msg}").as_bytes(),
        );
        return Written::Error;
    };
    let msg: Vec<u8> = match t.get::<Value>("err") {
        Ok(Value::String(s)) => s.as_bytes().to_vec(),
        Ok(Value::Number(n)) => lua_number_text(n).into_bytes(),
        Ok(Value::Integer(n)) => n.to_string().into_bytes(),
        _ => Vec::new(),
    };
    let mut line = msg;
    let source = t.get::<Value>("source").ok().and_then(|v| value_text(&v));
    let at = t.get::<Value>("line").ok().and_then(|v| value_text(&v));
    if let (Some(source), Some(at)) = (source, at) {
        line.extend_from_slice(format!(" script: {name}, on {source}:{at}.").as_bytes());
    }
    convert::write_error_line(out, &line);
    if matches!(
        t.get::<Value>("ignore_error_stats_update"),
        Ok(Value::Boolean(true))
    ) {
        Written::ErrorCounted
    } else {
        Written::Error
    }
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_string_lossy()),
        Value::Number(n) => Some(lua_number_text(*n)),
        Value::Integer(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `xpcall` handler Redis installs as `__redis__err__handler`: makes
/// the error a table `{err=..., source=..., line=...}`, where source and
/// line are those of the script code that raised it (skipping C functions
/// such as `error` and `redis.call`, and the sandbox's own wrappers).
fn error_handler(lua: &Lua, err: Value) -> mlua::Result<Value> {
    let t = match err {
        Value::Table(t) => t,
        Value::Error(e) if raised_table(&e).is_some() => {
            raised_table(&e).unwrap_or_else(|| unreachable!())
        }
        other => {
            let text = match &other {
                Value::String(s) => s.as_bytes().to_vec(),
                Value::Error(e) => lua_message(e).into_bytes(),
                Value::Number(n) => lua_number_text(*n).into_bytes(),
                Value::Integer(n) => n.to_string().into_bytes(),
                Value::Nil => b"nil".to_vec(),
                Value::Boolean(b) => b.to_string().into_bytes(),
                _ => b"?".to_vec(),
            };
            let t = lua.create_table()?;
            let mut msg = b"ERR ".to_vec();
            msg.extend_from_slice(&text);
            t.raw_set("err", lua.create_string(&msg)?)?;
            t
        }
    };
    for level in 1..64 {
        let found = lua.inspect_stack(level, |d| {
            let s = d.source();
            let what = s.what;
            let source = s.source.map(|c| c.into_owned());
            (what, source, d.current_line())
        });
        let Some((what, source, line)) = found else {
            break;
        };
        if what == "C" || matches!(source.as_deref(), Some("=sandbox" | "=lualib")) {
            continue;
        }
        if let Some(source) = source {
            t.raw_set("source", source)?;
        }
        if let Some(line) = line {
            t.raw_set("line", line)?;
        }
        break;
    }
    Ok(Value::Table(t))
}

/// Redis's refusal of `what` outside a script run (a library's load).
fn running_or_error(lua: &Lua, what: &str) -> mlua::Result<()> {
    if RUN.with(|r| r.running.get()) {
        return Ok(());
    }
    Err(lua_error_table(
        lua,
        format!("{what} can only be called inside a script invocation").as_bytes(),
    ))
}

/// An error raised as Redis's `luaPushError` + `lua_error` raise it: an
/// `{err=...}` table.
pub(super) fn lua_error_table(lua: &Lua, msg: &[u8]) -> mlua::Error {
    match convert::error_table(lua, msg) {
        Ok(t) => mlua::Error::external(RaisedTable(t)),
        Err(e) => e,
    }
}

/// The table a Rust function raised with [`lua_error_table`].
pub(super) fn raised_table(e: &mlua::Error) -> Option<Table> {
    match e {
        mlua::Error::CallbackError { cause, .. } => raised_table(cause),
        mlua::Error::WithContext { cause, .. } => raised_table(cause),
        mlua::Error::ExternalError(inner) => {
            inner.downcast_ref::<RaisedTable>().map(|r| r.0.clone())
        }
        _ => None,
    }
}

/// A Lua table carried as an mlua error until the error handler sees it.
#[derive(Debug)]
struct RaisedTable(Table);

impl std::fmt::Display for RaisedTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.raw_get::<String>("err") {
            Ok(s) => f.write_str(&s),
            Err(_) => f.write_str("error"),
        }
    }
}

impl std::error::Error for RaisedTable {}

/// The message of an mlua error as Lua would show it: the innermost
/// cause, without mlua's own decoration.
pub fn lua_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::MemoryError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_message(cause),
        mlua::Error::WithContext { cause, .. } => lua_message(cause),
        mlua::Error::ExternalError(inner) => inner.to_string(),
        other => other.to_string(),
    }
}

/// Lua's own `tostring` of a number (`%.14g`).
pub fn lua_number_text(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf" } else { "-inf" }.into();
    }
    if n == n.trunc() && n.abs() < 1e14 {
        return format!("{}", n as i64);
    }
    let sci = format!("{n:.13e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..14).contains(&exp) {
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let decimals = (13 - exp).max(0) as usize;
    let s = format!("{n:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn lua_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::Integer(n) => Some(*n as f64),
        Value::String(s) => s.to_str().ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// [`lua_args_into`], each argument in a vector of its own.
fn lua_args_to_argv(args: &MultiValue) -> Result<Vec<Vec<u8>>, &'static str> {
    let (mut buf, mut spans) = (Vec::new(), Vec::new());
    lua_args_into(args, &mut buf, &mut spans)?;
    Ok(spans.iter().map(|&(a, b)| buf[a..b].to_vec()).collect())
}

pub(super) fn string_array(lua: &Lua, items: &[&[u8]]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(item)?)?;
    }
    Ok(t)
}

/// `luaL_checkint`: a number (or numeric string), truncated.
fn check_int(v: &Value, arg: usize, fname: &str) -> mlua::Result<i32> {
    match lua_number(v) {
        Some(n) => Ok(n as i64 as i32),
        None => Err(mlua::Error::RuntimeError(format!(
            "bad argument #{arg} to '{fname}' (number expected, got {})",
            match v {
                Value::Nil => "no value",
                other => other.type_name(),
            }
        ))),
    }
}

/// Redis's `math.random`: Lua 5.1's, drawing from `redisLrand48`.
fn math_random(args: MultiValue) -> mlua::Result<f64> {
    const MAX: f64 = i32::MAX as f64;
    let r = (lrand48() as i64 % i32::MAX as i64) as f64 / MAX;
    match args.len() {
        0 => Ok(r),
        1 => {
            let u = check_int(&args[0], 1, "random")?;
            if u < 1 {
                return Err(mlua::Error::RuntimeError(
                    "bad argument #1 to 'random' (interval is empty)".into(),
                ));
            }
            Ok((r * u as f64).floor() + 1.0)
        }
        2 => {
            let l = check_int(&args[0], 1, "random")?;
            let u = check_int(&args[1], 2, "random")?;
            if l > u {
                return Err(mlua::Error::RuntimeError(
                    "bad argument #2 to 'random' (interval is empty)".into(),
                ));
            }
            Ok((r * (u as f64 - l as f64 + 1.0)).floor() + l as f64)
        }
        _ => Err(mlua::Error::RuntimeError(
            "wrong number of arguments".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_numbers_print_as_lua_prints_them() {
        assert_eq!(lua_number_text(1.0), "1");
        assert_eq!(lua_number_text(0.1), "0.1");
        assert_eq!(lua_number_text(1e15), "1e+15");
        assert_eq!(lua_number_text(123456.789), "123456.789");
        assert_eq!(lua_number_text(1.0 / 3.0), "0.33333333333333");
        assert_eq!(lua_number_text(1e-5), "1e-05");
    }

    #[test]
    fn chunk_ids_follow_lua_5_1() {
        assert_eq!(chunkid(b"return 1"), "[string \"return 1\"]");
        assert_eq!(chunkid(b"a\nb"), "[string \"a...\"]");
        assert_eq!(chunkid(b"=name"), "name");
    }

    #[test]
    fn lrand48_follows_the_c_library_sequence() {
        srand48(0);
        // srand48(0) then lrand48() in glibc.
        assert_eq!(lrand48(), 366850414);
    }
}
