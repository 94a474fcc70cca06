//! `cjson`: JSON for Lua (lua-cjson 2.1.0, as Redis 7.0 carries it).
//!
//! # Encoding
//!
//! Numbers print as C's `%.14g` (`encode_number_precision` sets 1..14);
//! NaN and infinities are an error unless `encode_invalid_numbers` allows
//! them. Strings escape `"`, `\`, `/`, control characters and DEL; other
//! bytes pass through untouched. A table whose keys are all whole numbers
//! from 1 is an array (holes become `null`) unless it is excessively sparse
//! (largest index above twice the count and above 10, by default an
//! error); any other table is an object, number keys printed as strings.
//! `cjson.null` (a NULL light userdata) is `null`.
//!
//! # Decoding
//!
//! Objects and arrays become tables, `null` becomes `cjson.null`. Numbers
//! are read as C's `strtod` reads them, so with `decode_invalid_numbers`
//! (on by default) `Infinity`, `NaN`, hexadecimal and leading `+` are
//! accepted too.

use std::cell::RefCell;
use std::rc::Rc;

use mlua::{Function, LightUserData, Lua, MultiValue, Table, Value};

use super::{
    arg, arg_fail, check_bytes, check_integer, fail, function, one, type_fail, LibResult,
    MAX_C_STACK,
};

/// The settings one `cjson` table's functions share.
#[derive(Debug, Clone)]
struct Config {
    sparse_convert: i32,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0: error, 1: allowed, 2: encoded as `null`.
    encode_invalid_numbers: i32,
    decode_invalid_numbers: i32,
    encode_keep_buffer: i32,
    encode_number_precision: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sparse_convert: 0,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: 1,
            encode_keep_buffer: 1,
            encode_number_precision: 14,
        }
    }
}

/// What one `cjson` table's functions share: the settings, and Lua's
/// `next` for walking tables without holding them all.
struct Lib {
    cfg: RefCell<Config>,
    next: Function,
}

type Shared = Rc<Lib>;

/// `cjson.null`: the NULL light userdata.
pub fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// Builds a `cjson` table with its own settings (`cjson.new` makes more).
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let cfg: Shared = Rc::new(Lib {
        cfg: RefCell::new(Config::default()),
        next: lua.globals().raw_get("next")?,
    });
    let t = lua.create_table()?;
    type Op = fn(&Lua, &MultiValue, &Shared) -> LibResult<MultiValue>;
    let ops: [(&'static str, Op); 9] = [
        ("encode", encode),
        ("decode", decode),
        ("encode_sparse_array", cfg_sparse_array),
        ("encode_max_depth", |l, a, c| {
            int_option(l, a, 1, c, |c| &mut c.encode_max_depth, 1, i32::MAX)
        }),
        ("decode_max_depth", |l, a, c| {
            int_option(l, a, 1, c, |c| &mut c.decode_max_depth, 1, i32::MAX)
        }),
        ("encode_number_precision", |l, a, c| {
            int_option(l, a, 1, c, |c| &mut c.encode_number_precision, 1, 14)
        }),
        ("encode_keep_buffer", |l, a, c| {
            enum_option(l, a, 1, c, |c| &mut c.encode_keep_buffer, &["off", "on"])
        }),
        ("encode_invalid_numbers", |l, a, c| {
            enum_option(
                l,
                a,
                1,
                c,
                |c| &mut c.encode_invalid_numbers,
                &["off", "on", "null"],
            )
        }),
        ("decode_invalid_numbers", |l, a, c| {
            enum_option(
                l,
                a,
                1,
                c,
                |c| &mut c.decode_invalid_numbers,
                &["off", "on"],
            )
        }),
    ];
    for (name, op) in ops {
        let cfg = cfg.clone();
        t.raw_set(name, function(lua, name, move |l, a| op(l, &a, &cfg))?)?;
    }
    t.raw_set(
        "new",
        function(lua, "new", |l, _| Ok(one(Value::Table(module(l)?))))?,
    )?;
    t.raw_set("null", null())?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}

/// `json_arg_init`: at most `n` arguments.
fn arg_init(args: &MultiValue, n: i32) -> LibResult<()> {
    if args.len() > n as usize {
        return arg_fail(n + 1, "found too many arguments");
    }
    Ok(())
}

fn is_nil(args: &MultiValue, narg: i32) -> bool {
    matches!(arg(args, narg), None | Some(Value::Nil))
}

