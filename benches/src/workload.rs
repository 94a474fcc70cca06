//! The commands of the server load matrix, encoded as [`Workload`] rings.
//!
//! Keys are drawn from a fixed pseudo-random sequence (same seed for both
//! servers, so both get byte-identical requests), in the shapes
//! `redis-benchmark` uses: `key:<12 digits>` (16 bytes) for strings,
//! `counter:<12 digits>` for INCR. Containers are kept from growing without
//! bound so that a cell measures a steady state: 1,000 hashes / sets / sorted
//! sets with at most 100 fields or members each, and LPUSH/LPOP pairs on the
//! same list.

use crate::load::Workload;

/// Keys in the string keyspace (`redis-benchmark -r 100000`).
pub const KEYSPACE: u64 = 100_000;
/// Containers for HSET / SADD / ZADD.
pub const CONTAINERS: u64 = 1_000;
/// Fields / members per container.
pub const MEMBERS: u64 = 100;
/// The ring holds at most this many encoded bytes ...
const RING_BYTES: usize = 8 << 20;
/// ... and at most this many requests.
const RING_MAX: usize = 65_536;

/// A command of the load matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// `GET key` on a preloaded keyspace.
    Get,
    /// `SET key value`.
    Set,
    /// `INCR counter`.
    Incr,
    /// `MSET` of 10 keys.
    Mset,
    /// `LPUSH list value` then `LPOP list`, alternating (each counts as a request).
    LpushLpop,
    /// `HSET hash field value`.
    Hset,
    /// `SADD set member`.
    Sadd,
    /// `ZADD zset score member`.
    Zadd,
}

impl Command {
    /// Every command, in the order the matrix runs them.
    pub const ALL: [Command; 8] = [
        Command::Get,
        Command::Set,
        Command::Incr,
        Command::Mset,
        Command::LpushLpop,
        Command::Hset,
        Command::Sadd,
        Command::Zadd,
    ];

    /// The name shown in tables.
    pub fn name(self) -> &'static str {
        match self {
            Command::Get => "GET",
            Command::Set => "SET",
            Command::Incr => "INCR",
            Command::Mset => "MSET(10)",
            Command::LpushLpop => "LPUSH/LPOP",
            Command::Hset => "HSET",
            Command::Sadd => "SADD",
            Command::Zadd => "ZADD",
        }
    }

    /// The server commands it needs (checked with `COMMAND INFO`).
    pub fn requires(self) -> &'static [&'static str] {
        match self {
            Command::Get => &["get", "set"],
            Command::Set => &["set"],
            Command::Incr => &["incr"],
            Command::Mset => &["mset"],
            Command::LpushLpop => &["lpush", "lpop"],
            Command::Hset => &["hset"],
            Command::Sadd => &["sadd"],
            Command::Zadd => &["zadd"],
        }
    }

    /// Whether the value size axis applies (INCR, SADD and ZADD carry no value).
    pub fn uses_value(self) -> bool {
        matches!(
            self,
            Command::Get | Command::Set | Command::Mset | Command::LpushLpop | Command::Hset
        )
    }

    /// Whether the keyspace must hold values before the cell runs.
    pub fn needs_preload(self) -> bool {
        self == Command::Get
    }

    /// The request ring for this command with values of `value_size` bytes,
    /// long enough for batches of `max_depth`.
    pub fn workload(self, value_size: usize, max_depth: usize) -> Workload {
        let value = value_bytes(value_size);
        let mut rng = Rng::new(0x5eed_0000 ^ value_size as u64);
        let mut probe = Vec::new();
        self.encode(0, &value, &mut rng.clone(), &mut probe);
        let count = (RING_BYTES / probe.len().max(1)).clamp(4 * max_depth, RING_MAX);
        // An even count keeps LPUSH/LPOP pairs whole across the wrap.
        let count = count + count % 2;
        Workload::build(count, |i, out| self.encode(i, &value, &mut rng, out))
    }

    fn encode(self, i: usize, value: &[u8], rng: &mut Rng, out: &mut Vec<u8>) {
        let mut key = [0u8; 24];
        match self {
            Command::Get => {
                let k = string_key(&mut key, b"key:", rng.below(KEYSPACE));
                command(out, &[b"GET", k]);
            }
            Command::Set => {
                let k = string_key(&mut key, b"key:", rng.below(KEYSPACE));
                command(out, &[b"SET", k, value]);
            }
            Command::Incr => {
                let k = string_key(&mut key, b"counter:", rng.below(KEYSPACE));
                command(out, &[b"INCR", k]);
            }
            Command::Mset => {
                let keys: Vec<Vec<u8>> = (0..10)
                    .map(|_| string_key(&mut key, b"key:", rng.below(KEYSPACE)).to_vec())
                    .collect();
                let mut args: Vec<&[u8]> = vec![b"MSET"];
                for k in &keys {
                    args.push(k);
                    args.push(value);
                }
                command(out, &args);
            }
            Command::LpushLpop => {
                // Pairs share a list: request 2j pushes, 2j+1 pops the same list.
                let list = rng_for_pair(i).below(KEYSPACE);
                let k = string_key(&mut key, b"list:", list);
                if i & 1 == 0 {
                    command(out, &[b"LPUSH", k, value]);
                } else {
                    command(out, &[b"LPOP", k]);
                }
            }
            Command::Hset => {
                let k = string_key(&mut key, b"hash:", rng.below(CONTAINERS));
                let f = format!("field:{}", rng.below(MEMBERS));
                command(out, &[b"HSET", k, f.as_bytes(), value]);
            }
            Command::Sadd => {
                let k = string_key(&mut key, b"set:", rng.below(CONTAINERS));
                let m = format!("member:{}", rng.below(MEMBERS));
                command(out, &[b"SADD", k, m.as_bytes()]);
            }
            Command::Zadd => {
                let k = string_key(&mut key, b"zset:", rng.below(CONTAINERS));
                let score = rng.below(1_000_000).to_string();
                let m = format!("member:{}", rng.below(MEMBERS));
                command(out, &[b"ZADD", k, score.as_bytes(), m.as_bytes()]);
            }
        }
    }
}

