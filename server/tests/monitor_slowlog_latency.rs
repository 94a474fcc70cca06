//! MONITOR, SLOWLOG and LATENCY against real redis-server 7.0.15: the same
//! commands on both, and what each shows compared line by line once the
//! values that must differ (clocks, ports, ids) are set aside. soquete
//! runs with two event loops, so the monitor and the clients it watches
//! sit on different loops.

use std::collections::BTreeMap;
use std::time::Duration;

use soquete_resp::Frame;
use soquete_testkit::{Conn, ServerKind, ServerProcess};

/// The binary under test, built by cargo for this test run.
const BIN: &str = env!("CARGO_BIN_EXE_soquete-server");

fn soquete(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(BIN)
        .args(["--threads", "2"])
        .args(args)
        .start()
}

fn redis(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Redis).args(args).start()
}

fn both(args: &[&str]) -> [ServerProcess; 2] {
    [redis(args), soquete(args)]
}

fn bulk(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected a string, got {other:?}"),
    }
}

/// A monitor line split into its parts, the timestamp checked for Redis's
/// shape (`<secs>.<6 digits>`): (db, client address, arguments).
fn parse_line(frame: &Frame) -> (String, String, String) {
    let Frame::Simple(line) = frame else {
        panic!("a monitor line is a status reply, got {frame:?}");
    };
    let line = String::from_utf8_lossy(line).into_owned();
    let (ts, rest) = line.split_once(" [").expect("timestamp");
    let (secs, micros) = ts.split_once('.').expect("secs.micros");
    assert!(secs.parse::<u64>().is_ok(), "{line}");
    assert!(micros.len() == 6 && micros.parse::<u32>().is_ok(), "{line}");
    let (who, args) = rest.split_once("] ").expect("[db addr]");
    let (db, addr) = who.split_once(' ').expect("db addr");
    (db.to_string(), addr.to_string(), args.to_string())
}

/// The address a connection has on the server (CLIENT INFO's `addr`).
fn own_addr(c: &mut Conn) -> String {
    let info = bulk(&c.cmd(&["CLIENT", "INFO"]));
    info.split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .expect("addr=")
        .to_string()
}

/// What a monitor saw of one server's run of `script` over `clients`
/// connections (each step: which connection, the command): for each
/// connection, its lines `db args` in order. Reads until the end marker
/// and, when given, `expected` lines in all (lines from another loop may
/// arrive after the marker).
fn monitor_run(
    server: &ServerProcess,
    clients: usize,
    script: &[(usize, &[&[u8]])],
    expected: Option<usize>,
) -> Vec<Vec<String>> {
    let mut conns: Vec<Conn> = (0..clients).map(|_| server.connect()).collect();
    let addrs: Vec<String> = conns.iter_mut().map(own_addr).collect();
    let mut mon = server.connect();
    assert_eq!(mon.cmd(&["MONITOR"]), Frame::Simple("OK".into()));
    for (i, argv) in script {
        conns[*i].cmd(argv);
    }
    conns[0].cmd(&["ECHO", "end-of-script"]);
    let mut by_conn: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    mon.set_timeout(Duration::from_secs(10)).unwrap();
    let mut seen_end = false;
    while !(seen_end && expected.is_none_or(|n| by_conn.values().map(Vec::len).sum::<usize>() >= n))
    {
        let (db, addr, args) = parse_line(&mon.read_frame());
        let Some(i) = addrs.iter().position(|a| *a == addr) else {
            panic!("{}: a line from an unknown client {addr}", server.kind());
        };
        if args == r#""ECHO" "end-of-script""# {
            seen_end = true;
        } else {
            by_conn.entry(i).or_default().push(format!("{db} {args}"));
        }
    }
    (0..clients)
        .map(|i| by_conn.remove(&i).unwrap_or_default())
        .collect()
}