/// An integer setting between `min` and `max`; returns its value.
fn int_setting(
    lua: &Lua,
    args: &MultiValue,
    narg: i32,
    cfg: &Shared,
    field: fn(&mut Config) -> &mut i32,
    min: i32,
    max: i32,
) -> LibResult<Value> {
    if !is_nil(args, narg) {
        // lua_Integer into an int: the low 32 bits.
        let value = check_integer(lua, args, narg)? as i32;
        if !(min <= value && value <= max) {
            return arg_fail(1, format!("expected integer between {min} and {max}"));
        }
        *field(&mut cfg.cfg.borrow_mut()) = value;
    }
    let v = *field(&mut cfg.cfg.borrow_mut());
    Ok(Value::Number(f64::from(v)))
}

fn int_option(
    lua: &Lua,
    args: &MultiValue,
    n: i32,
    cfg: &Shared,
    field: fn(&mut Config) -> &mut i32,
    min: i32,
    max: i32,
) -> LibResult<MultiValue> {
    arg_init(args, n)?;
    Ok(one(int_setting(lua, args, 1, cfg, field, min, max)?))
}

/// An on/off (or named) setting; booleans and the option names are
/// accepted, and it is returned as a boolean when it is one.
fn enum_setting(
    lua: &Lua,
    args: &MultiValue,
    narg: i32,
    cfg: &Shared,
    field: fn(&mut Config) -> &mut i32,
    options: &[&str],
) -> LibResult<Value> {
    match arg(args, narg) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) => *field(&mut cfg.cfg.borrow_mut()) = i32::from(*b),
        Some(Value::String(s)) => {
            let s = s.as_bytes();
            match options.iter().position(|o| o.as_bytes() == &s[..]) {
                Some(i) => *field(&mut cfg.cfg.borrow_mut()) = i as i32,
                None => {
                    let mut msg = b"invalid option '".to_vec();
                    msg.extend_from_slice(&s);
                    msg.push(b'\'');
                    return arg_fail(narg, msg);
                }
            }
        }
        Some(v @ (Value::Integer(_) | Value::Number(_))) => {
            let s = lua
                .coerce_string(v.clone())?
                .map(|s| s.as_bytes().to_vec())
                .unwrap_or_default();
            match options.iter().position(|o| o.as_bytes() == &s[..]) {
                Some(i) => *field(&mut cfg.cfg.borrow_mut()) = i as i32,
                None => {
                    let mut msg = b"invalid option '".to_vec();
                    msg.extend_from_slice(&s);
                    msg.push(b'\'');
                    return arg_fail(narg, msg);
                }
            }
        }
        Some(_) => return type_fail(args, narg, "string"),
    }
    let v = *field(&mut cfg.cfg.borrow_mut());
    Ok(if v == 0 || v == 1 {
        Value::Boolean(v == 1)
    } else {
        Value::String(lua.create_string(options[v as usize])?)
    })
}

fn enum_option(
    lua: &Lua,
    args: &MultiValue,
    n: i32,
    cfg: &Shared,
    field: fn(&mut Config) -> &mut i32,
    options: &[&str],
) -> LibResult<MultiValue> {
    arg_init(args, n)?;
    Ok(one(enum_setting(lua, args, 1, cfg, field, options)?))
}

fn cfg_sparse_array(lua: &Lua, args: &MultiValue, cfg: &Shared) -> LibResult<MultiValue> {
    arg_init(args, 3)?;
    let convert = enum_setting(lua, args, 1, cfg, |c| &mut c.sparse_convert, &["off", "on"])?;
    let ratio = int_setting(lua, args, 2, cfg, |c| &mut c.sparse_ratio, 0, i32::MAX)?;
    let safe = int_setting(lua, args, 3, cfg, |c| &mut c.sparse_safe, 0, i32::MAX)?;
    Ok(MultiValue::from_vec(vec![convert, ratio, safe]))
}

// ===== Encoding =====

