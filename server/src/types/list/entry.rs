//! One list element's encoding: an entry as Redis's listpack lays it out,
//! and [`Elem`], what an entry holds.
//!
//! # Format
//!
//! ```text
//! header   first byte, as listpack's:
//!            0xxxxxxx            integer 0..=127, no payload
//!            10xxxxxx            string of 0..=63 bytes
//!            110xxxxx xxxxxxxx   integer -4096..=4095 (13 bits), no payload
//!            1110xxxx xxxxxxxx   string of 64..=4095 bytes
//!            11110000 varint     longer string (LEB128 length)
//!            1111wwww            integer in w = 1..=8 little-endian bytes
//! payload  the string's bytes, or the integer's
//! backlen  length of header + payload, a varint read from right to left
//! ```
//!
//! The header lets a walk go forward, the backlen lets it go backward (both
//! varints are [`crate::util::varint`]'s), and an entry costs what it costs
//! in Redis's listpack (two bytes for a small integer, the string plus two
//! for a short string). Elements that are the canonical text of a 64-bit
//! integer (`"123"`, `"-5"`; not `"007"` or `"+1"`) are stored as integers
//! and turned back into exactly the same text when read, so the encoding is
//! canonical: two elements are equal exactly when their [`Elem`]s are.

use crate::util::num::parse_i64;
use crate::util::varint;

/// An element as stored: bytes, or an integer whose canonical text is the
/// element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    /// Any bytes that are not a canonical integer.
    Bytes(&'a [u8]),
    /// A canonical 64-bit integer (its decimal text is the element).
    Int(i64),
}

impl<'a> Elem<'a> {
    /// How the element `s` is stored. Since the choice depends only on `s`,
    /// `Elem::of(a) == Elem::of(b)` exactly when `a == b`.
    pub fn of(s: &'a [u8]) -> Elem<'a> {
        match parse_i64(s) {
            Some(n) => Elem::Int(n),
            None => Elem::Bytes(s),
        }
    }

    /// The element's bytes.
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Elem::Bytes(b) => b.to_vec(),
            Elem::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
        }
    }
}

/// Bytes the signed little-endian form of `n` needs (1..=8).
fn int_width(n: i64) -> usize {
    let magnitude = if n < 0 { !n } else { n };
    (64 - magnitude.leading_zeros() as usize + 1).div_ceil(8)
}

/// What an entry's header says about its payload.
#[derive(Clone, Copy)]
enum Head {
    /// An integer held by the header itself; no payload.
    Imm(i64),
    /// That many bytes of string.
    Bytes(usize),
    /// An integer in that many little-endian bytes.
    Int(usize),
}

impl Head {
    fn payload(self) -> usize {
        match self {
            Head::Imm(_) => 0,
            Head::Bytes(n) | Head::Int(n) => n,
        }
    }
}

/// Reads the header at `bytes[off..]`: what it says, and its length.
fn read_head(bytes: &[u8], off: usize) -> (Head, usize) {
    let x = bytes[off];
    match x {
        0x00..=0x7f => (Head::Imm(i64::from(x)), 1),
        0x80..=0xbf => (Head::Bytes(usize::from(x & 0x3f)), 1),
        0xc0..=0xdf => {
            let v = (i64::from(x & 0x1f) << 8) | i64::from(bytes[off + 1]);
            (Head::Imm(if v >= 4096 { v - 8192 } else { v }), 2)
        }
        0xe0..=0xef => {
            let n = (usize::from(x & 0x0f) << 8) | usize::from(bytes[off + 1]);
            (Head::Bytes(n), 2)
        }
        0xf0 => {
            let (n, end) = varint::get(bytes, off + 1);
            (Head::Bytes(n as usize), end - off)
        }
        _ => (Head::Int(usize::from(x - 0xf0)), 1),
    }
}

/// An element ready to be written as an entry.
pub(super) struct Enc<'a> {
    elem: Elem<'a>,
    head: [u8; 11],
    hlen: usize,
    /// Header + payload.
    body: usize,
    /// The whole entry: body + backlen.
    pub(super) total: usize,
}

