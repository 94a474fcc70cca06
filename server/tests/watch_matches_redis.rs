//! WATCH exactly as Redis 7.0: which writes touch a watched key (only those
//! that change something), how logically expired keys are judged (Redis's
//! per-watch `expired` flag), what FLUSHALL, FLUSHDB and SWAPDB touch, and
//! blocking commands inside MULTI.
//!
//! Every scenario runs on real `redis-server` and on soquete, each with two
//! fresh connections: `A` watches and runs MULTI/EXEC, `B` changes (or does
//! not change) the keys in between. Every reply must be identical byte for
//! byte, and EXEC must fail (a null array) exactly where the table says.

use soquete_resp::Frame;
use soquete_testkit::frames::items;
use soquete_testkit::server::{ServerKind, ServerProcess};
use soquete_testkit::wait::{eventually, DEADLINE};
use soquete_testkit::Conn;

/// The scenarios, one a line: `runs` or `fails` (what EXEC does), a name,
/// `:`, then steps separated by `;`. After the steps (unless they end with
/// `A EXEC`) come `A MULTI`, `A PING`, `A EXEC`. A step is `A ARGS...` or
/// `B ARGS...` (the connection that sends it; `""` is an empty argument),
/// or a directive on `B`:
/// * `B @expire-soon KEY` gives KEY a deadline 25 ms ahead of the
///   server's clock (PEXPIREAT) and waits, reading only TIME, until the
///   clock is past it: the key is then logically expired but untouched
///   (still in the table unless active expiry took it).
/// * `B @wait-dbsize N` waits until DBSIZE is N (active expiry ran).
/// * `B @wait-blocked N` waits until INFO says N clients are blocked.
///
/// A third connection `C` serves blocking commands: `C @send ARGS...`
/// sends without reading, `C @reply` reads (and compares) one reply.
///
/// Lines starting with `#` are comments.
const SCENARIOS: &str = r#"
# Writes that change nothing touch nothing.
runs  srem of a missing member: B SADD s a; A WATCH s; B SREM s nosuch
fails srem of a member: B SADD s a b; A WATCH s; B SREM s a
fails srem of the last member: B SADD s a; A WATCH s; B SREM s a
runs  sadd of an existing member: B SADD s a; A WATCH s; B SADD s a
fails sadd of a new member: B SADD s a; A WATCH s; B SADD s b
runs  smove of a missing member: B SADD s a; A WATCH s; B SMOVE s t nosuch
runs  smove onto the same set: B SADD s a; A WATCH s; B SMOVE s s a
fails smove to another set: B SADD s a; A WATCH t; B SMOVE s t a
runs  spop of a missing key: A WATCH s; B SPOP s
runs  spop of zero members: B SADD s a; A WATCH s; B SPOP s 0
fails spop of the only member: B SADD s a; A WATCH s; B SPOP s
runs  sinterstore of nothing into a missing key: A WATCH d; B SINTERSTORE d nosuch
fails sinterstore of nothing over a key: B SET d x; A WATCH d; B SINTERSTORE d nosuch
fails sunionstore of the same members: B SADD s a; B SUNIONSTORE d s; A WATCH d; B SUNIONSTORE d s
runs  del of a missing key: A WATCH k; B DEL k
fails del of a key: B SET k v; A WATCH k; B DEL k
runs  unlink of a missing key: A WATCH k; B UNLINK k nosuch
runs  hdel of a missing field: B HSET h f v; A WATCH h; B HDEL h nosuch
fails hdel of a field: B HSET h f v g w; A WATCH h; B HDEL h f
runs  hsetnx of an existing field: B HSET h f v; A WATCH h; B HSETNX h f w
fails hset of the same value: B HSET h f v; A WATCH h; B HSET h f v
fails hincrby by zero: B HSET h n 1; A WATCH h; B HINCRBY h n 0
runs  lrem removing nothing: B RPUSH l a b; A WATCH l; B LREM l 0 nosuch
fails lrem removing an element: B RPUSH l a b; A WATCH l; B LREM l 0 a
runs  linsert without its pivot: B RPUSH l a; A WATCH l; B LINSERT l BEFORE nosuch x
fails linsert at its pivot: B RPUSH l a; A WATCH l; B LINSERT l BEFORE a x
runs  lpushx on a missing key: A WATCH l; B LPUSHX l a; B RPUSHX l a
fails lpushx on a list: B RPUSH l a; A WATCH l; B LPUSHX l b
runs  lpop of a missing key: A WATCH l; B LPOP l; B RPOP l 2
fails lpop of an element: B RPUSH l a b; A WATCH l; B LPOP l
fails ltrim keeping everything: B RPUSH l a b; A WATCH l; B LTRIM l 0 -1
fails lset of the same value: B RPUSH l a; A WATCH l; B LSET l 0 a
runs  lmove from a missing list: A WATCH d; B LMOVE nosuch d LEFT LEFT
fails lmove into a list: B RPUSH l a; A WATCH d; B LMOVE l d LEFT LEFT
runs  lmpop of missing lists: A WATCH l; B LMPOP 2 l m LEFT
runs  zadd of the same score: B ZADD z 1 a; A WATCH z; B ZADD z 1 a
fails zadd of a new score: B ZADD z 1 a; A WATCH z; B ZADD z 2 a
runs  zadd nx of an existing member: B ZADD z 1 a; A WATCH z; B ZADD z NX 5 a
runs  zadd xx on a missing key: A WATCH z; B ZADD z XX 5 a
runs  zincrby by zero: B ZADD z 1 a; A WATCH z; B ZINCRBY z 0 a
runs  zrem of a missing member: B ZADD z 1 a; A WATCH z; B ZREM z nosuch
runs  zremrangebyscore removing nothing: B ZADD z 1 a; A WATCH z; B ZREMRANGEBYSCORE z 5 9
runs  zpopmin of a missing key: A WATCH z; B ZPOPMIN z; B ZMPOP 1 z MIN
fails zpopmax of a member: B ZADD z 1 a; A WATCH z; B ZPOPMAX z
runs  zunionstore of nothing into a missing key: A WATCH d; B ZUNIONSTORE d 1 nosuch
runs  set nx on an existing key: B SET k v; A WATCH k; B SET k w NX; B SETNX k w
runs  set xx on a missing key: A WATCH k; B SET k w XX
fails set of the same value: B SET k v; A WATCH k; B SET k v
runs  msetnx that sets nothing: B SET k v; A WATCH j; B MSETNX j 1 k 2
fails mset of one watched key: A WATCH j; B MSET i 1 j 2
runs  getdel of a missing key: A WATCH k; B GETDEL k
runs  getex without options: B SET k v; A WATCH k; B GETEX k
runs  getex persist of a persistent key: B SET k v; A WATCH k; B GETEX k PERSIST
fails getex with a new deadline: B SET k v; A WATCH k; B GETEX k EX 100
runs  setrange of an empty string: B SET k v; A WATCH k; B SETRANGE k 0 ""
fails append of an empty string: B SET k v; A WATCH k; B APPEND k ""
fails incrby zero: B SET k 1; A WATCH k; B INCRBY k 0
runs  expire of a missing key: A WATCH k; B EXPIRE k 100; B PEXPIREAT k 1
runs  expire nx of a volatile key: B SET k v EX 100; A WATCH k; B EXPIRE k 200 NX
fails expire of a key: B SET k v; A WATCH k; B EXPIRE k 100
fails expire in the past: B SET k v; A WATCH k; B EXPIRE k -1
runs  persist of a persistent key: B SET k v; A WATCH k; B PERSIST k
fails persist of a volatile key: B SET k v EX 100; A WATCH k; B PERSIST k
runs  rename onto itself: B SET k v; A WATCH k; B RENAME k k
runs  renamenx onto an existing key: B SET k v; B SET d w; A WATCH k d; B RENAMENX k d
fails rename onto a watched key: B SET k v; A WATCH d; B RENAME k d
runs  copy onto an existing key: B SET k v; B SET d w; A WATCH d; B COPY k d
runs  move onto an existing key: B SET k v; B SELECT 1; B SET k w; B SELECT 0; A WATCH k; B MOVE k 1
fails move to another database: B SET k v; A WATCH k; B MOVE k 1
fails a write by the watching client itself: A WATCH k; A SET k v
runs  a write in another database: B SET k v; A WATCH k; B SELECT 1; B SET k w
runs  a watch forgotten by unwatch: A WATCH k; B SET k v; A UNWATCH
# Flushes and SWAPDB touch only watched keys that exist.
runs  flushall with the watched key missing: B SET other v; A WATCH k; B FLUSHALL
fails flushall with the watched key present: B SET k v; A WATCH k; B FLUSHALL
runs  flushdb with the watched key missing: B SET other v; A WATCH k; B FLUSHDB
fails flushdb with the watched key present: B SET k v; A WATCH k; B FLUSHDB
runs  flushdb of another database: B SET k v; A WATCH k; B SELECT 1; B FLUSHDB
fails swapdb with the watched key on this side: B SET k v; A WATCH k; B SWAPDB 0 1
fails swapdb with the watched key on the other side: B SELECT 1; B SET k v; A WATCH k; B SWAPDB 0 1
runs  swapdb with the watched key on neither side: B SET other v; A WATCH k; B SWAPDB 0 1
# Keys that expire between WATCH and EXEC.
fails a key expired but still there at exec: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; A WATCH k; B @expire-soon k
fails a key lazily expired between watch and exec: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; A WATCH k; B @expire-soon k; B EXISTS k
fails a key actively expired between watch and exec: B SET k v; B SET other v; A WATCH k; B @expire-soon k; B @wait-dbsize 1
fails an expired key deleted, then written: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; A WATCH k; B @expire-soon k; B DEL k; B SET k w
# Keys already expired (but not deleted) when watched.
runs  a stale key left alone: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; B @expire-soon k; A WATCH k
runs  a stale key deleted by del: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; B @expire-soon k; A WATCH k; B DEL k
runs  a stale key deleted by a read: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; B @expire-soon k; A WATCH k; B EXISTS k
runs  a stale key deleted by a write that fails: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; B @expire-soon k; A WATCH k; B SET k w XX
fails a stale key written again: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; B @expire-soon k; A WATCH k; B SET k w
fails a stale key deleted, then written: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; B @expire-soon k; A WATCH k; B DEL k; B SET k w
runs  a stale key flushed by flushall: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; B @expire-soon k; A WATCH k; B FLUSHALL
runs  a stale key flushed by flushdb: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; B @expire-soon k; A WATCH k; B FLUSHDB
runs  swapdb of a stale key with no key: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; B @expire-soon k; A WATCH k; B SWAPDB 0 1
runs  swapdb of no key with a stale key: B DEBUG SET-ACTIVE-EXPIRE 0; B SELECT 1; B SET k v; B @expire-soon k; A WATCH k; B SWAPDB 0 1
runs  swapdb of a stale key with a stale key: B DEBUG SET-ACTIVE-EXPIRE 0; B SET k v; B SELECT 1; B SET k w; B @expire-soon k; B SELECT 0; B @expire-soon k; A WATCH k; B SWAPDB 0 1
fails swapdb of a stale key with a live key: B DEBUG SET-ACTIVE-EXPIRE 0; B SELECT 1; B SET k live; B SELECT 0; B SET k v; B @expire-soon k; A WATCH k; B SWAPDB 0 1
fails swapdb of no key with a stale key, then written: B DEBUG SET-ACTIVE-EXPIRE 0; B SELECT 1; B SET k v; B @expire-soon k; A WATCH k; B SWAPDB 0 1; B SELECT 0; B SET k w
# A blocked client served by another's write touches what it changes.
fails a blmove served into the watched key: C @send BLMOVE l d LEFT LEFT 0; B @wait-blocked 1; A WATCH d; B RPUSH l a; C @reply
fails a blpop served from the watched key: C @send BLPOP l 0; B @wait-blocked 1; A WATCH l; B RPUSH l a; C @reply
runs  a blmove served beside the watched key: C @send BLMOVE l d LEFT LEFT 0; B @wait-blocked 1; A WATCH k; B RPUSH l a; C @reply
# Blocking commands inside MULTI answer at once, timeout ignored.
runs  blocking commands inside multi do not block: A MULTI; A BLPOP l 0; A BRPOP l m 0; A BLMOVE l d LEFT RIGHT 0; A BRPOPLPUSH l d 0; A BLMPOP 0 1 l LEFT; A BZPOPMIN z 0; A BZPOPMAX z 0; A BZMPOP 0 1 z MIN; A EXEC
runs  blocking commands inside multi take what is there: B RPUSH l a b c d e; B ZADD z 1 a 2 b 3 c 4 d; A MULTI; A BLPOP l 0; A BRPOP l m 0; A BLMOVE l d LEFT RIGHT 0; A BRPOPLPUSH l d 0; A BLMPOP 0 1 l LEFT; A BZPOPMIN z 0; A BZPOPMAX z 0; A BZMPOP 0 1 z MIN; A LRANGE d 0 -1; A EXEC
"#;

