//! Redis's listpack and intset byte layouts, as they appear inside RDB
//! values (soquete's in-memory encodings differ; these are for the wire).

use super::Bad;
use crate::util::num::parse_i64;

/// Builds a listpack: `total bytes u32 LE, count u16 LE, entries, 0xFF`.
#[derive(Default)]
pub struct ListpackWriter {
    buf: Vec<u8>,
    count: usize,
}

impl ListpackWriter {
    /// An empty listpack.
    pub fn new() -> ListpackWriter {
        ListpackWriter {
            buf: vec![0; 6],
            count: 0,
        }
    }

    /// Appends a string entry, stored as an integer when it is a canonical
    /// one (as `lpAppend` does).
    pub fn push(&mut self, s: &[u8]) {
        match parse_i64(s) {
            Some(n) if s.len() <= 20 => self.push_int(n),
            _ => self.push_str(s),
        }
    }

    /// Appends an integer entry in the smallest encoding.
    pub fn push_int(&mut self, n: i64) {
        let start = self.buf.len();
        let b = &mut self.buf;
        if (0..=127).contains(&n) {
            b.push(n as u8);
        } else if (-4096..=4095).contains(&n) {
            let u = (n as u64) & 0x1fff;
            b.push(0xc0 | (u >> 8) as u8);
            b.push(u as u8);
        } else if (-32768..=32767).contains(&n) {
            b.push(0xf1);
            b.extend_from_slice(&(n as i16).to_le_bytes());
        } else if (-(1 << 23)..(1 << 23)).contains(&n) {
            b.push(0xf2);
            b.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
        } else if i32::try_from(n).is_ok() {
            b.push(0xf3);
            b.extend_from_slice(&(n as i32).to_le_bytes());
        } else {
            b.push(0xf4);
            b.extend_from_slice(&n.to_le_bytes());
        }
        self.finish_entry(start);
    }

    /// Appends a string entry as bytes.
    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let b = &mut self.buf;
        let n = s.len();
        if n < 64 {
            b.push(0x80 | n as u8);
        } else if n < 4096 {
            b.push(0xe0 | (n >> 8) as u8);
            b.push(n as u8);
        } else {
            b.push(0xf0);
            b.extend_from_slice(&(n as u32).to_le_bytes());
        }
        b.extend_from_slice(s);
        self.finish_entry(start);
    }

    /// Writes the back-length of the entry that began at `start`.
    fn finish_entry(&mut self, start: usize) {
        let l = self.buf.len() - start;
        let b = &mut self.buf;
        if l <= 127 {
            b.push(l as u8);
        } else if l < 16383 {
            b.push((l >> 7) as u8);
            b.push((l & 127) as u8 | 128);
        } else if l < 2_097_151 {
            b.push((l >> 14) as u8);
            b.push(((l >> 7) & 127) as u8 | 128);
            b.push((l & 127) as u8 | 128);
        } else if l < 268_435_455 {
            b.push((l >> 21) as u8);
            b.push(((l >> 14) & 127) as u8 | 128);
            b.push(((l >> 7) & 127) as u8 | 128);
            b.push((l & 127) as u8 | 128);
        } else {
            b.push((l >> 28) as u8);
            b.push(((l >> 21) & 127) as u8 | 128);
            b.push(((l >> 14) & 127) as u8 | 128);
            b.push(((l >> 7) & 127) as u8 | 128);
            b.push((l & 127) as u8 | 128);
        }
        self.count += 1;
    }

    /// The finished listpack.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xff);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = self.count.min(65535) as u16;
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// One listpack entry as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LpEntry<'a> {
    /// An integer entry.
    Int(i64),
    /// A string entry.
    Str(&'a [u8]),
}

impl LpEntry<'_> {
    /// The entry's bytes (integers in decimal).
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            LpEntry::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
            LpEntry::Str(s) => s.to_vec(),
        }
    }
}

