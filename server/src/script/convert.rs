//! Redis 7.0's conversions between RESP and Lua values.
//!
//! A command's reply becomes a Lua value for `redis.call` (integers as
//! numbers, bulk strings as strings, nulls as `false` — `nil` for the RESP3
//! null —, status and error lines as `{ok=...}` / `{err=...}`, RESP3 maps,
//! sets, doubles, big numbers and verbatim strings as one-field tables).
//! A script's return value becomes the caller's reply (numbers truncated to
//! integers, tables read up to the first `nil`, `{err=...}` as an error).

use mlua::{Lua, Table, Value};

use crate::reply::Reply;

/// The Lua form of a complete reply, read straight from its RESP bytes
/// as Redis's `redisProtocolToLuaType` reads its reply buffer, and
/// whether it is an error. Bytes that are not one whole reply give `nil`.
pub fn reply_to_lua(lua: &Lua, bytes: &[u8]) -> mlua::Result<(Value, bool)> {
    let mut at = 0;
    let is_error = matches!(bytes.first(), Some(b'-' | b'!'));
    let v = parse_reply(lua, bytes, &mut at, 0)?.unwrap_or(Value::Nil);
    Ok((v, is_error))
}

/// The line at `at` (without CRLF), moving past it.
fn line<'b>(bytes: &'b [u8], at: &mut usize) -> Option<&'b [u8]> {
    let rest = bytes.get(*at..)?;
    let end = memchr::memmem::find(rest, b"\r\n")?;
    *at += end + 2;
    Some(&rest[..end])
}

fn parse_len(text: &[u8]) -> Option<i64> {
    crate::util::num::parse_i64(text)
}

/// A length-prefixed payload (`$`, `=`, `!`): `None` for the -1 null.
fn payload<'b>(bytes: &'b [u8], at: &mut usize, head: &[u8]) -> Option<Option<&'b [u8]>> {
    let n = parse_len(head)?;
    if n < 0 {
        return Some(None);
    }
    let n = n as usize;
    let body = bytes.get(*at..*at + n)?;
    *at += n + 2;
    Some(Some(body))
}

