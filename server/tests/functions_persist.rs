//! Function libraries survive what the dataset survives: DEBUG RELOAD, a
//! restart from the RDB file, a restart from the append-only file (its
//! incremental commands, and a rewritten base in RDB or command form).
//! FLUSHALL keeps them, as in Redis. RDB files with libraries move both
//! ways between soquete and redis-server 7.0.15, and `redis-check-rdb`
//! accepts soquete's.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use soquete_resp::Frame;
use soquete_testkit::frames::{info_field, text};
use soquete_testkit::wait::eventually;
use soquete_testkit::{Conn, ServerKind, ServerProcess};

const WAIT: Duration = Duration::from_secs(20);

/// Two libraries; one with a function long enough to be stored LZF.
const LIB_A: &str = "#!lua name=liba\n\
    redis.register_function('hello', function(keys, args) return 'hello ' .. args[1] end)\n\
    redis.register_function{function_name='getk', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads a key'}\n";
const LIB_B: &str = "#!lua name=libb\n\
    redis.register_function('padded', function() return 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' end)\n";

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
    let mut c = server.connect();
    eventually("the dataset to load", WAIT, || {
        (info(&mut c, "loading") == "0").then_some(())
    });
    server
}

fn info(c: &mut Conn, field: &str) -> String {
    let all = c.cmd(&["INFO", "everything"]);
    info_field(text(&all).as_bytes(), field).unwrap_or_else(|| panic!("no {field} in INFO"))
}

fn ok(c: &mut Conn, args: &[&str]) -> Frame {
    let r = c.cmd(args);
    assert!(!matches!(r, Frame::Error(_)), "{args:?}: {r:?}");
    r
}

fn load_libraries(c: &mut Conn) {
    assert_eq!(text(&ok(c, &["FUNCTION", "LOAD", LIB_A])), "liba");
    assert_eq!(text(&ok(c, &["FUNCTION", "LOAD", LIB_B])), "libb");
    ok(c, &["SET", "k", "v"]);
}

/// What a server holds: its libraries with their code (sorted: LIST's
/// order is Redis's hash order), and that each function answers.
fn assert_has_libraries(c: &mut Conn) {
    let list = c.cmd(&["FUNCTION", "LIST", "WITHCODE"]);
    let libs = soquete_testkit::frames::items(list);
    let mut codes: Vec<String> = libs
        .into_iter()
        .map(|l| {
            let fields = soquete_testkit::frames::items(l);
            text(&fields[7])
        })
        .collect();
    codes.sort();
    assert_eq!(codes, [LIB_A, LIB_B]);
    assert_eq!(text(&c.cmd(&["FCALL", "hello", "0", "you"])), "hello you");
    assert_eq!(text(&c.cmd(&["FCALL_RO", "getk", "1", "k"])), "v");
    assert_eq!(text(&c.cmd(&["FCALL", "padded", "0"])), "a".repeat(64));
}

fn redis_check_rdb(path: &Path) {
    let out = Command::new("redis-check-rdb")
        .arg(path)
        .output()
        .expect("redis-check-rdb runs (apt-get install redis-tools)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "redis-check-rdb failed:\n{text}");
    assert!(text.contains("RDB looks OK"), "{text}");
}

#[test]
fn functions_survive_debug_reload_and_flushall() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(ServerKind::Soquete, dir.path(), &[]);
    let mut c = s.connect();
    load_libraries(&mut c);
    ok(&mut c, &["DEBUG", "RELOAD"]);
    assert_has_libraries(&mut c);
    assert_eq!(info(&mut c, "number_of_libraries"), "2");
    assert_eq!(info(&mut c, "number_of_functions"), "3");
    ok(&mut c, &["FLUSHALL"]);
    ok(&mut c, &["SET", "k", "v"]);
    assert_has_libraries(&mut c);
    // NOFLUSH without MERGE: the file's libraries clash with those loaded.
    let r = c.cmd(&["DEBUG", "RELOAD", "NOFLUSH", "NOSAVE"]);
    assert!(matches!(r, Frame::Error(_)), "{r:?}");
    ok(&mut c, &["DEBUG", "RELOAD", "MERGE", "NOFLUSH", "NOSAVE"]);
    assert_has_libraries(&mut c);
}

#[test]
fn functions_survive_a_restart_from_the_rdb_file() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(ServerKind::Soquete, dir.path(), &[]);
    let mut c = s.connect();
    load_libraries(&mut c);
    ok(&mut c, &["SAVE"]);
    drop(c);
    s.stop().unwrap();
    let again = start_in(ServerKind::Soquete, dir.path(), &[]);
    assert_has_libraries(&mut again.connect());
}

