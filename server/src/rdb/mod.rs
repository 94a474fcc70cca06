//! Redis's serialized value format (RDB version 10, as Redis 7.0 writes
//! it): what DUMP produces and RESTORE reads, and the building blocks an
//! RDB file would use.
//!
//! A value is its type byte then its body ([`value`]); a DUMP payload adds
//! the RDB version (2 bytes LE) and a CRC-64 of everything before it
//! (8 bytes LE). Decoding checks every length against the bytes left
//! before allocating, and never panics on any input.

pub mod crc64;
pub mod file;
pub mod listpack;
pub mod lzf;
pub mod value;

/// The RDB format version Redis 7.0 writes (and the newest it reads).
pub const RDB_VERSION: u16 = 10;

/// Value type bytes (`RDB_TYPE_*`).
pub mod types {
    /// A string.
    pub const STRING: u8 = 0;
    /// A list as a sequence of strings (old format, read only).
    pub const LIST: u8 = 1;
    /// A set as a sequence of strings.
    pub const SET: u8 = 2;
    /// A sorted set with scores as strings (old format, read only).
    pub const ZSET: u8 = 3;
    /// A hash as field/value strings.
    pub const HASH: u8 = 4;
    /// A sorted set with binary scores.
    pub const ZSET_2: u8 = 5;
    /// A set as an intset blob.
    pub const SET_INTSET: u8 = 11;
    /// A hash as a listpack blob.
    pub const HASH_LISTPACK: u8 = 16;
    /// A sorted set as a listpack blob.
    pub const ZSET_LISTPACK: u8 = 17;
    /// A list as quicklist nodes, each a listpack or a plain element.
    pub const LIST_QUICKLIST_2: u8 = 18;
    /// A stream as listpacks keyed by master ID (Redis 5 to 6.2: no
    /// first ID, deleted-ID maximum or added count; read only).
    pub const STREAM_LISTPACKS: u8 = 15;
    /// A stream as Redis 7.0 writes it.
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

/// Input that is not a valid serialized value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bad;

/// Appends a length: 6-bit, 14-bit (big-endian), or a marker byte and a
/// 32- or 64-bit big-endian length.
pub fn write_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The special string encodings a length byte can announce (`11xxxxxx`).
const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Appends `n` as an int-encoded string when it fits 32 bits; true if it
/// did.
fn write_int_encoded(out: &mut Vec<u8>, n: i64) -> bool {
    if let Ok(v) = i8::try_from(n) {
        out.push(0xc0 | ENC_INT8);
        out.push(v as u8);
    } else if let Ok(v) = i16::try_from(n) {
        out.push(0xc0 | ENC_INT16);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(n) {
        out.push(0xc0 | ENC_INT32);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Appends an integer string value (Redis's `int` encoding): int-encoded
/// when it fits 32 bits, else its decimal text.
pub fn write_int(out: &mut Vec<u8>, n: i64) {
    if !write_int_encoded(out, n) {
        let mut b = itoa::Buffer::new();
        let s = b.format(n).as_bytes();
        write_len(out, s.len() as u64);
        out.extend_from_slice(s);
    }
}

/// Appends a string as Redis's `rdbSaveRawString`: int-encoded when it is
/// a canonical integer of at most 11 bytes that fits 32 bits; LZF when
/// `compress`, longer than 20 bytes and it saves at least 4 bytes; else
/// raw.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(n) = crate::util::num::parse_i64(s) {
            if write_int_encoded(out, n) {
                return;
            }
        }
    }
    if compress && s.len() > 20 {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            out.push(0xc0 | ENC_LZF);
            write_len(out, c.len() as u64);
            write_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// A string as read: int-encoded strings stay integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdbStr {
    /// An int-encoded string.
    Int(i64),
    /// Bytes (raw or decompressed).
    Bytes(Vec<u8>),
}

impl RdbStr {
    /// The string's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            RdbStr::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
            RdbStr::Bytes(b) => b,
        }
    }
}

/// A cursor over serialized bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// What a length byte announces.
enum Len {
    /// A plain length.
    Plain(u64),
    /// A special string encoding.
    Enc(u8),
}

impl<'a> Reader<'a> {
    /// Reads from the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        if n > self.remaining() {
            return Err(Bad);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// The next byte.
    pub fn byte(&mut self) -> Result<u8, Bad> {
        Ok(self.take(1)?[0])
    }

