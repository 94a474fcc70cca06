//! The hardening options as Redis 7.0.15 has them: `rename-command`,
//! `enable-debug-command`, `enable-module-command`,
//! `enable-protected-configs` and protected mode. Each scenario starts real
//! `redis-server` and soquete with the same options and compares every
//! reply byte for byte.
//!
//! A client that is not local: Redis's `islocalClient` accepts a Unix
//! socket or a peer at exactly 127.0.0.1 or ::1, so a socket bound to
//! 127.0.0.2 before it connects (still the loopback interface, reachable
//! in any sandbox) is what a remote client is to every one of these checks.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use soquete_testkit::server::{ServerKind, ServerProcess};
use soquete_testkit::Conn;

fn start(kind: ServerKind, args: &[&str]) -> ServerProcess {
    ServerProcess::builder(kind)
        .args(args.iter().copied())
        .start()
}

/// Real Redis and soquete, started with the same options.
fn pair(args: &[&str]) -> [ServerProcess; 2] {
    [
        start(ServerKind::Redis, args),
        start(ServerKind::Soquete, args),
    ]
}

/// A connection to `server` from the local address `from`.
fn connect_from(server: &ServerProcess, from: &str) -> Conn {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let local: SocketAddr = format!("{from}:0").parse().unwrap();
    socket.bind(&local.into()).unwrap();
    socket
        .connect_timeout(&server.addr().into(), Duration::from_secs(5))
        .unwrap();
    Conn::from_stream(TcpStream::from(socket)).unwrap()
}

/// The raw replies to `cmds`, sent one by one on one connection from
/// `from`.
fn replies(server: &ServerProcess, from: &str, cmds: &[&[&str]]) -> Vec<Vec<u8>> {
    let mut conn = connect_from(server, from);
    cmds.iter()
        .map(|c| {
            conn.send_cmd(c);
            conn.read_raw_reply()
        })
        .collect()
}

/// Runs `cmds` on both servers of `pair` from `from`; every reply must be
/// the same bytes.
fn assert_same(pair: &[ServerProcess; 2], from: &str, cmds: &[&[&str]], what: &str) {
    let redis = replies(&pair[0], from, cmds);
    let soquete = replies(&pair[1], from, cmds);
    for ((cmd, r), s) in cmds.iter().zip(&redis).zip(&soquete) {
        assert_eq!(
            String::from_utf8_lossy(s),
            String::from_utf8_lossy(r),
            "{what}, from {from}: {cmd:?} (left soquete, right redis)"
        );
    }
}

fn int(reply: &[u8]) -> i64 {
    let text = std::str::from_utf8(reply).unwrap();
    text.trim_start_matches(':').trim_end().parse().unwrap()
}

/// The usual way to hide a command: a name nobody guesses, longer than
/// any command's own.
const HIDDEN_SET: &str = "b840fc02d524045429941cc15f59e41cb7be6c52";

const RENAMES: &[&str] = &[
    "--rename-command",
    "get",
    "fetch",
    "--rename-command",
    "flushall",
    "",
    "--rename-command",
    "config",
    "cfg",
    "--rename-command",
    "exec",
    "commit",
    "--rename-command",
    "set",
    HIDDEN_SET,
];

