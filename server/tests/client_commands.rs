//! CLIENT commands whose effects cross event loops or take time: CLIENT
//! PAUSE holds writers (WRITE) or everyone (ALL) on every loop while
//! readers go on, and releases them on UNPAUSE or at its timeout, their
//! later input waiting behind the held command; CLIENT REPLY OFF silences
//! replies but not pub/sub messages published from another loop; CLIENT
//! KILL closes clients of other loops, and what it counts is what it
//! closes; idle clients give back the input buffers a big argument grew,
//! as Redis's client cron does, so that many idle connections hold little.
//!
//! Servers run with 2 event loops (connections are dealt to loops in
//! turn, so consecutive connections land on different loops).

use std::time::{Duration, Instant};

use soquete_resp::Frame;
use soquete_testkit::clients::{client_id, client_line, wait_blocked, wait_gone};
use soquete_testkit::frames::{int, text};
use soquete_testkit::procfs::rss_bytes;
use soquete_testkit::wait::{eventually, DEADLINE};
use soquete_testkit::{Conn, ServerKind, ServerProcess};

/// The `soquete-server` binary cargo built for this test run, with 2 event
/// loops and `args`.
fn soquete(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .args(["--threads", "2"].iter().chain(args))
        .start()
}

fn ok(frame: Frame) {
    assert_eq!(frame, Frame::Simple("OK".into()));
}

/// A field of a `CLIENT LIST` line.
fn field(line: &str, name: &str) -> String {
    line.split(' ')
        .find_map(|f| f.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {line}"))
        .to_string()
}

#[test]
fn pause_write_holds_writers_of_every_loop_and_lets_readers_run() {
    let server = soquete(&[]);
    let mut ctl = server.connect();
    // Two writers and two readers, spread over both loops.
    let mut writers: Vec<Conn> = (0..2).map(|_| server.connect()).collect();
    let mut readers: Vec<Conn> = (0..2).map(|_| server.connect()).collect();
    let mut publisher = server.connect();
    ok(ctl.cmd(&["SET", "k", "before"]));
    ok(ctl.cmd(&["SET", "k2", "before"]));
    ok(ctl.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]));

    for (i, w) in writers.iter_mut().enumerate() {
        let id = client_id(w);
        // The SET is held, and so is the GET pipelined behind it.
        w.send(format!("SET k w{i}\r\nGET k\r\n").as_bytes());
        wait_blocked(&mut ctl, id, "set");
    }
    let pid = client_id(&mut publisher);
    publisher.send_cmd(&["PUBLISH", "ch", "m"]);
    wait_blocked(&mut ctl, pid, "publish");
    for r in &mut readers {
        assert_eq!(r.cmd(&["GET", "k"]), Frame::Bulk("before".into()));
        assert_eq!(r.cmd(&["PING"]), Frame::Simple("PONG".into()));
    }
    // A write of a reader is held too; read-only commands inside MULTI
    // queue, and an EXEC of reads runs.
    let rid = client_id(&mut readers[0]);
    // (Another key than the writers': once released, the loops run in
    // any order, and a DEL of k could come between a writer's SET and GET.)
    readers[0].send_cmd(&["DEL", "k2"]);
    wait_blocked(&mut ctl, rid, "del");
    ok(readers[1].cmd(&["MULTI"]));
    readers[1].cmd(&["GET", "k"]);
    assert_eq!(
        readers[1].cmd(&["EXEC"]),
        Frame::Array(vec![Frame::Bulk("before".into())])
    );
    // Nothing was written while paused.
    assert_eq!(ctl.cmd(&["GET", "k"]), Frame::Bulk("before".into()));

    ok(ctl.cmd(&["CLIENT", "UNPAUSE"]));
    for (i, w) in writers.iter_mut().enumerate() {
        ok(w.read_frame());
        let got = text(&w.read_frame());
        assert!(got.starts_with('w'), "writer {i} read {got:?}");
    }
    assert_eq!(int(&publisher.read_frame()), 0);
    assert_eq!(int(&readers[0].read_frame()), 1);
    let line = client_line(&mut ctl, rid).expect("the reader is connected");
    assert_eq!(field(&line, "flags"), "N", "{line}");
}

