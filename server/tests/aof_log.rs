//! The append-only file against the real binaries and against crashes:
//! the multi-part log soquete writes passes `redis-check-aof` and loads
//! into redis-server 7.0.15 with the same DEBUG DIGEST (and Redis's log
//! loads into soquete the same way); every write a client saw
//! acknowledged survives `kill -9` with `appendfsync always` (and, since
//! the log is written before replies go out, with `everysec` too); a torn
//! last record is cut off when `aof-load-truncated` allows it and refused
//! otherwise; `CONFIG SET appendonly yes` and BGREWRITEAOF rewrite the
//! base while writes go on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use soquete_resp::Frame;
use soquete_testkit::frames::{info_field, int, text};
use soquete_testkit::wait::eventually;
use soquete_testkit::{Conn, ServerKind, ServerProcess, Signal};

const WAIT: Duration = Duration::from_secs(20);

/// A server whose `dir` is `dir` (which outlives it, for a restart),
/// once it has loaded what is there (it answers `-LOADING` until then).
fn start_in(kind: ServerKind, dir: &Path, args: &[&str]) -> ServerProcess {
    let server = ServerProcess::builder(kind)
        .args([
            "--enable-debug-command",
            "yes",
            "--dir",
            dir.to_str().unwrap(),
        ])
        .args(args.iter().copied())
        .start();
    wait_loaded(&mut server.connect());
    server
}

fn info(c: &mut Conn, field: &str) -> String {
    let all = c.cmd(&["INFO", "everything"]);
    info_field(text(&all).as_bytes(), field).unwrap_or_else(|| panic!("no {field} in INFO"))
}

fn wait_loaded(c: &mut Conn) {
    eventually("the dataset to load", WAIT, || {
        (info(c, "loading") == "0").then_some(())
    });
}

fn wait_rewrite(c: &mut Conn) {
    eventually("the rewrite to end", WAIT, || {
        (info(c, "aof_rewrite_in_progress") == "0" && info(c, "aof_rewrite_scheduled") == "0")
            .then_some(())
    });
}

fn ok(c: &mut Conn, args: &[&str]) -> Frame {
    let r = c.cmd(args);
    assert!(!matches!(r, Frame::Error(_)), "{args:?}: {r:?}");
    r
}

fn digest(c: &mut Conn) -> String {
    text(&c.cmd(&["DEBUG", "DIGEST"]))
}

