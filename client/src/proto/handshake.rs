//! [`Handshake`]: what a new connection sends before its first request
//! (`HELLO 3`, `AUTH`, `CLIENT SETNAME`, `SELECT`) and what the replies mean.
//!
//! ```text
//!  RESP3 asked for:  HELLO 3 [AUTH u p] [SETNAME n]  ──▶ map      RESP3 on; SELECT if db != 0
//!                                                    ──▶ -NOPROTO / unknown command: RESP2,
//!                                                         then AUTH, CLIENT SETNAME, SELECT
//!                                                    ──▶ other error: the connect fails
//!  RESP2:            AUTH, CLIENT SETNAME, SELECT in one write, every reply read,
//!                    the first error (if any) fails the connect
//! ```

use soquete_resp::Frame;

use crate::cmd::Cmd;
use crate::config::{Config, Protocol};
use crate::error::{Error, Result, ServerErrorKind};
use crate::value::prep;

/// The handshake of one new connection, as a state machine: it says what to
/// write and reads the replies; the driver only moves bytes.
///
/// ```text
/// let mut hs = Handshake::new(cfg);
/// while let Some(request) = hs.next_request() {
///     write(request);
///     while !hs.receive(read_frame())? {}
/// }
/// protocol = hs.protocol();
/// ```
pub(crate) struct Handshake<'a> {
    cfg: &'a Config,
    state: State,
    protocol: Protocol,
}

enum State {
    /// Nothing sent yet.
    Start,
    /// `HELLO` sent, its reply due.
    Hello,
    /// `HELLO` answered (`true`: RESP3 is on) or never sent: the setup
    /// commands are next.
    Setup(bool),
    /// The setup commands are sent: `due` replies still to read, the first
    /// error among those read.
    Replies {
        due: usize,
        first_err: Option<Error>,
    },
    /// Over.
    Done,
}

