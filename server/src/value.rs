//! What a key holds.

use crate::types::{hash::Hash, list::List, set::Set, stream::Stream, zset::ZSet};
use crate::util::num::parse_i64;

/// A stored value. Strings that are canonical 64-bit integers are kept as
/// [`Value::Int`], as Redis keeps them int-encoded, so INCR neither parses nor
/// allocates.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string as SET creates it (Redis `embstr` up to 44 bytes, else `raw`).
    Str(Vec<u8>),
    /// A string modified in place (APPEND, SETRANGE): Redis reports `raw`
    /// whatever its length, and so do we.
    Raw(Vec<u8>),
    /// A string holding a canonical integer (Redis `int` encoding).
    Int(i64),
    /// A hash: inline, as it fits in the room a `Vec` takes (see
    /// [`Hash`]); the other containers are boxed so a `Value` stays small.
    Hash(Hash),
    /// A list.
    List(Box<List>),
    /// A set.
    Set(Box<Set>),
    /// A sorted set.
    ZSet(Box<ZSet>),
    /// A stream.
    Stream(Box<Stream>),
}

// A value is a quarter of a key's node: growing it grows every key.
const _: () = assert!(std::mem::size_of::<Value>() == 32);

impl Value {
    /// Starts loading the value's heap part (a string's bytes, a
    /// container's header) into the cache.
    pub fn prefetch(&self) {
        let at = match self {
            Value::Str(v) | Value::Raw(v) => v.as_ptr() as usize,
            Value::Int(_) => return,
            Value::Hash(h) => h.heap_addr(),
            Value::List(l) => &**l as *const List as usize,
            Value::Set(x) => &**x as *const Set as usize,
            Value::ZSet(z) => &**z as *const ZSet as usize,
            Value::Stream(x) => &**x as *const Stream as usize,
        };
        crate::dict::prefetch(at);
    }

    /// A string value, int-encoded when the bytes are a canonical integer
    /// (what Redis's `tryObjectEncoding` does for SET).
    pub fn string(bytes: &[u8]) -> Value {
        if bytes.len() <= 20 {
            if let Some(n) = parse_i64(bytes) {
                return Value::Int(n);
            }
        }
        Value::Str(bytes.to_vec())
    }

    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) | Value::Raw(_) | Value::Int(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            // Redis creates strings up to 44 bytes as embstr; anything that
            // was modified in place (APPEND, SETRANGE) becomes raw.
            Value::Str(s) if s.len() <= 44 => "embstr",
            Value::Str(_) | Value::Raw(_) => "raw",
            Value::Hash(h) => h.encoding(),
            Value::List(l) => l.encoding(),
            Value::Set(x) => x.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// True for string values (either encoding).
    pub fn is_string(&self) -> bool {
        matches!(self, Value::Str(_) | Value::Raw(_) | Value::Int(_))
    }

    /// The string's bytes, formatting an int into `scratch`; `None` for
    /// non-string values.
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut itoa::Buffer) -> Option<&'a [u8]> {
        match self {
            Value::Str(s) | Value::Raw(s) => Some(s),
            Value::Int(n) => Some(scratch.format(*n).as_bytes()),
            _ => None,
        }
    }

    /// Approximate heap bytes used (MEMORY USAGE, INFO memory).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) | Value::Raw(s) => s.capacity(),
            Value::Int(_) => 0,
            Value::Hash(h) => h.heap_size(),
            Value::List(l) => std::mem::size_of::<List>() + l.heap_size(),
            Value::Set(x) => std::mem::size_of::<Set>() + x.heap_size(),
            Value::ZSet(z) => std::mem::size_of::<ZSet>() + z.heap_size(),
            Value::Stream(x) => x.heap_size(),
        }
    }
}
