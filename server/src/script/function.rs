//! Redis 7.0 functions: libraries of Lua functions that FUNCTION LOAD
//! registers and FCALL calls.
//!
//! * [`Functions`] is the registry every event loop shares (in
//!   [`crate::shared::Shared`]): each library's name, code and the
//!   functions it registered (name, description, flags). It is what
//!   FUNCTION LIST, DUMP and the RDB file see, and what FCALL looks
//!   functions up in (case-insensitively, as Redis's function dictionary).
//! * Each thread has its own Lua state for functions (as Redis keeps one
//!   apart from EVAL's), made on first use. A library is compiled and run
//!   there when the thread first needs one of its functions; the registry's
//!   generation counter tells a thread when libraries went away.
//!
//! # Loading a library
//!
//! The code after the `#!lua name=<lib>` line runs once, in an
//! environment where the only global is `redis`, and the only fields of
//! `redis` are `register_function`, `log`, the log levels and the version
//! fields (Redis's `__LIBRARY_API__`); anything else is "Script attempted
//! to access nonexistent global variable". The functions it registers
//! keep that environment, which, once loading is over, reads through to
//! the ordinary (read-only) globals, as Redis swaps the `__index` of its
//! globals' metatable. A load that runs past 500 ms is stopped with
//! `FUNCTION LOAD timeout` (not when replaying the append-only file, as
//! Redis exempts clients it must obey).
//!
//! # Where threads differ from Redis
//!
//! With more than one event loop, a library's top-level code runs once
//! per thread that calls into it (its `redis.log` lines are written only
//! by the thread that loads it), and a library's local variables are per
//! thread. Redis runs one state; code that keeps state in upvalues across
//! calls sees each thread's own copy here.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use mlua::{Function, HookTriggers, Lua, MultiValue, Table, Value, VmState};

use super::convert::Written;
use super::engine::{self, lua_error_table, lua_number_text, Engine, Host};
use super::flags;

/// How long a library's top-level code may run (Redis's
/// `LOAD_TIMEOUT_MS`).
pub const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// The one engine (`FUNCTION STATS` names it).
pub const ENGINE: &str = "LUA";

/// The error for a library or function name that is not
/// `[A-Za-z0-9_]+` (Redis uses the same text for both).
pub const BAD_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// A function a library registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionInfo {
    /// Its name, as registered.
    pub name: String,
    /// `description=`, when given.
    pub description: Option<Vec<u8>>,
    /// [`flags`] bits.
    pub flags: u32,
}

/// A loaded library.
#[derive(Debug)]
pub struct Library {
    /// Unique per load: what a thread's compiled copy is keyed by.
    pub id: u64,
    /// Its name (from the shebang).
    pub name: String,
    /// The whole code, shebang included (what DUMP, the RDB file and
    /// FUNCTION LIST WITHCODE give back).
    pub code: Box<[u8]>,
    /// Its functions, by name.
    pub functions: Vec<FunctionInfo>,
}

/// What FUNCTION RESTORE does with libraries already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    /// Delete every library first.
    Flush,
    /// Add to them; a library that exists fails the restore.
    Append,
    /// Add to them; a library that exists is replaced.
    Replace,
}

#[derive(Debug, Default, Clone)]
struct Registry {
    libraries: BTreeMap<String, Arc<Library>>,
    /// Lower-cased function name → its library and index there.
    functions: HashMap<String, (Arc<Library>, usize)>,
}

impl Registry {
    fn link(&mut self, lib: Arc<Library>) {
        for (i, f) in lib.functions.iter().enumerate() {
            self.functions
                .insert(f.name.to_ascii_lowercase(), (lib.clone(), i));
        }
        self.libraries.insert(lib.name.clone(), lib);
    }

    fn unlink(&mut self, name: &str) -> Option<Arc<Library>> {
        let lib = self.libraries.remove(name)?;
        for f in &lib.functions {
            self.functions.remove(&f.name.to_ascii_lowercase());
        }
        Some(lib)
    }

