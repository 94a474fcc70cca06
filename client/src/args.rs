//! [`ToArgs`]: Rust values as command arguments.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;

use bytes::{Bytes, BytesMut};

/// Where arguments go: one call per argument.
pub trait ArgSink {
    /// Appends one argument.
    fn push_arg(&mut self, arg: &[u8]);
}

/// Collects arguments as separate byte vectors (handy in tests and for inspection).
impl ArgSink for Vec<Vec<u8>> {
    fn push_arg(&mut self, arg: &[u8]) {
        self.push(arg.to_vec());
    }
}

/// A value that can be sent as command arguments.
///
/// A value writes zero or more arguments into an [`ArgSink`]; a [`Cmd`](crate::Cmd)
/// is one (it encodes each argument as a RESP bulk string straight into its
/// buffer, reserving the exact length first). Integers are formatted with
/// `itoa`, floats in their shortest round-trip form, `bool` as `1`/`0`.
/// Collections write one argument per element (maps: key then value), tuples
/// each field in order, `Option::None` nothing at all.
///
/// `u8` is deliberately not an argument type on its own, so that `Vec<u8>`,
/// `&[u8]` and `[u8; N]` are one binary argument, not one argument per byte.
///
/// ```
/// use soquete_client::{ArgSink, ToArgs};
/// let mut args: Vec<Vec<u8>> = Vec::new();
/// ("key", 42, 1.5, Some(true), None::<i32>, vec!["a", "b"]).write_args(&mut args);
/// assert_eq!(args, [&b"key"[..], b"42", b"1.5", b"1", b"a", b"b"]);
/// ```
pub trait ToArgs {
    /// Writes this value's arguments into `out`.
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S);

    /// The arguments as separate byte vectors.
    fn to_arg_vec(&self) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        self.write_args(&mut v);
        v
    }
}

impl<T: ToArgs + ?Sized> ToArgs for &T {
    #[inline]
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        (**self).write_args(out)
    }
}

impl<T: ToArgs + ?Sized> ToArgs for &mut T {
    #[inline]
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        (**self).write_args(out)
    }
}

impl<T: ToArgs + ?Sized> ToArgs for Box<T> {
    #[inline]
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        (**self).write_args(out)
    }
}

macro_rules! bytes_like {
    ($($t:ty),*) => {$(
        impl ToArgs for $t {
            #[inline]
            fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
                out.push_arg(AsRef::<[u8]>::as_ref(self))
            }
        }
    )*};
}
bytes_like!(str, String, [u8], Vec<u8>, Bytes, BytesMut);

impl<const N: usize> ToArgs for [u8; N] {
    #[inline]
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        out.push_arg(self)
    }
}

impl ToArgs for std::borrow::Cow<'_, str> {
    #[inline]
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        out.push_arg(self.as_bytes())
    }
}

impl ToArgs for std::borrow::Cow<'_, [u8]> {
    #[inline]
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        out.push_arg(self)
    }
}

impl ToArgs for char {
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        let mut b = [0u8; 4];
        out.push_arg(self.encode_utf8(&mut b).as_bytes())
    }
}

macro_rules! integer {
    ($($t:ty),*) => {$(
        impl ToArgs for $t {
            #[inline]
            fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
                let mut b = itoa::Buffer::new();
                out.push_arg(b.format(*self).as_bytes())
            }
        }
    )*};
}
integer!(i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize);

macro_rules! float {
    ($($t:ty),*) => {$(
        impl ToArgs for $t {
            fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
                use std::io::Write;
                // Debug is the shortest text that reads back to the same value, with an
                // exponent for very large or small numbers ("1e300"), and "inf"/"-inf".
                let mut b = [0u8; 64];
                let mut cur = std::io::Cursor::new(&mut b[..]);
                if write!(cur, "{:?}", self).is_ok() {
                    let n = cur.position() as usize;
                    out.push_arg(&b[..n]);
                } else {
                    out.push_arg(format!("{:?}", self).as_bytes());
                }
            }
        }
    )*};
}
float!(f32, f64);

impl ToArgs for bool {
    #[inline]
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        out.push_arg(if *self { b"1" } else { b"0" })
    }
}

