//! MIGRATE between real servers: soquete → redis-server, soquete →
//! soquete and redis-server → soquete, for every value type, with and
//! without TTL, and the options (COPY, REPLACE, AUTH, AUTH2, KEYS, the
//! destination db), the errors (the target's passed through, timeouts,
//! unreachable targets) and the side effects (`del` events, WATCH).
//! Where the situation can be set up for both, redis-server as the source
//! is the reference: soquete must reply the same bytes and send the
//! target the same bytes.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use soquete_resp::{BytesMut, Decoder, Frame};
use soquete_testkit::wait::eventually;
use soquete_testkit::{Conn, ServerKind, ServerProcess};

fn start(kind: ServerKind, extra: &[&str]) -> ServerProcess {
    let mut b = ServerProcess::builder(kind).args(["--enable-debug-command", "local"]);
    if kind == ServerKind::Soquete {
        b = b.binary(env!("CARGO_BIN_EXE_soquete-server"));
    }
    b.args(extra.iter().copied()).start()
}

fn redis() -> ServerProcess {
    start(ServerKind::Redis, &[])
}

fn soquete() -> ServerProcess {
    start(ServerKind::Soquete, &[])
}

/// The raw reply of one command.
fn raw(c: &mut Conn, args: &[&str]) -> Vec<u8> {
    c.try_cmd(args).unwrap().raw
}

fn migrate(c: &mut Conn, port: u16, rest: &[&str]) -> Vec<u8> {
    let port = port.to_string();
    let mut args = vec!["MIGRATE", "127.0.0.1", port.as_str()];
    args.extend_from_slice(rest);
    raw(c, &args)
}

/// Builds one key of every type and encoding MIGRATE must carry, some
/// with a TTL. Returns the key names.
fn fill(c: &mut Conn) -> Vec<String> {
    let many: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let mut cmds: Vec<Vec<String>> = vec![
        vec!["SET".into(), "str".into(), "hello".into()],
        vec!["SET".into(), "long".into(), "x".repeat(500)],
        vec!["SET".into(), "int".into(), "12345".into()],
        vec![
            "SET".into(),
            "ttl_str".into(),
            "v".into(),
            "PX".into(),
            "100000".into(),
        ],
        vec![
            "RPUSH".into(),
            "list".into(),
            "a".into(),
            "1".into(),
            "c".into(),
        ],
        vec![
            "SADD".into(),
            "intset".into(),
            "1".into(),
            "2".into(),
            "300000".into(),
        ],
        vec!["SADD".into(), "set".into(), "a".into(), "b".into()],
        vec![
            "HSET".into(),
            "hash".into(),
            "f".into(),
            "v".into(),
            "g".into(),
            "2".into(),
        ],
        vec![
            "ZADD".into(),
            "zset".into(),
            "1.5".into(),
            "a".into(),
            "-2".into(),
            "b".into(),
        ],
    ];
    let mut big_list = vec!["RPUSH".to_string(), "ttl_list".into()];
    big_list.extend(many.iter().cloned());
    let mut big_set = vec!["SADD".to_string(), "big_set".into()];
    big_set.extend(many.iter().cloned());
    let mut big_hash = vec!["HSET".to_string(), "ttl_hash".into()];
    big_hash.extend(many.iter().flat_map(|m| [m.clone(), m.repeat(3)]));
    let mut big_zset = vec!["ZADD".to_string(), "big_zset".into()];
    big_zset.extend(
        many.iter()
            .enumerate()
            .flat_map(|(i, m)| [(i as f64 / 3.0).to_string(), m.clone()]),
    );
    cmds.extend([big_list, big_set, big_hash, big_zset]);
    cmds.push(vec!["PEXPIRE".into(), "ttl_list".into(), "100000".into()]);
    cmds.push(vec!["PEXPIRE".into(), "ttl_hash".into(), "100000".into()]);
    for cmd in &cmds {
        let r = c.try_cmd(cmd).unwrap();
        assert!(!r.is_error(), "{cmd:?}: {r:?}");
    }
    let Frame::Array(keys) = c.cmd(&["KEYS", "*"]) else {
        panic!("KEYS is an array")
    };
    let mut keys: Vec<String> = keys
        .iter()
        .map(|k| String::from_utf8(k.as_bytes().unwrap().to_vec()).unwrap())
        .collect();
    keys.sort();
    keys
}

fn digest(c: &mut Conn, key: &str) -> Vec<u8> {
    raw(c, &["DEBUG", "DIGEST-VALUE", key])
}

