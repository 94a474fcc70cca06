//! LZF, the compression Redis applies to long strings in DUMP payloads and
//! RDB files. The compressor makes the same choices as Redis's `lzf_c.c`
//! (16-bit hash table, "very fast" mode), so the same input compresses to
//! the same bytes; the decompressor accepts any valid LZF stream.
//!
//! Format: a control byte `c < 32` starts a literal run of `c + 1` bytes;
//! otherwise `c >> 5` is a back-reference length (7 means "add the next
//! byte"), the low 5 bits and the following byte the distance minus one.

/// Hash table size, log 2.
const HLOG: u32 = 16;
/// Longest literal run.
const MAX_LIT: usize = 1 << 5;
/// Furthest back-reference distance.
const MAX_OFF: usize = 1 << 13;
/// Longest back-reference length.
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// Hash slot of the three bytes folded into `h`.
fn idx(h: u32) -> usize {
    ((h >> (24 - HLOG)).wrapping_sub(h.wrapping_mul(5)) & ((1 << HLOG) - 1)) as usize
}

/// The hash table, kept per thread and reused: each slot holds the
/// generation that wrote it (high 32 bits) and an input position plus one
/// (low 32 bits; 0: empty). A slot of an older generation reads as empty,
/// so every call sees a zeroed table, as Redis's compressor does, without
/// clearing 64 K slots per string (an RDB file has a million strings).
struct Table {
    slots: Box<[u64]>,
    generation: u32,
}

impl Table {
    /// Starts a compression: a new generation (the table is cleared once
    /// every 2^32 calls, when the generation wraps).
    fn begin(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.slots.fill(0);
            self.generation = 1;
        }
    }

    fn get(&self, slot: usize) -> u32 {
        let v = self.slots[slot];
        if (v >> 32) as u32 == self.generation {
            v as u32
        } else {
            0
        }
    }

    fn set(&mut self, slot: usize, pos_plus_one: u32) {
        self.slots[slot] = ((self.generation as u64) << 32) | pos_plus_one as u64;
    }
}

thread_local! {
    static TABLE: std::cell::RefCell<Table> = std::cell::RefCell::new(Table {
        slots: vec![0u64; 1 << HLOG].into_boxed_slice(),
        generation: 0,
    });
}

/// Compresses `input` into at most `max_out` bytes, as `lzf_compress` with
/// an output buffer of `max_out` bytes; `None` when it does not fit.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let n = input.len();
    if n == 0 || max_out == 0 {
        return None;
    }
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        t.begin();
        compress_with(&mut t, input, max_out)
    })
}

fn compress_with(htab: &mut Table, input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let n = input.len();
    let mut out = vec![0u8; max_out];
    let out_end = max_out;
    let mut ip = 0usize;
    let mut op = 1usize; // start a literal run; its control byte goes at op - lit - 1
    let mut lit = 0usize;
    let byte = |i: usize| input[i] as u32;
    let mut hval: u32 = if n >= 2 { (byte(0) << 8) | byte(1) } else { 0 };
    while n >= 3 && ip < n - 2 {
        hval = (hval << 8) | byte(ip + 2);
        let slot = idx(hval);
        let stored = htab.get(slot) as usize;
        htab.set(slot, (ip + 1) as u32);
        let matched = if stored > 1 {
            let r = stored - 1;
            let off = ip - r - 1;
            (off < MAX_OFF && input[r + 2] == input[ip + 2] && input[r..r + 2] == input[ip..ip + 2])
                .then_some((r, off))
        } else {
            None
        };
        if let Some((r, off)) = matched {
            let mut len = 2usize;
            let maxlen = (n - ip - len).min(MAX_REF);
            if op + 3 + 1 >= out_end && op - usize::from(lit == 0) + 3 + 1 >= out_end {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1);
            op -= usize::from(lit == 0);
            // The reference compares up to 16 bytes unrolled before it
            // checks `maxlen`; keep that, or lengths would differ.
            let mut done = false;
            if maxlen > 16 {
                for _ in 0..16 {
                    len += 1;
                    if input[r + len] != input[ip + len] {
                        done = true;
                        break;
                    }
                }
            }
            if !done {
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 1;
            lit = 0;
            op += 1;
            ip += len + 1;
            if ip >= n - 2 {
                break;
            }
            ip -= 2;
            hval = (byte(ip) << 8) | byte(ip + 1);
            hval = (hval << 8) | byte(ip + 2);
            htab.set(idx(hval), (ip + 1) as u32);
            ip += 1;
            hval = (hval << 8) | byte(ip + 2);
            htab.set(idx(hval), (ip + 1) as u32);
            ip += 1;
        } else {
            if op >= out_end {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > out_end {
        return None;
    }
    while ip < n {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

/// Decompresses `input`, which must expand to exactly `out_len` bytes;
/// `None` for a malformed stream.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lits = input.get(ip..ip + run)?;
            if out.len() + run > out_len {
                return None;
            }
            out.extend_from_slice(lits);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + *input.get(ip)? as usize + 1;
            ip += 1;
            len += 2;
            if back > out.len() || out.len() + len > out_len {
                return None;
            }
            let from = out.len() - back;
            for k in 0..len {
                let b = out[from + k];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_call_sees_an_empty_table_whatever_came_before() {
        let a: Vec<u8> = b"abcabcabcabc hello hello hello ".repeat(20);
        let b: Vec<u8> = (0..5000u32).map(|i| (i % 97) as u8).collect();
        let first = compress(&a, a.len()).unwrap();
        for _ in 0..3 {
            compress(&b, b.len());
            assert_eq!(compress(&a, a.len()).unwrap(), first);
        }
        TABLE.with(|t| t.borrow_mut().generation = u32::MAX);
        assert_eq!(
            compress(&a, a.len()).unwrap(),
            first,
            "after the generation wraps"
        );
    }
    use proptest::prelude::*;

    #[test]
    fn round_trips_repetitive_text() {
        let s = b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabcabcabcabc".repeat(20);
        let c = compress(&s, s.len() - 4).unwrap();
        assert!(c.len() < s.len() / 4);
        assert_eq!(decompress(&c, s.len()).unwrap(), s);
    }

    #[test]
    fn gives_up_when_output_would_not_save_space() {
        let s: Vec<u8> = (0..=255u8).collect();
        assert_eq!(compress(&s, s.len() - 4), None);
    }

    #[test]
    fn decompresses_a_blob_redis_produced() {
        // `SET k` with 100 'a's then DUMP on redis-server 7.0.15: the
        // payload's LZF part (after 0xC3, compressed and original length).
        let blob = [0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61];
        let got = decompress(&blob, 100);
        assert_eq!(got.as_deref(), Some(&[b'a'; 100][..]));
        // And we make the same bytes.
        assert_eq!(compress(&[b'a'; 100], 96).unwrap(), blob);
    }

    #[test]
    fn rejects_a_reference_before_the_start() {
        assert_eq!(decompress(&[0x20, 0x05], 3), None);
    }

    proptest! {
        #[test]
        fn round_trips_any_input(data in proptest::collection::vec(0u8..4, 0..600)) {
            let cap = data.len() + data.len() / 16 + 64;
            if let Some(c) = compress(&data, cap) {
                prop_assert_eq!(decompress(&c, data.len()).unwrap(), data);
            }
        }

        #[test]
        fn decompress_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), n in 0usize..1000) {
            let _ = decompress(&data, n);
        }
    }
}