fn parse_reply(
    lua: &Lua,
    bytes: &[u8],
    at: &mut usize,
    depth: usize,
) -> mlua::Result<Option<Value>> {
    if depth > 1000 {
        return Ok(None);
    }
    let Some(&kind) = bytes.get(*at) else {
        return Ok(None);
    };
    *at += 1;
    let Some(head) = line(bytes, at) else {
        return Ok(None);
    };
    let v = match kind {
        b'+' => one_field(lua, "ok", Value::String(lua.create_string(head)?))?,
        b'-' | b'!' => {
            let text = if kind == b'!' {
                match payload(bytes, at, head) {
                    Some(Some(b)) => b,
                    _ => return Ok(None),
                }
            } else {
                head
            };
            let mut line = Vec::with_capacity(text.len() + 1);
            line.push(b'-');
            line.extend_from_slice(text);
            let t = error_table(lua, &line)?;
            t.raw_set("ignore_error_stats_update", true)?;
            Value::Table(t)
        }
        b':' => match parse_len(head) {
            Some(n) => Value::Number(n as f64),
            None => return Ok(None),
        },
        b'$' => match payload(bytes, at, head) {
            Some(Some(b)) => Value::String(lua.create_string(b)?),
            Some(None) => Value::Boolean(false),
            None => return Ok(None),
        },
        b'*' | b'>' => {
            let Some(n) = parse_len(head) else {
                return Ok(None);
            };
            if n < 0 {
                Value::Boolean(false)
            } else {
                let t = lua.create_table_with_capacity(n as usize, 0)?;
                for i in 0..n as usize {
                    let Some(item) = parse_reply(lua, bytes, at, depth + 1)? else {
                        return Ok(None);
                    };
                    t.raw_set(i + 1, item)?;
                }
                Value::Table(t)
            }
        }
        b'%' | b'~' | b'|' => {
            let Some(n) = parse_len(head) else {
                return Ok(None);
            };
            let inner = lua.create_table()?;
            for _ in 0..n.max(0) {
                let Some(k) = parse_reply(lua, bytes, at, depth + 1)? else {
                    return Ok(None);
                };
                let v = if kind == b'~' {
                    Value::Boolean(true)
                } else {
                    match parse_reply(lua, bytes, at, depth + 1)? {
                        Some(v) => v,
                        None => return Ok(None),
                    }
                };
                if kind != b'|' && !k.is_nil() {
                    inner.raw_set(k, v)?;
                }
            }
            match kind {
                b'%' => one_field(lua, "map", Value::Table(inner))?,
                b'~' => one_field(lua, "set", Value::Table(inner))?,
                // An attribute annotates the reply that follows it.
                _ => return parse_reply(lua, bytes, at, depth + 1),
            }
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(head == b"t"),
        b',' => {
            let text = std::str::from_utf8(head).unwrap_or("");
            let d = match text {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                "nan" | "-nan" => f64::NAN,
                t => t.parse().unwrap_or(0.0),
            };
            one_field(lua, "double", Value::Number(d))?
        }
        b'(' => one_field(lua, "big_number", Value::String(lua.create_string(head)?))?,
        b'=' => match payload(bytes, at, head) {
            Some(Some(b)) if b.len() >= 4 => {
                let inner = lua.create_table()?;
                inner.raw_set("string", lua.create_string(&b[4..])?)?;
                inner.raw_set("format", lua.create_string(&b[..3])?)?;
                one_field(lua, "verbatim_string", Value::Table(inner))?
            }
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn one_field(lua: &Lua, name: &str, v: Value) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set(name, v)?;
    Ok(Value::Table(t))
}

/// Redis's `luaPushErrorBuff`: `{err="CODE message"}` from `-CODE
/// message` (the code is the first word) or from a bare `message` (code
/// `ERR`), trailing CR/LF trimmed.
pub fn error_table(lua: &Lua, text: &[u8]) -> mlua::Result<Table> {
    let (code, msg): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match memchr::memchr(b' ', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    let mut msg = msg;
    while let Some((b'\r' | b'\n', rest)) = msg.split_last() {
        msg = rest;
    }
    while let Some((b'\r' | b'\n', rest)) = msg.split_first() {
        msg = rest;
    }
    let mut full = Vec::with_capacity(code.len() + 1 + msg.len());
    full.extend_from_slice(code);
    full.push(b' ');
    full.extend_from_slice(msg);
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(&full)?)?;
    Ok(t)
}

/// How a script's reply is written.
pub struct ReplyRules {
    /// The protocol the script set with `redis.setresp` (2 or 3): it
    /// decides how booleans are sent.
    pub script_resp3: bool,
}

/// Whether a reply written by [`lua_to_reply`] was an error, and whether
/// it was counted already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Not an error.
    Value,
    /// An error to count in the error statistics.
    Error,
    /// An error a command already counted.
    ErrorCounted,
}

/// Writes Lua value `v` as the caller's reply (Redis's
/// `luaReplyToRedisReply`), returning whether the top-level reply was an
/// error.
pub fn lua_to_reply(v: &Value, out: &mut Reply, rules: &ReplyRules, depth: usize) -> Written {
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if rules.script_resp3 {
                out.boolean(*b);
            } else if *b {
                out.int(1);
            } else {
                out.null();
            }
        }
        Value::Integer(n) => out.int(*n),
        Value::Number(n) => out.int(lua_number_to_i64(*n)),
        Value::Table(t) => return table_to_reply(t, out, rules, depth),
        _ => out.null(),
    }
    Written::Value
}