#[test]
fn pause_all_holds_every_command_until_its_timeout() {
    let server = soquete(&[]);
    let mut ctl = server.connect();
    let mut others: Vec<Conn> = (0..3).map(|_| server.connect()).collect();
    let started = Instant::now();
    ok(ctl.cmd(&["CLIENT", "PAUSE", "400", "ALL"]));
    others[0].send_cmd(&["GET", "other"]);
    others[1].send_cmd(&["SET", "k", "v"]);
    // Even CLIENT UNPAUSE waits under ALL, as in Redis.
    others[2].send_cmd(&["CLIENT", "UNPAUSE"]);
    assert_eq!(others[0].read_frame(), Frame::NullBulk);
    let held = started.elapsed();
    assert!(
        held >= Duration::from_millis(390),
        "released after {held:?}"
    );
    ok(others[1].read_frame());
    ok(others[2].read_frame());
    assert_eq!(ctl.cmd(&["GET", "k"]), Frame::Bulk("v".into()));
}

#[test]
fn reply_off_drops_replies_but_not_messages_from_another_loop() {
    let server = soquete(&[]);
    let mut sub = server.connect();
    let mut publisher = server.connect();
    // Nothing comes back for these but the SUBSCRIBE confirmation.
    sub.send(b"CLIENT REPLY OFF\r\nSET quiet 1\r\nSUBSCRIBE ch\r\n");
    assert_eq!(
        sub.read_frame(),
        Frame::Array(vec![
            Frame::Bulk("subscribe".into()),
            Frame::Bulk("ch".into()),
            Frame::Integer(1),
        ])
    );
    assert_eq!(int(&publisher.cmd(&["PUBLISH", "ch", "hello"])), 1);
    assert_eq!(
        sub.read_frame(),
        Frame::Array(vec![
            Frame::Bulk("message".into()),
            Frame::Bulk("ch".into()),
            Frame::Bulk("hello".into()),
        ])
    );
    sub.send_cmd(&["UNSUBSCRIBE", "ch"]);
    assert_eq!(
        sub.read_frame(),
        Frame::Array(vec![
            Frame::Bulk("unsubscribe".into()),
            Frame::Bulk("ch".into()),
            Frame::Integer(0),
        ])
    );
    // PING's reply is dropped: the next thing read is REPLY ON's +OK.
    sub.send(b"PING\r\nCLIENT REPLY ON\r\n");
    ok(sub.read_frame());
    assert_eq!(
        publisher.cmd(&["GET", "quiet"]),
        Frame::Bulk("1".into()),
        "silenced commands still run"
    );
}

#[test]
fn reply_skip_drops_the_reply_of_a_blocked_command_when_it_is_served() {
    let server = soquete(&[]);
    let mut waiter = server.connect();
    let mut ctl = server.connect();
    let id = client_id(&mut waiter);
    waiter.send(b"CLIENT REPLY SKIP\r\nBLPOP list 0\r\nPING\r\n");
    wait_blocked(&mut ctl, id, "blpop");
    assert_eq!(int(&ctl.cmd(&["RPUSH", "list", "x"])), 1);
    assert_eq!(waiter.read_frame(), Frame::Simple("PONG".into()));
}