#[test]
fn renamed_commands_answer_only_to_their_new_names_as_in_redis() {
    let servers = pair(RENAMES);
    let hidden_upper = HIDDEN_SET.to_uppercase();
    let cmds: &[&[&str]] = &[
        &["GET", "k"],
        &["SET", "k", "v"],
        &[&hidden_upper, "k", "v"],
        &["FETCH", "k"],
        &["fetch"],
        &["FLUSHALL"],
        &["CFG", "GET", "maxmemory"],
        &["CONFIG", "GET", "maxmemory"],
        &["CFG", "nosuch"],
        // (A container's subcommands come in Redis's dictionary order:
        // CONFIG itself is left out.)
        &[
            "COMMAND", "INFO", "fetch", "get", "flushall", "commit", "exec",
        ],
        &["COMMAND", "INFO", "cfg|get", "config|get", "fetch|x"],
        &["COMMAND", "DOCS", "FETCH"],
        &["COMMAND", "DOCS", "get", "flushall"],
        &["COMMAND", "GETKEYS", "fetch", "k"],
        &["COMMAND", "GETKEYS", "get", "k"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "fetch"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "get"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "flush*"],
        &["ACL", "SETUSER", "u", "+fetch"],
        &["ACL", "SETUSER", "u", "on", "nopass", "~*", "+get"],
        &["ACL", "DRYRUN", "u", "fetch", "k"],
        &["ACL", "DRYRUN", "u", "get", "k"],
        &["LATENCY", "HISTOGRAM", "get"],
        &["EVAL", "return redis.call('fetch', 'k')", "0"],
        &["EVAL", "return redis.call('get', 'k')", "0"],
        &["MULTI"],
        &["FETCH", "k"],
        &["EXEC"],
        &["COMMIT"],
        &["MULTI"],
        &["FETCH"],
        &["COMMIT"],
        &["INFO", "commandstats"],
    ];
    // INFO commandstats carries times: compare it without them.
    let cmds_but_info = &cmds[..cmds.len() - 1];
    assert_same(&servers, "127.0.0.1", cmds_but_info, "renamed commands");
    for s in &servers {
        let info = replies(s, "127.0.0.1", &[&["INFO", "commandstats"]]).remove(0);
        let info = String::from_utf8_lossy(&info);
        assert!(
            info.contains("cmdstat_get:calls=")
                && !info.contains("fetch")
                && !info.contains("commit"),
            "{:?}: INFO commandstats names a command by its own name: {info}",
            s.kind()
        );
    }
}

#[test]
fn a_command_renamed_to_nothing_leaves_the_lists_and_the_count() {
    let plain = pair(&[]);
    let renamed = pair(RENAMES);
    for (plain, renamed) in plain.iter().zip(&renamed) {
        let kind = plain.kind();
        let count = |s: &ServerProcess| int(&replies(s, "127.0.0.1", &[&["COMMAND", "COUNT"]])[0]);
        assert_eq!(count(renamed), count(plain) - 1, "{kind:?}: COMMAND COUNT");
        let mut conn = renamed.connect();
        let all = conn.cmd(&["COMMAND"]);
        let soquete_resp::Frame::Array(all) = all else {
            panic!("{kind:?}: COMMAND: {all:?}")
        };
        assert_eq!(all.len() as i64, count(renamed), "{kind:?}: COMMAND");
        let name = |f: &soquete_resp::Frame| match f {
            soquete_resp::Frame::Array(info) => format!("{:?}", info[0]),
            other => panic!("{other:?}"),
        };
        let names: Vec<String> = all.iter().map(name).collect();
        assert!(names.iter().any(|n| n.contains("\"get\"")), "{kind:?}");
        assert!(names.iter().all(|n| !n.contains("flushall")), "{kind:?}");
        let list = conn.cmd(&["COMMAND", "LIST"]);
        let text = format!("{list:?}");
        assert!(
            text.contains("\"get\"") && !text.contains("flushall"),
            "{kind:?}: {text}"
        );
    }
}

#[test]
fn bad_rename_command_lines_stop_the_server_with_redis_words() {
    for (args, why) in [
        (
            &["--rename-command", "nosuch", "x"][..],
            "No such command in rename-command",
        ),
        (
            &["--rename-command", "get"][..],
            "Bad directive or wrong number of arguments",
        ),
        (
            &["--rename-command", "get", "set"][..],
            "Target command name already exists",
        ),
        (
            &[
                "--rename-command",
                "get",
                "a",
                "--rename-command",
                "get",
                "b",
            ][..],
            "No such command in rename-command",
        ),
    ] {
        for kind in [ServerKind::Redis, ServerKind::Soquete] {
            let err = ServerProcess::builder(kind)
                .args(args.iter().copied())
                .try_start()
                .err()
                .unwrap_or_else(|| panic!("{kind:?} started with {args:?}"));
            let text = err.to_string();
            assert!(text.contains(why), "{kind:?} {args:?}: {text}");
        }
    }
}