/// The C `%.{precision}g` of `n`.
pub(crate) fn format_g(n: f64, precision: usize) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    let p = precision.max(1);
    let e = format!("{:.*e}", p - 1, n);
    let (mant, exp) = e.split_once('e').expect("exponent");
    let x: i32 = exp.parse().expect("exponent digits");
    if x < -4 || x >= p as i32 {
        let mant = strip_zeros(mant);
        let sign = if x < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", x.abs())
    } else {
        let fixed = format!("{:.*}", (p as i32 - 1 - x) as usize, n);
        strip_zeros(&fixed).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

/// A table being written. The tables themselves (and the key an object's
/// walk has reached) wait in a Lua table, `waiting[2d - 1]` and
/// `waiting[2d]` at depth d: mlua can hold only about 8000 values at once.
enum Open {
    Array { len: i32, next: i32 },
    Object { written: usize },
}

struct Encoder<'c> {
    cfg: &'c Config,
    next: &'c Function,
    out: Vec<u8>,
    waiting: Option<Table>,
}

impl Encoder<'_> {
    fn exception<T>(type_name: &str, reason: &str) -> LibResult<T> {
        fail(format!("Cannot serialise {type_name}: {reason}"))
    }

    fn number(&mut self, n: f64) -> LibResult<()> {
        match self.cfg.encode_invalid_numbers {
            0 if !n.is_finite() => return Self::exception("number", "must not be NaN or Inf"),
            1 if n.is_nan() => {
                self.out.extend_from_slice(b"nan");
                return Ok(());
            }
            2 if !n.is_finite() => {
                self.out.extend_from_slice(b"null");
                return Ok(());
            }
            _ => {}
        }
        let s = format_g(n, self.cfg.encode_number_precision as usize);
        self.out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    fn string(&mut self, s: &[u8]) {
        self.out.push(b'"');
        for &c in s {
            match c {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'/' => self.out.extend_from_slice(b"\\/"),
                0x08 => self.out.extend_from_slice(b"\\b"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                0x0c => self.out.extend_from_slice(b"\\f"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                0..=0x1f | 0x7f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    self.out.extend_from_slice(b"\\u00");
                    self.out.push(HEX[usize::from(c >> 4)]);
                    self.out.push(HEX[usize::from(c & 15)]);
                }
                _ => self.out.push(c),
            }
        }
        self.out.push(b'"');
    }

    /// `lua_array_length`: the length if the keys make an array, or None.
    fn array_length(&self, t: &Table) -> LibResult<Option<i32>> {
        let mut max: i32 = 0;
        let mut items: i32 = 0;
        for pair in t.pairs::<Value, Value>() {
            let (k, _) = pair?;
            match number_of(&k) {
                Some(k) if k != 0.0 && k.floor() == k && k >= 1.0 => {
                    if k > f64::from(max) {
                        max = super::c_f64_to_i32(k);
                    }
                    items = items.wrapping_add(1);
                }
                _ => return Ok(None),
            }
        }
        let c = self.cfg;
        if c.sparse_ratio > 0 && max > items.wrapping_mul(c.sparse_ratio) && max > c.sparse_safe {
            if c.sparse_convert == 0 {
                return Self::exception("table", "excessively sparse array");
            }
            return Ok(None);
        }
        Ok(Some(max))
    }

    fn waiting(&mut self, lua: &Lua) -> LibResult<Table> {
        match &self.waiting {
            Some(w) => Ok(w.clone()),
            None => Ok(self.waiting.insert(lua.create_table()?).clone()),
        }
    }

    /// Writes `v`; a table is opened on `open` (its contents follow).
    /// `top` is the Lua stack height Redis's encoder would have.
    fn value(&mut self, lua: &Lua, v: Value, open: &mut Vec<Open>, top: usize) -> LibResult<()> {
        match v {
            Value::String(s) => self.string(&s.as_bytes()),
            Value::Integer(_) | Value::Number(_) => self.number(number_of(&v).unwrap_or(0.0))?,
            Value::Boolean(b) => self
                .out
                .extend_from_slice(if b { b"true" } else { b"false" }),
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            Value::Table(t) => {
                let depth = open.len() + 1;
                if depth > self.cfg.encode_max_depth as usize || top + 3 > MAX_C_STACK {
                    return fail(format!("Cannot serialise, excessive nesting ({depth})"));
                }
                match self.array_length(&t)? {
                    Some(len) if len > 0 => {
                        self.out.push(b'[');
                        open.push(Open::Array { len, next: 1 });
                    }
                    _ => {
                        self.out.push(b'{');
                        open.push(Open::Object { written: 0 });
                    }
                }
                self.waiting(lua)?.raw_set(2 * depth - 1, t)?;
            }
            other => return Self::exception(super::type_name(&other), "type not supported"),
        }
        Ok(())
    }

    fn encode(&mut self, lua: &Lua, v: Value) -> LibResult<()> {
        let mut open: Vec<Open> = Vec::new();
        // The Lua stack height at each open table's children.
        let mut tops: Vec<usize> = Vec::new();
        self.value(lua, v, &mut open, 1)?;
        if !open.is_empty() {
            tops.push(1 + open_slots(&open[0]));
        }
        while !open.is_empty() {
            let depth = open.len();
            let top = *tops.last().expect("a height per table");
            let waiting = self.waiting(lua)?;
            let t: Table = waiting.raw_get(2 * depth - 1)?;
            let child = match open.last_mut().expect("not empty") {
                Open::Array { len, next } => {
                    if *next > *len {
                        None
                    } else {
                        if *next > 1 {
                            self.out.push(b',');
                        }
                        let v: Value = t.raw_get(*next)?;
                        *next += 1;
                        Some(v)
                    }
                }
                Open::Object { written } => {
                    let key: Value = if *written > 0 {
                        waiting.raw_get(2 * depth)?
                    } else {
                        Value::Nil
                    };
                    let (k, v): (Value, Value) = self.next.call((t, key))?;
                    if k == Value::Nil {
                        None
                    } else {
                        if *written > 0 {
                            self.out.push(b',');
                        }
                        *written += 1;
                        waiting.raw_set(2 * depth, k.clone())?;
                        match &k {
                            Value::String(s) => {
                                self.string(&s.as_bytes());
                                self.out.push(b':');
                            }
                            Value::Integer(_) | Value::Number(_) => {
                                self.out.push(b'"');
                                self.number(number_of(&k).unwrap_or(0.0))?;
                                self.out.extend_from_slice(b"\":");
                            }
                            other => {
                                return Self::exception(
                                    super::type_name(other),
                                    "table key must be a number or string",
                                )
                            }
                        }
                        Some(v)
                    }
                }
            };
            match child {
                Some(v) => {
                    self.value(lua, v, &mut open, top)?;
                    if open.len() > depth {
                        tops.push(top + open_slots(open.last().expect("just opened")));
                    }
                }
                None => {
                    let closed = open.pop().expect("an open table");
                    tops.pop();
                    waiting.raw_set(2 * depth - 1, Value::Nil)?;
                    waiting.raw_set(2 * depth, Value::Nil)?;
                    self.out.push(match closed {
                        Open::Array { .. } => b']',
                        Open::Object { .. } => b'}',
                    });
                }
            }
        }
        Ok(())
    }
}

/// Stack slots a table holds while its children are written: the value,
/// and for objects the key too.
fn open_slots(o: &Open) -> usize {
    match o {
        Open::Array { .. } => 1,
        Open::Object { .. } => 2,
    }
}

fn encode(lua: &Lua, args: &MultiValue, lib: &Shared) -> LibResult<MultiValue> {
    if args.len() != 1 {
        return arg_fail(1, "expected 1 argument");
    }
    let cfg = lib.cfg.borrow().clone();
    let mut enc = Encoder {
        cfg: &cfg,
        next: &lib.next,
        out: Vec::new(),
        waiting: None,
    };
    enc.encode(lua, args[0].clone())?;
    Ok(one(Value::String(lua.create_string(&enc.out)?)))
}

// ===== Decoding =====

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num,
    Bool,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ObjBegin => "T_OBJ_BEGIN",
            Kind::ObjEnd => "T_OBJ_END",
            Kind::ArrBegin => "T_ARR_BEGIN",
            Kind::ArrEnd => "T_ARR_END",
            Kind::Str => "T_STRING",
            Kind::Num => "T_NUMBER",
            Kind::Bool => "T_BOOLEAN",
            Kind::Null => "T_NULL",
            Kind::Colon => "T_COLON",
            Kind::Comma => "T_COMMA",
            Kind::End => "T_END",
            Kind::Error => "T_ERROR",
        }
    }
}