/// One parsed line of [`SCENARIOS`].
struct Scenario {
    name: &'static str,
    steps: Vec<&'static str>,
    exec_fails: bool,
}

fn scenarios() -> Vec<Scenario> {
    SCENARIOS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (outcome, rest) = line.split_once(' ').expect("an outcome");
            let (name, steps) = rest.split_once(':').expect("a name and steps");
            let exec_fails = match outcome {
                "runs" => false,
                "fails" => true,
                _ => panic!("bad outcome in {line:?}"),
            };
            Scenario {
                name: name.trim(),
                steps: steps.split(';').map(str::trim).collect(),
                exec_fails,
            }
        })
        .collect()
}

fn server(kind: ServerKind) -> ServerProcess {
    ServerProcess::builder(kind)
        .args(["--enable-debug-command", "local"])
        .start()
}

/// The server's clock, Unix ms, from TIME.
fn server_ms(conn: &mut Conn) -> u64 {
    let parts: Vec<u64> = items(conn.cmd(&["TIME"]))
        .into_iter()
        .map(|f| match f {
            Frame::Bulk(b) => std::str::from_utf8(&b).unwrap().parse().unwrap(),
            other => panic!("TIME gave {other:?}"),
        })
        .collect();
    parts[0] * 1000 + parts[1] / 1000
}