/// Reads a whole listpack, checking every length and back-length; the
/// entries in order.
pub fn read_listpack(lp: &[u8]) -> Result<Vec<LpEntry<'_>>, Bad> {
    if lp.len() < 7 {
        return Err(Bad);
    }
    let total = u32::from_le_bytes(lp[..4].try_into().map_err(|_| Bad)?) as usize;
    let count = u16::from_le_bytes([lp[4], lp[5]]) as usize;
    if total != lp.len() || lp[total - 1] != 0xff {
        return Err(Bad);
    }
    let body = &lp[6..total - 1];
    let mut out = Vec::with_capacity(count.min(body.len()));
    let mut p = 0;
    let take = |p: usize, n: usize| body.get(p..p.checked_add(n).ok_or(Bad)?).ok_or(Bad);
    while p < body.len() {
        let start = p;
        let b = body[p];
        let entry = if b & 0x80 == 0 {
            p += 1;
            LpEntry::Int(b as i64)
        } else if b & 0xc0 == 0x80 {
            let n = (b & 0x3f) as usize;
            let s = take(p + 1, n)?;
            p += 1 + n;
            LpEntry::Str(s)
        } else if b & 0xe0 == 0xc0 {
            let lo = *take(p + 1, 1)?.first().ok_or(Bad)?;
            let u = (((b & 0x1f) as i64) << 8) | lo as i64;
            p += 2;
            LpEntry::Int(if u >= 1 << 12 { u - (1 << 13) } else { u })
        } else if b & 0xf0 == 0xe0 {
            let lo = *take(p + 1, 1)?.first().ok_or(Bad)?;
            let n = (((b & 0x0f) as usize) << 8) | lo as usize;
            let s = take(p + 2, n)?;
            p += 2 + n;
            LpEntry::Str(s)
        } else {
            match b {
                0xf0 => {
                    let l = take(p + 1, 4)?;
                    let n = u32::from_le_bytes(l.try_into().map_err(|_| Bad)?) as usize;
                    let s = take(p + 5, n)?;
                    p += 5 + n;
                    LpEntry::Str(s)
                }
                0xf1..=0xf4 => {
                    let w = match b {
                        0xf1 => 2,
                        0xf2 => 3,
                        0xf3 => 4,
                        _ => 8,
                    };
                    let d = take(p + 1, w)?;
                    let mut x = [0u8; 8];
                    x[..w].copy_from_slice(d);
                    let shift = 64 - 8 * w as u32;
                    let n = (i64::from_le_bytes(x) << shift) >> shift;
                    p += 1 + w;
                    LpEntry::Int(n)
                }
                _ => return Err(Bad),
            }
        };
        // The back-length must encode this entry's length.
        let l = p - start;
        let want = match l {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2_097_150 => 3,
            2_097_151..=268_435_454 => 4,
            _ => 5,
        };
        let bl = take(p, want)?;
        let mut v = 0usize;
        for (i, &x) in bl.iter().rev().enumerate() {
            let last = i + 1 == want;
            if last != (x & 0x80 == 0) {
                return Err(Bad);
            }
            v |= ((x & 0x7f) as usize) << (7 * i);
        }
        if v != l {
            return Err(Bad);
        }
        p += want;
        out.push(entry);
    }
    if count != 65535 && count != out.len() {
        return Err(Bad);
    }
    Ok(out)
}

/// Builds an intset of ascending `members`: `encoding u32 LE` (2, 4 or 8),
/// `length u32 LE`, then the members little-endian at that width.
pub fn write_intset(members: &[i64]) -> Vec<u8> {
    let width: usize = members
        .iter()
        .map(|&n| {
            if i16::try_from(n).is_ok() {
                2
            } else if i32::try_from(n).is_ok() {
                4
            } else {
                8
            }
        })
        .max()
        .unwrap_or(2);
    let mut out = Vec::with_capacity(8 + width * members.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for &n in members {
        out.extend_from_slice(&n.to_le_bytes()[..width]);
    }
    out
}

/// Reads an intset; its members must be strictly ascending.
pub fn read_intset(b: &[u8]) -> Result<Vec<i64>, Bad> {
    if b.len() < 8 {
        return Err(Bad);
    }
    let width = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let len = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) || b.len() - 8 != width.checked_mul(len).ok_or(Bad)? {
        return Err(Bad);
    }
    let mut out: Vec<i64> = Vec::with_capacity(len);
    for c in b[8..].chunks_exact(width) {
        let mut x = [0u8; 8];
        x[..width].copy_from_slice(c);
        let shift = 64 - 8 * width as u32;
        let n = (i64::from_le_bytes(x) << shift) >> shift;
        if out.last().is_some_and(|&p| p >= n) {
            return Err(Bad);
        }
        out.push(n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_round_trips_every_entry_encoding() {
        let mut w = ListpackWriter::new();
        let ints = [
            0,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -32768,
            32767,
            1 << 20,
            -(1 << 23),
            1 << 30,
            i64::MIN,
            i64::MAX,
        ];
        for n in ints {
            w.push_int(n);
        }
        let long = vec![b'x'; 5000];
        let strs: [&[u8]; 4] = [b"", b"abc", &[b'y'; 100], &long];
        for s in strs {
            w.push(s);
        }
        let lp = w.finish();
        let got = read_listpack(&lp).unwrap();
        let mut want: Vec<LpEntry<'_>> = ints.iter().map(|&n| LpEntry::Int(n)).collect();
        want.extend(strs.iter().map(|s| LpEntry::Str(s)));
        assert_eq!(got, want);
    }

    #[test]
    fn listpack_of_two_small_entries_matches_redis_bytes() {
        // RPUSH l a 1 on Redis: the listpack inside its DUMP.
        let mut w = ListpackWriter::new();
        w.push(b"a");
        w.push(b"1");
        assert_eq!(w.finish(), [12, 0, 0, 0, 2, 0, 0x81, b'a', 2, 1, 1, 0xff]);
    }

    #[test]
    fn intset_round_trips_at_each_width() {
        for set in [
            vec![1, 2, 3],
            vec![-70000, 5],
            vec![i64::MIN, 0, i64::MAX],
            vec![],
        ] {
            assert_eq!(read_intset(&write_intset(&set)).unwrap(), set);
        }
    }

    #[test]
    fn intset_out_of_order_is_rejected() {
        let mut b = write_intset(&[1, 2]);
        b[8..10].copy_from_slice(&5i16.to_le_bytes());
        assert_eq!(read_intset(&b), Err(Bad));
    }
}