impl<'a> Enc<'a> {
    pub(super) fn new(s: &'a [u8]) -> Enc<'a> {
        let elem = Elem::of(s);
        let mut head = [0u8; 11];
        let (hlen, payload) = match elem {
            Elem::Int(n) if (0..=127).contains(&n) => {
                head[0] = n as u8;
                (1, 0)
            }
            Elem::Int(n) if (-4096..=4095).contains(&n) => {
                let v = (n & 0x1fff) as u16;
                head[0] = 0xc0 | (v >> 8) as u8;
                head[1] = v as u8;
                (2, 0)
            }
            Elem::Int(n) => {
                let w = int_width(n);
                head[0] = 0xf0 + w as u8;
                (1, w)
            }
            Elem::Bytes(b) if b.len() < 64 => {
                head[0] = 0x80 | b.len() as u8;
                (1, b.len())
            }
            Elem::Bytes(b) if b.len() < 4096 => {
                head[0] = 0xe0 | (b.len() >> 8) as u8;
                head[1] = b.len() as u8;
                (2, b.len())
            }
            Elem::Bytes(b) => {
                head[0] = 0xf0;
                (1 + varint::write(&mut head[1..], b.len() as u64), b.len())
            }
        };
        let body = hlen + payload;
        Enc {
            elem,
            head,
            hlen,
            body,
            total: body + varint::len(body as u64),
        }
    }

    /// The payload bytes (an integer's are in `scratch`).
    fn payload<'s>(&'s self, scratch: &'s mut [u8; 8]) -> &'s [u8] {
        match self.elem {
            Elem::Bytes(b) => b,
            Elem::Int(n) => {
                *scratch = n.to_le_bytes();
                &scratch[..self.body - self.hlen]
            }
        }
    }

    /// Writes the entry into `out`, which is exactly `total` bytes.
    pub(super) fn write(&self, out: &mut [u8]) {
        debug_assert_eq!(out.len(), self.total);
        let h = self.hlen;
        out[..h].copy_from_slice(&self.head[..h]);
        let mut scratch = [0u8; 8];
        out[h..self.body].copy_from_slice(self.payload(&mut scratch));
        varint::put_rev(&mut out[self.body..], self.body as u64);
    }

    /// Appends the entry to `out`.
    pub(super) fn append(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.head[..self.hlen]);
        let mut scratch = [0u8; 8];
        out.extend_from_slice(self.payload(&mut scratch));
        let mut back = [0u8; 10];
        let k = self.total - self.body;
        varint::put_rev(&mut back[..k], self.body as u64);
        out.extend_from_slice(&back[..k]);
    }
}

/// The start of the entry that ends at `bytes[..end]`.
pub(super) fn entry_start(bytes: &[u8], end: usize) -> usize {
    let (body, start) = varint::get_rev(bytes, end);
    start - body as usize
}

/// The element of the entry at `bytes[off..]` and the entry's length.
pub(super) fn decode(bytes: &[u8], off: usize) -> (Elem<'_>, usize) {
    let (head, h) = read_head(bytes, off);
    let p = off + h;
    let payload = head.payload();
    let elem = match head {
        Head::Imm(v) => Elem::Int(v),
        Head::Bytes(n) => Elem::Bytes(&bytes[p..p + n]),
        Head::Int(w) => {
            let b = &bytes[p..p + w];
            let fill = if b.last().is_some_and(|x| x & 0x80 != 0) {
                0xff
            } else {
                0
            };
            let mut buf = [fill; 8];
            buf[..w].copy_from_slice(b);
            Elem::Int(i64::from_le_bytes(buf))
        }
    };
    let body = h + payload;
    (elem, body + varint::len(body as u64))
}

