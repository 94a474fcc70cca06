//! The libraries Redis 7.0 loads into its Lua state besides Lua's own:
//! `cjson`, `cmsgpack`, `bit` and `struct`, written here in Rust to behave
//! as Redis's C versions do, down to the bytes they produce and the text
//! of their errors.
//!
//! # Layout
//!
//! * [`cjson`] — JSON encode/decode with lua-cjson 2.1.0's options.
//! * [`cmsgpack`] — MessagePack (lua-cmsgpack 0.4.0).
//! * [`bit`] — LuaBitOp 1.0.2: 32-bit operations on Lua numbers.
//! * [`structlib`] — Roberto Ierusalimschy's `struct` (pack/unpack/size).
//!
//! # Errors
//!
//! The C libraries raise plain string errors (`luaL_error`, `luaL_argerror`)
//! that scripts can catch with `pcall` and inspect as strings. An error a
//! Rust callback returns reaches Lua as mlua's userdata instead, so every
//! library function is a Rust function that reports failure as a value,
//! wrapped in a small Lua function that raises that message with
//! `error(msg, 0)`. Argument errors name the function the way
//! `luaL_argerror` does: as the caller spelt it (`'encode'`, `'?'` under
//! `pcall`).
//!
//! # Lua stack limits
//!
//! Lua 5.1 lets a C function hold at most `LUAI_MAXCSTACK` (8000) stack
//! slots; Redis's libraries hit that limit on deep nesting and report it in
//! their own words. The Rust versions keep the values elsewhere, so they
//! count the slots the C code would hold and fail at the same point with
//! the same message. This also bounds every recursion here.

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;

use mlua::{Function, Lua, MultiValue, Value};

/// `LUAI_MAXCSTACK`: the stack slots a C function may use in Lua 5.1.
pub(crate) const MAX_C_STACK: usize = 8000;

/// Loads every library as a global of `lua`: `cjson`, `struct`,
/// `cmsgpack` and `bit`, in the order Redis loads them.
pub fn open(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.raw_set("cjson", cjson::module(lua)?)?;
    globals.raw_set("struct", structlib::module(lua)?)?;
    globals.raw_set("cmsgpack", cmsgpack::module(lua)?)?;
    globals.raw_set("bit", bit::module(lua)?)?;
    Ok(())
}

/// Why a library function failed, before it becomes Lua error text.
#[derive(Debug, Clone)]
pub(crate) enum Fail {
    /// `luaL_error`: the message, after the caller's place.
    Msg(Vec<u8>),
    /// `luaL_argerror(L, narg, msg)`: prefixed with the argument number
    /// and the function's name.
    Arg(i32, Vec<u8>),
    /// An error Lua itself raises inside the C function (`table index is
    /// nil`): no place before it.
    Raw(Vec<u8>),
    /// An error of mlua itself (out of memory and the like).
    Lua(mlua::Error),
}

impl From<mlua::Error> for Fail {
    fn from(e: mlua::Error) -> Self {
        Fail::Lua(e)
    }
}

/// What a library function returns.
pub(crate) type LibResult<T> = Result<T, Fail>;

/// `luaL_error`'s text.
pub(crate) fn fail<T>(msg: impl Into<Vec<u8>>) -> LibResult<T> {
    Err(Fail::Msg(msg.into()))
}

/// `luaL_argerror`'s text.
pub(crate) fn arg_fail<T>(narg: i32, msg: impl Into<Vec<u8>>) -> LibResult<T> {
    Err(Fail::Arg(narg, msg.into()))
}

/// `luaL_typerror`: "number expected, got no value".
pub(crate) fn type_fail<T>(args: &MultiValue, narg: i32, expected: &str) -> LibResult<T> {
    let got = match arg(args, narg) {
        None => "no value",
        Some(v) => type_name(v),
    };
    arg_fail(narg, format!("{expected} expected, got {got}"))
}

/// `lua_typename` of a value.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// Argument `narg` (1-based), `None` past the last one (Lua's "none").
pub(crate) fn arg(args: &MultiValue, narg: i32) -> Option<&Value> {
    usize::try_from(narg - 1).ok().and_then(|i| args.get(i))
}

