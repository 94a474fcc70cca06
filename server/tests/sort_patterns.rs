//! SORT with BY/GET patterns across event loops and in the append-only
//! file: a SORT that reads keys through patterns sees one snapshot of them
//! while other loops rewrite them with MSET, and SORT ... STORE is logged
//! as sent, as Redis logs it.

use std::path::Path;
use std::time::Duration;

use soquete_resp::Frame;
mod common;

use common::server;
use soquete_testkit::conn::{command_bytes, connect};
use soquete_testkit::frames::{info_field, int, items, text};
use soquete_testkit::wait::{eventually, together};
use soquete_testkit::{Conn, ServerKind, ServerProcess};

fn bulk(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

/// Writers on other loops rewrite every weight `w_i` and datum `d_i` in
/// one MSET, the datum naming the weight and the writer's generation.
/// `SORT ids BY w_* GET # GET w_* GET d_*` must always see one generation
/// for every element (no MSET half seen, none seen on some keys only),
/// with each datum matching its weight and the elements in weight order.
#[test]
fn sort_by_get_sees_one_snapshot_while_other_loops_mset() {
    const IDS: usize = 24;
    const WRITERS: usize = 2;
    const READERS: usize = 2;
    const ROUNDS: usize = 200;
    /// One MSET of every weight and datum for `generation`.
    fn mset(generation: usize) -> Vec<String> {
        let mut args = vec!["MSET".to_string()];
        for i in 0..IDS {
            // A weight order that changes with the generation.
            let w = (i * 7 + generation * 5) % IDS;
            args.push(format!("w_{i}"));
            args.push(w.to_string());
            args.push(format!("d_{i}"));
            args.push(format!("{w}:{generation}"));
        }
        args
    }
    let (_server, addr) = server(3);
    let mut c = connect(addr);
    let mut rpush = vec!["RPUSH".to_string(), "ids".to_string()];
    rpush.extend((0..IDS).map(|i| i.to_string()));
    assert_eq!(int(&c.cmd(&rpush)), IDS as i64);
    assert_eq!(c.cmd(&mset(0)), Frame::Simple("OK".into()));
    together(WRITERS + READERS, move |i, barrier| {
        let mut c = connect(addr);
        barrier.wait();
        if i < WRITERS {
            for round in 1..=ROUNDS {
                let generation = i * 100_000 + round;
                assert_eq!(c.cmd(&mset(generation)), Frame::Simple("OK".into()));
            }
            return;
        }
        let mut args = vec![
            "SORT", "ids", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "d_*",
        ];
        if i % 2 == 1 {
            // SORT_RO with a LIMIT: the partial sort.
            args[0] = "SORT_RO";
            args.extend(["LIMIT", "3", "10"]);
        }
        for _ in 0..ROUNDS {
            let reply = items(c.cmd(&args));
            let mut generation = None;
            let mut last = None;
            for triple in reply.chunks(3) {
                let w: usize = bulk(&triple[1]).parse().expect("a weight");
                let d = bulk(&triple[2]);
                let (dw, g) = d.split_once(':').expect("weight:generation");
                assert_eq!(dw, w.to_string(), "datum and weight from different MSETs");
                assert_eq!(
                    *generation.get_or_insert(g.to_string()),
                    g,
                    "two MSETs seen"
                );
                assert!(last.is_none_or(|l| l <= w), "not in weight order");
                last = Some(w);
            }
        }
    });
}

fn incr_log(dir: &Path) -> String {
    let path = dir.join("appendonlydir").join("appendonly.aof.1.incr.aof");
    String::from_utf8_lossy(&std::fs::read(path).expect("the incremental log")).into_owned()
}

/// SORT ... STORE reaches the log as the command sent (Redis propagates
/// it as is); a SORT without STORE, or whose empty result deleted
/// nothing, is not logged; the log replays to the same data.
#[test]
fn sort_store_is_logged_as_sent_by_both_servers() {
    for kind in [ServerKind::Redis, ServerKind::Soquete] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let args = [
            "--appendonly",
            "yes",
            "--enable-debug-command",
            "yes",
            "--dir",
            dir.path().to_str().unwrap(),
        ];
        let server = ServerProcess::builder(kind).args(args).start();
        let mut c = server.connect();
        let ok = |c: &mut Conn, a: &[&str]| {
            let r = c.cmd(a);
            assert!(!matches!(r, Frame::Error(_)), "{a:?}: {r:?}");
        };
        ok(&mut c, &["RPUSH", "l", "3", "1", "2"]);
        ok(
            &mut c,
            &["MSET", "w_1", "30", "w_2", "20", "w_3", "10", "d_1", "a"],
        );
        ok(&mut c, &["SORT", "l", "BY", "w_*", "GET", "d_*"]);
        ok(&mut c, &["SORT", "nosuch", "STORE", "nothing"]);
        ok(
            &mut c,
            &[
                "SORT", "l", "BY", "w_*", "GET", "#", "GET", "d_*", "STORE", "dst",
            ],
        );
        ok(&mut c, &["SORT", "nosuch", "STORE", "dst"]);
        ok(&mut c, &["SORT", "l", "DESC", "STORE", "dst2"]);
        eventually("the log to reach the file", Duration::from_secs(10), || {
            incr_log(dir.path()).contains("dst2").then_some(())
        });
        let log = incr_log(dir.path());
        let logged = |a: &[&str]| {
            let bytes = command_bytes(a);
            log.contains(std::str::from_utf8(&bytes).unwrap())
        };
        assert_eq!(
            log.matches("$4\r\nSORT\r\n").count(),
            3,
            "{kind:?}: {log:?}"
        );
        let by_get = [
            "SORT", "l", "BY", "w_*", "GET", "#", "GET", "d_*", "STORE", "dst",
        ];
        assert!(logged(&by_get), "{kind:?}: {log:?}");
        assert!(logged(&["SORT", "nosuch", "STORE", "dst"]), "{kind:?}");
        assert!(logged(&["SORT", "l", "DESC", "STORE", "dst2"]), "{kind:?}");
        let digest = text(&c.cmd(&["DEBUG", "DIGEST"]));
        drop(c);
        drop(server);
        let again = ServerProcess::builder(kind).args(args).start();
        let mut c = again.connect();
        eventually("the log to load", Duration::from_secs(10), || {
            let info = text(&c.cmd(&["INFO", "persistence"]));
            (info_field(info.as_bytes(), "loading").as_deref() == Some("0")).then_some(())
        });
        assert_eq!(text(&c.cmd(&["DEBUG", "DIGEST"])), digest, "{kind:?}");
        assert_eq!(int(&c.cmd(&["EXISTS", "dst"])), 0);
        let dst2: Vec<String> = items(c.cmd(&["LRANGE", "dst2", "0", "-1"]))
            .iter()
            .map(bulk)
            .collect();
        assert_eq!(dst2, ["3", "2", "1"]);
    }
}
