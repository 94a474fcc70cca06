//! Consumer groups under concurrency: producers and competing consumers
//! on several event loops (more loops than CI has cores, so they
//! interleave). Every entry is delivered to exactly one consumer of a
//! group, acknowledged once, and none is lost, whether consumers block
//! in XREADGROUP or poll, and whether entries are delivered first-hand or
//! taken over with XAUTOCLAIM from a consumer that went quiet.
//!
//! The server runs in this process; every loop is bounded in count, and
//! nothing waits on time but the readiness checks and XREADGROUP's own
//! BLOCK timeouts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use soquete_resp::Frame;
mod common;

use common::server;
use soquete_testkit::conn::connect;
use soquete_testkit::frames::{int, items, text};
use soquete_testkit::Conn;

/// The `(id, payload)` entries of an XREADGROUP / XAUTOCLAIM entry list.
fn entries(list: Frame) -> Vec<(String, String)> {
    items(list)
        .into_iter()
        .map(|e| {
            let e = items(e);
            let fields = items(e[1].clone());
            (text(&e[0]), text(&fields[1]))
        })
        .collect()
}

/// What one consumer took: payload -> how many times it was delivered to
/// anyone, and the XACKs that acknowledged something.
#[derive(Default)]
struct Tally {
    delivered: HashMap<String, usize>,
    acks: usize,
}

const PRODUCERS: usize = 3;
const PER_PRODUCER: usize = 400;
const TOTAL: usize = PRODUCERS * PER_PRODUCER;

fn produce(addr: SocketAddr, p: usize) {
    let mut c = connect(addr);
    for i in 0..PER_PRODUCER {
        let payload = format!("{p}:{i}");
        let r = c.cmd(&["XADD", "jobs", "*", "payload", &payload]);
        assert!(matches!(r, Frame::Bulk(_)), "{r:?}");
    }
}

/// Reads new entries for `name` until every entry is accounted for,
/// blocking (or polling, for odd consumers) and acknowledging each.
fn consume(addr: SocketAddr, name: String, tally: Arc<Mutex<Tally>>, done: Arc<AtomicUsize>) {
    let mut c = connect(addr);
    let blocking = !name.ends_with('1') && !name.ends_with('3');
    for _ in 0..100_000 {
        if done.load(Ordering::SeqCst) >= TOTAL {
            return;
        }
        let mut args = vec!["XREADGROUP", "GROUP", "workers", &name, "COUNT", "7"];
        if blocking {
            args.extend(["BLOCK", "50"]);
        }
        args.extend(["STREAMS", "jobs", ">"]);
        let reply = c.cmd(&args);
        if reply.is_null() {
            continue;
        }
        let streams = items(reply);
        let got = entries(items(streams[0].clone())[1].clone());
        for (id, payload) in got {
            let acked = int(&c.cmd(&["XACK", "jobs", "workers", &id]));
            let mut t = tally.lock().unwrap();
            *t.delivered.entry(payload).or_default() += 1;
            t.acks += acked as usize;
            drop(t);
            done.fetch_add(1, Ordering::SeqCst);
        }
    }
    panic!("{name} never saw every entry");
}