#[test]
fn monitor_shows_every_loops_commands_as_redis_prints_them() {
    let script: &[(usize, &[&[u8]])] = &[
        (0, &[b"SET", b"k", b"a\"b\\c\n\x00\xff\x7f \x07\x08\t\r"]),
        (1, &[b"GET", b"k"]),
        (2, &[b"PING"]),
        (1, &[b"MULTI"]),
        (1, &[b"SET", b"x", b"1"]),
        (1, &[b"INCR", b"x"]),
        (1, &[b"EXEC"]),
        (2, &[b"SELECT", b"3"]),
        (2, &[b"LPUSH", b"list", b"a", b"b"]),
        (0, &[b"AUTH", b"secret"]),
        (0, &[b"AUTH", b"user", b"secret"]),
        (2, &[b"HELLO", b"3", b"AUTH", b"user", b"secret"]),
        (2, &[b"HELLO", b"2"]),
        (1, &[b"CONFIG", b"SET", b"requirepass", b""]),
        (1, &[b"DEBUG", b"SLEEP", b"0"]),
        (0, &[b"NOSUCH"]),
        (0, &[b"CLIENT", b"ID"]),
        (1, &[b"MULTI"]),
        (1, &[b"GET"]),
        (1, &[b"EXEC"]),
        (1, &[b"EXEC"]),
        (2, &[b"BLPOP", b"nothing", b"0.01"]),
    ];
    let [r, s] = both(&[]);
    let want = monitor_run(&r, 3, script, None);
    let got = monitor_run(&s, 3, script, Some(want.iter().map(Vec::len).sum()));
    assert_eq!(want, got);
    // Passwords never reach a monitor.
    assert!(want[0].contains(&r#"0 "AUTH" "(redacted)" "(redacted)""#.to_string()));
    assert!(!got.concat().iter().any(|l| l.contains("secret")));
}

#[test]
fn monitor_client_may_not_touch_the_keyspace_until_reset() {
    for server in both(&[]) {
        let kind = server.kind();
        let mut m = server.connect();
        assert_eq!(m.cmd(&["MONITOR"]), Frame::Simple("OK".into()), "{kind}");
        let refused = Frame::Error("ERR Replica can't interact with the keyspace".into());
        for cmd in [
            &["GET", "k"][..],
            &["SET", "k", "v"],
            &["DBSIZE"],
            &["PUBLISH", "c", "m"],
        ] {
            assert_eq!(m.cmd(cmd), refused, "{kind}: {cmd:?}");
        }
        // Commands that do not touch the keyspace run, and the monitor
        // sees its own.
        m.send_cmd(&["PING"]);
        assert_eq!(m.read_frame(), Frame::Simple("PONG".into()), "{kind}");
        let (_, _, args) = parse_line(&m.read_frame());
        assert_eq!(args, r#""PING""#, "{kind}");
        let info = bulk(&m.cmd(&["CLIENT", "INFO"]));
        assert!(info.contains(" flags=O "), "{kind}: {info}");
        let (_, _, args) = parse_line(&m.read_frame());
        assert_eq!(args, r#""CLIENT" "INFO""#, "{kind}");
        assert_eq!(m.cmd(&["RESET"]), Frame::Simple("RESET".into()), "{kind}");
        assert_eq!(
            m.cmd(&["SET", "k", "v"]),
            Frame::Simple("OK".into()),
            "{kind}"
        );
        // Out of monitor mode: nothing more arrives.
        let mut other = server.connect();
        other.cmd(&["PING"]);
        assert_eq!(m.cmd(&["PING"]), Frame::Simple("PONG".into()), "{kind}");
    }
}

#[test]
fn monitor_in_resp3_gets_the_same_status_lines() {
    for server in both(&[]) {
        let kind = server.kind();
        let mut m = server.connect();
        m.hello3();
        assert_eq!(m.cmd(&["MONITOR"]), Frame::Simple("OK".into()), "{kind}");
        let mut c = server.connect();
        c.cmd(&["SET", "k", "v"]);
        let (db, _, args) = parse_line(&m.read_frame());
        assert_eq!(
            (db.as_str(), args.as_str()),
            ("0", r#""SET" "k" "v""#),
            "{kind}"
        );
    }
}

#[test]
fn monitor_inside_exec_is_refused_and_a_second_monitor_is_silent() {
    for server in both(&[]) {
        let kind = server.kind();
        let mut c = server.connect();
        c.cmd(&["MULTI"]);
        c.cmd(&["MONITOR"]);
        assert_eq!(
            c.cmd(&["EXEC"]),
            Frame::Array(vec![Frame::Error(
                "ERR MONITOR isn't allowed for DENY BLOCKING client".into()
            )]),
            "{kind}"
        );
        assert_eq!(c.cmd(&["MONITOR"]), Frame::Simple("OK".into()), "{kind}");
        // The repeat has no reply: the next reply is PING's.
        c.send_cmd(&["MONITOR"]);
        c.send_cmd(&["PING"]);
        assert_eq!(c.read_frame(), Frame::Simple("PONG".into()), "{kind}");
    }
}

/// SLOWLOG GET's entries with the clock, duration and id set aside, the
/// address checked to be the client's.
fn slowlog_entries(c: &mut Conn, addr: &str) -> Vec<(Vec<String>, String)> {
    let Frame::Array(entries) = c.cmd(&["SLOWLOG", "GET", "-1"]) else {
        panic!("SLOWLOG GET is an array");
    };
    entries
        .into_iter()
        .map(|e| {
            let Frame::Array(f) = e else { panic!("entry") };
            assert_eq!(f.len(), 6);
            assert!(matches!(f[0], Frame::Integer(_)));
            assert!(matches!(f[1], Frame::Integer(t) if t > 1_600_000_000));
            assert!(matches!(f[2], Frame::Integer(us) if us >= 0));
            let Frame::Array(args) = &f[3] else {
                panic!("args")
            };
            assert_eq!(bulk(&f[4]), addr);
            (args.iter().map(bulk).collect(), bulk(&f[5]))
        })
        .collect()
}

#[test]
fn slowlog_shortens_and_redacts_arguments_as_redis() {
    let mut seen = Vec::new();
    for server in both(&["--slowlog-log-slower-than", "0"]) {
        let mut c = server.connect();
        let addr = own_addr(&mut c);
        c.cmd(&["SLOWLOG", "RESET"]);
        c.cmd(&["CLIENT", "SETNAME", "watcher"]);
        let long = "x".repeat(300);
        c.cmd(&["SET", "k", long.as_str()]);
        let many: Vec<String> = std::iter::once("RPUSH".to_string())
            .chain((0..40).map(|i| format!("e{i}")))
            .collect();
        c.cmd(&many);
        c.cmd(&["AUTH", "secret"]);
        c.cmd(&[
            "CONFIG",
            "SET",
            "requirepass",
            "",
            "maxmemory-policy",
            "noeviction",
        ]);
        c.cmd(&["HELLO", "2", "AUTH", "default", "secret"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["INCR", "n"]);
        c.cmd(&["EXEC"]);
        let entries = slowlog_entries(&mut c, &addr);
        assert_eq!(
            c.cmd(&["SLOWLOG", "LEN"]),
            Frame::Integer(entries.len() as i64 + 1)
        );
        seen.push(entries);
    }
    let (want, got) = (&seen[0], &seen[1]);
    assert_eq!(want, got);
    // Redis's shapes, spelled out.
    let many = &want.iter().find(|(a, _)| a[0] == "RPUSH").unwrap().0;
    assert_eq!(many.len(), 32);
    assert_eq!(many[31], "... (10 more arguments)");
    let set = &want.iter().find(|(a, _)| a[0] == "SET").unwrap().0;
    assert_eq!(set[2], format!("{}... (172 more bytes)", "x".repeat(128)));
    assert!(!got.iter().flat_map(|(a, _)| a).any(|a| a == "secret"));
}

#[test]
fn slowlog_get_counts_and_thresholds_as_redis() {
    for server in both(&["--slowlog-log-slower-than", "0"]) {
        let kind = server.kind();
        let mut c = server.connect();
        c.cmd(&["SLOWLOG", "RESET"]);
        for i in 0..15 {
            c.cmd(&["SET", "k", &i.to_string()]);
        }
        let len = |f: Frame| match f {
            Frame::Array(v) => v.len(),
            other => panic!("{kind}: {other:?}"),
        };
        assert_eq!(len(c.cmd(&["SLOWLOG", "GET"])), 10, "{kind}");
        assert_eq!(len(c.cmd(&["SLOWLOG", "GET", "3"])), 3, "{kind}");
        assert_eq!(len(c.cmd(&["SLOWLOG", "GET", "0"])), 0, "{kind}");
        assert!(len(c.cmd(&["SLOWLOG", "GET", "-1"])) >= 16, "{kind}");
        assert_eq!(
            c.cmd(&["SLOWLOG", "GET", "-2"]),
            Frame::Error("ERR count should be greater than or equal to -1".into()),
            "{kind}"
        );
        // slowlog-max-len trims; a negative threshold logs nothing.
        c.cmd(&["CONFIG", "SET", "slowlog-max-len", "5"]);
        c.cmd(&["PING"]);
        assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), Frame::Integer(5), "{kind}");
        c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
        c.cmd(&["SLOWLOG", "RESET"]);
        c.cmd(&["PING"]);
        assert_eq!(c.cmd(&["SLOWLOG", "LEN"]), Frame::Integer(0), "{kind}");
    }
}

/// LATENCY LATEST as (event, latest ms, max ms), the time checked to be
/// recent.
fn latest(c: &mut Conn) -> Vec<(String, i64, i64)> {
    let Frame::Array(events) = c.cmd(&["LATENCY", "LATEST"]) else {
        panic!("LATENCY LATEST is an array");
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut v: Vec<_> = events
        .into_iter()
        .map(|e| {
            let Frame::Array(f) = e else { panic!("event") };
            let Frame::Integer(t) = f[1] else {
                panic!("time")
            };
            assert!((t - now).abs() < 60, "time {t} vs now {now}");
            let (Frame::Integer(l), Frame::Integer(m)) = (&f[2], &f[3]) else {
                panic!("latencies")
            };
            (bulk(&f[0]), *l, *m)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn latency_records_a_slow_command_as_redis() {
    let mut seen = Vec::new();
    for server in both(&[
        "--latency-monitor-threshold",
        "50",
        "--enable-debug-command",
        "local",
    ]) {
        let kind = server.kind();
        let mut c = server.connect();
        assert_eq!(
            c.cmd(&["LATENCY", "LATEST"]),
            Frame::Array(vec![]),
            "{kind}"
        );
        c.cmd(&["DEBUG", "SLEEP", "0.12"]);
        let l = latest(&mut c);
        assert_eq!(l.len(), 1, "{kind}: {l:?}");
        let (event, last, max) = &l[0];
        assert_eq!(event, "command", "{kind}");
        assert!((120..400).contains(last) && last == max, "{kind}: {l:?}");
        let Frame::Array(history) = c.cmd(&["LATENCY", "HISTORY", "command"]) else {
            panic!("{kind}: history");
        };
        assert_eq!(history.len(), 1, "{kind}");
        let Frame::Array(sample) = &history[0] else {
            panic!("sample")
        };
        assert_eq!(sample[1], Frame::Integer(*last), "{kind}");
        // Names are exact for HISTORY, case-insensitive for RESET.
        assert_eq!(
            c.cmd(&["LATENCY", "HISTORY", "COMMAND"]),
            Frame::Array(vec![]),
            "{kind}"
        );
        let graph = bulk_or_verbatim(c.cmd(&["LATENCY", "GRAPH", "command"]));
        let title = format!("command - high {last} ms, low {last} ms (all time high {last} ms)");
        assert!(graph.starts_with(&title), "{kind}: {graph}");
        let doctor = bulk_or_verbatim(c.cmd(&["LATENCY", "DOCTOR"]));
        assert!(
            doctor.contains("1. command: 1 latency spikes"),
            "{kind}: {doctor}"
        );
        assert_eq!(
            c.cmd(&["LATENCY", "RESET", "COMMAND", "nosuch"]),
            Frame::Integer(1),
            "{kind}"
        );
        assert_eq!(
            c.cmd(&["LATENCY", "LATEST"]),
            Frame::Array(vec![]),
            "{kind}"
        );
        assert_eq!(
            c.cmd(&["LATENCY", "GRAPH", "command"]),
            Frame::Error("ERR No samples available for event 'command'".into()),
            "{kind}"
        );
        // Below the threshold: nothing.
        c.cmd(&["DEBUG", "SLEEP", "0"]);
        assert_eq!(
            c.cmd(&["LATENCY", "LATEST"]),
            Frame::Array(vec![]),
            "{kind}"
        );
        seen.push(graph.lines().count());
    }
    assert_eq!(seen[0], seen[1], "graph heights");
}

fn bulk_or_verbatim(f: Frame) -> String {
    match f {
        Frame::Verbatim { text, .. } => String::from_utf8_lossy(&text).into_owned(),
        other => bulk(&other),
    }
}
