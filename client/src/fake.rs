//! A scripted fake server for unit tests: it accepts connections one after
//! another and, for each, plays a list of steps (expect these exact bytes,
//! send those, close). A mismatch fails the test when the peer is finished.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// Read exactly these bytes and check them.
    Expect(Vec<u8>),
    /// Send these bytes at once.
    Send(Vec<u8>),
    /// Send these bytes one at a time, pausing between them so that the
    /// client sees many short reads.
    Trickle(Vec<u8>),
    /// Close the connection now.
    Close,
}

pub(crate) fn expect(b: impl AsRef<[u8]>) -> Step {
    Step::Expect(b.as_ref().to_vec())
}
pub(crate) fn send(b: impl AsRef<[u8]>) -> Step {
    Step::Send(b.as_ref().to_vec())
}
pub(crate) fn trickle(b: impl AsRef<[u8]>) -> Step {
    Step::Trickle(b.as_ref().to_vec())
}

/// One attempt of a transaction on key `k` as the server sees it: `WATCH k`
/// (`+OK`), `GET k` answered `get`, then the atomic pipeline `wire` answered
/// `+OK`, two `+QUEUED` and `exec` (`*-1` when the `EXEC` is refused).
pub(crate) fn watch_get_exec(get: &str, wire: &[u8], exec: &str) -> Vec<Step> {
    vec![
        expect(req(&["WATCH", "k"])),
        send("+OK\r\n"),
        expect(req(&["GET", "k"])),
        send(get),
        expect(wire),
        send(format!("+OK\r\n+QUEUED\r\n+QUEUED\r\n{exec}")),
    ]
}

/// The RESP encoding of a command, as a client sends it.
pub(crate) fn req(args: &[&str]) -> Vec<u8> {
    crate::Cmd::from_args(args).to_packed()
}

pub(crate) struct FakePeer {
    addr: SocketAddr,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl FakePeer {
    /// Serves `scripts[i]` to the i-th accepted connection.
    pub(crate) fn start(scripts: Vec<Vec<Step>>) -> FakePeer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let thread = std::thread::spawn(move || {
            for (i, script) in scripts.into_iter().enumerate() {
                let (sock, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
                play(sock, &script).map_err(|e| format!("connection {i}: {e}"))?;
            }
            Ok(())
        });
        FakePeer {
            addr,
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// As [`finish`](Self::finish), from async code: waits off the runtime
    /// thread, so that the client's tasks can still run (and close their
    /// sockets) meanwhile.
    #[cfg(feature = "tokio")]
    pub(crate) async fn finish_async(self) {
        tokio::task::spawn_blocking(move || self.finish())
            .await
            .expect("the peer's waiter runs to its end");
    }

    /// Waits for the script to end and fails the test on a mismatch.
    pub(crate) fn finish(mut self) {
        let r = self
            .thread
            .take()
            .expect("once")
            .join()
            .expect("peer panicked");
        if let Err(e) = r {
            panic!("fake peer: {e}");
        }
    }
}

fn play(mut sock: TcpStream, script: &[Step]) -> Result<(), String> {
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    sock.set_nodelay(true).map_err(|e| e.to_string())?;
    for step in script {
        match step {
            Step::Expect(want) => {
                let mut got = vec![0u8; want.len()];
                sock.read_exact(&mut got)
                    .map_err(|e| format!("expecting {:?}: {e}", String::from_utf8_lossy(want)))?;
                if &got != want {
                    return Err(format!(
                        "expected {:?}, got {:?}",
                        String::from_utf8_lossy(want),
                        String::from_utf8_lossy(&got)
                    ));
                }
            }
            Step::Send(b) => sock.write_all(b).map_err(|e| e.to_string())?,
            Step::Trickle(b) => {
                for byte in b {
                    sock.write_all(std::slice::from_ref(byte))
                        .map_err(|e| e.to_string())?;
                    // Not a timing assertion: the pause only splits the stream
                    // into many TCP segments, so the client's reads see pieces.
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            Step::Close => return Ok(()),
        }
    }
    // Hold the connection until the client closes it, so that closing is
    // always the script's explicit choice.
    let mut rest = Vec::new();
    let _ = sock.read_to_end(&mut rest);
    Ok(())
}