impl<'a> Handshake<'a> {
    /// The handshake `cfg` asks for; the connection speaks RESP2 until
    /// `HELLO 3` is accepted.
    pub(crate) fn new(cfg: &'a Config) -> Handshake<'a> {
        Handshake {
            cfg,
            state: State::Start,
            protocol: Protocol::Resp2,
        }
    }

    /// The next request to write, or `None` when the handshake is over.
    /// After a request, feed [`receive`](Self::receive) the frames that
    /// arrive until it says the replies are all in.
    pub(crate) fn next_request(&mut self) -> Option<Vec<u8>> {
        if let State::Start = self.state {
            if let Some(h) = hello(self.cfg) {
                self.state = State::Hello;
                return Some(h.to_packed());
            }
            self.state = State::Setup(false);
        }
        let State::Setup(hello_done) = self.state else {
            return None;
        };
        let cmds = setup(self.cfg, hello_done);
        if cmds.is_empty() {
            self.state = State::Done;
            return None;
        }
        let mut out = Vec::new();
        for c in &cmds {
            c.write_packed(&mut out);
        }
        self.state = State::Replies {
            due: cmds.len(),
            first_err: None,
        };
        Some(out)
    }

    /// Reads one frame: `Ok(true)` when the last reply due for the request
    /// arrived, `Ok(false)` when more are due. A refused password (or any
    /// setup error) is `Err`, once every reply of the batch is read.
    pub(crate) fn receive(&mut self, frame: Frame) -> Result<bool> {
        match &mut self.state {
            State::Hello => {
                let hello_done = hello_outcome(frame)?;
                if hello_done {
                    self.protocol = Protocol::Resp3;
                }
                self.state = State::Setup(hello_done);
                Ok(true)
            }
            // Out-of-band messages are no replies.
            State::Replies { .. } if matches!(frame, Frame::Push(_)) => Ok(false),
            State::Replies { due, first_err } => {
                if let Err(e) = check(frame) {
                    first_err.get_or_insert(e);
                }
                *due -= 1;
                if *due > 0 {
                    return Ok(false);
                }
                let first_err = first_err.take();
                self.state = State::Done;
                first_err.map_or(Ok(true), Err)
            }
            _ => Err(Error::Client(format!(
                "unexpected reply during the handshake: {}",
                crate::error::describe(&frame)
            ))),
        }
    }

    /// The protocol the connection speaks: RESP3 once `HELLO 3` was accepted.
    pub(crate) fn protocol(&self) -> Protocol {
        self.protocol
    }
}

/// `HELLO 3 [AUTH user pass] [SETNAME name]` when RESP3 is asked for.
fn hello(cfg: &Config) -> Option<Cmd> {
    if cfg.protocol != Protocol::Resp3 {
        return None;
    }
    let mut c = crate::cmd("HELLO");
    c.arg("3");
    if let Some(p) = &cfg.password {
        c.arg("AUTH")
            .arg(cfg.username.as_deref().unwrap_or("default"))
            .arg(p.as_str());
    }
    if let Some(n) = &cfg.client_name {
        c.arg("SETNAME").arg(n.as_str());
    }
    Some(c)
}

/// Ok(true): RESP3 is on. Ok(false): the server refused RESP3 (unknown
/// command, `NOPROTO`), fall back to RESP2. Err: a real failure (bad password).
fn hello_outcome(reply: Frame) -> Result<bool> {
    match prep(reply) {
        Ok(_) => Ok(true),
        Err(Error::Server(e))
            if e.kind() == ServerErrorKind::NoProto
                || e.message().starts_with("unknown command") =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// What still has to be sent after HELLO (or without it): AUTH, CLIENT
/// SETNAME, SELECT.
fn setup(cfg: &Config, hello_done: bool) -> Vec<Cmd> {
    let mut v = Vec::new();
    if !hello_done {
        if let Some(p) = &cfg.password {
            let mut c = crate::cmd("AUTH");
            c.arg(cfg.username.as_deref()).arg(p.as_str());
            v.push(c);
        }
        if let Some(n) = &cfg.client_name {
            let mut c = crate::cmd("CLIENT");
            c.arg("SETNAME").arg(n.as_str());
            v.push(c);
        }
    }
    if cfg.db != 0 {
        let mut c = crate::cmd("SELECT");
        c.arg(cfg.db);
        v.push(c);
    }
    v
}

/// A setup reply must not be an error.
fn check(reply: Frame) -> Result<()> {
    prep(reply).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::req;

    /// Runs a handshake against canned replies, one batch per request;
    /// returns what it wrote and the protocol, or the error.
    fn run(url: &str, replies: &[&[&str]]) -> (Vec<Vec<u8>>, Result<Protocol>) {
        let cfg = Config::from_url(url).unwrap();
        let mut hs = Handshake::new(&cfg);
        let mut written = Vec::new();
        let mut replies = replies.iter();
        let r = (|| {
            while let Some(request) = hs.next_request() {
                written.push(request);
                let batch = replies.next().expect("a reply batch for each request");
                for (i, wire) in batch.iter().enumerate() {
                    let mut inbox = crate::proto::inbox::Inbox::with_capacity(64);
                    inbox.buf().extend_from_slice(wire.as_bytes());
                    let last = hs.receive(inbox.frame()?.expect("a whole frame"))?;
                    assert_eq!(last, i + 1 == batch.len(), "{wire:?}");
                }
            }
            Ok(hs.protocol())
        })();
        (written, r)
    }

    #[test]
    fn resp2_without_settings_sends_nothing() {
        let (written, p) = run("redis://h", &[]);
        assert!(written.is_empty());
        assert_eq!(p.unwrap(), Protocol::Resp2);
    }

    #[test]
    fn resp2_sends_auth_setname_and_select_in_one_batch() {
        let (written, p) = run(
            "redis://u:pw@h/3?name=app",
            &[&["+OK\r\n", ">2\r\n+tracking\r\n:1\r\n", "+OK\r\n", "+OK\r\n"]],
        );
        let batch = [
            req(&["AUTH", "u", "pw"]),
            req(&["CLIENT", "SETNAME", "app"]),
            req(&["SELECT", "3"]),
        ]
        .concat();
        assert_eq!(written, [batch]);
        assert_eq!(p.unwrap(), Protocol::Resp2);
    }

    #[test]
    fn accepted_hello_carries_auth_and_name_and_leaves_select() {
        let (written, p) = run(
            "redis://:pw@h/1?protocol=resp3&name=app",
            &[&["%1\r\n+proto\r\n:3\r\n"], &["+OK\r\n"]],
        );
        assert_eq!(
            written,
            [
                req(&["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "app"]),
                req(&["SELECT", "1"]),
            ]
        );
        assert_eq!(p.unwrap(), Protocol::Resp3);
    }

    #[test]
    fn refused_hello_falls_back_to_resp2() {
        for refusal in [
            "-NOPROTO unsupported protocol version\r\n",
            "-ERR unknown command 'HELLO', with args beginning with: '3'\r\n",
        ] {
            let (written, p) = run("redis://:pw@h?protocol=resp3", &[&[refusal], &["+OK\r\n"]]);
            assert_eq!(written[1], req(&["AUTH", "pw"]));
            assert_eq!(p.unwrap(), Protocol::Resp2, "{refusal}");
        }
    }

    #[test]
    fn a_refused_password_fails_after_the_whole_batch_is_read() {
        let (written, p) = run(
            "redis://:bad@h/2",
            &[&[
                "-WRONGPASS invalid username-password pair\r\n",
                "-NOAUTH Authentication required.\r\n",
            ]],
        );
        assert_eq!(written.len(), 1);
        assert_eq!(p.unwrap_err().code(), Some("WRONGPASS"));
        let (_, p) = run(
            "redis://:bad@h?protocol=resp3",
            &[&["-WRONGPASS invalid username-password pair\r\n"]],
        );
        assert_eq!(p.unwrap_err().code(), Some("WRONGPASS"));
    }
}