impl<T: ToArgs> ToArgs for Option<T> {
    #[inline]
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        if let Some(v) = self {
            v.write_args(out)
        }
    }
}

macro_rules! sequence {
    ($($t:ty),*) => {$(
        impl<T: ToArgs> ToArgs for $t {
            fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
                for v in self.iter() {
                    v.write_args(out);
                }
            }
        }
    )*};
}
sequence!([T], Vec<T>, VecDeque<T>, BTreeSet<T>);

impl<T: ToArgs, const N: usize> ToArgs for [T; N] {
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        for v in self.iter() {
            v.write_args(out);
        }
    }
}

impl<T: ToArgs, H: BuildHasher> ToArgs for HashSet<T, H> {
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        for v in self.iter() {
            v.write_args(out);
        }
    }
}

impl<K: ToArgs, V: ToArgs, H: BuildHasher> ToArgs for HashMap<K, V, H> {
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        for (k, v) in self.iter() {
            k.write_args(out);
            v.write_args(out);
        }
    }
}

impl<K: ToArgs, V: ToArgs> ToArgs for BTreeMap<K, V> {
    fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
        for (k, v) in self.iter() {
            k.write_args(out);
            v.write_args(out);
        }
    }
}

impl ToArgs for () {
    fn write_args<S: ArgSink + ?Sized>(&self, _out: &mut S) {}
}

macro_rules! tuple {
    ($($name:ident)+) => {
        impl<$($name: ToArgs),+> ToArgs for ($($name,)+) {
            #[allow(non_snake_case)]
            fn write_args<S: ArgSink + ?Sized>(&self, out: &mut S) {
                let ($($name,)+) = self;
                $($name.write_args(out);)+
            }
        }
    };
}
tuple!(A);
tuple!(A B);
tuple!(A B C);
tuple!(A B C D);
tuple!(A B C D E);
tuple!(A B C D E F);
tuple!(A B C D E F G);
tuple!(A B C D E F G H);
tuple!(A B C D E F G H I);
tuple!(A B C D E F G H I J);
tuple!(A B C D E F G H I J K);
tuple!(A B C D E F G H I J K L);

#[cfg(test)]
mod tests {
    use super::*;

    fn args<T: ToArgs>(v: T) -> Vec<String> {
        v.to_arg_vec()
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect()
    }

    #[test]
    fn integers_use_decimal_text() {
        assert_eq!(args(-12i64), ["-12"]);
        assert_eq!(args(u64::MAX), ["18446744073709551615"]);
        assert_eq!(args(i128::MIN), [i128::MIN.to_string()]);
    }

    #[test]
    fn floats_read_back_and_use_redis_infinity_words() {
        assert_eq!(args(1.5f64), ["1.5"]);
        assert_eq!(args(1.0f64), ["1.0"]);
        assert_eq!(args(f64::INFINITY), ["inf"]);
        assert_eq!(args(f64::NEG_INFINITY), ["-inf"]);
        assert_eq!(args(1e300f64), ["1e300"]);
        assert_eq!(args(0.1f32), ["0.1"]);
        for x in [
            0.1f64,
            -3.25e-200,
            123456789.123,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            assert_eq!(args(x)[0].parse::<f64>().unwrap(), x);
        }
    }

    #[test]
    fn bytes_are_one_argument_not_one_per_byte() {
        assert_eq!(args(vec![b'a', b'b']), ["ab"]);
        assert_eq!(args(&b"xy"[..]), ["xy"]);
        assert_eq!(args(*b"zz"), ["zz"]);
        assert_eq!(args(Bytes::from_static(b"q")), ["q"]);
    }

    #[test]
    fn collections_flatten() {
        assert_eq!(args(vec![1, 2, 3]), ["1", "2", "3"]);
        let m: BTreeMap<&str, i32> = [("a", 1), ("b", 2)].into_iter().collect();
        assert_eq!(args(&m), ["a", "1", "b", "2"]);
        assert_eq!(args(vec![("k", 1), ("j", 2)]), ["k", "1", "j", "2"]);
        assert_eq!(args(None::<&str>), Vec::<String>::new());
        assert_eq!(args((true, false, 'é')), ["1", "0", "é"]);
    }
}