    /// Redis's `functionsCreateWithLibraryCtx`: parses, compiles and links
    /// `code`; the library's name, or Redis's error text.
    fn create(
        &mut self,
        code: &[u8],
        replace: bool,
        timeout: Option<Duration>,
        quiet: bool,
    ) -> Result<String, String> {
        let md = metadata(code)?;
        if !valid_name(md.name.as_bytes()) {
            return Err(BAD_NAME.into());
        }
        if !md.engine.eq_ignore_ascii_case("lua") {
            return Err(format!("Engine '{}' not found", md.engine));
        }
        if self.libraries.contains_key(&md.name) && !replace {
            return Err(format!("Library '{}' already exists", md.name));
        }
        let old = self.unlink(&md.name);
        let result = (|| {
            let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
            let compiled = with_engine(None, |fe| fe.compile(&code[md.body..], timeout, quiet))?;
            if compiled.is_empty() {
                return Err("No functions registered".to_string());
            }
            for (f, _) in &compiled {
                if self.functions.contains_key(&f.name.to_ascii_lowercase()) {
                    return Err(format!("Function {} already exists", f.name));
                }
            }
            let mut functions: Vec<FunctionInfo> =
                compiled.iter().map(|(f, _)| f.clone()).collect();
            let mut by_name: HashMap<String, Function> = HashMap::new();
            for (f, func) in compiled {
                by_name.insert(f.name, func);
            }
            functions.sort_by(|a, b| a.name.cmp(&b.name));
            with_engine(None, |fe| fe.libs.insert(id, by_name));
            Ok(Library {
                id,
                name: md.name.clone(),
                code: code.into(),
                functions,
            })
        })();
        match result {
            Ok(lib) => {
                self.link(Arc::new(lib));
                Ok(md.name)
            }
            Err(e) => {
                if let Some(old) = old {
                    self.link(old);
                }
                Err(e)
            }
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The function libraries, shared by every event loop.
#[derive(Debug, Default)]
pub struct Functions {
    reg: RwLock<Registry>,
    /// Bumped by every change.
    generation: AtomicU64,
}

impl Functions {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.reg.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.reg.write().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// FUNCTION LOAD: compiles `code` on this thread and registers it;
    /// the library's name, or Redis's error text (without `ERR `).
    /// `timeout` is `None` for a client Redis must obey (the AOF).
    pub fn load(
        &self,
        code: &[u8],
        replace: bool,
        timeout: Option<Duration>,
    ) -> Result<String, String> {
        let mut reg = self.write();
        let r = reg.create(code, replace, timeout, false);
        if r.is_ok() {
            self.changed();
        }
        r
    }

    /// FUNCTION DELETE: false when there is no such library.
    pub fn delete(&self, name: &[u8]) -> bool {
        let Ok(name) = std::str::from_utf8(name) else {
            return false;
        };
        let gone = self.write().unlink(name).is_some();
        if gone {
            self.changed();
        }
        gone
    }

    /// FUNCTION FLUSH (and what a load that replaces everything does
    /// first).
    pub fn flush(&self) {
        let old = std::mem::take(&mut *self.write());
        self.changed();
        drop(old);
    }

    /// The libraries, by name.
    pub fn libraries(&self) -> Vec<Arc<Library>> {
        self.read().libraries.values().cloned().collect()
    }

    /// The code of every library (what an RDB file and DUMP hold).
    pub fn codes(&self) -> Vec<Vec<u8>> {
        self.read()
            .libraries
            .values()
            .map(|l| l.code.to_vec())
            .collect()
    }

    /// The function called `name` (any case): its library and index.
    pub fn find(&self, name: &[u8]) -> Option<(Arc<Library>, usize)> {
        let name = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
        self.read().functions.get(&name).cloned()
    }

    /// How many libraries and functions are loaded.
    pub fn counts(&self) -> (usize, usize) {
        let r = self.read();
        (r.libraries.len(), r.functions.len())
    }

    /// Bytes of library code and names held (`used_memory_functions`'s
    /// share that depends on what is loaded).
    pub fn bytes(&self) -> usize {
        let r = self.read();
        r.libraries
            .values()
            .map(|l| {
                l.code.len()
                    + l.name.len()
                    + l.functions
                        .iter()
                        .map(|f| f.name.len() + f.description.as_ref().map_or(0, Vec::len))
                        .sum::<usize>()
            })
            .sum()
    }

    /// Libraries read from an RDB file (or an AOF base): each is created
    /// as FUNCTION LOAD would, with no timeout; `replace` lets one replace
    /// a library of the same name (DEBUG RELOAD MERGE), else that is an
    /// error as in Redis.
    pub fn load_all(&self, codes: &[Vec<u8>], replace: bool) -> Result<(), String> {
        let mut reg = self.write();
        let mut r = Ok(());
        for code in codes {
            if let Err(e) = reg.create(code, replace, None, true) {
                r = Err(e);
                break;
            }
        }
        drop(reg);
        self.changed();
        r
    }

    /// FUNCTION RESTORE's libraries (already read from the payload):
    /// all of them or none, as Redis's `libraryJoin`.
    pub fn restore(&self, codes: &[Vec<u8>], policy: RestorePolicy) -> Result<(), String> {
        let mut fresh = Registry::default();
        for code in codes {
            fresh.create(code, false, None, true)?;
        }
        let mut reg = self.write();
        if policy == RestorePolicy::Flush {
            *reg = fresh;
            drop(reg);
            self.changed();
            return Ok(());
        }
        let mut next = reg.clone();
        for name in fresh.libraries.keys() {
            if next.libraries.contains_key(name) {
                if policy == RestorePolicy::Append {
                    return Err(format!("Library {name} already exists"));
                }
                next.unlink(name);
            }
        }
        for lib in fresh.libraries.values() {
            for f in &lib.functions {
                if next.functions.contains_key(&f.name.to_ascii_lowercase()) {
                    return Err(format!("Function {} already exists", f.name));
                }
            }
        }
        for lib in fresh.libraries.into_values() {
            next.link(lib);
        }
        *reg = next;
        drop(reg);
        self.changed();
        Ok(())
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn live_ids(&self) -> Vec<u64> {
        self.read().libraries.values().map(|l| l.id).collect()
    }
}

/// A library's shebang, read as Redis's `functionExtractLibMetaData`.
#[derive(Debug, PartialEq, Eq)]
struct Metadata {
    engine: String,
    name: String,
    /// Where the code after the shebang starts (at its `\n`, so that
    /// line numbers are the user's).
    body: usize,
}

fn metadata(code: &[u8]) -> Result<Metadata, String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = memchr::memchr(b'\n', code) else {
        return Err("Invalid library metadata".into());
    };
    // sdssplitargs stops at a NUL as at the end of the line.
    let line = &code[..end];
    let line = &line[..memchr::memchr(0, line).unwrap_or(line.len())];
    let parts = match crate::config::split_args(&String::from_utf8_lossy(line)) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = parts[0].get(2..).unwrap_or_default().to_string();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part.as_bytes()[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part[5..].to_string());
            continue;
        }
        return Err(format!("Invalid metadata value given: {part}"));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    Ok(Metadata {
        engine,
        name,
        body: end,
    })
}

/// `[A-Za-z0-9_]+` (Redis's `functionsVerifyName`).
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

// ---- the per-thread function engine ----

thread_local! {
    static FENGINE: RefCell<Option<FnEngine>> = const { RefCell::new(None) };
    /// The functions registered by the library being loaded on this
    /// thread (`None` when none is).
    static LOADING: RefCell<Option<Vec<(FunctionInfo, Function)>>> = const { RefCell::new(None) };
    /// True while a library loads only to be compiled again (its
    /// `redis.log` lines were written when it was first loaded).
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Builds the load-time API and the environment functions share.
const SETUP: &str = r#"
local G, register, log, ver, vernum = ...
local error, tostring, setmetatable, rawget = error, tostring, setmetatable, rawget
local function readonly() error('Attempt to modify a readonly table', 2) end
local function missing(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local function sealed(t)
  setmetatable(t, {__index = missing, __metatable = false})
  return setmetatable({}, {__index = t, __newindex = readonly, __metatable = false})
end
local redis = sealed({register_function = register, log = log, LOG_DEBUG = 0, LOG_VERBOSE = 1,
  LOG_NOTICE = 2, LOG_WARNING = 3, REDIS_VERSION = ver, REDIS_VERSION_NUM = vernum})
local api = sealed({redis = redis})
local meta = {__index = G, __newindex = readonly, __metatable = false}
local env = setmetatable({}, meta)
local mine = setmetatable({[env] = true, [api] = true, [redis] = true}, {__mode = 'k'})
local guarded = rawget(G, 'rawset')
local function guarded_rawset(t, k, v)
  if mine[t] then error('Attempt to modify a readonly table', 2) end
  return guarded(t, k, v)
end
local binder = function(f, keys, args) return function() return f(keys, args) end end
local xpcall = xpcall
local function keep(e) return e end
local loader = function(f) return xpcall(f, keep) end
return env, meta, api, binder, loader, guarded_rawset
"#;

/// A thread's Lua state for functions, and the libraries compiled in it.
pub struct FnEngine {
    engine: Engine,
    env: Table,
    meta: Table,
    api: Table,
    binder: Function,
    /// Runs a library's top-level code, giving back `true` or `false`
    /// and the error value as raised.
    loader: Function,
    /// Library id → its functions by name.
    libs: HashMap<u64, HashMap<String, Function>>,
    generation: u64,
}

/// Runs `f` with this thread's function engine (made on first use),
/// after forgetting libraries `reg` no longer has.
fn with_engine<R>(reg: Option<&Functions>, f: impl FnOnce(&mut FnEngine) -> R) -> R {
    FENGINE.with(|e| {
        let mut e = e.borrow_mut();
        let fe = e.get_or_insert_with(|| FnEngine::new().expect("the Lua state sets up"));
        if let Some(reg) = reg {
            let g = reg.generation();
            if fe.generation != g {
                let live = reg.live_ids();
                fe.libs.retain(|id, _| live.contains(id));
                fe.generation = g;
                let _ = fe.engine.lua().gc_collect();
            }
        }
        f(fe)
    })
}

/// Bytes this thread's function Lua state uses (0 before its first
/// function).
pub fn memory() -> usize {
    FENGINE.with(|e| {
        e.borrow()
            .as_ref()
            .map_or(0, |e| e.engine.lua().used_memory())
    })
}

impl FnEngine {
    fn new() -> mlua::Result<FnEngine> {
        let engine = Engine::new()?;
        let lua = engine.lua().clone();
        let g = engine.globals().clone();
        let redis: Table = g.raw_get("redis")?;
        let log: Function = redis.get("log")?;
        let quiet_log = lua.create_function(move |_, args: MultiValue| {
            if QUIET.with(Cell::get) {
                return Ok(());
            }
            log.call::<()>(args)
        })?;
        let register = lua.create_function(register_function)?;
        let (env, meta, api, binder, loader, rawset): (
            Table,
            Table,
            Table,
            Function,
            Function,
            Function,
        ) = lua.load(SETUP).set_name("=sandbox").call((
            g.clone(),
            register,
            quiet_log,
            crate::REDIS_VERSION,
            crate::REDIS_VERSION_NUM,
        ))?;
        // The global table refuses scripts' rawset; this state's own
        // setup writes it directly.
        g.raw_set("rawset", rawset)?;
        Ok(FnEngine {
            engine,
            env,
            meta,
            api,
            binder,
            loader,
            libs: HashMap::new(),
            generation: u64::MAX,
        })
    }

    /// Runs a library's code (after its shebang) in the load-time
    /// environment: the functions it registered, or Redis's error text.
    fn compile(
        &mut self,
        body: &[u8],
        timeout: Option<Duration>,
        quiet: bool,
    ) -> Result<Vec<(FunctionInfo, Function)>, String> {
        let lua = self.engine.lua().clone();
        let chunk = lua
            .load(body)
            .set_name("@user_function")
            .set_mode(mlua::ChunkMode::Text)
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| format!("Error compiling function: {}", engine::lua_message(&e)))?;
        let _ = self.meta.raw_set("__index", self.api.clone());
        LOADING.with(|l| *l.borrow_mut() = Some(Vec::new()));
        QUIET.with(|q| q.set(quiet));
        if let Some(timeout) = timeout {
            let start = Instant::now();
            let _ = lua.set_hook(
                HookTriggers::new().every_nth_instruction(100_000),
                move |lua, _| {
                    if start.elapsed() > timeout {
                        return Err(lua_error_table(lua, b"FUNCTION LOAD timeout"));
                    }
                    Ok(VmState::Continue)
                },
            );
        }
        let r = self.loader.call::<(bool, Value)>(chunk);
        if timeout.is_some() {
            lua.remove_hook();
        }
        QUIET.with(|q| q.set(false));
        let registered = LOADING.with(|l| l.borrow_mut().take()).unwrap_or_default();
        let _ = self.meta.raw_set("__index", self.engine.globals().clone());
        match r {
            Ok((true, _)) => Ok(registered),
            Ok((false, e)) => Err(format!(
                "Error registering functions: {}",
                load_error_text(&e)
            )),
            Err(e) => Err(format!(
                "Error registering functions: ERR {}",
                engine::lua_message(&e)
            )),
        }
    }

    /// Function `idx` of `lib`, compiled in this thread (compiling the
    /// library on first use).
    fn function(&mut self, lib: &Library, idx: usize) -> Result<Function, String> {
        let name = &lib.functions[idx].name;
        if !self.libs.contains_key(&lib.id) {
            let md = metadata(&lib.code)?;
            let compiled = self.compile(&lib.code[md.body..], None, true)?;
            self.libs.insert(
                lib.id,
                compiled
                    .into_iter()
                    .map(|(f, func)| (f.name, func))
                    .collect(),
            );
        }
        self.libs
            .get(&lib.id)
            .and_then(|m| m.get(name))
            .cloned()
            .ok_or_else(|| format!("Function {name} is not registered by its library"))
    }
}

/// The message of an error raised while a library loads (Redis's
/// `luaExtractErrorInformation`): an error table's `err`, or `ERR ` and
/// the text.
fn load_error_text(e: &Value) -> String {
    let table = match e {
        Value::Table(t) => Some(t.clone()),
        Value::Error(e) => engine::raised_table(e),
        _ => None,
    };
    if let Some(t) = table {
        if let Ok(s) = t.raw_get::<mlua::String>("err") {
            return s.to_string_lossy();
        }
    }
    match e {
        Value::Error(e) => format!("ERR {}", engine::lua_message(e)),
        other => format!(
            "ERR {}",
            lua_text(other).map_or_else(
                || other.type_name().to_string(),
                |b| String::from_utf8_lossy(&b).into_owned()
            )
        ),
    }
}

/// Runs function `idx` of `lib` with `keys` and `args`, writing its reply
/// (or error) through `host`, in this thread's function state.
pub fn call(
    reg: &Functions,
    lib: &Library,
    idx: usize,
    keys: &[&[u8]],
    args: &[&[u8]],
    host: &mut dyn Host,
) -> Written {
    with_engine(Some(reg), |fe| {
        let bound = fe.function(lib, idx).and_then(|f| {
            let lua = fe.engine.lua();
            let bind = || -> mlua::Result<Function> {
                let k = engine::string_array(lua, keys)?;
                let a = engine::string_array(lua, args)?;
                fe.binder.call((f, k, a))
            };
            bind().map_err(|e| engine::lua_message(&e))
        });
        match bound {
            Ok(f) => fe.engine.run_function(&f, &lib.functions[idx].name, host),
            Err(e) => {
                super::convert::write_error_line(host.out(), format!("ERR {e}").as_bytes());
                Written::Error
            }
        }
    })
}

/// Redis's `luaGetStringSds`: a string, or a number as Lua prints it.
fn lua_text(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Number(n) => Some(lua_number_text(*n).into_bytes()),
        Value::Integer(n) => Some(n.to_string().into_bytes()),
        _ => None,
    }
}

/// `redis.register_function(name, callback)` or
/// `redis.register_function{function_name=, callback=, flags=, description=}`.
fn register_function(lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    if LOADING.with(|l| l.borrow().is_none()) {
        return Err(lua_error_table(
            lua,
            b"redis.register_function can only be called on FUNCTION LOAD command",
        ));
    }
    let (name, description, callback, fflags) =
        read_register_args(&args).map_err(|e| lua_error_table(lua, e.as_bytes()))?;
    if !valid_name(&name) {
        return Err(lua_error_table(lua, BAD_NAME.as_bytes()));
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    let dup = LOADING.with(|l| {
        let mut l = l.borrow_mut();
        let list = l.get_or_insert_with(Vec::new);
        if list.iter().any(|(f, _)| f.name == name) {
            return true;
        }
        list.push((
            FunctionInfo {
                name,
                description,
                flags: fflags,
            },
            callback,
        ));
        false
    });
    if dup {
        return Err(lua_error_table(
            lua,
            b"Function already exists in the library",
        ));
    }
    Ok(())
}

type Registered = (Vec<u8>, Option<Vec<u8>>, Function, u32);

fn read_register_args(args: &MultiValue) -> Result<Registered, &'static str> {
    match args.len() {
        1 => read_named_args(&args[0]),
        2 => {
            let Some(name) = lua_text(&args[0]) else {
                return Err("first argument to redis.register_function must be a string");
            };
            let Value::Function(f) = &args[1] else {
                return Err("second argument to redis.register_function must be a function");
            };
            Ok((name, None, f.clone(), 0))
        }
        _ => Err("wrong number of arguments to redis.register_function"),
    }
}

fn read_named_args(arg: &Value) -> Result<Registered, &'static str> {
    let Value::Table(t) = arg else {
        return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
    };
    let (mut name, mut desc, mut callback, mut fflags) = (None, None, None, 0);
    for pair in t.clone().pairs::<Value, Value>() {
        let Ok((k, v)) = pair else {
            return Err("named argument key given to redis.register_function is not a string");
        };
        let Some(key) = lua_text(&k) else {
            return Err("named argument key given to redis.register_function is not a string");
        };
        if key.eq_ignore_ascii_case(b"function_name") {
            name = Some(lua_text(&v).ok_or(
                "function_name argument given to redis.register_function must be a string",
            )?);
        } else if key.eq_ignore_ascii_case(b"description") {
            desc =
                Some(lua_text(&v).ok_or(
                    "description argument given to redis.register_function must be a string",
                )?);
        } else if key.eq_ignore_ascii_case(b"callback") {
            let Value::Function(f) = v else {
                return Err(
                    "callback argument given to redis.register_function must be a function",
                );
            };
            callback = Some(f);
        } else if key.eq_ignore_ascii_case(b"flags") {
            let Value::Table(list) = v else {
                return Err("flags argument to redis.register_function must be a table representing function flags");
            };
            fflags = read_flags(&list).ok_or("unknown flag given")?;
        } else {
            return Err("unknown argument given to redis.register_function");
        }
    }
    let Some(name) = name else {
        return Err("redis.register_function must get a function name argument");
    };
    let Some(callback) = callback else {
        return Err("redis.register_function must get a callback argument");
    };
    Ok((name, desc, callback, fflags))
}

/// `flags={...}`: each a flag name (any case); `None` for anything else.
fn read_flags(list: &Table) -> Option<u32> {
    let mut bits = 0;
    for i in 1.. {
        let v: Value = list.get(i).ok()?;
        if v.is_nil() {
            break;
        }
        let text = lua_text(&v)?;
        let (bit, _) = flags::NAMES
            .iter()
            .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(&text))?;
        bits |= bit;
    }
    Some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_errors_are_redis_s() {
        assert_eq!(metadata(b"x").unwrap_err(), "Missing library metadata");
        assert_eq!(metadata(b"#!lua").unwrap_err(), "Invalid library metadata");
        assert_eq!(
            metadata(b"#!lua\n").unwrap_err(),
            "Library name was not given"
        );
        assert_eq!(
            metadata(b"#!lua name=a name=b\n").unwrap_err(),
            "Invalid metadata value, name argument was given multiple times"
        );
        assert_eq!(
            metadata(b"#!lua foo=bar\n").unwrap_err(),
            "Invalid metadata value given: foo=bar"
        );
        let md = metadata(b"#!LUA NAME=lib\nreturn").unwrap();
        assert_eq!(
            (md.engine.as_str(), md.name.as_str(), md.body),
            ("LUA", "lib", 14)
        );
    }

