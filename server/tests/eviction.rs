//! `maxmemory` and eviction with real sockets: the dataset stays near the
//! limit while far more is written, for every policy; volatile policies
//! evict only keys with a deadline and refuse writes once none is left;
//! volatile-ttl takes the nearest deadlines first; LFU keeps hot keys;
//! `evicted_keys`, the `evicted` event, the append-only file and RDB's
//! IDLE/FREQ. Where the outcome does not depend on sampling luck, the same
//! check runs against real `redis-server` too.

use soquete_resp::Frame;
use soquete_testkit::wait::{eventually, DEADLINE};
use soquete_testkit::{Conn, ServerKind, ServerProcess};

fn start(kind: ServerKind, args: &[&str]) -> ServerProcess {
    let b = ServerProcess::builder(kind).args(args.iter().copied());
    match kind {
        ServerKind::Soquete => b.binary(env!("CARGO_BIN_EXE_soquete-server")).start(),
        ServerKind::Redis => b.start(),
    }
}

fn info_field(c: &mut Conn, section: &str, field: &str) -> String {
    let Frame::Bulk(text) = c.cmd(&["INFO", section]) else {
        panic!("INFO {section} is not a bulk string");
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_owned))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

fn used(c: &mut Conn) -> u64 {
    info_field(c, "memory", "used_memory").parse().unwrap()
}

fn evicted(c: &mut Conn) -> u64 {
    info_field(c, "stats", "evicted_keys").parse().unwrap()
}

fn int(f: Frame) -> i64 {
    match f {
        Frame::Integer(n) => n,
        other => panic!("not an integer: {other:?}"),
    }
}

/// Sends `cmds` in batches of 500 (one write each) and returns the replies.
fn pipeline(c: &mut Conn, cmds: &[Vec<String>]) -> Vec<Frame> {
    let mut out = Vec::with_capacity(cmds.len());
    for chunk in cmds.chunks(500) {
        let mut bytes = Vec::new();
        for cmd in chunk {
            bytes.extend(soquete_testkit::conn::command_bytes(cmd));
        }
        c.send(&bytes);
        for _ in chunk {
            out.push(c.read_frame());
        }
    }
    out
}

fn set_cmds(prefix: &str, n: usize, size: usize, ex: Option<u64>) -> Vec<Vec<String>> {
    (0..n)
        .map(|i| {
            let mut v = vec!["SET".to_string(), format!("{prefix}:{i}"), "x".repeat(size)];
            if let Some(s) = ex {
                v.extend(["EX".to_string(), (s + i as u64).to_string()]);
            }
            v
        })
        .collect()
}

/// Waits until every one of `written` keys is either there or counted in
/// `evicted_keys` (eviction may still be finishing a slice), and returns
/// (keys, evicted).
fn settled(c: &mut Conn, written: u64) -> (u64, u64) {
    eventually("keys and evicted_keys to add up", DEADLINE, || {
        let before = evicted(c);
        let keys = int(c.cmd(&["DBSIZE"])) as u64;
        (before == evicted(c) && keys + before == written).then_some((keys, before))
    })
}

fn is_oom(f: &Frame) -> bool {
    matches!(f, Frame::Error(e) if &e[..] == b"OOM command not allowed when used memory > 'maxmemory'.")
}

const POLICIES: [&str; 7] = [
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
];

#[test]
fn used_memory_stays_near_maxmemory_while_writing_far_more_under_every_policy() {
    for policy in POLICIES {
        let server = start(ServerKind::Soquete, &["--maxmemory-policy", policy]);
        let mut c = server.connect();
        let limit = used(&mut c) + 4 * 1024 * 1024;
        c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
        // About 25 MB of values: six times what fits. Every key has a
        // deadline, so the volatile policies may evict all of them.
        let cmds = set_cmds("k", 100_000, 250, Some(100_000));
        let replies = pipeline(&mut c, &cmds);
        let refused = replies.iter().filter(|f| is_oom(f)).count();
        assert_eq!(refused, 0, "{policy}: writes refused while keys could go");
        let now = used(&mut c);
        assert!(
            now <= limit + limit / 20,
            "{policy}: used_memory {now} is over maxmemory {limit} by more than 5%"
        );
        let (keys, _) = settled(&mut c, 100_000);
        assert!(keys > 1000 && keys < 50_000, "{policy}: {keys} keys left");
    }
}

