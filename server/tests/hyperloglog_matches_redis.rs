//! HyperLogLogs against real `redis-server` 7.0.15: the same elements give
//! the same bytes and the same counts (one key and unions), values move
//! between the servers through DUMP/RESTORE both ways and go on the same,
//! corrupted values get Redis's replies (and never a panic), and the
//! append-only file logs what Redis logs (PFCOUNT included, when it writes
//! its cache).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use soquete_resp::Frame;
use soquete_testkit::{Conn, ServerKind, ServerProcess};

fn servers(args: &[&str]) -> (ServerProcess, ServerProcess) {
    let redis = ServerProcess::builder(ServerKind::Redis)
        .args(args.iter().copied())
        .start();
    let ours = ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .args(args.iter().copied())
        .start();
    (redis, ours)
}

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn element(&mut self) -> Vec<u8> {
        let len = self.below(12) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Sends the same command to both and returns both replies.
fn both(r: &mut Conn, s: &mut Conn, args: &[Vec<u8>]) -> (Frame, Frame) {
    (r.cmd(args), s.cmd(args))
}

fn args(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

#[test]
fn pfcount_of_random_sets_equals_redis() {
    let (redis, ours) = servers(&[]);
    let (mut r, mut s) = (redis.connect(), ours.connect());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut keys = Vec::new();
    for set in 0..120 {
        let key = format!("hll{set}").into_bytes();
        // Sizes from empty to well past the sparse limit.
        let size = match set % 4 {
            0 => rng.below(10),
            1 => rng.below(300),
            2 => rng.below(3000),
            _ => rng.below(20000),
        };
        let mut left = size;
        loop {
            let n = left.min(200);
            let mut cmd = vec![b"PFADD".to_vec(), key.clone()];
            cmd.extend((0..n).map(|_| rng.element()));
            let (a, b) = both(&mut r, &mut s, &cmd);
            assert_eq!(a, b, "PFADD to {set} (size {size})");
            left -= n;
            if left == 0 {
                break;
            }
        }
        let count = args(&[b"PFCOUNT", &key]);
        let (a, b) = both(&mut r, &mut s, &count);
        assert_eq!(a, b, "PFCOUNT of set {set} (size {size})");
        let get = args(&[b"GET", &key]);
        let (a, b) = both(&mut r, &mut s, &get);
        assert_eq!(a, b, "bytes of set {set} (size {size})");
        keys.push(key);
    }
    // Unions of random groups, and the merges of the same groups.
    for round in 0..60 {
        let n = 2 + rng.below(5) as usize;
        let group: Vec<Vec<u8>> = (0..n)
            .map(|_| keys[rng.below(keys.len() as u64) as usize].clone())
            .collect();
        let mut cmd = vec![b"PFCOUNT".to_vec()];
        cmd.extend(group.iter().cloned());
        let (a, b) = both(&mut r, &mut s, &cmd);
        assert_eq!(a, b, "union {round}");
        let dest = format!("merged{round}").into_bytes();
        let mut cmd = vec![b"PFMERGE".to_vec(), dest.clone()];
        cmd.extend(group);
        let (a, b) = both(&mut r, &mut s, &cmd);
        assert_eq!(a, b, "PFMERGE {round}");
        for c in [&b"GET"[..], b"PFCOUNT"] {
            let (a, b) = both(&mut r, &mut s, &args(&[c, &dest]));
            assert_eq!(a, b, "{} of merge {round}", String::from_utf8_lossy(c));
        }
    }
}

fn bulk(f: Frame) -> Vec<u8> {
    match f {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("expected a bulk reply, got {other:?}"),
    }
}

/// Builds `key` on `src` with `build`, restores its DUMP as `copy` on
/// both servers, then checks that both go on the same with `more`.
fn travel(src: &mut Conn, dst: &mut Conn, key: &[u8], build: &[Vec<u8>], more: &[Vec<u8>]) {
    src.cmd(build);
    let payload = bulk(src.cmd(&args(&[b"DUMP", key])));
    for c in [&mut *src, &mut *dst] {
        let reply = c.cmd(&args(&[b"RESTORE", b"copy", b"0", &payload, b"REPLACE"]));
        assert_eq!(reply, Frame::Simple("OK".into()));
    }
    assert_eq!(
        dst.cmd(&args(&[b"GET", b"copy"])),
        src.cmd(&args(&[b"GET", key]))
    );
    for c in [
        args(&[b"PFCOUNT", b"copy"]),
        args(&[b"PFCOUNT", b"copy", key]),
        more.to_vec(),
        args(&[b"PFCOUNT", b"copy"]),
        args(&[b"GET", b"copy"]),
        args(&[b"PFDEBUG", b"ENCODING", b"copy"]),
        args(&[b"DUMP", b"copy"]),
    ] {
        assert_eq!(src.cmd(&c), dst.cmd(&c), "{c:?}");
    }
}

#[test]
fn hll_values_move_between_servers_by_dump_restore() {
    let (redis, ours) = servers(&[]);
    let (mut r, mut s) = (redis.connect(), ours.connect());
    let mut rng = Rng(42);
    for (i, size) in [0u64, 1, 40, 900, 5000].into_iter().enumerate() {
        let key = format!("k{i}").into_bytes();
        let mut build = vec![b"PFADD".to_vec(), key.clone()];
        build.extend((0..size).map(|_| rng.element()));
        let mut more = vec![b"PFADD".to_vec(), b"copy".to_vec()];
        more.extend((0..50).map(|_| rng.element()));
        travel(&mut r, &mut s, &key, &build, &more);
        travel(&mut s, &mut r, &key, &build, &more);
        let (a, b) = both(&mut r, &mut s, &args(&[b"DUMP", &key]));
        assert_eq!(a, b, "payloads of size {size}");
    }
}

/// A valid HyperLogLog's bytes, mutated: bytes changed, inserted,
/// removed, the tail cut, the cache marked valid.
fn mutate(mut v: Vec<u8>, edits: &[(u8, u16, u8)]) -> Vec<u8> {
    for &(kind, at, byte) in edits {
        let body = v.len().saturating_sub(16).max(1);
        let at = 16 + usize::from(at) % body;
        match kind % 6 {
            0 if at < v.len() => v[at] = byte,
            1 => v.insert(at.min(v.len()), byte),
            2 if at < v.len() => {
                v.remove(at);
            }
            3 => v.truncate(at),
            4 => v[15] &= 0x7f,
            _ => v[usize::from(byte) % 16] = byte,
        }
    }
    // Where the last opcode is an XZERO cut in half, Redis reads its
    // buffer past the string's end, and after a PFADD that splits it the
    // byte there is no longer the terminator: state no GET shows. Those
    // values are left out (the unit tests run them for panics).
    if v.len() > 16 && v[4] == 1 {
        let mut p = 16;
        while p < v.len() {
            p += if v[p] & 0xc0 == 0x40 { 2 } else { 1 };
        }
        if p > v.len() {
            v.push(0);
        }
    }
    v
}

#[test]
fn corrupted_values_get_redis_replies_and_never_panic() {
    let (redis, ours) = servers(&[]);
    let (mut r, mut s) = (redis.connect(), ours.connect());
    // Bases, on both servers: sparse of a few sizes, and dense.
    let mut bases = Vec::new();
    for (i, n) in [0usize, 3, 60, 400, 3000].into_iter().enumerate() {
        let key = format!("base{i}").into_bytes();
        let mut cmd = vec![b"PFADD".to_vec(), key.clone()];
        cmd.extend((0..n).map(|j| format!("e{j}").into_bytes()));
        both(&mut r, &mut s, &cmd);
        bases.push(bulk(r.cmd(&args(&[b"GET", &key]))));
    }
    let ops: Vec<Vec<Vec<u8>>> = vec![
        args(&[b"PFCOUNT", b"k"]),
        args(&[b"PFCOUNT", b"k", b"base3"]),
        args(&[b"PFADD", b"k", b"a", b"b", b"c", b"d", b"e", b"f"]),
        args(&[b"PFMERGE", b"d", b"k"]),
        args(&[b"PFMERGE", b"k", b"base2"]),
        args(&[b"PFDEBUG", b"DECODE", b"k"]),
        args(&[b"PFDEBUG", b"GETREG", b"k"]),
        args(&[b"PFDEBUG", b"TODENSE", b"k"]),
        args(&[b"PFDEBUG", b"ENCODING", b"k"]),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        0..bases.len(),
        proptest::collection::vec((any::<u8>(), any::<u16>(), any::<u8>()), 0..8),
        proptest::collection::vec(0..ops.len(), 1..6),
        prop_oneof![Just(3000u32), Just(0), Just(40), Just(200)],
    );
    // TestRunner takes a `Fn`: the connections live in a RefCell.
    let conns = std::cell::RefCell::new((r, s));
    let result = runner.run(&strategy, |(base, edits, picks, limit)| {
        let (r, s) = &mut *conns.borrow_mut();
        let value = mutate(bases[base].clone(), &edits);
        let limit = limit.to_string().into_bytes();
        for c in [
            args(&[b"DEL", b"k", b"d"]),
            args(&[b"SET", b"k", &value]),
            args(&[b"CONFIG", b"SET", b"hll-sparse-max-bytes", &limit]),
        ] {
            let (a, b) = both(r, s, &c);
            prop_assert_eq!(a, b);
        }
        for &i in &picks {
            for c in [&ops[i], &args(&[b"GET", b"k"]), &args(&[b"GET", b"d"])] {
                let (a, b) = both(r, s, c);
                if a != b {
                    return Err(TestCaseError::fail(format!(
                        "{c:?} on {value:?}: redis {a:?}, soquete {b:?}"
                    )));
                }
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The server is still there.
    let s = &mut conns.borrow_mut().1;
    assert_eq!(s.cmd(&["PING"]), Frame::Simple("PONG".into()));
}

#[test]
fn aof_logs_what_redis_logs_for_hll_commands() {
    let (redis, ours) = servers(&["--appendonly", "yes", "--appendfsync", "always"]);
    let (mut r, mut s) = (redis.connect(), ours.connect());
    let script: Vec<Vec<Vec<u8>>> = vec![
        args(&[b"PFADD", b"h", b"a", b"b"]),
        args(&[b"PFADD", b"h", b"a"]),       // no change: not logged
        args(&[b"PFCOUNT", b"h"]),           // writes its cache: logged
        args(&[b"PFCOUNT", b"h"]),           // cached: not logged
        args(&[b"PFCOUNT", b"h", b"nokey"]), // a union writes nothing
        args(&[b"PFMERGE", b"m", b"h"]),
        args(&[b"PFDEBUG", b"TODENSE", b"h"]), // encoding change: logged
        args(&[b"PFDEBUG", b"TODENSE", b"h"]), // already dense
        args(&[b"PFDEBUG", b"GETREG", b"m"]),  // converts m: logged
        args(&[b"SET", b"s", b"x"]),
        args(&[b"PFADD", b"s", b"x"]), // an error: not logged
    ];
    for c in &script {
        let (a, b) = both(&mut r, &mut s, c);
        assert_eq!(a, b, "{c:?}");
    }
    let incr = |p: &ServerProcess| -> Vec<u8> {
        let dir = p.dir().join("appendonlydir");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("appendonlydir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".incr.aof"))
            .collect();
        files.sort();
        files
            .iter()
            .flat_map(|f| std::fs::read(f).unwrap())
            .collect()
    };
    let (a, b) = (incr(&redis), incr(&ours));
    assert_eq!(
        String::from_utf8_lossy(&b),
        String::from_utf8_lossy(&a),
        "soquete's AOF (left) against Redis's"
    );
}

#[test]
fn pfselftest_passes_as_on_redis() {
    let (redis, ours) = servers(&[]);
    for server in [&redis, &ours] {
        let mut c = server.connect();
        // Fixed work that an unoptimised build needs seconds for.
        c.set_timeout(std::time::Duration::from_secs(120)).unwrap();
        assert_eq!(c.cmd(&["PFSELFTEST"]), Frame::Simple("OK".into()));
    }
}
