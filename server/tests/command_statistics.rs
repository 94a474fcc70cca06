//! INFO commandstats, errorstats and the error/command totals of INFO stats
//! match real `redis-server` after the same mix of commands: calls,
//! rejected calls (refused before running) and failed calls (the command
//! replied with an error) per command, and error replies per code word.
//! soquete runs two event loops here, so the figures are also summed
//! across loops.

use std::collections::BTreeMap;
use std::time::Duration;

use soquete_resp::Frame;
use soquete_testkit::wait::eventually;
use soquete_testkit::{Conn, ServerKind, ServerProcess};

fn soquete() -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .args(["--threads", "2"])
        .start()
}

fn info(c: &mut Conn, section: &str) -> String {
    match c.cmd(&["INFO", section]) {
        Frame::Bulk(b) | Frame::Verbatim { text: b, .. } => {
            String::from_utf8_lossy(&b).into_owned()
        }
        other => panic!("INFO {section} replied {other:?}"),
    }
}

/// `name -> (calls, rejected_calls, failed_calls)` from INFO commandstats.
fn command_counts(c: &mut Conn) -> BTreeMap<String, (u64, u64, u64)> {
    let text = info(c, "commandstats");
    let mut m = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("cmdstat_")) {
        let (name, fields) = line.split_once(':').expect("name:fields");
        let field = |k: &str| -> u64 {
            fields
                .split(',')
                .find_map(|f| f.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {k} in {line}"))
        };
        m.insert(
            name.trim_start_matches("cmdstat_").to_string(),
            (
                field("calls"),
                field("rejected_calls"),
                field("failed_calls"),
            ),
        );
    }
    m
}

/// The lines of INFO errorstats.
fn error_counts(c: &mut Conn) -> Vec<String> {
    info(c, "errorstats")
        .lines()
        .filter(|l| l.starts_with("errorstat_"))
        .map(str::to_string)
        .collect()
}

fn stat(c: &mut Conn, name: &str) -> u64 {
    let text = info(c, "stats");
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in INFO stats"))
}

fn run(c: &mut Conn, line: &str) -> Frame {
    c.cmd(&line.split(' ').collect::<Vec<_>>())
}

/// One client's share of the mix: successes, arity and unknown-command
/// rejections, failures of several codes, transactions (a queued error
/// aborts EXEC; errors inside EXEC fail their own command, not EXEC), a
/// pipelined batch, and the subscribed-context refusal.
fn mix(c: &mut Conn, n: usize) {
    for line in [
        "SET k 1",
        "GET k",
        "GET",
        "GET k k",
        "NOSUCH x",
        "CONFIG NOSUCH",
        "CONFIG",
        "CONFIG GET",
        "LPUSH k x",
        "INCRBY k x",
        "INCR k",
        "SET k v EX 0",
        "SET k v XX NX",
        "HSET h f",
        "ZADD z x m",
        "HGET h",
        "OBJECT ENCODING k",
        "OBJECT ENCODING nosuch",
        "CLIENT LIST x",
        "MULTI",
        "SET q 1",
        "GET",
        "EXEC",
        "MULTI",
        "INCR k",
        "LPUSH k x",
        "EXEC",
        "EXEC",
        "DISCARD",
        "MULTI",
        "WATCH k",
        "DISCARD",
        "BLPOP nosuch 0.01",
        "SELECT 99",
    ] {
        run(c, line);
    }
    // A pipelined batch: one read, several commands and errors.
    let mut batch = Vec::new();
    for i in 0..n {
        batch.extend(soquete_testkit::conn::command_bytes(&[
            "INCR",
            &format!("p{i}"),
        ]));
        batch.extend(soquete_testkit::conn::command_bytes(&["GET"]));
        batch.extend(soquete_testkit::conn::command_bytes(&["LPUSH", "k", "x"]));
    }
    c.send(&batch);
    for _ in 0..3 * n {
        c.read_frame();
    }
    run(c, "SUBSCRIBE ch");
    run(c, "GET k");
    run(c, "PING");
    run(c, "UNSUBSCRIBE ch");
}

fn run_mix(server: &ServerProcess) -> Vec<Conn> {
    let mut first = server.connect();
    run(&mut first, "FLUSHALL");
    run(&mut first, "CONFIG RESETSTAT");
    let mut conns: Vec<Conn> = (0..3).map(|_| server.connect()).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        mix(c, 5 + i);
    }
    // Authentication: refused commands, a wrong password, then in.
    run(&mut first, "CONFIG SET requirepass secret");
    let mut locked = server.connect();
    run(&mut locked, "GET k");
    run(&mut locked, "CLIENT LIST");
    run(&mut locked, "AUTH wrong");
    run(&mut locked, "AUTH secret");
    run(&mut locked, "CONFIG SET requirepass");
    locked.cmd(&["CONFIG", "SET", "requirepass", ""]);
    conns.push(first);
    conns.push(locked);
    conns
}

#[test]
fn command_and_error_counters_match_redis() {
    let redis = ServerProcess::redis();
    let ours = soquete();
    let mut r = run_mix(&redis);
    let mut s = run_mix(&ours);
    let (r, s) = (r.last_mut().unwrap(), s.last_mut().unwrap());
    let (rc, sc) = (command_counts(r), command_counts(s));
    assert!(rc.contains_key("get"), "the mix ran: {rc:?}");
    assert_eq!(rc, sc, "INFO commandstats (calls, rejected, failed)");
    assert_eq!(error_counts(r), error_counts(s), "INFO errorstats");
    for name in ["total_error_replies", "total_commands_processed"] {
        assert_eq!(stat(r, name), stat(s, name), "{name}");
    }
}

