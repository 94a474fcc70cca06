//! The `redis` crate (redis-rs, sync API) as an independent client: the same
//! calls against real `redis-server` and against soquete must give the same
//! results. Each session records what every call returned; the two
//! transcripts are compared line by line, and key results are also checked
//! outright.

use std::collections::HashSet;

use redis::{Commands, RedisResult, ScanOptions, Value};
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

/// Both servers, fresh: Redis (the reference) and ours.
fn pair() -> [ServerProcess; 2] {
    [redis(&[]), soquete(&["--threads", "2"])]
}

fn connect(server: &ServerProcess, query: &str) -> redis::Connection {
    let url = format!("redis://127.0.0.1:{}/{query}", server.port());
    redis::Client::open(url.as_str())
        .and_then(|c| c.get_connection())
        .unwrap_or_else(|e| panic!("{}: connect {url}: {e}", server.kind()))
}

/// A result, with server errors shown by their code and text only.
fn show<T: std::fmt::Debug>(r: &RedisResult<T>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("Err({:?} {:?})", e.code(), e.detail()),
    }
}

/// Typed commands, expiry, errors and pipelines over RESP2; returns the
/// transcript.
fn typed_session(server: &ServerProcess) -> Vec<String> {
    let kind = server.kind();
    let mut con = connect(server, "");
    let mut log = Vec::new();
    macro_rules! rec {
        ($e:expr) => {{
            let r = $e;
            log.push(format!("{} => {}", stringify!($e), show(&r)));
            r
        }};
    }
    let _: () = rec!(con.set("a", "b")).expect("SET");
    let a: Option<String> = rec!(con.get("a")).expect("GET");
    assert_eq!(a.as_deref(), Some("b"), "{kind}");
    let none: Option<String> = rec!(con.get("nokey")).expect("GET");
    assert_eq!(none, None, "{kind}");
    let many: Vec<Option<String>> = rec!(con.mget(&["a", "nokey"])).expect("MGET");
    assert_eq!(many, vec![Some("b".to_string()), None], "{kind}");
    let _: () = rec!(con.mset(&[("m1", "1"), ("m2", "2")])).expect("MSET");
    let m: (i64, i64) = rec!(con.mget(&["m1", "m2"])).expect("MGET as a tuple");
    assert_eq!(m, (1, 2), "{kind}");
    let n: i64 = rec!(con.incr("n", 1)).expect("INCR");
    assert_eq!(n, 1, "{kind}");
    let n: i64 = rec!(con.incr("n", 41)).expect("INCRBY");
    assert_eq!(n, 42, "{kind}");
    let n: i64 = rec!(con.decr("n", 2)).expect("DECRBY");
    assert_eq!(n, 40, "{kind}");
    let f: f64 = rec!(con.incr("f", 2.5)).expect("INCRBYFLOAT");
    assert_eq!(f, 2.5, "{kind}");
    let bad: RedisResult<i64> = rec!(con.incr("a", 1));
    let e = bad.expect_err("INCR of a non-number");
    assert_eq!(e.code(), Some("ERR"), "{kind}");
    assert_eq!(
        e.detail(),
        Some("value is not an integer or out of range"),
        "{kind}"
    );
    // Expiry: the TTL itself depends on timing, so only its range is logged.
    let set: bool = rec!(con.expire("a", 100)).expect("EXPIRE");
    assert!(set, "{kind}");
    let ttl: i64 = con.ttl("a").expect("TTL");
    assert!((98..=100).contains(&ttl), "{kind}: TTL {ttl}");
    let pttl: i64 = con.pttl("a").expect("PTTL");
    assert!((98_000..=100_000).contains(&pttl), "{kind}: PTTL {pttl}");
    let _: i64 = rec!(con.ttl("nokey")).expect("TTL of a missing key");
    let _: bool = rec!(con.persist("a")).expect("PERSIST");
    let _: i64 = rec!(con.ttl("a")).expect("TTL after PERSIST");
    let _: () = rec!(con.set_ex("tmp", "v", 50)).expect("SETEX");
    let ttl: i64 = con.ttl("tmp").expect("TTL");
    assert!((48..=50).contains(&ttl), "{kind}: TTL {ttl}");
    let _: bool = rec!(con.exists("a")).expect("EXISTS");
    let _: i64 = rec!(con.del(&["a", "n", "nokey"])).expect("DEL");
    let _: Option<String> = rec!(con.get_del("tmp")).expect("GETDEL");
    let _: i64 = rec!(con.append("s", "hello")).expect("APPEND");
    let _: i64 = rec!(con.strlen("s")).expect("STRLEN");
    let _: String = rec!(con.getrange("s", 1, 3)).expect("GETRANGE");
    let _: bool = rec!(con.set_nx("s", "other")).expect("SETNX");
    let _: Value = rec!(redis::cmd("TYPE").arg("s").query::<Value>(&mut con)).expect("TYPE");
    let _: Value = rec!(redis::cmd("PING").query::<Value>(&mut con)).expect("PING");
    let _: RedisResult<Value> = rec!(redis::cmd("GET").query::<Value>(&mut con));
    let _: RedisResult<Value> = rec!(redis::cmd("NOSUCHCOMMAND").arg(1).query::<Value>(&mut con));
    let binary: Vec<u8> = vec![0, 255, b'\r', b'\n', 7];
    let _: () = rec!(con.set("bin", binary.as_slice())).expect("SET binary");
    let back: Vec<u8> = rec!(con.get("bin")).expect("GET binary");
    assert_eq!(back, binary, "{kind}");

    // A pipeline: every reply in order.
    let (x, y, z): (String, i64, Vec<String>) = rec!(redis::pipe()
        .set("p1", "one")
        .ignore()
        .get("p1")
        .incr("p2", 5)
        .mget(&["p1", "p1"])
        .query(&mut con))
    .expect("pipeline");
    assert_eq!((x.as_str(), y, z.len()), ("one", 5, 2), "{kind}");
    // An error in the middle fails the whole query by default, yet every
    // command ran and the connection stays usable.
    let failed: RedisResult<Vec<Value>> = rec!(redis::pipe()
        .set("e", "notanumber")
        .incr("e", 1)
        .set("after", "ran")
        .query(&mut con));
    assert!(failed.is_err(), "{kind}");
    let after: String = rec!(con.get("after")).expect("GET after a failed pipeline");
    assert_eq!(after, "ran", "{kind}");
    // With ignore_errors each reply is its own result.
    let each: Vec<RedisResult<Value>> = redis::pipe()
        .set("e", "x")
        .incr("e", 1)
        .get("e")
        .ignore_errors()
        .query(&mut con)
        .expect("pipeline with ignore_errors");
    log.push(format!(
        "ignore_errors => {:?}",
        each.iter().map(show).collect::<Vec<_>>()
    ));
    assert!(
        each[0].is_ok() && each[1].is_err() && each[2].is_ok(),
        "{kind}: {each:?}"
    );
    // Atomic: MULTI/EXEC around the same commands.
    let (v1, v2): (i64, Vec<i64>) = rec!(redis::pipe()
        .atomic()
        .incr("t", 10)
        .ignore()
        .incr("t", 1)
        .mget(&["t", "t"])
        .query(&mut con))
    .expect("atomic pipeline");
    assert_eq!((v1, v2), (11, vec![11, 11]), "{kind}");
    let inside: Vec<RedisResult<Value>> = redis::pipe()
        .atomic()
        .set("z", "x")
        .incr("z", 1)
        .get("z")
        .ignore_errors()
        .query(&mut con)
        .expect("atomic pipeline with ignore_errors");
    log.push(format!(
        "atomic ignore_errors => {:?}",
        inside.iter().map(show).collect::<Vec<_>>()
    ));
    log
}

