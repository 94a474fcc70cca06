//! [`FromValue`]: replies as Rust types.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use bytes::Bytes;
use soquete_resp::Frame;

use crate::error::{Error, Result, ServerError};

/// A type a reply can be converted into.
///
/// A reply is a [`Frame`]; `FromValue` turns it into what the caller asked
/// for, accepting every shape Redis uses for that meaning in RESP2 and RESP3
/// (a score is a bulk string in RESP2 and a double in RESP3; `HGETALL` is a
/// flat array in RESP2 and a map in RESP3; `ZRANGE ... WITHSCORES` is flat in
/// RESP2 and an array of pairs in RESP3). A server error reply becomes
/// [`Error::Server`] for every target type except `Result<T, ServerError>`
/// and `Result<T, Error>`, which hold it as data: that is how a pipeline
/// reports errors command by command.
///
/// | Rust type | accepts |
/// |---|---|
/// | `i8`..`i128`, `u16`..`u128`, `isize`, `usize` | integer; string holding an integer; integral double; boolean (0/1) |
/// | `f32`, `f64` | double; integer; string holding a number (`inf`, `-inf`, `nan` too) |
/// | `bool` | integer (0 is false), boolean, `OK`, null (false), string `"1"`/`"0"` |
/// | `String`, `Vec<u8>`, `Bytes` | bulk/simple/verbatim string, big number, integer, double (`String` needs UTF-8) |
/// | `Option<T>` | null as `None`, anything else as `Some(T)` |
/// | `Vec<T>`, `HashSet<T>`, `BTreeSet<T>` | array, set, push (a map is read as a flat key, value list); null as empty |
/// | `HashMap<K, V>`, `BTreeMap<K, V>` | map; flat array of key, value; array of pairs; null as empty |
/// | tuples up to 12 | array of exactly that many elements |
/// | `Frame` | anything (a top-level server error is still an `Err`) |
/// | `()` | anything that is not an error |
///
/// `u8` is not a `FromValue` type on its own, so `Vec<u8>` is a byte string.
///
/// ```
/// use soquete_client::{FromValue, Frame};
/// assert_eq!(i64::from_value(Frame::Bulk("42".into())).unwrap(), 42);
/// assert_eq!(Option::<String>::from_value(Frame::NullBulk).unwrap(), None);
/// let pairs = Frame::Array(vec![Frame::Bulk("a".into()), Frame::Bulk("1".into())]);
/// let m: std::collections::HashMap<String, i64> = FromValue::from_value(pairs).unwrap();
/// assert_eq!(m["a"], 1);
/// ```
pub trait FromValue: Sized {
    /// Converts one reply.
    fn from_value(v: Frame) -> Result<Self>;

    /// Converts the elements of an array. Types that read several elements
    /// at a time override it (tuples read a RESP2 flat `k1 v1 k2 v2` array as
    /// pairs); others convert element by element.
    #[doc(hidden)]
    fn from_values(items: Vec<Frame>) -> Result<Vec<Self>> {
        items.into_iter().map(Self::from_value).collect()
    }
}

/// Strips attributes and turns error replies into `Err`.
#[inline]
pub(crate) fn prep(v: Frame) -> Result<Frame> {
    match v {
        Frame::Error(e) | Frame::BlobError(e) => Err(Error::Server(ServerError::new(e))),
        Frame::Attribute { value, .. } => prep(*value),
        v => Ok(v),
    }
}

fn is_null(f: &Frame) -> bool {
    matches!(f, Frame::Null | Frame::NullBulk | Frame::NullArray)
}

/// The text of a string-like reply.
fn text_of(f: &Frame) -> Option<&[u8]> {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::BigNumber(b) => Some(b),
        Frame::Verbatim { text, .. } => Some(text),
        _ => None,
    }
}

impl FromValue for Frame {
    fn from_value(v: Frame) -> Result<Self> {
        match v {
            Frame::Error(e) | Frame::BlobError(e) => Err(Error::Server(ServerError::new(e))),
            v => Ok(v),
        }
    }
}

