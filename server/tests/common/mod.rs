//! What several integration tests share.

use std::net::SocketAddr;

use soquete_server::{Config, Server, ServerHandle};

/// soquete in this process with `threads` event loops on
/// `127.0.0.1:<ephemeral>`; dropping the handle stops it. Accepted
/// connections are dealt to the loops in turn, so consecutive connections
/// land on different loops.
pub fn server(threads: usize) -> (ServerHandle, SocketAddr) {
    let handle = Server::bind_ephemeral(Config {
        threads,
        ..Config::default()
    })
    .expect("binding an ephemeral port")
    .spawn();
    let addr = handle.addr().expect("a TCP listener");
    (handle, addr)
}