#[test]
fn typed_commands_and_pipelines_match_redis() {
    let [redis, ours] = pair();
    let want = typed_session(&redis);
    let got = typed_session(&ours);
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(g, w, "soquete and redis-server differ");
    }
    assert_eq!(got.len(), want.len());
}

#[test]
fn scan_iterators_see_every_key() {
    for server in pair() {
        let kind = server.kind();
        let mut con = connect(&server, "");
        let mut pipe = redis::pipe();
        let mut expected = HashSet::new();
        for i in 0..1000 {
            let k = format!("scan:{i}");
            pipe.set(&k, i).ignore();
            expected.insert(k);
        }
        for i in 0..50 {
            pipe.set(format!("other:{i}"), i).ignore();
        }
        let _: () = pipe.query(&mut con).expect("fill");
        let matched: HashSet<String> = con
            .scan_match::<_, String>("scan:*")
            .expect("SCAN MATCH")
            .collect::<RedisResult<_>>()
            .expect("every SCAN page");
        assert_eq!(matched, expected, "{kind}: SCAN MATCH scan:*");
        let all: HashSet<String> = con
            .scan::<String>()
            .expect("SCAN")
            .collect::<RedisResult<_>>()
            .expect("every SCAN page");
        assert_eq!(all.len(), 1050, "{kind}: SCAN");
        let opts = ScanOptions::default()
            .with_count(7)
            .with_pattern("scan:99*");
        let small: HashSet<String> = con
            .scan_options::<String>(opts)
            .expect("SCAN COUNT 7")
            .collect::<RedisResult<_>>()
            .expect("every SCAN page");
        let want: HashSet<String> = ["scan:99", "scan:990", "scan:991", "scan:992"]
            .into_iter()
            .map(String::from)
            .chain((993..=999).map(|i| format!("scan:{i}")))
            .collect();
        assert_eq!(small, want, "{kind}: SCAN COUNT 7 MATCH scan:99*");
    }
}