fn pttl(c: &mut Conn, key: &str) -> i64 {
    match c.cmd(&["PTTL", key]) {
        Frame::Integer(n) => n,
        f => panic!("PTTL: {f:?}"),
    }
}

/// Moves every key of every type from `src` to `dst`, one MIGRATE each.
fn every_type_migrates(src: &ServerProcess, dst: &ServerProcess) {
    let (mut s, mut d) = (src.connect(), dst.connect());
    let keys = fill(&mut s);
    assert!(keys.len() >= 13, "{keys:?}");
    for key in &keys {
        let want = digest(&mut s, key);
        let ttl = pttl(&mut s, key);
        let reply = migrate(&mut s, dst.port(), &[key, "0", "5000"]);
        assert_eq!(
            reply,
            b"+OK\r\n",
            "{key}: {}",
            String::from_utf8_lossy(&reply)
        );
        assert_eq!(raw(&mut s, &["EXISTS", key]), b":0\r\n", "{key} left");
        assert_eq!(digest(&mut d, key), want, "{key} arrived changed");
        let got = pttl(&mut d, key);
        if ttl < 0 {
            assert_eq!(got, -1, "{key}");
        } else {
            assert!(got > 0 && got <= ttl, "{key}: ttl {ttl}, now {got}");
        }
    }
}

#[test]
fn every_type_migrates_from_soquete_to_redis() {
    every_type_migrates(&soquete(), &redis());
}

#[test]
fn every_type_migrates_from_soquete_to_soquete() {
    every_type_migrates(&soquete(), &soquete());
}

#[test]
fn every_type_migrates_from_redis_to_soquete() {
    every_type_migrates(&redis(), &soquete());
}

/// Commands as received: each a list of arguments.
type Commands = Vec<Vec<Vec<u8>>>;

/// A target that records every command it receives and answers `+OK`.
struct Recorder {
    port: u16,
    seen: Arc<Mutex<Commands>>,
}

impl Recorder {
    fn start() -> Recorder {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut conn) = conn else { return };
                let log = log.clone();
                std::thread::spawn(move || {
                    let (mut dec, mut buf) = (Decoder::new(), BytesMut::new());
                    let mut chunk = [0u8; 65536];
                    loop {
                        while let Ok(Some(Frame::Array(args))) = dec.decode(&mut buf) {
                            let args = args.iter().map(|a| a.as_bytes().unwrap().to_vec());
                            log.lock().unwrap().push(args.collect());
                            if conn.write_all(b"+OK\r\n").is_err() {
                                return;
                            }
                        }
                        match conn.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                });
            }
        });
        Recorder { port, seen }
    }

    fn take(&self) -> Commands {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// The commands MIGRATE sends for one series of calls.
fn sent_by(kind: ServerKind) -> Vec<(Vec<u8>, Commands)> {
    let server = start(kind, &[]);
    let target = Recorder::start();
    let mut c = server.connect();
    for cmd in [
        &["RPUSH", "l", "a", "b", "1"][..],
        &["SET", "s", "text"],
        &["SET", "n", "7"],
        &["HSET", "h", "f", "v"],
        &["ZADD", "z", "1", "a"],
        &["SADD", "t", "1", "2"],
    ] {
        c.cmd(cmd);
    }
    let calls: [&[&str]; 6] = [
        &["l", "0", "1000"],
        &["s", "0", "1000", "COPY"],
        &["s", "0", "1000", "REPLACE", "AUTH", "pw"],
        &[
            "", "5", "1000", "AUTH2", "user", "pw", "KEYS", "n", "nope", "h",
        ],
        &["z", "5", "1000", "COPY", "REPLACE"],
        &["", "-1", "1000", "KEYS", "z", "t"],
    ];
    calls
        .iter()
        .map(|args| {
            let reply = migrate(&mut c, target.port, args);
            // The recorder logs a command before it answers it, and MIGRATE
            // returns after reading every answer.
            (reply, target.take())
        })
        .collect()
}

/// soquete sends what Redis sends: AUTH or AUTH with a user, SELECT only
/// when the destination differs from the cached connection's last one,
/// RESTORE key ttl payload [REPLACE] with byte-identical DUMP payloads.
#[test]
fn the_target_receives_what_redis_sends() {
    let want = sent_by(ServerKind::Redis);
    let got = sent_by(ServerKind::Soquete);
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(
            g,
            w,
            "call {i}: {:?} vs {:?}",
            String::from_utf8_lossy(&g.0),
            String::from_utf8_lossy(&w.0)
        );
    }
    assert_eq!(got.len(), want.len());
    // What the series checks: SELECT on the first call, then again
    // when the db changes to 5 and to -1.
    let selects: Vec<usize> = want
        .iter()
        .map(|(_, cmds)| cmds.iter().filter(|c| c[0] == b"SELECT").count())
        .collect();
    assert_eq!(selects, [1, 0, 0, 1, 0, 1]);
}