impl<T: FromValue> FromValue for std::result::Result<T, ServerError> {
    fn from_value(v: Frame) -> Result<Self> {
        match v {
            Frame::Error(e) | Frame::BlobError(e) => Ok(Err(ServerError::new(e))),
            v => T::from_value(v).map(Ok),
        }
    }
}

impl<T: FromValue> FromValue for std::result::Result<T, Error> {
    fn from_value(v: Frame) -> Result<Self> {
        Ok(T::from_value(v))
    }
}

impl FromValue for () {
    fn from_value(v: Frame) -> Result<Self> {
        match prep(v)? {
            Frame::Array(items) => items.into_iter().try_for_each(<()>::from_value),
            _ => Ok(()),
        }
    }
}

fn parse_int_text(t: &[u8]) -> Option<i128> {
    std::str::from_utf8(t).ok()?.parse().ok()
}

macro_rules! integer {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: Frame) -> Result<Self> {
                let v = prep(v)?;
                let wide: Option<i128> = match &v {
                    Frame::Integer(n) => Some(*n as i128),
                    Frame::Boolean(b) => Some(*b as i128),
                    Frame::Double(d) if d.fract() == 0.0 && d.abs() < 1.7e38 => Some(*d as i128),
                    f => text_of(f).and_then(parse_int_text),
                };
                let want = concat!("an integer (", stringify!($t), ")");
                match wide {
                    Some(n) => <$t>::try_from(n).map_err(|_| Error::conversion(want, &v)),
                    None => {
                        // u128 beyond i128 still parses from text.
                        if let Some(t) = text_of(&v) {
                            if let Some(n) = std::str::from_utf8(t).ok().and_then(|s| s.parse::<$t>().ok()) {
                                return Ok(n);
                            }
                        }
                        Err(Error::conversion(want, &v))
                    }
                }
            }
        }
    )*};
}
integer!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

fn parse_float_text(t: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(t).ok()?;
    // Redis writes "inf", "-inf" and, in RESP3, "nan"; Rust parses those too.
    s.parse::<f64>().ok()
}

macro_rules! float {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: Frame) -> Result<Self> {
                let v = prep(v)?;
                let r = match &v {
                    Frame::Double(d) => Some(*d),
                    Frame::Integer(n) => Some(*n as f64),
                    f => text_of(f).and_then(parse_float_text),
                };
                r.map(|d| d as $t).ok_or_else(|| Error::conversion("a number", &v))
            }
        }
    )*};
}
float!(f32, f64);

impl FromValue for bool {
    fn from_value(v: Frame) -> Result<Self> {
        let v = prep(v)?;
        match &v {
            Frame::Integer(n) => Ok(*n != 0),
            Frame::Boolean(b) => Ok(*b),
            Frame::Null | Frame::NullBulk | Frame::NullArray => Ok(false),
            Frame::Simple(s) if &s[..] == b"OK" => Ok(true),
            Frame::Bulk(s) | Frame::Simple(s) if &s[..] == b"1" => Ok(true),
            Frame::Bulk(s) | Frame::Simple(s) if &s[..] == b"0" => Ok(false),
            _ => Err(Error::conversion("a boolean", &v)),
        }
    }
}

fn into_bytes(v: Frame, want: &str) -> Result<Bytes> {
    match prep(v)? {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::BigNumber(b) => Ok(b),
        Frame::Verbatim { text, .. } => Ok(text),
        Frame::Integer(n) => Ok(Bytes::copy_from_slice(
            itoa::Buffer::new().format(n).as_bytes(),
        )),
        Frame::Double(d) => Ok(Bytes::from(d.to_string())),
        v => Err(Error::conversion(want, &v)),
    }
}

impl FromValue for Bytes {
    fn from_value(v: Frame) -> Result<Self> {
        into_bytes(v, "a string")
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: Frame) -> Result<Self> {
        into_bytes(v, "a string").map(|b| b.to_vec())
    }
}