/// The same calls over a RESP3 connection (`?protocol=resp3`: HELLO 3 at
/// connect); returns the transcript.
fn resp3_session(server: &ServerProcess) -> Vec<String> {
    let kind = server.kind();
    let mut con = connect(server, "?protocol=resp3");
    let mut log = Vec::new();
    let mut q = |args: &[&str]| -> Value {
        let mut c = redis::cmd(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        let r = c.query::<Value>(&mut con);
        log.push(format!("{args:?} => {}", show(&r)));
        r.unwrap_or_else(|e| panic!("{kind}: {args:?}: {e}"))
    };
    assert_eq!(q(&["SET", "k", "v"]), Value::Okay, "{kind}");
    assert_eq!(q(&["GET", "nokey"]), Value::Nil, "{kind}");
    assert_eq!(
        q(&["CONFIG", "GET", "maxclients"]),
        Value::Map(vec![(
            Value::BulkString(b"maxclients".to_vec()),
            Value::BulkString(b"10000".to_vec())
        )]),
        "{kind}: CONFIG GET is a map in RESP3"
    );
    q(&["SET", "k1", "ohmytext"]);
    q(&["SET", "k2", "mynewtext"]);
    let lcs = q(&["LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]);
    assert!(
        matches!(lcs, Value::Map(_)),
        "{kind}: LCS IDX is a map: {lcs:?}"
    );
    q(&["MGET", "k", "nokey"]);
    q(&["INCRBYFLOAT", "f", "1.25"]);
    q(&["PING"]);
    q(&["ECHO", "x"]);
    q(&["EXISTS", "k", "nokey"]);
    q(&["TYPE", "k"]);
    q(&["SCAN", "0", "MATCH", "nomatch*"]);
    q(&["OBJECT", "ENCODING", "k"]);
    let hello = q(&["HELLO", "3"]);
    let Value::Map(fields) = hello else {
        panic!("{kind}: HELLO 3 is a map: {hello:?}");
    };
    let proto = fields
        .iter()
        .find(|(k, _)| *k == Value::BulkString(b"proto".to_vec()))
        .map(|(_, v)| v.clone());
    assert_eq!(proto, Some(Value::Int(3)), "{kind}");
    let mut log_without_hello = log;
    log_without_hello.pop();
    log_without_hello
}

#[test]
fn resp3_connection_matches_redis() {
    let [redis, ours] = pair();
    let want = resp3_session(&redis);
    let got = resp3_session(&ours);
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(g, w, "soquete and redis-server differ");
    }
    assert_eq!(got.len(), want.len());
}

#[test]
fn database_and_auth_in_the_url() {
    let [redis, ours] = [
        redis(&["--requirepass", "pw"]),
        soquete(&["--requirepass", "pw"]),
    ];
    for server in [&redis, &ours] {
        let kind = server.kind();
        let url = format!("redis://:pw@127.0.0.1:{}/3", server.port());
        let mut db3 = redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection())
            .unwrap_or_else(|e| panic!("{kind}: {url}: {e}"));
        let _: () = db3.set("where", "db3").expect("SET in db 3");
        let mut db0 = redis::Client::open(format!("redis://:pw@127.0.0.1:{}/0", server.port()))
            .and_then(|c| c.get_connection())
            .expect("connect to db 0");
        let there: Option<String> = db0.get("where").expect("GET in db 0");
        assert_eq!(there, None, "{kind}: databases are separate");
        let here: Option<String> = db3.get("where").expect("GET in db 3");
        assert_eq!(here.as_deref(), Some("db3"), "{kind}");
        let wrong = redis::Client::open(format!("redis://:nope@127.0.0.1:{}/", server.port()))
            .and_then(|c| c.get_connection());
        assert!(wrong.is_err(), "{kind}: a wrong password must fail");
    }
}

/// redis-rs's `Script`: EVALSHA first, EVAL when the server answers
/// NOSCRIPT (a fresh server, and again after SCRIPT FLUSH), with keys and
/// arguments; the values and errors it returns are the same as Redis's.
fn script_session(server: &ServerProcess) -> Vec<String> {
    let mut c = connect(server, "");
    let mut log = Vec::new();
    let incr = redis::Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    for n in 1..=3 {
        let r: RedisResult<i64> = incr.key("counter").arg(n).invoke(&mut c);
        log.push(show(&r));
    }
    let r: RedisResult<()> = redis::cmd("SCRIPT").arg("FLUSH").query(&mut c);
    log.push(show(&r));
    let r: RedisResult<i64> = incr.key("counter").arg(10).invoke(&mut c);
    log.push(show(&r));
    let pair = redis::Script::new("return {KEYS[1], ARGV[1], tonumber(ARGV[2]) * 2}");
    let r: RedisResult<(String, String, i64)> = pair.key("k").arg("a").arg(21).invoke(&mut c);
    log.push(show(&r));
    let failing = redis::Script::new("return redis.call('INCR', KEYS[1])");
    let _: RedisResult<()> = c.set("text", "abc");
    let r: RedisResult<i64> = failing.key("text").invoke(&mut c);
    log.push(show(&r));
    let r: RedisResult<Vec<String>> = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("#!lua name=lib\nredis.register_function('echo2', function(keys, args) return {args[1], args[1]} end)")
        .query(&mut c)
        .map(|name: String| vec![name]);
    log.push(show(&r));
    let r: RedisResult<Vec<String>> = redis::cmd("FCALL")
        .arg("echo2")
        .arg(0)
        .arg("hi")
        .query(&mut c);
    log.push(show(&r));
    log
}

#[test]
fn scripts_through_redis_rs_match_redis() {
    let [redis_server, ours] = pair();
    let expected = script_session(&redis_server);
    let got = script_session(&ours);
    assert_eq!(got, expected);
    assert_eq!(expected[2], "Ok(6)", "the script ran: {expected:?}");
}