#[test]
fn keys_option_moves_the_keys_that_exist() {
    let (src, dst) = (soquete(), redis());
    let (mut s, mut d) = (src.connect(), dst.connect());
    s.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]);
    let r = migrate(
        &mut s,
        dst.port(),
        &["", "0", "5000", "KEYS", "a", "missing", "b"],
    );
    assert_eq!(r, b"+OK\r\n");
    assert_eq!(raw(&mut s, &["EXISTS", "a", "b", "c"]), b":1\r\n");
    assert_eq!(
        raw(&mut d, &["MGET", "a", "b"]),
        b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    let r = migrate(&mut s, dst.port(), &["", "0", "5000", "COPY", "KEYS", "c"]);
    assert_eq!(r, b"+OK\r\n");
    assert_eq!(raw(&mut s, &["GET", "c"]), b"$1\r\n3\r\n");
    assert_eq!(raw(&mut d, &["GET", "c"]), b"$1\r\n3\r\n");
    let r = migrate(&mut s, dst.port(), &["", "0", "5000", "KEYS", "x", "y"]);
    assert_eq!(r, b"+NOKEY\r\n");
}

/// BUSYKEY from the target is passed through (and the key stays), as
/// Redis does; REPLACE overwrites. With KEYS, keys acknowledged before
/// the error are gone from the source all the same.
#[test]
fn target_errors_pass_through_and_replace_overwrites() {
    let dst = soquete();
    let mut d = dst.connect();
    for kind in [ServerKind::Redis, ServerKind::Soquete] {
        let src = start(kind, &[]);
        let mut s = src.connect();
        d.cmd(&["FLUSHALL"]);
        d.cmd(&["SET", "k", "old"]);
        s.cmd(&["MSET", "k", "new", "first", "1"]);
        let r = migrate(&mut s, dst.port(), &["k", "0", "5000"]);
        assert_eq!(
            String::from_utf8_lossy(&r),
            "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n",
            "{kind:?}"
        );
        assert_eq!(raw(&mut s, &["GET", "k"]), b"$3\r\nnew\r\n");
        let r = migrate(&mut s, dst.port(), &["", "0", "5000", "KEYS", "first", "k"]);
        assert!(r.starts_with(b"-ERR Target instance replied with error: BUSYKEY"));
        assert_eq!(
            raw(&mut s, &["EXISTS", "first", "k"]),
            b":1\r\n",
            "{kind:?}"
        );
        let r = migrate(&mut s, dst.port(), &["k", "0", "5000", "REPLACE"]);
        assert_eq!(r, b"+OK\r\n");
        assert_eq!(raw(&mut d, &["GET", "k"]), b"$3\r\nnew\r\n");
    }
}

/// AUTH with the password of a target with requirepass, a wrong password
/// passed through as the target's error, and AUTH2 (soquete's `default`
/// user; a real ACL user on redis-server).
#[test]
fn auth_and_auth2_reach_protected_targets() {
    let protected = start(ServerKind::Soquete, &["--requirepass", "secret"]);
    let redis_dst = start(ServerKind::Redis, &["--requirepass", "secret"]);
    let mut r = redis_dst.connect();
    r.cmd(&["AUTH", "secret"]);
    r.cmd(&["ACL", "SETUSER", "mover", "on", ">pw", "~*", "+@all"]);
    for kind in [ServerKind::Redis, ServerKind::Soquete] {
        let src = start(kind, &[]);
        let mut s = src.connect();
        s.cmd(&["MSET", "a", "1", "b", "2", "c", "3", "d", "4"]);
        let p = protected.port();
        assert_eq!(
            migrate(&mut s, p, &["a", "0", "5000"]),
            b"-ERR Target instance replied with error: NOAUTH Authentication required.\r\n",
            "{kind:?}"
        );
        assert_eq!(
            String::from_utf8_lossy(&migrate(&mut s, p, &["a", "0", "5000", "AUTH", "nope"])),
            "-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.\r\n",
            "{kind:?}"
        );
        assert_eq!(
            migrate(&mut s, p, &["a", "0", "5000", "AUTH", "secret"]),
            b"+OK\r\n"
        );
        let r2 = migrate(&mut s, p, &["b", "0", "5000", "AUTH2", "default", "secret"]);
        assert_eq!(r2, b"+OK\r\n", "{kind:?}");
        let rp = redis_dst.port();
        assert_eq!(
            migrate(&mut s, rp, &["c", "0", "5000", "AUTH2", "mover", "pw"]),
            b"+OK\r\n"
        );
        assert_eq!(raw(&mut s, &["EXISTS", "a", "b", "c"]), b":0\r\n");
        let mut p_conn = protected.connect();
        p_conn.cmd(&["AUTH", "secret"]);
        assert_eq!(
            raw(&mut p_conn, &["MGET", "a", "b"]),
            b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
        );
        p_conn.cmd(&["FLUSHALL"]);
        assert_eq!(raw(&mut r, &["GET", "c"]), b"$1\r\n3\r\n");
        r.cmd(&["DEL", "c"]);
    }
}