#[test]
fn competing_consumers_on_several_loops_get_each_entry_exactly_once() {
    let (_server, addr) = server(3);
    let mut c = connect(addr);
    assert_eq!(
        c.cmd(&["XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM"]),
        Frame::Simple("OK".into())
    );
    let tally = Arc::new(Mutex::new(Tally::default()));
    let done = Arc::new(AtomicUsize::new(0));
    let consumers: Vec<_> = (0..5)
        .map(|k| {
            let (tally, done) = (tally.clone(), done.clone());
            thread::spawn(move || consume(addr, format!("c{k}"), tally, done))
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| thread::spawn(move || produce(addr, p)))
        .collect();
    for t in producers.into_iter().chain(consumers) {
        t.join().unwrap();
    }
    let t = tally.lock().unwrap();
    let twice: Vec<_> = t.delivered.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(t.delivered.len(), TOTAL, "every entry was delivered");
    assert_eq!(t.acks, TOTAL, "every entry was acknowledged once");
    // The group agrees: nothing pending, nothing left to read.
    let pending = items(c.cmd(&["XPENDING", "jobs", "workers"]));
    assert_eq!(int(&pending[0]), 0);
    let group = items(items(c.cmd(&["XINFO", "GROUPS", "jobs"]))[0].clone());
    let field = |name: &str| {
        let at = group
            .iter()
            .position(|f| f.as_bytes() == Some(name.as_bytes()))
            .unwrap();
        group[at + 1].clone()
    };
    assert_eq!(int(&field("entries-read")), TOTAL as i64);
    assert_eq!(int(&field("lag")), 0);
}

#[test]
fn entries_of_a_quiet_consumer_are_taken_over_exactly_once() {
    let (_server, addr) = server(3);
    let mut c = connect(addr);
    for i in 0..300 {
        c.cmd(&["XADD", "jobs", "*", "payload", &i.to_string()]);
    }
    c.cmd(&["XGROUP", "CREATE", "jobs", "workers", "0"]);
    // A consumer takes everything and goes quiet.
    let all = c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "workers",
        "quiet",
        "STREAMS",
        "jobs",
        ">",
    ]);
    assert_eq!(entries(items(items(all)[0].clone())[1].clone()).len(), 300);
    // Four reclaimers on their own loops sweep the PEL at once.
    let stop = Arc::new(AtomicBool::new(false));
    let claimed: Vec<_> = (0..4)
        .map(|k| {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut c: Conn = connect(addr);
                let name = format!("r{k}");
                let mut mine = Vec::new();
                for _ in 0..10_000 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let r = items(c.cmd(&[
                        "XAUTOCLAIM",
                        "jobs",
                        "workers",
                        &name,
                        "0",
                        "0",
                        "COUNT",
                        "5",
                    ]));
                    let got = entries(r[1].clone());
                    if got.is_empty() && text(&r[0]) == "0-0" {
                        stop.store(true, Ordering::SeqCst);
                        break;
                    }
                    for (id, payload) in got {
                        // Acknowledged by whoever owns it now: exactly one
                        // reclaimer's XACK counts.
                        if int(&c.cmd(&["XACK", "jobs", "workers", &id])) == 1 {
                            mine.push(payload);
                        }
                    }
                }
                mine
            })
        })
        .collect();
    let mut all: Vec<String> = claimed
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "an entry was acknowledged twice");
    assert_eq!(n, 300, "every entry was taken over and acknowledged");
    let pending = items(c.cmd(&["XPENDING", "jobs", "workers"]));
    assert_eq!(int(&pending[0]), 0);
}

#[test]
fn a_blocked_reader_that_hangs_up_takes_nothing_with_it() {
    use soquete_testkit::frames::info_field;
    use soquete_testkit::wait::{eventually, DEADLINE};
    let (_server, addr) = server(3);
    let mut c = connect(addr);
    c.cmd(&["XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM"]);
    let blocked = |c: &mut Conn| {
        let info = c.cmd(&["INFO", "clients"]);
        info_field(text(&info).as_bytes(), "blocked_clients").unwrap_or_default()
    };
    // Readers on several loops block, then all but the last hang up.
    let mut readers = Vec::new();
    for k in 0..6 {
        let mut r = connect(addr);
        let name = format!("reader{k}");
        r.send_cmd(&[
            "XREADGROUP",
            "GROUP",
            "workers",
            &name,
            "BLOCK",
            "0",
            "STREAMS",
            "jobs",
            ">",
        ]);
        eventually("the reader to block", DEADLINE, || {
            (blocked(&mut c) == (k + 1).to_string()).then_some(())
        });
        readers.push(r);
    }
    let mut last = readers.pop().expect("six readers");
    drop(readers);
    eventually("the readers that left to be forgotten", DEADLINE, || {
        (blocked(&mut c) == "1").then_some(())
    });
    // The entry goes to the one reader left; nothing is pending for, or
    // was consumed by, a reader that left.
    c.cmd(&["XADD", "jobs", "1-1", "f", "v"]);
    let got = items(last.read_frame());
    assert_eq!(text(&items(got[0].clone())[0]), "jobs");
    let pending = items(c.cmd(&["XPENDING", "jobs", "workers", "-", "+", "10"]));
    assert_eq!(pending.len(), 1);
    assert_eq!(text(&items(pending[0].clone())[1]), "reader5");
    let consumers = items(c.cmd(&["XINFO", "CONSUMERS", "jobs", "workers"]));
    assert_eq!(consumers.len(), 1, "only the reader that read was created");
}
