//! INFO's `keyspace_hits`/`keyspace_misses` after each hash, set and stream command
//! match real `redis-server` (INFO is not comparable line by line in the
//! differential scripts, so these two counters are compared here).

use soquete_resp::Frame;
use soquete_testkit::{Conn, ServerKind, ServerProcess};

/// Every hash, set and stream command that looks keys up, on hits and
/// misses.
const COMMANDS: &[&str] = &[
    "HGET h a",
    "HGET nosuch a",
    "HMGET h a b",
    "HGETALL nosuch",
    "HRANDFIELD h",
    "HRANDFIELD h 2",
    "HSCAN h 0",
    "HEXISTS h a",
    "HLEN h",
    "HSTRLEN h a",
    "HKEYS h",
    "HVALS nosuch",
    "HSET h a 2",
    "HSETNX h b 1",
    "HDEL h a",
    "HINCRBY h n 1",
    "HINCRBYFLOAT h f 1",
    "SMEMBERS s",
    "SISMEMBER s 1",
    "SMISMEMBER nosuch 1",
    "SCARD s",
    "SRANDMEMBER s",
    "SRANDMEMBER s 2",
    "SINTER s t nosuch",
    "SINTER nosuch s",
    "SUNION s t nosuch",
    "SDIFF s t nosuch",
    "SINTERCARD 2 s t",
    "SINTERSTORE d s t",
    "SUNIONSTORE d s nosuch",
    "SDIFFSTORE d s t",
    "SSCAN s 0",
    "SADD s 5",
    "SREM s 2",
    "SPOP t",
    "SPOP s 1",
    "SMOVE s t 1",
    "XADD x 9-1 f v",
    "XADD nosuch NOMKSTREAM * f v",
    "XLEN x",
    "XLEN nosuch",
    "XRANGE x - +",
    "XREVRANGE nosuch + -",
    "XDEL x 1-1",
    "XTRIM x MAXLEN 0",
    "XSETID x 5-5",
    "XINFO STREAM x",
    "XINFO STREAM nosuch",
    "XREAD STREAMS x nosuch 0 0",
    "XREAD STREAMS x 5-0",
    "XREAD COUNT 1 STREAMS x $",
];

fn counters(c: &mut Conn) -> (i64, i64) {
    let Frame::Bulk(info) = c.cmd(&["INFO", "stats"]) else {
        panic!("INFO is a bulk string");
    };
    let text = String::from_utf8_lossy(&info);
    let get = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in INFO"))
    };
    (get("keyspace_hits:"), get("keyspace_misses:"))
}

fn run(c: &mut Conn, command: &str) -> (i64, i64) {
    for setup in [
        "FLUSHALL",
        "HSET h a 1",
        "SADD s 1 2",
        "SADD t x",
        "XADD x 1-1 f v",
    ] {
        c.cmd(&setup.split(' ').collect::<Vec<_>>());
    }
    c.cmd(&["CONFIG", "RESETSTAT"]);
    c.cmd(&command.split(' ').collect::<Vec<_>>());
    counters(c)
}

#[test]
fn keyspace_hits_and_misses_match_redis() {
    let redis = ServerProcess::redis();
    let ours = ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .start();
    let (mut r, mut s) = (redis.connect(), ours.connect());
    let mut wrong = Vec::new();
    for command in COMMANDS {
        let (want, got) = (run(&mut r, command), run(&mut s, command));
        if want != got {
            wrong.push(format!(
                "{command}: redis (hits, misses) {want:?}, soquete {got:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