#[test]
fn lowering_maxmemory_evicts_down_to_it() {
    let server = start(ServerKind::Soquete, &["--maxmemory-policy", "allkeys-lru"]);
    let mut c = server.connect();
    let base = used(&mut c);
    pipeline(&mut c, &set_cmds("k", 50_000, 200, None));
    let full = used(&mut c);
    let limit = base + (full - base) / 3;
    c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    // No command needs to arrive: the eviction timer gets there alone.
    let other = server.connect();
    drop(other);
    eventually("memory under the new limit", DEADLINE, || {
        (used(&mut c) <= limit).then_some(())
    });
    let keys = int(c.cmd(&["DBSIZE"]));
    assert!(keys < 25_000, "{keys} keys left");
}

/// Persistent keys, then keys with a deadline, then persistent writes
/// until the first -OOM: every key with a deadline must be gone by then,
/// every persistent key still there.
fn volatile_refuses_once_no_key_has_a_deadline(kind: ServerKind, policy: &str) {
    let server = start(kind, &["--maxmemory-policy", policy]);
    let mut c = server.connect();
    pipeline(&mut c, &set_cmds("p", 2000, 100, None));
    pipeline(&mut c, &set_cmds("v", 5000, 100, Some(10_000)));
    let limit = used(&mut c) + 256 * 1024;
    c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    let mut written = 0;
    let mut refused = false;
    for batch in 0..200 {
        let cmds = set_cmds(&format!("q{batch}"), 100, 1000, None);
        let replies = pipeline(&mut c, &cmds);
        // Counted by reply: a write after a refused one may pass again
        // once the allocator's figure moved.
        written += replies.iter().filter(|f| !is_oom(f)).count();
        if replies.iter().any(is_oom) {
            refused = true;
            break;
        }
    }
    assert!(refused, "{kind} {policy}: never refused a write");
    let expires = info_field(&mut c, "keyspace", "db0");
    assert!(
        expires.contains(",expires=0,"),
        "{kind} {policy}: keys with a deadline left when the first write was refused: {expires}"
    );
    let args: Vec<String> = std::iter::once("EXISTS".to_string())
        .chain((0..2000).map(|i| format!("p:{i}")))
        .collect();
    assert_eq!(
        int(c.cmd(&args)),
        2000,
        "{kind} {policy}: a persistent key was evicted"
    );
    assert_eq!(
        int(c.cmd(&["DBSIZE"])) as usize,
        2000 + written,
        "{kind} {policy}: writes that were not refused"
    );
    // Reads and deletions still run; writes are refused again (one may
    // pass first if the memory figure fell meanwhile: the pipeline's
    // reply buffers are freed once written, in both servers).
    assert_eq!(c.cmd(&["GET", "p:0"]), Frame::Bulk("x".repeat(100).into()));
    let value = "y".repeat(1000);
    assert!(
        (0..500).any(|i| is_oom(&c.cmd(&["SET", &format!("another:{i}"), value.as_str()]))),
        "{kind} {policy}: writes were not refused again"
    );
    assert_eq!(int(c.cmd(&["DEL", "p:0"])), 1);
}

#[test]
fn volatile_policies_evict_only_keys_with_a_deadline_and_then_refuse_writes() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        volatile_refuses_once_no_key_has_a_deadline(ServerKind::Redis, policy);
        volatile_refuses_once_no_key_has_a_deadline(ServerKind::Soquete, policy);
    }
}

/// Mean index (deadline order) of the evicted keys and of the survivors,
/// after taking a quarter of the room of 4000 keys with increasing
/// deadlines (which evicts more than a quarter of them: some of the memory
/// they took is tables and buffers that stay).
fn ttl_order(kind: ServerKind) -> (f64, f64) {
    let server = start(kind, &["--maxmemory-policy", "volatile-ttl"]);
    let mut c = server.connect();
    let base = used(&mut c);
    let n = 4000;
    pipeline(&mut c, &set_cmds("t", n, 200, Some(10_000)));
    let full = used(&mut c);
    let limit = full - (full - base) / 4;
    c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    eventually("memory under the limit", DEADLINE, || {
        (used(&mut c) <= limit).then_some(())
    });
    let cmds: Vec<Vec<String>> = (0..n)
        .map(|i| vec!["EXISTS".to_string(), format!("t:{i}")])
        .collect();
    let there = pipeline(&mut c, &cmds);
    let (mut gone, mut kept) = (Vec::new(), Vec::new());
    for (i, f) in there.into_iter().enumerate() {
        if int(f) == 1 {
            kept.push(i as f64);
        } else {
            gone.push(i as f64);
        }
    }
    assert!(
        !gone.is_empty() && !kept.is_empty(),
        "{kind}: nothing evicted"
    );
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    (mean(&gone), mean(&kept))
}

