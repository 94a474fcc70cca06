//! The CRC-64 Redis appends to DUMP payloads and RDB files: Jones
//! polynomial `0xad93d23594c935a9`, reflected input and output, initial
//! value and final xor both zero.

/// The Jones polynomial, bit-reversed for the reflected (LSB-first) form.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

/// A byte-at-a-time lookup table, built at compile time.
const TABLE: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
};

/// Tables for eight bytes at a time ("slicing by 8", as Redis's
/// `crcspeed`): `SLICES[k][b]` is the CRC of byte `b` followed by `k` zero
/// bytes.
const SLICES: [[u64; 256]; 8] = {
    let mut t = [[0u64; 256]; 8];
    t[0] = TABLE;
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ TABLE[(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
};

/// Continues the checksum `crc` over `data` (start with 0), as Redis's
/// `crc64(crc, data, len)`. Eight bytes per step: an RDB file's checksum
/// runs over every byte saved or loaded.
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let v = crc ^ u64::from_le_bytes(b);
        crc = SLICES[7][(v & 0xff) as usize]
            ^ SLICES[6][((v >> 8) & 0xff) as usize]
            ^ SLICES[5][((v >> 16) & 0xff) as usize]
            ^ SLICES[4][((v >> 24) & 0xff) as usize]
            ^ SLICES[3][((v >> 32) & 0xff) as usize]
            ^ SLICES[2][((v >> 40) & 0xff) as usize]
            ^ SLICES[1][((v >> 48) & 0xff) as usize]
            ^ SLICES[0][(v >> 56) as usize];
    }
    for &b in words.remainder() {
        crc = TABLE[((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_check_value() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn eight_at_a_time_equals_one_at_a_time() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 3) as u8).collect();
        for len in [0, 1, 7, 8, 9, 63, 64, 65, 1000] {
            let slow = data[..len].iter().fold(0u64, |c, &b| {
                TABLE[((c ^ b as u64) & 0xff) as usize] ^ (c >> 8)
            });
            assert_eq!(crc64(0, &data[..len]), slow, "length {len}");
        }
    }

    #[test]
    fn continues_across_split_input() {
        let whole = crc64(0, b"hello world");
        assert_eq!(crc64(crc64(0, b"hello "), b"world"), whole);
    }
}
