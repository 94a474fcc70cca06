//! RDB snapshots against the real binaries: files redis-server 7.0.15
//! writes load into soquete with the same DEBUG DIGEST, files soquete
//! writes pass `redis-check-rdb` and load into redis-server with the same
//! digest, and a round trip through both keeps every key, value, type,
//! encoding and TTL. Then the save machinery: BGSAVE is a point-in-time
//! snapshot while writes go on, `-LOADING` while a file loads, save
//! points, SHUTDOWN and SIGTERM saving, MISCONF after a failed save,
//! corrupt and truncated files refused without touching the file.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use soquete_resp::Frame;
use soquete_testkit::frames::{info_field, int, text};
use soquete_testkit::wait::eventually;
use soquete_testkit::{Conn, ServerKind, ServerProcess, Signal};

const WAIT: Duration = Duration::from_secs(20);

fn start(kind: ServerKind, args: &[&str]) -> ServerProcess {
    ServerProcess::builder(kind)
        .args(["--enable-debug-command", "yes"])
        .args(args.iter().copied())
        .start()
}

/// A server whose working directory already holds `file` as `dump.rdb`,
/// so that it loads it at start-up.
fn start_with_file(kind: ServerKind, file: &[u8], args: &[&str]) -> ServerProcess {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dump.rdb"), file).unwrap();
    let dir_arg = dir.path().to_str().unwrap().to_string();
    let mut all = vec!["--dir", dir_arg.as_str()];
    all.extend_from_slice(args);
    let s = start(kind, &all);
    // The directory must outlive the server: hand it to the test's end.
    std::mem::forget(dir);
    s
}

fn info(c: &mut Conn, field: &str) -> String {
    let section = c.cmd(&["INFO", "everything"]);
    info_field(text(&section).as_bytes(), field).unwrap_or_else(|| panic!("no {field} in INFO"))
}

fn wait_loaded(c: &mut Conn) {
    eventually("the dataset to load", WAIT, || {
        (info(c, "loading") == "0").then_some(())
    });
}

fn wait_bgsave(c: &mut Conn) {
    eventually("the background save to end", WAIT, || {
        (info(c, "rdb_bgsave_in_progress") == "0").then_some(())
    });
}

fn digest(c: &mut Conn) -> String {
    text(&c.cmd(&["DEBUG", "DIGEST"]))
}

fn ok(c: &mut Conn, args: &[&str]) {
    let r = c.cmd(args);
    assert!(!matches!(r, Frame::Error(_)), "{args:?}: {r:?}");
}