/// `lua_tonumber` without the error: numbers, and strings Lua converts.
pub(crate) fn to_number(lua: &Lua, v: Option<&Value>) -> LibResult<Option<f64>> {
    Ok(match v {
        Some(Value::Number(n)) => Some(*n),
        Some(Value::Integer(i)) => Some(*i as f64),
        Some(v @ Value::String(_)) => lua.coerce_number(v.clone())?,
        _ => None,
    })
}

/// `luaL_checknumber`.
pub(crate) fn check_number(lua: &Lua, args: &MultiValue, narg: i32) -> LibResult<f64> {
    match to_number(lua, arg(args, narg))? {
        Some(n) => Ok(n),
        None => type_fail(args, narg, "number"),
    }
}

/// `luaL_checkinteger` (Lua 5.1: a converted number, truncated as C
/// truncates).
pub(crate) fn check_integer(lua: &Lua, args: &MultiValue, narg: i32) -> LibResult<i64> {
    match to_number(lua, arg(args, narg))? {
        Some(n) => Ok(c_f64_to_i64(n)),
        None => type_fail(args, narg, "number"),
    }
}

/// `luaL_optinteger`.
pub(crate) fn opt_integer(lua: &Lua, args: &MultiValue, narg: i32, default: i64) -> LibResult<i64> {
    match arg(args, narg) {
        None | Some(Value::Nil) => Ok(default),
        Some(_) => check_integer(lua, args, narg),
    }
}

/// `luaL_checklstring`: strings, and numbers as Lua prints them.
pub(crate) fn check_bytes(lua: &Lua, args: &MultiValue, narg: i32) -> LibResult<Vec<u8>> {
    match arg(args, narg) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(v @ (Value::Integer(_) | Value::Number(_))) => match lua.coerce_string(v.clone())? {
            Some(s) => Ok(s.as_bytes().to_vec()),
            None => type_fail(args, narg, "string"),
        },
        _ => type_fail(args, narg, "string"),
    }
}