/// The value every SET / MSET / LPUSH / HSET writes: `value_size` bytes of `x`.
pub fn value_bytes(value_size: usize) -> Vec<u8> {
    vec![b'x'; value_size]
}

/// `prefix` + the 12-digit zero-padded `n`, as `redis-benchmark -r` writes keys.
pub fn string_key<'a>(buf: &'a mut [u8; 24], prefix: &[u8], n: u64) -> &'a [u8] {
    let digits = format!("{n:012}");
    let len = prefix.len() + digits.len();
    buf[..prefix.len()].copy_from_slice(prefix);
    buf[prefix.len()..len].copy_from_slice(digits.as_bytes());
    &buf[..len]
}

/// Appends a RESP array of bulk strings (soquete-resp's encoder).
pub fn command(out: &mut Vec<u8>, args: &[&[u8]]) {
    soquete_resp::encode::command(out, args.iter().copied());
}

fn rng_for_pair(i: usize) -> Rng {
    Rng::new(0x1157 ^ (i / 2) as u64)
}

/// SplitMix64: small, fast, and the same sequence everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply;
    use soquete_resp::RequestDecoder;

    fn args(req: &[u8]) -> Vec<Vec<u8>> {
        let mut dec = RequestDecoder::new();
        let r = dec.decode(req).unwrap().expect("a whole request");
        assert_eq!(r.consumed(), req.len());
        (0..r.len()).map(|i| r.arg(i).to_vec()).collect()
    }

    #[test]
    fn keys_are_16_bytes_like_redis_benchmark() {
        let mut buf = [0u8; 24];
        assert_eq!(string_key(&mut buf, b"key:", 42), b"key:000000000042");
    }

    #[test]
    fn every_request_is_one_well_formed_command() {
        for cmd in Command::ALL {
            for size in [32, 4096] {
                let w = cmd.workload(size, 64);
                assert!(w.len() >= 256 && w.len() % 2 == 0, "{cmd:?}");
                for i in [0, 1, w.len() - 1] {
                    let a = args(w.request(i));
                    let name = String::from_utf8(a[0].clone()).unwrap().to_lowercase();
                    assert!(cmd.requires().contains(&name.as_str()), "{cmd:?}: {name}");
                    if cmd.uses_value() && name != "lpop" && name != "get" {
                        assert_eq!(a.last().unwrap().len(), size, "{cmd:?}");
                    }
                }
                // The scanner agrees it is not a reply-shaped blob.
                assert!(matches!(
                    reply::scan(w.request(0)),
                    reply::Scan::Complete { .. }
                ));
            }
        }
    }

    #[test]
    fn mset_sets_ten_keys_and_lpush_lpop_pairs_share_a_list() {
        let w = Command::Mset.workload(32, 64);
        assert_eq!(args(w.request(3)).len(), 21);
        let w = Command::LpushLpop.workload(32, 64);
        for j in [0, 2, 10] {
            let push = args(w.request(j));
            let pop = args(w.request(j + 1));
            assert_eq!(push[0], b"LPUSH");
            assert_eq!(pop[0], b"LPOP");
            assert_eq!(push[1], pop[1]);
        }
    }

    #[test]
    fn both_servers_get_identical_rings() {
        let a = Command::Zadd.workload(32, 16);
        let b = Command::Zadd.workload(32, 16);
        assert_eq!(a.request(7), b.request(7));
    }
}