    #[test]
    fn names_are_letters_digits_and_underscores() {
        assert!(valid_name(b"a_B9"));
        assert!(!valid_name(b""));
        assert!(!valid_name(b"a-b"));
    }

    #[test]
    fn a_library_registers_its_functions_with_flags_and_descriptions() {
        let reg = Functions::default();
        let name = reg
            .load(
                b"#!lua name=lib\nredis.register_function('f', function(k, a) return 1 end)\n\
                  redis.register_function{function_name='g', callback=function() end, \
                  flags={'no-writes', 'ALLOW-OOM'}, description='d'}",
                false,
                Some(LOAD_TIMEOUT),
            )
            .unwrap();
        assert_eq!(name, "lib");
        let (lib, i) = reg.find(b"G").unwrap();
        assert_eq!(lib.functions[i].flags, flags::NO_WRITES | flags::ALLOW_OOM);
        assert_eq!(lib.functions[i].description.as_deref(), Some(&b"d"[..]));
        assert_eq!(reg.counts(), (1, 2));
        assert_eq!(
            reg.load(
                b"#!lua name=lib\nredis.register_function('h', function() end)",
                false,
                None
            )
            .unwrap_err(),
            "Library 'lib' already exists"
        );
        assert_eq!(
            reg.load(
                b"#!lua name=other\nredis.register_function('F', function() end)",
                false,
                None
            )
            .unwrap_err(),
            "Function F already exists"
        );
    }

    #[test]
    fn load_time_code_sees_only_the_library_api() {
        let reg = Functions::default();
        assert_eq!(
            reg.load(b"#!lua name=l\nreturn string.len('x')", false, None)
                .unwrap_err(),
            "Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'string'"
        );
        assert_eq!(
            reg.load(b"#!lua name=l\nredis.register_function('a', 'b')", false, None)
                .unwrap_err(),
            "Error registering functions: ERR second argument to redis.register_function must be a function"
        );
        assert_eq!(
            reg.load(b"#!lua name=l\nlocal x = 1", false, None)
                .unwrap_err(),
            "No functions registered"
        );
    }

    #[test]
    fn a_load_that_runs_too_long_is_stopped() {
        let reg = Functions::default();
        assert_eq!(
            reg.load(
                b"#!lua name=l\nwhile true do end",
                false,
                Some(Duration::from_millis(20))
            )
            .unwrap_err(),
            "Error registering functions: ERR FUNCTION LOAD timeout"
        );
    }
}
