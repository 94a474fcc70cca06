//! DEBUG DIGEST and DEBUG DIGEST-VALUE: SHA1 signatures of values and of
//! the whole dataset, computed exactly as Redis 7.0's `debug.c` computes
//! them, so that a dataset's digest equals Redis's for the same data.
//!
//! # The algorithm
//!
//! Two primitives over a 20-byte digest `d`:
//!
//! * `xor(d, data)`: `d ^= SHA1(data)`. Commutative, so it "adds" the
//!   elements of unordered collections (set members, hash fields, keys).
//! * `mix(d, data)`: `d = SHA1(d ^ SHA1(data))`. Order matters (lists,
//!   and a key before its value).
//!
//! A key's digest starts at zero, mixes the key, then the value's type as a
//! big-endian `u32` (Redis's `OBJ_STRING` 0, `OBJ_LIST` 1, `OBJ_SET` 2,
//! `OBJ_ZSET` 3, `OBJ_HASH` 4), then the value:
//!
//! * string: mixed as its text (an int-encoded string as its decimal text);
//! * list: each element mixed, head to tail;
//! * set: each member xored;
//! * sorted set: per member, a fresh digest mixing the member then its score
//!   as `%.17g`, xored in;
//! * hash: per field, a fresh digest mixing the field then the value, xored
//!   in;
//!
//! and, when the key has a TTL, the string `!!expire!!` xored in (the
//! deadline itself is not part of it). DEBUG DIGEST-VALUE is that value
//! part alone (type, value, expire) on a zero digest.
//!
//! The dataset digest starts at zero; for each non-empty database it mixes
//! the database index (big-endian `u32`), then `xor`s in every key's
//! digest (so the SHA1 of each key's digest is what is added up).
//! An empty dataset is 20 zero bytes.

use sha1_smol::Sha1;

use crate::util::num::fmt_double;
use crate::value::Value;

/// A 20-byte SHA1 digest being accumulated.
pub type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    Sha1::from(data).digest().bytes()
}

/// `digest ^= SHA1(data)` (Redis's `xorDigest`).
pub fn xor(digest: &mut Digest, data: &[u8]) {
    for (d, h) in digest.iter_mut().zip(sha1(data)) {
        *d ^= h;
    }
}

/// `digest = SHA1(digest ^ SHA1(data))` (Redis's `mixDigest`).
pub fn mix(digest: &mut Digest, data: &[u8]) {
    xor(digest, data);
    *digest = sha1(digest);
}

