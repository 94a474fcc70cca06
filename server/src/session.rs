//! A connection without a socket: bytes in, reply bytes out, through the
//! same decoder and command path as a network client. For fuzzing the
//! command path and for embedding.
//!
//! ```
//! use soquete_server::{session::Session, Config};
//! let mut s = Session::new(&Config::default());
//! assert_eq!(s.feed(b"SET k v\r\nGET k\r\n"), b"+OK\r\n$1\r\nv\r\n");
//! ```

use std::sync::Arc;

use crate::client::{Client, ClientMeta, Close};
use crate::config::Config;
use crate::connection::{Connection, Scratch};
use crate::shared::{unix_ms, Shared};

/// One client session over an in-memory keyspace.
pub struct Session {
    shared: Arc<Shared>,
    conn: Connection,
    scratch: Scratch,
}

impl Session {
    /// A session on a fresh server state with `config`.
    pub fn new(config: &Config) -> Session {
        Session::on(Shared::new_arc(config.clone(), None))
    }

    /// A new client of existing server state.
    pub fn on(shared: Arc<Shared>) -> Session {
        let id = shared.next_client_id();
        let meta = Arc::new(ClientMeta::new(
            id,
            "session:0".into(),
            "session:0".into(),
            -1,
            true,
            unix_ms(),
            0,
        ));
        let authenticated = !shared.acl.auth_required();
        Session {
            conn: Connection::new(Client::new(meta, authenticated)),
            shared,
            scratch: Scratch::default(),
        }
    }

    /// The client that replays the append-only log: authenticated, let
    /// through while the server loads, and logging nothing.
    pub fn replayer(shared: &Arc<Shared>) -> Session {
        let mut s = Session::on(shared.clone());
        s.conn.client.authenticated = true;
        s.conn.client.replaying = true;
        s.conn.client.acl = crate::acl::ClientAcl::exempt();
        s
    }

    /// The server state behind the session.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// True once the session was closed (QUIT, a protocol error, replies
    /// past the output limit).
    pub fn is_closed(&self) -> bool {
        self.conn.client.close != Close::No
    }

    /// Feeds bytes as if read from a socket; returns the replies they
    /// produced. Incomplete requests wait for more bytes; after a protocol
    /// error the session is closed and ignores further input.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        if self.is_closed() {
            return Vec::new();
        }
        self.conn.input.push(bytes);
        let stats = &self.shared.loop_stats[0];
        let ran = self.conn.run(&self.shared, stats, &mut self.scratch);
        self.shared.persist.aof.flush_mine();
        // Messages for clients of a running server's loops go to them.
        let loops = self.shared.loops();
        self.scratch.outbox.flush(loops, None);
        if ran.is_err() {
            // As a socket's connection would be: dropped unwritten.
            self.conn.client.close = Close::AfterReply;
            self.conn.output.take();
            return Vec::new();
        }
        self.conn.output.take()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.conn.disconnect(&self.shared);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_split_anywhere_give_the_same_replies() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\nGET k\r\nINCR k\r\n";
        let whole = Session::new(&Config::default()).feed(input);
        assert!(whole.starts_with(b"+OK\r\n$2\r\nvv\r\n-ERR value is not an integer"));
        for split in 0..input.len() {
            let mut s = Session::new(&Config::default());
            let mut got = s.feed(&input[..split]);
            got.extend(s.feed(&input[split..]));
            assert_eq!(got, whole, "split at {split}");
        }
    }

    #[test]
    fn a_protocol_error_closes_the_session() {
        let mut s = Session::new(&Config::default());
        let out = s.feed(b"PING\r\n*-5x\r\nPING\r\n");
        assert!(
            out.starts_with(b"+PONG\r\n-ERR Protocol error"),
            "{:?}",
            String::from_utf8_lossy(&out)
        );
        assert!(s.is_closed());
        assert!(s.feed(b"PING\r\n").is_empty());
    }
}