#[test]
fn destination_db_is_selected_and_bad_dbs_are_the_targets_error() {
    let (src, dst) = (soquete(), soquete());
    let (mut s, mut d) = (src.connect(), dst.connect());
    s.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(migrate(&mut s, dst.port(), &["a", "3", "5000"]), b"+OK\r\n");
    assert_eq!(migrate(&mut s, dst.port(), &["b", "3", "5000"]), b"+OK\r\n");
    assert_eq!(
        migrate(&mut s, dst.port(), &["c", "99", "5000"]),
        b"-ERR Target instance replied with error: ERR DB index is out of range\r\n"
    );
    assert_eq!(migrate(&mut s, dst.port(), &["c", "0", "5000"]), b"+OK\r\n");
    // As with Redis as the source: when SELECT 99 failed, the RESTORE
    // sent with it ran in the database the connection had (3), and the
    // source kept c for the error.
    d.cmd(&["SELECT", "3"]);
    assert_eq!(
        raw(&mut d, &["MGET", "a", "b", "c"]),
        b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    d.cmd(&["SELECT", "0"]);
    assert_eq!(raw(&mut d, &["GET", "c"]), b"$1\r\n3\r\n");
}

/// A target that accepts the connection (the kernel does) but never
/// answers: MIGRATE gives up after its timeout, once (no retry after a
/// timeout), and the key stays.
#[test]
fn a_silent_target_times_out() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    for kind in [ServerKind::Redis, ServerKind::Soquete] {
        let src = start(kind, &[]);
        let mut s = src.connect();
        s.cmd(&["SET", "k", "v"]);
        let started = Instant::now();
        let r = migrate(&mut s, port, &["k", "0", "200"]);
        let took = started.elapsed();
        assert_eq!(
            String::from_utf8_lossy(&r),
            "-IOERR error or timeout reading to target instance\r\n",
            "{kind:?}"
        );
        assert!(
            took >= Duration::from_millis(190) && took < Duration::from_secs(3),
            "{kind:?}: {took:?}"
        );
        assert_eq!(raw(&mut s, &["GET", "k"]), b"$1\r\nv\r\n");
    }
    drop(silent);
}

/// A refused connection fails on the write, as Redis's connect does not
/// look at the outcome; a name that does not resolve fails to connect.
#[test]
fn unreachable_targets_answer_as_redis() {
    let closed_port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().to_string()
    };
    let (r, s) = (redis(), soquete());
    let (mut rc, mut sc) = (r.connect(), s.connect());
    for args in [
        &["127.0.0.1", closed_port.as_str(), "k", "0", "500"][..],
        &["", "6379", "k", "0", "500"],
        &["no.such.host.invalid", "6379", "k", "0", "500"],
        &["127.0.0.1", "0", "k", "0", "500", "COPY"],
    ] {
        let mut full = vec!["MIGRATE"];
        full.extend_from_slice(args);
        for c in [&mut rc, &mut sc] {
            c.cmd(&["SET", "k", "v"]);
        }
        assert_eq!(raw(&mut sc, &full), raw(&mut rc, &full), "{args:?}");
    }
}