impl FromValue for String {
    fn from_value(v: Frame) -> Result<Self> {
        let b = into_bytes(v, "a string")?;
        match std::str::from_utf8(&b) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(Error::conversion("a UTF-8 string", &Frame::Bulk(b))),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Frame) -> Result<Self> {
        let v = prep(v)?;
        if is_null(&v) {
            Ok(None)
        } else {
            T::from_value(v).map(Some)
        }
    }
}

impl<T: FromValue> FromValue for Box<T> {
    fn from_value(v: Frame) -> Result<Self> {
        T::from_value(v).map(Box::new)
    }
}

/// The elements of an aggregate reply, or `None` for a scalar. Null is empty.
/// A map is flattened into key, value, key, value.
fn elements(v: Frame) -> std::result::Result<Vec<Frame>, Frame> {
    match v {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => Ok(items),
        Frame::Map(pairs) => {
            let mut out = Vec::with_capacity(pairs.len() * 2);
            for (k, v) in pairs {
                out.push(k);
                out.push(v);
            }
            Ok(out)
        }
        Frame::Null | Frame::NullBulk | Frame::NullArray => Ok(Vec::new()),
        v => Err(v),
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: Frame) -> Result<Self> {
        match elements(prep(v)?) {
            Ok(items) => T::from_values(items),
            Err(v) => Err(Error::conversion("an array", &v)),
        }
    }
}

impl<T: FromValue + Eq + Hash, H: BuildHasher + Default> FromValue for HashSet<T, H> {
    fn from_value(v: Frame) -> Result<Self> {
        match elements(prep(v)?) {
            Ok(items) => Ok(T::from_values(items)?.into_iter().collect()),
            Err(v) => Err(Error::conversion("a set or array", &v)),
        }
    }
}

impl<T: FromValue + Ord> FromValue for BTreeSet<T> {
    fn from_value(v: Frame) -> Result<Self> {
        match elements(prep(v)?) {
            Ok(items) => Ok(T::from_values(items)?.into_iter().collect()),
            Err(v) => Err(Error::conversion("a set or array", &v)),
        }
    }
}

/// Key/value pairs of a map reply, a flat `k v k v` array, or an array of pairs.
fn pairs(v: Frame) -> Result<Vec<(Frame, Frame)>> {
    match prep(v)? {
        Frame::Map(p) => Ok(p),
        Frame::Null | Frame::NullBulk | Frame::NullArray => Ok(Vec::new()),
        Frame::Array(items) | Frame::Set(items) => {
            let nested = !items.is_empty()
                && items
                    .iter()
                    .all(|i| matches!(i, Frame::Array(p) if p.len() == 2));
            if nested {
                Ok(items
                    .into_iter()
                    .map(|i| match i {
                        Frame::Array(p) => {
                            let mut it = p.into_iter();
                            let k = it.next().unwrap_or(Frame::Null);
                            let v = it.next().unwrap_or(Frame::Null);
                            (k, v)
                        }
                        _ => unreachable!("checked above: every element is a 2-element array"),
                    })
                    .collect())
            } else if items.len() % 2 == 0 {
                let mut out = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    out.push((k, v));
                }
                Ok(out)
            } else {
                Err(Error::conversion_msg(
                    "a map or an array of key, value pairs",
                    format!("array of {} elements (odd)", items.len()),
                ))
            }
        }
        v => Err(Error::conversion("a map", &v)),
    }
}

impl<K: FromValue + Eq + Hash, V: FromValue, H: BuildHasher + Default> FromValue
    for HashMap<K, V, H>
{
    fn from_value(v: Frame) -> Result<Self> {
        pairs(v)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?)))
            .collect()
    }
}

impl<K: FromValue + Ord, V: FromValue> FromValue for BTreeMap<K, V> {
    fn from_value(v: Frame) -> Result<Self> {
        pairs(v)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?)))
            .collect()
    }
}

fn is_aggregate(f: &Frame) -> bool {
    matches!(
        f,
        Frame::Array(_) | Frame::Set(_) | Frame::Push(_) | Frame::Map(_)
    )
}

