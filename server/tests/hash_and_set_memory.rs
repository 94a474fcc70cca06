//! Resident memory of hashes and sets, soquete against real `redis-server`,
//! same load into fresh servers, same run. A measurement, so it is ignored by
//! default; run it on a release build:
//!
//! ```sh
//! cargo test --release -p soquete-server --test hash_and_set_memory -- --ignored --nocapture
//! ```
//!
//! Each dataset is 10,000 keys of 100 elements, loaded with pipelined
//! commands; the figure is RSS after loading minus RSS of the empty server
//! (both settled: the lowest of a few reads). The test fails if soquete
//! needs more than Redis for any dataset marked as a goal; a set of
//! widely spread integers, where both store 4 bytes a member and only the
//! per-key overheads differ, is reported for information.

use std::time::Duration;

use soquete_testkit::conn::command_bytes;
use soquete_testkit::{ServerKind, ServerProcess};

const KEYS: usize = 10_000;
const ELEMENTS: usize = 100;

/// One dataset: a name and, for key `i`, the commands that build it.
struct Dataset {
    name: &'static str,
    commands: fn(usize) -> Vec<Vec<Vec<u8>>>,
    /// Whether soquete must stay at or below Redis; the others are reported
    /// for information.
    goal: bool,
}

/// `prefix` then `i` zero-padded to exactly `len` bytes.
fn padded(prefix: &str, i: usize, len: usize) -> Vec<u8> {
    let s = format!("{prefix}{i:0w$}", w = len - prefix.len());
    assert_eq!(s.len(), len);
    s.into_bytes()
}

fn field(j: usize) -> Vec<u8> {
    padded("field:", j, 16)
}

fn value(i: usize, j: usize) -> Vec<u8> {
    padded("value:", i * ELEMENTS + j, 32)
}

/// HSET key f1 v1 ... f100 v100 (16-byte fields, 32-byte values).
fn hashes_bulk(i: usize) -> Vec<Vec<Vec<u8>>> {
    let mut c = vec![b"HSET".to_vec(), padded("hash:", i, 16)];
    for j in 0..ELEMENTS {
        c.push(field(j));
        c.push(value(i, j));
    }
    vec![c]
}

/// The same hash built one HSET per field (a hash that grows over time).
fn hashes_one_by_one(i: usize) -> Vec<Vec<Vec<u8>>> {
    (0..ELEMENTS)
        .map(|j| {
            vec![
                b"HSET".to_vec(),
                padded("hash:", i, 16),
                field(j),
                value(i, j),
            ]
        })
        .collect()
}

/// SADD key with 100 members of `len` bytes.
fn set_of(i: usize, len: usize) -> Vec<Vec<Vec<u8>>> {
    let mut c = vec![b"SADD".to_vec(), padded("set:", i, 16)];
    c.extend((0..ELEMENTS).map(|j| padded("member:", i * ELEMENTS + j, len)));
    vec![c]
}

fn sets_16(i: usize) -> Vec<Vec<Vec<u8>>> {
    set_of(i, 16)
}

fn sets_32(i: usize) -> Vec<Vec<Vec<u8>>> {
    set_of(i, 32)
}

/// SADD key with 100 consecutive integers (an intset in both servers).
fn sets_int(i: usize) -> Vec<Vec<Vec<u8>>> {
    let mut c = vec![b"SADD".to_vec(), padded("set:", i, 16)];
    c.extend((0..ELEMENTS).map(|j| (i * ELEMENTS + j).to_string().into_bytes()));
    vec![c]
}

/// SADD key with 100 integers spread over 32 bits (Redis and soquete both
/// need 4 bytes a member).
fn sets_int_spread(i: usize) -> Vec<Vec<Vec<u8>>> {
    let mut c = vec![b"SADD".to_vec(), padded("set:", i, 16)];
    c.extend((0..ELEMENTS).map(|j| {
        let x = ((i * ELEMENTS + j) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 33;
        x.to_string().into_bytes()
    }));
    vec![c]
}

const DATASETS: &[Dataset] = &[
    Dataset {
        name: "hashes: 100 fields (16 B) x 32 B values, one HSET per key",
        commands: hashes_bulk,
        goal: true,
    },
    Dataset {
        name: "hashes: the same, one HSET per field",
        commands: hashes_one_by_one,
        goal: true,
    },
    Dataset {
        name: "sets: 100 members of 16 B",
        commands: sets_16,
        goal: true,
    },
    Dataset {
        name: "sets: 100 members of 32 B",
        commands: sets_32,
        goal: true,
    },
    Dataset {
        name: "sets: 100 consecutive integers (intset)",
        commands: sets_int,
        goal: true,
    },
    Dataset {
        name: "sets: 100 integers spread over 32 bits (intset)",
        commands: sets_int_spread,
        goal: false,
    },
];

/// Loads `d` into `s` (pipelined, 100 keys per batch, one-field commands
/// interleaved across keys as a live workload would) and returns the RSS
/// growth.
fn load(s: &ServerProcess, d: &Dataset) -> u64 {
    let mut c = s.connect();
    c.set_timeout(Duration::from_secs(60)).unwrap();
    let empty = s.settled_rss_bytes().expect("read RSS");
    for batch in (0..KEYS).collect::<Vec<_>>().chunks(100) {
        let per_key: Vec<Vec<Vec<Vec<u8>>>> = batch.iter().map(|&i| (d.commands)(i)).collect();
        let rounds = per_key[0].len();
        let mut buf = Vec::new();
        let mut sent = 0;
        for r in 0..rounds {
            for cmds in &per_key {
                buf.extend_from_slice(&command_bytes(&cmds[r]));
                sent += 1;
            }
        }
        c.send(&buf);
        for _ in 0..sent {
            let reply = c.read_reply();
            assert!(!reply.is_error(), "{}: {:?}", d.name, reply.frame);
        }
    }
    let dbsize = c.cmd(&["DBSIZE"]);
    assert_eq!(
        dbsize,
        soquete_resp::Frame::Integer(KEYS as i64),
        "{}",
        d.name
    );
    s.settled_rss_bytes()
        .expect("read RSS")
        .saturating_sub(empty)
}

#[test]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
fn hashes_and_sets_use_no_more_memory_than_redis() {
    let mib = |b: u64| b as f64 / 1048576.0;
    let mut worse = Vec::new();
    for d in DATASETS {
        let redis = ServerProcess::redis();
        let r = load(&redis, d);
        drop(redis);
        let ours = ServerProcess::builder(ServerKind::Soquete)
            .binary(env!("CARGO_BIN_EXE_soquete-server"))
            .start();
        let s = load(&ours, d);
        drop(ours);
        let ratio = s as f64 / r as f64;
        println!(
            "{:<58} redis +{:>6.1} MiB  soquete +{:>6.1} MiB  soquete/redis = {ratio:.2}{}",
            d.name,
            mib(r),
            mib(s),
            if d.goal { "" } else { "  (information)" }
        );
        if ratio > 1.0 && d.goal {
            worse.push(d.name);
        }
    }
    assert!(
        worse.is_empty(),
        "soquete uses more memory than redis for {worse:?}"
    );
}