#[test]
fn kill_closes_clients_of_other_loops() {
    let server = soquete(&[]);
    let mut ctl = server.connect();
    let mut victims: Vec<Conn> = (0..4).map(|_| server.connect()).collect();
    let ids: Vec<i64> = victims.iter_mut().map(client_id).collect();

    // By id (a client of the other loop), then by address.
    assert_eq!(
        int(&ctl.cmd(&["CLIENT", "KILL", "ID", &ids[0].to_string()])),
        1
    );
    victims[0].expect_closed().expect("killed by id");
    assert!(client_line(&mut ctl, ids[0]).is_none());
    let line = client_line(&mut ctl, ids[1]).expect("still connected");
    let addr = field(&line, "addr");
    ok(ctl.cmd(&["CLIENT", "KILL", &addr]));
    victims[1].expect_closed().expect("killed by address");
    wait_gone(&mut ctl, ids[1]);
    assert!(matches!(
        ctl.cmd(&["CLIENT", "KILL", &addr]),
        Frame::Error(e) if e == "ERR No such client"
    ));

    // Combined filters: only the one that matches them all.
    let line = client_line(&mut ctl, ids[2]).expect("still connected");
    let addr = field(&line, "addr");
    let laddr = field(&line, "laddr");
    let killed = ctl.cmd(&[
        "CLIENT", "KILL", "ADDR", &addr, "LADDR", &laddr, "TYPE", "normal", "USER", "default",
    ]);
    assert_eq!(int(&killed), 1);
    victims[2].expect_closed().expect("killed by filters");
    assert_eq!(
        victims[3].cmd(&["PING"]),
        Frame::Simple("PONG".into()),
        "a client that did not match is untouched"
    );

    // Every other normal client; the caller is skipped.
    assert_eq!(int(&ctl.cmd(&["CLIENT", "KILL", "TYPE", "normal"])), 1);
    victims[3].expect_closed().expect("killed by type");
    assert_eq!(ctl.cmd(&["PING"]), Frame::Simple("PONG".into()));
}

#[test]
fn kill_by_type_pubsub_takes_only_subscribers() {
    let server = soquete(&[]);
    let mut ctl = server.connect();
    let mut sub = server.connect();
    let mut plain = server.connect();
    sub.cmd(&["SUBSCRIBE", "ch"]);
    assert_eq!(int(&ctl.cmd(&["CLIENT", "KILL", "TYPE", "pubsub"])), 1);
    sub.expect_closed().expect("the subscriber is killed");
    assert_eq!(plain.cmd(&["PING"]), Frame::Simple("PONG".into()));
}

/// Many clients each send one big argument and then go quiet: their input
/// buffers grew to hold it, and must be given back (CLIENT LIST shows no
/// free query buffer, and the server's resident memory falls back).
#[test]
fn idle_clients_give_back_the_input_buffers_a_big_argument_grew() {
    // Arguments above 256 KB are given back as soon as they have run;
    // below, the buffer stays until the client cron gives it back.
    const CLIENTS: usize = 128;
    const ARG: usize = 200 * 1024;
    let server = soquete(&[]);
    let mut ctl = server.connect();
    let base = rss_bytes(server.pid()).expect("the server's RSS");
    let mut clients: Vec<Conn> = (0..CLIENTS).map(|_| server.connect()).collect();
    let big = vec![b'x'; ARG];
    for c in &mut clients {
        let reply = c.cmd(&[&b"ECHO"[..], &big]);
        assert_eq!(reply, Frame::Bulk(big.clone().into()));
    }
    let ids: Vec<i64> = clients.iter_mut().map(client_id).collect();
    let grown = rss_bytes(server.pid()).expect("the server's RSS");
    assert!(
        grown > base + (CLIENTS * ARG / 2) as u64,
        "the buffers did not grow: {base} -> {grown}"
    );
    let idle = |ctl: &mut Conn| {
        ids.iter().all(|&id| {
            let line = client_line(ctl, id).expect("the client is connected");
            // Redis's rule gives back only a waste of more than 4 KB: a
            // buffer the cron already cut to a small request's size keeps it.
            let free: usize = field(&line, "qbuf-free").parse().expect("qbuf-free");
            field(&line, "qbuf") == "0" && free <= 4 * 1024
        })
    };
    eventually(
        "every idle client's query buffer to shrink",
        DEADLINE,
        || idle(&mut ctl).then_some(()),
    );
    // jemalloc gives freed pages back to the system over ~10 s.
    eventually(
        "the server's memory to fall back",
        Duration::from_secs(40),
        || {
            let now = rss_bytes(server.pid()).expect("the server's RSS");
            (now < grown - (CLIENTS * ARG / 2) as u64).then_some(())
        },
    );
    // And the clients still work.
    for c in &mut clients {
        assert_eq!(c.cmd(&["PING"]), Frame::Simple("PONG".into()));
    }
}