struct Token {
    kind: Kind,
    /// 0-based place of the token (of the fault, for errors).
    index: usize,
    num: f64,
    boolean: bool,
    /// The error's text, for `Kind::Error`.
    error: &'static str,
}

impl Token {
    fn new(kind: Kind, index: usize) -> Self {
        Token {
            kind,
            index,
            num: 0.0,
            boolean: false,
            error: "",
        }
    }
}

struct Parser<'a> {
    data: &'a [u8],
    at: usize,
    /// The current string token's bytes.
    text: Vec<u8>,
    invalid_numbers: bool,
    max_depth: usize,
    depth: usize,
    top: usize,
}

impl Parser<'_> {
    /// The byte at `i`, with the C string's terminating zero past the end.
    fn byte(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn error(&self, msg: &'static str) -> Token {
        let mut t = Token::new(Kind::Error, self.at);
        t.error = msg;
        t
    }

    fn starts_with(&self, word: &[u8]) -> bool {
        self.data[self.at.min(self.data.len())..].starts_with(word)
    }

    fn next(&mut self) -> Token {
        while matches!(self.byte(self.at), b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
        let ch = self.byte(self.at);
        let single = match ch {
            b'{' => Some(Kind::ObjBegin),
            b'}' => Some(Kind::ObjEnd),
            b'[' => Some(Kind::ArrBegin),
            b']' => Some(Kind::ArrEnd),
            b',' => Some(Kind::Comma),
            b':' => Some(Kind::Colon),
            0 => return Token::new(Kind::End, self.at),
            _ => None,
        };
        if let Some(kind) = single {
            self.at += 1;
            return Token::new(kind, self.at - 1);
        }
        let index = self.at;
        match ch {
            b'"' => self.string(),
            b'-' | b'0'..=b'9' => {
                if !self.invalid_numbers && self.is_invalid_number() {
                    return self.error("invalid number");
                }
                self.number()
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                if self.starts_with(b"true") {
                    self.at += 4;
                    let mut t = Token::new(Kind::Bool, index);
                    t.boolean = true;
                    t
                } else if self.starts_with(b"false") {
                    self.at += 5;
                    Token::new(Kind::Bool, index)
                } else if self.starts_with(b"null") {
                    self.at += 4;
                    Token::new(Kind::Null, index)
                } else if self.invalid_numbers && self.is_invalid_number() {
                    self.number()
                } else {
                    self.error("invalid token")
                }
            }
            _ => self.error("invalid token"),
        }
    }

    /// `json_is_invalid_number`: forms strtod takes that JSON does not.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.at;
        if self.byte(p) == b'+' {
            return true;
        }
        if self.byte(p) == b'-' {
            p += 1;
        }
        let c = self.byte(p);
        if c == b'0' {
            let c2 = self.byte(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        } else if c <= b'9' {
            return false;
        }
        let rest = &self.data[p.min(self.data.len())..];
        let lower = |n: usize| rest.get(..n).map(|s| s.to_ascii_lowercase());
        lower(3).is_some_and(|s| s == b"inf" || s == b"nan")
    }

    fn number(&mut self) -> Token {
        let (value, used) = strtod(&self.data[self.at..]);
        if used == 0 {
            return self.error("invalid number");
        }
        let mut t = Token::new(Kind::Num, self.at);
        self.at += used;
        t.num = value;
        t
    }

    fn string(&mut self) -> Token {
        let index = self.at;
        self.at += 1;
        self.text.clear();
        loop {
            let ch = self.byte(self.at);
            if ch == b'"' {
                break;
            }
            if self.at >= self.data.len() || ch == 0 {
                return self.error("unexpected end of string");
            }
            let mut out = ch;
            if ch == b'\\' {
                out = match self.byte(self.at + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape() {
                            continue;
                        }
                        return self.error("invalid unicode escape code");
                    }
                    _ => return self.error("invalid escape code"),
                };
                self.at += 1;
            }
            self.text.push(out);
            self.at += 1;
        }
        self.at += 1;
        Token::new(Kind::Str, index)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        (0..4).try_fold(0u32, |a, i| {
            let d = (self.byte(at + i) as char).to_digit(16)?;
            Some(a << 4 | d)
        })
    }

    /// `\uXXXX` (or a surrogate pair) at the cursor, as UTF-8.
    fn unicode_escape(&mut self) -> bool {
        let Some(mut cp) = self.hex4(self.at + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.byte(self.at + 6) != b'\\' || self.byte(self.at + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.at + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        let mut buf = [0u8; 4];
        let bytes: &[u8] = match char::from_u32(cp) {
            Some(c) => c.encode_utf8(&mut buf).as_bytes(),
            None => {
                // Lone surrogates cannot get here; keep C's arithmetic.
                buf[0] = (cp >> 12) as u8 | 0xE0;
                buf[1] = ((cp >> 6) & 0x3F) as u8 | 0x80;
                buf[2] = (cp & 0x3F) as u8 | 0x80;
                &buf[..3]
            }
        };
        self.text.extend_from_slice(bytes);
        self.at += len;
        true
    }

    fn parse_error<T>(&self, expected: &str, token: &Token) -> LibResult<T> {
        let found = if token.kind == Kind::Error {
            token.error
        } else {
            token.kind.name()
        };
        fail(format!(
            "Expected {expected} but found {found} at character {}",
            token.index + 1
        ))
    }

    fn descend(&mut self, slots: usize) -> LibResult<()> {
        self.depth += 1;
        if self.depth <= self.max_depth && self.top + slots <= MAX_C_STACK {
            return Ok(());
        }
        fail(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.at
        ))
    }

    /// Parses one value starting with `token`, without recursion. The
    /// tables being filled (and each object's pending key) wait in a Lua
    /// table, `waiting[2d - 1]` and `waiting[2d]` at depth d.
    fn value(&mut self, lua: &Lua, mut token: Token) -> LibResult<Value> {
        enum Ctx {
            Obj,
            Arr { next: i64 },
        }
        let mut stack: Vec<Ctx> = Vec::new();
        let mut waiting: Option<Table> = None;
        'value: loop {
            let mut v = match token.kind {
                Kind::Str => Value::String(lua.create_string(&self.text)?),
                Kind::Num => Value::Number(token.num),
                Kind::Bool => Value::Boolean(token.boolean),
                Kind::Null => null(),
                Kind::ObjBegin | Kind::ArrBegin => {
                    let object = token.kind == Kind::ObjBegin;
                    self.descend(if object { 3 } else { 2 })?;
                    let t = lua.create_table()?;
                    self.top += 1;
                    token = self.next();
                    let end = if object { Kind::ObjEnd } else { Kind::ArrEnd };
                    if token.kind == end {
                        self.depth -= 1;
                        Value::Table(t)
                    } else {
                        let w = match &waiting {
                            Some(w) => w.clone(),
                            None => waiting.insert(lua.create_table()?).clone(),
                        };
                        stack.push(if object {
                            Ctx::Obj
                        } else {
                            Ctx::Arr { next: 1 }
                        });
                        let d = stack.len();
                        w.raw_set(2 * d - 1, t)?;
                        if object {
                            w.raw_set(2 * d, self.key(lua, &token)?)?;
                            token = self.next();
                        }
                        continue 'value;
                    }
                }
                _ => return self.parse_error("value", &token),
            };
            if !matches!(v, Value::Table(_)) {
                self.top += 1;
            }
            // Store the finished value in the tables that wait for it.
            loop {
                let d = stack.len();
                let Some(ctx) = stack.last_mut() else {
                    return Ok(v);
                };
                let w = waiting.as_ref().expect("open tables wait somewhere");
                let t: Table = w.raw_get(2 * d - 1)?;
                match ctx {
                    Ctx::Arr { next } => {
                        t.raw_set(*next, v)?;
                        *next += 1;
                        self.top -= 1;
                        token = self.next();
                        if token.kind != Kind::ArrEnd {
                            if token.kind != Kind::Comma {
                                return self.parse_error("comma or array end", &token);
                            }
                            token = self.next();
                            continue 'value;
                        }
                    }
                    Ctx::Obj => {
                        let key: Value = w.raw_get(2 * d)?;
                        t.raw_set(key, v)?;
                        self.top -= 2;
                        token = self.next();
                        if token.kind != Kind::ObjEnd {
                            if token.kind != Kind::Comma {
                                return self.parse_error("comma or object end", &token);
                            }
                            token = self.next();
                            w.raw_set(2 * d, self.key(lua, &token)?)?;
                            token = self.next();
                            continue 'value;
                        }
                        w.raw_set(2 * d, Value::Nil)?;
                    }
                }
                self.depth -= 1;
                stack.pop();
                w.raw_set(2 * d - 1, Value::Nil)?;
                v = Value::Table(t);
            }
        }
    }

    /// An object key and its colon.
    fn key(&mut self, lua: &Lua, token: &Token) -> LibResult<mlua::String> {
        if token.kind != Kind::Str {
            return self.parse_error("object key string", token);
        }
        let key = lua.create_string(&self.text)?;
        self.top += 1;
        let colon = self.next();
        if colon.kind != Kind::Colon {
            return self.parse_error("colon", &colon);
        }
        Ok(key)
    }
}