/// Every type and encoding Redis 7.0 writes, small and large, in two
/// databases, with deadlines in the future and one key already past its
/// deadline when saved (active expiry off so it stays in the file).
fn populate(c: &mut Conn) {
    let big = "x".repeat(5000);
    let text_val = "soquete speaks the redis protocol; ".repeat(40);
    let binary: Vec<u8> = (0..300u32).map(|i| (i * 7919 % 251) as u8).collect();
    ok(c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    for (k, v) in [
        ("int8", "-100"),
        ("int16", "30000"),
        ("int32", "-2000000000"),
        ("int64", "9223372036854775807"),
        ("short", "hello"),
        ("leading-zero", "0123"),
        ("big", big.as_str()),
        ("compressible", text_val.as_str()),
    ] {
        ok(c, &["SET", k, v]);
    }
    c.cmd(&[b"SET".as_slice(), b"binary", &binary]);
    c.cmd(&[b"SET".as_slice(), &binary[..40], b"binary key"]);
    ok(c, &["RPUSH", "list-small", "a", "1", "-5", "hello"]);
    let many: Vec<String> = (0..3000).map(|i| format!("element-{i}")).collect();
    let mut cmd = vec!["RPUSH", "list-big"];
    cmd.extend(many.iter().map(String::as_str));
    ok(c, &cmd);
    ok(c, &["RPUSH", "list-plain", "a", &"y".repeat(9000), "b"]);
    ok(c, &["SADD", "set-int", "1", "2", "3", "-7", "100000"]);
    ok(c, &["SADD", "set-str", "a", "b", "c"]);
    let ints: Vec<String> = (0..600).map(|i| (i * 3).to_string()).collect();
    let mut cmd = vec!["SADD", "set-int-big"];
    cmd.extend(ints.iter().map(String::as_str));
    ok(c, &cmd);
    ok(c, &["HSET", "hash-small", "f", "v", "n", "12"]);
    let mut cmd = vec!["HSET", "hash-big"];
    let fields: Vec<String> = (0..300)
        .flat_map(|i| [format!("f{i}"), format!("v{i}")])
        .collect();
    cmd.extend(fields.iter().map(String::as_str));
    ok(c, &cmd);
    ok(c, &["HSET", "hash-long-value", "f", &"z".repeat(100)]);
    ok(
        c,
        &[
            "ZADD",
            "zset-small",
            "1",
            "a",
            "2.5",
            "b",
            "-inf",
            "c",
            "1e300",
            "d",
        ],
    );
    let members: Vec<String> = (0..300)
        .flat_map(|i| [format!("{}", i as f64 / 7.0), format!("m{i}")])
        .collect();
    let mut cmd = vec!["ZADD", "zset-big"];
    cmd.extend(members.iter().map(String::as_str));
    ok(c, &cmd);
    // Streams: several nodes, entries deleted inside a node and whole
    // nodes trimmed away, counters moved by XSETID, and an empty stream.
    ok(
        c,
        &[
            "EVAL",
            "for i=1,450 do redis.call('xadd', KEYS[1], i..'-'..(i%3), 'f'..(i%4), i, 'n', string.rep('v', i%50)) end",
            "1",
            "stream-big",
        ],
    );
    ok(c, &["XDEL", "stream-big", "200-2", "201-0", "450-0"]);
    ok(c, &["XTRIM", "stream-big", "MINID", "~", "150"]);
    ok(c, &["XADD", "stream-small", "5-1", "a", "1", "b", "2"]);
    ok(
        c,
        &[
            "XSETID",
            "stream-small",
            "9-9",
            "ENTRIESADDED",
            "40",
            "MAXDELETEDID",
            "7-7",
        ],
    );
    ok(c, &["XADD", "stream-empty", "1-1", "f", "v"]);
    ok(c, &["XDEL", "stream-empty", "1-1"]);
    // Consumer groups: pending entries owned by two consumers, one
    // consumer with none, a NOACK group, a group whose read counter is
    // unknown, and one on the empty stream.
    ok(c, &["XGROUP", "CREATE", "stream-big", "workers", "0"]);
    ok(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "workers",
            "alice",
            "COUNT",
            "30",
            "STREAMS",
            "stream-big",
            ">",
        ],
    );
    ok(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "workers",
            "bob",
            "COUNT",
            "7",
            "STREAMS",
            "stream-big",
            ">",
        ],
    );
    ok(
        c,
        &["XACK", "stream-big", "workers", "151-1", "152-2", "160-0"],
    );
    ok(
        c,
        &[
            "XCLAIM",
            "stream-big",
            "workers",
            "bob",
            "0",
            "170-2",
            "RETRYCOUNT",
            "9",
        ],
    );
    ok(
        c,
        &[
            "XGROUP",
            "CREATECONSUMER",
            "stream-big",
            "workers",
            "idle-one",
        ],
    );
    ok(
        c,
        &[
            "XGROUP",
            "CREATE",
            "stream-big",
            "audit",
            "$",
            "ENTRIESREAD",
            "500",
        ],
    );
    ok(c, &["XGROUP", "CREATE", "stream-big", "lagging", "0"]);
    ok(c, &["XGROUP", "SETID", "stream-big", "lagging", "300-1"]);
    ok(c, &["XGROUP", "CREATE", "stream-small", "g", "0"]);
    ok(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "NOACK",
            "STREAMS",
            "stream-small",
            ">",
        ],
    );
    ok(c, &["XGROUP", "CREATE", "stream-empty", "g", "$"]);
    ok(c, &["SET", "ttl-key", "v", "EX", "100000"]);
    ok(c, &["HSET", "ttl-hash", "a", "b"]);
    ok(c, &["PEXPIREAT", "ttl-hash", "4102444800000"]);
    ok(c, &["SET", "expired-soon", "v", "PX", "1"]);
    ok(c, &["SELECT", "3"]);
    ok(c, &["SET", "in-db-3", "three"]);
    ok(c, &["RPUSH", "list-db-3", "x"]);
    ok(c, &["SELECT", "0"]);
    // Let `expired-soon` pass its deadline.
    std::thread::sleep(Duration::from_millis(5));
}