#[test]
fn resetstat_clears_command_error_and_traffic_counters() {
    let redis = ServerProcess::redis();
    let ours = soquete();
    for server in [&redis, &ours] {
        let mut c = server.connect();
        mix(&mut c, 3);
        run(&mut c, "CONFIG RESETSTAT");
        let counts = command_counts(&mut c);
        assert_eq!(
            counts.into_iter().collect::<Vec<_>>(),
            vec![("config|resetstat".to_string(), (1, 0, 0))],
            "{} commandstats after RESETSTAT",
            server.kind().name()
        );
        assert!(error_counts(&mut c).is_empty(), "errorstats emptied");
        let latency = info(&mut c, "latencystats");
        assert!(
            !latency.contains("_get:"),
            "{}: latency histograms dropped: {latency}",
            server.kind().name()
        );
        for (name, want) in [
            ("total_error_replies", 0),
            ("total_connections_received", 0),
            ("keyspace_hits", 0),
            ("keyspace_misses", 0),
            ("rejected_connections", 0),
        ] {
            assert_eq!(
                stat(&mut c, name),
                want,
                "{name} on {}",
                server.kind().name()
            );
        }
        // RESETSTAT and the INFO calls above: counted from zero again.
        assert_eq!(stat(&mut c, "total_commands_processed"), 9);
        assert!(stat(&mut c, "total_reads_processed") > 0);
        assert!(stat(&mut c, "total_writes_processed") > 0);
    }
}

#[test]
fn instantaneous_ops_per_sec_follows_the_load() {
    let ours = soquete();
    let mut c = ours.connect();
    let mut batch = Vec::new();
    for _ in 0..2000 {
        batch.extend(soquete_testkit::conn::command_bytes(&["PING"]));
    }
    let ops = eventually(
        "instantaneous_ops_per_sec > 0",
        Duration::from_secs(10),
        || {
            c.send(&batch);
            for _ in 0..2000 {
                c.read_frame();
            }
            let ops = stat(&mut c, "instantaneous_ops_per_sec");
            (ops > 0).then_some(ops)
        },
    );
    assert!(ops > 0);
    let text = info(&mut c, "stats");
    let kbps = text
        .lines()
        .find_map(|l| l.strip_prefix("instantaneous_input_kbps:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .expect("instantaneous_input_kbps");
    assert!(kbps > 0.0, "input rate sampled too: {text}");
}

#[test]
fn a_served_blocked_command_records_its_failure_and_latency_as_redis() {
    let redis = ServerProcess::redis();
    let ours = soquete();
    for server in [&redis, &ours] {
        let name = server.kind().name();
        let (mut c, mut waiter) = (server.connect(), server.connect());
        run(&mut c, "SET dst x");
        run(&mut c, "CONFIG RESETSTAT");
        waiter.send_cmd(&["BLMOVE", "src", "dst", "LEFT", "LEFT", "0"]);
        eventually("the waiter blocks", Duration::from_secs(5), || {
            info(&mut c, "clients")
                .contains("blocked_clients:1")
                .then_some(())
        });
        // Served, with an error: the destination holds a string.
        run(&mut c, "LPUSH src a");
        assert!(matches!(waiter.read_frame(), Frame::Error(_)), "{name}");
        let counts = command_counts(&mut c);
        assert_eq!(counts.get("blmove"), Some(&(1, 0, 1)), "{name}: {counts:?}");
        // The waiter's error is not the pushing command's failure.
        assert_eq!(counts.get("lpush"), Some(&(1, 0, 0)), "{name}: {counts:?}");
        assert_eq!(
            error_counts(&mut c),
            vec!["errorstat_WRONGTYPE:count=1"],
            "{name}"
        );
        let latency = info(&mut c, "latencystats");
        assert!(
            latency.contains("latency_percentiles_usec_blmove:p50="),
            "{name}: {latency}"
        );
        // A timeout records no latency (Redis 7.0).
        run(&mut c, "CONFIG RESETSTAT");
        run(&mut c, "BLPOP nosuch 0.01");
        let latency = info(&mut c, "latencystats");
        assert!(!latency.contains("blpop"), "{name}: {latency}");
        assert_eq!(
            command_counts(&mut c).get("blpop"),
            Some(&(1, 0, 0)),
            "{name}"
        );
    }
}

/// The field names of an INFO section, in order.
fn info_fields(c: &mut Conn, section: &str) -> Vec<String> {
    info(c, section)
        .lines()
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_string()))
        .collect()
}

#[test]
fn info_cpu_has_redis_fields_with_the_main_thread_times() {
    let redis = ServerProcess::redis();
    let ours = soquete();
    let mut c = ours.connect();
    assert_eq!(
        info_fields(&mut c, "cpu"),
        info_fields(&mut redis.connect(), "cpu")
    );
    let text = info(&mut c, "cpu");
    let field = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(':')))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    // One thread's time is part of the process's (read a moment earlier,
    // so allow a tick).
    let tick = 0.01 + 1e-9;
    assert!(field("used_cpu_sys_main_thread") <= field("used_cpu_sys") + tick);
    assert!(field("used_cpu_user_main_thread") <= field("used_cpu_user") + tick);
}