/// What each protected feature does for a client, run inside and outside
/// MULTI (a refusal comes before queueing, so EXEC then aborts).
const PROTECTED: &[&[&str]] = &[
    &["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
    &["MODULE", "LIST"],
    &["MODULE", "HELP"],
    &["MODULE", "LOAD", "/nonexistent/module.so"],
    &["MODULE", "LOADEX", "/nonexistent/module.so", "ARGS", "a"],
    &["MODULE", "UNLOAD", "nosuch"],
    &["CONFIG", "SET", "dbfilename", "other.rdb"],
    &["CONFIG", "SET", "dir", "."],
    &["CONFIG", "SET", "maxmemory", "0"],
    &["CONFIG", "SET", "enable-protected-configs", "yes"],
    &["CONFIG", "GET", "enable-protected-configs"],
    &["CONFIG", "GET", "enable-debug-command"],
    &["CONFIG", "GET", "enable-module-command"],
    &["MULTI"],
    &["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
    &["MODULE", "UNLOAD", "nosuch"],
    &["EXEC"],
];

#[test]
fn protected_commands_and_configs_follow_their_enable_options() {
    for setting in ["no", "yes", "local"] {
        let servers = pair(&[
            "--protected-mode",
            "no",
            "--enable-debug-command",
            setting,
            "--enable-module-command",
            setting,
            "--enable-protected-configs",
            setting,
        ]);
        for from in ["127.0.0.1", "127.0.0.2"] {
            assert_same(&servers, from, PROTECTED, &format!("enable-* {setting}"));
        }
    }
}

#[test]
fn unix_socket_clients_are_local() {
    let dir = tempfile::tempdir().unwrap();
    for kind in [ServerKind::Redis, ServerKind::Soquete] {
        let path = dir.path().join(format!("{}.sock", kind.name()));
        let path_arg = path.to_str().unwrap();
        let _server = start(
            kind,
            &[
                "--unixsocket",
                path_arg,
                "--enable-debug-command",
                "local",
                "--enable-protected-configs",
                "local",
            ],
        );
        let mut sock = std::os::unix::net::UnixStream::connect(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        sock.write_all(b"DEBUG SET-ACTIVE-EXPIRE 1\r\nCONFIG SET dbfilename x.rdb\r\n")
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while got.len() < 10 {
            let n = sock.read(&mut buf).unwrap();
            assert!(n > 0, "{kind:?}: closed after {got:?}");
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"+OK\r\n+OK\r\n", "{kind:?}");
    }
}

#[test]
fn protected_mode_denies_clients_not_at_127_0_0_1() {
    let servers = pair(&[]);
    for s in &servers {
        let kind = s.kind();
        // The refusal, then the connection closes.
        let mut far = connect_from(s, "127.0.0.2");
        far.send_cmd(&["PING"]);
        let denied = far.read_raw_reply();
        assert!(denied.starts_with(b"-DENIED "), "{kind:?}");
        // Closed: end of file, or a reset (the PING was never read).
        match far.try_read_reply() {
            Ok(None) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("{kind:?}: not closed: {other:?}"),
        }
        let mut near = connect_from(s, "127.0.0.1");
        assert_eq!(
            near.cmd(&["PING"]),
            soquete_resp::Frame::Simple("PONG".into())
        );
        // A password for the default user lifts it: the client is
        // admitted and asked to authenticate.
        near.cmd(&["CONFIG", "SET", "requirepass", "secret"]);
        let mut far = connect_from(s, "127.0.0.2");
        far.send_cmd(&["PING"]);
        assert!(far.read_raw_reply().starts_with(b"-NOAUTH "), "{kind:?}");
        // So does turning protected mode off.
        near.cmd(&["AUTH", "secret"]);
        near.cmd(&["CONFIG", "SET", "requirepass", ""]);
        near.cmd(&["CONFIG", "SET", "protected-mode", "no"]);
        let mut far = connect_from(s, "127.0.0.2");
        assert_eq!(
            far.cmd(&["PING"]),
            soquete_resp::Frame::Simple("PONG".into())
        );
    }
    // The refusal's text and the count of refused connections are Redis's.
    let denied: Vec<Vec<u8>> = pair(&[])
        .iter()
        .map(|s| {
            let mut far = connect_from(s, "127.0.0.2");
            far.send_cmd(&["PING"]);
            far.read_raw_reply()
        })
        .collect();
    assert_eq!(
        String::from_utf8_lossy(&denied[1]),
        String::from_utf8_lossy(&denied[0])
    );
    assert_same(
        &servers,
        "127.0.0.1",
        &[&["CONFIG", "GET", "protected-mode"]],
        "protected mode",
    );
    for s in &servers {
        let info = replies(s, "127.0.0.1", &[&["INFO", "stats"]]).remove(0);
        let info = String::from_utf8_lossy(&info);
        assert!(
            info.contains("rejected_connections:1\r\n"),
            "{:?}: {info}",
            s.kind()
        );
    }
}