/// Redis's type number of a value (`OBJ_STRING`...).
fn type_code(v: &Value) -> u32 {
    match v {
        Value::Str(_) | Value::Raw(_) | Value::Int(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Mixes a value, and its TTL's marker when `has_ttl`, into `digest`
/// (Redis's `xorObjectDigest`).
pub fn mix_value(digest: &mut Digest, v: &Value, has_ttl: bool) {
    mix(digest, &type_code(v).to_be_bytes());
    let mut ints = itoa::Buffer::new();
    match v {
        Value::Str(s) | Value::Raw(s) => mix(digest, s),
        Value::Int(n) => mix(digest, ints.format(*n).as_bytes()),
        Value::List(l) => {
            for e in l.iter() {
                match e {
                    crate::types::list::Elem::Bytes(b) => mix(digest, b),
                    crate::types::list::Elem::Int(n) => mix(digest, ints.format(n).as_bytes()),
                }
            }
        }
        Value::Set(s) => {
            for m in s.iter() {
                match m {
                    crate::types::set::Member::Str(b) => xor(digest, b),
                    crate::types::set::Member::Int(n) => xor(digest, ints.format(n).as_bytes()),
                }
            }
        }
        Value::ZSet(z) => {
            let mut score = Vec::with_capacity(24);
            for (member, s) in z.iter() {
                let mut ele = [0u8; 20];
                mix(&mut ele, member);
                score.clear();
                fmt_double(&mut score, s);
                mix(&mut ele, &score);
                xor(digest, &ele);
            }
        }
        Value::Hash(h) => {
            for (field, value) in h.iter() {
                let mut ele = [0u8; 20];
                mix(&mut ele, field);
                mix(&mut ele, value);
                xor(digest, &ele);
            }
        }
        Value::Stream(x) => {
            use crate::types::stream::StreamId;
            for item in x.range(StreamId::MIN, StreamId::MAX, 0, false) {
                let id = format!("{}.{}", item.id.ms, item.id.seq);
                mix(digest, id.as_bytes());
                for (f, v) in &item.fields {
                    mix(digest, f);
                    v.with_bytes(|v| mix(digest, v));
                }
            }
        }
    }
    if has_ttl {
        xor(digest, b"!!expire!!");
    }
}

/// The digest of one value alone (DEBUG DIGEST-VALUE).
pub fn value_digest(v: &Value, has_ttl: bool) -> Digest {
    let mut d = [0u8; 20];
    mix_value(&mut d, v, has_ttl);
    d
}

/// The digest of one key and its value; the dataset digest [`xor`]s it in
/// (that is, its SHA1).
pub fn key_digest(key: &[u8], v: &Value, has_ttl: bool) -> Digest {
    let mut d = [0u8; 20];
    mix(&mut d, key);
    mix_value(&mut d, v, has_ttl);
    d
}

/// Starts database `db` in a dataset digest (call only for a non-empty one,
/// before xoring its keys in).
pub fn mix_db(dataset: &mut Digest, db: usize) {
    mix(dataset, &(db as u32).to_be_bytes());
}

/// Lower-case hex, as DEBUG DIGEST prints it.
pub fn hex(d: &Digest) -> String {
    let mut s = String::with_capacity(40);
    for b in d {
        s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        s.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::list::{End, Fill, List};
    use crate::types::set::{Limits, Set};

    // Expected values below were produced by redis-server 7.0.15.

    #[test]
    fn string_value_digest_matches_redis() {
        // SET a 1; DEBUG DIGEST-VALUE a
        assert_eq!(
            hex(&value_digest(&Value::Int(1), false)),
            "b4fc66738120fba0b5aa500ab5c2bf89cea1c5da"
        );
    }

    #[test]
    fn list_value_digest_matches_redis() {
        // RPUSH l a b 1 2; DEBUG DIGEST-VALUE l
        let mut l = List::new();
        for e in [&b"a"[..], b"b", b"1", b"2"] {
            l.push(End::Back, e, Fill::default());
        }
        assert_eq!(
            hex(&value_digest(&Value::List(Box::new(l)), false)),
            "6b15aa298e0e4d1f6244448df32b23e74a4147ce"
        );
    }

    #[test]
    fn dataset_digest_of_two_keys_matches_redis() {
        // SET a 1; RPUSH l a b 1 2; SET s hello; DEBUG DIGEST (database 0)
        let mut l = List::new();
        for e in [&b"a"[..], b"b", b"1", b"2"] {
            l.push(End::Back, e, Fill::default());
        }
        let mut d = [0u8; 20];
        mix_db(&mut d, 0);
        xor(&mut d, &key_digest(b"l", &Value::List(Box::new(l)), false));
        xor(&mut d, &key_digest(b"a", &Value::Int(1), false));
        xor(&mut d, &key_digest(b"s", &Value::string(b"hello"), false));
        assert_eq!(hex(&d), "78877361d8a975c1bbcda0287d48061d5ef67b70");
    }

    #[test]
    fn set_digest_ignores_member_order_and_encoding() {
        let l = Limits::default();
        let mut ints = Set::for_member(b"1");
        ints.add(b"1", l);
        ints.add(b"2", l);
        let mut strs = Set::for_member(b"x");
        strs.add(b"2", l);
        strs.add(b"1", l);
        strs.remove(b"x");
        assert_ne!(ints.encoding(), strs.encoding());
        assert_eq!(
            value_digest(&Value::Set(Box::new(ints)), false),
            value_digest(&Value::Set(Box::new(strs)), false)
        );
    }

    #[test]
    fn ttl_changes_the_digest() {
        let v = Value::Int(7);
        assert_ne!(value_digest(&v, true), value_digest(&v, false));
    }
}