    fn len_or_enc(&mut self) -> Result<Len, Bad> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Len::Plain((b & 0x3f) as u64),
            1 => Len::Plain((((b & 0x3f) as u64) << 8) | self.byte()? as u64),
            3 => Len::Enc(b & 0x3f),
            _ => match b {
                0x80 => Len::Plain(u32::from_be_bytes(self.array()?) as u64),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return Err(Bad),
            },
        })
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Bad> {
        self.take(N)?.try_into().map_err(|_| Bad)
    }

    /// A length.
    pub fn length(&mut self) -> Result<u64, Bad> {
        match self.len_or_enc()? {
            Len::Plain(n) => Ok(n),
            Len::Enc(_) => Err(Bad),
        }
    }

    /// A count of items each taking at least `min_bytes`: checked against
    /// the bytes left, so a lying count cannot make us allocate.
    pub fn count(&mut self, min_bytes: usize) -> Result<usize, Bad> {
        let n = self.length()?;
        let n = usize::try_from(n).map_err(|_| Bad)?;
        if n.checked_mul(min_bytes)
            .is_none_or(|b| b > self.remaining())
        {
            return Err(Bad);
        }
        Ok(n)
    }

    /// A string in any encoding.
    pub fn string(&mut self) -> Result<RdbStr, Bad> {
        match self.len_or_enc()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| Bad)?;
                Ok(RdbStr::Bytes(self.take(n)?.to_vec()))
            }
            Len::Enc(ENC_INT8) => Ok(RdbStr::Int(self.byte()? as i8 as i64)),
            Len::Enc(ENC_INT16) => Ok(RdbStr::Int(i16::from_le_bytes(self.array()?) as i64)),
            Len::Enc(ENC_INT32) => Ok(RdbStr::Int(i32::from_le_bytes(self.array()?) as i64)),
            Len::Enc(ENC_LZF) => {
                let clen = usize::try_from(self.length()?).map_err(|_| Bad)?;
                let ulen = usize::try_from(self.length()?).map_err(|_| Bad)?;
                let data = self.take(clen)?;
                // A back-reference of 3 bytes expands to at most 264.
                if ulen == 0 || ulen > clen.saturating_mul(MAX_LZF_RATIO) {
                    return Err(Bad);
                }
                lzf::decompress(data, ulen).map(RdbStr::Bytes).ok_or(Bad)
            }
            Len::Enc(_) => Err(Bad),
        }
    }

    /// A string's bytes.
    pub fn bytes(&mut self) -> Result<Vec<u8>, Bad> {
        Ok(self.string()?.into_bytes())
    }
}

/// The most an LZF stream can expand per input byte (a 3-byte
/// back-reference of 264 bytes), a bound on a claimed length.
const MAX_LZF_RATIO: usize = 88;

/// Wraps a serialized value as a DUMP payload: the RDB version, then the
/// CRC-64 of everything before it, both little-endian.
pub fn make_payload(mut value: Vec<u8>) -> Vec<u8> {
    value.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::crc64(0, &value);
    value.extend_from_slice(&crc.to_le_bytes());
    value
}

/// The serialized value inside a DUMP payload, when its version is one we
/// read and its checksum is right (Redis's `verifyDumpPayload`).
pub fn check_payload(p: &[u8]) -> Option<&[u8]> {
    if p.len() < 10 {
        return None;
    }
    let (body, crc) = p.split_at(p.len() - 8);
    let version = u16::from_le_bytes([body[body.len() - 2], body[body.len() - 1]]);
    if version > RDB_VERSION {
        return None;
    }
    let crc = u64::from_le_bytes(crc.try_into().ok()?);
    (crc64::crc64(0, body) == crc).then(|| &body[..body.len() - 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_at_every_width() {
        for n in [
            0,
            63,
            64,
            16383,
            16384,
            u32::MAX as u64,
            u32::MAX as u64 + 1,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            write_len(&mut b, n);
            let mut r = Reader::new(&b);
            assert_eq!(r.length(), Ok(n));
            assert_eq!(r.remaining(), 0);
        }
    }

    #[test]
    fn strings_pick_redis_encodings() {
        let enc = |s: &[u8]| {
            let mut b = Vec::new();
            write_string(&mut b, s, true);
            b
        };
        assert_eq!(enc(b"12"), [0xc0, 12]);
        assert_eq!(enc(b"-300"), [0xc1, 0xd4, 0xfe]);
        assert_eq!(enc(b"100000"), [0xc2, 0xa0, 0x86, 1, 0]);
        assert_eq!(enc(b"012"), [3, b'0', b'1', b'2']);
        assert_eq!(enc(b"12345678901")[0], 11);
        assert_eq!(enc(&[b'a'; 100])[0], 0xc3);
        for s in [&b"12"[..], b"-300", b"012", &[b'a'; 100], b"hello"] {
            let b = enc(s);
            assert_eq!(Reader::new(&b).bytes().unwrap(), s);
        }
    }

    #[test]
    fn payload_of_redis_matches_and_verifies() {
        // DUMP of SET k 100×'a' on redis-server 7.0.15.
        let redis = b"\x00\xc3\t@d\x01aa\xe0W\x00\x01aa\n\x00\xe8\xa3\xb5\x07\xb0m\xf2q";
        let mut v = vec![types::STRING];
        write_string(&mut v, &[b'a'; 100], true);
        assert_eq!(make_payload(v.clone()), redis);
        assert_eq!(check_payload(redis), Some(&v[..]));
        let mut broken = redis.to_vec();
        broken[3] ^= 1;
        assert_eq!(check_payload(&broken), None);
    }
}