/// Runs one scenario on fresh connections; returns each step with the raw
/// bytes of its reply.
fn run(server: &ServerProcess, sc: &Scenario) -> Vec<(String, Vec<u8>)> {
    let mut a = server.connect();
    let mut b = server.connect();
    let mut c = server.connect();
    b.cmd(&["FLUSHALL"]);
    b.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    let tail: &[&str] = if sc.steps.last() == Some(&"A EXEC") {
        &[]
    } else {
        &["A MULTI", "A PING", "A EXEC"]
    };
    let mut transcript = Vec::new();
    for step in sc.steps.iter().chain(tail) {
        let (who, rest) = step.split_once(' ').expect("a step names its connection");
        let conn = match who {
            "A" => &mut a,
            "B" => &mut b,
            "C" => &mut c,
            _ => panic!("{}: bad step {step:?}", sc.name),
        };
        let args: Vec<&str> = rest
            .split_whitespace()
            .map(|w| if w == "\"\"" { "" } else { w })
            .collect();
        match args[..] {
            ["@expire-soon", key] => {
                let deadline = server_ms(conn) + 25;
                let at = deadline.to_string();
                assert_eq!(conn.cmd(&["PEXPIREAT", key, &at]), Frame::Integer(1));
                eventually("the server's clock to pass the deadline", DEADLINE, || {
                    (server_ms(conn) > deadline + 1).then_some(())
                });
            }
            ["@send", ref cmd @ ..] => conn.send_cmd(cmd),
            ["@reply"] => transcript.push((step.to_string(), conn.read_raw_reply())),
            ["@wait-blocked", n] => {
                let want = format!("blocked_clients:{n}\r\n");
                eventually("a blocked client", DEADLINE, || {
                    let Frame::Bulk(info) = conn.cmd(&["INFO", "clients"]) else {
                        panic!("INFO is a bulk string");
                    };
                    String::from_utf8_lossy(&info).contains(&want).then_some(())
                });
            }
            ["@wait-dbsize", n] => {
                let n: i64 = n.parse().unwrap();
                eventually("active expiry", DEADLINE, || {
                    (conn.cmd(&["DBSIZE"]) == Frame::Integer(n)).then_some(())
                });
            }
            _ => {
                conn.send_cmd(&args);
                transcript.push((step.to_string(), conn.read_raw_reply()));
            }
        }
    }
    b.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    transcript
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace("\r\n", "\\r\\n")
}

/// The whole table: soquete's replies equal Redis's, step by step, and EXEC
/// fails exactly where the table says.
#[test]
fn exec_after_watch_fails_exactly_where_redis_fails() {
    let redis = server(ServerKind::Redis);
    let soquete = server(ServerKind::Soquete);
    let mut problems = Vec::new();
    for sc in &scenarios() {
        let want = run(&redis, sc);
        let got = run(&soquete, sc);
        for ((step, r), (_, s)) in want.iter().zip(&got) {
            if r != s {
                problems.push(format!(
                    "{}: `{step}`: redis {} soquete {}",
                    sc.name,
                    show(r),
                    show(s)
                ));
            }
        }
        let exec = &want.last().expect("EXEC ran").1;
        let failed = exec == b"*-1\r\n";
        if failed != sc.exec_fails {
            problems.push(format!(
                "{}: the table says EXEC {}, Redis says {}",
                sc.name,
                if sc.exec_fails { "fails" } else { "runs" },
                show(exec)
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