/// XINFO STREAM FULL of each stream `populate` makes: the counters and
/// the consumer groups an RDB file carries besides the entries (their
/// times included: they are kept, not taken from the clock).
fn streams(c: &mut Conn) -> Vec<Frame> {
    ["stream-big", "stream-small", "stream-empty"]
        .iter()
        .flat_map(|k| {
            [
                c.cmd(&["XINFO", "STREAM", k]),
                c.cmd(&["XINFO", "STREAM", k, "FULL", "COUNT", "0"]),
            ]
        })
        .collect()
}

/// The snapshot a server writes: its `dir` and `dbfilename`.
fn rdb_file(c: &mut Conn) -> std::path::PathBuf {
    let dir = soquete_testkit::frames::items(c.cmd(&["CONFIG", "GET", "dir"]));
    let name = soquete_testkit::frames::items(c.cmd(&["CONFIG", "GET", "dbfilename"]));
    Path::new(&text(&dir[1])).join(text(&name[1]))
}

fn redis_check_rdb(path: &Path) -> String {
    let out = Command::new("redis-check-rdb")
        .arg(path)
        .output()
        .expect("redis-check-rdb runs (apt-get install redis-tools)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "redis-check-rdb failed:\n{text}");
    assert!(text.contains("RDB looks OK"), "{text}");
    text
}

/// Encodings and TTLs of every key of database 0, sorted by key.
fn shape(c: &mut Conn) -> Vec<(Vec<u8>, String, bool)> {
    let keys = soquete_testkit::frames::items(c.cmd(&["KEYS", "*"]));
    let mut out: Vec<(Vec<u8>, String, bool)> = keys
        .into_iter()
        .map(|k| {
            let k = k.as_bytes().unwrap().to_vec();
            let enc = text(&c.cmd(&[b"OBJECT".as_slice(), b"ENCODING", &k]));
            let ttl = int(&c.cmd(&[b"PTTL".as_slice(), &k]));
            (k, enc, ttl > 0)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_file_redis_writes_loads_with_the_same_digest() {
    let redis = start(ServerKind::Redis, &[]);
    let mut r = redis.connect();
    populate(&mut r);
    ok(&mut r, &["SAVE"]);
    let file = std::fs::read(redis.dir().join("dump.rdb")).unwrap();
    // Redis's own reload drops the key whose deadline passed: that is the
    // dataset both must have.
    ok(&mut r, &["DEBUG", "RELOAD", "NOSAVE"]);
    let (want, want_size) = (digest(&mut r), int(&r.cmd(&["DBSIZE"])));
    let soquete = start_with_file(ServerKind::Soquete, &file, &[]);
    let mut s = soquete.connect();
    wait_loaded(&mut s);
    assert_eq!(digest(&mut s), want);
    assert_eq!(int(&s.cmd(&["DBSIZE"])), want_size);
    assert_eq!(shape(&mut s), shape(&mut r));
    assert_eq!(streams(&mut s), streams(&mut r));
    assert_eq!(info(&mut s, "rdb_last_load_keys_expired"), "1");
    assert_eq!(
        info(&mut s, "rdb_last_load_keys_loaded"),
        (want_size + 2).to_string()
    );
}

#[test]
fn a_file_soquete_writes_passes_redis_check_rdb_and_loads_into_redis() {
    let soquete = start(ServerKind::Soquete, &[]);
    let mut s = soquete.connect();
    populate(&mut s);
    ok(&mut s, &["BGSAVE"]);
    wait_bgsave(&mut s);
    assert_eq!(info(&mut s, "rdb_last_bgsave_status"), "ok");
    let path = soquete.dir().join("dump.rdb");
    let report = redis_check_rdb(&path);
    assert!(report.contains("1 already expired"), "{report}");
    let file = std::fs::read(&path).unwrap();
    ok(&mut s, &["DEBUG", "RELOAD", "NOSAVE"]);
    let want = digest(&mut s);
    let redis = start_with_file(ServerKind::Redis, &file, &[]);
    let mut r = redis.connect();
    wait_loaded(&mut r);
    assert_eq!(digest(&mut r), want);
    assert_eq!(shape(&mut r), shape(&mut s));
    assert_eq!(streams(&mut r), streams(&mut s));
    // And back: what Redis writes of our data loads into soquete whole.
    ok(&mut r, &["SAVE"]);
    let again = std::fs::read(rdb_file(&mut r)).unwrap();
    let back = start_with_file(ServerKind::Soquete, &again, &[]);
    let mut b = back.connect();
    wait_loaded(&mut b);
    assert_eq!(digest(&mut b), want);
    assert_eq!(shape(&mut b), shape(&mut s));
    assert_eq!(streams(&mut b), streams(&mut s));
}

#[test]
fn debug_reload_keeps_the_dataset() {
    let soquete = start(ServerKind::Soquete, &[]);
    let mut s = soquete.connect();
    populate(&mut s);
    ok(&mut s, &["DEL", "expired-soon"]);
    let before = digest(&mut s);
    ok(&mut s, &["DEBUG", "RELOAD"]);
    assert_eq!(digest(&mut s), before);
    let r = s.cmd(&["DEBUG", "RELOAD", "BOGUS"]);
    assert_eq!(
        r,
        Frame::Error(
            "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.".into()
        )
    );
}

#[test]
fn bgsave_writes_the_dataset_as_it_was_when_it_started() {
    // 2000 keys at 500 µs each: the child takes about a second, while the
    // parent overwrites every key and adds new ones.
    let soquete = start(ServerKind::Soquete, &["--rdb-key-save-delay", "500"]);
    let mut s = soquete.connect();
    for i in 0..2000 {
        s.send_cmd(&["SET", &format!("k{i}"), "before"]);
    }
    for _ in 0..2000 {
        s.read_frame();
    }
    assert_eq!(text(&s.cmd(&["BGSAVE"])), "Background saving started");
    assert_eq!(
        s.cmd(&["BGSAVE"]),
        Frame::Error("ERR Background save already in progress".into())
    );
    assert_eq!(
        s.cmd(&["SAVE"]),
        Frame::Error("ERR Background save already in progress".into())
    );
    assert_eq!(info(&mut s, "rdb_bgsave_in_progress"), "1");
    assert_eq!(info(&mut s, "current_save_keys_total"), "2000");
    for i in 0..2000 {
        s.send_cmd(&["SET", &format!("k{i}"), "after"]);
        s.send_cmd(&["SET", &format!("new{i}"), "x"]);
    }
    for _ in 0..4000 {
        s.read_frame();
    }
    assert_eq!(
        info(&mut s, "rdb_bgsave_in_progress"),
        "1",
        "the save outlived the writes"
    );
    wait_bgsave(&mut s);
    assert_eq!(info(&mut s, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info(&mut s, "current_save_keys_total"), "0");
    assert!(int(&s.cmd(&["LASTSAVE"])) > 0);
    // The 4000 writes during the save are changes not yet saved.
    assert_eq!(info(&mut s, "rdb_changes_since_last_save"), "4000");
    let file = std::fs::read(soquete.dir().join("dump.rdb")).unwrap();
    let check = start_with_file(ServerKind::Soquete, &file, &[]);
    let mut c = check.connect();
    wait_loaded(&mut c);
    assert_eq!(int(&c.cmd(&["DBSIZE"])), 2000);
    for i in (0..2000).step_by(97) {
        assert_eq!(text(&c.cmd(&["GET", &format!("k{i}")])), "before");
    }
}

#[test]
fn clients_get_loading_errors_while_a_file_loads() {
    let source = start(ServerKind::Soquete, &[]);
    let mut s = source.connect();
    for i in 0..1500 {
        s.send_cmd(&["SET", &format!("k{i}"), "v"]);
    }
    for _ in 0..1500 {
        s.read_frame();
    }
    ok(&mut s, &["SAVE"]);
    let file = std::fs::read(source.dir().join("dump.rdb")).unwrap();
    // 1 ms per key: about a second and a half of loading.
    let loading = start_with_file(ServerKind::Soquete, &file, &["--key-load-delay", "1000"]);
    let mut c = loading.connect();
    assert_eq!(
        c.cmd(&["GET", "k1"]),
        Frame::Error("LOADING Redis is loading the dataset in memory".into())
    );
    assert_eq!(
        info(&mut c, "loading"),
        "1",
        "INFO is allowed while loading"
    );
    wait_loaded(&mut c);
    assert_eq!(text(&c.cmd(&["GET", "k1"])), "v");
    assert_eq!(int(&c.cmd(&["DBSIZE"])), 1500);
}

#[test]
fn a_save_point_starts_a_background_save() {
    let soquete = start(ServerKind::Soquete, &["--save", "1 2"]);
    let mut s = soquete.connect();
    ok(&mut s, &["SET", "a", "1"]);
    ok(&mut s, &["SET", "b", "2"]);
    eventually("a save point to fire", WAIT, || {
        (info(&mut s, "rdb_saves") != "0" && info(&mut s, "rdb_bgsave_in_progress") == "0")
            .then_some(())
    });
    assert_eq!(info(&mut s, "rdb_changes_since_last_save"), "0");
    redis_check_rdb(&soquete.dir().join("dump.rdb"));
}

#[test]
fn shutdown_and_sigterm_save_when_save_points_are_set() {
    for how in [
        "SHUTDOWN",
        "SIGTERM",
        "SHUTDOWN SAVE without points",
        "SHUTDOWN NOSAVE",
    ] {
        let points = if how == "SHUTDOWN SAVE without points" {
            ""
        } else {
            "3600 1"
        };
        let mut soquete = start(ServerKind::Soquete, &["--save", points]);
        let mut s = soquete.connect();
        ok(&mut s, &["SET", "kept", how]);
        match how {
            "SIGTERM" => soquete.signal(Signal::Term),
            "SHUTDOWN" => s.send_cmd(&["SHUTDOWN"]),
            "SHUTDOWN NOSAVE" => s.send_cmd(&["SHUTDOWN", "NOSAVE"]),
            _ => s.send_cmd(&["SHUTDOWN", "SAVE"]),
        }
        assert!(soquete.wait_exit(WAIT).success(), "{how}");
        let path = soquete.dir().join("dump.rdb");
        if how == "SHUTDOWN NOSAVE" {
            assert!(!path.exists(), "{how} wrote a file");
            continue;
        }
        let file = std::fs::read(&path).unwrap_or_else(|e| panic!("{how}: {e}"));
        let again = start_with_file(ServerKind::Soquete, &file, &[]);
        let mut c = again.connect();
        wait_loaded(&mut c);
        assert_eq!(text(&c.cmd(&["GET", "kept"])), how);
    }
}

#[test]
fn a_failed_background_save_refuses_writes_as_redis_does() {
    let mut answers = Vec::new();
    for kind in [ServerKind::Redis, ServerKind::Soquete] {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        std::fs::create_dir(&gone).unwrap();
        let server = start(kind, &["--save", "3600 1", "--dir", gone.to_str().unwrap()]);
        let mut c = server.connect();
        std::fs::remove_dir(&gone).unwrap();
        ok(&mut c, &["BGSAVE"]);
        eventually("the save to fail", WAIT, || {
            (info(&mut c, "rdb_last_bgsave_status") == "err").then_some(())
        });
        let mut seen = vec![
            c.cmd(&["SET", "k", "v"]),
            c.cmd(&["PING"]),
            c.cmd(&["GET", "k"]),
        ];
        seen.push(c.cmd(&["SAVE"]));
        seen.push(c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]));
        seen.push(c.cmd(&["SET", "k", "v"]));
        seen.push(c.cmd(&["SHUTDOWN"]));
        assert!(server.ping(Duration::from_secs(2)), "{kind:?} kept running");
        answers.push(seen);
    }
    assert!(matches!(&answers[1][0], Frame::Error(e) if e.starts_with(b"MISCONF")));
    assert_eq!(answers[0], answers[1]);
}

#[test]
fn corrupt_or_truncated_files_are_refused_and_kept() {
    let source = start(ServerKind::Soquete, &[]);
    let mut s = source.connect();
    populate(&mut s);
    ok(&mut s, &["SAVE"]);
    let file = std::fs::read(source.dir().join("dump.rdb")).unwrap();
    let mut flipped = file.clone();
    let at = file.len() / 2;
    flipped[at] ^= 0x5a;
    let truncated = &file[..file.len() - 20];
    for (name, bad) in [("corrupt", &flipped[..]), ("truncated", truncated)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dump.rdb");
        std::fs::write(&path, bad).unwrap();
        let result = ServerProcess::builder(ServerKind::Soquete)
            .args(["--dir", dir.path().to_str().unwrap(), "--save", "1 1"])
            .try_start();
        // It may answer briefly (-LOADING) before the error stops it.
        if let Ok(mut server) = result {
            let status = server.wait_exit(WAIT);
            assert!(!status.success(), "{name}: exited with {status}");
            assert!(
                server.output().contains("Fatal error loading the DB"),
                "{name}"
            );
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bad,
            "{name}: the file was changed"
        );
    }
}