/// A C cast of a double to a 64-bit signed integer as x86-64 does it:
/// truncation, and `INT64_MIN` for NaN and values out of range.
pub(crate) fn c_f64_to_i64(n: f64) -> i64 {
    if n.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// A C cast of a double to a 64-bit unsigned integer as GCC compiles it on
/// x86-64 (values below 2^63 through the signed conversion, the rest
/// shifted down by 2^63 first).
pub(crate) fn c_f64_to_u64(n: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if n >= TWO63 {
        (c_f64_to_i64(n - TWO63) as u64) ^ (1 << 63)
    } else {
        c_f64_to_i64(n) as u64
    }
}

/// A C cast of a double to a 32-bit `int` on x86-64.
pub(crate) fn c_f64_to_i32(n: f64) -> i32 {
    if n.is_nan() || !(-2_147_483_648.0..2_147_483_648.0).contains(&n.trunc()) {
        i32::MIN
    } else {
        n as i32
    }
}

/// The Lua function scripts call: it runs `raw`, returns its results, or
/// raises its error message as a plain string.
const WRAPPER: &str = r#"
local raw, err = ...
local function finish(ok, ...)
  if ok then return ... end
  err((...), 0)
end
return function(...) return finish(raw(...)) end
"#;

/// Makes the Lua function `name` from `f`. `name` is used in argument
/// errors only when Lua cannot tell how the caller named the function
/// (a tail call).
pub(crate) fn function<F>(lua: &Lua, name: &'static str, f: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, MultiValue) -> LibResult<MultiValue> + 'static,
{
    let raw = lua.create_function(move |lua, args: MultiValue| {
        let mut out = match f(lua, args) {
            Ok(values) => values,
            Err(e) => {
                let msg = error_text(lua, name, e)?;
                let mut out = MultiValue::with_capacity(2);
                out.push_back(Value::Boolean(false));
                out.push_back(Value::String(lua.create_string(msg)?));
                return Ok(out);
            }
        };
        out.push_front(Value::Boolean(true));
        Ok(out)
    })?;
    let error: Function = lua.globals().raw_get("error")?;
    lua.load(WRAPPER)
        .set_name("=lualib")
        .call::<Function>((raw, error))
}

/// The text Lua would raise for `e` in the function named `fallback`.
///
/// `luaL_error` starts the message with the place of the C function's
/// caller (`user_script:1: `) when that is a Lua function. Here level 1 is
/// the Lua wrapper and level 2 the script that called it. A tail-called
/// wrapper has lost that frame (Lua 5.1 reuses it), where Redis's C
/// function kept it: there the place is unknown and the message starts
/// without it, and the name is the library's own.
fn error_text(lua: &Lua, fallback: &str, e: Fail) -> mlua::Result<Vec<u8>> {
    let place = lua
        .inspect_stack(2, |d| {
            let src = d.source();
            let tail = src.what == "tail";
            let short = src.short_src.map(|s| s.into_owned());
            (tail, short, d.current_line())
        })
        .unwrap_or((false, None, None));
    let (tail, short_src, line) = place;
    let prefix = match (short_src, line) {
        (Some(src), Some(line)) if line > 0 => format!("{src}:{line}: "),
        _ => String::new(),
    };
    let mut out = prefix.into_bytes();
    match e {
        Fail::Msg(m) => out.extend_from_slice(&m),
        Fail::Raw(m) => return Ok(m),
        Fail::Lua(e) => return Err(e),
        Fail::Arg(narg, msg) => {
            let (name, what) = lua
                .inspect_stack(1, |d| {
                    let n = d.names();
                    (n.name.map(|s| s.into_owned()), n.name_what.unwrap_or(""))
                })
                .unwrap_or((None, ""));
            let name = match name {
                Some(n) => n,
                None if tail => fallback.to_string(),
                None => "?".to_string(),
            };
            let mut narg = narg;
            if what == "method" {
                narg -= 1;
            }
            if what == "method" && narg == 0 {
                out.extend_from_slice(format!("calling '{name}' on bad self (").as_bytes());
            } else {
                out.extend_from_slice(format!("bad argument #{narg} to '{name}' (").as_bytes());
            }
            out.extend_from_slice(&msg);
            out.push(b')');
        }
    }
    Ok(out)
}

/// A single result.
pub(crate) fn one(v: Value) -> MultiValue {
    let mut m = MultiValue::with_capacity(1);
    m.push_back(v);
    m
}

#[cfg(test)]
pub(crate) mod testing {
    //! Running snippets in a state with the libraries loaded.

    use mlua::Lua;

    /// A fresh state with the libraries.
    pub fn state() -> Lua {
        let lua = Lua::new();
        super::open(&lua).expect("libraries load");
        lua
    }

    /// Runs `code` (which returns a string) and gives the bytes.
    pub fn run(lua: &Lua, code: &str) -> Vec<u8> {
        let s: mlua::String = lua
            .load(code)
            .set_name("=t")
            .eval()
            .unwrap_or_else(|e| panic!("{code}: {e}"));
        s.as_bytes().to_vec()
    }

    /// Runs `code` in a fresh state and gives the string it returns.
    pub fn eval(code: &str) -> String {
        String::from_utf8_lossy(&run(&state(), code)).into_owned()
    }

    /// The error message `code` raises, caught with pcall in Lua.
    pub fn err(code: &str) -> String {
        eval(&format!(
            "local ok, e = pcall(function() {code} end) assert(not ok) return type(e) .. ':' .. e"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;

    #[test]
    fn errors_are_strings_with_the_callers_name() {
        assert_eq!(
            err("bit.band({})"),
            "string:t:1: bad argument #1 to 'band' (number expected, got table)"
        );
        assert_eq!(
            eval("local ok, e = pcall(bit.band, {}) return e"),
            "bad argument #1 to '?' (number expected, got table)"
        );
        assert_eq!(
            eval("local f = bit.band local ok, e = pcall(function() local r = f({}) return r end) return e"),
            "t:1: bad argument #1 to 'f' (number expected, got table)"
        );
    }

    #[test]
    fn globals_are_registered() {
        assert_eq!(
            eval("return type(cjson) .. type(cmsgpack) .. type(bit) .. type(struct)"),
            "tabletabletabletable"
        );
    }

    #[test]
    fn c_casts_follow_x86() {
        assert_eq!(super::c_f64_to_i64(f64::NAN), i64::MIN);
        assert_eq!(super::c_f64_to_i64(1e300), i64::MIN);
        assert_eq!(super::c_f64_to_i64(-2.7), -2);
        assert_eq!(super::c_f64_to_u64(1.8446744073709552e19), 0);
        assert_eq!(super::c_f64_to_u64(-1.0), u64::MAX);
        assert_eq!(super::c_f64_to_u64(9.3e18), 9_300_000_000_000_000_000);
        assert_eq!(super::c_f64_to_i32(3e9), i32::MIN);
    }
}