/// C's `(long long)` of a double as x86-64 computes it: truncation toward
/// zero, and `i64::MIN` for NaN and values out of range.
pub fn lua_number_to_i64(n: f64) -> i64 {
    // 2^63: the first double past i64::MAX.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if n.is_nan() || !(-LIMIT..LIMIT).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

fn table_to_reply(t: &Table, out: &mut Reply, rules: &ReplyRules, depth: usize) -> Written {
    // Redis checks the Lua stack, not a depth; a table nested in itself
    // would recurse until the stack ran out. Past this depth an error is
    // written instead.
    if depth > 1000 {
        out.buf
            .extend_from_slice(b"-ERR reached lua stack limit\r\n");
        return Written::Error;
    }
    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
        let counted = matches!(
            t.raw_get::<Value>("ignore_error_stats_update"),
            Ok(Value::Boolean(true))
        );
        // Redis reads the message with lua_getfield (metatables apply) and
        // writes it with a leading '-', newlines made spaces.
        let msg = match t.get::<Value>("err") {
            Ok(Value::String(s)) => s.as_bytes().to_vec(),
            _ => e.as_bytes().to_vec(),
        };
        write_error_line(out, &msg);
        return if counted {
            Written::ErrorCounted
        } else {
            Written::Error
        };
    }
    if let Ok(Value::String(ok)) = t.raw_get::<Value>("ok") {
        let mut line = ok.as_bytes().to_vec();
        for b in &mut line {
            if *b == b'\r' || *b == b'\n' {
                *b = b' ';
            }
        }
        out.buf.push(b'+');
        out.buf.extend_from_slice(&line);
        out.buf.extend_from_slice(b"\r\n");
        return Written::Value;
    }
    if let Ok(Value::Number(d)) = t.raw_get::<Value>("double") {
        out.double(d);
        return Written::Value;
    }
    if let Ok(Value::Integer(d)) = t.raw_get::<Value>("double") {
        out.double(d as f64);
        return Written::Value;
    }
    if let Ok(Value::String(b)) = t.raw_get::<Value>("big_number") {
        let mut digits = b.as_bytes().to_vec();
        for c in &mut digits {
            if *c == b'\r' || *c == b'\n' {
                *c = b' ';
            }
        }
        out.big_number(&digits);
        return Written::Value;
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") {
        if let (Ok(Value::String(format)), Ok(Value::String(text))) =
            (v.raw_get::<Value>("format"), v.raw_get::<Value>("string"))
        {
            let format = format.as_bytes();
            let text = text.as_bytes();
            if out.resp3 {
                let mut f = [b' '; 3];
                for (d, s) in f.iter_mut().zip(format.iter()) {
                    *d = *s;
                }
                soquete_resp::encode::verbatim(&mut out.buf, &f, &text);
            } else {
                out.bulk(&text);
            }
            return Written::Value;
        }
    }
    if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
        let mut body = Reply {
            buf: Vec::new(),
            resp3: out.resp3,
        };
        let mut n = 0;
        for (k, v) in m.pairs::<Value, Value>().flatten() {
            lua_to_reply(&k, &mut body, rules, depth + 1);
            lua_to_reply(&v, &mut body, rules, depth + 1);
            n += 1;
        }
        out.map(n);
        out.buf.extend_from_slice(&body.buf);
        return Written::Value;
    }
    if let Ok(Value::Table(s)) = t.raw_get::<Value>("set") {
        let mut body = Reply {
            buf: Vec::new(),
            resp3: out.resp3,
        };
        let mut n = 0;
        for (k, _) in s.pairs::<Value, Value>().flatten() {
            lua_to_reply(&k, &mut body, rules, depth + 1);
            n += 1;
        }
        out.set(n);
        out.buf.extend_from_slice(&body.buf);
        return Written::Value;
    }
    // An array, up to the first nil.
    let mut body = Reply {
        buf: Vec::new(),
        resp3: out.resp3,
    };
    let mut n = 0usize;
    loop {
        let v: Value = t.raw_get(n + 1).unwrap_or(Value::Nil);
        if v.is_nil() {
            break;
        }
        lua_to_reply(&v, &mut body, rules, depth + 1);
        n += 1;
    }
    out.array(n);
    out.buf.extend_from_slice(&body.buf);
    Written::Value
}