fn decode(lua: &Lua, args: &MultiValue, cfg: &Shared) -> LibResult<MultiValue> {
    if args.len() != 1 {
        return arg_fail(1, "expected 1 argument");
    }
    let data = check_bytes(lua, args, 1)?;
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return fail("JSON parser does not support UTF-16 or UTF-32");
    }
    let cfg = cfg.cfg.borrow().clone();
    let mut p = Parser {
        data: &data,
        at: 0,
        text: Vec::new(),
        invalid_numbers: cfg.decode_invalid_numbers != 0,
        max_depth: cfg.decode_max_depth as usize,
        depth: 0,
        top: 1,
    };
    let first = p.next();
    let v = p.value(lua, first)?;
    let end = p.next();
    if end.kind != Kind::End {
        return p.parse_error("the end", &end);
    }
    Ok(one(v))
}

/// C's `strtod` at the start of `s` (no leading spaces here): the value
/// and the bytes used, 0 when there is no number.
pub(crate) fn strtod(s: &[u8]) -> (f64, usize) {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = 0;
    let negative = match at(0) {
        b'-' => {
            i = 1;
            true
        }
        b'+' => {
            i = 1;
            false
        }
        _ => false,
    };
    let sign = |v: f64| if negative { -v } else { v };
    let rest = &s[i.min(s.len())..];
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"infinity") {
        return (sign(f64::INFINITY), i + 8);
    }
    if starts(b"inf") {
        return (sign(f64::INFINITY), i + 3);
    }
    if starts(b"nan") {
        let mut j = i + 3;
        if at(j) == b'(' {
            let mut k = j + 1;
            while at(k).is_ascii_alphanumeric() || at(k) == b'_' {
                k += 1;
            }
            if at(k) == b')' {
                j = k + 1;
            }
        }
        return (sign(f64::NAN), j);
    }
    if at(i) == b'0' && (at(i + 1) | 0x20) == b'x' {
        if let Some((v, used)) = hex_float(&s[i + 2..]) {
            return (sign(v), i + 2 + used);
        }
        return (sign(0.0), i + 1);
    }
    let start = i;
    let mut digits = 0;
    while at(i).is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if at(i) == b'.' {
        let mut j = i + 1;
        while at(j).is_ascii_digit() {
            j += 1;
            digits += 1;
        }
        if digits > 0 {
            i = j;
        }
    }
    if digits == 0 {
        return (0.0, 0);
    }
    if at(i) | 0x20 == b'e' {
        let mut j = i + 1;
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            while at(j).is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    let text = std::str::from_utf8(&s[start..i]).unwrap_or("0");
    (sign(text.parse::<f64>().unwrap_or(0.0)), i)
}