fn check_aof(dir: &Path) -> String {
    let manifest = dir.join("appendonlydir").join("appendonly.aof.manifest");
    let out = Command::new("redis-check-aof")
        .arg(&manifest)
        .output()
        .expect("redis-check-aof runs (apt-get install redis-tools)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "redis-check-aof failed:\n{text}");
    assert!(
        text.contains("All AOF files and manifest are valid"),
        "{text}"
    );
    text
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Writes that Redis logs in another form than they were sent: relative
/// expiries, INCRBYFLOAT, SPOP, GETEX/GETDEL, the M-pops, a blocked pop
/// served by a push from another client, a transaction across databases.
fn write_everything(server: &ServerProcess) {
    let mut c = server.connect();
    ok(&mut c, &["SET", "plain", "v"]);
    ok(&mut c, &["SET", "ex", "v", "EX", "1000"]);
    ok(&mut c, &["SETEX", "setex", "1000", "v"]);
    ok(&mut c, &["SET", "getset", "a", "GET"]);
    ok(&mut c, &["SET", "n", "10"]);
    ok(&mut c, &["EXPIRE", "n", "5000"]);
    ok(&mut c, &["INCRBYFLOAT", "float", "1.1"]);
    ok(&mut c, &["INCRBYFLOAT", "float", "2.0e2"]);
    ok(&mut c, &["HSET", "h", "f", "1"]);
    ok(&mut c, &["HINCRBYFLOAT", "h", "f", "0.25"]);
    let members: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    let mut sadd = vec!["SADD", "set"];
    sadd.extend(members.iter().map(String::as_str));
    ok(&mut c, &sadd);
    ok(&mut c, &["SPOP", "set"]);
    ok(&mut c, &["SPOP", "set", "7"]);
    ok(&mut c, &["SADD", "small", "a", "b"]);
    ok(&mut c, &["SPOP", "small", "5"]);
    ok(&mut c, &["SET", "gone", "v"]);
    ok(&mut c, &["GETDEL", "gone"]);
    ok(&mut c, &["SET", "gex", "v"]);
    ok(&mut c, &["GETEX", "gex", "PX", "900000"]);
    ok(&mut c, &["RPUSH", "list", "a", "b", "c", "d", "e"]);
    ok(&mut c, &["LMPOP", "1", "list", "LEFT", "COUNT", "2"]);
    ok(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    ok(&mut c, &["ZMPOP", "1", "z", "MAX", "COUNT", "2"]);
    ok(&mut c, &["BZPOPMIN", "z", "0"]);
    ok(&mut c, &["SET", "past", "v"]);
    ok(&mut c, &["PEXPIREAT", "past", "1000"]);
    // A blocked pop served by another client's push.
    let mut waiter = server.connect();
    waiter.send_cmd(&["BLPOP", "queue", "0"]);
    eventually("the pop to block", WAIT, || {
        (info(&mut c, "blocked_clients") == "1").then_some(())
    });
    ok(&mut c, &["RPUSH", "queue", "x", "y"]);
    assert_eq!(
        waiter.read_frame(),
        Frame::Array(vec![Frame::Bulk("queue".into()), Frame::Bulk("x".into())])
    );
    ok(&mut c, &["MULTI"]);
    c.cmd(&["SET", "tx", "1"]);
    c.cmd(&["SELECT", "2"]);
    c.cmd(&["INCR", "tx2"]);
    c.cmd(&["LPUSH", "l2", "a"]);
    ok(&mut c, &["EXEC"]);
    ok(&mut c, &["SELECT", "0"]);
    ok(&mut c, &["FLUSHDB"]);
    ok(&mut c, &["SET", "after-flush", "v"]);
}

#[test]
fn redis_loads_the_log_soquete_writes_and_the_other_way_round() {
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    // soquete writes; Redis loads it.
    let soquete = start_in(
        ServerKind::Soquete,
        dirs[0].path(),
        &["--appendonly", "yes"],
    );
    write_everything(&soquete);
    let mut s = soquete.connect();
    let want = digest(&mut s);
    assert_eq!(info(&mut s, "aof_enabled"), "1");
    check_aof(dirs[0].path());
    copy_dir(
        &dirs[0].path().join("appendonlydir"),
        &dirs[1].path().join("appendonlydir"),
    );
    let redis = start_in(ServerKind::Redis, dirs[1].path(), &["--appendonly", "yes"]);
    let mut r = redis.connect();
    wait_loaded(&mut r);
    assert_eq!(digest(&mut r), want, "Redis loaded soquete's log");
    // Redis writes the same commands; soquete loads its log.
    let redis2 = start_in(ServerKind::Redis, dirs[2].path(), &["--appendonly", "yes"]);
    write_everything(&redis2);
    let mut r2 = redis2.connect();
    let redis_digest = digest(&mut r2);
    drop(redis2);
    copy_dir(
        &dirs[2].path().join("appendonlydir"),
        &dirs[3].path().join("appendonlydir"),
    );
    let soquete2 = start_in(
        ServerKind::Soquete,
        dirs[3].path(),
        &["--appendonly", "yes"],
    );
    let mut s2 = soquete2.connect();
    wait_loaded(&mut s2);
    assert_eq!(digest(&mut s2), redis_digest, "soquete loaded Redis's log");
}

#[test]
fn a_restart_after_a_rewrite_keeps_everything_and_the_old_files_go() {
    let dir = tempfile::tempdir().unwrap();
    let soquete = start_in(ServerKind::Soquete, dir.path(), &["--appendonly", "yes"]);
    write_everything(&soquete);
    let mut s = soquete.connect();
    assert_eq!(
        text(&ok(&mut s, &["BGREWRITEAOF"])),
        "Background append only file rewriting started"
    );
    wait_rewrite(&mut s);
    assert_eq!(info(&mut s, "aof_last_bgrewrite_status"), "ok");
    ok(&mut s, &["SET", "after-rewrite", "v"]);
    let want = digest(&mut s);
    let names: Vec<String> = std::fs::read_dir(dir.path().join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "appendonly.aof.2.base.rdb",
            "appendonly.aof.2.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    check_aof(dir.path());
    drop(s);
    soquete.stop().unwrap();
    let again = start_in(ServerKind::Soquete, dir.path(), &["--appendonly", "yes"]);
    let mut a = again.connect();
    wait_loaded(&mut a);
    assert_eq!(digest(&mut a), want);
}

#[test]
fn appendonly_turned_on_at_run_time_logs_from_a_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let soquete = start_in(ServerKind::Soquete, dir.path(), &[]);
    let mut s = soquete.connect();
    for i in 0..500 {
        s.send_cmd(&["SET", &format!("before{i}"), "v"]);
    }
    for _ in 0..500 {
        s.read_frame();
    }
    ok(&mut s, &["CONFIG", "SET", "appendonly", "yes"]);
    ok(&mut s, &["SET", "during", "v"]);
    wait_rewrite(&mut s);
    ok(&mut s, &["SET", "after", "v"]);
    let want = digest(&mut s);
    check_aof(dir.path());
    drop(s);
    soquete.stop().unwrap();
    let again = start_in(ServerKind::Soquete, dir.path(), &["--appendonly", "yes"]);
    let mut a = again.connect();
    wait_loaded(&mut a);
    assert_eq!(digest(&mut a), want);
    assert_eq!(int(&a.cmd(&["DBSIZE"])), 502);
}

/// Writes from `clients` connections until the server dies (killed after
/// `after`, once more than 200 writes were acknowledged), then returns
/// every key whose SET was acknowledged.
fn write_until_killed(server: &mut ServerProcess, clients: usize, after: Duration) -> Vec<String> {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let addr = server.addr();
    let writers: Vec<_> = (0..clients)
        .map(|w| {
            let acked = acked.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let Ok(mut c) = Conn::connect(addr) else {
                    return;
                };
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let key = format!("w{w}:{i}");
                    match c.try_cmd(&["SET", key.as_str(), "v"]) {
                        Ok(r) if !r.is_error() => acked.lock().unwrap().push(key),
                        _ => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(after);
    // On a slow disk (fsync per write, other work on the machine) the
    // moment may come before enough writes to mean anything: wait for
    // them, then kill.
    eventually("enough acknowledged writes", WAIT, || {
        (acked.lock().unwrap().len() > 200).then_some(())
    });
    server.signal(Signal::Kill);
    let _ = server.wait_exit(WAIT);
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let keys = acked.lock().unwrap().clone();
    keys
}

fn durability(fsync: &str) {
    for round in 0..3u64 {
        let dir = tempfile::tempdir().unwrap();
        let args = ["--appendonly", "yes", "--appendfsync", fsync];
        let mut server = start_in(ServerKind::Soquete, dir.path(), &args);
        // A different moment each round.
        let after = Duration::from_millis(150 + 170 * round);
        let acked = write_until_killed(&mut server, 8, after);
        assert!(
            acked.len() > 100,
            "too few writes to mean anything: {}",
            acked.len()
        );
        let again = start_in(ServerKind::Soquete, dir.path(), &args);
        let mut c = again.connect();
        wait_loaded(&mut c);
        let mut missing = Vec::new();
        for chunk in acked.chunks(500) {
            let mut cmd = vec!["EXISTS"];
            cmd.extend(chunk.iter().map(String::as_str));
            let n = int(&c.cmd(&cmd)) as usize;
            if n != chunk.len() {
                for k in chunk {
                    if int(&c.cmd(&["EXISTS", k])) == 0 {
                        missing.push(k.clone());
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "appendfsync {fsync}, round {round}: {} of {} acknowledged writes lost after kill -9, e.g. {:?}",
            missing.len(),
            acked.len(),
            &missing[..missing.len().min(5)]
        );
    }
}

#[test]
fn every_acknowledged_write_survives_kill_9_with_appendfsync_always() {
    durability("always");
}

#[test]
fn acknowledged_writes_survive_kill_9_with_everysec_as_they_reach_the_kernel_first() {
    durability("everysec");
}

fn incr_path(dir: &Path) -> PathBuf {
    dir.join("appendonlydir").join("appendonly.aof.1.incr.aof")
}

/// A log holding `SET kept v`, written by a server since stopped, with
/// `tail` appended to its increment: the directory, the increment's path
/// and its bytes before the tail.
fn log_with_tail(tail: &[u8]) -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let soquete = start_in(ServerKind::Soquete, dir.path(), &["--appendonly", "yes"]);
    let mut s = soquete.connect();
    ok(&mut s, &["SET", "kept", "v"]);
    drop(s);
    soquete.stop().unwrap();
    let path = incr_path(dir.path());
    let whole = std::fs::read(&path).unwrap();
    let mut torn = whole.clone();
    torn.extend_from_slice(tail);
    std::fs::write(&path, &torn).unwrap();
    (dir, path, whole)
}

#[test]
fn a_torn_last_record_is_cut_off_only_when_allowed() {
    let (dir, path, whole) = log_with_tail(b"*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$1");
    let torn = std::fs::read(&path).unwrap();
    // Not allowed: the server refuses to start and leaves the file alone.
    let refused = ServerProcess::builder(ServerKind::Soquete)
        .args(["--dir", dir.path().to_str().unwrap(), "--appendonly", "yes"])
        .args(["--aof-load-truncated", "no"])
        .try_start();
    if let Ok(mut server) = refused {
        assert!(!server.wait_exit(WAIT).success());
        assert!(
            server.output().contains("Unexpected end of file"),
            "{}",
            server.output()
        );
    }
    assert_eq!(std::fs::read(&path).unwrap(), torn);
    // Allowed (the default): the torn record goes, the rest loads.
    let again = start_in(ServerKind::Soquete, dir.path(), &["--appendonly", "yes"]);
    let mut c = again.connect();
    wait_loaded(&mut c);
    assert_eq!(text(&c.cmd(&["GET", "kept"])), "v");
    assert_eq!(c.cmd(&["EXISTS", "lost"]), Frame::Integer(0));
    assert_eq!(std::fs::read(&path).unwrap(), whole);
    check_aof(dir.path());
}

#[test]
fn an_unfinished_transaction_at_the_end_is_reverted() {
    let (dir, path, whole) =
        log_with_tail(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$1\r\nv\r\n");
    let started = Instant::now();
    let again = start_in(ServerKind::Soquete, dir.path(), &["--appendonly", "yes"]);
    let mut c = again.connect();
    wait_loaded(&mut c);
    assert!(started.elapsed() < WAIT);
    assert_eq!(c.cmd(&["EXISTS", "half"]), Frame::Integer(0));
    assert_eq!(std::fs::read(&path).unwrap(), whole);
}

#[test]
fn debug_loadaof_and_timestamps_replay_the_same_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--appendonly", "yes", "--aof-timestamp-enabled", "yes"];
    let soquete = start_in(ServerKind::Soquete, dir.path(), &args);
    write_everything(&soquete);
    let mut s = soquete.connect();
    let want = digest(&mut s);
    ok(&mut s, &["DEBUG", "LOADAOF"]);
    assert_eq!(digest(&mut s), want);
    let log = std::fs::read(incr_path(dir.path())).unwrap();
    assert!(log.starts_with(b"#TS:"), "annotated: {:?}", &log[..20]);
    check_aof(dir.path());
    drop(s);
    soquete.stop().unwrap();
    let again = start_in(ServerKind::Soquete, dir.path(), &args);
    assert_eq!(digest(&mut again.connect()), want);
}

#[test]
fn the_log_rewrites_itself_when_it_doubles() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--appendonly",
        "yes",
        "--auto-aof-rewrite-min-size",
        "64kb",
        "--auto-aof-rewrite-percentage",
        "100",
    ];
    let soquete = start_in(ServerKind::Soquete, dir.path(), &args);
    let mut s = soquete.connect();
    assert_eq!(info(&mut s, "aof_rewrites"), "0");
    let value = "v".repeat(100);
    for i in 0..2000 {
        s.send_cmd(&["SET", &format!("k{}", i % 50), value.as_str()]);
    }
    for _ in 0..2000 {
        s.read_frame();
    }
    eventually("an automatic rewrite", WAIT, || {
        (info(&mut s, "aof_rewrites") != "0").then_some(())
    });
    // The rewritten log holds 50 keys, far less than the 2,000 SETs. A
    // rewrite that started early (a slow machine) leaves the later SETs in
    // the new increment, more than twice the new base: the log rewrites
    // itself again, and ends small all the same.
    eventually("the log to shrink to its 50 keys", WAIT, || {
        let size: u64 = info(&mut s, "aof_current_size").parse().unwrap();
        let idle = info(&mut s, "aof_rewrite_in_progress") == "0"
            && info(&mut s, "aof_rewrite_scheduled") == "0";
        (idle && size < 64 * 1024).then_some(())
    });
    check_aof(dir.path());
}

/// A server of `kind` in a directory of its own, logging every write
/// with `appendfsync always` and saving no snapshots.
fn start_logging_always(kind: ServerKind) -> (tempfile::TempDir, ServerProcess) {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
    ];
    let server = start_in(kind, dir.path(), &args);
    (dir, server)
}

/// The increment files Redis and soquete write for the same `commands`
/// (none may fail) with `appendfsync always`, times in ms as `<ms>`, after
/// deleting `unlogged` (keys a command created without logging them, which
/// a replay would not have); soquete's log must replay to the same digest.
fn logged_by_both(commands: &[&[&str]], unlogged: &[&str]) -> [String; 2] {
    let mut logs = Vec::new();
    for kind in [ServerKind::Redis, ServerKind::Soquete] {
        let (dir, server) = start_logging_always(kind);
        let mut c = server.connect();
        for cmd in commands {
            assert!(!matches!(c.cmd(cmd), Frame::Error(_)), "{kind:?} {cmd:?}");
        }
        for key in unlogged {
            ok(&mut c, &["DEL", key]);
        }
        logs.push(without_times(
            &std::fs::read(incr_path(dir.path())).unwrap(),
        ));
        if kind == ServerKind::Soquete {
            let before = digest(&mut c);
            ok(&mut c, &["DEBUG", "LOADAOF"]);
            assert_eq!(
                digest(&mut c),
                before,
                "the log replays to the same dataset"
            );
        }
    }
    [logs.remove(0), logs.remove(0)]
}

/// A script's writes reach the log as Redis 7.0 writes them: its effects
/// (not the script), several wrapped in MULTI/EXEC, relative expiries as
/// PEXPIREAT, nothing after `redis.set_repl(redis.REPL_NONE)`; reads log
/// nothing. Both servers run the same scripts and their increments must
/// be equal, timestamps aside; the log replays to the same dataset.
#[test]
fn script_effects_are_logged_as_redis_logs_them() {
    let scripts: &[&[&str]] = &[
        &[
            "EVAL",
            "redis.call('SET','a',1) redis.call('INCR','a') return redis.call('GET','a')",
            "0",
        ],
        &["EVAL", "return redis.call('GET','a')", "0"],
        &["EVAL", "redis.call('SET','b',1)", "0"],
        &[
            "EVAL",
            "redis.set_repl(redis.REPL_NONE) redis.call('SET','c',1)",
            "0",
        ],
        &[
            "EVAL",
            "redis.call('SET','d',1) redis.call('EXPIRE','d',100)",
            "0",
        ],
        &[
            "EVAL",
            "redis.call('SELECT', 2) redis.call('RPUSH','l','x','y') redis.call('LPOP','l')",
            "0",
        ],
        &["EVAL_RO", "return redis.call('GET','b')", "0"],
    ];
    // `c` was never logged: a replay would not have it.
    let logs = logged_by_both(scripts, &["c"]);
    assert_eq!(logs[1], logs[0], "soquete's log differs from Redis's");
    assert!(
        logs[0].contains("MULTI"),
        "the scripts were wrapped: {}",
        logs[0]
    );
}

/// The log's text with every 13-digit number (a Unix time in ms, which
/// differs between two runs) as `<ms>`.
fn without_times(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .split("\r\n")
        .map(|l| {
            if l.len() == 13 && l.bytes().all(|b| b.is_ascii_digit()) {
                "<ms>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

#[test]
fn consumer_group_effects_are_logged_as_redis_logs_them() {
    let steps: &[&[&str]] = &[
        &["XADD", "q", "1-1", "f", "1"],
        &["XADD", "q", "2-1", "f", "2"],
        &["XADD", "q", "3-1", "f", "3"],
        &["XADD", "q", "4-1", "f", "4"],
        &["XGROUP", "CREATE", "q", "g", "0"],
        &["XGROUP", "CREATE", "q", "g", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "q",
            ">",
        ],
        &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "q", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "bob",
            "NOACK",
            "COUNT",
            "1",
            "STREAMS",
            "q",
            ">",
        ],
        &["XACK", "q", "g", "1-1", "9-9"],
        &["XACK", "q", "g", "9-9"],
        &["XCLAIM", "q", "g", "carol", "0", "2-1", "RETRYCOUNT", "4"],
        &["XCLAIM", "q", "g", "carol", "0", "9-9", "LASTID", "3-5"],
        &["XREADGROUP", "GROUP", "g", "dave", "STREAMS", "q", ">"],
        &["XDEL", "q", "2-1"],
        &["XAUTOCLAIM", "q", "g", "erin", "0", "0", "COUNT", "5"],
        &["XCLAIM", "q", "g", "erin", "0", "4-1", "JUSTID"],
        &["XGROUP", "CREATECONSUMER", "q", "g", "frank"],
        &["XGROUP", "DELCONSUMER", "q", "g", "frank"],
        &["XGROUP", "SETID", "q", "g", "1-1", "ENTRIESREAD", "1"],
        &["XGROUP", "SETID", "q", "g", "$"],
        &["XGROUP", "CREATE", "q", "gone", "$"],
        &["XGROUP", "DESTROY", "q", "gone"],
    ];
    let mut logs = Vec::new();
    let mut states = Vec::new();
    for kind in [ServerKind::Redis, ServerKind::Soquete] {
        let (dir, server) = start_logging_always(kind);
        let mut c = server.connect();
        for s in steps {
            c.cmd(s);
        }
        // A blocked read served by a later XADD logs its claim too.
        let mut reader = server.connect();
        reader.send_cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "gina",
            "BLOCK",
            "0",
            "STREAMS",
            "q",
            ">",
        ]);
        eventually("the reader to block", WAIT, || {
            (info(&mut c, "blocked_clients") == "1").then_some(())
        });
        ok(&mut c, &["XADD", "q", "5-1", "f", "5"]);
        assert!(matches!(reader.read_frame(), Frame::Array(_)));
        logs.push(without_times(
            &std::fs::read(incr_path(dir.path())).unwrap(),
        ));
        let mut state = vec![c.cmd(&["XPENDING", "q", "g"])];
        let before = digest(&mut c);
        ok(&mut c, &["DEBUG", "LOADAOF"]);
        assert_eq!(digest(&mut c), before, "{kind:?}: the log replays");
        // Not quite the groups as they were, in Redis either (XCLAIM's
        // LASTID does not carry the read counter): the same on both.
        state.push(c.cmd(&["XINFO", "GROUPS", "q"]));
        // Each pending entry's owner and delivery count (not its idle time).
        let Frame::Array(rows) = c.cmd(&["XPENDING", "q", "g", "-", "+", "10"]) else {
            panic!("XPENDING replies an array")
        };
        for row in rows {
            let Frame::Array(mut row) = row else { panic!() };
            row.remove(2);
            state.push(Frame::Array(row));
        }
        states.push(state);
    }
    assert_eq!(logs[1], logs[0], "soquete's log differs from Redis's");
    assert_eq!(states[1], states[0]);
    assert!(logs[0].contains("XCLAIM") && logs[0].contains("CREATECONSUMER"));
}

/// What a replay keeps of a stream's groups: XINFO GROUPS, each pending
/// entry's ID, owner and delivery count, and each consumer's name and
/// pending count (not the times, which a replay takes from its clock).
fn group_state(c: &mut Conn, key: &str) -> Vec<Frame> {
    let groups = c.cmd(&["XINFO", "GROUPS", key]);
    let mut state = vec![groups.clone()];
    let Frame::Array(groups) = groups else {
        panic!("XINFO GROUPS replies an array: {groups:?}")
    };
    for g in groups {
        let Frame::Array(fields) = g else { panic!() };
        let name = text(&fields[1]);
        let Frame::Array(rows) = c.cmd(&["XPENDING", key, &name, "-", "+", "100"]) else {
            panic!("XPENDING replies an array")
        };
        for row in rows {
            let Frame::Array(mut row) = row else { panic!() };
            row.remove(2);
            state.push(Frame::Array(row));
        }
        let Frame::Array(consumers) = c.cmd(&["XINFO", "CONSUMERS", key, &name]) else {
            panic!("XINFO CONSUMERS replies an array")
        };
        for cons in consumers {
            let Frame::Array(mut fields) = cons else {
                panic!()
            };
            fields.truncate(4);
            state.push(Frame::Array(fields));
        }
    }
    state
}

#[test]
fn consumer_groups_survive_a_rewrite_and_load_into_redis() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let args = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"];
    let soquete = start_in(ServerKind::Soquete, dirs[0].path(), &args);
    let mut s = soquete.connect();
    for i in 1..=6 {
        ok(
            &mut s,
            &["XADD", "q", &format!("{i}-1"), "f", &i.to_string()],
        );
    }
    ok(&mut s, &["XGROUP", "CREATE", "q", "g", "0"]);
    ok(
        &mut s,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "3",
            "STREAMS",
            "q",
            ">",
        ],
    );
    ok(
        &mut s,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "bob",
            "COUNT",
            "1",
            "STREAMS",
            "q",
            ">",
        ],
    );
    ok(
        &mut s,
        &["XCLAIM", "q", "g", "bob", "0", "1-1", "RETRYCOUNT", "3"],
    );
    ok(&mut s, &["XACK", "q", "g", "2-1"]);
    ok(&mut s, &["XGROUP", "CREATECONSUMER", "q", "g", "idle"]);
    ok(
        &mut s,
        &["XGROUP", "CREATE", "q", "late", "$", "ENTRIESREAD", "6"],
    );
    ok(&mut s, &["XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM"]);
    let want = [group_state(&mut s, "q"), group_state(&mut s, "empty")];
    ok(&mut s, &["BGREWRITEAOF"]);
    wait_rewrite(&mut s);
    check_aof(dirs[0].path());
    drop(s);
    soquete.stop().unwrap();
    copy_dir(
        &dirs[0].path().join("appendonlydir"),
        &dirs[1].path().join("appendonlydir"),
    );
    let again = start_in(ServerKind::Soquete, dirs[0].path(), &args);
    let mut a = again.connect();
    let got = [group_state(&mut a, "q"), group_state(&mut a, "empty")];
    assert_eq!(got, want, "soquete replayed its rewritten log");
    let redis = start_in(ServerKind::Redis, dirs[1].path(), &["--appendonly", "yes"]);
    let mut r = redis.connect();
    let got = [group_state(&mut r, "q"), group_state(&mut r, "empty")];
    assert_eq!(got, want, "Redis replayed soquete's rewritten log");
}

/// Stream writes whose effect depends on the moment or on node layout:
/// generated IDs, approximate trims (with and without LIMIT), deletions,
/// XSETID, and a stream left empty.
fn write_streams(c: &mut Conn) {
    for i in 0..250 {
        ok(c, &["XADD", "s", "*", "f", &i.to_string()]);
    }
    ok(c, &["XADD", "s", "MAXLEN", "~", "120", "*", "f", "v"]);
    ok(
        c,
        &[
            "XADD", "s", "MAXLEN", "~", "10", "LIMIT", "100", "*", "f", "v",
        ],
    );
    ok(c, &["XADD", "s", "MINID", "=", "1", "*", "f", "v"]);
    ok(c, &["XTRIM", "s", "MAXLEN", "~", "20", "LIMIT", "100"]);
    // Refused: not logged.
    c.cmd(&["XADD", "s", "1-*", "late", "x"]);
    c.cmd(&["XADD", "missing", "NOMKSTREAM", "*", "f", "v"]);
    let first = c.cmd(&["XRANGE", "s", "-", "+", "COUNT", "1"]);
    let Frame::Array(items) = first else {
        panic!("{first:?}")
    };
    let Frame::Array(entry) = &items[0] else {
        panic!()
    };
    let id = text(&entry[0]);
    ok(c, &["XDEL", "s", &id]);
    ok(c, &["XADD", "t", "5-*", "a", "1"]);
    ok(c, &["XADD", "t", "5-*", "a", "2"]);
    ok(
        c,
        &[
            "XSETID",
            "t",
            "10-0",
            "ENTRIESADDED",
            "9",
            "MAXDELETEDID",
            "7-0",
        ],
    );
    ok(c, &["XADD", "e", "1-1", "f", "v"]);
    ok(c, &["XDEL", "e", "1-1"]);
}

fn stream_state(c: &mut Conn) -> Vec<Frame> {
    ["s", "t", "e"]
        .iter()
        .map(|k| c.cmd(&["XINFO", "STREAM", k, "FULL", "COUNT", "0"]))
        .collect()
}

#[test]
fn streams_replay_from_the_log_as_they_were_on_both_servers() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let soquete = start_in(
        ServerKind::Soquete,
        dirs[0].path(),
        &["--appendonly", "yes", "--aof-use-rdb-preamble", "no"],
    );
    let mut s = soquete.connect();
    write_streams(&mut s);
    let want = stream_state(&mut s);
    check_aof(dirs[0].path());
    copy_dir(
        &dirs[0].path().join("appendonlydir"),
        &dirs[1].path().join("appendonlydir"),
    );
    // Redis replays our log to the same streams, counters and nodes.
    let redis = start_in(ServerKind::Redis, dirs[1].path(), &["--appendonly", "yes"]);
    let mut r = redis.connect();
    assert_eq!(stream_state(&mut r), want, "Redis replayed soquete's log");
    // So does soquete, from the log and then from a rewritten one (XADD
    // and XSETID commands, as Redis rewrites streams).
    drop(s);
    soquete.stop().unwrap();
    let again = start_in(
        ServerKind::Soquete,
        dirs[0].path(),
        &["--appendonly", "yes", "--aof-use-rdb-preamble", "no"],
    );
    let mut a = again.connect();
    assert_eq!(stream_state(&mut a), want, "soquete replayed its log");
    ok(&mut a, &["BGREWRITEAOF"]);
    wait_rewrite(&mut a);
    check_aof(dirs[0].path());
    drop(a);
    again.stop().unwrap();
    let third = start_in(
        ServerKind::Soquete,
        dirs[0].path(),
        &["--appendonly", "yes", "--aof-use-rdb-preamble", "no"],
    );
    let mut t = third.connect();
    // A rewrite loses the node layout of trimmed streams (XADDs make new
    // nodes), as in Redis: compare the entries and counters.
    let entries = |c: &mut Conn| {
        ["s", "t", "e"]
            .iter()
            .map(|k| {
                (
                    c.cmd(&["XRANGE", k, "-", "+"]),
                    c.cmd(&["XINFO", "STREAM", k]),
                )
            })
            .map(|(range, info)| {
                let Frame::Array(mut fields) = info else {
                    panic!("{info:?}")
                };
                // Drop radix-tree-keys and radix-tree-nodes.
                fields.drain(2..6);
                (range, fields)
            })
            .collect::<Vec<_>>()
    };
    let mut a2 = redis.connect();
    assert_eq!(entries(&mut t), entries(&mut a2), "after a rewrite");
    copy_dir(
        &dirs[0].path().join("appendonlydir"),
        &dirs[2].path().join("appendonlydir"),
    );
    let redis2 = start_in(ServerKind::Redis, dirs[2].path(), &["--appendonly", "yes"]);
    let mut r2 = redis2.connect();
    assert_eq!(
        entries(&mut r2),
        entries(&mut t),
        "Redis loaded the rewrite"
    );
}

/// Bitmap writes reach the log as sent when they changed something and
/// not at all otherwise: a SETBIT that sets a bit already set, a BITFIELD
/// of GETs or whose every write failed (even though it created the key, as
/// in Redis), a BITOP of missing keys onto a missing key.
#[test]
fn bitmap_writes_are_logged_as_redis_logs_them() {
    let writes: &[&[&str]] = &[
        &["SETBIT", "b", "7", "1"],
        &["SETBIT", "b", "7", "1"],
        &["SETBIT", "b", "7", "0"],
        &["SETBIT", "b", "100", "0"],
        &["SET", "n", "1234"],
        &["SETBIT", "n", "2", "1"],
        &["BITFIELD", "b", "GET", "u8", "0"],
        &["BITFIELD", "b", "SET", "u8", "0", "0"],
        &[
            "BITFIELD", "b", "SET", "u8", "0", "5", "GET", "u4", "4", "INCRBY", "i8", "#1", "-3",
        ],
        &[
            "BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "256",
        ],
        &[
            "BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300", "INCRBY", "u8", "0",
            "1",
        ],
        &["BITOP", "AND", "d", "nosuch"],
        &["BITOP", "OR", "d", "b", "n"],
        &["BITOP", "NOT", "d", "b"],
        &["BITOP", "XOR", "d", "nosuch"],
        &["BITFIELD_RO", "b", "GET", "u8", "0"],
    ];
    // `f` was created but not logged: a replay would not have it.
    let logs = logged_by_both(writes, &["f"]);
    assert_eq!(logs[1], logs[0], "soquete's log differs from Redis's");
    assert!(logs[0].contains("BITFIELD"), "{}", logs[0]);
}

/// GEOADD is logged as the ZADD Redis rewrites it to (scores as integers,
/// options kept); the STORE searches as sent; a write that changed nothing
/// (a GEOADD of the same position, a search without STORE) not at all. Both
/// servers run the same commands and their increments must be equal.
#[test]
fn geo_writes_are_logged_as_redis_logs_them() {
    let commands: &[&[&str]] = &[
        &[
            "GEOADD",
            "g",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ],
        &["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
        &[
            "GEOADD", "g", "ch", "NX", "1", "1", "Palermo", "2", "2", "Null",
        ],
        &["GEOADD", "g", "XX", "CH", "2.5", "2.5", "Null"],
        &["GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST"],
        &[
            "GEOSEARCHSTORE",
            "s",
            "g",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "300",
            "km",
        ],
        &[
            "GEOSEARCHSTORE",
            "s2",
            "g",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "400",
            "km",
            "STOREDIST",
        ],
        &["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "r"],
        &[
            "GEORADIUSBYMEMBER",
            "g",
            "Palermo",
            "200",
            "mi",
            "COUNT",
            "1",
            "STOREDIST",
            "r2",
        ],
        &[
            "GEOSEARCHSTORE",
            "s",
            "nokey",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "m",
        ],
        &[
            "GEOSEARCHSTORE",
            "s",
            "nokey",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "m",
        ],
        &["GEORADIUS", "g", "0", "0", "1", "m", "STORE", "r"],
    ];
    let logs = logged_by_both(commands, &[]);
    assert_eq!(logs[1], logs[0], "soquete's log differs from Redis's");
    assert!(
        logs[0].contains("zadd"),
        "GEOADD logged as ZADD: {}",
        logs[0]
    );
}