#[test]
fn functions_survive_a_restart_from_the_append_only_file() {
    for preamble in ["yes", "no"] {
        let dir = tempfile::tempdir().unwrap();
        let args = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble];
        let s = start_in(ServerKind::Soquete, dir.path(), &args);
        let mut c = s.connect();
        // In the incremental file as commands, DELETE and FLUSH included.
        ok(
            &mut c,
            &[
                "FUNCTION",
                "LOAD",
                "#!lua name=gone\nredis.register_function('g', function() end)",
            ],
        );
        ok(&mut c, &["FUNCTION", "FLUSH"]);
        load_libraries(&mut c);
        ok(
            &mut c,
            &[
                "FUNCTION",
                "LOAD",
                "#!lua name=gone\nredis.register_function('g', function() end)",
            ],
        );
        ok(&mut c, &["FUNCTION", "DELETE", "gone"]);
        drop(c);
        s.stop().unwrap();
        let again = start_in(ServerKind::Soquete, dir.path(), &args);
        let mut c = again.connect();
        assert_has_libraries(&mut c);
        // Then in a rewritten base file (RDB, or FUNCTION LOAD commands).
        ok(&mut c, &["BGREWRITEAOF"]);
        eventually("the rewrite to end", WAIT, || {
            (info(&mut c, "aof_rewrite_in_progress") == "0"
                && info(&mut c, "aof_rewrite_scheduled") == "0")
                .then_some(())
        });
        drop(c);
        again.stop().unwrap();
        let third = start_in(ServerKind::Soquete, dir.path(), &args);
        let mut c = third.connect();
        assert_has_libraries(&mut c);
        assert_eq!(
            c.cmd(&["FUNCTION", "DELETE", "gone"]),
            Frame::Error("ERR Library not found".into())
        );
    }
}

#[test]
fn rdb_files_with_functions_move_between_soquete_and_redis() {
    // soquete → redis-check-rdb → redis-server.
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(ServerKind::Soquete, dir.path(), &[]);
    let mut c = s.connect();
    load_libraries(&mut c);
    ok(&mut c, &["SAVE"]);
    let file = dir.path().join("dump.rdb");
    redis_check_rdb(&file);
    let rdir = tempfile::tempdir().unwrap();
    std::fs::copy(&file, rdir.path().join("dump.rdb")).unwrap();
    let r = start_in(ServerKind::Redis, rdir.path(), &[]);
    let mut rc = r.connect();
    assert_has_libraries(&mut rc);
    // Both write the same FUNCTION DUMP of one library.
    ok(&mut c, &["FUNCTION", "DELETE", "libb"]);
    ok(&mut rc, &["FUNCTION", "DELETE", "libb"]);
    assert_eq!(c.cmd(&["FUNCTION", "DUMP"]), rc.cmd(&["FUNCTION", "DUMP"]));
    // redis-server → soquete.
    ok(&mut rc, &["FUNCTION", "LOAD", LIB_B]);
    ok(&mut rc, &["SAVE"]);
    let sdir = tempfile::tempdir().unwrap();
    std::fs::copy(rdir.path().join("dump.rdb"), sdir.path().join("dump.rdb")).unwrap();
    let back = start_in(ServerKind::Soquete, sdir.path(), &[]);
    assert_has_libraries(&mut back.connect());
}

#[test]
fn a_file_with_a_broken_library_is_refused() {
    // A library that registers nothing, written by hand into the RDB as
    // Redis would write it: loading fails as it does in Redis.
    let dir = tempfile::tempdir().unwrap();
    let s = start_in(ServerKind::Soquete, dir.path(), &["--rdbcompression", "no"]);
    let mut c = s.connect();
    ok(&mut c, &["FUNCTION", "LOAD", LIB_B]);
    ok(&mut c, &["SAVE"]);
    drop(c);
    s.stop().unwrap();
    let path = dir.path().join("dump.rdb");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(8)
        .position(|w| w == b"'padded'")
        .expect("the library is stored raw");
    bytes[at + 1] = b'-'; // 'p-dded': not a function name
                          // Checksum off: the file's is now wrong.
    let end = bytes.len();
    bytes[end - 8..].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    let result = ServerProcess::builder(ServerKind::Soquete)
        .args(["--dir", dir.path().to_str().unwrap()])
        .try_start();
    // It may answer briefly (-LOADING) before the error stops it.
    let output = match result {
        Ok(mut server) => {
            assert!(!server.wait_exit(WAIT).success());
            server.output()
        }
        Err(soquete_testkit::StartError::Exited { output, .. }) => output,
        Err(e) => panic!("{e}"),
    };
    assert!(output.contains("Failed loading library"), "{output}");
}
