//! LEB128 varints: the one codec for the lengths and integers that the
//! compact container encodings store (`types::pack`, `types::list`,
//! `types::zset`).
//!
//! # Format
//!
//! An unsigned integer is cut into groups of 7 bits, lowest group first;
//! every byte but the last has its high bit set:
//!
//! ```text
//! 0         00
//! 127       7f
//! 128       80 01
//! 16383     ff 7f
//! 16384     80 80 01
//! u64::MAX  ff ff ff ff ff ff ff ff ff 01
//! ```
//!
//! A value takes [`len`] bytes: 1 up to 127, 2 up to 2^14 - 1, ... and
//! [`MAX_LEN`] (10) for the largest `u64`s.
//!
//! # Read backwards
//!
//! A list entry ends with its own length, a *backlen* that a walk reads
//! from right to left ([`put_rev`], [`get_rev`]): the same bytes as the
//! forward form in reverse order, so its last byte holds the lowest group
//! and every byte but the first has its high bit set.
//!
//! ```text
//! 128       01 80
//! 16384     01 80 80
//! ```
//!
//! # Contract
//!
//! These functions read buffers that the containers wrote themselves, so
//! they trust them: a read past the end of `buf` panics (slice indexing),
//! and so would a debug build on a varint of more than 10 bytes. Every
//! function is `#[inline]`: they sit on the hot paths of lookups and walks.

/// Most bytes a varint of a `u64` takes.
pub const MAX_LEN: usize = 10;

/// Bytes the varint of `v` takes (1..=[`MAX_LEN`]).
///
/// ```
/// use soquete_server::util::varint;
/// assert_eq!(varint::len(127), 1);
/// assert_eq!(varint::len(128), 2);
/// assert_eq!(varint::len(u64::MAX), varint::MAX_LEN);
/// ```
#[inline]
pub fn len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends the varint of `v` to `out`.
#[inline]
pub fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Writes the varint of `v` at the start of `out` and returns its length
/// ([`len`]`(v)`).
///
/// # Panics
///
/// When `out` is shorter than that.
#[inline]
pub fn write(out: &mut [u8], mut v: u64) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        out[i] = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
    out[i] = v as u8;
    i + 1
}

/// Reads the varint that starts at `buf[off]`: returns its value and the
/// offset just past it (where the bytes it is the length of start).
///
/// ```
/// use soquete_server::util::varint;
/// assert_eq!(varint::get(&[9, 0x80, 0x01, 9], 1), (128, 3));
/// ```
#[inline]
pub fn get(buf: &[u8], mut off: usize) -> (u64, usize) {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = buf[off];
        off += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return (v, off);
        }
        shift += 7;
    }
}

/// Writes `v` so that it reads from right to left (see the [module
/// docs](self)): `out` must be exactly [`len`]`(v)` bytes, as the caller
/// knows that length already to size the entry.
#[inline]
pub fn put_rev(out: &mut [u8], v: u64) {
    let k = out.len();
    for i in 0..k {
        let group = ((v >> (7 * i)) & 0x7f) as u8;
        out[k - 1 - i] = if i + 1 < k { group | 0x80 } else { group };
    }
}