#[test]
fn volatile_ttl_evicts_the_nearest_deadlines_first() {
    for kind in [ServerKind::Redis, ServerKind::Soquete] {
        let (gone, kept) = ttl_order(kind);
        // Uniform picks would give both means ~2000; the exact order a
        // difference of 2000.
        assert!(
            kept - gone > 1000.0,
            "{kind}: mean index of evicted keys {gone}, of kept keys {kept}"
        );
    }
}

/// How many of 200 keys read 30 times each survive 20x their room in
/// cold keys written once.
fn hot_kept(kind: ServerKind) -> i64 {
    let server = start(kind, &["--maxmemory-policy", "allkeys-lfu"]);
    let mut c = server.connect();
    let limit = used(&mut c) + 3 * 1024 * 1024;
    c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    pipeline(&mut c, &set_cmds("hot", 200, 200, None));
    let reads: Vec<Vec<String>> = (0..30)
        .flat_map(|_| (0..200).map(|i| vec!["GET".to_string(), format!("hot:{i}")]))
        .collect();
    pipeline(&mut c, &reads);
    for batch in 0..20 {
        pipeline(&mut c, &set_cmds(&format!("cold{batch}"), 1000, 200, None));
    }
    let args: Vec<String> = std::iter::once("EXISTS".to_string())
        .chain((0..200).map(|i| format!("hot:{i}")))
        .collect();
    int(c.cmd(&args))
}

#[test]
fn lfu_keeps_hot_keys_while_cold_ones_stream_through() {
    for kind in [ServerKind::Redis, ServerKind::Soquete] {
        let kept = hot_kept(kind);
        assert!(kept >= 190, "{kind}: only {kept} of 200 hot keys kept");
    }
}

#[test]
fn evictions_are_counted_and_published_as_evicted_events() {
    let server = start(
        ServerKind::Soquete,
        &[
            "--maxmemory-policy",
            "allkeys-random",
            "--notify-keyspace-events",
            "Ee",
        ],
    );
    let mut sub = server.connect();
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]);
    let mut c = server.connect();
    // Some room above the tables the first keys of each shard allocate.
    let limit = used(&mut c) + 4 * 1024 * 1024;
    c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    pipeline(&mut c, &set_cmds("k", 40_000, 200, None));
    // The events wait in the subscriber's output buffer, which counts as
    // used memory: eviction would go on until the keys are all gone.
    c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
    let (_, n) = settled(&mut c, 40_000);
    assert!(n > 1000, "only {n} keys evicted");
    let mut seen = std::collections::HashSet::new();
    for _ in 0..n {
        let Frame::Array(m) = sub.read_frame() else {
            panic!("not a message");
        };
        assert_eq!(m[1], Frame::Bulk("__keyevent@0__:evicted".into()));
        let Frame::Bulk(key) = &m[2] else {
            panic!("no key")
        };
        seen.insert(key.to_vec());
    }
    assert_eq!(seen.len() as u64, n, "an evicted key was published twice");
    let some: Vec<u8> = seen.iter().next().unwrap().clone();
    assert_eq!(c.cmd(&[&b"EXISTS"[..], &some]), Frame::Integer(0));
    c.cmd(&["CONFIG", "RESETSTAT"]);
    assert_eq!(evicted(&mut c), 0);
}

#[test]
fn evicted_keys_are_deleted_in_the_append_only_file() {
    let server = start(
        ServerKind::Soquete,
        &[
            "--maxmemory-policy",
            "allkeys-lru",
            "--appendonly",
            "yes",
            "--enable-debug-command",
            "yes",
        ],
    );
    let mut c = server.connect();
    let limit = used(&mut c) + 2 * 1024 * 1024;
    c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    pipeline(&mut c, &set_cmds("k", 15_000, 200, None));
    c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
    let (_, n) = settled(&mut c, 15_000);
    assert!(n > 1000, "only {n} keys evicted");
    let keys = c.cmd(&["DBSIZE"]);
    let digest = c.cmd(&["DEBUG", "DIGEST"]);
    // Replaying the log takes seconds in a debug build on a busy machine.
    c.set_timeout(std::time::Duration::from_secs(60)).unwrap();
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), Frame::Simple("OK".into()));
    assert_eq!(c.cmd(&["DBSIZE"]), keys);
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]), digest);
}

