//! LATENCY HISTOGRAM against real redis-server 7.0.15. Latencies vary run
//! to run, so the buckets cannot be compared byte for byte; what must
//! agree is the reply's shape: which commands show (only those with
//! recorded calls, in the order asked, containers standing for their
//! subcommands), the map layout in RESP2 and RESP3, `calls`, and buckets
//! that are Redis's bucket keys with cumulative counts growing to `calls`.
//! soquete runs two event loops here, so the histograms are also summed
//! across loops.

use std::collections::BTreeMap;

use soquete_resp::Frame;
use soquete_testkit::frames::{int, text};
use soquete_testkit::{Conn, ServerKind, ServerProcess};

fn soquete() -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .args(["--threads", "2"])
        .start()
}

/// One command's entry: (name, calls, [(bucket µs, cumulative calls)]).
type Entry = (String, i64, Vec<(i64, i64)>);

/// The bucket keys Redis's log iterator can report: the highest value
/// (ns) of the slot reached at each level 2^k·1024 ns, in µs, and the
/// last slot's for values past the last level.
fn redis_bucket_keys() -> Vec<i64> {
    let mut keys: Vec<i64> = (0..20)
        .map(|k| ((1024i64 << k) + (8i64 << k) - 1) / 1000)
        .collect();
    keys.push(1_073_741);
    keys
}

/// Pairs of a RESP2 flat array (a map), or of a RESP3 map, checking the
/// type is the one the protocol calls for.
fn pairs(frame: Frame, resp3: bool) -> Vec<(Frame, Frame)> {
    match frame {
        Frame::Map(m) if resp3 => m,
        Frame::Array(v) if !resp3 => {
            assert!(v.len() % 2 == 0, "odd map array {v:?}");
            let mut it = v.into_iter();
            std::iter::from_fn(|| Some((it.next()?, it.next()?))).collect()
        }
        other => panic!(
            "expected a {} map, got {other:?}",
            if resp3 { "RESP3" } else { "RESP2" }
        ),
    }
}

/// LATENCY HISTOGRAM `args`, parsed, every entry's layout checked.
fn histogram(c: &mut Conn, args: &[&str], resp3: bool) -> Vec<Entry> {
    let mut cmd = vec!["LATENCY", "HISTOGRAM"];
    cmd.extend_from_slice(args);
    let keys = redis_bucket_keys();
    pairs(c.cmd(&cmd), resp3)
        .into_iter()
        .map(|(name, body)| {
            let name = text(&name);
            let body = pairs(body, resp3);
            assert_eq!(body.len(), 2, "{name}: {body:?}");
            assert_eq!(text(&body[0].0), "calls");
            let calls = int(&body[0].1);
            assert_eq!(text(&body[1].0), "histogram_usec");
            let buckets: Vec<(i64, i64)> = pairs(body[1].1.clone(), resp3)
                .iter()
                .map(|(k, v)| (int(k), int(v)))
                .collect();
            assert!(!buckets.is_empty(), "{name} has calls but no buckets");
            for w in buckets.windows(2) {
                assert!(
                    w[0].0 < w[1].0,
                    "{name}: bucket keys out of order {buckets:?}"
                );
                assert!(
                    w[0].1 < w[1].1,
                    "{name}: a bucket that did not grow {buckets:?}"
                );
            }
            for (k, _) in &buckets {
                assert!(keys.contains(k), "{name}: {k} is not a Redis bucket key");
            }
            assert_eq!(buckets.last().map(|b| b.1), Some(calls), "{name}");
            (name, calls, buckets)
        })
        .collect()
}

fn calls_by_name(entries: &[Entry]) -> BTreeMap<String, i64> {
    entries.iter().map(|(n, c, _)| (n.clone(), *c)).collect()
}

fn names(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|(n, _, _)| n.as_str()).collect()
}

/// The same commands on two connections (two loops in soquete), then the
/// histograms of all commands and of the commands named; what is compared
/// is returned.
fn run(server: &ServerProcess) -> Vec<String> {
    let (mut a, mut b) = (server.connect(), server.connect());
    assert_eq!(a.cmd(&["CONFIG", "RESETSTAT"]), Frame::Simple("OK".into()));
    for c in [&mut a, &mut b] {
        c.cmd(&["SET", "k", "v"]);
        c.cmd(&["GET", "k"]);
    }
    a.cmd(&["SET", "k", "w"]);
    a.cmd(&["CONFIG", "GET", "maxmemory"]);
    b.cmd(&["CLIENT", "ID"]);
    // Refused before running: no latency recorded.
    assert!(matches!(a.cmd(&["GET"]), Frame::Error(_)));
    assert!(matches!(a.cmd(&["NOSUCHCOMMAND"]), Frame::Error(_)));

    let mut seen = Vec::new();
    let all = histogram(&mut a, &[], false);
    // Redis lists every command in its dictionary's (random) order.
    seen.push(format!("all: {:?}", calls_by_name(&all)));

    let asked = histogram(
        &mut b,
        &[
            "set",
            "nosuch",
            "Get",
            "get|x",
            "config|get|x",
            "CLIENT|id",
            "set",
            "hset",
        ],
        false,
    );
    seen.push(format!("asked: {:?}", names(&asked)));
    seen.push(format!("asked calls: {:?}", calls_by_name(&asked)));

    // A container stands for its subcommands with data (in Redis's
    // dictionary order, so compared sorted).
    let mut config = histogram(&mut b, &["config"], false);
    config.sort();
    seen.push(format!("config: {:?}", calls_by_name(&config)));

    // RESP3: maps at every level.
    let mut r3 = server.connect();
    r3.hello3();
    let asked3 = histogram(&mut r3, &["get", "set"], true);
    seen.push(format!(
        "resp3: {:?} {:?}",
        names(&asked3),
        calls_by_name(&asked3)
    ));

    // latency-tracking no records nothing more, and what was recorded
    // still shows; after a reset nothing does.
    a.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
    a.cmd(&["SET", "k", "x"]);
    seen.push(format!(
        "untracked: {:?}",
        calls_by_name(&histogram(&mut a, &["set"], false))
    ));
    a.cmd(&["CONFIG", "RESETSTAT"]);
    a.cmd(&["GET", "k"]);
    seen.push(format!(
        "untracked after reset: {:?}",
        a.cmd(&["LATENCY", "HISTOGRAM"])
    ));
    seen
}

#[test]
fn latency_histogram_has_redis_commands_calls_and_layout() {
    let redis = ServerProcess::redis();
    let ours = soquete();
    let expected = run(&redis);
    // A guard that the scenario checks something: Redis's own answers.
    assert!(
        expected[1].contains(r#"["set", "get", "client|id", "set"]"#),
        "{expected:?}"
    );
    assert!(expected[2].contains(r#""set": 3"#), "{expected:?}");
    assert_eq!(run(&ours), expected);
}