/// Reads the backwards varint that ends at `buf[..end]`: returns its value
/// and the offset where it starts.
///
/// ```
/// use soquete_server::util::varint;
/// assert_eq!(varint::get_rev(&[9, 0x01, 0x80], 3), (128, 1));
/// ```
#[inline]
pub fn get_rev(buf: &[u8], end: usize) -> (u64, usize) {
    let mut v = 0u64;
    let mut i = 0;
    loop {
        let b = buf[end - 1 - i];
        v |= u64::from(b & 0x7f) << (7 * i);
        i += 1;
        if b & 0x80 == 0 {
            return (v, end - i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The naive oracle: 7-bit groups, lowest first, continuation bits.
    fn naive(v: u64) -> Vec<u8> {
        let mut groups: Vec<u8> = (0..10).map(|i| ((v >> (7 * i)) & 0x7f) as u8).collect();
        while groups.len() > 1 && groups.last() == Some(&0) {
            groups.pop();
        }
        let n = groups.len();
        for g in &mut groups[..n - 1] {
            *g |= 0x80;
        }
        groups
    }

    /// Every way to write `v`, checked against each other and read back.
    fn check(v: u64) -> Vec<u8> {
        let mut fwd = Vec::new();
        put(&mut fwd, v);
        assert_eq!(fwd, naive(v), "{v}");
        assert_eq!(fwd.len(), len(v), "{v}");
        let mut buf = [0xAAu8; MAX_LEN + 1];
        assert_eq!(write(&mut buf, v), fwd.len());
        assert_eq!(&buf[..fwd.len()], &fwd[..]);
        assert_eq!(buf[fwd.len()], 0xAA, "writes only its bytes");
        // At an offset, with bytes around it.
        let mut framed = vec![0xffu8, 0x80];
        framed.extend_from_slice(&fwd);
        framed.push(0xff);
        assert_eq!(get(&framed, 2), (v, 2 + fwd.len()));
        // Backwards: the same bytes reversed, read from their end.
        let mut rev = vec![0xffu8; 1 + len(v)];
        put_rev(&mut rev[1..], v);
        let want: Vec<u8> = fwd.iter().rev().copied().collect();
        assert_eq!(&rev[1..], &want[..]);
        assert_eq!(get_rev(&rev, rev.len()), (v, 1));
        fwd
    }

    #[test]
    fn boundary_values_have_the_bytes_of_leb128() {
        let cases: &[(u64, &[u8])] = &[
            (0, &[0x00]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (300, &[0xac, 0x02]),
            ((1 << 14) - 1, &[0xff, 0x7f]),
            (1 << 14, &[0x80, 0x80, 0x01]),
            ((1 << 21) - 1, &[0xff, 0xff, 0x7f]),
            (1 << 21, &[0x80, 0x80, 0x80, 0x01]),
            (u32::MAX as u64, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
            (
                (1 << 63) - 1,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
            ),
            (
                1 << 63,
                &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
            ),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ];
        for &(v, bytes) in cases {
            assert_eq!(check(v), bytes, "{v}");
        }
    }

    #[test]
    fn len_steps_up_at_every_seventh_bit() {
        assert_eq!(len(0), 1);
        for k in 1..64 {
            let n = 1u64 << k;
            assert_eq!(len(n - 1), (k as usize).div_ceil(7), "2^{k} - 1");
            assert_eq!(len(n), (k as usize + 1).div_ceil(7), "2^{k}");
        }
        assert_eq!(len(u64::MAX), MAX_LEN);
    }

    #[test]
    fn backlen_reads_from_the_right_of_what_follows_it() {
        // 128 backwards is 01 80: its first byte ends the read.
        assert_eq!(get_rev(&[0x05, 0x01, 0x80], 3), (128, 1));
        // A one-byte backlen is the byte itself.
        assert_eq!(get_rev(&[0x80, 0x7f], 2), (127, 1));
    }

    proptest! {
        #[test]
        fn round_trips_any_u64(v in any::<u64>()) {
            check(v);
        }

        #[test]
        fn round_trips_values_near_group_boundaries(k in 0u32..64, d in -2i64..=2) {
            check((1u64 << k).wrapping_add_signed(d));
        }

        #[test]
        fn a_run_of_varints_reads_back_in_both_directions(vs in proptest::collection::vec(any::<u64>(), 0..20)) {
            let mut fwd = Vec::new();
            for &v in &vs {
                put(&mut fwd, v);
            }
            let mut off = 0;
            for &v in &vs {
                let (got, next) = get(&fwd, off);
                prop_assert_eq!(got, v);
                off = next;
            }
            prop_assert_eq!(off, fwd.len());
            let mut rev = Vec::new();
            for &v in &vs {
                let at = rev.len();
                rev.resize(at + len(v), 0);
                put_rev(&mut rev[at..], v);
            }
            let mut end = rev.len();
            for &v in vs.iter().rev() {
                let (got, start) = get_rev(&rev, end);
                prop_assert_eq!(got, v);
                end = start;
            }
            prop_assert_eq!(end, 0);
        }
    }
}
