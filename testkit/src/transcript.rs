//! Transcripts: a scenario run against two servers, every reply it gets
//! recorded as its exact bytes, and the two records compared line by line.
//! For behaviour a differential script cannot express: several clients,
//! blocking commands, pushes that race with replies.
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use soquete_testkit::diff::Side;
//! use soquete_testkit::transcript::{assert_same, Transcript};
//! use soquete_testkit::{Conn, ServerProcess};
//!
//! fn scenario(addr: SocketAddr, t: &mut Transcript) {
//!     let mut c = Conn::connect(addr).unwrap();
//!     t.step("c", &mut c, &["RPUSH", "l", "a"]);
//!     t.step("c", &mut c, &["LPOP", "l"]);
//! }
//!
//! let redis = ServerProcess::redis();
//! let soquete = ServerProcess::soquete();
//! assert_same(&Side::of(&redis), &Side::of(&soquete), scenario);
//! ```

use std::net::SocketAddr;

use soquete_resp::Frame;

use crate::diff::Side;
use crate::render::escape;
use crate::Conn;

/// What one run of a scenario received, one line per reply: `who: <reply
/// bytes, escaped>`, plus any line the scenario adds itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transcript {
    lines: Vec<String>,
}

impl Transcript {
    /// An empty transcript.
    pub fn new() -> Transcript {
        Transcript::default()
    }

    /// Reads the next reply on `conn` and records it as `who: <bytes>`
    /// (at most 400 bytes shown). When there is none, records `who: closed`
    /// (the server closed the connection) or `who: no reply (<error kind>)`
    /// (typically the read timed out), so that a missing reply shows up as a
    /// difference, not as a panic. Returns the reply's frame, if any.
    pub fn note(&mut self, who: &str, conn: &mut Conn) -> Option<Frame> {
        match conn.try_read_reply() {
            Ok(Some(r)) => {
                self.lines.push(format!("{who}: {}", escape(&r.raw, 400)));
                Some(r.frame)
            }
            Ok(None) => {
                self.lines.push(format!("{who}: closed"));
                None
            }
            Err(e) => {
                self.lines.push(format!("{who}: no reply ({:?})", e.kind()));
                None
            }
        }
    }

    /// Sends `args` on `conn` as a command and [notes](Self::note) its reply.
    pub fn step(&mut self, who: &str, conn: &mut Conn, args: &[&str]) -> Option<Frame> {
        conn.send_cmd(args);
        self.note(who, conn)
    }

    /// Records a line of the scenario's own (an INFO field, a flag...).
    pub fn push(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    /// The lines so far.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}

/// Runs `scenario` against `reference`, then against `tested`, each with a
/// fresh [`Transcript`], and returns `tested`'s for further checks.
///
/// # Panics
///
/// When the transcripts differ: the message names the first line that
/// differs and shows both, or the lengths.
pub fn assert_same(
    reference: &Side,
    tested: &Side,
    scenario: impl Fn(SocketAddr, &mut Transcript),
) -> Transcript {
    let mut theirs = Transcript::new();
    scenario(reference.addr, &mut theirs);
    let mut ours = Transcript::new();
    scenario(tested.addr, &mut ours);
    for (i, (a, b)) in theirs.lines.iter().zip(&ours.lines).enumerate() {
        assert_eq!(
            a, b,
            "line {i} of the transcripts: {} (left) and {} (right) differ",
            reference.name, tested.name
        );
    }
    assert_eq!(
        theirs.lines.len(),
        ours.lines.len(),
        "transcript lengths of {} (left) and {} (right); {}'s:\n{}",
        reference.name,
        tested.name,
        tested.name,
        ours.lines.join("\n")
    );
    ours
}
