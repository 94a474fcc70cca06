//! `maxmemory-clients`: a client whose buffers take the clients past the
//! limit is disconnected (the largest first), the others keep their
//! service, and CLIENT NO-EVICT exempts a client, on soquete as on
//! redis-server 7.0.15.

use std::time::Duration;

use soquete_testkit::frames::{info_field, text};
use soquete_testkit::wait::eventually;
use soquete_testkit::{Conn, ServerKind, ServerProcess};

/// Sends a SET whose 3 MB value stops after `have` bytes: the server
/// holds what arrived in the client's query buffer.
/// (A server that evicts the client at once may cut the sending short.)
fn half_sent_big_value(c: &mut Conn, have: usize) {
    let _ = c.try_send(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$3000000\r\n");
    let _ = c.try_send(&vec![b'x'; have]);
}

fn evicted(c: &mut Conn) -> String {
    let info = c.cmd(&["INFO", "stats"]);
    info_field(text(&info).as_bytes(), "evicted_clients").unwrap_or_default()
}

/// What happened, for comparison across servers.
fn scenario(kind: ServerKind) -> Vec<String> {
    let server = ServerProcess::builder(kind)
        .args(["--maxmemory-clients", "1mb"])
        .start();
    let mut log = Vec::new();
    let mut small = server.connect();
    let mut big = server.connect();
    half_sent_big_value(&mut big, 1_500_000);
    eventually(
        "the big client to be evicted",
        Duration::from_secs(10),
        || big.expect_closed().is_ok().then_some(()),
    );
    log.push(format!("small answers: {}", text(&small.cmd(&["PING"]))));
    log.push(format!("evicted_clients: {}", evicted(&mut small)));
    // Exempt: neither the big client nor the small one goes.
    small.cmd(&["CLIENT", "NO-EVICT", "on"]);
    let mut exempt = server.connect();
    exempt.cmd(&["CLIENT", "NO-EVICT", "on"]);
    half_sent_big_value(&mut exempt, 1_500_000);
    std::thread::sleep(Duration::from_millis(600));
    log.push(format!(
        "small still answers: {}",
        text(&small.cmd(&["PING"]))
    ));
    log.push(format!("evicted_clients after: {}", evicted(&mut small)));
    let clients = text(&small.cmd(&["CLIENT", "LIST"]));
    log.push(format!("clients connected: {}", clients.lines().count()));
    log
}

#[test]
fn the_largest_client_goes_and_no_evict_clients_stay_as_in_redis() {
    let redis = scenario(ServerKind::Redis);
    let soquete = scenario(ServerKind::Soquete);
    assert_eq!(redis, soquete);
    assert_eq!(soquete[1], "evicted_clients: 1");
    assert_eq!(soquete[4], "clients connected: 2");
}