macro_rules! tuple {
    ($n:literal; $($name:ident)+) => {
        impl<$($name: FromValue),+> FromValue for ($($name,)+) {
            #[allow(non_snake_case)]
            fn from_value(v: Frame) -> Result<Self> {
                match elements(prep(v)?) {
                    Ok(items) if items.len() == $n => {
                        let mut it = items.into_iter();
                        $(let $name = $name::from_value(it.next().unwrap_or(Frame::Null))?;)+
                        Ok(($($name,)+))
                    }
                    Ok(items) => Err(Error::conversion_msg(
                        concat!("an array of ", $n, " elements"),
                        format!("array of {} elements", items.len()),
                    )),
                    Err(v) => Err(Error::conversion(concat!("an array of ", $n, " elements"), &v)),
                }
            }

            #[allow(non_snake_case, clippy::modulo_one)]
            fn from_values(items: Vec<Frame>) -> Result<Vec<Self>> {
                // RESP2 sends pairs flat (`HGETALL`, `ZRANGE ... WITHSCORES`): k1 v1 k2 v2.
                if items.len() % $n == 0 && !items.iter().any(is_aggregate) {
                    let mut out = Vec::with_capacity(items.len() / $n);
                    let mut it = items.into_iter();
                    for _ in 0..out.capacity() {
                        $(let $name = $name::from_value(it.next().unwrap_or(Frame::Null))?;)+
                        out.push(($($name,)+));
                    }
                    Ok(out)
                } else {
                    items.into_iter().map(Self::from_value).collect()
                }
            }
        }
    };
}
tuple!(1; A);
tuple!(2; A B);
tuple!(3; A B C);
tuple!(4; A B C D);
tuple!(5; A B C D E);
tuple!(6; A B C D E F);
tuple!(7; A B C D E F G);
tuple!(8; A B C D E F G H);
tuple!(9; A B C D E F G H I);
tuple!(10; A B C D E F G H I J);
tuple!(11; A B C D E F G H I J K);
tuple!(12; A B C D E F G H I J K L);

