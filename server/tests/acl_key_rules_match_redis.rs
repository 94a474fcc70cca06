//! A user's key and channel patterns hold for every command of the table,
//! in every form its arguments can take, exactly as on Redis 7.0.15.
//!
//! ACL DRYRUN asks the check every command passes before it runs (and
//! again in EXEC and in scripts) without running anything, so each command
//! can be tried, dangerous ones included. For every command and
//! subcommand, argument lists of several shapes (every argument a key the
//! user may not touch, keys it may read or write mixed in, key counts for
//! the `numkeys` forms, the keywords after which keys come: STREAMS, KEYS,
//! BY/GET) are asked of both servers, and the replies must be identical.

use soquete_resp::Frame;
use soquete_testkit::{Conn, ServerProcess};

/// (name, arity) of every command and subcommand the server has.
fn commands(c: &mut Conn) -> Vec<(Vec<String>, i64)> {
    let Frame::Array(entries) = c.cmd(&["COMMAND"]) else {
        panic!("COMMAND is an array");
    };
    let mut out = Vec::new();
    for e in &entries {
        let Frame::Array(f) = e else { continue };
        let name = String::from_utf8_lossy(f[0].as_bytes().unwrap()).into_owned();
        let Frame::Integer(arity) = f[1] else {
            continue;
        };
        let subs = match &f[9] {
            Frame::Array(s) => s.clone(),
            _ => Vec::new(),
        };
        if subs.is_empty() {
            out.push((vec![name.clone()], arity));
        }
        for s in &subs {
            let Frame::Array(sf) = s else { continue };
            let full = String::from_utf8_lossy(sf[0].as_bytes().unwrap()).into_owned();
            let Frame::Integer(arity) = sf[1] else {
                continue;
            };
            let sub = full
                .split_once('|')
                .map_or(full.clone(), |(_, s)| s.to_string());
            out.push((vec![name.clone(), sub], arity));
        }
    }
    out.sort();
    out
}

/// Argument lists (after the command's name) to try.
fn shapes() -> Vec<Vec<&'static str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let fill = [
        ["no:1", "no:2", "no:3", "no:4", "no:5", "no:6"],
        ["ro:1", "no:2", "rw:3", "ro:4", "rw:5", "no:6"],
        ["rw:1", "rw:2", "ro:3", "rw:4", "ro:5", "rw:6"],
        ["ro:1", "ro:2", "ro:3", "ro:4", "ro:5", "ro:6"],
        ["ch:1", "no:2", "ch:3", "ch:4", "ch:5", "ch:6"],
    ];
    for f in &fill {
        for n in 0..=f.len() {
            out.push(f[..n].to_vec());
        }
    }
    out.extend([
        // numkeys forms: ZUNIONSTORE dst 2 a b, EVAL script 2 k1 k2, ...
        vec!["rw:1", "2", "ro:1", "no:2"],
        vec!["rw:1", "2", "ro:1", "rw:2", "WEIGHTS", "1", "1"],
        vec!["no:1", "1", "rw:1"],
        vec!["2", "rw:1", "no:1"],
        vec!["2", "rw:1", "ro:1", "LEFT"],
        vec!["return 1", "1", "no:1"],
        vec!["return 1", "2", "rw:1", "ro:2", "x"],
        vec!["0", "2", "ro:1", "rw:1"],
        // keyword forms: XREAD, MIGRATE, SORT, LCS, GEORADIUS ... STORE
        vec!["STREAMS", "ro:1", "no:2", "0", "0"],
        vec!["COUNT", "1", "STREAMS", "rw:1", "ro:2", "0", "0"],
        vec!["GROUP", "g", "c", "STREAMS", "rw:1", "0"],
        vec!["GROUP", "g", "c", "STREAMS", "ro:1", ">"],
        vec!["127.0.0.1", "6379", "", "0", "1000", "KEYS", "rw:1", "no:2"],
        vec!["127.0.0.1", "6379", "", "0", "1000", "KEYS", "rw:1", "rw:2"],
        vec!["127.0.0.1", "6379", "no:1", "0", "1000"],
        vec!["ro:1", "BY", "no:*", "GET", "no:*"],
        vec!["ro:1", "STORE", "no:1"],
        vec!["rw:1", "STORE", "rw:2"],
        vec!["ro:1", "0", "0", "1", "km", "STORE", "no:1"],
        vec!["ro:1", "0", "0", "1", "km", "STOREDIST", "rw:1"],
        vec!["ro:1", "0", "0", "1", "km", "STORE", "rw:1"],
        vec!["rw:1", "FROMMEMBER", "m", "BYRADIUS", "1", "km", "ASC"],
        vec!["ro:1", "ro:2"],
        vec!["ro:1", "rw:1", "REPLACE"],
        vec!["rw:1", "LEFT", "RIGHT", "rw:2"],
        vec!["SET", "ro:1", "v"],
        // BITFIELD: read-only only while every operation is a GET
        vec!["ro:1", "GET", "u8", "0"],
        vec!["ro:1", "OVERFLOW", "WRAP", "GET", "u8", "0"],
        vec!["ro:1", "GET", "u8", "0", "SET", "u8", "0", "1"],
        vec!["wo:1", "INCRBY", "u8", "0", "1"],
        vec!["GET", "rw:1"],
    ]);
    out
}

#[test]
fn dryrun_refuses_what_redis_refuses_for_every_command_and_argument_shape() {
    let redis = ServerProcess::redis();
    let soquete = ServerProcess::soquete();
    let (mut r, mut s) = (redis.connect(), soquete.connect());
    let rules = [
        "ACL", "SETUSER", "u", "on", "nopass", "%R~ro:*", "~rw:*", "%W~wo:*", "&ch:*", "+@all",
    ];
    // A second user whose selectors split the same access.
    let split = [
        "ACL",
        "SETUSER",
        "sel",
        "on",
        "nopass",
        "+@all",
        "%R~ro:*",
        "(~rw:* +@write)",
        "(&ch:* +@pubsub)",
    ];
    for c in [&mut r, &mut s] {
        assert_eq!(c.cmd(&rules), Frame::Simple("OK".into()));
        assert_eq!(c.cmd(&split), Frame::Simple("OK".into()));
    }
    // soquete's commands (Redis has more: cluster, replication), less the
    // newer ones Redis 7.0 lacks.
    let theirs = commands(&mut r);
    let table: Vec<_> = commands(&mut s)
        .into_iter()
        .filter(|c| theirs.contains(c))
        .collect();
    assert!(table.len() > 250, "{} commands", table.len());
    let mut asked = 0;
    let mut refused = 0;
    for user in ["u", "sel"] {
        for (name, arity) in &table {
            for shape in shapes() {
                let argc = name.len() + shape.len();
                let fits = if *arity >= 0 {
                    argc == *arity as usize
                } else {
                    argc >= arity.unsigned_abs() as usize
                };
                if !fits {
                    continue;
                }
                let mut argv: Vec<&str> = vec!["ACL", "DRYRUN", user];
                argv.extend(name.iter().map(String::as_str));
                argv.extend(&shape);
                let (want, got) = (r.cmd(&argv), s.cmd(&argv));
                assert_eq!(got, want, "{argv:?}");
                asked += 1;
                if want != Frame::Simple("OK".into()) {
                    refused += 1;
                }
            }
        }
    }
    // The shapes reach deep enough to be refused often, and allowed often.
    assert!(asked > 2000, "only {asked} checks");
    assert!(
        refused > asked / 5 && refused < asked * 4 / 5,
        "{refused} refused of {asked}"
    );
}