/// A hexadecimal float after `0x`: digits, an optional fraction and an
/// optional binary exponent, rounded to nearest even.
fn hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut mant: u64 = 0;
    let mut sticky = false;
    let mut exp: i64 = 0;
    let mut digits = 0;
    let mut i = 0;
    let mut seen_point = false;
    loop {
        let c = at(i);
        if c == b'.' && !seen_point {
            seen_point = true;
            i += 1;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else {
            break;
        };
        digits += 1;
        if mant >> 60 == 0 {
            mant = mant << 4 | u64::from(d);
            if seen_point {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp += 4;
            }
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if at(i) | 0x20 == b'p' {
        let mut j = i + 1;
        let neg = match at(j) {
            b'-' => {
                j += 1;
                true
            }
            b'+' => {
                j += 1;
                false
            }
            _ => false,
        };
        if at(j).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(j).is_ascii_digit() {
                e = (e * 10 + i64::from(at(j) - b'0')).min(1 << 40);
                j += 1;
            }
            exp += if neg { -e } else { e };
            i = j;
        }
    }
    Some((compose(mant, sticky, exp), i))
}

/// `mant · 2^exp` (with `sticky` standing for lost nonzero bits below)
/// rounded to the nearest double, ties to even.
fn compose(mant: u64, sticky: bool, exp: i64) -> f64 {
    if mant == 0 {
        return 0.0;
    }
    let bits = 64 - i64::from(mant.leading_zeros());
    let top = exp + bits - 1;
    if top > 1100 {
        return f64::INFINITY;
    }
    let keep = if top >= -1022 { 53 } else { 53 - (-1022 - top) };
    let drop = bits - keep;
    let (m, e) = if drop <= 0 {
        (mant as u128, exp)
    } else if drop > 100 {
        (0, exp + drop)
    } else {
        let m = mant as u128;
        let kept = m >> drop;
        let rem = m & ((1u128 << drop) - 1);
        let half = 1u128 << (drop - 1);
        let up = rem > half || (rem == half && (sticky || kept & 1 == 1));
        (kept + u128::from(up), exp + drop)
    };
    let mut v = m as f64;
    let mut e = e;
    while e > 1000 {
        v *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        v *= 2f64.powi(-1000);
        e += 1000;
    }
    v * 2f64.powi(e as i32)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{err, eval};
    use super::{format_g, strtod};

    #[test]
    fn format_g_matches_c() {
        assert_eq!(format_g(0.1, 14), "0.1");
        assert_eq!(format_g(1e300, 14), "1e+300");
        assert_eq!(format_g(-0.0, 14), "-0");
        assert_eq!(format_g(123456789012345.0, 14), "1.2345678901234e+14");
        assert_eq!(format_g(1.0 / 3.0, 14), "0.33333333333333");
        assert_eq!(format_g(0.0001, 14), "0.0001");
        assert_eq!(format_g(0.00001, 14), "1e-05");
        assert_eq!(format_g(100.0, 1), "1e+02");
        assert_eq!(format_g(1.23456, 3), "1.23");
    }

    #[test]
    fn strtod_reads_what_c_reads() {
        assert_eq!(strtod(b"12abc"), (12.0, 2));
        assert_eq!(strtod(b"1e"), (1.0, 1));
        assert_eq!(strtod(b"-1.5e+2,"), (-150.0, 7));
        assert_eq!(strtod(b"0x1p3"), (8.0, 5));
        assert_eq!(strtod(b"0x"), (0.0, 1));
        assert_eq!(strtod(b"0x1.8"), (1.5, 5));
        assert_eq!(strtod(b"-Infinity"), (f64::NEG_INFINITY, 9));
        assert_eq!(strtod(b"-"), (0.0, 0));
        assert_eq!(strtod(b"."), (0.0, 0));
        assert!(strtod(b"nan(12)").0.is_nan());
        assert_eq!(strtod(b"nan(12)").1, 7);
    }

    #[test]
    fn encodes_like_redis() {
        assert_eq!(
            eval("return cjson.encode({1, 2, 'a/b'})"),
            "[1,2,\"a\\/b\"]"
        );
        assert_eq!(
            eval("return cjson.encode({[1] = 1, [3] = 3})"),
            "[1,null,3]"
        );
        assert_eq!(eval("return cjson.encode({})"), "{}");
        assert_eq!(
            eval("return cjson.encode({a = cjson.null})"),
            "{\"a\":null}"
        );
        assert_eq!(
            eval("return cjson.encode('\\1\\127')"),
            "\"\\u0001\\u007f\""
        );
        assert_eq!(
            err("cjson.encode({[20] = 1})"),
            "string:t:1: Cannot serialise table: excessively sparse array"
        );
        assert_eq!(
            err("cjson.encode(print)"),
            "string:t:1: Cannot serialise function: type not supported"
        );
        assert_eq!(
            err("cjson.encode(1/0)"),
            "string:t:1: Cannot serialise number: must not be NaN or Inf"
        );
    }

    #[test]
    fn decodes_like_redis() {
        assert_eq!(
            eval("return tostring(cjson.decode('null') == cjson.null)"),
            "true"
        );
        assert_eq!(
            eval("return cjson.decode('[\"\\\\u00e9\\\\ud83d\\\\ude00\"]')[1]"),
            "é😀"
        );
        assert_eq!(
            err("cjson.decode('[1,]')"),
            "string:t:1: Expected value but found T_ARR_END at character 4"
        );
        assert_eq!(
            err("cjson.decode('{\"a\" 1}')"),
            "string:t:1: Expected colon but found T_NUMBER at character 6"
        );
        assert_eq!(
            err("cjson.decode(string.rep('[', 1001))"),
            "string:t:1: Found too many nested data structures (1001) at character 1001"
        );
    }

    #[test]
    fn settings_answer_their_values() {
        assert_eq!(
            eval("return table.concat({tostring(cjson.encode_number_precision(3)), cjson.encode(1/3)}, ' ')"),
            "3 0.333"
        );
        assert_eq!(eval("return cjson.encode_invalid_numbers('null')"), "null");
        assert_eq!(
            err("cjson.encode_number_precision(15)"),
            "string:t:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)"
        );
    }
}
