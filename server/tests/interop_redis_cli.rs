//! `redis-cli` against the `soquete-server` binary: one-shot commands, what
//! it prints (compared with what it prints for real `redis-server` given
//! the same commands), commands fed on stdin, RESP3 output, and `--pipe`
//! mass insertion.

use std::process::{Command, Output};

use soquete_testkit::conn::command_bytes;
use soquete_testkit::render::show;
use soquete_testkit::tools::run_with_timeout;
use soquete_testkit::wait::DEADLINE;
use soquete_testkit::{ServerKind, ServerProcess};

/// The binary under test, built by cargo for this test run.
const BIN: &str = env!("CARGO_BIN_EXE_soquete-server");

/// The binary on `127.0.0.1:<ephemeral>` with `args`.
fn soquete(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(BIN)
        .args(args)
        .start()
}

/// Real `redis-server` on `127.0.0.1:<ephemeral>` with `args` (persistence off).
fn redis(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Redis).args(args).start()
}

/// Runs `redis-cli -p <port> <args>` with `stdin` fed to it.
fn cli(server: &ServerProcess, args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = Command::new("redis-cli");
    cmd.arg("-p").arg(server.port().to_string()).args(args);
    run_with_timeout(cmd, stdin, DEADLINE)
}

/// Exit code, stdout and stderr together, for comparisons.
fn everything(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Both servers, fresh: Redis (the reference) and ours.
fn pair() -> (ServerProcess, ServerProcess) {
    (redis(&[]), soquete(&["--threads", "2"]))
}

#[test]
fn one_shot_commands() {
    let server = soquete(&[]);
    for (args, want) in [
        (&["set", "a", "b"][..], "OK\n"),
        (&["get", "a"], "b\n"),
        (&["get", "nokey"], "\n"),
        (&["incr", "n"], "1\n"),
        (&["mget", "a", "nokey", "n"], "b\n\n1\n"),
        (&["--no-raw", "get", "nokey"], "(nil)\n"),
        (&["--no-raw", "incr", "n"], "(integer) 2\n"),
        (&["--no-raw", "mget", "a", "nokey"], "1) \"b\"\n2) (nil)\n"),
        (&["dbsize"], "2\n"),
    ] {
        let out = cli(&server, args, b"");
        assert!(out.status.success(), "{args:?}: {}", everything(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{args:?}");
    }
    // -e: a failed command is a failed exit.
    let out = cli(&server, &["-e", "incr", "a"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", everything(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("ERR value is not an integer or out of range"),
        "{}",
        everything(&out)
    );
}

/// Command lines whose output does not depend on timing, ids or the command
/// table's size, covering every reply shape redis-cli formats.
const SCRIPT: &str = r#"SET a b
GET a
GET nokey
INCR n
INCRBY n -5
DECR n
MGET a nokey n
MSET x 1 y 2
DEL x y nokey
EXISTS a n nokey
SET s "hello world"
GET s
APPEND s "!"
STRLEN s
GETRANGE s 0 4
SET e ""
GET e
SET bin "\x00\xff\r\n"
GET bin
ECHO "multi\nline"
ECHO 'single quoted'
INCRBYFLOAT f 1.5
INCRBYFLOAT f 1e3
EXPIRE a 1000
TTL a
PERSIST a
TTL a
TTL nokey
TYPE a
TYPE nokey
SET x 1 foo
GET
INCR a
SELECT 99
FOO bar
PING
PING "hi there"
SCAN 0 MATCH nokey*
KEYS nomatch*
SET k1 ohmytext
SET k2 mynewtext
LCS k1 k2
LCS k1 k2 LEN
LCS k1 k2 IDX MINMATCHLEN 4 WITHMATCHLEN
CONFIG GET maxclients
SETNX a z
GETSET a c
GETDEL a
GET a
OBJECT ENCODING n
OBJECT ENCODING s
DBSIZE
"#;

#[test]
fn output_formatting_matches_redis_server() {
    for mode in [
        &[][..],
        &["--no-raw"],
        &["-3"],
        &["-3", "--no-raw"],
        &["--json"],
        &["-2", "--json"],
    ] {
        let (redis, ours) = pair();
        let want = everything(&cli(&redis, mode, SCRIPT.as_bytes()));
        let got = everything(&cli(&ours, mode, SCRIPT.as_bytes()));
        assert!(want.contains("hello world"), "the script ran: {want}");
        assert_eq!(got, want, "redis-cli {mode:?} output differs");
    }
}

#[test]
fn commands_fed_on_stdin() {
    let (redis, ours) = pair();
    for server in [&redis, &ours] {
        let out = cli(server, &[], b"SET a 1\nGET a\nINCR a\nGET nokey\n");
        assert_eq!(
            everything(&out),
            "exit: Some(0)\n--- stdout\nOK\n1\n2\n\n--- stderr\n",
            "{}",
            server.kind()
        );
    }
}

/// Replaces the digits of HELLO's `id` value (a per-server counter) with
/// `N`, in every layout redis-cli prints: `id` and the value on separate
/// lines, `id 4`, `"id" => (integer) 4`, `"id":4`.
fn mask_id(text: &str) -> String {
    let digits = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_digit() { 'N' } else { c })
            .collect()
    };
    let mut out = Vec::new();
    let mut value_next = false;
    for line in text.lines() {
        if value_next {
            out.push(digits(line));
            value_next = false;
        } else if line == "id" || line.ends_with("\"id\"") {
            out.push(line.to_string());
            value_next = true;
        } else if let Some(rest) = line.strip_prefix("id ") {
            out.push(format!("id {}", digits(rest)));
        } else if let Some(at) = line.find("\"id\"") {
            out.push(format!("{}{}", &line[..at], digits(&line[at..])));
        } else {
            out.push(line.to_string());
        }
    }
    out.join("\n")
}

#[test]
fn resp3_hello_output_matches_redis_server() {
    let (redis, ours) = pair();
    for args in [
        &["-3", "hello", "3"][..],
        &["-3", "--no-raw", "hello", "3"],
        &["--no-raw", "hello", "2"],
        &["--no-raw", "hello", "3"],
        &["-3", "--json", "hello", "3"],
    ] {
        let want = mask_id(&everything(&cli(&redis, args, b"")));
        let got = mask_id(&everything(&cli(&ours, args, b"")));
        assert!(want.contains("7.0.15"), "{want}");
        assert_eq!(got, want, "redis-cli {args:?}");
    }
}

#[test]
fn pipe_mass_insertion_of_100k_sets() {
    const N: usize = 100_000;
    let server = soquete(&["--threads", "2"]);
    let mut data = Vec::with_capacity(N * 48);
    for i in 0..N {
        data.extend(command_bytes(&[
            "SET".to_string(),
            format!("key:{i}"),
            format!("value:{i}"),
        ]));
    }
    let out = cli(&server, &["--pipe"], &data);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", everything(&out));
    assert!(
        stdout.contains(&format!("errors: 0, replies: {N}")),
        "{}",
        everything(&out)
    );
    let mut c = server.connect();
    c.send(b"DBSIZE\r\nGET key:0\r\nGET key:99999\r\n");
    assert_eq!(
        show(&c.read_raw_reply()),
        show(format!(":{N}\r\n").as_bytes())
    );
    assert_eq!(c.read_raw_reply(), b"$7\r\nvalue:0\r\n");
    assert_eq!(c.read_raw_reply(), b"$11\r\nvalue:99999\r\n");
}