/// OBJECT FREQ / IDLETIME of a key after DEBUG RELOAD: RDB files carry
/// FREQ under LFU policies and IDLE under LRU ones.
fn after_reload(kind: ServerKind, policy: &str, field: &str, restore: &[&str]) -> i64 {
    let server = start(
        kind,
        &[
            "--maxmemory-policy",
            policy,
            "--enable-debug-command",
            "yes",
        ],
    );
    let mut c = server.connect();
    let payload = b"\x00\x05hello\n\x00cr\xdfve4 \n";
    let mut args: Vec<&[u8]> = vec![b"RESTORE", b"k", b"0", payload];
    args.extend(restore.iter().map(|s| s.as_bytes()));
    assert_eq!(c.cmd(&args), Frame::Simple("OK".into()));
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), Frame::Simple("OK".into()));
    int(c.cmd(&["OBJECT", field, "k"]))
}

#[test]
fn rdb_files_keep_the_lfu_counter_and_the_idle_time() {
    for kind in [ServerKind::Redis, ServerKind::Soquete] {
        let freq = after_reload(kind, "allkeys-lfu", "FREQ", &["FREQ", "77"]);
        assert_eq!(freq, 77, "{kind}");
        let idle = after_reload(kind, "volatile-lru", "IDLETIME", &["IDLETIME", "5000"]);
        assert!((5000..=5002).contains(&idle), "{kind}: idle {idle}");
        // Other policies write neither: the key loads as fresh.
        let idle = after_reload(kind, "allkeys-random", "IDLETIME", &["IDLETIME", "5000"]);
        assert!(idle <= 2, "{kind}: idle {idle}");
    }
}

/// A server of `kind` started on `file` as its `dump.rdb`.
fn start_on_file(
    kind: ServerKind,
    file: &[u8],
    args: &[&str],
) -> (ServerProcess, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dump.rdb"), file).unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let mut all = vec!["--dir", d.as_str()];
    all.extend_from_slice(args);
    (start(kind, &all), dir)
}

#[test]
fn lfu_counters_and_idle_times_cross_between_servers_in_rdb_files() {
    for (policy, field, opt) in [
        ("allkeys-lfu", "FREQ", "FREQ"),
        ("allkeys-lru", "IDLETIME", "IDLETIME"),
    ] {
        let soquete = start(ServerKind::Soquete, &["--maxmemory-policy", policy]);
        let mut s = soquete.connect();
        let payload = b"\x00\x05hello\n\x00cr\xdfve4 \n";
        for (key, value) in [("a", "40"), ("b", "200")] {
            let args: [&[u8]; 6] = [
                b"RESTORE",
                key.as_bytes(),
                b"0",
                payload,
                opt.as_bytes(),
                value.as_bytes(),
            ];
            assert_eq!(s.cmd(&args), Frame::Simple("OK".into()));
        }
        assert_eq!(s.cmd(&["SAVE"]), Frame::Simple("OK".into()));
        let file = std::fs::read(soquete.dir().join("dump.rdb")).unwrap();
        let (redis, _dir) =
            start_on_file(ServerKind::Redis, &file, &["--maxmemory-policy", policy]);
        let mut r = redis.connect();
        eventually("redis to load the file", DEADLINE, || {
            (info_field(&mut r, "persistence", "loading") == "0").then_some(())
        });
        for (key, value) in [("a", 40), ("b", 200)] {
            let got = int(r.cmd(&["OBJECT", field, key]));
            assert!(
                (value..=value + 2).contains(&got),
                "{policy}: redis reads OBJECT {field} {key} = {got}, soquete wrote {value}"
            );
        }
    }
}

#[test]
fn loops_evicting_at_once_keep_the_limit_with_lazy_freeing() {
    let server = start(
        ServerKind::Soquete,
        &[
            "--threads",
            "4",
            "--maxmemory-policy",
            "allkeys-lru",
            "--lazyfree-lazy-eviction",
            "yes",
        ],
    );
    let mut c = server.connect();
    let limit = used(&mut c) + 8 * 1024 * 1024;
    c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    std::thread::scope(|s| {
        for t in 0..4 {
            let server = &server;
            s.spawn(move || {
                let mut w = server.connect();
                // Hashes of 100 fields: freed on the lazy-free thread.
                let cmds: Vec<Vec<String>> = (0..1500)
                    .map(|i| {
                        let mut v = vec!["HSET".to_string(), format!("h{t}:{i}")];
                        for f in 0..100 {
                            v.extend([format!("f{f}"), "v".repeat(20)]);
                        }
                        v
                    })
                    .collect();
                let replies = pipeline(&mut w, &cmds);
                assert!(replies.iter().all(|f| !is_oom(f)), "a write was refused");
            });
        }
    });
    eventually("memory under the limit", DEADLINE, || {
        (used(&mut c) <= limit + limit / 20).then_some(())
    });
    c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
    let (keys, n) = settled(&mut c, 6000);
    assert!(n > 1000 && keys > 100, "{keys} keys left, {n} evicted");
}