/// The length of the entry at `bytes[off..]`.
pub(super) fn entry_len(bytes: &[u8], off: usize) -> usize {
    let (head, h) = read_head(bytes, off);
    let body = h + head.payload();
    body + varint::len(body as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_start_skips_a_body_of_the_backlen_it_reads() {
        // The varint itself is tested in `util::varint`; this is how an
        // entry uses it: the backlen counts the body before it.
        for v in [0u64, 1, 127, 128, 16383, 16384, (1 << 21) - 1, 1 << 21] {
            let mut entry = vec![0u8; v as usize];
            let n = varint::len(v);
            entry.resize(entry.len() + n, 0);
            let at = entry.len() - n;
            varint::put_rev(&mut entry[at..], v);
            assert_eq!(entry_start(&entry, entry.len()), 0, "{v}");
        }
    }

    #[test]
    fn entries_have_their_exact_bytes() {
        let x200 = [b'x'; 200];
        let x4096 = [b'x'; 4096];
        let cat = |parts: &[&[u8]]| parts.concat();
        let cases: Vec<(&[u8], Vec<u8>)> = vec![
            (b"a", vec![0x81, b'a', 0x02]),
            (b"5", vec![0x05, 0x01]),
            (b"-1", vec![0xdf, 0xff, 0x02]),
            (b"128", vec![0xc0, 0x80, 0x02]),
            (b"100000", vec![0xf3, 0xa0, 0x86, 0x01, 0x04]),
            // A two-byte backlen (202) reads right to left: 01 ca.
            (&x200, cat(&[&[0xe0, 0xc8], &x200, &[0x01, 0xca]])),
            // A varint length (4096: 80 20) and backlen (4099: 20 83).
            (&x4096, cat(&[&[0xf0, 0x80, 0x20], &x4096, &[0x20, 0x83]])),
        ];
        for (s, want) in cases {
            let mut got = Vec::new();
            Enc::new(s).append(&mut got);
            assert_eq!(got, want, "{:?}", Elem::of(s));
        }
    }

    #[test]
    fn entries_take_as_many_bytes_as_in_a_listpack() {
        let cases: &[(&[u8], usize)] = &[
            (b"0", 2),
            (b"127", 2),
            (b"128", 3),
            (b"4095", 3),
            (b"-1", 3),
            (b"-4096", 3),
            (b"4096", 4),
            (b"-4097", 4),
            (b"32767", 4),
            (b"32768", 5),
            (b"9223372036854775807", 10),
            (b"-9223372036854775808", 10),
            (b"", 2),
            (b"007", 5),
            (&[b'x'; 63], 65),
            (&[b'x'; 64], 67),
            (&[b'x'; 125], 128),
            (&[b'x'; 126], 130),
            (&[b'x'; 4095], 4099),
            (&[b'x'; 4096], 4101),
        ];
        for &(s, total) in cases {
            let e = Enc::new(s);
            assert_eq!(e.total, total, "{:?}", Elem::of(s));
            let mut buf = vec![0u8; e.total];
            e.write(&mut buf);
            let mut appended = Vec::new();
            e.append(&mut appended);
            assert_eq!(appended, buf);
            assert_eq!(decode(&buf, 0), (Elem::of(s), total));
            assert_eq!(entry_len(&buf, 0), total);
            assert_eq!(entry_start(&buf, total), 0);
        }
    }

    #[test]
    fn int_width_is_minimal() {
        for (n, w) in [
            (0i64, 1),
            (-1, 1),
            (127, 1),
            (-128, 1),
            (128, 2),
            (-129, 2),
            (32767, 2),
            (32768, 3),
            (i64::MAX, 8),
            (i64::MIN, 8),
        ] {
            assert_eq!(int_width(n), w, "{n}");
        }
    }

    #[test]
    fn only_canonical_integers_are_stored_as_integers() {
        for s in [
            "0",
            "-1",
            "127",
            "128",
            "-9223372036854775808",
            "9223372036854775807",
        ] {
            assert!(matches!(Elem::of(s.as_bytes()), Elem::Int(_)), "{s}");
        }
        for s in [
            "007",
            "+1",
            "-0",
            " 1",
            "1 ",
            "9223372036854775808",
            "",
            "1.5",
        ] {
            assert_eq!(Elem::of(s.as_bytes()), Elem::Bytes(s.as_bytes()), "{s}");
        }
    }
}