/// Converts a reply into `T`: shorthand for [`FromValue::from_value`].
pub fn from_value<T: FromValue>(v: Frame) -> Result<T> {
    T::from_value(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn integers_from_every_shape() {
        assert_eq!(i64::from_value(Frame::Integer(-3)).unwrap(), -3);
        assert_eq!(u16::from_value(bulk("65535")).unwrap(), 65535);
        assert_eq!(i64::from_value(Frame::Double(4.0)).unwrap(), 4);
        assert_eq!(
            u128::from_value(bulk(&u128::MAX.to_string())).unwrap(),
            u128::MAX
        );
        assert!(u16::from_value(Frame::Integer(70000)).is_err());
        assert!(i64::from_value(Frame::Double(4.5)).is_err());
        assert!(i64::from_value(Frame::NullBulk).is_err());
    }

    #[test]
    fn conversion_error_names_expected_and_received() {
        let e = i64::from_value(bulk("abc")).unwrap_err().to_string();
        assert!(e.contains("expected an integer (i64)"), "{e}");
        assert!(e.contains("bulk string \"abc\""), "{e}");
        let e = <(i64, i64)>::from_value(Frame::Array(vec![Frame::Integer(1)]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("expected an array of 2 elements, got array of 1 elements"),
            "{e}"
        );
    }

    #[test]
    fn server_errors_are_errors_unless_asked_as_data() {
        let err = Frame::Error("WRONGTYPE Operation against a key".into());
        match String::from_value(err.clone()) {
            Err(Error::Server(e)) => assert_eq!(e.code(), "WRONGTYPE"),
            other => panic!("{other:?}"),
        }
        let r: std::result::Result<String, ServerError> =
            FromValue::from_value(err.clone()).unwrap();
        assert_eq!(r.unwrap_err().code(), "WRONGTYPE");
        let v: Vec<Result<i64>> =
            FromValue::from_value(Frame::Array(vec![Frame::Integer(1), err])).unwrap();
        assert_eq!(*v[0].as_ref().unwrap(), 1);
        assert_eq!(v[1].as_ref().unwrap_err().code(), Some("WRONGTYPE"));
    }

    #[test]
    fn floats_parse_redis_words() {
        assert_eq!(f64::from_value(bulk("inf")).unwrap(), f64::INFINITY);
        assert_eq!(f64::from_value(bulk("-inf")).unwrap(), f64::NEG_INFINITY);
        assert!(f64::from_value(Frame::Double(f64::NAN)).unwrap().is_nan());
        assert_eq!(f64::from_value(Frame::Integer(2)).unwrap(), 2.0);
    }

    #[test]
    fn maps_from_resp2_and_resp3_shapes() {
        let flat = Frame::Array(vec![bulk("a"), bulk("1"), bulk("b"), bulk("2")]);
        let m: BTreeMap<String, i32> = from_value(flat).unwrap();
        assert_eq!(m, [("a".into(), 1), ("b".into(), 2)].into_iter().collect());
        let map = Frame::Map(vec![(bulk("a"), Frame::Integer(1))]);
        let m: HashMap<String, i32> = from_value(map).unwrap();
        assert_eq!(m["a"], 1);
        let odd = Frame::Array(vec![bulk("a")]);
        assert!(from_value::<HashMap<String, String>>(odd).is_err());
    }

    #[test]
    fn pairs_from_flat_and_nested_arrays() {
        let flat = Frame::Array(vec![bulk("m"), bulk("1.5"), bulk("n"), bulk("2")]);
        let v: Vec<(String, f64)> = from_value(flat).unwrap();
        assert_eq!(v, [("m".to_string(), 1.5), ("n".to_string(), 2.0)]);
        let nested = Frame::Array(vec![Frame::Array(vec![bulk("m"), Frame::Double(1.5)])]);
        let v: Vec<(String, f64)> = from_value(nested).unwrap();
        assert_eq!(v, [("m".to_string(), 1.5)]);
    }

    #[test]
    fn options_and_nulls() {
        let v: Vec<Option<String>> =
            from_value(Frame::Array(vec![bulk("x"), Frame::NullBulk])).unwrap();
        assert_eq!(v, [Some("x".to_string()), None]);
        assert_eq!(
            from_value::<Vec<i64>>(Frame::NullArray).unwrap(),
            Vec::<i64>::new()
        );
        assert!(!from_value::<bool>(Frame::NullBulk).unwrap());
        assert!(from_value::<bool>(Frame::Simple("OK".into())).unwrap());
    }

    #[test]
    fn strings_need_utf8_and_bytes_do_not() {
        let raw = Frame::Bulk(Bytes::from_static(&[0xff, 0x00]));
        assert!(from_value::<String>(raw.clone()).is_err());
        assert_eq!(from_value::<Vec<u8>>(raw).unwrap(), vec![0xff, 0x00]);
        assert_eq!(from_value::<String>(Frame::Integer(7)).unwrap(), "7");
        let verb = Frame::Verbatim {
            format: *b"txt",
            text: "hi".into(),
        };
        assert_eq!(from_value::<String>(verb).unwrap(), "hi");
    }

    #[test]
    fn unit_rejects_nested_errors() {
        assert!(from_value::<()>(Frame::Simple("OK".into())).is_ok());
        let a = Frame::Array(vec![
            Frame::Simple("OK".into()),
            Frame::Error("ERR x".into()),
        ]);
        assert!(from_value::<()>(a).is_err());
    }

    #[test]
    fn sets_from_set_or_array() {
        let s: HashSet<String> = from_value(Frame::Set(vec![bulk("a"), bulk("b")])).unwrap();
        assert!(s.contains("a") && s.contains("b"));
        let s: BTreeSet<i64> = from_value(Frame::Array(vec![bulk("2"), bulk("1")])).unwrap();
        assert_eq!(s.into_iter().collect::<Vec<_>>(), [1, 2]);
    }
}