/// `-` and the message, CR and LF made spaces (the message may start with
/// its own `-`, which Redis's `addReplyErrorFormat` drops).
pub fn write_error_line(out: &mut Reply, msg: &[u8]) {
    let msg = msg.strip_prefix(b"-").unwrap_or(msg);
    out.buf.push(b'-');
    out.buf.extend(
        msg.iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.buf.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_tables_take_the_code_from_the_first_word() {
        let lua = Lua::new();
        let t = error_table(&lua, b"-WRONGTYPE Operation against\r\n").unwrap();
        assert_eq!(
            t.get::<String>("err").unwrap(),
            "WRONGTYPE Operation against"
        );
        let t = error_table(&lua, b"-NOSPACE").unwrap();
        assert_eq!(t.get::<String>("err").unwrap(), "ERR NOSPACE");
        let t = error_table(&lua, b"plain words").unwrap();
        assert_eq!(t.get::<String>("err").unwrap(), "ERR plain words");
    }

    /// Every RESP2 and RESP3 type becomes the Lua value Redis gives
    /// `redis.call` (shown sorted, `type:value` for scalars).
    #[test]
    fn replies_become_the_lua_values_redis_gives() {
        let lua = Lua::new();
        let cases: &[(&[u8], &str, bool)] = &[
            (b"+OK\r\n", "{ok=string:OK}", false),
            (
                b"-WRONGTYPE Operation\r\n",
                "{err=string:WRONGTYPE Operation,ignore_error_stats_update=boolean:true}",
                true,
            ),
            (b":-42\r\n", "number:-42", false),
            (b"$5\r\nhe\r\no\r\n", "string:he\r\no", false),
            (b"$-1\r\n", "boolean:false", false),
            (b"*-1\r\n", "boolean:false", false),
            (
                b"*3\r\n:1\r\n$1\r\na\r\n*1\r\n+x\r\n",
                "{1=number:1,2=string:a,3={1={ok=string:x}}}",
                false,
            ),
            (
                b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n",
                "{map={a=number:1}}",
                false,
            ),
            (
                b"~2\r\n$1\r\na\r\n$1\r\nb\r\n",
                "{set={a=boolean:true,b=boolean:true}}",
                false,
            ),
            (b"_\r\n", "nil:nil", false),
            (b"#t\r\n", "boolean:true", false),
            (b",3.5\r\n", "{double=number:3.5}", false),
            (b",inf\r\n", "{double=number:inf}", false),
            (
                b"(123456789012345678901234567890\r\n",
                "{big_number=string:123456789012345678901234567890}",
                false,
            ),
            (
                b"=7\r\ntxt:abc\r\n",
                "{verbatim_string={format=string:txt,string=string:abc}}",
                false,
            ),
            (b"|1\r\n+k\r\n+v\r\n:7\r\n", "number:7", false),
            (
                b"!5\r\nERR x\r\n",
                "{err=string:ERR x,ignore_error_stats_update=boolean:true}",
                true,
            ),
            (b"*2\r\n:1\r\n", "nil:nil", false),
        ];
        let show: mlua::Function = lua
            .load(
                "local function show(v) if type(v) ~= 'table' then return type(v) .. ':' .. tostring(v) end \
                 local keys = {} for k in pairs(v) do keys[#keys + 1] = tostring(k) end table.sort(keys) \
                 local out = {} for _, k in ipairs(keys) do local val = v[k] if val == nil then val = v[tonumber(k)] end \
                 out[#out + 1] = k .. '=' .. show(val) end return '{' .. table.concat(out, ',') .. '}' end return show",
            )
            .eval()
            .unwrap();
        for (bytes, want, error) in cases {
            let (v, is_error) = reply_to_lua(&lua, bytes).unwrap();
            let got: String = show.call(v).unwrap();
            assert_eq!(&got, want, "{}", String::from_utf8_lossy(bytes));
            assert_eq!(is_error, *error, "{}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn numbers_truncate_like_a_c_cast() {
        assert_eq!(lua_number_to_i64(3.99), 3);
        assert_eq!(lua_number_to_i64(-3.99), -3);
        assert_eq!(lua_number_to_i64(f64::NAN), i64::MIN);
        assert_eq!(lua_number_to_i64(1e300), i64::MIN);
    }

    #[test]
    fn arrays_stop_at_the_first_nil() {
        let lua = Lua::new();
        let v: Value = lua.load("return {1, 'a', 2.9, nil, 5}").eval().unwrap();
        let mut out = Reply::default();
        let rules = ReplyRules {
            script_resp3: false,
        };
        lua_to_reply(&v, &mut out, &rules, 0);
        assert_eq!(out.buf, b"*3\r\n:1\r\n$1\r\na\r\n:2\r\n");
    }
}