/// Each key MIGRATE deletes raises `del` and fails a WATCH on it; COPY
/// deletes nothing and fails no WATCH. Redis as the source does the same.
#[test]
fn deletions_raise_del_events_and_touch_watched_keys() {
    let dst = soquete();
    for kind in [ServerKind::Redis, ServerKind::Soquete] {
        dst.connect().cmd(&["FLUSHALL"]);
        let src = start(kind, &[]);
        let mut s = src.connect();
        s.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        s.cmd(&["MSET", "a", "1", "b", "2"]);
        let mut sub = src.connect();
        sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
        let mut w = src.connect();
        w.cmd(&["WATCH", "a"]);
        assert_eq!(
            migrate(&mut s, dst.port(), &["a", "0", "5000", "COPY"]),
            b"+OK\r\n"
        );
        w.cmd(&["MULTI"]);
        w.cmd(&["PING"]);
        assert_eq!(
            raw(&mut w, &["EXEC"]),
            b"*1\r\n+PONG\r\n",
            "{kind:?}: COPY touches nothing"
        );
        w.cmd(&["WATCH", "a"]);
        let r = migrate(
            &mut s,
            dst.port(),
            &["", "0", "5000", "REPLACE", "KEYS", "a", "b"],
        );
        assert_eq!(r, b"+OK\r\n");
        w.cmd(&["MULTI"]);
        w.cmd(&["PING"]);
        assert_eq!(raw(&mut w, &["EXEC"]), b"*-1\r\n", "{kind:?}");
        let mut events = Vec::new();
        for _ in 0..4 {
            let Frame::Array(m) = sub.read_frame() else {
                panic!("a pmessage")
            };
            events.push((
                m[2].as_bytes().unwrap().to_vec(),
                m[3].as_bytes().unwrap().to_vec(),
            ));
        }
        let pairs: Vec<(String, String)> = events
            .iter()
            .map(|(c, p)| {
                (
                    String::from_utf8_lossy(c).into(),
                    String::from_utf8_lossy(p).into(),
                )
            })
            .collect();
        let want = [
            ("__keyspace@0__:a", "del"),
            ("__keyevent@0__:del", "a"),
            ("__keyspace@0__:b", "del"),
            ("__keyevent@0__:del", "b"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(c, p)| (c.to_string(), p.to_string()))
            .collect();
        assert_eq!(pairs, want, "{kind:?}");
    }
}

/// The connection is cached (INFO `migrate_cached_sockets`) and closed
/// after more than 10 idle seconds, by the cron, as in Redis.
#[test]
fn cached_connections_close_after_ten_idle_seconds() {
    let (src, dst) = (soquete(), soquete());
    let mut s = src.connect();
    s.cmd(&["SET", "k", "v"]);
    assert_eq!(migrate(&mut s, dst.port(), &["k", "0", "5000"]), b"+OK\r\n");
    let cached = |s: &mut Conn| {
        let info = raw(s, &["INFO", "stats"]);
        let text = String::from_utf8_lossy(&info).into_owned();
        text.lines()
            .find_map(|l| {
                l.strip_prefix("migrate_cached_sockets:")
                    .map(|n| n.trim().to_owned())
            })
            .unwrap()
    };
    assert_eq!(cached(&mut s), "1");
    let start = Instant::now();
    eventually(
        "the idle connection is closed",
        Duration::from_secs(20),
        || (cached(&mut s) == "0").then_some(()),
    );
    assert!(
        start.elapsed() >= Duration::from_secs(9),
        "{:?}",
        start.elapsed()
    );
    let mut d = dst.connect();
    assert_eq!(raw(&mut d, &["GET", "k"]), b"$1\r\nv\r\n");
}

/// AUTH and AUTH2 arguments show as `(redacted)` in MONITOR, even when
/// the command then fails, as in Redis.
#[test]
fn passwords_are_redacted_in_monitor() {
    let lines = |kind: ServerKind| {
        let server = start(kind, &[]);
        let mut m = server.connect();
        m.cmd(&["MONITOR"]);
        let mut c = server.connect();
        for args in [
            &["MIGRATE", "h", "p", "k", "0", "5", "AUTH2", "user", "pass"][..],
            &["MIGRATE", "h", "p", "k", "0", "5", "AUTH", "secret", "foo"],
        ] {
            c.try_cmd(args).unwrap();
        }
        (0..2)
            .map(|_| match m.read_frame() {
                Frame::Simple(line) => {
                    let line = String::from_utf8_lossy(&line).into_owned();
                    line.split_once("] ").unwrap().1.to_owned()
                }
                f => panic!("a MONITOR line: {f:?}"),
            })
            .collect::<Vec<_>>()
    };
    let want = lines(ServerKind::Redis);
    assert_eq!(
        want[0],
        r#""MIGRATE" "h" "p" "k" "0" "5" "AUTH2" "(redacted)" "(redacted)""#
    );
    assert_eq!(lines(ServerKind::Soquete), want);
}
